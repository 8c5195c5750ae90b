"""``veche election …``: the administrator's side, on the local data directory.

It works on the database of the data directory (``--data-dir`` or ``VECHE_DATA_DIR``,
and ``VECHE_DATABASE_URL`` for PostgreSQL) through the same ``ElectionService`` the
server runs, so a running server sees the change at once. The composition root
(``veche.cli``) builds that service and hands it in (``open_services``):

- ``create FILE`` -- a configuration in TOML or JSON, the same object the HTTP API takes
  (``POST /api/v1/elections``). In TOML, write times as quoted strings, RFC 3339 UTC to
  the second (``opens_at = "2027-03-01T06:00:00Z"``); ``--opens-at``/``--closes-at``
  replace the window's times and also take ``now`` or ``+N`` with a unit
  (``+30m``, ``+12h``, ``+14d``) counted from now.
- ``open ID``, ``close ID [--early --reason TEXT]``, ``list``;
- ``roll ID FILE.csv`` -- add voters (header ``voter_id[,email]``; all rows or none);
- ``codes ID --out FILE.csv`` -- one-time access codes for the roll entries that have
  none; the codes are shown only once, so the file is created new, readable only by its
  owner (mode 0600), before the codes are committed. The roll and the codes change only
  while the election is a draft;
- ``add-voters ID [FILE.csv] --reason TEXT [--residents ID,…] [--out FILE.csv]`` -- add
  voters to an open election, logged as ``electorate.added`` with the reason.

Every refusal is one line on standard error and exit status 1.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ballot.cli.common import Refusal, reported
from ballot.core.config import format_time, parse_config
from ballot.core.config_checks import validate_config
from ballot.services.elections import ElectionService
from ballot.services.errors import ElectionError
from ballot.services.lifecycle import ElectionSummary
from ballot.services.roll import access_codes_csv
from kernel.db import make_sessionmaker, session_scope
from kernel.errors import InvalidInput
from kernel.settings import add_data_dir_option

__all__ = [
    "LocalServices",
    "OpenServices",
    "add_election_command",
    "parse_moment",
    "read_config_file",
]

_RELATIVE = re.compile(r"\+(\d{1,6})([mhd])")


class LocalServices(NamedTuple):
    """What ``veche election`` works with: the data directory's election service and the
    engine of its database."""

    service: ElectionService
    engine: Engine


# Given the command's arguments (``--data-dir``), the services of that data directory,
# released (the sequencer stopped, the engine disposed) when the context ends.
OpenServices = Callable[[argparse.Namespace], AbstractContextManager[LocalServices]]


def _reported(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``reported``, with the election services' refusals as lines too."""

    def election_errors(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (ElectionError, InvalidInput) as exc:
            raise Refusal(f"{exc.detail} ({exc.code})") from None

    return reported(election_errors)


@contextmanager
def _transaction(engine: Engine) -> Iterator[Session]:
    with session_scope(make_sessionmaker(engine)) as db:
        yield db


# --- configuration files --------------------------------------------------------------------
def _dates_in(value: object, path: str = "") -> Iterator[str]:
    """Paths of TOML date/time values, which the configuration takes as strings."""
    if isinstance(value, datetime | date | clock_time):
        yield path or "(top)"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _dates_in(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _dates_in(item, f"{path}[{i}]")


def read_config_file(path: Path) -> dict[str, Any]:
    """A TOML (``.toml``) or JSON file read into the dict the HTTP API takes."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise Refusal(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refusal(f"{path} is not UTF-8 text") from None
    as_toml = path.suffix.lower() == ".toml" or (
        path.suffix.lower() != ".json" and not text.lstrip().startswith("{")
    )
    data: object
    if as_toml:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise Refusal(f"{path} is not valid TOML: {exc}") from None
        dated = list(_dates_in(data))
        if dated:
            raise Refusal(
                *(
                    f"{field}: write the time as a quoted string, RFC 3339 UTC, "
                    f'e.g. "2027-03-01T06:00:00Z"'
                    for field in dated
                )
            )
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise Refusal(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Refusal(f"{path} must hold one object (a table), not {type(data).__name__}")
    return data


def parse_moment(text: str, now: datetime) -> str:
    """``now``, ``+N{m,h,d}`` from now, or an RFC 3339 UTC time, as the manifest writes it."""
    if text == "now":
        return format_time(now)
    relative = _RELATIVE.fullmatch(text)
    if relative is not None:
        amount, unit = int(relative.group(1)), relative.group(2)
        minutes = amount * {"m": 1, "h": 60, "d": 1440}[unit]
        return format_time(now + timedelta(minutes=minutes))
    return text  # checked with the rest of the configuration


def _override_window(data: dict[str, Any], opens: str | None, closes: str | None) -> None:
    if opens is None and closes is None:
        return
    now = datetime.now(UTC).replace(microsecond=0)
    window = data.get("window")
    window = dict(window) if isinstance(window, Mapping) else {}
    if opens is not None:
        window["opens_at"] = parse_moment(opens, now)
    if closes is not None:
        window["closes_at"] = parse_moment(closes, now)
    data["window"] = window


# --- veche election …  ----------------------------------------------------------------------
def _print_summary(s: ElectionSummary) -> None:
    window = s.config.get("window", {})
    print(f"  id:        {s.id}")
    print(f"  title:     {s.title}")
    print(f"  district:  {s.district}")
    print(f"  status:    {s.status}")
    print(f"  window:    {window.get('opens_at')} .. {window.get('closes_at')} (UTC)")
    if s.manifest_hash:
        print(f"  manifest:  {s.manifest_hash} (log entry {s.opened_seq})")
    if s.closed_seq is not None:
        print(f"  closed:    log entry {s.closed_seq}; counted log size {s.count_size}")


def cmd_create(open_services: OpenServices, args: argparse.Namespace) -> int:
    data = read_config_file(args.file)
    _override_window(data, args.opens_at, args.closes_at)
    with open_services(args) as (service, engine):
        config = parse_config(data)
        problems = validate_config(config, allow_test_keys=service.allow_test_keys)
        if problems:
            raise Refusal(*(f"{p.field}: {p.detail} ({p.code})" for p in problems))
        with _transaction(engine) as db:
            made = service.create(db, data)
    print(f"Election {made.id!r} created as a draft.")
    _print_summary(made)
    print(f"Open it for voting with: veche election open {made.id}")
    return 0


def cmd_open(open_services: OpenServices, args: argparse.Namespace) -> int:
    with open_services(args) as (service, _engine):
        opened = service.open(args.election)
    print(f"Election {opened.id!r} is open; its signed manifest is in the log.")
    _print_summary(opened)
    return 0


def cmd_close(open_services: OpenServices, args: argparse.Namespace) -> int:
    if args.reason is not None and not args.early:
        raise Refusal("--reason goes with --early: it is the reason of an early close")
    with open_services(args) as (service, _engine):
        closed = service.close(args.election, early=args.early, reason=args.reason)
    print(f"Election {closed.id!r} is closed and its sealing key published.")
    _print_summary(closed)
    return 0


def cmd_list(open_services: OpenServices, args: argparse.Namespace) -> int:
    with open_services(args) as (service, engine), _transaction(engine) as db:
        rows = service.list(db)
    if not rows:
        print("No elections yet.")
        return 0
    print(f"{'id':<28} {'status':<7} {'opens (UTC)':<21} {'closes (UTC)':<21} title")
    for s in rows:
        window = s.config.get("window", {})
        print(
            f"{s.id:<28} {s.status:<7} {window.get('opens_at', ''):<21} "
            f"{window.get('closes_at', ''):<21} {s.title}"
        )
    return 0


def cmd_roll(open_services: OpenServices, args: argparse.Namespace) -> int:
    try:
        text = args.file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise Refusal(f"cannot read {args.file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise Refusal(f"{args.file} is not UTF-8 text") from None
    with open_services(args) as (service, engine), _transaction(engine) as db:
        added = service.import_roll(db, args.election, text)
    print(f"Added {added} voters to the roll of {args.election!r}.")
    return 0


def _create_private(path: Path) -> io.TextIOWrapper:
    """A new file only its owner can read; an existing file is never overwritten."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Refusal(f"{path} exists; codes are shown only once, so choose a new file") from None
    except OSError as exc:
        raise Refusal(f"cannot create {path}: {exc.strerror or exc}") from None
    return open(fd, "w", encoding="utf-8", newline="")


def cmd_codes(open_services: OpenServices, args: argparse.Namespace) -> int:
    out: Path = args.out
    with open_services(args) as (service, engine):
        handle = _create_private(out)
        written = False
        try:
            # The codes commit only once they are safely on disk: a lost code could not
            # be shown again.
            with _transaction(engine) as db:
                made = service.make_access_codes(db, args.election)
                handle.write(access_codes_csv(made))
                handle.flush()
                os.fsync(handle.fileno())
                written = True
        finally:
            handle.close()
            if not written:
                out.unlink(missing_ok=True)
    if not made:
        print(f"Every roll entry of {args.election!r} already has a code; {out} has none.")
    else:
        print(f"Wrote {len(made)} one-time access codes to {out} (readable only by you).")
    return 0


def cmd_add_voters(open_services: OpenServices, args: argparse.Namespace) -> int:
    roll: str | None = None
    residents: list[str] = []
    if args.residents:
        residents = [p.strip() for p in args.residents.split(",") if p.strip()]
    elif args.file is not None:
        try:
            roll = args.file.read_bytes().decode("utf-8")
        except OSError as exc:
            raise Refusal(f"cannot read {args.file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise Refusal(f"{args.file} is not UTF-8 text") from None
    else:
        raise Refusal("give a CSV file of roll rows or --residents with public ids")
    # The file for the codes of added roll rows exists before anything is committed.
    handle = _create_private(args.out) if args.out is not None else None
    try:
        with open_services(args) as (service, _engine):
            added = service.add_voters(args.election, args.reason, roll=roll, residents=residents)
        if handle is not None:
            handle.write(access_codes_csv(added.access_codes))
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        if handle is not None:
            handle.close()
    print(
        f"Added {added.added} voters to the electorate of {args.election!r} "
        f"(log entry {added.seq}, electorate.added)."
    )
    if added.access_codes and args.out is None:
        print("Their one-time access codes (shown only this once):")
        for ref, code in added.access_codes:
            print(f"  {ref},{code}")
    elif added.access_codes:
        print(f"Wrote {len(added.access_codes)} access codes to {args.out} (readable only by you).")
    return 0


def add_election_command(
    subparsers: argparse._SubParsersAction[Any], open_services: OpenServices
) -> None:
    """Register ``election`` on the top-level CLI's subparsers. ``open_services(args)``
    gives the data directory's services (the composition root builds them from the
    settings the arguments select) and releases them when the command is done."""

    def command(
        run: Callable[[OpenServices, argparse.Namespace], int],
    ) -> Callable[[argparse.Namespace], int]:
        return _reported(partial(run, open_services))

    election = subparsers.add_parser(
        "election",
        help="configure, open and close elections in the local data directory",
        description=(
            "Configure, open and close elections, import the voter roll and make access "
            "codes, in the database of the data directory (--data-dir or VECHE_DATA_DIR; "
            "VECHE_DATABASE_URL for PostgreSQL). A running server sees the changes at once."
        ),
    )
    tasks = election.add_subparsers(dest="election_command", metavar="TASK")
    tasks.required = True

    create = tasks.add_parser(
        "create",
        help="configure a draft election from a TOML or JSON file",
        description=(
            "Configure a draft election from a TOML or JSON file holding the object that "
            "POST /api/v1/elections takes. Times are RFC 3339 UTC to the second, "
            'YYYY-MM-DDTHH:MM:SSZ; in TOML quote them ("2027-03-01T06:00:00Z").'
        ),
    )
    add_data_dir_option(create)
    create.add_argument("file", type=Path, help="the configuration (.toml or .json)")
    create.add_argument(
        "--opens-at",
        metavar="TIME",
        help="replace window.opens_at: RFC 3339 UTC, 'now', or '+N' with m, h or d (+2h)",
    )
    create.add_argument(
        "--closes-at",
        metavar="TIME",
        help="replace window.closes_at: RFC 3339 UTC, 'now', or '+N' with m, h or d (+14d)",
    )
    create.set_defaults(func=command(cmd_create))

    opening = tasks.add_parser(
        "open", help="freeze, sign and publish the manifest: voting may start"
    )
    add_data_dir_option(opening)
    opening.add_argument("election", metavar="ID", help="the election's id")
    opening.set_defaults(func=command(cmd_open))

    closing = tasks.add_parser(
        "close",
        help="end voting and publish the sealing key",
        description=(
            "End voting and publish the sealing key. Before the window's closes_at this "
            "is refused unless --early and --reason are given; the reason is published "
            "in the log's election.closed entry (keep personal data out of it)."
        ),
    )
    add_data_dir_option(closing)
    closing.add_argument("election", metavar="ID", help="the election's id")
    closing.add_argument(
        "--early",
        action="store_true",
        help="close before the voting window's end (needs --reason)",
    )
    closing.add_argument(
        "--reason",
        metavar="TEXT",
        help="why voting ends early: 1 to 500 characters, published in the log",
    )
    closing.set_defaults(func=command(cmd_close))

    listing = tasks.add_parser("list", help="all elections with their status and window")
    add_data_dir_option(listing)
    listing.set_defaults(func=command(cmd_list))

    roll = tasks.add_parser("roll", help="add voters from a CSV roll (voter_id[,email])")
    add_data_dir_option(roll)
    roll.add_argument("election", metavar="ID")
    roll.add_argument("file", type=Path, metavar="FILE.csv")
    roll.set_defaults(func=command(cmd_roll))

    codes = tasks.add_parser(
        "codes", help="make one-time access codes for roll entries that have none"
    )
    add_data_dir_option(codes)
    codes.add_argument("election", metavar="ID")
    codes.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE.csv",
        help="a new file for the codes (mode 0600; they are shown only this once)",
    )
    codes.set_defaults(func=command(cmd_codes))

    add = tasks.add_parser(
        "add-voters",
        help="add voters to an OPEN election, with a reason (logged as electorate.added)",
        description=(
            "The roll and the codes are frozen once the election opens. Voters the "
            "municipality must add while it is open are added with a reason, which is "
            "published in the log (no personal data) and reported by veche verify."
        ),
    )
    add_data_dir_option(add)
    add.add_argument("election", metavar="ID")
    add.add_argument("file", type=Path, nargs="?", metavar="FILE.csv", help="roll rows to add")
    add.add_argument("--reason", required=True, help="why voters are added (published)")
    add.add_argument(
        "--residents", metavar="ID,ID", help="public ids of accounts verified by staff"
    )
    add.add_argument(
        "--out", type=Path, metavar="FILE.csv", help="a new file for the added rows' access codes"
    )
    add.set_defaults(func=command(cmd_add_voters))
