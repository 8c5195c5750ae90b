"""Crash safety: a real server is flooded with ballots and killed with SIGKILL at random
moments, again and again, on SQLite and on PostgreSQL.

After every cycle and at the end: every ballot that got a receipt is in the log exactly
once, the chain verifies, and every checkpoint ever handed out is still the root of the
same-size prefix of the log (so the log never forked or lost a history it vouched for).

The suite runs a few cycles; ``VECHE_CRASH_CYCLES=30 pytest -m slow
tests/e2e/test_crash_safety.py`` runs the full 30 (see the README).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit.core.checkpoint import verify_checkpoint
from audit.core.entry import leaf_hash
from audit.core.merkle import mth
from ballot.core.client import ClientError, VoterClient
from kernel.settings import Settings
from tests.support.server import admin_client, open_code_election, start_server, stop_server, veche
from veche.setup import initialize

CYCLES = int(os.environ.get("VECHE_CRASH_CYCLES", "3"))
VOTERS_PER_CYCLE = 60


def prepare(settings: Settings, voters: int) -> tuple[str, list[str]]:
    initialize(settings).dispose()
    process, url = start_server(settings)
    try:
        with closing(admin_client(url, settings)) as admin:
            codes = open_code_election(admin, "crash-test", voters)
    finally:
        stop_server(process)
    return url, codes


def flood(
    url: str, codes: list[str], receipts: list[dict[str, Any]], stop: threading.Event
) -> None:
    """Vote with each code until the server dies; keep every receipt received."""
    with httpx.Client(base_url=url, timeout=10) as http:
        voter = VoterClient(http)
        try:
            info = voter.election("crash-test", allow_test_keys=True)
        except (httpx.HTTPError, ClientError):
            return
        for code in codes:
            if stop.is_set():
                return
            try:
                wallet = voter.obtain_credential(info, access_code=code)
                receipts.append(voter.cast(info, wallet, {"approve": ["park"]}))
            except ClientError:
                continue  # e.g. the credential was issued just before a crash: that voter is out
            except httpx.HTTPError:
                return  # the server is gone


def check_log(url: str, tmp: Path, receipts: list[dict[str, Any]], key: str) -> int:
    export = tmp / f"export-{time.monotonic_ns()}"
    done = veche("export", "log", str(export), "--url", url)
    assert done.returncode == 0, done.stderr
    verified = veche("verify", str(export), "--key", key, "--no-state")
    assert verified.returncode == 0, verified.stdout[-2000:]
    lines = (export / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    leaves = [leaf_hash(line) for line in lines]
    seen: dict[int, str] = {}
    for receipt in receipts:
        seq = int(receipt["seq"])
        assert seq < len(leaves), f"acknowledged entry {seq} is missing"
        assert leaves[seq].hex() == receipt["leaf_hash"], f"entry {seq} changed"
        assert seen.setdefault(seq, receipt["leaf_hash"]) == receipt["leaf_hash"]
        checkpoint = verify_checkpoint(receipt["checkpoint"], key)
        assert mth(leaves[: checkpoint.size]) == checkpoint.root, "a checkpoint was forked"
    return len(lines)


@pytest.mark.slow
def test_sigkill_never_loses_an_acknowledged_ballot(settings: Settings, tmp_path: Path) -> None:
    url, codes = prepare(settings, CYCLES * VOTERS_PER_CYCLE + 40)
    rng = random.Random(7)
    receipts: list[dict[str, Any]] = []
    key = ""
    kills = 0
    for cycle in range(CYCLES):
        process, url = start_server(settings)
        if not key:
            key = httpx.get(f"{url}/api/v1/log/key").json()["verifier_key"]
        batch = codes[cycle * VOTERS_PER_CYCLE : (cycle + 1) * VOTERS_PER_CYCLE]
        stop = threading.Event()
        threads = [
            threading.Thread(target=flood, args=(url, batch[k::8], receipts, stop))
            for k in range(8)
        ]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.3, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        stop.set()
        for thread in threads:
            thread.join()
        if process.stdout:
            process.stdout.close()
        # The restarted server must still hold everything it acknowledged.
        process, url = start_server(settings)
        try:
            check_log(url, tmp_path, receipts, key)
        finally:
            stop_server(process)
    assert kills == CYCLES
    assert receipts, "no ballot was ever acknowledged: the flood did not reach the server"
    seqs = [r["seq"] for r in receipts]
    assert len(seqs) == len(set(seqs)), "two receipts name one entry"
    print(f"crash safety: {kills} SIGKILL cycles, {len(receipts)} acknowledged ballots, 0 lost")
