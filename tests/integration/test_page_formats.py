"""Numbers, money, dates and plurals on the pages, through Babel in both languages: the
explanation of a count in words with money in roubles (not kopecks), the ballot's costs
with the rouble sign, plural forms that agree with their number."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar

from kernel import i18n
from kernel.settings import Settings
from tests.support.accounts import Client, login
from tests.support.elections import run_election
from tests.support.pages import HTML, PAGES_ON_SQLITE


def steps_of(html: str) -> str:
    match = re.search(r'<ol class="steps">(.*?)</ol>', html, re.S)
    assert match, "the page has no explanation"
    return match.group(1)


@PAGES_ON_SQLITE
@pytest.mark.parametrize("rule", [{"name": "greedy"}, {"name": "mes", "completion": "add1"}])
def test_the_explanation_is_words_with_money_in_roubles(
    client: Client, app: Litestar, settings: Settings, rule: dict[str, Any]
) -> None:
    election_id, _choices = run_election(client, app, settings, rule, voters=9)
    admin = login(client, "admin@example.org")
    assert client.post(f"/api/v1/elections/{election_id}/tally", headers=admin).status_code in (
        200,
        201,
    )
    client.cookies.clear()
    en = steps_of(client.get(f"/elections/{election_id}/results", headers=HTML).text)
    ru_page = client.get(
        f"/elections/{election_id}/results", headers={**HTML, "accept-language": "ru"}
    ).text
    ru = steps_of(ru_page)
    # No step falls back to the counting code's own English text.
    assert 'lang="en"' not in en and 'lang="en"' not in ru
    # The budget is 1 000 000 kopecks: 10 000 roubles, never "1000000".
    assert "1000000" not in en and "1\xa0000\xa0000" not in ru
    assert "RUB" not in en and "RUB" not in ru
    if rule["name"] == "greedy":
        assert "Projects are taken in order of their votes" in en
        assert "₽10,000" in en
        assert "10\xa0000\xa0₽" in ru
        # Park 4 000 ₽, library 3 500 ₽, playground 3 000 ₽.
        assert "₽4,000" in en and "4\xa0000\xa0₽" in ru
    else:
        assert "equal share of the budget" in en and "₽" in en
    assert not re.search(r"\b1 votes\b|\b1 supporters\b|\b1 voters\b", en)


def test_plural_forms_and_formats_in_both_languages() -> None:
    one, many = "%(num)s voter", "%(num)s voters"
    assert i18n.plural("en", one, many, 1) == "1 voter"
    assert i18n.plural("en", one, many, 2) == "2 voters"
    forms = [i18n.plural("ru", one, many, n) for n in (1, 3, 5, 21, 1234)]
    assert forms == [
        "1 избиратель",
        "3 избирателя",
        "5 избирателей",
        "21 избиратель",
        "1\xa0234 избирателя",
    ]
    assert i18n.money("ru", 123_456_700) == "1\xa0234\xa0567\xa0₽"
    assert i18n.money("ru", 150) == "1,50\xa0₽"
    assert i18n.money("en", 123_456_700) == "₽1,234,567"
    assert i18n.money("en", 100, "EUR") == "€1"
    assert i18n.number("ru", 1_234_567) == "1\xa0234\xa0567"
    # Moscow is three hours ahead of UTC; the date and time in the reader's words.
    assert (
        i18n.when("ru", "2026-12-07T15:00:00Z", "Europe/Moscow") == "7 дек. 2026\u202fг., 18:00 MSK"
    )
    assert (
        i18n.when("en", 1_796_000_000, "UTC").replace("\u202f", " ") == "Nov 30, 2026, 12:53 AM UTC"
    )
    assert i18n.when("en", "2027-01-31", "Pacific/Honolulu", "date") == "Jan 31, 2027"
