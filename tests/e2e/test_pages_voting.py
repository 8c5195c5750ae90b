"""The voting pages in Chromium against a real server: a resident logs in, obtains a
credential, fills a knapsack ballot whose meter stops at the budget, casts it and sees
the receipt verified; re-votes; saves the credential to a file; an auditor checks the
receipt on "check my ballot"; the results page after the tally.

Screenshots of every page at a phone's size (390×844) and a laptop's (1366×768) go to
``test-artifacts/``.
"""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from kernel.db import make_engine
from tests.support.accounts import PASSWORD
from tests.support.browser import SQLITE_ONLY
from tests.support.elections import EARLY_CLOSE, when
from tests.support.paths import ARTIFACTS
from tests.support.server import LiveServer
from veche.setup import NewUser, create_user

pytestmark = [pytest.mark.browser, SQLITE_ONLY]

SIZES = {"phone": (390, 844), "laptop": (1366, 768)}


def shoot(page: Any, name: str) -> None:
    """Save the page at both sizes, then go back to the phone's."""
    ARTIFACTS.mkdir(exist_ok=True)
    # From the top: a full-page shot of a scrolled page draws sticky parts mid-page.
    page.evaluate("window.scrollTo(0, 0)")
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"pages-{name}-{size}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})


def no_horizontal_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_a_resident_votes_revotes_and_an_auditor_checks(
    browser: Any, live_server: LiveServer
) -> None:
    url = live_server.url
    engine = make_engine(live_server.settings)
    try:
        for email, role in (("admin@example.org", "admin"), ("olga@example.org", "resident")):
            create_user(
                live_server.settings, engine, NewUser(email, PASSWORD, email[:4], role, "centre")
            )
    finally:
        engine.dispose()
    admin = httpx.Client(base_url=url, timeout=60)
    with closing(admin):
        login = admin.post(
            "/api/v1/auth/login", json={"email": "admin@example.org", "password": PASSWORD}
        )
        admin.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        config = {
            "id": "centre-2026",
            "title": "Centre 2026",
            "district": "centre",
            "budget": 1_000_000_00,
            "currency": "RUB",
            "projects": [
                {"id": "park", "title": "Park by the river", "cost": 400_000_00},
                {"id": "library", "title": "Library reading hall", "cost": 350_000_00},
                {"id": "playground", "title": "Playground", "cost": 300_000_00},
                {"id": "trees", "title": "Trees on Sadovaya street", "cost": 100_000_00},
            ],
            "ballot": {
                "kind": "approval",
                "min_projects": 1,
                "max_projects": 4,
                "max_total_cost": 1_000_000_00,
            },
            "rule": {"name": "mes", "satisfaction": "cost", "completion": "add1"},
            "window": {"opens_at": when(-5), "closes_at": when(60)},
            "eligibility": {"residents": True, "roll": False, "access_codes": False},
            "rsa_key_bits": 1024,
        }
        assert admin.post("/api/v1/elections", json=config).status_code == 201
        # Staff verify Olga as a resident before the election opens (its electorate).
        olga = admin.get("/api/v1/staff/residents", params={"email": "olga@example.org"})
        verified = admin.post(
            f"/api/v1/staff/residents/{olga.json()['account']['id']}/verification",
            json={"district": "centre", "document_type": "passport", "document_number": "4510 1"},
        )
        assert verified.status_code == 201, verified.text
        assert admin.post("/api/v1/elections/centre-2026/open").status_code == 200

        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="en-GB", accept_downloads=True
        )
        errors: list[str] = []
        try:
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # Every answer the pages load is good (the browser's own favicon request aside).
            page.on(
                "response",
                lambda r: (
                    errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            page.goto(url + "/login?next=/elections")
            page.get_by_label("E-mail address").fill("olga@example.org")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url("**/elections")
            shoot(page, "elections")
            page.get_by_role("link", name="Centre 2026").click()
            page.wait_for_url("**/elections/centre-2026")
            status = page.locator("#wallet-status")
            status.get_by_text("no voting credential").wait_for()
            # No credential yet: nothing to save, and no advice about saving it.
            assert not page.locator("#save-wallet").is_visible()
            assert not page.get_by_text("Save it to a file").is_visible()

            page.get_by_role("button", name="Get my voting credential").click()
            # Saving the recovery code is part of getting the credential.
            code = page.locator("#recovery-code")
            code.wait_for()
            assert page.locator("#cast").is_disabled()
            page.get_by_label("last group").fill(code.inner_text()[-4:])
            page.get_by_role("button", name="I have saved my recovery code").click()
            status.get_by_text("kept in this browser").wait_for()

            # The meter: park and library spend 750,000 of 1,000,000; the playground no longer fits.
            page.get_by_label("Park by the river").check()
            page.get_by_label("Library reading hall").check()
            playground = page.get_by_label("Playground")
            assert playground.is_disabled()
            assert page.locator("#budget-meter").get_attribute("max") == "100000000"
            assert page.locator("#budget-meter").evaluate("m => m.value") == 75_000_000
            # Even forced on (a disabled box clicked by script), the meter takes it back.
            playground.evaluate("b => { b.disabled = false; b.click(); }")
            assert not playground.is_checked()
            assert "does not fit" in page.locator("#ballot-error").inner_text()
            page.get_by_label("Trees on Sadovaya street").check()
            assert "₽850,000" in page.locator("#budget-left").inner_text()
            assert no_horizontal_scroll(page)
            shoot(page, "ballot")

            page.get_by_role("button", name="Cast my ballot").click()
            receipt_status = page.locator("#receipt-status")
            receipt_status.get_by_text("Your ballot is in the log").wait_for()
            first = json.loads(page.locator("#receipt-text").input_value())
            # The receipt as a card: what was recorded, where, and that it was verified;
            # its data folded away, and a download of the same JSON.
            assert page.locator("#receipt-seq").inner_text() == str(first["seq"])
            assert page.locator("#receipt-digest").inner_text() == first["ballot_digest"]
            assert str(first["size"]) in page.locator("#receipt-checkpoint").inner_text()
            assert "Verified" in page.locator("#receipt-verified").inner_text()
            assert not page.locator("#receipt-text").is_visible()
            with page.expect_download() as got:
                page.get_by_role("button", name="Download the receipt (JSON)").click()
            assert json.loads(Path(got.value.path()).read_text("utf-8")) == first
            shoot(page, "receipt")

            # Re-vote after a reload: the credential comes back from IndexedDB.
            page.reload()
            status.get_by_text("You have voted").wait_for()
            page.get_by_label("Library reading hall").check()
            page.get_by_label("Playground").check()
            page.get_by_role("button", name="Cast my ballot").click()
            page.wait_for_function(
                "seq => JSON.parse(document.getElementById('receipt-text').value).seq > seq",
                arg=first["seq"],
            )
            second = json.loads(page.locator("#receipt-text").input_value())
            assert "Your ballot is in the log" in receipt_status.inner_text()

            with page.expect_download() as download:
                page.get_by_role("button", name="Save my credential to a file").click()
            saved = json.loads(Path(download.value.path()).read_text("utf-8"))
            assert [r["seq"] for r in saved["receipts"]] == [first["seq"], second["seq"]]
            assert set(saved) >= {"election_id", "election_hash", "credential_private", "token"}
            assert saved["recovery_code"] and saved["log_key"]
            # The page kept the ballots' numbers in IndexedDB across the reload: the re-vote
            # went out as number 2 at once (a lost count would have met a 409 first, which
            # ``errors`` would hold).
            assert saved["counter"] == 2
            assert errors == []

            # An auditor, not logged in, checks the first receipt.
            auditor = browser.new_context(viewport={"width": 390, "height": 844})
            try:
                check = auditor.new_page()
                check.goto(url + "/check")
                check.get_by_label("Receipt", exact=True).fill(json.dumps(first))
                check.get_by_role("button", name="Check").click()
                check.locator("#check-result .ok").wait_for()
                assert "Checked in this browser" in check.locator("#check-result").inner_text()
                shoot(check, "check")
                # The second ballot's receipt with the first ballot: not this entry's ballot.
                forged = {**second, "cast": first["cast"], "ballot_digest": first["ballot_digest"]}
                check.get_by_label("Receipt", exact=True).fill(json.dumps(forged))
                check.get_by_role("button", name="Check").click()
                check.locator("#check-result .error").get_by_text("another ballot").wait_for()
                shoot(check, "check-refused")
                # A broken proof: the sentence whole, the checker's detail folded under it.
                broken = {**first, "proof": [("0" * 64) for _ in first["proof"]] or ["0" * 64]}
                check.get_by_label("Receipt", exact=True).fill(json.dumps(broken))
                check.get_by_role("button", name="Check").click()
                check.locator("#check-result details").wait_for(state="attached")
                said = check.locator("#check-result .error").inner_text()
                assert said.endswith(".") and not said.endswith(":.")
                assert check.locator("#check-result details summary").inner_text() == (
                    "Technical details (in English)"
                )
            finally:
                auditor.close()

            assert (
                admin.post("/api/v1/elections/centre-2026/close", json=EARLY_CLOSE).status_code
                == 200
            )
            tallied = admin.post("/api/v1/elections/centre-2026/tally")
            assert tallied.status_code == 201, tallied.text
            page.goto(url + "/elections/centre-2026/results")
            winners = page.locator("ol.winners").inner_text()
            assert "Library reading hall" in winners and "Playground" in winners
            assert page.locator("svg.chart rect.bar").count() == 4
            assert no_horizontal_scroll(page)
            shoot(page, "results")
            page.goto(url + f"/log/entries/{second['seq']}")
            shoot(page, "entry")
            page.goto(url + "/log")
            shoot(page, "log")
        finally:
            context.close()
        assert errors == []


def test_the_ballot_page_in_russian_without_javascript(
    browser: Any, live_server: LiveServer
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="ru-RU", java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto(live_server.url + "/elections")
        assert page.locator("html").get_attribute("lang") == "ru"
        page.goto(live_server.url + "/check")
        assert page.get_by_role("button", name="Проверить").is_visible()
        shoot(page, "check-ru-nojs")
    finally:
        context.close()


KIND_BALLOTS = {
    "points": ({"kind": "cumulative", "total_points": 5, "max_per_project": 3}, "greedy"),
    "ranks": ({"kind": "ordinal", "max_length": 3}, "borda"),
    "poll": ({"kind": "choice", "min_options": 1, "max_options": 1}, "plurality"),
}


def test_every_ballot_kind_votes_from_its_page_with_an_access_code(
    browser: Any, live_server: LiveServer
) -> None:
    url = live_server.url
    engine = make_engine(live_server.settings)
    try:
        create_user(
            live_server.settings, engine, NewUser("admin@example.org", PASSWORD, "A", "admin")
        )
    finally:
        engine.dispose()
    admin = httpx.Client(base_url=url, timeout=60)
    codes: dict[str, str] = {}
    with closing(admin):
        login = admin.post(
            "/api/v1/auth/login", json={"email": "admin@example.org", "password": PASSWORD}
        )
        admin.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        for election_id, (ballot, rule) in KIND_BALLOTS.items():
            poll = ballot["kind"] in {"ordinal", "choice"}
            config = {
                "id": election_id,
                "title": f"Ballot of kind {ballot['kind']}",
                "district": "centre",
                "budget": 0 if poll else 1_000_000_00,
                "currency": "RUB",
                "projects": [
                    {"id": pid, "title": title, "cost": 0 if poll else 300_000_00}
                    for pid, title in (("park", "Park"), ("pool", "Pool"), ("trees", "Trees"))
                ],
                "ballot": ballot,
                "rule": {"name": rule},
                "window": {"opens_at": when(-5), "closes_at": when(60)},
                "eligibility": {"residents": False, "roll": True, "access_codes": True},
                "rsa_key_bits": 1024,
            }
            assert admin.post("/api/v1/elections", json=config).status_code == 201
            roll = admin.post(
                f"/api/v1/elections/{election_id}/roll",
                content=b"voter_id\nR1\n",
                headers={"content-type": "text/csv"},
            )
            assert roll.status_code == 201
            made = admin.post(f"/api/v1/elections/{election_id}/access-codes").text
            codes[election_id] = made.strip().split("\n")[1].split(",")[1]
            assert admin.post(f"/api/v1/elections/{election_id}/open").status_code == 200

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        for election_id in KIND_BALLOTS:
            page.goto(f"{url}/elections/{election_id}")
            page.locator("#credential-actions").wait_for()
            page.get_by_label("Код доступа").fill(codes[election_id])
            page.get_by_role("button", name="Получить ключ по этому коду").click()
            page.locator("#recovery-code").wait_for()
            page.get_by_label("последнюю группу").fill(
                page.locator("#recovery-code").inner_text()[-4:]
            )
            page.get_by_role("button", name="Код восстановления сохранён").click()
            page.locator("#wallet-status").get_by_text("хранится в этом браузере").wait_for()
            if election_id == "points":
                # Points left: 3 for the park, then the pool is held to the 2 that remain.
                park, pool = page.get_by_label("Park"), page.get_by_label("Pool")
                park.fill("3")
                pool.fill("3")
                assert pool.input_value() == "2"
                assert "Осталось баллов: 0" in page.locator("#points-left").inner_text()
            elif election_id == "ranks":
                page.get_by_label("Выбор 1").select_option("pool")
                page.get_by_label("Выбор 2").select_option("pool")
                page.get_by_role("button", name="Отправить бюллетень").click()
                page.locator("#ballot-error").get_by_text("дважды").wait_for()
                page.get_by_label("Выбор 2").select_option("trees")
            else:
                # Keyboard only: focus the first option and choose it with the space bar.
                page.get_by_label("Trees").focus()
                page.keyboard.press("Space")
                assert page.get_by_label("Trees").is_checked()
            shoot(page, f"ballot-{election_id}-ru")
            page.get_by_role("button", name="Отправить бюллетень").click()
            page.locator("#receipt-status").get_by_text("Ваш бюллетень в журнале").wait_for()
    finally:
        context.close()
    assert errors == []
