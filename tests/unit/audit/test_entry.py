"""Entries: golden bytes, the kind registry, validation and canonical parsing."""

from __future__ import annotations

import enum
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.core.canonical import CanonicalError
from audit.core.entry import (
    GENESIS_KIND,
    LOG_KINDS,
    ZERO_HASH,
    AsciiKey,
    Count,
    Entry,
    EntryKinds,
    NoticePublished,
    SafeInt,
    build_entry,
    format_at,
    leaf_hash,
    parse_at,
    parse_entry,
)
from audit.core.errors import AuditError, EntryRejected
from tests.strategies.audit import entry_chains, genesis_body, notice_bodies, signing_key

KINDS = EntryKinds(LOG_KINDS)

AT = "2026-11-23T10:00:00Z"
NOTICE = {"title": "Road works", "text": "Lenina st. closed", "lang": "en"}


def test_golden_notice_entry() -> None:
    data = build_entry(41, "ab" * 32, AT, "notice.published", NOTICE, KINDS)
    assert data == (
        b'{"at":"2026-11-23T10:00:00Z","body":{"lang":"en","text":"Lenina st. closed",'
        b'"title":"Road works"},"kind":"notice.published","prev":"'
        + b"ab" * 32
        + b'","seq":41,"v":1}'
    )
    assert leaf_hash(data) == hashlib.sha256(b"\x00" + data).digest()
    entry = parse_entry(data, KINDS)
    assert entry == Entry(
        at=AT, body=NoticePublished(**NOTICE), kind="notice.published", prev="ab" * 32, seq=41
    )
    assert entry.encode() == data


def test_golden_genesis_entry() -> None:
    key = signing_key(0)
    body = genesis_body(key)
    data = build_entry(0, ZERO_HASH, AT, GENESIS_KIND, body, KINDS)
    assert data.startswith(b'{"at":"2026-11-23T10:00:00Z","body":{"origin":"veche.example/log",')
    assert b'"prev":"' + b"0" * 64 + b'","seq":0,"v":1}' in data
    assert parse_entry(data, KINDS).body == KINDS.validate_body(GENESIS_KIND, body)


def test_genesis_verifier_key_must_match() -> None:
    body = genesis_body(signing_key(0))
    body["verifier_key"] = genesis_body(signing_key(1))["verifier_key"]
    with pytest.raises(EntryRejected) as info:
        KINDS.validate_body(GENESIS_KIND, body)
    assert info.value.code == "bad_body"
    assert "verifier_key" in info.value.detail


def test_genesis_only_at_zero() -> None:
    body = genesis_body(signing_key(0))
    with pytest.raises(EntryRejected) as info:
        build_entry(1, "ab" * 32, AT, GENESIS_KIND, body, KINDS)
    assert info.value.code == "genesis_position"
    with pytest.raises(EntryRejected):
        build_entry(0, ZERO_HASH, AT, "notice.published", NOTICE, KINDS)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "", "text": "x", "lang": "en"}, "title"),
        ({"title": "x" * 201, "text": "x", "lang": "en"}, "title"),
        ({"title": "x", "text": "x" * 10001, "lang": "en"}, "text"),
        ({"title": "x", "text": "x", "lang": "english"}, "lang"),
        ({"title": "x", "text": "x"}, "lang"),
        ({"title": "x", "text": "x", "lang": "en", "email": "a@b.c"}, "email"),
        ({"title": 5, "text": "x", "lang": "en"}, "title"),
    ],
)
def test_bad_notice_bodies_name_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(EntryRejected) as info:
        KINDS.validate_body("notice.published", body)
    assert info.value.code == "bad_body"
    assert field in info.value.detail


def test_unknown_kind() -> None:
    with pytest.raises(EntryRejected) as info:
        build_entry(1, "ab" * 32, AT, "no.such", {}, KINDS)
    assert info.value.code == "unknown_kind"


@pytest.mark.parametrize(
    ("seq", "prev", "at", "code"),
    [
        (-1, "ab" * 32, AT, "bad_seq"),
        (2**53, "ab" * 32, AT, "bad_seq"),
        (True, "ab" * 32, AT, "bad_seq"),
        (1, "AB" * 32, AT, "bad_prev"),
        (1, "ab" * 31, AT, "bad_prev"),
        (1, ZERO_HASH, AT, "bad_prev"),
        (1, "ab" * 32, "2026-11-23T10:00:00+00:00", "bad_time"),
        (1, "ab" * 32, "2026-11-23T10:00:00.5Z", "bad_time"),
        (1, "ab" * 32, "2026-02-30T10:00:00Z", "bad_time"),
        (1, "ab" * 32, "2026-11-23t10:00:00z", "bad_time"),
    ],
)
def test_bad_headers(seq: int, prev: str, at: str, code: str) -> None:
    with pytest.raises(EntryRejected) as info:
        build_entry(seq, prev, at, "notice.published", NOTICE, KINDS)
    assert info.value.code == code


def test_format_at() -> None:
    moment = datetime(2026, 11, 23, 13, 0, 0, 999999, tzinfo=timezone(timedelta(hours=3)))
    assert format_at(moment) == AT
    assert parse_at(AT) == datetime(2026, 11, 23, 10, tzinfo=UTC)
    with pytest.raises(EntryRejected):
        format_at(datetime(2026, 1, 1))


def test_lone_surrogate_in_body_refused() -> None:
    with pytest.raises(EntryRejected) as info:
        build_entry(1, "ab" * 32, AT, "notice.published", {**NOTICE, "text": "a\ud800"}, KINDS)
    assert info.value.code == "bad_body"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            b'{"at":"2026-11-23T10:00:00Z","kind":"notice.published","prev":"'
            + b"ab" * 32
            + b'","seq":1,"v":1}',
            EntryRejected,
        ),
        (
            b'{"at":"2026-11-23T10:00:00Z","body":{"lang":"en","text":"x","title":"t"},'
            b'"kind":"notice.published","prev":"' + b"ab" * 32 + b'","seq":1,"v":2}',
            EntryRejected,
        ),
        (
            b'{"at":"2026-11-23T10:00:00Z","body":{"lang":"en","text":"x","title":"t"},'
            b'"kind":"notice.published","prev":"' + b"ab" * 32 + b'","seq":1,"v":1,"x":0}',
            EntryRejected,
        ),
        (
            b'{"at":"2026-11-23T10:00:00Z","body":{"lang":"en","text":"x","title":"t"},'
            b'"kind":"notice.published","prev":"' + b"ab" * 32 + b'","seq":1,"v":1}\n',
            CanonicalError,
        ),
        (
            b'{"at":"2026-11-23T10:00:00Z","body":{"text":"x","lang":"en","title":"t"},'
            b'"kind":"notice.published","prev":"' + b"ab" * 32 + b'","seq":1,"v":1}',
            CanonicalError,
        ),
        (b"[]", EntryRejected),
    ],
)
def test_parse_refuses(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_entry(data, KINDS)


# --- registry ------------------------------------------------------------------------


class WithDefault(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    amount: Count
    note: str = ""
    tags: dict[AsciiKey, SafeInt] = {}


def test_declared_kinds_and_defaults_are_written_out() -> None:
    with_default = EntryKinds(LOG_KINDS, {"test.with_default": WithDefault})
    # The same kind with the same body in two groups is one kind, not a conflict.
    again = EntryKinds(
        LOG_KINDS, {"test.with_default": WithDefault}, {"test.with_default": WithDefault}
    )
    assert again.body_type("test.with_default") is with_default.body_type("test.with_default")
    with pytest.raises(EntryRejected) as unknown:
        build_entry(1, "ab" * 32, AT, "test.with_default", {"amount": 5}, KINDS)
    assert unknown.value.code == "unknown_kind"
    data = build_entry(
        1, "ab" * 32, AT, "test.with_default", {"amount": 5, "tags": {"b": 1, "a": 2}}, with_default
    )
    assert b'"body":{"amount":5,"note":"","tags":{"a":2,"b":1}}' in data
    assert parse_entry(data, with_default).body == WithDefault(5, "", {"a": 2, "b": 1})
    short = data.replace(b'"note":"",', b"")
    with pytest.raises(EntryRejected, match="omits"):
        parse_entry(short, with_default)
    with pytest.raises(EntryRejected):
        build_entry(1, "ab" * 32, AT, "test.with_default", {"amount": 2**53}, with_default)


class Other(msgspec.Struct, forbid_unknown_fields=True):
    x: Count


class HasFloat(msgspec.Struct, forbid_unknown_fields=True):
    x: float


class Unbounded(msgspec.Struct, forbid_unknown_fields=True):
    x: int


class HalfBounded(msgspec.Struct, forbid_unknown_fields=True):
    x: Annotated[int, msgspec.Meta(ge=0)]


class LaxFields(msgspec.Struct):
    x: Count


class AnyDict(msgspec.Struct, forbid_unknown_fields=True):
    x: dict[str, Count]


class HasBytes(msgspec.Struct, forbid_unknown_fields=True):
    x: bytes


class Nested(msgspec.Struct, forbid_unknown_fields=True):
    inner: list[HasFloat]


@pytest.mark.parametrize(
    "body_type", [HasFloat, Unbounded, HalfBounded, LaxFields, AnyDict, HasBytes, Nested]
)
def test_register_refuses_non_canonical_body_types(body_type: type[msgspec.Struct]) -> None:
    with pytest.raises(AuditError) as info:
        EntryKinds({"test.refused": body_type})
    assert info.value.code == "bad_body_type"


def test_register_refuses_conflicts_and_bad_names() -> None:
    with pytest.raises(AuditError) as info:
        EntryKinds(LOG_KINDS, {"notice.published": Other})
    assert info.value.code == "kind_conflict"
    for name in ["notice", "Notice.Published", "a..b", "a.b-c", ""]:
        with pytest.raises(AuditError) as info:
            EntryKinds({name: Other})
        assert info.value.code == "bad_kind"


# --- properties ----------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(entry_chains)
def test_chain_roundtrips(entries: list[bytes]) -> None:
    prev = ZERO_HASH
    for seq, data in enumerate(entries):
        entry = parse_entry(data, KINDS)
        assert entry.seq == seq and entry.prev == prev
        assert entry.encode() == data
        prev = leaf_hash(data).hex()


@settings(max_examples=200, deadline=None)
@given(notice_bodies, st.data())
def test_any_flipped_byte_is_refused_or_differs(body: dict[str, str], data: st.DataObject) -> None:
    entry = build_entry(3, "cd" * 32, AT, "notice.published", body, KINDS)
    i = data.draw(st.integers(0, len(entry) - 1))
    mask = data.draw(st.integers(1, 255))
    altered = entry[:i] + bytes([entry[i] ^ mask]) + entry[i + 1 :]
    try:
        parsed = parse_entry(altered, KINDS)
    except (CanonicalError, EntryRejected):
        return
    # The only survivors are entries that say something else, canonically.
    assert parsed.encode() == altered != entry


class Phase(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class BadPhase(enum.Enum):
    HALF = 0.5


class WithEnum(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    phase: Phase


class WithBadEnum(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    phase: BadPhase


def test_enums_of_strings_are_allowed() -> None:
    with_phase = EntryKinds({"test.phase": WithEnum})
    data = build_entry(1, "ab" * 32, AT, "test.phase", {"phase": "open"}, with_phase)
    assert b'"body":{"phase":"open"}' in data
    assert parse_entry(data, with_phase).body == WithEnum(Phase.OPEN)
    with pytest.raises(AuditError) as info:
        EntryKinds({"test.bad_phase": WithBadEnum})
    assert info.value.code == "bad_body_type"


def test_struct_instances_are_revalidated() -> None:
    with pytest.raises(EntryRejected):
        build_entry(1, "ab" * 32, AT, "notice.published", NoticePublished("xx", "", ""), KINDS)
    notice = NoticePublished(**NOTICE)
    assert KINDS.validate_body("notice.published", notice) == notice
