"""C2SP signed notes and tlog checkpoints: the spec's example, golden bytes, tampering."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.core.checkpoint import Checkpoint, sign_checkpoint, verify_checkpoint
from audit.core.errors import NoteError
from audit.core.merkle import hash_leaf
from audit.core.note import (
    b64std_decode,
    key_id,
    parse_note,
    parse_verifier_key,
    public_key_bytes,
    sign_note,
    verifier_key,
    verify_note,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "vectors" / "signed-note-example.txt"


def _example() -> tuple[str, bytes]:
    raw = EXAMPLE.read_bytes()
    first, rest = raw.split(b"\n", 1)
    assert first.startswith(b"verifier key: ") and rest.startswith(b"note:\n")
    return first.removeprefix(b"verifier key: ").decode(), rest.removeprefix(b"note:\n")


def _key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


def test_example_verifies() -> None:
    vkey, note = _example()
    verifier = parse_verifier_key(vkey)
    assert verifier.name == "example.com/foo"
    assert verifier.key_id.hex() == "530d903a"
    assert key_id(verifier.name, verifier.public_key) == verifier.key_id
    assert verifier_key(verifier.name, verifier.public_key) == vkey
    parsed = verify_note(note, verifier)
    assert parsed.text == "This is an example message.\n"
    assert parsed.render().encode() == note


def test_example_every_altered_byte_fails() -> None:
    vkey, note = _example()
    verifier = parse_verifier_key(vkey)
    for i in range(len(note)):
        for mask in (0x01, 0x20, 0x80):
            altered = note[:i] + bytes([note[i] ^ mask]) + note[i + 1 :]
            with pytest.raises(NoteError):
                verify_note(altered, verifier)


def test_example_every_altered_verifier_key_byte_fails() -> None:
    vkey, note = _example()
    for i in range(len(vkey)):
        altered = vkey[:i] + chr(ord(vkey[i]) ^ 0x01) + vkey[i + 1 :]
        with pytest.raises(NoteError):
            verify_note(note, parse_verifier_key(altered))


def test_example_truncations_and_additions_fail() -> None:
    vkey, note = _example()
    verifier = parse_verifier_key(vkey)
    for cut in range(len(note)):
        with pytest.raises(NoteError):
            verify_note(note[:cut], verifier)
    for extra in (b"\n", b" ", b"x\n"):
        with pytest.raises(NoteError):
            verify_note(note + extra, verifier)


def test_unknown_signatures_are_ignored() -> None:
    vkey, note = _example()
    verifier = parse_verifier_key(vkey)
    other = _key(7)
    foreign = sign_note("This is an example message.\n", "other.example/key", other)
    foreign_line = foreign.split("\n\n", 1)[1].encode()
    both = note + foreign_line
    assert len(verify_note(both, verifier).signatures) == 2
    # Same name, different key ID: unknown, ignored.
    same_name = sign_note("This is an example message.\n", "example.com/foo", other)
    assert verify_note(note + same_name.split("\n\n", 1)[1].encode(), verifier)


def test_known_key_with_bad_signature_rejects_note() -> None:
    private = _key(3)
    name = "veche.example/log"
    good = sign_note("hello\n", name, private)
    verifier = parse_verifier_key(verifier_key(name, public_key_bytes(private)))
    forged = sign_note("hello\n", "x.example", _key(4)).split("\n\n", 1)[1]
    kid = key_id(name, public_key_bytes(private))
    raw_sig = b64std_decode(forged.split(" ")[2].strip())
    bad_line = f"— {name} {base64.b64encode(kid + raw_sig[4:]).decode()}\n"
    with pytest.raises(NoteError) as info:
        verify_note(good + bad_line, verifier)
    assert info.value.code == "bad_signature"


def test_no_known_signature() -> None:
    note = sign_note("hello\n", "a.example", _key(1))
    with pytest.raises(NoteError) as info:
        verify_note(note, parse_verifier_key(verifier_key("b.example", public_key_bytes(_key(1)))))
    assert info.value.code == "no_known_signature"


@pytest.mark.parametrize(
    "note",
    [
        "hello\n",
        "hello\n\n",
        "hello\n\n— a.example\n",
        "hello\n\n- a.example AAAAAAA=\n",
        "hello\n\n— a.example AAAA\n",
        "hello\n\n— a.example AAAAAAA\n",
        "hello\n\n— a+b AAAAAAA=\n",
        "hel\tlo\n\n— a.example AAAAAAA=\n",
        "hello\n\n— a.example AAAAAAA=",
        "hello\n\n— a.example  AAAAAAA=\n",
    ],
)
def test_malformed_notes_refused(note: str) -> None:
    with pytest.raises(NoteError):
        parse_note(note)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "a\nb"])
def test_bad_key_names(name: str) -> None:
    with pytest.raises(NoteError):
        sign_note("x\n", name, _key(1))


def test_note_text_may_hold_blank_lines() -> None:
    private = _key(9)
    text = "a\n\nb\n"
    note = sign_note(text, "k.example", private)
    verifier = parse_verifier_key(verifier_key("k.example", public_key_bytes(private)))
    assert verify_note(note, verifier).text == text


# --- checkpoints ---------------------------------------------------------------------


def test_checkpoint_golden_body() -> None:
    root = hash_leaf(b"")
    cp = Checkpoint("veche.example/log", 20852163, root)
    assert cp.to_body() == (
        "veche.example/log\n20852163\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n"
    )
    assert Checkpoint.parse(cp.to_body()) == cp
    with_ext = Checkpoint("o", 0, root, ("ext one",))
    assert with_ext.to_body().endswith("=\next one\n")
    assert Checkpoint.parse(with_ext.to_body()) == with_ext


def test_checkpoint_golden_signature() -> None:
    # Ed25519 is deterministic, so the whole signed checkpoint is pinned.
    private = _key(1)
    name = "veche.example/log"
    note = sign_checkpoint(private, name, Checkpoint(name, 1, hash_leaf(b"")))
    vkey = verifier_key(name, public_key_bytes(private))
    assert note.startswith(
        "veche.example/log\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n\n— "
    )
    assert verify_checkpoint(note, vkey) == Checkpoint(name, 1, hash_leaf(b""))
    assert note == sign_checkpoint(private, name, Checkpoint(name, 1, hash_leaf(b"")))


@pytest.mark.parametrize(
    "body",
    [
        "o\n1\n",
        "o\n01\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
        "o\n-1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
        "o\n1 \nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
        "o\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0\n",
        "o\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        "o\n1\nAAAA\n",
        "o\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n\n",
        "\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
    ],
)
def test_malformed_checkpoints_refused(body: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(body)


def test_checkpoint_wrong_origin_refused() -> None:
    private = _key(2)
    note = sign_checkpoint(private, "a.example", Checkpoint("b.example", 1, hash_leaf(b"")))
    vkey = verifier_key("a.example", public_key_bytes(private))
    with pytest.raises(NoteError) as info:
        verify_checkpoint(note, vkey)
    assert info.value.code == "wrong_origin"
    assert verify_checkpoint(note, vkey, origin="b.example").origin == "b.example"


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 2**63),
    st.binary(min_size=32, max_size=32),
    st.integers(min_value=0),
    st.data(),
)
def test_checkpoint_tampering_fails(size: int, root: bytes, seed: int, data: st.DataObject) -> None:
    private = _key(seed % 256)
    name = "veche.example/log"
    note = sign_checkpoint(private, name, Checkpoint(name, size, root)).encode()
    vkey = verifier_key(name, public_key_bytes(private))
    assert verify_checkpoint(note, vkey) == Checkpoint(name, size, root)
    i = data.draw(st.integers(0, len(note) - 1))
    mask = data.draw(st.integers(1, 255))
    altered = note[:i] + bytes([note[i] ^ mask]) + note[i + 1 :]
    with pytest.raises(NoteError):
        verify_checkpoint(altered, vkey)
    other = _key((seed + 1) % 256)
    with pytest.raises(NoteError):
        verify_checkpoint(sign_checkpoint(other, name, Checkpoint(name, size, root)), vkey)
