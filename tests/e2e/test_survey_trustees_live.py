"""A survey with trustees against a real ``veche serve`` (docs/protocol.md §19, §14).

Two trustees, each with their own ``veche trustee`` file and process, run the key
ceremony of the survey of tests.support.surveys; a resident answers it in Chromium (the
browser seals the answers to the trustees' joint key), another with ``veche vote
--answers``, and a client that skips the answers' checks seals a ballot that answers the
hidden question. While the survey is open the server reads none of them; after the close
and one trustee's release the count is refused, after the second the ballots are opened:
the two honest ones are counted question by question, the third is spoiled with the code
of §19.2, and ``veche verify`` of the server's log agrees with all of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from ballot.core import ballot as ballot_module
from ballot.core.choices import SurveyChoices
from ballot.core.client import VoterClient
from kernel.settings import Settings
from tests.support.browser import answer_on_a_phone, phone
from tests.support.elections import EARLY_CLOSE
from tests.support.server import LiveServer, admin_client, veche
from tests.support.surveys import survey_config

pytestmark = pytest.mark.browser

ELECTION = "city-survey"
BY_COMMAND = {
    "cycle": "no",
    "parks": 3,
    "priorities": ["roads"],
    "transport": ["metro", "bus"],
    "projects": ["library"],
    "comment": "More benches",
}
# Answers the hidden question (lanes is asked only of those who cycle).
HIDDEN_ANSWERED = {**BY_COMMAND, "lanes": "Nowhere"}


def _ok(done: object) -> str:
    assert getattr(done, "returncode", 1) == 0, getattr(done, "stderr", "")
    return str(getattr(done, "stdout", ""))


def _open_with_trustees(admin: httpx.Client, url: str, files: list[Path]) -> list[str]:
    """The survey with the two trustees, its ceremony run by their commands, open; the
    roll's access codes."""
    members = [json.loads(_ok(veche("trustee", "show", str(p), "--json"))) for p in files]
    cfg = survey_config(ELECTION, trustees={"threshold": 2, "members": members})
    created = admin.post("/api/v1/elections", json=cfg)
    assert created.status_code == 201, created.text
    roll = admin.post(
        f"/api/v1/elections/{ELECTION}/roll",
        content=b"voter_id\nS1\nS2\nS3\n",
        headers={"content-type": "text/csv"},
    )
    assert roll.status_code == 201
    codes_csv = admin.post(f"/api/v1/elections/{ELECTION}/access-codes").text
    codes = [line.split(",")[1] for line in codes_csv.strip().split("\n")[1:]]
    common = ("--server", url, "--election", ELECTION)
    for path in files:
        _ok(veche("trustee", "deal", *common, "--key", str(path)))
    for path in files:
        _ok(veche("trustee", "ack", *common, "--key", str(path)))
    assert admin.post(f"/api/v1/elections/{ELECTION}/open").status_code == 200
    return codes


def _cast_unchecked(url: str, code: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """A client that seals whatever it is given: the server cannot read it before the
    count, so it takes the ballot. Returns the ballot's seq."""
    monkeypatch.setattr(
        ballot_module,
        "validate_choices",
        lambda _manifest, choices: SurveyChoices(answers=dict(choices["answers"])),
    )
    with httpx.Client(base_url=url, timeout=60) as http:
        voter = VoterClient(http)
        info = voter.election(ELECTION, allow_test_keys=True)
        wallet = voter.obtain_credential(info, access_code=code)
        receipt = voter.cast(info, wallet, {"answers": HIDDEN_ANSWERED})
    monkeypatch.undo()
    return int(receipt["seq"])


def test_a_survey_with_trustees_counts_the_browsers_ballot_after_the_release(
    live_server: LiveServer,
    settings: Settings,
    tmp_path: Path,
    browser: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = live_server.url
    files = [tmp_path / f"trustee-{j}.json" for j in (1, 2)]
    for j, path in enumerate(files, start=1):
        _ok(veche("trustee", "init", "--name", f"Trustee {j}", "--out", str(path)))
    admin = admin_client(url, settings)
    try:
        codes = _open_with_trustees(admin, url, files)
        manifest = admin.get(f"/api/v1/elections/{ELECTION}/manifest").json()["manifest"]
        assert manifest["v"] == 3 and manifest["ballot"]["kind"] == "survey"

        context = phone(browser, url)
        errors: list[str] = []
        try:
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            answer_on_a_phone(page, url, codes[0])
            page.locator("#cast").click()
            page.locator("#receipt-status").get_by_text("Ваш бюллетень в журнале").wait_for(
                timeout=20_000
            )
        finally:
            context.close()
        assert errors == []
        _ok(
            veche(
                "vote",
                url,
                "--election",
                ELECTION,
                "--code",
                codes[1],
                "--answers",
                json.dumps(BY_COMMAND),
                "--wallet",
                str(tmp_path / "wallet.json"),
                "--delay",
                "0",
                "--allow-test-keys",
            )
        )
        spoiled_seq = _cast_unchecked(url, codes[2], monkeypatch)
        # Nothing can be read before the trustees release their shares.
        early = admin.get(f"/api/v1/elections/{ELECTION}/answers")
        assert early.status_code == 409

        common = ("--server", url, "--election", ELECTION)
        assert (
            admin.post(f"/api/v1/elections/{ELECTION}/close", json=EARLY_CLOSE).status_code == 200
        )
        _ok(veche("trustee", "release", *common, "--key", str(files[0]), "--allow-test-keys"))
        refused = admin.post(f"/api/v1/elections/{ELECTION}/tally")
        assert refused.status_code == 409 and refused.json()["error"] == "not_unsealed"
        answers = admin.get(f"/api/v1/elections/{ELECTION}/answers")
        assert answers.status_code == 409 and answers.json()["error"] == "not_unsealed"
        _ok(veche("trustee", "release", *common, "--key", str(files[1]), "--allow-test-keys"))

        counted = admin.post(f"/api/v1/elections/{ELECTION}/tally")
        assert counted.status_code == 201, counted.text
        result = counted.json()["result"]
        assert counted.json()["counted"] == 2
        assert result["spoiled"] == [{"code": "hidden_question_answered", "seq": spoiled_seq}]
        questions = result["questions"]
        assert questions["cycle"] == {"answered": 2, "counts": {"no": 1, "yes": 1}}
        assert questions["lanes"] == {"answered": 1, "withheld": 0}
        assert questions["parks"]["sum"] == 10 and questions["parks"]["answered"] == 2
        assert questions["transport"]["first"] == {"bus": 0, "metro": 1, "tram": 1}
        assert questions["projects"]["scores"] == {"library": 1, "park": 1, "playground": 0}
        opened = admin.get(f"/api/v1/elections/{ELECTION}/answers").json()
        texts = sorted(row["answers"].get("lanes", "") for row in opened)
        assert texts == ["", "Along the river"]

        key = admin.get("/api/v1/log/key").json()["verifier_key"]
        checked = veche("verify", url, "--key", key, "--state", str(tmp_path / "state"))
        assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:
        admin.close()
