"""An election's counted ballots as a Pabulib file (docs/protocol.md §9.10), the format
other counting tools read, with the rule named as Pabulib names it."""

from __future__ import annotations

from typing import Any

import msgspec

from ballot.core import record, record_survey
from ballot.core.config import (
    GreedyNoSkipRule,
    GreedyRule,
    GreedyThresholdRule,
    MesRule,
    is_survey,
    to_json,
)
from ballot.core.manifest import Manifest
from tally import PabulibFile, write_pb


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


def pabulib_file(
    rec: record.ElectionRecord, tally_count: record.Count, seed: bytes | None
) -> bytes:
    """The counted ballots as a Pabulib file (§9.10); with the lot's seed once published."""
    manifest = rec.manifest
    if is_survey(manifest):
        # A survey's export holds its budget question's ballots (docs/protocol.md §19.3).
        unit = record.currency_unit(manifest.currency)
        election, approvals = record_survey.budget_ballots(manifest, tally_count.counted, unit)
        ballots: list[Any] = list(approvals)
    else:
        ballots = [record.tally_ballot(choices) for _s, _c, choices, _sig in tally_count.counted]
        election = record.tally_election(manifest)
    meta = {
        "description": manifest.title,
        "unit": manifest.district,
        "instance": manifest.id,
        "currency": manifest.currency,
        "rule": pabulib_rule(manifest),
        "veche_election": rec.hash,
        "veche_rule": msgspec.json.encode(to_json(manifest.rule)).decode(),
        "veche_tie_break": manifest.tie_break,
    }
    if seed is not None:
        meta["veche_lot_seed"] = seed.hex()
    pf = PabulibFile(
        election=election,
        ballots=ballots,
        voter_ids=[str(k + 1) for k in range(len(ballots))],
        vote_type=election.kind,
        meta=meta,
    )
    return write_pb(pf)
