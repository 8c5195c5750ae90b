"""Both voters' clients against a real ``veche serve`` behind a proxy on 127.0.0.1 that
records every request and, when told, lies (docs/protocol.md §7.5, §8.2, §8.3, §6.13):

- honest, both clients vote, and the ballot goes without a cookie on a connection other
  than the one that logged in and asked for the credential;
- answering a re-vote (dropped) with the first ballot's receipt, its digest rewritten to
  the new ballot's, each client refuses: the entry at ``seq`` is another ballot;
- serving another entry's bytes at the receipt's ``seq``, each client refuses: the bytes
  do not hash to the leaf hash;
- ``veche vote --check`` re-checks a wallet, and refuses when the log lies;
- a lost device: the recovery code on a second browser, and in ``veche vote``, gets the
  same credential (one ``credential.issued``), the earlier receipt still checks, the last
  ballot counts; a wrong code is refused and makes no second credential.

Screenshots of the credential step (the recovery code to save, "recover your credential")
in English and Russian at 390×844 and 1366×768 go to ``test-artifacts/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit.core.canonical import canonical_bytes
from ballot.core.client import Wallet
from kernel.db import make_engine
from tests.support.accounts import PASSWORD
from tests.support.elections import EARLY_CLOSE, config
from tests.support.paths import ARTIFACTS
from tests.support.proxy import Answer, Forward, Proxy, Seen, honest, running_proxy
from tests.support.server import LiveServer, admin_client, veche
from veche.setup import NewUser, create_user

pytestmark = pytest.mark.browser

SIZES = {"phone": (390, 844), "laptop": (1366, 768)}
ELECTION = "centre-2026"


# --- lies ------------------------------------------------------------------------------------


def is_cast(seen: Seen) -> bool:
    return seen.method == "POST" and seen.path.endswith("/ballots")


class ReplayFirstReceipt:
    """Forward the first ballot; drop every later one and answer it with the first
    ballot's receipt, its ``ballot_digest`` rewritten to the dropped ballot's."""

    def __init__(self) -> None:
        self.first: dict[str, Any] | None = None
        self.dropped: list[dict[str, Any]] = []

    def __call__(self, seen: Seen, forward: Forward) -> Answer:
        if not is_cast(seen):
            return forward()
        if self.first is None:
            answer = forward()
            if answer.status == 201:
                self.first = answer.json()
            return answer
        cast = json.loads(seen.body)
        self.dropped.append(cast)
        digest = hashlib.sha256(canonical_bytes(cast)).hexdigest()
        body = json.dumps({**self.first, "ballot_digest": digest}).encode()
        return Answer(201, [("content-type", "application/json")], body)


class OtherEntryAtSeq:
    """Forward everything, but serve the entry before a ballot's as the ballot's entry."""

    def __init__(self, upstream: str, every_entry: bool = False) -> None:
        self.upstream = upstream
        self.every_entry = every_entry
        self.casts: set[int] = set()

    def __call__(self, seen: Seen, forward: Forward) -> Answer:
        if seen.method == "GET" and seen.path.startswith("/api/v1/log/entries?start="):
            start = int(seen.path.split("start=")[1].split("&")[0])
            if start in self.casts or self.every_entry:
                before = f"/api/v1/log/entries?start={start - 1}&end={start}"
                moved = httpx.get(self.upstream + before)
                return Answer(200, [("content-type", "application/x-ndjson")], moved.content)
        answer = forward()
        if is_cast(seen) and answer.status == 201:
            self.casts.add(int(answer.json()["seq"]))
        return answer


class RefuseCast:
    """Answer every ballot with a refusal of the given code and sentence."""

    def __init__(self, code: str, detail: str) -> None:
        self.body = json.dumps({"error": code, "detail": detail}).encode()

    def __call__(self, seen: Seen, forward: Forward) -> Answer:
        if is_cast(seen):
            return Answer(422, [("content-type", "application/json")], self.body)
        return forward()


# --- set-up ----------------------------------------------------------------------------------


@pytest.fixture(name="proxy")
def fx_proxy(live_server: LiveServer) -> Iterator[Proxy]:
    with running_proxy(live_server.url) as proxy:
        yield proxy


def open_mixed_election(server: LiveServer, roll: int = 2) -> list[str]:
    """A roll election: Olga and Vera on the roll by their confirmed e-mail addresses (they
    log in), and ``roll`` entries with one-time access codes; those codes. The codes are
    made while a draft: the roll and its codes freeze when the election opens."""
    engine = make_engine(server.settings)
    try:
        for name in ("olga", "vera"):
            create_user(
                server.settings,
                engine,
                NewUser(f"{name}@example.org", PASSWORD, name.title(), "resident", "centre", True),
            )
    finally:
        engine.dispose()
    with closing(admin_client(server.url, server.settings)) as admin:
        assert admin.post("/api/v1/elections", json=config(ELECTION)).status_code == 201
        rows = "voter_id,email\nolga,olga@example.org\nvera,vera@example.org\n"
        rows += "".join(f"R{n},\n" for n in range(roll))
        made = admin.post(
            f"/api/v1/elections/{ELECTION}/roll",
            content=rows.encode(),
            headers={"content-type": "text/csv"},
        )
        assert made.status_code == 201, made.text
        codes = admin.post(f"/api/v1/elections/{ELECTION}/access-codes").text
        assert admin.post(f"/api/v1/elections/{ELECTION}/open").status_code == 200
    lines = [line.split(",") for line in codes.strip().split("\n")[1:]]
    return [code for ref, code in lines if ref.startswith("R")]


def vote(url: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_DATA_HOME": str(home), "VECHE_PASSWORD": PASSWORD}
    return veche("vote", url, "--election", ELECTION, "--allow-test-keys", *args, env=env)


def cookie_connections(proxy: Proxy) -> set[int]:
    return {s.connection for s in proxy.seen if "cookie" in s.headers}


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"pages-{name}-{size}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})


def issued_entries(url: str) -> int:
    lines = httpx.get(f"{url}/api/v1/log/entries?start=0").content.split(b"\n")[:-1]
    return sum(json.loads(line)["kind"] == "credential.issued" for line in lines)


# --- veche vote --------------------------------------------------------------------------------


@pytest.mark.slow
def test_veche_vote_behind_a_lying_proxy(
    live_server: LiveServer, proxy: Proxy, tmp_path: Path
) -> None:
    open_mixed_election(live_server)
    home = tmp_path / "home"
    wallet_path = tmp_path / "vera.json"
    replay = ReplayFirstReceipt()
    proxy.lie = replay

    # Honest (the first ballot goes through), with the default random delay.
    first = vote(
        proxy.url, "--email", "vera@example.org", "--approve", "park", "--wallet",
        str(wallet_path), home=home,
    )  # fmt: skip
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Your recovery code: " in first.stdout
    assert "the entry holds your ballot and signature" in first.stdout
    wallet = Wallet.load(wallet_path)
    assert wallet.recovery_code is not None and wallet.recovery_code in first.stdout
    assert wallet.receipts[0]["cast"]["ballot"]["credential"] == wallet.credential

    # The cast carried no cookie, on a connection of its own.
    login = [s for s in proxy.seen if s.path == "/api/v1/auth/login"]
    credential = [s for s in proxy.seen if s.path.endswith("/credentials")]
    casts = [s for s in proxy.seen if is_cast(s)]
    assert len(login) == len(credential) == len(casts) == 1
    assert "cookie" in credential[0].headers and "x-csrf-token" in credential[0].headers
    assert credential[0].connection == login[0].connection
    assert "cookie" not in casts[0].headers and "x-csrf-token" not in casts[0].headers
    assert casts[0].connection != login[0].connection
    assert casts[0].connection not in cookie_connections(proxy)

    # A re-vote answered with the first receipt: refused, naming what did not match.
    lied = vote(proxy.url, "--approve", "library", "--wallet", str(wallet_path), home=home)
    assert lied.returncode == 1
    assert "not_your_ballot" in lied.stderr and "holds another ballot" in lied.stderr
    assert "Traceback" not in lied.stderr
    assert len(replay.dropped) == 1
    assert len(Wallet.load(wallet_path).receipts) == 1

    # Another entry's bytes at the ballot's seq: refused.
    proxy.lie = OtherEntryAtSeq(live_server.url)
    moved = vote(proxy.url, "--approve", "playground", "--wallet", str(wallet_path), home=home)
    assert moved.returncode == 1
    assert "entry_mismatch" in moved.stderr and "leaf hash" in moved.stderr

    # Honest again: the re-vote goes through; later, --check re-checks every receipt.
    proxy.lie = honest
    again = vote(proxy.url, "--approve", "library", "--wallet", str(wallet_path), home=home)
    assert again.returncode == 0, again.stderr
    checked = vote(proxy.url, "--check", "--wallet", str(wallet_path), home=home)
    assert checked.returncode == 0, checked.stderr
    assert "All 2 receipts" in checked.stdout
    # A log that now serves other bytes for every entry fails the check of each receipt.
    proxy.lie = OtherEntryAtSeq(live_server.url, every_entry=True)
    refused = vote(proxy.url, "--check", "--wallet", str(wallet_path), home=home)
    assert refused.returncode == 1
    assert refused.stderr.count("entry_mismatch") == 2
    # A log key other than the one the wallet pinned is refused before anything is asked.
    other_key = "other.example/log+00000000+AQ" + "A" * 42
    pinned = vote(
        proxy.url, "--check", "--wallet", str(wallet_path), "--log-key", other_key, home=home
    )
    assert pinned.returncode == 1 and "pinned" in pinned.stderr


# --- the ballot page -----------------------------------------------------------------------------


def get_credential_and_confirm(page: Any, shot: str | None = None) -> str:
    """Click "Get my voting credential", read the recovery code, confirm it; the code."""
    page.get_by_role("button", name="Get my voting credential").click()
    page.locator("#recovery-code").wait_for()
    code = page.locator("#recovery-code").inner_text()
    assert page.locator("#cast").is_disabled()
    if shot:
        shoot(page, shot)
    page.get_by_label("type the code's last group").fill("XXXX")
    page.get_by_role("button", name="I have saved my recovery code").click()
    page.locator("#recovery-confirm-error").get_by_text("not the last group").wait_for()
    assert page.locator("#cast").is_disabled()
    page.get_by_label("type the code's last group").fill(code.split("-")[-1].lower())
    page.get_by_role("button", name="I have saved my recovery code").click()
    page.locator("#wallet-status").get_by_text("kept in this browser").wait_for()
    assert not page.locator("#cast").is_disabled()
    return str(code)


@pytest.mark.slow
def test_the_ballot_page_behind_a_lying_proxy(
    browser: Any, live_server: LiveServer, proxy: Proxy
) -> None:
    open_mixed_election(live_server)
    replay = ReplayFirstReceipt()
    proxy.lie = replay
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(proxy.url + f"/login?next=/elections/{ELECTION}")
        page.get_by_label("E-mail address").fill("olga@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"**/elections/{ELECTION}")
        page.locator("#wallet-status").get_by_text("no voting credential").wait_for()
        get_credential_and_confirm(page, shot="recovery-code")

        page.get_by_label("Park").check()
        page.get_by_role("button", name="Cast my ballot").click()
        page.locator("#receipt-status").get_by_text("Your ballot is in the log").wait_for()
        receipt = json.loads(page.locator("#receipt-text").input_value())
        assert receipt["cast"]["ballot"]["election"] == receipt["election"]

        # The re-vote is dropped and answered with the first receipt: the page says so.
        page.get_by_label("Park").uncheck()
        page.get_by_label("Library").check()
        page.get_by_role("button", name="Cast my ballot").click()
        page.locator("#ballot-error").get_by_text("holds another ballot").wait_for()
        assert len(replay.dropped) == 1

        # Another entry's bytes at the ballot's seq.
        proxy.lie = OtherEntryAtSeq(live_server.url)
        page.get_by_role("button", name="Cast my ballot").click()
        page.locator("#ballot-error").get_by_text("not the one it proves").wait_for()

        # Honest: the re-vote's receipt checks.
        proxy.lie = honest
        page.get_by_role("button", name="Cast my ballot").click()
        page.wait_for_function(
            "seq => JSON.parse(document.getElementById('receipt-text').value).seq > seq",
            arg=receipt["seq"],
        )
        assert page.locator("#ballot-error").inner_text() == ""
    finally:
        context.close()
    assert errors == []

    # Every ballot went without a cookie, on connections that never carried one.
    casts = [s for s in proxy.seen if is_cast(s)]
    login = [s for s in proxy.seen if s.method == "POST" and s.path.startswith("/login")]
    # Five: the first, the dropped re-vote, the re-vote proved by another entry's bytes
    # (the server logged it as ballot 2), then the honest one twice: as number 2, refused
    # (wrong_counter), and once more with the number the server gave (§7.11).
    assert len(casts) == 5 and len(login) == 1
    assert not any("cookie" in s.headers or "referer" in s.headers for s in casts)
    assert not {s.connection for s in casts} & cookie_connections(proxy)
    assert login[0].connection not in {s.connection for s in casts}


@pytest.mark.slow
def test_a_lost_device_gets_the_same_credential_back(
    browser: Any, live_server: LiveServer, proxy: Proxy, tmp_path: Path
) -> None:
    codes = open_mixed_election(live_server)
    url = proxy.url
    errors: list[str] = []

    def new_device(locale: str = "en-GB") -> Any:
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale=locale, accept_downloads=True
        )
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{url}/elections/{ELECTION}")
        page.locator("#credential-actions").wait_for()
        return context, page

    def saved_wallet(page: Any) -> dict[str, Any]:
        with page.expect_download() as download:
            page.get_by_role("button", name="Save my credential to a file").click()
        return dict(json.loads(Path(download.value.path()).read_text("utf-8")))

    first_context, first = new_device()
    try:
        first.get_by_label("Access code").fill(codes[0])
        first.get_by_role("button", name="Get a credential with this code").click()
        first.locator("#recovery-code").wait_for()
        recovery = first.locator("#recovery-code").inner_text()
        first.get_by_label("type the code's last group").fill(recovery[-4:])
        first.get_by_role("button", name="I have saved my recovery code").click()
        first.get_by_label("Park").check()
        first.get_by_role("button", name="Cast my ballot").click()
        first.locator("#receipt-status").get_by_text("Your ballot is in the log").wait_for()
        kept = json.loads(first.locator("#receipt-text").input_value())
        lost = saved_wallet(first)
    finally:
        first_context.close()  # the device is lost
    assert lost["recovery_code"] == recovery
    assert issued_entries(live_server.url) == 1

    second_context, second = new_device()
    try:
        # A wrong code first: refused by the server, no second credential.
        second.locator("#recover summary").click()
        second.get_by_label("Access code").fill(codes[0])
        second.get_by_label("Recovery code", exact=True).fill("ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345")
        shoot(second, "recover")
        second.get_by_role("button", name="Recover my credential").click()
        second.locator("#ballot-error").get_by_text("not the recovery code of your").wait_for()
        assert issued_entries(live_server.url) == 1
        assert second.locator("#cast").is_disabled()
        # A mistyped code is refused before anything is sent.
        second.get_by_label("Recovery code", exact=True).fill("ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-234O")
        second.get_by_role("button", name="Recover my credential").click()
        second.locator("#ballot-error").get_by_text("28 letters and digits").wait_for()
        # The right code, typed in lower case with spaces.
        second.get_by_label("Recovery code", exact=True).fill(recovery.lower().replace("-", " "))
        second.get_by_role("button", name="Recover my credential").click()
        second.locator("#wallet-status").get_by_text("Your credential is back").wait_for()
        assert not second.locator("#cast").is_disabled()
        second.get_by_label("Library").check()
        second.get_by_role("button", name="Cast my ballot").click()
        second.locator("#receipt-status").get_by_text("Your ballot is in the log").wait_for()
        recovered = saved_wallet(second)

        # The earlier ballot's receipt, kept from the lost device, still checks.
        second.goto(f"{url}/check")
        second.get_by_label("Receipt", exact=True).fill(json.dumps(kept))
        second.get_by_role("button", name="Check").click()
        second.locator("#check-result .ok").wait_for()
        assert "is your ballot with your signature" in second.locator("#check-result").inner_text()
        shoot(second, "check-own-ballot")
    finally:
        second_context.close()
    assert recovered["credential_private"] == lost["credential_private"]
    assert recovered["token"] == lost["token"]
    assert issued_entries(live_server.url) == 1

    # The command-line client derives the same credential from the same code.
    wallet_path = tmp_path / "cli.json"
    cli = vote(
        url, "--code", codes[0], "--recovery-code", recovery, "--approve", "playground",
        "--delay", "0", "--wallet", str(wallet_path), home=tmp_path / "home",
    )  # fmt: skip
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "Your recovery code" not in cli.stdout  # not a new one
    assert Wallet.load(wallet_path).credential_private == lost["credential_private"]
    assert issued_entries(live_server.url) == 1

    # One credential, three ballots: the last one counts.
    with closing(admin_client(live_server.url, live_server.settings)) as admin:
        closed = admin.post(f"/api/v1/elections/{ELECTION}/close", json=EARLY_CLOSE)
        assert closed.status_code == 200, closed.text
        tallied = admin.post(f"/api/v1/elections/{ELECTION}/tally")
        assert tallied.status_code == 201, tallied.text
        result = tallied.json()
    assert (result["counted"], result["superseded"]) == (1, 2)
    assert result["scores"]["playground"] == 1
    assert not result["scores"].get("park") and not result["scores"].get("library")
    assert errors == []


def test_the_credential_step_in_russian(
    browser: Any, live_server: LiveServer, proxy: Proxy
) -> None:
    codes = open_mixed_election(live_server)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{proxy.url}/elections/{ELECTION}")
        page.locator("#credential-actions").wait_for()
        page.locator("#recover summary").click()
        shoot(page, "recover-ru")
        page.get_by_label("Код доступа").fill(codes[1])
        page.get_by_role("button", name="Получить ключ по этому коду").click()
        page.locator("#recovery-code").wait_for()
        assert page.locator("#cast").is_disabled()
        shoot(page, "recovery-code-ru")
        code = page.locator("#recovery-code").inner_text()
        page.get_by_label("последнюю группу").fill(code[-4:])
        page.get_by_role("button", name="Код восстановления сохранён").click()
        page.locator("#wallet-status").get_by_text("хранится в этом браузере").wait_for()
        assert not page.locator("#cast").is_disabled()

        # A refusal the page has no words for (a newer server's, say): what to do in
        # Russian, the server's English sentence folded under "technical details".
        proxy.lie = RefuseCast("rule_of_tomorrow", "A rule this page does not know refused it.")
        page.get_by_label("Park").check()
        page.get_by_role("button", name="Отправить бюллетень").click()
        box = page.locator("#ballot-error")
        box.get_by_text("Не получилось. Попробуйте ещё раз").wait_for()
        assert not box.get_by_text("A rule this page does not know").is_visible()
        box.get_by_text("Технические подробности (на английском)").click()
        assert box.locator("code").inner_text() == "A rule this page does not know refused it."
        assert box.locator("code").get_attribute("lang") == "en"
        shoot(page, "refused-ru")
        proxy.lie = honest

        page.goto(f"{proxy.url}/check")
        shoot(page, "check-ru")
    finally:
        context.close()
    assert errors == []


@pytest.mark.parametrize("locale", ["en-GB", "ru-RU"])
def test_check_without_javascript_shows_receipts_never_the_key(
    browser: Any, live_server: LiveServer, tmp_path: Path, locale: str
) -> None:
    codes = open_mixed_election(live_server)
    wallet_path = tmp_path / "wallet.json"
    for choice in ("park", "library"):
        done = vote(
            live_server.url, "--code", codes[0], "--approve", choice, "--delay", "0",
            "--wallet", str(wallet_path), home=tmp_path / "home",
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    wallet = Wallet.load(wallet_path)
    assert wallet.recovery_code is not None
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale=locale, java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/check")
        page.locator("#receipt").fill(wallet_path.read_text("utf-8"))
        page.locator("#check-form button[type=submit]").click()
        page.locator("#check-result .ok").first.wait_for()
        html = page.content()
        assert page.locator("#check-result .ok").count() == 2
        assert wallet.credential_private not in html
        assert wallet.recovery_code not in html
        assert page.locator("#check-result .notice").count() == 1
        shoot(page, f"check-nojs-wallet-{locale[:2]}")
        page.locator("#receipt").fill("[" * 5000 + "]" * 5000)
        with page.expect_response(lambda r: r.url.endswith("/check")) as answered:
            page.locator("#check-form button[type=submit]").click()
        assert answered.value.status == 400
        page.locator("#check-result .error").wait_for()
    finally:
        context.close()
