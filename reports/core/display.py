"""How the pages show reports: status names, coordinates, durations and shares, from
exact values (no floats)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from kernel.markers import N_

STATUS_NAMES = {
    "received": N_("received"),
    "in_work": N_("in work"),
    "answered": N_("answered"),
    "reopened": N_("reopened"),
    "closed": N_("closed"),
}

TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def parse_degrees(text: str, limit: int) -> int | None:
    """Decimal degrees to millionths of a degree; ``None`` when not a coordinate."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) > limit:
        return None
    return int((value * 1_000_000).to_integral_value())


def degrees(micro: int) -> str:
    return str(Decimal(micro).scaleb(-6))


def days_hours(seconds: int | None) -> tuple[int, int] | None:
    """Whole days and the remaining whole hours of a duration."""
    if seconds is None:
        return None
    days, rest = divmod(seconds, 86_400)
    return days, rest // 3600


def percent(share: str | Fraction | None) -> str:
    """A share as a percentage with one decimal, rounded half up: "2/3" → "66.7"."""
    if share is None:
        return "—"
    value = Fraction(share)
    tenths = (value * 1000 + Fraction(1, 2)).__floor__()
    return f"{tenths // 10}.{tenths % 10}"


def decimal2(value: str | Fraction | None) -> str:
    """A fraction with two decimals, rounded half up: "7/2" → "3.50"."""
    if value is None:
        return "—"
    hundredths = (Fraction(value) * 100 + Fraction(1, 2)).__floor__()
    return f"{hundredths // 100}.{hundredths % 100:02d}"
