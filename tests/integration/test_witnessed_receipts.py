"""Receipts and witnesses through the real app (docs/protocol.md §15.7): with a witness
the receipt carries the cosigned checkpoint; with witnesses down, casting still answers
201 with the batch's checkpoint after the bounded wait, and a voter's client that
requires witnesses refuses, naming them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar

from audit.core.cosignature import check_cosignatures, parse_witness_key, witness_key
from audit.core.note import parse_verifier_key
from audit.services.witness import WitnessService, generate_key, make_server
from ballot.core.client import ClientError, VoterClient
from kernel.settings import Settings
from tests.support.accounts import Client, login
from tests.support.elections import RESIDENTS, open_election, verified_residents
from tests.support.mail import MailCatcher
from tests.support.settings import FAST

KEY = generate_key("w.test/up")
DOWN = witness_key("w.test/down", b"\x05" * 32)
# The tests whose deployment's witness is up (the others name one that is down).
WITNESS_UP = {"test_the_receipt_carries_the_cosigned_checkpoint"}


@pytest.fixture(name="witness")
def fx_witness(tmp_path: Path) -> Iterator[tuple[WitnessService, str]]:
    service = WitnessService(tmp_path / "witness.db", KEY, {})
    server = make_server(service, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield service, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(name="settings")
def fx_settings(
    tmp_path: Path,
    database_url: str,
    smtp: MailCatcher,
    witness: tuple[WitnessService, str],
    request: pytest.FixtureRequest,
) -> Settings:
    up = request.node.originalname in WITNESS_UP
    entry = f"{witness[1]} {KEY.vkey}" if up else f"http://127.0.0.1:9 {DOWN}"
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        witnesses=(entry,),
        witness_policy=1,
        witness_interval_ms=10,
        witness_receipt_wait_ms=5000 if up else 300,
        **FAST,  # type: ignore[arg-type]
        **smtp.settings(),  # type: ignore[arg-type]
    )


def _cast(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> tuple[dict[str, object], float]:
    verified_residents(app, settings, "olga")
    election_id = open_election(client, admin, eligibility=RESIDENTS)
    headers = login(client, "olga@example.org")
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    wallet = voter.obtain_credential(info, headers=headers)
    client.cookies.clear()
    started = time.monotonic()
    receipt = voter.cast(info, wallet, {"approve": ["park"]})
    return receipt, time.monotonic() - started


def test_the_receipt_carries_the_cosigned_checkpoint(
    client: Client,
    app: Litestar,
    settings: Settings,
    admin: dict[str, str],
    witness: tuple[WitnessService, str],
) -> None:
    service, _url = witness
    log_vkey = client.get("/api/v1/log/key").json()["verifier_key"]
    service.logs[settings.origin] = [parse_verifier_key(log_vkey)]
    receipt, _seconds = _cast(client, app, settings, admin)
    trusted = [parse_witness_key(KEY.vkey)]
    assert check_cosignatures(str(receipt["checkpoint"]), trusted, 1).ok
    assert int(receipt["size"]) > int(receipt["seq"])  # type: ignore[call-overload]
    # The client that requires the witness accepts it at once.
    checked = VoterClient(client, witnesses=trusted, witness_wait_ms=0).witnessed_receipt(receipt)
    assert checked.size >= int(receipt["size"])  # type: ignore[call-overload]


def test_witnesses_down_never_stop_a_cast(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    receipt, seconds = _cast(client, app, settings, admin)
    assert seconds < 5, "the wait for witnesses is bounded by witness_receipt_wait_ms"
    down = [parse_witness_key(DOWN)]
    assert not check_cosignatures(str(receipt["checkpoint"]), down, 1).ok
    strict = VoterClient(client, witnesses=down, witness_wait_ms=200)
    with pytest.raises(ClientError) as refused:
        strict.witnessed_receipt(receipt)
    assert refused.value.code == "witness_missing"
    assert "w.test/down" in refused.value.detail
