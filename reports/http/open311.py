"""Open311 GeoReport v2 under /open311/v2 (docs/protocol.md §16.9): discovery, services,
service definitions, and service requests (create, list, one), in JSON and XML, with
``jurisdiction_id`` and API keys for clients that post.

Routes take the whole last segment (``services.json``) because GeoReport names the
format by the file extension. Errors are GeoReport's: a list of ``{code, description}``.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody

from kernel import i18n
from kernel.errors import DomainError
from kernel.markers import N_
from kernel.web import DB, request_language
from reports.core import open311
from reports.core.schemas import ReportCreate
from reports.http.state import ReportState

Form = URLEncodedBody[dict[str, Any]]


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _answer(kind: str, value: Any, extension: str, status: int = 200) -> Response[bytes]:
    body, media_type = open311.render(kind, value, extension)
    return Response(body, media_type=media_type, status_code=status)


def _format(name: str, stem: str) -> str:
    split = open311.split_name(name)
    if split is None or split[0] != stem:
        raise Open311Error(404, N_("Not found: ask for .json or .xml."))
    return split[1]


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


class Open311Controller(Controller):
    path = "/open311/v2"
    tags = ["open311"]  # noqa: RUF012 - read by Litestar

    def _check_jurisdiction(self, state: ReportState, given: str) -> None:
        if given and given != state.settings.origin.split("/")[0]:
            raise Open311Error(404, N_("Unknown jurisdiction_id."))

    def _guard(
        self, request: Request[Any, Any, Any], name: str, stem: str, run: Any
    ) -> Response[bytes]:
        """Run, answering refusals as GeoReport errors in the request's language."""
        extension = "xml" if name.endswith(".xml") else "json"
        lang = request_language(request)
        try:
            extension = _format(name, stem)
            return run(extension)  # type: ignore[no-any-return]
        except Open311Error as exc:
            status, sentence = exc.status, exc.description
        except DomainError as exc:
            status, sentence = exc.status, exc.detail
        return _answer(
            "errors", open311.errors(status, i18n.translate(lang, sentence)), extension, status
        )

    @get("/{name:str}", operation_id="open311Index", sync_to_thread=True)
    def index(
        self, name: FromPath[str], request: Request[Any, Any, Any], db: DB, state: ReportState
    ) -> Response[bytes]:
        """discovery.{json,xml}, services.{json,xml}, requests.{json,xml}."""
        stem = name.rpartition(".")[0]
        query = request.query_params
        lang = request_language(request)

        def run(extension: str) -> Response[bytes]:
            self._check_jurisdiction(state, query.get("jurisdiction_id") or "")
            base = state.settings.public_url.rstrip("/") + self.path
            if stem == "discovery":
                document = open311.discovery(base, "2026-12-07T00:00:00Z", state.settings.mail_from)
                return _answer("discovery", document, extension)
            with db.begin():
                if stem == "services":
                    return _answer("services", state.open311.services(db, lang), extension)
                if stem == "requests":
                    return _answer("requests", self._list(db, state, lang, query), extension)
            raise Open311Error(404, N_("Not found: ask for .json or .xml."))

        return self._guard(
            request, name, stem if stem in ("discovery", "services", "requests") else "?", run
        )

    def _list(self, db: Any, state: ReportState, lang: str, query: Any) -> list[dict[str, Any]]:
        def many(key: str) -> list[str] | None:
            raw = query.get(key) or ""
            return [v.strip() for v in raw.split(",") if v.strip()] or None

        bounds = {}
        for key in ("start_date", "end_date"):
            raw = query.get(key)
            if raw:
                bounds[key] = open311.parse_w3c(raw)
                if bounds[key] is None:
                    raise Open311Error(
                        400, N_("A date is a W3C datetime like 2026-12-01T00:00:00Z.")
                    )
        statuses = many("status")
        if statuses and set(statuses) - {"open", "closed"}:
            raise Open311Error(400, N_("A status is open or closed."))
        return state.open311.requests(
            db,
            lang,
            ids=many("service_request_id"),
            codes=many("service_code"),
            start=bounds.get("start_date"),
            end=bounds.get("end_date"),
            statuses=statuses,
        )

    @get("/services/{name:str}", operation_id="open311Service", sync_to_thread=True)
    def definition(
        self, name: FromPath[str], request: Request[Any, Any, Any], db: DB, state: ReportState
    ) -> Response[bytes]:
        """A service definition: Veche's services have no extra attributes."""
        code = name.rpartition(".")[0]

        def run(extension: str) -> Response[bytes]:
            self._check_jurisdiction(state, request.query_params.get("jurisdiction_id") or "")
            with db.begin():
                if code not in state.reports.config.tree(db).categories:
                    raise Open311Error(404, N_("There is no such service."))
            return _answer("definition", {"service_code": code, "attributes": []}, extension)

        return self._guard(request, name, code, run)

    @get("/requests/{name:str}", operation_id="open311Request", sync_to_thread=True)
    def one(
        self, name: FromPath[str], request: Request[Any, Any, Any], db: DB, state: ReportState
    ) -> Response[bytes]:
        """One service request, as a list of one."""
        report_id = name.rpartition(".")[0]

        def run(extension: str) -> Response[bytes]:
            self._check_jurisdiction(state, request.query_params.get("jurisdiction_id") or "")
            with db.begin():
                found = state.open311.one(db, request_language(request), report_id)
            return _answer("requests", found, extension)

        return self._guard(request, name, report_id, run)

    @post(
        "/{name:str}",
        operation_id="open311Create",
        status_code=201,
        sync_to_thread=True,
        opt={"csrf_exempt": True},  # no cookie is read: the api_key is the credential
    )
    def create(
        self,
        name: FromPath[str],
        data: Form,
        db: DB,
        state: ReportState,
        request: Request[Any, Any, Any],
    ) -> Response[bytes]:
        """Create a service request (clients with an api_key)."""

        def run(extension: str) -> Response[bytes]:
            self._check_jurisdiction(state, _text(data, "jurisdiction_id"))
            with state.read_sessions() as rdb:
                client = state.open311.client(rdb, _text(data, "api_key"))
            lat = open311.parse_coordinate(_text(data, "lat"), 90)
            lon = open311.parse_coordinate(_text(data, "long"), 180)
            if lat is None or lon is None:
                raise Open311Error(400, N_("lat and long are required, in decimal degrees."))
            body = ReportCreate(
                category=_text(data, "service_code")[:64] or "-",
                description=_text(data, "description")[:5000],
                lat_e6=lat,
                lon_e6=lon,
            )
            report_id = state.reports.create(client, body)
            created = [{"service_request_id": report_id, "service_notice": "", "account_id": None}]
            return _answer("created", created, extension, 201)

        return self._guard(request, name, "requests", run)
