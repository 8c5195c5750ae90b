"""A resident answers a survey in the browser (docs/protocol.md §19, §20.1), on a phone,
in Russian: the conditional question appears only after the answer that asks it and is
left out of the ballot when that answer changes, a missing answer is marked at its
question without losing what was typed, and the answers the page reads are the choices
the server accepts; then the ballot is sealed and cast, and after the close it is
counted: the results page shows the answers given in the browser, and ``veche verify``
of the server's log accepts the ballot and the count."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from ballot.core.choices import validate_choices
from ballot.core.config import parse_config
from ballot.core.errors import BallotRejected
from kernel.db import make_engine
from tests.support.accounts import PASSWORD
from tests.support.browser import SQLITE_ONLY, answer_on_a_phone, phone
from tests.support.elections import EARLY_CLOSE
from tests.support.server import LiveServer, veche
from tests.support.surveys import survey_config
from veche.setup import NewUser, create_user

pytestmark = [pytest.mark.browser, SQLITE_ONLY]

READ_ANSWERS = """
async () => {
  const survey = await import("/static/js/survey-ballot.js");
  return survey.surveyChoices(document.getElementById("ballot-form"));
}
"""


# A text put in the conditional question as typed (the string is built in the page, so
# that a lone surrogate reaches it intact), and what the page's script makes of it.
JUDGE_TEXT = """
async (text) => {
  const survey = await import("/static/js/survey-ballot.js");
  const area = document.querySelector("#q-lanes textarea");
  area.value = text.replace(/<D800>/g, String.fromCharCode(0xd800));
  area.dispatchEvent(new Event("input", { bubbles: true }));
  const count = document.querySelector("#q-lanes .q-count").textContent;
  try {
    const choices = survey.surveyChoices(document.getElementById("ballot-form"));
    return { answer: choices.answers.lanes, count };
  } catch (exc) {
    return { problem: exc.problems?.lanes ?? String(exc), count,
             shown: document.getElementById("q-lanes-error").textContent };
  }
}
"""


def open_survey(live_server: LiveServer) -> tuple[httpx.Client, str]:
    """The survey of tests.support.surveys, open, with one resident on its roll: an
    administrator's client, and the resident's access code."""
    engine = make_engine(live_server.settings)
    try:
        create_user(
            live_server.settings, engine, NewUser("admin@example.org", PASSWORD, "A", "admin")
        )
    finally:
        engine.dispose()
    admin = httpx.Client(base_url=live_server.url, timeout=60)
    login = admin.post(
        "/api/v1/auth/login", json={"email": "admin@example.org", "password": PASSWORD}
    )
    admin.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    assert admin.post("/api/v1/elections", json=survey_config()).status_code == 201
    roll = admin.post(
        "/api/v1/elections/city-survey/roll",
        content=b"voter_id\nS1\n",
        headers={"content-type": "text/csv"},
    )
    assert roll.status_code == 201
    code = admin.post("/api/v1/elections/city-survey/access-codes").text.split("\n")[1]
    assert admin.post("/api/v1/elections/city-survey/open").status_code == 200
    return admin, code.split(",")[1]


def test_the_answers_read_in_the_browser_are_what_the_server_accepts(
    browser: Any, live_server: LiveServer
) -> None:
    admin, code = open_survey(live_server)
    with closing(admin):
        context = phone(browser, live_server.url)
        errors: list[str] = []
        try:
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            answer_on_a_phone(page, live_server.url, code)
            choices = page.evaluate(READ_ANSWERS)
            # With "No", the text typed for the hidden question stays on the page but is
            # not in the answers.
            page.locator("#q-cycle").get_by_label("No").check()
            without = page.evaluate(READ_ANSWERS)
        finally:
            context.close()
    assert errors == []
    assert choices == {
        "answers": {
            "cycle": "yes",
            "lanes": "Along the river",
            "parks": 7,
            "priorities": ["parks"],
            "transport": ["tram"],
            "projects": ["park"],
        }
    }
    config = parse_config(survey_config())
    validate_choices(config, choices)  # raises BallotRejected if the server would refuse
    assert "lanes" not in without["answers"] and without["answers"]["cycle"] == "no"
    validate_choices(config, without)


def test_a_resident_answers_a_survey_with_a_conditional_question(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    admin, code = open_survey(live_server)
    with closing(admin):
        context = phone(browser, live_server.url)
        errors: list[str] = []
        try:
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            answer_on_a_phone(page, live_server.url, code)
            page.locator("#cast").click()
            page.locator("#receipt-status").get_by_text("Ваш бюллетень в журнале").wait_for(
                timeout=20_000
            )
        finally:
            context.close()
        assert errors == []
        closed = admin.post("/api/v1/elections/city-survey/close", json=EARLY_CLOSE)
        assert closed.status_code == 200
        tally = admin.post("/api/v1/elections/city-survey/tally")
        assert tally.status_code == 201, tally.text
        assert tally.json()["counted"] == 1
        questions = tally.json()["result"]["questions"]
        assert questions["cycle"]["counts"]["yes"] == 1
        assert questions["lanes"]["answered"] == 1 and questions["comment"]["answered"] == 0
        assert questions["parks"]["sum"] == 7
        assert questions["transport"]["first"]["tram"] == 1
        assert questions["projects"]["scores"]["park"] == 1
        opened = admin.get("/api/v1/elections/city-survey/answers").json()
        assert [row["answers"] for row in opened] == [
            {
                "cycle": "yes",
                "lanes": "Along the river",
                "parks": 7,
                "priorities": ["parks"],
                "transport": ["tram"],
                "projects": ["park"],
            }
        ]
        assert "Along the river" in admin.get("/elections/city-survey/results").text
        # Anyone can check it all from the log: the browser's ballot opens and counts
        # the same.
        key = admin.get("/api/v1/log/key").json()["verifier_key"]
        checked = veche("verify", live_server.url, "--key", key, "--state", str(tmp_path / "state"))
        assert checked.returncode == 0, checked.stdout + checked.stderr


# Texts as a resident might paste them, and how the server judges them (docs/protocol.md
# §19.2): white space as Python's str.strip() reads it, control characters and lone
# surrogates refused, the length in code points (the question allows 200).
TEXTS = [
    "\u2003Along the river\u001f",  # U+001F is white space to Python, not to String.trim
    "\ufeffAlong the river",  # U+FEFF is not white space to Python, though trim drops it
    "Along\u0007the river",  # a control character
    "Along <D800> the river",  # a lone surrogate
    "\U0001f6b2" * 200,  # 200 code points, 400 UTF-16 units: allowed
    "\U0001f6b2" * 201,
]


def server_verdict(text: str) -> tuple[str | None, str]:
    """What the server says of the answers with this text, trimmed as the page trims."""
    answer = text.replace("<D800>", "\ud800").strip()
    choices = {"answers": {**FILLED, "lanes": answer}}
    try:
        validate_choices(parse_config(survey_config()), choices)
    except BallotRejected as exc:
        return exc.code, answer
    return None, answer


FILLED = {"cycle": "yes", "parks": 7, "priorities": ["parks"], "transport": ["tram"],
          "projects": ["park"]}  # fmt: skip


def test_texts_are_judged_on_the_page_as_the_server_judges_them(
    browser: Any, live_server: LiveServer
) -> None:
    admin, _code = open_survey(live_server)
    with closing(admin):
        context = phone(browser, live_server.url)
        errors: list[str] = []
        try:
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{live_server.url}/elections/city-survey")
            page.locator("#q-cycle").get_by_label("Yes").check()
            page.locator("#q-parks label[for='q-parks-7']").click()
            page.locator("#q-priorities").get_by_label("Parks").check()
            page.locator("#q-transport select").first.select_option("tram")
            page.locator("#q-projects input[value=park]").check()
            judged = [page.evaluate(JUDGE_TEXT, text) for text in TEXTS]
        finally:
            context.close()
    assert errors == []
    for text, seen in zip(TEXTS, judged, strict=True):
        code, answer = server_verdict(text)
        if code is None:
            assert seen.get("answer") == answer, (text[:30], seen)
        else:
            assert seen.get("problem") == code, (text[:30], seen, code)
            assert seen["shown"], seen  # said at the question, in the page's words
    assert [seen.get("problem") for seen in judged] == [
        None, None, "bad_text", "bad_text", None, "text_too_long"
    ]  # fmt: skip
    assert judged[0]["answer"] == "Along the river" and judged[1]["answer"][0] == "\ufeff"
    # Counted in code points, without the surrounding white space.
    assert judged[0]["count"] == "15 из 200 знаков" and judged[4]["count"] == "200 из 200 знаков"
    assert judged[5]["count"] == "201 из 200 знаков"


def test_a_condition_is_ticked_among_the_earlier_answers_on_a_laptop(
    browser: Any, live_server: LiveServer
) -> None:
    """The builder's condition offers question 1's options by their texts as soon as
    question 1 is named, follows them as they are edited (a ticked one stays ticked),
    and the preview beside the form says which answers ask the question; the preview
    stays in view while the form scrolls."""
    admin, _code = open_survey(live_server)
    admin.close()
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU")
    context.route(lambda address: not address.startswith(live_server.url), lambda r: r.abort())
    context.add_cookies([{"name": "veche_lang", "value": "ru", "url": live_server.url}])
    errors: list[str] = []
    try:
        logged = context.request.post(
            f"{live_server.url}/api/v1/auth/login",
            data={"email": "admin@example.org", "password": PASSWORD},
        )
        assert logged.ok
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/office/surveys/new")
        page.locator("#title").fill("Опрос о велодорожках")
        page.locator("#id").fill("bike-survey")
        page.locator("#q0-text").fill("Ездите ли вы на велосипеде?")
        page.locator("#q0-options").fill("Да\nИногда\nНет")
        page.get_by_role("button", name="+ Свободный ответ").click()
        page.wait_for_load_state("load")
        page.locator("#q1-text").fill("Где нужна велодорожка?")
        condition = page.locator("[data-condition=q1]")
        assert condition.locator("input[type=checkbox]").count() == 0  # "always ask"
        page.locator("#q1-show_q").select_option("q1")
        boxes = condition.locator("input[type=checkbox]")
        boxes.first.wait_for()
        assert [b.strip() for b in condition.locator(".ticks label").all_inner_texts()] == [
            "Да",
            "Иногда",
            "Нет",
        ]
        condition.get_by_label("Иногда").check()
        # Question 1 gets a new first option: the boxes follow, "Иногда" stays ticked
        # (it is the third option now, o3).
        page.locator("#q0-options").fill("Каждый день\nДа\nИногда\nНет")
        assert boxes.count() == 4
        assert condition.get_by_label("Иногда").is_checked()
        assert not condition.get_by_label("Каждый день").is_checked()
        page.locator("#live").get_by_text("(Иногда)").wait_for()
        # The preview stays in view at the top of the window while a long form scrolls.
        for n in (2, 3, 4):
            page.get_by_role("button", name="+ Шкала оценки").click()
            page.wait_for_load_state("load")
            page.locator(f"#q{n}-text").fill(f"Оцените дорожку {n}")
        page.mouse.wheel(0, 1200)
        page.wait_for_timeout(300)
        box = page.locator("#live").bounding_box()
        assert box is not None and 0 <= box["y"] <= 40, box
        page.locator("#save-draft").click()
        page.wait_for_url("**/admin/setup?created=bike-survey")
        config = context.request.get(f"{live_server.url}/api/v1/elections/bike-survey").json()
        config = config.get("config", config)
        assert config["ballot"]["questions"][1]["show_if"] == {
            "question": "q1",
            "any_of": ["o3"],
        }
    finally:
        context.close()
    assert errors == []
