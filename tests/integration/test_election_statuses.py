"""The statuses of the election refusals over HTTP, each from its exception's class:
refusals for the election's state (the window, a credential that has voted) are 409,
not 400, although the ballot core raises them as ballot refusals."""

from __future__ import annotations

import pytest
from litestar import Litestar

from ballot.core.client import ClientError, VoterClient
from kernel.settings import Settings
from tests.support.accounts import Client, login
from tests.support.elections import EARLY_CLOSE, RESIDENTS, open_election, verified_residents, when


def test_state_refusals_are_conflicts(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    verified_residents(app, settings, "olga", "ivan", "pyotr")
    election_id = open_election(client, admin, revoting=False, eligibility=RESIDENTS)
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    first = voter.obtain_credential(info, headers=login(client, "olga@example.org"))
    second = voter.obtain_credential(info, headers=login(client, "ivan@example.org"))
    client.cookies.clear()
    voter.cast(info, first, {"approve": ["park"]})
    with pytest.raises(ClientError) as again:
        voter.cast(info, first, {"approve": ["library"]})
    assert (again.value.status, again.value.code) == (409, "already_voted")

    admin_headers = login(client, "admin@example.org")
    closed = client.post(
        f"/api/v1/elections/{election_id}/close", json=EARLY_CLOSE, headers=admin_headers
    )
    assert closed.status_code == 200, closed.text
    client.cookies.clear()
    with pytest.raises(ClientError) as late:
        voter.cast(info, second, {"approve": ["park"]})
    assert (late.value.status, late.value.code) == (409, "closed")
    assert late.value.detail == "voting has closed in this election"
    with pytest.raises(ClientError) as issued:
        voter.obtain_credential(info, headers=login(client, "pyotr@example.org"))
    assert (issued.value.status, issued.value.code) == (409, "not_open")


def test_a_credential_before_the_window_is_a_conflict(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    verified_residents(app, settings, "olga")
    election_id = open_election(
        client,
        admin,
        window={"opens_at": when(30), "closes_at": when(60)},
        eligibility=RESIDENTS,
    )
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    with pytest.raises(ClientError) as early:
        voter.obtain_credential(info, headers=login(client, "olga@example.org"))
    assert (early.value.status, early.value.code) == (409, "not_open_yet")
