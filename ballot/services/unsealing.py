"""The close of an election with trustees: their key shares, then the unsealing
(docs/protocol.md §14.6, §14.7 and §17.5).

After ``election.closed`` each trustee releases its key share, signed with its
identity key. The server checks it against the public share the manifest commits to
(``ballot.core.threshold.check_key_share``) and refuses a wrong one naming the trustee
(``422 bad_key_share``), so only valid shares reach the log (``election.key_share``).
The work item that logs the ``threshold``-th valid share also reconstructs the sealing
scalar from the first ``threshold`` shares by ``seq`` and appends ``election.unsealed``
in the same batch: from that entry on anyone can open every ballot, and the count may
run. With fewer shares nothing opens.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.core.canonical import b64url_decode, b64url_encode
from audit.services.store import BatchLog
from ballot.core import kinds, threshold
from ballot.core.errors import KeyShareRejected
from ballot.core.manifest import trustees_of
from ballot.services.ceremony import named_refusal
from ballot.services.errors import ElectionStateConflict
from ballot.services.lifecycle import ElectionLifecycle
from ballot.services.models import Election, TrusteeKeyShare
from kernel.errors import InvalidInput
from kernel.markers import N_

__all__ = ["KeyShareAccepted", "Unsealing"]

NOT_CLOSED = N_("Key shares are released only after the election has closed.")
NO_TRUSTEES = N_("This election has no trustees: there are no key shares to release.")
SHARE_EXISTS = N_("This trustee's key share is in the log already.")
ALREADY_TALLIED = N_("The election has been counted; no key share is needed any more.")
BAD_FORM = N_(
    'A key share is {"election": hex, "trustee": n, "key_share": b64url, '
    '"signature": b64url} and nothing else.'
)


_SHARES = TrusteeKeyShare.__table__.c  # type: ignore[attr-defined]


class KeyShareAccepted(msgspec.Struct, frozen=True):
    """A key share logged: its entry, how many valid shares the log holds and how many
    open the ballots, and the ``election.unsealed`` entry once there is one."""

    election: str
    trustee: int
    seq: int
    shares: int
    threshold: int
    unsealed_seq: int | None


def _body(data: object) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) != {
        "election",
        "trustee",
        "key_share",
        "signature",
    }:
        raise InvalidInput(BAD_FORM, code="malformed_key_share")
    if type(data["trustee"]) is not int or not all(
        isinstance(data[k], str) for k in ("election", "key_share", "signature")
    ):
        raise InvalidInput(BAD_FORM, code="malformed_key_share")
    return data


class Unsealing:
    """Taking the trustees' key shares and unsealing at the threshold."""

    def __init__(self, elections: ElectionLifecycle) -> None:
        self.elections = elections

    def submit_key_share(self, election_id: str, data: object) -> KeyShareAccepted:
        body = _body(data)
        with self.elections.read() as db:
            row = self.elections.get(db, election_id)
            if row.status in {"draft", "open"}:
                raise ElectionStateConflict("not_closed", NOT_CLOSED)
            if row.status == "tallied":
                raise ElectionStateConflict("already_tallied", ALREADY_TALLIED)
            live = self.elections.live(db, election_id)
        block = trustees_of(live.manifest)
        if block is None:
            raise ElectionStateConflict("no_trustees", NO_TRUSTEES)
        trustee = body["trustee"]
        try:
            threshold.check_key_share(body, block, election=live.hash)
        except KeyShareRejected as exc:
            raise named_refusal(exc, "key share") from None
        k = block.threshold

        def work(wdb: Session, log: BatchLog) -> KeyShareAccepted:
            election = wdb.get(Election, election_id)
            assert election is not None
            if election.status != "closed":
                raise ElectionStateConflict("already_tallied", ALREADY_TALLIED)
            if wdb.get(TrusteeKeyShare, (election_id, trustee)) is not None:
                raise ElectionStateConflict("key_share_exists", SHARE_EXISTS)
            appended = log.append(kinds.ELECTION_KEY_SHARE, body)
            wdb.add(
                TrusteeKeyShare(
                    election_id=election_id,
                    trustee=trustee,
                    key_share=body["key_share"],
                    seq=appended.seq,
                )
            )
            wdb.flush()
            logged = list(
                wdb.execute(
                    select(_SHARES.trustee, _SHARES.key_share)
                    .where(_SHARES.election_id == election_id)
                    .order_by(_SHARES.seq)
                )
            )
            unsealed_seq = None
            if len(logged) == k:
                shares = {j: b64url_decode(share) for j, share in logged[:k]}
                scalar = threshold.reconstruct(shares)
                unsealed = log.append(
                    kinds.ELECTION_UNSEALED,
                    {"election": live.hash, "sealing_scalar": b64url_encode(scalar)},
                )
                unsealed_seq = unsealed.seq
            return KeyShareAccepted(
                election=live.hash,
                trustee=trustee,
                seq=appended.seq,
                shares=len(logged),
                threshold=k,
                unsealed_seq=unsealed_seq,
            )

        return self.elections.sequencer.run(work).result
