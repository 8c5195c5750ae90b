"""The report lifecycle and its deadline clock (docs/protocol.md §16.3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.core.lifecycle import (
    DAY,
    STATUSES,
    TRANSITIONS,
    AnswerRefused,
    IllegalTransition,
    Step,
    after_rating,
    check_answer,
    check_transition,
    clock_seconds,
    due_for_auto_close,
    is_overdue,
)


def test_the_happy_path() -> None:
    check_transition("received", "in_work", "staff")
    check_transition("in_work", "answered", "staff")
    check_transition("answered", "closed", "reporter")


@pytest.mark.parametrize(
    ("current", "target", "actor"),
    [
        ("received", "closed", "staff"),
        ("answered", "closed", "staff"),  # only the reporter's rating or the clock closes
        ("reopened", "in_work", "staff"),  # a reopened report is the supervisor's
        ("closed", "in_work", "supervisor"),
        ("answered", "reopened", "supervisor"),
        ("in_work", "in_work", "staff"),
    ],
)
def test_steps_the_table_does_not_allow(current: str, target: str, actor: str) -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(current, target, actor)  # type: ignore[arg-type]
    assert caught.value.allowed == tuple(sorted({b for (a, b) in TRANSITIONS if a == current}))


def test_closed_is_final() -> None:
    assert not [pair for pair in TRANSITIONS if pair[0] == "closed"]


@pytest.mark.parametrize(
    ("rating", "target"), [(1, "reopened"), (2, "reopened"), (3, "closed"), (5, "closed")]
)
def test_a_rating_below_three_reopens(rating: int, target: str) -> None:
    assert after_rating(rating) == target


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_ratings_out_of_range(rating: int) -> None:
    with pytest.raises(ValueError):
        after_rating(rating)


@pytest.mark.parametrize(
    ("text", "photos", "why"),
    [("", 1, "text"), ("  ", 1, "text"), ("done", 0, "photo"), ("done", 6, "too_many")],
)
def test_an_answer_needs_text_and_photo_proof(text: str, photos: int, why: str) -> None:
    with pytest.raises(AnswerRefused, match=why):
        check_answer(text, photos)
    check_answer("Repaired.", 1)


def test_the_clock_stops_at_the_answer_and_runs_again_when_reopened() -> None:
    steps = [
        Step("in_work", 1 * DAY),
        Step("answered", 10 * DAY),
        Step("reopened", 20 * DAY),
        Step("in_work", 21 * DAY),
        Step("answered", 25 * DAY),
    ]
    assert clock_seconds(0, steps, 10 * DAY) == 10 * DAY
    assert clock_seconds(0, steps, 15 * DAY) == 10 * DAY  # stood still while answered
    assert clock_seconds(0, steps, 22 * DAY) == 12 * DAY
    assert clock_seconds(0, steps, 100 * DAY) == 15 * DAY
    assert not is_overdue(0, 15, steps, 100 * DAY)
    assert is_overdue(0, 14, steps, 100 * DAY)


def test_overdue_is_after_the_last_second_of_the_deadline() -> None:
    assert not is_overdue(0, 30, [], 30 * DAY)
    assert is_overdue(0, 30, [], 30 * DAY + 1)


def test_auto_close() -> None:
    assert not due_for_auto_close(100, 14, 100 + 14 * DAY - 1)
    assert due_for_auto_close(100, 14, 100 + 14 * DAY)


@st.composite
def walks(draw: st.DrawFn) -> tuple[int, list[Step], int]:
    received = draw(st.integers(0, 10**9))
    at = received
    status = "received"
    steps = []
    for _ in range(draw(st.integers(0, 8))):
        options = sorted({b for (a, b) in TRANSITIONS if a == status})
        if not options:
            break
        status = draw(st.sampled_from(options))
        at += draw(st.integers(0, 40 * DAY))
        steps.append(Step(status, at))
    now = at + draw(st.integers(0, 40 * DAY))
    return received, steps, now


@settings(max_examples=300, deadline=None)
@given(walks())
def test_the_clock_never_runs_faster_than_time_nor_backwards(
    walk: tuple[int, list[Step], int],
) -> None:
    received, steps, now = walk
    clock = clock_seconds(received, steps, now)
    assert 0 <= clock <= now - received
    earlier = clock_seconds(received, steps, max(received, now - DAY))
    assert earlier <= clock


@settings(max_examples=300, deadline=None)
@given(walks())
def test_the_clock_is_frozen_while_answered_or_closed(walk: tuple[int, list[Step], int]) -> None:
    received, steps, now = walk
    if steps and steps[-1].status in ("answered", "closed"):
        assert clock_seconds(received, steps, now) == clock_seconds(received, steps, steps[-1].at)
    else:
        assert clock_seconds(received, steps, now + 5) == clock_seconds(received, steps, now) + 5


def test_every_status_is_in_the_table() -> None:
    named = {s for pair in TRANSITIONS for s in pair}
    assert named == set(STATUSES)
