"""Marking messages for translation, with no dependency: the pure cores may import it.

``N_("…")`` returns its argument unchanged; ``make catalogs`` extracts every marked
message, and ``kernel.i18n`` translates it where it is shown, in the viewer's language.
"""

from __future__ import annotations

__all__ = ["N_"]


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message
