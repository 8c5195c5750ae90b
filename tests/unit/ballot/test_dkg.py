"""The trustees' key ceremony (docs/protocol.md §14.2-§14.5): a whole ceremony, and every
forged piece refused naming the trustee at fault."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.core.canonical import b64url_decode, b64url_encode
from ballot.core import dkg, dkg_verify, group, threshold
from ballot.core.errors import AckRejected, DealingRejected, ShareRejected
from ballot.core.trustees import ManifestTrustees
from tests.strategies.ballot import seeded_rng
from tests.support.trustees import Ceremony, run_ceremony

PROPERTY_SETTINGS = settings(max_examples=15, deadline=None)


@pytest.fixture(name="ceremony", scope="module")
def fx_ceremony() -> Ceremony:
    return run_ceremony(seeded_rng(b"dkg"), "city-2026", threshold=2, n=3)


def resign_dealing(c: Ceremony, signed: dict[str, Any]) -> dict[str, Any]:
    dealer = signed["dealing"]["dealer"]
    key = ed25519.Ed25519PrivateKey.from_private_bytes(c.identities[dealer - 1].signing_private)
    signature = key.sign(dkg.dealing_message(signed["dealing"]))
    return {"dealing": signed["dealing"], "signature": b64url_encode(signature)}


def test_the_ceremony_gives_a_joint_key_nobody_dealt(ceremony: Ceremony) -> None:
    rebuilt = threshold.reconstruct({1: ceremony.key_shares[1], 3: ceremony.key_shares[3]})
    assert group.base_mul(rebuilt) == ceremony.joint_key
    for j, share in ceremony.key_shares.items():
        assert group.base_mul(share) == dkg.public_share(ceremony.dealings, j)
    block = msgspec.convert(ceremony.block, ManifestTrustees, strict=True)
    assert dkg_verify.check_manifest_trustees("city-2026", block) == ceremony.joint_key
    assert [m["public_share"] for m in ceremony.block["members"]] == [
        b64url_encode(group.base_mul(ceremony.key_shares[j])) for j in (1, 2, 3)
    ]


def test_the_ceremony_id_binds_election_threshold_and_members(ceremony: Ceremony) -> None:
    members = ceremony.members
    base = dkg.ceremony_id("city-2026", 2, members)
    assert base == ceremony.ceremony and len(base) == 32
    assert dkg.ceremony_id("city-2027", 2, members) != base
    assert dkg.ceremony_id("city-2026", 3, members) != base
    assert dkg.ceremony_id("city-2026", 2, members[::-1]) != base
    assert dkg.ceremony_id("city-2026", 2, dkg.members_json(members)) == base


def test_the_transcript_does_not_depend_on_the_order_given(ceremony: Ceremony) -> None:
    assert dkg.transcript(ceremony.dealings[::-1]) == dkg.transcript(ceremony.dealings)


def test_a_forged_dealing_signature_is_refused_naming_the_dealer(ceremony: Ceremony) -> None:
    forged = copy.deepcopy(ceremony.dealings[1])
    forged["signature"] = ceremony.dealings[0]["signature"]
    with pytest.raises(DealingRejected) as caught:
        dkg.check_dealing(ceremony.ceremony, forged, 2, ceremony.members)
    assert caught.value.dealer == 2 and caught.value.code == "bad_dealing"


def test_a_dealing_of_another_ceremony_is_refused(ceremony: Ceremony) -> None:
    other = dkg.ceremony_id("other", 2, ceremony.members)
    with pytest.raises(DealingRejected, match="another ceremony"):
        dkg.check_dealing(other, ceremony.dealings[0], 2, ceremony.members)


def test_a_forged_proof_of_knowledge_is_refused(ceremony: Ceremony) -> None:
    forged = copy.deepcopy(ceremony.dealings[2])
    z = group.scalar_to_int(b64url_decode(forged["dealing"]["pok"]["response"]))
    forged["dealing"]["pok"]["response"] = b64url_encode(group.scalar_from_int(z + 1))
    with pytest.raises(DealingRejected, match="proof of knowledge") as caught:
        dkg.check_dealing(ceremony.ceremony, resign_dealing(ceremony, forged), 2, ceremony.members)
    assert caught.value.dealer == 3


def test_a_copied_commitment_without_its_secret_fails_the_proof(ceremony: Ceremony) -> None:
    # A dealer who copies another's constant commitment cannot prove knowledge of it:
    # the proof is bound to the dealer's number.
    forged = copy.deepcopy(ceremony.dealings[1])
    forged["dealing"]["commitments"][0] = ceremony.dealings[0]["dealing"]["commitments"][0]
    forged["dealing"]["pok"] = ceremony.dealings[0]["dealing"]["pok"]
    with pytest.raises(DealingRejected, match="proof of knowledge"):
        dkg.check_dealing(ceremony.ceremony, resign_dealing(ceremony, forged), 2, ceremony.members)


def test_a_wrong_number_of_commitments_or_shares_is_refused(ceremony: Ceremony) -> None:
    few = copy.deepcopy(ceremony.dealings[0])
    few["dealing"]["commitments"] = few["dealing"]["commitments"][:1]
    with pytest.raises(DealingRejected, match="2 commitments"):
        dkg.check_dealing(ceremony.ceremony, resign_dealing(ceremony, few), 2, ceremony.members)
    bad_point = copy.deepcopy(ceremony.dealings[0])
    bad_point["dealing"]["commitments"][1] = b64url_encode(group.IDENTITY)
    with pytest.raises(DealingRejected, match="not a point"):
        dkg.check_dealing(
            ceremony.ceremony, resign_dealing(ceremony, bad_point), 2, ceremony.members
        )
    swapped = copy.deepcopy(ceremony.dealings[0])
    shares = swapped["dealing"]["shares"]
    shares[0], shares[1] = shares[1], shares[0]
    with pytest.raises(DealingRejected, match="addressed"):
        dkg.check_dealing(ceremony.ceremony, resign_dealing(ceremony, swapped), 2, ceremony.members)


def test_a_tampered_commitment_is_caught_by_the_share_check(ceremony: Ceremony) -> None:
    # The dealer signs commitments that do not match the shares it sent: each receiving
    # member refuses its share, naming the dealer.
    forged = copy.deepcopy(ceremony.dealings[0])
    c1 = group.check_point(b64url_decode(forged["dealing"]["commitments"][1]), "c")
    forged["dealing"]["commitments"][1] = b64url_encode(
        group.add(c1, group.base_mul(b"\x01" + bytes(31)))
    )
    dealings = [resign_dealing(ceremony, forged), *ceremony.dealings[1:]]
    dkg.check_dealing(ceremony.ceremony, dealings[0], 2, ceremony.members)  # well-formed
    ident = ceremony.identities[1]
    with pytest.raises(ShareRejected, match="commitments") as caught:
        dkg.open_my_shares(ceremony.ceremony, dealings, 2, ident.box_private, 2, ceremony.members)
    assert caught.value.dealer == 1 and caught.value.code == "bad_share"


def test_a_share_sealed_to_another_member_does_not_open(ceremony: Ceremony) -> None:
    forged = copy.deepcopy(ceremony.dealings[2])
    shares = forged["dealing"]["shares"]
    shares[0]["sealed"] = shares[1]["sealed"]  # member 2's share, addressed to member 1
    dealings = [*ceremony.dealings[:2], resign_dealing(ceremony, forged)]
    ident = ceremony.identities[0]
    with pytest.raises(ShareRejected, match="does not open") as caught:
        dkg.open_my_shares(ceremony.ceremony, dealings, 1, ident.box_private, 2, ceremony.members)
    assert caught.value.dealer == 3


def test_a_forged_ack_is_refused_naming_the_member(ceremony: Ceremony) -> None:
    wrong_share = copy.deepcopy(ceremony.acks[1])
    wrong_share["ack"]["public_share"] = ceremony.acks[0]["ack"]["public_share"]
    with pytest.raises(AckRejected, match="public share") as caught:
        dkg.check_ack(ceremony.ceremony, wrong_share, ceremony.dealings, ceremony.members)
    assert caught.value.trustee == 2
    bad_sig = copy.deepcopy(ceremony.acks[2])
    bad_sig["signature"] = ceremony.acks[0]["signature"]
    with pytest.raises(AckRejected, match="signature") as caught:
        dkg.check_ack(ceremony.ceremony, bad_sig, ceremony.dealings, ceremony.members)
    assert caught.value.trustee == 3
    other = copy.deepcopy(ceremony.acks[0])
    other["ack"]["transcript"] = "00" * 32
    with pytest.raises(AckRejected, match="transcript"):
        dkg.check_ack(ceremony.ceremony, other, ceremony.dealings, ceremony.members)


def test_the_manifest_block_needs_every_ack(ceremony: Ceremony) -> None:
    with pytest.raises(AckRejected) as caught:
        dkg.manifest_trustees(
            ceremony.ceremony, 2, ceremony.members, ceremony.dealings, ceremony.acks[:2]
        )
    assert caught.value.trustee == 3


@pytest.mark.parametrize(
    ("field", "error", "named"),
    [
        ("pok", DealingRejected, 2),
        # A changed higher commitment moves every public share: the first member whose
        # signed public share no longer follows from the commitments is named.
        ("commitment", AckRejected, 1),
        ("public_share", AckRejected, 2),
        ("ack_signature", AckRejected, 2),
    ],
)
def test_a_verifier_names_the_member_of_a_forged_manifest_block(
    ceremony: Ceremony, field: str, error: type[Exception], named: int
) -> None:
    block = copy.deepcopy(ceremony.block)
    member = block["members"][1]
    other = block["members"][0]
    if field == "pok":
        member["pok"] = other["pok"]
    elif field == "commitment":
        member["commitments"][1] = other["commitments"][1]
    elif field == "public_share":
        member["public_share"] = other["public_share"]
    else:
        member["ack_signature"] = other["ack_signature"]
    parsed = msgspec.convert(block, ManifestTrustees, strict=True)
    with pytest.raises(error) as caught:
        dkg_verify.check_manifest_trustees("city-2026", parsed)
    assert caught.value.trustee == named


@PROPERTY_SETTINGS
@given(
    seed=st.binary(min_size=8, max_size=8),
    n=st.integers(min_value=1, max_value=5),
    data=st.data(),
)
def test_any_k_shares_rebuild_the_joint_secret(seed: bytes, n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=1, max_value=n))
    c = run_ceremony(seeded_rng(seed), "poll", threshold=k, n=n)
    first = data.draw(st.sets(st.integers(1, n), min_size=k, max_size=k))
    second = data.draw(st.sets(st.integers(1, n), min_size=k, max_size=n))
    s1 = threshold.reconstruct({j: c.key_shares[j] for j in first})
    s2 = threshold.reconstruct({j: c.key_shares[j] for j in second})
    assert s1 == s2
    assert group.base_mul(s1) == c.joint_key


@PROPERTY_SETTINGS
@given(
    seed=st.binary(min_size=8, max_size=8),
    other=st.integers(min_value=1, max_value=group.L - 1),
    data=st.data(),
)
def test_fewer_than_k_shares_are_consistent_with_any_secret(
    seed: bytes, other: int, data: st.DataObject
) -> None:
    n = 4
    k = data.draw(st.integers(min_value=2, max_value=n))
    c = run_ceremony(seeded_rng(seed), "poll", threshold=k, n=n)
    known = sorted(data.draw(st.sets(st.integers(1, n), min_size=k - 1, max_size=k - 1)))
    missing = next(j for j in range(1, n + 1) if j not in known)
    # The polynomial of degree k - 1 through (0, other) and the k - 1 known shares...
    points = {0: other, **{j: group.scalar_to_int(c.key_shares[j]) for j in known}}
    xs = sorted(points)
    value = 0
    for xj in xs:
        term = points[xj]
        for xm in xs:
            if xm != xj:
                term = term * (missing - xm) * pow(xj - xm, -1, group.L) % group.L
        value = (value + term) % group.L
    # ...gives a share at a missing member that, with them, rebuilds ``other``.
    shares = {j: c.key_shares[j] for j in known} | {missing: group.scalar_from_int(value)}
    assert threshold.reconstruct(shares) == group.scalar_from_int(other)


def flip(text: str, bit: int) -> str:
    raw = bytearray(b64url_decode(text))
    raw[bit // 8 % len(raw)] ^= 1 << (bit % 8)
    return b64url_encode(bytes(raw))


@settings(max_examples=25, deadline=None)
@given(
    dealer=st.integers(min_value=1, max_value=3),
    field=st.sampled_from(["commitment0", "commitment1", "pok_r", "pok_z", "share", "signature"]),
    to=st.integers(min_value=1, max_value=3),
    bit=st.integers(min_value=0, max_value=255),
)
def test_any_tampered_dealing_is_caught_and_blames_its_dealer(
    ceremony: Ceremony, dealer: int, field: str, to: int, bit: int
) -> None:
    forged = copy.deepcopy(ceremony.dealings[dealer - 1])
    d = forged["dealing"]
    if field.startswith("commitment"):
        index = int(field[-1])
        d["commitments"][index] = flip(d["commitments"][index], bit)
    elif field == "pok_r":
        d["pok"]["commitment"] = flip(d["pok"]["commitment"], bit)
    elif field == "pok_z":
        d["pok"]["response"] = flip(d["pok"]["response"], bit)
    elif field == "share":
        d["shares"][to - 1]["sealed"] = flip(d["shares"][to - 1]["sealed"], bit)
    else:
        forged["signature"] = flip(forged["signature"], bit)
    if field != "signature":
        forged = resign_dealing(ceremony, forged)  # the dealer itself cheats
    dealings = [forged if i == dealer - 1 else s for i, s in enumerate(ceremony.dealings)]
    with pytest.raises((DealingRejected, ShareRejected)) as caught:
        for signed in dealings:
            dkg.check_dealing(ceremony.ceremony, signed, 2, ceremony.members)
        for j, ident in enumerate(ceremony.identities, start=1):
            dkg.open_my_shares(
                ceremony.ceremony, dealings, j, ident.box_private, 2, ceremony.members
            )
    assert caught.value.trustee == dealer
