"""Exact rationals: gmpy2's ``mpq`` when gmpy2 is installed, else ``fractions.Fraction``.

Both are exact, so every result is the same with either; ``mpq`` is only faster. The
tests run the fallback in a process where gmpy2 cannot be imported.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

__all__ = ["USING_GMPY2", "Q", "to_fraction"]

try:
    from gmpy2 import mpq  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - depends on the environment
    Q: Any = Fraction
    USING_GMPY2 = False
else:
    Q = mpq
    USING_GMPY2 = True


def to_fraction(x: Any) -> Fraction:
    """Any exact rational (``int``, ``Fraction`` or ``mpq``) as a ``Fraction``."""
    if isinstance(x, int | Fraction):
        return Fraction(x)
    return Fraction(int(x.numerator), int(x.denominator))
