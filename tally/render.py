"""An ``Outcome`` as text a resident can read: winners, spending, and the trace."""

from __future__ import annotations

from tally.model import Election, Outcome

__all__ = ["render_text"]


def render_text(outcome: Outcome, election: Election, *, heading: str = "") -> str:
    names = {p.id: p.name for p in election.projects}
    costs = {p.id: p.cost for p in election.projects}
    lines: list[str] = []
    if heading:
        lines.append(heading)
    opts = ", ".join(f"{k}={v}" for k, v in outcome.options.items())
    lines.append(f"Rule: {outcome.rule}" + (f" ({opts})" if opts else ""))
    lines.append("")
    rows = [("#", "project", "cost", "score", "name")]
    for k, pid in enumerate(outcome.winners, start=1):
        name = names.get(pid, "")
        if len(name) > 60:
            name = name[:57] + "..."
        rows.append(
            (str(k), pid, _amount(costs[pid], election.unit), str(outcome.scores.get(pid, 0)), name)
        )
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    for r in rows:
        lines.append(
            f"{r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  "
            f"{r[3]:>{widths[3]}}  {r[4]}".rstrip()
        )
    lines.append("")
    spent, budget = outcome.spent, outcome.budget
    pct = f" ({spent * 100 // budget}%)" if budget else ""
    lines.append(
        f"Spent {_amount(spent, election.unit)} of {_amount(budget, election.unit)}{pct}; "
        f"{len(outcome.winners)} projects funded."
    )
    lines.append("")
    lines.append("How the result came about:")
    for step in outcome.trace:
        prefix = f"  [{step.round}] " if step.round else "  "
        lines.append(prefix + step.text)
    return "\n".join(lines) + "\n"


def _amount(minor: int, unit: int) -> str:
    if unit == 1:
        return str(minor)
    places = len(str(unit)) - 1
    whole, part = divmod(minor, unit)
    return f"{whole}.{part:0{places}d}"
