"""Election configurations and manifests (docs/protocol.md, "Manifest",
"Ballot kinds", "Tally").

Each inconsistency a configuration can have is refused with its own case and the field
it concerns; the manifest's canonical bytes and hash are pinned by golden values.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from audit.core.canonical import b64url_decode, b64url_encode
from ballot.core import seal
from ballot.core.config import ElectionConfig, parse_config
from ballot.core.config_checks import check_config, validate_config
from ballot.core.errors import ManifestRejected
from ballot.core.manifest import (
    Manifest,
    build_manifest,
    check_lot_secret,
    load_credential_key,
    lot_commitment,
    lot_seed,
    manifest_bytes,
    manifest_dict,
    manifest_hash,
    parse_manifest,
    sign_manifest,
    verify_manifest_signature,
)
from tests.strategies.ballot_manifest import base_config

# A fixed 2048-bit RSA public key (SPKI DER, base64url), made once for these golden values;
# its private half was never kept.
CREDENTIAL_SPKI = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAt09tfjaeaW3d7h4i5TSzP8kZl9ITWWx5"
    "PYKgTFupXBC7acr6XdxEkCr4IZiDyUGNpmZ6Sh0EKuBHJvD_mjUkswfAxM7ZSKcm9tQBcnuLYXmN"
    "fDfvDmYCn7KywLXJJ4SFKUeRw4pnI8EiWicGlAqnZXz6umvcoyq0aVpCJyCCjsVr4MJQgGR5u8Fc"
    "j0TkxEK4aAohxSJ_dn7xUXigBRUuJOTTm66wM6TvqQSUnGL5-JXxPuVVsy3KEYUo9BIcPZyBYiMd"
    "mDqP26gJWd1tko16wwxpgRfb2nGUSKf83yy3H272DNEsq2Zj4vFPSM_UrCuh7UKbXlZUeUOnTI8e"
    "aFHFXQIDAQAB"
)
# RFC 8032 §7.1, test 1
AUTHORITY_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
SEALING_PRIVATE = bytes([0x11]) * 32
LOT_SECRET = bytes(range(32))
OPENED_AT = datetime(2027, 2, 28, 12, 0, 0, 987_000, tzinfo=UTC)


def golden_credential_key() -> rsa.RSAPublicKey:
    key = serialization.load_der_public_key(b64url_decode(CREDENTIAL_SPKI))
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def authority() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(AUTHORITY_SECRET)


def golden_manifest(version: Literal[1, 2] = 1) -> Manifest:
    """The manifest of docs/protocol.md §5.11: version 1 there (its hash names the
    election of the worked examples of §6.10 and §9.8), version 2 in §7.10."""
    return build_manifest(
        parse_config(base_config()),
        golden_credential_key(),
        seal.public_key_of(SEALING_PRIVATE),
        LOT_SECRET,
        authority().public_key().public_bytes_raw(),
        OPENED_AT,
        version=version,
    )


# --- configurations that are refused, one case each ---------------------------------------

Mutate = Callable[[dict[str, Any]], None]


def setter(path: str, value: Any) -> Mutate:
    """Set ``value`` at a dotted path (``projects.1.cost``)."""

    def mutate(config: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = config
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def approval(**limits: Any) -> Mutate:
    return setter("ballot", {"kind": "approval", "min_projects": 1, "max_projects": 3, **limits})


def both(*mutations: Mutate) -> Mutate:
    def mutate(config: dict[str, Any]) -> None:
        for m in mutations:
            m(config)

    return mutate


POLL_OPTIONS = [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]


def poll(**changes: Any) -> Mutate:
    def mutate(config: dict[str, Any]) -> None:
        config.update(
            budget=0,
            currency="",
            projects=copy.deepcopy(POLL_OPTIONS),
            ballot={"kind": "choice", "min_options": 1, "max_options": 1},
            rule={"name": "plurality", "seats": 1},
        )
        config.update(changes)

    return mutate


REFUSED: list[tuple[str, Mutate, str, str]] = [
    ("budget zero", setter("budget", 0), "budget", "bad_budget"),
    ("budget negative", setter("budget", -5), "budget", "bad_budget"),
    ("cost zero", setter("projects.1.cost", 0), "projects[1].cost", "bad_cost"),
    ("cost negative", setter("projects.2.cost", -1), "projects[2].cost", "bad_cost"),
    (
        "project dearer than the budget",
        setter("projects.0.cost", 100_001),
        "projects[0].cost",
        "project_over_budget",
    ),
    ("currency lowercase", setter("currency", "rub"), "currency", "bad_currency"),
    ("currency missing", setter("currency", ""), "currency", "bad_currency"),
    ("election id", setter("id", "Spring 2027"), "id", "bad_slug"),
    ("district", setter("district", "north--east"), "district", "bad_slug"),
    ("title empty", setter("title", "  "), "title", "bad_title"),
    ("title too long", setter("title", "x" * 201), "title", "bad_title"),
    ("title control", setter("title", "a\u0007b"), "title", "bad_title"),
    ("project id", setter("projects.1.id", "Library"), "projects[1].id", "bad_slug"),
    ("project title", setter("projects.1.title", ""), "projects[1].title", "bad_title"),
    ("proposal id", setter("projects.0.proposal", "p 17"), "projects[0].proposal", "bad_proposal"),
    (
        "duplicate project ids",
        setter("projects.2.id", "park"),
        "projects[2].id",
        "duplicate_project",
    ),
    ("no projects", setter("projects", []), "projects", "too_few_projects"),
    (
        "max below min",
        approval(min_projects=3, max_projects=2),
        "ballot.max_projects",
        "max_below_min",
    ),
    ("negative min", approval(min_projects=-1), "ballot.min_projects", "bad_limit"),
    ("max zero", approval(min_projects=0, max_projects=0), "ballot.max_projects", "bad_limit"),
    (
        "max beyond projects",
        approval(max_projects=4),
        "ballot.max_projects",
        "limit_beyond_projects",
    ),
    (
        "min beyond projects",
        approval(min_projects=4, max_projects=3),
        "ballot.min_projects",
        "limit_beyond_projects",
    ),
    (
        "knapsack limit above the budget",
        approval(max_total_cost=100_001),
        "ballot.max_total_cost",
        "limit_over_budget",
    ),
    ("knapsack limit zero", approval(max_total_cost=0), "ballot.max_total_cost", "bad_limit"),
    (
        "project dearer than the knapsack limit",
        approval(max_total_cost=50_000),
        "projects[2].cost",
        "project_over_limit",
    ),
    (
        "minimum unaffordable under the knapsack limit",
        approval(min_projects=2, max_total_cost=60_000),
        "ballot.min_projects",
        "min_unaffordable",
    ),
    (
        "budget share above 100",
        approval(max_total_cost=100_000, min_budget_share=101),
        "ballot.min_budget_share",
        "bad_percentage",
    ),
    (
        "budget share without knapsack",
        approval(min_budget_share=10),
        "ballot.min_budget_share",
        "share_needs_knapsack",
    ),
    (
        "budget share above the knapsack limit",
        approval(max_total_cost=60_000, min_budget_share=61),
        "ballot.min_budget_share",
        "share_over_limit",
    ),
    (
        "budget share out of reach of max_projects",
        approval(max_projects=1, max_total_cost=100_000, min_budget_share=61),
        "ballot.min_budget_share",
        "share_unreachable",
    ),
    (
        "cumulative: max per project above the total",
        setter("ballot", {"kind": "cumulative", "total_points": 3, "max_per_project": 4}),
        "ballot.max_per_project",
        "max_over_total",
    ),
    (
        "cumulative: total out of reach",
        setter("ballot", {"kind": "cumulative", "total_points": 10, "max_per_project": 3}),
        "ballot.total_points",
        "points_unreachable",
    ),
    (
        "cumulative: no points",
        setter("ballot", {"kind": "cumulative", "total_points": 0, "max_per_project": 0}),
        "ballot.total_points",
        "bad_limit",
    ),
    (
        "ordinal: longer than the ballot",
        setter("ballot", {"kind": "ordinal", "max_length": 4}),
        "ballot.max_length",
        "limit_beyond_projects",
    ),
    (
        "ordinal: max below min",
        setter("ballot", {"kind": "ordinal", "max_length": 1, "min_length": 2}),
        "ballot.max_length",
        "max_below_min",
    ),
    (
        "MES on an ordinal ballot",
        both(
            setter("ballot", {"kind": "ordinal", "max_length": 3}), setter("rule", {"name": "mes"})
        ),
        "rule.name",
        "rule_not_for_kind",
    ),
    (
        "Phragmén on a cumulative ballot",
        both(
            setter("ballot", {"kind": "cumulative", "total_points": 3, "max_per_project": 1}),
            setter("rule", {"name": "phragmen"}),
        ),
        "rule.name",
        "rule_not_for_kind",
    ),
    (
        "Borda on an approval ballot",
        setter("rule", {"name": "borda"}),
        "rule.name",
        "rule_not_for_kind",
    ),
    (
        "plurality on an approval ballot",
        setter("rule", {"name": "plurality"}),
        "rule.name",
        "rule_not_for_kind",
    ),
    (
        "greedy on a poll",
        poll(rule={"name": "greedy"}),
        "rule.name",
        "rule_not_for_kind",
    ),
    (
        "plurality with several choices",
        poll(ballot={"kind": "choice", "min_options": 1, "max_options": 2}),
        "ballot.max_options",
        "plurality_needs_single_choice",
    ),
    (
        "poll: more options to choose than exist",
        poll(
            ballot={"kind": "choice", "min_options": 1, "max_options": 3},
            rule={"name": "approval", "seats": 1},
        ),
        "ballot.max_options",
        "limit_beyond_projects",
    ),
    ("poll with a budget", poll(budget=100), "budget", "poll_has_budget"),
    (
        "poll option with a cost",
        poll(projects=[{"id": "yes", "title": "Yes", "cost": 5}, {"id": "no", "title": "No"}]),
        "projects[0].cost",
        "poll_has_cost",
    ),
    ("poll with one option", poll(projects=POLL_OPTIONS[:1]), "projects", "too_few_projects"),
    ("poll: bad currency", poll(currency="r"), "currency", "bad_currency"),
    (
        "poll: seats beyond options",
        poll(rule={"name": "plurality", "seats": 3}),
        "rule.seats",
        "bad_seats",
    ),
    ("poll: no seats", poll(rule={"name": "plurality", "seats": 0}), "rule.seats", "bad_seats"),
    (
        "threshold zero",
        setter("rule", {"name": "greedy-threshold", "threshold": 0}),
        "rule.threshold",
        "bad_threshold",
    ),
    (
        "vote share above 100",
        setter("rule", {"name": "mes", "min_vote_share": 101}),
        "rule.min_vote_share",
        "bad_percentage",
    ),
    (
        "window ends before it starts",
        setter("window", {"opens_at": "2027-03-15T00:00:00Z", "closes_at": "2027-03-01T00:00:00Z"}),
        "window.closes_at",
        "bad_window",
    ),
    (
        "window of no length",
        setter("window", {"opens_at": "2027-03-15T00:00:00Z", "closes_at": "2027-03-15T00:00:00Z"}),
        "window.closes_at",
        "bad_window",
    ),
    (
        "time with an offset",
        setter("window.opens_at", "2027-03-01T08:00:00+03:00"),
        "window.opens_at",
        "bad_time",
    ),
    (
        "time with fractions",
        setter("window.closes_at", "2027-03-15T20:00:00.5Z"),
        "window.closes_at",
        "bad_time",
    ),
    (
        "impossible date",
        setter("window.opens_at", "2027-02-30T08:00:00Z"),
        "window.opens_at",
        "bad_time",
    ),
    (
        "nobody eligible",
        setter("eligibility", {"residents": False, "roll": False, "access_codes": False}),
        "eligibility",
        "no_eligibility",
    ),
    ("RSA key of 1024 bits", setter("rsa_key_bits", 1024), "rsa_key_bits", "bad_key_size"),
    ("RSA key of 4096 bits", setter("rsa_key_bits", 4096), "rsa_key_bits", "bad_key_size"),
    ("lone surrogate", setter("projects.0.title", "park \ud800"), "", "not_canonical"),
]


@pytest.mark.parametrize(
    ("mutate", "field", "code"), [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
def test_each_inconsistency_is_refused_with_its_field(
    mutate: Mutate, field: str, code: str
) -> None:
    data = base_config()
    mutate(data)
    config = parse_config(data)
    problems = validate_config(config)
    assert (field, code) in [(p.field, p.code) for p in problems], problems
    with pytest.raises(ManifestRejected) as caught:
        check_config(config)
    assert (caught.value.field, caught.value.code) == (problems[0].field, problems[0].code)
    assert caught.value.detail


def test_the_base_configuration_and_a_poll_are_valid() -> None:
    assert validate_config(parse_config(base_config())) == []
    data = base_config()
    poll()(data)
    assert validate_config(parse_config(data)) == []
    # A ranked poll: ordinal ballots counted by Borda, no money.
    data = base_config()
    poll(ballot={"kind": "ordinal", "max_length": 2}, rule={"name": "borda", "seats": 1})(data)
    assert validate_config(parse_config(data)) == []


def test_a_poll_rule_on_a_budgeting_ballot_names_the_rule_first() -> None:
    with pytest.raises(ManifestRejected) as caught:
        check_config(parse_config(base_config(rule={"name": "approval", "seats": 1})))
    assert (caught.value.field, caught.value.code) == ("rule.name", "rule_not_for_kind")


def test_test_keys_only_with_the_allowance() -> None:
    config = parse_config(base_config(rsa_key_bits=1024))
    assert validate_config(config, allow_test_keys=True) == []
    assert [p.field for p in validate_config(config)] == ["rsa_key_bits"]


def test_every_problem_is_listed() -> None:
    data = base_config(budget=0, currency="rub")
    data["projects"][1]["cost"] = -3
    fields = [p.field for p in validate_config(parse_config(data))]
    assert fields == ["budget", "currency", "projects[1].cost"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rule": {"name": "greedy", "satisfaction": "cost"}}, "rule.satisfaction"),
        ({"rule": {"name": "mes", "threshold": 3}}, "rule.threshold"),
        ({"rule": {"name": "greedy", "seats": 1}}, "rule.seats"),
        ({"rule": {"name": "mes", "completion": "sometimes"}}, "rule.completion"),
        ({"rule": {"name": "condorcet"}}, "rule.name"),
        ({"ballot": {"kind": "approval", "max_projects": 2}}, "ballot"),
        (
            {"ballot": {"kind": "ordinal", "max_length": 2, "total_points": 3}},
            "ballot.total_points",
        ),
        ({"budget": True}, "budget"),
        ({"budget": 1.5}, "budget"),
        ({"budget": 2**53}, "budget"),
        ({"tie_break": "coin"}, "tie_break"),
        ({"colour": "red"}, "colour"),
        ({"revoting": "yes"}, "revoting"),
    ],
)
def test_malformed_configurations_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ManifestRejected) as caught:
        parse_config(base_config(**change))
    assert caught.value.code == "malformed_config"
    assert caught.value.field == field


def test_an_option_of_another_rule_is_explained() -> None:
    with pytest.raises(
        ManifestRejected, match="'satisfaction' does not apply to the rule 'greedy'"
    ):
        parse_config(base_config(rule={"name": "greedy", "satisfaction": "cost"}))


# --- the manifest ------------------------------------------------------------------------

GOLDEN_BYTES = (
    b'{"authority_key":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",'
    b'"ballot":{"kind":"approval","max_projects":3,"max_total_cost":null,'
    b'"min_budget_share":null,"min_projects":1},"budget":100000,'
    b'"credential_key":"' + CREDENTIAL_SPKI.encode() + b'",'
    b'"currency":"RUB","district":"north",'
    b'"eligibility":{"access_codes":true,"residents":true,"roll":false},"id":"spring-2027",'
    b'"lot_commitment":"630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd",'
    b'"opened_at":"2027-02-28T12:00:00Z","projects":['
    b'{"cost":40000,"id":"park","proposal":"p-17","title":"A park by the river"},'
    b'{"cost":25000,"id":"library","proposal":null,"title":"Library hours"},'
    b'{"cost":60000,"id":"bike-lane","proposal":null,"title":"Bike lane"}],'
    b'"revoting":true,"rsa_key_bits":2048,"rule":{"name":"greedy"},'
    b'"sealing_key":"e06Qm75__kTEZaIgA31gjuNYl9Me-XLwf3SJLLD3PxM","tie_break":"cost-votes-lot",'
    b'"title":"Spring budget 2027","v":1,'
    b'"window":{"closes_at":"2027-03-15T20:00:00Z","opens_at":"2027-03-01T08:00:00Z"}}'
)
GOLDEN_HASH = "ec72ba1fc003a9a026e501436fbecf861b99b64eecd9538667b2ac0853fa94fc"
# The same election as opened now: "v":2 (its ballots carry a counter, their seals are
# bound to the credential, docs/protocol.md §7.3); the election of §7.10.
GOLDEN_BYTES_V2 = GOLDEN_BYTES.replace(b'"v":1,', b'"v":2,')
GOLDEN_HASH_V2 = "c030e113c11458770fa0665e390302363e07ea372c86a127b8656c3cad32b113"


def test_golden_manifest_bytes_and_hash() -> None:
    manifest = golden_manifest()
    assert manifest_bytes(manifest) == GOLDEN_BYTES
    assert manifest_hash(manifest) == hashlib.sha256(GOLDEN_BYTES).hexdigest() == GOLDEN_HASH
    # SHA-256 of the bytes 0x00..0x1f, a value published in many places
    assert manifest.lot_commitment == lot_commitment(LOT_SECRET)
    assert manifest.opened_at == "2027-02-28T12:00:00Z"  # sub-seconds dropped


def test_golden_manifest_of_version_2() -> None:
    manifest = golden_manifest(2)
    assert manifest.v == 2
    assert manifest_bytes(manifest) == GOLDEN_BYTES_V2 != GOLDEN_BYTES
    assert manifest_hash(manifest) == hashlib.sha256(GOLDEN_BYTES_V2).hexdigest() == GOLDEN_HASH_V2
    assert parse_manifest(json.loads(GOLDEN_BYTES_V2)) == manifest
    # What opening writes today, unless asked for the old format.
    built = build_manifest(
        parse_config(base_config()),
        golden_credential_key(),
        seal.public_key_of(SEALING_PRIVATE),
        LOT_SECRET,
        authority().public_key().public_bytes_raw(),
        OPENED_AT,
    )
    assert built == manifest


def test_rule_options_are_written_out() -> None:
    config = parse_config(base_config(rule={"name": "mes", "completion": "add1-greedy"}))
    manifest = build_manifest(
        config,
        golden_credential_key(),
        seal.public_key_of(SEALING_PRIVATE),
        LOT_SECRET,
        authority().public_key().public_bytes_raw(),
        OPENED_AT,
    )
    assert manifest_dict(manifest)["rule"] == {
        "name": "mes",
        "satisfaction": "cost",
        "completion": "add1-greedy",
        "comparison": "none",
        "min_vote_share": None,
    }


def test_manifest_signature_round_trip_and_tampering() -> None:
    manifest = golden_manifest()
    public_raw = authority().public_key().public_bytes_raw()
    sig = sign_manifest(authority(), manifest)
    verify_manifest_signature(public_raw, manifest, sig)
    # The signature covers the domain-separated canonical bytes.
    ed25519.Ed25519PublicKey.from_public_bytes(public_raw).verify(
        b64url_decode(sig), b"veche/manifest/v1\n" + GOLDEN_BYTES
    )
    tampered = msgspec.structs.replace(manifest, budget=manifest.budget + 1)
    with pytest.raises(ManifestRejected) as caught:
        verify_manifest_signature(public_raw, tampered, sig)
    assert caught.value.code == "bad_signature"
    raw = bytearray(b64url_decode(sig))
    raw[0] ^= 1
    for bad in (b64url_encode(bytes(raw)), sig[:-2], sig + "A", "!"):
        with pytest.raises(ManifestRejected) as caught:
            verify_manifest_signature(public_raw, manifest, bad)
        assert caught.value.code == "bad_signature"


def test_another_authority_is_refused() -> None:
    manifest = golden_manifest()
    other = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    with pytest.raises(ManifestRejected) as caught:
        sign_manifest(other, manifest)
    assert caught.value.code == "wrong_authority"
    sig = sign_manifest(authority(), manifest)
    with pytest.raises(ManifestRejected) as caught:
        verify_manifest_signature(other.public_key().public_bytes_raw(), manifest, sig)
    assert caught.value.code == "wrong_authority"


def test_parse_manifest_round_trips() -> None:
    manifest = golden_manifest()
    data = json.loads(GOLDEN_BYTES)
    assert parse_manifest(data) == manifest
    assert manifest_bytes(parse_manifest(data)) == GOLDEN_BYTES


def _golden_json() -> dict[str, Any]:
    value = json.loads(GOLDEN_BYTES)
    assert isinstance(value, dict)
    return value


@pytest.mark.parametrize(
    ("mutate", "code", "field"),
    [
        (lambda m: m.pop("revoting"), "malformed_manifest", ""),
        (lambda m: m["ballot"].pop("max_total_cost"), "malformed_manifest", ""),
        # Version 3 is a trustee election's (docs/protocol.md §14.5): not without trustees.
        (lambda m: m.update(v=3), "bad_manifest_version", "v"),
        (lambda m: m.update(v=4), "malformed_manifest", "v"),
        (lambda m: m.update(v=0), "malformed_manifest", "v"),
        (lambda m: m.update(extra=1), "malformed_manifest", "extra"),
        (lambda m: m.update(budget=-1), "bad_budget", "budget"),
        (lambda m: m.update(credential_key="AAAA"), "bad_credential_key", "credential_key"),
        (lambda m: m.update(rsa_key_bits=3072), "bad_credential_key", "credential_key"),
        (lambda m: m.update(sealing_key="AAAA"), "bad_key", "sealing_key"),
        (lambda m: m.update(authority_key=m["authority_key"] + "="), "bad_key", "authority_key"),
        (lambda m: m.update(lot_commitment="AB" * 32), "bad_lot_commitment", "lot_commitment"),
        (lambda m: m.update(opened_at="2027-02-28 12:00:00"), "bad_time", "opened_at"),
        (lambda m: m.update(opened_at="2027-03-15T20:00:00Z"), "opened_after_close", "opened_at"),
    ],
)
def test_parse_manifest_is_strict(
    mutate: Callable[[dict[str, Any]], object], code: str, field: str
) -> None:
    data = _golden_json()
    mutate(data)
    with pytest.raises(ManifestRejected) as caught:
        parse_manifest(data)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_load_credential_key() -> None:
    manifest = golden_manifest()
    key = load_credential_key(manifest)
    assert key.public_numbers() == golden_credential_key().public_numbers()
    # A key of another size than the manifest names is refused, even a valid one.
    with pytest.raises(ManifestRejected):
        load_credential_key(msgspec.structs.replace(manifest, rsa_key_bits=3072))
    # An Ed25519 key in SPKI form is not an RSA key.
    ed_spki = (
        authority()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ManifestRejected) as caught:
        load_credential_key(
            msgspec.structs.replace(manifest, credential_key=b64url_encode(ed_spki))
        )
    assert caught.value.code == "bad_credential_key"


def test_build_manifest_refusals(rsa_public_key: rsa.RSAPublicKey) -> None:
    config = parse_config(base_config())
    sealing = seal.public_key_of(SEALING_PRIVATE)
    auth = authority().public_key().public_bytes_raw()
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"credential_public_key": rsa_public_key}, "bad_credential_key", "credential_key"),
        ({"lot_secret": b"short"}, "bad_lot_secret", "lot_commitment"),
        ({"sealing_public_raw": b"x" * 31}, "bad_key", "sealing_key"),
        ({"authority_public_raw": b""}, "bad_key", "authority_key"),
        (
            {"opened_at": datetime(2027, 3, 15, 20, 0, 0, tzinfo=UTC)},
            "opened_after_close",
            "opened_at",
        ),
    ]
    for change, code, field in cases:
        args: dict[str, Any] = {
            "config": config,
            "credential_public_key": golden_credential_key(),
            "sealing_public_raw": sealing,
            "lot_secret": LOT_SECRET,
            "authority_public_raw": auth,
            "opened_at": OPENED_AT,
            **change,
        }
        with pytest.raises(ManifestRejected) as caught:
            build_manifest(**args)
        assert (caught.value.code, caught.value.field) == (code, field)
    with pytest.raises(ManifestRejected) as caught:
        build_manifest(
            parse_config(base_config(budget=0)),
            golden_credential_key(),
            sealing,
            LOT_SECRET,
            auth,
            OPENED_AT,
        )
    assert caught.value.field == "budget"


def test_small_keys_with_the_test_allowance(rsa_public_key: rsa.RSAPublicKey) -> None:
    config = parse_config(base_config(rsa_key_bits=1024))
    manifest = build_manifest(
        config,
        rsa_public_key,
        seal.public_key_of(SEALING_PRIVATE),
        LOT_SECRET,
        authority().public_key().public_bytes_raw(),
        OPENED_AT,
        allow_test_keys=True,
    )
    assert load_credential_key(manifest).key_size == 1024
    assert parse_manifest(manifest_dict(manifest), allow_test_keys=True) == manifest
    with pytest.raises(ManifestRejected) as caught:
        parse_manifest(manifest_dict(manifest))
    assert caught.value.field == "rsa_key_bits"


def test_lot_commitment_and_seed_known_answers() -> None:
    assert lot_commitment(b"") == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    sigs = [bytes([1]) * 64, bytes([2]) * 64]
    expected = hashlib.sha256(
        b"veche/lot/v1" + LOT_SECRET + hashlib.sha256(bytes([1]) * 64 + bytes([2]) * 64).digest()
    ).digest()
    assert lot_seed(LOT_SECRET, sigs) == expected
    assert lot_seed(LOT_SECRET, sigs).hex() == LOT_SEED_HEX
    # Order matters: the signatures are taken in log order.
    assert lot_seed(LOT_SECRET, sigs[::-1]) != expected
    assert (
        lot_seed(LOT_SECRET, [])
        == hashlib.sha256(b"veche/lot/v1" + LOT_SECRET + hashlib.sha256(b"").digest()).digest()
    )


LOT_SEED_HEX = "450f3781f9a02b926b7d88b3843db0c85e45144e4032148d3cceeac18b2b9af5"


def test_check_lot_secret() -> None:
    manifest = golden_manifest()
    check_lot_secret(manifest, LOT_SECRET)
    for bad in (bytes(32), LOT_SECRET[:-1], LOT_SECRET + b"\0"):
        with pytest.raises(ManifestRejected) as caught:
            check_lot_secret(manifest, bad)
        assert caught.value.code == "bad_lot_secret"


def test_a_manifest_is_an_election_config() -> None:
    manifest = golden_manifest()
    assert isinstance(manifest, ElectionConfig)
    assert validate_config(manifest) == []
