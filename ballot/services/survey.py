"""A survey's opened answers and the moderation of its free texts (docs/protocol.md §19.4,
§19.5).

``SurveyService.answers`` gives the counted ballots' answers once the survey has closed
and its ballots can be opened, in log order, each with its ``seq``: the texts that a
``survey.text_withheld`` entry withheld are taken out and their reasons given instead.
The answers come from the same recount the result is held against (``ResultService``,
once per close or result), so asking again costs no cryptography.

``SurveyService.withhold_text`` logs a ``survey.text_withheld`` entry: only staff
(administrators and moderators), only after the close and before the result is
published (the result counts the withheld texts, §19.3), only for a counted ballot's
answer to a text question, once per text. The entry holds the reason and nothing about
the writer or the moderator.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from audit.services.store import BatchLog
from ballot.core.config import is_survey
from ballot.core.survey import SurveySpec, TextQuestion
from ballot.core.survey_kinds import SURVEY_TEXT_WITHHELD, reason_problem
from ballot.services.errors import ElectionError, ElectionNotFound, ElectionStateConflict
from ballot.services.log_reading import read_record
from ballot.services.models import Election
from ballot.services.results import ResultService
from kernel.errors import Forbidden
from kernel.markers import N_

__all__ = ["MODERATOR_ROLES", "SurveyService", "WithholdRejected"]

MODERATOR_ROLES = frozenset({"admin", "moderator"})

NOT_A_SURVEY = N_("This election is not a survey.")
NOT_STAFF = N_("Only administrators and moderators may withhold a text.")
NOT_CLOSED = N_(
    "A text can be withheld only after the survey has closed and before its result is published."
)
NO_SUCH_TEXT = N_("That ballot has no answer to this text question among the counted ballots.")
ALREADY_WITHHELD = N_("That text has already been withheld.")
BAD_REASON = N_("Give a reason of 1 to 500 characters, without line breaks or surrounding spaces.")


class WithholdRejected(ElectionError):
    """A withholding that names no counted text, or gives no usable reason."""

    status = 400


class SurveyService:
    """The answers of a ``ResultService``'s surveys, and withholding their texts."""

    def __init__(self, results: ResultService) -> None:
        self.results = results

    def _survey(self, db: Session, election_id: str) -> Election:
        row = self.results.elections.get(db, election_id)
        if row.status == "draft":
            raise ElectionNotFound("no_such_election", f"There is no election {election_id!r}.")
        election = self.results.logged_election(db, row)
        if not is_survey(election.manifest):
            raise ElectionStateConflict("not_a_survey", NOT_A_SURVEY)
        return row

    def withheld(self, db: Session, election_id: str) -> dict[tuple[int, str], str]:
        """The withheld texts of a survey: (ballot seq, question) → reason."""
        row = self._survey(db, election_id)
        election = self.results.logged_election(db, row)
        rec = read_record(db, election.hash, election.opened_seq)
        return {(body.seq, body.question): body.reason for _seq, body in rec.withheld}

    def answers(self, db: Session, election_id: str) -> list[dict[str, Any]]:
        """``[{"seq": n, "answers": {…}, "withheld": {question: reason}}, …]``: the counted
        ballots in log order, withheld texts taken out (``409 not_closed`` before the
        close, ``409 not_unsealed`` before the ballots can be opened)."""
        row = self._survey(db, election_id)
        counted = self.results.counted_answers(db, row)
        withheld = self.withheld(db, election_id)
        out: list[dict[str, Any]] = []
        for seq, answers in counted:
            hidden = {q: reason for (s, q), reason in withheld.items() if s == seq}
            shown = {q: a for q, a in answers.items() if q not in hidden}
            out.append({"seq": seq, "answers": shown, "withheld": hidden})
        return out

    # The name the survey format gives it (docs/protocol.md §19.4).
    survey_answers = answers

    def withhold_text(
        self, election_id: str, seq: int, question: str, reason: str, staff_role: str
    ) -> int:
        """Log ``survey.text_withheld`` for the text answer to ``question`` of the counted
        ballot at ``seq``; the entry's seq."""
        if staff_role not in MODERATOR_ROLES:
            raise Forbidden(NOT_STAFF, code="not_staff")
        if reason_problem(reason) is not None or "\n" in reason:
            raise WithholdRejected("bad_reason", BAD_REASON)
        elections = self.results.elections
        with elections.store.read_sessions() as db:
            row = self._survey(db, election_id)
            if row.status != "closed":
                raise ElectionStateConflict("not_closed", NOT_CLOSED)
            election = self.results.logged_election(db, row)
            spec = election.manifest.ballot
            assert isinstance(spec, SurveySpec)
            texts = {q.id for q in spec.questions if isinstance(q, TextQuestion)}
            counted = dict(self.results.counted_answers(db, row))
            if question not in texts or question not in counted.get(seq, {}):
                raise WithholdRejected("no_such_text", NO_SUCH_TEXT)
            if (seq, question) in self.withheld(db, election_id):
                raise ElectionStateConflict("already_withheld", ALREADY_WITHHELD)
        body = {"election": election.hash, "question": question, "reason": reason, "seq": seq}

        def work(wdb: Session, log: BatchLog) -> int:
            current = wdb.get(Election, election_id)
            assert current is not None
            if current.status != "closed":
                raise ElectionStateConflict("not_closed", NOT_CLOSED)
            return log.append(SURVEY_TEXT_WITHHELD, body).seq

        return int(elections.sequencer.run(work).result)
