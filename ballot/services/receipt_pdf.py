"""A voter's receipt as a printable page (PDF): the election, the log entry that holds
the ballot, the ballot's fingerprint, the signed checkpoint, and a QR code that opens the
entry's public page, so that the voter, or anyone they show it to, can check later that
the ballot is in the log (docs/protocol.md §8).

The receipt comes from the voter's browser, which checked it when the ballot was cast;
the server only lays it out. Its fields are checked for shape (a refused receipt is a
400 with a sentence), not against the log: "Check my ballot" does that, with the receipt
this page prints.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ballot.services.letters import LETTER_LANGUAGES, new_pdf, qr_png
from kernel.errors import InvalidInput
from kernel.i18n import translations
from kernel.markers import N_

__all__ = ["read_receipt", "receipt_pdf"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
NOT_A_RECEIPT = N_("This is not a receipt of Veche: download it again from the ballot page.")
_TITLE = N_("Receipt of your ballot")
_INTRO = N_(
    "Your sealed ballot is in the public audit log. Keep this page: with it anyone can "
    "check later that the log still holds your ballot, without learning how you voted."
)
_ELECTION = N_("Election")
_ENTRY = N_("Entry in the audit log")
_DIGEST = N_("Fingerprint of your ballot")
_CHECKPOINT = N_("Signed checkpoint")
_SIZE = N_("Entries in the log when it was signed: {size}")
_CHECK = N_(
    "To check: scan the QR code to open the entry, or paste the receipt's data into "
    "\u201cCheck my ballot\u201d at {link}"
)


def read_receipt(text: str) -> dict[str, Any]:
    """The receipt's JSON, if it has a receipt's shape (§8.1); 400 otherwise."""
    try:
        receipt = json.loads(text)
    except ValueError:
        raise InvalidInput(NOT_A_RECEIPT, code="bad_receipt") from None
    ok = (
        isinstance(receipt, dict)
        and isinstance(receipt.get("seq"), int)
        and receipt["seq"] >= 0
        and isinstance(receipt.get("size"), int)
        and receipt["size"] > receipt["seq"]
        and isinstance(receipt.get("election"), str)
        and _HEX64.fullmatch(receipt["election"]) is not None
        and isinstance(receipt.get("ballot_digest"), str)
        and _HEX64.fullmatch(receipt["ballot_digest"]) is not None
        and isinstance(receipt.get("checkpoint"), str)
        and len(receipt["checkpoint"]) < 10_000
    )
    if not ok:
        raise InvalidInput(NOT_A_RECEIPT, code="bad_receipt")
    return receipt


def receipt_pdf(
    receipt: dict[str, Any], *, election_title: str, public_url: str, lang: str
) -> bytes:
    """One A4 page for a receipt read by ``read_receipt``."""
    if lang not in LETTER_LANGUAGES:
        lang = "en"
    _ = translations(lang).gettext
    base = public_url.rstrip("/")
    entry_link = f"{base}/log/entries/{receipt['seq']}"
    pdf = new_pdf(_(_TITLE))
    width = 210 - 2 * 20
    pdf.add_page()
    pdf.set_margins(20, 20, 20)
    pdf.set_xy(20, 20)
    pdf.set_font("DejaVu", "B", 18)
    pdf.multi_cell(width - 55, 9, _(_TITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(width - 55, 6, _(_INTRO), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.image(qr_png(entry_link), x=20 + width - 45, y=18, w=45, h=45)
    pdf.set_y(max(pdf.get_y(), 65) + 4)
    rows = [
        (_(_ELECTION), election_title),
        (_(_ENTRY), f"#{receipt['seq']} — {entry_link}"),
        (_(_DIGEST), receipt["ballot_digest"]),
    ]
    for label, value in rows:
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(width, 6, label, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(width, 5, value, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(width, 6, _(_CHECKPOINT), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(width, 5, _(_SIZE).format(size=receipt["size"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 7)
    for line in receipt["checkpoint"].splitlines():
        pdf.multi_cell(width, 3.5, line, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(width, 5, _(_CHECK).format(link=f"{base}/check"), align="L")
    return bytes(pdf.output())
