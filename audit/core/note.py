"""C2SP signed notes with Ed25519 (https://c2sp.org/signed-note; docs/protocol.md §3.7–§3.8).

A signed note is a text ending in a newline, a blank line, then one or more
signature lines ``— <key name> base64(key ID || signature)`` (em dash U+2014). The
whole note is UTF-8 without ASCII control characters other than newline. The key ID
is ``SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4]`` and the
signature is Ed25519 (RFC 8032) over the note text, final newline included.

A verifier key is written ``<name>+<hex key ID>+<base64(0x01 || public key)>``, the
form used by the Go ``sumdb/note`` package and the transparency-log tooling built on
it. Base64 here is the standard alphabet with padding (RFC 4648 §4), as the spec
says; it is decoded strictly (one encoding per byte string) so that no byte of a
note can change without the note failing.

Verification follows the spec's rules: signatures from unknown keys (a different
name or key ID) are ignored; a signature from a known key that fails rejects the
note; a note with no verified signature from a known key is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit.core.errors import NoteError

__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "Note",
    "NoteSignature",
    "Verifier",
    "b64std_decode",
    "b64std_encode",
    "check_key_name",
    "key_id",
    "parse_note",
    "parse_verifier_key",
    "public_key_bytes",
    "sign_note",
    "verifier_key",
    "verify_note",
]

ALG_ED25519 = 0x01
EM_DASH = "\u2014"
# The spec asks verifiers to cap signatures and to accept at least 16.
MAX_SIGNATURES = 100

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_B64STD = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_KEY_HASH = re.compile(r"[0-9a-f]{8}")


def b64std_encode(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def b64std_decode(text: str, what: str = "base64") -> bytes:
    """Decode standard padded base64, refusing any text that is not the unique
    encoding of its bytes (so a flipped unused bit cannot go unnoticed)."""
    if _B64STD.fullmatch(text) is None:
        raise NoteError(f"{what} is not padded standard base64", code="bad_base64")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:  # pragma: no cover - the pattern admits only valid text
        raise NoteError(f"{what} is not padded standard base64", code="bad_base64") from None
    if b64std_encode(data) != text:
        raise NoteError(f"{what} is not canonical base64 (stray trailing bits)", code="bad_base64")
    return data


def check_key_name(name: str) -> None:
    """Key names are non-empty and hold no Unicode space, no ``+`` and no control."""
    if not name:
        raise NoteError("key name is empty", code="bad_key_name")
    for ch in name:
        if ch == "+" or ch.isspace() or ch < " " or ch == "\x7f":
            raise NoteError(f"key name {name!r} contains {ch!r}", code="bad_key_name")


def public_key_bytes(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    """The 32-byte RFC 8032 encoding of an Ed25519 public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || 0x01 || public key)[:4]`` (signed-note, Ed25519)."""
    if len(public_key) != 32:
        raise NoteError(f"Ed25519 public key is {len(public_key)} bytes, not 32", code="bad_key")
    return hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key
    ).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The verifier key string ``name+hex(key ID)+base64(0x01 || public key)``."""
    check_key_name(name)
    kid = key_id(name, public_key)
    return f"{name}+{kid.hex()}+{b64std_encode(bytes([ALG_ED25519]) + public_key)}"


@dataclass(frozen=True, slots=True)
class Verifier:
    """A trusted Ed25519 note key."""

    name: str
    key_id: bytes
    public_key: bytes

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def parse_verifier_key(text: str) -> Verifier:
    """Parse ``name+hex(key ID)+base64(0x01 || key)``, checking the key ID it claims."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise NoteError("verifier key is not name+keyid+key", code="bad_verifier_key")
    name, kid_hex, key_b64 = parts
    check_key_name(name)
    if _KEY_HASH.fullmatch(kid_hex) is None:
        raise NoteError("verifier key ID is not 8 lowercase hex digits", code="bad_verifier_key")
    raw = b64std_decode(key_b64, "verifier key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError(
            "verifier key is not an Ed25519 key (type 0x01, 32 bytes)", code="bad_verifier_key"
        )
    public_key = raw[1:]
    if key_id(name, public_key) != bytes.fromhex(kid_hex):
        raise NoteError("verifier key ID does not match its name and key", code="bad_verifier_key")
    try:
        Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:  # pragma: no cover - any 32 bytes load; kept for other backends
        raise NoteError(
            "verifier key is not a valid Ed25519 key", code="bad_verifier_key"
        ) from None
    return Verifier(name, bytes.fromhex(kid_hex), public_key)


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{EM_DASH} {self.name} {b64std_encode(self.key_id + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed signed note. ``text`` includes its final newline."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text does not end with a newline", code="bad_note")
    match = _CONTROL.search(text)
    if match is not None:
        raise NoteError(
            f"note contains control character U+{ord(match.group()):04X}", code="bad_note"
        )


def parse_note(note: str | bytes) -> Note:
    """Split a signed note into text and signature lines, refusing malformed notes."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("note is not valid UTF-8", code="bad_note") from None
    try:
        note.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError("note is not valid UTF-8", code="bad_note") from None
    _check_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures", code="bad_note")
    text, block = note[: split + 1], note[split + 2 :]
    lines = block.split("\n")
    if lines[-1] != "" or len(lines) < 2:
        raise NoteError("note has no signature lines", code="bad_note")
    lines.pop()
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures", code="bad_note")
    signatures = []
    for number, line in enumerate(lines, 1):
        prefix = EM_DASH + " "
        if not line.startswith(prefix):
            raise NoteError(f"signature line {number} does not start with '— '", code="bad_note")
        fields = line[len(prefix) :].split(" ")
        if len(fields) != 2:
            raise NoteError(f"signature line {number} is not '— name signature'", code="bad_note")
        name, sig_b64 = fields
        check_key_name(name)
        raw = b64std_decode(sig_b64, f"signature {number}")
        if len(raw) < 5:
            raise NoteError(f"signature {number} is too short", code="bad_note")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    return Note(text, tuple(signatures))


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign ``text`` (which must end in a newline) and return the signed note."""
    _check_text(text)
    check_key_name(name)
    kid = key_id(name, public_key_bytes(private_key))
    signature = private_key.sign(text.encode("utf-8"))
    return Note(text, (NoteSignature(name, kid, signature),)).render()


def verify_note(note: str | bytes | Note, verifiers: Verifier | Sequence[Verifier]) -> Note:
    """Return the note once a signature from a known key verifies; raise ``NoteError``
    if none does or if a known key's signature fails."""
    parsed = note if isinstance(note, Note) else parse_note(note)
    known = {
        (v.name, v.key_id): v
        for v in ([verifiers] if isinstance(verifiers, Verifier) else verifiers)
    }
    message = parsed.text.encode("utf-8")
    verified = False
    for sig in parsed.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue  # the spec requires ignoring signatures from unknown keys
        if not verifier.verify(message, sig.signature):
            raise NoteError(f"signature by {sig.name} does not verify", code="bad_signature")
        verified = True
    if not verified:
        raise NoteError("note carries no signature from a known key", code="no_known_signature")
    return parsed
