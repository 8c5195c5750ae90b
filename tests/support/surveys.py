"""A survey of every question kind (docs/protocol.md §19) for the page tests: its
configuration, and answers that a resident could give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.elections import config, when

QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "cycle",
        "kind": "single",
        "text": "Do you cycle in the city?",
        "options": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}],
    },
    {
        "id": "lanes",
        "kind": "text",
        "text": "Where are bike lanes missing?",
        "max_length": 200,
        "show_if": {"question": "cycle", "any_of": ["yes"]},
    },
    {
        "id": "parks",
        "kind": "scale",
        "text": "Rate the parks",
        "scale_min": 0,
        "scale_max": 10,
        "low_label": "poor",
        "high_label": "excellent",
    },
    {
        "id": "priorities",
        "kind": "multiple",
        "text": "What matters most?",
        "options": [
            {"id": "roads", "title": "Roads"},
            {"id": "parks", "title": "Parks"},
            {"id": "schools", "title": "Schools"},
        ],
        "min_options": 1,
        "max_options": 2,
    },
    {
        "id": "transport",
        "kind": "ranking",
        "text": "Rank the transport",
        "options": [
            {"id": "bus", "title": "Bus"},
            {"id": "tram", "title": "Tram"},
            {"id": "metro", "title": "Metro"},
        ],
        "min_length": 1,
        "max_length": 3,
    },
    {
        "id": "projects",
        "kind": "budget",
        "text": "Which projects?",
        "min_projects": 1,
        "max_projects": 2,
        "max_total_cost": 700_000,
        "rule": {"name": "greedy"},
    },
    {
        "id": "comment",
        "kind": "text",
        "text": "Anything else?",
        "optional": True,
        "max_length": 300,
    },
]


def survey_config(election_id: str = "city-survey", **changes: Any) -> dict[str, Any]:
    """An open-for-an-hour survey of the Centre with the questions above; its roll votes."""
    base = config(
        election_id,
        title="City survey",
        budget=1_000_000,
        ballot={"kind": "survey", "questions": QUESTIONS},
        rule={"name": "survey"},
        window={"opens_at": when(-5), "closes_at": when(60)},
    )
    base.update(changes)
    return base


def poll_config(election_id: str = "square-poll") -> dict[str, Any]:
    """A poll of one question: a single-choice survey with no budget."""
    return config(
        election_id,
        title="Rename the square?",
        budget=0,
        currency="",
        projects=[],
        ballot={
            "kind": "survey",
            "questions": [
                {
                    "id": "rename",
                    "kind": "single",
                    "text": "Rename the square?",
                    "options": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}],
                }
            ],
        },
        rule={"name": "survey"},
    )


def answers(n: int) -> dict[str, Any]:
    """The ``n``-th resident's answers: every third does not cycle (and is not asked
    where lanes are missing); every other one comments."""
    cycles = n % 3 != 0
    chosen: dict[str, Any] = {
        "cycle": "yes" if cycles else "no",
        "parks": n % 11,
        "priorities": [["roads"], ["parks", "schools"], ["roads", "parks"]][n % 3],
        "transport": [["metro", "tram"], ["bus"], ["tram", "metro", "bus"]][n % 3],
        "projects": [["park"], ["library", "playground"]][n % 2],
    }
    if cycles:
        chosen["lanes"] = f"Street number {n}"
    if n % 2 == 0:
        chosen["comment"] = f"Comment {n}"
    if n == 8:  # what a page must show as text, never run
        chosen["comment"] = 'Comment 8 <script>alert("x")</script>'
    return {"answers": chosen}


# The back office's survey form, in Russian, in the municipality's time zone.
ZONE = "Europe/Moscow"


def local(minutes: int) -> str:
    moment = datetime.now(UTC) + timedelta(minutes=minutes)
    return moment.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")


def survey_form(**changes: str) -> dict[str, str]:
    base = {
        "id": "city-survey",
        "title": "Опрос о городе",
        "district": "centre",
        "opens_at": local(60),
        "closes_at": local(60 * 24 * 7),
        "eligibility": "residents",
        "revoting": "on",
        "q0-kind": "single",
        "q0-id": "q1",
        "q0-text": "Ездите ли вы на велосипеде?",
        "q0-options": "Да\nНет",
        "q1-kind": "text",
        "q1-id": "q2",
        "q1-text": "Где нужны велодорожки?",
        "q1-max_length": "300",
        "q1-show_q": "q1",
        "q1-show_any": "1",
        "q2-kind": "scale",
        "q2-id": "q3",
        "q2-text": "Оцените парки",
        "q2-scale": "0-10",
        "q2-low": "плохо",
        "q2-high": "отлично",
        "q3-kind": "multiple",
        "q3-id": "q4",
        "q3-text": "Что важнее?",
        "q3-options": "Дороги\nПарки\nШколы",
        "q3-min": "1",
        "q3-max": "2",
        "q3-optional": "on",
        "q4-kind": "ranking",
        "q4-id": "q5",
        "q4-text": "Упорядочьте",
        "q4-options": "Автобус\nТрамвай\nМетро",
        "q4-min": "1",
        "q4-max": "3",
        "q5-kind": "budget",
        "q5-id": "q6",
        "q5-text": "Проекты",
        "q5-projects": "Скамейки; 100 000\nФонтан; 300 000",
        "q5-budget": "350 000",
        "q5-min": "1",
        "q5-max": "2",
        "q5-rule": "greedy",
    }
    base.update(changes)
    return base
