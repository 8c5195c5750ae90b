"""Counting a closed election, publishing its result, and serving it (docs/protocol.md §9).

Everything published comes from the log's hashed bytes (§9.9), never from a column
beside them: the server reads the election's entries back from ``log_entry.data``,
parses each and takes its kind from inside the bytes (``log_entry.kind`` is only an
index for the explorer), and the result it serves is the ``result.published`` entry's
body with its signature checked. The columns of ``election`` (``opened_seq``,
``closed_seq``, ``result_seq``) only say where to look; what is found there must be the
expected kind of entry of this very election, or the answer is a clear refusal
(``500 inconsistent_log``).

The count is ``ballot.core.record``'s, the same code ``veche verify`` runs over the log:
open and check every ballot, keep each credential's ballot under the manifest's
re-voting policy, run the manifest's rule with the lot seeded from the secret committed
in the manifest, sign the result and log ``result.published``.

What is derived from the logged ballots and is not itself logged — the rule's
explanation (``trace``), the number of superseded ballots, the ballots' digest and the
Pabulib export — is computed once per published result (or once per close, before the
count) and kept in memory, keyed by the election and the leaf hash of the entry it
derives from, so that requests, which need no log-in, never make the server re-check
every ballot again (§9.9). Before it is kept, the recount is compared with the logged
result; a log whose ballots do not give its own published result is refused.

Reading the entries back from the log's bytes is ``ballot.services.log_reading``; the
Pabulib export, ``ballot.services.pabulib_export``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from audit.core.canonical import b64url_decode, b64url_encode
from audit.core.entry import leaf_hash
from audit.services.store import BatchLog
from ballot.core import kinds, record, record_trustees
from ballot.core.choices import SurveyChoices
from ballot.core.config import to_json
from ballot.core.errors import BallotCryptoError
from ballot.core.manifest import Manifest, trustees_of
from ballot.services.elections import ElectionService
from ballot.services.errors import ElectionNotFound, ElectionRecordBroken, ElectionStateConflict
from ballot.services.log_reading import broken, election_entries, logged_entry, read_record
from ballot.services.models import Election
from ballot.services.pabulib_export import pabulib_file, pabulib_rule
from kernel.markers import N_

__all__ = [
    "LoggedElection",
    "LoggedResult",
    "ResultService",
    "ResultView",
    "election_entries",
    "pabulib_rule",
    "read_record",
]

NOT_UNSEALED = N_(
    "The ballots cannot be counted yet: fewer trustees than the threshold have released "
    "their key shares, so no ballot can be opened."
)


class ResultView(msgspec.Struct, frozen=True):
    """A published result with what explains it (the rule's trace) and checks it.

    ``result`` is the logged ``result.published`` body (signature included) and
    ``rule``, ``winners``, ``spent``, ``budget``, ``scores`` and ``counted`` are copied
    from it; ``superseded``, ``trace`` and ``ballots_digest`` are recomputed from the
    logged ballots."""

    election: str
    result: dict[str, Any]
    seq: int
    rule: str
    winners: list[str]
    spent: int
    budget: int
    scores: dict[str, int]
    counted: int
    superseded: int
    trace: list[dict[str, Any]]
    ballots_digest: str


@dataclass(frozen=True)
class LoggedElection:
    """An election as its ``election.opened`` entry has it."""

    id: str
    hash: str
    opened_seq: int
    manifest: Manifest


@dataclass(frozen=True)
class LoggedResult:
    """A published result as its ``result.published`` entry has it, signature checked."""

    election: LoggedElection
    seq: int
    leaf: bytes
    body: kinds.ResultPublished

    @property
    def winners(self) -> list[str]:
        return list(self.body.winners)


@dataclass(frozen=True)
class _Derived:
    """What the logged ballots give that is not logged itself."""

    superseded: int
    trace: list[dict[str, Any]]
    ballots_digest: str
    pabulib: bytes
    # A survey's counted answer sets with their ballots' seqs, in log order (§19.4).
    answers: list[tuple[int, dict[str, Any]]]


def _answers(tally_count: record.Count) -> list[tuple[int, dict[str, Any]]]:
    return [
        (seq, choices.answers)
        for seq, _credential, choices, _sig in tally_count.counted
        if isinstance(choices, SurveyChoices)
    ]


def _checked_count(rec: record.ElectionRecord) -> record.Count:
    """The count of a closed election whose every logged ballot checks."""
    tally_count = record.count(rec)
    if tally_count.rejected:
        # Every ballot was checked before it was logged; a refusal now means the log
        # or the keys were damaged: investigate rather than publish or serve over it.
        first = tally_count.rejected[0]
        raise broken(
            f"{len(tally_count.rejected)} logged ballot(s) do not check, e.g. seq "
            f"{first.seq}: {first.detail}"
        )
    return tally_count


def _lot_secret(rec: record.ElectionRecord, kept: bytes) -> bytes:
    """The lot secret the count reveals: the one kept since the opening, or in a trustee
    election the one the unsealing scalar and the close's root give (docs/protocol.md
    §14); ``409 not_unsealed`` before fewer than k trustees have released their shares."""
    if trustees_of(rec.manifest) is None:
        return kept
    secret = record_trustees.lot_secret_of(rec)
    if secret is None:
        raise ElectionStateConflict("not_unsealed", NOT_UNSEALED)
    return secret


def _unsigned(body: kinds.ResultPublished) -> dict[str, Any]:
    value: dict[str, Any] = to_json(body)
    del value["signature"]
    return value


class ResultService:
    """Publishing and serving results of an ``ElectionService``'s elections."""

    def __init__(self, elections: ElectionService, *, kept: int = 64) -> None:
        self.elections = elections
        self._kept = kept
        # A recount that found the log broken is kept too: asking again must not re-count.
        self._derived: OrderedDict[tuple[str, bytes], _Derived | ElectionRecordBroken] = (
            OrderedDict()
        )
        self._locks: dict[tuple[str, bytes], threading.Lock] = {}
        self._guard = threading.Lock()
        # How many times this service has counted an election (each one re-checks every
        # ballot): tests hold it against the requests that must not count again.
        self.counts = 0

    # --- reading the log ----------------------------------------------------------------
    def _authority(self) -> str:
        return b64url_encode(self.elections.authority_key.public_key().public_bytes_raw())

    def logged_election(self, db: Session, row: Election) -> LoggedElection:
        """The election's ``election.opened`` entry, read from its bytes."""
        if row.opened_seq is None:
            raise ElectionStateConflict("not_open", f"The election {row.id!r} has not opened.")
        entry, _raw = logged_entry(
            db, row.opened_seq, kinds.ELECTION_OPENED, f"the opening of {row.id!r}"
        )
        body = entry.body
        assert isinstance(body, kinds.ElectionOpened)
        if body.manifest.id != row.id:
            raise broken(f"The log entry {entry.seq} opens another election.")
        if body.manifest.authority_key != self._authority():
            raise broken(f"The election {row.id!r} was signed by another authority key.")
        return LoggedElection(row.id, body.manifest_hash, entry.seq, body.manifest)

    def logged_result(self, db: Session, row: Election) -> LoggedResult | None:
        """The election's published result from its ``result.published`` entry, with its
        signature checked; None before the count."""
        if row.result_seq is None:
            if row.status == "tallied":
                raise broken(f"The election {row.id!r} is counted but names no result entry.")
            return None
        election = self.logged_election(db, row)
        entry, raw = logged_entry(
            db, row.result_seq, kinds.RESULT_PUBLISHED, f"the result of {row.id!r}"
        )
        body = entry.body
        assert isinstance(body, kinds.ResultPublished)
        if body.election != election.hash:
            raise broken(f"The log entry {entry.seq} is the result of another election.")
        try:
            kinds.verify_result_signature(b64url_decode(election.manifest.authority_key), body)
        except BallotCryptoError:
            raise broken(
                f"The signature of the result in entry {entry.seq} does not verify."
            ) from None
        return LoggedResult(election, entry.seq, leaf_hash(raw), body)

    def _visible(self, db: Session, election_id: str) -> Election:
        """An election the public may see: a draft is nobody's business yet (404)."""
        row = self.elections.get(db, election_id)
        if row.status == "draft":
            raise ElectionNotFound("no_such_election", f"There is no election {election_id!r}.")
        return row

    # --- what the logged ballots give, once ------------------------------------------------
    def _derive(
        self, db: Session, election: LoggedElection, result: LoggedResult | None
    ) -> _Derived:
        """Recount from the log, once per result (or per close before the count)."""
        if result is not None:
            key = (election.hash, result.leaf)
        else:
            row = self.elections.get(db, election.id)
            entry, raw = logged_entry(
                db, row.closed_seq, kinds.ELECTION_CLOSED, f"the close of {election.id!r}"
            )
            assert isinstance(entry.body, kinds.ElectionClosed)
            if entry.body.election != election.hash:
                raise broken(f"The log entry {entry.seq} closes another election.")
            key = (election.hash, leaf_hash(raw))
        with self._guard:
            kept = self._derived.get(key)
            if kept is not None:
                self._derived.move_to_end(key)
            lock = self._locks.setdefault(key, threading.Lock())
        if kept is None:
            with lock:  # one count at a time per result; the others wait for it
                with self._guard:
                    kept = self._derived.get(key)
                if kept is None:
                    try:
                        kept = self._recount(db, election, result)
                    except ElectionRecordBroken as exc:
                        kept = exc
                    self._keep(key, kept)
        if isinstance(kept, ElectionRecordBroken):
            raise ElectionRecordBroken(kept.code, kept.detail)
        return kept

    def _keep(self, key: tuple[str, bytes], derived: _Derived | ElectionRecordBroken) -> None:
        with self._guard:
            self._derived[key] = derived
            self._derived.move_to_end(key)
            while len(self._derived) > self._kept:
                old, _ = self._derived.popitem(last=False)
                self._locks.pop(old, None)

    def _recount(
        self, db: Session, election: LoggedElection, result: LoggedResult | None
    ) -> _Derived:
        rec = read_record(db, election.hash, election.opened_seq)
        if rec.closed_seq is None:
            raise ElectionStateConflict("not_closed", "The election has not closed yet.")
        if rec.opening_key() is None:
            raise ElectionStateConflict("not_unsealed", NOT_UNSEALED)
        with self._guard:
            self.counts += 1
        tally_count = _checked_count(rec)
        if result is None:
            return _Derived(
                superseded=tally_count.superseded,
                trace=[],
                ballots_digest=record.ballots_digest(tally_count.counted),
                pabulib=pabulib_file(rec, tally_count, None),
                answers=_answers(tally_count),
            )
        secret = b64url_decode(result.body.lot_secret)
        try:
            outcome = record.compute_outcome(rec, tally_count, secret)
        except BallotCryptoError as exc:
            raise broken(f"The published result cannot be recomputed: {exc.detail}") from None
        expected = record.result_body(rec, tally_count, outcome, secret)
        if expected != _unsigned(result.body):
            raise ElectionRecordBroken(
                "result_mismatch",
                "The published result is not what the logged ballots give; "
                "run veche verify on this server.",
            )
        return _Derived(
            superseded=tally_count.superseded,
            trace=[msgspec.to_builtins(step) for step in outcome.trace],
            ballots_digest=record.ballots_digest(tally_count.counted),
            pabulib=pabulib_file(rec, tally_count, record.lot_for(secret, tally_count.counted)),
            answers=_answers(tally_count),
        )

    # --- publishing ---------------------------------------------------------------------
    def publish(self, election_id: str) -> ResultView:
        elections = self.elections
        with elections.store.read_sessions() as db:
            row = elections.get(db, election_id)
            if row.status not in {"closed", "tallied"}:
                raise ElectionStateConflict("not_closed", "Close the election before counting it.")
            if row.status == "tallied":
                raise ElectionStateConflict(
                    "already_tallied", "The result has already been published."
                )
            election = self.logged_election(db, row)
            live = elections.live(db, election_id)
            rec = read_record(db, election.hash, election.opened_seq)
        if rec.closed_seq is None:
            raise broken("The log holds no close of this election.")
        if rec.results:
            raise ElectionStateConflict("already_tallied", "The log already holds its result.")
        lot_secret = _lot_secret(rec, live.lot_secret)
        self.counts += 1
        tally_count = _checked_count(rec)
        outcome = record.compute_outcome(rec, tally_count, lot_secret)
        body = record.result_body(rec, tally_count, outcome, lot_secret)
        unsigned = msgspec.convert({**body, "signature": "A" * 86}, kinds.ResultPublished)
        published = {**body, "signature": kinds.sign_result(elections.authority_key, unsigned)}
        seed = record.lot_for(lot_secret, tally_count.counted)
        derived = _Derived(
            superseded=tally_count.superseded,
            trace=[msgspec.to_builtins(step) for step in outcome.trace],
            ballots_digest=record.ballots_digest(tally_count.counted),
            pabulib=pabulib_file(rec, tally_count, seed),
            answers=_answers(tally_count),
        )

        def work(wdb: Session, log: BatchLog) -> tuple[int, bytes]:
            row = wdb.get(Election, election_id)
            assert row is not None
            if row.status != "closed":
                raise ElectionStateConflict(
                    "already_tallied", "The result has already been published."
                )
            appended = log.append(kinds.RESULT_PUBLISHED, published)
            row.status = "tallied"
            row.result_seq = appended.seq
            wdb.flush()
            return appended.seq, appended.leaf_hash

        seq, leaf = elections.sequencer.run(work).result
        self._keep((election.hash, leaf), derived)
        signed = msgspec.convert(published, kinds.ResultPublished)
        logged = LoggedResult(election, seq, leaf, signed)
        return self._view(logged, derived)

    # --- serving --------------------------------------------------------------------------
    @staticmethod
    def _view(logged: LoggedResult, derived: _Derived) -> ResultView:
        body = logged.body
        return ResultView(
            election=logged.election.hash,
            result=to_json(body),
            seq=logged.seq,
            rule=body.rule,
            winners=list(body.winners),
            spent=body.spent,
            budget=body.budget,
            scores=dict(body.scores),
            counted=body.counted,
            superseded=derived.superseded,
            trace=derived.trace,
            ballots_digest=derived.ballots_digest,
        )

    def published(self, db: Session, election_id: str) -> LoggedResult:
        """The logged result of a visible election, held against the recount of the
        logged ballots (done once, then kept): ``404 no_result`` before the count, ``500
        result_mismatch`` if the ballots do not give it."""
        logged = self.logged_result(db, self._visible(db, election_id))
        if logged is None:
            raise ElectionNotFound("no_result", "The result has not been published yet.")
        self._derive(db, logged.election, logged)
        return logged

    def view(self, db: Session, row: Election) -> ResultView | None:
        """The result view of an election, or None before the count."""
        logged = self.logged_result(db, row)
        if logged is None:
            return None
        return self._view(logged, self._derive(db, logged.election, logged))

    def result(self, db: Session, election_id: str) -> ResultView:
        view = self.view(db, self._visible(db, election_id))
        if view is None:
            raise ElectionNotFound("no_result", "The result has not been published yet.")
        return view

    def counted_answers(self, db: Session, row: Election) -> list[tuple[int, dict[str, Any]]]:
        """A closed survey's counted answer sets with their seqs, in log order, from the
        recount kept per close or result (docs/protocol.md §19.4)."""
        if row.status not in {"closed", "tallied"}:
            raise ElectionStateConflict("not_closed", "The election has not closed yet.")
        logged = self.logged_result(db, row)
        election = logged.election if logged is not None else self.logged_election(db, row)
        return self._derive(db, election, logged).answers

    def export_pb(self, election_id: str) -> bytes:
        """The counted ballots as a Pabulib file; once tallied, with the lot's seed."""
        with self.elections.store.read_sessions() as db:
            row = self._visible(db, election_id)
            if row.status not in {"closed", "tallied"}:
                raise ElectionStateConflict("not_closed", "The election has not closed yet.")
            logged = self.logged_result(db, row)
            election = logged.election if logged is not None else self.logged_election(db, row)
            return self._derive(db, election, logged).pabulib
