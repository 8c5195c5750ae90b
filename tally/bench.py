"""``veche bench tally``: Veche's tally against pabutools on large elections.

TEST/BENCH-ONLY. pabutools (GPL) is never imported by the product: this module imports it
only inside ``_pabutools_worker``, which runs in a separate process started by the bench
(so a slow pabutools computation can be stopped at ``--timeout``). Prints figures; it is
not a test. Both sides are timed from parsed data: Veche's time includes grouping the
ballots, pabutools' time includes building its multiprofile (for MES and Phragmén).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tally.compute import compute
from tally.model import ApprovalBallot, Ballot, Election, Project, RuleConfig, TieBreak
from tally.pabulib import PabulibFile, file_seed, read_pb, write_pb

__all__ = ["BENCH_RULES", "run_bench", "synthetic_approval"]

BENCH_FILES = ("Poland_Lodz_2022.pb", "Poland_Warszawa_2026.pb")
# (label, RuleConfig options); add1 here stops at an exhaustive result like pabutools.
BENCH_RULES: list[tuple[str, dict[str, Any]]] = [
    ("greedy", {"rule": "greedy"}),
    ("mes", {"rule": "mes", "completion": "none"}),
    ("mes+add1", {"rule": "mes", "completion": "add1", "add1_exhaustive_stop": True}),
    ("phragmen", {"rule": "phragmen"}),
]


def synthetic_approval(voters: int, projects: int = 60, seed: int = 2026) -> PabulibFile:
    """A reproducible approval election: skewed popularity, 1–6 approvals per voter,
    costs between 10 000 and 2 000 000, budget a quarter of the total cost."""
    rng = random.Random(seed)
    plist = tuple(
        Project(f"p{k}", rng.randrange(10_000, 2_000_000), f"Project {k}") for k in range(projects)
    )
    weights = [1.0 / (k + 3) for k in range(projects)]
    ids = [p.id for p in plist]
    ballots: list[Ballot] = []
    for _ in range(voters):
        size = rng.randint(1, 6)
        ballots.append(ApprovalBallot(tuple(sorted(set(rng.choices(ids, weights, k=size))))))
    budget = sum(p.cost for p in plist) // 4
    election = Election(projects=plist, budget=budget, kind="approval")
    return PabulibFile(
        election=election,
        ballots=ballots,
        voter_ids=[str(v) for v in range(voters)],
        vote_type="approval",
        meta={"description": f"synthetic approval election, {voters} voters", "rule": "greedy"},
    )


def _pabutools_worker(path: str, label: str, seed_hex: str) -> None:
    """Runs in a child process: one pabutools computation, prints JSON winners + time."""
    import hashlib

    from pabutools.election import Cost_Sat, parse_pabulib  # type: ignore[import-untyped]
    from pabutools.rules import (  # type: ignore[import-untyped]
        greedy_utilitarian_welfare,
        method_of_equal_shares,
        sequential_phragmen,
    )
    from pabutools.tiebreaking import TieBreakingRule  # type: ignore[import-untyped]

    inst, prof = parse_pabulib(path)
    seed = bytes.fromhex(seed_hex)
    votes = {p.name: prof.approval_score(p) for p in inst}
    lot = {p.name: hashlib.sha256(seed + p.name.encode()).digest() for p in inst}
    tie = TieBreakingRule(lambda _i, _p, p: (p.cost, -votes[p.name], lot[p.name]))
    t0 = time.perf_counter_ns()
    if label == "greedy":
        res = greedy_utilitarian_welfare(
            inst, prof.as_multiprofile(), sat_class=Cost_Sat, tie_breaking=tie
        )
    elif label == "mes":
        res = method_of_equal_shares(
            inst, prof.as_multiprofile(), sat_class=Cost_Sat, tie_breaking=tie
        )
    elif label == "mes+add1":
        res = method_of_equal_shares(
            inst,
            prof.as_multiprofile(),
            sat_class=Cost_Sat,
            tie_breaking=tie,
            voter_budget_increment=1,
        )
    else:
        res = sequential_phragmen(inst, prof.as_multiprofile(), tie_breaking=tie)
    elapsed_ns = time.perf_counter_ns() - t0
    print(json.dumps({"winners": [p.name for p in res], "ns": elapsed_ns}))


def _pabutools(
    path: Path, label: str, seed: bytes, timeout: int
) -> tuple[int | None, list[str] | None]:
    cmd = [
        sys.executable,
        "-c",
        "import sys; from tally.bench import _pabutools_worker as w; w(*sys.argv[1:])",
        str(path),
        label,
        seed.hex(),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, None
    if done.returncode != 0:
        return None, None
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return int(data["ns"]), list(data["winners"])


def run_bench(
    *,
    data_dir: Path,
    skip_pabutools: bool,
    timeout: int,
    voters: int,
    rules: list[str] | None = None,
) -> int:
    instances: list[tuple[str, Path, PabulibFile]] = []
    for name in BENCH_FILES:
        path = data_dir / name
        if not path.exists():
            print(f"missing {path}; skipped", file=sys.stderr)
            continue
        instances.append((name.removesuffix(".pb"), path, read_pb(path)))
    tmp = tempfile.TemporaryDirectory()
    synth = synthetic_approval(voters)
    synth_path = Path(tmp.name) / f"synthetic_{voters}.pb"
    synth_path.write_bytes(write_pb(synth))
    instances.append((f"synthetic {voters} voters", synth_path, synth))
    header = (
        f"{'instance':<28} {'rule':<9} {'veche s':>8} {'pabutools s':>12} {'ratio':>7}  winners"
    )
    print(header)
    print("-" * len(header))
    for title, path, pf in instances:
        seed = file_seed(path.read_bytes())
        for label, opts in BENCH_RULES:
            if rules is not None and label not in rules:
                continue
            config = RuleConfig(**opts, tie_break=TieBreak(seed=seed))
            t0 = time.perf_counter_ns()
            outcome = compute(pf.election, pf.ballots, config)
            ours_ns = time.perf_counter_ns() - t0
            ours = ours_ns / 1e9
            if skip_pabutools:
                theirs_s, same = "-", "-"
                ratio = "-"
            else:
                theirs, winners = _pabutools(path, label, seed, timeout)
                if theirs is None or winners is None:
                    theirs_s, ratio, same = f">{timeout:.0f}", f">{timeout / ours:.0f}x", "n/a"
                else:
                    theirs_s, ratio = f"{theirs / 1e9:.2f}", f"{theirs / ours_ns:.1f}x"
                    same = (
                        "identical"
                        if winners == outcome.winners
                        else ("same set" if set(winners) == set(outcome.winners) else "DIFFERENT")
                    )
            print(
                f"{title:<28} {label:<9} {ours:>8.2f} {theirs_s:>12} {ratio:>7}  {same}", flush=True
            )
    tmp.cleanup()
    return 0
