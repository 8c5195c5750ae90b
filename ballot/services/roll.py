"""The voter roll of an election and its one-time access codes.

An administrator imports a CSV roll (``voter_id`` and an optional ``email``); people on
it obtain a credential by logging in with that e-mail or, for those given one, with a
one-time access code. Only a code's hash is stored (``code_hash``); the codes are shown
once, when they are made.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ballot.services.errors import ElectionStateConflict, RollRejected
from ballot.services.lifecycle import ElectionLifecycle
from ballot.services.models import RollEntry

__all__ = ["VoterRoll", "access_codes_csv", "code_hash", "formula_safe", "new_access_code"]

# A spreadsheet reads a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def code_hash(code: str) -> str:
    normalized = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(b"veche/access-code/v1\n" + normalized.encode()).hexdigest()


def new_access_code() -> str:
    """Twenty characters of an unambiguous alphabet (about 98 bits), grouped by five."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(20))
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


def formula_safe(cell: str) -> str:
    """``cell`` with a ``'`` in front if a spreadsheet would take it for a formula."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def access_codes_csv(made: list[tuple[str, str]]) -> str:
    """The access codes as CSV (docs/protocol.md §5.1): a ``voter_id,access_code`` header,
    then one row per code, quoted by the csv module where a value needs it, and every
    cell that a spreadsheet would run as a formula prefixed with ``'``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # The csv module quotes a value holding "\n" (the line end), not one holding a lone
    # "\r", which some readers take for a line end too: such a row is quoted whole.
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["voter_id", "access_code"])
    for ref, code in made:
        row = [formula_safe(ref), formula_safe(code)]
        (quoted if any("\r" in cell for cell in row) else writer).writerow(row)
    return out.getvalue()


class VoterRoll:
    """Importing the roll and making access codes, in the caller's transaction."""

    def __init__(self, elections: ElectionLifecycle) -> None:
        self.elections = elections

    def import_roll(self, db: Session, election_id: str, text: str) -> int:
        """Add the rows of a CSV roll (``voter_id`` and optional ``email`` columns).

        Every bad row is reported with its line number; nothing is added unless all are good.
        """
        row = self.elections.get(db, election_id)
        if row.status == "closed":
            raise ElectionStateConflict("closed", "The election is closed.")
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        if reader.fieldnames is None or "voter_id" not in [f.strip() for f in reader.fieldnames]:
            raise RollRejected("bad_roll", "The roll needs a header line with a 'voter_id' column.")
        problems: list[str] = []
        seen: set[str] = set()
        entries: list[RollEntry] = []
        existing = set(
            db.scalars(select(RollEntry.voter_ref).where(RollEntry.election_id == election_id))
        )
        for line_no, record in enumerate(reader, start=2):
            clean = {
                (k or "").strip(): (v or "").strip()
                for k, v in record.items()
                if not isinstance(v, list)
            }
            ref = clean.get("voter_id", "")
            email = clean.get("email", "").lower() or None
            if not ref:
                problems.append(f"line {line_no}: the voter_id is empty")
            elif len(ref) > 100:
                problems.append(f"line {line_no}: the voter_id is longer than 100 characters")
            elif ref in seen or ref in existing:
                problems.append(f"line {line_no}: the voter_id {ref!r} appears twice")
            if email is not None and ("@" not in email or len(email) > 254 or " " in email):
                problems.append(f"line {line_no}: {email!r} is not an e-mail address")
            if None in record:
                problems.append(f"line {line_no}: more fields than the header has")
            seen.add(ref)
            entries.append(RollEntry(election_id=election_id, voter_ref=ref, email=email))
        if problems:
            shown = "; ".join(problems[:20])
            more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
            raise RollRejected("bad_roll", f"The roll has errors: {shown}{more}.")
        db.add_all(entries)
        db.flush()
        return len(entries)

    def make_access_codes(self, db: Session, election_id: str) -> list[tuple[str, str]]:
        """Codes for every roll entry that has none yet: (voter_id, code), shown only once."""
        self.elections.get(db, election_id)
        made: list[tuple[str, str]] = []
        rows = db.scalars(
            select(RollEntry).where(
                RollEntry.election_id == election_id, RollEntry.code_hash.is_(None)
            )  # type: ignore[union-attr]
        )
        for entry in rows:
            code = new_access_code()
            entry.code_hash = code_hash(code)
            made.append((entry.voter_ref, code))
        db.flush()
        return made
