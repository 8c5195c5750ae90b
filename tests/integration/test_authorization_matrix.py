"""Every route × every role: who may call what.

For each route of the application, for an anonymous visitor and for a resident, a
moderator, an auditor and an administrator: a route guarded for some roles answers 401
to the anonymous (or sends a browser to the log-in page) and 403 ``forbidden_role`` to
the other roles, and lets its own roles through; no route answers 5xx to anyone. A route
that changes something must be guarded, or be one of the few that are public on
purpose (listed below with the reason) — so a new route cannot slip in unguarded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from kernel.settings import Settings
from tests.support.accounts import PASSWORD
from tests.support.settings import FAST
from veche.app import create_app
from veche.setup import DEMO_DISTRICTS, NewUser, add_districts, create_user, initialize

ROLES = ("resident", "moderator", "auditor", "admin")
PUBLIC_CHANGES = {
    "/api/v1/auth/login": "anyone may log in",
    "/api/v1/auth/logout": "ends only the caller's own session",
    "/api/v1/auth/register": "anyone may register",
    "/api/v1/auth/confirm": "the token mailed to the address is the right to confirm it",
    "/login": "the log-in form",
    "/logout": "the log-out form",
    "/register": "the registration form",
    "/api/v1/elections/{election_id:str}/ballots": "casting needs no log-in "
    '(docs/protocol.md, "Casting")',
    "/api/v1/elections/{election_id:str}/credentials": "eligibility is checked inside: an "
    "account or a one-time access code",
    "/check": "checks a pasted receipt against the log; changes nothing",
    "/elections/{election_id:str}/receipt-pdf": "lays out the receipt the form carries as "
    "a PDF; changes nothing",
    "/api/v1/elections/{election_id:str}/ceremony/dealings": "authorised by the signature "
    "of the trustee the configuration lists (docs/protocol.md §17.2)",
    "/api/v1/elections/{election_id:str}/ceremony/acks": "authorised by the signature of "
    "the trustee the configuration lists (docs/protocol.md §17.2)",
    "/api/v1/elections/{election_id:str}/key-shares": "authorised by the signature of the "
    "trustee the manifest lists (docs/protocol.md §17.5)",
    "/open311/v2/{name:str}": "Open311 clients post a request with the API key the "
    "municipality gave them (docs/protocol.md §16.9)",
}
# Routes that carry no cookie at all: authorised by what the body carries.
NO_COOKIE = {
    "/api/v1/elections/{election_id:str}/ballots",
    "/api/v1/elections/{election_id:str}/ceremony/dealings",
    "/api/v1/elections/{election_id:str}/ceremony/acks",
    "/api/v1/elections/{election_id:str}/key-shares",
    "/open311/v2/{name:str}",
}


def routes(app: Litestar) -> Iterator[tuple[str, str, tuple[str, ...] | None]]:
    """(method, path, roles) of every route; roles None when unguarded, () for any login."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            names = [guard.__name__ for guard in handler.resolve_guards()]
            roles: tuple[str, ...] | None = None
            for name in names:
                if name.startswith("requires_role_"):
                    rest = name.removeprefix("requires_role_")
                    roles = () if rest == "login" else tuple(rest.split("_"))
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                yield method, route.path, roles


def concrete(path: str) -> str:
    return re.sub(r"\{[a-z_]+:int\}", "1", re.sub(r"\{[a-z_]+:str\}", "x", path))


@pytest.fixture(name="matrix_app", scope="module")
def fx_matrix_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Litestar]:
    data_dir: Path = tmp_path_factory.mktemp("matrix") / "var"
    settings = Settings(data_dir=data_dir, **FAST)  # type: ignore[arg-type]
    engine = initialize(settings)
    add_districts(settings, engine, DEMO_DISTRICTS)
    for role in ROLES:
        district = "centre" if role == "resident" else None
        create_user(
            settings, engine, NewUser(f"{role}@example.org", PASSWORD, role, role, district)
        )
    yield create_app(settings, engine=engine)
    engine.dispose()


def test_every_route_that_changes_something_is_guarded_or_public_on_purpose(
    matrix_app: Litestar,
) -> None:
    unguarded = sorted(
        {
            path
            for method, path, roles in routes(matrix_app)
            if method != "GET" and roles is None and not path.startswith("/static")
        }
    )
    assert [path for path in unguarded if path not in PUBLIC_CHANGES] == []


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
def test_the_matrix(matrix_app: Litestar, who: str) -> None:
    table = list(routes(matrix_app))
    assert len(table) > 60
    with TestClient(matrix_app) as client:
        headers = {"accept": "application/json"}
        if who != "anonymous":
            login = client.post(
                "/api/v1/auth/login", json={"email": f"{who}@example.org", "password": PASSWORD}
            )
            assert login.status_code == 200
            headers["X-CSRF-Token"] = login.json()["csrf_token"]
        problems = []
        for method, path, roles in table:
            if path in {"/api/v1/auth/logout", "/logout"} or path.startswith("/static"):
                continue  # logging out would end the session the rest of the matrix uses
            url = concrete(path)
            kwargs = {"json": {}} if method != "GET" else {}
            response = client.request(
                method, url, headers=headers, follow_redirects=False, **kwargs
            )  # type: ignore[arg-type]
            status = response.status_code
            body = response.json() if "json" in response.headers.get("content-type", "") else {}
            code = body.get("error") if isinstance(body, dict) else None
            if status >= 500:
                problems.append(f"{method} {path}: {status}")
            elif roles is None:
                continue
            elif who == "anonymous":
                if status != 401:
                    problems.append(f"{method} {path}: anonymous got {status}, not 401")
            elif roles and who not in roles:
                if (status, code) != (403, "forbidden_role"):
                    problems.append(f"{method} {path}: {who} got {status} {code}, not 403")
            elif status == 401 or code == "forbidden_role":
                problems.append(f"{method} {path}: {who} was turned away ({status} {code})")
        assert problems == []


def test_every_change_made_with_the_session_cookie_needs_the_csrf_token(
    matrix_app: Litestar,
) -> None:
    """Any route that changes something, called with a live session but without the
    session's CSRF token (a forged cross-site request), is refused before it runs."""
    exempt = NO_COOKIE
    # Log-in and registration take JSON without a token by design (a foreign page cannot
    # send JSON without CORS); their forms still need it.
    login_routes = {"/api/v1/auth/login", "/api/v1/auth/register", "/login", "/register"}
    refused_before_running = {(403, "csrf_failed"), (403, "forbidden_role")}
    with TestClient(matrix_app) as client:
        login = client.post(
            "/api/v1/auth/login", json={"email": "admin@example.org", "password": PASSWORD}
        )
        assert login.status_code == 200
        let_through = []
        for method, path, _roles in routes(matrix_app):
            if method == "GET" or path in exempt or path.startswith("/static"):
                continue
            bodies = [{"data": {"csrf_token": "forged"}}]
            if path not in login_routes:
                bodies.append({"json": {}})
            for body in bodies:
                response = client.request(
                    method,
                    concrete(path),
                    follow_redirects=False,
                    headers={"accept": "application/json"},
                    **body,  # type: ignore[arg-type]
                )
                answer = (response.status_code, response.json().get("error"))
                if answer not in refused_before_running:
                    let_through.append(f"{method} {path} {next(iter(body))}: {answer}")
        assert let_through == []
