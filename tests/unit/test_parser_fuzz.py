"""Fuzzing every parser that reads outside input: whatever the bytes, the answer is the
parse or the parser's own typed error — never another exception, never a hang. A refusal
names its reason (a machine code and a sentence); a parse is what the parser's own
writer gives back, byte for byte, wherever Veche has one encoding for a value."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.core.canonical import b64url_encode, canonical_bytes, decode_canonical
from audit.core.checkpoint import Checkpoint
from audit.core.entry import LOG_KINDS, EntryKinds, parse_entry
from audit.core.errors import AuditError
from audit.core.note import parse_note, parse_verifier_key, verifier_key
from ballot.core.ballot import ballot_json, parse_ballot
from ballot.core.choices import BallotRejected, parse_sealed_plaintext
from ballot.core.config import parse_config
from ballot.core.errors import BallotCryptoError, ManifestRejected
from ballot.core.manifest import parse_manifest
from tally.errors import TallyError
from tally.pabulib import read_pb, write_pb

KINDS = EntryKinds(LOG_KINDS)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

T = TypeVar("T")
R = TypeVar("R")


def parsed(parse: Callable[[T], R], data: T, *refusals: type[Exception]) -> R | None:
    """The parse of ``data``, or None when the parser refused it with its own error,
    which must say why: a machine code and a human sentence."""
    try:
        return parse(data)
    except refusals as exc:
        error: Any = exc
        assert isinstance(error.code, str) and error.code, repr(exc)
        assert isinstance(error.detail, str) and error.detail.strip(), repr(exc)
        return None


# Bytes that look like the real thing often enough to get past the first checks.
json_ish = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
noisy_bytes = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=300).map(str.encode),
    json_ish.map(lambda v: repr(v).replace("'", '"').encode()),
)


@FUZZ
@given(noisy_bytes)
def test_canonical_json_and_entries(data: bytes) -> None:
    value = parsed(decode_canonical, data, AuditError)
    if value is not None:
        assert canonical_bytes(value) == data
    entry = parsed(lambda line: parse_entry(line, KINDS), data, AuditError)
    if entry is not None:
        assert entry.encode() == data


b64 = st.one_of(
    st.binary(max_size=80).map(lambda raw: base64.b64encode(raw).decode()),
    st.text(alphabet="ABCabc012+/=", max_size=12),
)
names = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n"), max_size=12)
checkpoint_ish = st.builds(
    lambda origin, size, root, extensions: "".join(
        line + "\n" for line in (origin, size, root, *extensions)
    ),
    names,
    st.one_of(st.integers(0, 2**64).map(str), st.text(alphabet="0123456789-x ", max_size=4)),
    st.one_of(st.binary(min_size=32, max_size=32).map(lambda r: base64.b64encode(r).decode()), b64),
    st.lists(names, max_size=2),
)
note_ish = st.builds(
    lambda text, signatures: text + "\n" + "".join(f"— {n} {s}\n" for n, s in signatures),
    checkpoint_ish,
    st.lists(st.tuples(names, b64), max_size=3),
)
key_ish = st.one_of(
    st.builds(lambda name, key: f"{name}+{'0' * 8}+{key}", names, b64),
    st.builds(
        lambda name, key: verifier_key(name, key) if name and "+" not in name else name,
        st.text(alphabet="abcxyz.-/", max_size=12),
        st.binary(min_size=32, max_size=32),
    ),
)


@FUZZ
@given(st.one_of(st.text(max_size=400), checkpoint_ish, note_ish, key_ish))
def test_notes_keys_and_checkpoints(text: str) -> None:
    note = parsed(parse_note, text, AuditError)
    if note is not None:
        assert note.render() == text
    key = parsed(parse_verifier_key, text, AuditError)
    if key is not None:
        assert verifier_key(key.name, key.public_key) == text
    checkpoint = parsed(Checkpoint.parse, text, AuditError)
    if checkpoint is not None:
        assert checkpoint.to_body() == text


PB_HEAD = "META\nkey;value\nbudget;1000\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
# Whole files of a few projects and votes, right or a little wrong.
pb_ish = st.builds(
    lambda projects, votes: (
        PB_HEAD
        + "".join(f"{project};{cost}\n" for project, cost in projects)
        + "VOTES\nvoter_id;vote\n"
        + "".join(f"{voter};{','.join(chosen)}\n" for voter, chosen in votes)
    ).encode(),
    st.lists(st.tuples(st.sampled_from(["p1", "p2", "p3", ""]), st.integers(-5, 2000)), max_size=4),
    st.lists(
        st.tuples(
            st.text(alphabet="v12", max_size=3),
            st.lists(st.sampled_from(["p1", "p2", "p3", "x"]), max_size=3),
        ),
        max_size=4,
    ),
)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=600),
        st.text(max_size=300).map(lambda t: (PB_HEAD + t).encode()),
        pb_ish,
    )
)
def test_pabulib_files(data: bytes) -> None:
    pf = parsed(read_pb, data, TallyError)
    if pf is not None:
        # Writing the file back loses nothing the parse kept; what the parse warned
        # about (a vote naming a project twice) is written once and so read cleanly.
        again = read_pb(write_pb(pf))
        assert again.warnings == []
        assert msgspec.structs.replace(again, warnings=pf.warnings) == pf


@FUZZ
@given(json_ish)
def test_ballots_configs_manifests_and_seals(value: object) -> None:
    ballot = parsed(parse_ballot, value, BallotCryptoError, ManifestRejected, BallotRejected)
    if ballot is not None:
        assert parse_ballot(ballot_json(ballot)) == ballot
    for parse in (parse_config, parse_manifest):
        parsed(parse, value, BallotCryptoError, ManifestRejected, BallotRejected)
    data = repr(value).encode()
    opened = parsed(parse_sealed_plaintext, data, BallotCryptoError, BallotRejected)
    if opened is not None:
        choices, nonce = opened
        assert canonical_bytes({"choices": choices, "nonce": b64url_encode(nonce)}) == data
