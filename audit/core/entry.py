"""Log entries and the registry of entry kinds (docs/protocol.md §3.1–§3.2, §4.1).

An entry is the canonical JSON object (``audit.canonical``)::

    {"at":"2026-11-23T10:00:00Z","body":{...},"kind":"ballot.cast",
     "prev":"<hex leaf hash of entry seq-1; 64 zeros for seq 0>","seq":41,"v":1}

``at`` is an RFC 3339 UTC time with seconds precision (``YYYY-MM-DDTHH:MM:SSZ``),
always supplied by the caller. ``leaf_hash(entry_bytes) = SHA-256(0x00 || bytes)`` is
both the RFC 9162 leaf and the next entry's ``prev``. Entry 0 is always
``log.genesis``, and ``log.genesis`` appears nowhere else.

Kinds
-----
Each kind names a msgspec ``Struct`` for its body. Each package declares its kinds as a
plain mapping (``LOG_KINDS`` here, ``ELECTION_KINDS`` in ``ballot``, ``PROPOSAL_KINDS`` in
``proposals``), and the composition root joins them into one ``EntryKinds`` that it hands
to the log's store and to the verifier: what a log may hold never depends on which
modules happen to have been imported. A body type must be
canonically encodable, which registration checks on the type itself: no floats, every
``int`` bounded inside ``±(2**53 - 1)`` (use ``SafeInt``/``Count``), object keys ASCII
(``AsciiKey`` or ASCII literals), no ``Any``/``Raw``/bytes/datetimes, structs with
``forbid_unknown_fields=True``. A body is stored as the canonical encoding of its
validated struct, so every default field is written out; the verifier re-encodes and
insists on byte equality.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
import msgspec.inspect as mi

from audit.core.canonical import (
    MAX_SAFE_INTEGER,
    CanonicalError,
    b64url_decode,
    canonical_bytes,
    decode_canonical,
)
from audit.core.errors import AuditError, EntryRejected, NoteError
from audit.core.merkle import hash_leaf
from audit.core.note import check_key_name, verifier_key

__all__ = [
    "ENTRY_VERSION",
    "GENESIS_KIND",
    "LOG_KINDS",
    "ZERO_HASH",
    "AsciiKey",
    "Count",
    "Entry",
    "EntryKinds",
    "HashHex",
    "LogGenesis",
    "NoticePublished",
    "SafeInt",
    "Timestamp",
    "build_entry",
    "format_at",
    "leaf_hash",
    "parse_at",
    "parse_entry",
]

ENTRY_VERSION = 1
GENESIS_KIND = "log.genesis"
ZERO_HASH = "0" * 64

SafeInt = Annotated[int, msgspec.Meta(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER)]
"""An integer that canonical JSON can carry."""
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_SAFE_INTEGER)]
"""A non-negative ``SafeInt`` (amounts in minor units, counts, sequence numbers)."""
ASCII_KEY_PATTERN = "^[\\x00-\\x7f]*$"
AsciiKey = Annotated[str, msgspec.Meta(pattern=ASCII_KEY_PATTERN)]
"""A dictionary key type that canonical JSON accepts."""
Timestamp = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]
HashHex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
"""A SHA-256 hash as 64 lowercase hex digits, the log's form for hashes."""

_KIND_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_HASH_HEX = re.compile(r"[0-9a-f]{64}")


def leaf_hash(entry_bytes: bytes) -> bytes:
    """``SHA-256(0x00 || canonical entry bytes)``: Merkle leaf and chain link."""
    return hash_leaf(entry_bytes)


def format_at(moment: datetime) -> str:
    """Render an aware datetime as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC (sub-seconds dropped)."""
    if moment.tzinfo is None:
        raise EntryRejected("bad_time", "time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_at(text: str) -> datetime:
    """Parse an entry's ``at``, refusing any other form and impossible dates."""
    if _AT.fullmatch(text) is None:
        raise EntryRejected("bad_time", f"at {text!r} is not YYYY-MM-DDTHH:MM:SSZ")
    try:
        # The pattern fixed the form; fromisoformat checks the date and is fast.
        return datetime.fromisoformat(text)
    except ValueError:
        raise EntryRejected("bad_time", f"at {text!r} is not a real UTC time") from None


# --- kinds of entries --------------------------------------------------------------

_ENCODER = msgspec.json.Encoder(order="sorted")


def _check_type(t: mi.Type, where: str, seen: set[type]) -> None:
    """Refuse types whose values could fall outside canonical JSON."""

    def bad(reason: str) -> AuditError:
        return AuditError(f"{where}: {reason}", code="bad_body_type")

    if isinstance(t, mi.NoneType | mi.BoolType | mi.StrType):
        return
    if isinstance(t, mi.IntType):
        low = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else None)
        high = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else None)
        if low is None or high is None or low < -MAX_SAFE_INTEGER or high > MAX_SAFE_INTEGER:
            raise bad("int must be bounded inside ±(2**53 - 1); use SafeInt or Count")
        return
    if isinstance(t, mi.LiteralType):
        for value in t.values:
            if isinstance(value, int) and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
                raise bad(f"literal {value} is outside ±(2**53 - 1)")
        return
    if isinstance(t, mi.EnumType):
        for option in t.cls:
            value = option.value
            if not isinstance(value, str) and not (
                type(value) is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
            ):
                raise bad(f"enum {t.cls.__name__} has a value that is not a str or SafeInt")
        return
    if isinstance(t, mi.ListType | mi.VarTupleType):
        _check_type(t.item_type, f"{where}[]", seen)
        return
    if isinstance(t, mi.TupleType):
        for i, item in enumerate(t.item_types):
            _check_type(item, f"{where}[{i}]", seen)
        return
    if isinstance(t, mi.UnionType):
        for member in t.types:
            _check_type(member, where, seen)
        return
    if isinstance(t, mi.DictType):
        key = t.key_type
        ascii_literal = isinstance(key, mi.LiteralType) and all(
            isinstance(v, str) and v.isascii() for v in key.values
        )
        if not ascii_literal and not (
            isinstance(key, mi.StrType) and key.pattern == ASCII_KEY_PATTERN
        ):
            raise bad("dict keys must be AsciiKey or ASCII literals")
        _check_type(t.value_type, f"{where}{{}}", seen)
        return
    if isinstance(t, mi.StructType):
        if t.cls in seen:
            return
        seen.add(t.cls)
        if t.array_like:
            raise bad(f"{t.cls.__name__} is array_like")
        if not t.forbid_unknown_fields:
            raise bad(f"{t.cls.__name__} must set forbid_unknown_fields=True")
        for f in t.fields:
            if not f.encode_name.isascii():
                raise bad(f"field name {f.encode_name!r} is not ASCII")
            _check_type(f.type, f"{where}.{f.encode_name}", seen)
        return
    raise bad(f"type {type(t).__name__} cannot be encoded canonically")


class EntryKinds:
    """The kinds of entry a log may hold, each with its body struct; immutable.

    Every body type is checked once, here, for canonical encodability; two groups that
    name the same kind are refused rather than one silently winning.
    """

    __slots__ = ("_types",)

    def __init__(self, *groups: Mapping[str, type[msgspec.Struct]]) -> None:
        types: dict[str, type[msgspec.Struct]] = {}
        for group in groups:
            for kind, body in group.items():
                if _KIND_NAME.fullmatch(kind) is None:
                    raise AuditError(
                        f"kind {kind!r} is not dotted lowercase words", code="bad_kind"
                    )
                if kind in types and types[kind] is not body:
                    raise AuditError(f"kind {kind!r} is declared twice", code="kind_conflict")
                try:
                    info = mi.type_info(body)
                except TypeError as exc:
                    raise AuditError(f"body of {kind!r}: {exc}", code="bad_body_type") from None
                if not isinstance(info, mi.StructType):
                    raise AuditError(
                        f"body of {kind!r} must be a msgspec Struct", code="bad_body_type"
                    )
                _check_type(info, kind, set())
                types[kind] = body
        self._types = types

    def __contains__(self, kind: object) -> bool:
        return kind in self._types

    def items(self) -> list[tuple[str, type[msgspec.Struct]]]:
        return list(self._types.items())

    def body_type(self, kind: str) -> type[msgspec.Struct]:
        """The body struct of ``kind``; ``EntryRejected`` if the kind is unknown."""
        known = self._types.get(kind)
        if known is None:
            raise EntryRejected("unknown_kind", f"entry kind {kind!r} is not known to this log")
        return known

    def validate_body(self, kind: str, body: object) -> msgspec.Struct:
        """Convert a JSON-like body (or an instance of the kind's struct) to the kind's
        struct, strictly; ``EntryRejected`` names the kind and the offending field."""
        cls = self.body_type(kind)
        if isinstance(body, cls):
            # A Struct's constructor does not check Meta constraints; round-trip it.
            body = msgspec.to_builtins(body)
        if not isinstance(body, dict):
            raise EntryRejected("bad_body", f"{kind} body must be a JSON object")
        try:
            return msgspec.convert(body, type=cls, strict=True)
        except msgspec.ValidationError as exc:
            raise EntryRejected("bad_body", f"{kind} body: {exc}") from None


def _body_json(body: msgspec.Struct) -> Any:
    return msgspec.to_builtins(body, order="sorted")


# --- entries -----------------------------------------------------------------------


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed, validated entry. Fields are declared in canonical (sorted) order."""

    at: str
    body: msgspec.Struct
    kind: str
    prev: str
    seq: int
    v: int = ENTRY_VERSION

    def encode(self) -> bytes:
        """The canonical bytes of this entry (what is hashed)."""
        return canonical_bytes(self.to_json())

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "body": _body_json(self.body),
            "kind": self.kind,
            "prev": self.prev,
            "seq": self.seq,
            "v": self.v,
        }


def _check_header(seq: object, prev: object, at: object, kind: object) -> None:
    if type(seq) is not int or not 0 <= seq <= MAX_SAFE_INTEGER:
        raise EntryRejected("bad_seq", f"seq {seq!r} is not an integer in 0..2**53-1")
    if not isinstance(prev, str) or _HASH_HEX.fullmatch(prev) is None:
        raise EntryRejected("bad_prev", "prev is not 64 lowercase hex digits")
    if (seq == 0) != (prev == ZERO_HASH):
        raise EntryRejected("bad_prev", "prev is 64 zeros exactly for seq 0")
    if not isinstance(at, str):
        raise EntryRejected("bad_time", "at is not a string")
    parse_at(at)
    if not isinstance(kind, str):
        raise EntryRejected("unknown_kind", "kind is not a string")
    if (seq == 0) != (kind == GENESIS_KIND):
        raise EntryRejected(
            "genesis_position", f"entry 0 and only entry 0 is {GENESIS_KIND} (seq {seq}: {kind})"
        )


def build_entry(seq: int, prev: str, at: str, kind: str, body: object, kinds: EntryKinds) -> bytes:
    """Validate and return the canonical bytes of a new entry of one of ``kinds``."""
    _check_header(seq, prev, at, kind)
    struct = kinds.validate_body(kind, body)
    entry = {"at": at, "body": _body_json(struct), "kind": kind, "prev": prev, "seq": seq, "v": 1}
    try:
        return canonical_bytes(entry)
    except CanonicalError as exc:
        raise EntryRejected(
            "bad_body", f"{kind} body is not canonical JSON: {exc.detail}"
        ) from None


_ENTRY_KEYS = ["at", "body", "kind", "prev", "seq", "v"]


def parse_entry(line: bytes, kinds: EntryKinds) -> Entry:
    """Parse the exact bytes of one entry (no trailing newline), refusing anything
    that is not canonical or not one of ``kinds`` with a valid body."""
    value = decode_canonical(line)
    if not isinstance(value, dict):
        raise EntryRejected("bad_entry", "entry is not a JSON object")
    if list(value) != _ENTRY_KEYS:
        raise EntryRejected("bad_entry", f"entry keys are {list(value)}, expected {_ENTRY_KEYS}")
    if value["v"] != ENTRY_VERSION or type(value["v"]) is not int:
        raise EntryRejected("bad_version", f"entry version is {value['v']!r}, expected 1")
    seq, prev, at, kind = value["seq"], value["prev"], value["at"], value["kind"]
    _check_header(seq, prev, at, kind)
    assert isinstance(seq, int) and isinstance(prev, str)
    assert isinstance(at, str) and isinstance(kind, str)
    struct = kinds.validate_body(kind, value["body"])
    if _body_json(struct) != value["body"]:
        # Defaults must be written out: the stored body is the struct's full encoding.
        raise EntryRejected("bad_body", f"{kind} body omits fields its type writes out")
    return Entry(at=at, body=struct, kind=kind, prev=prev, seq=seq)


# --- the kinds the log itself defines ----------------------------------------------------


class LogGenesis(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Entry 0: who runs the log and which key signs its checkpoints."""

    origin: str
    public_key: Annotated[str, msgspec.Meta(pattern="^[A-Za-z0-9_-]{43}$")]
    software: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    verifier_key: str

    def __post_init__(self) -> None:
        # msgspec turns a ValueError here into a ValidationError naming the body.
        try:
            check_key_name(self.origin)
            raw = b64url_decode(self.public_key)
            expected = verifier_key(self.origin, raw)
        except (CanonicalError, NoteError) as exc:
            raise ValueError(exc.detail) from None
        if self.verifier_key != expected:
            raise ValueError("verifier_key does not match origin and public_key")


class NoticePublished(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A public notice. It has no field for personal data, on purpose."""

    lang: Annotated[str, msgspec.Meta(pattern="^[a-z]{2,3}$")]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=10000)]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


LOG_KINDS: Mapping[str, type[msgspec.Struct]] = {
    GENESIS_KIND: LogGenesis,
    "notice.published": NoticePublished,
}
"""The kinds the log itself defines; every Veche log holds them."""
