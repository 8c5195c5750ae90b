"""``veche verify``'s check of the reports (docs/protocol.md §16.6): replay every report
entry, recompute the statistics of §16.5, and — when the log was read from a server —
compare them with what the server publishes at ``GET /api/v1/reports/statistics``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import msgspec

from reports.core.display import decimal2
from reports.core.kinds import REPORT_KINDS
from reports.core.stats import Statistics, StatisticsRefused, statistics

Fetch = Callable[[str], tuple[int, bytes]]
STATISTICS_PATH = "/api/v1/reports/statistics"
_MARKER = b'"kind":"report.'


class _Envelope(msgspec.Struct):
    """What the statistics read of an entry; the rest is the log verifier's (§3)."""

    seq: int
    kind: str
    body: msgspec.Raw


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_BODIES = {kind: msgspec.json.Decoder(cls, strict=True) for kind, cls in REPORT_KINDS.items()}


def report_entries(lines: Iterable[bytes]) -> Iterator[tuple[int, str, msgspec.Struct]]:
    """The report entries of the log, their bodies validated as §16.4 says. The entry's
    canonical form, header and chain are the log verifier's to check and to name; here a
    line that is not a report entry, or whose body does not validate, is passed over, as
    ``audit.core.entry.parse_entry`` would refuse it."""
    for line in lines:
        if _MARKER not in line:
            continue
        try:
            envelope = _ENVELOPE.decode(line)
            decoder = _BODIES.get(envelope.kind)
            if decoder is None:
                continue
            body = decoder.decode(envelope.body)
        except msgspec.DecodeError:
            continue
        yield envelope.seq, envelope.kind, body


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
