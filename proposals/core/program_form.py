"""The programme form of the back office, read into a ``ProgramCreate`` (docs/protocol.md
§18.2): what a person typed, field by field, with a sentence for each field that is
wrong. Dates are local dates ("31.12.2027" or "2027-12-31"); amounts are roubles read
exactly by ``kernel.amounts``. Pure: the time zone and the districts are parameters.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from kernel.amounts import AmountRefused, parse_roubles
from kernel.markers import N_
from proposals.core.schemas import (
    DEFAULT_TILE_URL,
    PHASES,
    ProgramCreate,
    ProgramOut,
    ProgramRules,
)

WHO = ("both", "residents", "businesses")
_DOTTED = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def parse_local_date(text: str) -> dt.date | None:
    """ "31.12.2027" or "2027-12-31" as a date; None when it is neither or no such day."""
    text = text.strip()
    dotted, iso = _DOTTED.fullmatch(text), _ISO.fullmatch(text)
    try:
        if dotted:
            return dt.date(int(dotted[3]), int(dotted[2]), int(dotted[1]))
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
    except ValueError:
        return None
    return None


def end_of_day(day: dt.date, timezone: str) -> int:
    """The last second of ``day`` in the time zone, as whole UTC seconds."""
    start = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zoneinfo.ZoneInfo(timezone))
    return int(start.timestamp()) - 1


def local_day(seconds: int, timezone: str) -> dt.date:
    """The local date of an instant given in whole UTC seconds."""
    return dt.datetime.fromtimestamp(seconds, zoneinfo.ZoneInfo(timezone)).date()


def _whole(text: str, low: int, high: int) -> int | None:
    text = text.strip().replace(" ", "").replace("\u00a0", "")
    if not text.isdigit() or len(text) > 9:
        return None
    value = int(text)
    return value if low <= value <= high else None


def read_program(
    form: Mapping[str, str], districts: Sequence[str], timezone: str
) -> tuple[ProgramCreate | None, dict[str, str]]:
    """The programme the form describes, or None with field → sentence for what is wrong.

    ``form`` holds the fields as typed: ``title``, ``categories`` (one per line),
    ``district_<code>`` ("on" when chosen) with ``budget_<code>`` in roubles,
    ``support_threshold``, ``cofund_percent``, ``cofund_who``, ``cofund_deadline`` (a
    local date, the end of which is the deadline), ``<phase>_starts``/``<phase>_ends``.
    """
    errors: dict[str, str] = {}
    rules = _read_rules(form, errors)
    chosen: list[dict[str, Any]] = []
    for code in districts:
        if form.get(f"district_{code}") != "on":
            continue
        try:
            budget = parse_roubles(form.get(f"budget_{code}", ""), allow_zero=False)
        except AmountRefused as exc:
            errors[f"budget_{code}"] = exc.message
            continue
        chosen.append({"district": code, "budget": budget})
    if not chosen and not any(k.startswith("budget_") for k in errors):
        errors["districts"] = N_("Choose at least one district and give it a budget.")
    who = form.get("cofund_who", "both")
    if who not in WHO:
        errors["cofund_who"] = N_("Choose who may pledge.")
    deadline: int | None = None
    if form.get("cofund_deadline", "").strip():
        day = parse_local_date(form["cofund_deadline"])
        if day is None:
            errors["cofund_deadline"] = N_("Enter a date like 31.12.2027.")
        else:
            deadline = end_of_day(day, timezone)
    tiles = form.get("map_tile_url", "").strip() or DEFAULT_TILE_URL
    if not tiles.startswith("https://") or "{z}" not in tiles or len(tiles) > 500:
        errors["map_tile_url"] = N_("The tile URL must be https and contain {z}, {x} and {y}.")
    if errors:
        return None, errors
    body = {
        **rules,
        "districts": chosen,
        "cofund_who": who,
        "cofund_deadline": deadline,
        "map_tile_url": tiles,
    }
    try:
        return msgspec.convert(body, ProgramCreate), {}
    except msgspec.ValidationError as exc:  # the schema's own limits, as the API says them
        return None, {"form": str(exc)}


def _read_rules(form: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """Title, categories, phase dates, support threshold and co-funding share."""
    title = form.get("title", "").strip()
    if not title:
        errors["title"] = N_("Enter the programme's title.")
    elif len(title) > 200:
        errors["title"] = N_("This text is too long.")
    categories = [c.strip() for c in form.get("categories", "").splitlines() if c.strip()]
    if not categories:
        errors["categories"] = N_("Enter at least one category, one per line.")
    elif len(categories) > 50 or any(len(c) > 100 for c in categories):
        errors["categories"] = N_("Up to 50 categories of up to 100 characters each.")
    elif len(set(categories)) != len(categories):
        errors["categories"] = N_("A category is listed twice.")
    threshold = _whole(form.get("support_threshold", "0") or "0", 0, 1_000_000)
    if threshold is None:
        errors["support_threshold"] = N_("Enter a whole number from 0 to 1 000 000.")
    percent = _whole(form.get("cofund_percent", "0") or "0", 0, 100)
    if percent is None:
        errors["cofund_percent"] = N_("Enter a whole percentage from 0 to 100.")
    phases: dict[str, dict[str, str]] = {}
    for phase in PHASES:
        starts_text = form.get(f"{phase}_starts", "").strip()
        ends_text = form.get(f"{phase}_ends", "").strip()
        if not starts_text and not ends_text:
            continue
        starts, ends = parse_local_date(starts_text), parse_local_date(ends_text)
        if starts is None or ends is None:
            errors[phase] = N_("Enter both dates of the phase, like 01.03.2027 and 31.03.2027.")
        elif ends < starts:
            errors[phase] = N_("This phase ends before it starts.")
        else:
            phases[phase] = {"starts": starts.isoformat(), "ends": ends.isoformat()}
    return {
        "title": title,
        "categories": categories,
        "phases": phases,
        "support_threshold": threshold,
        "cofund_percent": percent,
    }


def read_rules(form: Mapping[str, str]) -> tuple[ProgramRules | None, dict[str, str]]:
    """The rules the form's fields give (as in ``read_program``), or None with field →
    sentence for what is wrong."""
    errors: dict[str, str] = {}
    rules = _read_rules(form, errors)
    if errors:
        return None, errors
    try:
        return msgspec.convert(rules, ProgramRules), {}
    except msgspec.ValidationError as exc:
        return None, {"form": str(exc)}


def rules_form(program: ProgramOut) -> dict[str, str]:
    """A programme's rules as the form shows them: local dates, categories by line."""
    form = {
        "title": program.title,
        "categories": "\n".join(program.categories),
        "support_threshold": str(program.support_threshold),
        "cofund_percent": str(program.cofund_percent),
    }
    for phase, dates in program.phases.items():
        for key in ("starts", "ends"):
            if key in dates:
                form[f"{phase}_{key}"] = dt.date.fromisoformat(dates[key]).strftime("%d.%m.%Y")
    return form
