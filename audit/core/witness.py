"""A C2SP tlog-witness's decisions, without I/O (https://c2sp.org/tlog-witness;
docs/protocol.md §15.4–§15.5).

``parse_add_checkpoint`` reads an ``add-checkpoint`` request body::

    old <size>\\n
    <base64 hash>\\n          (zero to 63 consistency proof lines)
    \\n
    <signed checkpoint note>

``decide`` takes that request, the log keys the witness trusts (by origin) and what
the witness holds for the log (its latest cosigned size and root, or nothing), and
returns the answer: 200 with the checkpoint to record, or a refusal with the status
the specification names:

- 400: malformed body, an old size above the checkpoint's size, or proof lines after
  ``old 0``;
- 404: the checkpoint's origin is not a log the witness knows;
- 403: no signature of a trusted key of that log verifies;
- 409: the old size is not the size the witness holds (the body is that size and a
  newline, ``Content-Type: text/x.tlog.size``), or the same size with another root;
- 422: the consistency proof does not verify.

The witness then records the new state with a compare-and-swap on the old size (so two
requests cannot both advance from one state) and signs the cosignature.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from audit.core.checkpoint import Checkpoint
from audit.core.errors import NoteError, ProofError
from audit.core.merkle import HASH_SIZE, verify_consistency
from audit.core.note import Note, Verifier, b64std_decode, b64std_encode, parse_note

__all__ = [
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpoint",
    "Held",
    "Refusal",
    "decide",
    "parse_add_checkpoint",
    "render_add_checkpoint",
]

MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_BODY = 64 * 1024
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """A parsed ``add-checkpoint`` request."""

    old_size: int
    proof: tuple[bytes, ...]
    note: Note
    checkpoint: Checkpoint


@dataclass(frozen=True, slots=True)
class Held:
    """What a witness holds for one log: the latest checkpoint it cosigned."""

    size: int
    root: bytes


class Refusal(Exception):
    """The witness's refusal: an HTTP status, a sentence, and for 409 the held size."""

    def __init__(self, status: int, detail: str, *, held_size: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.held_size = held_size

    @property
    def content_type(self) -> str:
        return SIZE_CONTENT_TYPE if self.held_size is not None else "text/plain; charset=utf-8"

    @property
    def body(self) -> bytes:
        if self.held_size is not None:
            return f"{self.held_size}\n".encode("ascii")
        return (self.detail + "\n").encode("utf-8")


def render_add_checkpoint(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """The request body for ``note`` with a consistency proof from ``old_size``."""
    lines = [f"old {old_size}\n", *(b64std_encode(p) + "\n" for p in proof), "\n"]
    return ("".join(lines) + note).encode("utf-8")


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse a request body, raising ``Refusal(400)`` for anything malformed."""
    if len(body) > MAX_BODY:
        raise Refusal(400, f"the request is larger than {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "the request is not UTF-8") from None
    first, sep, rest = text.partition("\n")
    if not sep or not first.startswith("old "):
        raise Refusal(400, "the request does not start with an 'old <size>' line")
    size_text = first[4:]
    if _SIZE.fullmatch(size_text) is None:
        raise Refusal(400, f"old size {size_text!r} is not a decimal without leading zeros")
    old_size = int(size_text)
    proof: list[bytes] = []
    while True:
        line, sep, rest = rest.partition("\n")
        if not sep:
            raise Refusal(400, "the request has no empty line before the checkpoint")
        if line == "":
            break
        if len(proof) == MAX_PROOF_LINES:
            raise Refusal(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
        try:
            item = b64std_decode(line, "consistency proof line")
        except NoteError as exc:
            raise Refusal(400, exc.detail) from None
        if len(item) != HASH_SIZE:
            raise Refusal(400, f"a proof line is {len(item)} bytes, not {HASH_SIZE}")
        proof.append(item)
    try:
        note = parse_note(rest)
        checkpoint = Checkpoint.parse(note.text)
    except NoteError as exc:
        raise Refusal(400, f"the checkpoint is malformed: {exc.detail}") from None
    return AddCheckpoint(old_size, tuple(proof), note, checkpoint)


def _signed_by_log(request: AddCheckpoint, keys: Sequence[Verifier]) -> bool:
    message = request.note.text.encode("utf-8")
    for sig in request.note.signatures:
        for key in keys:
            known = sig.name == key.name and sig.key_id == key.key_id
            if known and key.verify(message, sig.signature):
                return True
    return False


def decide(
    request: AddCheckpoint, logs: Mapping[str, Sequence[Verifier]], held: Held | None
) -> Checkpoint:
    """The checkpoint to record and cosign, or ``Refusal`` with the spec's status.

    ``held`` is the witness's state for the checkpoint's origin (None: it never cosigned
    one); the caller reads it and later swaps it only if it is still the same."""
    checkpoint = request.checkpoint
    keys = logs.get(checkpoint.origin)
    if keys is None:
        raise Refusal(404, f"this witness does not know the log {checkpoint.origin!r}")
    if not _signed_by_log(request, keys):
        raise Refusal(403, "no signature on the checkpoint verifies under the log's key")
    old = request.old_size
    if old > checkpoint.size:
        raise Refusal(400, f"old size {old} is larger than the checkpoint's {checkpoint.size}")
    held_size = 0 if held is None else held.size
    if old != held_size:
        raise Refusal(409, f"the witness holds size {held_size}, not {old}", held_size=held_size)
    if old == 0:
        if request.proof:
            raise Refusal(400, "a request from size 0 must carry no consistency proof")
        return checkpoint
    assert held is not None
    if old == checkpoint.size:
        if held.root != checkpoint.root:
            raise Refusal(
                409,
                f"the witness holds another root for size {old}: the log has forked",
                held_size=held_size,
            )
        if request.proof:
            raise Refusal(422, "a consistency proof between equal sizes must be empty")
        return checkpoint
    try:
        verify_consistency(old, checkpoint.size, held.root, checkpoint.root, request.proof)
    except ProofError as exc:
        raise Refusal(
            422, f"the consistency proof from size {old} does not verify: {exc.detail}"
        ) from None
    return checkpoint
