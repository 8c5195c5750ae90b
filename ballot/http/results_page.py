"""The results page of an election: the published result read from the log, a bar chart
of the votes and the counting rule's trace explained step by step in the reader's
language. A survey's results page is ``survey_pages.survey_results_page``."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from sqlalchemy.orm import Session

from ballot.core.manifest import manifest_dict
from ballot.http.display import base_url, money, percent, published
from ballot.http.state import ElectionState
from ballot.http.survey_pages import survey_results_page
from ballot.http.survey_view import is_survey
from ballot.services.elections import ElectionService
from ballot.services.results import ResultView
from kernel import i18n
from kernel.i18n import NP_
from kernel.web import Viewer, render, request_language
from tally.model import parse_frac

CHART_WIDTH = 400
# Trace values that are money (minor units, or fractions of them for MES prices).
MONEY_VALUES = frozenset(
    {"cost", "left", "money_behind", "per_voter", "per_voter_used", "price", "price_per_voter"}
)
ROW_HEIGHT = 44
# The opening note of a rule's trace, by how the counting code words it (tally/greedy.py,
# tally/seq_phragmen.py): the page says it in the reader's language instead.
RULE_INTROS = (("greedy", "greedy"), ("sequential Phragm", "phragmen"))
# Trace values that are counts, shown with their noun in the reader's language.
PLURAL_WORDS = {
    "score": NP_("%(num)s vote", "%(num)s votes"),
    "votes": NP_("%(num)s vote", "%(num)s votes"),
    "payers": NP_("%(num)s supporter", "%(num)s supporters"),
    "prefer_mes": NP_("%(num)s voter", "%(num)s voters"),
    "prefer_greedy": NP_("%(num)s voter", "%(num)s voters"),
}


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def vote_chart(manifest: dict[str, Any], view: ResultView) -> dict[str, Any]:
    """Rows of a horizontal bar chart (drawn by the template as SVG), most votes first."""
    winners = set(view.winners)
    projects = manifest["projects"]
    top = max([view.scores.get(p["id"], 0) for p in projects] + [1])
    label_room = 56  # user units kept right of the longest bar for its number
    rows = []
    ordered = sorted(projects, key=lambda p: (-view.scores.get(p["id"], 0), p["id"]))
    for k, project in enumerate(ordered):
        score = view.scores.get(project["id"], 0)
        rows.append(
            {
                "id": project["id"],
                "label": _short(project["title"]),
                "title": project["title"],
                "score": score,
                "won": project["id"] in winners,
                "y": k * ROW_HEIGHT,
                "bar": max(2, (CHART_WIDTH - label_room) * score // top) if score else 0,
            }
        )
    return {"rows": rows, "width": CHART_WIDTH, "height": len(rows) * ROW_HEIGHT + 4}


def explain(manifest: dict[str, Any], view: ResultView, lang: str = "en") -> list[dict[str, Any]]:
    """The rule's trace as steps the template words in the reader's language: the
    project's title instead of its id, money in the currency's units."""
    currency = manifest.get("currency", "")
    titles = {p["id"]: p["title"] for p in manifest["projects"]}
    steps = []
    for raw in view.trace:
        values = dict(raw.get("values", {}))
        shown: dict[str, Any] = {}
        for key, value in values.items():
            if key in MONEY_VALUES:
                shown[key] = money(parse_frac(str(value)), currency, lang)
            elif isinstance(value, int):
                shown[key] = i18n.number(lang, value)
                # The count in words, with the noun in the right form ("1 vote", "2 votes").
                if key in PLURAL_WORDS:
                    one, many = PLURAL_WORDS[key]
                    shown[f"{key}_words"] = i18n.plural(lang, one, many, value)
            else:
                shown[key] = value
        project = raw.get("project")
        text = str(raw.get("text", ""))
        intro = next((rule for prefix, rule in RULE_INTROS if text.startswith(prefix)), None)
        steps.append(
            {
                "round": raw.get("round", 0),
                "action": raw.get("action", "note"),
                "text": text,
                "intro": intro if project is None else None,
                "project": titles.get(project, project) if project else None,
                "v": shown,
            }
        )
    return steps


def results_page(
    request: Request[Any, Any, Any],
    db: Session,
    state: ElectionState,
    viewer: Viewer,
    election_id: str,
) -> Response[str]:
    """The page of ``GET /elections/{id}/results``."""
    service: ElectionService = state.elections
    with db.begin():
        row = published(service, db, election_id)
        # What the page shows is read from the log's bytes (docs/protocol.md §9.9):
        # the manifest from its opening entry, the result from its signed entry.
        manifest = manifest_dict(state.results.logged_election(db, row).manifest)
        view = state.results.view(db, row)
        if is_survey(manifest):
            # A survey's results page (docs/protocol.md §19): per question.
            return survey_results_page(request, db, state, viewer, row, manifest, view)
    currency = manifest.get("currency", "")
    context: dict[str, Any] = {
        "election": row,
        "manifest": manifest,
        "view": view,
        "base_url": base_url(request),
        "verifier_key": state.log_store.key_info.verifier_key,
    }
    if view is not None:
        titles = {p["id"]: p for p in manifest["projects"]}
        lang = request_language(request)
        context.update(
            chart=vote_chart(manifest, view),
            steps=explain(manifest, view, lang),
            budget_words=money(manifest.get("budget", view.budget), currency, lang),
            winners=[
                {**titles[w], "cost_text": money(titles[w]["cost"], currency, lang)}
                for w in view.winners
                if w in titles
            ],
            projects=[
                {
                    **p,
                    "cost_text": money(p["cost"], currency, lang),
                    "score": view.scores.get(p["id"], 0),
                    "won": p["id"] in view.winners,
                }
                for p in sorted(manifest["projects"], key=lambda p: -view.scores.get(p["id"], 0))
            ],
            spent_text=money(view.spent, currency, lang),
            budget_text=money(view.budget, currency, lang),
            left_text=money(view.budget - view.spent, currency, lang),
            spent_share=percent(view.spent, view.budget, lang),
            spent_width=(300 * view.spent // view.budget) if view.budget else 0,
        )
    return render(request, "results/results.html", context, viewer=viewer)
