"""A complete, valid election log made without a server, for benchmarks of the verifier.

Every step is the real protocol's pure core: the manifest is built and signed, each
voter's credential is blind-signed with the election's key and unblinded, the choices
are sealed and the ballot signed, the election is closed and unsealed, and the result is
computed by ``ballot.record`` and signed. Only the database and HTTP are left out. The
election is an approval one, or the city survey of eight questions (``survey=True``).

With ``trustees=(k, n)`` the election is one with trustees (docs/protocol.md §14): n
trustees hold a key ceremony, the ballots are sealed to the joint key, and after the
close k of them release their key shares and the server's ``election.unsealed`` carries
the rebuilt scalar (§17.5); the lot secret is §14.9's.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.core.canonical import b64url_encode
from audit.core.checkpoint import Checkpoint, sign_checkpoint
from audit.core.entry import GENESIS_KIND, ZERO_HASH, build_entry, leaf_hash, parse_entry
from audit.core.export import KeyInfo
from audit.core.merkle import CompactRange
from ballot.core import dkg, group, kinds, record, record_trustees, seal, threshold
from ballot.core.ballot import ballot_json, make_ballot
from ballot.core.blind import BlindSigningKey, blind_sign, generate_private_key
from ballot.core.config import parse_config
from ballot.core.manifest import build_manifest, manifest_dict, manifest_hash, sign_manifest
from ballot.core.token import credential_message, finalize, prepare_and_blind
from veche.bench.survey import city_survey, random_answers
from veche.kinds import entry_kinds

AT = "2026-11-23T10:00:00Z"
ORIGIN = "synthetic.veche.example/log"
KINDS = entry_kinds()


def election_log(
    voters: int,
    *,
    projects: int = 20,
    key_bits: int = 2048,
    rng: Callable[[int], bytes],
    authority: Ed25519PrivateKey,
    trustees: tuple[int, int] | None = None,
    survey: bool = False,
) -> tuple[list[bytes], str, KeyInfo]:
    """Entries (canonical bytes), a signed checkpoint over them, and the log's key. With
    ``survey`` the election is the city survey of eight questions (docs/protocol.md §19)
    and each voter answers it."""
    pick = random.Random(rng(16))
    ceremony = _ceremony("synthetic", *trustees, rng) if trustees else None
    extra = {"trustees": ceremony.config} if ceremony else {}
    window = {"opens_at": "2026-11-23T09:00:00Z", "closes_at": "2026-11-23T11:00:00Z"}
    survey_config = city_survey(
        id="synthetic",
        district="everywhere",
        window=window,
        eligibility={"residents": True},
        rsa_key_bits=key_bits,
    )
    config = parse_config(
        {**extra, **survey_config}
        if survey
        else {
            **extra,
            "id": "synthetic",
            "title": "Synthetic election",
            "district": "everywhere",
            "budget": 10_000_000,
            "currency": "RUB",
            "projects": [
                {"id": f"p{k}", "title": f"Project {k}", "cost": 200_000 + 37_000 * k}
                for k in range(projects)
            ],
            "ballot": {"kind": "approval", "min_projects": 1, "max_projects": projects},
            "rule": {"name": "mes", "satisfaction": "cost", "completion": "add1"},
            "window": {"opens_at": "2026-11-23T09:00:00Z", "closes_at": "2026-11-23T11:00:00Z"},
            "eligibility": {"residents": True},
            "rsa_key_bits": key_bits,
        }
    )
    rsa_key = generate_private_key(key_bits)
    signer = BlindSigningKey.from_private_key(rsa_key)
    sealing_private, sealing_public = seal.generate_keypair(rng)
    lot_secret: bytes | None = rng(32)
    if ceremony:
        sealing_public, lot_secret = group.x25519_of(ceremony.joint), None
    manifest = build_manifest(
        config,
        rsa_key.public_key(),
        None if ceremony else sealing_public,
        lot_secret,
        authority.public_key().public_bytes_raw(),
        datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        allow_test_keys=key_bits < 2048,
        trustees=ceremony.block if ceremony else None,
    )
    digest = manifest_hash(manifest)
    info = KeyInfo.from_private_key(ORIGIN, authority)
    lines: list[bytes] = []
    edge = CompactRange()

    def append(kind: str, body: object) -> int:
        seq = len(lines)
        prev = leaf_hash(lines[-1]).hex() if lines else ZERO_HASH
        line = build_entry(seq, prev, AT, kind, body, KINDS)
        lines.append(line)
        edge.append(leaf_hash(line))
        return seq

    append(
        GENESIS_KIND,
        {
            "origin": ORIGIN,
            "public_key": info.public_key,
            "software": "veche synthetic",
            "verifier_key": info.verifier_key,
        },
    )
    append(
        kinds.ELECTION_OPENED,
        {
            "manifest": manifest_dict(manifest),
            "manifest_hash": digest,
            "signature": sign_manifest(authority, manifest),
        },
    )
    public = rsa_key.public_key()
    ids = [p.id for p in manifest.projects]
    for n in range(voters):
        credential = Ed25519PrivateKey.from_private_bytes(rng(32))
        credential_b64 = b64url_encode(credential.public_key().public_bytes_raw())
        blinded, state = prepare_and_blind(public, credential_message(credential_b64, digest), rng)
        token = finalize(public, state, bytes(blind_sign(signer, bytes(blinded), rng)))
        append(
            kinds.CREDENTIAL_ISSUED, {"election": digest, "commitment": leaf_hash(b"%d" % n).hex()}
        )
        choices: dict[str, Any] = (
            {"answers": random_answers(pick)}
            if survey
            else {"approve": sorted(pick.sample(ids, pick.randint(1, 5)))}
        )
        ballot, signature = make_ballot(manifest, credential, dict(token), choices, rng)
        append(kinds.BALLOT_CAST, {"ballot": ballot_json(ballot), "signature": signature})
    size = len(lines)
    # Every entry is stamped AT, before the window's end: an early close, with its reason.
    append(
        kinds.ELECTION_CLOSED,
        {
            "election": digest,
            "checkpoint_size": size,
            "checkpoint_root": edge.root().hex(),
            "reason": "Synthetic log: closed as soon as its ballots were made.",
        },
    )
    if ceremony:
        k = trustees[0] if trustees else 0
        shares = {j: ceremony.shares[j] for j in range(1, k + 1)}
        for j, share in shares.items():
            body = threshold.sign_key_share(digest, j, share, ceremony.signing[j - 1])
            append(kinds.ELECTION_KEY_SHARE, body)
        scalar = b64url_encode(threshold.reconstruct(shares))
        append(kinds.ELECTION_UNSEALED, {"election": digest, "sealing_scalar": scalar})
    else:
        append(
            kinds.ELECTION_UNSEALED,
            {"election": digest, "sealing_private_key": b64url_encode(sealing_private)},
        )
    records, _orphans = record.gather(parse_entry(line, KINDS) for line in lines)
    rec = records[digest]
    if ceremony:
        lot_secret = record_trustees.lot_secret_of(rec)
    assert lot_secret is not None
    counted = record.count(rec)
    outcome = record.compute_outcome(rec, counted, lot_secret)
    body = record.result_body(rec, counted, outcome, lot_secret)
    unsigned = msgspec.convert({**body, "signature": "A" * 86}, kinds.ResultPublished)
    append(kinds.RESULT_PUBLISHED, {**body, "signature": kinds.sign_result(authority, unsigned)})
    note = sign_checkpoint(authority, ORIGIN, Checkpoint(ORIGIN, len(lines), edge.root()))
    return lines, note, info


class _Ceremony(NamedTuple):
    config: dict[str, Any]
    block: dict[str, Any]
    joint: bytes
    shares: dict[int, bytes]
    signing: list[bytes]


def _ceremony(election: str, k: int, n: int, rng: Callable[[int], bytes]) -> _Ceremony:
    """A whole key ceremony of n trustees, threshold k (§14.3, §14.4), run here."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    signing = [rng(32) for _ in range(n)]
    boxes = [rng(32) for _ in range(n)]
    members = [
        {
            "name": f"Trustee {j}",
            "signing_key": b64url_encode(
                Ed25519PrivateKey.from_private_bytes(signing[j - 1]).public_key().public_bytes_raw()
            ),
            "box_key": b64url_encode(
                X25519PrivateKey.from_private_bytes(boxes[j - 1]).public_key().public_bytes_raw()
            ),
        }
        for j in range(1, n + 1)
    ]
    ceremony = dkg.ceremony_id(election, k, members)
    dealings = [
        dkg.make_dealing(ceremony, j, k, members, signing[j - 1], rng) for j in range(1, n + 1)
    ]
    shares = {
        j: dkg.open_my_shares(ceremony, dealings, j, boxes[j - 1], k, members)
        for j in range(1, n + 1)
    }
    acks = [dkg.make_ack(ceremony, j, dealings, shares[j], signing[j - 1]) for j in shares]
    return _Ceremony(
        config={"threshold": k, "members": members},
        block=dkg.manifest_trustees(ceremony, k, members, dealings, acks),
        joint=dkg.joint_key(dealings),
        shares=shares,
        signing=signing,
    )
