"""The public response-time statistics of reports, computed from the log's report entries
alone (docs/protocol.md §16.5), so that anyone can recompute what the server publishes.

Each report is replayed through the lifecycle (``reports.core.lifecycle``); an entry
that the lifecycle does not allow, or about a report never received, is a failure,
named with its sequence number. Then, over all reports:

- time to first response: from receipt to the first step out of ``received`` (taken in
  work or answered), for reports that have one;
- time to answer: from receipt to the first ``report.answered``;
- median and 90th percentile of both, nearest-rank (the value at rank
  ``ceil(p/100 · n)`` of the sorted list), in whole seconds, ``None`` when no value;
- share answered within the deadline: among reports answered at least once, those whose
  deadline clock at their first answer did not pass ``deadline_days`` — a ``Fraction``;
- average rating over all ratings, a ``Fraction``;
- reopen rate: reports reopened at least once among reports answered at least once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import msgspec

from reports.core import kinds
from reports.core.lifecycle import (
    IllegalTransition,
    Status,
    Step,
    after_rating,
    check_transition,
    clock_seconds,
    deadline_seconds,
)


class StatisticsRefused(ValueError):
    """The report entries do not replay: ``seq`` names the first one that fails."""

    def __init__(self, seq: int, message: str) -> None:
        super().__init__(f"entry {seq}: {message}")
        self.seq = seq


@dataclass
class Timeline:
    """One report as the log tells it."""

    received: kinds.ReportReceived
    status: Status = "received"
    organisation: str = ""
    steps: list[Step] = field(default_factory=list)
    first_response_at: int | None = None
    first_answer_at: int | None = None
    answered_in_time: bool | None = None
    reopened: bool = False
    answered_at: int | None = None

    def move(self, target: Status, at: int) -> None:
        self.steps.append(Step(target, at))
        first = self.status == "received" and target in ("in_work", "answered")
        if first and self.first_response_at is None:
            self.first_response_at = at
        self.status = target


@dataclass(frozen=True)
class Statistics:
    reports: int
    answered: int
    first_response_median: int | None
    first_response_p90: int | None
    answer_median: int | None
    answer_p90: int | None
    within_deadline: Fraction | None
    average_rating: Fraction | None
    ratings: int
    reopen_rate: Fraction | None

    def to_json(self) -> dict[str, object]:
        """The figures as JSON: fractions as ``"n/d"`` strings (exact), seconds as ints."""

        def frac(value: Fraction | None) -> str | None:
            return None if value is None else f"{value.numerator}/{value.denominator}"

        return {
            "reports": self.reports,
            "answered": self.answered,
            "first_response_median_s": self.first_response_median,
            "first_response_p90_s": self.first_response_p90,
            "answer_median_s": self.answer_median,
            "answer_p90_s": self.answer_p90,
            "within_deadline": frac(self.within_deadline),
            "average_rating": frac(self.average_rating),
            "ratings": self.ratings,
            "reopen_rate": frac(self.reopen_rate),
        }


def nearest_rank(values: Sequence[int], percent: int) -> int | None:
    """The nearest-rank percentile of ``values``; ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(Fraction(percent, 100) * len(ordered)))
    return ordered[rank - 1]


def replay(
    entries: Iterable[tuple[int, str, msgspec.Struct]],
    timelines: dict[str, Timeline] | None = None,
) -> dict[str, Timeline]:
    """Every report's timeline from ``(seq, kind, body)`` in log order, continuing
    ``timelines`` (changed in place) when given."""
    timelines = {} if timelines is None else timelines
    for seq, kind, body in entries:
        if isinstance(body, kinds.ReportReceived):
            if body.report in timelines:
                raise StatisticsRefused(seq, f"report {body.report} received twice")
            timelines[body.report] = Timeline(body, organisation=body.organisation)
            continue
        if not isinstance(body, kinds.ReportStatus | kinds.ReportAnswered | kinds.ReportRated):
            continue
        line = timelines.get(body.report)
        if line is None:
            raise StatisticsRefused(seq, f"{kind} for a report never received")
        if body.at < line.received.at:
            raise StatisticsRefused(seq, f"{kind} dated before the report was received")
        try:
            _apply(line, body)
        except IllegalTransition as exc:
            raise StatisticsRefused(
                seq, f"report {body.report} cannot go from {exc.current} to {exc.target}"
            ) from None
    return timelines


def _apply(line: Timeline, body: msgspec.Struct) -> None:
    if isinstance(body, kinds.ReportStatus):
        if body.from_status != line.status:
            raise IllegalTransition(line.status, body.to_status)
        target: Status = body.to_status  # type: ignore[assignment]
        if target == "answered":
            # An answer is only ever a report.answered, with its photos.
            raise IllegalTransition(line.status, target)
        # Who took the step is not logged; any actor the table allows will do.
        if not any(
            _allowed(line.status, target, actor) for actor in ("staff", "supervisor", "system")
        ):
            raise IllegalTransition(line.status, target)
        line.organisation = body.organisation
        line.move(target, body.at)
    elif isinstance(body, kinds.ReportAnswered):
        if not any(_allowed(line.status, "answered", a) for a in ("staff", "supervisor")):
            raise IllegalTransition(line.status, "answered")
        line.move("answered", body.at)
        line.answered_at = body.at
        if line.first_answer_at is None:
            line.first_answer_at = body.at
            clock = clock_seconds(line.received.at, line.steps, body.at)
            line.answered_in_time = clock <= deadline_seconds(line.received.deadline_days)
    elif isinstance(body, kinds.ReportRated):
        target = after_rating(body.rating)
        check_transition(line.status, target, "reporter")
        if target == "reopened":
            line.reopened = True
        line.move(target, body.at)


def _allowed(current: Status, target: Status, actor: str) -> bool:
    try:
        check_transition(current, target, actor)  # type: ignore[arg-type]
    except IllegalTransition:
        return False
    return True


def statistics(
    entries: Iterable[tuple[int, str, msgspec.Struct]],
) -> Statistics:
    """The figures of §16.5 from the report entries ``(seq, kind, body)`` in log order."""
    ratings: list[int] = []

    def tap() -> Iterable[tuple[int, str, msgspec.Struct]]:
        for item in entries:
            if isinstance(item[2], kinds.ReportRated):
                ratings.append(item[2].rating)
            yield item

    timelines = replay(tap())
    return summarize(timelines.values(), (sum(ratings), len(ratings)))


@dataclass
class Running:
    """The statistics kept up to date as the log grows: the replay so far, continued
    with the entries after ``size`` only. What it gives equals ``statistics`` over the
    whole log (the server's cache of §16.5, keyed by the log's size)."""

    size: int = 0
    timelines: dict[str, Timeline] = field(default_factory=dict)
    rating_sum: int = 0
    rating_count: int = 0
    figures: Statistics | None = None

    def feed(self, entries: Iterable[tuple[int, str, msgspec.Struct]], size: int) -> Statistics:
        """Continue with the report entries of ``[self.size, size)``; raises
        ``StatisticsRefused`` as ``statistics`` does (the state is then unusable)."""
        touched = False

        def tap() -> Iterable[tuple[int, str, msgspec.Struct]]:
            nonlocal touched
            for item in entries:
                touched = True
                if isinstance(item[2], kinds.ReportRated):
                    self.rating_sum += item[2].rating
                    self.rating_count += 1
                yield item

        replay(tap(), self.timelines)
        self.size = size
        if touched or self.figures is None:
            self.figures = summarize(self.timelines.values(), (self.rating_sum, self.rating_count))
        return self.figures


def summarize(timelines: Iterable[Timeline], ratings: tuple[int, int]) -> Statistics:
    """The figures over ``timelines``; ``ratings`` is the sum and the count of every
    rating in the log."""
    rating_sum, rating_count = ratings
    first_response: list[int] = []
    answer: list[int] = []
    reports = answered = in_time = reopened = 0
    for line in timelines:
        reports += 1
        if line.first_response_at is not None:
            first_response.append(line.first_response_at - line.received.at)
        if line.first_answer_at is not None:
            answered += 1
            answer.append(line.first_answer_at - line.received.at)
            in_time += 1 if line.answered_in_time else 0
            reopened += 1 if line.reopened else 0
    return Statistics(
        reports=reports,
        answered=answered,
        first_response_median=nearest_rank(first_response, 50),
        first_response_p90=nearest_rank(first_response, 90),
        answer_median=nearest_rank(answer, 50),
        answer_p90=nearest_rank(answer, 90),
        within_deadline=Fraction(in_time, answered) if answered else None,
        average_rating=Fraction(rating_sum, rating_count) if rating_count else None,
        ratings=rating_count,
        reopen_rate=Fraction(reopened, answered) if answered else None,
    )
