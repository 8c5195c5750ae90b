"""The voter roll of an election, its one-time access codes, and voters added to an
open election.

An administrator imports a CSV roll (``voter_id`` and an optional ``email``); people on
it obtain a credential by logging in with that e-mail (once they confirmed it) or, for
those given one, with a one-time access code. Only a code's hash is stored
(``code_hash``); the codes are shown once, when they are made.

The roll and the codes can change only while the election is a draft: opening commits
the electorate (docs/protocol.md §6.11) and freezes them (409 ``electorate_frozen``).
A municipality that must add voters to an open election does it with ``add_voters``,
which gives a reason and is logged as ``electorate.added`` (commitments, no personal
data).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from collections.abc import Callable, Sequence

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from audit.services.store import BatchLog
from ballot.core import kinds
from ballot.core.config import ElectionConfig, parse_config
from ballot.core.electorate import voter_commitment
from ballot.services.electorate import roll_key, user_key
from ballot.services.errors import ElectionStateConflict, RollRejected
from ballot.services.lifecycle import ElectionLifecycle, batch_status
from ballot.services.models import Election, ElectorateMember, RollEntry
from kernel.accounts.models import ResidentVerification, User
from kernel.markers import N_

__all__ = [
    "AddedVoters",
    "RollPreview",
    "RollProblem",
    "VoterRoll",
    "access_codes_csv",
    "code_hash",
    "formula_safe",
    "new_access_code",
]

# A spreadsheet reads a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FROZEN = (
    "The roll and the access codes are frozen: the election opened and committed its "
    "electorate. To add voters to the open election, add them with a reason; the "
    "addition is logged (electorate.added)."
)
_PUBLIC_ID = re.compile(r"[0-9a-f]{32,64}")


NO_HEADER = N_("The roll needs a header line with a 'voter_id' column.")


class RollProblem(msgspec.Struct, frozen=True):
    """One bad line of a roll: ``message`` is a catalog message with ``{value}``."""

    line: int
    message: str
    params: dict[str, str]

    def english(self) -> str:
        return f"line {self.line}: " + self.message.format(**self.params)

    def text(self, gettext: Callable[[str], str]) -> str:
        """The problem in the reader's language, for pages."""
        return gettext(self.message).format(**self.params)


class RollPreview(msgspec.Struct, frozen=True):
    """A roll read but not imported: its rows, its problems, the entries already there."""

    rows: list[tuple[str, str | None]]
    problems: list[RollProblem]
    existing: int


class AddedVoters(msgspec.Struct, frozen=True):
    """Voters added to an open election: how many, the ``electorate.added`` entry, and
    the access codes made for added roll entries (shown only this once)."""

    added: int
    seq: int
    access_codes: list[tuple[str, str]]


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

    def _draft(self, db: Session, election_id: str) -> tuple[Election, ElectionConfig]:
        """The election, locked, if its roll may still change (409 otherwise)."""
        row = db.get(Election, election_id, with_for_update=True)
        if row is None:
            row = self.elections.get(db, election_id)  # 404
        if row.status == "closed":
            raise ElectionStateConflict("closed", "The election is closed.")
        if row.status != "draft":
            raise ElectionStateConflict("electorate_frozen", FROZEN)
        config = parse_config(msgspec.json.decode(row.config))
        if not (config.eligibility.roll or config.eligibility.access_codes):
            raise ElectionStateConflict(
                "roll_not_used",
                "This election admits residents verified by staff, not a roll.",
            )
        return row, config

    def import_roll(self, db: Session, election_id: str, text: str) -> int:
        """Add the rows of a CSV roll (``voter_id`` and optional ``email`` columns).

        Every bad row is reported with its line number; nothing is added unless all are good.
        """
        self._draft(db, election_id)
        entries = self._parse_roll(db, election_id, text)
        db.add_all(entries)
        db.flush()
        return len(entries)

    def _parse_roll(self, db: Session, election_id: str, text: str) -> list[RollEntry]:
        entries, problems = self._read_roll(db, election_id, text)
        if problems:
            shown = "; ".join(p.english() for p in problems[:20])
            more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
            raise RollRejected("bad_roll", f"The roll has errors: {shown}{more}.")
        return entries

    def preview_roll(self, db: Session, election_id: str, text: str) -> RollPreview:
        """What ``import_roll`` would add, and every problem by line, changing nothing."""
        self._draft(db, election_id)
        entries, problems = self._read_roll(db, election_id, text)
        return RollPreview(
            rows=[(e.voter_ref, e.email) for e in entries],
            problems=problems,
            existing=self.roll_size(db, election_id),
        )

    def roll_size(self, db: Session, election_id: str) -> int:
        """How many entries the roll has."""
        refs = select(RollEntry.voter_ref).where(RollEntry.election_id == election_id)
        return len(list(db.scalars(refs)))

    def codes_missing(self, db: Session, election_id: str) -> int:
        """How many roll entries have no access code yet."""
        return len(
            list(
                db.scalars(
                    select(RollEntry.voter_ref).where(
                        RollEntry.election_id == election_id,
                        RollEntry.code_hash.is_(None),  # type: ignore[union-attr]
                    )
                )
            )
        )

    def _read_roll(
        self, db: Session, election_id: str, text: str
    ) -> tuple[list[RollEntry], list[RollProblem]]:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        if reader.fieldnames is None or "voter_id" not in [f.strip() for f in reader.fieldnames]:
            raise RollRejected("bad_roll", NO_HEADER)
        problems: list[RollProblem] = []
        seen: set[str] = set()
        seen_emails: set[str] = set()
        entries: list[RollEntry] = []
        existing = set(
            db.scalars(select(RollEntry.voter_ref).where(RollEntry.election_id == election_id))
        )
        existing_emails = set(
            db.scalars(
                select(RollEntry.email).where(
                    RollEntry.election_id == election_id,
                    RollEntry.email.is_not(None),  # type: ignore[union-attr]
                )
            )
        )
        try:
            records = list(enumerate(reader, start=2))
        except csv.Error as exc:
            raise RollRejected("bad_roll", f"The roll is not readable CSV: {exc}.") from None
        for line_no, record in records:
            clean = {
                (k or "").strip(): (v or "").strip()
                for k, v in record.items()
                if not isinstance(v, list)
            }
            ref = clean.get("voter_id", "")
            email = clean.get("email", "").lower() or None

            def problem(message: str, line: int = line_no, **params: str) -> None:
                problems.append(RollProblem(line=line, message=message, params=params))

            if not ref:
                problem(N_("the voter_id is empty"))
            elif len(ref) > 100:
                problem(N_("the voter_id is longer than 100 characters"))
            elif ref in seen or ref in existing:
                problem(N_("the voter_id {value} appears twice"), value=repr(ref))
            if email is not None and ("@" not in email or len(email) > 254 or " " in email):
                problem(N_("{value} is not an e-mail address"), value=repr(email))
            elif email is not None and (email in seen_emails or email in existing_emails):
                # One address reaches one entry: one person, one credential.
                problem(N_("the e-mail {value} appears twice"), value=repr(email))
            if None in record:
                problem(N_("more fields than the header has"))
            seen.add(ref)
            if email is not None:
                seen_emails.add(email)
            entries.append(RollEntry(election_id=election_id, voter_ref=ref, email=email))
        return entries, problems

    def make_access_codes(self, db: Session, election_id: str) -> list[tuple[str, str]]:
        """Codes for every roll entry that has none yet: (voter_id, code), shown only once."""
        self._draft(db, election_id)
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

    # --- voters added to an open election ---------------------------------------------
    def add_voters(
        self,
        election_id: str,
        reason: str,
        *,
        roll: str | None = None,
        residents: Sequence[str] = (),
    ) -> AddedVoters:
        """Add voters to an open election's electorate, logged as ``electorate.added``.

        ``roll``: CSV rows as for ``import_roll`` (an election that admits its roll);
        ``residents``: public ids of accounts verified as residents of the district (an
        election that admits verified residents). ``reason`` (1-500 characters, no
        personal data) is logged. Roll entries added to an election with access codes
        get their codes now, shown only in the answer."""
        reason = reason.strip()
        if not reason or len(reason) > 500 or any(ch < " " for ch in reason):
            raise RollRejected(
                "bad_reason",
                "Give the reason for adding voters (1 to 500 characters, one line, no "
                "personal data): it is published in the log.",
            )
        with self.elections.read() as db:
            row = self.elections.get(db, election_id)
            if row.status != "open":
                raise ElectionStateConflict(
                    "not_open",
                    "Voters are added this way only while the election is open; before "
                    "opening, import the roll (or verify residents) instead.",
                )
            live = self.elections.live(db, election_id)
            config = live.manifest
            entries: list[RollEntry] = []
            keys: list[str] = []
            if config.eligibility.roll or config.eligibility.access_codes:
                if residents or roll is None:
                    raise RollRejected(
                        "bad_addition", "This election admits its roll: add roll rows."
                    )
                entries = self._parse_roll(db, election_id, roll)
                keys = [roll_key(e.voter_ref) for e in entries]
            else:
                if roll is not None or not residents:
                    raise RollRejected(
                        "bad_addition",
                        "This election admits verified residents: add their accounts.",
                    )
                keys = self._verified_residents(db, config.district, residents)
        if not 1 <= len(keys) <= kinds.MAX_ADDED:
            raise RollRejected("bad_addition", f"Add 1 to {kinds.MAX_ADDED} voters at a time.")
        codes: list[tuple[str, str]] = []
        if config.eligibility.access_codes:
            for entry in entries:
                code = new_access_code()
                entry.code_hash = code_hash(code)
                codes.append((entry.voter_ref, code))
        if config.eligibility.roll and not config.eligibility.access_codes:
            missing = [e.voter_ref for e in entries if not e.email]
            if missing:
                raise RollRejected(
                    "bad_addition",
                    f"The voter {missing[0]!r} has no e-mail address, the only way to "
                    "reach a roll entry in this election.",
                )
        commitments = {
            k: voter_commitment(self.elections.commitment_key, config.id, k) for k in keys
        }
        rows = [
            {
                "election_id": e.election_id,
                "voter_ref": e.voter_ref,
                "email": e.email,
                "code_hash": e.code_hash,
            }
            for e in entries
        ]

        def work(wdb: Session, log: BatchLog) -> int:
            if batch_status(wdb, log, election_id) != "open":
                raise ElectionStateConflict("not_open", "Voting is not open in this election.")
            present = set(
                wdb.scalars(
                    select(ElectorateMember.voter_key).where(
                        ElectorateMember.election_id == election_id,
                        ElectorateMember.voter_key.in_(list(commitments)),  # type: ignore[attr-defined]
                    )
                )
            )
            if present:
                raise RollRejected(
                    "already_in_electorate",
                    f"{len(present)} of these voters are in the electorate already.",
                )
            appended = log.append(
                kinds.ELECTORATE_ADDED,
                {
                    "election": live.hash,
                    "reason": reason,
                    "count": len(commitments),
                    "commitments": sorted(commitments.values()),
                },
            )
            if rows:
                wdb.execute(insert(RollEntry), rows)
            wdb.execute(
                insert(ElectorateMember),
                [
                    {
                        "election_id": election_id,
                        "voter_key": key,
                        "commitment": commitment,
                        "added_seq": appended.seq,
                    }
                    for key, commitment in commitments.items()
                ],
            )
            wdb.flush()
            return appended.seq

        seq = self.elections.sequencer.run(work).result
        return AddedVoters(added=len(keys), seq=seq, access_codes=codes)

    def _verified_residents(
        self, db: Session, district: str, public_ids: Sequence[str]
    ) -> list[str]:
        wanted = list(dict.fromkeys(p.strip().lower() for p in public_ids))
        bad = [p for p in wanted if _PUBLIC_ID.fullmatch(p) is None]
        if bad:
            raise RollRejected("bad_addition", f"{bad[0]!r} is not an account's public id.")
        found = set(
            db.scalars(
                select(User.public_id)
                .join(ResidentVerification, ResidentVerification.user_id == User.id)  # type: ignore[arg-type]
                .where(
                    ResidentVerification.district == district,
                    User.public_id.in_(wanted),  # type: ignore[attr-defined]
                )
            )
        )
        missing = [p for p in wanted if p not in found]
        if missing:
            raise RollRejected(
                "bad_addition",
                f"The account {missing[0]} is not verified as a resident of {district!r}: "
                "staff verify residents first.",
            )
        return [user_key(p) for p in wanted]
