"""The ballot envelope and the pure checks of casting (docs/protocol.md, "Casting").

Each refusal has its own code, and the checks run in the order of docs/protocol.md,
"Casting": election, window, token, signature, seal, choices.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.core.canonical import CanonicalError, b64url_decode, b64url_encode, canonical_bytes
from audit.core.entry import LOG_KINDS, EntryKinds, build_entry, parse_entry
from audit.core.errors import EntryRejected
from ballot.core import blind, kinds, seal, token
from ballot.core.ballot import (
    Ballot,
    BallotToken,
    ballot_bytes,
    ballot_json,
    check_ballot,
    make_ballot,
    parse_ballot,
    sign_ballot,
    verify_ballot_signature,
)
from ballot.core.choices import ApprovalChoices, BallotRejected, validate_choices
from ballot.core.config import ElectionConfig, parse_config
from ballot.core.errors import ManifestRejected
from ballot.core.kinds import ELECTION_KINDS, sign_result
from ballot.core.manifest import (
    Manifest,
    build_manifest,
    manifest_dict,
    manifest_hash,
    sign_manifest,
)
from tests.strategies.ballot import seeded_rng
from tests.strategies.ballot_manifest import (
    CODES_BY_KIND,
    KINDS,
    base_config,
    elections,
    invalid_choices,
    valid_choices,
)

ENTRY_KINDS = EntryKinds(LOG_KINDS, ELECTION_KINDS)

TEST_KEY_BITS = 1024
OPENED_AT = datetime(2027, 2, 28, 12, 0, 0, tzinfo=UTC)
OPENS = datetime(2027, 3, 1, 8, 0, 0, tzinfo=UTC)
CLOSES = datetime(2027, 3, 15, 20, 0, 0, tzinfo=UTC)
DURING = datetime(2027, 3, 5, 12, 0, 0, tzinfo=UTC)
# RFC 8032 §7.1, test 1
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")


@dataclass(frozen=True)
class Authority:
    """What the election's server holds: the RSA signing key and the sealing key."""

    rsa_private: rsa.RSAPrivateKey
    signing_key: blind.BlindSigningKey
    sealing_private: bytes
    sealing_public: bytes

    def open(self, config: ElectionConfig) -> Manifest:
        config = msgspec.structs.replace(config, rsa_key_bits=TEST_KEY_BITS)
        return build_manifest(
            config,
            self.rsa_private.public_key(),
            self.sealing_public,
            bytes(32),
            bytes(32),
            OPENED_AT,
            allow_test_keys=True,
        )

    def issue(self, manifest: Manifest, credential: ed25519.Ed25519PrivateKey) -> token.Token:
        public = self.rsa_private.public_key()
        message = token.credential_message(
            b64url_encode(credential.public_key().public_bytes_raw()), manifest_hash(manifest)
        )
        blinded, state = token.prepare_and_blind(public, message)
        return token.finalize(public, state, blind.blind_sign(self.signing_key, blinded))


@pytest.fixture(name="authority", scope="module")
def fx_authority() -> Authority:
    private = blind.generate_private_key(TEST_KEY_BITS)
    sealing_private, sealing_public = seal.generate_keypair(seeded_rng(b"sealing"))
    return Authority(
        private, blind.BlindSigningKey.from_private_key(private), sealing_private, sealing_public
    )


@pytest.fixture(name="manifest", scope="module")
def fx_manifest(authority: Authority) -> Manifest:
    return authority.open(parse_config(base_config()))


@pytest.fixture(name="voter", scope="module")
def fx_voter() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)


@pytest.fixture(name="voter_token", scope="module")
def fx_voter_token(
    authority: Authority, manifest: Manifest, voter: ed25519.Ed25519PrivateKey
) -> token.Token:
    return authority.issue(manifest, voter)


def cast(
    authority: Authority,
    manifest: Manifest,
    ballot: Ballot,
    signature: str,
    now: datetime = DURING,
    *,
    unseal: bool = True,
) -> Any:
    return check_ballot(
        manifest, ballot, signature, authority.sealing_private if unseal else None, now
    )


def refused(code: str, *args: Any, **kwargs: Any) -> None:
    with pytest.raises(BallotRejected) as caught:
        cast(*args, **kwargs)
    assert caught.value.code == code, caught.value.detail


# --- exact bytes -----------------------------------------------------------------------

GOLDEN_BALLOT = Ballot(
    credential="11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    election="ab" * 32,
    sealed="c2VhbGVk",
    token=BallotToken(prefix="A" * 43, signature="c2lnbmF0dXJl"),
)


def test_golden_ballot_bytes_and_signature(voter: ed25519.Ed25519PrivateKey) -> None:
    assert ballot_bytes(GOLDEN_BALLOT) == (
        b'{"credential":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",'
        b'"election":"' + b"ab" * 32 + b'","sealed":"c2VhbGVk",'
        b'"token":{"prefix":"' + b"A" * 43 + b'","signature":"c2lnbmF0dXJl"}}'
    )
    signature = sign_ballot(voter, GOLDEN_BALLOT)
    # Ed25519 is deterministic (RFC 8032 §5.1.6), so the signature is a known answer too.
    assert signature == GOLDEN_SIGNATURE
    voter.public_key().verify(
        b64url_decode(signature), b"veche/ballot/v1\n" + ballot_bytes(GOLDEN_BALLOT)
    )
    verify_ballot_signature(GOLDEN_BALLOT, signature)


GOLDEN_SIGNATURE = (
    "TRKQgOSecsTtwQr-6igk6zTowm2COCgVaHJyX0pgNWh7n71RJPa_Fv5snk9MtQQhdnL18mlzw5keUAKNYEzfAw"
)


def test_parse_ballot_round_trips_and_is_strict() -> None:
    data = msgspec.json.decode(ballot_bytes(GOLDEN_BALLOT))
    assert parse_ballot(data) == GOLDEN_BALLOT
    for bad in (
        {**data, "extra": 1},
        {k: v for k, v in data.items() if k != "sealed"},
        {**data, "election": "AB" * 32},
        {**data, "credential": data["credential"] + "A"},
        {**data, "sealed": "c2VhbGVk="},
        {**data, "token": {"prefix": "A" * 43}},
        [data],
    ):
        with pytest.raises(BallotRejected) as caught:
            parse_ballot(bad)
        assert caught.value.code == "malformed_ballot"


# --- casting ---------------------------------------------------------------------------


def test_a_ballot_made_by_the_client_is_accepted(
    authority: Authority,
    manifest: Manifest,
    voter: ed25519.Ed25519PrivateKey,
    voter_token: token.Token,
) -> None:
    ballot, signature = make_ballot(
        manifest, voter, voter_token, {"approve": ["park", "library"]}, os.urandom
    )
    assert cast(authority, manifest, ballot, signature) == ApprovalChoices(("park", "library"))
    assert cast(authority, manifest, ballot, signature, unseal=False) is None
    assert ballot.election == manifest_hash(manifest)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data(), kind=st.sampled_from(KINDS), seed=st.binary(min_size=8, max_size=8))
def test_valid_ballots_of_every_kind_are_cast(
    authority: Authority, data: st.DataObject, kind: str, seed: bytes
) -> None:
    manifest = authority.open(data.draw(elections(kind)))
    voter = ed25519.Ed25519PrivateKey.from_private_bytes(seeded_rng(seed)(32))
    choices = data.draw(valid_choices(manifest))
    ballot, signature = make_ballot(
        manifest, voter, authority.issue(manifest, voter), choices, seeded_rng(seed)
    )
    assert cast(authority, manifest, ballot, signature) == validate_choices(manifest, choices)


def seal_raw(
    manifest: Manifest,
    voter: ed25519.Ed25519PrivateKey,
    voter_token: token.Token,
    plaintext: bytes,
) -> tuple[Ballot, str]:
    """What a client that skips the checks could send: any plaintext, sealed and signed."""
    election = manifest_hash(manifest)
    sealed = seal.seal(b64url_decode(manifest.sealing_key), bytes.fromhex(election), plaintext)
    ballot = Ballot(
        credential=b64url_encode(voter.public_key().public_bytes_raw()),
        election=election,
        sealed=b64url_encode(sealed),
        token=BallotToken(**voter_token),
    )
    return ballot, sign_ballot(voter, ballot)


@pytest.mark.parametrize(
    ("kind", "code"), [(kind, code) for kind in KINDS for code in CODES_BY_KIND[kind]]
)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_invalid_choices_inside_the_seal_are_refused_with_their_code(
    authority: Authority, data: st.DataObject, kind: str, code: str
) -> None:
    manifest = authority.open(data.draw(elections(kind)))
    voter = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    expected, choices = data.draw(invalid_choices(manifest, code))
    try:
        plaintext = canonical_bytes({"choices": choices, "nonce": b64url_encode(bytes(16))})
    except CanonicalError:
        # Floats and the like cannot even be written as canonical JSON.
        plaintext = canonical_bytes({"choices": {"x": 1}, "nonce": b64url_encode(bytes(16))})
        expected = "malformed_choices" if isinstance(choices, dict) else "malformed_plaintext"
    if not isinstance(choices, dict):
        expected = "malformed_plaintext"  # the sealed choices must be an object
    ballot, signature = seal_raw(manifest, voter, authority.issue(manifest, voter), plaintext)
    refused(expected, authority, manifest, ballot, signature)


def test_malformed_plaintext_is_refused(
    authority: Authority,
    manifest: Manifest,
    voter: ed25519.Ed25519PrivateKey,
    voter_token: token.Token,
) -> None:
    for plaintext, code in [
        (b'{"choices": {"approve": ["park"]}}', "malformed_plaintext"),
        (b'{"choices":{"approve":["park"]},"nonce":"AAAA"}', "bad_nonce"),
        (b"", "malformed_plaintext"),
    ]:
        ballot, signature = seal_raw(manifest, voter, voter_token, plaintext)
        refused(code, authority, manifest, ballot, signature)


@pytest.fixture(name="good", scope="module")
def fx_good(
    manifest: Manifest, voter: ed25519.Ed25519PrivateKey, voter_token: token.Token
) -> tuple[Ballot, str]:
    return make_ballot(manifest, voter, voter_token, {"approve": ["park"]}, seeded_rng(b"good"))


def test_window_boundaries(
    authority: Authority, manifest: Manifest, good: tuple[Ballot, str]
) -> None:
    tick = timedelta(microseconds=1)
    refused("not_open_yet", authority, manifest, *good, OPENS - tick)
    refused("not_open_yet", authority, manifest, *good, OPENS - timedelta(seconds=1))
    park = ApprovalChoices(("park",))
    assert cast(authority, manifest, *good, OPENS) == park
    assert cast(authority, manifest, *good, CLOSES - tick) == park
    refused("closed", authority, manifest, *good, CLOSES)
    refused("closed", authority, manifest, *good, CLOSES + timedelta(days=1))
    # The same instants in another time zone.
    moscow = OPENS.astimezone(timezone(timedelta(hours=3)))
    assert cast(authority, manifest, *good, moscow) == park
    with pytest.raises(ValueError, match="timezone"):
        cast(authority, manifest, *good, OPENS.replace(tzinfo=None))


def test_the_window_is_checked_before_the_token(
    authority: Authority, manifest: Manifest, good: tuple[Ballot, str]
) -> None:
    ballot, signature = good
    forged = msgspec.structs.replace(ballot, token=BallotToken(prefix="A" * 43, signature="AAAA"))
    refused("closed", authority, manifest, forged, signature, CLOSES)
    refused("bad_token", authority, manifest, forged, signature)


def test_a_ballot_for_another_election_is_refused(
    authority: Authority, manifest: Manifest, good: tuple[Ballot, str]
) -> None:
    other = authority.open(parse_config(base_config(id="autumn-2027")))
    refused("wrong_election", authority, other, *good)


def test_a_token_for_one_election_is_refused_in_another(
    authority: Authority,
    manifest: Manifest,
    voter: ed25519.Ed25519PrivateKey,
    voter_token: token.Token,
) -> None:
    other = authority.open(parse_config(base_config(id="autumn-2027")))
    ballot, signature = make_ballot(other, voter, voter_token, {"approve": ["park"]}, os.urandom)
    refused("bad_token", authority, other, ballot, signature)
    # ... and a token of another credential in the right election.
    stranger = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    ballot, signature = make_ballot(
        manifest, stranger, voter_token, {"approve": ["park"]}, os.urandom
    )
    refused("bad_token", authority, manifest, ballot, signature)


def test_tampered_signatures_are_refused(
    authority: Authority, manifest: Manifest, good: tuple[Ballot, str]
) -> None:
    ballot, signature = good
    raw = bytearray(b64url_decode(signature))
    for i in (0, 31, 63):
        flipped = bytearray(raw)
        flipped[i] ^= 0x40
        refused("bad_signature", authority, manifest, ballot, b64url_encode(bytes(flipped)))
    for bad in ("", signature[:-1], signature + "AA", "*" * 86):
        refused("bad_signature", authority, manifest, ballot, bad)
    # Any change to the envelope breaks the credential's signature.
    sealed = bytearray(b64url_decode(ballot.sealed))
    sealed[-1] ^= 1
    changed = msgspec.structs.replace(ballot, sealed=b64url_encode(bytes(sealed)))
    refused("bad_signature", authority, manifest, changed, signature)


def test_tampered_seals_are_refused(
    authority: Authority,
    manifest: Manifest,
    voter: ed25519.Ed25519PrivateKey,
    good: tuple[Ballot, str],
) -> None:
    ballot, _ = good
    sealed = b64url_decode(ballot.sealed)
    for i in (0, 31, 32, len(sealed) - 1):
        flipped = bytearray(sealed)
        flipped[i] ^= 1
        changed = msgspec.structs.replace(ballot, sealed=b64url_encode(bytes(flipped)))
        refused("bad_seal", authority, manifest, changed, sign_ballot(voter, changed))
    for short in (b"", sealed[:47]):
        changed = msgspec.structs.replace(ballot, sealed=b64url_encode(short))
        refused("bad_seal", authority, manifest, changed, sign_ballot(voter, changed))
        refused("bad_seal", authority, manifest, changed, sign_ballot(voter, changed), unseal=False)


def test_a_seal_for_another_election_is_refused(
    authority: Authority,
    manifest: Manifest,
    voter: ed25519.Ed25519PrivateKey,
    voter_token: token.Token,
    good: tuple[Ballot, str],
) -> None:
    other = authority.open(parse_config(base_config(id="autumn-2027")))
    plaintext = canonical_bytes(
        {"choices": {"approve": ["park"]}, "nonce": b64url_encode(bytes(16))}
    )
    foreign = seal.seal(authority.sealing_public, bytes.fromhex(manifest_hash(other)), plaintext)
    ballot = msgspec.structs.replace(good[0], sealed=b64url_encode(foreign))
    refused("bad_seal", authority, manifest, ballot, sign_ballot(voter, ballot))


def test_a_malformed_credential_is_refused(
    authority: Authority, manifest: Manifest, good: tuple[Ballot, str]
) -> None:
    ballot = msgspec.structs.replace(good[0], credential="A" * 42 + "B")  # stray bits
    refused("bad_credential", authority, manifest, ballot, good[1])
    with pytest.raises(BallotRejected) as caught:
        verify_ballot_signature(ballot, good[1])
    assert caught.value.code == "bad_credential"


def test_the_server_must_hold_the_right_sealing_key(
    authority: Authority, manifest: Manifest, good: tuple[Ballot, str]
) -> None:
    with pytest.raises(ManifestRejected) as caught:
        check_ballot(manifest, *good, bytes(32), DURING)
    assert caught.value.code == "wrong_sealing_key"


def test_signing_needs_the_ballots_own_credential(good: tuple[Ballot, str]) -> None:
    other = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    with pytest.raises(BallotRejected) as caught:
        sign_ballot(other, good[0])
    assert caught.value.code == "credential_mismatch"


def test_make_ballot_refuses_invalid_choices(
    manifest: Manifest, voter: ed25519.Ed25519PrivateKey, voter_token: token.Token
) -> None:
    with pytest.raises(BallotRejected) as caught:
        make_ballot(manifest, voter, voter_token, {"approve": []}, os.urandom)
    assert caught.value.code == "too_few_projects"
    with pytest.raises(BallotRejected) as caught:
        make_ballot(manifest, voter, {"prefix": "x"}, {"approve": ["park"]}, os.urandom)
    assert caught.value.code == "bad_token"


# --- log entry kinds (ballot.kinds) ----------------------------------------------------

PREV = "11" * 32
AT = "2027-03-05T12:00:00Z"


def entry_round_trip(kind: str, body: object) -> msgspec.Struct:
    data = build_entry(1, PREV, AT, kind, body, ENTRY_KINDS)
    entry = parse_entry(data, ENTRY_KINDS)
    assert entry.kind == kind
    assert entry.encode() == data
    return entry.body


def refused_entry(kind: str, body: object) -> None:
    with pytest.raises(EntryRejected) as caught:
        build_entry(1, PREV, AT, kind, body, ENTRY_KINDS)
    assert caught.value.code == "bad_body", caught.value.detail


def test_every_election_kind_is_in_the_entries_it_reads_back() -> None:
    for kind, body in kinds.ELECTION_KINDS.items():
        assert kind in kinds.ELECTION_ENTRIES
        assert kinds.ELECTION_ENTRIES.body_type(kind) is body
    with pytest.raises(EntryRejected):  # the log's own kinds are not an election's
        kinds.ELECTION_ENTRIES.body_type("notice.published")


@pytest.fixture(name="signed_manifest", scope="module")
def fx_signed_manifest(
    authority: Authority, voter: ed25519.Ed25519PrivateKey
) -> tuple[Manifest, str]:
    config = parse_config(base_config(rsa_key_bits=TEST_KEY_BITS))
    manifest = build_manifest(
        config,
        authority.rsa_private.public_key(),
        authority.sealing_public,
        bytes(32),
        voter.public_key().public_bytes_raw(),  # the RFC 8032 key plays the authority here
        OPENED_AT,
        allow_test_keys=True,
    )
    return manifest, sign_manifest(voter, manifest)


def test_election_opened(signed_manifest: tuple[Manifest, str]) -> None:
    manifest, signature = signed_manifest
    body = {
        "manifest": manifest_dict(manifest),
        "manifest_hash": manifest_hash(manifest),
        "signature": signature,
    }
    parsed = entry_round_trip(kinds.ELECTION_OPENED, body)
    assert isinstance(parsed, kinds.ElectionOpened)
    assert parsed.manifest == manifest
    refused_entry(kinds.ELECTION_OPENED, {**body, "manifest_hash": "00" * 32})
    other_sig = b64url_encode(bytes(64))
    refused_entry(kinds.ELECTION_OPENED, {**body, "signature": other_sig})
    changed = {**manifest_dict(manifest), "budget": 99_999}
    refused_entry(kinds.ELECTION_OPENED, {**body, "manifest": changed})
    # A default left out: build_entry writes it out, but logged bytes without it are refused.
    omitted = manifest_dict(manifest)
    del omitted["revoting"]
    entry = {"at": AT, "body": {**body, "manifest": omitted}, "kind": kinds.ELECTION_OPENED}
    with pytest.raises(EntryRejected):
        parse_entry(canonical_bytes({**entry, "prev": PREV, "seq": 1, "v": 1}), ENTRY_KINDS)


def test_ballot_cast(good: tuple[Ballot, str]) -> None:
    ballot, signature = good
    body: dict[str, Any] = {"ballot": ballot_json(ballot), "signature": signature}
    parsed = entry_round_trip(kinds.BALLOT_CAST, body)
    assert parsed == kinds.BallotCast(ballot=ballot, signature=signature)
    refused_entry(kinds.BALLOT_CAST, {**body, "signature": signature[:-1]})
    refused_entry(kinds.BALLOT_CAST, {**body, "ballot": {**body["ballot"], "choices": []}})


def test_credential_closing_and_unsealing(authority: Authority) -> None:
    election = "ab" * 32
    entry_round_trip(kinds.CREDENTIAL_ISSUED, {"election": election, "commitment": "cd" * 32})
    refused_entry(
        kinds.CREDENTIAL_ISSUED, {"election": election, "commitment": "cd" * 32, "voter": "Ivan"}
    )
    entry_round_trip(
        kinds.ELECTION_CLOSED,
        {"election": election, "checkpoint_size": 1234, "checkpoint_root": "ef" * 32},
    )
    refused_entry(
        kinds.ELECTION_CLOSED,
        {"election": election, "checkpoint_size": -1, "checkpoint_root": "ef" * 32},
    )
    private = b64url_encode(authority.sealing_private)
    entry_round_trip(
        kinds.ELECTION_UNSEALED, {"election": election, "sealing_private_key": private}
    )
    refused_entry(
        kinds.ELECTION_UNSEALED, {"election": election, "sealing_private_key": private + "A"}
    )


def test_result_published_is_signed(voter: ed25519.Ed25519PrivateKey) -> None:
    unsigned = kinds.ResultPublished(
        election="ab" * 32,
        checkpoint_size=1234,
        counted=1000,
        rule="mes",
        options={"satisfaction": "cost", "completion": "add1"},
        winners=["library", "park"],
        budget=100_000,
        spent=65_000,
        scores={"park": 600, "library": 550, "bike-lane": 300},
        lot_secret=b64url_encode(bytes(32)),
        signature="",
    )
    result = msgspec.structs.replace(unsigned, signature=sign_result(voter, unsigned))
    public_raw = voter.public_key().public_bytes_raw()
    kinds.verify_result_signature(public_raw, result)
    assert kinds.result_message(result).startswith(b'veche/result/v1\n{"budget":100000,')
    assert b'"signature"' not in kinds.result_message(result)
    body = entry_round_trip(kinds.RESULT_PUBLISHED, msgspec.to_builtins(result))
    assert body == result
    with pytest.raises(ManifestRejected):
        kinds.verify_result_signature(public_raw, msgspec.structs.replace(result, spent=64_999))
    data = msgspec.to_builtins(result)
    refused_entry(kinds.RESULT_PUBLISHED, {**data, "scores": {"park": 1.5}})
    refused_entry(kinds.RESULT_PUBLISHED, {**data, "spent": 2**53})
