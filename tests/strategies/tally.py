"""Hypothesis strategies for the tally: elections with ballots, small and medium.

Costs come from a short list (so ties in cost happen), some are odd, some are zero and
some exceed the budget; ballots may be empty; vote counts tie often.
"""

from __future__ import annotations

from hypothesis import strategies as st

from tally import (
    ApprovalBallot,
    Ballot,
    CumulativeBallot,
    Election,
    OrdinalBallot,
    PabulibFile,
    Project,
)

__all__ = ["approval_elections", "cumulative_elections", "pabulib_files"]

Instance = tuple[Election, list[Ballot]]


@st.composite
def _projects(draw: st.DrawFn, max_projects: int, budget: int) -> tuple[Project, ...]:
    n = draw(st.integers(1, max_projects))
    menu = [1, 3, 7, 10, 11, 25, 33, 50, 99, budget // 3 or 1, budget, budget + 1]
    costs = draw(st.lists(st.sampled_from(menu) | st.integers(0, budget), min_size=n, max_size=n))
    return tuple(Project(f"p{k}", c, f"Project {k}") for k, c in enumerate(costs))


@st.composite
def approval_elections(
    draw: st.DrawFn, max_projects: int = 6, max_voters: int = 12, max_budget: int = 120
) -> Instance:
    budget = draw(st.integers(1, max_budget))
    projects = draw(_projects(max_projects, budget))
    ids = [p.id for p in projects]
    ballots: list[Ballot] = [
        ApprovalBallot(tuple(sorted(b)))
        for b in draw(
            st.lists(st.sets(st.sampled_from(ids), max_size=len(ids)), max_size=max_voters)
        )
    ]
    return Election(projects=projects, budget=budget, kind="approval"), ballots


@st.composite
def cumulative_elections(
    draw: st.DrawFn, max_projects: int = 5, max_voters: int = 10, max_budget: int = 120
) -> Instance:
    budget = draw(st.integers(1, max_budget))
    projects = draw(_projects(max_projects, budget))
    ids = [p.id for p in projects]
    ballots: list[Ballot] = [
        CumulativeBallot(points)
        for points in draw(
            st.lists(st.dictionaries(st.sampled_from(ids), st.integers(1, 3)), max_size=max_voters)
        )
    ]
    return Election(projects=projects, budget=budget, kind="cumulative"), ballots


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=12
).map(str.strip)


@st.composite
def pabulib_files(draw: st.DrawFn) -> PabulibFile:
    """Any election Veche can write to a .pb file, with extra columns and META keys."""
    kind = draw(st.sampled_from(["approval", "cumulative", "ordinal"]))
    unit = draw(st.sampled_from([1, 10, 100]))
    budget = draw(st.integers(0, 10**9))
    n = draw(st.integers(0, 6))
    ids = draw(
        st.lists(
            st.text("abcXYZ019-_/. ", min_size=1, max_size=6).map(str.strip).filter(bool),
            min_size=n,
            max_size=n,
            unique=True,
        ).filter(lambda xs: all("," not in x for x in xs))
    )
    projects = tuple(Project(pid, draw(st.integers(0, 10**8)), draw(_TEXT)) for pid in ids)
    voters = draw(st.integers(0, 8))
    ballots: list[Ballot] = []
    for _ in range(voters):
        chosen = draw(st.lists(st.sampled_from(ids), unique=True)) if ids else []
        if kind == "approval":
            ballots.append(ApprovalBallot(tuple(chosen)))
        elif kind == "ordinal":
            ballots.append(OrdinalBallot(tuple(chosen)))
        else:
            ballots.append(CumulativeBallot({p: draw(st.integers(0, 9)) for p in chosen}))
    extra_p = draw(st.lists(st.sampled_from(["category", "votes", "latitude"]), unique=True))
    extra_v = draw(st.lists(st.sampled_from(["age", "sex"]), unique=True))
    meta = {"description": draw(_TEXT), "country": "Testland", "rule": "greedy"}
    election = Election(
        projects=projects,
        budget=budget,
        kind=kind,  # type: ignore[arg-type]
        unit=unit,
        min_length=draw(st.none() | st.integers(1, 3)),
        max_length=draw(st.none() | st.integers(1, 9)),
    )
    pf = PabulibFile(
        election=election,
        ballots=ballots,
        voter_ids=[f"v{k}" for k in range(voters)],
        vote_type=kind,
        meta=meta,
        project_columns=extra_p,
        project_extra=[tuple(draw(_TEXT) for _ in extra_p) for _ in projects],
        vote_columns=extra_v,
        vote_extra=[tuple(draw(_TEXT) for _ in extra_v) for _ in range(voters)],
        selected=None,
    )
    return pf
