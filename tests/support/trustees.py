"""Trustees for tests: identities and a whole key ceremony run in memory.

``run_ceremony`` plays every trustee's part through the pure core (``ballot.core.dkg``)
exactly as the trustees' own machines do, and gives what each step produced, so tests
can forge any of it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa, x25519

from audit.core.canonical import b64url_decode, b64url_encode, canonical_bytes
from audit.core.entry import leaf_hash
from audit.core.merkle import mth
from ballot.core import blind, dkg, group, kinds, record, record_trustees, seal, threshold
from ballot.core.ballot import Ballot, BallotToken, sign_ballot
from ballot.core.config import parse_config
from ballot.core.manifest import (
    Manifest,
    build_manifest,
    manifest_dict,
    manifest_hash,
    sign_manifest,
)
from ballot.core.trustees import TrusteeMember
from ballot.core.verify import election_entries
from tests.strategies.ballot_manifest import base_config
from tests.support.operator import (
    DURING,
    OPENED_AT,
    TEST_KEY_BITS,
    Entries,
    Voter,
    cast_body,
    issue_token,
)

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


# --- a whole trustee election, as its log --------------------------------------------------


@dataclasses.dataclass
class TrusteeElection:
    """A trustee election without a server: keys, manifest, ceremony (docs/protocol.md
    §14), and the log entries an honest server would write for it."""

    rsa_private: rsa.RSAPrivateKey
    authority: ed25519.Ed25519PrivateKey
    manifest: Manifest
    hash: str
    ceremony: Ceremony

    @classmethod
    def open(cls, rng: Rng, threshold: int = 2, n: int = 3, **config: Any) -> TrusteeElection:
        data = base_config(**config)
        c = run_ceremony(rng, data["id"], threshold, n)
        data["trustees"] = c.config_block
        cfg = msgspec.structs.replace(parse_config(data), rsa_key_bits=TEST_KEY_BITS)
        rsa_private = blind.generate_private_key(TEST_KEY_BITS)
        authority = ed25519.Ed25519PrivateKey.from_private_bytes(rng(32))
        manifest = build_manifest(
            cfg,
            rsa_private.public_key(),
            None,
            None,
            authority.public_key().public_bytes_raw(),
            OPENED_AT,
            allow_test_keys=True,
            trustees=c.block,
        )
        return cls(rsa_private, authority, manifest, manifest_hash(manifest), c)

    def voter(self) -> Voter:
        key = ed25519.Ed25519PrivateKey.generate()
        public = self.rsa_private.public_key()
        return Voter(self, key, issue_token(self.rsa_private, public, self.hash, key))  # type: ignore[arg-type]

    def raw_ballot(
        self, voter: Voter, plaintext: bytes, counter: int = 1, sealing_key: bytes | None = None
    ) -> dict[str, Any]:
        """A ``ballot.cast`` body sealing ``plaintext`` as it is (no client checks it) to
        the manifest's sealing key or to ``sealing_key``."""
        credential = voter.key.public_key().public_bytes_raw()
        recipient = sealing_key or b64url_decode(self.manifest.sealing_key)
        sealed = seal.seal(recipient, bytes.fromhex(self.hash), plaintext, credential)
        ballot = Ballot(
            counter=counter,
            credential=b64url_encode(credential),
            election=self.hash,
            sealed=b64url_encode(sealed),
            token=BallotToken(**voter.token),
            v=2,
        )
        return cast_body(ballot, sign_ballot(voter.key, ballot))

    def key_share(self, j: int) -> dict[str, Any]:
        ident = self.ceremony.identities[j - 1]
        share = self.ceremony.key_shares[j]
        return threshold.sign_key_share(self.hash, j, share, ident.signing_private)

    def scalar(self, trustees: list[int]) -> bytes:
        return threshold.reconstruct({j: self.ceremony.key_shares[j] for j in trustees})

    def entries(
        self,
        casts: list[dict[str, Any]],
        release: list[int],
        *,
        unseal: bool = True,
    ) -> Entries:
        """Genesis, opening, credentials, ballots, close, key shares of ``release``, the
        unsealing (if ``unseal`` and enough shares) -- everything but the result."""
        signature = sign_manifest(self.authority, self.manifest)
        opened = {"manifest": manifest_dict(self.manifest), "manifest_hash": self.hash}
        out: Entries = [
            entry_of(GENESIS_KIND, {"origin": "test"}),
            entry_of(kinds.ELECTION_OPENED, {**opened, "signature": signature}),
        ]
        out += [
            entry_of(kinds.CREDENTIAL_ISSUED, {"commitment": f"{i:064x}", "election": self.hash})
            for i in range(len(casts))
        ]
        out += [entry_of(kinds.BALLOT_CAST, body) for body in casts]
        closed = {"checkpoint_root": "00" * 32, "checkpoint_size": 0, "election": self.hash}
        out.append(entry_of(kinds.ELECTION_CLOSED, closed, at=CLOSED_AT))
        out += [
            entry_of(kinds.ELECTION_KEY_SHARE, self.key_share(j), at=CLOSED_AT) for j in release
        ]
        if unseal and len(release) >= self.ceremony.threshold:
            s = self.scalar(release[: self.ceremony.threshold])
            body = {"election": self.hash, "sealing_scalar": b64url_encode(s)}
            out.append(entry_of(kinds.ELECTION_UNSEALED, body, at=CLOSED_AT))
        return out

    def publish(self, entries: Entries, **changes: Any) -> list[bytes]:
        """Append the result an honest server computes from ``entries`` (``changes``
        forged into its body before it is signed) and give the log's lines."""
        lines = chain(entries)
        records, _orphans = record.gather(election_entries(lines))
        rec = records[self.hash]
        counted = record.count(rec)
        secret = record_trustees.lot_secret_of(rec)
        assert secret is not None
        outcome = record.compute_outcome(rec, counted, secret)
        body = {**record.result_body(rec, counted, outcome, secret), **changes}
        result = msgspec.convert({**body, "signature": "A" * 86}, kinds.ResultPublished)
        body["signature"] = kinds.sign_result(self.authority, result)
        return chain([*entries, entry_of(kinds.RESULT_PUBLISHED, body, at=CLOSED_AT)])


CLOSED_AT = "2027-03-15T20:00:01Z"
GENESIS_KIND = "log.genesis"


def entry_of(kind: str, body: dict[str, Any], at: str = DURING) -> dict[str, Any]:
    return {"at": at, "body": body, "kind": kind, "prev": "", "seq": 0, "v": 1}


def chain(entries: Entries) -> list[bytes]:
    """The entries as a log's lines: numbered, chained, each close naming the size and
    root of the log before it. (Line 0 stands for the genesis: the election checks do
    not read it.)"""
    lines: list[bytes] = []
    prev = "0" * 64
    for seq, entry in enumerate(entries):
        entry = {**entry, "seq": seq, "prev": prev}
        if entry["kind"] == kinds.ELECTION_CLOSED:
            root = mth([leaf_hash(line) for line in lines]).hex()
            entry["body"] = {**entry["body"], "checkpoint_size": seq, "checkpoint_root": root}
        line = canonical_bytes(entry)
        lines.append(line)
        prev = leaf_hash(line).hex()
    return lines
