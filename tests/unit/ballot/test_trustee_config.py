"""An election's trustees in its configuration and manifest (docs/protocol.md §14.2,
§14.5): every problem named with its field, in words that have a Russian translation."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest

from ballot.core.choices import BallotRejected
from ballot.core.config import has_trustees, parse_config
from ballot.core.config_checks import validate_config
from ballot.core.errors import ManifestRejected
from ballot.core.manifest import build_manifest, manifest_dict, parse_manifest
from kernel.i18n import translate
from tests.strategies.ballot import seeded_rng
from tests.strategies.ballot_manifest import base_config
from tests.support.operator import OPENED_AT
from tests.support.trustees import TrusteeElection, make_identities


@pytest.fixture(name="election", scope="module")
def fx_election() -> TrusteeElection:
    return TrusteeElection.open(seeded_rng(b"config"), threshold=2, n=3)


def trustees_config(**block: Any) -> dict[str, Any]:
    ids = make_identities(seeded_rng(b"ids"), 3)
    members = [
        {"name": i.member.name, "signing_key": i.member.signing_key, "box_key": i.member.box_key}
        for i in ids
    ]
    return base_config(trustees={"threshold": 2, "members": members, **block})


def problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in validate_config(parse_config(data))]


def test_a_trustees_block_is_read_and_checked() -> None:
    config = parse_config(trustees_config())
    assert has_trustees(config) and not has_trustees(parse_config(base_config()))
    assert validate_config(config) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda b: b.update(threshold=0), ("trustees.threshold", "bad_threshold")),
        (lambda b: b.update(threshold=4), ("trustees.threshold", "bad_threshold")),
        (lambda b: b.update(members=[]), ("trustees.members", "bad_trustees")),
        (
            lambda b: b["members"][1].update(name=" "),
            ("trustees.members[1].name", "bad_trustee_name"),
        ),
        (
            lambda b: b["members"][1].update(name="x" * 101),
            ("trustees.members[1].name", "bad_trustee_name"),
        ),
        (
            lambda b: b["members"][2].update(box_key="AAAA"),
            ("trustees.members[2].box_key", "bad_key"),
        ),
        (
            lambda b: b["members"][2].update(signing_key=b["members"][0]["signing_key"]),
            ("trustees.members[2].signing_key", "duplicate_trustee_key"),
        ),
    ],
)
def test_a_bad_trustees_block_is_named(change: Any, expected: tuple[str, str]) -> None:
    data = trustees_config()
    change(data["trustees"])
    found = problems(data)
    assert expected in found
    detail = next(p.detail for p in validate_config(parse_config(data)) if p.code == expected[1])
    assert translate("ru", detail) != detail  # a Russian sentence exists


def test_seventeen_trustees_are_too_many() -> None:
    ids = make_identities(seeded_rng(b"many"), 17)
    members = [msgspec.to_builtins(i.member) for i in ids]
    assert ("trustees.members", "bad_trustees") in problems(
        base_config(trustees={"threshold": 2, "members": members})
    )


def test_an_unknown_field_in_the_block_is_refused() -> None:
    data = trustees_config(extra=1)
    with pytest.raises(ManifestRejected) as caught:
        parse_config(data)
    assert caught.value.field == "trustees.extra"


def test_the_manifest_is_of_version_3_without_a_lot_commitment(election: TrusteeElection) -> None:
    data = manifest_dict(election.manifest)
    assert data["v"] == 3 and "lot_commitment" not in data
    assert data["trustees"] == election.ceremony.block
    assert parse_manifest(data, allow_test_keys=True) == election.manifest
    with_lot = {**data, "lot_commitment": "00" * 32}
    with pytest.raises(ManifestRejected) as caught:
        parse_manifest(with_lot, allow_test_keys=True)
    assert caught.value.code == "bad_lot_commitment"
    as_v2 = {**data, "v": 2}
    with pytest.raises(ManifestRejected) as caught:
        parse_manifest(as_v2, allow_test_keys=True)
    assert caught.value.code == "bad_manifest_version"


def test_opening_needs_the_ceremony_of_the_configured_trustees(election: TrusteeElection) -> None:
    config = parse_config(trustees_config())
    config = msgspec.structs.replace(config, rsa_key_bits=1024)
    key = election.rsa_private.public_key()
    args = (config, key, None, None, bytes(32), OPENED_AT)
    with pytest.raises(ManifestRejected, match="ceremony"):
        build_manifest(*args, allow_test_keys=True)
    with pytest.raises(ManifestRejected, match="not of the configured trustees"):
        build_manifest(*args, allow_test_keys=True, trustees=election.ceremony.block)
    with pytest.raises(ManifestRejected, match="lot secret"):
        build_manifest(
            config, key, None, bytes(32), bytes(32), OPENED_AT,
            allow_test_keys=True, trustees=election.ceremony.block,
        )  # fmt: skip


def test_opening_refuses_a_forged_ceremony(election: TrusteeElection) -> None:
    data = base_config(id=election.manifest.id, trustees=election.ceremony.config_block)
    config = msgspec.structs.replace(parse_config(data), rsa_key_bits=1024)
    block = copy.deepcopy(election.ceremony.block)
    block["members"][0]["pok"] = block["members"][1]["pok"]
    with pytest.raises(Exception, match="proof of knowledge"):
        build_manifest(
            config, election.rsa_private.public_key(), None, None, bytes(32), OPENED_AT,
            allow_test_keys=True, trustees=block,
        )  # fmt: skip
    with pytest.raises(ManifestRejected, match="joint key"):
        build_manifest(
            config, election.rsa_private.public_key(), bytes(32), None, bytes(32), OPENED_AT,
            allow_test_keys=True, trustees=election.ceremony.block,
        )  # fmt: skip


def test_the_client_seals_a_version_2_ballot_and_never_an_out_of_limit_one(
    election: TrusteeElection,
) -> None:
    voter = election.voter()
    body = voter.ballot({"approve": ["park"]})
    assert body["ballot"]["v"] == 2 and body["ballot"]["counter"] == 1
    with pytest.raises(BallotRejected):
        voter.ballot({"approve": ["zoo"]})
    with pytest.raises(BallotRejected):
        voter.ballot({"approve": []})
