"""The log entry kinds of proposals and co-funding (docs/protocol.md
§4.10–§4.16). Bodies carry public fields and pseudonymous ids only
(``User.public_id``, a business's random id); never names, e-mails or tax ids.

- ``program.created`` -- the program's rules: districts and budgets, categories, phase
  dates, support threshold, co-funding share, who may pledge, the deadline.
- ``program.phase`` -- the program moved to another phase.
- ``program.changed`` -- the program's rules as changed in its submission phase: title,
  categories, phase dates, support threshold, co-funding share (docs/protocol.md §18.4).
- ``proposal.status`` -- a proposal's status changed; with its public fields and
  ``content``, the SHA-256 of ``b"veche/proposal/v1\\n" || canonical(content)``.
- ``proposal.supported`` -- a resident supported a proposal; the new count.
- ``pledge.made`` / ``pledge.withdrawn`` / ``pledge.due`` / ``pledge.released`` -- a
  pledge's amount and the proposal's live total after the event.
- ``milestone.reported`` -- implementation progress, with the photos' SHA-256.
- ``project.rated`` -- a resident's 1–5 rating of a completed project.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import msgspec

from audit.core.entry import AsciiKey, Count

PROGRAM_CREATED = "program.created"
PROGRAM_PHASE = "program.phase"
PROGRAM_CHANGED = "program.changed"
PROPOSAL_STATUS = "proposal.status"
PROPOSAL_SUPPORTED = "proposal.supported"
PLEDGE_MADE = "pledge.made"
PLEDGE_WITHDRAWN = "pledge.withdrawn"
PLEDGE_DUE = "pledge.due"
PLEDGE_RELEASED = "pledge.released"
MILESTONE_REPORTED = "milestone.reported"
PROJECT_RATED = "project.rated"

Hex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{32,64}$")]


class _Body(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class DistrictBudgetEntry(_Body, frozen=True):
    district: str
    budget: Count


class ProgramCreated(_Body, frozen=True):
    program: Count
    title: str
    currency: str
    districts: list[DistrictBudgetEntry]
    categories: list[str]
    phases: dict[AsciiKey, dict[AsciiKey, str]]
    support_threshold: Count
    cofund_percent: Count
    cofund_who: str
    cofund_deadline: Count | None


class ProgramChanged(_Body, frozen=True):
    program: Count
    title: str
    categories: list[str]
    phases: dict[AsciiKey, dict[AsciiKey, str]]
    support_threshold: Count
    cofund_percent: Count


class ProgramPhase(_Body, frozen=True):
    program: Count
    phase: str


class ProposalStatus(_Body, frozen=True):
    proposal: Count
    program: Count
    author: Hex
    title: str
    district: str
    category: str
    cost: Count
    validated_cost: Count | None
    from_status: str
    to_status: str
    reason: str | None
    election: str | None
    content: Hex


class ProposalSupported(_Body, frozen=True):
    proposal: Count
    supporter: Hex
    supports: Count


class PledgeEvent(_Body, frozen=True):
    pledge: Count
    proposal: Count
    pledger: Hex
    business: Hex | None
    amount: Count
    total: Count


class MilestoneReported(_Body, frozen=True):
    proposal: Count
    milestone: Count
    stage: str
    percent: Count
    date: str
    photos: list[Hex]


class ProjectRated(_Body, frozen=True):
    proposal: Count
    rater: Hex
    stars: Count


PROPOSAL_KINDS: Mapping[str, type[msgspec.Struct]] = {
    PROGRAM_CREATED: ProgramCreated,
    PROGRAM_PHASE: ProgramPhase,
    PROGRAM_CHANGED: ProgramChanged,
    PROPOSAL_STATUS: ProposalStatus,
    PROPOSAL_SUPPORTED: ProposalSupported,
    PLEDGE_MADE: PledgeEvent,
    PLEDGE_WITHDRAWN: PledgeEvent,
    PLEDGE_DUE: PledgeEvent,
    PLEDGE_RELEASED: PledgeEvent,
    MILESTONE_REPORTED: MilestoneReported,
    PROJECT_RATED: ProjectRated,
}
