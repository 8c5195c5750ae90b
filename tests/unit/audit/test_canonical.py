"""Canonical JSON: RFC 8785 vectors, golden bytes, and round-trip properties."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.core.canonical import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    CanonicalError,
    b64url_decode,
    b64url_encode,
    canonical_bytes,
    canonicalize,
    decode_canonical,
    hex_decode,
    hex_encode,
)
from tests.strategies.audit import json_values

JCS = Path(__file__).resolve().parents[2] / "data" / "vectors" / "jcs"


# --- RFC 8785 vectors --------------------------------------------------------------


@pytest.mark.parametrize("name", ["arrays", "unicode"])
def test_jcs_vector_inside_subset_matches_byte_for_byte(name: str) -> None:
    expected = (JCS / f"out_{name}.json").read_bytes()
    assert canonicalize((JCS / f"in_{name}.json").read_bytes()) == expected
    assert decode_canonical(expected) == json.loads(expected)


def test_jcs_arrays_golden() -> None:
    assert canonicalize((JCS / "in_arrays.json").read_bytes()) == (
        b'[56,{"1":[],"10":null,"d":true}]'
    )


def test_jcs_unicode_is_not_normalized() -> None:
    out = canonicalize((JCS / "in_unicode.json").read_bytes())
    assert out == '{"Unnormalized Unicode":"A\u030a"}'.encode()


def test_jcs_values_refused_for_floats() -> None:
    with pytest.raises(CanonicalError) as info:
        canonicalize((JCS / "in_values.json").read_bytes())
    assert info.value.code == "float"


def test_jcs_structures_refused_for_float() -> None:
    # 56.0 is a float token in the input; the subset has no floats even when integral.
    with pytest.raises(CanonicalError) as info:
        canonicalize((JCS / "in_structures.json").read_bytes())
    assert info.value.code == "float"


def test_jcs_french_refused_for_non_ascii_keys() -> None:
    with pytest.raises(CanonicalError) as info:
        canonicalize((JCS / "in_french.json").read_bytes())
    assert info.value.code == "non_ascii_key"


def test_jcs_weird_refused_for_non_ascii_keys() -> None:
    with pytest.raises(CanonicalError) as info:
        canonicalize((JCS / "in_weird.json").read_bytes())
    assert info.value.code == "non_ascii_key"


def test_jcs_structures_output_is_inside_subset() -> None:
    # Only the input's 56.0 token is outside the subset; the expected output writes 56.
    out = (JCS / "out_structures.json").read_bytes()
    assert canonical_bytes(decode_canonical(out)) == out


@pytest.mark.parametrize("name", ["values", "french", "weird"])
def test_jcs_outputs_outside_subset_refused_by_decoder(name: str) -> None:
    with pytest.raises(CanonicalError):
        decode_canonical((JCS / f"out_{name}.json").read_bytes())


def test_every_vector_file_is_covered() -> None:
    names = sorted(p.name for p in JCS.glob("in_*.json"))
    assert names == [
        f"in_{n}.json" for n in ["arrays", "french", "structures", "unicode", "values", "weird"]
    ]


def test_jcs_values_strings_escape_like_the_vector() -> None:
    # The string member of in_values.json is inside the subset; its expected output
    # is the string member of out_values.json.
    src = json.loads((JCS / "in_values.json").read_bytes())["string"]
    out = (JCS / "out_values.json").read_bytes()
    start = out.index(b'"string":') + len(b'"string":')
    assert canonical_bytes(src) == out[start:-1]


def test_jcs_weird_values_escape_like_the_vector() -> None:
    # Values (not keys) of in_weird.json, each re-keyed with an ASCII key, must encode
    # to the bytes the vector gives for them.
    src = json.loads((JCS / "in_weird.json").read_bytes())
    expected = json.loads((JCS / "out_weird.json").read_bytes())
    assert src == expected
    for value in src.values():
        assert canonical_bytes(value) in (JCS / "out_weird.json").read_bytes()


# --- golden bytes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, b"null"),
        (True, b"true"),
        (False, b"false"),
        (0, b"0"),
        (-1, b"-1"),
        (MAX_SAFE_INTEGER, b"9007199254740991"),
        (-MAX_SAFE_INTEGER, b"-9007199254740991"),
        ("", b'""'),
        ("\u20ac$\x0f\nA'B\"\\/", b'"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\/"'),
        ("\b\f\n\r\t\x00\x1f\x7f", b'"\\b\\f\\n\\r\\t\\u0000\\u001f\x7f"'),
        ("\u2028\U0001f602", '"\u2028\U0001f602"'.encode()),
        ([], b"[]"),
        ({}, b"{}"),
        (
            {"b": [1, {"d": None, "c": "x"}], "a": True, "": 0},
            b'{"":0,"a":true,"b":[1,{"c":"x","d":null}]}',
        ),
        ({"B": 1, "a": 2, "_": 3, "1": 4}, b'{"1":4,"B":1,"_":3,"a":2}'),
    ],
)
def test_golden_bytes(value: object, expected: bytes) -> None:
    assert canonical_bytes(value) == expected
    assert decode_canonical(expected) == value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (1.0, "float"),
        (float("nan"), "float"),
        (float("inf"), "float"),
        (2**53, "integer_range"),
        (-(2**53), "integer_range"),
        ("a\ud800", "lone_surrogate"),
        ({"é": 1}, "non_ascii_key"),
        ({1: 1}, "key_type"),
        ((1, 2), "type"),
        (b"x", "type"),
        ({"a": [1, {"b": 0.5}]}, "float"),
    ],
)
def test_values_outside_subset_refused(value: object, code: str) -> None:
    with pytest.raises(CanonicalError) as info:
        canonical_bytes(value)
    assert info.value.code == code


def test_error_names_the_path() -> None:
    with pytest.raises(CanonicalError, match=r'\$\["a"\]\[1\]\["b"\]'):
        canonical_bytes({"a": [1, {"b": 0.5}]})


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b'{"a": 1}', "whitespace"),
        (b' {"a":1}', "whitespace"),
        (b'{"a":1}\n', "whitespace"),
        (b'{"b":1,"a":2}', "unsorted_keys"),
        (b'{"a":1,"a":1}', "duplicate_key"),
        (b'"\\u0041"', "bad_escape"),
        (b'"\\/"', "bad_escape"),
        (b'"\\u000A"', "bad_escape"),
        (b'"\\u000a"', "bad_escape"),
        (b'"\\u007f"', "bad_escape"),
        (b'"\x01"', "raw_control"),
        (b"1.0", "float"),
        (b"1e3", "float"),
        (b"-0", "bad_number"),
        (b"01", "bad_number"),
        (b"9007199254740992", "integer_range"),
        (b"NaN", "float"),
        (b'"\\ud800"', "lone_surrogate"),
        (b'"\\udc00"', "lone_surrogate"),
        (b'"\\ud800\\u0041"', "lone_surrogate"),
        (b'"\\ud83d\\ude02"', "bad_escape"),
        (b'"\xff"', "bad_utf8"),
        (b'"\xed\xa0\x80"', "bad_utf8"),
        (b'{"\xc3\xa9":1}', "non_ascii_key"),
        (b"[1]]", "trailing_data"),
        (b"", "not_json"),
        (b"[1,]", "not_json"),
    ],
)
def test_non_canonical_bytes_refused(data: bytes, code: str) -> None:
    with pytest.raises(CanonicalError) as info:
        decode_canonical(data)
    assert info.value.code == code


def test_decode_error_names_path_and_offset() -> None:
    with pytest.raises(CanonicalError, match=r'\$\["x"\]\[1\] \(character 8\)'):
        decode_canonical(b'{"x":[1, 2]}')


def test_canonicalize_refuses_duplicate_keys() -> None:
    with pytest.raises(CanonicalError) as info:
        canonicalize(b'{"a":1, "a":1}')
    assert info.value.code == "duplicate_key"


# --- properties --------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_roundtrip_value(value: object) -> None:
    data = canonical_bytes(value)
    assert decode_canonical(data) == value
    assert canonical_bytes(decode_canonical(data)) == data
    assert canonicalize(data) == data


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_matches_stdlib_reference(value: object) -> None:
    # For the subset, RFC 8785 output equals Python's json with sorted keys, no
    # whitespace and no ASCII escaping: an independent oracle for the escaping.
    reference = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_bytes(value) == reference.encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(json_values, st.data())
def test_added_whitespace_refused(value: object, data: st.DataObject) -> None:
    encoded = canonical_bytes(value)
    # Insert whitespace only at token boundaries outside strings, where JSON allows it.
    boundaries = _token_boundaries(encoded)
    pos = data.draw(st.sampled_from(boundaries))
    ws = data.draw(st.sampled_from([b" ", b"\n", b"\t", b"\r"]))
    mutated = encoded[:pos] + ws + encoded[pos:]
    json.loads(mutated)  # still JSON
    with pytest.raises(CanonicalError):
        decode_canonical(mutated)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.text(alphabet="abcXYZ_0", max_size=3), json_values, min_size=2, max_size=5),
    st.data(),
)
def test_swapped_keys_refused(obj: dict[str, object], data: st.DataObject) -> None:
    keys = sorted(obj)
    i = data.draw(st.integers(0, len(keys) - 2))
    keys[i], keys[i + 1] = keys[i + 1], keys[i]
    parts = [json.dumps(k) + ":" + canonical_bytes(obj[k]).decode() for k in keys]
    mutated = ("{" + ",".join(parts) + "}").encode()
    with pytest.raises(CanonicalError) as info:
        decode_canonical(mutated)
    assert info.value.code == "unsorted_keys"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_decode_accepts_only_fixed_points(data: bytes) -> None:
    try:
        value = decode_canonical(data)
    except CanonicalError:
        return
    assert canonical_bytes(value) == data


def _token_boundaries(encoded: bytes) -> list[int]:
    positions = [0, len(encoded)]
    in_string = escaped = False
    for i, byte in enumerate(encoded):
        ch = chr(byte)
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
                positions.append(i + 1)
        elif ch == '"':
            in_string = True
            positions.append(i)
        elif ch in "{}[],:":
            positions.extend((i, i + 1))
    return sorted(set(positions))


# --- bytes as text -----------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=70))
def test_b64url_roundtrip(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text
    assert b64url_decode(text) == data


@pytest.mark.parametrize("text", ["AA==", "AA=", "A", "AB", "a+b/", "ab cd", "AAA\n", "é"])
def test_b64url_refuses_bad_text(text: str) -> None:
    with pytest.raises(CanonicalError) as info:
        b64url_decode(text)
    assert info.value.code == "bad_base64url"


def test_b64url_golden() -> None:
    assert b64url_encode(b"\xfb\xff") == "-_8"
    assert b64url_decode("-_8") == b"\xfb\xff"


def test_hex_helpers() -> None:
    assert hex_encode(b"\x00\xab") == "00ab"
    assert hex_decode("00ab") == b"\x00\xab"
    assert hex_decode("00" * 32, length=32) == bytes(32)
    for bad in ["00AB", "0", "zz", "00 "]:
        with pytest.raises(CanonicalError):
            hex_decode(bad)
    with pytest.raises(CanonicalError):
        hex_decode("00", length=32)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
def test_deep_nesting_refused_without_crashing(depth: int) -> None:
    data = b"[" * depth + b"]" * depth
    for read in (decode_canonical, canonicalize):
        with pytest.raises(CanonicalError) as info:
            read(data)
        assert info.value.code == "too_deep"
    nested: list[object] = []
    for _ in range(min(depth, 500)):
        nested = [nested]
    with pytest.raises(CanonicalError) as info:
        canonical_bytes(nested)
    assert info.value.code == "too_deep"


def test_max_depth_is_allowed() -> None:
    data = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert canonical_bytes(decode_canonical(data)) == data


def test_canonicalize_is_utf8_only() -> None:
    with pytest.raises(CanonicalError) as info:
        canonicalize('{"a":1}'.encode("utf-16"))
    assert info.value.code in {"bad_utf8", "not_json"}


@pytest.mark.parametrize("data", [b"1" * 5000, b"[" + b"9" * 5000 + b"]", b"-" + b"1" * 18])
def test_huge_integers_refused(data: bytes) -> None:
    for read in (decode_canonical, canonicalize):
        with pytest.raises(CanonicalError) as info:
            read(data)
        assert info.value.code == "integer_range"


json_ish = st.text(alphabet='[]{}",:0123456789-.eE\\/u abtrnfl\x01\u00e9\ud800', max_size=40)


@settings(max_examples=500, deadline=None)
@given(json_ish)
def test_readers_raise_only_canonical_error(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    with contextlib.suppress(CanonicalError):
        assert canonical_bytes(decode_canonical(data)) == data
    try:
        out = canonicalize(data)
    except CanonicalError:
        return
    assert canonical_bytes(decode_canonical(out)) == out
