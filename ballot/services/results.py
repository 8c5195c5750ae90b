"""Counting a closed election and publishing its result (docs/protocol.md, "Tally").

The count is ``ballot.record``'s, the same code ``veche verify`` runs over the log: the
server reads the election's entries back from its own log, opens and checks every
ballot, keeps each credential's last, runs the manifest's rule with the lot seeded from
the secret committed in the manifest, signs the result and logs ``result.published``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.core.entry import parse_entry
from audit.services.models import LogEntry
from audit.services.store import BatchLog
from ballot.core import kinds, record
from ballot.core.config import GreedyNoSkipRule, GreedyRule, GreedyThresholdRule, MesRule, to_json
from ballot.core.manifest import Manifest
from ballot.services.elections import ElectionService
from ballot.services.errors import ElectionNotFound, ElectionRecordBroken, ElectionStateConflict
from ballot.services.lifecycle import LiveElection
from ballot.services.models import Election
from tally import PabulibFile, write_pb

ELECTION_ENTRY_KINDS = tuple(kinds.ELECTION_KINDS)


class ResultView(msgspec.Struct, frozen=True):
    """A published result with what explains it (the rule's trace) and checks it."""

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


def read_record(db: Session, election_hash: str, from_seq: int) -> record.ElectionRecord:
    """The election's record from its own entries in the log (from its opening on)."""
    rows = db.execute(
        select(LogEntry.data)
        .where(LogEntry.seq >= from_seq, LogEntry.kind.in_(ELECTION_ENTRY_KINDS))  # type: ignore[attr-defined]
        .order_by(LogEntry.seq)
    ).scalars()
    records, _orphans = record.gather(
        parse_entry(bytes(data), kinds.ELECTION_ENTRIES) for data in rows
    )
    found = records.get(election_hash)
    if found is None:
        raise ElectionRecordBroken("no_record", "The log holds no record of this election.")
    return found


def pabulib_rule(manifest: Manifest) -> str:
    """The Pabulib META ``rule`` naming the same computation, or ``unknown``."""
    rule = manifest.rule
    if isinstance(rule, GreedyRule):
        return "greedy"
    if isinstance(rule, GreedyNoSkipRule):
        return "greedy-no-skip"
    if isinstance(rule, GreedyThresholdRule):
        return "greedy-threshold"
    if isinstance(rule, MesRule) and rule.satisfaction == "cost" and not rule.min_vote_share:
        if rule.completion == "none" and rule.comparison == "none":
            return "equalshares"
        if rule.completion == "add1" and rule.comparison == "none":
            return "equalshares/add1"
        if rule.completion == "add1" and rule.comparison == "satisfaction":
            return "equalshares/add1-comparison"
    return "unknown"


def published_view(row: Election) -> ResultView | None:
    """The result an election published, or None before the count."""
    return msgspec.json.decode(row.result, type=ResultView) if row.result is not None else None


class ResultService:
    """Publishing and serving results of an ``ElectionService``'s elections."""

    def __init__(self, elections: ElectionService) -> None:
        self.elections = elections

    def _closed_record(
        self, election_id: str, *, allowed: set[str]
    ) -> tuple[Election, record.ElectionRecord, LiveElection]:
        elections = self.elections
        with elections.store.read_sessions() as db:
            row = elections.get(db, election_id)
            if row.status not in allowed:
                raise ElectionStateConflict("not_closed", "Close the election before counting it.")
            live = elections.live(db, election_id)
            assert row.opened_seq is not None
            return row, read_record(db, live.hash, row.opened_seq), live

    def publish(self, election_id: str) -> ResultView:
        elections = self.elections
        row, rec, live = self._closed_record(election_id, allowed={"closed", "tallied"})
        if row.status == "tallied":
            raise ElectionStateConflict("already_tallied", "The result has already been published.")
        tally_count = record.count(rec)
        if tally_count.rejected:
            # Every ballot was checked before it was logged; a refusal now means the log
            # or the keys were damaged: investigate rather than publish over it.
            first = tally_count.rejected[0]
            raise ElectionRecordBroken(
                "inconsistent_log",
                f"{len(tally_count.rejected)} logged ballot(s) do not check, e.g. seq "
                f"{first.seq}: {first.detail}",
            )
        outcome = record.compute_outcome(rec, tally_count, live.lot_secret)
        body = record.result_body(rec, tally_count, outcome, live.lot_secret)
        unsigned = msgspec.convert({**body, "signature": "A" * 86}, kinds.ResultPublished)
        published = {**body, "signature": kinds.sign_result(elections.authority_key, unsigned)}
        digest = record.ballots_digest(tally_count.counted)

        def work(wdb: Session, log: BatchLog) -> ResultView:
            election = wdb.get(Election, election_id)
            assert election is not None
            if election.status != "closed":
                raise ElectionStateConflict(
                    "already_tallied", "The result has already been published."
                )
            appended = log.append(kinds.RESULT_PUBLISHED, published)
            view = ResultView(
                election=live.hash,
                result=published,
                seq=appended.seq,
                rule=outcome.rule,
                winners=list(outcome.winners),
                spent=outcome.spent,
                budget=outcome.budget,
                scores=dict(outcome.scores),
                counted=len(tally_count.counted),
                superseded=tally_count.superseded,
                trace=[msgspec.to_builtins(step) for step in outcome.trace],
                ballots_digest=digest,
            )
            election.status = "tallied"
            election.result_seq = appended.seq
            election.result = msgspec.json.encode(view)
            wdb.flush()
            return view

        return elections.sequencer.run(work).result

    def result(self, db: Session, election_id: str) -> ResultView:
        view = published_view(self.elections.get(db, election_id))
        if view is None:
            raise ElectionNotFound("no_result", "The result has not been published yet.")
        return view

    def export_pb(self, election_id: str) -> bytes:
        """The counted ballots as a Pabulib file; once tallied, with the lot's seed."""
        row, rec, live = self._closed_record(election_id, allowed={"closed", "tallied"})
        tally_count = record.count(rec)
        manifest = live.manifest
        ballots = [record.tally_ballot(choices) for _s, _c, choices, _sig in tally_count.counted]
        election = record.tally_election(manifest)
        meta = {
            "description": manifest.title,
            "unit": manifest.district,
            "instance": manifest.id,
            "currency": manifest.currency,
            "rule": pabulib_rule(manifest),
            "veche_election": live.hash,
            "veche_rule": msgspec.json.encode(to_json(manifest.rule)).decode(),
            "veche_tie_break": manifest.tie_break,
        }
        if row.status == "tallied":
            meta["veche_lot_seed"] = record.lot_for(live.lot_secret, tally_count.counted).hex()
        pf = PabulibFile(
            election=election,
            ballots=ballots,
            voter_ids=[str(k + 1) for k in range(len(ballots))],
            vote_type=election.kind,
            meta=meta,
        )
        return write_pb(pf)
