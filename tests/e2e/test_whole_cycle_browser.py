"""An administrator runs a whole participatory-budgeting cycle in the browser alone, in
Russian: a district's budget → a programme → the review of the residents' proposals →
a ballot built from them → the voter roll and the access-code letters → open → close →
count → the result applied to the proposals. Residents propose and vote through the API
and the voting client, as their own devices would; everything the municipality does is
done on its pages."""

from __future__ import annotations

import io
import re
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine

from ballot.core.client import VoterClient
from tests.support.accounts import PASSWORD
from tests.support.browser import SQLITE_ONLY
from tests.support.server import LiveServer
from veche.setup import NewUser, create_user

pytestmark = [pytest.mark.browser, SQLITE_ONLY]
CODE = re.compile(r"[A-HJ-NP-Z2-9]{5}(?:-[A-HJ-NP-Z2-9]{5}){3}")
DESKTOP = {"width": 1366, "height": 768}


def local(settings_zone: str, minutes: int) -> str:
    moment = datetime.now(UTC) + timedelta(minutes=minutes)
    return moment.astimezone(ZoneInfo(settings_zone)).strftime("%Y-%m-%dT%H:%M")


def move_phase(page: Any, url: str, program: int, target: str) -> None:
    page.goto(f"{url}/office/programs/{program}/phase?to={target}")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**?moved=1")


def test_an_administrator_runs_a_whole_cycle_in_the_browser_in_russian(
    browser: Any, live_server: LiveServer
) -> None:
    url = live_server.url
    settings = live_server.settings
    engine = create_engine(settings.effective_database_url)
    try:
        create_user(settings, engine, NewUser("admin@example.org", PASSWORD, "A", "admin"))
        for name in ("anna", "boris"):
            create_user(
                settings,
                engine,
                NewUser(f"{name}@example.org", PASSWORD, name, "resident", "centre", True),
            )
    finally:
        engine.dispose()

    context = browser.new_context(locale="ru-RU", viewport=DESKTOP, accept_downloads=True)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(url + "/login")
        page.locator("#email").fill("admin@example.org")
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="Войти").click()
        page.wait_for_url(url + "/")

        # 1. The district's budget, typed in roubles.
        page.get_by_role("link", name="Управление", exact=True).click()
        page.get_by_role("link", name="Районы", exact=True).click()
        page.locator("#budget-centre").fill("1 000 000")
        page.locator("#district-centre button").click()
        page.wait_for_url("**/office/districts?saved=centre*")

        # 2. The programme.
        page.goto(url + "/office/programs/new")
        page.locator("#title").fill("Народный бюджет 2027")
        page.locator("#categories").fill("Парки\nДороги")
        today = datetime.now(UTC).astimezone(ZoneInfo(settings.time_zone)).date()
        for phase, (start, end) in {
            "submission": (0, 10),
            "support": (11, 20),
            "review": (21, 30),
            "cofunding": (31, 40),
            "voting": (41, 50),
        }.items():
            page.locator(f"input[name={phase}_starts]").fill(
                (today + timedelta(days=start)).strftime("%d.%m.%Y")
            )
            page.locator(f"input[name={phase}_ends]").fill(
                (today + timedelta(days=end)).strftime("%d.%m.%Y")
            )
        page.locator("input[name=district_centre]").check()
        page.locator("#budget_centre").fill("1 000 000")
        page.get_by_role("button", name="Создать программу").click()
        page.wait_for_url("**/office/programs/*?created=1")
        program = int(re.search(r"/office/programs/(\d+)", page.url).group(1))  # type: ignore[union-attr]

        # Residents propose from their own devices.
        proposals = {}
        for name, title, cost in (
            ("anna", "Скамейки в сквере", 400_000_00),
            ("boris", "Фонтан у школы", 700_000_00),
        ):
            with httpx.Client(base_url=url, timeout=60) as resident:
                login = resident.post(
                    "/api/v1/auth/login",
                    json={"email": f"{name}@example.org", "password": PASSWORD},
                )
                headers = {"X-CSRF-Token": login.json()["csrf_token"]}
                made = resident.post(
                    "/api/v1/proposals",
                    headers=headers,
                    json={
                        "program": program,
                        "title": title,
                        "summary": title,
                        "description": title,
                        "category": "Парки",
                        "district": "centre",
                        "cost": cost,
                        "lat_e6": 55_751_244,
                        "lon_e6": 37_618_423,
                    },
                )
                assert made.status_code == 201, made.text
                pid = made.json()["id"]
                submitted = resident.post(f"/api/v1/proposals/{pid}/submit", headers=headers)
                assert submitted.status_code == 200, submitted.text
                proposals[title] = pid

        # 3. The phases move on; the proposals reach the review queue; both are accepted.
        move_phase(page, url, program, "support")
        page.goto(url + "/moderation")
        for pid in proposals.values():
            page.locator(f"#accept-{pid}").click()
            page.wait_for_load_state()
        move_phase(page, url, program, "review")
        move_phase(page, url, program, "cofunding")
        move_phase(page, url, program, "voting")

        # 4. The ballot, built from the accepted proposals.
        page.goto(f"{url}/office/programs/{program}")
        page.locator("#build-ballot").click()
        page.locator("#id").fill("centre-cycle")
        page.locator("#title").fill("Народный бюджет Центра")
        page.locator("#max_projects").fill("2")
        page.locator("#max_total_cost").fill("")
        page.locator("#opens_at").fill(local(settings.time_zone, -2))
        page.locator("#closes_at").fill(local(settings.time_zone, 60 * 24))
        page.locator("input[name=eligibility][value=codes]").check()
        page.locator("#create-draft").click()
        page.wait_for_url("**/admin/elections/centre-cycle/roll")

        # 5. The roll and the access-code letters.
        page.locator("#roll-text").fill("voter_id\nV-1\nV-2\nV-3\n")
        page.get_by_role("button", name="Проверить список").click()
        page.locator("#roll-save").click()
        assert page.locator("#roll-size").inner_text() == "3"
        page.locator("#letter-lang").select_option("ru")
        with page.expect_download() as download:
            page.locator("#make-codes").click()
        pdf = PdfReader(io.BytesIO(download.value.path().read_bytes()))
        codes = [CODE.findall(p.extract_text())[0] for p in pdf.pages]
        assert len(codes) == 3

        # 6. Open, after the confirmation.
        page.goto(f"{url}/admin/elections/centre-cycle/confirm/open")
        page.locator("#confirm-action").click()
        page.wait_for_url("**/admin/setup")

        # Voters vote with their letters' codes: two for the benches, one for both.
        with httpx.Client(base_url=url, timeout=60) as device:
            voter = VoterClient(device)
            info = voter.election("centre-cycle", allow_test_keys=True)
            ids = [p.id for p in info.manifest.projects]
            benches = next(p.id for p in info.manifest.projects if p.title == "Скамейки в сквере")
            for code, choice in zip(codes, ([benches], [benches], ids), strict=True):
                device.cookies.clear()
                wallet = voter.obtain_credential(info, access_code=code)
                voter.cast(info, wallet, {"approve": choice})

        # 7. Close early (the window runs a day), with the reason the log publishes.
        page.goto(url + "/admin/setup")
        page.locator("#early-centre-cycle").check()
        page.locator("#reason-centre-cycle").fill("Все избиратели проголосовали")
        page.get_by_role("button", name="Закрыть досрочно").click()
        page.wait_for_url("**/admin/setup")

        # 8. Count, after the confirmation.
        page.goto(f"{url}/admin/elections/centre-cycle/confirm/tally")
        page.locator("#confirm-action").click()
        page.wait_for_url("**/admin/setup")

        # 9. The result applied to the proposals, after the confirmation.
        page.goto(f"{url}/office/programs/{program}")
        page.get_by_role("link", name="Применить итоги к предложениям").click()
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
    finally:
        context.close()
    assert errors == []
    with closing(httpx.Client(base_url=url, timeout=60)) as anyone:
        result = anyone.get("/api/v1/elections/centre-cycle/result").json()
        statuses = {
            title: anyone.get(f"/api/v1/proposals/{pid}").json()["status"]
            for title, pid in proposals.items()
        }
    assert result["counted"] == 3
    # 1,000,000 ₽: the benches (400,000 ₽, 3 votes) first, then the fountain (700,000 ₽)
    # no longer fits.
    assert statuses == {"Скамейки в сквере": "won", "Фонтан у школы": "lost"}
