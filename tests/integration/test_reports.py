"""Reports through the HTTP API on a real database: receiving, routing by the district
boundary, the lifecycle, photo proof, ratings, followers and the statistics from the
log (docs/protocol.md §16)."""

from __future__ import annotations

import json
import time
from fractions import Fraction
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from litestar import Litestar

import reports
from kernel import i18n
from kernel.settings import Settings
from reports.core.kinds import REPORT_KINDS
from reports.core.lifecycle import Step, clock_seconds
from tests.support.accounts import Client
from tests.support.mail import MailCatcher
from tests.support.proposals import Actor
from tests.support.reports import INSIDE, OUTSIDE, answer, photo, report, setup_reports


@pytest.fixture(name="people")
def fx_people(client: Client, app: Litestar, settings: Settings) -> dict[str, Actor]:
    return setup_reports(client, app, settings)


def _entries(client: Client, kind_prefix: str = "report.") -> list[dict[str, object]]:
    response = client.get("/api/v1/log/entries", params={"start": 0, "end": 1000})
    assert response.status_code == 200, response.text
    entries = [json.loads(line) for line in response.text.splitlines() if line]
    return [e for e in entries if e["kind"].startswith(kind_prefix)]


def test_a_report_is_routed_by_its_point_and_logged_without_personal_data(
    people: dict[str, Actor], client: Client
) -> None:
    created = report(people["resident"], description="Pothole near house 5, call 8-900-000")
    assert created["district"] == "centre"
    assert created["organisation"] == "roads-dept"  # potholes inherit roads' rule
    assert created["status"] == "received" and created["deadline_days"] == 30
    assert len(created["id"]) == 32
    received = [e for e in _entries(client) if e["kind"] == "report.received"]
    assert len(received) == 1
    body = received[0]["body"]
    assert body["report"] == created["id"]
    assert (body["lat_e2"], body["lon_e2"]) == (5575, 3762)
    text = str(received[0])
    assert "8-900" not in text and "resident" not in text and "55750000" not in text


def test_report_ids_are_random_not_sequential(people: dict[str, Actor]) -> None:
    ids = [report(people["resident"])["id"] for _ in range(3)]
    assert len(set(ids)) == 3
    assert sorted(ids) != ids or sorted(ids, reverse=True) != ids or len({i[:8] for i in ids}) == 3


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"category": "potholes", "description": "x", **OUTSIDE}, 400, "outside_municipality"),
        ({"category": "nope", "description": "x", **INSIDE}, 400, "invalid_category"),
        ({"category": "potholes", "description": "  ", **INSIDE}, 400, "no_description"),
        (
            {"category": "potholes", "description": "x", "lat_e6": 91_000_000, "lon_e6": 0},
            400,
            None,
        ),
        ({"category": "potholes", "description": "x", **INSIDE, "extra": 1}, 400, None),
    ],
)
def test_bad_reports_are_refused_with_a_sentence(
    people: dict[str, Actor], body: dict[str, object], status: int, code: str | None
) -> None:
    response = people["resident"].call("POST", "/api/v1/reports/", body)
    assert response.status_code == status, response.text
    if code:
        assert response.json()["error"] == code
    assert response.json()["detail"]


def test_every_refusal_of_the_reports_has_a_russian_sentence(people: dict[str, Actor]) -> None:
    """The API answers in English (the message id); pages show the same refusal in the
    viewer's language from the catalog."""
    body = {"category": "potholes", "description": "x", **OUTSIDE}
    detail = people["resident"].call("POST", "/api/v1/reports/", body).json()["detail"]
    assert "муниципалитет" in i18n.translate("ru", detail)
    messages = {
        m
        for _f, _l, m, _c, _x in extract_from_dir(
            str(Path(reports.__file__).parent), keywords={"N_": None}
        )
    }
    assert messages
    untranslated = [m for m in messages if i18n.translate("ru", m) == m]
    assert untranslated == []


def test_the_whole_road_answer_rate_low_reopen_send_back_answer_rate_high(
    people: dict[str, Actor], client: Client
) -> None:
    rid = report(people["resident"])["id"]
    roads, supervisor, resident = people["roads"], people["supervisor"], people["resident"]
    assert photo(resident, rid).status_code == 201
    assert roads.call("POST", f"/api/v1/reports/{rid}/take").json()["status"] == "in_work"
    # No photo proof yet: refused.
    refused = roads.call("POST", f"/api/v1/reports/{rid}/answer", {"text": "Done"})
    assert refused.status_code == 400 and refused.json()["error"] == "no_answer_photo"
    answered = answer(roads, rid)
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered" and len(answered.json()["answer_photos"]) == 1
    # A low rating needs a comment, then reopens.
    no_comment = resident.call("POST", f"/api/v1/reports/{rid}/rate", {"rating": 2})
    assert no_comment.status_code == 400
    low = resident.call(
        "POST", f"/api/v1/reports/{rid}/rate", {"rating": 2, "comment": "Still a hole"}
    )
    assert low.json()["status"] == "reopened"
    # The organisation cannot pick it up again on its own; the supervisor sends it back.
    assert roads.call("POST", f"/api/v1/reports/{rid}/take").status_code == 409
    overdue = supervisor.call("GET", "/api/v1/reports/", params={"show": "overdue"}).json()
    assert [r["id"] for r in overdue] == [rid]
    assert supervisor.call("POST", f"/api/v1/reports/{rid}/send-back").json()["status"] == "in_work"
    assert answer(roads, rid, "Re-paved.", width=41).json()["status"] == "answered"
    final = resident.call("POST", f"/api/v1/reports/{rid}/rate", {"rating": 4})
    assert final.json()["status"] == "closed"
    kinds = [e["kind"] for e in _entries(client)]
    assert kinds == [
        "report.received",
        "report.status",
        "report.answered",
        "report.rated",
        "report.status",
        "report.answered",
        "report.rated",
    ]
    answered_entries = [e for e in _entries(client) if e["kind"] == "report.answered"]
    assert all(len(e["body"]["photos"]) == 1 for e in answered_entries)
    assert answered_entries[0]["body"]["photos"] != answered_entries[1]["body"]["photos"]
    # The clock the service keeps is the one the pure core replays from the steps.
    seen = client.get(f"/api/v1/reports/{rid}").json()
    steps = [Step(s["to_status"], s["at"]) for s in seen["steps"][1:]]
    assert seen["clock_seconds"] == clock_seconds(seen["received_at"], steps, seen["answered_at"])
    stats = client.get("/api/v1/reports/statistics").json()
    assert stats["reports"] == 1 and stats["reopen_rate"] == "1/1"
    assert Fraction(stats["average_rating"]) == Fraction(6, 2)
    assert set(REPORT_KINDS) == {
        "report.received",
        "report.status",
        "report.answered",
        "report.rated",
    }


def test_reassignment_moves_the_report_to_the_other_queue(people: dict[str, Actor]) -> None:
    rid = report(people["resident"])["id"]
    moved = people["roads"].call(
        "POST", f"/api/v1/reports/{rid}/reassign", {"organisation": "waste-co"}
    )
    assert moved.status_code == 200 and moved.json()["organisation"] == "waste-co"
    waste_queue = people["waste"].call("GET", "/api/v1/reports/", params={"show": "queue"}).json()
    assert [r["id"] for r in waste_queue] == [rid]
    assert people["roads"].call("GET", "/api/v1/reports/", params={"show": "queue"}).json() == []
    again = people["roads"].call("POST", f"/api/v1/reports/{rid}/take")
    assert again.status_code == 403 and again.json()["error"] == "other_organisation"


def test_photos_are_sniffed_by_content(people: dict[str, Actor]) -> None:
    rid = report(people["resident"])["id"]
    fake = photo(people["resident"], rid, b"<html>not a picture</html>")
    assert fake.status_code == 400 and fake.json()["error"] == "not_an_image"
    for _ in range(5):
        assert photo(people["resident"], rid).status_code == 201
    assert photo(people["resident"], rid).status_code == 409


def test_me_too_follows_a_nearby_open_report(people: dict[str, Actor]) -> None:
    rid = report(people["resident"])["id"]
    near = (
        people["neighbour"]
        .call(
            "GET",
            "/api/v1/reports/nearby",
            params={
                "category": "potholes",
                "lat_e6": INSIDE["lat_e6"] + 1000,
                "lon_e6": INSIDE["lon_e6"],
            },
        )
        .json()
    )
    assert [n["id"] for n in near] == [rid]
    far = (
        people["neighbour"]
        .call(
            "GET",
            "/api/v1/reports/nearby",
            params={
                "category": "potholes",
                "lat_e6": INSIDE["lat_e6"] + 9000,
                "lon_e6": INSIDE["lon_e6"],
            },
        )
        .json()
    )
    assert far == []
    wild = people["neighbour"].call(
        "GET",
        "/api/v1/reports/nearby",
        params={"category": "potholes", "lat_e6": 2_623_041_671, "lon_e6": 0},
    )
    assert wild.status_code == 400 and wild.json()["error"] == "invalid_location"
    followed = people["neighbour"].call("POST", f"/api/v1/reports/{rid}/follow")
    assert followed.json() == {"followers": 1}
    mine = people["neighbour"].call("GET", "/api/v1/reports/", params={"show": "mine"}).json()
    assert [r["id"] for r in mine] == [rid]
    own = people["resident"].call("POST", f"/api/v1/reports/{rid}/follow")
    assert own.status_code == 409


def test_a_private_report_is_seen_only_by_its_reporter_organisation_and_supervisors(
    people: dict[str, Actor],
) -> None:
    rid = report(people["resident"], public=False)["id"]
    for name, status in (
        ("resident", 200),
        ("roads", 200),
        ("supervisor", 200),
        ("admin", 200),
        ("waste", 404),
        ("other", 404),
    ):
        assert people[name].call("GET", f"/api/v1/reports/{rid}").status_code == status, name
    public = people["other"].call("GET", "/api/v1/reports/").json()
    assert rid not in [r["id"] for r in public]


def test_unrated_answers_close_on_their_own(
    people: dict[str, Actor], app: Litestar, client: Client
) -> None:
    rid = report(people["resident"])["id"]
    answer(people["roads"], rid)
    service = app.state.reports
    clock = service.clock
    service.clock = lambda: clock() + 15 * 86_400
    try:
        closed = people["supervisor"].call("POST", "/api/v1/reports/close-unrated")
    finally:
        service.clock = clock
    assert closed.json() == {"closed": 1}
    assert client.get(f"/api/v1/reports/{rid}").json()["status"] == "closed"


def test_the_reporter_and_followers_get_an_email_on_each_status_change(
    people: dict[str, Actor], smtp: MailCatcher
) -> None:
    def about(address: str) -> list[str]:
        # The mail server serves the whole test session: only this report's messages.
        return [m.subject for m in smtp.to(address, timeout=0.5) if f"/reports/{rid}" in m.text]

    rid = report(people["resident"], description="Broken bench by the pond")["id"]
    assert people["neighbour"].call("POST", f"/api/v1/reports/{rid}/follow").status_code == 200
    answer(people["roads"], rid, "Replaced the bench.")
    deadline = time.monotonic() + 10
    while not (about("resident@example.org") and about("neighbour@example.org")):
        assert time.monotonic() < deadline, "no status mail"
        time.sleep(0.05)
    assert about("resident@example.org") == ["Your report is now: answered"]
    mail = smtp.last_to("resident@example.org")
    assert "Replaced the bench." in mail.text and "Broken bench" in mail.text
    assert about("neighbour@example.org") == ["Your report is now: answered"]
    assert about("other@example.org") == []
