"""A log rewritten by its operator, who holds the authority key: entries changed, added
or removed, the chain rebuilt and the checkpoint re-signed, so that the log verifies as a
log and only the election checks can catch the lie."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.core.canonical import canonical_bytes, decode_canonical
from audit.core.checkpoint import Checkpoint, sign_checkpoint
from audit.core.entry import leaf_hash
from audit.core.export import KeyInfo, write_export
from audit.core.merkle import mth
from ballot.core import kinds

Entries = list[dict[str, Any]]


def read_entries(directory: Path) -> Entries:
    lines = (directory / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    return [decode_canonical(line) for line in lines]  # type: ignore[misc]


def rechain(entries: Entries, key: Ed25519PrivateKey, origin: str, directory: Path) -> Path:
    """Number, chain and sign ``entries`` as an exported log in ``directory``; every
    close names the root of the (new) prefix it counts."""
    lines: list[bytes] = []
    prev = "0" * 64
    for seq, entry in enumerate(entries):
        entry = {**entry, "seq": seq, "prev": prev}
        if entry["kind"] == kinds.ELECTION_CLOSED:
            # The close counts everything before it, forged entries included (a result
            # published after it would need re-signing: forge before any result).
            root = mth([leaf_hash(line) for line in lines]).hex()
            entry["body"] = {**entry["body"], "checkpoint_size": seq, "checkpoint_root": root}
        line = canonical_bytes(entry)
        lines.append(line)
        prev = leaf_hash(line).hex()
    root = mth([leaf_hash(line) for line in lines])
    note = sign_checkpoint(key, origin, Checkpoint(origin, len(lines), root))
    write_export(directory, lines, note, KeyInfo.from_private_key(origin, key))
    return directory
