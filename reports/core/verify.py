"""``veche verify``'s check of the reports (docs/protocol.md §16.6): replay every report
entry, recompute the statistics of §16.5, and — when the log was read from a server —
compare them with what the server publishes at ``GET /api/v1/reports/statistics``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import msgspec

from audit.core.entry import EntryKinds, parse_entry
from audit.core.errors import AuditError
from reports.core.display import decimal2
from reports.core.kinds import REPORT_KINDS
from reports.core.stats import Statistics, StatisticsRefused, statistics

Fetch = Callable[[str], tuple[int, bytes]]
STATISTICS_PATH = "/api/v1/reports/statistics"
_KINDS = EntryKinds(REPORT_KINDS)
_MARKER = b'"kind":"report.'


def report_entries(lines: Sequence[bytes]) -> Iterator[tuple[int, str, msgspec.Struct]]:
    """The report entries of the log, parsed (a broken one is the log verifier's to name)."""
    for line in lines:
        if _MARKER in line:
            try:
                entry = parse_entry(line, _KINDS)
            except AuditError:
                continue
            yield entry.seq, entry.kind, entry.body


def summary(figures: Statistics) -> list[str]:
    def seconds(value: int | None) -> str:
        return "—" if value is None else f"{value} s"

    def share(value: object) -> str:
        return "—" if value is None else str(value)

    return [
        f"Reports: {figures.reports} received, {figures.answered} answered.",
        f"  time to first response: median {seconds(figures.first_response_median)}, "
        f"90th percentile {seconds(figures.first_response_p90)}",
        f"  time to answer: median {seconds(figures.answer_median)}, "
        f"90th percentile {seconds(figures.answer_p90)}",
        f"  answered within the deadline: {share(figures.within_deadline)}; "
        f"average rating {share(figures.average_rating)} (= {decimal2(figures.average_rating)}) "
        f"over {figures.ratings} ratings; "
        f"reopened {share(figures.reopen_rate)}",
    ]


def verify_reports(
    lines: Sequence[bytes], fetch: Fetch | None = None
) -> tuple[bool, list[str], dict[str, Any]]:
    """The reports' check in the shape ``veche verify`` takes extra checks."""
    try:
        figures = statistics(report_entries(lines))
    except StatisticsRefused as exc:
        line = f"REPORTS: FAILED — {exc}"
        return False, [line], {"reports": {"ok": False, "failures": [str(exc)]}}
    lines_out = summary(figures)
    document: dict[str, Any] = {"ok": True, "statistics": figures.to_json(), "failures": []}
    if fetch is not None:
        status, raw = fetch(STATISTICS_PATH)
        served: object = None
        if status == 200:
            try:
                served = json.loads(raw)
            except ValueError:
                served = None
        if status == 404:
            pass  # a server without reports: nothing published to compare
        elif served != figures.to_json():
            failure = "the server's published report statistics differ from the log's"
            document["ok"] = False
            document["failures"].append(failure)
            document["served"] = served
            lines_out.append(f"REPORTS: FAILED — {failure}")
    if document["ok"]:
        lines_out.append("REPORTS: OK — the statistics recomputed from the log.")
    return bool(document["ok"]), lines_out, {"reports": document}
