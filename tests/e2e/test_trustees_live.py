"""Trustees against a real ``veche serve`` process, each one running ``veche trustee``
as a separate process with their own file (docs/protocol.md §14, §17).

Three trustees make their identities, the administrator lists them (from ``veche
trustee show``) in the election's configuration, they deal and acknowledge, the
election opens, two voters vote with ``veche vote``, the election closes; with one key
share released the count is refused, with the second it runs, and ``veche verify`` of
the server's log accepts it all. One voter votes from Chromium: the browser seals to
the trustees' joint key, and that ballot is opened, counted and verified too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from kernel.settings import Settings
from tests.support.elections import EARLY_CLOSE, config
from tests.support.server import LiveServer, admin_client, veche

ELECTION = "centre-2026"


def _ok(done: object) -> str:
    assert getattr(done, "returncode", 1) == 0, getattr(done, "stderr", "")
    return str(getattr(done, "stdout", ""))


def test_three_trustees_through_their_own_commands(
    live_server: LiveServer, settings: Settings, tmp_path: Path, browser: Any
) -> None:
    url = live_server.url
    files = [tmp_path / f"trustee-{j}.json" for j in (1, 2, 3)]
    for j, path in enumerate(files, start=1):
        _ok(veche("trustee", "init", "--name", f"Trustee {j}", "--out", str(path)))
        assert path.stat().st_mode & 0o777 == 0o600
    members = [json.loads(_ok(veche("trustee", "show", str(p), "--json"))) for p in files]

    admin = admin_client(url, settings)
    try:
        _run(admin, url, files, members, tmp_path, browser)
    finally:
        admin.close()


def _vote_in_chromium(browser: Any, url: str, code: str) -> None:
    """A voter's browser seals to the trustees' joint key like any other (§14.1)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{url}/elections/{ELECTION}")
        page.locator("#credential-actions").wait_for()
        page.locator("#access-code").fill(code)
        page.locator("#use-code").click()
        page.locator("#recovery-code").wait_for()
        page.locator("#recovery-confirm").fill(page.locator("#recovery-code").inner_text()[-4:])
        page.locator("#confirm-code").click()
        page.get_by_label("Park").check()
        page.locator("#cast").click()
        page.locator("#receipt-status").get_by_text("Your ballot is in the log").wait_for()
    finally:
        context.close()
    assert errors == []


def _run(
    admin: httpx.Client,
    url: str,
    files: list[Path],
    members: list[Any],
    tmp_path: Path,
    browser: Any,
) -> None:
    cfg = config(
        ELECTION,
        eligibility={"residents": False, "roll": True, "access_codes": True},
        trustees={"threshold": 2, "members": members},
    )
    assert admin.post("/api/v1/elections", json=cfg).status_code == 201
    roll = "voter_id\nV1\nV2\nV3\n"
    assert (
        admin.post(
            f"/api/v1/elections/{ELECTION}/roll",
            content=roll.encode(),
            headers={"content-type": "text/csv"},
        ).status_code
        == 201
    )
    codes_csv = admin.post(f"/api/v1/elections/{ELECTION}/access-codes").text
    codes = [line.split(",")[1] for line in codes_csv.strip().split("\n")[1:]]
    refused = admin.post(f"/api/v1/elections/{ELECTION}/open")
    assert refused.status_code == 409 and refused.json()["error"] == "ceremony_incomplete"

    common = ("--server", url, "--election", ELECTION)
    # Acknowledging before every dealing is in is refused with a sentence.
    early = veche("trustee", "ack", *common, "--key", str(files[0]))
    assert early.returncode == 1 and "every dealing is in" in early.stderr
    for path in files:
        _ok(veche("trustee", "deal", *common, "--key", str(path)))
    replay = veche("trustee", "deal", *common, "--key", str(files[0]))
    assert replay.returncode == 1 and "dealing_exists" in replay.stderr
    for path in files:
        _ok(veche("trustee", "ack", *common, "--key", str(path)))
    assert "key_share" in json.loads(files[0].read_text())["elections"][ELECTION]
    assert admin.post(f"/api/v1/elections/{ELECTION}/open").status_code == 200

    _vote_in_chromium(browser, url, codes[2])
    for n, code in enumerate(codes[:2]):
        voted = veche(
            "vote",
            url,
            "--election",
            ELECTION,
            "--code",
            code,
            "--approve",
            "park" if n == 0 else "park,library",
            "--wallet",
            str(tmp_path / f"wallet-{n}.json"),
            "--delay",
            "0",
            "--allow-test-keys",
        )
        _ok(voted)

    # Releasing before the close is refused by the trustee's own command.
    before = veche("trustee", "release", *common, "--key", str(files[0]), "--allow-test-keys")
    assert before.returncode == 1 and "has not closed" in before.stderr
    assert admin.post(f"/api/v1/elections/{ELECTION}/close", json=EARLY_CLOSE).status_code == 200
    one = _ok(veche("trustee", "release", *common, "--key", str(files[0]), "--allow-test-keys"))
    assert "1 of the 2" in one
    refused = admin.post(f"/api/v1/elections/{ELECTION}/tally")
    assert refused.status_code == 409 and refused.json()["error"] == "not_unsealed"
    two = _ok(veche("trustee", "release", *common, "--key", str(files[2]), "--allow-test-keys"))
    assert "unsealed" in two
    counted = admin.post(f"/api/v1/elections/{ELECTION}/tally")
    assert counted.status_code == 201, counted.text
    # Two ballots from `veche vote`, one from Chromium: all three opened and counted.
    assert counted.json()["counted"] == 3
    assert counted.json()["scores"]["park"] == 3
    assert counted.json()["result"]["spoiled"] == []

    key = admin.get("/api/v1/log/key").json()["verifier_key"]
    checked = veche("verify", url, "--key", key, "--state", str(tmp_path / "state"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
