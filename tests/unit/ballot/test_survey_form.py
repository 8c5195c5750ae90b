"""The survey builder's form read into a survey's configuration (docs/protocol.md §20.2):
ids kept when questions move, conditions by option numbers, money read exactly, times in
the local zone, and what the form cannot read named by its field."""

from __future__ import annotations

from datetime import UTC, datetime

from ballot.http.survey_form import (
    condition_numbers,
    config_from_form,
    move,
    new_question,
    option_titles,
    poll_config,
    question_numbers,
)

ZONE = "Europe/Moscow"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def base(**changes: str) -> dict[str, str]:
    form = {
        "id": "s",
        "title": "S",
        "district": "centre",
        "opens_at": "2026-12-08T09:00",
        "closes_at": "2026-12-20T21:00",
        "eligibility": "roll-codes",
        "q0-kind": "single",
        "q0-id": "q1",
        "q0-text": "A?",
        "q0-options": "Yes\r\n\r\nNo\n",
        "q1-kind": "text",
        "q1-id": "q2",
        "q1-text": "Why?",
        "q1-max_length": "300",
        "q1-show_q": "q1",
        "q1-show_any": "1, 2",
    }
    form.update(changes)
    return form


def test_the_form_is_read_into_a_survey() -> None:
    config, problems = config_from_form(base(), time_zone=ZONE)
    assert problems == []
    assert config["window"] == {
        "opens_at": "2026-12-08T06:00:00Z",
        "closes_at": "2026-12-20T18:00:00Z",
    }
    assert config["eligibility"] == {"residents": False, "roll": True, "access_codes": True}
    first, second = config["ballot"]["questions"]
    assert first["options"] == [{"id": "o1", "title": "Yes"}, {"id": "o2", "title": "No"}]
    assert second == {
        "kind": "text",
        "id": "q2",
        "text": "Why?",
        "max_length": 300,
        "show_if": {"question": "q1", "any_of": ["o1", "o2"]},
    }
    assert config["rule"] == {"name": "survey"} and config["budget"] == 0


def test_money_is_read_exactly_and_a_bad_amount_is_named() -> None:
    budget = {
        "q2-kind": "budget",
        "q2-id": "q3",
        "q2-text": "Projects",
        "q2-projects": "Benches; 1 500,50\nFountain; 1e9",
        "q2-budget": "2 000 000",
        "q2-min": "1",
        "q2-max": "x",
    }
    config, problems = config_from_form(base(**budget), time_zone=ZONE)
    assert config["projects"][0] == {"id": "p1", "title": "Benches", "cost": 150_050}
    assert config["budget"] == 200_000_000
    assert sorted(p.field for p in problems) == ["q2-max", "q2-projects"]


def test_questions_move_with_their_ids_and_new_ones_get_fresh_ids() -> None:
    form = new_question(base(), "scale")
    assert form["q2-id"] == "q3" and form["q2-scale"] == "1-5"
    up = move(form, 2, -1)
    assert [up[f"q{i}-id"] for i in question_numbers(up)] == ["q1", "q3", "q2"]
    gone = move(up, 0, 0)
    assert [gone[f"q{i}-id"] for i in question_numbers(gone)] == ["q3", "q2"]
    assert move(gone, 0, -1) == gone  # the first cannot go further up
    again = new_question(gone, "text")
    assert again["q2-id"] not in ("q3", "q2")  # never an id in use


def test_a_time_that_is_not_one_is_named() -> None:
    _config, problems = config_from_form(base(opens_at="tomorrow"), time_zone=ZONE)
    assert [p.field for p in problems] == ["opens_at"]


def test_a_poll_is_one_single_choice_question() -> None:
    config, problems = poll_config("Rename?", "Yes\nNo", "poll-1", time_zone=ZONE, now=NOW)
    assert problems == []
    assert config["ballot"]["questions"][0]["options"][1] == {"id": "o2", "title": "No"}
    assert config["window"] == {
        "opens_at": "2026-12-08T06:00:00Z",
        "closes_at": "2026-12-15T18:00:00Z",
    }


def test_a_condition_is_read_from_ticks_or_typed_numbers() -> None:
    # Ticked boxes arrive joined as a person would type them; each number once.
    assert condition_numbers(base(**{"q1-show_any": "2, 1, 2"}), 1) == [2, 1]
    ticked = base(**{"q1-show_any": "1, 3", "q1-show_for": "q1"})
    assert condition_numbers(ticked, 1) == [1, 3]
    # Ticked for another question than the one named now: not read as its options.
    elsewhere = base(**{"q1-show_any": "1", "q1-show_for": "q0"})
    assert condition_numbers(elsewhere, 1) == []
    config, problems = config_from_form(elsewhere, time_zone=ZONE)
    assert [p.field for p in problems] == ["q1-show_any"]
    assert config["ballot"]["questions"][1]["show_if"] == {"question": "q1", "any_of": []}
    assert option_titles(base(), 0) == ["Yes", "No"]
