"""The survey builder and the quick poll of the back office (docs/protocol.md §19, §20.2):
a survey of every question kind with a condition, made as a draft through the form; a
condition offered as the earlier question's answers to tick (typed numbers without
them); a refused form keeps what was typed and ticked and says what to fix in the
reader's language; a poll of one question from two lines of text."""

from __future__ import annotations

from tests.support.pages import HTML, PAGES_ON_SQLITE, csrf_from
from tests.support.proposals import Actor
from tests.support.surveys import survey_form

RU = {**HTML, "accept-language": "ru"}


@PAGES_ON_SQLITE
def test_a_survey_of_every_kind_is_saved_as_a_draft(people: dict[str, Actor]) -> None:
    admin = people["admin"]
    client = admin.use()
    page = client.get("/office/surveys/new", headers=RU)
    assert page.status_code == 200, page.text
    csrf = csrf_from(page.text)
    preview = client.post(
        "/office/surveys/new", headers=RU, data={**survey_form(), "csrf_token": csrf}
    )
    assert preview.status_code == 200, preview.text
    assert "Готово" in preview.text, preview.text
    # The preview shows the ballot as residents will: the conditional question says why.
    assert 'data-show-if="q1"' in preview.text and "Ездите ли вы на велосипеде?" in preview.text
    assert "(необязательный)" in preview.text or "необязательн" in preview.text
    made = client.post(
        "/office/surveys/new",
        headers=HTML,
        data={**survey_form(), "csrf_token": csrf, "action": "save"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    election = admin.call("GET", "/api/v1/elections/city-survey").json()
    config = election.get("config", election)
    questions = config["ballot"]["questions"]
    assert [q["kind"] for q in questions] == [
        "single",
        "text",
        "scale",
        "multiple",
        "ranking",
        "budget",
    ]
    assert questions[1]["show_if"] == {"question": "q1", "any_of": ["o1"]}
    assert questions[3]["optional"] is True
    assert config["budget"] == 35_000_000 and config["projects"][1]["cost"] == 30_000_000
    assert config["rule"] == {"name": "survey"}


@PAGES_ON_SQLITE
def test_a_refused_survey_keeps_what_was_typed_and_says_why_in_russian(
    people: dict[str, Actor],
) -> None:
    client = people["admin"].use()
    csrf = csrf_from(client.get("/office/surveys/new", headers=RU).text)
    bad = survey_form(**{"q0-options": "Только один", "q1-show_any": "", "q2-text": "Оценка"})
    refused = client.post(
        "/office/surveys/new",
        headers=RU,
        data={**bad, "csrf_token": csrf, "action": "save"},
        follow_redirects=False,
    )
    assert refused.status_code == 400
    assert "Только один" in refused.text and "Оценка" in refused.text  # nothing lost
    assert "Отметьте ответы на предыдущий вопрос" in refused.text  # the condition names none
    assert 'id="err-q0"' in refused.text
    assert people["admin"].call("GET", "/api/v1/elections/city-survey").status_code == 404
    english = client.post(
        "/office/surveys/new",
        headers=HTML,
        data={**bad, "csrf_token": csrf, "action": "save"},
        follow_redirects=False,
    )
    assert english.status_code == 400
    assert "Tick the answers to the earlier question" in english.text


@PAGES_ON_SQLITE
def test_questions_are_added_moved_and_removed(people: dict[str, Actor]) -> None:
    client = people["admin"].use()
    csrf = csrf_from(client.get("/office/surveys/new", headers=HTML).text)
    data = {**survey_form(), "csrf_token": csrf}
    added = client.post("/office/surveys/new", headers=HTML, data={**data, "action": "add-text"})
    assert added.status_code == 200
    assert 'name="q6-kind" value="text"' in added.text and 'name="q6-id" value="q7"' in added.text
    moved = client.post("/office/surveys/new", headers=HTML, data={**data, "action": "up-2"})
    # The scale is second now, and keeps its id (a condition names ids, not places).
    assert moved.text.index("Оцените парки") < moved.text.index("Где нужны велодорожки?")
    assert 'name="q1-id" value="q3"' in moved.text
    removed = client.post("/office/surveys/new", headers=HTML, data={**data, "action": "remove-0"})
    assert "Ездите ли вы на велосипеде?" not in removed.text.split('id="live"')[0]
    # The text question's condition now names a question that is gone: said, not saved.
    saved = client.post(
        "/office/surveys/new",
        headers=HTML,
        data={
            **data,
            "action": "save",
            "q0-kind": "text",
            "q0-text": "Only text",
            "q0-options": "",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 400


@PAGES_ON_SQLITE
def test_a_poll_of_one_question_takes_two_clicks(people: dict[str, Actor]) -> None:
    admin = people["admin"]
    client = admin.use()
    home = client.get("/office", headers=RU)
    assert 'href="/office/polls/new"' in home.text
    page = client.get("/office/polls/new", headers=RU)
    assert page.status_code == 200
    csrf = csrf_from(page.text)
    made = client.post(
        "/office/polls/new",
        headers=RU,
        data={"csrf_token": csrf, "question": "Переименовать площадь?", "options": "Да\nНет\n"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    created = made.headers["location"].split("created=")[1]
    setup = client.get(made.headers["location"], headers=RU)
    assert f"Черновик {created} сохранён." in setup.text
    config = admin.call("GET", f"/api/v1/elections/{created}").json()
    config = config.get("config", config)
    assert config["ballot"]["questions"] == [
        {
            "kind": "single",
            "id": "q1",
            "text": "Переименовать площадь?",
            "options": [{"id": "o1", "title": "Да"}, {"id": "o2", "title": "Нет"}],
        }
    ]
    refused = client.post(
        "/office/polls/new",
        headers=RU,
        data={"csrf_token": csrf, "question": "Переименовать?", "options": "Да"},
    )
    assert refused.status_code == 400
    assert "хотя бы два варианта" in refused.text and "Переименовать?" in refused.text


@PAGES_ON_SQLITE
def test_the_live_preview_answers_the_preview_alone(people: dict[str, Actor]) -> None:
    client = people["admin"].use()
    csrf = csrf_from(client.get("/office/surveys/new", headers=RU).text)
    bad = survey_form(**{"q3-max": "5"})  # more than the three options
    fragment = client.post(
        "/office/surveys/new",
        headers=RU,
        data={**bad, "csrf_token": csrf, "action": "preview", "fragment": "1"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="preview"')
    # The problem is named for the question's slot next to it, in the reader's language.
    assert '<li data-field="q3">' in fragment.text
    assert "Ограничение больше числа вариантов вопроса." in fragment.text


def condition_box(html: str, question: str) -> str:
    """The part of the builder that holds a question's condition (``q1``…)."""
    return html.split(f'data-condition="{question}"')[1].split('id="err-')[0]


@PAGES_ON_SQLITE
def test_a_condition_is_the_earlier_questions_answers_to_tick(people: dict[str, Actor]) -> None:
    client = people["admin"].use()
    csrf = csrf_from(client.get("/office/surveys/new", headers=RU).text)
    form = {**survey_form(), "csrf_token": csrf, "q0-options": "Да\nИногда\nНет"}
    page = client.post("/office/surveys/new", headers=RU, data=form)
    assert page.status_code == 200
    box = condition_box(page.text, "q1")
    # The earlier question's options, by their texts, with the one typed ("1") ticked.
    assert 'name="q1-show_for" value="q1"' in box
    assert 'type="checkbox" name="q1-show_any" value="1" checked> Да' in box
    assert 'value="2"> Иногда' in box and 'value="3"> Нет' in box
    assert "Задавать после любого из этих ответов" in box
    assert "Вопрос 1: Ездите ли вы на велосипеде?" in page.text  # the select names it
    # Two boxes ticked are posted as two values of one field: read as options 1 and 3.
    ticked = {**form, "q1-show_any": ["1", "3"], "q1-show_for": "q1", "action": "save"}
    made = client.post("/office/surveys/new", headers=RU, data=ticked, follow_redirects=False)
    assert made.status_code == 303, made.text
    config = people["admin"].call("GET", "/api/v1/elections/city-survey").json()
    config = config.get("config", config)
    assert config["ballot"]["questions"][1]["show_if"] == {
        "question": "q1",
        "any_of": ["o1", "o3"],
    }


@PAGES_ON_SQLITE
def test_ticks_are_kept_on_a_refusal_and_never_read_for_another_question(
    people: dict[str, Actor],
) -> None:
    client = people["admin"].use()
    csrf = csrf_from(client.get("/office/surveys/new", headers=RU).text)
    form = {
        **survey_form(**{"q2-text": ""}),  # refused: a question without its text
        "csrf_token": csrf,
        "q1-show_any": ["1", "2"],
        "q1-show_for": "q1",
        "action": "save",
    }
    refused = client.post("/office/surveys/new", headers=RU, data=form, follow_redirects=False)
    assert refused.status_code == 400
    box = condition_box(refused.text, "q1")
    assert 'value="1" checked> Да' in box and 'value="2" checked> Нет' in box
    # The ballot's preview says which answers ask the question.
    assert "Задаётся из-за вашего ответа на вопрос 1 (Да, Нет)." in refused.text
    # Boxes ticked for question 1 while the condition now names question 4 (without
    # the page's script): not read as question 4's options, and said.
    moved = {**form, "q3-optional": "", "q4-show_q": "q4", "q4-show_any": ["1", "2"]}
    moved.update({"q4-show_for": "q1", "q2-text": "Оцените парки"})
    other = client.post("/office/surveys/new", headers=RU, data=moved, follow_redirects=False)
    assert other.status_code == 400
    box = condition_box(other.text, "q4")
    assert 'name="q4-show_for" value="q4"' in box
    assert "checked" not in box  # Дороги, Парки, Школы: none ticked
    assert 'value="1"> Дороги' in box
    said = other.text.split('id="err-q4-show_any"')[1][:300]
    assert "Отметьте ответы на предыдущий вопрос" in said


@PAGES_ON_SQLITE
def test_without_a_question_named_the_condition_is_typed(people: dict[str, Actor]) -> None:
    client = people["admin"].use()
    csrf = csrf_from(client.get("/office/surveys/new", headers=HTML).text)
    form = {**survey_form(**{"q1-show_q": "", "q1-show_any": ""}), "csrf_token": csrf}
    page = client.post("/office/surveys/new", headers=HTML, data=form)
    box = condition_box(page.text, "q1")
    # No question named yet: the field for numbers, which works without the script.
    assert 'name="q1-show_any" value=""' in box and "checkbox" not in box
    assert "Numbers of its options that show this one" in box
    typed = {**form, "q1-show_q": "q1", "q1-show_any": "2", "action": "save"}
    made = client.post("/office/surveys/new", headers=HTML, data=typed, follow_redirects=False)
    assert made.status_code == 303, made.text
    config = people["admin"].call("GET", "/api/v1/elections/city-survey").json()
    config = config.get("config", config)
    assert config["ballot"]["questions"][1]["show_if"] == {"question": "q1", "any_of": ["o2"]}


@PAGES_ON_SQLITE
def test_the_preview_shows_the_budget_at_its_question(people: dict[str, Actor]) -> None:
    client = people["admin"].use()
    csrf = csrf_from(client.get("/office/surveys/new", headers=RU).text)
    form = {**survey_form(), "csrf_token": csrf}
    page = client.post("/office/surveys/new", headers=RU, data=form)
    preview = page.text.split('id="live"')[1]
    budget = preview.split('id="q-q6"')[1]
    assert '<p class="q-budget">Бюджет: 350\xa0000\xa0₽</p>' in budget
    assert preview.count("Бюджет:") == 1
