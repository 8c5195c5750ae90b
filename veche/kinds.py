"""The log's entry kinds, joined from every package: the one list the log and verifier use.

Kept apart from ``veche.wiring`` so that ``veche verify`` can know every kind without
importing the web and database layers.
"""

from __future__ import annotations

from audit.core.entry import LOG_KINDS, EntryKinds
from ballot.core.kinds import ELECTION_KINDS, ELIGIBILITY_KINDS
from proposals.core.kinds import PROPOSAL_KINDS
from reports.core.kinds import REPORT_KINDS

__all__ = ["entry_kinds"]


def entry_kinds() -> EntryKinds:
    """Every kind of entry a Veche log may hold: the log's own, elections' (and
    eligibility's), proposals', reports'."""
    return EntryKinds(LOG_KINDS, ELECTION_KINDS, ELIGIBILITY_KINDS, PROPOSAL_KINDS, REPORT_KINDS)
