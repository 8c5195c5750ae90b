"""Exact rationals: gmpy2's ``mpq`` when gmpy2 is installed, else ``fractions.Fraction``.

Both are exact, so every result is the same with either; ``mpq`` is only faster, which
counts where a rule does many thousands of operations on them (the add1 completion's
runs of the Method of Equal Shares, sequential Phragmén's loads). gmpy2 takes tens of
milliseconds to import, more than one run of a rule on most elections, so it is imported
on the first call of ``fast_rationals``, not with the package.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

__all__ = ["fast_rationals", "to_fraction"]

_fast: Any = None


def fast_rationals() -> Any:
    """The faster exact rational type at hand: ``gmpy2.mpq``, or ``Fraction``."""
    global _fast
    if _fast is None:
        try:
            from gmpy2 import mpq  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - depends on the environment
            _fast = Fraction
        else:
            _fast = mpq
    return _fast


def to_fraction(x: Any) -> Fraction:
    """Any exact rational (``int``, ``Fraction`` or ``mpq``) as a ``Fraction``."""
    if isinstance(x, int | Fraction):
        return Fraction(x)
    return Fraction(int(x.numerator), int(x.denominator))
