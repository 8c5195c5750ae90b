"""Crash safety: a real server is flooded with ballots and killed with SIGKILL at random
moments of the flood (after a random number of acknowledged ballots, so that voters are
still at it), again and again, on SQLite and on PostgreSQL.

Every server dies of the SIGKILL (none stopped of its own accord before it), and every
kill cuts a flood short: some voters of each cycle got a receipt and some did not. After
every cycle and at the end: every ballot that got a receipt is in the log exactly once, as the
ballot it was acknowledged as, the chain verifies, every checkpoint ever handed out is
still the root of the same-size prefix of the log (so the log never forked or lost a
history it vouched for), and the log never shrinks from one restart to the next.

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
from audit.core.entry import leaf_hash, parse_entry
from audit.core.merkle import mth
from ballot.core.client import ClientError, VoterClient
from kernel.settings import Settings
from tests.support.server import admin_client, open_code_election, start_server, stop_server, veche
from veche.kinds import entry_kinds
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
        kind = parse_entry(lines[seq], entry_kinds()).kind
        assert kind == "ballot.cast", f"entry {seq} is not a ballot"
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
    exits: list[int] = []  # how each cycle's server ended
    acknowledged: list[int] = []  # ballots acknowledged in each cycle
    sizes: list[int] = []  # the log's size after each restart
    for cycle in range(CYCLES):
        process, url = start_server(settings)
        if not key:
            key = httpx.get(f"{url}/api/v1/log/key").json()["verifier_key"]
        batch = codes[cycle * VOTERS_PER_CYCLE : (cycle + 1) * VOTERS_PER_CYCLE]
        before = len(receipts)
        stop = threading.Event()
        threads = [
            threading.Thread(target=flood, args=(url, batch[k::8], receipts, stop))
            for k in range(8)
        ]
        for thread in threads:
            thread.start()
        # A random moment of the flood: once a random number of its ballots got receipts.
        wanted = before + rng.randint(1, VOTERS_PER_CYCLE // 2)
        deadline = time.monotonic() + 120
        while len(receipts) < wanted and time.monotonic() < deadline:
            if not any(thread.is_alive() for thread in threads):
                break
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)  # a no-op if the server had already exited
        exits.append(process.wait())
        stop.set()
        for thread in threads:
            thread.join()
        acknowledged.append(len(receipts) - before)
        if process.stdout:
            process.stdout.close()
        # The restarted server must still hold everything it acknowledged.
        process, url = start_server(settings)
        try:
            sizes.append(check_log(url, tmp_path, receipts, key))
        finally:
            stop_server(process)
    # Each server was still running when the signal came, and died of it.
    assert exits == [-signal.SIGKILL] * CYCLES
    # Each server had acknowledged ballots and was killed before its voters were done.
    assert all(0 < count < VOTERS_PER_CYCLE for count in acknowledged), acknowledged
    seqs = [r["seq"] for r in receipts]
    assert len(seqs) == len(set(seqs)), "two receipts name one entry"
    assert sizes == sorted(sizes), f"the log shrank across a crash: {sizes}"
    print(
        f"crash safety: {len(exits)} SIGKILL cycles, {len(receipts)} acknowledged ballots "
        f"(per cycle: {acknowledged}), 0 lost"
    )
