"""The administrators' roll page: a CSV roll is read and shown (with every bad line, in
the reader's language) before anything is saved; access codes come out once, as
printable letters (a PDF page per voter) or CSV, and the printed codes work; opening,
closing and counting each ask for a confirmation that states their consequences."""

from __future__ import annotations

import io
import re

from litestar import Litestar
from pypdf import PdfReader

from ballot.core.client import VoterClient
from kernel.settings import Settings
from tests.support.accounts import Client, resident
from tests.support.elections import config
from tests.support.pages import HTML, PAGES_ON_SQLITE, csrf_from

pytestmark = PAGES_ON_SQLITE

RU = {**HTML, "accept-language": "ru"}
CODE = re.compile(r"[A-HJ-NP-Z2-9]{5}(?:-[A-HJ-NP-Z2-9]{5}){3}")
GOOD = "voter_id,email\nA-0001,anna@example.org\nA-0002,\nA-0003,boris@example.org\n"


def draft(client: Client, admin: dict[str, str], election_id: str = "roll-2027") -> str:
    made = client.post("/api/v1/elections", json=config(election_id), headers=admin)
    assert made.status_code == 201, made.text
    return election_id


def roll_size(client: Client, election_id: str) -> int:
    page = client.get(f"/admin/elections/{election_id}/roll", headers=HTML)
    assert page.status_code == 200, page.text
    found = re.search(r'id="roll-size">(\d+)<', page.text)
    assert found is not None
    return int(found.group(1))


def test_a_bad_roll_is_shown_line_by_line_in_russian_and_nothing_is_saved(
    client: Client, admin: dict[str, str]
) -> None:
    election = draft(client, admin)
    page = client.get(f"/admin/elections/{election}/roll", headers=RU)
    bad = "voter_id,email\nA-1,a@example.org\nA-1,b@example.org\n,c@example.org\nA-4,not-mail\n"
    shown = client.post(
        f"/admin/elections/{election}/roll/preview",
        headers=RU,
        files={"file": ("roll.csv", bad.encode(), "text/csv")},
        data={"csrf_token": csrf_from(page.text)},
    )
    assert shown.status_code == 400
    problems = re.search(r'<ul id="row-problems">(.*?)</ul>', shown.text, re.S)
    assert problems is not None
    text = problems.group(1)
    assert "Строка 3" in text and "Строка 4" in text and "Строка 5" in text
    assert "встречается дважды" in text and "не адрес электронной почты" in text
    assert "appears twice" not in text
    assert 'id="roll-save"' not in shown.text  # nothing to save while a line is bad
    assert roll_size(client, election) == 0


def test_a_good_roll_is_previewed_then_saved_exactly_as_shown(
    client: Client, admin: dict[str, str]
) -> None:
    election = draft(client, admin)
    page = client.get(f"/admin/elections/{election}/roll", headers=HTML)
    csrf = csrf_from(page.text)
    shown = client.post(
        f"/admin/elections/{election}/roll/preview",
        headers=HTML,
        files={"file": ("roll.csv", ("\ufeff" + GOOD).encode(), "text/csv")},
        data={"csrf_token": csrf},
    )
    assert shown.status_code == 200, shown.text
    assert shown.text.count("<td>A-000") == 3 and 'id="roll-save"' in shown.text
    assert roll_size(client, election) == 0  # a preview saves nothing
    saved = client.post(
        f"/admin/elections/{election}/roll/import",
        headers=HTML,
        data={"csrf_token": csrf, "text": GOOD},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert saved.status_code == 200, saved.text
    assert roll_size(client, election) == 3
    again = client.post(
        f"/admin/elections/{election}/roll/import",
        headers=HTML,
        data={"csrf_token": csrf, "text": GOOD},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert again.status_code == 400 and "appears twice" in again.text
    assert roll_size(client, election) == 3


def test_files_that_are_not_a_roll_are_refused_with_a_sentence(
    client: Client, admin: dict[str, str]
) -> None:
    election = draft(client, admin)
    page = client.get(f"/admin/elections/{election}/roll", headers=RU)
    csrf = csrf_from(page.text)
    latin1 = client.post(
        f"/admin/elections/{election}/roll/preview",
        headers=RU,
        files={"file": ("roll.csv", "voter_id\nГ-1\n".encode("cp1251"), "text/csv")},
        data={"csrf_token": csrf},
    )
    assert latin1.status_code == 400 and "CSV UTF-8" in latin1.text
    no_header = client.post(
        f"/admin/elections/{election}/roll/preview",
        headers=HTML,
        data={"csrf_token": csrf, "text": "name\nAnna\n"},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert no_header.status_code == 400 and "voter_id" in no_header.text
    empty = client.post(
        f"/admin/elections/{election}/roll/preview",
        headers=HTML,
        data={"csrf_token": csrf, "text": "  "},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert empty.status_code == 400 and "Choose a CSV file" in empty.text


def test_letters_carry_one_working_code_per_voter_and_are_made_only_once(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    election = draft(client, admin)
    page = client.get(f"/admin/elections/{election}/roll", headers=HTML)
    csrf = csrf_from(page.text)
    client.post(
        f"/admin/elections/{election}/roll/import",
        headers=HTML,
        data={"csrf_token": csrf, "text": GOOD},
        files={"file": ("", b"", "application/octet-stream")},
    )
    letters = client.post(
        f"/admin/elections/{election}/access-codes",
        headers=HTML,
        data={"csrf_token": csrf, "format": "pdf", "lang": "ru"},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert letters.status_code == 200, letters.text[:500]
    assert letters.headers["content-type"] == "application/pdf"
    assert "attachment" in letters.headers["content-disposition"]
    pdf = PdfReader(io.BytesIO(letters.content))
    assert len(pdf.pages) == 3
    codes = {}
    for number, pdf_page in enumerate(pdf.pages, start=1):
        text = pdf_page.extract_text()
        assert f"A-000{number}" in text
        assert "Ваш код доступа" in text and "Centre 2026" in text
        found = CODE.findall(text)
        assert len(found) == 1, text
        codes[f"A-000{number}"] = found[0]
    assert len(set(codes.values())) == 3
    # Codes are shown once: a second request makes none and says why.
    twice = client.post(
        f"/admin/elections/{election}/access-codes",
        headers=HTML,
        data={"csrf_token": csrf, "format": "csv"},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert twice.status_code == 409 and "already has an access code" in twice.text
    # The printed code gets a credential once the election is open.
    assert client.post(f"/api/v1/elections/{election}/open", headers=admin).status_code == 200
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(election, allow_test_keys=True)
    wallet = voter.obtain_credential(info, access_code=codes["A-0002"])
    assert wallet.token is not None


def test_the_roll_freezes_at_opening_and_residents_cannot_reach_the_page(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    election = draft(client, admin)
    page = client.get(f"/admin/elections/{election}/roll", headers=HTML)
    csrf = csrf_from(page.text)
    assert client.post(f"/api/v1/elections/{election}/open", headers=admin).status_code == 200
    frozen = client.post(
        f"/admin/elections/{election}/roll/preview",
        headers=HTML,
        data={"csrf_token": csrf, "text": GOOD},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert frozen.status_code == 409 and "frozen" in frozen.text
    resident(client, app, settings, "eve")
    assert client.get(f"/admin/elections/{election}/roll", headers=HTML).status_code == 403
    assert client.get(f"/admin/elections/{election}/confirm/open", headers=HTML).status_code == 403


def test_each_irreversible_step_states_its_consequences_first(
    client: Client, admin: dict[str, str]
) -> None:
    election = draft(client, admin)
    listed = client.get("/admin/setup", headers=HTML)
    assert f"/admin/elections/{election}/confirm/open" in listed.text
    confirm = client.get(f"/admin/elections/{election}/confirm/open", headers=RU)
    assert confirm.status_code == 200
    assert "Открыть голосование?" in confirm.text and "замораживаются" in confirm.text
    form = re.search(r'<form method="post" action="(/admin/setup/[^"]+)"', confirm.text)
    assert form is not None and form.group(1) == f"/admin/setup/{election}/open"
    done = client.post(
        form.group(1),
        headers=HTML,
        data={"csrf_token": csrf_from(confirm.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    close = client.get(f"/admin/elections/{election}/confirm/close", headers=HTML)
    assert "no ballot is accepted after this" in close.text
    count = client.get(f"/admin/elections/{election}/confirm/tally", headers=HTML)
    assert "cannot be withdrawn" in count.text
