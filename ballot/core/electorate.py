"""The committed electorate of an election (docs/protocol.md §6.11).

When an election opens, the server fixes who may obtain a credential: every voter key
of the eligible set (``roll:<voter id>`` or ``user:<account public id>``, §6.6) gets a
commitment

    c = HMAC-SHA256(K, "veche/voter/v1\\n" || election id || 0x0A || voter key)

under the server's 32-byte commitment secret ``K``, and the manifest's
``eligibility.electorate`` holds the set's size and
``hex(SHA-256(c_1 || … || c_n))`` over the raw commitments sorted bytewise. The same
commitment is the voter's ``credential.issued`` commitment in that election, and the
commitment of a voter added later in ``electorate.added``. The commitments reveal nothing
without ``K``; the digest fixes the set, so that the server cannot later claim another.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

__all__ = ["VOTER_DOMAIN", "electorate_digest", "voter_commitment"]

VOTER_DOMAIN = b"veche/voter/v1\n"


def voter_commitment(key: bytes, election_id: str, voter_key: str) -> str:
    """``hex(HMAC-SHA256(K, "veche/voter/v1\\n" || election id || 0x0A || voter key))``."""
    message = VOTER_DOMAIN + election_id.encode() + b"\n" + voter_key.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def electorate_digest(commitments: Iterable[str]) -> str:
    """``hex(SHA-256(c_1 || … || c_n))`` over the raw commitments sorted bytewise (the
    lowercase hex forms sort the same way); ``SHA-256("")`` for an empty electorate."""
    raw = sorted(bytes.fromhex(c) for c in commitments)
    return hashlib.sha256(b"".join(raw)).hexdigest()
