"""Attacks on the reports' figures. An operator who edits the report rows (answered in
time, better ratings) changes nothing the public sees: the statistics come from the
log. An operator who holds the authority key and rewrites the log itself (an answer
back-dated into the deadline, a rating without an answer, a step of a report never
received), re-chained and re-signed so that it verifies as a log, is caught by the
reports' check of ``veche verify`` (docs/protocol.md §16.6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from sqlalchemy import text

from audit.core.export import KeyInfo
from audit.core.verify import verify_log
from kernel.settings import Settings
from reports.core.verify import verify_reports
from tests.support.accounts import Client
from tests.support.forge import read_entries, rechain
from tests.support.proposals import Actor
from tests.support.reports import answer, report, setup_reports
from veche.commands import export_local_log
from veche.kinds import entry_kinds


@pytest.fixture(name="people")
def fx_people(client: Client, app: Litestar, settings: Settings) -> dict[str, Actor]:
    return setup_reports(client, app, settings)


def _answered_and_rated(people: dict[str, Actor], rating: int) -> str:
    rid = str(report(people["resident"])["id"])
    assert answer(people["roads"], rid).status_code == 200
    body = {"rating": rating, "comment": "" if rating >= 3 else "No"}
    assert people["resident"].call("POST", f"/api/v1/reports/{rid}/rate", body).status_code == 200
    return rid


def test_edited_rows_do_not_change_the_published_figures(
    people: dict[str, Actor], app: Litestar, client: Client
) -> None:
    rid = _answered_and_rated(people, 1)
    honest = client.get("/api/v1/reports/statistics").json()
    assert honest["average_rating"] == "1/1" and honest["reopen_rate"] == "1/1"
    with app.state.engine.begin() as connection:
        connection.execute(
            text("UPDATE report SET rating = 5, reopened = 0, status = 'closed' WHERE id = :id"),
            {"id": rid},
        )
        # The kind column is an index only: relabelling the rating's row hides nothing.
        connection.execute(
            text("UPDATE log_entry SET kind = 'notice.published' WHERE kind = 'report.rated'")
        )
    assert client.get("/api/v1/reports/statistics").json() == honest


def _forge(
    app: Litestar, settings: Settings, tmp_path: Path, change: Any
) -> tuple[bool, list[str]]:
    export_local_log(settings, tmp_path / "honest")
    entries = read_entries(tmp_path / "honest")
    change(entries)
    directory = rechain(entries, app.state.authority_key, settings.origin, tmp_path / "forged")
    key = KeyInfo.from_private_key(settings.origin, app.state.authority_key).verifier_key
    assert verify_log(directory, pinned_verifier_key=key, kinds=entry_kinds()).ok
    lines = (directory / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    ok, summary, _document = verify_reports(lines)
    return ok, summary


def _of(entries: list[dict[str, Any]], kind: str) -> list[int]:
    return [i for i, e in enumerate(entries) if e["kind"] == kind]


def test_a_rating_without_an_answer_is_caught(
    people: dict[str, Actor], app: Litestar, settings: Settings, tmp_path: Path
) -> None:
    _answered_and_rated(people, 5)

    def drop_the_answer(entries: list[dict[str, Any]]) -> None:
        del entries[_of(entries, "report.answered")[0]]

    ok, summary = _forge(app, settings, tmp_path, drop_the_answer)
    assert not ok and "cannot go from received to closed" in summary[0]


def test_a_step_of_a_report_never_received_is_caught(
    people: dict[str, Actor], app: Litestar, settings: Settings, tmp_path: Path
) -> None:
    _answered_and_rated(people, 5)

    def drop_the_receipt(entries: list[dict[str, Any]]) -> None:
        del entries[_of(entries, "report.received")[0]]

    ok, summary = _forge(app, settings, tmp_path, drop_the_receipt)
    assert not ok and "never received" in summary[0]


def test_an_answer_dated_before_the_receipt_is_caught(
    people: dict[str, Actor], app: Litestar, settings: Settings, tmp_path: Path
) -> None:
    _answered_and_rated(people, 5)

    def back_date(entries: list[dict[str, Any]]) -> None:
        at = _of(entries, "report.answered")[0]
        entries[at]["body"] = {**entries[at]["body"], "at": 0}

    ok, summary = _forge(app, settings, tmp_path, back_date)
    assert not ok and "dated before the report was received" in summary[0]


def test_an_honest_export_checks_out(
    people: dict[str, Actor], app: Litestar, settings: Settings, tmp_path: Path
) -> None:
    _answered_and_rated(people, 2)
    ok, summary = _forge(app, settings, tmp_path, lambda entries: None)
    assert ok, summary
