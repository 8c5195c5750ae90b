"""The reports' authorization matrix: every step by every kind of account, on a report
of the roads department. Staff of the waste company can never touch it, whatever the
step; a refused step changes nothing and logs nothing.

The matrix runs on SQLite: who may take a step is decided above the database, and the
reports' services run on PostgreSQL too in ``test_reports.py``."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar

from kernel.settings import Settings
from tests.support.accounts import Client
from tests.support.proposals import Actor
from tests.support.reports import answer, photo, report, setup_reports


@pytest.fixture(name="people")
def fx_people(client: Client, app: Litestar, settings: Settings) -> dict[str, Actor]:
    return setup_reports(client, app, settings)


def _private(people: dict[str, Actor]) -> str:
    return str(report(people["resident"], public=False)["id"])


def _received(people: dict[str, Actor]) -> str:
    return str(report(people["resident"])["id"])


def _in_work(people: dict[str, Actor]) -> str:
    rid = _received(people)
    assert people["roads"].call("POST", f"/api/v1/reports/{rid}/take").status_code == 200
    return rid


def _with_proof(people: dict[str, Actor]) -> str:
    rid = _in_work(people)
    assert photo(people["roads"], rid).status_code == 201
    return rid


def _answered(people: dict[str, Actor]) -> str:
    rid = _in_work(people)
    assert answer(people["roads"], rid).status_code == 200
    return rid


def _reopened(people: dict[str, Actor]) -> str:
    rid = _answered(people)
    low = {"rating": 1, "comment": "No"}
    assert people["resident"].call("POST", f"/api/v1/reports/{rid}/rate", low).status_code == 200
    return rid


# step: (prepare, method, path, body, {actor: expected status}); "anonymous" has no session.
STEPS: dict[str, tuple[Any, str, str, Any, dict[str, int]]] = {
    "read": (
        _private,
        "GET",
        "",
        None,
        {
            "resident": 200,
            "roads": 200,
            "supervisor": 200,
            "admin": 200,
            "waste": 404,
            "other": 404,
            "anonymous": 404,
        },
    ),
    "take": (
        _received,
        "POST",
        "/take",
        None,
        {
            "roads": 200,
            "supervisor": 200,
            "admin": 200,
            "waste": 403,
            "resident": 403,
            "other": 403,
            "anonymous": 401,
        },
    ),
    "proof photo": (
        _in_work,
        "POST",
        "/photos",
        "photo",
        {
            "roads": 201,
            "supervisor": 201,
            "admin": 201,
            "waste": 403,
            "other": 403,
            "anonymous": 401,
        },
    ),
    "answer": (
        _with_proof,
        "POST",
        "/answer",
        {"text": "Done."},
        {
            "roads": 200,
            "supervisor": 200,
            "admin": 200,
            "waste": 403,
            "resident": 403,
            "other": 403,
            "anonymous": 401,
        },
    ),
    "reassign": (
        _in_work,
        "POST",
        "/reassign",
        {"organisation": "waste-co"},
        {
            "roads": 200,
            "supervisor": 200,
            "admin": 200,
            "waste": 403,
            "resident": 403,
            "other": 403,
            "anonymous": 401,
        },
    ),
    "rate": (
        _answered,
        "POST",
        "/rate",
        {"rating": 5},
        {
            "resident": 200,
            "roads": 403,
            "waste": 403,
            "supervisor": 403,
            "other": 403,
            "anonymous": 401,
        },
    ),
    "send back": (
        _reopened,
        "POST",
        "/send-back",
        None,
        {
            "supervisor": 200,
            "admin": 200,
            "roads": 403,
            "waste": 403,
            "resident": 403,
            "other": 403,
            "anonymous": 401,
        },
    ),
}


def _state(people: dict[str, Actor], rid: str) -> dict[str, Any]:
    """The report as a supervisor sees it, less the clock, which runs on its own."""
    seen: dict[str, Any] = people["supervisor"].call("GET", f"/api/v1/reports/{rid}").json()
    seen.pop("clock_seconds")
    return seen


CASES = [(step, who) for step, (*_rest, expected) in STEPS.items() for who in expected]


@pytest.mark.parametrize("engine_name", ["sqlite"])
@pytest.mark.parametrize(("step", "who"), CASES)
def test_the_matrix(
    people: dict[str, Actor], client: Client, engine_name: str, step: str, who: str
) -> None:
    prepare, method, suffix, body, expected = STEPS[step]
    rid = prepare(people)
    url = f"/api/v1/reports/{rid}{suffix}"
    before = _state(people, rid)
    size = client.get("/api/v1/log/checkpoint").text
    if who == "anonymous":
        client.cookies.clear()
        if body == "photo":
            from tests.support.images import png

            response = client.post(url, files={"file": ("a.png", png(4, 4))})
        else:
            response = client.request(method, url, json=body)
    elif body == "photo":
        response = photo(people[who], rid)
    else:
        response = people[who].call(method, url, body)
    assert response.status_code == expected[who], (step, who, response.text)
    if response.status_code >= 400:
        assert response.json()["detail"]
        assert _state(people, rid) == before
        client.cookies.clear()
        assert client.get("/api/v1/log/checkpoint").text == size


def test_waste_staff_see_no_roads_report_in_their_queue(people: dict[str, Actor]) -> None:
    _received(people)
    queue = people["waste"].call("GET", "/api/v1/reports/", params={"show": "queue"})
    assert queue.status_code == 200 and queue.json() == []
    assert (
        people["resident"].call("GET", "/api/v1/reports/", params={"show": "queue"}).status_code
        == 403
    )
    assert (
        people["roads"].call("GET", "/api/v1/reports/", params={"show": "overdue"}).status_code
        == 403
    )
