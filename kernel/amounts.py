"""Amounts of money as a person types them, read exactly into integer minor units.

Roubles with an optional comma (or point) and at most two kopeck digits; groups of
digits may be separated by spaces, no-break spaces or thin spaces ("1 500 000",
"1 500 000,50"). Exponents, signs, more than two decimals and anything that is not a
digit are refused with a sentence (a ``N_`` marker, translated where shown). Pure:
no floats, no ``Decimal`` parsing (which would accept "1e9" and "NaN").
"""

from __future__ import annotations

import re

from kernel.markers import N_

# Kopecks; the schemas' own ceiling (10**15) for any amount.
MAX_MINOR = 10**15
_SPACES = re.compile(r"[ \u00a0\u202f\u2009]")
_AMOUNT = re.compile(r"([0-9]+)(?:[.,]([0-9]{1,2}))?")


class AmountRefused(ValueError):
    """The text is not an amount of money; ``message`` says why, in words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_roubles(text: str, *, allow_zero: bool = True) -> int:
    """The amount typed in roubles, in kopecks: "1 500 000,50" → 150000050."""
    cleaned = _SPACES.sub("", text.strip())
    if not cleaned:
        raise AmountRefused(N_("Enter an amount in roubles, like 1 500 000 or 1 500 000,50."))
    if cleaned.startswith("-"):
        raise AmountRefused(N_("An amount cannot be negative."))
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        if re.fullmatch(r"[0-9]+[.,][0-9]{3,}", cleaned):
            raise AmountRefused(N_("An amount has at most two digits of kopecks."))
        raise AmountRefused(
            N_("Enter an amount in roubles with digits only, like 1 500 000 or 1 500 000,50.")
        )
    roubles, kopecks = match.group(1), match.group(2) or "0"
    minor = int(roubles) * 100 + int(kopecks.ljust(2, "0"))
    if minor > MAX_MINOR:
        raise AmountRefused(N_("This amount is too large."))
    if minor == 0 and not allow_zero:
        raise AmountRefused(N_("Enter an amount greater than zero."))
    return minor


def format_roubles(minor: int) -> str:
    """Kopecks as roubles the way ``parse_roubles`` reads them back: 150000050 → "1 500 000,50"."""
    roubles, kopecks = divmod(minor, 100)
    text = f"{roubles:,}".replace(",", "\u00a0")
    return f"{text},{kopecks:02d}" if kopecks else text
