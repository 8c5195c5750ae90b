"""A city survey of eight questions, one of each kind and a conditional one: what the
benchmarks cast and verify (docs/protocol.md §19), and a worked example of the format.

``city_survey(**overrides)`` is a configuration dict; ``random_answers(rng)`` draws a
valid answer set for it, with the free text of about a sentence.
"""

from __future__ import annotations

import random
from typing import Any

__all__ = ["CITY_SURVEY_QUESTIONS", "city_survey", "random_answers"]

_TRANSPORT = ("bus", "tram", "metro", "car", "bike", "walk")
_PROBLEMS = ("roads", "parks", "noise", "parking", "lighting", "waste")
_PRIORITIES = ("schools", "clinics", "transport", "housing", "greenery")
_PROJECTS = (("park", 300_000), ("library", 250_000), ("playground", 200_000), ("lights", 150_000))


def _options(ids: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"id": i, "title": i.replace("-", " ").capitalize()} for i in ids]


CITY_SURVEY_QUESTIONS: list[dict[str, Any]] = [
    {
        "kind": "single",
        "id": "transport",
        "text": "How do you usually get to work?",
        "options": _options(_TRANSPORT),
    },
    {
        "kind": "single",
        "id": "bike-lanes",
        "text": "Would more bike lanes make you ride more often?",
        "show_if": {"question": "transport", "any_of": ["bike", "walk"]},
        "options": _options(("yes", "no", "unsure")),
    },
    {
        "kind": "multiple",
        "id": "problems",
        "text": "Which problems of your district matter most?",
        "options": _options(_PROBLEMS),
        "min_options": 1,
        "max_options": 3,
    },
    {
        "kind": "scale",
        "id": "satisfaction",
        "text": "How satisfied are you with your district?",
        "scale_min": 1,
        "scale_max": 5,
        "low_label": "Not at all",
        "high_label": "Very",
    },
    {
        "kind": "scale",
        "id": "recommend",
        "text": "Would you recommend your district to a friend?",
        "optional": True,
        "scale_min": 0,
        "scale_max": 10,
    },
    {
        "kind": "ranking",
        "id": "priorities",
        "text": "Rank the city's priorities, most important first.",
        "options": _options(_PRIORITIES),
        "min_length": 1,
        "max_length": 3,
    },
    {
        "kind": "budget",
        "id": "projects",
        "text": "Which projects should the district fund?",
        "min_projects": 1,
        "max_projects": 4,
        "max_total_cost": 500_000,
        "rule": {"name": "greedy"},
    },
    {
        "kind": "text",
        "id": "comment",
        "text": "Anything else you would like the city to know?",
        "optional": True,
        "max_length": 500,
    },
]


def city_survey(**overrides: Any) -> dict[str, Any]:
    """A valid survey configuration (eight questions, one budget question)."""
    config: dict[str, Any] = {
        "id": "city-survey-2027",
        "title": "City survey 2027",
        "district": "north",
        "budget": 600_000,
        "currency": "RUB",
        "projects": [
            {"id": pid, "title": pid.capitalize(), "cost": cost} for pid, cost in _PROJECTS
        ],
        "ballot": {"kind": "survey", "questions": CITY_SURVEY_QUESTIONS},
        "rule": {"name": "survey"},
        "tie_break": "cost-votes-lot",
        "window": {"opens_at": "2027-03-01T08:00:00Z", "closes_at": "2027-03-15T20:00:00Z"},
        "eligibility": {"residents": False, "roll": True, "access_codes": True},
        "rsa_key_bits": 2048,
        "revoting": True,
    }
    config.update(overrides)
    return config


_WORDS = ("more", "trees", "please", "the", "bus", "stop", "is", "too", "far", "clean", "river")


def random_answers(rng: random.Random) -> dict[str, Any]:
    """A valid answer set for ``city_survey``'s questions."""
    transport = rng.choice(_TRANSPORT)
    answers: dict[str, Any] = {"transport": transport}
    if transport in ("bike", "walk"):
        answers["bike-lanes"] = rng.choice(("yes", "no", "unsure"))
    answers["problems"] = rng.sample(_PROBLEMS, rng.randint(1, 3))
    answers["satisfaction"] = rng.randint(1, 5)
    if rng.random() < 0.7:
        answers["recommend"] = rng.randint(0, 10)
    answers["priorities"] = rng.sample(_PRIORITIES, rng.randint(1, 3))
    spent, chosen = 0, []
    for pid, cost in rng.sample(_PROJECTS, len(_PROJECTS)):
        if spent + cost <= 500_000 and (not chosen or rng.random() < 0.6):
            chosen.append(pid)
            spent += cost
    answers["projects"] = chosen
    if rng.random() < 0.3:
        answers["comment"] = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 12)))
    return answers
