"""Hypothesis strategies for the audit log: canonical JSON values, entries, exported logs."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import strategies as st

from audit.core.canonical import MAX_SAFE_INTEGER, JsonValue, b64url_encode
from audit.core.checkpoint import Checkpoint, sign_checkpoint
from audit.core.entry import LOG_KINDS, ZERO_HASH, EntryKinds, build_entry, format_at, leaf_hash
from audit.core.export import ExportedLog, KeyInfo
from audit.core.merkle import mth
from audit.core.note import public_key_bytes, verifier_key

KINDS = EntryKinds(LOG_KINDS)

__all__ = [
    "ORIGIN",
    "ascii_keys",
    "build_chain",
    "entry_chains",
    "exported",
    "genesis_body",
    "json_strings",
    "json_values",
    "logs",
    "notice_bodies",
    "safe_integers",
    "signing_key",
    "timestamps",
]

safe_integers = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)

# Any code point except lone surrogates; the escapes for controls, quotes and
# backslashes are where canonical encoders usually differ, so bias towards them.
json_strings = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list('"\\/\b\f\n\r\t\x00\x1f\x7f\u2028\u2029\U0001f602')),
    ),
    max_size=20,
)

ascii_keys = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=8)

json_scalars: st.SearchStrategy[JsonValue] = st.one_of(
    st.none(), st.booleans(), safe_integers, json_strings
)

json_values: st.SearchStrategy[JsonValue] = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(ascii_keys, children, max_size=5),
    ),
    max_leaves=25,
)


# --- entries and logs ----------------------------------------------------------------

ORIGIN = "veche.example/log"


def signing_key(seed: int) -> Ed25519PrivateKey:
    """A deterministic Ed25519 key, so failing examples replay exactly."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"key %d" % seed).digest())


def genesis_body(key: Ed25519PrivateKey, origin: str = ORIGIN) -> dict[str, str]:
    raw = public_key_bytes(key)
    return {
        "origin": origin,
        "public_key": b64url_encode(raw),
        "software": "veche 0.1.0",
        "verifier_key": verifier_key(origin, raw),
    }


def build_chain(
    key: Ed25519PrivateKey,
    bodies: Sequence[Mapping[str, object]],
    ats: list[str] | None = None,
    origin: str = ORIGIN,
) -> list[bytes]:
    """Genesis plus one ``notice.published`` entry per body, correctly chained."""
    entries: list[bytes] = []
    prev = ZERO_HASH
    all_bodies: list[tuple[str, object]] = [("log.genesis", genesis_body(key, origin))]
    all_bodies += [("notice.published", b) for b in bodies]
    for seq, (kind, body) in enumerate(all_bodies):
        at = ats[seq % len(ats)] if ats else "2026-11-23T10:00:00Z"
        data = build_entry(seq, prev, at, kind, body, KINDS)
        entries.append(data)
        prev = leaf_hash(data).hex()
    return entries


timestamps = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
).map(format_at)

notice_texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cc"]) | st.sampled_from('"\\\n'),
    min_size=1,
    max_size=30,
)

notice_bodies = st.fixed_dictionaries(
    {"title": notice_texts, "text": notice_texts, "lang": st.sampled_from(["en", "ru"])}
)

entry_chains = st.builds(
    build_chain,
    st.integers(0, 3).map(signing_key),
    st.lists(notice_bodies, max_size=12),
    st.lists(timestamps, min_size=1, max_size=3),
)


def exported(
    entries: list[bytes],
    key: Ed25519PrivateKey,
    *,
    size: int | None = None,
    signer: Ed25519PrivateKey | None = None,
    origin: str = ORIGIN,
) -> ExportedLog:
    """An in-memory exported log whose checkpoint covers the first ``size`` entries,
    signed by ``signer`` (by default the log's own key)."""
    size = len(entries) if size is None else size
    root = mth([leaf_hash(e) for e in entries[:size]])
    note = sign_checkpoint(signer or key, origin, Checkpoint(origin, size, root))
    return ExportedLog(
        Path("log"),
        b"".join(e + b"\n" for e in entries),
        note,
        KeyInfo.from_private_key(origin, key),
    )


logs: st.SearchStrategy[tuple[Ed25519PrivateKey, list[bytes]]] = st.builds(
    lambda seed, bodies: (signing_key(seed), build_chain(signing_key(seed), bodies)),
    st.integers(0, 3),
    st.lists(notice_bodies, min_size=1, max_size=10),
)
"""A key and a valid chain signed by it: genesis plus one to ten notices."""
