"""Access-code letters as a PDF: one page per voter in the language asked for, the
window in the municipality's time, the code and a link whose fragment carries it."""

from __future__ import annotations

import io

from pypdf import PdfReader

from ballot.services.letters import access_code_letters_pdf, voting_link

CODES = [("V-1", "ABCDE-FGHJK-LMNPQ-RSTUV"), ("V-2", "ZZZZZ-22222-33333-44444")]


def letters(lang: str, **changes: object) -> list[str]:
    args: dict[str, object] = {
        "election_id": "centre 2027",
        "election_title": "Бюджет центра 2027",
        "opens_at": "2027-03-01T06:00:00Z",
        "closes_at": "2027-03-15T18:00:00Z",
        "revoting": True,
        "codes": CODES,
        "public_url": "https://veche.example/",
        "lang": lang,
        "time_zone": "Europe/Moscow",
    }
    args.update(changes)
    pdf = PdfReader(io.BytesIO(access_code_letters_pdf(**args)))  # type: ignore[arg-type]
    return [page.extract_text() for page in pdf.pages]


def test_one_page_per_voter_in_english_with_the_window_in_local_time() -> None:
    pages = letters("en")
    assert len(pages) == 2
    for (ref, code), text in zip(CODES, pages, strict=True):
        assert ref in text and code in text
        assert "Your access code for the vote" in text
        # 06:00 UTC is 09:00 in Moscow.
        assert "March 1, 2027" in text.replace("\n", " ") or "1 March 2027" in text
        assert "09:00" in text and "21:00" in text
        assert "change your vote" in text
    assert "https://veche.example/elections/centre%202027" in pages[0]


def test_russian_letters_and_an_election_without_revoting() -> None:
    pages = letters("ru", revoting=False)
    assert "Ваш код доступа для голосования" in pages[0]
    assert "марта 2027" in pages[0]
    assert "изменить свой выбор" not in pages[0]
    assert letters("xx")[0].count("Your access code") == 1  # an unknown language: English


def test_the_code_travels_in_the_fragment_which_no_server_receives() -> None:
    link = voting_link("https://veche.example/", "centre-2027", "ABCDE-FGHJK-LMNPQ-RSTUV")
    assert link == "https://veche.example/elections/centre-2027#code=ABCDE-FGHJK-LMNPQ-RSTUV"
    assert voting_link("https://veche.example", "a/b") == "https://veche.example/elections/a%2Fb"
