"""Witnesses as separate processes (docs/protocol.md §15): two ``veche witness serve``
cosign the log server's checkpoints; after the operator forks the log, they refuse, and
``veche verify`` with a policy of both names the fork."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from audit.core.cosignature import check_cosignatures, parse_witness_key
from audit.core.export import KeyInfo
from audit.core.note import parse_note
from audit.core.witness import render_add_checkpoint
from audit.services.models import LogCheckpoint, LogCosignature, LogEntry, LogHead, LogNode
from audit.services.store import LogStore
from ballot.core.client import ClientError, VoterClient
from kernel.db import make_engine
from kernel.keys import load_authority_key
from kernel.settings import Settings
from tests.support.server import (
    admin_client,
    open_code_election,
    start_server,
    stop_server,
    veche,
)
from tests.support.settings import FAST
from tests.support.witnesses import start_witness
from veche.kinds import entry_kinds
from veche.setup import initialize

KINDS = entry_kinds()


@pytest.fixture(name="witnessed")
def fx_witnessed(tmp_path: Path) -> Iterator[tuple[Settings, str, list[tuple[str, str]]]]:
    """Two witness processes of the deployment's log, and the deployment configured with
    both and a policy of two (the test starts its server)."""
    settings = Settings(data_dir=tmp_path / "var", **FAST)  # type: ignore[arg-type]
    initialize(settings).dispose()
    info = KeyInfo.from_private_key(settings.origin, load_authority_key(settings.keys_dir))
    processes: list[subprocess.Popen[Any]] = []
    witnesses: list[tuple[str, str]] = []
    try:
        for name in ("a", "b"):
            process, url, vkey = start_witness(tmp_path, name, settings.origin, info.verifier_key)
            processes.append(process)
            witnesses.append((url, vkey))
        entries = ", ".join(f'"{url} {vkey}"' for url, vkey in witnesses)
        (settings.data_dir / "veche.toml").write_text(
            f"witnesses = [{entries}]\nwitness_policy = 2\nwitness_interval_ms = 20\n"
            "witness_receipt_wait_ms = 5000\n",
            encoding="utf-8",
        )
        yield settings, info.verifier_key, witnesses
    finally:
        for process in processes:
            stop_server(process)


def _post(client: httpx.Client, title: str) -> dict[str, object]:
    response = client.post("/api/v1/log/notices", json={"title": title, "text": "t", "lang": "en"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _served(url: str, size: int) -> str:
    """The served checkpoint once it covers ``size`` entries (cosigning is asynchronous)."""
    deadline = time.monotonic() + 30
    note = ""
    while time.monotonic() < deadline:
        note = httpx.get(f"{url}/api/v1/log/checkpoint").text
        if int(parse_note(note).text.split("\n")[1]) >= size:
            return note
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint of size {size} served; last:\n{note}")


def test_two_witnesses_cosign_then_refuse_a_fork(
    witnessed: tuple[Settings, str, list[tuple[str, str]]], tmp_path: Path
) -> None:
    settings, log_vkey, witnesses = witnessed
    servers: list[subprocess.Popen[bytes]] = []
    try:
        _cosign_then_fork(servers, settings, log_vkey, witnesses, tmp_path)
    finally:
        for server in servers:
            stop_server(server)


def _cosign_then_fork(
    servers: list[subprocess.Popen[bytes]],
    settings: Settings,
    log_vkey: str,
    witnesses: list[tuple[str, str]],
    tmp_path: Path,
) -> None:
    server, url = start_server(settings)
    servers.append(server)
    trusted = [parse_witness_key(vkey) for _url, vkey in witnesses]
    policy = ["--witness", witnesses[0][1], "--witness", witnesses[1][1], "--witness-policy", "2"]
    with closing(admin_client(url, settings)) as client:
        for n in range(5):
            _post(client, f"notice {n}")
        codes = open_code_election(client, "witnessed", 2)
    with httpx.Client(base_url=url, timeout=60) as http:
        # The voter's client requires both witnesses: its cast waits for a cosigned
        # checkpoint that covers the ballot.
        voter = VoterClient(http, witnesses=trusted, witness_policy=2)
        info = voter.election("witnessed", allow_test_keys=True)
        wallet = voter.obtain_credential(info, access_code=codes[0])
        receipt = voter.cast(info, wallet, {"approve": ["park"]})
        assert voter.witnessed_receipt(receipt).size > int(receipt["seq"])
    # The server waited for the witnesses: the receipt carries a cosigned checkpoint.
    assert check_cosignatures(str(receipt["checkpoint"]), trusted, 2).ok
    # The same policy from the command line.
    voted = veche(
        "vote",
        url,
        "--election",
        "witnessed",
        "--approve",
        "park",
        "--code",
        codes[1],
        "--delay",
        "0",
        "--allow-test-keys",
        "--wallet",
        str(tmp_path / "wallet.json"),
        *policy,
    )
    assert voted.returncode == 0, voted.stdout + voted.stderr
    assert "cosigned by at least 2 of the 2 witnesses" in voted.stdout
    checked = veche(
        "vote",
        url,
        "--election",
        "witnessed",
        "--check",
        "--wallet",
        str(tmp_path / "wallet.json"),
        *policy,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    note = _served(url, int(receipt["size"]))
    size = int(parse_note(note).text.split("\n")[1])
    check = check_cosignatures(note, trusted, 2)
    assert check.ok, check.describe()
    assert note.count("\u2014 witness.test/") == 2

    state = tmp_path / "state"
    good = veche("verify", url, "--key", log_vkey, "--state", str(state), *policy)
    assert good.returncode == 0, good.stdout + good.stderr

    # The operator forks the log after the witnessed checkpoint: stops its server,
    # rewrites the log from its genesis with the real key, notice 2 now saying something
    # else, a few entries more than the witnessed size (and drops the cosignatures), and
    # starts its server again.
    stop_server(server)
    engine = make_engine(settings)
    with engine.begin() as conn:
        for table in (LogEntry, LogNode, LogCheckpoint, LogHead, LogCosignature):
            conn.execute(delete(table))
    store = LogStore(engine, load_authority_key(settings.keys_dir), settings.origin, KINDS)
    store.ensure_genesis()
    for n in range(size + 2):
        title = "the hearing is cancelled" if n == 2 else f"notice {n}"
        store.append_now(
            lambda db, log, title=title: log.append(
                "notice.published", {"title": title, "text": "t", "lang": "en"}
            )
        )
    with store.read_sessions() as db, db.begin():
        forked = store.latest_checkpoint(db)
        assert forked is not None
        proof = store.consistency_proof(db, size, forked.size)
    engine.dispose()
    server, url = start_server(settings)
    servers.append(server)

    # The server appends again and asks the witnesses: they refuse.
    with closing(admin_client(url, settings)) as client:
        _post(client, "after the fork")
    time.sleep(0.5)
    note = httpx.get(f"{url}/api/v1/log/checkpoint").text
    assert not check_cosignatures(note, trusted, 2).ok
    # Asked directly with the forked checkpoint, each witness answers as the spec says:
    # 422 for a proof from the size it holds, 409 (its size as text/x.tlog.size) otherwise.
    for witness_url, _vkey in witnesses:
        bad = httpx.post(
            f"{witness_url}/add-checkpoint",
            content=render_add_checkpoint(size, proof, forked.note),
        )
        assert bad.status_code == 422, bad.text
        stale = httpx.post(
            f"{witness_url}/add-checkpoint", content=render_add_checkpoint(0, [], forked.note)
        )
        assert stale.status_code == 409
        assert stale.headers["content-type"] == "text/x.tlog.size"
        assert stale.text == f"{size}\n"

    # The voter's client refuses the latest checkpoint, naming the missing witnesses.
    with httpx.Client(base_url=url, timeout=60) as http:
        voter = VoterClient(http, witnesses=trusted, witness_policy=2, witness_wait_ms=500)
        with pytest.raises(ClientError) as refused:
            voter.latest_checkpoint()
        assert refused.value.code == "witness_missing"
        assert "witness.test/a" in refused.value.detail

    caught = veche("verify", url, "--key", log_vkey, "--no-state", *policy)
    assert caught.returncode == 1, caught.stdout
    assert "witness_cosignatures" in caught.stdout
    assert "missing: witness.test/a, witness.test/b" in caught.stdout
    assert "fork" in caught.stdout
    remembered = veche("verify", url, "--key", log_vkey, "--state", str(state), *policy)
    assert remembered.returncode == 1
    assert "history_rewritten" in remembered.stdout
    # Without the witness policy the forked log is self-consistent: the witnesses are
    # what catches it.
    plain = veche("verify", url, "--key", log_vkey, "--no-state")
    assert plain.returncode == 0, plain.stdout


def test_bench_witness_prints_both_figures() -> None:
    done = veche("bench", "witness", "--samples", "3")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "append alone" in done.stdout
    assert "append + cosigning round" in done.stdout
