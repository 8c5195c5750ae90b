"""Greedy by votes within the budget: what most cities use.

Projects are taken in order of decreasing score (approvals, points, or positional points
for ordinal ballots), ties broken by the election's tie-break. Three variants:

- ``greedy``: a project that no longer fits is skipped and the next one is tried;
- ``greedy-no-skip``: selection stops at the first project that does not fit;
- ``greedy-threshold``: as ``greedy``, but only projects whose score reaches
  ``RuleConfig.threshold`` are eligible (Pabulib's ``min_project_score_threshold``).

A project nobody voted for is never funded.
"""

from __future__ import annotations

from collections.abc import Sequence

from tally.model import Election, Outcome, RuleConfig, Step
from tally.profile import Profile
from tally.tiebreak import Ties

__all__ = ["greedy", "greedy_fill", "project_scores"]


def project_scores(election: Election, prof: Profile) -> list[int]:
    """Per-project score: approvals, total points, or for ordinal ballots the positional
    points (a ballot of at most ``L`` projects gives ``L`` to its first, ``L - 1`` to its
    second, …; ``L`` is the election's ``max_length`` or else the longest ballot)."""
    if election.kind == "cumulative":
        return list(prof.points)
    if election.kind == "ordinal":
        longest = max((len(t) for t in prof.types), default=0)
        top = election.max_length or longest
        scores = [0] * len(prof.ids)
        for t, m in zip(prof.types, prof.mult, strict=True):
            for i, pos in t:
                scores[i] += m * max(top + 1 - pos, 0)
        return scores
    return list(prof.votes)


def greedy_fill(
    prof: Profile,
    scores: Sequence[int],
    ties: Ties,
    budget: int,
    chosen: Sequence[int] = (),
    *,
    skip: bool = True,
    threshold: int = 1,
    trace: list[Step] | None = None,
    round_offset: int = 0,
    allowed: Sequence[bool] | None = None,
) -> list[int]:
    """Projects added greedily (by score, then tie-break) to ``chosen`` within ``budget``;
    only projects with ``allowed[i]`` (default: all) are considered.

    Returns only the added projects, in selection order.
    """
    taken = set(chosen)
    left = budget - sum(prof.costs[i] for i in taken)
    order = sorted(
        (i for i in range(len(prof.ids)) if i not in taken and (allowed is None or allowed[i])),
        key=lambda i: (-scores[i], ties.rank[i]),
    )
    if ties.refuses:
        _check_refused_ties(prof, scores, ties, order, left, threshold)
    added: list[int] = []
    step = round_offset
    for i in order:
        pid, cost, score = prof.ids[i], prof.costs[i], scores[i]
        if score < threshold:
            if trace is not None and score > 0:
                trace.append(
                    Step(
                        step,
                        "ineligible",
                        f"{pid}: {score} is below the threshold of {threshold}",
                        pid,
                        {"score": score, "threshold": threshold},
                    )
                )
            continue
        if cost <= left:
            step += 1
            left -= cost
            added.append(i)
            if trace is not None:
                trace.append(
                    Step(
                        step,
                        "select",
                        f"{pid} ({score}) costs {cost}; {left} left",
                        pid,
                        {"score": score, "cost": cost, "left": left},
                    )
                )
        elif skip:
            if trace is not None:
                trace.append(
                    Step(
                        step,
                        "skip",
                        f"{pid} ({score}) costs {cost} but only {left} is left",
                        pid,
                        {"score": score, "cost": cost, "left": left},
                    )
                )
        else:
            if trace is not None:
                trace.append(
                    Step(
                        step,
                        "stop",
                        f"{pid} ({score}) costs {cost} but only {left} is left: stop",
                        pid,
                        {"score": score, "cost": cost, "left": left},
                    )
                )
            break
    return added


def _check_refused_ties(
    prof: Profile,
    scores: Sequence[int],
    ties: Ties,
    order: Sequence[int],
    left: int,
    threshold: int,
) -> None:
    # A tie in score matters only if the tied projects do not all fit together with what
    # comes before them; then the order among them could change the result.
    k = 0
    while k < len(order):
        j = k
        while j < len(order) and scores[order[j]] == scores[order[k]]:
            j += 1
        group = [i for i in order[k:j] if scores[i] >= threshold]
        if len(group) > 1 and sum(prof.costs[i] for i in group) > left:
            ties.pick(group, f"equal score {scores[order[k]]}")
        for i in group:
            if prof.costs[i] <= left:
                left -= prof.costs[i]
        k = j


def greedy(
    election: Election,
    prof: Profile,
    config: RuleConfig,
    ties: Ties,
) -> Outcome:
    """Greedy by votes; the variant is ``config.rule``."""
    scores = project_scores(election, prof)
    trace: list[Step] = []
    threshold = max(config.threshold, 1) if config.rule == "greedy-threshold" else 1
    trace.append(
        Step(
            0,
            "note",
            f"{config.rule}: projects by decreasing score within the budget of "
            f"{election.budget}; ties: {ties.describe()}"
            + (f"; a project needs at least {threshold}" if threshold > 1 else ""),
        )
    )
    added = greedy_fill(
        prof,
        scores,
        ties,
        election.budget,
        skip=config.rule != "greedy-no-skip",
        threshold=threshold,
        trace=trace,
    )
    return Outcome(
        rule=config.rule,
        winners=[prof.ids[i] for i in added],
        spent=sum(prof.costs[i] for i in added),
        budget=election.budget,
        scores={pid: scores[i] for i, pid in enumerate(prof.ids)},
        trace=trace,
        options={"threshold": str(threshold)} if config.rule == "greedy-threshold" else {},
    )
