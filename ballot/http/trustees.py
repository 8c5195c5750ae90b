"""The trustees of an election over HTTP: the key ceremony's board and the key shares
released after the close (docs/protocol.md §17).

No route here needs a log-in: each message is authorised by the signature of the
trustee the election's configuration lists, which the services check with the pure
core before keeping or logging anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from ballot.http.state import ElectionState
from ballot.services.ceremony import CeremonyView
from ballot.services.unsealing import KeyShareAccepted
from kernel.web import DB


class Accepted(msgspec.Struct, frozen=True):
    """A ceremony message kept: whose it is."""

    election: str
    trustee: int


def _keep(
    db: DB,
    election_id: str,
    data: dict[str, Any],
    add: Callable[[DB, str, dict[str, Any]], int],
) -> Accepted:
    """Keep one signed ceremony message in one transaction; answer whose it was."""
    with db.begin():
        trustee = add(db, election_id, data)
    return Accepted(election=election_id, trustee=trustee)


class TrusteeController(Controller):
    path = "/api/v1/elections"
    tags: ClassVar[list[str]] = ["trustees"]

    @get("/{election_id:str}/ceremony", operation_id="getCeremony", sync_to_thread=True)
    def ceremony(self, election_id: FromPath[str], db: DB, state: ElectionState) -> CeremonyView:
        """The key ceremony's board: its id, threshold, members, dealings, acks, status."""
        with db.begin():
            return state.elections.ceremony_view(db, election_id)

    @post(
        "/{election_id:str}/ceremony/dealings",
        operation_id="postDealing",
        status_code=201,
        sync_to_thread=True,
        opt={"csrf_exempt": True},
    )
    def dealing(
        self,
        election_id: FromPath[str],
        data: JSONBody[dict[str, Any]],
        db: DB,
        state: ElectionState,
    ) -> Accepted:
        """Post a trustee's signed dealing; checked, then kept once per trustee."""
        return _keep(db, election_id, data, state.elections.add_dealing)

    @post(
        "/{election_id:str}/ceremony/acks",
        operation_id="postCeremonyAck",
        status_code=201,
        sync_to_thread=True,
        opt={"csrf_exempt": True},
    )
    def ack(
        self,
        election_id: FromPath[str],
        data: JSONBody[dict[str, Any]],
        db: DB,
        state: ElectionState,
    ) -> Accepted:
        """Post a trustee's signed acknowledgement of every dealing; checked, then kept."""
        return _keep(db, election_id, data, state.elections.add_ack)

    @post(
        "/{election_id:str}/key-shares",
        operation_id="postKeyShare",
        status_code=201,
        sync_to_thread=True,
        opt={"csrf_exempt": True},
    )
    def key_share(
        self, election_id: FromPath[str], data: JSONBody[dict[str, Any]], state: ElectionState
    ) -> KeyShareAccepted:
        """Release a trustee's key share after the close; at the threshold, unseal."""
        return state.elections.submit_key_share(election_id, data)
