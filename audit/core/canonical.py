"""Canonical JSON for everything Veche hashes or signs (docs/protocol.md §2.1–§2.8).

The encoding is RFC 8785 (JSON Canonicalization Scheme) restricted to the values
Veche uses:

- values are ``None``, ``bool``, ``int``, ``str``, ``list`` and ``dict`` only;
- integers satisfy ``|n| < 2**53`` (RFC 8785 §3.2.2.3 serialises numbers as IEEE 754
  doubles, so larger integers would not round-trip); floats, NaN and Infinity are
  refused rather than serialised, because the log holds exact numbers only;
- object keys are ASCII, so sorting by UTF-16 code units (RFC 8785 §3.2.3) is plain
  code-point order, and no key may repeat;
- strings are escaped as RFC 8785 §3.2.2.2 says: ``\\"``, ``\\\\``, the short forms
  ``\\b \\f \\n \\r \\t``, ``\\u00xx`` (lowercase hex) for the other controls below
  U+0020, and every other code point written as itself in UTF-8; lone surrogates
  are refused;
- no insignificant whitespace; the output is UTF-8.

``canonical_bytes`` validates a value and encodes it with msgspec (whose escaping and
sorted-key output were checked against RFC 8785 and are pinned by golden-byte and
vector tests). ``decode_canonical`` accepts only bytes that are already canonical, so
that the verifier hashes exactly what it checked. ``canonicalize`` turns any JSON text
inside the subset into its canonical form (this is what the RFC 8785 vectors exercise).

The module also holds the strict base64url (RFC 4648 §5, no padding) and lowercase
hex helpers that the rest of the audit log uses for bytes, keys and hashes.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, NoReturn

import msgspec

from audit.core.errors import CanonicalError

__all__ = [
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "CanonicalError",
    "JsonValue",
    "b64url_decode",
    "b64url_encode",
    "canonical_bytes",
    "canonicalize",
    "check_value",
    "decode_canonical",
    "hex_decode",
    "hex_encode",
]

JsonValue = None | bool | int | str | list["JsonValue"] | dict[str, "JsonValue"]

MAX_SAFE_INTEGER = 2**53 - 1
# Veche's values nest a few levels deep; a bound keeps hostile input (a verifier
# reads untrusted logs) from exhausting the stack of any recursive reader.
MAX_DEPTH = 64

# One shared encoder: building it per call would dominate the cost of small values.
_ENCODER = msgspec.json.Encoder(order="sorted")
_encode = _ENCODER.encode
_decode = msgspec.json.decode

# The only escapes RFC 8785 emits; anything else after a backslash is non-minimal.
_SHORT_ESCAPES = {'"': '"', "\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HAS_SHORT_FORM = frozenset("\b\f\n\r\t")


def _path_str(path: list[str | int]) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f"[{json.dumps(part)}]"
    return out


def _fail(path: list[str | int], reason: str, code: str = "not_canonical") -> NoReturn:
    raise CanonicalError(f"{reason} at {_path_str(path)}", code=code)


def _check_str(s: str, path: list[str | int]) -> None:
    if s.isascii():
        return
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        _fail(path, "string contains a lone surrogate", "lone_surrogate")


def _check(value: Any, path: list[str | int]) -> None:
    # Exact type tests: bool is an int subclass and IntEnum/str subclasses could carry
    # their own JSON behaviour, so only the six builtin types are accepted.
    t = type(value)
    if value is None or t is bool:
        return
    if t is int:
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            _fail(path, f"integer {value} is outside ±(2**53 - 1)", "integer_range")
        return
    if t is str:
        _check_str(value, path)
        return
    if (t is list or t is dict) and len(path) >= MAX_DEPTH:
        _fail(path, f"nesting deeper than {MAX_DEPTH} levels", "too_deep")
    if t is list:
        for i, item in enumerate(value):
            path.append(i)
            _check(item, path)
            path.pop()
        return
    if t is dict:
        for key, item in value.items():
            if type(key) is not str:
                _fail(path, f"object key {key!r} is not a string", "key_type")
            if not key.isascii():
                _fail(path, f"object key {key!r} is not ASCII", "non_ascii_key")
            path.append(key)
            _check(item, path)
            path.pop()
        return
    if t is float:
        _fail(path, f"float {value!r} is not allowed (integers only)", "float")
    _fail(path, f"type {t.__name__} is not allowed in canonical JSON", "type")


def check_value(value: object) -> None:
    """Raise ``CanonicalError`` unless ``value`` lies inside the canonical subset."""
    _check(value, [])


def canonical_bytes(value: object) -> bytes:
    """Return the canonical JSON encoding of ``value`` (RFC 8785 subset, UTF-8)."""
    _check(value, [])
    return _encode(value)


def decode_canonical(data: bytes) -> JsonValue:
    """Parse ``data`` and return its value, refusing bytes that are not canonical.

    Canonical means ``canonical_bytes(decode_canonical(data)) == data``: whitespace,
    unsorted or repeated keys, non-minimal escapes or number forms are all refused,
    with a message naming the JSON path and the character offset.
    """
    try:
        value: JsonValue = _decode(data)
        _check(value, [])
        if _encode(value) == data:
            return value
    except CanonicalError:
        _diagnose(data)
        raise
    except (msgspec.DecodeError, UnicodeError, ValueError, RecursionError):
        pass
    _diagnose(data)
    raise CanonicalError("bytes are not canonical JSON")  # pragma: no cover - _diagnose raises


def canonicalize(text: bytes | str) -> bytes:
    """Canonicalize any JSON text inside the subset (RFC 8785 §3.2 applied to the subset).

    Whitespace and key order in the input are free; duplicate keys, floats, NaN,
    Infinity and everything ``canonical_bytes`` refuses raise ``CanonicalError``.
    """

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, item in items:
            if key in obj:
                raise CanonicalError(f"duplicate object key {key!r}", code="duplicate_key")
            obj[key] = item
        return obj

    def no_float(token: str) -> NoReturn:
        raise CanonicalError(f"number {token} is not an integer", code="float")

    def safe_int(token: str) -> int:
        if len(token) > 17 or abs(int(token)) > MAX_SAFE_INTEGER:
            raise CanonicalError(
                f"integer {token[:20]} is outside ±(2**53 - 1)", code="integer_range"
            )
        return int(token)

    if isinstance(text, bytes):
        # json.loads would also guess UTF-16 or UTF-32; RFC 8785 is UTF-8 only.
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CanonicalError(f"not valid UTF-8 at byte {exc.start}", code="bad_utf8") from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_float=no_float,
            parse_int=safe_int,
            parse_constant=no_float,
        )
    except CanonicalError:
        raise
    except RecursionError:
        raise CanonicalError(f"nesting deeper than {MAX_DEPTH} levels", code="too_deep") from None
    except ValueError as exc:
        raise CanonicalError(f"not JSON: {exc}", code="not_json") from None
    return canonical_bytes(value)


# ---------------------------------------------------------------------------------
# Diagnosis: a strict reader of canonical JSON. It only runs once the fast path has
# already refused the bytes, so it is written for precise messages, not speed.


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.path: list[str | int] = []

    def fail(self, reason: str, code: str = "not_canonical") -> NoReturn:
        raise CanonicalError(
            f"{reason} at {_path_str(self.path)} (character {self.pos})", code=code
        )

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def value(self) -> None:
        c = self.peek()
        if c and c in " \t\r\n":
            self.fail("insignificant whitespace", "whitespace")
        if c == "{":
            self.object()
        elif c == "[":
            self.array()
        elif c == '"':
            self.string()
        elif c == "-" or c.isdigit():
            self.number()
        else:
            for word in ("null", "true", "false"):
                if self.text.startswith(word, self.pos):
                    self.pos += len(word)
                    return
            if self.text.startswith(("NaN", "Infinity"), self.pos):
                self.fail("NaN and Infinity are not allowed", "float")
            self.fail("unexpected character" if c else "unexpected end of input", "not_json")

    def expect(self, ch: str) -> None:
        c = self.peek()
        if c != ch:
            if c in " \t\r\n" and c:
                self.fail("insignificant whitespace", "whitespace")
            self.fail(f"expected {ch!r}" + (f", found {c!r}" if c else ""), "not_json")
        self.pos += 1

    def nest(self) -> None:
        if len(self.path) >= MAX_DEPTH:
            self.fail(f"nesting deeper than {MAX_DEPTH} levels", "too_deep")

    def object(self) -> None:
        self.nest()
        self.pos += 1
        previous: str | None = None
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            if self.peek() != '"':
                self.expect('"')
            key_start = self.pos
            key = self.string()
            if not key.isascii():
                self.pos = key_start
                self.fail(f"object key {key!r} is not ASCII", "non_ascii_key")
            if previous is not None and key <= previous:
                self.pos = key_start
                if key == previous:
                    self.fail(f"duplicate object key {key!r}", "duplicate_key")
                self.fail(f"object key {key!r} is not in sorted order", "unsorted_keys")
            previous = key
            self.expect(":")
            self.path.append(key)
            self.value()
            self.path.pop()
            if self.peek() == ",":
                self.pos += 1
                continue
            self.expect("}")
            return

    def array(self) -> None:
        self.nest()
        self.pos += 1
        if self.peek() == "]":
            self.pos += 1
            return
        index = 0
        while True:
            self.path.append(index)
            self.value()
            self.path.pop()
            index += 1
            if self.peek() == ",":
                self.pos += 1
                continue
            self.expect("]")
            return

    def string(self) -> str:
        text = self.text
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(text):
                self.fail("unterminated string", "not_json")
            c = text[self.pos]
            if c == '"':
                self.pos += 1
                return "".join(out)
            if c < " ":
                self.fail(f"control character U+{ord(c):04X} must be escaped", "raw_control")
            if c != "\\":
                out.append(c)
                self.pos += 1
                continue
            esc = text[self.pos + 1 : self.pos + 2]
            if esc in _SHORT_ESCAPES:
                out.append(_SHORT_ESCAPES[esc])
                self.pos += 2
                continue
            if esc != "u":
                self.fail(f"escape \\{esc} is not minimal or not valid", "bad_escape")
            digits = text[self.pos + 2 : self.pos + 6]
            if not re.fullmatch(r"[0-9a-f]{4}", digits):
                self.fail(f"escape \\u{digits} is not four lowercase hex digits", "bad_escape")
            code_point = int(digits, 16)
            if 0xD800 <= code_point <= 0xDFFF:
                pair = re.match(r"\\ud[c-f][0-9a-f]{2}", text[self.pos + 6 : self.pos + 12])
                if code_point >= 0xDC00 or pair is None:
                    self.fail(f"escape \\u{digits} is a lone surrogate", "lone_surrogate")
            ch = chr(code_point)
            if ch >= " " or ch in _HAS_SHORT_FORM:
                self.fail(f"escape \\u{digits} is not minimal", "bad_escape")
            out.append(ch)
            self.pos += 6

    def number(self) -> None:
        m = re.compile(r"-?(0|[1-9][0-9]*)").match(self.text, self.pos)
        if m is None:
            self.fail("malformed number", "not_json")
        end = m.end()
        if self.text[end : end + 1] in (".", "e", "E"):
            self.fail("floats are not allowed (integers only)", "float")
        if m.group() == "-0":
            self.fail("-0 is not canonical", "bad_number")
        if self.text[end : end + 1].isdigit():
            self.fail("leading zero", "bad_number")
        # Bound the digits before int(): Python refuses to convert very long strings.
        if len(m.group()) > 17 or abs(int(m.group())) > MAX_SAFE_INTEGER:
            self.fail(f"integer {m.group()[:20]} is outside ±(2**53 - 1)", "integer_range")
        self.pos = end


def _diagnose(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"not valid UTF-8 at byte {exc.start}", code="bad_utf8") from None
    scanner = _Scanner(text)
    scanner.value()
    if scanner.pos != len(text):
        if text[scanner.pos] in " \t\r\n":
            scanner.fail("insignificant whitespace", "whitespace")
        scanner.fail("trailing data after the JSON value", "trailing_data")
    # The strict reader accepted what the fast path refused: the value itself is
    # outside the subset (e.g. a lone surrogate escape), so let the value check speak.
    try:
        value = json.loads(text)
    except ValueError:  # pragma: no cover - the scanner accepted it
        raise CanonicalError("not JSON", code="not_json") from None
    _check(value, [])
    raise CanonicalError("bytes are not canonical JSON")


# ---------------------------------------------------------------------------------
# Bytes as text.

_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
_B64URL_VALUE = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}
_HEX_RE = re.compile(r"[0-9a-f]*")


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 4648 §5), the log's form for bytes and keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing padding, foreign characters and any
    encoding that is not the unique one for its bytes (non-zero trailing bits)."""
    if not isinstance(text, str) or _B64URL_RE.fullmatch(text) is None:
        raise CanonicalError(
            "base64url text has characters outside A-Z a-z 0-9 - _", code="bad_base64url"
        )
    tail = len(text) % 4
    if tail == 1:
        raise CanonicalError("base64url text has an impossible length", code="bad_base64url")
    # The last character of a partial group carries 4 (two characters) or 2 (three)
    # bits that encode nothing; the unique encoding has them zero.
    if tail and _B64URL_VALUE[text[-1]] & (0b1111 if tail == 2 else 0b11):
        raise CanonicalError(
            "base64url text is not canonical (stray trailing bits)", code="bad_base64url"
        )
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data


def hex_encode(data: bytes) -> str:
    """Lowercase hex, the log's form for hashes."""
    return data.hex()


def hex_decode(text: str, *, length: int | None = None) -> bytes:
    """Decode lowercase hex; with ``length``, insist on exactly that many bytes."""
    if not isinstance(text, str) or _HEX_RE.fullmatch(text) is None or len(text) % 2:
        raise CanonicalError("hash is not lowercase hex", code="bad_hex")
    if length is not None and len(text) != 2 * length:
        raise CanonicalError(f"hash is {len(text) // 2} bytes, expected {length}", code="bad_hex")
    try:
        return bytes.fromhex(text)
    except ValueError:  # pragma: no cover - the regex admits only hex digits
        raise CanonicalError("hash is not lowercase hex", code="bad_hex") from None
