"""An election's record read back from the log, its count, and its result.

docs/protocol.md ("Verifier", "Tally"): anyone can recompute a published result from the log
alone. This module is that recomputation, shared by the server (which publishes the
result) and by ``veche verify`` (which checks it); it depends only on the pure cores.

From the log's entries it gathers, per election (named by its manifest hash): the
manifest (``election.opened``, whose signature the entry kind already checks), the
``credential.issued`` count, every ``ballot.cast``, the close (``election.closed``:
the size of the log whose ballots count), the published sealing key
(``election.unsealed``) and any ``result.published``.

Counting (docs/protocol.md §9.3): every ballot cast before the close is opened with the
sealing key and checked like the server checked it when it arrived — its version
against the manifest's, the token against the election's RSA key, the credential's
signature, the seal (bound to the credential in version 2), the choices against the
limits, and the window against the entry's own time (and against the close's time,
for an early close). A ballot that fails is reported with its ``seq`` and reason and
not counted. Then each credential's valid ballots are read in log order as a
sequence: a ballot appended again (``duplicate_ballot``, or ``replayed_ballot`` after a
newer one), and in version 2 a ballot whose counter is not above the credential's
newest (``replayed_ballot`` below it, ``counter_fork`` equal to it), is refused; a
counter that skips numbers is counted but reported (``counter_gap``). Of each
credential's ballots the newest counts; in an election without re-voting, the first one,
and every later one is refused (``revote_not_allowed``). The lot's seed is
``SHA-256("veche/lot/v1" || secret || SHA-256(the counted ballots' raw signatures in log
order))``.

A trustee election (docs/protocol.md §14) is unsealed by the joint key's scalar rebuilt
from k logged key shares; its ballots that do not open or break the limits are spoiled
(listed, never counted), and its lot secret comes from the scalar and the close's root:
``ballot.core.record_trustees`` holds those rules.

Checking ballots is the expensive part (RSA, Ed25519, X25519 per ballot), so it can run
in several processes; the result does not depend on how many.

The tally of the counted ballots (the rule's configuration, the outcome, the
``result.published`` body) is ``ballot.core.record_tally``; its names are importable from
here as well.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from audit.core.canonical import b64url_decode, b64url_encode, canonical_bytes
from audit.core.entry import Entry, parse_at
from ballot.core import kinds, record_trustees, seal
from ballot.core.ballot import Ballot, check_ballot
from ballot.core.choices import BallotRejected, Choices, choices_json
from ballot.core.config import to_json
from ballot.core.errors import BallotCryptoError, ManifestRejected
from ballot.core.manifest import Manifest, load_credential_key, trustees_of
from ballot.core.record_tally import (
    ballots_digest,
    compute_outcome,
    currency_unit,
    lot_for,
    result_body,
    rule_config,
    tally_ballot,
    tally_election,
)
from ballot.core.record_types import CastEntry, Checked, Count, ElectionRecord, Problem
from kernel.parallel import can_fork, imap_forked, shared

ELECTION_KINDS = frozenset(kinds.ELECTION_KINDS)


def gather(entries: Iterable[Entry]) -> tuple[dict[str, ElectionRecord], list[Problem]]:
    """Group the voting protocol's entries by election, in log order; entries that name
    no opened election are returned as problems."""
    records: dict[str, ElectionRecord] = {}
    orphans: list[Problem] = []
    for entry in entries:
        if entry.kind not in ELECTION_KINDS:
            continue
        body = entry.body
        if isinstance(body, kinds.ElectionOpened):
            if body.manifest_hash in records:
                records[body.manifest_hash].problems.append(
                    Problem(entry.seq, "opened_twice", "the election was opened a second time")
                )
                continue
            records[body.manifest_hash] = ElectionRecord(
                hash=body.manifest_hash, manifest=body.manifest, opened_seq=entry.seq
            )
            continue
        election = getattr(body, "election", None)
        if not isinstance(election, str) and isinstance(body, kinds.BallotCast):
            election = body.ballot.election
        record = records.get(election) if isinstance(election, str) else None
        if record is None:
            orphans.append(
                Problem(
                    entry.seq,
                    "unknown_election",
                    f"{entry.kind} names an election that was never opened",
                )
            )
            continue
        _add(record, entry)
    return records, orphans


def _add(record: ElectionRecord, entry: Entry) -> None:
    body = entry.body
    closed = record.closed_seq is not None
    if isinstance(body, kinds.CredentialIssued):
        if closed:
            record.problems.append(
                Problem(entry.seq, "issued_after_close", "a credential was issued after the close")
            )
        record.issued += 1
    elif isinstance(body, kinds.BallotCast):
        record.casts.append(
            CastEntry(entry.seq, entry.at, msgspec.to_builtins(body.ballot), body.signature)
        )
    elif isinstance(body, kinds.ElectionClosed):
        if closed:
            record.problems.append(Problem(entry.seq, "closed_twice", "closed a second time"))
            return
        record.closed_seq = entry.seq
        record.closed_at = entry.at
        record.close_reason = body.reason
        record.count_size = body.checkpoint_size
        record.close_root = body.checkpoint_root
        if body.checkpoint_size > entry.seq:
            record.problems.append(
                Problem(entry.seq, "bad_close", "the close counts entries that follow it")
            )
    elif isinstance(body, kinds.ElectionKeyShare):
        record_trustees.add_key_share(record, entry)
    elif isinstance(body, kinds.ElectionUnsealed) and (
        body.sealing_private_key is None or trustees_of(record.manifest) is not None
    ):
        record_trustees.add_unsealed(record, entry)
    elif isinstance(body, kinds.ElectionUnsealed):
        assert body.sealing_private_key is not None
        if not closed:
            record.problems.append(
                Problem(
                    entry.seq,
                    "unsealed_while_open",
                    "the sealing key was published before the close",
                )
            )
        key = b64url_decode(body.sealing_private_key)
        if b64url_encode(seal.public_key_of(key)) != record.manifest.sealing_key:
            record.problems.append(
                Problem(
                    entry.seq,
                    "wrong_sealing_key",
                    "the published sealing key is not the manifest's",
                )
            )
        else:
            record.sealing_private = key
    elif isinstance(body, kinds.ResultPublished):
        record.results.append((entry.seq, body))
    elif isinstance(body, kinds.SurveyTextWithheld):
        record.withheld.append((entry.seq, body))


# --- counting ---------------------------------------------------------------------------


def _check_shared_chunk(
    bounds: tuple[int, int],
) -> list[tuple[int, str, dict[str, Any] | None, str, str]]:
    """In a forked worker: check the ballots ``bounds`` of the shared record."""
    manifest_json, allow_test_keys, election_hash, sealing_private, eligible = shared()
    start, end = bounds
    return _check_chunk(
        manifest_json, allow_test_keys, election_hash, sealing_private, eligible[start:end]
    )


def _check_chunk(
    manifest_json: dict[str, Any],
    allow_test_keys: bool,
    election_hash: str,
    sealing_private: bytes,
    chunk: Sequence[CastEntry],
) -> list[tuple[int, str, dict[str, Any] | None, str, str]]:
    """Check ballots; (seq, credential, choices json or None, code, detail) each."""
    from ballot.core.manifest import parse_manifest

    manifest = parse_manifest(manifest_json, allow_test_keys=allow_test_keys)
    key = load_credential_key(manifest)
    if trustees_of(manifest) is not None:
        # ``sealing_private`` is the joint key's scalar (docs/protocol.md §14.10).
        return record_trustees.check_chunk(manifest, sealing_private, election_hash, key, chunk)
    out: list[tuple[int, str, dict[str, Any] | None, str, str]] = []
    for cast in chunk:
        credential = str(cast.ballot.get("credential", ""))
        try:
            ballot = msgspec.convert(cast.ballot, Ballot, strict=True)
            choices = check_ballot(
                manifest,
                ballot,
                cast.signature,
                sealing_private,
                parse_at(cast.at),
                credential_key=key,
                election_hash=election_hash,
            )
            assert choices is not None
            out.append((cast.seq, credential, choices_json(choices), "", ""))
        except (BallotCryptoError, msgspec.ValidationError, ValueError) as exc:
            code = getattr(exc, "code", "malformed_ballot")
            detail = getattr(exc, "detail", str(exc))
            out.append((cast.seq, credential, None, str(code), str(detail)))
    return out


def count(record: ElectionRecord, *, workers: int = 1, allow_test_keys: bool = True) -> Count:
    """Check every ballot cast before the close and keep each credential's newest."""
    opening_key = record.opening_key()
    if opening_key is None:
        raise ManifestRejected("not_unsealed", "the sealing key has not been published")
    limit = record.count_size if record.count_size is not None else None
    eligible: list[CastEntry] = []
    rejected: list[Problem] = []
    for cast in record.casts:
        if limit is not None and cast.seq >= limit:
            rejected.append(Problem(cast.seq, "after_close", "the ballot was cast after the close"))
        elif record.closed_at is not None and cast.at > record.closed_at:
            # Same fixed-width form, so the strings compare as the times: a ballot logged
            # before the close but stamped after it (an early close's window).
            rejected.append(
                Problem(
                    cast.seq,
                    "closed",
                    f"the ballot was cast at {cast.at}, after the election was closed at "
                    f"{record.closed_at}",
                )
            )
        else:
            eligible.append(cast)
    manifest_json = to_json(record.manifest)
    results: list[tuple[int, str, dict[str, Any] | None, str, str]] = []
    if workers > 1 and len(eligible) > 200 and can_fork():
        # The workers inherit the record through the fork; only chunks' bounds travel.
        size = max(100, len(eligible) // (workers * 4) + 1)
        bounds = [(i, min(i + size, len(eligible))) for i in range(0, len(eligible), size)]
        inherited = (manifest_json, allow_test_keys, record.hash, opening_key, eligible)
        for part in imap_forked(_check_shared_chunk, bounds, workers, shared=inherited):
            results.extend(part)
    else:
        results = _check_chunk(manifest_json, allow_test_keys, record.hash, opening_key, eligible)
    from ballot.core.choices import validate_choices

    by_seq = {cast.seq: cast for cast in eligible}
    sequences: dict[str, _Sequence] = {}
    anomalies: list[Problem] = []
    spoiled: dict[int, Problem] = {
        seq: Problem(seq, code.removeprefix(record_trustees.SPOILED), detail)
        for seq, _credential, _choices, code, detail in results
        if code.startswith(record_trustees.SPOILED)
    }
    superseded = 0
    checked, refused = revoting_policy(
        record.manifest, sorted(results, key=lambda r: r[0]), spoiled=frozenset(spoiled)
    )
    rejected.extend(refused)
    taken_spoiled: list[Problem] = []
    for seq, credential, choices_value, code, detail in checked:
        if choices_value is None and seq not in spoiled:
            rejected.append(Problem(seq, code, detail))
            continue
        cast = by_seq[seq]
        sequence = sequences.setdefault(credential, _Sequence())
        refusal, gap = sequence.take(cast)
        if refusal is not None:
            rejected.append(refusal)
            continue
        if gap is not None:
            anomalies.append(gap)
        if sequence.newest is not None:
            superseded += 1
        if choices_value is None:
            taken_spoiled.append(spoiled[seq])
            sequence.newest = (seq, credential, None, cast.signature)
            continue
        sequence.newest = (
            seq,
            credential,
            validate_choices(record.manifest, choices_value),
            cast.signature,
        )
    counted = sorted(
        (
            (seq, credential, choices, signature)
            for seq, credential, choices, signature in (
                s.newest for s in sequences.values() if s.newest is not None
            )
            if choices is not None
        ),
        key=lambda item: item[0],
    )
    rejected.sort(key=lambda problem: problem.seq if problem.seq is not None else -1)
    return Count(
        counted=counted,
        rejected=rejected,
        superseded=superseded,
        credentials=sum(1 for s in sequences.values() if s.newest is not None),
        anomalies=anomalies,
        spoiled=taken_spoiled,
    )


@dataclass
class _Sequence:
    """One credential's valid ballots so far, in log order (docs/protocol.md §9.3)."""

    top: int = 0  # the highest counter accepted (version 2)
    top_seq: int | None = None
    seen: dict[str, tuple[int, int | None]] = field(default_factory=dict)  # digest → seq, n
    newest: tuple[int, str, Choices | None, str] | None = None  # None: spoiled (§14.10)

    def take(self, cast: CastEntry) -> tuple[Problem | None, Problem | None]:
        """Accept ``cast`` as the credential's newest ballot, or say why not: (refusal,
        None) or (None, the gap it leaves, if any)."""
        digest = hashlib.sha256(
            canonical_bytes({"ballot": cast.ballot, "signature": cast.signature})
        ).hexdigest()
        raw = cast.ballot.get("counter")
        counter = raw if type(raw) is int else None
        earlier = self.seen.get(digest)
        if earlier is not None:
            first, _n = earlier
            if self.newest is not None and self.newest[0] == first:
                return (
                    Problem(
                        cast.seq,
                        "duplicate_ballot",
                        f"the same ballot was already logged at seq {first}",
                    ),
                    None,
                )
            return (
                Problem(
                    cast.seq,
                    "replayed_ballot",
                    f"an older ballot (first logged at seq {first}) was appended again after "
                    f"a newer ballot of its credential (seq {self.newest_seq()})",
                ),
                None,
            )
        gap = None
        if counter is not None:
            if counter < self.top:
                return (
                    Problem(
                        cast.seq,
                        "replayed_ballot",
                        f"ballot number {counter} of its credential was appended after "
                        f"number {self.top} (seq {self.top_seq})",
                    ),
                    None,
                )
            if counter == self.top:
                return (
                    Problem(
                        cast.seq,
                        "counter_fork",
                        f"a second, different ballot number {counter} of its credential "
                        f"(the first is at seq {self.top_seq})",
                    ),
                    None,
                )
            if counter != self.top + 1:
                gap = Problem(
                    cast.seq,
                    "counter_gap",
                    f"ballot number {counter} of its credential follows number {self.top}: "
                    "the ballots between are missing from the log",
                )
            self.top, self.top_seq = counter, cast.seq
        self.seen[digest] = (cast.seq, counter)
        return None, gap

    def newest_seq(self) -> int | None:
        return None if self.newest is None else self.newest[0]


def revoting_policy(
    manifest: Manifest, checked: Sequence[Checked], *, spoiled: frozenset[int] = frozenset()
) -> tuple[list[Checked], list[Problem]]:
    """The manifest's re-voting policy over the checked ballots in log order
    (docs/protocol.md §7.8, §9.3 step 4). With ``revoting: false`` a credential's first
    valid ballot is its only one: every later valid ballot of it is refused
    (``revote_not_allowed``) and not counted. With ``revoting: true`` all are kept (the
    last counts). A spoiled ballot (``spoiled``: their seqs, §14.10) is a valid one here."""
    if manifest.revoting:
        return list(checked), []
    seen: set[str] = set()
    kept: list[Checked] = []
    refused: list[Problem] = []
    for item in checked:
        seq, credential, choices_value, _code, _detail = item
        if choices_value is not None or seq in spoiled:
            if credential in seen:
                refused.append(
                    Problem(
                        seq,
                        "revote_not_allowed",
                        "a second ballot of a credential in an election without re-voting",
                    )
                )
                continue
            seen.add(credential)
        kept.append(item)
    return kept, refused


__all__ = [
    "BallotRejected",
    "CastEntry",
    "Count",
    "ElectionRecord",
    "Problem",
    "ballots_digest",
    "compute_outcome",
    "count",
    "currency_unit",
    "gather",
    "lot_for",
    "result_body",
    "revoting_policy",
    "rule_config",
    "tally_ballot",
    "tally_election",
]
