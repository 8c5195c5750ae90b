"""The offline verifier's core: everything ``veche verify`` checks in an exported log.

docs/protocol.md §10 asks for a verifier that trusts nothing the server says and
reports every failure it finds with the entry's ``seq``. ``verify_log`` checks:

- every line of ``entries.ndjson`` is canonical JSON and a valid entry (``v`` is 1,
  the kind is registered, the body is valid for it, ``at`` is a real UTC second);
- ``seq`` runs 0, 1, 2, … by position, and each ``prev`` is the previous line's leaf
  hash (64 zeros for entry 0); entry 0 is ``log.genesis`` and no other entry is;
- the genesis entry names the key in use (public key, verifier key and origin);
- the checkpoint's signature verifies under the pinned verifier key (or, with a
  warning, the one in ``key.json``), and its root is the RFC 9162 root of the first
  ``size`` leaves;
- every checkpoint remembered in ``state_dir`` from earlier runs is still the root of
  the same-size prefix and is consistent (RFC 9162 §2.1.4) with the new one, so a
  server that rewrites history and re-signs it is caught; the new checkpoint is then
  remembered.

The chain-and-hash pass lives in ``audit.chain``. The Merkle levels are built with
one hash per node and kept, so the root of any prefix and any consistency proof
cost ``O(log n)`` more.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from audit.core.canonical import b64url_decode
from audit.core.chain import check_entries, merkle_levels
from audit.core.checkpoint import Checkpoint, verify_checkpoint
from audit.core.cosignature import Witness, check_cosignatures
from audit.core.entry import GENESIS_KIND, EntryKinds, LogGenesis, parse_entry
from audit.core.errors import AuditError, ExportError, NoteError, ProofError
from audit.core.export import ExportedLog, read_export
from audit.core.merkle import EMPTY_ROOT, consistency_proof, root_from_nodes, verify_consistency
from audit.core.note import parse_verifier_key

__all__ = ["Failure", "Report", "verify_log"]

Progress = Callable[[int, int], None]

MAX_FAILURES = 10_000


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed check: the entry's ``seq`` (its position), or ``None`` if global."""

    seq: int | None
    code: str
    detail: str


@dataclass(slots=True)
class Report:
    """What ``verify_log`` found. ``ok`` only when no check failed."""

    entries: int = 0
    root: bytes = EMPTY_ROOT
    checkpoint: Checkpoint | None = None
    key_pinned: bool = False
    previous_checkpoints: list[int] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    omitted_failures: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.omitted_failures and self.checkpoint is not None

    def fail(self, seq: int | None, code: str, detail: str) -> None:
        if len(self.failures) < MAX_FAILURES:
            self.failures.append(Failure(seq, code, detail))
        else:
            self.omitted_failures += 1


def _entries_data(data: bytes, report: Report) -> bytes:
    if data and not data.endswith(b"\n"):
        last = data.count(b"\n")
        report.fail(last, "missing_newline", f"line {last + 1} has no final newline")
        return data + b"\n"
    return data


def _state_path(state_dir: Path, origin: str) -> Path:
    # The origin may come from an unpinned, server-written key: keep it to one safe,
    # bounded path component ("..", "/" and very long names included).
    digest = hashlib.sha256(origin.encode("utf-8")).hexdigest()[:16]
    return state_dir / f"{urllib.parse.quote(origin, safe='')[:64]}-{digest}"


def _load_state(
    state_dir: Path, origin: str, verifier_key: str, report: Report
) -> list[tuple[Checkpoint, str]]:
    folder = _state_path(state_dir, origin)
    seen: list[tuple[Checkpoint, str]] = []
    if not folder.is_dir():
        return seen
    for path in sorted(folder.glob("*.txt")):
        try:
            seen.append((verify_checkpoint(path.read_bytes(), verifier_key), path.name))
        except NoteError as exc:
            report.warnings.append(
                f"remembered checkpoint {path.name} does not verify with this key: {exc.detail}"
            )
    return seen


def _remember(state_dir: Path, checkpoint: Checkpoint, note: str) -> None:
    folder = _state_path(state_dir, checkpoint.origin)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{checkpoint.size:020d}-{hashlib.sha256(note.encode()).hexdigest()[:16]}.txt"
    target = folder / name
    if not target.exists():
        tmp = folder / (name + ".tmp")
        tmp.write_text(note, "utf-8")
        tmp.replace(target)


def _check_genesis(first_line: bytes, kinds: EntryKinds, key: str | None, report: Report) -> None:
    if not first_line:
        return  # an empty log or an empty first line is reported by the chain pass
    try:
        entry = parse_entry(first_line, kinds)
    except AuditError:
        return  # already reported by the chain pass
    if entry.kind != GENESIS_KIND or not isinstance(entry.body, LogGenesis):
        return  # already reported by the chain pass
    if key is None:
        return
    verifier = parse_verifier_key(key)
    body = entry.body
    if b64url_decode(body.public_key) != verifier.public_key:
        report.fail(0, "genesis_key", "log.genesis names another public key than the one in use")
    if body.verifier_key != key:
        report.fail(0, "genesis_key", "log.genesis names another verifier key than the one in use")
    if body.origin != verifier.name:
        report.fail(
            0, "genesis_origin", f"log.genesis origin {body.origin!r} is not the key's name"
        )


def verify_log(
    source: Path | ExportedLog,
    *,
    kinds: EntryKinds,
    pinned_verifier_key: str | None = None,
    state_dir: Path | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    witnesses: Sequence[Witness] = (),
    witness_policy: int = 0,
) -> Report:
    """Verify an exported log directory (or one already read) and report every failure.

    ``kinds`` are the entry kinds the log may hold (the deployment's whole set);
    ``pinned_verifier_key`` is the key the auditor trusts (else ``key.json``'s, with a
    warning); ``state_dir`` remembers checkpoints between runs; ``progress(done,
    total)`` is called as lines are checked; ``workers`` caps the processes used for a
    large log (``None``: one per CPU). With ``witnesses``, the checkpoint must carry
    valid cosignatures of ``witness_policy`` of them (docs/protocol.md §15.8).
    """
    report = Report()
    try:
        log = source if isinstance(source, ExportedLog) else read_export(source)
    except ExportError as exc:
        report.fail(None, exc.code, exc.detail)
        return report

    # Which key to trust.
    key: str | None = pinned_verifier_key
    if log.key_error is not None:
        report.fail(None, "bad_key_file", log.key_error)
    if pinned_verifier_key is not None:
        report.key_pinned = True
        if log.key_info is not None and log.key_info.verifier_key != pinned_verifier_key:
            report.fail(None, "key_mismatch", "key.json names another key than the pinned one")
    elif log.key_info is not None:
        key = log.key_info.verifier_key
        report.warnings.append(
            "the verifier key was not pinned: it was taken from key.json, which the server wrote"
        )
    if key is not None:
        try:
            parse_verifier_key(key)
        except NoteError as exc:
            report.fail(None, exc.code, f"verifier key: {exc.detail}")
            key = None

    # The signed checkpoint.
    checkpoint: Checkpoint | None = None
    if key is not None:
        try:
            checkpoint = verify_checkpoint(log.checkpoint_note, key)
        except NoteError as exc:
            report.fail(None, "checkpoint_signature", f"checkpoint.txt: {exc.detail}")
    report.checkpoint = checkpoint
    witnessed = checkpoint is not None and _check_witnesses(
        log.checkpoint_note, witnesses, witness_policy, report
    )

    # Entries: canonical form, validity, chain, leaf hashes.
    data = _entries_data(log.entries, report)
    leaves = check_entries(data, report.fail, kinds, progress, workers)
    _check_genesis(data[: data.find(b"\n")], kinds, key, report)
    report.entries = len(leaves)
    if not leaves:
        report.fail(None, "no_genesis", "the log has no entries, not even log.genesis")
    levels = merkle_levels(leaves)

    def get_node(level: int, index: int) -> bytes:
        return levels[level][index]

    report.root = root_from_nodes(len(leaves), get_node)

    if checkpoint is None:
        return report
    n = len(leaves)
    if checkpoint.size > n:
        report.fail(
            None,
            "checkpoint_beyond_log",
            f"the checkpoint covers {checkpoint.size} entries but the log has {n}",
        )
    else:
        if root_from_nodes(checkpoint.size, get_node) != checkpoint.root:
            fork = (
                " that the witnesses cosigned: the log was rewritten after they saw it (a fork)"
                if witnessed
                else ""
            )
            report.fail(
                None,
                "witnessed_root_mismatch" if witnessed else "root_mismatch",
                f"the Merkle root of the first {checkpoint.size} entries is not the signed "
                f"root{fork}",
            )
        if checkpoint.size < n:
            report.warnings.append(
                f"entries {checkpoint.size}..{n - 1} are not covered by the signed checkpoint"
            )

    if state_dir is not None and key is not None:
        for old, name in _load_state(state_dir, checkpoint.origin, key, report):
            report.previous_checkpoints.append(old.size)
            _check_against(old, name, checkpoint, n, get_node, report)
        _remember(state_dir, checkpoint, log.checkpoint_note)
    return report


def _check_witnesses(note: str, witnesses: Sequence[Witness], policy: int, report: Report) -> bool:
    """Whether ``policy`` of ``witnesses`` cosigned the checkpoint (§15.8); a failure
    names the witnesses whose cosignature is missing or invalid."""
    if not witnesses:
        return False
    try:
        check = check_cosignatures(note, witnesses, policy)
    except NoteError as exc:
        report.fail(None, exc.code, f"checkpoint.txt: {exc.detail}")
        return False
    if not check.ok:
        report.fail(
            None,
            "witness_cosignatures",
            f"the checkpoint does not carry the cosignatures you require: {check.describe()}; "
            "a checkpoint the witnesses did not cosign may show you a history they were not "
            "shown (a fork)",
        )
        return False
    return True


def _check_against(
    old: Checkpoint,
    name: str,
    new: Checkpoint,
    n: int,
    get_node: Callable[[int, int], bytes],
    report: Report,
) -> None:
    """Hold a remembered checkpoint against the log and the new checkpoint."""
    if old.size > n:
        report.fail(
            None,
            "rollback",
            f"a checkpoint seen before ({name}) covers {old.size} entries; the log has {n}",
        )
    elif old.size and root_from_nodes(old.size, get_node) != old.root:
        report.fail(
            None,
            "history_rewritten",
            f"the first {old.size} entries no longer have the root signed in {name}",
        )
    if old.size == 0 or new.size == 0:
        if old.size == new.size and old.root != new.root:
            report.fail(None, "inconsistent_checkpoint", f"{name} and the new checkpoint differ")
        return
    small, large = (old, new) if old.size <= new.size else (new, old)
    if large.size > n:
        return  # no leaves to build the proof from; "rollback" or "beyond" is reported
    try:
        proof = consistency_proof(small.size, large.size, get_node)
        verify_consistency(small.size, large.size, small.root, large.root, proof)
    except ProofError as exc:
        report.fail(
            None,
            "inconsistent_checkpoint",
            f"the new checkpoint is not consistent with {name}: {exc.detail}",
        )
