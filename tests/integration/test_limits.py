"""One account cannot flood the database, the disk or the log: proposal drafts, image
uploads and pledges are limited per account (429 with Retry-After and a sentence in the
reader's language), on SQLite and PostgreSQL, through the API and the pages.

The suite's deployment sets small limits, as an operator would in its settings.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from kernel.errors import TooManyRequests
from kernel.limits import Limit, RateEvent, take
from kernel.settings import Settings, SettingsError, load_settings
from tests.support.images import png
from tests.support.pages import HTML, csrf_from
from tests.support.proposals import Actor, program_body, proposal_body
from tests.support.settings import FAST

DRAFTS, UPLOADS, PLEDGES = 3, 2, 3


@pytest.fixture(name="settings")
def fx_settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        proposal_drafts_per_day=DRAFTS,
        uploads_per_hour=UPLOADS,
        pledges_per_hour=PLEDGES,
        **FAST,
    )


def refused_with_retry_after(answer: object, window: int) -> None:
    assert answer.status_code == 429, answer.text  # type: ignore[attr-defined]
    retry = int(answer.headers["retry-after"])  # type: ignore[attr-defined]
    assert 0 < retry <= window


def test_drafts_are_limited_per_account(people: dict[str, Actor]) -> None:
    program = people["admin"].call("POST", "/api/v1/programs", program_body()).json()["id"]
    author, other = people["author"], people["r1"]
    # Refused drafts (a missing title) are not counted.
    bad = author.call("POST", "/api/v1/proposals", proposal_body(program, category="Nope"))
    assert bad.status_code == 400
    for k in range(DRAFTS):
        made = author.call("POST", "/api/v1/proposals", proposal_body(program, title=f"P{k}"))
        assert made.status_code == 201, made.text
    over = author.call("POST", "/api/v1/proposals", proposal_body(program, title="One more"))
    refused_with_retry_after(over, 86400)
    assert over.json()["error"] == "too_many_requests"
    assert over.json()["detail"].startswith("You have started many proposals today.")
    # Another account is not held back by it.
    assert other.call("POST", "/api/v1/proposals", proposal_body(program)).status_code == 201
    # Nor is the page a way round it, and it says so in the reader's language.
    client = author.use()
    form = client.get("/proposals/new", headers={**HTML, "accept-language": "ru"})
    data = {
        "program": str(program),
        "title": "Через форму",
        "summary": "s",
        "description": "d",
        "category": "Parks",
        "district": "centre",
        "cost": "1000",
        "csrf_token": csrf_from(form.text),
    }
    page = client.post("/proposals/new", data=data, headers={**HTML, "accept-language": "ru"})
    refused_with_retry_after(page, 86400)
    assert "Вы начали много предложений сегодня" in page.text


def test_uploads_are_limited_per_account(people: dict[str, Actor]) -> None:
    program = people["admin"].call("POST", "/api/v1/programs", program_body()).json()["id"]
    author = people["author"]
    pid = author.call("POST", "/api/v1/proposals", proposal_body(program)).json()["id"]
    url = f"/api/v1/proposals/{pid}/images"

    def upload() -> object:
        client = author.use()
        return client.post(
            url,
            files={"file": ("p.png", png(4, 4), "image/png")},
            headers={"X-CSRF-Token": author.csrf},
        )

    for _ in range(UPLOADS):
        assert upload().status_code == 201  # type: ignore[attr-defined]
    over = upload()
    refused_with_retry_after(over, 3600)
    assert "uploaded many images" in over.json()["detail"]  # type: ignore[attr-defined]


def test_pledges_and_withdrawals_are_limited_per_account(people: dict[str, Actor]) -> None:
    admin = people["admin"]
    program = admin.call("POST", "/api/v1/programs", program_body()).json()["id"]
    pid = people["author"].call("POST", "/api/v1/proposals", proposal_body(program)).json()["id"]
    people["author"].call("POST", f"/api/v1/proposals/{pid}/submit")
    admin.call("POST", f"/api/v1/programs/{program}/phase", {"phase": "support"})
    pledger = people["r1"]
    url = f"/api/v1/proposals/{pid}/pledges"
    first = pledger.call("POST", url, {"amount": 1000})
    assert first.status_code == 201, first.text
    withdrawn = pledger.call("POST", f"{url}/{first.json()['id']}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    assert pledger.call("POST", url, {"amount": 1000}).status_code == 201
    over = pledger.call("POST", url, {"amount": 1000})
    refused_with_retry_after(over, 3600)
    assert over.json()["error"] == "too_many_requests"
    # The refused pledge left nothing behind.
    listed = pledger.call("GET", url).json()
    assert len(listed) == 2
    assert people["r2"].call("POST", url, {"amount": 1000}).status_code == 201


def test_the_window_slides_and_retry_after_says_when(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'limits.db'}")
    RateEvent.metadata.create_all(engine, tables=[RateEvent.__table__])  # type: ignore[attr-defined]
    limit = Limit("thing", 3, 10, "Too many things.")
    with Session(engine) as db:
        for moment in (100, 101, 102):
            take(db, limit, "account:1", now=moment)
        with pytest.raises(TooManyRequests) as caught:
            take(db, limit, "account:1", now=105)
        assert caught.value.retry_after == 5  # the use at 100 leaves the window at 110
        assert caught.value.detail == "Too many things."
        take(db, limit, "account:2", now=105)  # someone else
        take(db, limit, "account:1", now=110)  # the first use has left the window
        with pytest.raises(TooManyRequests):
            take(db, limit, "account:1", now=110)
        # No limit at all when the count is 0.
        for moment in range(20):
            take(db, Limit("free", 0, 10, "x"), "account:1", now=moment)


def test_negative_limits_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError):
        load_settings({"VECHE_DATA_DIR": str(tmp_path), "VECHE_UPLOADS_PER_HOUR": "-1"})
