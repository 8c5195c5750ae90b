"""C2SP tlog-cosignature, Ed25519 ``cosignature/v1`` (https://c2sp.org/tlog-cosignature;
docs/protocol.md §15.1–§15.3).

A cosignature is a signed-note signature line on a checkpoint made by a *witness*:

- key ID: ``SHA-256(name || 0x0A || 0x04 || 32-byte Ed25519 public key)[:4]``;
- signature bytes: ``timestamp`` (8 bytes, big-endian, at most ``2**63 - 1``) followed
  by the 64-byte Ed25519 signature;
- signed message: ``"cosignature/v1\\n" + "time " + decimal timestamp + "\\n"`` followed
  by the checkpoint's whole note text (its final newline included, no signature lines);
- verifier key: ``name+hex(key ID)+base64(0x04 || public key)``.

The time of signing is a parameter: this module never reads a clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.core.errors import NoteError
from audit.core.note import (
    Note,
    NoteSignature,
    b64std_decode,
    b64std_encode,
    check_key_name,
    parse_note,
    public_key_bytes,
)

__all__ = [
    "ALG_COSIGNATURE_V1",
    "CosignatureCheck",
    "Witness",
    "check_cosignatures",
    "cosign",
    "cosigned_message",
    "parse_witness_key",
    "witness_key",
    "witness_key_id",
]

ALG_COSIGNATURE_V1 = 0x04
MAX_TIMESTAMP = 2**63 - 1
HEADER = "cosignature/v1\n"
_KEY_HASH = "0123456789abcdef"


def witness_key_id(name: str, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || 0x04 || public key)[:4]``."""
    if len(public_key) != 32:
        raise NoteError(f"Ed25519 public key is {len(public_key)} bytes, not 32", code="bad_key")
    return hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key
    ).digest()[:4]


def witness_key(name: str, public_key: bytes) -> str:
    """The witness's verifier key ``name+hex(key ID)+base64(0x04 || public key)``."""
    check_key_name(name)
    kid = witness_key_id(name, public_key)
    return f"{name}+{kid.hex()}+{b64std_encode(bytes([ALG_COSIGNATURE_V1]) + public_key)}"


def cosigned_message(note_text: str, timestamp: int) -> bytes:
    """The bytes a ``cosignature/v1`` signs: header line, time line, the note text."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"cosignature time {timestamp} is out of range", code="bad_cosignature")
    if not note_text.endswith("\n"):
        raise NoteError("checkpoint text does not end with a newline", code="bad_checkpoint")
    return (HEADER + f"time {timestamp}\n" + note_text).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Witness:
    """A witness a client trusts: its name and Ed25519 public key."""

    name: str
    key_id: bytes
    public_key: bytes

    @property
    def vkey(self) -> str:
        return witness_key(self.name, self.public_key)

    def timestamp_of(self, note_text: str, signature: NoteSignature) -> int:
        """The time of ``signature`` if it is this witness's valid cosignature on
        ``note_text``; raise ``NoteError`` otherwise."""
        if signature.name != self.name or signature.key_id != self.key_id:
            raise NoteError(f"the signature is not by witness {self.name}", code="wrong_witness")
        raw = signature.signature
        if len(raw) != 8 + 64:
            raise NoteError(
                f"cosignature by {self.name} is {len(raw)} bytes, not 72", code="bad_cosignature"
            )
        timestamp = int.from_bytes(raw[:8], "big")
        message = cosigned_message(note_text, timestamp)
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(raw[8:], message)
        except InvalidSignature:
            raise NoteError(
                f"cosignature by witness {self.name} does not verify", code="bad_cosignature"
            ) from None
        return timestamp


def parse_witness_key(text: str) -> Witness:
    """Parse ``name+hex(key ID)+base64(0x04 || key)``, checking the key ID it claims."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("witness key is not name+keyid+key", code="bad_witness_key")
    name, kid_hex, key_b64 = parts
    check_key_name(name)
    if len(kid_hex) != 8 or any(c not in _KEY_HASH for c in kid_hex):
        raise NoteError("witness key ID is not 8 lowercase hex digits", code="bad_witness_key")
    raw = b64std_decode(key_b64, "witness key")
    if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
        raise NoteError(
            "witness key is not an Ed25519 cosignature/v1 key (type 0x04, 32 bytes)",
            code="bad_witness_key",
        )
    public_key = raw[1:]
    if witness_key_id(name, public_key) != bytes.fromhex(kid_hex):
        raise NoteError("witness key ID does not match its name and key", code="bad_witness_key")
    return Witness(name, bytes.fromhex(kid_hex), public_key)


def cosign(
    private_key: Ed25519PrivateKey, name: str, note_text: str, timestamp: int
) -> NoteSignature:
    """The ``cosignature/v1`` signature line of witness ``name`` on ``note_text`` at
    ``timestamp`` (POSIX seconds)."""
    check_key_name(name)
    kid = witness_key_id(name, public_key_bytes(private_key))
    signature = private_key.sign(cosigned_message(note_text, timestamp))
    return NoteSignature(name, kid, timestamp.to_bytes(8, "big") + signature)


@dataclass(frozen=True, slots=True)
class CosignatureCheck:
    """Which trusted witnesses cosigned a checkpoint, which did not, and what failed."""

    required: int
    cosigned: tuple[str, ...]
    missing: tuple[str, ...]
    invalid: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return len(self.cosigned) >= self.required and not self.invalid

    def describe(self) -> str:
        """One sentence for a person, naming the witnesses that are missing."""
        parts = [f"{len(self.cosigned)} of the required {self.required} witness cosignature(s)"]
        if self.cosigned:
            parts.append("cosigned by " + ", ".join(self.cosigned))
        if self.missing:
            parts.append("missing: " + ", ".join(self.missing))
        if self.invalid:
            parts.append("invalid: " + ", ".join(self.invalid))
        return "; ".join(parts)


def check_cosignatures(
    note: str | bytes | Note, witnesses: Sequence[Witness], required: int
) -> CosignatureCheck:
    """Count the valid cosignatures of ``witnesses`` on a checkpoint note.

    Signature lines of other keys are ignored (signed-note); a line that names a trusted
    witness and key ID but does not verify is listed as invalid. The caller decides what
    ``ok`` means for it (``required`` of ``witnesses``)."""
    if required < 0 or required > len(witnesses):
        raise NoteError(
            f"a policy of {required} of {len(witnesses)} witnesses cannot be met",
            code="bad_witness_policy",
        )
    parsed = note if isinstance(note, Note) else parse_note(note)
    cosigned: list[str] = []
    invalid: list[str] = []
    for witness in witnesses:
        lines = [
            s for s in parsed.signatures if s.name == witness.name and s.key_id == witness.key_id
        ]
        good = False
        for line in lines:
            try:
                witness.timestamp_of(parsed.text, line)
            except NoteError:
                invalid.append(witness.name)
                break
            good = True
        if good and witness.name not in invalid:
            cosigned.append(witness.name)
    missing = tuple(w.name for w in witnesses if w.name not in cosigned and w.name not in invalid)
    return CosignatureCheck(required, tuple(cosigned), missing, tuple(invalid))
