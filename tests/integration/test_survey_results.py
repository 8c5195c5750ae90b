"""A survey's results pages (docs/protocol.md §19): twelve residents answer a survey of
every kind; after the close a moderator withholds one text (logged), and the count is
published. The page shows each question's counts, exact shares, a scale's mean, a
ranking's Borda points and first places, the budget question's winners, the texts with
their ballots' seq (the withheld one by its reason), the CSV and JSON exports, and a
cross-tabulation; bad picks and bad withholdings are refused in the reader's language."""

from __future__ import annotations

import csv
import io

import pytest
from litestar import Litestar

from ballot.core.client import VoterClient
from kernel.settings import Settings
from tests.support.accounts import PASSWORD, Client, login
from tests.support.elections import EARLY_CLOSE
from tests.support.pages import HTML, PAGES_ON_SQLITE
from tests.support.surveys import answers, survey_config
from veche.setup import NewUser, create_user

RU = {**HTML, "accept-language": "ru"}
VOTERS = 12
REASON = "Names a private person."


def run_survey(client: Client, admin: dict[str, str]) -> tuple[str, dict[int, int]]:
    """Twelve residents on a roll answer with access codes (the fifth twice, the first
    answer replaced); the survey is closed. Its id, and each resident's last ballot seq."""
    cfg = survey_config()
    assert client.post("/api/v1/elections", json=cfg, headers=admin).status_code == 201
    roll = "voter_id\n" + "".join(f"V{k}\n" for k in range(VOTERS))
    posted = client.post(
        f"/api/v1/elections/{cfg['id']}/roll",
        content=roll.encode(),
        headers={**admin, "content-type": "text/csv"},
    )
    assert posted.status_code == 201, posted.text
    codes = client.post(f"/api/v1/elections/{cfg['id']}/access-codes", headers=admin).text
    assert client.post(f"/api/v1/elections/{cfg['id']}/open", headers=admin).status_code == 200
    rows = [line.split(",") for line in codes.strip().split("\n")[1:]]
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(cfg["id"], allow_test_keys=True)
    seqs = {}
    for n, (_ref, code) in enumerate(rows):
        wallet = voter.obtain_credential(info, access_code=code)
        if n == 5:  # a first answer, replaced by the one below
            voter.cast(info, wallet, answers(0))
        seqs[n] = int(voter.cast(info, wallet, answers(n))["seq"])
    again = login(client, "admin@example.org")
    closed = client.post(f"/api/v1/elections/{cfg['id']}/close", json=EARLY_CLOSE, headers=again)
    assert closed.status_code == 200, closed.text
    return str(cfg["id"]), seqs


@pytest.fixture(name="survey")
def fx_survey(client: Client, admin: dict[str, str]) -> tuple[str, dict[int, int], dict[str, str]]:
    election, seqs = run_survey(client, admin)
    headers = login(client, "admin@example.org")
    # The moderator's page lists the opened texts before the count; one is withheld.
    page = client.get(f"/elections/{election}/texts", headers=RU)
    assert page.status_code == 200, page.text
    assert "Comment 4" in page.text and f'id="t-comment-{seqs[4]}"' in page.text
    form = {"seq": str(seqs[4]), "question": "comment", "reason": REASON}
    done = client.post(
        f"/elections/{election}/texts", data=form, headers=headers, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    counted = client.post(f"/api/v1/elections/{election}/tally", headers=headers)
    assert counted.status_code == 201, counted.text
    return election, seqs, headers


@PAGES_ON_SQLITE
def test_the_results_page_shows_every_question(
    client: Client, survey: tuple[str, dict[int, int], dict[str, str]]
) -> None:
    election, seqs, _headers = survey
    page = client.get(f"/elections/{election}/results", headers=HTML)
    assert page.status_code == 200, page.text
    text = page.text
    assert 'id="counted">12<' in text
    # Single choice: 8 of 12 cycle (every third does not): 66.6%, written exactly.
    assert '<th scope="row">Yes</th><td>8</td><td>66.6%</td>' in text
    # The conditional text was answered only by those who cycle, each with its seq.
    assert f'href="/log/entries/{seqs[1]}">#{seqs[1]}</a>' in text and "Street number 1" in text
    assert "Street number 3" not in text
    # The scale: 0..10 and 0 again: 55/12, 4.58.
    assert "Mean: 4.58" in text and "(= 55/12)" in text
    # The ranking: Borda metro 12, tram 12, bus 8; first places 4 each.
    assert '<th scope="row">Bus</th><td>8</td><td>4</td><td>33.3%</td>' in text
    # The budget question: greedy over the votes, in the page's money.
    assert "Funded projects" in text and "₽" in text
    # The withheld text says so with its reason; its words are not on the page.
    assert "Comment 4" not in text and f"Withheld by a moderator: {REASON}" in text
    assert "Comment 6" in text
    assert "<script>alert" not in text and "Comment 8 &lt;script&gt;alert(" in text
    assert "Withheld by moderators: 1" in text
    # Charts: bars for the choices, the ranking and the budget, columns for the scale,
    # each label the page's text (whole, to wrap), each bar SVG drawn with attributes only
    # (the CSP refuses inline styles).
    assert text.count('class="chart bars"') == 4 and text.count('class="chart columns"') == 1
    assert "style=" not in text.split("<main")[1]
    assert '<span class="bar-label">Schools</span>' in text
    # The largest count is the longest bar (100 of 100); 8 of 12 "Yes" against 4 "No".
    cycle = text.split('id="q-cycle"')[1].split("</section>")[0]
    assert 'class="bar" x="0" y="0" width="100"' in cycle
    assert 'class="bar" x="0" y="0" width="50"' in cycle
    # The budget is said once, at the budget question, never in the heading.
    assert "Budget" not in text.split('class="survey-toc"')[0]
    assert "Spent: " in text and text.count("₽10,000") == 1
    russian = client.get(f"/elections/{election}/results", headers=RU).text
    assert "Среднее: 4,58" in russian and "Скрыт модератором" in russian
    assert "Потрачено: " in russian and russian.count("10\xa0000\xa0₽") == 1


@PAGES_ON_SQLITE
def test_the_exports_hold_the_published_counts_and_the_texts(
    client: Client, survey: tuple[str, dict[int, int], dict[str, str]]
) -> None:
    election, seqs, _headers = survey
    got = client.get(f"/elections/{election}/results/survey.csv")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.text)))
    assert rows[0] == ["question", "kind", "answer", "count", "answered", "borda", "seq", "text"]
    assert ["cycle", "single", "yes", "8", "12", "", "", ""] in rows
    assert ["transport", "ranking", "metro", "4", "12", "12", "", ""] in rows
    assert ["parks", "scale", "10", "1", "12", "", "", ""] in rows
    assert ["comment", "text", "", "", "6", "", str(seqs[4]), f"[withheld: {REASON}]"] in rows
    data = client.get(f"/elections/{election}/results/survey.json").json()
    assert data["questions"]["cycle"] == {"answered": 12, "counts": {"no": 4, "yes": 8}}
    assert data["questions"]["parks"]["sum"] == 55
    lanes = data["texts"]["lanes"]
    assert [t["seq"] for t in lanes] == sorted(t["seq"] for t in lanes) and len(lanes) == 8
    withheld = [t for t in data["texts"]["comment"] if t["withheld"]]
    assert withheld == [{"seq": seqs[4], "text": None, "withheld": REASON}]


@PAGES_ON_SQLITE
def test_the_cross_tabulation_of_two_closed_questions(
    client: Client, survey: tuple[str, dict[int, int], dict[str, str]]
) -> None:
    election, _seqs, _headers = survey
    page = client.get(f"/elections/{election}/results?rows=cycle&cols=priorities", headers=HTML)
    assert page.status_code == 200
    table = page.text.split('class="data crosstab"')[1].split("</table>")[0]
    # Those who do not cycle (n = 0, 3, 6, 9) all chose roads only.
    assert '<th scope="row">No</th><td>4 <span class="muted">(100.0%)</span></td><td>0' in table
    refused = client.get(f"/elections/{election}/results?rows=cycle&cols=cycle", headers=RU)
    assert refused.status_code == 400 and "Выберите два разных вопроса." in refused.text
    unknown = client.get(f"/elections/{election}/results?rows=cycle&cols=lanes", headers=HTML)
    assert unknown.status_code == 400
    assert "Pick two questions with a closed set of answers." in unknown.text


@PAGES_ON_SQLITE
def test_withholding_is_refused_to_residents_after_the_count_and_without_a_reason(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    election, seqs = run_survey(client, admin)
    headers = login(client, "admin@example.org")
    empty = {"seq": str(seqs[2]), "question": "comment", "reason": "  "}
    refused = client.post(f"/elections/{election}/texts", data=empty, headers={**headers, **RU})
    assert refused.status_code == 400
    assert "Укажите причину" in refused.text
    # A seq that holds no counted ballot's text is refused, and nothing is logged.
    wrong = {"seq": str(seqs[1]), "question": "comment", "reason": "x"}  # n=1 wrote none
    assert client.post(f"/elections/{election}/texts", data=wrong, headers=headers).status_code in (
        400,
        404,
        409,
    )
    create_user(
        settings, app.state.engine, NewUser("res@example.org", PASSWORD, "R", "resident", "centre")
    )
    client.cookies.clear()
    resident = login(client, "res@example.org")
    form = {"seq": str(seqs[2]), "question": "comment", "reason": "No."}
    assert (
        client.post(f"/elections/{election}/texts", data=form, headers=resident).status_code == 403
    )
    headers = login(client, "admin@example.org")
    assert client.post(f"/api/v1/elections/{election}/tally", headers=headers).status_code == 201
    late = client.post(f"/elections/{election}/texts", data=form, headers=headers)
    assert late.status_code in (400, 409)
    results = client.get(f"/elections/{election}/results", headers=HTML).text
    assert "Comment 2" in results and "Withheld" not in results
