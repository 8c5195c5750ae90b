"""The key ceremony of an election with trustees, as the server keeps it (docs/protocol.md
§14.3–§14.5 for the messages, §17.1–§17.3 for the board and the opening).

The server is a notice board here: it holds the draft's dealings and acknowledgements
and shows them to everyone, and it knows no secret of the ceremony. Each message is
authorised by its own signature, made by the trustee the configuration lists at that
position; the server checks every message with ``ballot.core.dkg`` before it keeps it,
so a trustee fetching the board reads only messages that check. A trustee deals once
(a second dealing is refused, as a replay is); an acknowledgement is taken only once
every trustee has dealt, and it names the transcript of exactly those dealings.

Opening such an election (``ElectionLifecycle.open``) asks ``opening_keys`` for the joint
key and the manifest's ``trustees`` block, which exist only once every trustee has
acknowledged (``409 ceremony_incomplete`` before).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.core.canonical import CanonicalError, canonical_bytes
from ballot.core import dkg, group
from ballot.core.config import ElectionConfig, parse_config
from ballot.core.errors import AckRejected, DealingRejected, TrusteeRejected
from ballot.core.trustees import TrusteeMember, TrusteesConfig
from ballot.services.errors import (
    ElectionNotFound,
    ElectionStateConflict,
    TrusteeMessageRejected,
)
from ballot.services.models import CeremonyAck, CeremonyDealing, Election
from kernel.errors import InvalidInput
from kernel.markers import N_

__all__ = [
    "CeremonyView",
    "TrusteeCeremony",
    "configured_trustees",
    "named_refusal",
    "opening_keys",
]

NO_TRUSTEES = N_("This election has no trustees: its server makes and keeps the sealing key.")
NOT_DRAFT = N_("The key ceremony is over: the election has been opened.")
DEALING_EXISTS = N_("This trustee has dealt already; a trustee deals once.")
ACK_EXISTS = N_("This trustee has acknowledged the ceremony already.")
DEALINGS_MISSING = N_(
    "Not every trustee has dealt yet: a trustee acknowledges once every dealing is in."
)
CEREMONY_INCOMPLETE = N_(
    "The key ceremony is not complete: every trustee must deal and then acknowledge "
    "every dealing before the election opens."
)
BAD_MESSAGE = N_("The message is not a signed dealing or acknowledgement of this form.")


class CeremonyView(msgspec.Struct, frozen=True):
    """The public board of a ceremony: what every trustee reads before acting."""

    election: str
    ceremony: str
    threshold: int
    members: list[dict[str, Any]]
    dealings: list[dict[str, Any]]
    acks: list[dict[str, Any]]
    status: str


def configured_trustees(config: ElectionConfig) -> TrusteesConfig | None:
    """The configuration's ``trustees`` block, or None for an election without."""
    return None if isinstance(config.trustees, msgspec.UnsetType) else config.trustees


def _members(block: TrusteesConfig) -> list[TrusteeMember]:
    return list(block.members)


def _ceremony(election_id: str, block: TrusteesConfig) -> bytes:
    return dkg.ceremony_id(election_id, block.threshold, _members(block))


def named_refusal(exc: TrusteeRejected, what: str) -> TrusteeMessageRejected:
    """The core's refusal as a sentence that names the trustee (or says none is)."""
    who = f"trustee {exc.trustee}" if exc.trustee else "a sender who is not a trustee"
    return TrusteeMessageRejected(str(exc.code), f"The {what} of {who} is refused: {exc.detail}.")


def _signed(data: object, part: str) -> dict[str, Any]:
    """``{part: {...}, "signature": str}`` with nothing else, or a 400 refusal."""
    if (
        not isinstance(data, dict)
        or set(data) != {part, "signature"}
        or not isinstance(data[part], dict)
        or not isinstance(data["signature"], str)
    ):
        raise InvalidInput(BAD_MESSAGE, code="malformed_message")
    try:
        canonical_bytes(data)
    except CanonicalError:
        raise InvalidInput(BAD_MESSAGE, code="malformed_message") from None
    return data


def _decoded(rows: Any) -> list[dict[str, Any]]:
    return [msgspec.json.decode(bytes(row)) for row in rows]


class _Draft:
    """An election read for its ceremony: config, trustees, ceremony id."""

    def __init__(self, row: Election) -> None:
        self.row = row
        self.config = parse_config(msgspec.json.decode(row.config))
        block = configured_trustees(self.config)
        if block is None:
            raise ElectionNotFound("no_trustees", NO_TRUSTEES)
        self.block = block
        self.members = _members(block)
        self.ceremony = _ceremony(row.id, block)


_DEALINGS = CeremonyDealing.__table__.c  # type: ignore[attr-defined]
_ACKS = CeremonyAck.__table__.c  # type: ignore[attr-defined]


def _dealings(db: Session, election_id: str, ceremony: bytes) -> list[dict[str, Any]]:
    rows = db.scalars(
        select(_DEALINGS.signed)
        .where(_DEALINGS.election_id == election_id, _DEALINGS.ceremony == ceremony.hex())
        .order_by(_DEALINGS.dealer)
    )
    return _decoded(rows)


def _acks(db: Session, election_id: str, ceremony: bytes) -> list[dict[str, Any]]:
    rows = db.scalars(
        select(_ACKS.signed)
        .where(_ACKS.election_id == election_id, _ACKS.ceremony == ceremony.hex())
        .order_by(_ACKS.trustee)
    )
    return _decoded(rows)


def opening_keys(
    db: Session, election_id: str, config: ElectionConfig
) -> tuple[bytes, dict[str, Any]]:
    """At opening: the X25519 sealing key (the u-coordinate of the joint key) and the
    manifest's ``trustees`` block, from the complete ceremony; ``409
    ceremony_incomplete`` unless every trustee has dealt and acknowledged."""
    block = configured_trustees(config)
    assert block is not None
    members = _members(block)
    ceremony = _ceremony(election_id, block)
    dealings = _dealings(db, election_id, ceremony)
    acks = _acks(db, election_id, ceremony)
    if len(dealings) != len(members) or len(acks) != len(members):
        raise ElectionStateConflict("ceremony_incomplete", CEREMONY_INCOMPLETE)
    joint = dkg.joint_key(dealings)
    block_json = dkg.manifest_trustees(ceremony, block.threshold, members, dealings, acks)
    return group.x25519_of(joint), block_json


def _election(db: Session, election_id: str) -> Election:
    row = db.get(Election, election_id)
    if row is None:
        raise ElectionNotFound("no_such_election", f"There is no election {election_id!r}.")
    return row


class TrusteeCeremony:
    """The ceremony's board: showing it, and taking checked dealings and acks. (It
    needs no more of the election services than the database: opening asks it, through
    ``opening_keys``, not the other way round.)"""

    def view(self, db: Session, election_id: str) -> CeremonyView:
        """The ceremony of an election with trustees, draft or not (trustees need it
        before the opening; it holds nothing secret)."""
        draft = _Draft(_election(db, election_id))
        dealings = _dealings(db, election_id, draft.ceremony)
        acks = _acks(db, election_id, draft.ceremony)
        n = len(draft.members)
        if draft.row.status != "draft":
            status = "complete"
        elif len(acks) == n:
            status = "acknowledged"
        elif len(dealings) == n:
            status = "acknowledging"
        else:
            status = "dealing"
        return CeremonyView(
            election=election_id,
            ceremony=draft.ceremony.hex(),
            threshold=draft.block.threshold,
            members=dkg.members_json(draft.members),
            dealings=dealings,
            acks=acks,
            status=status,
        )

    def _draft_for_update(self, db: Session, election_id: str) -> _Draft:
        draft = _Draft(_election(db, election_id))
        if draft.row.status != "draft":
            raise ElectionStateConflict("ceremony_over", NOT_DRAFT)
        return draft

    def add_dealing(self, db: Session, election_id: str, data: object) -> int:
        """Check a signed dealing (``422 bad_dealing`` naming the dealer) and keep it;
        ``409 dealing_exists`` for a second one from the same trustee. Its dealer."""
        signed = _signed(data, "dealing")
        draft = self._draft_for_update(db, election_id)
        try:
            dkg.check_dealing(draft.ceremony, signed, draft.block.threshold, draft.members)
        except DealingRejected as exc:
            raise named_refusal(exc, "dealing") from None
        dealer = int(signed["dealing"]["dealer"])
        if db.get(CeremonyDealing, (election_id, draft.ceremony.hex(), dealer)) is not None:
            raise ElectionStateConflict("dealing_exists", DEALING_EXISTS)
        db.add(
            CeremonyDealing(
                election_id=election_id,
                ceremony=draft.ceremony.hex(),
                dealer=dealer,
                signed=canonical_bytes(signed),
                received_at=int(time.time()),
            )
        )
        try:
            db.flush()
        except IntegrityError:
            raise ElectionStateConflict("dealing_exists", DEALING_EXISTS) from None
        return dealer

    def add_ack(self, db: Session, election_id: str, data: object) -> int:
        """Check a signed acknowledgement against every dealing (``422 bad_ack``) and
        keep it; ``409 dealings_missing`` before every trustee has dealt, ``409
        ack_exists`` for a second one. Its trustee."""
        signed = _signed(data, "ack")
        draft = self._draft_for_update(db, election_id)
        dealings = _dealings(db, election_id, draft.ceremony)
        if len(dealings) != len(draft.members):
            raise ElectionStateConflict("dealings_missing", DEALINGS_MISSING)
        try:
            dkg.check_ack(draft.ceremony, signed, dealings, draft.members)
        except AckRejected as exc:
            raise named_refusal(exc, "acknowledgement") from None
        trustee = int(signed["ack"]["trustee"])
        if db.get(CeremonyAck, (election_id, draft.ceremony.hex(), trustee)) is not None:
            raise ElectionStateConflict("ack_exists", ACK_EXISTS)
        db.add(
            CeremonyAck(
                election_id=election_id,
                ceremony=draft.ceremony.hex(),
                trustee=trustee,
                signed=canonical_bytes(signed),
                received_at=int(time.time()),
            )
        )
        try:
            db.flush()
        except IntegrityError:
            raise ElectionStateConflict("ack_exists", ACK_EXISTS) from None
        return trustee
