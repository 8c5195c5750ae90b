"""A draft election and its configuration are the administrators' business: to anyone
else — a stranger or a resident — the API and the pages neither list nor show it (404)."""

from __future__ import annotations

from litestar import Litestar

from kernel.settings import Settings
from tests.support.accounts import Client, resident
from tests.support.elections import config

SECRET_TITLE = "Undisclosed plans 2027"


def test_drafts_are_neither_listed_nor_shown_to_others(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    draft = config("hidden-2027", title=SECRET_TITLE)
    assert client.post("/api/v1/elections", json=draft, headers=admin).status_code == 201
    shown = config("shown-2027", title="Open to all")
    assert client.post("/api/v1/elections", json=shown, headers=admin).status_code == 201
    assert client.post("/api/v1/elections/shown-2027/open", headers=admin).status_code == 200

    # Administrators see both.
    listed = [e["id"] for e in client.get("/api/v1/elections").json()]
    assert listed == ["hidden-2027", "shown-2027"]
    full = client.get("/api/v1/elections/hidden-2027")
    assert full.status_code == 200 and full.json()["config"]["title"] == SECRET_TITLE
    assert client.get("/admin/elections").text.count(SECRET_TITLE) >= 1

    for who in ("a stranger", "a resident"):
        client.cookies.clear()
        headers = resident(client, app, settings, "rita") if who == "a resident" else {}
        listed = [e["id"] for e in client.get("/api/v1/elections", headers=headers).json()]
        assert listed == ["shown-2027"], who
        for path in (
            "/api/v1/elections/hidden-2027",
            "/api/v1/elections/hidden-2027/manifest",
            "/api/v1/elections/hidden-2027/result",
            "/api/v1/elections/hidden-2027/export.pb",
        ):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 404, (who, path, answer.text)
            assert answer.json()["error"] == "no_such_election"
            assert SECRET_TITLE not in answer.text
        for page in ("/elections/hidden-2027", "/elections/hidden-2027/results"):
            answer = client.get(page, headers=headers)
            assert answer.status_code == 404, (who, page)
            assert SECRET_TITLE not in answer.text
        assert SECRET_TITLE not in client.get("/elections", headers=headers).text
        assert client.get("/api/v1/elections/shown-2027", headers=headers).status_code == 200
        assert client.get("/admin/elections", headers=headers).status_code in (401, 403)
