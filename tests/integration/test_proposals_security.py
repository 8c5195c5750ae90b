"""Proposals: the authorization matrix of every route and role, bad input (amounts,
tax ids, oversized and fake images), and images served by the content they were
checked to have."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar

from tests.support.accounts import Client
from tests.support.images import jpeg, png
from tests.support.proposals import Actor, program_body, proposal_body
from veche.kinds import entry_kinds

KINDS = entry_kinds()


@pytest.fixture(name="world")
def fx_world(people: dict[str, Actor]) -> dict[str, int]:
    """A program in its support phase with one submitted proposal by the author."""
    admin, author = people["admin"], people["author"]
    program = admin.call("POST", "/api/v1/programs", program_body(support_threshold=5)).json()
    pid = author.call("POST", "/api/v1/proposals", proposal_body(program["id"])).json()["id"]
    author.call("POST", f"/api/v1/proposals/{pid}/submit")
    admin.call("POST", f"/api/v1/programs/{program['id']}/phase", {"phase": "support"})
    return {"program": program["id"], "proposal": pid}


def anonymous(client: Client) -> Actor:
    return Actor(client, "", "")


# route, body, and who may pass the guard (others get 401 when anonymous, 403 otherwise).
ROLES = ("anonymous", "resident", "author", "moderator", "admin")
ANYONE = set(ROLES)
LOGGED_IN = ANYONE - {"anonymous"}
RESIDENTS = {"resident", "author"}
MATRIX: list[tuple[str, str, Any, set[str]]] = [
    ("GET", "/api/v1/programs", None, ANYONE),
    ("POST", "/api/v1/programs", program_body(), {"admin"}),
    ("GET", "/api/v1/programs/{program}", None, ANYONE),
    ("PATCH", "/api/v1/programs/{program}", {"cofund_deadline": 4_000_000_000}, {"admin"}),
    ("PUT", "/api/v1/programs/{program}/rules", {"title": "x", "categories": ["Parks", "Roads"]},
     {"admin"}),
    ("POST", "/api/v1/programs/{program}/phase", {"phase": "review"}, {"admin"}),
    ("GET", "/api/v1/programs/{program}/proposals.geojson", None, ANYONE),
    ("GET", "/api/v1/programs/{program}/proposals.csv", None, ANYONE),
    ("GET", "/api/v1/programs/{program}/ballot/centre", None, ANYONE),
    ("POST", "/api/v1/programs/{program}/elections", {"district": "centre", "election": {}},
     {"admin"}),
    ("POST", "/api/v1/programs/{program}/elections/x/apply-result", None, {"admin"}),
    ("GET", "/api/v1/proposals", None, ANYONE),
    ("GET", "/api/v1/proposals/mine", None, LOGGED_IN),
    ("POST", "/api/v1/proposals", "proposal", RESIDENTS),
    ("GET", "/api/v1/proposals/{proposal}", None, ANYONE),
    ("PATCH", "/api/v1/proposals/{proposal}", {"title": "x"}, RESIDENTS),
    ("GET", "/api/v1/proposals/{proposal}/history", None, ANYONE),
    ("POST", "/api/v1/proposals/{proposal}/submit", None, RESIDENTS),
    ("POST", "/api/v1/proposals/{proposal}/support", None, RESIDENTS),
    ("POST", "/api/v1/proposals/{proposal}/review", {"decision": "reject", "reason": "x"},
     {"moderator", "admin"}),
    ("GET", "/api/v1/proposals/{proposal}/pledges", None, ANYONE),
    ("POST", "/api/v1/proposals/{proposal}/pledges", {"amount": 100}, RESIDENTS),
    ("POST", "/api/v1/proposals/{proposal}/pledges/999/withdraw", None, RESIDENTS),
    ("GET", "/api/v1/proposals/{proposal}/implementation", None, ANYONE),
    ("POST", "/api/v1/proposals/{proposal}/milestones",
     {"stage": "planned", "date": "2027-01-01"}, {"moderator", "admin"}),
    ("POST", "/api/v1/proposals/{proposal}/rating", {"stars": 3}, RESIDENTS),
    ("POST", "/api/v1/businesses", {"name": "Shop", "inn": "0"}, RESIDENTS),
    ("GET", "/api/v1/businesses", None, RESIDENTS),
]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(
    people: dict[str, Actor], world: dict[str, int], client: Client, role: str
) -> None:
    actor = {
        "anonymous": anonymous(client),
        "resident": people["r1"],
        "author": people["author"],
        "moderator": people["mod"],
        "admin": people["admin"],
    }[role]
    for method, template, body, allowed in MATRIX:
        url = template.format(**world)
        if body == "proposal":
            body = proposal_body(world["program"])
        if role == "anonymous":
            client.cookies.clear()
            response = client.request(method, url, json=body)
        else:
            response = actor.call(method, url, body)
        status = response.status_code
        if role in allowed:
            assert status not in (401, 403) or response.json()["error"] in {
                "not_author", "not_your_pledge", "own_proposal",
            }, (role, method, url, status, response.text)  # fmt: skip
        else:
            expected = 401 if role == "anonymous" else 403
            assert status == expected, (role, method, url, status, response.text)


@pytest.mark.parametrize("amount", [-1, 0, 10**16, "a lot", 1.5, None, [1]])
def test_bad_pledge_amounts(people: dict[str, Actor], world: dict[str, int], amount: Any) -> None:
    url = f"/api/v1/proposals/{world['proposal']}/pledges"
    response = people["r1"].call("POST", url, {"amount": amount})
    assert response.status_code == 400, response.text


def test_pledge_above_the_cost_and_absurd_costs(
    people: dict[str, Actor], world: dict[str, int]
) -> None:
    url = f"/api/v1/proposals/{world['proposal']}/pledges"
    above = people["r1"].call("POST", url, {"amount": 1_000_001})
    assert above.status_code == 400 and above.json()["error"] == "invalid_amount"
    for cost in (-5, 0, 10**16, 2**63):
        body = proposal_body(world["program"], cost=cost)
        assert people["author"].call("POST", "/api/v1/proposals", body).status_code == 400
    for lat in (90_000_001, -90_000_001):
        body = proposal_body(world["program"], lat_e6=lat)
        assert people["author"].call("POST", "/api/v1/proposals", body).status_code == 400
    half = proposal_body(world["program"], lon_e6=None)
    assert people["author"].call("POST", "/api/v1/proposals", half).status_code == 400


def upload(actor: Actor, url: str, data: bytes, name: str = "photo.png") -> Any:
    client = actor.use()
    return client.post(
        url,
        files={"file": (name, data, "image/png")},
        headers={"X-CSRF-Token": actor.csrf},
    )


def test_images_checked_by_content_and_served_with_their_type(
    people: dict[str, Actor], world: dict[str, int]
) -> None:
    url = f"/api/v1/proposals/{world['proposal']}/images"
    good = upload(people["author"], url, png(64, 48), "anything.txt")
    assert good.status_code == 201, good.text
    image = good.json()
    assert (image["content_type"], image["width"], image["height"]) == ("image/png", 64, 48)
    served = people["r1"].use().get(image["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.content == png(64, 48)
    jpg = upload(people["author"], url, jpeg(800, 600), "photo.png")
    assert jpg.json()["content_type"] == "image/jpeg"
    view = people["r1"].call("GET", f"/api/v1/proposals/{world['proposal']}").json()
    assert len(view["images"]) == 2
    # Only the author adds images.
    assert upload(people["r1"], url, png(10, 10)).status_code == 403
    fakes = [
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"<html><script>alert(1)</script></html>",
        b"GIF89a" + b"\x00" * 100,
        png(20_000, 20_000),
        b"",
    ]
    for fake in fakes:
        refused = upload(people["author"], url, fake, "photo.png")
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] in {"not_an_image", "no_file"}
    big = png(10, 10) + b"\x00" * (5 * 1024 * 1024)
    too_big = upload(people["author"], url, big)
    assert too_big.status_code in (400, 413)
    assert people["r1"].use().get("/uploads/" + "0" * 32).status_code == 404
    assert people["r1"].use().get("/uploads/../../etc/passwd").status_code == 404


def test_milestone_photos_are_logged_by_hash(
    app: Litestar, people: dict[str, Actor], world: dict[str, int]
) -> None:
    pid = world["proposal"]
    from sqlalchemy import select

    from audit.core.entry import parse_entry
    from audit.services.models import LogEntry
    from kernel import db as database
    from proposals.services.models import Proposal

    with database.session_scope(app.state.sessions) as db:
        row = db.get(Proposal, pid)
        assert row is not None
        row.status, row.election_id = "on_ballot", "e"
    app.state.ballot_link.apply_winners(world["program"], "e", [f"proposal-{pid}"])
    step = people["admin"].call(
        "POST", f"/api/v1/proposals/{pid}/milestones", {"stage": "planned", "date": "2027-05-01"}
    )
    assert step.status_code == 201
    url = f"/api/v1/proposals/{pid}/milestones/{step.json()['id']}/photos"
    assert upload(people["author"], url, png(8, 8)).status_code == 403
    assert upload(people["admin"], url, b"<svg/>").status_code == 400
    photo = upload(people["mod"], url, png(8, 8))
    assert photo.status_code == 201, photo.text
    summary = people["r1"].call("GET", f"/api/v1/proposals/{pid}/implementation").json()
    assert summary["milestones"][0]["photos"] == [photo.json()["url"]]
    with database.session_scope(app.state.sessions) as db:
        last = db.scalars(select(LogEntry.data).order_by(LogEntry.seq.desc())).first()  # type: ignore[attr-defined]
    entry = parse_entry(bytes(last), KINDS)  # type: ignore[arg-type]
    assert entry.kind == "milestone.reported"
    assert len(entry.body.photos) == 1  # type: ignore[attr-defined]
