"""``veche bench tally``: Veche's tally against pabutools. It prints figures; it is not a test.

TEST/BENCH-ONLY. pabutools (GPL) is never imported by the product: this module runs it
only in a child process (``_PABUTOOLS``, a script given to ``python -c``), which the
bench stops at ``--timeout``. Two headline figures, each beside pabutools end to end
(its own parser, then its rule) in the same run, with the ratio:

(a) Warsaw 2026, MES with the add1 completion (cost satisfaction, stopping at the first
    exhaustive result as pabutools does): the reading of the file and the rule, timed in
    a process of their own (``_VECHE_ADD1``, with the reading ``veche tally`` uses);
(b) ``veche tally FILE`` as a real process (start, imports, parse, rule, print) on a
    synthetic approval election (``--tally-voters``, default 20,000 voters, 60 projects)
    that declares MES with cost satisfaction and no completion.

Both run from compiled bytecode, as installed packages run (``_installed_env``), each
side best of three processes after an untimed first one.

Then, unless ``--skip-table``, every rule of ``--rules`` on Łódź 2022, Warsaw 2026 and a
synthetic election of ``--voters``: Veche from parsed data in this process, pabutools
from parsed data in its own.

``add_tally_bench`` registers the command on ``veche bench``'s subparsers; it imports
nothing heavy, the bench imports the tally when it runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tally.pabulib import PabulibFile

__all__ = ["BENCH_RULES", "add_tally_bench", "run_bench", "synthetic_approval"]

BENCH_FILES = ("Poland_Lodz_2022.pb", "Poland_Warszawa_2026.pb")
WARSAW = "Poland_Warszawa_2026.pb"
# (label, RuleConfig options); add1 here stops at an exhaustive result like pabutools.
BENCH_RULES: list[tuple[str, dict[str, Any]]] = [
    ("greedy", {"rule": "greedy"}),
    ("mes", {"rule": "mes", "completion": "none"}),
    ("mes+add1", {"rule": "mes", "completion": "add1", "add1_exhaustive_stop": True}),
    ("phragmen", {"rule": "phragmen"}),
]

# The pabutools side, run as ``python -c _PABUTOOLS PATH LABEL SEED_HEX``: pabutools'
# parser, then its rule with Veche's tie-break (lower cost, more votes, then the lot).
# It prints the winners and the seconds taken by the imports, the parser and the rule.
_PABUTOOLS = """
import hashlib, json, sys, time
t0 = time.perf_counter()
from pabutools.election import Cost_Sat, parse_pabulib
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares
from pabutools.rules import sequential_phragmen
from pabutools.tiebreaking import TieBreakingRule
t1 = time.perf_counter()
path, label, seed = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
inst, prof = parse_pabulib(path)
t2 = time.perf_counter()
votes = {p.name: prof.approval_score(p) for p in inst}
lot = {p.name: hashlib.sha256(seed + p.name.encode()).digest() for p in inst}
tie = TieBreakingRule(lambda _i, _p, p: (p.cost, -votes[p.name], lot[p.name]))
if label == "greedy":
    res = greedy_utilitarian_welfare(
        inst, prof.as_multiprofile(), sat_class=Cost_Sat, tie_breaking=tie
    )
elif label in ("mes", "mes+add1"):
    res = method_of_equal_shares(
        inst,
        prof.as_multiprofile(),
        sat_class=Cost_Sat,
        tie_breaking=tie,
        voter_budget_increment=1 if label == "mes+add1" else None,
    )
else:
    res = sequential_phragmen(inst, prof.as_multiprofile(), tie_breaking=tie)
t3 = time.perf_counter()
print(json.dumps({"winners": [p.name for p in res], "import": t1 - t0, "parse": t2 - t1,
                  "rule": t3 - t2}))
"""


def synthetic_approval(
    voters: int, projects: int = 60, seed: int = 2026, rule: str = "greedy"
) -> PabulibFile:
    """A reproducible approval election: skewed popularity, 1–6 approvals per voter,
    costs between 10 000 and 2 000 000, budget a quarter of the total cost; META declares
    ``rule``."""
    from tally.model import ApprovalBallot, Ballot, Election, Project
    from tally.pabulib import PabulibFile

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
        meta={"description": f"synthetic approval election, {voters} voters", "rule": rule},
    )


class _Pabutools:
    """pabutools in a child process: its wall time (start, imports, parse, rule), what
    it reports of its parse and rule, and its winners; ``None`` on a timeout or failure."""

    def __init__(
        self,
        path: Path,
        label: str,
        seed: bytes,
        timeout: int,
        env: dict[str, str] | None = None,
    ) -> None:
        cmd = [sys.executable, "-c", _PABUTOOLS, str(path), label, seed.hex()]
        self.wall: float | None = None
        self.parse_and_rule: float | None = None
        self.winners: list[str] | None = None
        t0 = time.perf_counter()
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            print(f"pabutools failed on {path.name} {label}: {done.stderr.strip()[-300:]}")
            return
        data = json.loads(done.stdout.strip().splitlines()[-1])
        self.wall = wall
        self.parse_and_rule = float(data["parse"]) + float(data["rule"])
        self.winners = list(data["winners"])


def _same(ours: list[str], theirs: list[str] | None) -> str:
    if theirs is None:
        return "n/a"
    if ours == theirs:
        return "identical"
    return "same set" if set(ours) == set(theirs) else "DIFFERENT"


def _ratio(ours: float, theirs: float | None, timeout: int) -> tuple[str, str]:
    if theirs is None:
        return f">{timeout:.0f}", f">{timeout / ours:.0f}x"
    return f"{theirs:.2f}", f"{theirs / ours:.1f}x"


# Figure (a) on Veche's side, run as ``python -c _VECHE_ADD1 PATH``: the reading and the
# rule ``veche tally`` uses, timed inside the process; it prints the seconds and winners.
_VECHE_ADD1 = """
import json, sys, time
from tally.compute import compute_profile
from tally.model import RuleConfig, TieBreak
from tally.pabulib import file_seed
from tally.pabulib.counted import read_for_tally
data = open(sys.argv[1], "rb").read()
t0 = time.perf_counter()
tf = read_for_tally(data)
t1 = time.perf_counter()
config = RuleConfig(rule="mes", completion="add1", add1_exhaustive_stop=True,
                    tie_break=TieBreak(seed=file_seed(data)))
outcome = compute_profile(tf.election, tf.profile, config)
t2 = time.perf_counter()
print(json.dumps({"parse": t1 - t0, "rule": t2 - t1, "winners": outcome.winners}))
"""


def _warsaw_add1(data_dir: Path, skip_pabutools: bool, timeout: int, tmp: Path) -> None:
    from tally.pabulib import file_seed

    path = data_dir / WARSAW
    print("(a) Warsaw 2026, MES + add1 (cost satisfaction, exhaustive stop), one process")
    if not path.exists():
        print(f"    missing {path}; skipped")
        return
    env = _installed_env(tmp)
    cmd = [sys.executable, "-c", _VECHE_ADD1, str(path)]
    subprocess.run(cmd, capture_output=True, env=env)  # compiles, as (b) does
    runs: list[tuple[float, float]] = []
    winners: list[str] = []
    for _ in range(3):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            print(f"    veche failed: {done.stderr.strip()[-300:]}")
            return
        got = json.loads(done.stdout.strip().splitlines()[-1])
        runs.append((float(got["parse"]), float(got["rule"])))
        winners = list(got["winners"])
    parse, rule = min(runs, key=sum)
    shown = ", ".join(f"{p + r:.2f}" for p, r in runs)
    print(
        f"    veche      rule {rule:.2f} s, parse + rule {parse + rule:.2f} s "
        f"(best of 3 processes, from bytecode: {shown} s)"
    )
    if skip_pabutools:
        return
    theirs = _Pabutools(path, "mes+add1", file_seed(path.read_bytes()), timeout)
    shown, ratio = _ratio(parse + rule, theirs.parse_and_rule, timeout)
    print(
        f"    pabutools  parse + rule {shown} s: {ratio} Veche's parse + rule; "
        f"winners {_same(winners, theirs.winners)}"
    )


# ``veche tally`` as a user runs it (``veche`` is this entry point).
VECHE = ["-c", "from veche.cli import entry; entry()"]


def _installed_env(tmp: Path) -> dict[str, str]:
    """The environment both sides of (b) run in: as installed packages run, from compiled
    bytecode. An installer compiles a package's modules once; with
    ``PYTHONDONTWRITEBYTECODE`` set, modules run from a source tree would instead be
    compiled again in every process. The bytecode is kept under ``tmp`` (never in the
    source tree), and a first, untimed run of each side writes it."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


def _tally_end_to_end(
    voters: int, skip_pabutools: bool, timeout: int, tmp: Path, veche: list[str]
) -> None:
    from tally.pabulib import file_seed, write_pb

    print(
        f"(b) veche tally end to end, synthetic {voters:,} voters, 60 projects, "
        "MES (cost satisfaction, no completion)"
    )
    path = tmp / f"synthetic_{voters}_mes.pb"
    path.write_bytes(write_pb(synthetic_approval(voters, rule="equalshares")))
    cmd = [sys.executable, *veche]
    env = _installed_env(tmp)
    subprocess.run([*cmd, "tally", str(path)], capture_output=True, env=env)  # compiles
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        done = subprocess.run([*cmd, "tally", str(path)], capture_output=True, text=True, env=env)
        best = min(best, time.perf_counter() - t0)
        if done.returncode != 0:
            print(f"    veche tally failed: {done.stderr.strip()[-300:]}")
            return
    shown = subprocess.run([*cmd, "tally", str(path), "--json"], capture_output=True, text=True)
    winners = list(json.loads(shown.stdout)["winners"]) if shown.returncode == 0 else []
    print(
        f"    veche      {best:.3f} s (a process: start, imports, parse, rule, print; "
        "from bytecode; best of 3)"
    )
    if skip_pabutools:
        return
    seed = file_seed(path.read_bytes())
    _Pabutools(path, "mes", seed, timeout, env)  # compiles, as for Veche
    tries = [_Pabutools(path, "mes", seed, timeout, env) for _ in range(3)]
    walls = [t.wall for t in tries if t.wall is not None]
    theirs = tries[-1]
    wall, ratio = _ratio(best, min(walls) if len(walls) == 3 else None, timeout)
    print(
        f"    pabutools  {wall} s (a process: start, imports, parse, rule; best of 3): "
        f"{ratio} Veche's; winners {_same(winners, theirs.winners)}"
    )


def _table(
    data_dir: Path, skip_pabutools: bool, timeout: int, voters: int, rules: list[str], tmp: Path
) -> None:
    from tally.compute import compute
    from tally.model import RuleConfig, TieBreak
    from tally.pabulib import file_seed, read_pb, write_pb

    instances: list[tuple[str, Path, PabulibFile]] = []
    for name in BENCH_FILES:
        path = data_dir / name
        if not path.exists():
            print(f"missing {path}; skipped", file=sys.stderr)
            continue
        instances.append((name.removesuffix(".pb"), path, read_pb(path)))
    synth = synthetic_approval(voters)
    synth_path = tmp / f"synthetic_{voters}.pb"
    synth_path.write_bytes(write_pb(synth))
    instances.append((f"synthetic {voters} voters", synth_path, synth))
    print("Each rule from parsed data (pabutools: parse + rule, in its own process)")
    header = (
        f"{'instance':<28} {'rule':<9} {'veche s':>8} {'pabutools s':>12} {'ratio':>7}  winners"
    )
    print(header)
    print("-" * len(header))
    for title, path, pf in instances:
        seed = file_seed(path.read_bytes())
        for label, opts in BENCH_RULES:
            if label not in rules:
                continue
            config = RuleConfig(**opts, tie_break=TieBreak(seed=seed))
            t0 = time.perf_counter()
            outcome = compute(pf.election, pf.ballots, config)
            ours = time.perf_counter() - t0
            if skip_pabutools:
                theirs_s, ratio, same = "-", "-", "-"
            else:
                theirs = _Pabutools(path, label, seed, timeout)
                theirs_s, ratio = _ratio(ours, theirs.parse_and_rule, timeout)
                same = _same(outcome.winners, theirs.winners)
            print(
                f"{title:<28} {label:<9} {ours:>8.2f} {theirs_s:>12} {ratio:>7}  {same}",
                flush=True,
            )


def run_bench(
    *,
    data_dir: Path,
    skip_pabutools: bool,
    timeout: int,
    voters: int,
    tally_voters: int = 20_000,
    rules: list[str] | None = None,
    skip_table: bool = False,
    veche: list[str] = VECHE,
) -> int:
    """Print the figures; the exit status. ``veche``: the arguments of ``python`` that
    run the ``veche`` command."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        _warsaw_add1(data_dir, skip_pabutools, timeout, tmp)
        _tally_end_to_end(tally_voters, skip_pabutools, timeout, tmp, veche)
        if not skip_table:
            print()
            chosen = rules if rules is not None else [label for label, _ in BENCH_RULES]
            _table(data_dir, skip_pabutools, timeout, voters, chosen, tmp)
    return 0


def add_tally_bench(bench_subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``tally`` on the ``veche bench`` command's subparsers."""
    p = bench_subparsers.add_parser(
        "tally",
        help="time the tally against pabutools on large elections (prints figures)",
        description=__doc__.split("\n\n``add_tally_bench``")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path("tests/data/pabulib"),
        help="where the .pb files are (default tests/data/pabulib)",
    )
    p.add_argument("--skip-pabutools", action="store_true", help="time Veche only")
    p.add_argument(
        "--timeout",
        type=int,
        default=300,
        help="seconds allowed to each pabutools computation (default 300)",
    )
    p.add_argument(
        "--tally-voters",
        type=int,
        default=20_000,
        help="voters of the synthetic election veche tally runs on (default 20000)",
    )
    p.add_argument(
        "--voters", type=int, default=200_000, help="synthetic election size in the table"
    )
    p.add_argument(
        "--rules",
        default="greedy,mes,mes+add1,phragmen",
        help="comma-separated rules of the table (default greedy,mes,mes+add1,phragmen)",
    )
    p.add_argument("--skip-table", action="store_true", help="print the two headline figures only")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return run_bench(
        data_dir=args.data_dir,
        skip_pabutools=args.skip_pabutools,
        timeout=args.timeout,
        voters=args.voters,
        tally_voters=args.tally_voters,
        rules=[r.strip() for r in args.rules.split(",") if r.strip()],
        skip_table=args.skip_table,
    )
