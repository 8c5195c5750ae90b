"""``veche trustee``: a trustee's side of an election, on the trustee's own machine.

docs/protocol.md §14. A trustee keeps one file, mode 0600, that only this command
reads and writes: their identity (an Ed25519 signing key and an X25519 box key) and,
per election, the key share the ceremony gave them.

- ``veche trustee init --name N --out FILE`` makes the identity;
- ``veche trustee show FILE`` prints its public part, for the administrator to paste
  into the election's configuration (TOML, or ``--json``);
- ``veche trustee deal --server URL --election ID --key FILE`` posts this trustee's
  dealing to the election's ceremony;
- ``veche trustee ack …`` fetches every dealing once all are in, checks them, opens the
  shares sent to this trustee, keeps the key share in the file and posts the
  acknowledgement;
- ``veche trustee release …`` after the close posts the key share, signed: only once
  the log proves the election's ``election.closed`` entry (its bytes, in the latest
  checkpoint signed by the log's key; ``--log-key`` pins that key).

Every refusal is one sentence on standard error and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from audit.core.canonical import b64url_decode, b64url_encode
from audit.core.entry import leaf_hash, parse_entry
from audit.core.errors import AuditError
from audit.core.merkle import verify_inclusion
from ballot.cli.common import Refusal, reported
from ballot.cli.trustee_file import (
    load_identity,
    new_identity,
    public_part,
    raw_key,
    save_identity,
    toml_member,
)
from ballot.core import dkg, kinds, threshold
from ballot.core.client import ClientError, Http, VoterClient
from ballot.core.errors import TrusteeRejected
from ballot.core.manifest import trustees_of

__all__ = [
    "acknowledge",
    "add_trustee_command",
    "deal",
    "load_identity",
    "new_identity",
    "public_part",
    "release",
    "save_identity",
]


# --- the ceremony's board ---------------------------------------------------------------
def _answer(response: Any, expected: int) -> Any:
    if response.status_code != expected:
        try:
            body = response.json()
            detail = f"{body.get('detail')} ({body.get('error')})"
        except (ValueError, AttributeError):
            detail = response.text[:200]
        raise Refusal(f"The server refused: {detail}")
    return response.json()


def board(http: Http, election_id: str) -> dict[str, Any]:
    """The ceremony as the server shows it (``GET …/ceremony``)."""
    data: dict[str, Any] = _answer(http.get(f"/api/v1/elections/{election_id}/ceremony"), 200)
    return data


def _me(ceremony: Mapping[str, Any], identity: Mapping[str, Any]) -> int:
    for j, member in enumerate(ceremony["members"], start=1):
        if member["signing_key"] == identity["signing_key"]:
            if member["box_key"] != identity["box_key"]:
                raise Refusal("The election lists this signing key with another box key.")
            return j
    raise Refusal("This trustee is not among the election's trustees.")


def _ceremony_id(election_id: str, ceremony: Mapping[str, Any]) -> bytes:
    """The ceremony id recomputed here: the server's word is not taken for it."""
    mine = dkg.ceremony_id(election_id, int(ceremony["threshold"]), ceremony["members"])
    if mine.hex() != ceremony["ceremony"]:
        raise Refusal("The server's ceremony id is not the one its members and threshold give.")
    return mine


def deal(
    http: Http, election_id: str, identity: Mapping[str, Any], rng: Callable[[int], bytes]
) -> int:
    """Post this trustee's dealing; its number among the trustees."""
    shown = board(http, election_id)
    me = _me(shown, identity)
    ceremony = _ceremony_id(election_id, shown)
    signed = dkg.make_dealing(
        ceremony,
        me,
        int(shown["threshold"]),
        shown["members"],
        raw_key(identity, "signing_private"),
        rng,
    )
    _answer(http.post(f"/api/v1/elections/{election_id}/ceremony/dealings", json=signed), 201)
    return me


def acknowledge(http: Http, election_id: str, identity: dict[str, Any], path: Path) -> int:
    """Check every dealing, open this trustee's shares, keep the key share in the file,
    then post the acknowledgement; this trustee's number."""
    shown = board(http, election_id)
    me = _me(shown, identity)
    ceremony = _ceremony_id(election_id, shown)
    members, k = shown["members"], int(shown["threshold"])
    dealings = shown["dealings"]
    if len(dealings) != len(members):
        raise Refusal(
            f"{len(dealings)} of the {len(members)} trustees have dealt; acknowledge once "
            "every dealing is in."
        )
    try:
        share = dkg.open_my_shares(
            ceremony, dealings, me, raw_key(identity, "box_private"), k, members
        )
    except TrusteeRejected as exc:
        raise Refusal(
            f"The dealing of trustee {exc.trustee} is wrong: {exc.detail}. Do not "
            "acknowledge; tell the administrator."
        ) from None
    signed = dkg.make_ack(ceremony, me, dealings, share, raw_key(identity, "signing_private"))
    identity["elections"][election_id] = {
        "ceremony": ceremony.hex(),
        "trustee": me,
        "key_share": b64url_encode(share),
        "public_share": signed["ack"]["public_share"],
    }
    save_identity(path, identity)  # kept before the server knows of it
    _answer(http.post(f"/api/v1/elections/{election_id}/ceremony/acks", json=signed), 201)
    return me


def _closed_in_log(client: VoterClient, election_id: str, election_hash: str) -> None:
    """The election's ``election.closed`` entry, read from the log's own bytes and proven
    in the latest checkpoint signed by the log's key (an inclusion proof, §3)."""
    summary = _answer(client.http.get(f"/api/v1/elections/{election_id}"), 200)
    seq = summary.get("closed_seq")
    if type(seq) is not int:
        raise Refusal("The election has not closed: a key share is released only after.")
    try:
        raw = client.entry_bytes(seq)
        checkpoint = client.latest_checkpoint()
        answer = _answer(
            client.http.get(f"/api/v1/log/proof/inclusion?seq={seq}&size={checkpoint.size}"),
            200,
        )
        proof = [bytes.fromhex(p) for p in answer["proof"]]
        verify_inclusion(leaf_hash(raw), seq, checkpoint.size, proof, checkpoint.root)
        entry = parse_entry(raw, kinds.ELECTION_ENTRIES)
    except ClientError as exc:
        raise Refusal(f"The log does not prove the election's close: {exc.detail}.") from None
    except AuditError as exc:
        raise Refusal(f"The log's entry {seq} does not parse: {exc.detail}.") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise Refusal(f"The log does not prove its entry {seq} is in its tree: {exc}.") from None
    body = entry.body
    if entry.seq != seq or not isinstance(body, kinds.ElectionClosed):
        raise Refusal(f"The log's entry {seq} is not the close of this election.")
    if body.election != election_hash:
        raise Refusal(f"The log's entry {seq} is the close of another election.")


def release(
    http: Http,
    election_id: str,
    identity: Mapping[str, Any],
    *,
    allow_test_keys: bool = False,
    log_key: str | None = None,
) -> dict[str, Any]:
    """Post this trustee's signed key share once the log proves the close (under the
    pinned ``log_key``, else the key the server states)."""
    kept = identity["elections"].get(election_id)
    if kept is None:
        raise Refusal(f"This file holds no key share of the election {election_id!r}.")
    client = VoterClient(http, verifier_key=log_key)
    try:
        info = client.election(election_id, allow_test_keys=allow_test_keys)
    except ClientError as exc:
        raise Refusal(f"The election's manifest is refused: {exc.detail}") from None
    block = trustees_of(info.manifest)
    me = int(kept["trustee"])
    if block is None or not 1 <= me <= len(block.members):
        raise Refusal("The election's manifest names no trustees like this file's.")
    if block.members[me - 1].public_share != kept["public_share"]:
        raise Refusal("The manifest commits to another public share for this trustee.")
    _closed_in_log(client, election_id, info.hash)
    body = threshold.sign_key_share(
        info.hash, me, b64url_decode(kept["key_share"]), raw_key(identity, "signing_private")
    )
    answer: dict[str, Any] = _answer(
        http.post(f"/api/v1/elections/{election_id}/key-shares", json=body), 201
    )
    return answer


# --- the command ------------------------------------------------------------------------
class _Http:
    """An httpx client seen through ``ballot.core.client.Http`` (its narrower signature)."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url.rstrip("/"), timeout=60)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, **kwargs)

    def __enter__(self) -> _Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()


def _http(url: str) -> _Http:
    return _Http(url)


def _online(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A server that does not answer is a sentence too."""

    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except httpx.HTTPError as exc:
            raise Refusal(f"The server {args.server} does not answer: {exc}.") from None

    return wrapper


@reported
def _init(args: argparse.Namespace) -> int:
    save_identity(args.out, new_identity(args.name), new=True)
    print(f"The identity of {args.name.strip()} is in {args.out} (readable by you only).")
    print("Give the administrator what `veche trustee show` prints; keep the file secret.")
    return 0


@reported
def _show(args: argparse.Namespace) -> int:
    member = public_part(load_identity(args.file))
    sys.stdout.write(json.dumps(member, indent=2) + "\n" if args.json else toml_member(member))
    return 0


@reported
@_online
def _deal(args: argparse.Namespace) -> int:
    identity = load_identity(args.key)
    with _http(args.server) as http:
        me = deal(http, args.election, identity, os.urandom)
    print(f"The dealing of trustee {me} is posted.")
    return 0


@reported
@_online
def _ack(args: argparse.Namespace) -> int:
    identity = load_identity(args.key)
    with _http(args.server) as http:
        me = acknowledge(http, args.election, identity, args.key)
    print(f"Every dealing checks; trustee {me}'s key share is kept in {args.key}.")
    return 0


@reported
@_online
def _release(args: argparse.Namespace) -> int:
    identity = load_identity(args.key)
    with _http(args.server) as http:
        answer = release(
            http,
            args.election,
            identity,
            allow_test_keys=args.allow_test_keys,
            log_key=args.log_key,
        )
    print(
        f"The key share of trustee {answer['trustee']} is in the log (entry {answer['seq']}); "
        f"{answer['shares']} of the {answer['threshold']} needed are in."
    )
    if answer.get("unsealed_seq") is not None:
        print(f"The election is unsealed (entry {answer['unsealed_seq']}).")
    return 0


def add_trustee_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``trustee`` on the top-level CLI's subparsers."""
    trustee = subparsers.add_parser(
        "trustee",
        help="a trustee's side of an election: identity, key ceremony, key share",
        description="A trustee's identity, the key ceremony and the release of the key share.",
    )
    sub = trustee.add_subparsers(dest="trustee_command", required=True)
    init = sub.add_parser("init", help="make a trustee's identity file (mode 0600)")
    init.add_argument("--name", required=True, help="the trustee's name, as the election lists it")
    init.add_argument("--out", required=True, type=Path, metavar="FILE", help="the new file")
    init.set_defaults(func=_init)
    show = sub.add_parser("show", help="print the public part for the election's configuration")
    show.add_argument("file", type=Path, metavar="FILE", help="the trustee's file")
    show.add_argument("--json", action="store_true", help="JSON instead of TOML")
    show.set_defaults(func=_show)
    for name, run, text in (
        ("deal", _deal, "post this trustee's dealing to the ceremony"),
        ("ack", _ack, "check every dealing, keep the key share, post the acknowledgement"),
        ("release", _release, "after the close, post the key share"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("--server", required=True, metavar="URL", help="the server")
        command.add_argument("--election", required=True, metavar="ID", help="the election")
        command.add_argument("--key", required=True, type=Path, metavar="FILE", help="your file")
        if name == "release":
            command.add_argument(
                "--log-key",
                metavar="VKEY",
                help="pin the log's verifier key (as `veche verify --key`)",
            )
            command.add_argument(
                "--allow-test-keys",
                action="store_true",
                help="accept a manifest with a small test RSA key (test servers only)",
            )
        command.set_defaults(func=run)
