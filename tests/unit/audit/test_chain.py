"""The chain-and-hash pass: worker processes give the same answer as one process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from audit.core.chain import check_entries, merkle_levels
from audit.core.entry import LOG_KINDS, EntryKinds, leaf_hash
from audit.core.merkle import mth, root_from_nodes
from tests.strategies.audit import build_chain, signing_key

KINDS = EntryKinds(LOG_KINDS)

NOTICE = {"title": "t", "text": "x", "lang": "en"}

Failures = list[tuple[int | None, str, str]]


def _run(data: bytes, workers: int) -> tuple[list[bytes], Failures]:
    failures: Failures = []
    leaves = check_entries(data, lambda *f: failures.append(f), KINDS, None, workers)
    return leaves, failures


@pytest.fixture(name="entries", scope="module")
def fx_entries() -> list[bytes]:
    # About 2.5 MB: several chunks, and several segments for the workers.
    return build_chain(signing_key(4), [{**NOTICE, "title": str(i)} for i in range(9000)])


_FORKING_CHECK = """
from tests.strategies.audit import build_chain, signing_key
from audit.core.chain import _parallel, check_entries
from audit.core.entry import LOG_KINDS, EntryKinds, leaf_hash
KINDS = EntryKinds(LOG_KINDS)
notice = {"title": "t", "text": "x", "lang": "en"}
entries = build_chain(signing_key(4), [{**notice, "title": str(i)} for i in range(9000)])
data = b"".join(e + b"\\n" for e in entries)
leaves = [leaf_hash(e) for e in entries]
assert _parallel(data, KINDS, 2, None) == leaves, "forked workers disagree"
for tampered in (
    [*entries[:7000], entries[7000].replace(b'"lang":"en"', b'"lang":"EN"'), *entries[7001:]],
    entries[:4500] + entries[4501:],
    entries[4501:] + entries[:4501],
):
    bad = b"".join(e + b"\\n" for e in tampered)
    assert _parallel(bad, KINDS, 2, None) is None, "forked workers passed a broken log"
failures = []
assert check_entries(data, lambda *f: failures.append(f), KINDS, None, 3) == leaves
assert failures == []
print("forked workers agree")
"""


@pytest.mark.skipif(sys.platform != "linux", reason="worker processes are forked on Linux only")
def test_workers_check_a_clean_log() -> None:
    # In a fresh interpreter: the pass refuses to fork while other threads run, and a
    # test process may have some (the log's sequencer, say).
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", _FORKING_CHECK],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "forked workers agree" in done.stdout


@pytest.mark.parametrize("tamper", ["flip", "drop", "swap_segments"])
def test_workers_fall_back_and_report_the_same(entries: list[bytes], tamper: str) -> None:
    tampered = [*entries]
    if tamper == "flip":
        tampered[7000] = tampered[7000].replace(b'"lang":"en"', b'"lang":"EN"')
    elif tamper == "drop":
        del tampered[4500]
    else:
        # Each half is clean on its own; only their order is wrong.
        tampered = tampered[4501:] + tampered[:4501]
    data = b"".join(e + b"\n" for e in tampered)
    # (That forked workers refuse such a log is checked in a fresh process above.)
    assert _run(data, 2) == _run(data, 1)
    assert _run(data, 1)[1]


def test_levels_give_every_root(entries: list[bytes]) -> None:
    leaves = [leaf_hash(e) for e in entries[:300]]
    levels = merkle_levels(leaves)
    for size in (1, 2, 3, 64, 255, 300):
        assert root_from_nodes(size, lambda lv, ix: levels[lv][ix]) == mth(leaves[:size])


def test_lines_that_are_empty_are_failures() -> None:
    for data in (b"\n", b"\n\n", b"{}\n\n"):
        leaves, failures = _run(data, 1)
        assert len(leaves) == data.count(b"\n")
        assert failures and all(seq is not None for seq, _, _ in failures)
