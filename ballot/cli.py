"""``veche election …`` (the administrator's side, on the local data directory) and
``veche vote`` (the voter's side, against a server's HTTP API).

``veche election`` works on the database of the data directory (``--data-dir`` or
``VECHE_DATA_DIR``, and ``VECHE_DATABASE_URL`` for PostgreSQL) through the same
``ElectionService`` the server runs, so a running server sees the change at once:

- ``create FILE`` -- a configuration in TOML or JSON, the same object the HTTP API takes
  (``POST /api/v1/elections``). In TOML, write times as quoted strings, RFC 3339 UTC to
  the second (``opens_at = "2027-03-01T06:00:00Z"``); ``--opens-at``/``--closes-at``
  replace the window's times and also take ``now`` or ``+N`` with a unit
  (``+30m``, ``+12h``, ``+14d``) counted from now.
- ``open ID``, ``close ID``, ``list``;
- ``roll ID FILE.csv`` -- add voters (header ``voter_id[,email]``; all rows or none);
- ``codes ID --out FILE.csv`` -- one-time access codes for the roll entries that have
  none; the codes are shown only once, so the file is created new, readable only by its
  owner (mode 0600), before the codes are committed.

``veche vote URL --election ID`` with one of ``--approve``, ``--points``, ``--rank``,
``--choose`` obtains a credential (``--code`` for an access code, or ``--email`` to log in
with an account; the password from ``--password``, ``VECHE_PASSWORD`` or a prompt), seals,
signs and casts the ballot, checks the receipt (its inclusion proof and the checkpoint's
signature) and keeps the credential and receipts in a wallet:
``$XDG_DATA_HOME/veche/wallets/<host>/<election>.json`` (default ``~/.local/share/…``),
mode 0600, or ``--wallet PATH``. When the wallet already holds a credential for that
election, it is used again: a second ``veche vote`` re-votes, and the last ballot counts.

Every refusal is one line on standard error and exit status 1.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import json
import os
import re
import secrets
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ballot.core.choices import BallotRejected, validate_choices
from ballot.core.client import ClientError, ElectionInfo, VoterClient, Wallet
from ballot.core.config import format_time, parse_config, validate_config
from ballot.core.errors import BallotCryptoError, ManifestRejected
from ballot.services.elections import ElectionService, election_service
from ballot.services.errors import ElectionError
from ballot.services.lifecycle import ElectionSummary

__all__ = [
    "add_election_command",
    "add_vote_command",
    "default_wallet_path",
    "election_service",
    "parse_choices",
    "read_config_file",
]

EXIT_FAILURE = 1
PASSWORD_ENV = "VECHE_PASSWORD"
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_RELATIVE = re.compile(r"\+(\d{1,6})([mhd])")


class Refusal(Exception):
    """A failure to report as one line each (``lines``) and exit status 1."""

    def __init__(self, *lines: str) -> None:
        super().__init__(lines[0] if lines else "")
        self.lines = lines


def _fail(lines: tuple[str, ...] | list[str]) -> int:
    for line in lines:
        print(f"veche: error: {line}", file=sys.stderr)
    return EXIT_FAILURE


def _reported(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the refusals of the ballot package into lines; others reach ``veche.cli``."""

    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except Refusal as exc:
            return _fail(exc.lines)
        except ManifestRejected as exc:
            where = f"{exc.field}: " if exc.field else ""
            return _fail([f"{where}{exc.detail} ({exc.code})"])
        except ElectionError as exc:
            return _fail([f"{exc.detail} ({exc.code})"])
        except BallotCryptoError as exc:
            return _fail([f"{exc.detail} ({exc.code})"])

    return wrapper


# --- the service of the local data directory ------------------------------------------------
@contextmanager
def _local_service(args: argparse.Namespace) -> Iterator[tuple[ElectionService, Engine]]:
    from kernel.settings import load_settings
    from veche import setup

    settings = load_settings(overrides={"data_dir": getattr(args, "data_dir", None)})
    engine = setup.initialize(settings)
    service = election_service(settings, engine)
    try:
        yield service, engine
    finally:
        service.sequencer.stop()
        engine.dispose()


@contextmanager
def _transaction(engine: Engine) -> Iterator[Session]:
    from kernel.db import make_sessionmaker, session_scope

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


@_reported
def cmd_create(args: argparse.Namespace) -> int:
    data = read_config_file(args.file)
    _override_window(data, args.opens_at, args.closes_at)
    with _local_service(args) as (service, engine):
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


@_reported
def cmd_open(args: argparse.Namespace) -> int:
    with _local_service(args) as (service, _engine):
        opened = service.open(args.election)
    print(f"Election {opened.id!r} is open; its signed manifest is in the log.")
    _print_summary(opened)
    return 0


@_reported
def cmd_close(args: argparse.Namespace) -> int:
    with _local_service(args) as (service, _engine):
        closed = service.close(args.election)
    print(f"Election {closed.id!r} is closed and its sealing key published.")
    _print_summary(closed)
    return 0


@_reported
def cmd_list(args: argparse.Namespace) -> int:
    with _local_service(args) as (service, engine), _transaction(engine) as db:
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


@_reported
def cmd_roll(args: argparse.Namespace) -> int:
    try:
        text = args.file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise Refusal(f"cannot read {args.file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise Refusal(f"{args.file} is not UTF-8 text") from None
    with _local_service(args) as (service, engine), _transaction(engine) as db:
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


@_reported
def cmd_codes(args: argparse.Namespace) -> int:
    out: Path = args.out
    with _local_service(args) as (service, engine):
        handle = _create_private(out)
        written = False
        try:
            # The codes commit only once they are safely on disk: a lost code could not
            # be shown again.
            with _transaction(engine) as db:
                made = service.make_access_codes(db, args.election)
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(["voter_id", "access_code"])
                writer.writerows(made)
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


def add_election_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``election`` on the top-level CLI's subparsers."""
    from veche.cli import _add_data_dir

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
    _add_data_dir(create)
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
    create.set_defaults(func=cmd_create)

    for name, func, text in (
        ("open", cmd_open, "freeze, sign and publish the manifest: voting may start"),
        ("close", cmd_close, "end voting and publish the sealing key"),
    ):
        task = tasks.add_parser(name, help=text)
        _add_data_dir(task)
        task.add_argument("election", metavar="ID", help="the election's id")
        task.set_defaults(func=func)

    listing = tasks.add_parser("list", help="all elections with their status and window")
    _add_data_dir(listing)
    listing.set_defaults(func=cmd_list)

    roll = tasks.add_parser("roll", help="add voters from a CSV roll (voter_id[,email])")
    _add_data_dir(roll)
    roll.add_argument("election", metavar="ID")
    roll.add_argument("file", type=Path, metavar="FILE.csv")
    roll.set_defaults(func=cmd_roll)

    codes = tasks.add_parser(
        "codes", help="make one-time access codes for roll entries that have none"
    )
    _add_data_dir(codes)
    codes.add_argument("election", metavar="ID")
    codes.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE.csv",
        help="a new file for the codes (mode 0600; they are shown only this once)",
    )
    codes.set_defaults(func=cmd_codes)


# --- veche vote -----------------------------------------------------------------------------
def _ids(text: str, option: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise Refusal(f"{option}: give project ids separated by commas, e.g. park,library")
    return items


def parse_choices(args: argparse.Namespace) -> dict[str, Any]:
    """The choices object from ``--approve``, ``--points``, ``--rank`` or ``--choose``."""
    if args.approve is not None:
        return {"approve": _ids(args.approve, "--approve")}
    if args.rank is not None:
        return {"rank": _ids(args.rank, "--rank")}
    if args.choose is not None:
        return {"choose": _ids(args.choose, "--choose")}
    points: dict[str, int] = {}
    for item in _ids(args.points, "--points"):
        name, sep, number = item.partition("=")
        if not sep or not name.strip() or not re.fullmatch(r"\d{1,9}", number.strip()):
            raise Refusal(f"--points: {item!r} is not PROJECT=N with a whole number N")
        if name.strip() in points:
            raise Refusal(f"--points: {name.strip()!r} is given twice")
        points[name.strip()] = int(number)
    return {"points": points}


class _Http:
    """httpx.Client seen through ``ballot.client.Http`` (its narrower signature)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, **kwargs)


def _host_folder(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "server").lower()
    if parts.port is not None:
        host = f"{host}_{parts.port}"
    return re.sub(r"[^a-z0-9._-]", "_", host)


def default_wallet_path(url: str, election_id: str, env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/veche/wallets/<host>/<election>.json`` (default ~/.local/share)."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "veche" / "wallets" / _host_folder(url) / f"{election_id}.json"


def _password(args: argparse.Namespace) -> str:
    if args.password:
        return str(args.password)
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise Refusal(
            f"no password for {args.email}: pass --password, set {PASSWORD_ENV}, "
            "or run in a terminal to be asked"
        )
    return getpass.getpass(f"Password for {args.email}: ")


def _login(http: httpx.Client, email: str, password: str) -> dict[str, str]:
    response = http.post("/api/v1/auth/login", json={"email": email, "password": password})
    if response.status_code != 200:
        raise ClientError(*_error_of(response))
    token = response.json().get("csrf_token")
    if not isinstance(token, str):
        raise ClientError("bad_answer", "the log-in answer has no CSRF token")
    return {"X-CSRF-Token": token}


def _error_of(response: httpx.Response) -> tuple[str, str, int]:
    try:
        body = response.json()
        return str(body["error"]), str(body["detail"]), response.status_code
    except (ValueError, KeyError, TypeError):
        return "http_error", f"HTTP {response.status_code}", response.status_code


def _load_wallet(path: Path) -> Wallet | None:
    if not path.exists():
        return None
    try:
        return Wallet.load(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Refusal(f"the wallet {path} cannot be read: {exc}") from None


def _credential(
    client: VoterClient, http: httpx.Client, info: ElectionInfo, args: argparse.Namespace
) -> Wallet:
    if args.code:
        return client.obtain_credential(info, access_code=args.code)
    if args.email:
        headers = _login(http, args.email, _password(args))
        return client.obtain_credential(info, headers=headers)
    raise Refusal(
        "this is the first vote from this wallet: give --code (an access code) or "
        "--email (log in) to obtain a credential"
    )


def _vote(args: argparse.Namespace) -> int:
    url = str(args.url).rstrip("/")
    if urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).hostname:
        raise Refusal(f"{args.url!r} is not an http:// or https:// address")
    if not _SLUG.fullmatch(args.election):
        raise Refusal(f"{args.election!r} is not an election id (lowercase letters, digits, -)")
    choices = parse_choices(args)
    path: Path = args.wallet or default_wallet_path(url, args.election)
    wallet = _load_wallet(path)
    with httpx.Client(base_url=url, timeout=args.timeout) as http:
        client = VoterClient(_Http(http))
        info = client.election(args.election, allow_test_keys=args.allow_test_keys)
        # The voter's mistake is found before a one-time code is spent.
        validate_choices(info.manifest, choices)
        if wallet is not None and wallet.election_hash != info.hash:
            raise Refusal(
                f"the wallet {path} holds a credential for another election named "
                f"{args.election!r} (its manifest differs); use --wallet for a new file"
            )
        if wallet is None or wallet.token is None:
            wallet = _credential(client, http, info, args)
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            wallet.save(path)
            if args.delay:
                # Casting later than the issuance hides the link between the two in time.
                time.sleep(secrets.randbelow(args.delay * 1000 + 1) / 1000)
        receipt = client.cast(info, wallet, choices)
        wallet.save(path)
    again = len(wallet.receipts) > 1
    print(
        f"{'Re-voted' if again else 'Voted'} in {args.election!r}: the ballot is log entry "
        f"{receipt['seq']}, leaf hash {receipt['leaf_hash']}, in checkpoint size "
        f"{receipt['size']} (inclusion proof and checkpoint signature checked)."
    )
    if again:
        print(f"This is ballot {len(wallet.receipts)} of this credential; the last one counts.")
    print(f"Wallet (credential and receipts, keep it private): {path}")
    return 0


@_reported
def cmd_vote(args: argparse.Namespace) -> int:
    try:
        return _vote(args)
    except ClientError as exc:
        return _fail([f"the server refused: {exc.detail} ({exc.code})"])
    except BallotRejected as exc:
        return _fail([f"the choices are not valid: {exc.detail} ({exc.code})"])
    except ManifestRejected as exc:
        hint = ""
        if exc.field == "rsa_key_bits":
            hint = " (a test server's small key: --allow-test-keys)"
        return _fail([f"the election's manifest is refused: {exc.detail}{hint} ({exc.code})"])
    except httpx.TransportError as exc:
        return _fail([f"cannot reach {args.url}: {exc or type(exc).__name__}"])
    except (ValueError, KeyError, TypeError) as exc:  # not JSON, or not what the API says
        return _fail([f"the server's answer cannot be used: {exc!r}"])


def add_vote_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``vote`` on the top-level CLI's subparsers."""
    vote = subparsers.add_parser(
        "vote",
        help="vote in an election on a server, keeping the credential and receipts",
        description=(
            "Obtain a credential (or reuse the one in the wallet), seal, sign and cast a "
            "ballot, and check its receipt. Voting again re-votes: the last ballot counts."
        ),
    )
    vote.add_argument("url", metavar="URL", help="the server, e.g. https://vote.example.org")
    vote.add_argument("--election", required=True, metavar="ID", help="the election's id")
    kind = vote.add_mutually_exclusive_group(required=True)
    kind.add_argument("--approve", metavar="P1,P2", help="approval ballot: the projects approved")
    kind.add_argument("--points", metavar="P1=3,P2=2", help="cumulative ballot: points each")
    kind.add_argument("--rank", metavar="P3,P1", help="ordinal ballot: most preferred first")
    kind.add_argument("--choose", metavar="O1", help="poll: the options chosen")
    vote.add_argument("--code", metavar="CODE", help="a one-time access code")
    vote.add_argument("--email", help="log in with this account to obtain the credential")
    vote.add_argument("--password", help=f"the account's password (or ${PASSWORD_ENV}, or asked)")
    vote.add_argument(
        "--wallet",
        type=Path,
        help="the wallet file (default $XDG_DATA_HOME/veche/wallets/<host>/<election>.json)",
    )
    vote.add_argument(
        "--delay",
        type=int,
        default=0,
        metavar="SECONDS",
        help="wait a random time up to this long between the credential and the ballot",
    )
    vote.add_argument("--timeout", type=int, default=60, help="HTTP timeout in seconds")
    vote.add_argument(
        "--allow-test-keys",
        action="store_true",
        help="accept 1024-bit election keys: for test servers only, never a real election",
    )
    vote.set_defaults(func=cmd_vote)
