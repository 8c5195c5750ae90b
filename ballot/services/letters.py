"""Access-code letters: one printable A4 page per voter, as a PDF.

Each page carries the voter's roll reference (so the letter can be put in the right
envelope), the election, its voting window in the municipality's time, the one-time
access code in large type, a QR code that opens the election's voting page with the code
filled in, and the instructions, in Russian or English. The code travels in the QR
code's fragment (``#code=…``), which a browser never sends to a server, so it appears in
no request log. Only the codes' hashes are stored (``ballot.services.roll``): the
letters can be made once, when the codes are made.

The PDF is drawn with fpdf2 and the QR code with segno; the DejaVu Sans fonts shipped in
``kernel/fonts`` carry Cyrillic.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import segno
from babel.dates import format_datetime, get_timezone
from fpdf import FPDF

from kernel.i18n import translations
from kernel.markers import N_

__all__ = ["LETTER_LANGUAGES", "access_code_letters_pdf", "new_pdf", "qr_png", "voting_link"]

FONTS = Path(__file__).resolve().parents[2] / "kernel" / "fonts"
LETTER_LANGUAGES = ("ru", "en")

_TITLE = N_("Your access code for the vote")
_FOR = N_("For voter")
_WINDOW = N_("Voting is open from {opens} to {closes}.")
_CODE = N_("Your one-time access code")
_STEPS = (
    N_("1. Scan the QR code with your phone's camera, or open this address:"),
    N_(
        "2. Type the code above into the field \u201cAccess code\u201d (the QR code fills it "
        "in for you) and get your voting credential. The code works once."
    ),
    N_(
        "3. Write down the recovery code the page shows: with it you can vote again "
        "from another device if you lose this one."
    ),
    N_(
        "4. Vote. Your ballot is sealed and signed on your device; keep the receipt "
        "to check later that your ballot is in the public log."
    ),
)
_PRIVATE = N_(
    "Keep this letter private: anyone who has the code can vote in your place. Your "
    "name is not linked to your ballot."
)
_REVOTE = N_("Until voting closes you may change your vote; only the last one counts.")


def voting_link(public_url: str, election_id: str, code: str | None = None) -> str:
    """The election's page, with the access code in the fragment when given."""
    link = f"{public_url.rstrip('/')}/elections/{quote(election_id, safe='')}"
    return f"{link}#code={quote(code, safe='-')}" if code else link


def _when(at: str, lang: str, time_zone: str) -> str:
    moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return format_datetime(moment, "d MMMM y, HH:mm", tzinfo=get_timezone(time_zone), locale=lang)


def new_pdf(title: str) -> FPDF:
    """An A4 document with the shipped fonts (Cyrillic included)."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(title)
    pdf.set_creator("Veche")
    pdf.set_auto_page_break(auto=False)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    return pdf


def qr_png(text: str) -> io.BytesIO:
    """A QR code of ``text`` (error correction M) as PNG bytes."""
    return _qr_png(text)


def _qr_png(text: str) -> io.BytesIO:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=8, border=2)
    out.seek(0)
    return out


def access_code_letters_pdf(
    *,
    election_id: str,
    election_title: str,
    opens_at: str,
    closes_at: str,
    revoting: bool,
    codes: Sequence[tuple[str, str]],
    public_url: str,
    lang: str,
    time_zone: str = "UTC",
    municipality: str = "",
) -> bytes:
    """The letters for ``codes`` (``(voter_id, code)`` pairs), one A4 page each."""
    if lang not in LETTER_LANGUAGES:
        lang = "en"
    _ = translations(lang).gettext
    pdf = new_pdf(_(_TITLE))
    window = _(_WINDOW).format(
        opens=_when(opens_at, lang, time_zone), closes=_when(closes_at, lang, time_zone)
    )
    width = 210 - 2 * 20
    for voter_id, code in codes:
        pdf.add_page()
        pdf.set_margins(20, 20, 20)
        pdf.set_xy(20, 20)
        if municipality:
            pdf.set_font("DejaVu", "", 10)
            pdf.cell(width, 6, municipality, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 10)
        pdf.cell(width, 6, f"{_(_FOR)}: {voter_id}", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
        pdf.set_font("DejaVu", "B", 18)
        pdf.multi_cell(width, 9, _(_TITLE), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "B", 13)
        pdf.multi_cell(width, 7, election_title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 11)
        pdf.multi_cell(width, 6, window, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
        top = pdf.get_y()
        pdf.set_font("DejaVu", "", 11)
        pdf.cell(100, 6, _(_CODE), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "B", 17)
        pdf.cell(112, 14, code, border=1, align="C", new_x="LMARGIN", new_y="NEXT")
        link = voting_link(public_url, election_id, code)
        pdf.image(_qr_png(link), x=20 + width - 50, y=top, w=50, h=50)
        pdf.set_y(max(pdf.get_y(), top + 50) + 8)
        pdf.set_font("DejaVu", "", 11)
        for step in _STEPS:
            pdf.multi_cell(width, 6, _(step), align="L", new_x="LMARGIN", new_y="NEXT")
            if step is _STEPS[0]:
                pdf.set_font("DejaVu", "B", 10)
                pdf.multi_cell(width, 6, voting_link(public_url, election_id))
                pdf.set_font("DejaVu", "", 11)
            pdf.ln(2)
        if revoting:
            pdf.multi_cell(width, 6, _(_REVOTE), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(width, 5, _(_PRIVATE), align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
