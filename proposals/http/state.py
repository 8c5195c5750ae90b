"""What the proposals' handlers use of the application's state (typed; see ``kernel.web``)."""

from __future__ import annotations

from ballot.http.state import ElectionState
from proposals.services.ballot_link import BallotLink
from proposals.services.implementation import ImplementationService
from proposals.services.pledges import PledgeService
from proposals.services.service import ProposalService
from proposals.services.uploads import UploadService


class ProposalState(ElectionState):
    proposals: ProposalService
    pledges: PledgeService
    implementation: ImplementationService
    uploads: UploadService
    ballot_link: BallotLink
