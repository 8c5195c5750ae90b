"""What the survey pages show (docs/protocol.md §19): the questions of a survey ballot as
the ballot page lays them out, and the published result of each question as the results
page draws it (a bar chart whose labels are the page's text, counts and exact shares, a
scale's mean and distribution, a ranking's Borda points and first places, the budget
question's winners, the texts).

These are plain functions over the manifest and the published result: the numbers are
the result's own, and shares are computed exactly (``Fraction``) and only then written
as percentages.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from kernel import i18n

__all__ = [
    "ballot_questions",
    "crosstab_view",
    "is_survey",
    "question_results",
]

CLOSED_KINDS = ("single", "multiple", "scale", "ranking")


def is_survey(manifest: dict[str, Any]) -> bool:
    return bool(manifest.get("ballot", {}).get("kind") == "survey")


def _scale_values(question: dict[str, Any]) -> list[int]:
    return list(range(int(question.get("scale_min", 1)), int(question.get("scale_max", 5)) + 1))


def ballot_questions(manifest: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The survey's questions for the ballot page: each with its kind's limits, the
    condition that shows it (as data the page's script reads), and for the budget
    question the survey's budget and the projects with their costs in the page's
    language (a survey shows its budget there, never in its heading)."""
    currency = manifest.get("currency", "") or "RUB"
    questions = manifest["ballot"].get("questions", [])
    shown = []
    for number, question in enumerate(questions, start=1):
        item = {**question, "number": number}
        condition = question.get("show_if")
        if condition:
            item["show_if_json"] = json.dumps(condition["any_of"])
            parent = next((q for q in questions if q["id"] == condition["question"]), None)
            titles = {o["id"]: o["title"] for o in (parent or {}).get("options", [])}
            item["show_if_titles"] = [titles.get(o, o) for o in condition["any_of"]]
            item["show_if_number"] = next(
                (k for k, q in enumerate(questions, start=1) if q["id"] == condition["question"]),
                None,
            )
        if question["kind"] == "scale":
            item["values"] = _scale_values(question)
        elif question["kind"] == "text":
            item["max_length"] = int(question.get("max_length", 500))
        elif question["kind"] == "budget":
            item["projects"] = [
                {**p, "cost_text": i18n.money(lang, p.get("cost", 0), currency)}
                for p in manifest.get("projects", [])
            ]
            limit = question.get("max_total_cost")
            item["limit_text"] = i18n.money(lang, limit, currency) if limit is not None else None
            budget = int(manifest.get("budget", 0))
            item["budget_text"] = i18n.money(lang, budget, currency) if budget else None
        shown.append(item)
    return shown


# --- results ------------------------------------------------------------------------------------


def _share(part: int, whole: int, lang: str) -> str:
    """An exact share (``Fraction``) written as a percentage to one decimal place."""
    if whole <= 0:
        return "—"
    exact = Fraction(part, whole)
    return i18n.percent(lang, exact.numerator, exact.denominator)


def _percent_of_top(rows: list[dict[str, Any]], key: str = "count") -> None:
    """Each row's bar as a whole percentage of the largest value (the longest bar is
    100; a value above zero is at least 1, so that it shows)."""
    top = max([r[key] for r in rows] + [1])
    for row in rows:
        value = row[key]
        row["pct"] = max(1, 100 * value // top) if value else 0


def _bars(rows: list[dict[str, Any]], key: str = "count") -> dict[str, Any]:
    """Horizontal bars, longest for the largest value. The page writes each row's title
    as text (it wraps, at the page's font size) over a bar drawn as SVG with attributes
    only (no inline styles), its number beside it."""
    _percent_of_top(rows, key)
    return {"rows": rows}


def _option_rows(
    options: list[dict[str, Any]], counts: dict[str, int], answered: int, lang: str
) -> list[dict[str, Any]]:
    return [
        {
            "id": o["id"],
            "title": o["title"],
            "count": int(counts.get(o["id"], 0)),
            "count_text": i18n.number(lang, int(counts.get(o["id"], 0))),
            "share": _share(int(counts.get(o["id"], 0)), answered, lang),
        }
        for o in options
    ]


def _mean(total: int, answered: int, lang: str) -> str:
    return i18n.number(lang, Fraction(total, answered)) if answered else "—"


def question_results(
    manifest: dict[str, Any],
    result: dict[str, Any],
    texts: dict[str, list[dict[str, Any]]],
    lang: str,
) -> list[dict[str, Any]]:
    """Each question with its published result, ready to draw. ``texts`` holds, by
    question id, the opened text answers in seq order (``{"seq", "text", "withheld"}``,
    ``withheld`` being the logged reason or None)."""
    currency = manifest.get("currency", "") or "RUB"
    published = result.get("questions", {})
    out = []
    for number, question in enumerate(manifest["ballot"].get("questions", []), start=1):
        qid, kind = question["id"], question["kind"]
        got = published.get(qid, {})
        answered = int(got.get("answered", 0))
        item: dict[str, Any] = {
            **question,
            "number": number,
            "answered": answered,
            "answered_text": i18n.number(lang, answered),
        }
        if kind in ("single", "multiple"):
            rows = _option_rows(question["options"], got.get("counts", {}), answered, lang)
            item["chart"] = _bars(rows)
        elif kind == "scale":
            counts = got.get("counts", {})
            rows = [
                {
                    "id": str(v),
                    "title": str(v),
                    "count": int(counts.get(str(v), 0)),
                    "count_text": i18n.number(lang, int(counts.get(str(v), 0))),
                    "share": _share(int(counts.get(str(v), 0)), answered, lang),
                }
                for v in _scale_values(question)
            ]
            item["chart"] = _columns(rows)
            item["mean"] = _mean(int(got.get("sum", 0)), answered, lang)
            item["mean_exact"] = (
                str(Fraction(int(got.get("sum", 0)), answered)) if answered else None
            )
        elif kind == "ranking":
            borda = got.get("borda", {})
            first = got.get("first", {})
            rows = [
                {
                    "id": o["id"],
                    "title": o["title"],
                    "count": int(borda.get(o["id"], 0)),
                    "count_text": i18n.number(lang, int(borda.get(o["id"], 0))),
                    "first": int(first.get(o["id"], 0)),
                    "first_text": i18n.number(lang, int(first.get(o["id"], 0))),
                    "share": _share(int(first.get(o["id"], 0)), answered, lang),
                }
                for o in question["options"]
            ]
            rows.sort(key=lambda r: (-r["count"], -r["first"], r["id"]))
            item["chart"] = _bars(rows)
        elif kind == "budget":
            scores = got.get("scores", {})
            winners = list(got.get("winners", []))
            rows = [
                {
                    "id": p["id"],
                    "title": p["title"],
                    "count": int(scores.get(p["id"], 0)),
                    "count_text": i18n.number(lang, int(scores.get(p["id"], 0))),
                    "share": _share(int(scores.get(p["id"], 0)), answered, lang),
                    "cost_text": i18n.money(lang, p.get("cost", 0), currency),
                    "won": p["id"] in winners,
                }
                for p in manifest.get("projects", [])
            ]
            rows.sort(key=lambda r: (-r["count"], r["id"]))
            item["chart"] = _bars(rows)
            titles = {p["id"]: p for p in manifest.get("projects", [])}
            item["winners"] = [
                {**titles[w], "cost_text": i18n.money(lang, titles[w].get("cost", 0), currency)}
                for w in winners
                if w in titles
            ]
            item["spent_text"] = i18n.money(lang, int(got.get("spent", 0)), currency)
            item["budget_text"] = i18n.money(lang, int(manifest.get("budget", 0)), currency)
        elif kind == "text":
            item["withheld"] = int(got.get("withheld", 0))
            item["texts"] = texts.get(qid, [])
        out.append(item)
    return out


def _columns(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A scale's distribution, one column per value; the page stands them up on a wide
    screen and lays them down as bars on a narrow one (both drawn from ``pct``)."""
    _percent_of_top(rows)
    return {"rows": rows, "columns": True}


def closed_questions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions a cross-tabulation can take: those with a closed set of answers."""
    return [
        {**q, "number": k}
        for k, q in enumerate(manifest["ballot"].get("questions", []), start=1)
        if q["kind"] in CLOSED_KINDS
    ]


def answer_labels(question: dict[str, Any]) -> list[tuple[str, str]]:
    """The (value, title) pairs of a closed question's answers, in the question's order;
    a ranking is tabulated by its first choice."""
    if question["kind"] == "scale":
        return [(str(v), str(v)) for v in _scale_values(question)]
    return [(o["id"], o["title"]) for o in question.get("options", [])]


def crosstab_view(
    rows_q: dict[str, Any],
    cols_q: dict[str, Any],
    table: dict[tuple[str, str], int],
    lang: str,
) -> dict[str, Any]:
    """A table of counts of ballots answering ``rows_q`` with a row's value and
    ``cols_q`` with a column's, each cell with its share of the row (exact, as %)."""
    row_labels = answer_labels(rows_q)
    col_labels = answer_labels(cols_q)
    body = []
    for value, title in row_labels:
        cells = [int(table.get((value, c), 0)) for c, _t in col_labels]
        total = sum(cells)
        body.append(
            {
                "title": title,
                "cells": [
                    {"count": i18n.number(lang, n), "share": _share(n, total, lang)} for n in cells
                ],
                "total": i18n.number(lang, total),
            }
        )
    col_totals = [
        i18n.number(lang, sum(int(table.get((r, c), 0)) for r, _t in row_labels))
        for c, _t in col_labels
    ]
    return {
        "rows_q": rows_q,
        "cols_q": cols_q,
        "columns": [t for _c, t in col_labels],
        "body": body,
        "col_totals": col_totals,
        "total": i18n.number(lang, sum(table.values())),
    }
