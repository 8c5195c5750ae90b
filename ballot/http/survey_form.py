"""The survey builder's form as the configuration of a survey (docs/protocol.md §19), and
back: pure functions over the form's fields, with no request, session nor clock.

The form numbers its questions ``q0-…``, ``q1-…`` in the order shown; each keeps its id
(``q0-id``) when questions move, so that a condition (``show_if``) still names the same
question. Options are typed one per line and get the ids ``o1``, ``o2``… in order; a
condition names the earlier question and the numbers of its options (``1, 3``). Times
are typed in the deployment's time zone and written in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kernel.amounts import AmountRefused, parse_roubles
from kernel.markers import N_

__all__ = [
    "ELIGIBILITY",
    "KINDS",
    "FormProblem",
    "config_from_form",
    "default_form",
    "move",
    "option_titles",
    "poll_config",
    "question_numbers",
]

KINDS = ("single", "multiple", "scale", "ranking", "budget", "text")
BUDGET_RULES = ("greedy", "mes", "phragmen")
ELIGIBILITY: dict[str, dict[str, bool]] = {
    "residents": {"residents": True, "roll": False, "access_codes": False},
    "roll": {"residents": False, "roll": True, "access_codes": False},
    "roll-codes": {"residents": False, "roll": True, "access_codes": True},
    "codes": {"residents": False, "roll": False, "access_codes": True},
}
MAX_QUESTIONS = 50
_LOCAL = "%Y-%m-%dT%H:%M"
_NUMBERS = re.compile(r"\d+")


class FormProblem(ValueError):
    """A field the form could not read: ``field`` names it (``q2-options``, ``opens_at``)."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


def question_numbers(form: Mapping[str, str]) -> list[int]:
    """The indexes of the form's questions, in order."""
    found = sorted({int(m.group(1)) for k in form if (m := re.fullmatch(r"q(\d+)-kind", k))})
    return found[:MAX_QUESTIONS]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]


def option_titles(form: Mapping[str, str], index: int) -> list[str]:
    """The titles of question ``index``'s options as typed, in order (option ``k`` is
    the ``k``-th, id ``o<k>``)."""
    return _lines(form.get(f"q{index}-options", ""))


def condition_numbers(form: Mapping[str, str], index: int) -> list[int]:
    """The option numbers of question ``index``'s condition, as ticked or typed, each once,
    in the order given; none when they were ticked for another question than the one the
    condition now names."""
    p = f"q{index}"
    shown_for = form.get(f"{p}-show_for")
    if shown_for is not None and shown_for != form.get(f"{p}-show_q", "").strip():
        return []
    return list(dict.fromkeys(int(n) for n in _NUMBERS.findall(form.get(f"{p}-show_any", ""))))


def _int(form: Mapping[str, str], name: str) -> int:
    try:
        return int(form.get(name, "").strip())
    except ValueError:
        raise FormProblem(name, N_("Type a whole number.")) from None


def _money(text: str, name: str) -> int:
    """Roubles as a person types them, read exactly into kopecks (docs/protocol.md §18.1)."""
    try:
        return parse_roubles(text)
    except AmountRefused:
        raise FormProblem(name, N_("Type an amount in roubles, e.g. 1500000.")) from None


def _utc(text: str, name: str, time_zone: str) -> str:
    try:
        local = datetime.strptime(text.strip(), _LOCAL)
    except ValueError:
        raise FormProblem(name, N_("Give a date and a time.")) from None
    moment = local.replace(tzinfo=ZoneInfo(time_zone)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _options(form: Mapping[str, str], prefix: str) -> list[dict[str, str]]:
    return [
        {"id": f"o{k}", "title": title}
        for k, title in enumerate(_lines(form.get(f"{prefix}-options", "")), start=1)
    ]


def _question(
    form: Mapping[str, str], index: int, problems: list[FormProblem], config: dict[str, Any]
) -> dict[str, Any]:
    p = f"q{index}"

    def read(fn: Any, *args: Any, default: Any = 0) -> Any:
        try:
            return fn(*args)
        except FormProblem as exc:
            problems.append(exc)
            return default

    kind = form.get(f"{p}-kind", "single")
    question: dict[str, Any] = {
        "kind": kind,
        "id": form.get(f"{p}-id", "").strip() or f"q{index + 1}",
        "text": form.get(f"{p}-text", "").strip(),
    }
    if form.get(f"{p}-optional") == "on":
        question["optional"] = True
    if kind in ("single", "multiple", "ranking"):
        question["options"] = _options(form, p)
    if kind == "multiple":
        question["min_options"] = read(_int, form, f"{p}-min")
        question["max_options"] = read(_int, form, f"{p}-max")
    elif kind == "ranking":
        question["min_length"] = read(_int, form, f"{p}-min")
        question["max_length"] = read(_int, form, f"{p}-max")
    elif kind == "scale":
        low, high = (0, 10) if form.get(f"{p}-scale") == "0-10" else (1, 5)
        question["scale_min"], question["scale_max"] = low, high
        for side in ("low", "high"):
            label = form.get(f"{p}-{side}", "").strip()
            if label:
                question[f"{side}_label"] = label
    elif kind == "text":
        question["max_length"] = read(_int, form, f"{p}-max_length", default=500)
    elif kind == "budget":
        question["min_projects"] = read(_int, form, f"{p}-min")
        question["max_projects"] = read(_int, form, f"{p}-max")
        if form.get(f"{p}-limit", "").strip():
            question["max_total_cost"] = read(_money, form.get(f"{p}-limit", ""), f"{p}-limit")
        rule = form.get(f"{p}-rule", "greedy")
        question["rule"] = {"name": rule if rule in BUDGET_RULES else "greedy"}
        if question["rule"]["name"] == "mes":
            question["rule"].update(satisfaction="cost", completion="add1")
        projects = []
        for k, line in enumerate(_lines(form.get(f"{p}-projects", "")), start=1):
            title, _sep, cost = line.rpartition(";")
            if not _sep:
                problems.append(
                    FormProblem(
                        f"{p}-projects",
                        N_("Write each project as its title, a semicolon and its cost."),
                    )
                )
                continue
            projects.append(
                {"id": f"p{k}", "title": title.strip(), "cost": read(_money, cost, f"{p}-projects")}
            )
        config["projects"] = projects
        config["budget"] = read(_money, form.get(f"{p}-budget", "0") or "0", f"{p}-budget")
        config["currency"] = "RUB"
    shown_by = form.get(f"{p}-show_q", "").strip()
    if shown_by:
        numbers = condition_numbers(form, index)
        if not numbers:
            problems.append(
                FormProblem(
                    f"{p}-show_any",
                    N_("Tick the answers to the earlier question that show this one."),
                )
            )
        question["show_if"] = {"question": shown_by, "any_of": [f"o{n}" for n in numbers]}
    return question


def config_from_form(
    form: Mapping[str, str], *, time_zone: str
) -> tuple[dict[str, Any], list[FormProblem]]:
    """The survey's configuration from the form, and the fields it could not read (the
    rest is still built, so that the preview shows as much as it can)."""
    problems: list[FormProblem] = []
    config: dict[str, Any] = {
        "id": form.get("id", "").strip(),
        "title": form.get("title", "").strip(),
        "district": form.get("district", "").strip() or None,
        "budget": 0,
        "currency": "",
        "projects": [],
        "revoting": form.get("revoting") == "on",
    }
    questions = [_question(form, i, problems, config) for i in question_numbers(form)]
    config["ballot"] = {"kind": "survey", "questions": questions}
    config["rule"] = {"name": "survey"}
    window = {}
    for name in ("opens_at", "closes_at"):
        try:
            window[name] = _utc(form.get(name, ""), name, time_zone)
        except FormProblem as exc:
            problems.append(exc)
    config["window"] = window
    config["eligibility"] = ELIGIBILITY.get(form.get("eligibility", ""), ELIGIBILITY["residents"])
    if config["district"] is None:
        del config["district"]
    return config, problems


def default_form(title: str, time_zone: str, now: datetime) -> dict[str, str]:
    """A new survey: tomorrow 09:00 to two weeks later 21:00, local time; residents."""
    today = now.astimezone(ZoneInfo(time_zone)).date()
    opens = datetime.combine(today + timedelta(days=1), time(9, 0))
    closes = datetime.combine(today + timedelta(days=15), time(21, 0))
    return {
        "id": "",
        "title": title,
        "opens_at": opens.strftime(_LOCAL),
        "closes_at": closes.strftime(_LOCAL),
        "eligibility": "residents",
        "revoting": "on",
        "district": "",
    }


def new_question(form: dict[str, str], kind: str) -> dict[str, str]:
    """The form with a question of this kind added at the end, with a fresh id."""
    numbers = question_numbers(form)
    index = (numbers[-1] + 1) if numbers else 0
    taken = {form.get(f"q{i}-id", "") for i in numbers}
    k = len(numbers) + 1
    while f"q{k}" in taken:
        k += 1
    added = {f"q{index}-kind": kind if kind in KINDS else "single", f"q{index}-id": f"q{k}"}
    if kind in ("single", "multiple", "ranking"):
        added[f"q{index}-options"] = ""
    if kind == "multiple":
        added.update({f"q{index}-min": "1", f"q{index}-max": "2"})
    elif kind == "ranking":
        added.update({f"q{index}-min": "1", f"q{index}-max": "3"})
    elif kind == "budget":
        added.update({f"q{index}-min": "1", f"q{index}-max": "3", f"q{index}-rule": "greedy"})
    elif kind == "text":
        added[f"q{index}-max_length"] = "500"
    elif kind == "scale":
        added[f"q{index}-scale"] = "1-5"
    return {**form, **added}


def move(form: Mapping[str, str], index: int, step: int) -> dict[str, str]:
    """The form with question ``index`` moved by ``step`` (-1 up, +1 down, 0 removed),
    renumbered from 0."""
    numbers = question_numbers(form)
    order = list(numbers)
    if index in order:
        at = order.index(index)
        if step == 0:
            order.pop(at)
        else:
            to = at + step
            if 0 <= to < len(order):
                order[at], order[to] = order[to], order[at]
    kept = {k: v for k, v in form.items() if not re.match(r"q\d+-", k)}
    for new, old in enumerate(order):
        for key, value in form.items():
            if key.startswith(f"q{old}-"):
                kept[f"q{new}-" + key[len(f"q{old}-") :]] = value
    return kept


def poll_config(
    question: str, option_lines: str, election_id: str, *, time_zone: str, now: datetime
) -> tuple[dict[str, Any], list[FormProblem]]:
    """A one-question poll: a single-choice survey with this question and these options,
    open tomorrow 09:00 to a week later 21:00 local time, for verified residents."""
    form = default_form(question.strip()[:200], time_zone, now)
    today = now.astimezone(ZoneInfo(time_zone)).date()
    form["closes_at"] = datetime.combine(today + timedelta(days=8), time(21, 0)).strftime(_LOCAL)
    form.update(
        {
            "id": election_id,
            "q0-kind": "single",
            "q0-id": "q1",
            "q0-text": question,
            "q0-options": option_lines,
        }
    )
    return config_from_form(form, time_zone=time_zone)
