"""An election's entries read back from the log's bytes (docs/protocol.md §9.9).

The kind of an entry is the one inside its hashed bytes, never the ``log_entry.kind``
column (only an index for the explorer); an entry that claims an election kind but does
not parse, sits at another ``seq`` or is not the kind expected there makes the log
broken (``500 inconsistent_log``), never a silent skip."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.core.entry import Entry, parse_entry
from audit.core.errors import AuditError
from audit.services.models import LogEntry
from ballot.core import kinds, record
from ballot.services.errors import ElectionRecordBroken

ELECTION_ENTRY_KINDS = tuple(kinds.ELECTION_KINDS)
# An entry of an election kind has its kind written, in its canonical bytes, exactly so;
# the marker only skips entries that cannot be one: the parsed bytes decide.
_MARKERS = tuple(f'"kind":"{kind}"'.encode() for kind in ELECTION_ENTRY_KINDS)


def broken(detail: str) -> ElectionRecordBroken:
    """The log does not hold what the election's columns say it does."""
    return ElectionRecordBroken("inconsistent_log", detail)


def election_entries(rows: Iterable[tuple[int, bytes]]) -> Iterator[Entry]:
    """The election entries among ``(seq, data)`` rows, parsed from their bytes.

    The kind is the one inside the bytes: a row whose data is not an election entry is
    skipped whatever its ``kind`` column says, and a row that claims an election kind in
    its bytes but does not parse, or sits at another ``seq``, is a broken log."""
    for seq, data in rows:
        raw = bytes(data)
        if not any(marker in raw for marker in _MARKERS):
            continue
        try:
            entry = parse_entry(raw, kinds.ELECTION_ENTRIES)
        except AuditError as exc:
            if exc.code == "unknown_kind":
                continue  # another package's entry that merely mentions the words
            raise broken(f"The log entry {seq} does not parse: {exc.detail}") from None
        if entry.seq != seq:
            raise broken(f"The log entry stored at {seq} says it is entry {entry.seq}.")
        yield entry


def read_record(db: Session, election_hash: str, from_seq: int) -> record.ElectionRecord:
    """The election's record from the bytes of the log's entries from its opening on."""
    rows = db.execute(
        select(LogEntry.seq, LogEntry.data)  # type: ignore[call-overload]
        .where(LogEntry.seq >= from_seq)
        .order_by(LogEntry.seq)
    )
    records, _orphans = record.gather(election_entries((seq, data) for seq, data in rows))
    found = records.get(election_hash)
    if found is None:
        raise ElectionRecordBroken("no_record", "The log holds no record of this election.")
    return found


def logged_entry(db: Session, seq: int | None, kind: str, what: str) -> tuple[Entry, bytes]:
    """The entry at ``seq`` parsed from its bytes, which must be of ``kind``."""
    data = db.scalar(select(LogEntry.data).where(LogEntry.seq == seq)) if seq is not None else None
    if data is None:
        raise broken(f"The log has no entry for {what}.")
    raw = bytes(data)
    try:
        entry = parse_entry(raw, kinds.ELECTION_ENTRIES)
    except AuditError as exc:
        raise broken(f"The log entry {seq} is not {what}: {exc.detail}") from None
    if entry.kind != kind or entry.seq != seq:
        raise broken(f"The log entry {seq} is not {what}.")
    return entry, raw
