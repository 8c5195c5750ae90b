"""What proposal pages show and read: status and stage names (translated where shown),
money in currency units, coordinates in decimal degrees, all without floats."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from kernel.markers import N_

STATUS_NAMES = {
    "draft": N_("Draft"),
    "submitted": N_("Gathering support"),
    "supported": N_("Supported"),
    "in_review": N_("In review"),
    "accepted": N_("Accepted"),
    "rejected": N_("Rejected"),
    "on_ballot": N_("On the ballot"),
    "won": N_("Won"),
    "lost": N_("Lost"),
    "in_implementation": N_("Being built"),
    "completed": N_("Completed"),
}
# A submitted proposal gathers support only in the support phase; before and after it
# the badge says what the page says.
SUBMITTED_OUTSIDE_SUPPORT = N_("Submitted")


def status_name(status: str, phase: str | None) -> str:
    """The badge of a proposal: its status's name, as the program's phase makes it true."""
    if status == "submitted" and phase != "support":
        return SUBMITTED_OUTSIDE_SUPPORT
    return STATUS_NAMES.get(status, status)


STAGE_NAMES = {
    "planned": N_("Planned"),
    "contracted": N_("Contracted"),
    "in_progress": N_("In progress"),
    "completed": N_("Completed"),
}
# Pledge kinds and states, shown as _(word).
PLEDGE_WORDS = (
    N_("resident"),
    N_("business"),
    N_("live"),
    N_("withdrawn"),
    N_("due"),
    N_("released"),
)
# The demo programme's categories, shown translated (``|tr``) like any category the
# catalogs know; a category the catalogs do not know shows as the municipality wrote it.
CATEGORY_WORDS = (N_("Parks"), N_("Roads"), N_("Sport"))
PHASE_NAMES = {
    "submission": N_("Submission"),
    "support": N_("Support"),
    "review": N_("Review"),
    "cofunding": N_("Co-funding"),
    "voting": N_("Voting"),
    "implementation": N_("Implementation"),
}


def field(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip()


def money(minor: int | None) -> str:
    """Minor units as currency units with a thin-space grouping: 1234567 → 12 345,67."""
    if minor is None:
        return ""
    units, cents = divmod(abs(minor), 100)
    text = f"{units:,}".replace(",", "\u202f")
    return ("-" if minor < 0 else "") + (f"{text},{cents:02d}" if cents else text)


def parse_money(text: str) -> int | None:
    """Currency units as typed (``1 500``, ``1500,50``) to minor units; None if not money."""
    cleaned = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    cleaned = cleaned.removesuffix("₽")
    # Digits with at most one decimal separator: "1e9", "Infinity" or "0x10" are not money.
    if not cleaned or not all(c.isdigit() or c == "." for c in cleaned) or cleaned.count(".") > 1:
        return None
    if not cleaned.isascii():
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value > Decimal(10) ** 13:
        return None
    minor = value * 100
    return int(minor) if minor == minor.to_integral_value() else None


def parse_degrees(text: str, limit: int) -> int | str | None:
    """Decimal degrees to micro-degrees; ``""`` → None; ``"bad"`` when not a coordinate."""
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return "bad"
    if not value.is_finite() or abs(value) > limit:
        return "bad"
    return int((value * 1_000_000).to_integral_value())


def degrees(micro: int | None) -> str:
    return "" if micro is None else str(Decimal(micro).scaleb(-6))


def helpers() -> dict[str, Any]:
    return {
        "money": money,
        "degrees": degrees,
        "STATUS_NAMES": STATUS_NAMES,
        "status_name": status_name,
        "STAGE_NAMES": STAGE_NAMES,
        "PHASE_NAMES": PHASE_NAMES,
    }


def map_points(rows: list[Any]) -> str:
    """The markers of the map as JSON for a data attribute (escaped by the template)."""
    points = [
        {"id": p.id, "title": p.title, "lat": degrees(p.lat_e6), "lon": degrees(p.lon_e6)}
        for p in rows
        if p.lat_e6 is not None and p.lon_e6 is not None
    ]
    return json.dumps(points, ensure_ascii=False)
