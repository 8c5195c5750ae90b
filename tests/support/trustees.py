"""Trustees for tests: identities and a whole key ceremony run in memory.

``run_ceremony`` plays every trustee's part through the pure core (``ballot.core.dkg``)
exactly as the trustees' own machines do, and gives what each step produced, so tests
can forge any of it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

from audit.core.canonical import b64url_encode
from ballot.core import dkg, group
from ballot.core.trustees import TrusteeMember

Rng = Callable[[int], bytes]


@dataclasses.dataclass(frozen=True)
class Identity:
    """A trustee's private keys (as their own machine keeps them) and public member."""

    signing_private: bytes
    box_private: bytes
    member: TrusteeMember


def make_identity(rng: Rng, name: str) -> Identity:
    signing, box = rng(32), rng(32)
    signing_public = ed25519.Ed25519PrivateKey.from_private_bytes(signing).public_key()
    box_public = x25519.X25519PrivateKey.from_private_bytes(box).public_key()
    member = TrusteeMember(
        name=name,
        signing_key=b64url_encode(signing_public.public_bytes_raw()),
        box_key=b64url_encode(box_public.public_bytes_raw()),
    )
    return Identity(signing_private=signing, box_private=box, member=member)


def make_identities(rng: Rng, n: int) -> list[Identity]:
    return [make_identity(rng, f"Trustee {j}") for j in range(1, n + 1)]


@dataclasses.dataclass(frozen=True)
class Ceremony:
    election_id: str
    threshold: int
    identities: list[Identity]
    ceremony: bytes
    dealings: list[dict[str, Any]]
    key_shares: dict[int, bytes]  # trustee number -> s_j
    acks: list[dict[str, Any]]
    block: dict[str, Any]  # the manifest's "trustees"
    joint_key: group.Point

    @property
    def members(self) -> list[TrusteeMember]:
        return [i.member for i in self.identities]

    @property
    def sealing_key(self) -> bytes:
        return group.x25519_of(self.joint_key)

    @property
    def config_block(self) -> dict[str, Any]:
        """The configuration's ``trustees`` block naming these identities."""
        return {"threshold": self.threshold, "members": dkg.members_json(self.members)}


def run_ceremony(
    rng: Rng, election_id: str, threshold: int, n: int, identities: list[Identity] | None = None
) -> Ceremony:
    ids = identities if identities is not None else make_identities(rng, n)
    members = [i.member for i in ids]
    ceremony = dkg.ceremony_id(election_id, threshold, members)
    dealings = [
        dkg.make_dealing(ceremony, j, threshold, members, ident.signing_private, rng)
        for j, ident in enumerate(ids, start=1)
    ]
    shares = {
        j: dkg.open_my_shares(ceremony, dealings, j, ident.box_private, threshold, members)
        for j, ident in enumerate(ids, start=1)
    }
    acks = [
        dkg.make_ack(ceremony, j, dealings, shares[j], ident.signing_private)
        for j, ident in enumerate(ids, start=1)
    ]
    block = dkg.manifest_trustees(ceremony, threshold, members, dealings, acks)
    return Ceremony(
        election_id=election_id,
        threshold=threshold,
        identities=ids,
        ceremony=ceremony,
        dealings=dealings,
        key_shares=shares,
        acks=acks,
        block=block,
        joint_key=dkg.joint_key(dealings),
    )
