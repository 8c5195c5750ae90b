"""The trustee page and the log's witnesses over HTTP (docs/protocol.md §17.8, §15.7):
the page in both languages, loading only this site's scripts; the witnesses and policy a
page reads, from the settings; the administrator's pages of an election with trustees
link to it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from audit.core.cosignature import witness_key
from kernel.settings import Settings
from tests.support.accounts import Client
from tests.support.elections import create_election
from tests.support.trustees import make_identities
from veche.app import create_app
from veche.setup import initialize


@pytest.mark.parametrize(
    ("language", "heading", "button"),
    [("en", "Trustee", "Make my keys"), ("ru", "Доверенное лицо", "Создать мои ключи")],
)
def test_the_page_in_both_languages(
    client: Client, language: str, heading: str, button: str
) -> None:
    page = client.get(
        "/trustee",
        params={"election": '"><script>x</script>'},
        headers={"Accept-Language": language},
    )
    assert page.status_code == 200
    assert f"<h1>{heading}</h1>" in page.text and button in page.text
    # The election id is written back escaped; the only scripts are the site's own files.
    assert "<script>x" not in page.text and "&#34;&gt;&lt;script&gt;" in page.text
    scripts = [part.split(">", 1)[0] for part in page.text.split("<script")[1:]]
    assert all('src="/static/' in tag for tag in scripts), scripts
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_the_scripts_and_the_vendored_library_are_served(client: Client) -> None:
    for path in (
        "/static/js/trustee-page.js",
        "/static/js/veche-trustee.js",
        "/static/vendor/noble/noble.js",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "javascript" in response.headers["content-type"]


def test_no_witnesses_no_policy(client: Client) -> None:
    assert client.get("/api/v1/log/witnesses").json() == {"witnesses": [], "policy": 0}


@pytest.fixture(name="witnessed_client")
def fx_witnessed_client(settings: Settings) -> Iterator[tuple[TestClient[Litestar], list[str]]]:
    keys = [witness_key(f"witness.test/{n}", bytes([n]) * 32) for n in (1, 2)]
    changed = msgspec.structs.replace(
        settings,
        witnesses=tuple(f"http://127.0.0.1:9/{n} {k}" for n, k in enumerate(keys)),
        witness_policy=1,
    )
    engine = initialize(changed)
    app = create_app(changed, engine=engine)
    try:
        with TestClient(app, base_url="http://testserver.local") as client:
            yield client, keys
    finally:
        engine.dispose()


def test_the_configured_witnesses_and_policy(
    witnessed_client: tuple[TestClient[Litestar], list[str]],
) -> None:
    client, keys = witnessed_client
    assert client.get("/api/v1/log/witnesses").json() == {"witnesses": keys, "policy": 1}


@pytest.mark.parametrize(
    ("language", "label"), [("en", "Trustee page"), ("ru", "Страница доверенного лица")]
)
def test_the_admin_pages_link_to_the_trustee_page_of_an_election_with_trustees(
    client: Client, admin: dict[str, str], language: str, label: str
) -> None:
    members = [msgspec.to_builtins(i.member) for i in make_identities(os.urandom, 2)]
    create_election(client, admin, "with-trustees", trustees={"threshold": 2, "members": members})
    create_election(client, admin, "without-trustees")
    headers = {"Accept-Language": language, "Accept": "text/html"}
    link = f'href="/trustee?election=with-trustees">{label}</a>'
    dashboard = client.get("/admin/elections/with-trustees", headers=headers)
    assert dashboard.status_code == 200 and link in dashboard.text
    plain = client.get("/admin/elections/without-trustees", headers=headers)
    assert plain.status_code == 200 and "/trustee?" not in plain.text
    setup = client.get("/admin/setup", headers=headers)
    assert setup.status_code == 200 and link in setup.text
    assert "/trustee?election=without-trustees" not in setup.text
