"""One trustee on the trustee page in Chromium, two with ``veche trustee``, against a
real ``veche serve`` (docs/protocol.md §14, §17, §17.8).

The page makes trustee 1's keys and file (read by ``veche trustee show``), deals and
acknowledges beside the two command-line trustees; the election opens, a voter votes,
the election closes; the page, opened again from the saved file in a fresh browser
context, refuses to release before the close and while the server points at another
entry as the close, then releases trustee 1's share, and one command-line trustee
releases the second; the count runs and ``veche verify`` accepts the log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from kernel.settings import Settings
from tests.support.browser import SQLITE_ONLY
from tests.support.elections import EARLY_CLOSE, config
from tests.support.server import LiveServer, admin_client, veche

pytestmark = [pytest.mark.browser, SQLITE_ONLY]

ELECTION = "river-2026"


def _ok(done: object) -> str:
    assert getattr(done, "returncode", 1) == 0, getattr(done, "stderr", "")
    return str(getattr(done, "stdout", ""))


class TrusteeTab:
    """The trustee page in its own browser context (one trustee's machine)."""

    def __init__(self, browser: Any, url: str, locale: str = "en-GB") -> None:
        self.context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale=locale, accept_downloads=True
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(f"{url}/trustee?election={ELECTION}")

    def result(self, text: str) -> None:
        self.page.locator("#trustee-result").get_by_text(text).wait_for(timeout=30_000)

    def save(self, path: Path, action: Any) -> None:
        with self.page.expect_download() as download:
            action()
        download.value.save_as(path)

    def show(self) -> None:
        self.page.locator("#show-ceremony").click()
        self.page.locator("#ceremony").wait_for()

    def close(self) -> None:
        self.context.close()
        assert self.errors == []


def test_a_browser_trustee_beside_two_command_line_trustees(
    live_server: LiveServer, settings: Settings, tmp_path: Path, browser: Any
) -> None:
    url = live_server.url
    mine = tmp_path / "page-trustee.json"
    tab = TrusteeTab(browser, url)
    tab.page.locator("#trustee-name").fill("Olga Page")
    tab.page.locator("#make-identity").click()
    tab.result("Your keys are made")
    assert "[[trustees.members]]" in tab.page.locator("#public-part").inner_text()
    tab.save(mine, lambda: tab.page.locator("#save-file").click())
    files = [mine] + [tmp_path / f"trustee-{j}.json" for j in (2, 3)]
    for j, path in enumerate(files[1:], start=2):
        _ok(veche("trustee", "init", "--name", f"Trustee {j}", "--out", str(path)))
    # The command reads the page's file as its own.
    members = [json.loads(_ok(veche("trustee", "show", str(p), "--json"))) for p in files]
    assert members[0]["name"] == "Olga Page"

    admin = admin_client(url, settings)
    try:
        _run(admin, url, files, members, tmp_path, tab, browser)
    finally:
        admin.close()


def _run(
    admin: httpx.Client,
    url: str,
    files: list[Path],
    members: list[Any],
    tmp_path: Path,
    tab: TrusteeTab,
    browser: Any,
) -> None:
    cfg = config(
        ELECTION,
        eligibility={"residents": False, "roll": True, "access_codes": True},
        trustees={"threshold": 2, "members": members},
    )
    assert admin.post("/api/v1/elections", json=cfg).status_code == 201
    roll = "voter_id\nV1\nV2\n"
    roll_answer = admin.post(
        f"/api/v1/elections/{ELECTION}/roll",
        content=roll.encode(),
        headers={"content-type": "text/csv"},
    )
    assert roll_answer.status_code == 201
    codes_csv = admin.post(f"/api/v1/elections/{ELECTION}/access-codes").text
    codes = [line.split(",")[1] for line in codes_csv.strip().split("\n")[1:]]
    common = ("--server", url, "--election", ELECTION)

    tab.show()
    assert "(you)" in tab.page.locator("#ceremony-members li").first.inner_text()
    tab.page.locator("#deal").click()
    tab.result("Your dealing is published")
    for path in files[1:]:
        _ok(veche("trustee", "deal", *common, "--key", str(path)))
    tab.show()
    tab.page.locator("#ceremony-status").get_by_text("Every dealing is in").wait_for()
    saved = tmp_path / "page-trustee-after-ack.json"
    tab.save(saved, lambda: tab.page.locator("#ack").click())
    tab.result("Every dealing checks")
    kept = json.loads(saved.read_text())["elections"][ELECTION]
    assert kept["trustee"] == 1 and len(kept["key_share"]) == 43
    for path in files[1:]:
        _ok(veche("trustee", "ack", *common, "--key", str(path)))
    tab.close()
    assert admin.post(f"/api/v1/elections/{ELECTION}/open").status_code == 200

    for n, code in enumerate(codes):
        _ok(
            veche(
                "vote", url, "--election", ELECTION, "--code", code,
                "--approve", "park" if n == 0 else "park,library",
                "--wallet", str(tmp_path / f"wallet-{n}.json"),
                "--delay", "0", "--allow-test-keys",
            )
        )  # fmt: skip

    # Before the close the page refuses to release, with the server's sentence.
    later = TrusteeTab(browser, url, locale="ru-RU")
    later.page.locator("#trustee-file").set_input_files(str(saved))
    later.result("Файл доверенного лица открыт")
    later.show()
    assert later.page.locator("#release").is_enabled()
    later.page.locator("#release").click()
    later.result("Голосование ещё не закрыто")
    assert "has not closed" in str(later.page.locator("#trustee-result").text_content())

    assert admin.post(f"/api/v1/elections/{ELECTION}/close", json=EARLY_CLOSE).status_code == 200

    # A server that points at another entry as the close gets no key share.
    def lie(route: Any) -> None:
        answer = route.fetch()
        body = {**answer.json(), "closed_seq": 1}
        route.fulfill(response=answer, body=json.dumps(body))

    pattern = f"**/api/v1/elections/{ELECTION}"
    later.context.route(pattern, lie)
    later.page.locator("#release").click()
    later.result("Отказано")
    assert "is not the close of this election" in str(
        later.page.locator("#trustee-result").text_content()
    )
    later.context.unroute(pattern)  # (1/2) below: nothing was posted while it lied
    later.page.locator("#release").click()
    later.result("Ваша доля ключа в журнале")
    assert "(1/2)" in later.page.locator("#trustee-result").inner_text()
    later.close()
    refused = admin.post(f"/api/v1/elections/{ELECTION}/tally")
    assert refused.status_code == 409 and refused.json()["error"] == "not_unsealed"
    two = _ok(veche("trustee", "release", *common, "--key", str(files[2]), "--allow-test-keys"))
    assert "unsealed" in two
    counted = admin.post(f"/api/v1/elections/{ELECTION}/tally")
    assert counted.status_code == 201, counted.text
    assert counted.json()["counted"] == 2 and counted.json()["scores"]["park"] == 2

    key = admin.get("/api/v1/log/key").json()["verifier_key"]
    checked = veche("verify", url, "--key", key, "--state", str(tmp_path / "state"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_page_has_no_serious_accessibility_violation(
    live_server: LiveServer, browser: Any
) -> None:
    """axe-core over the page as a trustee sees it, before and after making the keys, in
    Russian on a phone and in English on a laptop."""
    from axe_playwright_python.sync_playwright import Axe

    found: list[str] = []
    for locale, (width, height) in (("ru-RU", (390, 844)), ("en-GB", (1366, 768))):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        try:
            context.add_init_script(script=Axe().axe_script)
            page = context.new_page()
            page.goto(f"{live_server.url}/trustee?election={ELECTION}")
            for stage in ("start", "keys"):
                if stage == "keys":
                    page.locator("#trustee-name").fill("Olga Page")
                    page.locator("#make-identity").click()
                    page.locator("#identity-shown").wait_for()
                violations = page.evaluate(
                    "axe.run({resultTypes: ['violations']}).then(r => r.violations)"
                )
                found += [
                    f"{locale} {stage} {v['id']}: {[n['target'] for n in v['nodes'][:3]]}"
                    for v in violations
                    if v["impact"] in ("serious", "critical")
                ]
        finally:
            context.close()
    assert found == [], "\n".join(found)
