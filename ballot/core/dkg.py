"""The trustees' key ceremony: a joint-Feldman (Pedersen) distributed key generation.

docs/protocol.md §14.2-§14.5. Each of the n trustees deals a random polynomial
``f_i`` of degree ``k - 1`` over the scalars mod ``L`` (``ballot.core.group``), publishes
Feldman commitments ``C_il = a_il·B`` with a Schnorr proof of knowledge of ``a_i0``, and
sends ``f_i(j)`` to every member ``j`` sealed with HPKE (RFC 9180, the ballots' suite,
§2.12) to their box key. Member ``j`` checks every share against the commitments, keeps
``s_j = Σ_i f_i(j)`` and signs an acknowledgement of the transcript with its public share
``P_j = s_j·B``. The joint key is ``P = Σ_i C_i0``; its secret ``s = Σ_i a_i0`` exists
only as the shares: any k of them rebuild it (``ballot.core.threshold``), fewer say
nothing about it.

Dealers are numbered 1..n by their position in the configuration's member list.
Every function here is pure: randomness is the ``rng`` parameter (``os.urandom``'s
shape), except the HPKE ephemeral keys drawn inside ``cryptography`` (as for ballots).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

from audit.core.canonical import (
    CanonicalError,
    b64url_decode,
    b64url_encode,
    canonical_bytes,
)
from ballot.core import group
from ballot.core.errors import AckRejected, DealingRejected, GroupError, ShareRejected
from ballot.core.seal import SUITE
from ballot.core.trustees import ManifestTrustee, TrusteeMember

__all__ = [
    "ACK_DOMAIN",
    "CEREMONY_DOMAIN",
    "DEALING_DOMAIN",
    "POK_DOMAIN",
    "SHARE_INFO",
    "TRANSCRIPT_DOMAIN",
    "TrusteeMember",
    "ack_message",
    "ceremony_id",
    "check_ack",
    "check_dealing",
    "check_pok",
    "dealing_message",
    "joint_key",
    "make_ack",
    "make_dealing",
    "make_pok",
    "manifest_trustees",
    "members_json",
    "open_my_shares",
    "pok_challenge",
    "public_share",
    "share_info",
    "transcript",
    "verify_signature",
]

CEREMONY_DOMAIN = b"veche/ceremony/v1\n"
POK_DOMAIN = b"veche/trustee/pok/v1\n"
SHARE_INFO = b"veche/trustee/share/v1"
DEALING_DOMAIN = b"veche/trustee/dealing/v1\n"
ACK_DOMAIN = b"veche/trustee/ack/v1\n"
TRANSCRIPT_DOMAIN = b"veche/trustee/transcript/v1\n"
SEALED_SHARE_LENGTH = 32 + 32 + 16  # enc || scalar || tag


Member = TrusteeMember | ManifestTrustee | Mapping[str, Any]


def _member(value: Member) -> TrusteeMember:
    if isinstance(value, TrusteeMember):
        return value
    if isinstance(value, ManifestTrustee):
        return TrusteeMember(name=value.name, signing_key=value.signing_key, box_key=value.box_key)
    return TrusteeMember(
        name=str(value["name"]),
        signing_key=str(value["signing_key"]),
        box_key=str(value["box_key"]),
    )


def members_json(members: Sequence[Member]) -> list[dict[str, str]]:
    """The members as the configuration writes them (name, signing_key, box_key)."""
    return [
        {"name": m.name, "signing_key": m.signing_key, "box_key": m.box_key}
        for m in map(_member, members)
    ]


def ceremony_id(election_id: str, threshold: int, members: Sequence[Member]) -> bytes:
    """``SHA-256("veche/ceremony/v1\\n" || canonical({"election", "members",
    "threshold"}))`` as 32 raw bytes (§14.3): what every dealing, proof and
    acknowledgement is bound to."""
    body = {"election": election_id, "members": members_json(members), "threshold": threshold}
    return hashlib.sha256(CEREMONY_DOMAIN + canonical_bytes(body)).digest()


def share_info(ceremony: bytes, dealer: int, to: int) -> bytes:
    """HPKE ``info`` of the share dealer ``dealer`` seals to member ``to``."""
    return SHARE_INFO + ceremony + bytes([dealer]) + bytes([to])


def pok_challenge(ceremony: bytes, dealer: int, c0: group.Point, r_point: group.Point) -> int:
    """``SHA-512(POK_DOMAIN || ceremony || dealer (1 byte) || C_i0 || R) mod L``."""
    digest = hashlib.sha512(POK_DOMAIN + ceremony + bytes([dealer]) + c0 + r_point).digest()
    return int.from_bytes(digest, "little") % group.L


def make_pok(
    ceremony: bytes, dealer: int, secret: group.Scalar, rng: Callable[[int], bytes]
) -> dict[str, str]:
    """A Schnorr proof of knowledge of ``secret`` for ``C = secret·B``: ``{"commitment":
    R, "response": z}`` with ``R = r·B`` and ``z = r + c·secret``."""
    r = group.random_scalar(rng)
    r_point = group.base_mul(r)
    c = pok_challenge(ceremony, dealer, group.base_mul(secret), r_point)
    z = group.scalar_from_int(group.scalar_to_int(r) + c * group.scalar_to_int(secret))
    return {"commitment": b64url_encode(r_point), "response": b64url_encode(z)}


def check_pok(ceremony: bytes, dealer: int, c0: group.Point, pok: Mapping[str, Any]) -> bool:
    """Whether ``z·B == R + c·C_i0`` (malformed values: False)."""
    try:
        r_point = group.check_point(b64url_decode(pok["commitment"]), "proof commitment")
        z = group.check_scalar(b64url_decode(pok["response"]), "proof response")
        c = pok_challenge(ceremony, dealer, c0, r_point)
        return group.base_mul(z) == group.linear_combination([(1, r_point), (c, c0)])
    except (CanonicalError, GroupError, KeyError, TypeError):
        return False


def _poly(coefficients: Sequence[int], x: int) -> int:
    value = 0
    for a in reversed(coefficients):
        value = (value * x + a) % group.L
    return value


def dealing_message(dealing: Mapping[str, Any]) -> bytes:
    """``"veche/trustee/dealing/v1\\n" || canonical(dealing)``: what the dealer signs."""
    return DEALING_DOMAIN + canonical_bytes(dict(dealing))


def _signing_key(signing_private_raw32: bytes) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(signing_private_raw32)


def make_dealing(
    ceremony: bytes,
    dealer: int,
    threshold: int,
    members: Sequence[Member],
    signing_private_raw32: bytes,
    rng: Callable[[int], bytes],
) -> dict[str, Any]:
    """Dealer ``dealer``'s signed dealing ``{"dealing": {...}, "signature": b64url}``
    (§14.3): k commitments, the proof of knowledge, n sealed shares (itself included)."""
    coefficients = [group.scalar_to_int(group.random_scalar(rng)) for _ in range(threshold)]
    commitments = [group.base_mul(group.scalar_from_int(a)) for a in coefficients]
    shares = []
    for j, member in enumerate(map(_member, members), start=1):
        box = x25519.X25519PublicKey.from_public_bytes(b64url_decode(member.box_key))
        plaintext = group.scalar_from_int(_poly(coefficients, j))
        sealed = SUITE.encrypt(plaintext, box, info=share_info(ceremony, dealer, j))
        shares.append({"sealed": b64url_encode(sealed), "to": j})
    dealing = {
        "ceremony": ceremony.hex(),
        "commitments": [b64url_encode(c) for c in commitments],
        "dealer": dealer,
        "pok": make_pok(ceremony, dealer, group.scalar_from_int(coefficients[0]), rng),
        "shares": shares,
    }
    signature = _signing_key(signing_private_raw32).sign(dealing_message(dealing))
    return {"dealing": dealing, "signature": b64url_encode(signature)}


def verify_signature(public_b64: str, signature_b64: object, message: bytes) -> bool:
    """Whether ``signature_b64`` is the Ed25519 signature of ``message`` by ``public_b64``."""
    try:
        if not isinstance(signature_b64, str):
            return False
        key = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(public_b64))
        key.verify(b64url_decode(signature_b64), message)
    except (CanonicalError, InvalidSignature, ValueError):
        return False
    return True


def _commitments(dealing: Mapping[str, Any]) -> list[group.Point]:
    return [group.check_point(b64url_decode(c), "commitment") for c in dealing["commitments"]]


def check_dealing(
    ceremony: bytes, signed: Mapping[str, Any], threshold: int, members: Sequence[Member]
) -> None:
    """Accept a signed dealing or raise ``DealingRejected`` naming its dealer (§14.3):
    the shape, the ceremony, the dealer's signature, k valid commitments, the proof of
    knowledge and n sealed shares addressed 1..n."""
    n = len(members)
    dealing = signed.get("dealing") if isinstance(signed, Mapping) else None
    dealer = dealing.get("dealer") if isinstance(dealing, Mapping) else None
    if not isinstance(dealing, Mapping) or not isinstance(dealer, int) or not 1 <= dealer <= n:
        raise DealingRejected(0, "the dealing does not name a dealer of this ceremony")
    if set(signed) != {"dealing", "signature"} or set(dealing) != {
        "ceremony", "commitments", "dealer", "pok", "shares"
    }:  # fmt: skip
        raise DealingRejected(dealer, "the dealing's fields are not the ones of §14.3")
    if dealing["ceremony"] != ceremony.hex():
        raise DealingRejected(dealer, "the dealing belongs to another ceremony")
    try:
        message = dealing_message(dealing)
    except CanonicalError as exc:
        raise DealingRejected(dealer, f"the dealing is not canonical JSON: {exc.detail}") from None
    signer = _member(members[dealer - 1])
    if not verify_signature(signer.signing_key, signed["signature"], message):
        raise DealingRejected(dealer, "the dealing's signature does not verify")
    raw = dealing["commitments"]
    if not isinstance(raw, list) or len(raw) != threshold:
        raise DealingRejected(dealer, f"a dealing has {threshold} commitments")
    try:
        commitments = _commitments(dealing)
    except (CanonicalError, GroupError, TypeError):
        raise DealingRejected(dealer, "a commitment is not a point of the group") from None
    if not isinstance(dealing["pok"], Mapping) or set(dealing["pok"]) != {"commitment", "response"}:
        raise DealingRejected(dealer, "the proof of knowledge is malformed")
    if not check_pok(ceremony, dealer, commitments[0], dealing["pok"]):
        raise DealingRejected(dealer, "the proof of knowledge does not verify")
    shares = dealing["shares"]
    if not isinstance(shares, list) or len(shares) != n:
        raise DealingRejected(dealer, f"a dealing has a share for each of the {n} members")
    for j, share in enumerate(shares, start=1):
        if not isinstance(share, Mapping) or set(share) != {"sealed", "to"} or share["to"] != j:
            raise DealingRejected(dealer, f"share {j} is not addressed to member {j}")
        try:
            ok = len(b64url_decode(share["sealed"])) == SEALED_SHARE_LENGTH
        except (CanonicalError, TypeError):
            ok = False
        if not ok:
            raise DealingRejected(dealer, f"the share for member {j} is malformed")


def _in_order(signed_dealings: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    ordered = sorted(signed_dealings, key=lambda s: int(s["dealing"]["dealer"]))
    dealers = [int(s["dealing"]["dealer"]) for s in ordered]
    if dealers != list(range(1, len(ordered) + 1)):
        raise DealingRejected(0, "the dealings are not one from each dealer 1..n")
    return ordered


def _expected_share(commitments: Sequence[group.Point], j: int) -> group.Point:
    return group.linear_combination(
        (pow(j, power, group.L), c) for power, c in enumerate(commitments)
    )


def open_my_shares(
    ceremony: bytes,
    signed_dealings: Sequence[Mapping[str, Any]],
    me: int,
    box_private_raw32: bytes,
    threshold: int,
    members: Sequence[Member],
) -> group.Scalar:
    """Member ``me``'s key share ``s_me = Σ_i f_i(me)`` after checking every dealing
    (``check_dealing``) and every share sent to ``me`` against its dealer's commitments
    (``f_i(me)·B == Σ_l me^l·C_il``); a share that fails raises ``ShareRejected``."""
    if not 1 <= me <= len(members):
        raise ShareRejected(0, f"member {me} is not a member of this ceremony")
    if len(signed_dealings) != len(members):
        raise DealingRejected(0, f"the ceremony needs a dealing from each of the {len(members)}")
    for signed in signed_dealings:
        check_dealing(ceremony, signed, threshold, members)
    box = x25519.X25519PrivateKey.from_private_bytes(box_private_raw32)
    total = 0
    for signed in _in_order(signed_dealings):
        dealing = signed["dealing"]
        dealer = int(dealing["dealer"])
        sealed = b64url_decode(dealing["shares"][me - 1]["sealed"])
        try:
            plaintext = SUITE.decrypt(sealed, box, info=share_info(ceremony, dealer, me))
        except (InvalidTag, ValueError):
            raise ShareRejected(dealer, "the share sent to this member does not open") from None
        try:
            share = group.check_scalar(plaintext, "share")
            matches = group.base_mul(share) == _expected_share(_commitments(dealing), me)
        except GroupError:
            matches = False
        if not matches:
            raise ShareRejected(dealer, "the share does not match the dealer's commitments")
        total += group.scalar_to_int(share)
    return group.scalar_from_int(total)


def transcript(signed_dealings: Sequence[Mapping[str, Any]]) -> str:
    """Hex ``SHA-256("veche/trustee/transcript/v1\\n" || canonical([signed dealings
    in dealer order]))``: what every acknowledgement signs."""
    ordered = [dict(s) for s in _in_order(signed_dealings)]
    return hashlib.sha256(TRANSCRIPT_DOMAIN + canonical_bytes(ordered)).hexdigest()


def joint_key(signed_dealings: Sequence[Mapping[str, Any]]) -> group.Point:
    """``P = Σ_i C_i0``: the election's joint key (its X25519 form seals the ballots)."""
    return group.linear_combination((1, _commitments(s["dealing"])[0]) for s in signed_dealings)


def public_share(signed_dealings: Sequence[Mapping[str, Any]], j: int) -> group.Point:
    """``P_j = Σ_i Σ_l j^l·C_il``: member ``j``'s public share, from commitments only."""
    terms = [
        (pow(j, power, group.L), c)
        for s in signed_dealings
        for power, c in enumerate(_commitments(s["dealing"]))
    ]
    return group.linear_combination(terms)


def ack_message(ack: Mapping[str, Any]) -> bytes:
    """``"veche/trustee/ack/v1\\n" || canonical(ack)``: what a member signs."""
    return ACK_DOMAIN + canonical_bytes(dict(ack))


def make_ack(
    ceremony: bytes,
    me: int,
    signed_dealings: Sequence[Mapping[str, Any]],
    key_share: group.Scalar,
    signing_private_raw32: bytes,
) -> dict[str, Any]:
    """Member ``me``'s signed acknowledgement ``{"ack": {...}, "signature": b64url}``."""
    ack = {
        "ceremony": ceremony.hex(),
        "public_share": b64url_encode(group.base_mul(key_share)),
        "transcript": transcript(signed_dealings),
        "trustee": me,
    }
    signature = _signing_key(signing_private_raw32).sign(ack_message(ack))
    return {"ack": ack, "signature": b64url_encode(signature)}


def check_ack(
    ceremony: bytes,
    signed_ack: Mapping[str, Any],
    signed_dealings: Sequence[Mapping[str, Any]],
    members: Sequence[Member],
) -> None:
    """Accept a signed acknowledgement or raise ``AckRejected`` naming the member: the
    ceremony, the transcript of these dealings, the public share recomputed from the
    commitments, the member's signature."""
    ack = signed_ack.get("ack") if isinstance(signed_ack, Mapping) else None
    trustee = ack.get("trustee") if isinstance(ack, Mapping) else None
    if not isinstance(ack, Mapping) or not isinstance(trustee, int):
        raise AckRejected(0, "the acknowledgement does not name a member")
    if not 1 <= trustee <= len(members):
        raise AckRejected(0, "the acknowledgement does not name a member of this ceremony")
    if set(signed_ack) != {"ack", "signature"} or set(ack) != {
        "ceremony", "public_share", "transcript", "trustee"
    }:  # fmt: skip
        raise AckRejected(trustee, "the acknowledgement's fields are not the ones of §14.4")
    if ack["ceremony"] != ceremony.hex():
        raise AckRejected(trustee, "the acknowledgement belongs to another ceremony")
    if ack["transcript"] != transcript(signed_dealings):
        raise AckRejected(trustee, "the acknowledgement is of another transcript")
    try:
        expected = b64url_encode(public_share(signed_dealings, trustee))
    except GroupError:  # the identity: no key share has it as its public share
        expected = ""
    if ack["public_share"] != expected:
        raise AckRejected(trustee, "the public share is not the one the commitments give")
    try:
        message = ack_message(ack)
    except CanonicalError as exc:
        raise AckRejected(trustee, exc.detail) from None
    if not verify_signature(
        _member(members[trustee - 1]).signing_key, signed_ack["signature"], message
    ):
        raise AckRejected(trustee, "the acknowledgement's signature does not verify")


def manifest_trustees(
    ceremony: bytes,
    threshold: int,
    members: Sequence[Member],
    signed_dealings: Sequence[Mapping[str, Any]],
    signed_acks: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The manifest's ``trustees`` block (§14.5) from a complete ceremony, every dealing
    and acknowledgement checked (one of each per member)."""
    n = len(members)
    if len(signed_dealings) != n:
        raise DealingRejected(0, f"the ceremony needs a dealing from each of the {n} members")
    for signed in signed_dealings:
        check_dealing(ceremony, signed, threshold, members)
    dealings = _in_order(signed_dealings)
    acks: dict[int, Mapping[str, Any]] = {}
    for signed_ack in signed_acks:
        check_ack(ceremony, signed_ack, dealings, members)
        acks[int(signed_ack["ack"]["trustee"])] = signed_ack
    missing = [j for j in range(1, n + 1) if j not in acks]
    if missing or len(signed_acks) != n:
        raise AckRejected(missing[0] if missing else 0, "every member acknowledges once")
    return {
        "members": [
            {
                **members_json([member])[0],
                "ack_signature": acks[j]["signature"],
                "commitments": list(dealings[j - 1]["dealing"]["commitments"]),
                "pok": dict(dealings[j - 1]["dealing"]["pok"]),
                "public_share": acks[j]["ack"]["public_share"],
            }
            for j, member in enumerate(members, start=1)
        ],
        "threshold": threshold,
        "transcript": transcript(dealings),
    }
