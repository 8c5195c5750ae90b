"""The ballot builder's form, read into the ``election`` part of an election
configuration (docs/protocol.md §5.2, §5.4–§5.6): the same object the API's
``POST /api/v1/programs/{id}/elections`` takes, so the form and the advanced JSON view
are two views of one object.

Pure: the municipality's time zone and the form's values are parameters. Money is typed
in roubles by a person and read exactly into kopecks by ``kernel.amounts``; times are
typed as local date and time and stored as RFC 3339 UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from kernel.amounts import AmountRefused, parse_roubles
from kernel.markers import N_

__all__ = [
    "BALLOT_KINDS",
    "COMPLETIONS",
    "ELIGIBILITY",
    "RULES",
    "FormProblem",
    "election_from_form",
    "form_from_election",
    "local_input",
    "read_money",
]

BALLOT_KINDS = ("approval", "cumulative", "ordinal")
RULES = ("greedy", "mes", "phragmen", "greedy-threshold")
COMPLETIONS = ("none", "greedy", "add1", "add1-greedy")
ELIGIBILITY: dict[str, dict[str, bool]] = {
    "residents": {"residents": True, "roll": False, "access_codes": False},
    "roll": {"residents": False, "roll": True, "access_codes": False},
    "roll-codes": {"residents": False, "roll": True, "access_codes": True},
    "codes": {"residents": False, "roll": False, "access_codes": True},
}
_LOCAL = "%Y-%m-%dT%H:%M"


class FormProblem(ValueError):
    """A field of the form that cannot be read; ``field`` is the configuration's path."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


def read_money(text: str, field: str) -> int:
    """Kopecks of an amount typed in roubles (``kernel.amounts``), or the field's problem."""
    try:
        return parse_roubles(text)
    except AmountRefused as exc:
        raise FormProblem(field, exc.message) from None


def _int(form: Mapping[str, str], name: str, field: str) -> int:
    text = form.get(name, "").strip()
    if not re.fullmatch(r"\d{1,9}", text):
        raise FormProblem(field, N_("Type a whole number."))
    return int(text)


def _utc(text: str, field: str, time_zone: str) -> str:
    try:
        local = datetime.strptime(text.strip(), _LOCAL)
    except ValueError:
        raise FormProblem(field, N_("Give a date and a time.")) from None
    moment = local.replace(tzinfo=ZoneInfo(time_zone)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def local_input(utc_text: str, time_zone: str) -> str:
    """An RFC 3339 UTC time as the value of a ``datetime-local`` input in the zone."""
    moment = datetime.strptime(utc_text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(time_zone)).strftime(_LOCAL)


def election_from_form(
    form: Mapping[str, str], *, time_zone: str
) -> tuple[dict[str, Any], list[FormProblem]]:
    """The ``election`` object of the form, and the fields that could not be read (the
    rest of the object is still built, so that the preview shows as much as it can)."""
    problems: list[FormProblem] = []

    def read(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except FormProblem as exc:
            problems.append(exc)
            return None

    kind = form.get("kind", "approval")
    if kind not in BALLOT_KINDS:
        kind = "approval"
    ballot: dict[str, Any] = {"kind": kind}
    if kind == "approval":
        ballot["min_projects"] = read(_int, form, "min_projects", "ballot.min_projects")
        ballot["max_projects"] = read(_int, form, "max_projects", "ballot.max_projects")
        if form.get("max_total_cost", "").strip():
            cost = read(read_money, form["max_total_cost"], "ballot.max_total_cost")
            ballot["max_total_cost"] = cost
    elif kind == "cumulative":
        ballot["total_points"] = read(_int, form, "total_points", "ballot.total_points")
        ballot["max_per_project"] = read(_int, form, "max_per_project", "ballot.max_per_project")
    else:
        ballot["min_length"] = read(_int, form, "min_length", "ballot.min_length")
        ballot["max_length"] = read(_int, form, "max_length", "ballot.max_length")
    name = form.get("rule", "greedy")
    if name not in RULES:
        name = "greedy"
    rule: dict[str, Any] = {"name": name}
    if name == "mes":
        completion = form.get("completion", "none")
        rule["completion"] = completion if completion in COMPLETIONS else "none"
        satisfaction = form.get("satisfaction", "cost")
        rule["satisfaction"] = satisfaction if satisfaction in ("cost", "cardinality") else "cost"
    elif name == "greedy-threshold":
        rule["threshold"] = read(_int, form, "threshold", "rule.threshold")
    window = {
        "opens_at": read(_utc, form.get("opens_at", ""), "window.opens_at", time_zone),
        "closes_at": read(_utc, form.get("closes_at", ""), "window.closes_at", time_zone),
    }
    eligibility = ELIGIBILITY.get(form.get("eligibility", ""), ELIGIBILITY["residents"])
    election: dict[str, Any] = {
        "id": form.get("id", "").strip(),
        "title": form.get("title", "").strip(),
        "ballot": {k: v for k, v in ballot.items() if v is not None},
        "rule": {k: v for k, v in rule.items() if v is not None},
        "window": {k: v for k, v in window.items() if v is not None},
        "eligibility": dict(eligibility),
        "revoting": form.get("revoting", "") in ("on", "true", "1"),
    }
    return election, problems


def form_from_election(election: Mapping[str, Any], *, time_zone: str) -> dict[str, str]:
    """The form's values for an ``election`` object (the advanced view read back)."""
    ballot = election.get("ballot") or {}
    rule = election.get("rule") or {}
    window = election.get("window") or {}
    eligibility = election.get("eligibility") or {}
    form: dict[str, str] = {
        "id": str(election.get("id", "")),
        "title": str(election.get("title", "")),
        "kind": str(ballot.get("kind", "approval")),
        "rule": str(rule.get("name", "greedy")),
        "completion": str(rule.get("completion", "none")),
        "satisfaction": str(rule.get("satisfaction", "cost")),
        "revoting": "on" if election.get("revoting", True) else "",
    }
    for key in ("min_projects", "max_projects", "total_points", "max_per_project"):
        if key in ballot:
            form[key] = str(ballot[key])
    for key in ("min_length", "max_length"):
        if key in ballot:
            form[key] = str(ballot[key])
    if isinstance(ballot.get("max_total_cost"), int):
        kopecks = ballot["max_total_cost"]
        form["max_total_cost"] = f"{kopecks // 100}" + (
            f",{kopecks % 100:02d}" if kopecks % 100 else ""
        )
    if "threshold" in rule:
        form["threshold"] = str(rule["threshold"])
    for key in ("opens_at", "closes_at"):
        try:
            form[key] = local_input(str(window.get(key, "")), time_zone)
        except ValueError:
            form[key] = ""
    for name, flags in ELIGIBILITY.items():
        if all(bool(eligibility.get(k)) == v for k, v in flags.items()):
            form["eligibility"] = name
    return form
