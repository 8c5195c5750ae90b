"""The verifier: an untampered log passes, and every kind of tampering is caught."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.core.checkpoint import Checkpoint, sign_checkpoint
from audit.core.entry import (
    LOG_KINDS,
    ZERO_HASH,
    Count,
    EntryKinds,
    build_entry,
    leaf_hash,
)
from audit.core.export import ExportedLog, KeyInfo
from audit.core.merkle import hash_leaf, mth
from audit.core.verify import Report, verify_log
from tests.strategies.audit import (
    ORIGIN,
    build_chain,
    exported,
    genesis_body,
    logs,
    notice_bodies,
    signing_key,
)

KINDS = EntryKinds(LOG_KINDS)

NOTICE = {"title": "t", "text": "x", "lang": "en"}


def _verify(log: ExportedLog, key_seed: int | None = None, **kwargs: Any) -> Report:
    assert log.key_info is not None
    pinned = log.key_info.verifier_key
    if key_seed is not None:
        pinned = KeyInfo.from_private_key(ORIGIN, signing_key(key_seed)).verifier_key
    kwargs.setdefault("kinds", KINDS)
    return verify_log(log, pinned_verifier_key=pinned, **kwargs)


def _codes(report: Report) -> set[str]:
    return {f.code for f in report.failures}


def _with_entries(log: ExportedLog, entries: list[bytes]) -> ExportedLog:
    return replace(log, entries=b"".join(e + b"\n" for e in entries))


# --- untampered ----------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(logs)
def test_untampered_log_passes(log: tuple[Ed25519PrivateKey, list[bytes]]) -> None:
    key, entries = log
    exp = exported(entries, key)
    calls: list[tuple[int, int]] = []
    report = _verify(exp, progress=lambda done, total: calls.append((done, total)))
    assert report.ok, report.failures
    assert report.entries == len(entries)
    assert report.root == mth([leaf_hash(e) for e in entries])
    assert report.key_pinned and not report.warnings
    assert calls[-1] == (len(entries), len(entries))


def test_large_log_uses_batches_and_passes() -> None:
    key = signing_key(1)
    entries = build_chain(key, [{**NOTICE, "title": str(i)} for i in range(9000)])
    report = _verify(exported(entries, key))
    assert report.ok and report.entries == 9001


def test_unpinned_key_is_reported_as_a_warning() -> None:
    key = signing_key(0)
    exp = exported(build_chain(key, [NOTICE]), key)
    report = verify_log(exp, kinds=KINDS)
    assert report.ok and not report.key_pinned
    assert "not pinned" in report.warnings[0]


def test_older_checkpoint_checks_prefix() -> None:
    key = signing_key(0)
    entries = build_chain(key, [NOTICE] * 5)
    report = _verify(exported(entries, key, size=3))
    assert report.ok
    assert "not covered" in report.warnings[0]
    assert report.checkpoint is not None and report.checkpoint.size == 3


# --- tampering with entries ------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(logs, st.data())
def test_any_flipped_byte_is_detected(
    log: tuple[Ed25519PrivateKey, list[bytes]], data: st.DataObject
) -> None:
    key, entries = log
    exp = exported(entries, key)
    i = data.draw(st.integers(0, len(entries) - 1), label="entry")
    j = data.draw(st.integers(0, len(entries[i]) - 1), label="byte")
    mask = data.draw(st.integers(1, 255), label="mask")
    line = entries[i]
    tampered = [*entries]
    tampered[i] = line[:j] + bytes([line[j] ^ mask]) + line[j + 1 :]
    report = _verify(_with_entries(exp, tampered))
    assert not report.ok
    located = {f.seq for f in report.failures}
    assert i in located or i + 1 in located or "root_mismatch" in _codes(report)


@settings(max_examples=100, deadline=None)
@given(logs, st.data())
def test_drop_duplicate_reorder_truncate_detected(
    log: tuple[Ed25519PrivateKey, list[bytes]], data: st.DataObject
) -> None:
    key, entries = log
    exp = exported(entries, key)
    n = len(entries)
    how = data.draw(st.sampled_from(["drop", "duplicate", "reorder", "truncate"]))
    tampered = [*entries]
    if how == "drop":
        del tampered[data.draw(st.integers(0, n - 1))]
    elif how == "duplicate":
        i = data.draw(st.integers(0, n - 1))
        tampered.insert(data.draw(st.integers(0, n)), entries[i])
    elif how == "reorder":
        i = data.draw(st.integers(0, n - 2))
        j = data.draw(st.integers(i + 1, n - 1))
        tampered[i], tampered[j] = tampered[j], tampered[i]
    else:
        tampered = tampered[: data.draw(st.integers(0, n - 1))]
    report = _verify(_with_entries(exp, tampered))
    assert not report.ok
    if how == "truncate":
        assert "checkpoint_beyond_log" in _codes(report)


@settings(max_examples=100, deadline=None)
@given(logs, st.data())
def test_swapped_bodies_detected(
    log: tuple[Ed25519PrivateKey, list[bytes]], data: st.DataObject
) -> None:
    key, entries = log
    if len(entries) < 3:
        entries = build_chain(key, [NOTICE, {**NOTICE, "text": "y"}])
    exp = exported(entries, key)
    i = data.draw(st.integers(1, len(entries) - 2))
    j = data.draw(st.integers(i + 1, len(entries) - 1))
    a, b = json.loads(entries[i]), json.loads(entries[j])
    if a["body"] == b["body"]:
        return
    tampered = [*entries]
    tampered[i] = build_entry(a["seq"], a["prev"], a["at"], a["kind"], b["body"], KINDS)
    tampered[j] = build_entry(b["seq"], b["prev"], b["at"], b["kind"], a["body"], KINDS)
    report = _verify(_with_entries(exp, tampered))
    assert not report.ok
    assert {i + 1, j} & {f.seq for f in report.failures} or "root_mismatch" in _codes(report)


def test_every_failure_is_reported() -> None:
    key = signing_key(0)
    entries = build_chain(key, [{**NOTICE, "title": str(i)} for i in range(20)])
    tampered = [*entries]
    tampered[3] = tampered[3].replace(b'"title":"2"', b'"title":"X"')
    tampered[12] = tampered[12].replace(b'"lang":"en"', b'"lang": "en"')
    report = _verify(_with_entries(exported(entries, key), tampered))
    seqs = [f.seq for f in report.failures]
    assert seqs == [4, 12, 13, None]
    assert [f.code for f in report.failures] == [
        "prev_mismatch",
        "whitespace",
        "prev_mismatch",
        "root_mismatch",
    ]


def test_invalid_but_consistently_signed_log_is_caught() -> None:
    # A log whose server signed whatever it wrote: the checkpoint matches, but the
    # entries break the rules, and each rule is reported at its seq.
    key = signing_key(0)
    good = build_chain(key, [NOTICE, NOTICE])
    bad_body = good[1].replace(b'"lang":"en"', b'"lang":"english"')
    wrong_seq = build_entry(
        7, leaf_hash(bad_body).hex(), "2026-11-23T10:00:00Z", "notice.published", NOTICE, KINDS
    )
    genesis_again = build_entry(
        0, ZERO_HASH, "2026-11-23T10:00:00Z", "log.genesis", genesis_body(key), KINDS
    )
    entries = [good[0], bad_body, wrong_seq, genesis_again]
    report = _verify(exported(entries, key))
    assert [(f.seq, f.code) for f in report.failures] == [
        (1, "bad_body"),
        (2, "seq_mismatch"),
        (3, "seq_mismatch"),
        (3, "prev_mismatch"),
    ]


def test_genesis_must_name_the_key_in_use() -> None:
    entries = build_chain(signing_key(0), [NOTICE])
    exp = exported(entries, signing_key(1))
    report = _verify(exp)
    assert (0, "genesis_key") in {(f.seq, f.code) for f in report.failures}


def test_missing_final_newline_and_empty_lines() -> None:
    key = signing_key(0)
    entries = build_chain(key, [NOTICE])
    exp = exported(entries, key)
    report = _verify(replace(exp, entries=exp.entries[:-1]))
    assert "missing_newline" in _codes(report)
    report = _verify(replace(exp, entries=exp.entries + b"\n"))
    assert not report.ok


# --- tampering with the checkpoint ------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(logs, st.data())
def test_forged_checkpoint_detected(
    log: tuple[Ed25519PrivateKey, list[bytes]], data: st.DataObject
) -> None:
    key, entries = log
    exp = exported(entries, key)
    n = len(entries)
    root = mth([leaf_hash(e) for e in entries])
    how = data.draw(st.sampled_from(["other_key", "root", "size", "edit"]))
    other = signing_key(99)
    if how == "other_key":
        note = sign_checkpoint(other, ORIGIN, Checkpoint(ORIGIN, n, root))
    elif how == "root":
        fake = hash_leaf(data.draw(st.binary(max_size=8)))
        signer = data.draw(st.sampled_from([other, key]))
        note = sign_checkpoint(signer, ORIGIN, Checkpoint(ORIGIN, n, fake))
    elif how == "size":
        size = data.draw(st.integers(0, 2 * n).filter(lambda s: s != n))
        signer = data.draw(st.sampled_from([other, key]))
        note = sign_checkpoint(signer, ORIGIN, Checkpoint(ORIGIN, size, root))
    else:
        raw = exp.checkpoint_note.encode()
        i = data.draw(st.integers(0, len(raw) - 1))
        note = (raw[:i] + bytes([raw[i] ^ data.draw(st.integers(1, 255))]) + raw[i + 1 :]).decode(
            "utf-8", "replace"
        )
    report = _verify(replace(exp, checkpoint_note=note))
    assert not report.ok


def test_key_json_cannot_override_pinned_key() -> None:
    key, other = signing_key(0), signing_key(1)
    entries = build_chain(other, [NOTICE])
    exp = exported(entries, other)
    report = verify_log(
        exp, pinned_verifier_key=KeyInfo.from_private_key(ORIGIN, key).verifier_key, kinds=KINDS
    )
    assert {"key_mismatch", "checkpoint_signature", "genesis_key"} <= _codes(report)


# --- rewriting history with the real key ------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(logs, st.data())
def test_rewritten_history_resigned_is_caught(
    log: tuple[Ed25519PrivateKey, list[bytes]], data: st.DataObject
) -> None:
    key, entries = log
    n = len(entries)
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        seen = data.draw(st.integers(1, n), label="size seen")
        first = _verify(exported(entries, key, size=seen), state_dir=state)
        assert first.ok
        # The server rewrites entry i (inside what the verifier saw), rebuilds the chain
        # after it, may append more, and signs the new history with its real key.
        i = data.draw(st.integers(1, max(1, seen - 1)), label="rewritten")
        more = data.draw(st.lists(notice_bodies, max_size=3), label="appended")
        bodies = [json.loads(e)["body"] for e in entries[1:]]
        if i - 1 < len(bodies):
            bodies[i - 1] = {**bodies[i - 1], "text": bodies[i - 1]["text"] + "!"}
        else:
            bodies.append(NOTICE)
        rewritten = build_chain(key, [*bodies, *more])
        if rewritten[:seen] == entries[:seen]:
            return
        report = _verify(exported(rewritten, key), state_dir=state)
        assert not report.ok
        assert {"history_rewritten", "inconsistent_checkpoint"} & _codes(report)
        assert report.previous_checkpoints == [seen]


def test_rollback_after_seen_is_caught() -> None:
    key = signing_key(0)
    entries = build_chain(key, [NOTICE] * 4)
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        assert _verify(exported(entries, key), state_dir=state).ok
        shorter = entries[:3]
        report = _verify(exported(shorter, key), state_dir=state)
        assert "rollback" in _codes(report)


def test_honest_growth_passes_with_state() -> None:
    key = signing_key(2)
    entries = build_chain(key, [{**NOTICE, "title": str(i)} for i in range(10)])
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        for size in (1, 4, 7, 11):
            report = _verify(exported(entries[:size], key), state_dir=state)
            assert report.ok, report.failures
        assert report.previous_checkpoints == [1, 4, 7]
        assert len(list((state).rglob("*.txt"))) == 4


def test_fork_at_same_size_is_caught() -> None:
    key = signing_key(0)
    a = build_chain(key, [NOTICE, NOTICE])
    b = build_chain(key, [NOTICE, {**NOTICE, "text": "other"}])
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        assert _verify(exported(a, key), state_dir=state).ok
        report = _verify(exported(b, key), state_dir=state)
        assert {"history_rewritten", "inconsistent_checkpoint"} <= _codes(report)


@pytest.mark.slow
def test_bench_verify_small() -> None:
    from veche.bench.logs import bench_verify

    result = bench_verify(2000)
    assert result["ok"] is True
    assert result["entries"] == 2000
    assert result["ratio_vs_sha256_per_entry"] > 0
    assert result["inclusion_proof_mean_microseconds"] > 0


# --- chunk boundaries and mixed kinds ----------------------------------------------------


class Pledge(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    amount: Count
    project: str


MIXED_KINDS = EntryKinds(LOG_KINDS, {"test.pledge": Pledge})


def _mixed_chain(key: Ed25519PrivateKey, n: int) -> list[bytes]:
    entries = [build_chain(key, [])[0]]
    for seq in range(1, n):
        body: dict[str, object]
        if seq % 3:
            kind, body = "notice.published", {**NOTICE, "title": str(seq)}
        else:
            kind, body = "test.pledge", {"amount": seq, "project": "p"}
        entries.append(
            build_entry(
                seq, leaf_hash(entries[-1]).hex(), "2026-11-23T10:00:00Z", kind, body, MIXED_KINDS
            )
        )
    return entries


def test_mixed_kinds_pass_and_failures_keep_their_seq_across_chunks() -> None:
    key = signing_key(3)
    entries = _mixed_chain(key, 12_000)  # several chunks of the fast path
    exp = exported(entries, key)
    assert _verify(exp, kinds=MIXED_KINDS).ok
    # A log whose kinds the verifier was not given is refused entry by entry.
    unknown = _verify(exp)
    assert {f.code for f in unknown.failures} == {"unknown_kind"}
    assert sorted(f.seq for f in unknown.failures)[:2] == [3, 6]
    tampered = [*entries]
    tampered[6000] = tampered[6000].replace(b'"amount":6000', b'"amount":6001')
    tampered[9001] = tampered[9001].replace(b'"kind":"notice.published"', b'"kind":"test.pledge"')
    report = _verify(_with_entries(exp, tampered), kinds=MIXED_KINDS)
    assert [(f.seq, f.code) for f in report.failures] == [
        (6001, "prev_mismatch"),
        (9001, "bad_body"),
        (9002, "prev_mismatch"),
        (None, "root_mismatch"),
    ]


def test_genesis_origin_must_be_the_key_name() -> None:
    key = signing_key(0)
    entries = build_chain(key, [NOTICE], origin="elsewhere.example/log")
    exp = exported(entries, key)
    report = _verify(exp)
    assert {(0, "genesis_origin"), (0, "genesis_key")} <= {(f.seq, f.code) for f in report.failures}


def test_empty_log_is_not_ok() -> None:
    key = signing_key(0)
    exp = exported([], key)
    report = _verify(exp)
    assert not report.ok


def test_state_stays_inside_its_directory() -> None:
    key = signing_key(0)
    entries = build_chain(key, [NOTICE], origin="..")
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        report = verify_log(exported(entries, key, origin=".."), state_dir=state, kinds=KINDS)
        assert report.ok, report.failures
        written = [p for p in Path(tmp).rglob("*") if p.is_file()]
        assert written and all(state in p.parents for p in written)
        (next(iter(state.iterdir())) / "junk.txt").write_bytes(b"\xff\n")
        report = verify_log(exported(entries, key, origin=".."), state_dir=state, kinds=KINDS)
        assert report.ok and any("junk.txt" in w for w in report.warnings)


def test_hostile_nesting_is_a_failure_not_a_crash() -> None:
    key = signing_key(0)
    entries = build_chain(key, [NOTICE])
    deep = b"[" * 100_000 + b"]" * 100_000
    report = _verify(_with_entries(exported(entries, key), [entries[0], deep, entries[1]]))
    assert (1, "too_deep") in {(f.seq, f.code) for f in report.failures}


@settings(max_examples=200, deadline=None)
@given(logs, st.binary(max_size=60), st.data())
def test_garbage_never_crashes_the_verifier(
    log: tuple[Ed25519PrivateKey, list[bytes]], junk: bytes, data: st.DataObject
) -> None:
    key, entries = log
    exp = exported(entries, key)
    where = data.draw(st.integers(0, len(exp.entries)))
    spliced = exp.entries[:where] + junk + exp.entries[where:]
    report = _verify(replace(exp, entries=spliced))
    assert report.ok == (junk == b"")
    note = data.draw(st.text(max_size=80))
    assert not _verify(replace(exp, checkpoint_note=note)).ok
