"""The log against real server processes: concurrent appenders, two servers on one
PostgreSQL, and ``veche export`` / ``veche verify`` catching a rewritten history."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete

from audit.services.models import LogCheckpoint, LogEntry, LogHead, LogNode
from audit.services.store import LogStore
from kernel.db import make_engine
from kernel.keys import load_authority_key
from kernel.settings import Settings
from tests.support.elections import EARLY_CLOSE
from tests.support.server import (
    LiveServer,
    admin_client,
    open_code_election,
    start_server,
    stop_server,
    veche,
)
from tests.support.settings import FAST
from veche.kinds import entry_kinds
from veche.pgtemp import TempCluster
from veche.setup import initialize

KINDS = entry_kinds()


def post_notices(clients: list[httpx.Client], count: int, threads: int) -> list[dict[str, object]]:
    def one(n: int) -> dict[str, object]:
        client = clients[n % len(clients)]
        response = client.post(
            "/api/v1/log/notices", json={"title": f"notice {n}", "text": "t", "lang": "en"}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


def check_log(url: str, tmp_path: Path, receipts: list[dict[str, object]]) -> None:
    export = tmp_path / "export"
    done = veche("export", "log", str(export), "--url", url)
    assert done.returncode == 0, done.stderr
    lines = (export / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    verified = veche("verify", str(export), "--no-state")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    seqs = [r["seq"] for r in receipts]
    assert len(set(seqs)) == len(seqs), "a seq was acknowledged twice"
    assert len(lines) == len(receipts) + 1
    import hashlib

    for receipt in receipts:
        line = lines[int(receipt["seq"])]  # type: ignore[call-overload]
        assert hashlib.sha256(b"\x00" + line).hexdigest() == receipt["leaf_hash"]


@pytest.mark.slow
def test_concurrent_appenders_over_http(live_server: LiveServer, tmp_path: Path) -> None:
    with closing(admin_client(live_server.url, live_server.settings)) as client:
        receipts = post_notices([client], count=200, threads=32)
    check_log(live_server.url, tmp_path, receipts)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_servers_on_one_postgresql(pg_cluster: TempCluster, tmp_path: Path) -> None:
    url = pg_cluster.create_database()
    settings = Settings(data_dir=tmp_path / "var", database_url=url, **FAST)  # type: ignore[arg-type]
    initialize(settings).dispose()
    first, first_url = start_server(settings, workers=2)
    second, second_url = start_server(settings)
    try:
        with (
            closing(admin_client(first_url, settings)) as one,
            closing(admin_client(second_url, settings)) as two,
        ):
            receipts = post_notices([one, two], count=300, threads=32)
        check_log(first_url, tmp_path, receipts)
    finally:
        stop_server(first)
        stop_server(second)


def test_verify_catches_a_rewritten_history(live_server: LiveServer, tmp_path: Path) -> None:
    settings = live_server.settings
    with closing(admin_client(live_server.url, settings)) as client:
        post_notices([client], count=5, threads=1)
        key = client.get("/api/v1/log/key").json()["verifier_key"]
    state = tmp_path / "state"
    first = veche("verify", live_server.url, "--key", key, "--state", str(state))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "RESULT: OK" in first.stdout

    # The operator rewrites the log from scratch with the real key: every signature
    # is valid, but notice 2 now says something else.
    engine = make_engine(settings)
    with engine.begin() as conn:
        for table in (LogEntry, LogNode, LogCheckpoint, LogHead):
            conn.execute(delete(table))
    store = LogStore(engine, load_authority_key(settings.keys_dir), settings.origin, KINDS)
    store.ensure_genesis()
    for n in range(7):
        title = "the hearing is cancelled" if n == 2 else f"notice {n}"
        store.append_now(
            lambda db, log, title=title: log.append(
                "notice.published", {"title": title, "text": "t", "lang": "en"}
            )
        )
    engine.dispose()

    fresh = veche("verify", live_server.url, "--key", key, "--no-state")
    assert fresh.returncode == 0, "without memory the rewritten log is self-consistent"
    caught = veche("verify", live_server.url, "--key", key, "--state", str(state))
    assert caught.returncode == 1
    assert "RESULT: FAILED" in caught.stdout
    as_json = veche("verify", live_server.url, "--key", key, "--state", str(state), "--json")
    assert as_json.returncode == 1
    assert '"ok": false' in as_json.stdout

    wrong_key = veche(
        "verify", live_server.url, "--key", "other.example/log+00000000+AQ" + "A" * 42, "--no-state"
    )
    assert wrong_key.returncode != 0


def test_cli_reports_bad_sources(tmp_path: Path) -> None:
    missing = veche("verify", str(tmp_path / "nothing"))
    assert missing.returncode == 2
    assert "neither a URL nor a directory" in missing.stderr
    unreachable = veche("verify", "http://127.0.0.1:9/", "--no-state")
    assert unreachable.returncode == 2
    assert "cannot reach" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    incomplete = veche("verify", str(empty), "--no-state")
    assert incomplete.returncode == 1
    assert "missing" in incomplete.stdout


@pytest.mark.slow
@pytest.mark.postgres
def test_ballots_through_two_servers_form_one_election(
    pg_cluster: TempCluster, tmp_path: Path
) -> None:
    """Voters spread over two servers (one with two workers) on one PostgreSQL."""
    from ballot.core.client import VoterClient

    settings = Settings(
        data_dir=tmp_path / "var", database_url=pg_cluster.create_database(), **FAST
    )  # type: ignore[arg-type]
    initialize(settings).dispose()
    first, first_url = start_server(settings, workers=2)
    second, second_url = start_server(settings)
    voters = 60
    try:
        with closing(admin_client(first_url, settings)) as admin:
            codes_list = open_code_election(admin, "two-servers", voters)

        def vote(n: int) -> int:
            url = (first_url, second_url)[n % 2]
            with httpx.Client(base_url=url, timeout=60) as http:
                voter = VoterClient(http)
                info = voter.election("two-servers", allow_test_keys=True)
                wallet = voter.obtain_credential(info, access_code=codes_list[n])
                return int(voter.cast(info, wallet, {"approve": ["park"]})["seq"])

        with ThreadPoolExecutor(16) as pool:
            seqs = list(pool.map(vote, range(voters)))
        assert len(set(seqs)) == voters
        with closing(admin_client(second_url, settings)) as admin:
            assert (
                admin.post("/api/v1/elections/two-servers/close", json=EARLY_CLOSE).status_code
                == 200
            )
            assert admin.post("/api/v1/elections/two-servers/tally").status_code == 201
        done = veche("verify", first_url, "--no-state", "--json")
        assert done.returncode == 0, done.stdout[-3000:]
        import json

        (summary,) = json.loads(done.stdout)["elections"]
        assert summary["counted"] == voters
        assert summary["results_checked"] == 1
    finally:
        stop_server(first)
        stop_server(second)
