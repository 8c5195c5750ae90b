"""The report of ``veche verify``'s election checks (docs/protocol.md, "Verifier"): what
each election is found to be (``ElectionSummary``), the problems found with the seq of
their entry (``ElectionFailure``), the report as JSON and as the lines printed for a
person."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ballot.core import record, verify_trustees


@dataclass
class ElectionSummary:
    id: str
    title: str
    hash: str
    status: str
    issued: int
    cast: int
    counted: int | None = None
    superseded: int | None = None
    rejected: dict[str, int] = field(default_factory=dict)
    winners: list[str] | None = None
    spent: int | None = None
    budget: int = 0
    currency: str = ""
    results_checked: int = 0
    test: bool = False
    # How the server's served result compares with the logged one (read from a URL only).
    served_result: str | None = None
    # The electorate committed at opening (None: the manifest commits none, §12), the
    # voters added since, and each addition as {"seq", "count", "reason"}.
    electorate: int | None = None
    added: int = 0
    additions: list[dict[str, Any]] = field(default_factory=list)
    # {"seq", "at", "closes_at", "reason"} when the election was closed before its window
    # ended (docs/protocol.md §10.4); ``reason`` is None in logs written before reasons.
    early_close: dict[str, Any] | None = None
    # A trustee election's (§14.11): {"threshold", "members", "released"}, and the
    # spoiled ballots as {"seq", "code"}; absent from the report for other elections.
    trustees: dict[str, Any] | None = None
    spoiled: list[dict[str, Any]] | None = None
    # A survey's (§19.6): its number of questions and of texts validly withheld; absent
    # from the report for other elections.
    questions: int | None = None
    withheld: int | None = None


@dataclass
class ElectionFailure:
    seq: int | None
    code: str
    detail: str


_ONLY_WHEN_SET = frozenset({"trustees", "spoiled", "questions", "withheld"})


@dataclass
class ElectionReport:
    elections: list[ElectionSummary] = field(default_factory=list)
    failures: list[ElectionFailure] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        # Under their own key: the log's ``failures`` are the log checks' (§10.5).
        return {
            "elections": [
                {k: v for k, v in vars(e).items() if v is not None or k not in _ONLY_WHEN_SET}
                for e in self.elections
            ],
            "election_failures": [vars(f) for f in self.failures],
        }


def _money(amount: int, unit: int) -> str:
    """Minor units as a currency amount: 765000000 kopecks → 7,650,000.00."""
    if unit == 1:
        return f"{amount:,}"
    places = len(str(unit)) - 1
    whole, part = divmod(amount, unit)
    return f"{whole:,}.{part:0{places}d}"


def summary_lines(report: ElectionReport) -> list[str]:
    lines: list[str] = []
    for e in report.elections:
        lines.append(f"Election {e.id} — {e.title}")
        lines.append(f"  manifest hash:          {e.hash}")
        lines.append(f"  status:                 {e.status}")
        if e.test:
            lines.append("  TEST ELECTION:          marked a test in its manifest; not a real vote")
        if e.electorate is None:
            lines.append(
                "  electorate:             not committed (a manifest of an earlier release)"
            )
        else:
            lines.append(
                f"  electorate:             {e.electorate:,} committed at opening"
                + (f", {e.added:,} added since" if e.additions else "")
            )
            for addition in e.additions:
                lines.append(
                    f"    added at seq {addition['seq']}: {addition['count']:,} voter(s),"
                    f" reason: {addition['reason']}"
                )
        lines.append(f"  credentials issued:     {e.issued:,}")
        lines.append(f"  ballots cast:           {e.cast:,}")
        if e.early_close is not None:
            reason = e.early_close["reason"]
            lines.append(
                f"  closed early:           at {e.early_close['at']} (seq "
                f"{e.early_close['seq']}), before the window's end at "
                f"{e.early_close['closes_at']}"
            )
            lines.append(
                "  early close reason:     "
                + (repr(reason) if reason is not None else "(none logged)")
            )
        if e.counted is not None:
            lines.append(
                f"  ballots counted:        {e.counted:,} (one per credential, the last;"
                f" {e.superseded or 0:,} earlier ballots replaced)"
            )
            refused = sum(e.rejected.values())
            reasons = ", ".join(f"{code}: {n}" for code, n in sorted(e.rejected.items()))
            lines.append(
                f"  ballots refused:        {refused:,}" + (f" ({reasons})" if reasons else "")
            )
        lines.extend(verify_trustees.summary_lines(e.trustees, e.spoiled))
        if e.questions is not None:
            lines.append(
                f"  survey:                 {e.questions} questions, each recomputed with the "
                f"result; {e.withheld or 0} text(s) withheld by logged entries"
            )
        if e.winners is not None:
            lines.append(f"  winners:                {', '.join(e.winners) or '(none)'}")
            if e.budget:
                unit = record.currency_unit(e.currency)
                lines.append(
                    f"  money:                  {_money(e.spent or 0, unit)} of "
                    f"{_money(e.budget, unit)} {e.currency}"
                )
            lines.append(
                f"  published result:       recomputed and matches ({e.results_checked} checked)"
            )
        if e.served_result is not None:
            lines.append(f"  served result:          {e.served_result}")
    if report.failures:
        lines.append(f"Election checks found {len(report.failures):,} problem(s):")
        for failure in report.failures[:200]:
            where = f"seq {failure.seq}" if failure.seq is not None else "log"
            lines.append(f"  {where}: {failure.code}: {failure.detail}")
        if len(report.failures) > 200:
            lines.append(f"  … and {len(report.failures) - 200:,} more")
    return lines
