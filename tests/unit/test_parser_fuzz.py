"""Fuzzing every parser that reads outside input: whatever the bytes, the answer is the
parse or the parser's own typed error — never another exception, never a hang."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.core.canonical import decode_canonical
from audit.core.checkpoint import Checkpoint
from audit.core.entry import parse_entry
from audit.core.errors import AuditError
from audit.core.note import parse_note, parse_verifier_key
from ballot.core.ballot import parse_ballot
from ballot.core.choices import BallotRejected, parse_sealed_plaintext
from ballot.core.config import parse_config
from ballot.core.errors import BallotCryptoError, ManifestRejected
from ballot.core.manifest import parse_manifest
from tally.errors import TallyError
from tally.pabulib import read_pb

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

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
    for parse in (decode_canonical, parse_entry):
        with contextlib.suppress(AuditError):
            parse(data)


@FUZZ
@given(st.text(max_size=400))
def test_notes_keys_and_checkpoints(text: str) -> None:
    for parse in (parse_note, parse_verifier_key, Checkpoint.parse):
        with contextlib.suppress(AuditError):
            parse(text)


PB_HEAD = "META\nkey;value\nbudget;1000\nvote_type;approval\nPROJECTS\nproject_id;cost\n"


@FUZZ
@given(
    st.one_of(st.binary(max_size=600), st.text(max_size=300).map(lambda t: (PB_HEAD + t).encode()))
)
def test_pabulib_files(data: bytes) -> None:
    with contextlib.suppress(TallyError):
        read_pb(data)


@FUZZ
@given(json_ish)
def test_ballots_configs_manifests_and_seals(value: object) -> None:
    for parse in (parse_ballot, parse_config, parse_manifest):
        with contextlib.suppress(BallotCryptoError, ManifestRejected, BallotRejected):
            parse(value)
    with contextlib.suppress(BallotCryptoError, BallotRejected):
        parse_sealed_plaintext(repr(value).encode())
