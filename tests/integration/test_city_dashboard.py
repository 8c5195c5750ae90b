"""The city-wide dashboard: figures that follow what residents did (registrations,
proposals, supports, pledges, review times, co-funding), staff only, and every table as
CSV."""

from __future__ import annotations

import csv
import io

from litestar import Litestar

from proposals.services.city import nearest_rank
from tests.support.pages import HTML, PAGES_ON_SQLITE
from tests.support.proposals import Actor, make_program, phase, submitted

RU = {**HTML, "accept-language": "ru"}


def rows(actor: Actor, table: str) -> list[list[str]]:
    response = actor.call("GET", f"/admin/city/csv/{table}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


@PAGES_ON_SQLITE
def test_the_figures_follow_what_residents_did(app: Litestar, people: dict[str, Actor]) -> None:
    admin, mod, r1, r2 = (people[k] for k in ("admin", "mod", "r1", "r2"))
    before = {r[0]: r for r in rows(admin, "districts")[1:]}
    centre_before = before.get("Centre / Центр")
    assert centre_before is not None
    program = make_program(admin, cofund_percent=10)
    pid = submitted(people, program)
    submitted(people, program, title="A fountain", cost=2_000_000)
    phase(admin, program, "support")
    r1.call("POST", f"/api/v1/proposals/{pid}/support")
    assert (
        r1.call("POST", f"/api/v1/proposals/{pid}/pledges", {"amount": 100_000}).status_code == 201
    )
    withdrawn = r2.call("POST", f"/api/v1/proposals/{pid}/pledges", {"amount": 10_000}).json()
    r2.call("POST", f"/api/v1/proposals/{pid}/pledges/{withdrawn['id']}/withdraw")
    # The second support sends the proposal to review; the moderator accepts it.
    r2.call("POST", f"/api/v1/proposals/{pid}/support")
    assert (
        mod.call(
            "POST",
            f"/api/v1/proposals/{pid}/review",
            {"decision": "accept", "validated_cost": 1_000_000},
        ).status_code
        == 200
    )

    header, *districts = rows(admin, "districts")
    assert header[:7] == [
        "District",
        "Registrations",
        "Proposals",
        "Supports",
        "Pledges",
        "Credentials",
        "Ballots",
    ]
    centre = next(r for r in districts if r[0] == centre_before[0])
    assert int(centre[2]) - int(centre_before[2]) == 2  # two proposals
    assert int(centre[3]) - int(centre_before[3]) == 2  # two supports
    assert int(centre[4]) - int(centre_before[4]) == 2  # two pledges made (one withdrawn)
    assert int(centre[7]) - int(centre_before[7]) == 100_000  # only the standing one is raised
    cofunding = {r[0]: r for r in rows(admin, "cofunding")[1:]}["Budget 2027"]
    # 10 % of 1,000,000 and of 2,000,000 kopecks; 100,000 raised: one proposal fully funded.
    assert cofunding[1:] == ["2", "1", "300000", "100000", "33"]
    reviews = {r[0]: r for r in rows(admin, "reviews")[1:]}["Budget 2027"]
    assert reviews[1] == "1" and reviews[2] == "0"
    monthly = rows(admin, "monthly")
    assert sum(int(r[2]) for r in monthly[1:]) >= 2

    page = admin.use().get("/admin/city", headers=RU)
    assert page.status_code == 200
    assert "Участие по районам" in page.text and "1\xa0000\xa0₽" in page.text and "₽" in page.text
    assert mod.use().get("/admin/city", headers=HTML).status_code == 200
    assert r1.use().get("/admin/city", headers=HTML).status_code == 403
    assert r1.call("GET", "/admin/city/csv/districts").status_code == 403
    assert admin.call("GET", "/admin/city/csv/nothing").status_code == 404


def test_nearest_rank_percentiles_are_measured_values() -> None:
    assert nearest_rank([], 50) is None
    assert nearest_rank([7], 90) == 7
    assert nearest_rank([4, 1, 3, 2], 50) == 2
    assert nearest_rank(list(range(1, 11)), 90) == 9
    assert nearest_rank(list(range(1, 11)), 100) == 10


@PAGES_ON_SQLITE
def test_days_and_months_are_the_municipalitys(app: Litestar, people: dict[str, Actor]) -> None:
    """A resident who registered at 22:30 UTC on 31 December 2025 registered on 1 January
    2026 in Moscow (UTC+3, the default time zone): the timeline counts them in January."""
    from sqlalchemy import text

    admin = people["admin"]
    moment = 1_767_220_200  # 2025-12-31T22:30:00Z
    with app.state.engine.begin() as connection:
        connection.execute(
            text("UPDATE user_account SET created_at = :at WHERE email = :email"),
            {"at": moment, "email": "r1@example.org"},
        )
    header, *months = rows(admin, "monthly")
    assert header[:2] == ["Month", "Registrations"]
    counted = {row[0]: int(row[1]) for row in months}
    assert counted.get("2026-01", 0) >= 1
    assert "2025-12" not in counted  # where a UTC day would have put them
    page = admin.use().get("/admin/city", headers=RU)
    assert "Участие по месяцам" in page.text and "Москва, UTC+3" in page.text
