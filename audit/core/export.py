"""The exported log directory that ``veche export`` writes and ``veche verify`` reads.

docs/protocol.md §3.16 lets an auditor verify a log from an exported directory on
their own machine. The directory holds three files:

``entries.ndjson``
    Every entry, in ``seq`` order from 0, each line exactly the canonical bytes that
    were hashed (``audit.entry``), followed by one ``\\n``. Canonical JSON never
    contains a raw newline, so the file splits unambiguously; the verifier hashes
    each line as read and never re-encodes it.
``checkpoint.txt``
    The latest signed checkpoint (C2SP tlog-checkpoint signed note, ``audit.checkpoint``)
    covering the first ``size`` entries; normally ``size`` is the number of entries.
``key.json``
    ``{"origin":…,"public_key":…,"verifier_key":…}`` in canonical JSON followed by
    ``\\n``: the log's origin, its raw Ed25519 public key in base64url without padding,
    and the signed-note verifier key string. Auditors should pin the verifier key
    they obtained independently; this file is a convenience, not a trust anchor.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.core.canonical import CanonicalError, b64url_encode, canonical_bytes, decode_canonical
from audit.core.errors import ExportError
from audit.core.note import public_key_bytes, verifier_key

__all__ = [
    "CHECKPOINT_FILE",
    "ENTRIES_FILE",
    "KEY_FILE",
    "ExportedLog",
    "KeyInfo",
    "iter_entries",
    "read_export",
    "write_export",
]

ENTRIES_FILE = "entries.ndjson"
CHECKPOINT_FILE = "checkpoint.txt"
KEY_FILE = "key.json"


class KeyInfo(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The log's identity as written to ``key.json``."""

    origin: str
    public_key: str
    verifier_key: str

    @classmethod
    def from_private_key(cls, origin: str, key: Ed25519PrivateKey) -> KeyInfo:
        raw = public_key_bytes(key)
        return cls(origin, b64url_encode(raw), verifier_key(origin, raw))

    def to_bytes(self) -> bytes:
        return canonical_bytes(msgspec.to_builtins(self)) + b"\n"


@dataclass(frozen=True, slots=True)
class ExportedLog:
    """An exported directory, read back. ``entries`` is the raw ``entries.ndjson``."""

    directory: Path
    entries: bytes
    checkpoint_note: str
    key_info: KeyInfo | None
    key_error: str | None = None


def write_export(
    directory: Path,
    entries: Iterable[bytes],
    checkpoint_note: str,
    key_info: KeyInfo,
) -> int:
    """Write an exported log directory; return the number of entries written.

    Files are written under temporary names and renamed, so a reader never sees a
    half-written export.
    """
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    tmp = directory / (ENTRIES_FILE + ".tmp")
    with tmp.open("wb") as out:
        for data in entries:
            if b"\n" in data or not data:
                raise ExportError(f"entry {count} is empty or holds a newline", code="bad_entry")
            out.write(data)
            out.write(b"\n")
            count += 1
    os.replace(tmp, directory / ENTRIES_FILE)
    for name, content in (
        (CHECKPOINT_FILE, checkpoint_note.encode("utf-8")),
        (KEY_FILE, key_info.to_bytes()),
    ):
        tmp = directory / (name + ".tmp")
        tmp.write_bytes(content)
        os.replace(tmp, directory / name)
    return count


def read_export(directory: Path) -> ExportedLog:
    """Read an exported directory. Missing files raise ``ExportError``; a malformed
    ``key.json`` is kept as ``key_error`` so the verifier can report it and go on."""
    paths = {name: directory / name for name in (ENTRIES_FILE, CHECKPOINT_FILE, KEY_FILE)}
    missing = [name for name, path in paths.items() if not path.is_file()]
    if missing:
        raise ExportError(f"{directory.name}: missing {', '.join(missing)}", code="missing_file")
    entries = paths[ENTRIES_FILE].read_bytes()
    try:
        note = paths[CHECKPOINT_FILE].read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ExportError("checkpoint.txt is not UTF-8", code="bad_checkpoint") from None
    key_info: KeyInfo | None = None
    key_error: str | None = None
    raw = paths[KEY_FILE].read_bytes()
    try:
        if not raw.endswith(b"\n"):
            raise CanonicalError("key.json does not end with a newline")
        key_info = msgspec.convert(decode_canonical(raw[:-1]), type=KeyInfo, strict=True)
    except (CanonicalError, msgspec.ValidationError) as exc:
        key_error = f"key.json is malformed: {exc}"
    return ExportedLog(directory, entries, note, key_info, key_error)


def iter_entries(path: Path) -> Iterator[bytes]:
    """Stream the entries of an ``entries.ndjson`` file, without their newlines."""
    with path.open("rb") as src:
        for line in src:
            yield line[:-1] if line.endswith(b"\n") else line
