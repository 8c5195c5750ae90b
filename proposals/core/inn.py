"""The Russian taxpayer number (ИНН) and its check digits.

Ten digits for an organization (one check digit), twelve for an individual
entrepreneur (two), with the weights the Federal Tax Service publishes: each check
digit is the weighted sum of the digits before it, modulo 11, then modulo 10.
"""

from __future__ import annotations

_W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_W11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_W12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(text: str) -> bool:
    """Whether ``text`` is a 10- or 12-digit INN whose check digits hold."""
    if not text.isascii() or not text.isdigit() or len(text) not in (10, 12):
        return False
    digits = [int(c) for c in text]
    if len(digits) == 10:
        return _check(digits, _W10) == digits[9]
    return _check(digits, _W11) == digits[10] and _check(digits, _W12) == digits[11]


def inn_kind(text: str) -> str:
    """``organization`` for 10 digits, ``entrepreneur`` for 12 (of a valid INN)."""
    return "organization" if len(text) == 10 else "entrepreneur"
