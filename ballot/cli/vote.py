"""``veche vote``: the voter's side, against a server's HTTP API.

``veche vote URL --election ID`` with one of ``--approve``, ``--points``, ``--rank``,
``--choose``, ``--answers`` (a survey's answers as JSON, or ``@FILE``) obtains a
credential (``--code`` for an access code, or ``--email`` to log in with an account;
the password from ``--password``, ``VECHE_PASSWORD`` or a prompt), seals, signs and
casts the ballot, checks the receipt and keeps the credential and receipts in a wallet:
``$XDG_DATA_HOME/veche/wallets/<host>/<election>.json`` (default ``~/.local/share/…``),
mode 0600, or ``--wallet PATH``. When the wallet already holds a credential for that
election, it is used again: a second ``veche vote`` re-votes, and the last ballot counts.

The credential is derived from a recovery code (docs/protocol.md §6.13), printed when the
credential is first obtained; ``--recovery-code CODE`` gets the same credential back on
another device (the server answers the identical request with the signature it gave).

The receipt is accepted only if the log entry it names holds exactly the ballot and
signature sent, hashes to the receipt's leaf hash, and the inclusion proof leads to a
checkpoint signed by the log's key (pinned in the wallet, or ``--log-key``); ``--check``
re-checks every receipt of the wallet against the latest checkpoint (§8.3).

The credential is asked for on the client that logged in; the ballot goes on a new
client -- a new connection with no cookie -- a random 2 to 8 seconds later (``--delay``),
so that neither the session nor the time ties it to the voter (§7.5, §12).

It needs only the pure ballot core and an HTTP client, no database. Every refusal is one
line on standard error and exit status 1.
"""

from __future__ import annotations

import argparse
import getpass
import json
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

from audit.cli import add_witness_options, witness_options
from ballot.cli.common import Refusal, fail, reported
from ballot.core.choices import BallotRejected, validate_choices
from ballot.core.client import ClientError, ElectionInfo, VoterClient, Wallet
from ballot.core.errors import ManifestRejected
from ballot.core.token import format_recovery_code, new_recovery_code, normalize_recovery_code

__all__ = ["add_vote_command", "default_wallet_path", "parse_choices"]

PASSWORD_ENV = "VECHE_PASSWORD"
DEFAULT_DELAY = 8  # seconds: casting waits 2 to 8 s after the credential (protocol §12)
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _ids(text: str, option: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise Refusal(f"{option}: give project ids separated by commas, e.g. park,library")
    return items


def _survey_answers(text: str) -> dict[str, Any]:
    """``--answers``: a survey's answers as a JSON object, or ``@FILE`` holding one
    (docs/protocol.md §19.2)."""
    source = "--answers"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise Refusal(f"--answers: cannot read {source}: {exc}") from None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise Refusal(f"{source}: not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise Refusal(f'{source}: give the answers as an object, e.g. {{"q1": "yes"}}')
    return {"answers": value}


def parse_choices(args: argparse.Namespace) -> dict[str, Any]:
    """The choices object from ``--approve``, ``--points``, ``--rank``, ``--choose`` or
    ``--answers`` (a survey's)."""
    if getattr(args, "answers", None) is not None:
        return _survey_answers(args.answers)
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


def _certify(
    client: VoterClient, http: httpx.Client, info: ElectionInfo, wallet: Wallet, args: Any
) -> None:
    """The blind signature for the wallet's credential, with a code or after a log-in."""
    if args.code:
        client.certify(info, wallet, access_code=args.code)
        return
    if args.email:
        headers = _login(http, args.email, _password(args))
        client.certify(info, wallet, headers=headers)
        return
    raise Refusal(
        "this is the first vote from this wallet: give --code (an access code) or "
        "--email (log in) to obtain a credential"
    )


def _already_issued(args: argparse.Namespace) -> Refusal:
    if args.recovery_code:
        return Refusal(
            "the server already certified another credential for you in this election: this "
            "is not the recovery code of your first credential, check it (already_issued)"
        )
    return Refusal(
        "you already have a credential for this election: give --recovery-code with the "
        "code printed when you got it, or --wallet with its file (already_issued)"
    )


def _wait(seconds: int) -> None:
    """Cast at a random moment between a quarter of ``seconds`` and ``seconds`` after the
    credential, so that the server cannot pair the two by time (docs/protocol.md §12).
    The moment is drawn in whole milliseconds."""
    if seconds <= 0:
        return
    low = seconds * 1000 // 4
    time.sleep((low + secrets.randbelow(seconds * 1000 - low + 1)) / 1000)


def _credential(
    http: httpx.Client, info: ElectionInfo, wallet: Wallet | None, path: Path, args: Any
) -> Wallet:
    """The wallet with a certified credential, derived from a recovery code: the wallet's,
    the one given, or a new one that is printed for the voter to keep."""
    given = args.recovery_code
    held = wallet.recovery_code if wallet is not None else None
    if held is not None and given and format_recovery_code(given) != held:
        raise Refusal(
            f"the wallet {path} holds the credential of another recovery code; use "
            "--wallet for a new file"
        )
    if wallet is not None and wallet.token is not None:
        return wallet
    code = given or (wallet.recovery_code if wallet is not None else None)
    fresh = code is None
    derived = Wallet.from_recovery_code(info.id, info.hash, code or new_recovery_code())
    if wallet is not None:
        derived.receipts = wallet.receipts
    client = VoterClient(_Http(http), verifier_key=args.log_key)
    created = not path.exists()
    # Kept before asking: an answer lost on the way is asked again with the same code.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    derived.save(path)
    try:
        _certify(client, http, info, derived, args)
    except ClientError as exc:
        if created and exc.status is not None:  # answered: nothing to ask again
            path.unlink(missing_ok=True)
        if exc.code == "already_issued":
            raise _already_issued(args) from None
        raise
    except Refusal:
        if created:
            path.unlink(missing_ok=True)
        raise
    derived.save(path)
    if fresh:
        print(
            f"Your recovery code: {derived.recovery_code}\n"
            "Write it down or print it, and keep it private. With it (and your log-in or "
            "access code) you get this same credential back on another device "
            "(veche vote --recovery-code); whoever has it can vote in your name. It is "
            f"also in the wallet {path}."
        )
    return derived


def _check(args: argparse.Namespace, url: str) -> int:
    """Re-check every receipt of the wallet against the server's latest checkpoint."""
    path: Path = args.wallet or default_wallet_path(url, args.election)
    wallet = _load_wallet(path)
    if wallet is None:
        raise Refusal(f"there is no wallet at {path}: give --wallet")
    if args.log_key and wallet.log_key and args.log_key != wallet.log_key:
        raise Refusal(f"--log-key is not the log key the wallet {path} pinned")
    if not wallet.receipts:
        raise Refusal(f"the wallet {path} holds no receipt: nothing to check")
    failures: list[str] = []
    with httpx.Client(base_url=url, timeout=args.timeout) as http:
        client = VoterClient(
            _Http(http), verifier_key=args.log_key or wallet.log_key, **_witnessing(args)
        )
        for n, receipt in enumerate(wallet.receipts, 1):
            where = f"ballot {n} (log entry {receipt.get('seq')})"
            try:
                latest = (
                    client.witnessed_receipt(receipt)
                    if client.witnesses
                    else client.recheck_receipt(receipt)
                )
            except ClientError as exc:
                failures.append(f"{where}: {exc.detail} ({exc.code})")
                continue
            print(
                f"Ballot {n}: log entry {receipt['seq']} holds the ballot you sent; it is in "
                f"the latest signed checkpoint (size {latest.size}), and the log only grew "
                f"since the receipt's (size {receipt['size']})."
            )
    if failures:
        return fail(failures)
    print(f"All {len(wallet.receipts)} receipts of {path} check.")
    return 0


def _witnessing(args: argparse.Namespace) -> dict[str, Any]:
    """The client's witness policy from ``--witness``/``--witness-policy`` (§15.8)."""
    problem = witness_options(args)
    if problem is not None:
        raise Refusal(problem)
    return {"witnesses": args.witnesses, "witness_policy": args.witness_policy}


def _vote(args: argparse.Namespace) -> int:
    url = str(args.url).rstrip("/")
    if urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).hostname:
        raise Refusal(f"{args.url!r} is not an http:// or https:// address")
    if not _SLUG.fullmatch(args.election):
        raise Refusal(f"{args.election!r} is not an election id (lowercase letters, digits, -)")
    if args.delay < 0:
        raise Refusal("--delay: give a number of seconds, 0 or more")
    witnessing = _witnessing(args)
    if args.check:
        return _check(args, url)
    if all(getattr(args, k) is None for k in ("approve", "points", "rank", "choose", "answers")):
        raise Refusal("give your choices: one of --approve, --points, --rank, --choose, --answers")
    choices = parse_choices(args)
    if args.recovery_code:
        normalize_recovery_code(args.recovery_code)  # a typing mistake, found first
    path: Path = args.wallet or default_wallet_path(url, args.election)
    wallet = _load_wallet(path)
    if wallet is not None and args.log_key and wallet.log_key not in {None, args.log_key}:
        raise Refusal(f"--log-key is not the log key the wallet {path} pinned")
    # The log-in channel: the manifest and the credential, with the session cookie.
    with httpx.Client(base_url=url, timeout=args.timeout) as http:
        client = VoterClient(_Http(http), verifier_key=args.log_key)
        info = client.election(args.election, allow_test_keys=args.allow_test_keys)
        # The voter's mistake is found before a one-time code is spent.
        validate_choices(info.manifest, choices)
        if wallet is not None and wallet.election_hash != info.hash:
            raise Refusal(
                f"the wallet {path} holds a credential for another election named "
                f"{args.election!r} (its manifest differs); use --wallet for a new file"
            )
        asked = wallet is None or wallet.token is None
        wallet = _credential(http, info, wallet, path, args)
    if asked:
        _wait(args.delay)
    # The casting channel: a new client, so a new connection with no cookie (§7.5).
    with httpx.Client(base_url=url, timeout=args.timeout) as fresh:
        caster = VoterClient(
            _Http(fresh), verifier_key=args.log_key or wallet.log_key, **witnessing
        )
        receipt = caster.cast(info, wallet, choices)
    wallet.save(path)
    again = len(wallet.receipts) > 1
    print(
        f"{'Re-voted' if again else 'Voted'} in {args.election!r}: the ballot is log entry "
        f"{receipt['seq']}, leaf hash {receipt['leaf_hash']}, in checkpoint size "
        f"{receipt['size']} (checked: the entry holds your ballot and signature, the "
        "inclusion proof and the checkpoint's signature)."
    )
    if witnessing["witnesses"]:
        policy, named = witnessing["witness_policy"], len(witnessing["witnesses"])
        print(
            f"A checkpoint that covers it is cosigned by at least {policy} of the {named} "
            "witnesses you named, and the log only grew from the receipt's to it."
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
    kind = vote.add_mutually_exclusive_group()
    kind.add_argument("--approve", metavar="P1,P2", help="approval ballot: the projects approved")
    kind.add_argument("--points", metavar="P1=3,P2=2", help="cumulative ballot: points each")
    kind.add_argument("--rank", metavar="P3,P1", help="ordinal ballot: most preferred first")
    kind.add_argument("--choose", metavar="O1", help="poll: the options chosen")
    kind.add_argument(
        "--answers",
        metavar="JSON|@FILE",
        help='survey: the answers as a JSON object {"question": answer, …}, or @FILE with it',
    )
    vote.add_argument("--code", metavar="CODE", help="a one-time access code")
    vote.add_argument("--email", help="log in with this account to obtain the credential")
    vote.add_argument("--password", help=f"the account's password (or ${PASSWORD_ENV}, or asked)")
    vote.add_argument(
        "--wallet",
        type=Path,
        help="the wallet file (default $XDG_DATA_HOME/veche/wallets/<host>/<election>.json)",
    )
    vote.add_argument(
        "--recovery-code",
        metavar="CODE",
        help="the recovery code of your credential: get the same credential on this device",
    )
    vote.add_argument(
        "--check",
        action="store_true",
        help="re-check every receipt in the wallet against the log's latest checkpoint",
    )
    vote.add_argument(
        "--log-key",
        metavar="VKEY",
        help="pin the log's verifier key (as `veche verify --key`); default: the wallet's",
    )
    vote.add_argument(
        "--delay",
        type=int,
        default=DEFAULT_DELAY,
        metavar="SECONDS",
        help=(
            "after getting a credential, cast at a random moment between a quarter of this "
            f"and this many whole seconds later (default {DEFAULT_DELAY}: 2 to 8 s; 0: at once)"
        ),
    )
    vote.add_argument("--timeout", type=int, default=60, help="HTTP timeout in seconds")
    add_witness_options(vote)
    vote.add_argument(
        "--allow-test-keys",
        action="store_true",
        help="accept 1024-bit election keys: for test servers only, never a real election",
    )
    vote.set_defaults(func=cmd_vote)
