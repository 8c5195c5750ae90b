"""Elections over HTTP: configuration and lifecycle (admins), credentials, casting."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import anyio.to_thread
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy.orm import Session

from audit.services.cosigner import Cosigner
from ballot.http.state import ElectionState
from ballot.services.casting import AlreadyCast, NextCounter, PendingCast, Receipt
from ballot.services.credentials import Voter
from ballot.services.elections import ElectionService
from ballot.services.errors import ElectionNotFound
from ballot.services.lifecycle import ElectionSummary, summary
from ballot.services.models import Election
from ballot.services.results import ResultView
from ballot.services.roll import access_codes_csv
from kernel.accounts.service import LiveSession
from kernel.errors import InvalidInput
from kernel.web import DB, Viewer, requires_role


async def _witnessed(
    service: ElectionService,
    cosigner: Cosigner,
    pending: PendingCast,
    receipt: Receipt,
    wait_ms: int,
) -> Receipt:
    """Wait (on the event loop, holding no thread) until the witnesses cosigned a
    checkpoint covering the ballot, at most ``wait_ms``; then prove the ballot in it
    (docs/protocol.md §15.7). On time-out the receipt keeps the batch's checkpoint."""
    deadline = asyncio.get_running_loop().time() + wait_ms / 1000
    while cosigner.cosigned_size < receipt.size:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            return receipt
        try:
            await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(cosigner.next_advance())), left
            )
        except TimeoutError:
            return receipt
    return await anyio.to_thread.run_sync(service.witnessed_receipt, pending, receipt)


class CredentialRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    blinded_message: str
    access_code: str | None = None


class CredentialResponse(msgspec.Struct, frozen=True):
    blind_signature: str


class CastRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    ballot: dict[str, Any]
    signature: str


class RollImported(msgspec.Struct, frozen=True):
    added: int


def _is_admin(viewer: LiveSession | None) -> bool:
    return viewer is not None and viewer.user.role == "admin"


def _visible(
    elections: ElectionService, db: Session, election_id: str, viewer: LiveSession | None
) -> Election:
    """The election, if the viewer may see it: a draft, its configuration included, is
    shown to administrators only; to anyone else it does not exist (404)."""
    row = elections.get(db, election_id)
    if row.status == "draft" and not _is_admin(viewer):
        raise ElectionNotFound("no_such_election", f"There is no election {election_id!r}.")
    return row


class CloseRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The optional body of a close: ``{"early": true, "reason": "…"}`` to close before
    the window's end (docs/protocol.md §9.1)."""

    early: bool = False
    reason: str | None = None


_CLOSE_REQUEST = msgspec.json.Decoder(CloseRequest)


class ElectionController(Controller):
    path = "/api/v1/elections"
    tags: ClassVar[list[str]] = ["elections"]

    @post(
        "/",
        operation_id="createElection",
        status_code=201,
        sync_to_thread=True,
        guards=[requires_role("admin")],
    )
    def create(
        self, data: JSONBody[dict[str, Any]], db: DB, state: ElectionState
    ) -> ElectionSummary:
        """Configure a new election (a draft until it is opened)."""
        service: ElectionService = state.elections
        with db.begin():
            return service.create(db, data)

    @get("/", operation_id="listElections", sync_to_thread=True)
    def list_elections(self, db: DB, state: ElectionState, viewer: Viewer) -> list[ElectionSummary]:
        """The elections with their status (drafts only to administrators)."""
        with db.begin():
            listed = state.elections.list(db)
        return listed if _is_admin(viewer) else [e for e in listed if e.status != "draft"]

    @get("/{election_id:str}", operation_id="getElection", sync_to_thread=True)
    def get_election(
        self, election_id: FromPath[str], db: DB, state: ElectionState, viewer: Viewer
    ) -> ElectionSummary:
        """One election's configuration and status (a draft only to administrators)."""
        with db.begin():
            return summary(_visible(state.elections, db, election_id, viewer))

    @post(
        "/{election_id:str}/open",
        operation_id="openElection",
        status_code=200,
        sync_to_thread=True,
        guards=[requires_role("admin")],
    )
    def open_election(self, election_id: FromPath[str], state: ElectionState) -> ElectionSummary:
        """Freeze, sign and publish the manifest; voting may start at its window."""
        return state.elections.open(election_id)

    @post(
        "/{election_id:str}/close",
        operation_id="closeElection",
        status_code=200,
        guards=[requires_role("admin")],
    )
    async def close_election(
        self, election_id: FromPath[str], request: Request[Any, Any, Any], state: ElectionState
    ) -> ElectionSummary:
        """End the count at the current checkpoint and publish the sealing key. Before the
        window's end only with ``{"early": true, "reason": "…"}``; the reason is logged."""
        raw = await request.body()
        data = CloseRequest()
        if raw.strip():
            try:
                data = _CLOSE_REQUEST.decode(raw)
            except msgspec.DecodeError as exc:
                raise InvalidInput(
                    f'The body of a close is {{"early": true, "reason": "…"}} or empty: {exc}'
                ) from None
        return await anyio.to_thread.run_sync(
            lambda: state.elections.close(election_id, early=data.early, reason=data.reason)
        )

    @get("/{election_id:str}/manifest", operation_id="getManifest", sync_to_thread=True)
    def manifest(
        self, election_id: FromPath[str], db: DB, state: ElectionState, viewer: Viewer
    ) -> dict[str, Any]:
        """The signed manifest, its hash and the authority key."""
        with db.begin():
            _visible(state.elections, db, election_id, viewer)
            return state.elections.manifest_view(db, election_id)

    @post(
        "/{election_id:str}/roll",
        operation_id="importRoll",
        status_code=201,
        guards=[requires_role("admin")],
    )
    async def import_roll(
        self,
        election_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: DB,
        state: ElectionState,
    ) -> RollImported:
        """Add voters from a CSV roll (header voter_id[,email]); all rows or none."""
        raw = await request.body()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("The roll must be UTF-8 text.", code="bad_roll") from None

        def run() -> int:
            with db.begin():
                return state.elections.import_roll(db, election_id, text)

        return RollImported(added=await anyio.to_thread.run_sync(run))

    @post(
        "/{election_id:str}/access-codes",
        operation_id="makeAccessCodes",
        status_code=201,
        sync_to_thread=True,
        guards=[requires_role("admin")],
        media_type="text/csv",
    )
    def access_codes(
        self, election_id: FromPath[str], db: DB, state: ElectionState
    ) -> Response[str]:
        """Make one-time codes for roll entries that have none; CSV shown only this once."""
        with db.begin():
            made = state.elections.make_access_codes(db, election_id)
        return Response(
            access_codes_csv(made), media_type="text/csv; charset=utf-8", status_code=201
        )

    @post(
        "/{election_id:str}/credentials",
        operation_id="issueCredential",
        status_code=200,
        sync_to_thread=True,
    )
    def issue_credential(
        self,
        election_id: FromPath[str],
        data: JSONBody[CredentialRequest],
        state: ElectionState,
        viewer: Viewer,
    ) -> CredentialResponse:
        """Blind-sign a credential request: logged in, or with a one-time access code."""
        if data.access_code is not None:
            voter = Voter(access_code=data.access_code)
        elif viewer is not None:
            user = viewer.user
            voter = Voter(
                public_id=user.public_id,
                email=user.email,
                role=user.role,
                district=user.district,
                email_confirmed=user.email_confirmed_at is not None,
            )
        else:
            voter = Voter()
        signature = state.elections.issue_credential(election_id, voter, data.blinded_message)
        return CredentialResponse(blind_signature=signature)

    @get(
        "/{election_id:str}/credentials/{credential:str}/next",
        operation_id="nextBallotCounter",
        sync_to_thread=True,
    )
    def next_counter(
        self, election_id: FromPath[str], credential: FromPath[str], state: ElectionState
    ) -> NextCounter:
        """The counter this credential's next ballot must carry (1 + its ballots so far):
        for a client that lost its count. No log-in; send no cookie (as when casting)."""
        return state.elections.next_counter(election_id, credential)

    @post(
        "/{election_id:str}/tally",
        operation_id="publishResult",
        status_code=201,
        sync_to_thread=True,
        guards=[requires_role("admin")],
    )
    def publish_result(self, election_id: FromPath[str], state: ElectionState) -> ResultView:
        """Count the closed election, sign the result and publish it in the log."""
        return state.results.publish(election_id)

    @get("/{election_id:str}/result", operation_id="getResult", sync_to_thread=True)
    def result(self, election_id: FromPath[str], db: DB, state: ElectionState) -> ResultView:
        """The published result, as logged, with the rule's step-by-step explanation."""
        with db.begin():
            return state.results.result(db, election_id)

    @get(
        "/{election_id:str}/export.pb",
        operation_id="exportPabulib",
        sync_to_thread=True,
        media_type="text/plain",
    )
    def export_pb(self, election_id: FromPath[str], state: ElectionState) -> Response[bytes]:
        """The counted ballots as a Pabulib .pb file (after the close), counted once per
        result and kept."""
        data = state.results.export_pb(election_id)
        return Response(
            data,
            media_type="text/plain; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{election_id}.pb"'},
        )

    @post(
        "/{election_id:str}/ballots",
        operation_id="castBallot",
        status_code=201,
        opt={"csrf_exempt": True},
    )
    async def cast(
        self, election_id: FromPath[str], data: JSONBody[CastRequest], state: ElectionState
    ) -> Receipt:
        """Cast a signed, sealed ballot (no log-in); returns the receipt with its proof."""
        # The busiest route, so it runs on the event loop without a worker thread: the
        # checks are computation only, the sequencer's future is awaited, and only the
        # rare steps that read the database (an election this process has not loaded, a
        # ballot sent again, a proof node not cached) go to a thread.
        service: ElectionService = state.elections
        live = service.live_cached(election_id)
        if live is None:
            live = await anyio.to_thread.run_sync(service.live_for, election_id)
        pending = service.submit_cast(live, data.ballot, data.signature)
        try:
            # Shielded: a cancelled request must not cancel the sequencer's future.
            committed = await asyncio.shield(asyncio.wrap_future(pending.future))
        except AlreadyCast:
            return await anyio.to_thread.run_sync(service.resent_receipt, pending)
        receipt = service.cached_receipt(pending, committed)
        if receipt is None:
            receipt = await anyio.to_thread.run_sync(service.receipt, pending, committed)
        wait = state.settings.witness_receipt_wait_ms
        if wait and service.cosigner is not None:
            receipt = await _witnessed(service, service.cosigner, pending, receipt, wait)
        return receipt
