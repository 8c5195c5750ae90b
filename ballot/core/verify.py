"""Whole-election checks for ``veche verify`` (docs/protocol.md, "Verifier").

After the log itself verifies (``audit.verify``), every election in it is checked from
its entries alone: the manifest and its signature (checked when the entry parses), the
published sealing key against the manifest, every ballot opened and checked (version,
token, signature, seal bound to its credential, choices, window by log order and
time), each credential's ballots as a sequence (no ballot appended twice, none older
after a newer one, no fork or gap in its counter), one counted ballot per credential —
the newest; the first where re-voting is off —, no more credentials used than issued,
no more voters given credentials than the electorate committed at opening plus the
voters added since (``electorate.added``, reported with their reasons), no voter given
two, the lot secret against its
commitment, and every published result recomputed and compared field by field. Each
problem is reported with the ``seq`` of the entry concerned. A close before the
window's end is reported with its logged reason; in an election of manifest version 2 a
close before the end without a reason is a failure (``unexplained_early_close``). A
trustee election's ceremony, key shares, scalar, spoiled ballots and lot are checked as
well (docs/protocol.md §14.11, ``ballot.core.verify_trustees``).

The report these checks fill, and its printed lines, are ``ballot.core.verify_report``;
the served results held against the logged ones (§10.4 step 9), ``verify_served``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from audit.core.canonical import b64url_decode
from audit.core.entry import Entry, EntryKinds, leaf_hash, parse_entry
from audit.core.errors import AuditError
from audit.core.merkle import mth
from ballot.core import kinds, record, record_survey, verify_trustees
from ballot.core.config import REAL_KEY_BITS, is_poll, is_survey, is_test, to_json
from ballot.core.errors import BallotCryptoError
from ballot.core.verify_report import (
    ElectionFailure,
    ElectionReport,
    ElectionSummary,
    summary_lines,
)
from ballot.core.verify_served import Fetch, check_served_results
from kernel.parallel import usable_cpus

_MARKERS = tuple(f'"kind":"{kind}"'.encode() for kind in kinds.ELECTION_KINDS)


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
    _check_electorates(lines, entries, records, report)
    return report


_VERIFIED_MARKER = f'"kind":"{kinds.RESIDENT_VERIFIED}"'.encode()
_ELIGIBILITY_ENTRIES = EntryKinds(kinds.ELIGIBILITY_KINDS)


def _check_electorates(
    lines: Sequence[bytes],
    entries: Sequence[Entry],
    records: dict[str, record.ElectionRecord],
    report: ElectionReport,
) -> None:
    """docs/protocol.md §10.4 steps 9-12: each election's credentials against its
    committed electorate and the voters added since (§6.11)."""
    fail = report.failures
    verified: list[tuple[int, str]] = []
    for line in lines:
        if _VERIFIED_MARKER in line:
            try:
                entry = parse_entry(line, _ELIGIBILITY_ENTRIES)
            except AuditError:
                continue  # reported by the log verifier
            assert isinstance(entry.body, kinds.ResidentVerified)
            verified.append((entry.seq, entry.body.district))
    issued: dict[str, list[tuple[int, str]]] = {}
    added: dict[str, list[tuple[int, kinds.ElectorateAdded]]] = {}
    for entry in entries:
        body = entry.body
        if isinstance(body, kinds.CredentialIssued):
            issued.setdefault(body.election, []).append((entry.seq, body.commitment))
        elif isinstance(body, kinds.ElectorateAdded) and body.election in records:
            added.setdefault(body.election, []).append((entry.seq, body))
    summaries = {s.hash: s for s in report.elections}
    committing_seen: int | None = None
    for rec in sorted(records.values(), key=lambda r: r.opened_seq):
        name = rec.manifest.id
        summary = summaries[rec.hash]
        electorate = rec.manifest.eligibility.electorate
        seen: dict[str, int] = {}
        for seq, commitment in issued.get(rec.hash, []):
            if commitment in seen:
                fail.append(
                    ElectionFailure(
                        seq,
                        "duplicate_commitment",
                        f"{name}: a second credential for the voter of seq {seen[commitment]}",
                    )
                )
            seen.setdefault(commitment, seq)
        if electorate is None:
            if committing_seen is not None:
                fail.append(
                    ElectionFailure(
                        rec.opened_seq,
                        "electorate_not_committed",
                        f"{name}: the manifest commits no electorate, though the election "
                        f"opened at seq {committing_seen} in this log did",
                    )
                )
            for seq, _body in added.get(rec.hash, []):
                fail.append(
                    ElectionFailure(
                        seq, "added_without_electorate", f"{name}: voters added, none committed"
                    )
                )
            continue
        committing_seen = rec.opened_seq if committing_seen is None else committing_seen
        summary.electorate = electorate.size
        additions: set[str] = set()
        for seq, body in added.get(rec.hash, []):
            if rec.closed_seq is not None and seq > rec.closed_seq:
                fail.append(
                    ElectionFailure(
                        seq, "added_after_close", f"{name}: voters added after the close"
                    )
                )
                continue
            again = additions.intersection(body.commitments)
            if again:
                fail.append(
                    ElectionFailure(
                        seq,
                        "added_twice",
                        f"{name}: {len(again)} voter(s) added a second time",
                    )
                )
            additions.update(body.commitments)
            summary.added += body.count
            summary.additions.append({"seq": seq, "count": body.count, "reason": body.reason})
        allowed = electorate.size + summary.added
        if len(seen) > allowed:
            fail.append(
                ElectionFailure(
                    rec.closed_seq if rec.closed_seq is not None else rec.opened_seq,
                    "more_credentials_than_electorate",
                    f"{name}: credentials were issued to {len(seen)} voters, but the "
                    f"electorate committed {electorate.size} and {summary.added} were added",
                )
            )
        if rec.manifest.eligibility.residents:
            district = rec.manifest.district
            before = sum(1 for seq, d in verified if d == district and seq < rec.opened_seq)
            if before != electorate.size:
                fail.append(
                    ElectionFailure(
                        rec.opened_seq,
                        "electorate_mismatch",
                        f"{name}: the manifest commits {electorate.size} voters, but "
                        f"{before} residents of {district!r} were verified before it opened",
                    )
                )


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
    _check_key_policy(rec, report, summary)
    summary.trustees = verify_trustees.trustees_summary(rec)
    for problem in verify_trustees.check_trustee_election(rec) + rec.problems:
        fail.append(ElectionFailure(problem.seq, problem.code, f"{manifest.id}: {problem.detail}"))
    if rec.closed_seq is None:
        for seq, _body in rec.withheld:
            fail.append(
                ElectionFailure(
                    seq,
                    "withheld_while_open",
                    f"{manifest.id}: a text was withheld before the close",
                )
            )
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
    if rec.opening_key() is None:
        problem = verify_trustees.not_unsealed(rec)
        fail.append(ElectionFailure(problem.seq, problem.code, problem.detail))
        return
    counted = record.count(rec, workers=cores)
    if summary.trustees is not None:
        summary.spoiled = [{"seq": p.seq, "code": p.code} for p in counted.spoiled]
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
    # docs/protocol.md §19.6: every withheld text names a counted ballot's text answer.
    withheld_counts, withheld_problems = record_survey.withheld_check(rec, counted)
    if is_survey(manifest):
        summary.questions = len(getattr(manifest.ballot, "questions", ()))
        summary.withheld = sum(withheld_counts.values())
    for problem in withheld_problems:
        fail.append(ElectionFailure(problem.seq, problem.code, problem.detail))
    authority = b64url_decode(manifest.authority_key)
    for seq, result in rec.results:
        summary.status = "tallied"
        _check_result(rec, counted, seq, result, authority, report, summary)


def _check_key_policy(
    rec: record.ElectionRecord, report: ElectionReport, summary: ElectionSummary
) -> None:
    """docs/protocol.md §10.4 step 2: a credential key under 2048 bits only in an
    election whose manifest marks it a test (``"test": true``); a test election is
    reported as one."""
    manifest = rec.manifest
    summary.test = is_test(manifest)
    if manifest.rsa_key_bits < REAL_KEY_BITS and not summary.test:
        report.failures.append(
            ElectionFailure(
                rec.opened_seq,
                "weak_election_key",
                f"{manifest.id}: the credential key has {manifest.rsa_key_bits} bits, under "
                f"{REAL_KEY_BITS}, and the manifest does not mark the election as a test",
            )
        )


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
    published_json = to_json(result)
    published = {key: published_json.get(key) for key in expected}
    differences = [key for key in expected if expected[key] != published[key]]
    differences += sorted(set(published_json) - set(expected) - {"signature"})
    if differences:
        detail = "; ".join(
            _difference(key, published_json.get(key), expected.get(key)) for key in differences[:4]
        )
        fail.append(ElectionFailure(seq, "result_mismatch", f"{name}: {detail}"))
    summary.results_checked += 1
    summary.winners = list(result.winners)
    summary.spent = result.spent


def _difference(key: str, published: Any, expected: Any) -> str:
    """One differing member of a result; a survey's questions named one by one (§19.6)."""
    if key == "questions" and isinstance(published, dict) and isinstance(expected, dict):
        wrong = [
            q for q in sorted(set(published) | set(expected)) if published.get(q) != expected.get(q)
        ]
        return "; ".join(
            f"question {q!r} is {published.get(q)!r}, recomputed {expected.get(q)!r}"
            for q in wrong[:3]
        )
    return f"{key} is {published!r}, recomputed {expected!r}"


def verify_check(
    lines: Sequence[bytes], fetch: Fetch | None = None
) -> tuple[bool, list[str], dict[str, Any]]:
    """The election checks in the shape ``veche verify`` takes extra checks; with
    ``fetch`` (a log read from a server), the served results against the logged ones."""
    report = check_elections(lines)
    if fetch is not None:
        check_served_results(lines, fetch, report)
    return not report.failures, summary_lines(report), report.to_json()


__all__ = [
    "ElectionFailure",
    "ElectionReport",
    "ElectionSummary",
    "Fetch",
    "check_elections",
    "check_served_results",
    "election_entries",
    "is_poll",
    "summary_lines",
    "verify_check",
]
