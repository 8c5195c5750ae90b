"""Reports over HTTP: the configuration, the people who act on reports, logged in."""

from __future__ import annotations

import json
from typing import Any

from litestar import Litestar
from sqlalchemy import select

from kernel.accounts.models import User
from kernel.settings import Settings
from tests.support.accounts import PASSWORD, Client
from tests.support.images import png
from tests.support.proposals import Actor, login
from veche.setup import DEMO_DISTRICTS, NewUser, add_districts, create_user

CONFIG: dict[str, Any] = {
    "organisations": [
        {"code": "roads-dept", "name_en": "Roads department", "name_ru": "Дорожный отдел"},
        {"code": "waste-co", "name_en": "Waste company", "name_ru": "Вывоз мусора"},
    ],
    "category": [
        {"code": "roads", "title_en": "Roads", "title_ru": "Дороги"},
        {"code": "potholes", "parent": "roads", "title_en": "Potholes", "title_ru": "Ямы"},
        {"code": "waste", "title_en": "Waste", "title_ru": "Мусор"},
    ],
    "rule": [
        {"category": "roads", "organisation": "roads-dept", "deadline_days": 30},
        {"category": "waste", "organisation": "waste-co", "deadline_days": 10},
    ],
}


def square(lon0: float, lat0: float, lon1: float, lat1: float) -> str:
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


# Centre: 37.60–37.64 E, 55.74–55.76 N; north: 37.60–37.64 E, 55.76–55.80 N.
BOUNDARIES = {
    "centre": square(37.60, 55.74, 37.64, 55.76),
    "north": square(37.60, 55.76, 37.64, 55.80),
}
INSIDE = {"lat_e6": 55_750_000, "lon_e6": 37_620_000}  # the centre
OUTSIDE = {"lat_e6": 59_930_000, "lon_e6": 30_310_000}

PEOPLE = ("admin", "supervisor", "roads", "waste", "resident", "neighbour", "other")


def setup_reports(client: Client, app: Litestar, settings: Settings) -> dict[str, Actor]:
    """Districts with boundaries, the configuration, and everyone logged in: the admin,
    a supervisor, staff of the roads department and of the waste company, the reporter,
    a neighbour and another resident."""
    engine = app.state.engine
    add_districts(settings, engine, DEMO_DISTRICTS)
    roles = {"admin": "admin", "supervisor": "supervisor"}
    for name in PEOPLE:
        role = roles.get(name, "resident")
        create_user(
            settings, engine, NewUser(f"{name}@example.org", PASSWORD, name, role, "centre", True)
        )
    actors = {name: login(client, f"{name}@example.org") for name in PEOPLE}
    admin = actors["admin"]
    assert admin.call("PUT", "/api/v1/reports/config", CONFIG).status_code == 200
    for district, geojson in BOUNDARIES.items():
        url = f"/api/v1/reports/districts/{district}/boundary"
        assert admin.call("PUT", url, {"geojson": geojson}).status_code == 200
    with app.state.read_sessions() as db:
        ids = {u.email: u.id for u in db.scalars(select(User)).all()}
    for name, organisation in (("roads", "roads-dept"), ("waste", "waste-co")):
        body = {"user_id": ids[f"{name}@example.org"], "organisation": organisation}
        assert admin.call("POST", "/api/v1/reports/staff", body).status_code == 200
        actors[name] = login(client, f"{name}@example.org")
    return actors


def report(actor: Actor, category: str = "potholes", **fields: Any) -> dict[str, Any]:
    body = {"category": category, "description": "A deep pothole", **INSIDE, **fields}
    response = actor.call("POST", "/api/v1/reports/", body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def photo(actor: Actor, report_id: str, data: bytes | None = None) -> Any:
    content = png(40, 30) if data is None else data
    return actor.call(
        "POST", f"/api/v1/reports/{report_id}/photos", files={"file": ("a.png", content)}
    )


def answer(actor: Actor, report_id: str, text: str = "Patched.", width: int = 40) -> Any:
    assert photo(actor, report_id, png(width, 30)).status_code == 201
    return actor.call("POST", f"/api/v1/reports/{report_id}/answer", {"text": text})
