"""A survey's opened answers and the withholding of its texts over HTTP (docs/protocol.md
§19.4, §19.5): ``GET /api/v1/elections/{id}/answers`` (anyone, after the close) and ``POST
/api/v1/elections/{id}/withheld-texts`` (administrators and moderators)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from ballot.core.survey_kinds import WITHHOLD_REASON_LENGTH
from ballot.http.state import ElectionState
from kernel.web import DB, Viewer, requires_role


class TextToWithhold(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The counted ballot's ``seq``, the text ``question`` and the ``reason``."""

    seq: Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)]
    question: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=WITHHOLD_REASON_LENGTH)]


class Withheld(msgspec.Struct, frozen=True):
    """The ``survey.text_withheld`` entry's seq."""

    seq: int


class SurveyController(Controller):
    path = "/api/v1/elections"
    tags: ClassVar[list[str]] = ["surveys"]

    @get("/{election_id:str}/answers", operation_id="getSurveyAnswers", sync_to_thread=True)
    def answers(self, election_id: FromPath[str], db: DB, state: ElectionState) -> list[Any]:
        """A closed survey's counted answers in log order, withheld texts taken out."""
        with db.begin():
            return state.surveys.answers(db, election_id)

    @post(
        "/{election_id:str}/withheld-texts",
        operation_id="withholdSurveyText",
        status_code=201,
        sync_to_thread=True,
        guards=[requires_role("admin", "moderator")],
    )
    def withhold(
        self,
        election_id: FromPath[str],
        data: JSONBody[TextToWithhold],
        state: ElectionState,
        viewer: Viewer,
    ) -> Withheld:
        """Withhold a survey's text answer with a reason (logged as survey.text_withheld)."""
        role = viewer.user.role if viewer is not None else ""
        seq = state.surveys.withhold_text(election_id, data.seq, data.question, data.reason, role)
        return Withheld(seq=seq)
