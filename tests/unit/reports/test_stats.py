"""The report statistics recomputed from log entries alone (docs/protocol.md §16.5)."""

from __future__ import annotations

from fractions import Fraction

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.core.canonical import canonical_bytes
from audit.core.entry import EntryKinds, build_entry, parse_entry
from reports.core import kinds
from reports.core.lifecycle import DAY, TRANSITIONS
from reports.core.stats import Running, StatisticsRefused, nearest_rank, statistics
from reports.core.verify import report_entries, verify_reports

H = "ab" * 32


def rid(n: int) -> str:
    return f"{n:032x}"


def received(n: int, at: int, deadline: int = 30) -> kinds.ReportReceived:
    return kinds.ReportReceived(
        report=rid(n),
        category="roads",
        district="north",
        organisation="roads-dept",
        deadline_days=deadline,
        first_response_days=None,
        lat_e2=5575,
        lon_e2=3761,
        at=at,
    )


def status(n: int, a: str, b: str, at: int, org: str = "roads-dept") -> kinds.ReportStatus:
    return kinds.ReportStatus(report=rid(n), from_status=a, to_status=b, organisation=org, at=at)


def answered(n: int, at: int) -> kinds.ReportAnswered:
    return kinds.ReportAnswered(report=rid(n), organisation="roads-dept", photos=[H], at=at)


def rated(n: int, rating: int, at: int) -> kinds.ReportRated:
    return kinds.ReportRated(report=rid(n), rating=rating, at=at)


def numbered(bodies: list[msgspec.Struct]) -> list[tuple[int, str, msgspec.Struct]]:
    names = {v: k for k, v in kinds.REPORT_KINDS.items()}
    return [(i + 1, names[type(b)], b) for i, b in enumerate(bodies)]


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, None),
        ([7], 50, 7),
        ([1, 2], 50, 1),
        ([3, 1, 2], 50, 2),
        (list(range(1, 11)), 90, 9),
        (list(range(1, 11)), 50, 5),
        (list(range(1, 12)), 90, 10),
    ],
)
def test_nearest_rank(values: list[int], p: int, expected: int | None) -> None:
    assert nearest_rank(values, p) == expected


def test_a_worked_month() -> None:
    """Three reports: one answered in 2 days and rated 5, one answered late (31 days)
    and rated 2 (reopened), one taken in work after 1 day and still open."""
    bodies: list[msgspec.Struct] = [
        received(1, 0),
        received(2, 0),
        received(3, 0),
        status(3, "received", "in_work", 1 * DAY),
        answered(1, 2 * DAY),
        rated(1, 5, 3 * DAY),
        answered(2, 31 * DAY),
        rated(2, 2, 32 * DAY),
        status(2, "reopened", "in_work", 33 * DAY),
    ]
    figures = statistics(numbered(bodies))
    assert figures.reports == 3
    assert figures.answered == 2
    assert figures.first_response_median == 2 * DAY  # [1, 2, 31] days
    assert figures.first_response_p90 == 31 * DAY
    assert figures.answer_median == 2 * DAY  # [2, 31] days, lower of the two
    assert figures.answer_p90 == 31 * DAY
    assert figures.within_deadline == Fraction(1, 2)
    assert figures.average_rating == Fraction(7, 2)
    assert figures.reopen_rate == Fraction(1, 2)
    assert figures.to_json()["within_deadline"] == "1/2"


def test_the_deadline_clock_stands_while_a_reassigned_report_waits() -> None:
    bodies: list[msgspec.Struct] = [
        received(1, 0, deadline=10),
        status(1, "received", "received", 3 * DAY, org="roads-north"),
        answered(1, 10 * DAY),
    ]
    assert statistics(numbered(bodies)).within_deadline == Fraction(1)


@pytest.mark.parametrize(
    ("bodies", "seq"),
    [
        ([answered(1, 5)], 1),  # never received
        ([received(1, 0), received(1, 0)], 2),
        ([received(1, 0), rated(1, 5, 10)], 2),  # rated before any answer
        ([received(1, 0), status(1, "received", "answered", 10)], 2),  # answer without photos
        ([received(1, 0), status(1, "in_work", "answered", 10)], 2),  # wrong from_status
        ([received(1, 0), status(1, "received", "closed", 10)], 2),
        ([received(1, 100), status(1, "received", "in_work", 50)], 2),  # before receipt
        ([received(1, 0), answered(1, 1), rated(1, 4, 2), rated(1, 1, 3)], 4),  # closed is final
    ],
)
def test_a_forged_history_is_refused_with_its_seq(bodies: list[msgspec.Struct], seq: int) -> None:
    with pytest.raises(StatisticsRefused) as caught:
        statistics(numbered(bodies))
    assert caught.value.seq == seq


@st.composite
def histories(draw: st.DrawFn) -> list[msgspec.Struct]:
    """Valid logs: several reports, each walking the lifecycle, interleaved by time."""
    events: list[tuple[int, int, msgspec.Struct]] = []
    for n in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, 60 * DAY))
        events.append((at, len(events), received(n, at, draw(st.integers(1, 40)))))
        state = "received"
        for _ in range(draw(st.integers(0, 6))):
            at += draw(st.integers(0, 20 * DAY))
            options = sorted({b for (a, b) in TRANSITIONS if a == state and b != "reopened"})
            moves: list[str] = [f"status:{b}" for b in options if b != "answered"]
            if state in ("received", "in_work", "reopened"):
                moves.append("answer")
            if state == "answered":
                moves.append("rate")
            if not moves:
                break
            move = draw(st.sampled_from(moves))
            if move == "answer":
                body: msgspec.Struct = answered(n, at)
                state = "answered"
            elif move == "rate":
                stars = draw(st.integers(1, 5))
                body = rated(n, stars, at)
                state = "closed" if stars >= 3 else "reopened"
            else:
                target = move.split(":")[1]
                body = status(n, state, target, at)
                state = target
            events.append((at, len(events), body))
    events.sort(key=lambda e: (e[0], e[1]))
    return [body for _at, _i, body in events]


@settings(max_examples=200, deadline=None)
@given(histories())
def test_every_valid_history_replays_and_its_figures_are_in_range(
    bodies: list[msgspec.Struct],
) -> None:
    figures = statistics(numbered(bodies))
    assert figures.reports == sum(isinstance(b, kinds.ReportReceived) for b in bodies)
    assert figures.answered <= figures.reports
    for share in (figures.within_deadline, figures.reopen_rate):
        assert share is None or 0 <= share <= 1
    if figures.average_rating is not None:
        assert 1 <= figures.average_rating <= 5
    for low, high in (
        (figures.answer_median, figures.answer_p90),
        (figures.first_response_median, figures.first_response_p90),
    ):
        assert (low is None) == (high is None)
        assert low is None or high is None or 0 <= low <= high


@settings(max_examples=100, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_figures_do_not_depend_on_how_reports_interleave(
    bodies: list[msgspec.Struct], rnd: object
) -> None:
    # Keep each report's own order, shuffle which report comes next.
    by_report: dict[str, list[msgspec.Struct]] = {}
    for body in bodies:
        by_report.setdefault(body.report, []).append(body)  # type: ignore[attr-defined]
    queues = list(by_report.values())
    shuffled: list[msgspec.Struct] = []
    while queues:
        queue = rnd.choice(queues)  # type: ignore[attr-defined]
        shuffled.append(queue.pop(0))
        queues = [q for q in queues if q]
    assert statistics(numbered(shuffled)) == statistics(numbered(bodies))


def _log_lines(bodies: list[msgspec.Struct]) -> list[bytes]:
    kinds_ = EntryKinds(kinds.REPORT_KINDS)
    names = {v: k for k, v in kinds.REPORT_KINDS.items()}
    lines = []
    prev = "11" * 32
    for seq, body in enumerate(bodies, start=1):
        lines.append(
            build_entry(
                seq,
                prev,
                "2026-12-01T00:00:00Z",
                names[type(body)],
                msgspec.to_builtins(body),
                kinds_,
            )
        )
    return lines


def test_the_verifier_reads_report_entries_from_log_bytes() -> None:
    bodies: list[msgspec.Struct] = [received(1, 0), answered(1, DAY), rated(1, 4, 2 * DAY)]
    lines = [b'{"at":"x","kind":"notice.published"}', *_log_lines(bodies)]
    assert [k for _s, k, _b in report_entries(lines)] == [
        "report.received",
        "report.answered",
        "report.rated",
    ]
    ok, summary, document = verify_reports(lines)
    assert ok, summary
    assert document["reports"]["statistics"]["average_rating"] == "4/1"


def test_the_verifier_catches_a_server_that_publishes_other_figures() -> None:
    lines = _log_lines([received(1, 0), answered(1, DAY)])
    served = statistics(report_entries(lines)).to_json() | {
        "within_deadline": "1/1",
        "answer_median_s": 1,
    }

    def fetch(path: str) -> tuple[int, bytes]:
        assert path == "/api/v1/reports/statistics"
        return 200, canonical_bytes(served)

    ok, summary, _doc = verify_reports(lines, fetch)
    assert not ok
    assert any("differ" in line for line in summary)


def test_the_verifier_fails_on_a_forged_transition() -> None:
    lines = _log_lines([received(1, 0), rated(1, 5, DAY)])
    ok, summary, _doc = verify_reports(lines)
    assert not ok and "FAILED" in summary[0]


def test_a_report_entry_round_trips_through_the_log_reader() -> None:
    line = _log_lines([received(1, 0)])[0]
    assert line == (
        b'{"at":"2026-12-01T00:00:00Z","body":{"at":0,"category":"roads","deadline_days":30,'
        b'"district":"north","first_response_days":null,"lat_e2":5575,"lon_e2":3761,'
        b'"organisation":"roads-dept","report":"00000000000000000000000000000001"},'
        b'"kind":"report.received","prev":"' + b"11" * 32 + b'","seq":1,"v":1}'
    )
    assert parse_entry(line, EntryKinds(kinds.REPORT_KINDS)).body == received(1, 0)


@pytest.mark.parametrize(
    "body",
    [
        {"report": rid(1), "rating": 0, "at": 1},
        {"report": rid(1), "rating": 6, "at": 1},
        {"report": "1", "rating": 3, "at": 1},
        {"report": rid(1), "rating": 3, "at": 1, "reporter": "ab" * 16},
    ],
)
def test_bad_rating_bodies_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(Exception, match=r"rating|report"):
        build_entry(
            1,
            "11" * 32,
            "2026-12-01T00:00:00Z",
            "report.rated",
            body,
            EntryKinds(kinds.REPORT_KINDS),
        )


@settings(max_examples=100, deadline=None)
@given(histories(), st.lists(st.integers(0, 60), max_size=4))
def test_the_running_statistics_equal_a_recomputation_at_every_size(
    bodies: list[msgspec.Struct], cuts: list[int]
) -> None:
    """The server's cache (§16.5), fed the log in pieces, gives at every size what a
    recomputation from the first entry gives."""
    entries = numbered(bodies)
    running = Running()
    for cut in [*sorted(min(c, len(entries)) for c in cuts), len(entries)]:
        figures = running.feed(iter(entries[running.size : cut]), cut)
        assert figures == statistics(entries[:cut])
