"""Exact rationals, accelerated by gmpy2's ``mpq`` when it is installed.

Both types are exact, so results are identical either way; ``mpq`` is only faster.
``VECHE_TALLY_PURE=1`` forces the standard library's ``Fraction`` (the tests run both).
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any

__all__ = ["USING_GMPY2", "Q", "to_fraction"]

Q: Any = Fraction
USING_GMPY2 = False
if os.environ.get("VECHE_TALLY_PURE") != "1":  # pragma: no branch
    try:
        from gmpy2 import mpq  # type: ignore[import-untyped]

        Q = mpq
        USING_GMPY2 = True
    except ImportError:  # pragma: no cover - depends on the environment
        pass


def to_fraction(x: Any) -> Fraction:
    """Any exact rational (``int``, ``Fraction`` or ``mpq``) as a ``Fraction``."""
    if isinstance(x, int | Fraction):
        return Fraction(x)
    return Fraction(int(x.numerator), int(x.denominator))
