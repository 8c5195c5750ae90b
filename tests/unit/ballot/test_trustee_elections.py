"""A trustee election from its log (docs/protocol.md §14), and an operator who lies.

The operator holds the authority key, the election's RSA key and the database, but not
the trustees' keys nor the joint key's scalar until k trustees release their shares.
Each test forges what such an operator could write; ``veche verify``'s election checks
(``ballot.core.verify``) must name it.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from audit.core.canonical import b64url_encode, canonical_bytes
from audit.core.entry import EntryKinds, build_entry, parse_entry
from audit.core.errors import EntryRejected
from ballot.core import blind, group, kinds, record, seal
from ballot.core.config import parse_config
from ballot.core.errors import ManifestRejected
from ballot.core.manifest import build_manifest, manifest_dict, manifest_hash, sign_manifest
from ballot.core.verify import check_elections, election_entries, summary_lines
from tests.strategies.ballot import seeded_rng
from tests.strategies.ballot_manifest import base_config
from tests.support.operator import DURING, OPENED_AT, Voter, of_kind
from tests.support.trustees import CLOSED_AT, TrusteeElection, chain, entry_of

PARK = {"approve": ["park"]}
LIBRARY = {"approve": ["library"]}
NONCE = b64url_encode(bytes(16))


@pytest.fixture(name="election", scope="module")
def fx_election() -> TrusteeElection:
    return TrusteeElection.open(seeded_rng(b"trustee election"), threshold=2, n=3)


@pytest.fixture(name="voters", scope="module")
def fx_voters(election: TrusteeElection) -> list[Voter]:
    return [election.voter() for _ in range(4)]


def out_of_limits(election: TrusteeElection, voter: Voter, counter: int = 1) -> dict[str, Any]:
    """A ballot whose sealed choices name a project the ballot does not have."""
    plaintext = b'{"choices":{"approve":["zoo"]},"nonce":"' + NONCE.encode() + b'"}'
    return election.raw_ballot(voter, plaintext, counter)


def failures(lines: list[bytes]) -> list[tuple[int | None, str]]:
    return [(f.seq, f.code) for f in check_elections(lines, workers=1).failures]


@pytest.fixture(name="casts", scope="module")
def fx_casts(election: TrusteeElection, voters: list[Voter]) -> list[dict[str, Any]]:
    a, b, c, d = voters
    return [
        a.ballot(PARK, 1),
        b.ballot(LIBRARY, 1),
        out_of_limits(election, c),
        d.ballot(PARK, 1),
        out_of_limits(election, d, 2),  # d's newest is spoiled: d counts nothing
    ]


def test_an_honest_trustee_election_verifies(
    election: TrusteeElection, casts: list[dict[str, Any]]
) -> None:
    assert election.manifest.v == 3 and election.manifest.lot_commitment is msgspec.UNSET
    assert election.manifest.sealing_key == b64url_encode(election.ceremony.sealing_key)
    lines = election.publish(election.entries(casts, release=[3, 1]))
    report = check_elections(lines, workers=1)
    assert report.failures == []
    (summary,) = report.elections
    assert summary.status == "tallied" and summary.counted == 2 and summary.superseded == 1
    # Ballots at seq 7..11 (genesis, opening, 5 credentials come first).
    assert summary.spoiled == [
        {"seq": 9, "code": "unknown_project"},
        {"seq": 11, "code": "unknown_project"},
    ]
    assert summary.trustees == {"threshold": 2, "members": 3, "released": [1, 3]}
    result = msgspec.json.decode(lines[-1])["body"]
    assert result["spoiled"] == [
        {"code": "unknown_project", "seq": 9},
        {"code": "unknown_project", "seq": 11},
    ]
    assert result["counted"] == 2
    text = "\n".join(summary_lines(report))
    assert "2 of 3 needed; key shares released by: 1, 3" in text
    assert "ballots spoiled:        2" in text
    assert "trustees" in report.to_json()["elections"][0]


def test_a_ballot_sealed_to_another_key_is_spoiled(
    election: TrusteeElection, voters: list[Voter]
) -> None:
    # A broken client sealed to some other key: the ballot is signed and well formed, so
    # the server took it without reading it; at the count it does not open.
    _private, other_key = seal.generate_keypair()
    plaintext = b'{"choices":{"approve":["park"]},"nonce":"' + NONCE.encode() + b'"}'
    stray = election.raw_ballot(voters[0], plaintext, sealing_key=other_key)
    lines = election.publish(election.entries([stray, voters[1].ballot(PARK)], release=[1, 2]))
    report = check_elections(lines, workers=1)
    assert report.failures == []
    assert report.elections[0].spoiled == [{"seq": 4, "code": "bad_seal"}]
    assert report.elections[0].counted == 1


def test_fewer_than_k_key_shares_open_nothing(
    election: TrusteeElection, casts: list[dict[str, Any]]
) -> None:
    lines = chain(election.entries(casts, release=[2]))
    assert failures(lines) == [(12, "not_unsealed")]  # the close
    records, _ = record.gather(election_entries(lines))
    with pytest.raises(ManifestRejected, match="not been published"):
        record.count(records[election.hash])


def test_a_forged_key_share_is_named(
    election: TrusteeElection, casts: list[dict[str, Any]]
) -> None:
    entries = election.entries(casts, release=[1, 3])
    at = of_kind(entries, kinds.ELECTION_KEY_SHARE)[1]
    forged = copy.deepcopy(entries[at])
    # The operator logs a share of its choosing under trustee 2's name (it cannot sign it).
    forged["body"].update(trustee=2, key_share=b64url_encode(group.random_scalar(os.urandom)))
    entries.insert(at, forged)
    lines = chain(entries)
    found = failures(lines)
    assert (at, "bad_key_share") in found
    report = check_elections(lines, workers=1)
    detail = next(f.detail for f in report.failures if f.code == "bad_key_share")
    assert "trustee 2" in detail


def test_a_true_share_signed_by_another_trustee_is_named(
    election: TrusteeElection, casts: list[dict[str, Any]]
) -> None:
    from ballot.core import threshold

    entries = election.entries(casts, release=[1, 3])
    # Trustee 1 signs a share that is not its own (a trustee lying, not the operator).
    wrong = group.scalar_from_int(group.scalar_to_int(election.ceremony.key_shares[1]) + 1)
    ident = election.ceremony.identities[0]
    body = threshold.sign_key_share(election.hash, 1, wrong, ident.signing_private)
    at = of_kind(entries, kinds.ELECTION_KEY_SHARE)[0]
    entries[at] = {**entries[at], "body": body}
    report = check_elections(chain(entries), workers=1)
    codes = [(f.seq, f.code) for f in report.failures]
    assert (at, "bad_key_share") in codes
    assert any("trustee 1" in f.detail and "committed" in f.detail for f in report.failures)


def test_a_wrong_sealing_scalar_is_named(
    election: TrusteeElection, casts: list[dict[str, Any]]
) -> None:
    entries = election.entries(casts, release=[1, 2])
    at = of_kind(entries, kinds.ELECTION_UNSEALED)[0]
    s = group.random_scalar(os.urandom)
    entries[at] = {
        **entries[at],
        "body": {**entries[at]["body"], "sealing_scalar": b64url_encode(s)},
    }
    found = failures(chain(entries))
    assert (at, "wrong_sealing_key") in found
    assert any(code == "not_unsealed" for _seq, code in found)


def test_a_scalar_published_before_k_shares_is_named(
    election: TrusteeElection, casts: list[dict[str, Any]]
) -> None:
    # The scalar is right -- so somebody had k shares -- but only one was released.
    entries = election.entries(casts, release=[1], unseal=False)
    s = election.scalar([1, 2])
    body = {"election": election.hash, "sealing_scalar": b64url_encode(s)}
    entries.append({**entries[-1], "kind": kinds.ELECTION_UNSEALED, "body": body})
    found = failures(chain(entries))
    assert (len(entries) - 1, "unsealed_without_shares") in found


def test_a_manifest_whose_sealing_key_is_not_the_joint_key_is_named(
    election: TrusteeElection, voters: list[Voter]
) -> None:
    # The operator opens the election with its own X25519 key in place of the joint
    # key, keeping the trustees' block: it could read every ballot as it arrives.
    _private, public = seal.generate_keypair()
    forged = msgspec.structs.replace(election.manifest, sealing_key=b64url_encode(public))
    rogue = TrusteeElection(
        election.rsa_private, election.authority, forged, manifest_hash(forged), election.ceremony
    )
    assert sign_manifest(rogue.authority, forged)
    lines = chain(rogue.entries([], release=[1, 2]))
    assert (1, "wrong_sealing_key") in failures(lines)
    assert manifest_dict(forged)["trustees"] == election.ceremony.block


def test_a_manifest_with_a_forged_ceremony_is_named(election: TrusteeElection) -> None:
    block = copy.deepcopy(election.ceremony.block)
    block["members"][2]["public_share"] = block["members"][0]["public_share"]
    forged = msgspec.structs.replace(
        election.manifest, trustees=msgspec.convert(block, type(election.manifest.trustees))
    )
    rogue = TrusteeElection(
        election.rsa_private, election.authority, forged, manifest_hash(forged), election.ceremony
    )
    report = check_elections(chain(rogue.entries([], release=[])), workers=1)
    (failure,) = [f for f in report.failures if f.code == "bad_ack"]
    assert failure.seq == 1 and "trustee 3" in failure.detail


def test_a_lot_secret_not_derived_from_the_scalar_is_named(
    election: TrusteeElection, casts: list[dict[str, Any]]
) -> None:
    entries = election.entries(casts, release=[1, 2])
    lines = election.publish(entries, lot_secret=b64url_encode(os.urandom(32)))
    assert (len(lines) - 1, "bad_lot_secret") in failures(lines)


def test_a_result_that_counts_a_spoiled_ballot_is_named(
    election: TrusteeElection, casts: list[dict[str, Any]]
) -> None:
    # The operator publishes a result that lists no spoiled ballot and one more counted.
    entries = election.entries(casts, release=[1, 2])
    lines = election.publish(entries, spoiled=[], counted=3)
    report = check_elections(lines, workers=1)
    (failure,) = [f for f in report.failures if f.code == "result_mismatch"]
    assert "spoiled is []" in failure.detail and "counted is 3" in failure.detail


def test_a_result_without_its_spoiled_list_is_named(
    election: TrusteeElection, casts: list[dict[str, Any]]
) -> None:
    entries = election.entries(casts, release=[1, 2])
    honest = election.publish(entries)
    body = msgspec.json.decode(honest[-1])["body"]
    del body["spoiled"]
    result = msgspec.convert(body, kinds.ResultPublished)
    body["signature"] = kinds.sign_result(election.authority, result)
    lines = chain(
        [
            *[msgspec.json.decode(line) for line in honest[:-1]],
            {**msgspec.json.decode(honest[-1]), "body": body},
        ]
    )
    assert (len(lines) - 1, "result_mismatch") in failures(lines)


def test_a_key_share_before_the_close_is_named(
    election: TrusteeElection, casts: list[dict[str, Any]]
) -> None:
    entries = election.entries(casts, release=[1, 2])
    close = of_kind(entries, kinds.ELECTION_CLOSED)[0]
    share = entries.pop(close + 1)
    entries.insert(close, share)
    assert (close, "key_share_while_open") in failures(chain(entries))


# --- the new bodies in the log (docs/protocol.md §4.8, §4.9, §14.6) ------------------------


ENTRY_KINDS = EntryKinds(kinds.ELECTION_KINDS)
KEY = b64url_encode(bytes(32))
HASH = "ab" * 32


def entry(kind: str, body: dict[str, Any]) -> bytes:
    return build_entry(1, "ab" * 32, "2027-03-15T20:00:01Z", kind, body, ENTRY_KINDS)


def test_an_unsealing_carries_exactly_one_key() -> None:
    old = {"election": HASH, "sealing_private_key": KEY}
    line = entry(kinds.ELECTION_UNSEALED, old)
    assert parse_entry(line, ENTRY_KINDS).encode() == line  # older logs read back unchanged
    assert b"sealing_scalar" not in line
    entry(kinds.ELECTION_UNSEALED, {"election": HASH, "sealing_scalar": KEY})
    for body in ({"election": HASH}, {**old, "sealing_scalar": KEY}):
        with pytest.raises(EntryRejected):
            entry(kinds.ELECTION_UNSEALED, body)
    with pytest.raises(EntryRejected):  # never written as null
        value = msgspec.json.decode(line)
        value["body"]["sealing_scalar"] = None
        parse_entry(canonical_bytes(value), ENTRY_KINDS)


@pytest.mark.parametrize("trustee", [0, 17, True, "1"])
def test_a_key_share_names_a_trustee_number(trustee: object) -> None:
    body = {"election": HASH, "key_share": KEY, "signature": "A" * 86, "trustee": trustee}
    with pytest.raises(EntryRejected):
        entry(kinds.ELECTION_KEY_SHARE, body)


def test_a_result_lists_spoiled_ballots_only_when_it_has_the_member(
    election: TrusteeElection, casts: list[dict[str, Any]]
) -> None:
    lines = election.publish(election.entries(casts, release=[1, 2]))
    body = msgspec.json.decode(lines[-1])["body"]
    line = entry(kinds.RESULT_PUBLISHED, body)
    assert parse_entry(line, ENTRY_KINDS).encode() == line
    with pytest.raises(EntryRejected):
        entry(kinds.RESULT_PUBLISHED, {**body, "spoiled": [{"code": "Bad Code", "seq": 1}]})
    without = {k: v for k, v in body.items() if k != "spoiled"}
    assert b"spoiled" not in entry(kinds.RESULT_PUBLISHED, without)


def test_without_revoting_a_spoiled_ballot_is_the_credentials_one_ballot() -> None:
    election = TrusteeElection.open(seeded_rng(b"no revoting"), threshold=1, n=2, revoting=False)
    a, b = election.voter(), election.voter()
    casts = [out_of_limits(election, a), a.ballot(PARK, 2), b.ballot(LIBRARY)]
    lines = chain(election.entries(casts, release=[2]))
    records, _ = record.gather(election_entries(lines))
    count = record.count(records[election.hash])
    assert [(p.seq, p.code) for p in count.spoiled] == [(5, "unknown_project")]
    assert [(p.seq, p.code) for p in count.rejected] == [(6, "revote_not_allowed")]
    assert [seq for seq, *_rest in count.counted] == [7]
    assert count.credentials == 2


def test_a_spoiled_list_in_an_election_without_trustees_is_named() -> None:
    rng = seeded_rng(b"plain")
    authority = ed25519.Ed25519PrivateKey.from_private_bytes(rng(32))
    rsa_private = blind.generate_private_key(1024)
    sealing_private, sealing_public = seal.generate_keypair(rng)
    config = msgspec.structs.replace(parse_config(base_config()), rsa_key_bits=1024)
    lot = rng(32)
    manifest = build_manifest(
        config, rsa_private.public_key(), sealing_public, lot,
        authority.public_key().public_bytes_raw(), OPENED_AT, allow_test_keys=True,
    )  # fmt: skip
    digest = manifest_hash(manifest)
    opened = {
        "manifest": manifest_dict(manifest),
        "manifest_hash": digest,
        "signature": sign_manifest(authority, manifest),
    }
    unsealed = {"election": digest, "sealing_private_key": b64url_encode(sealing_private)}
    closed = {"checkpoint_root": "00" * 32, "checkpoint_size": 0, "election": digest}
    entries = [
        entry_of("log.genesis", {}, DURING),
        entry_of(kinds.ELECTION_OPENED, opened, DURING),
        entry_of(kinds.ELECTION_CLOSED, closed, CLOSED_AT),
        entry_of(kinds.ELECTION_UNSEALED, unsealed, CLOSED_AT),
    ]
    rec = record.gather(election_entries(chain(entries)))[0][digest]
    counted = record.count(rec)
    body = record.result_body(rec, counted, record.compute_outcome(rec, counted, lot), lot)
    assert "spoiled" not in body
    for extra, expected in (({}, []), ({"spoiled": []}, [(4, "result_mismatch")])):
        forged = {**body, **extra, "signature": "A" * 86}
        forged["signature"] = kinds.sign_result(
            authority, msgspec.convert(forged, kinds.ResultPublished)
        )
        lines = chain([*entries, entry_of(kinds.RESULT_PUBLISHED, forged, CLOSED_AT)])
        assert failures(lines) == expected
