"""Programs, proposals, co-funding and implementation under /api/v1."""

from __future__ import annotations

from typing import Any, ClassVar

from litestar import Controller, Response, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from kernel.web import (
    DB,
    UPLOAD_LIMIT,
    Upload,
    Viewer,
    image_response,
    keep_upload,
    read_upload,
    requires_role,
)
from proposals.core.schemas import (
    BallotCreated,
    BallotRequest,
    BusinessCreate,
    BusinessOut,
    ImageOut,
    Implementation,
    MilestoneCreate,
    MilestoneOut,
    PhaseChange,
    PledgeCreate,
    PledgeOut,
    ProgramCreate,
    ProgramOut,
    ProgramRules,
    ProgramUpdate,
    ProjectEntry,
    ProposalCreate,
    ProposalOut,
    ProposalUpdate,
    RatingCreate,
    ResultApplied,
    Review,
    StatusChangeOut,
)
from proposals.http.state import ProposalState
from proposals.services import exports
from proposals.services.service import program_out

admin = requires_role("admin")
resident = requires_role("resident")
staff = requires_role("admin", "moderator")


def _user(viewer: Viewer) -> Any:
    return viewer.user if viewer else None


class ProgramController(Controller):
    path = "/api/v1/programs"
    tags: ClassVar[list[str]] = ["proposals"]

    @post("/", operation_id="createProgram", status_code=201, sync_to_thread=True, guards=[admin])
    def create(self, data: JSONBody[ProgramCreate], db: DB, state: ProposalState) -> ProgramOut:
        """Create a budgeting program (admins)."""
        with db.begin():
            # Districts are checked on a read; the program is written through the log.
            state.proposals.check_program(db, data)
        return state.proposals.create_program(data)

    @get("/", operation_id="listPrograms", sync_to_thread=True)
    def list_programs(self, db: DB, state: ProposalState) -> list[ProgramOut]:
        """All programs, newest first."""
        with db.begin():
            return state.proposals.list_programs(db)

    @get("/{program_id:int}", operation_id="getProgram", sync_to_thread=True)
    def get_program(self, program_id: FromPath[int], db: DB, state: ProposalState) -> ProgramOut:
        """One program with its rules and phase."""
        with db.begin():
            return program_out(db, state.proposals.program(db, program_id))

    @patch("/{program_id:int}", operation_id="updateProgram", sync_to_thread=True, guards=[admin])
    def update(
        self, program_id: FromPath[int], data: JSONBody[ProgramUpdate], db: DB, state: ProposalState
    ) -> ProgramOut:
        """Change a program's map tiles or co-funding deadline (admins)."""
        with db.begin():
            return state.proposals.update_program(db, program_id, data)

    @put(
        "/{program_id:int}/rules",
        operation_id="changeProgramRules",
        sync_to_thread=True,
        guards=[admin],
    )
    def change_rules(
        self, program_id: FromPath[int], data: JSONBody[ProgramRules], state: ProposalState
    ) -> ProgramOut:
        """Change the title, categories, phase dates, support threshold or co-funding share
        while the program is in its submission phase (admins)."""
        return state.proposals.change_rules(program_id, data)

    @post(
        "/{program_id:int}/phase",
        operation_id="moveProgramPhase",
        status_code=200,
        sync_to_thread=True,
        guards=[admin],
    )
    def move_phase(
        self, program_id: FromPath[int], data: JSONBody[PhaseChange], state: ProposalState
    ) -> ProgramOut:
        """Move the program forward to a later phase (admins)."""
        return state.proposals.move_phase(program_id, data)

    @get("/{program_id:int}/proposals.geojson", operation_id="exportGeoJSON", sync_to_thread=True)
    def export_geojson(
        self, program_id: FromPath[int], db: DB, state: ProposalState
    ) -> Response[bytes]:
        """The program's public proposals as a GeoJSON FeatureCollection."""
        with db.begin():
            body = exports.geojson(db, state.proposals, program_id)
        return Response(body, media_type="application/geo+json")

    @get("/{program_id:int}/proposals.csv", operation_id="exportCSV", sync_to_thread=True)
    def export_csv(self, program_id: FromPath[int], db: DB, state: ProposalState) -> Response[str]:
        """The program's public proposals as CSV."""
        with db.begin():
            body = exports.as_csv(db, state.proposals, program_id)
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="program-{program_id}.csv"'},
        )

    @get(
        "/{program_id:int}/ballot/{district:str}",
        operation_id="ballotProjects",
        sync_to_thread=True,
    )
    def ballot_projects(
        self, program_id: FromPath[int], district: FromPath[str], db: DB, state: ProposalState
    ) -> list[ProjectEntry]:
        """The projects a district's election would take: proposals that met the rules."""
        with db.begin():
            return state.ballot_link.projects(db, program_id, district)

    @post(
        "/{program_id:int}/elections",
        operation_id="createProgramElection",
        status_code=201,
        sync_to_thread=True,
        guards=[admin],
    )
    def create_election(
        self, program_id: FromPath[int], data: JSONBody[BallotRequest], state: ProposalState
    ) -> BallotCreated:
        """Create a district's election draft from its proposals and put them on the ballot."""
        return state.ballot_link.create_election(program_id, data)

    @post(
        "/{program_id:int}/elections/{election_id:str}/apply-result",
        operation_id="applyElectionResult",
        status_code=200,
        sync_to_thread=True,
        guards=[admin],
    )
    def apply_result(
        self, program_id: FromPath[int], election_id: FromPath[str], state: ProposalState
    ) -> ResultApplied:
        """Apply the published result as the log holds it: winners won (pledges due), the
        rest lost (released)."""
        return state.ballot_link.apply_result(program_id, election_id)


class ProposalController(Controller):
    path = "/api/v1/proposals"
    tags: ClassVar[list[str]] = ["proposals"]

    @post(
        "/", operation_id="createProposal", status_code=201, sync_to_thread=True, guards=[resident]
    )
    def create(
        self, data: JSONBody[ProposalCreate], db: DB, state: ProposalState, viewer: Viewer
    ) -> ProposalOut:
        """Create a draft proposal (residents)."""
        with db.begin():
            return state.proposals.create(db, _user(viewer), data)

    @get("/", operation_id="listProposals", sync_to_thread=True)
    def list_proposals(
        self,
        db: DB,
        state: ProposalState,
        program: FromQuery[int | None] = None,
        district: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
    ) -> list[ProposalOut]:
        """Public proposals, filtered by program, district, category and status."""
        service = state.proposals
        with db.begin():
            rows = service.search(
                db, program=program, district=district, category=category, status=status
            )
            return [service.out(db, p) for p in rows]

    @get("/mine", operation_id="myProposals", sync_to_thread=True, guards=[requires_role()])
    def mine(self, db: DB, state: ProposalState, viewer: Viewer) -> list[ProposalOut]:
        """The proposals of the current account, drafts included."""
        service = state.proposals
        with db.begin():
            return [service.out(db, p) for p in service.search(db, author=_user(viewer))]

    @get("/{proposal_id:int}", operation_id="getProposal", sync_to_thread=True)
    def get_proposal(
        self, proposal_id: FromPath[int], db: DB, state: ProposalState, viewer: Viewer
    ) -> ProposalOut:
        """One proposal with its co-funding progress and allowed next states."""
        with db.begin():
            proposal = state.proposals.get(db, proposal_id, _user(viewer))
            return state.proposals.out(db, proposal)

    @patch(
        "/{proposal_id:int}", operation_id="updateProposal", sync_to_thread=True, guards=[resident]
    )
    def update(
        self,
        proposal_id: FromPath[int],
        data: JSONBody[ProposalUpdate],
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> ProposalOut:
        """Edit a draft (its author only)."""
        with db.begin():
            return state.proposals.update(db, _user(viewer), proposal_id, data)

    @get("/{proposal_id:int}/history", operation_id="proposalHistory", sync_to_thread=True)
    def history(
        self, proposal_id: FromPath[int], db: DB, state: ProposalState, viewer: Viewer
    ) -> list[StatusChangeOut]:
        """The proposal's status changes, each with its log entry's seq."""
        with db.begin():
            state.proposals.get(db, proposal_id, _user(viewer))
            return state.proposals.history(db, proposal_id)

    @post(
        "/{proposal_id:int}/submit",
        operation_id="submitProposal",
        status_code=200,
        sync_to_thread=True,
        guards=[resident],
    )
    def submit(
        self, proposal_id: FromPath[int], state: ProposalState, viewer: Viewer
    ) -> ProposalOut:
        """Submit a draft (its author, in the submission phase)."""
        return state.proposals.submit(_user(viewer), proposal_id)

    @post(
        "/{proposal_id:int}/support",
        operation_id="supportProposal",
        status_code=200,
        sync_to_thread=True,
        guards=[resident],
    )
    def support(
        self, proposal_id: FromPath[int], state: ProposalState, viewer: Viewer
    ) -> ProposalOut:
        """Support a proposal, once per resident, in the support phase."""
        return state.proposals.support(_user(viewer), proposal_id)

    @post(
        "/{proposal_id:int}/review",
        operation_id="reviewProposal",
        status_code=200,
        sync_to_thread=True,
        guards=[staff],
    )
    def review(
        self,
        proposal_id: FromPath[int],
        data: JSONBody[Review],
        state: ProposalState,
        viewer: Viewer,
    ) -> ProposalOut:
        """Accept (with the validated cost) or reject (with a reason) a proposal (moderators
        and administrators)."""
        return state.proposals.review(_user(viewer), proposal_id, data)

    @get("/{proposal_id:int}/pledges", operation_id="listPledges", sync_to_thread=True)
    def pledges(
        self, proposal_id: FromPath[int], db: DB, state: ProposalState, viewer: Viewer
    ) -> list[PledgeOut]:
        """The proposal's pledges (amounts and kinds; who pledged only to the pledger)."""
        with db.begin():
            return state.pledges.pledges(db, proposal_id, _user(viewer))

    @post(
        "/{proposal_id:int}/pledges",
        operation_id="pledge",
        status_code=201,
        sync_to_thread=True,
        guards=[resident],
    )
    def pledge(
        self,
        proposal_id: FromPath[int],
        data: JSONBody[PledgeCreate],
        state: ProposalState,
        viewer: Viewer,
    ) -> PledgeOut:
        """Pledge an amount, personally or for one's business."""
        return state.pledges.pledge(_user(viewer), proposal_id, data)

    @post(
        "/{proposal_id:int}/pledges/{pledge_id:int}/withdraw",
        operation_id="withdrawPledge",
        status_code=200,
        sync_to_thread=True,
        guards=[resident],
    )
    def withdraw(
        self,
        proposal_id: FromPath[int],
        pledge_id: FromPath[int],
        state: ProposalState,
        viewer: Viewer,
    ) -> PledgeOut:
        """Withdraw one's live pledge before the deadline."""
        return state.pledges.withdraw(_user(viewer), proposal_id, pledge_id)

    @post(
        "/{proposal_id:int}/images",
        operation_id="addProposalImage",
        status_code=201,
        sync_to_thread=True,
        guards=[resident],
        request_max_body_size=UPLOAD_LIMIT,
    )
    def add_image(
        self, proposal_id: FromPath[int], data: Upload, db: DB, state: ProposalState, viewer: Viewer
    ) -> ImageOut:
        """Add an image (PNG, JPEG or WebP) to one's proposal."""
        return keep_upload(db, data, state.uploads.add_image, _user(viewer), proposal_id)

    @get("/{proposal_id:int}/implementation", operation_id="implementation", sync_to_thread=True)
    def implementation(
        self, proposal_id: FromPath[int], db: DB, state: ProposalState, viewer: Viewer
    ) -> Implementation:
        """Milestones, ratings and time to completion of a project."""
        with db.begin():
            return state.implementation.summary(db, proposal_id, _user(viewer))

    @post(
        "/{proposal_id:int}/milestones",
        operation_id="reportMilestone",
        status_code=201,
        sync_to_thread=True,
        guards=[staff],
    )
    def report(
        self, proposal_id: FromPath[int], data: JSONBody[MilestoneCreate], state: ProposalState
    ) -> MilestoneOut:
        """Report an implementation milestone of a winning project (staff)."""
        return state.implementation.report(proposal_id, data)

    @post(
        "/{proposal_id:int}/milestones/{milestone_id:int}/photos",
        operation_id="addMilestonePhoto",
        status_code=201,
        sync_to_thread=True,
        guards=[staff],
        request_max_body_size=UPLOAD_LIMIT,
    )
    def add_photo(
        self,
        proposal_id: FromPath[int],
        milestone_id: FromPath[int],
        data: Upload,
        state: ProposalState,
    ) -> ImageOut:
        """Add a photo to a milestone (staff)."""
        content = read_upload(data)
        return state.uploads.add_photo(proposal_id, milestone_id, content)

    @post(
        "/{proposal_id:int}/rating",
        operation_id="rateProject",
        status_code=201,
        sync_to_thread=True,
        guards=[resident],
    )
    def rate(
        self,
        proposal_id: FromPath[int],
        data: JSONBody[RatingCreate],
        state: ProposalState,
        viewer: Viewer,
    ) -> Implementation:
        """Rate a completed project 1–5, once."""
        return state.implementation.rate(_user(viewer), proposal_id, data)


class BusinessController(Controller):
    path = "/api/v1/businesses"
    tags: ClassVar[list[str]] = ["proposals"]
    guards: ClassVar[list[Any]] = [resident]

    @post("/", operation_id="registerBusiness", status_code=201, sync_to_thread=True)
    def register(
        self, data: JSONBody[BusinessCreate], db: DB, state: ProposalState, viewer: Viewer
    ) -> BusinessOut:
        """Register a business (name and INN) to pledge for it."""
        with db.begin():
            return state.pledges.register_business(db, _user(viewer), data)

    @get("/", operation_id="myBusinesses", sync_to_thread=True)
    def mine(self, db: DB, state: ProposalState, viewer: Viewer) -> list[BusinessOut]:
        """The businesses one registered."""
        with db.begin():
            return state.pledges.businesses(db, _user(viewer))


class UploadController(Controller):
    path = "/uploads"
    include_in_schema = False

    @get("/{image_id:str}", sync_to_thread=True)
    def image(self, image_id: FromPath[str], db: DB, state: ProposalState) -> Response[bytes]:
        with db.begin():
            content, content_type = state.uploads.read(db, image_id)
        return image_response(content, content_type, cache="public, max-age=86400")
