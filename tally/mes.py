"""The Method of Equal Shares with the options cities use (equalshares.net).

- satisfaction ``cost`` or ``cardinality`` (points as utilities for cumulative ballots);
- eligibility: a minimum share of voters (``min_vote_share``) or a share of voters
  relative to the share of the budget (``eligibility_ratio``, Świecie 2023);
- completion ``add1`` (``mes_add1``): raise every voter's budget by one currency unit at a
  time; stop as soon as the result is exhaustive, or before the first raise whose result
  would exceed the budget (equalshares.net, "Completion"); ``add1-greedy`` then fills the
  rest by votes; ``greedy`` fills by votes without raising;
- comparison with the greedy result, by satisfaction (number of approved winners) or by
  exclusion (having no approved winner at all): if more voters prefer the greedy result,
  it is the result.

A supported project of cost 0 is funded at no cost before anything else.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from tally._num import fast_rationals, to_fraction
from tally.errors import TallyError
from tally.greedy import greedy_fill, project_scores
from tally.mes_approval import ApprovalMes, one_utility
from tally.mes_run import Run
from tally.model import Election, Outcome, RuleConfig, Step, frac_str, parse_frac
from tally.profile import Profile
from tally.tiebreak import Ties

if TYPE_CHECKING:
    from tally.mes_engine import MesEngine

__all__ = ["equal_shares"]


def _eligibility(
    election: Election, prof: Profile, config: RuleConfig, trace: list[Step]
) -> list[bool]:
    n = prof.n_voters
    ok = [True] * len(prof.ids)
    share = parse_frac(config.min_vote_share) if config.min_vote_share else None
    ratio = parse_frac(config.eligibility_ratio) if config.eligibility_ratio else None
    for i, pid in enumerate(prof.ids):
        votes, cost = prof.votes[i], prof.costs[i]
        if share is not None and votes * share.denominator < share.numerator * n:
            ok[i] = False
            trace.append(
                Step(
                    0,
                    "ineligible",
                    f"{pid}: {votes} of {n} voters is below the minimum share {share}",
                    pid,
                    {"votes": votes, "voters": n, "min_share": frac_str(share)},
                )
            )
        elif ratio is not None and (
            votes * election.budget * ratio.denominator < ratio.numerator * cost * n
        ):
            ok[i] = False
            trace.append(
                Step(
                    0,
                    "ineligible",
                    f"{pid}: its share of voters ({votes}/{n}) is below {ratio} of its share "
                    f"of the budget ({cost}/{election.budget})",
                    pid,
                    {"votes": votes, "voters": n, "cost": cost, "ratio": frac_str(ratio)},
                )
            )
    return ok


def _spent(prof: Profile, winners: list[int]) -> int:
    return sum(prof.costs[i] for i in winners)


def _exhaustive(prof: Profile, pool: list[int], winners: list[int], budget: int) -> bool:
    left = budget - _spent(prof, winners)
    chosen = set(winners)
    return all(prof.costs[i] > left for i in pool if i not in chosen)


def _prefer(prof: Profile, mes: list[int], greedy: list[int], how: str) -> tuple[int, int]:
    """(voters preferring MES, voters preferring greedy)."""
    a, b = set(mes), set(greedy)
    pro_mes = pro_greedy = 0
    for t, m in zip(prof.types, prof.mult, strict=True):
        sa = sum(1 for i, _ in t if i in a)
        sb = sum(1 for i, _ in t if i in b)
        if how == "exclusion":
            sa, sb = min(sa, 1), min(sb, 1)
        if sa > sb:
            pro_mes += m
        elif sb > sa:
            pro_greedy += m
    return pro_mes, pro_greedy


def _mes_runs(
    election: Election,
    prof: Profile,
    config: RuleConfig,
    ties: Ties,
    pool: list[int],
    free: list[int],
    cands: list[int],
    factor: list[int],
) -> tuple[Run | None, int, MesEngine | ApprovalMes]:
    """The MES run whose purchases are the result (with trace details), the number of
    runs made (more than one with add1), and the engine that made them."""
    add1 = config.completion in ("add1", "add1-greedy")
    # Exact rationals either way; gmpy2's are faster but take longer to import than one
    # run takes, so only add1's hundreds of runs use them (see tally._num).
    rationals = fast_rationals() if add1 else Fraction
    engine: MesEngine | ApprovalMes
    if one_utility(prof, cands):
        engine = ApprovalMes(prof, cands, factor, ties, rationals, many_runs=add1)
    else:
        from tally.mes_engine import MesEngine  # only points ballots need it

        engine = MesEngine(prof, cands, factor, ties, rationals)
    n, budget = prof.n_voters, election.budget
    if n == 0:
        return None, 0, engine
    if add1:
        # only add1 needs its loop and its skip (a run without it does not load them)
        from tally.mes_add1 import add1 as add1_completion
        from tally.mes_add1 import skip_for

        start = budget if config.add1_start == "exact" else (budget // n) * n
        skip = None
        if not ties.refuses:
            skip = skip_for(engine)
        done = add1_completion(
            engine,
            prof,
            pool,
            free,
            budget,
            start,
            election.unit * n,
            config.add1_exhaustive_stop,
            skip,
        )
        return done.final, done.runs, engine
    return engine.run(budget, details=True), 1, engine


def equal_shares(election: Election, prof: Profile, config: RuleConfig, ties: Ties) -> Outcome:
    """The Method of Equal Shares with ``config``'s options."""
    if election.kind == "ordinal":
        raise TallyError("the Method of Equal Shares needs approval, choice or cumulative ballots")
    n = prof.n_voters
    budget = election.budget
    scores = project_scores(election, prof)
    trace: list[Step] = []
    options: dict[str, str] = {
        "satisfaction": config.satisfaction,
        "completion": config.completion,
        "comparison": config.comparison,
        "tie_break": config.tie_break.method,
    }
    if config.completion in ("add1", "add1-greedy"):
        options["add1_start"] = config.add1_start
        options["add1_exhaustive_stop"] = str(config.add1_exhaustive_stop).lower()
    eligible = _eligibility(election, prof, config, trace)
    pool = [i for i in range(len(prof.ids)) if eligible[i] and prof.votes[i] > 0]
    free = [i for i in pool if prof.costs[i] == 0]
    cands = [i for i in pool if prof.costs[i] > 0]
    factor = [c if config.satisfaction == "cost" else 1 for c in prof.costs]
    final, runs, engine = _mes_runs(election, prof, config, ties, pool, free, cands, factor)
    per_voter = Fraction(final.scaled_budget, n) if final else Fraction(0)
    sat_text = (
        "cost (a voter's satisfaction is the money spent on projects they voted for)"
        if config.satisfaction == "cost"
        else "cardinality (a voter's satisfaction is the number of their projects funded)"
    )
    trace.insert(
        0,
        Step(
            0,
            "budget",
            f"Method of Equal Shares, satisfaction {sat_text}. The budget {budget} is split "
            f"equally among {n} voters: {_money(Fraction(budget, n or 1))} each"
            + (
                f"; the add1 completion raised it to {_money(per_voter)} per voter "
                f"({runs} runs of the method)"
                if final and final.scaled_budget != budget
                else ""
            )
            + f". Ties: {ties.describe()}.",
            None,
            {
                "voters": n,
                "per_voter": frac_str(Fraction(budget, n or 1)),
                "per_voter_used": frac_str(per_voter),
                "runs": runs,
            },
        ),
    )
    winners = list(free)
    for i in free:
        trace.append(Step(0, "select", f"{prof.ids[i]} costs nothing", prof.ids[i]))
    if final is not None:
        _explain_run(prof, engine, final, scores, trace)
        winners += final.winners
    if config.completion in ("greedy", "add1-greedy"):
        added = greedy_fill(prof, scores, ties, budget, winners, allowed=eligible)
        for r, i in enumerate(added, start=len(winners) + 1):
            trace.append(
                Step(
                    r,
                    "select",
                    f"completion by votes: {prof.ids[i]} ({scores[i]}) costs {prof.costs[i]}",
                    prof.ids[i],
                    {"score": scores[i], "cost": prof.costs[i]},
                )
            )
        winners += added
    if config.comparison != "none":
        other = greedy_fill(prof, scores, ties, budget, allowed=eligible)
        pro_mes, pro_greedy = _prefer(prof, winners, other, config.comparison)
        keep = pro_greedy <= pro_mes
        trace.append(
            Step(
                len(winners) + 1,
                "compare",
                f"comparison by {config.comparison}: {pro_mes} voters prefer this result, "
                f"{pro_greedy} prefer the greedy result by votes; "
                + ("this result stands." if keep else "the greedy result is chosen."),
                None,
                {"prefer_mes": pro_mes, "prefer_greedy": pro_greedy},
            )
        )
        if not keep:
            winners = other
    _explain_losers(prof, scores, winners, trace)
    options["exhaustive"] = str(_exhaustive(prof, pool, winners, budget)).lower()
    return Outcome(
        rule="mes",
        winners=[prof.ids[i] for i in winners],
        spent=_spent(prof, winners),
        budget=budget,
        scores={pid: scores[i] for i, pid in enumerate(prof.ids)},
        trace=trace,
        options=options,
    )


def _money(x: Fraction) -> str:
    if x.denominator == 1:
        return str(x.numerator)
    return f"{frac_str(x)} (≈{x.numerator // x.denominator}.{(x % 1 * 100).__floor__():02d})"


def _explain_run(
    prof: Profile, engine: MesEngine | ApprovalMes, run: Run, scores: list[int], trace: list[Step]
) -> None:
    n = prof.n_voters
    dropped_at: dict[int, list[int]] = {}
    for c, (rnd, _) in run.unaffordable.items():
        dropped_at.setdefault(rnd, []).append(c)
    for rnd, p in enumerate(run.purchases, start=1):
        for c in sorted(dropped_at.get(rnd - 1, []), key=lambda c: -scores[c]):
            _drop_step(prof, engine, run, c, rnd - 1, scores, trace)
        pid = prof.ids[p.project]
        cost = prof.costs[p.project]
        utilities = engine.utilities[p.project]
        price = to_fraction(p.price)
        if engine.utilities_per_project == 1 or len(utilities) == 1:
            pay = price * utilities[0] / n
            eff = Fraction(cost) / pay if pay else Fraction(0)
            text = (
                f"{pid} ({scores[p.project]} votes, cost {cost}) is bought: its supporters "
                f"pay at most {_money(pay)} each"
            )
            values: dict[str, int | str] = {
                "cost": cost,
                "votes": scores[p.project],
                "price_per_voter": frac_str(pay),
                "effective_votes": frac_str(eff),
            }
        else:
            per_unit = price / n
            text = (
                f"{pid} ({scores[p.project]} points, cost {cost}) is bought at "
                f"{_money(per_unit)} per point of satisfaction"
            )
            values = {"cost": cost, "points": scores[p.project], "price": frac_str(per_unit)}
        if p.paid_all:
            text += f"; {p.paid_all} of {p.payers} paying voters paid all they had left"
        values["payers"] = p.payers
        values["paid_all"] = p.paid_all
        trace.append(Step(rnd, "select", text, pid, values))
    last = len(run.purchases)
    for c in sorted(dropped_at.get(last, []), key=lambda c: -scores[c]):
        _drop_step(prof, engine, run, c, last, scores, trace)


def _drop_step(
    prof: Profile,
    engine: MesEngine | ApprovalMes,
    run: Run,
    c: int,
    rnd: int,
    scores: list[int],
    trace: list[Step],
) -> None:
    money = to_fraction(run.unaffordable[c][1]) / prof.n_voters
    pid = prof.ids[c]
    trace.append(
        Step(
            rnd,
            "unaffordable",
            f"{pid} ({scores[c]} votes, cost {prof.costs[c]}) can no longer be paid for: "
            f"its supporters have {_money(money)} left in all",
            pid,
            {"cost": prof.costs[c], "votes": scores[c], "money_behind": frac_str(money)},
        )
    )


def _explain_losers(
    prof: Profile,
    scores: list[int],
    winners: list[int],
    trace: list[Step],
) -> None:
    """For each project with more votes than some winner that was not funded, say why,
    pointing at the round where its supporters could no longer pay for it."""
    if not winners:
        return
    chosen = set(winners)
    weakest = min(winners, key=lambda i: scores[i])
    dropped = {s.project: s for s in trace if s.action == "unaffordable"}
    ineligible = {s.project for s in trace if s.action == "ineligible"}
    for i in sorted(range(len(prof.ids)), key=lambda i: -scores[i]):
        pid = prof.ids[i]
        if i in chosen or scores[i] <= scores[weakest]:
            continue
        if pid in ineligible:
            why = "it was not eligible (see above)"
        elif pid in dropped:
            step = dropped[pid]
            left = _money(parse_frac(str(step.values["money_behind"])))
            if step.round == 0:
                why = (
                    f"its supporters' equal shares, {left} in all, never added up to its "
                    f"cost {prof.costs[i]}"
                )
            else:
                why = (
                    f"after round {step.round} its supporters had {left} left in all, less "
                    f"than its cost {prof.costs[i]}: their equal shares had gone to other "
                    "projects they voted for"
                )
        else:
            why = "the greedy result was chosen instead (see the comparison above)"
        trace.append(
            Step(
                len(winners) + 1,
                "note",
                f"{pid} had more votes ({scores[i]}) than the funded {prof.ids[weakest]} "
                f"({scores[weakest]}) but is not funded: {why}",
                pid,
                {"votes": scores[i]},
            )
        )
