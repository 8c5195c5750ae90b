"""``veche verify`` recomputes the report statistics from the log (docs/protocol.md
§16.5–§16.6), holds them against what the server publishes, and the public statistics
page shows the same figures."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from litestar import Litestar

from kernel.settings import Settings
from tests.support.accounts import Client
from tests.support.proposals import Actor
from tests.support.relay import relay
from tests.support.reports import answer, report, setup_reports


def verify(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "veche.cli", "verify", url, "--no-state", *extra],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(name="month")
def fx_month(client: Client, app: Litestar, settings: Settings) -> dict[str, Actor]:
    """Four reports: two answered and rated (5 and 2), one in work, one received."""
    people = setup_reports(client, app, settings)
    resident, roads = people["resident"], people["roads"]
    ids = [report(resident)["id"] for _ in range(4)]
    for rid, rating, width in ((ids[0], 5, 40), (ids[1], 2, 41)):
        roads.call("POST", f"/api/v1/reports/{rid}/take")
        assert answer(roads, rid, width=width).status_code == 200
        body = {"rating": rating, "comment": "" if rating >= 3 else "Not fixed"}
        assert resident.call("POST", f"/api/v1/reports/{rid}/rate", body).status_code == 200
    roads.call("POST", f"/api/v1/reports/{ids[2]}/take")
    client.cookies.clear()
    return people


def test_verify_recomputes_the_served_statistics(client: Client, month: dict[str, Actor]) -> None:
    with relay(client) as url:
        done = verify(url)
        as_json = verify(url, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "REPORTS: OK" in done.stdout
    assert "Reports: 4 received, 2 answered." in done.stdout
    figures = json.loads(as_json.stdout)["reports"]["statistics"]
    assert figures == client.get("/api/v1/reports/statistics").json()
    assert figures["average_rating"] == "7/2" and figures["reopen_rate"] == "1/2"


def test_verify_catches_a_server_that_publishes_better_figures(
    client: Client, month: dict[str, Actor]
) -> None:
    honest = client.get("/api/v1/reports/statistics").json()

    def lie(path: str, status: int, body: bytes) -> tuple[int, bytes]:
        if path == "/api/v1/reports/statistics":
            return 200, json.dumps(honest | {"average_rating": "9/2"}).encode()
        return status, body

    with relay(client, lie) as url:
        done = verify(url)
    assert done.returncode == 1
    assert "published report statistics differ from the log's" in done.stdout


def test_the_statistics_page_shows_the_verifiers_figures(
    client: Client, month: dict[str, Actor]
) -> None:
    with relay(client) as url:
        figures = json.loads(verify(url, "--json").stdout)["reports"]["statistics"]
    for lang in ("en", "ru"):
        page = client.get("/reports/statistics", headers={"Accept-Language": lang})
        assert page.status_code == 200
        shown = dict(re.findall(r'data-figure="([a-z_0-9]+)" data-value="([^"]*)"', page.text))
        assert shown == {k: "" if v is None else str(v) for k, v in figures.items()}
    assert (
        "Медианное время ответа"
        in client.get("/reports/statistics", headers={"Accept-Language": "ru"}).text
    )
