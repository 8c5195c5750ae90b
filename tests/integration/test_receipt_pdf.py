"""The receipt as a PDF: what the voter's browser checked, on one page with a QR code
that opens the log entry; a text that is not a receipt is refused with a sentence."""

from __future__ import annotations

import io
import json

from pypdf import PdfReader

from ballot.core.client import VoterClient
from tests.support.accounts import Client
from tests.support.elections import create_election
from tests.support.pages import HTML, PAGES_ON_SQLITE, csrf_from

pytestmark = PAGES_ON_SQLITE

RU = {**HTML, "accept-language": "ru"}


def test_a_receipt_prints_with_its_entry_and_a_sentence_when_it_is_not_one(
    client: Client, admin: dict[str, str]
) -> None:
    election = create_election(client, admin, "receipt-2027")
    made = client.post(
        f"/api/v1/elections/{election}/roll",
        content=b"voter_id\nR1\n",
        headers={**admin, "content-type": "text/csv"},
    )
    assert made.status_code == 201
    code = client.post(f"/api/v1/elections/{election}/access-codes", headers=admin).text
    code = code.strip().split("\n")[1].split(",")[1]
    assert client.post(f"/api/v1/elections/{election}/open", headers=admin).status_code == 200
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(election, allow_test_keys=True)
    wallet = voter.obtain_credential(info, access_code=code)
    receipt = voter.cast(info, wallet, {"approve": ["park"]})

    page = client.get(f"/elections/{election}", headers=RU)
    assert 'id="receipt-pdf-form"' in page.text
    csrf = csrf_from(page.text)
    printed = client.post(
        f"/elections/{election}/receipt-pdf",
        headers=RU,
        data={"csrf_token": csrf, "receipt": json.dumps(receipt)},
    )
    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(printed.content)).pages[0].extract_text()
    assert "Квитанция" in text and "Centre 2026" in text
    assert f"#{receipt['seq']}" in text and receipt["ballot_digest"][:16] in text
    assert f"/log/entries/{receipt['seq']}" in text

    for bad in ("not json", json.dumps({**receipt, "seq": -1}), json.dumps([receipt])):
        refused = client.post(
            f"/elections/{election}/receipt-pdf",
            headers=RU,
            data={"csrf_token": csrf, "receipt": bad},
        )
        assert refused.status_code == 400
        assert "Это не квитанция" in refused.text
