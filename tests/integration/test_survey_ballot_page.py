"""The ballot page of a survey (docs/protocol.md §19): every question kind laid out for
the browser's script, the conditional question tied to its earlier answer, optional
questions marked, in Russian and English; a survey's budget is shown at its budget
question (never in the heading), and a poll's pages show none."""

from __future__ import annotations

from ballot.core.client import VoterClient
from tests.support.accounts import Client, login
from tests.support.elections import EARLY_CLOSE, config
from tests.support.pages import HTML, PAGES_ON_SQLITE
from tests.support.surveys import poll_config, survey_config

RU = {**HTML, "accept-language": "ru"}


def create_open(client: Client, admin: dict[str, str], cfg: dict[str, object]) -> str:
    assert client.post("/api/v1/elections", json=cfg, headers=admin).status_code == 201
    opened = client.post(f"/api/v1/elections/{cfg['id']}/open", headers=admin)
    assert opened.status_code == 200, opened.text
    return str(cfg["id"])


@PAGES_ON_SQLITE
def test_the_survey_ballot_lays_out_every_question_kind(
    client: Client, admin: dict[str, str]
) -> None:
    election = create_open(client, admin, survey_config())
    page = client.get(f"/elections/{election}", headers=RU)
    assert page.status_code == 200, page.text
    text = page.text
    assert 'data-kind="survey"' in text and "survey-ballot" not in text  # loaded by the script
    assert 'type="radio" name="q-cycle" value="yes"' in text
    assert 'data-show-if="cycle" data-show-any="[&#34;yes&#34;]"' in text
    assert "Задаётся из-за вашего ответа на вопрос 1 (Yes)." in text
    assert text.count('name="q-parks"') == 11  # 0..10
    assert 'type="checkbox" name="q-priorities"' in text and 'data-max="2"' in text
    assert text.count('name="q-transport"') == 3  # three places to rank
    assert 'name="q-projects" value="park"' in text and 'data-limit="700000"' in text
    # No maxlength: the browser would count UTF-16 units, the survey code points.
    assert 'data-max-length="300"' in text and "maxlength" not in text.split('id="q-comment"')[1]
    assert "0 из 300 знаков" in text
    assert "(необязательный)" in text
    # The survey's budget is said once, at its budget question, not in the heading.
    heading = text.split("<h1>")[1].split('id="credential"')[0]
    assert "Бюджет" not in heading
    budget = text.split('id="q-projects"')[1].split("</fieldset>")[0]
    assert '<p class="q-budget">Бюджет: 10\xa0000\xa0₽</p>' in budget
    assert text.count("Бюджет:") == 1
    english = client.get(f"/elections/{election}", headers=HTML).text
    assert "Asked because of your answer to question 1 (Yes)." in english
    assert "(optional)" in english and "0 of 300 characters" in english


@PAGES_ON_SQLITE
def test_a_poll_shows_no_budget(client: Client, admin: dict[str, str]) -> None:
    poll = create_open(client, admin, poll_config())
    page = client.get(f"/elections/{poll}", headers=RU).text
    assert "Rename the square?" in page and "Бюджет" not in page
    # A poll of the older kind (a choice ballot) shows none either.
    choice = config(
        "old-poll",
        budget=0,
        currency="",
        projects=[{"id": "a", "title": "A", "cost": 0}, {"id": "b", "title": "B", "cost": 0}],
        ballot={"kind": "choice", "min_options": 1, "max_options": 1},
        rule={"name": "plurality"},
    )
    assert client.post("/api/v1/elections", json=choice, headers=admin).status_code == 201
    roll = client.post(
        "/api/v1/elections/old-poll/roll",
        content=b"voter_id\nP1\n",
        headers={**admin, "content-type": "text/csv"},
    )
    assert roll.status_code == 201
    code = client.post("/api/v1/elections/old-poll/access-codes", headers=admin).text
    assert client.post("/api/v1/elections/old-poll/open", headers=admin).status_code == 200
    assert "Budget" not in client.get("/elections/old-poll", headers=HTML).text
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election("old-poll", allow_test_keys=True)
    wallet = voter.obtain_credential(info, access_code=code.strip().split("\n")[1].split(",")[1])
    voter.cast(info, wallet, {"choose": ["b"]})
    again = login(client, "admin@example.org")
    assert (
        client.post("/api/v1/elections/old-poll/close", json=EARLY_CLOSE, headers=again).status_code
        == 200
    )
    assert client.post("/api/v1/elections/old-poll/tally", headers=again).status_code == 201
    results = client.get("/elections/old-poll/results", headers=HTML).text
    # Its winner is an option, not a funded project, and nothing was spent.
    assert "Winning options" in results and "Funded projects" not in results
    assert "Spent" not in results and "Left over" not in results
