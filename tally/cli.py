"""The ``veche tally`` command: the result of a Pabulib ``.pb`` election.

``veche tally FILE.pb`` computes the rule the file declares in META (and says which);
options override it. Defaults when an option is not given and the file does not decide:
``--satisfaction cost``, ``--completion add1`` for ``--rule mes`` (raising until the next
raise would overspend, as the cities did), ``--comparison none``, ``--tie-break
cost-votes-lot`` with the lot seeded by SHA-256 of the file's bytes. What the reader
accepted but changed (a vote naming a project twice) is printed on stderr as a warning.
Bad input prints one line on stderr and exits with code 2.

``veche.cli`` registers the command with ``add_tally_command``; ``main`` runs it on its
own. This module imports only the standard library (argparse, os, sys): the tally is
imported when the command runs, so that building the ``veche`` parser stays cheap.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tally.pabulib import PabulibFile
    from tally.pabulib.counted import TallyFile

__all__ = ["HelpFormatter", "add_tally_command", "main", "run_tally"]

RULES = [
    "greedy",
    "greedy-no-skip",
    "greedy-threshold",
    "mes",
    "phragmen",
    "plurality",
    "approval",
    "borda",
]


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter (descriptions kept as written), told the terminal's width.

    A parser makes a formatter for every option it is given, and argparse's own finds
    the width with ``shutil``, whose import (with its archive modules) is a fortieth of a
    ``veche tally``. This one finds it as ``shutil.get_terminal_size`` does: ``COLUMNS``,
    else the terminal's width, else 80 columns."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0 and sys.__stdout__ is not None:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (ValueError, OSError):
            columns = 0
    return columns or 80


def add_tally_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``tally`` on the top-level CLI's subparsers; it runs ``run_tally``."""
    p = subparsers.add_parser(
        "tally",
        help="compute the result of a Pabulib .pb election",
        description=__doc__.split("\n\n``veche.cli``")[0] if __doc__ else None,
        formatter_class=HelpFormatter,
    )
    p.add_argument("file", help="a Pabulib .pb file")
    p.add_argument("--rule", choices=RULES, help="default: the rule the file declares")
    p.add_argument("--satisfaction", choices=["cost", "cardinality"], help="MES (default cost)")
    p.add_argument(
        "--completion",
        choices=["none", "greedy", "add1", "add1-greedy"],
        help="MES (default add1, or what the file declares)",
    )
    p.add_argument(
        "--comparison",
        choices=["none", "satisfaction", "exclusion"],
        help="MES (default none, or what the file declares)",
    )
    p.add_argument(
        "--tie-break",
        choices=["cost-votes-lot", "order"],
        default="cost-votes-lot",
        help="default cost-votes-lot (lot seeded by SHA-256 of the file); order = file order",
    )
    p.add_argument("--threshold", type=int, help="greedy-threshold minimum score")
    p.add_argument("--json", action="store_true", help="print the Outcome as JSON")
    p.set_defaults(func=run_tally)


def main(argv: Sequence[str] | None = None) -> int:
    """``veche tally`` on its own: ``main(["tally", "FILE.pb", ...])``."""
    parser = argparse.ArgumentParser(prog="veche", formatter_class=HelpFormatter)
    add_tally_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def _fail(message: str) -> int:
    print(f"veche tally: {message}", file=sys.stderr)
    return 2


def lot_seed_of(pf: PabulibFile | TallyFile, data: bytes) -> bytes:
    """The lot's seed: the one a Veche election published (META ``veche_lot_seed``, so
    that its exported ballots count exactly as the election did), else the file's hash."""
    from tally.pabulib.file import file_seed

    published = pf.meta.get("veche_lot_seed", "")
    if len(published) == 64 and all(ch in "0123456789abcdef" for ch in published):
        return bytes.fromhex(published)
    return file_seed(data)


def run_tally(args: argparse.Namespace) -> int:
    """Run the command parsed by ``add_tally_command``'s parser; the exit status."""
    import msgspec

    from tally.compute import compute_profile
    from tally.errors import TallyError
    from tally.model import RuleConfig, TieBreak
    from tally.pabulib.counted import read_for_tally
    from tally.pabulib.declared import DECLARED_RULES, declared_config
    from tally.render import render_text

    try:
        with open(args.file, "rb") as f:  # (not pathlib: the tally does not load it)
            data = f.read()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror or exc}")
    try:
        pf = read_for_tally(data)
        for warning in pf.warnings:
            print(f"veche tally: warning: {warning}", file=sys.stderr)
        seed = lot_seed_of(pf, data)
        order = tuple(p.id for p in pf.election.projects)
        tb = TieBreak(method=args.tie_break, seed=seed, order=order)
        note = ""
        if args.rule is None:
            config = declared_config(pf, tb)
            declared = pf.declared_rule
            note = f"Using the rule the file declares: {declared} ({DECLARED_RULES[declared]})."
        else:
            threshold = args.threshold
            if threshold is None and args.rule == "greedy-threshold":
                threshold = int(pf.meta.get("min_project_score_threshold", "0") or 0)
            declared_mes = pf.declared_rule.startswith("equalshares") and args.rule == "mes"
            base = (
                declared_config(pf, tb)
                if declared_mes
                else RuleConfig(
                    rule=args.rule, completion="add1", add1_exhaustive_stop=False, tie_break=tb
                )
            )
            config = msgspec.structs.replace(base, threshold=threshold or 0)
        changes: dict[str, Any] = {}
        for opt in ("satisfaction", "completion", "comparison"):
            value = getattr(args, opt)
            if value is not None:
                changes[opt] = value
        if args.threshold is not None:
            changes["threshold"] = args.threshold
        if changes:
            config = msgspec.structs.replace(config, **changes)
        outcome = compute_profile(pf.election, pf.profile, config)
    except TallyError as exc:
        return _fail(exc.detail)
    except ValueError as exc:
        return _fail(str(exc))
    if args.json:
        sys.stdout.write(msgspec.json.encode(outcome).decode() + "\n")
    else:
        title = " ".join(v for k in ("description", "instance") if (v := pf.meta.get(k, "")))
        heading = f"{title}\n{note}" if note else title
        sys.stdout.write(render_text(outcome, pf.election, heading=heading))
    return 0
