"""Log checkpoints in the C2SP tlog-checkpoint format (https://c2sp.org/tlog-checkpoint).

The note text is: the origin line, the tree size in decimal without leading zeros,
the root hash in standard padded base64, then optional non-empty extension lines,
each line ending in a newline. It is signed as a C2SP signed note (``audit.note``)
whose key name is the origin, as the spec recommends; Veche's verifier insists on
that match unless told otherwise. Time is never read here: a checkpoint carries no
timestamp and the caller decides when to issue one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.core.errors import NoteError
from audit.core.merkle import HASH_SIZE
from audit.core.note import (
    b64std_decode,
    b64std_encode,
    parse_verifier_key,
    sign_note,
    verify_note,
)

__all__ = ["Checkpoint", "sign_checkpoint", "verify_checkpoint"]

_SIZE = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement that the log with ``origin`` has ``size`` leaves and ``root``."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError("checkpoint origin is empty or has a newline", code="bad_checkpoint")
        if self.size < 0:
            raise NoteError("checkpoint size is negative", code="bad_checkpoint")
        if len(self.root) != HASH_SIZE:
            raise NoteError(
                f"checkpoint root is {len(self.root)} bytes, not {HASH_SIZE}",
                code="bad_checkpoint",
            )
        for line in self.extensions:
            if not line or "\n" in line:
                raise NoteError("checkpoint extension line is empty", code="bad_checkpoint")

    def to_body(self) -> str:
        lines = [self.origin, str(self.size), b64std_encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a checkpoint note text (not the signatures)."""
        if not body.endswith("\n"):
            raise NoteError("checkpoint does not end with a newline", code="bad_checkpoint")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("checkpoint has fewer than three lines", code="bad_checkpoint")
        origin, size_text, root_text, *extensions = lines
        if _SIZE.fullmatch(size_text) is None:
            raise NoteError(
                f"checkpoint size {size_text!r} is not a decimal number", code="bad_checkpoint"
            )
        root = b64std_decode(root_text, "checkpoint root")
        return cls(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(private_key: Ed25519PrivateKey, name: str, checkpoint: Checkpoint) -> str:
    """Sign ``checkpoint`` as a note by key ``name`` and return the note text."""
    return sign_note(checkpoint.to_body(), name, private_key)


def verify_checkpoint(
    note_text: str | bytes, verifier_key: str, *, origin: str | None = None
) -> Checkpoint:
    """Verify the note under ``verifier_key`` and return the checkpoint it states.

    The origin must equal ``origin`` if given, otherwise the verifier key's name.
    """
    verifier = parse_verifier_key(verifier_key)
    note = verify_note(note_text, verifier)
    checkpoint = Checkpoint.parse(note.text)
    expected = verifier.name if origin is None else origin
    if checkpoint.origin != expected:
        raise NoteError(
            f"checkpoint origin {checkpoint.origin!r} is not {expected!r}", code="wrong_origin"
        )
    return checkpoint
