"""The verifier's witness policy (docs/protocol.md §15.8): cosignatures counted, the
missing named, and a rewritten log under a witnessed checkpoint called a fork."""

from __future__ import annotations

from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.core.cosignature import cosign, parse_witness_key, witness_key
from audit.core.entry import LOG_KINDS, EntryKinds
from audit.core.export import ExportedLog
from audit.core.note import parse_note, public_key_bytes
from audit.core.verify import Report, verify_log
from tests.strategies.audit import build_chain, exported, signing_key

KINDS = EntryKinds(LOG_KINDS)
NOTICE = {"title": "t", "text": "x", "lang": "en"}
A = Ed25519PrivateKey.from_private_bytes(b"\x0a" * 32)
B = Ed25519PrivateKey.from_private_bytes(b"\x0b" * 32)
WITNESSES = [
    parse_witness_key(witness_key("w.test/a", public_key_bytes(A))),
    parse_witness_key(witness_key("w.test/b", public_key_bytes(B))),
]


def _cosigned(log: ExportedLog, *keys: tuple[str, Ed25519PrivateKey]) -> ExportedLog:
    text = parse_note(log.checkpoint_note).text
    lines = "".join(cosign(key, name, text, 1_700_000_000).line() for name, key in keys)
    return replace(log, checkpoint_note=log.checkpoint_note + lines)


def _verify(log: ExportedLog, policy: int) -> Report:
    assert log.key_info is not None
    return verify_log(
        log,
        kinds=KINDS,
        pinned_verifier_key=log.key_info.verifier_key,
        witnesses=WITNESSES,
        witness_policy=policy,
    )


def _failures(report: Report) -> dict[str, str]:
    return {f.code: f.detail for f in report.failures}


def test_policy_met_passes_and_missing_witness_is_named() -> None:
    key = signing_key(0)
    log = exported(build_chain(key, [NOTICE] * 3), key)
    both = _cosigned(log, ("w.test/a", A), ("w.test/b", B))
    assert _verify(both, 2).ok
    one = _cosigned(log, ("w.test/a", A))
    assert _verify(one, 1).ok
    failures = _failures(_verify(one, 2))
    assert "missing: w.test/b" in failures["witness_cosignatures"]
    assert "fork" in failures["witness_cosignatures"]
    # Without witnesses the same log passes: the policy is the client's.
    assert verify_log(one, kinds=KINDS, pinned_verifier_key=one.key_info.verifier_key).ok  # type: ignore[union-attr]


def test_a_cosignature_by_a_trusted_witness_on_another_checkpoint_is_invalid() -> None:
    key = signing_key(0)
    log = exported(build_chain(key, [NOTICE] * 3), key)
    other = exported(build_chain(key, [NOTICE] * 4), key)
    stolen = cosign(B, "w.test/b", parse_note(other.checkpoint_note).text, 1).line()
    with_a = _cosigned(log, ("w.test/a", A))
    forged = replace(with_a, checkpoint_note=with_a.checkpoint_note + stolen)
    failures = _failures(_verify(forged, 2))
    assert "invalid: w.test/b" in failures["witness_cosignatures"]


def test_entries_rewritten_under_a_witnessed_checkpoint_are_a_fork() -> None:
    key = signing_key(0)
    entries = build_chain(key, [NOTICE] * 3)
    witnessed = _cosigned(exported(entries, key), ("w.test/a", A), ("w.test/b", B))
    rewritten = build_chain(key, [NOTICE, {**NOTICE, "title": "changed"}, NOTICE])
    forked = replace(witnessed, entries=b"".join(e + b"\n" for e in rewritten))
    failures = _failures(_verify(forked, 2))
    assert "witnessed_root_mismatch" in failures
    assert "fork" in failures["witnessed_root_mismatch"]
    assert "witness_cosignatures" not in failures
