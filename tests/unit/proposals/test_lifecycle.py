"""The proposal lifecycle table: every allowed step, and nothing else."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proposals.core.lifecycle import (
    STATUSES,
    TRANSITIONS,
    IllegalTransition,
    allowed_next,
    check_transition,
)

ACTORS = ("author", "moderator", "admin", "system")


def test_the_road_of_design_md() -> None:
    road = ["draft", "submitted", "supported", "in_review", "accepted", "on_ballot", "won",
            "in_implementation", "completed"]  # fmt: skip
    for source, target in itertools.pairwise(road):
        assert (source, target) in TRANSITIONS
    assert allowed_next("in_review") == ("accepted", "rejected")
    assert allowed_next("on_ballot") == ("won", "lost")
    for final in ("rejected", "lost", "completed"):
        assert allowed_next(final) == ()


@pytest.mark.parametrize(
    ("source", "target", "actor"),
    [
        ("draft", "submitted", "author"),
        ("in_review", "accepted", "moderator"),
        ("in_review", "rejected", "moderator"),
        ("accepted", "on_ballot", "admin"),
        ("on_ballot", "lost", "admin"),
        ("won", "in_implementation", "system"),
    ],
)
def test_allowed_steps(source: str, target: str, actor: str) -> None:
    assert check_transition(source, target, actor) == target  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "target", "actor"),
    [
        ("draft", "submitted", "moderator"),
        ("in_review", "accepted", "admin"),
        ("submitted", "accepted", "moderator"),
        ("accepted", "in_review", "moderator"),
        ("completed", "draft", "admin"),
        ("rejected", "accepted", "moderator"),
    ],
)
def test_refused_steps_name_the_allowed_ones(source: str, target: str, actor: str) -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(source, target, actor)  # type: ignore[arg-type]
    assert caught.value.allowed == allowed_next(source)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(STATUSES), st.sampled_from(STATUSES), st.sampled_from(ACTORS))
def test_only_table_steps_pass(source: str, target: str, actor: str) -> None:
    allowed = TRANSITIONS.get((source, target)) == actor  # type: ignore[arg-type]
    try:
        check_transition(source, target, actor)  # type: ignore[arg-type]
    except IllegalTransition:
        assert not allowed
    else:
        assert allowed


def test_every_status_is_reachable_from_draft() -> None:
    seen, frontier = {"draft"}, ["draft"]
    while frontier:
        for target in allowed_next(frontier.pop()):
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(STATUSES)
