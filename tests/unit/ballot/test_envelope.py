"""The ballot envelope and the pure checks of casting (docs/protocol.md, "Casting").

Each refusal has its own code, and the checks run in the order of docs/protocol.md,
"Casting": election, window, token, signature, seal, choices.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

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
    ballot_digest,
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

    def open(self, config: ElectionConfig, version: Literal[1, 2] = 2) -> Manifest:
        config = msgspec.structs.replace(config, rsa_key_bits=TEST_KEY_BITS)
        return build_manifest(
            config,
            self.rsa_private.public_key(),
            self.sealing_public,
            bytes(32),
            bytes(32),
            OPENED_AT,
            allow_test_keys=True,
            version=version,
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

# docs/protocol.md §7.10: the same envelope as a version-2 ballot, the credential's third.
GOLDEN_BALLOT_V2 = msgspec.structs.replace(GOLDEN_BALLOT, counter=3, v=2)
GOLDEN_SIGNATURE_V2 = (
    "1gvQQxKALJrtO_aeAocrZHwukHDEgy2WJ1Rek898g77NZgHxki3I7AM95JGFIGmSdTAOiq3QwlNansp_92UUDA"
)


def test_golden_ballot_of_version_2(voter: ed25519.Ed25519PrivateKey) -> None:
    assert ballot_bytes(GOLDEN_BALLOT_V2) == (
        b'{"counter":3,"credential":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",'
        b'"election":"' + b"ab" * 32 + b'","sealed":"c2VhbGVk",'
        b'"token":{"prefix":"' + b"A" * 43 + b'","signature":"c2lnbmF0dXJl"},"v":2}'
    )
    signature = sign_ballot(voter, GOLDEN_BALLOT_V2)
    assert signature == GOLDEN_SIGNATURE_V2
    # Version 2 is signed under its own domain, so no version-1 signature carries over.
    voter.public_key().verify(
        b64url_decode(signature), b"veche/ballot/v2\n" + ballot_bytes(GOLDEN_BALLOT_V2)
    )
    verify_ballot_signature(GOLDEN_BALLOT_V2, signature)
    with pytest.raises(BallotRejected) as caught:
        verify_ballot_signature(GOLDEN_BALLOT_V2, GOLDEN_SIGNATURE)
    assert caught.value.code == "bad_signature"
    assert ballot_digest(GOLDEN_BALLOT_V2, signature) == GOLDEN_DIGEST_V2


GOLDEN_DIGEST_V2 = "4dcda3d3f2733e9212fea8f92c20cc144a17cb2e1203c46b2461c844637bf537"


def test_parse_ballot_round_trips_and_is_strict() -> None:
    data = msgspec.json.decode(ballot_bytes(GOLDEN_BALLOT))
    assert parse_ballot(data) == GOLDEN_BALLOT
    data_v2 = msgspec.json.decode(ballot_bytes(GOLDEN_BALLOT_V2))
    assert parse_ballot(data_v2) == GOLDEN_BALLOT_V2
    assert ballot_json(parse_ballot(data_v2)) == data_v2
    for bad in (
        {**data, "extra": 1},
        {k: v for k, v in data.items() if k != "sealed"},
        {**data, "election": "AB" * 32},
        {**data, "credential": data["credential"] + "A"},
        {**data, "sealed": "c2VhbGVk="},
        {**data, "token": {"prefix": "A" * 43}},
        [data],
        # version 2: both "counter" and "v": 2, or neither
        {**data, "v": 2},
        {**data, "counter": 1},
        {**data_v2, "v": 1},
        {**data_v2, "v": 3},
        {**data_v2, "counter": 0},
        {**data_v2, "counter": -1},
        {**data_v2, "counter": "1"},
        {**data_v2, "counter": True},
        {**data_v2, "counter": 2**53},
        {**data, "counter": None, "v": None},
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
    """What a client that skips the checks could send: any plaintext, sealed (bound to
    its credential) and signed as the credential's first ballot."""
    election = manifest_hash(manifest)
    credential = voter.public_key().public_bytes_raw()
    sealed = seal.seal(
        b64url_decode(manifest.sealing_key), bytes.fromhex(election), plaintext, credential
    )
    ballot = Ballot(
        counter=1,
        credential=b64url_encode(credential),
        election=election,
        sealed=b64url_encode(sealed),
        token=BallotToken(**voter_token),
        v=2,
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
    credential = voter.public_key().public_bytes_raw()
    foreign = seal.seal(
        authority.sealing_public, bytes.fromhex(manifest_hash(other)), plaintext, credential
    )
    ballot = msgspec.structs.replace(good[0], sealed=b64url_encode(foreign))
    refused("bad_seal", authority, manifest, ballot, sign_ballot(voter, ballot))


def test_a_seal_copied_under_another_credential_does_not_open(
    authority: Authority,
    manifest: Manifest,
    voter: ed25519.Ed25519PrivateKey,
    good: tuple[Ballot, str],
) -> None:
    # The attacker holds a credential of its own (a token the server signed for it) and
    # copies the voter's sealed choices, public in the log, into its own ballot.
    attacker = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    copied = Ballot(
        counter=1,
        credential=b64url_encode(attacker.public_key().public_bytes_raw()),
        election=good[0].election,
        sealed=good[0].sealed,
        token=BallotToken(**authority.issue(manifest, attacker)),
        v=2,
    )
    # Every other check passes: the token and the signature are the attacker's own.
    assert cast(authority, manifest, copied, sign_ballot(attacker, copied), unseal=False) is None
    refused("bad_seal", authority, manifest, copied, sign_ballot(attacker, copied))
    # Sealed without the credential (the version-1 context) it does not open either.
    plaintext = canonical_bytes(
        {"choices": {"approve": ["park"]}, "nonce": b64url_encode(bytes(16))}
    )
    unbound = seal.seal(authority.sealing_public, bytes.fromhex(good[0].election), plaintext)
    loose = msgspec.structs.replace(good[0], sealed=b64url_encode(unbound))
    refused("bad_seal", authority, manifest, loose, sign_ballot(voter, loose))


def test_a_ballot_of_the_other_version_is_refused(
    authority: Authority,
    manifest: Manifest,
    voter: ed25519.Ed25519PrivateKey,
    voter_token: token.Token,
    good: tuple[Ballot, str],
) -> None:
    # A version-1 ballot (no counter, seal bound to the election only) in an election
    # of manifest version 2: refused before anything else is looked at.
    old_manifest = authority.open(parse_config(base_config()), version=1)
    old_ballot, old_signature = make_ballot(
        old_manifest, voter, authority.issue(old_manifest, voter), {"approve": ["park"]}, os.urandom
    )
    assert old_ballot.v is None and old_ballot.counter is None
    assert cast(authority, old_manifest, old_ballot, old_signature) == ApprovalChoices(("park",))
    as_new = msgspec.structs.replace(old_ballot, election=manifest_hash(manifest))
    refused("wrong_ballot_version", authority, manifest, as_new, sign_ballot(voter, as_new))
    # ... and a version-2 ballot in an election of version 1.
    as_old = msgspec.structs.replace(good[0], election=manifest_hash(old_manifest))
    refused("wrong_ballot_version", authority, old_manifest, as_old, sign_ballot(voter, as_old))


def test_make_ballot_numbers_the_ballot(
    authority: Authority,
    manifest: Manifest,
    voter: ed25519.Ed25519PrivateKey,
    voter_token: token.Token,
) -> None:
    first, _ = make_ballot(manifest, voter, voter_token, {"approve": ["park"]}, os.urandom)
    assert (first.v, first.counter) == (2, 1)
    fifth, signature = make_ballot(
        manifest, voter, voter_token, {"approve": ["park"]}, os.urandom, counter=5
    )
    assert fifth.counter == 5
    assert cast(authority, manifest, fifth, signature) == ApprovalChoices(("park",))
    # The counter is signed: changing it breaks the signature.
    refused(
        "bad_signature", authority, manifest, msgspec.structs.replace(fifth, counter=6), signature
    )
    for bad in (0, -1, 2**53, True, "2"):
        with pytest.raises(BallotRejected) as caught:
            make_ballot(
                manifest,
                voter,
                voter_token,
                {"approve": ["park"]},
                os.urandom,
                counter=bad,  # type: ignore[arg-type]
            )
        assert caught.value.code == "malformed_ballot"


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
    refused_entry(kinds.BALLOT_CAST, {**body, "ballot": {**body["ballot"], "counter": 0}})
    unnumbered = {k: v for k, v in body["ballot"].items() if k != "counter"}
    refused_entry(kinds.BALLOT_CAST, {**body, "ballot": unnumbered})


def test_version_1_ballots_read_back_unchanged() -> None:
    # A ballot.cast of a log written before version 2: no "counter", no "v".
    body = {"ballot": ballot_json(GOLDEN_BALLOT), "signature": GOLDEN_SIGNATURE}
    data = build_entry(1, PREV, AT, kinds.BALLOT_CAST, body, ENTRY_KINDS)
    assert b'"counter"' not in data and b'"v":2' not in data
    assert parse_entry(data, ENTRY_KINDS).encode() == data
    # Explicit nulls are not the same bytes: refused.
    nulls = {
        "ballot": {**body["ballot"], "counter": None, "v": None},
        "signature": body["signature"],
    }
    entry = {"at": AT, "body": nulls, "kind": kinds.BALLOT_CAST, "prev": PREV, "seq": 1, "v": 1}
    with pytest.raises(EntryRejected):
        parse_entry(canonical_bytes(entry), ENTRY_KINDS)


def test_credential_closing_and_unsealing(authority: Authority) -> None:
    election = "ab" * 32
    entry_round_trip(kinds.CREDENTIAL_ISSUED, {"election": election, "commitment": "cd" * 32})
    refused_entry(
        kinds.CREDENTIAL_ISSUED, {"election": election, "commitment": "cd" * 32, "voter": "Ivan"}
    )
    closed = {"election": election, "checkpoint_size": 1234, "checkpoint_root": "ef" * 32}
    entry_round_trip(kinds.ELECTION_CLOSED, closed)
    refused_entry(kinds.ELECTION_CLOSED, {**closed, "checkpoint_size": -1})
    # An early close carries its reason; a close without one is written without it.
    early = entry_round_trip(kinds.ELECTION_CLOSED, {**closed, "reason": "Flooding: polls moved"})
    assert isinstance(early, kinds.ElectionClosed)
    assert early.reason == "Flooding: polls moved"
    data = build_entry(1, PREV, AT, kinds.ELECTION_CLOSED, closed, ENTRY_KINDS)
    assert b'"reason"' not in data
    for bad in ("", " padded", "x" * 501, "line\nbreak", "bell\x07", 5):
        refused_entry(kinds.ELECTION_CLOSED, {**closed, "reason": bad})
    # "reason": null is not how a close without a reason is written: refused when read.
    entry = {"at": AT, "kind": kinds.ELECTION_CLOSED, "prev": PREV, "seq": 1, "v": 1}
    with pytest.raises(EntryRejected):
        parse_entry(canonical_bytes({**entry, "body": {**closed, "reason": None}}), ENTRY_KINDS)
    entry_round_trip(kinds.ELECTION_CLOSED, {**closed, "reason": "я" * 500})
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
