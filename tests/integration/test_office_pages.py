"""The back office over HTTP: the municipality's districts with budgets typed in
roubles, programmes made and moved in the browser, the review queue for moderators and
administrators, and a counted election's result applied to proposals and pledges.

Each page lets its staff roles in and turns residents away; a refused form comes back
with what was typed and the reason next to the field; Russian pages too."""

from __future__ import annotations

import re

from tests.support.elections import EARLY_CLOSE
from tests.support.pages import HTML, PAGES_ON_SQLITE
from tests.support.proposals import Actor, election_rest, make_program, proposal_body

pytestmark = PAGES_ON_SQLITE


def get(actor: Actor, url: str, lang: str = "en") -> object:
    client = actor.use()
    client.cookies.set("veche_lang", lang)
    return client.get(url, headers=HTML, follow_redirects=False)


def page(actor: Actor, url: str, lang: str = "en") -> str:
    response = get(actor, url, lang)
    assert response.status_code == 200, (url, response.status_code, response.text[:500])  # type: ignore[attr-defined]
    return response.text  # type: ignore[attr-defined]


def post(actor: Actor, url: str, data: dict[str, str], lang: str = "en") -> object:
    client = actor.use()
    client.cookies.set("veche_lang", lang)
    return client.post(
        url, data={**data, "csrf_token": actor.csrf}, headers=HTML, follow_redirects=False
    )


def value_of(html: str, input_id: str) -> str:
    match = re.search(rf'id="{input_id}"[^>]*value="([^"]*)"', html)
    assert match, input_id
    return match.group(1)


def districts(actor: Actor) -> dict[str, dict[str, object]]:
    return {d["code"]: d for d in actor.call("GET", "/api/v1/districts").json()}


# --- who may enter -------------------------------------------------------------------
def test_menu_and_access_by_role(people: dict[str, Actor]) -> None:
    admin, mod, resident = people["admin"], people["mod"], people["author"]
    # The menu has one entry for staff, "Office", whose page lists what the role opens.
    assert 'href="/office"' in page(admin, "/") and 'href="/office"' in page(mod, "/")
    office = page(admin, "/office")
    for link in ("/office/programs", "/office/districts", "/moderation", "/admin/setup"):
        assert f'href="{link}"' in office, link
    mod_office = page(mod, "/office", "ru")
    assert 'href="/moderation"' in mod_office and "Очередь на экспертизу" in mod_office
    assert 'href="/office/programs"' not in mod_office
    resident_menu = page(resident, "/")
    assert 'href="/office"' not in resident_menu and 'href="/moderation"' not in resident_menu
    # The review queue opens for both staff roles (an administrator was refused before).
    assert "Moderation queue" in page(admin, "/moderation")
    page(mod, "/moderation")
    for url in ("/moderation", "/office/districts", "/office/programs", "/office/programs/new"):
        refused = get(resident, url)
        assert refused.status_code == 403, url  # type: ignore[attr-defined]
    for url in ("/office/districts", "/office/programs"):
        assert get(mod, url).status_code == 403, url  # type: ignore[attr-defined]
    anonymous = admin.client
    anonymous.cookies.clear()
    answer = anonymous.get("/office/districts", headers=HTML, follow_redirects=False)
    assert answer.status_code in (302, 303, 401)
    posted = post(resident, "/office/districts", {"code": "x", "name": "X", "budget": "1"})
    assert posted.status_code == 403  # type: ignore[attr-defined]
    assert "x" not in districts(admin)


def test_administrator_reviews_from_the_queue(people: dict[str, Actor]) -> None:
    admin, author = people["admin"], people["author"]
    program = make_program(admin, support_threshold=0)
    pid = author.call("POST", "/api/v1/proposals", proposal_body(program)).json()["id"]
    author.call("POST", f"/api/v1/proposals/{pid}/submit")
    for phase in ("support", "review"):
        admin.call("POST", f"/api/v1/programs/{program}/phase", {"phase": phase})
    assert admin.call("GET", f"/api/v1/proposals/{pid}").json()["status"] == "in_review"
    queue = page(admin, "/moderation", "ru")
    assert f'id="accept-{pid}"' in queue
    assert f'id="accept-{pid}"' in page(admin, f"/proposals/{pid}")
    done = post(admin, f"/proposals/{pid}/review", {
        "decision": "accept", "validated_cost": "12 000", "next": "/moderation"
    })  # fmt: skip
    assert done.status_code == 303, done.text  # type: ignore[attr-defined]
    view = admin.call("GET", f"/api/v1/proposals/{pid}").json()
    assert view["status"] == "accepted" and view["validated_cost"] == 1_200_000
    refused = post(people["r1"], f"/proposals/{pid}/review", {"decision": "reject"})
    assert refused.status_code == 403  # type: ignore[attr-defined]


# --- (a) districts and budgets ---------------------------------------------------------
def test_districts_add_rename_and_budget_in_roubles(people: dict[str, Actor]) -> None:
    admin = people["admin"]
    html = page(admin, "/office/districts", "ru")
    assert "Муниципалитет: районы и бюджеты" in html and "Europe/Moscow" in html
    added = post(admin, "/office/districts", {
        "code": "east", "name": "East", "budget": "1 500 000,50"
    })  # fmt: skip
    assert added.status_code == 303, added.text  # type: ignore[attr-defined]
    assert districts(admin)["east"]["budget"] == 150_000_050
    renamed = post(admin, "/office/districts/east", {"name": "East bank", "budget": "2 000 000"})
    assert renamed.status_code == 303  # type: ignore[attr-defined]
    east = districts(admin)["east"]
    assert (east["name"], east["budget"]) == ("East bank", 200_000_000)
    html = page(admin, "/office/districts")
    assert value_of(html, "budget-east") == "2\u00a0000\u00a0000"
    assert value_of(html, "name-east") == "East bank"


def test_district_refusals_keep_what_was_typed_with_a_sentence(
    people: dict[str, Actor],
) -> None:
    admin = people["admin"]
    for typed, sentence in (
        ("1e9", "digits only"),
        ("-5", "cannot be negative"),
        ("10,505", "two digits of kopecks"),
    ):
        refused = post(admin, "/office/districts/centre", {"name": "Centre", "budget": typed})
        assert refused.status_code == 400  # type: ignore[attr-defined]
        html = refused.text  # type: ignore[attr-defined]
        assert sentence in html
        assert 'id="budget-centre-error"' in html
        assert value_of(html, "budget-centre") == typed
    assert districts(admin)["centre"]["budget"] == 0
    # In Russian, with the name kept as well.
    refused = post(admin, "/office/districts", {
        "code": "South side!", "name": "Южный", "budget": "1e9"
    }, "ru")  # fmt: skip
    assert refused.status_code == 400  # type: ignore[attr-defined]
    html = refused.text  # type: ignore[attr-defined]
    assert 'id="code-error"' in html and 'id="budget-error"' in html
    assert value_of(html, "name") == "Южный" and value_of(html, "budget") == "1e9"
    assert "только цифрами" in html
    twice = post(admin, "/office/districts", {"code": "centre", "name": "Again", "budget": ""})
    assert twice.status_code == 400  # type: ignore[attr-defined]
    assert "already exists" in twice.text  # type: ignore[attr-defined]
    empty_name = post(admin, "/office/districts/north", {"name": " ", "budget": "5"}, "ru")
    assert empty_name.status_code == 400  # type: ignore[attr-defined]
    assert "Введите название района" in empty_name.text  # type: ignore[attr-defined]


# --- (b) programmes --------------------------------------------------------------------
GOOD = {
    "title": "Budget 2027",
    "categories": "Parks\r\nRoads\r\n",
    "district_centre": "on",
    "budget_centre": "1 000 000",
    "district_north": "on",
    "budget_north": "500 000,50",
    "support_threshold": "2",
    "cofund_percent": "5",
    "cofund_who": "both",
    "cofund_deadline": "31.12.2027",
    "submission_starts": "01.01.2027",
    "submission_ends": "2027-01-31",
    "support_starts": "01.02.2027",
    "support_ends": "28.02.2027",
}


def test_programme_refused_form_keeps_every_field(people: dict[str, Actor]) -> None:
    admin = people["admin"]
    bad = {
        **GOOD,
        "title": "Keep me",
        "categories": "",
        "budget_north": "1e9",
        "cofund_percent": "150",
        "support_ends": "01.01.2027",
        "cofund_deadline": "31.02.2027",
    }
    refused = post(admin, "/office/programs/new", bad, "ru")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    html = refused.text  # type: ignore[attr-defined]
    for name in ("categories", "budget_north", "cofund_percent", "support", "cofund_deadline"):
        assert f'id="{name}-error"' in html, name
    assert "Этап заканчивается раньше, чем начинается." in html
    assert value_of(html, "title") == "Keep me"
    assert value_of(html, "budget_north") == "1e9"
    assert value_of(html, "budget_centre") == "1 000 000"
    assert value_of(html, "cofund_deadline") == "31.02.2027"
    assert 'value="01.01.2027"' in html
    assert admin.call("GET", "/api/v1/programs").json() == []


def test_programme_made_in_the_browser_as_the_api_would(people: dict[str, Actor]) -> None:
    admin = people["admin"]
    html = page(admin, "/office/programs/new", "ru")
    assert "Новая программа" in html
    made = post(admin, "/office/programs/new", GOOD)
    assert made.status_code == 303, made.text  # type: ignore[attr-defined]
    location = made.headers["location"]  # type: ignore[attr-defined]
    program_id = int(location.split("/")[-1].split("?")[0])
    out = admin.call("GET", f"/api/v1/programs/{program_id}").json()
    assert out["title"] == "Budget 2027" and out["categories"] == ["Parks", "Roads"]
    assert {d["district"]: d["budget"] for d in out["districts"]} == {
        "centre": 100_000_000,
        "north": 50_000_050,
    }
    assert out["phases"]["submission"] == {"starts": "2027-01-01", "ends": "2027-01-31"}
    assert (out["support_threshold"], out["cofund_percent"]) == (2, 5)
    # The last second of 31 December 2027 in Moscow (UTC+3).
    assert out["cofund_deadline"] == 1830286799
    logged = admin.call("GET", "/api/v1/log/entries").text
    assert "program.created" in logged and "Budget 2027" in logged
    view = page(admin, location, "ru")
    assert 'class="timeline"' in view and 'aria-current="step"' in view
    assert "1 янв. 2027\u202fг. – 31 янв. 2027\u202fг." in view
    assert "31.12.2027" in view
    # Resident pages see it; residents cannot open the office page.
    assert get(people["r1"], location).status_code == 403  # type: ignore[attr-defined]


def test_programme_settings_and_phase_forward_with_a_confirmation(
    people: dict[str, Actor],
) -> None:
    admin = people["admin"]
    program = make_program(admin)
    url = f"/office/programs/{program}"
    refused = post(admin, url, {"cofund_deadline": "tomorrow", "map_tile_url": "http://x/{z}"})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    html = refused.text  # type: ignore[attr-defined]
    assert 'id="cofund_deadline-error"' in html and value_of(html, "cofund_deadline") == "tomorrow"
    assert value_of(html, "map_tile_url") == "http://x/{z}"
    saved = post(admin, url, {"cofund_deadline": "2027-06-30", "map_tile_url": ""})
    assert saved.status_code == 303  # type: ignore[attr-defined]
    assert admin.call("GET", f"/api/v1/programs/{program}").json()["cofund_deadline"] == (
        1814389199  # 30 June 2027, 23:59:59 in Moscow
    )
    confirm = page(admin, f"{url}/phase?to=support", "ru")
    assert "не может вернуться к прежнему этапу" in confirm
    assert 'name="phase" value="support"' in confirm
    assert admin.call("GET", f"/api/v1/programs/{program}").json()["phase"] == "submission"
    moved = post(admin, f"{url}/phase", {"phase": "support"})
    assert moved.status_code == 303  # type: ignore[attr-defined]
    assert admin.call("GET", f"/api/v1/programs/{program}").json()["phase"] == "support"
    backwards = post(admin, f"{url}/phase", {"phase": "submission"})
    assert backwards.status_code == 409  # type: ignore[attr-defined]
    assert 'id="phase-error"' in backwards.text  # type: ignore[attr-defined]
    assert get(admin, f"{url}/phase?to=submission").status_code == 400  # type: ignore[attr-defined]
    assert post(people["r1"], f"{url}/phase", {"phase": "review"}).status_code == 403  # type: ignore[attr-defined]


# --- (d) results applied ---------------------------------------------------------------
def test_result_applied_in_one_step_after_a_confirmation(people: dict[str, Actor]) -> None:
    admin, author, r1 = people["admin"], people["author"], people["r1"]
    program = make_program(admin, support_threshold=0, cofund_percent=5)
    ids = []
    for title in ("Benches", "Fountain"):
        pid = author.call("POST", "/api/v1/proposals", proposal_body(program, title=title))
        ids.append(pid.json()["id"])
        author.call("POST", f"/api/v1/proposals/{ids[-1]}/submit")
    admin.call("POST", f"/api/v1/programs/{program}/phase", {"phase": "support"})
    for pid in ids:
        made = r1.call("POST", f"/api/v1/proposals/{pid}/pledges", {"amount": 50_000})
        assert made.status_code == 201, made.text
        review = {"decision": "accept", "validated_cost": 1_000_000}
        reviewed = people["mod"].call("POST", f"/api/v1/proposals/{pid}/review", review)
        assert reviewed.status_code == 200, reviewed.text
    admin.call("POST", f"/api/v1/programs/{program}/phase", {"phase": "voting"})
    rest = election_rest("centre-2027")
    created = admin.call("POST", f"/api/v1/programs/{program}/elections",
                         {"district": "centre", "election": rest})  # fmt: skip
    assert created.status_code == 201, created.text
    office = f"/office/programs/{program}"
    apply = f"{office}/elections/centre-2027/apply"
    html = page(admin, office)
    assert "The result can be applied once it is counted" in html
    assert get(admin, apply).status_code == 404  # type: ignore[attr-defined]
    for step in ("open", "close", "tally"):
        body = EARLY_CLOSE if step == "close" else None
        response = admin.call("POST", f"/api/v1/elections/centre-2027/{step}", body)
        assert response.status_code in (200, 201), (step, response.text)
    winners = admin.call("GET", "/api/v1/elections/centre-2027/result").json()["winners"]
    assert f'href="{apply}"' in page(admin, office)
    confirm = page(admin, apply, "ru")
    assert "нельзя отменить" in confirm
    assert "1 действующий взнос на сумму 500 ₽" in confirm
    for pid in ids:
        assert admin.call("GET", f"/api/v1/proposals/{pid}").json()["status"] == "on_ballot"
    assert get(r1, apply).status_code == 403  # type: ignore[attr-defined]
    assert post(r1, apply, {}).status_code == 403  # type: ignore[attr-defined]
    done = post(admin, apply, {})
    assert done.status_code == 303, done.text  # type: ignore[attr-defined]
    for pid in ids:
        won = f"proposal-{pid}" in winners
        view = admin.call("GET", f"/api/v1/proposals/{pid}").json()
        assert view["status"] == ("won" if won else "lost")
        pledges = r1.call("GET", f"/api/v1/proposals/{pid}/pledges").json()
        assert {p["status"] for p in pledges} == {"due" if won else "released"}
        shown = page(r1, f"/proposals/{pid}", "ru")
        assert ("Победил" if won else "Не прошёл") in shown
    after = page(admin, done.headers["location"], "ru")  # type: ignore[attr-defined]
    assert 'id="applied-notice"' in after
    # Twice is refused with a sentence, never a 5xx.
    again = post(admin, apply, {})
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert get(admin, apply).status_code == 409  # type: ignore[attr-defined]


def test_rules_change_in_the_submission_phase_only_and_are_logged(
    people: dict[str, Actor],
) -> None:
    admin, author = people["admin"], people["author"]
    program = make_program(admin)
    url = f"/office/programs/{program}"
    html = page(admin, url, "ru")
    assert 'id="rules-form"' in html and value_of(html, "title") == "Budget 2027"
    assert 'value="01.01.2027"' in html and 'value="31.01.2027"' in html
    refused = post(admin, f"{url}/rules", {
        "title": "Renamed", "categories": "Parks", "support_threshold": "-1",
        "cofund_percent": "5", "review_starts": "05.05.2027", "review_ends": "",
    }, "ru")  # fmt: skip
    assert refused.status_code == 400  # type: ignore[attr-defined]
    text = refused.text  # type: ignore[attr-defined]
    assert 'id="support_threshold-error"' in text and 'id="review-error"' in text
    assert value_of(text, "title") == "Renamed" and 'value="05.05.2027"' in text
    assert "Введите целое число от 0 до 1 000 000." in text
    # A category that a proposal uses stays.
    author.call("POST", "/api/v1/proposals", proposal_body(program, category="Roads"))
    dropped = post(admin, f"{url}/rules", {
        "title": "Renamed", "categories": "Parks", "support_threshold": "3",
        "cofund_percent": "10",
    })  # fmt: skip
    assert dropped.status_code == 400  # type: ignore[attr-defined]
    assert "cannot be removed" in dropped.text  # type: ignore[attr-defined]
    changed = post(admin, f"{url}/rules", {
        "title": "Renamed", "categories": "Parks\nRoads\nLight", "support_threshold": "3",
        "cofund_percent": "10", "voting_starts": "01.06.2027", "voting_ends": "14.06.2027",
    })  # fmt: skip
    assert changed.status_code == 303, changed.text  # type: ignore[attr-defined]
    out = admin.call("GET", f"/api/v1/programs/{program}").json()
    assert out["title"] == "Renamed" and out["categories"] == ["Parks", "Roads", "Light"]
    assert (out["support_threshold"], out["cofund_percent"]) == (3, 10)
    assert out["phases"] == {"voting": {"starts": "2027-06-01", "ends": "2027-06-14"}}
    logged = admin.call("GET", "/api/v1/log/entries").text
    assert "program.changed" in logged and "Light" in logged
    # After the submission phase the rules are fixed, for the page and the API alike.
    admin.call("POST", f"/api/v1/programs/{program}/phase", {"phase": "support"})
    assert 'id="rules-form"' not in page(admin, url)
    late = post(admin, f"{url}/rules", {"title": "Late", "categories": "Parks\nRoads"})
    assert late.status_code == 409  # type: ignore[attr-defined]
    api = admin.call("PUT", f"/api/v1/programs/{program}/rules",
                     {"title": "Late", "categories": ["Parks", "Roads"]})  # fmt: skip
    assert api.status_code == 409 and api.json()["error"] == "rules_fixed"
    assert admin.call("GET", f"/api/v1/programs/{program}").json()["title"] == "Renamed"
    resident = people["r1"].call("PUT", f"/api/v1/programs/{program}/rules",
                                 {"title": "X", "categories": ["Parks"]})  # fmt: skip
    assert resident.status_code == 403


def test_typed_text_is_escaped_on_every_office_page(people: dict[str, Actor]) -> None:
    admin = people["admin"]
    nasty = '<script>alert("x")</script><b onmouseover=1>'
    renamed = post(admin, "/office/districts/centre", {"name": nasty, "budget": "100"})
    assert renamed.status_code == 303  # type: ignore[attr-defined]
    program = make_program(admin, title=nasty, categories=[nasty, "Roads"])
    office = f"/office/programs/{program}"
    urls = ("/office/districts", "/office/programs", "/office/programs/new", office)
    for url in (*urls, f"{office}/phase?to=support"):
        for lang in ("en", "ru"):
            html = page(admin, url, lang)
            assert "<script>alert" not in html and "<b onmouseover" not in html, url
            assert "&lt;script&gt;" in html, url
