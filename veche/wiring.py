"""Typed wiring: the one place that builds every service, for the app, the CLI and the demo.

``build_services(settings)`` makes the database engine and sessions, loads the keys,
joins every package's log-entry kinds into the log's ``EntryKinds`` and builds the
services in dependency order. The web app hands ``Services.state()`` to Litestar; each
package's HTTP layer reads it through its own typed ``State`` subclass
(``kernel.web.KernelState`` and the ``*State`` classes of ``audit.http``, ``ballot.http``,
``proposals.http`` and ``reports.http``), whose every attribute a test checks against
what is built here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from audit.core.entry import EntryKinds
from audit.core.errors import NoteError
from audit.services.cosigner import Cosigner, parse_witness_setting
from audit.services.sequencer import Sequencer
from audit.services.store import LogStore
from ballot.services.elections import ElectionService
from ballot.services.results import ResultService
from ballot.services.secret_box import SecretBox
from ballot.services.survey import SurveyService
from kernel import db as database
from kernel.accounts.service import AccountService
from kernel.keys import load_authority_key, load_or_create_secret
from kernel.mail import Mailer
from kernel.settings import Settings, SettingsError
from proposals.services.ballot_link import BallotLink
from proposals.services.implementation import ImplementationService
from proposals.services.limits import ProposalLimits
from proposals.services.pledges import PledgeService
from proposals.services.service import ProposalService
from proposals.services.uploads import UploadService
from reports.services.notify import ReportMail
from reports.services.open311 import Open311
from reports.services.photos import ReportPhotos
from reports.services.service import ReportService
from reports.services.views import ReportViews
from veche.kinds import entry_kinds

__all__ = ["Services", "build_services", "entry_kinds", "log_store"]


def log_store(settings: Settings, engine: Engine) -> LogStore:
    """The deployment's log on ``engine``, signing with the authority key."""
    return LogStore(engine, load_authority_key(settings.keys_dir), settings.origin, entry_kinds())


@dataclass(frozen=True, kw_only=True)
class Services:
    """Everything the handlers, commands and the demo use, built once per process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    read_factory: sessionmaker[Session]
    authority_key: Ed25519PrivateKey
    kinds: EntryKinds
    accounts: AccountService
    log_store: LogStore
    sequencer: Sequencer
    # Asks the configured witnesses to cosign checkpoints (None without witnesses).
    cosigner: Cosigner | None
    elections: ElectionService
    results: ResultService
    surveys: SurveyService
    proposals: ProposalService
    pledges: PledgeService
    implementation: ImplementationService
    uploads: UploadService
    ballot_link: BallotLink
    reports: ReportService
    report_photos: ReportPhotos
    report_views: ReportViews
    report_mail: ReportMail
    open311: Open311

    @contextmanager
    def read_sessions(self) -> Iterator[Session]:
        """A read-only transaction (on SQLite it never takes the write lock)."""
        with self.read_factory() as session, session.begin():
            yield session

    def state(self) -> dict[str, Any]:
        """The application state: every service by its name, and ``read_sessions``."""
        values: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        values["read_sessions"] = self.read_sessions
        return values

    def close(self) -> None:
        self.report_mail.close()
        self.sequencer.stop()
        if self.cosigner is not None:
            self.cosigner.stop()
        self.engine.dispose()


def build_services(settings: Settings, *, engine: Engine | None = None) -> Services:
    """Build every service on a migrated database (``veche init`` migrates)."""
    engine = engine or database.make_engine(settings)
    authority_key = load_authority_key(settings.keys_dir)
    kinds = entry_kinds()
    store = LogStore(engine, authority_key, settings.origin, kinds)
    sequencer = Sequencer(store)
    cosigner = None
    if settings.witnesses:
        try:
            endpoints = [parse_witness_setting(entry) for entry in settings.witnesses]
        except NoteError as exc:
            raise SettingsError(f"setting 'witnesses': {exc.detail}") from None
        cosigner = Cosigner(
            store,
            endpoints,
            policy=settings.witness_policy,
            interval_ms=settings.witness_interval_ms,
        )
        store.listeners.append(lambda _checkpoint: cosigner.notify())
    elections = ElectionService(
        store=store,
        sequencer=sequencer,
        authority_key=authority_key,
        secret_box=SecretBox(load_or_create_secret(settings.keys_dir, "election-secrets.key")),
        commitment_key=load_or_create_secret(settings.keys_dir, "commitment.key"),
        allow_test_keys=settings.allow_test_keys,
    )
    elections.cosigner = cosigner
    results = ResultService(elections)
    proposals = ProposalService(sequencer, limits=ProposalLimits.from_settings(settings))
    read_factory = sessionmaker(engine.execution_options(readonly=True), expire_on_commit=False)

    @contextmanager
    def read_sessions() -> Iterator[Session]:
        with read_factory() as session, session.begin():
            yield session

    report_mail = ReportMail(
        Mailer(settings), read_sessions, public_url=settings.public_url, lang=settings.default_lang
    )
    reports = ReportService(
        sequencer,
        close_after_days=settings.report_close_after_days,
        on_status=report_mail.status_changed,
        time_zone=settings.time_zone,
    )
    report_photos = ReportPhotos(reports, settings.data_dir)

    def log_writer(work: Any) -> Any:
        # Staff verifications of residents: the row and its resident.verified entry in
        # one work item of the log (kernel.accounts.service.LogWriter).
        return sequencer.run(
            lambda db, log: work(db, lambda kind, body: log.append(kind, body).seq)
        ).result

    return Services(
        settings=settings,
        engine=engine,
        sessions=database.make_sessionmaker(engine),
        read_factory=read_factory,
        authority_key=authority_key,
        kinds=kinds,
        accounts=AccountService(settings, log_writer=log_writer),
        log_store=store,
        sequencer=sequencer,
        cosigner=cosigner,
        elections=elections,
        results=results,
        surveys=SurveyService(results),
        proposals=proposals,
        pledges=PledgeService(proposals),
        implementation=ImplementationService(proposals),
        uploads=UploadService(proposals, settings.data_dir),
        ballot_link=BallotLink(proposals, elections, results),
        reports=reports,
        report_photos=report_photos,
        report_views=ReportViews(reports, report_photos),
        report_mail=report_mail,
        open311=Open311(reports, settings.public_url),
    )
