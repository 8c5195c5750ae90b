"""The Litestar application factory: wires settings, database, controllers and errors."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router
from sqlalchemy import Engine
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

import kernel
from audit.core.errors import AuditError
from audit.http.api import LogController
from ballot.core.errors import BallotCryptoError
from ballot.http.admin_pages import ElectionAdminPages
from ballot.http.api import ElectionController
from ballot.http.electorate import ElectorateController
from ballot.http.receipt_pages import ReceiptPages
from ballot.http.roll_pages import RollPages
from ballot.http.survey import SurveyController
from ballot.http.trustee_page import TrusteePage
from ballot.http.trustees import TrusteeController
from kernel import db as database
from kernel.errors import DomainError
from kernel.http.accounts import (
    AdminController,
    AuthController,
    DistrictController,
    ResidentController,
)
from kernel.http.office_home import OfficeHome
from kernel.http.pages import AccountPages, HomePage, ResidentPages
from kernel.responses import (
    document_error_shape,
    handle_domain_error,
    handle_http_exception,
    handle_out_of_range,
    handle_unexpected,
    security_headers,
)
from kernel.settings import Settings, load_settings
from kernel.web import csrf_check, provide_viewer
from proposals.http.api import (
    BusinessController,
    ProgramController,
    ProposalController,
    UploadController,
)
from proposals.http.builder import BallotBuilder
from proposals.http.city import CityDashboard
from proposals.http.pages import ProposalPages
from proposals.http.program_pages import ProgramPages
from proposals.http.proposal_form import ProposalFormPages
from proposals.http.staff_pages import ProposalStaffPages
from reports.http.api import ReportController, ReportPhotoController
from reports.http.open311 import Open311Controller
from reports.http.widget import ReportWidget
from veche.page_routes import PAGE_CONTROLLERS
from veche.wiring import build_services

STATIC_DIR = Path(kernel.__file__).parent / "static"


def provide_db(state: State, request: Request[Any, Any, Any]) -> Iterator[Session]:
    """A database session for one request; handlers open their one transaction on it.

    Reads (GET, HEAD) get a read-only session, which on SQLite keeps WAL's concurrent
    readers instead of taking the write lock."""
    factory = state.read_factory if request.method in {"GET", "HEAD"} else state.sessions
    session: Session = factory()
    try:
        yield session
    finally:
        session.close()


@get("/health", operation_id="health", tags=["service"], sync_to_thread=True)
def health(state: State) -> Response[dict[str, str]]:
    """Whether the service and its database answer."""
    try:
        database.ping(state.engine)
    except database.DatabaseUnavailable as exc:
        return Response({"error": "database_unavailable", "detail": str(exc)}, status_code=503)
    return Response({"status": "ok", "database": "ok"})


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> Litestar:
    """Build the application. The database must already be migrated (``veche init``)."""
    settings = settings or load_settings()
    services = build_services(settings, engine=engine)
    state = State(services.state())

    async def on_startup(app: Litestar) -> None:
        # Synchronous handlers wait for their log batch to commit; with the loop's
        # default pool (a handful of threads) a few slow commits would stall the rest.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=64, thread_name_prefix="veche")
        )
        document_error_shape(app.openapi_schema)
        if services.cosigner is not None:
            # Witnesses are asked for the newest checkpoint at once, and then after every
            # batch and every few seconds (checkpoints other processes signed, §15.7).
            services.cosigner.notify()

    def on_shutdown() -> None:
        services.close()

    return Litestar(
        route_handlers=[
            health,
            AuthController,
            ResidentController,
            AdminController,
            DistrictController,
            LogController,
            ElectionController,
            ElectorateController,
            SurveyController,
            TrusteeController,
            TrusteePage,
            HomePage,
            AccountPages,
            ResidentPages,
            ProgramController,
            ProposalController,
            BusinessController,
            UploadController,
            ProposalPages,
            ProgramPages,
            ProposalFormPages,
            ProposalStaffPages,
            ReportPhotoController,
            ReportController,
            Open311Controller,
            ReportWidget,
            ElectionAdminPages,
            RollPages,
            ReceiptPages,
            CityDashboard,
            OfficeHome,
            BallotBuilder,
            *PAGE_CONTROLLERS,
            create_static_files_router(
                path="/static", directories=[STATIC_DIR], include_in_schema=False
            ),
        ],
        state=state,
        dependencies={
            "db": Provide(provide_db),
            "viewer": Provide(provide_viewer),
        },
        before_request=csrf_check,
        before_send=[security_headers(hsts=settings.cookie_secure)],
        exception_handlers={
            DomainError: handle_domain_error,
            AuditError: handle_domain_error,
            BallotCryptoError: handle_domain_error,
            HTTPException: handle_http_exception,
            OverflowError: handle_out_of_range,
            DataError: handle_out_of_range,
            Exception: handle_unexpected,
        },
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Veche",
            version="1",
            path="/schema",
            description="Participatory budgeting and e-voting with a public audit log.",
        ),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        debug=False,
    )


def app_from_env() -> Litestar:
    """Factory for ASGI servers: settings come from the VECHE_* environment."""
    return create_app(load_settings(os.environ))


__all__ = ["app_from_env", "create_app"]
