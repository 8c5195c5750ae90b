"""Whole-election checks for ``veche verify`` (docs/protocol.md, "Verifier").

After the log itself verifies (``audit.verify``), every election in it is checked from
its entries alone: the manifest and its signature (checked when the entry parses), the
published sealing key against the manifest, every ballot opened and checked (version,
token, signature, seal bound to its credential, choices, window by log order and
time), each credential's ballots as a sequence (no ballot appended twice, none older
after a newer one, no fork or gap in its counter), one counted ballot per credential —
the newest —, no more credentials used than issued, the lot secret against its
commitment, and every published result recomputed and compared field by field. Each
problem is reported with the ``seq`` of the entry concerned. A close before the
window's end is reported with its logged reason; in an election of manifest version 2 a
close before the end without a reason is a failure (``unexplained_early_close``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from audit.core.canonical import b64url_decode
from audit.core.entry import Entry, leaf_hash, parse_entry
from audit.core.errors import AuditError
from audit.core.merkle import mth
from ballot.core import kinds, record
from ballot.core.config import is_poll
from ballot.core.errors import BallotCryptoError
from kernel.parallel import usable_cpus

_MARKERS = tuple(f'"kind":"{kind}"'.encode() for kind in kinds.ELECTION_KINDS)


@dataclass
class ElectionSummary:
    id: str
    title: str
    hash: str
    status: str
    issued: int
    cast: int
    counted: int | None = None
    superseded: int | None = None
    rejected: dict[str, int] = field(default_factory=dict)
    winners: list[str] | None = None
    spent: int | None = None
    budget: int = 0
    currency: str = ""
    results_checked: int = 0
    # {"seq", "at", "closes_at", "reason"} when the election was closed before its window
    # ended (docs/protocol.md §10.4); ``reason`` is None in logs written before reasons.
    early_close: dict[str, Any] | None = None


@dataclass
class ElectionFailure:
    seq: int | None
    code: str
    detail: str


@dataclass
class ElectionReport:
    elections: list[ElectionSummary] = field(default_factory=list)
    failures: list[ElectionFailure] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "elections": [vars(e) for e in self.elections],
            "failures": [vars(f) for f in self.failures],
        }


def election_entries(lines: Sequence[bytes]) -> list[Entry]:
    """The voting protocol's entries, parsed (others are the log verifier's business)."""
    found = []
    for line in lines:
        if any(marker in line for marker in _MARKERS):
            try:
                found.append(parse_entry(line, kinds.ELECTION_ENTRIES))
            except AuditError:
                continue  # already reported by the log verifier, with its seq
    return found


def check_elections(lines: Sequence[bytes], *, workers: int | None = None) -> ElectionReport:
    report = ElectionReport()
    entries = election_entries(lines)
    records, orphans = record.gather(entries)
    for problem in orphans:
        report.failures.append(ElectionFailure(problem.seq, problem.code, problem.detail))
    _check_close_roots(lines, entries, report)
    cores = workers or usable_cpus()
    for rec in records.values():
        _check_one(rec, report, cores)
    return report


def _check_close_roots(
    lines: Sequence[bytes], entries: Sequence[Entry], report: ElectionReport
) -> None:
    """Each close names the root of the log prefix whose ballots count."""
    closes = [e for e in entries if isinstance(e.body, kinds.ElectionClosed)]
    if not closes:
        return
    leaves = [leaf_hash(line) for line in lines]
    for entry in closes:
        body = entry.body
        assert isinstance(body, kinds.ElectionClosed)
        size = body.checkpoint_size
        if size > len(leaves) or mth(leaves[:size]).hex() != body.checkpoint_root:
            report.failures.append(
                ElectionFailure(
                    entry.seq,
                    "bad_close_root",
                    f"the close names root {body.checkpoint_root[:16]}… for {size} entries, "
                    "which is not the root of the log's first entries",
                )
            )


def _check_one(rec: record.ElectionRecord, report: ElectionReport, cores: int) -> None:
    manifest = rec.manifest
    fail = report.failures
    summary = ElectionSummary(
        id=manifest.id,
        title=manifest.title,
        hash=rec.hash,
        status="open",
        issued=rec.issued,
        cast=len(rec.casts),
        budget=manifest.budget,
        currency=manifest.currency,
    )
    report.elections.append(summary)
    for problem in rec.problems:
        fail.append(ElectionFailure(problem.seq, problem.code, f"{manifest.id}: {problem.detail}"))
    if rec.closed_seq is None:
        if rec.results:
            fail.append(
                ElectionFailure(
                    rec.results[0][0],
                    "result_while_open",
                    f"{manifest.id}: a result was published before the close",
                )
            )
        return
    summary.status = "closed"
    _check_early_close(rec, summary, report)
    if rec.sealing_private is None:
        fail.append(
            ElectionFailure(
                rec.closed_seq,
                "not_unsealed",
                f"{manifest.id}: closed, but its sealing key was never "
                "published, so nobody can open the ballots",
            )
        )
        return
    counted = record.count(rec, workers=cores)
    summary.counted = len(counted.counted)
    summary.superseded = counted.superseded
    for problem in counted.rejected:
        summary.rejected[problem.code] = summary.rejected.get(problem.code, 0) + 1
        fail.append(
            ElectionFailure(
                problem.seq, problem.code, f"{manifest.id}: ballot refused: {problem.detail}"
            )
        )
    for problem in counted.anomalies:
        fail.append(ElectionFailure(problem.seq, problem.code, f"{manifest.id}: {problem.detail}"))
    if counted.credentials > rec.issued:
        fail.append(
            ElectionFailure(
                rec.closed_seq,
                "more_credentials_than_issued",
                f"{manifest.id}: {counted.credentials} credentials voted but only {rec.issued} "
                "were issued",
            )
        )
    authority = b64url_decode(manifest.authority_key)
    for seq, result in rec.results:
        summary.status = "tallied"
        _check_result(rec, counted, seq, result, authority, report, summary)


def _check_early_close(
    rec: record.ElectionRecord, summary: ElectionSummary, report: ElectionReport
) -> None:
    """Report a close before ``closes_at`` with its reason; in an election of manifest
    version 2 such a close must have one."""
    closes_at = rec.manifest.window.closes_at
    if rec.closed_at is None or rec.closed_at >= closes_at:  # same fixed-width form
        return
    summary.early_close = {
        "seq": rec.closed_seq,
        "at": rec.closed_at,
        "closes_at": closes_at,
        "reason": rec.close_reason,
    }
    if rec.close_reason is None and rec.manifest.v >= 2:
        report.failures.append(
            ElectionFailure(
                rec.closed_seq,
                "unexplained_early_close",
                f"{rec.manifest.id}: closed at {rec.closed_at}, before the window's end at "
                f"{closes_at}, and no reason was logged",
            )
        )


def _check_result(
    rec: record.ElectionRecord,
    counted: record.Count,
    seq: int,
    result: kinds.ResultPublished,
    authority: bytes,
    report: ElectionReport,
    summary: ElectionSummary,
) -> None:
    name = rec.manifest.id
    fail = report.failures
    try:
        kinds.verify_result_signature(authority, result)
    except BallotCryptoError as exc:
        fail.append(ElectionFailure(seq, "bad_result_signature", f"{name}: {exc.detail}"))
    if result.checkpoint_size != rec.count_size:
        fail.append(
            ElectionFailure(
                seq,
                "wrong_count_size",
                f"{name}: the result counts {result.checkpoint_size} entries, "
                f"the close said {rec.count_size}",
            )
        )
    try:
        secret = b64url_decode(result.lot_secret)
        outcome = record.compute_outcome(rec, counted, secret)
    except BallotCryptoError as exc:
        fail.append(ElectionFailure(seq, exc.code, f"{name}: {exc.detail}"))
        return
    expected = record.result_body(rec, counted, outcome, secret)
    published = {key: getattr(result, key) for key in expected}
    differences = [key for key in expected if expected[key] != published[key]]
    if differences:
        detail = "; ".join(
            f"{key} is {published[key]!r}, recomputed {expected[key]!r}" for key in differences[:4]
        )
        fail.append(ElectionFailure(seq, "result_mismatch", f"{name}: {detail}"))
    summary.results_checked += 1
    summary.winners = list(result.winners)
    summary.spent = result.spent


def _money(amount: int, unit: int) -> str:
    """Minor units as a currency amount: 765000000 kopecks → 7,650,000.00."""
    if unit == 1:
        return f"{amount:,}"
    places = len(str(unit)) - 1
    whole, part = divmod(amount, unit)
    return f"{whole:,}.{part:0{places}d}"


def summary_lines(report: ElectionReport) -> list[str]:
    lines: list[str] = []
    for e in report.elections:
        lines.append(f"Election {e.id} — {e.title}")
        lines.append(f"  manifest hash:          {e.hash}")
        lines.append(f"  status:                 {e.status}")
        lines.append(f"  credentials issued:     {e.issued:,}")
        lines.append(f"  ballots cast:           {e.cast:,}")
        if e.early_close is not None:
            reason = e.early_close["reason"]
            lines.append(
                f"  closed early:           at {e.early_close['at']} (seq "
                f"{e.early_close['seq']}), before the window's end at "
                f"{e.early_close['closes_at']}"
            )
            lines.append(
                "  early close reason:     "
                + (repr(reason) if reason is not None else "(none logged)")
            )
        if e.counted is not None:
            lines.append(
                f"  ballots counted:        {e.counted:,} (one per credential, the last;"
                f" {e.superseded or 0:,} earlier ballots replaced)"
            )
            refused = sum(e.rejected.values())
            reasons = ", ".join(f"{code}: {n}" for code, n in sorted(e.rejected.items()))
            lines.append(
                f"  ballots refused:        {refused:,}" + (f" ({reasons})" if reasons else "")
            )
        if e.winners is not None:
            lines.append(f"  winners:                {', '.join(e.winners) or '(none)'}")
            if e.budget:
                unit = record.currency_unit(e.currency)
                lines.append(
                    f"  money:                  {_money(e.spent or 0, unit)} of "
                    f"{_money(e.budget, unit)} {e.currency}"
                )
            lines.append(
                f"  published result:       recomputed and matches ({e.results_checked} checked)"
            )
    if report.failures:
        lines.append(f"Election checks found {len(report.failures):,} problem(s):")
        for failure in report.failures[:200]:
            where = f"seq {failure.seq}" if failure.seq is not None else "log"
            lines.append(f"  {where}: {failure.code}: {failure.detail}")
        if len(report.failures) > 200:
            lines.append(f"  … and {len(report.failures) - 200:,} more")
    return lines


__all__ = ["ElectionReport", "check_elections", "is_poll", "summary_lines"]


def verify_check(lines: Sequence[bytes]) -> tuple[bool, list[str], dict[str, Any]]:
    """The election checks in the shape ``veche verify`` takes extra checks."""
    report = check_elections(lines)
    return not report.failures, summary_lines(report), report.to_json()
