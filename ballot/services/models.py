"""Tables of elections, rolls, access codes, credential issuance and cast ballots.

Nothing here links a voter to a credential: ``credential_issuance`` says *that* a voter
obtained a credential for an election (so they cannot obtain a second), never *which*;
``cast_ballot`` knows credentials, never voters. The election's private keys are kept
encrypted (AES-256-GCM under a key in the data directory), so a database dump alone does
not reveal them.
"""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class Election(SQLModel, table=True):
    __tablename__ = "election"

    id: str = Field(primary_key=True, max_length=64)
    title: str = Field(max_length=200)
    district: str = Field(max_length=64, index=True)
    # draft → open → closed (the sealing key is published at the close) → tallied.
    status: str = Field(default="draft", max_length=16)
    config: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    manifest: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    manifest_hash: str | None = Field(default=None, max_length=64, unique=True, index=True)
    manifest_signature: str | None = Field(default=None, max_length=100)
    secrets: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: int
    opened_seq: int | None = None
    closed_seq: int | None = None
    # The size of the log whose ballots the count includes (set at the close).
    count_size: int | None = None
    # The published result: its log entry and what the page and API show (JSON).
    result_seq: int | None = None
    result: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class RollEntry(SQLModel, table=True):
    __tablename__ = "roll_entry"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=64)
    voter_ref: str = Field(primary_key=True, max_length=100)
    email: str | None = Field(default=None, max_length=254, index=True)
    # SHA-256 of the printed one-time access code, if one was made for this entry.
    code_hash: str | None = Field(default=None, max_length=64, index=True)


class CredentialIssuance(SQLModel, table=True):
    __tablename__ = "credential_issuance"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=64)
    # "user:<public id>" or "roll:<voter ref>": the primary key allows one per voter.
    voter_key: str = Field(primary_key=True, max_length=140)
    # The blinded request, so that a lost answer can be fetched again; it cannot be
    # linked to the credential it yields (RFC 9474 blinding).
    blinded_hash: str = Field(max_length=64)
    blind_signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    seq: int


class CastBallot(SQLModel, table=True):
    __tablename__ = "cast_ballot"
    __table_args__ = (UniqueConstraint("election_id", "digest", name="uq_cast_ballot_digest"),)

    id: int | None = Field(default=None, primary_key=True)
    election_id: str = Field(foreign_key="election.id", index=True, max_length=64)
    credential: str = Field(max_length=64, index=True)
    # SHA-256 of the canonical {ballot, signature}: resending it returns the same receipt.
    digest: str = Field(max_length=64)
    seq: int
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    checkpoint_size: int


class ElectorateMember(SQLModel, table=True):
    """Who may obtain a credential in an election, fixed when it opens.

    The voter keys of the eligible set (``roll:<voter id>`` or ``user:<public id>``)
    and each one's commitment, as the manifest's ``eligibility.electorate`` commits to
    them (docs/protocol.md §6.11). Rows are written when the election opens and, while
    it is open, only with a logged ``electorate.added`` (``added_seq``)."""

    __tablename__ = "electorate_member"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=64)
    voter_key: str = Field(primary_key=True, max_length=140)
    commitment: str = Field(max_length=64)
    # None: in the electorate committed at opening; else the electorate.added entry.
    added_seq: int | None = None


class CeremonyDealing(SQLModel, table=True):
    """A trustee's dealing in an election's key ceremony, as it was sent and checked
    (docs/protocol.md §14): the canonical ``{"dealing": …, "signature": …}``. One per
    trustee and ceremony; dealings are kept beside the draft, not logged: the manifest
    commits to what the verifier needs of them (commitments and proofs)."""

    __tablename__ = "ceremony_dealing"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=64)
    ceremony: str = Field(primary_key=True, max_length=64)
    dealer: int = Field(primary_key=True)
    signed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: int


class CeremonyAck(SQLModel, table=True):
    """A trustee's acknowledgement of every dealing of the ceremony (docs/protocol.md
    §14): the canonical ``{"ack": …, "signature": …}``, one per trustee and ceremony."""

    __tablename__ = "ceremony_ack"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=64)
    ceremony: str = Field(primary_key=True, max_length=64)
    trustee: int = Field(primary_key=True)
    signed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: int


class TrusteeKeyShare(SQLModel, table=True):
    """A trustee's key share logged after the close (``election.key_share``), so that
    the server finds the first ``threshold`` of them without reading the log back. The
    share is public from its entry on; the log's bytes stay what counts."""

    __tablename__ = "trustee_key_share"

    election_id: str = Field(foreign_key="election.id", primary_key=True, max_length=64)
    trustee: int = Field(primary_key=True)
    key_share: str = Field(max_length=64)
    seq: int
