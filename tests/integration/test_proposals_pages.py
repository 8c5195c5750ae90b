"""Proposal pages over HTTP: the list with filters and map, the submit form with field
errors, support and pledges through forms, moderation, implementation; escaping of
every text field on every page; Russian."""

from __future__ import annotations

from tests.support.accounts import Client
from tests.support.images import png
from tests.support.pages import HTML, PAGES_ON_SQLITE
from tests.support.proposals import Actor, make_program, proposal_body

pytestmark = PAGES_ON_SQLITE

NASTY = '<script>alert("x")</script><b onmouseover=1>'


def page(actor: Actor, url: str, lang: str = "en") -> str:
    client = actor.use()
    client.cookies.set("veche_lang", lang)
    response = client.get(url, headers=HTML)
    assert response.status_code == 200, (url, response.status_code, response.text[:500])
    return response.text


def form(actor: Actor, url: str, data: dict[str, str]) -> object:
    client = actor.use()
    return client.post(
        url, data={**data, "csrf_token": actor.csrf}, headers=HTML, follow_redirects=False
    )


def test_submit_form_field_errors_then_success(people: dict[str, Actor]) -> None:
    author = people["author"]
    program = make_program(people["admin"])
    html = page(author, "/proposals/new")
    assert 'id="map"' in html and "/static/leaflet/leaflet.js" in html
    assert 'name="latitude"' in html
    bad = form(author, "/proposals/new", {
        "program": str(program), "title": "", "summary": "x", "category": "Nope",
        "district": "centre", "cost": "-5", "latitude": "north", "longitude": "",
    })  # fmt: skip
    assert bad.status_code == 400  # type: ignore[attr-defined]
    text = bad.text  # type: ignore[attr-defined]
    for name in ("title", "category", "cost", "location"):
        assert f'id="{name}-error"' in text, name
    good = form(author, "/proposals/new", {
        "program": str(program), "title": "Benches", "summary": "Ten benches",
        "category": "Parks", "district": "centre", "cost": "15 000,50",
        "latitude": "55.751244", "longitude": "37.618423", "action": "submit",
    })  # fmt: skip
    assert good.status_code == 303, good.text  # type: ignore[attr-defined]
    location = good.headers["location"]  # type: ignore[attr-defined]
    view = author.call("GET", "/api/v1" + location).json()
    assert view["status"] == "submitted"
    assert view["cost"] == 1_500_050
    assert (view["lat_e6"], view["lon_e6"]) == (55_751_244, 37_618_423)
    assert "Benches" in page(author, "/proposals/mine")


def test_support_pledge_review_through_pages_in_russian(people: dict[str, Actor]) -> None:
    admin, mod, author, r1 = people["admin"], people["mod"], people["author"], people["r1"]
    program = make_program(admin, support_threshold=1)
    pid = author.call("POST", "/api/v1/proposals", proposal_body(program)).json()["id"]
    author.call("POST", f"/api/v1/proposals/{pid}/submit")
    admin.call("POST", f"/api/v1/programs/{program}/phase", {"phase": "support"})
    html = page(r1, f"/proposals/{pid}", "ru")
    assert "Поддержать проект" in html
    assert form(r1, f"/proposals/{pid}/pledge", {"amount": "500"}).status_code == 303  # type: ignore[attr-defined]
    assert form(r1, f"/proposals/{pid}/support", {}).status_code == 303  # type: ignore[attr-defined]
    html = page(r1, f"/proposals/{pid}", "ru")
    assert "Вы поддерживаете этот проект." in html
    assert '<progress id="cofund-progress" max="100" value="100"' in html
    queue = page(mod, "/moderation", "ru")
    assert "Принять как реализуемый" in queue
    done = form(mod, f"/proposals/{pid}/review", {
        "decision": "accept", "validated_cost": "12000", "next": "/moderation"
    })  # fmt: skip
    assert done.status_code == 303  # type: ignore[attr-defined]
    view = r1.call("GET", f"/api/v1/proposals/{pid}").json()
    assert view["status"] == "accepted" and view["validated_cost"] == 1_200_000
    assert "Принят" in page(r1, f"/proposals/{pid}", "ru")
    assert "Принят" in page(r1, f"/proposals?program={program}&status=accepted", "ru")


def test_pages_need_the_right_role(people: dict[str, Actor], client: Client) -> None:
    make_program(people["admin"])
    client.cookies.clear()
    anonymous = client.get("/proposals/new", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303
    assert people["r1"].use().get("/moderation", headers=HTML).status_code == 403
    assert people["mod"].use().get("/proposals/new", headers=HTML).status_code == 403


def test_text_fields_are_escaped_everywhere(people: dict[str, Actor]) -> None:
    admin, mod, author, r1 = people["admin"], people["mod"], people["author"], people["r1"]
    program = make_program(
        admin, title=NASTY, categories=[NASTY], support_threshold=0, cofund_percent=10
    )
    body = proposal_body(program, title=NASTY, summary=NASTY, description=NASTY, category=NASTY)
    pid = author.call("POST", "/api/v1/proposals", body).json()["id"]
    author.call("POST", f"/api/v1/proposals/{pid}/submit")
    business = r1.call("POST", "/api/v1/businesses", {"name": NASTY, "inn": "7707083893"})
    assert business.status_code == 201
    urls = [
        f"/proposals?program={program}",
        f"/proposals/{pid}",
        "/proposals/mine",
        f"/proposals/{pid}/implementation",
        f"/proposals/new?program={program}",
    ]
    for actor in (author, r1):
        for url in urls:
            html = page(actor, url)
            assert "<script>alert" not in html, url
            assert "<b onmouseover" not in html, url
    rejected = mod.call(
        "POST", f"/api/v1/proposals/{pid}/review", {"decision": "reject", "reason": NASTY}
    )
    assert rejected.status_code == 200
    html = page(mod, f"/proposals/{pid}")
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_author_uploads_an_image_through_the_page(people: dict[str, Actor]) -> None:
    author, r1 = people["author"], people["r1"]
    program = make_program(people["admin"])
    pid = author.call("POST", "/api/v1/proposals", proposal_body(program)).json()["id"]
    html = page(author, f"/proposals/{pid}")
    assert 'enctype="multipart/form-data"' in html
    client = author.use()
    sent = client.post(
        f"/proposals/{pid}/images",
        data={"csrf_token": author.csrf},
        files={"file": ("a.png", png(32, 32), "image/png")},
        headers=HTML,
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    fake = client.post(
        f"/proposals/{pid}/images",
        data={"csrf_token": author.csrf},
        files={"file": ("a.png", b"<script>alert(1)</script>", "image/png")},
        headers=HTML,
    )
    assert fake.status_code == 400
    assert "PNG, JPEG" in fake.text
    forged = client.post(
        f"/proposals/{pid}/images",
        files={"file": ("a.png", png(32, 32), "image/png")},
        headers=HTML,
    )
    assert forged.status_code == 403
    html = page(author, f"/proposals/{pid}")
    assert html.count('class="photo"') == 1
    del r1
