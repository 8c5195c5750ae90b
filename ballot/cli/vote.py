"""``veche vote``: the voter's side, against a server's HTTP API.

``veche vote URL --election ID`` with one of ``--approve``, ``--points``, ``--rank``,
``--choose`` obtains a credential (``--code`` for an access code, or ``--email`` to log in
with an account; the password from ``--password``, ``VECHE_PASSWORD`` or a prompt), seals,
signs and casts the ballot, checks the receipt (its inclusion proof and the checkpoint's
signature) and keeps the credential and receipts in a wallet:
``$XDG_DATA_HOME/veche/wallets/<host>/<election>.json`` (default ``~/.local/share/…``),
mode 0600, or ``--wallet PATH``. When the wallet already holds a credential for that
election, it is used again: a second ``veche vote`` re-votes, and the last ballot counts.

It needs only the pure ballot core and an HTTP client, no database. Every refusal is one
line on standard error and exit status 1.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import secrets
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ballot.cli.common import Refusal, fail, reported
from ballot.core.choices import BallotRejected, validate_choices
from ballot.core.client import ClientError, ElectionInfo, VoterClient, Wallet
from ballot.core.errors import ManifestRejected

__all__ = ["add_vote_command", "default_wallet_path", "parse_choices"]

PASSWORD_ENV = "VECHE_PASSWORD"
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


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


@reported
def cmd_vote(args: argparse.Namespace) -> int:
    try:
        return _vote(args)
    except ClientError as exc:
        return fail([f"the server refused: {exc.detail} ({exc.code})"])
    except BallotRejected as exc:
        return fail([f"the choices are not valid: {exc.detail} ({exc.code})"])
    except ManifestRejected as exc:
        hint = ""
        if exc.field == "rsa_key_bits":
            hint = " (a test server's small key: --allow-test-keys)"
        return fail([f"the election's manifest is refused: {exc.detail}{hint} ({exc.code})"])
    except httpx.TransportError as exc:
        return fail([f"cannot reach {args.url}: {exc or type(exc).__name__}"])
    except (ValueError, KeyError, TypeError) as exc:  # not JSON, or not what the API says
        return fail([f"the server's answer cannot be used: {exc!r}"])


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
