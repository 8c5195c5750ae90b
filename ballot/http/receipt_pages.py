"""The receipt as a printable PDF with a QR code (docs/protocol.md §8): the ballot page
posts the receipt its browser checked, and gets the page to print or keep."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.params import FromPath, URLEncodedBody

from ballot.http.state import ElectionState
from ballot.services.receipt_pdf import read_receipt, receipt_pdf
from kernel.web import DB, request_language

__all__ = ["ReceiptPages"]


class ReceiptPages(Controller):
    include_in_schema = False

    @post("/elections/{election_id:str}/receipt-pdf", sync_to_thread=True, status_code=200)
    def receipt(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        data: URLEncodedBody[dict[str, Any]],
        db: DB,
        state: ElectionState,
    ) -> Response[bytes]:
        """The receipt the form carries, laid out on one A4 page."""
        receipt = read_receipt(str(data.get("receipt", "")))
        with db.begin():
            row = state.elections.get(db, election_id)
        pdf = receipt_pdf(
            receipt,
            election_title=row.title,
            public_url=state.settings.public_url,
            lang=request_language(request),
        )
        name = f"receipt-{election_id}-{receipt['seq']}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
