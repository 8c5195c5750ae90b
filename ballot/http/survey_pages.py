"""A survey's results pages (docs/protocol.md §19): a chart per question with its counts
and exact shares, the opened text answers with their ballots' log seq (a withheld text
shows the logged reason instead), a cross-tabulation of two closed questions chosen on
the page, the CSV and JSON exports, and the moderators' form that withholds a text
(which logs ``survey.text_withheld`` through ``withhold_text``; nothing is hidden
without its entry).

The numbers are the published result's (``result.published``, recomputed by ``veche
verify``); the texts and the cross-tabulation come from the counted ballots as opened
after the close (``survey_answers``).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect
from sqlalchemy.orm import Session

from ballot.core.manifest import manifest_dict
from ballot.http.state import ElectionState
from ballot.http.survey_view import (
    answer_labels,
    closed_questions,
    crosstab_view,
    is_survey,
    question_results,
)
from ballot.services.errors import ElectionError, ElectionNotFound
from ballot.services.models import Election
from ballot.services.results import ResultView
from ballot.services.roll import formula_safe
from kernel.errors import InvalidInput
from kernel.i18n import translate
from kernel.markers import N_
from kernel.web import DB, Viewer, render, request_language, requires_role
from tally.survey import crosstab

__all__ = ["SurveyPages", "survey_results_page"]

REASON_LIMIT = 500
MODERATORS = ("admin", "moderator")


def _answers(db: Session, state: ElectionState, election_id: str) -> list[dict[str, Any]]:
    """The counted ballots' answers, opened after the close, in seq order, withheld texts
    taken out: ``[{"seq": n, "answers": {...}, "withheld": {question: reason}}]``."""
    return state.surveys.answers(db, election_id)


def _texts(
    manifest: dict[str, Any], answers: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """The text answers by question, in seq order; a withheld one by its logged reason."""
    text_ids = [q["id"] for q in manifest["ballot"]["questions"] if q["kind"] == "text"]
    texts: dict[str, list[dict[str, Any]]] = {qid: [] for qid in text_ids}
    for ballot in answers:
        for qid in text_ids:
            reason = ballot.get("withheld", {}).get(qid)
            value = ballot["answers"].get(qid)
            if reason is not None:
                texts[qid].append({"seq": ballot["seq"], "text": None, "withheld": reason})
            elif isinstance(value, str):
                texts[qid].append({"seq": ballot["seq"], "text": value, "withheld": None})
    return texts


def _crosstab(
    answers: list[dict[str, Any]], first: dict[str, Any], second: dict[str, Any]
) -> dict[tuple[str, str], int]:
    """Counts of ballots by their answers to two closed questions (``tally.survey``: an
    answer naming several options counts once for each)."""
    table = crosstab([b["answers"] for b in answers], first["id"], second["id"])
    return {(row, column): n for row, line in table.items() for column, n in line.items()}


def survey_results_page(
    request: Request[Any, Any, Any],
    db: Session,
    state: ElectionState,
    viewer: Viewer,
    row: Election,
    manifest: dict[str, Any],
    view: ResultView | None,
) -> Response[str]:
    """The results page of a survey, read in the caller's transaction."""
    lang = request_language(request)
    context: dict[str, Any] = {
        "election": row,
        "manifest": manifest,
        "view": view,
        "base_url": str(request.base_url).rstrip("/"),
        "verifier_key": state.log_store.key_info.verifier_key,
        "closed": closed_questions(manifest),
        "moderator": viewer is not None and viewer.user.role in MODERATORS,
    }
    status = 200
    if view is not None:
        answers = _answers(db, state, row.id)
        texts = _texts(manifest, answers)
        context["questions"] = question_results(manifest, view.result, texts, lang)
        picked_rows = request.query_params.get("rows")
        picked_cols = request.query_params.get("cols")
        context["picked"] = {"rows": picked_rows or "", "cols": picked_cols or ""}
        if picked_rows or picked_cols:
            by_id = {q["id"]: q for q in context["closed"]}
            first, second = by_id.get(picked_rows or ""), by_id.get(picked_cols or "")
            if first is None or second is None:
                context["crosstab_error"] = translate(
                    lang, N_("Pick two questions with a closed set of answers.")
                )
                status = 400
            elif first["id"] == second["id"]:
                context["crosstab_error"] = translate(lang, N_("Pick two different questions."))
                status = 400
            else:
                table = _crosstab(answers, first, second)
                context["crosstab"] = crosstab_view(first, second, table, lang)
    return render(request, "results/survey.html", context, viewer=viewer, status_code=status)


def _survey(db: Session, state: ElectionState, election_id: str) -> tuple[Election, dict[str, Any]]:
    """A survey that has opened: its row and manifest (from the log)."""
    row = state.elections.get(db, election_id)
    if row.status == "draft":
        raise ElectionNotFound("no_such_election", f"There is no election {election_id!r}.")
    logged = state.results.logged_election(db, row)
    manifest = manifest_dict(logged.manifest)
    if not is_survey(manifest):
        raise ElectionNotFound("not_a_survey", N_("This election is not a survey."))
    return row, manifest


def _published_survey(
    db: Session, state: ElectionState, election_id: str
) -> tuple[Election, dict[str, Any], ResultView]:
    row, manifest = _survey(db, state, election_id)
    view = state.results.view(db, row)
    if view is None:
        raise ElectionNotFound("no_result", N_("The survey's results are not published yet."))
    return row, manifest, view


def export_rows(
    manifest: dict[str, Any], result: dict[str, Any], texts: dict[str, list[dict[str, Any]]]
) -> list[list[str]]:
    """The CSV's rows: one per answer of each closed question (its count, and for a
    ranking its Borda points), one per text with its ballot's seq."""
    rows = [["question", "kind", "answer", "count", "answered", "borda", "seq", "text"]]
    published = result.get("questions", {})
    for question in manifest["ballot"]["questions"]:
        qid, kind = question["id"], question["kind"]
        got = published.get(qid, {})
        answered = str(got.get("answered", 0))
        if kind in ("single", "multiple", "scale"):
            for value, _title in answer_labels(question):
                count = got.get("counts", {}).get(value, 0)
                rows.append([qid, kind, value, str(count), answered, "", "", ""])
        elif kind == "ranking":
            for value, _title in answer_labels(question):
                first = got.get("first", {}).get(value, 0)
                borda = got.get("borda", {}).get(value, 0)
                rows.append([qid, kind, value, str(first), answered, str(borda), "", ""])
        elif kind == "budget":
            for project in manifest.get("projects", []):
                score = got.get("scores", {}).get(project["id"], 0)
                rows.append([qid, kind, project["id"], str(score), answered, "", "", ""])
        elif kind == "text":
            for text in texts.get(qid, []):
                shown = (
                    text["text"] if text["withheld"] is None else f"[withheld: {text['withheld']}]"
                )
                rows.append(
                    [qid, kind, "", "", answered, "", str(text["seq"]), formula_safe(shown)]
                )
    return rows


class SurveyPages(Controller):
    include_in_schema = False

    @get("/elections/{election_id:str}/results/survey.csv", sync_to_thread=True)
    def export_csv(
        self, election_id: FromPath[str], db: DB, state: ElectionState
    ) -> Response[bytes]:
        """The survey's results per answer, and its texts, as CSV."""
        with db.begin():
            row, manifest, view = _published_survey(db, state, election_id)
            texts = _texts(manifest, _answers(db, state, row.id))
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(export_rows(manifest, view.result, texts))
        return Response(
            out.getvalue().encode(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{row.id}-survey.csv"'},
        )

    @get("/elections/{election_id:str}/results/survey.json", sync_to_thread=True)
    def export_json(
        self, election_id: FromPath[str], db: DB, state: ElectionState
    ) -> Response[bytes]:
        """The published result per question, with the texts and their seqs, as JSON."""
        with db.begin():
            row, manifest, view = _published_survey(db, state, election_id)
            texts = _texts(manifest, _answers(db, state, row.id))
        body = {
            "election": row.id,
            "counted": view.counted,
            "questions": view.result.get("questions", {}),
            "texts": texts,
            "result_seq": view.seq,
        }
        return Response(
            json.dumps(body, ensure_ascii=False, indent=2).encode(),
            media_type="application/json",
            headers={"content-disposition": f'attachment; filename="{row.id}-survey.json"'},
        )

    @get(
        "/elections/{election_id:str}/texts",
        guards=[requires_role(*MODERATORS)],
        sync_to_thread=True,
    )
    def texts(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        """The moderators' page of a survey's texts: withheld between the close and the
        count, each with its reason in the log (docs/protocol.md §19.5)."""
        with db.begin():
            row, manifest = _survey(db, state, election_id)
            counted = state.results.view(db, row) is not None
            texts: dict[str, list[dict[str, Any]]] = {}
            sealed = None
            if row.status != "open":
                try:
                    texts = _texts(manifest, _answers(db, state, row.id))
                except ElectionError as exc:  # a trustees' survey not unsealed yet
                    sealed = exc.detail
        questions = [q for q in manifest["ballot"]["questions"] if q["kind"] == "text"]
        return render(
            request,
            "results/survey_texts.html",
            {
                "election": row,
                "manifest": manifest,
                "questions": questions,
                "texts": texts,
                "counted": counted,
                "withheld_now": request.query_params.get("withheld"),
                "sealed": sealed,
            },
            viewer=viewer,
        )

    @post(
        "/elections/{election_id:str}/texts",
        guards=[requires_role(*MODERATORS)],
        sync_to_thread=True,
    )
    def withhold(
        self,
        election_id: FromPath[str],
        data: URLEncodedBody[dict[str, Any]],
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[Any]:
        """Withhold a text answer, with the reason published in the log."""
        reason = str(data.get("reason", "")).strip()
        question = str(data.get("question", ""))
        try:
            seq = int(str(data.get("seq", "")))
        except ValueError:
            raise InvalidInput(
                N_("The text to withhold is not named by its ballot's number.")
            ) from None
        if not reason:
            raise InvalidInput(N_("Give the reason for withholding the text: it is published."))
        if len(reason) > REASON_LIMIT:
            raise InvalidInput(N_("The reason is too long: at most 500 characters."))
        assert viewer is not None  # the guard lets only moderators in
        state.surveys.withhold_text(election_id, seq, question, reason, viewer.user.role)
        return Redirect(
            f"/elections/{election_id}/texts?withheld={seq}#t-{question}-{seq}", status_code=303
        )
