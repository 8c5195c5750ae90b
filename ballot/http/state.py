"""What the election handlers use of the application's state (typed; see ``kernel.web``)."""

from __future__ import annotations

from audit.http.state import LogState
from ballot.services.elections import ElectionService
from ballot.services.results import ResultService
from ballot.services.survey import SurveyService


class ElectionState(LogState):
    elections: ElectionService
    results: ResultService
    surveys: SurveyService
