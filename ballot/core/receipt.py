"""The receipt's entry (docs/protocol.md §8.2): the ballot a kept receipt says was sent,
the exact bytes the log serves at its ``seq`` held against it, and the ballot's digest
(§7.9). The voter's client checks its receipts with these, and so does the server's
page that checks a pasted receipt for browsers without JavaScript."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from audit.core.canonical import CanonicalError, canonical_bytes, decode_canonical
from ballot.core.errors import ClientError

BALLOT_CAST = "ballot.cast"
ENTRY_KEYS = frozenset({"at", "body", "kind", "prev", "seq", "v"})


def hex32(value: object, what: str) -> bytes:
    """32 bytes written as 64 lowercase hex digits, or ``bad_receipt`` naming ``what``."""
    try:
        data = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        data = b""
    if len(data) != 32 or value != data.hex():
        raise ClientError("bad_receipt", f"the receipt's {what} is not 64 lowercase hex digits")
    return data


def whole_number(receipt: Mapping[str, Any], name: str) -> int:
    """The receipt's ``name`` (``seq``, ``size``), or ``bad_receipt`` if not a whole number."""
    value = receipt.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ClientError("bad_receipt", f"the receipt's {name} is not a whole number")
    return value


def sent_cast(receipt: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ballot.cast`` body a kept receipt is for, or a refusal saying it is missing."""
    cast = receipt.get("cast")
    if (
        not isinstance(cast, Mapping)
        or set(cast) != {"ballot", "signature"}
        or not isinstance(cast["ballot"], Mapping)
        or not isinstance(cast["signature"], str)
    ):
        raise ClientError(
            "no_ballot_in_receipt",
            "the receipt does not carry the ballot and signature you sent, so it cannot be "
            "tied to your ballot",
        )
    sent = {"ballot": dict(cast["ballot"]), "signature": cast["signature"]}
    try:
        canonical_bytes(sent)
    except (CanonicalError, RecursionError):
        raise ClientError(
            "no_ballot_in_receipt", "the ballot the receipt says was sent is not canonical JSON"
        ) from None
    return sent


def check_cast_entry(line: bytes, receipt: Mapping[str, Any], cast: Mapping[str, Any]) -> bytes:
    """Check the exact bytes the log serves at the receipt's ``seq``; its leaf hash.

    The bytes must hash to the receipt's ``leaf_hash`` (``SHA-256(0x00 || bytes)``) and be
    a canonical ``ballot.cast`` entry at that ``seq`` whose body's ``ballot`` and
    ``signature`` are exactly the ones sent. Each failure names what did not match.
    """
    seq = whole_number(receipt, "seq")
    expected = hex32(receipt.get("leaf_hash"), "leaf hash")
    leaf = hashlib.sha256(b"\x00" + line).digest()
    if leaf != expected:
        raise ClientError(
            "entry_mismatch",
            f"the log's entry {seq} does not hash to the receipt's leaf hash: the server "
            "answered other bytes than the ones it proved",
        )
    try:
        entry = decode_canonical(line)
    except (CanonicalError, RecursionError):
        raise ClientError(
            "not_your_ballot", f"the log's entry {seq} is not canonical JSON"
        ) from None
    if not isinstance(entry, dict) or set(entry) != ENTRY_KEYS:
        raise ClientError("not_your_ballot", f"the log's entry {seq} is not a log entry")
    if entry["seq"] != seq:
        raise ClientError(
            "not_your_ballot", f"the receipt names entry {seq}, the entry says {entry['seq']}"
        )
    if entry["kind"] != BALLOT_CAST:
        raise ClientError(
            "not_your_ballot", f"the log's entry {seq} is a {entry['kind']!r}, not a ballot"
        )
    body = entry["body"]
    if not isinstance(body, dict):
        raise ClientError("not_your_ballot", f"the log's entry {seq} has no ballot")
    if canonical_bytes(body.get("ballot")) != canonical_bytes(cast["ballot"]):
        raise ClientError(
            "not_your_ballot", f"the log's entry {seq} holds another ballot than the one you sent"
        )
    if body.get("signature") != cast["signature"]:
        raise ClientError(
            "not_your_ballot",
            f"the log's entry {seq} holds another signature than the one you sent",
        )
    return leaf


def ballot_digest(cast: Mapping[str, Any]) -> str:
    """``hex(SHA-256(canonical({"ballot": …, "signature": …})))`` (§7.9)."""
    body = {"ballot": cast["ballot"], "signature": cast["signature"]}
    return hashlib.sha256(canonical_bytes(body)).hexdigest()
