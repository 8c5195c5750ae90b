"""No English on the Russian pages of surveys (docs/protocol.md §20), by the crawler's
rule (``test_russian_pages``): the survey builder (fresh, filled with a condition and
a budget question, and refused), the quick poll (and its refusal), a survey's ballot
page, a poll's, the results page with its cross-tabulation (and a refused pick), and
the moderators' texts page, followed through their links within the surveys' pages.
The surveys are written in Russian, so any English found is the site's own."""

from __future__ import annotations

from typing import Any

import pytest

from ballot.core.client import VoterClient
from tests.support.accounts import Client
from tests.support.elections import EARLY_CLOSE, config, when
from tests.support.pages import HTML, PAGES_ON_SQLITE, csrf_from
from tests.support.proposals import Actor
from tests.support.russian import as_russian, crawl, english_words
from tests.support.surveys import survey_form

RU = {**HTML, "accept-language": "ru"}
QUESTIONS: list[dict[str, Any]] = [
    {"id": "go", "kind": "single", "text": "Как вы добираетесь по городу?",
     "options": [{"id": "bus", "title": "Автобус"}, {"id": "bike", "title": "Велосипед"}]},
    {"id": "lanes", "kind": "text", "text": "Где не хватает велодорожек?", "max_length": 200,
     "show_if": {"question": "go", "any_of": ["bike"]}},
    {"id": "parks", "kind": "scale", "text": "Оцените парки", "scale_min": 0, "scale_max": 10,
     "low_label": "плохо", "high_label": "отлично"},
    {"id": "problems", "kind": "multiple", "text": "Что важнее?", "min_options": 1,
     "max_options": 2, "options": [{"id": "roads", "title": "Дороги"},
                                   {"id": "light", "title": "Освещение"}]},
    {"id": "rank", "kind": "ranking", "text": "Расставьте по важности", "min_length": 1,
     "max_length": 2, "options": [{"id": "schools", "title": "Школы"},
                                  {"id": "clinics", "title": "Поликлиники"}]},
    {"id": "projects", "kind": "budget", "text": "Какие проекты поддержать?",
     "min_projects": 1, "max_projects": 2, "max_total_cost": 700_000,
     "rule": {"name": "greedy"}},
    {"id": "comment", "kind": "text", "text": "Что ещё?", "optional": True, "max_length": 300},
]  # fmt: skip
PROJECTS = [
    {"id": "park", "title": "Парк у реки", "cost": 400_000},
    {"id": "benches", "title": "Скамейки", "cost": 250_000},
]
ANSWERS = [
    {"go": "bike", "lanes": "Вдоль набережной", "parks": 7, "problems": ["roads"],
     "rank": ["schools"], "projects": ["park"], "comment": "Спасибо!"},
    {"go": "bus", "parks": 3, "problems": ["roads", "light"], "rank": ["clinics", "schools"],
     "projects": ["benches"]},
    {"go": "bike", "lanes": "По проспекту Мира", "parks": 10, "problems": ["light"],
     "rank": ["schools", "clinics"], "projects": ["park", "benches"]},
]  # fmt: skip


def russian_survey(election_id: str, **changes: Any) -> dict[str, Any]:
    return config(
        election_id,
        title="Опрос жителей Центра",
        projects=PROJECTS,
        ballot={"kind": "survey", "questions": QUESTIONS},
        rule={"name": "survey"},
        **changes,
    )


@pytest.fixture(name="surveys")
def fx_surveys(people: dict[str, Actor], client: Client) -> dict[str, Actor]:
    """A counted Russian survey (three residents answered with access codes), one open,
    and an open poll with no budget."""
    admin = people["admin"]
    assert admin.call("POST", "/api/v1/elections", russian_survey("opros")).status_code == 201
    roll = admin.use().post(
        "/api/v1/elections/opros/roll",
        content=b"voter_id\nV0\nV1\nV2\n",
        headers={"X-CSRF-Token": admin.csrf, "content-type": "text/csv"},
    )
    assert roll.status_code == 201, roll.text
    codes = admin.call("POST", "/api/v1/elections/opros/access-codes").text
    assert admin.call("POST", "/api/v1/elections/opros/open").status_code == 200
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election("opros", allow_test_keys=True)
    for line, answers in zip(codes.strip().split("\n")[1:], ANSWERS, strict=True):
        wallet = voter.obtain_credential(info, access_code=line.split(",")[1])
        voter.cast(info, wallet, {"answers": answers})
    closed = admin.call("POST", "/api/v1/elections/opros/close", EARLY_CLOSE)
    assert closed.status_code == 200, closed.text
    assert admin.call("POST", "/api/v1/elections/opros/tally").status_code == 201
    still_open = russian_survey("opros-2", window={"opens_at": when(-5), "closes_at": when(90)})
    assert admin.call("POST", "/api/v1/elections", still_open).status_code == 201
    assert admin.call("POST", "/api/v1/elections/opros-2/open").status_code == 200
    poll = config(
        "opros-ploshchad",
        title="Переименовать площадь?",
        budget=0,
        currency="",
        projects=[],
        ballot={"kind": "survey", "questions": [QUESTIONS[0]]},
        rule={"name": "survey"},
    )
    assert admin.call("POST", "/api/v1/elections", poll).status_code == 201
    assert admin.call("POST", "/api/v1/elections/opros-ploshchad/open").status_code == 200
    return people


@PAGES_ON_SQLITE
def test_no_english_on_russian_survey_pages(surveys: dict[str, Actor], client: Client) -> None:
    starts = ["/elections/opros", "/elections/opros/results",
              "/elections/opros/results?rows=go&cols=problems",
              "/elections/opros/results?rows=parks&cols=rank",
              "/elections/opros-2", "/elections/opros-2/results",
              "/elections/opros-ploshchad"]  # fmt: skip
    office = ["/office/surveys/new", "/office/polls/new", "/elections/opros/texts"]
    found: dict[str, list[str]] = {}
    for who in (None, "author", "admin"):
        used = as_russian(surveys[who] if who else None, client)
        paths = starts + (office if who == "admin" else [])
        for path, words in crawl(used, paths, within=("/elections/opros", "/office/")).items():
            found[f"{who or 'anonymous'} {path}"] = words
    assert not found, found


@PAGES_ON_SQLITE
def test_no_english_in_the_survey_forms_in_russian(
    surveys: dict[str, Actor], client: Client
) -> None:
    used = as_russian(surveys["admin"], client)
    csrf = csrf_from(used.get("/office/surveys/new", headers=RU).text)
    filled = {**survey_form(), "csrf_token": csrf}
    answers = [
        used.post("/office/surveys/new", headers=RU, data=filled),
        # A condition naming no answer, a question without its text, no identifier.
        used.post(
            "/office/surveys/new",
            headers=RU,
            data={**filled, "id": "", "q1-show_any": "", "q2-text": "", "action": "save"},
        ),
        used.post("/office/polls/new", headers=RU, data={"csrf_token": csrf, "question": "Да?"}),
        used.get("/elections/opros/results?rows=go&cols=lanes", headers=RU),
    ]
    assert [a.status_code for a in answers] == [200, 400, 400, 400]
    for answer in answers:
        assert 'lang="ru"' in answer.text
        assert not english_words(answer.text), english_words(answer.text)
