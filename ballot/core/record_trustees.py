"""A trustee election's record: key shares, the sealing scalar, spoiled ballots, the lot.

docs/protocol.md §14.6-§14.10. ``ballot.core.record`` reads every election's entries;
for an election whose manifest names trustees it hands the trustee-specific ones here:

- ``election.key_share``: kept if valid (``ballot.core.threshold.check_key_share``),
  otherwise reported as ``bad_key_share`` naming the trustee; a share logged before the
  close (``key_share_while_open``) or a second one of a trustee (``key_share_twice``) is
  reported too.
- ``election.unsealed`` with ``sealing_scalar``: kept if ``s·B`` is the joint key,
  otherwise ``wrong_sealing_key``; logged before k valid shares it is reported
  (``unsealed_without_shares``: the server cannot have rebuilt it).

Counting (§14.10): a ballot is first checked like any ballot without its plaintext
(election, version, window, token, signature, seal's shape) -- a failure there is a
refusal, as in any election. Then it is opened with the scalar; one that does not open,
or whose choices break the manifest's limits, is **spoiled**: it takes its place in its
credential's sequence like a valid ballot (so it supersedes the earlier ones) but gives
no choices, and is listed in the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric import rsa

from audit.core.canonical import CanonicalError, b64url_decode
from audit.core.entry import Entry, parse_at
from ballot.core import group, kinds
from ballot.core.ballot import Ballot, check_ballot
from ballot.core.choices import choices_json, parse_sealed_plaintext, validate_choices
from ballot.core.config import to_json
from ballot.core.errors import BallotCryptoError, GroupError, KeyShareRejected, ManifestRejected
from ballot.core.manifest import Manifest, trustees_of
from ballot.core.record_types import CastEntry, Checked, ElectionRecord, Problem
from ballot.core.seal import seal_info
from ballot.core.threshold import check_key_share, lot_secret, reconstruct
from ballot.core.trustees import ManifestTrustees

__all__ = [
    "SPOILED",
    "add_key_share",
    "add_unsealed",
    "check_chunk",
    "check_lot_secret",
    "joint_key_of",
    "lot_secret_of",
    "scalar_from_shares",
    "spoiled_json",
]

# Marks a checked ballot's code as a spoiling inside the count (never logged as such).
SPOILED = "spoiled:"


def joint_key_of(block: ManifestTrustees) -> group.Point:
    """``P = Σ_i C_i0`` from the manifest's block (its checks are the verifier's)."""
    return group.linear_combination(
        (1, group.check_point(b64url_decode(m.commitments[0]), "commitment")) for m in block.members
    )


def _problem(record: ElectionRecord, seq: int, code: str, detail: str) -> None:
    record.problems.append(Problem(seq, code, detail))


def add_key_share(record: ElectionRecord, entry: Entry) -> None:
    """Take an ``election.key_share`` entry into the record (or report it)."""
    body = entry.body
    assert isinstance(body, kinds.ElectionKeyShare)
    block = trustees_of(record.manifest)
    if block is None:
        _problem(record, entry.seq, "bad_key_share", "a key share for an election without trustees")
        return
    if record.closed_seq is None:
        _problem(
            record,
            entry.seq,
            "key_share_while_open",
            f"trustee {body.trustee} released its key share before the close",
        )
    try:
        share = check_key_share(to_json(body), block, election=record.hash)
    except KeyShareRejected as exc:
        _problem(record, entry.seq, "bad_key_share", f"trustee {exc.trustee}: {exc.detail}")
        return
    if body.trustee in record.key_shares:
        _problem(
            record,
            entry.seq,
            "key_share_twice",
            f"trustee {body.trustee}'s key share was logged a second time",
        )
        return
    record.key_shares[body.trustee] = (entry.seq, share)


def scalar_from_shares(
    block: ManifestTrustees, key_shares: dict[int, tuple[int, bytes]]
) -> bytes | None:
    """The sealing scalar from the first k valid key shares by ``seq`` (§14.7), or None
    while fewer than k are in. ``key_shares``: trustee → (seq, share)."""
    first = sorted(key_shares.items(), key=lambda item: item[1][0])[: block.threshold]
    if len(first) < block.threshold:
        return None
    return reconstruct({j: share for j, (_seq, share) in first})


def add_unsealed(record: ElectionRecord, entry: Entry) -> None:
    """Take a trustee election's ``election.unsealed`` (or report it)."""
    body = entry.body
    assert isinstance(body, kinds.ElectionUnsealed)
    block = trustees_of(record.manifest)
    if block is None or body.sealing_scalar is None:
        _problem(
            record,
            entry.seq,
            "wrong_sealing_key",
            "a trustee election is unsealed by its scalar, an election without trustees by "
            "its private key",
        )
        return
    if record.closed_seq is None:
        _problem(
            record, entry.seq, "unsealed_while_open", "the scalar was published before the close"
        )
    try:
        s = group.check_scalar(b64url_decode(body.sealing_scalar), "sealing scalar")
        matches = group.base_mul(s) == joint_key_of(block)
    except (CanonicalError, GroupError):
        matches = False
    if not matches:
        _problem(
            record,
            entry.seq,
            "wrong_sealing_key",
            "the published sealing scalar is not the one of the trustees' joint key",
        )
        return
    released = sum(1 for seq, _share in record.key_shares.values() if seq < entry.seq)
    if released < block.threshold:
        _problem(
            record,
            entry.seq,
            "unsealed_without_shares",
            f"the scalar was published after {released} valid key shares; "
            f"{block.threshold} are needed to rebuild it",
        )
    record.sealing_scalar = s


def check_chunk(
    manifest: Manifest,
    scalar: bytes,
    election_hash: str,
    credential_key: rsa.RSAPublicKey,
    chunk: Sequence[CastEntry],
) -> list[Checked]:
    """Check ballots of a trustee election: ``(seq, credential, choices json or None,
    code, detail)`` each, with the code of a spoiled ballot prefixed ``SPOILED``."""
    out: list[Checked] = []
    election = bytes.fromhex(election_hash)
    for cast in chunk:
        credential = str(cast.ballot.get("credential", ""))
        try:
            ballot = msgspec.convert(cast.ballot, Ballot, strict=True)
            check_ballot(
                manifest,
                ballot,
                cast.signature,
                None,
                parse_at(cast.at),
                credential_key=credential_key,
                election_hash=election_hash,
            )
        except (BallotCryptoError, msgspec.ValidationError, ValueError) as exc:
            code = getattr(exc, "code", "malformed_ballot")
            out.append((cast.seq, credential, None, str(code), str(getattr(exc, "detail", exc))))
            continue
        out.append(_open(manifest, scalar, election, ballot, cast.seq, credential))
    return out


def _open(
    manifest: Manifest, scalar: bytes, election: bytes, ballot: Ballot, seq: int, credential: str
) -> Checked:
    from ballot.core.threshold import open_sealed_with_scalar

    bound = b64url_decode(ballot.credential) if ballot.v == 2 else None
    try:
        plaintext = open_sealed_with_scalar(
            scalar, b64url_decode(ballot.sealed), seal_info(election, bound)
        )
    except BallotCryptoError as exc:
        return (seq, credential, None, SPOILED + "bad_seal", exc.detail)
    try:
        choices, _nonce = parse_sealed_plaintext(plaintext)
        checked: dict[str, Any] = choices_json(validate_choices(manifest, choices))
    except (BallotCryptoError, ValueError) as exc:
        code = str(getattr(exc, "code", "bad_choices"))
        return (seq, credential, None, SPOILED + code, str(getattr(exc, "detail", exc)))
    return (seq, credential, checked, "", "")


def check_lot_secret(record: ElectionRecord, secret: bytes) -> None:
    """Refuse a trustee election's lot secret unless it is ``SHA-256("veche/lot/trustees
    /v1" || s || checkpoint_root)`` (§14.9)."""
    if lot_secret_of(record) != secret:
        raise ManifestRejected(
            "bad_lot_secret",
            "the lot secret is not derived from the sealing scalar and the root at the close",
            "lot_secret",
        )


def lot_secret_of(record: ElectionRecord) -> bytes | None:
    """A trustee election's lot secret, once it is unsealed and closed; else None."""
    if record.sealing_scalar is None or record.close_root is None:
        return None
    return lot_secret(record.sealing_scalar, bytes.fromhex(record.close_root))


def spoiled_json(spoiled: Sequence[Any]) -> list[dict[str, Any]]:
    """The result's ``spoiled`` member: ``[{"code", "seq"}, …]`` in seq order."""
    return [{"code": p.code, "seq": p.seq} for p in sorted(spoiled, key=lambda p: p.seq)]
