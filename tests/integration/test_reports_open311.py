"""Open311 GeoReport v2 over reports (docs/protocol.md §16.9), read by a published
client (``georeport`` from PyPI) over real HTTP, in JSON and in XML; requests posted
with an API key as a GeoReport client posts them (a form)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import requests
from georeport import GeoReport
from litestar import Litestar

from kernel.settings import Settings
from tests.support.accounts import Client
from tests.support.pages import PAGES_ON_SQLITE
from tests.support.proposals import Actor
from tests.support.relay import relay
from tests.support.reports import answer, report, setup_reports

pytestmark = PAGES_ON_SQLITE


@pytest.fixture(name="people")
def fx_people(client: Client, app: Litestar, settings: Settings) -> dict[str, Actor]:
    return setup_reports(client, app, settings)


@pytest.fixture(name="api_key")
def fx_api_key(app: Litestar, people: dict[str, Actor]) -> str:
    from sqlalchemy import select

    from kernel.accounts.models import User

    with app.state.sessions() as db, db.begin():
        user = db.scalars(select(User).where(User.email == "other@example.org")).one()
        return str(app.state.open311.new_key(db, user, "a city app"))


def jurisdiction(app: Litestar) -> str:
    return str(app.state.settings.origin.split("/")[0])


def post(client: Client, fields: dict[str, str], extension: str = "json") -> requests.Response:
    client.cookies.clear()
    return client.post(f"/open311/v2/requests.{extension}", data=fields)  # type: ignore[return-value]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_published_client_reads_services_and_requests(
    people: dict[str, Actor], client: Client, app: Litestar, fmt: str
) -> None:
    rid = report(people["resident"], description="Pothole on Lenina")["id"]
    answer(people["roads"], rid, "Patched")
    hidden = report(people["resident"], public=False)["id"]
    with relay(client) as url:
        georeport = GeoReport(
            f"{url}/open311/v2", jurisdiction=jurisdiction(app), output_format=fmt
        )
        services = georeport.get_service_list()
        codes = {s["service_code"] for s in services}
        assert {"roads", "potholes", "waste"} == codes
        potholes = next(s for s in services if s["service_code"] == "potholes")
        assert potholes["service_name"] == "Potholes" and potholes["group"] == "Roads"
        definition = georeport.get_service_definition("potholes")
        assert definition["service_code"] == "potholes"
        listed = georeport.get_service_requests()
        listed = listed if isinstance(listed, list) else [listed]
        assert [r["service_request_id"] for r in listed] == [rid]  # the private one is not listed
        one = georeport.get_service_request(rid)
        assert one["status"] == "closed" and one["status_notes"] == "Patched"
        assert (
            one["description"] == "Pothole on Lenina" and one["agency_responsible"] == "roads-dept"
        )
        assert one["lat"] == "55.750000" and one["long"] == "37.620000"
        closed = georeport.get_service_requests(status="closed")
        closed = closed if isinstance(closed, list) else [closed]
        assert [r["service_request_id"] for r in closed] == [rid]
        if fmt == "json":  # the client cannot read an empty XML list (xmltodict gives None)
            assert georeport.get_service_requests(status="open") == []
        with pytest.raises(requests.HTTPError):
            georeport.get_service_request(hidden)
        elsewhere = GeoReport(
            f"{url}/open311/v2", jurisdiction="elsewhere.example", output_format=fmt
        )
        with pytest.raises(requests.HTTPError):
            elsewhere.get_service_list()


def test_discovery(client: Client, people: dict[str, Actor]) -> None:
    discovery = client.get("/open311/v2/discovery.json").json()
    assert discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert discovery["endpoints"][0]["formats"] == ["application/json", "text/xml"]
    xml = ET.fromstring(client.get("/open311/v2/discovery.xml").content)
    assert xml.tag == "discovery" and xml.find("endpoints/endpoint/formats/format") is not None
    assert client.get("/open311/v2/discovery.yaml").status_code == 404


@pytest.mark.parametrize("extension", ["json", "xml"])
def test_a_client_with_a_key_posts_a_request(
    client: Client, app: Litestar, people: dict[str, Actor], api_key: str, extension: str
) -> None:
    fields = {
        "api_key": api_key,
        "jurisdiction_id": jurisdiction(app),
        "service_code": "waste",
        "lat": "55.751",
        "long": "37.621",
        "description": "Bins overflowing",
        "email": "someone@example.org",
    }
    created = post(client, fields, extension)
    assert created.status_code == 201, created.text
    if extension == "json":
        rid = created.json()[0]["service_request_id"]
    else:
        rid = ET.fromstring(created.content).findtext("request/service_request_id")
    one = client.get(f"/open311/v2/requests/{rid}.json").json()[0]
    assert one["agency_responsible"] == "waste-co" and one["status"] == "open"
    # The report is the key owner's, and the log has it without the e-mail.
    entries = client.get("/api/v1/log/entries", params={"start": 0, "end": 1000}).text
    assert rid in entries and "someone@example.org" not in entries


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"api_key": "wrong"}, 403, "api_key"),
        ({"api_key": ""}, 403, "api_key"),
        ({"lat": "north"}, 400, "lat and long"),
        ({"lat": "59.93", "long": "30.31"}, 400, "outside the municipality"),
        ({"service_code": "nope"}, 400, "categories"),
        ({"jurisdiction_id": "elsewhere.example"}, 404, "jurisdiction_id"),
    ],
)
def test_bad_posts_get_georeport_errors(
    client: Client,
    app: Litestar,
    people: dict[str, Actor],
    api_key: str,
    change: dict[str, str],
    status: int,
    words: str,
) -> None:
    fields = {
        "api_key": api_key,
        "service_code": "waste",
        "lat": "55.751",
        "long": "37.621",
        "description": "Bins",
    } | change
    refused = post(client, fields)
    assert refused.status_code == status
    error = refused.json()[0]
    assert error["code"] == status and words in error["description"]
    xml = post(client, fields, "xml")
    assert ET.fromstring(xml.content).findtext("error/code") == str(status)
    client.cookies.clear()
    russian = client.post(
        "/open311/v2/requests.json", data=fields, headers={"Accept-Language": "ru"}
    ).json()[0]["description"]
    assert russian != error["description"] and any("а" <= c <= "я" for c in russian.lower())
