"""Account pages over HTTP: forms with CSRF, field errors, languages, escaping."""

from __future__ import annotations

import pytest
from litestar import Litestar

from kernel.settings import Settings
from tests.support.accounts import PASSWORD, Client
from tests.support.pages import HTML, PAGES_ON_SQLITE, csrf_from
from veche.setup import DEMO_DISTRICTS, add_districts

pytestmark = PAGES_ON_SQLITE


@pytest.fixture(name="districts", autouse=True)
def fx_districts(app: Litestar, settings: Settings) -> None:
    add_districts(settings, app.state.engine, DEMO_DISTRICTS)


def register_form(client: Client, **fields: str) -> object:
    page = client.get("/register", headers=HTML)
    assert page.status_code == 200
    data = {
        "email": "ivan@example.org",
        "display_name": "Ivan",
        "district": "north",
        "password": PASSWORD,
        "csrf_token": csrf_from(page.text),
    }
    data.update(fields)
    return client.post("/register", data=data, headers=HTML, follow_redirects=False)


def test_register_through_the_form_then_account_page(client: Client) -> None:
    response = register_form(client)
    assert response.status_code == 303  # type: ignore[attr-defined]
    # The confirmation link went to the address (the suite's SMTP server took it).
    assert response.headers["location"] == "/account?welcome=1&sent=1"  # type: ignore[attr-defined]
    account = client.get("/account?welcome=1&sent=1", headers=HTML)
    assert account.status_code == 200
    assert "Ivan" in account.text
    assert "North" in account.text
    assert "Your account has been created." in account.text
    assert "We sent a confirmation link" in account.text
    assert 'id="email-status"' in account.text and "not confirmed" in account.text


def test_register_form_shows_field_errors_and_keeps_input(client: Client) -> None:
    response = register_form(client, email="nope", password="short")
    assert response.status_code == 400  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert 'id="email-error"' in text
    assert "Enter a valid e-mail address" in text
    assert 'id="password-error"' in text
    assert 'value="nope"' in text
    assert PASSWORD not in text


def test_register_form_in_russian(client: Client) -> None:
    page = client.get("/register", headers={**HTML, "accept-language": "ru"})
    assert '<html lang="ru">' in page.text
    assert "Адрес электронной почты" in page.text
    data = {
        "email": "x",
        "display_name": "Ivan",
        "district": "north",
        "password": "short",
        "csrf_token": csrf_from(page.text),
    }
    response = client.post("/register", data=data, headers={**HTML, "accept-language": "ru"})
    assert response.status_code == 400
    assert "Пароль должен быть не короче 10 символов." in response.text


def test_html_in_fields_is_escaped(client: Client) -> None:
    evil = '<script>alert("x")</script>'
    response = register_form(client, display_name=evil)
    assert response.status_code == 303  # type: ignore[attr-defined]
    account = client.get("/account", headers=HTML)
    assert evil not in account.text
    assert "&lt;script&gt;" in account.text


def test_login_and_logout_through_forms(client: Client) -> None:
    assert register_form(client).status_code == 303  # type: ignore[attr-defined]
    client.cookies.clear()
    login_page = client.get("/login?next=/account", headers=HTML)
    wrong = client.post(
        "/login",
        data={
            "email": "ivan@example.org",
            "password": "nope-nope-nope",
            "next": "/account",
            "csrf_token": csrf_from(login_page.text),
        },
        headers=HTML,
    )
    assert wrong.status_code == 400
    assert "The e-mail address or the password is wrong." in wrong.text
    ok = client.post(
        "/login",
        data={
            "email": "ivan@example.org",
            "password": PASSWORD,
            "next": "/account",
            "csrf_token": csrf_from(wrong.text),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert ok.headers["location"] == "/account"
    account = client.get("/account", headers=HTML)
    assert account.status_code == 200
    out = client.post(
        "/logout",
        data={"csrf_token": csrf_from(account.text)},
        headers=HTML,
        follow_redirects=False,
    )
    assert out.status_code == 303
    gone = client.get("/account", headers=HTML, follow_redirects=False)
    assert gone.status_code == 303
    assert gone.headers["location"].startswith("/login?next=")


def test_login_redirect_stays_on_this_site(client: Client) -> None:
    assert register_form(client).status_code == 303  # type: ignore[attr-defined]
    client.cookies.clear()
    page = client.get("/login", headers=HTML)
    response = client.post(
        "/login",
        data={
            "email": "ivan@example.org",
            "password": PASSWORD,
            "next": "//evil.example/steal",
            "csrf_token": csrf_from(page.text),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_logout_form_without_token_is_refused(client: Client) -> None:
    assert register_form(client).status_code == 303  # type: ignore[attr-defined]
    refused = client.post("/logout", data={"csrf_token": "forged"}, headers=HTML)
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    assert client.get("/account", headers=HTML).status_code == 200


def test_language_switch_sets_a_cookie(client: Client) -> None:
    switched = client.get("/lang/ru?next=/login", follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login"
    page = client.get("/login", headers=HTML)
    assert "Войти" in page.text
    back = client.get("/lang/en?next=https://evil.example/", follow_redirects=False)
    assert back.headers["location"] == "/"


def test_error_pages_are_html_for_browsers(client: Client) -> None:
    page = client.get("/no/such/page", headers={**HTML, "accept-language": "ru"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "По этому адресу ничего нет." in page.text
    api = client.get("/no/such/page")
    assert api.json() == {"error": "not_found", "detail": "There is nothing at this address."}
