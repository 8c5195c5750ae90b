"""Checking a receipt without JavaScript (``/check``): what the page's script checks
(docs/protocol.md §8.2, §8.3), done on the server for browsers without it. A pasted
wallet's secrets are never kept nor shown again."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from audit.core.checkpoint import verify_checkpoint
from audit.core.merkle import verify_inclusion
from audit.services.store import LogStore
from ballot.core.errors import ClientError
from ballot.core.receipt import ballot_digest, check_cast_entry, sent_cast

# What a pasted credential file holds that is secret: it is never kept nor shown again.
SECRET_WALLET_FIELDS = ("credential_private", "recovery_code", "token")
CHECK_INPUT_LIMIT = 100_000  # characters of pasted text
CHECK_RECEIPTS_LIMIT = 50  # receipts of one wallet checked at once
RECEIPT_FIELDS = ("election", "seq", "leaf_hash", "checkpoint", "size", "proof", "ballot_digest")


class CheckInputRefused(ValueError):
    """The pasted text is not a receipt nor a wallet (answered 400 by the page)."""


def parse_check_input(text: str) -> tuple[list[dict[str, Any]], bool]:
    """The receipts in a pasted receipt or wallet, and whether the text held a secret.

    JSON nested deeper than canonical JSON allows, or not JSON, or not a receipt or
    wallet, is refused (``CheckInputRefused``), never a server error.
    """
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise CheckInputRefused("not JSON") from None
    if not isinstance(value, dict):
        raise CheckInputRefused("not an object")
    secret = any(name in value for name in SECRET_WALLET_FIELDS)
    if "receipts" in value:
        receipts = value["receipts"]
        if not isinstance(receipts, list) or not receipts:
            raise CheckInputRefused("a wallet without receipts")
        receipts = receipts[-CHECK_RECEIPTS_LIMIT:]
    else:
        receipts = [value]
    if not all(isinstance(r, dict) and "seq" in r for r in receipts):
        raise CheckInputRefused("not a receipt")
    try:
        check_value_depth(receipts)
    except RecursionError:
        raise CheckInputRefused("too deep") from None
    return receipts, secret


def public_receipt(receipt: dict[str, Any]) -> dict[str, Any]:
    """Only a receipt's own fields (docs/protocol.md §8.1, and the ballot sent): whatever
    else was pasted with it is not shown again."""
    kept = {name: receipt[name] for name in RECEIPT_FIELDS if name in receipt}
    try:
        kept["cast"] = sent_cast(receipt)
    except ClientError:
        kept.pop("cast", None)
    return kept


def check_value_depth(value: object, depth: int = 0) -> None:
    """Refuse values nested deeper than canonical JSON (64 levels, docs/protocol.md §2.1)."""
    if depth > 64:
        raise RecursionError
    if isinstance(value, dict):
        for item in value.values():
            check_value_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_value_depth(item, depth + 1)


def check_one_receipt(db: Session, store: LogStore, receipt: dict[str, Any]) -> dict[str, Any]:
    """What the page's script checks (docs/protocol.md §8.2, §8.3), done on the server for
    browsers without it: the checkpoint's signature, that the entry at ``seq`` holds
    exactly the ballot and signature the receipt says were sent, the inclusion proof,
    and that the log still holds the entry."""
    seq = receipt.get("seq")
    outcome: dict[str, Any] = {"ok": False, "seq": seq if isinstance(seq, int) else None}
    try:
        cast = sent_cast(receipt)
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise ClientError("malformed", "no seq")
        size = receipt.get("size")
        if not isinstance(size, int) or isinstance(size, bool):
            raise ClientError("malformed", "no size")
        try:
            checkpoint = verify_checkpoint(
                str(receipt.get("checkpoint")), store.key_info.verifier_key
            )
        except Exception:
            raise ClientError("bad_checkpoint", "not signed") from None
        if checkpoint.size != size:
            raise ClientError("bad_receipt", "another size")
        if receipt.get("ballot_digest") != ballot_digest(cast):
            raise ClientError("not_your_ballot", "another digest")
        lines = store.entries(db, seq, seq + 1) if seq < store.size(db) else []
        if not lines:
            raise ClientError("not_in_log", "no such entry")
        leaf = check_cast_entry(lines[0], receipt, cast)
        try:
            proof = [bytes.fromhex(p) for p in receipt["proof"]]
            verify_inclusion(leaf, seq, size, proof, checkpoint.root)
        except Exception:
            raise ClientError("bad_receipt", "the proof fails") from None
    except ClientError as exc:
        outcome["code"] = exc.code
        return outcome
    return {**outcome, "ok": True, "size": store.size(db)}


def check_receipt_server(db: Session, store: LogStore, text: str) -> dict[str, Any]:
    """Check every receipt of a pasted receipt or wallet; what the page shows again is the
    receipts alone, never a wallet's private key, token or recovery code."""
    try:
        receipts, secret = parse_check_input(text)
    except CheckInputRefused:
        return {"malformed": True, "results": [], "echo": "", "secret": False}
    results = [check_one_receipt(db, store, receipt) for receipt in receipts]
    shown = [public_receipt(receipt) for receipt in receipts]
    public = shown[0] if len(shown) == 1 and not secret else {"receipts": shown}
    return {
        "malformed": False,
        "results": results,
        "ok": all(r["ok"] for r in results),
        "echo": json.dumps(public, indent=2, ensure_ascii=False),
        "secret": secret,
    }
