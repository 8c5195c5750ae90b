"""The resident's side of the pages, as a resident meets it: every programme listed
with its phases and its own page, forms offered only when the phase takes them and
refusals that keep what was typed, badges that agree with the text, co-funding counted
from the pledges shown, money in the language's notation."""

from __future__ import annotations

import json
import re
from html import unescape

from tests.support.pages import HTML, PAGES_ON_SQLITE
from tests.support.proposals import Actor, make_program, phase, submitted

pytestmark = PAGES_ON_SQLITE


def get(actor: Actor, url: str, lang: str = "en") -> tuple[int, str]:
    client = actor.use()
    client.cookies.set("veche_lang", lang)
    response = client.get(url, headers=HTML)
    return response.status_code, response.text


def post(actor: Actor, url: str, data: dict[str, str]) -> object:
    return actor.use().post(
        url, data={**data, "csrf_token": actor.csrf}, headers=HTML, follow_redirects=False
    )


def test_every_program_is_listed_with_its_timeline_and_has_a_landing_page(
    people: dict[str, Actor],
) -> None:
    admin, r1 = people["admin"], people["r1"]
    first = make_program(admin, title="Budget 2026")
    second = make_program(admin, title="Budget 2027 north")
    status, html = get(r1, "/programs")
    assert status == 200
    assert "Budget 2026" in html and "Budget 2027 north" in html
    assert html.count('class="timeline"') == 2
    assert f'href="/programs/{first}"' in html and f'href="/programs/{second}"' in html
    status, html = get(r1, f"/programs/{first}", "ru")
    assert status == 200
    assert 'id="program-title">Budget 2026<' in html
    # 1 000 000 RUB + 500 000 RUB of district budgets, in Russian notation with the sign.
    assert "1\xa0500\xa0000\xa0₽" in html
    assert "Подача проектов" in html or "Подача" in html
    # Both programmes reachable from the proposals list; the older one by its number.
    status, html = get(r1, f"/proposals?program={first}")
    assert status == 200 and "Budget 2026" in html and f"/proposals?program={second}" in html


def test_an_unknown_program_is_a_404_not_another_program(people: dict[str, Actor]) -> None:
    admin, r1 = people["admin"], people["r1"]
    make_program(admin, title="Budget 2026")
    for url in ("/proposals?program=999", "/programs/999", "/proposals/new?program=999"):
        status, html = get(r1, url)
        assert status == 404, url
        assert "There is no such budgeting program." in html, url
        assert "Budget 2026" not in html, url
    status, html = get(r1, "/proposals?program=abc")
    assert status == 404


def test_propose_is_offered_only_in_the_submission_phase(people: dict[str, Actor]) -> None:
    admin, author = people["admin"], people["author"]
    program = make_program(admin)
    status, html = get(author, f"/proposals?program={program}")
    assert f'href="/proposals/new?program={program}"' in html
    phase(admin, program, "support")
    status, html = get(author, f"/proposals?program={program}")
    assert f'href="/proposals/new?program={program}"' not in html
    status, html = get(author, f"/proposals/new?program={program}")
    assert status == 409
    assert 'id="form-closed"' in html and 'name="title"' not in html


def test_a_refused_proposal_keeps_what_was_typed(people: dict[str, Actor]) -> None:
    admin, author = people["admin"], people["author"]
    program = make_program(admin)
    phase(admin, program, "support")
    typed = {
        "program": str(program), "title": "Fountain on the square",
        "summary": "A small fountain", "description": "Granite, with benches around.",
        "category": "Parks", "district": "centre", "cost": "250 000",
        "latitude": "55.75", "longitude": "37.61", "action": "submit",
    }  # fmt: skip
    refused = post(author, "/proposals/new", typed)
    assert refused.status_code == 409  # type: ignore[attr-defined]
    html = refused.text  # type: ignore[attr-defined]
    assert 'id="form-refused"' in html
    assert "The program does not accept proposals now." in html
    for value in ("Fountain on the square", "A small fountain", "Granite, with benches around.",
                  "250 000", "55.75", "37.61"):  # fmt: skip
        assert value in html, value
    assert '<option value="Parks" selected' in html
    assert '<option value="centre" selected' in html
    # Nothing was created behind the refusal.
    assert "Fountain" not in get(author, "/proposals/mine")[1]


def test_a_cost_in_exponent_notation_is_refused_with_a_sentence(people: dict[str, Actor]) -> None:
    admin, author = people["admin"], people["author"]
    program = make_program(admin)
    sent = post(author, "/proposals/new", {
        "program": str(program), "title": "Tower", "summary": "Tall",
        "category": "Parks", "district": "centre", "cost": "1e9", "action": "submit",
    })  # fmt: skip
    assert sent.status_code == 400  # type: ignore[attr-defined]
    assert 'id="cost-error"' in sent.text  # type: ignore[attr-defined]
    assert 'value="1e9"' in sent.text  # type: ignore[attr-defined]


def test_the_badge_agrees_with_the_support_text(people: dict[str, Actor]) -> None:
    admin, r1 = people["admin"], people["r1"]
    program = make_program(admin)
    pid = submitted(people, program)
    _status, html = get(r1, f"/proposals/{pid}")
    assert "This proposal is not gathering support now." in html
    assert "Gathering support" not in html
    phase(admin, program, "support")
    _status, html = get(r1, f"/proposals/{pid}")
    assert 'id="proposal-status">Gathering support<' in html
    assert "This proposal is not gathering support now." not in html


def test_cofunding_counts_the_shown_pledges_above_100000_roubles(
    people: dict[str, Actor],
) -> None:
    admin, r1, r2 = people["admin"], people["r1"], people["r2"]
    # 10 000 000 RUB of cost, 10 %: 1 000 000 RUB to pledge.
    program = make_program(admin, cofund_percent=10, support_threshold=0)
    pid = submitted(people, program, cost=1_000_000_000)
    phase(admin, program, "support")
    for actor, amount in ((r1, "450 000"), (r2, "300000,50")):
        assert post(actor, f"/proposals/{pid}/pledge", {"amount": amount}).status_code == 303  # type: ignore[attr-defined]
    _status, html = get(r1, f"/proposals/{pid}", "ru")
    # 750 000,50 of 1 000 000: 75 %, by integers.
    assert '<progress id="cofund-progress" max="100" value="75"' in html
    assert "750\xa0000,50\xa0₽" in html and "1\xa0000\xa0000\xa0₽" in html
    _status, html = get(r1, f"/proposals/{pid}", "en")
    assert "₽750,000.50" in html


def test_history_links_open_the_human_page_of_the_entry(people: dict[str, Actor]) -> None:
    admin, r1 = people["admin"], people["r1"]
    program = make_program(admin)
    pid = submitted(people, program)
    status, html = get(r1, f"/proposals/{pid}")
    assert "/api/v1/log/entries?start=" not in html
    import re

    seq = re.search(r'href="/log/entries/(\d+)">log entry #', html)
    assert seq, html
    status, page = get(r1, f"/log/entries/{seq.group(1)}")
    assert status == 200 and page.startswith("<!doctype html>")
    assert 'id="entry-fields"' in page


def test_an_error_page_keeps_the_menu_of_the_logged_in_person(people: dict[str, Actor]) -> None:
    r1 = people["r1"]
    for url in ("/proposals/999999", "/nowhere", "/programs/999"):
        status, html = get(r1, url)
        assert status == 404, url
        assert 'href="/login"' not in html, url
        assert 'action="/logout"' in html and 'href="/account"' in html, url
    anonymous = r1.use()
    anonymous.cookies.clear()
    html = anonymous.get("/nowhere", headers=HTML).text
    assert 'href="/login"' in html


def test_an_upload_too_large_is_refused_in_megabytes_in_russian(people: dict[str, Actor]) -> None:
    author = people["author"]
    program = make_program(people["admin"])
    pid = submitted(people, program)
    client = author.use()
    client.cookies.set("veche_lang", "ru")
    sent = client.post(
        f"/proposals/{pid}/images",
        data={"csrf_token": author.csrf},
        files={"file": ("big.png", b"\x89PNG" + b"0" * (6 * 1024 * 1024), "image/png")},
        headers=HTML,
    )
    assert sent.status_code == 413
    assert "МБ" in sent.text and "bytes" not in sent.text and "байт" not in sent.text


def test_the_credential_file_is_offered_only_with_a_credential(
    people: dict[str, Actor],
) -> None:
    # Before any credential the save button and its advice are folded away together;
    # the page's script shows them once the browser holds a credential.
    import re

    from tests.support.elections import open_election

    admin = people["admin"]
    election = open_election(admin.use(), {"X-CSRF-Token": admin.csrf})
    status, html = get(people["r1"], f"/elections/{election}")
    assert status == 200
    block = re.search(r'<div id="wallet-save" hidden>(.*?)</div>', html, re.S)
    assert block, "the save button is not in a hidden block"
    assert 'id="save-wallet"' in block.group(1)
    assert "Save it to a file" in block.group(1)


def test_a_refused_pledge_keeps_the_amount_and_says_why(people: dict[str, Actor]) -> None:
    admin, r1 = people["admin"], people["r1"]
    program = make_program(admin, cofund_percent=10, support_threshold=0)
    pid = submitted(people, program)
    phase(admin, program, "support")
    typo = post(r1, f"/proposals/{pid}/pledge", {"amount": "5 000 руб"})
    assert typo.status_code == 400  # type: ignore[attr-defined]
    html = typo.text  # type: ignore[attr-defined]
    assert 'id="pledge-error"' in html and 'value="5 000 руб"' in html
    phase(admin, program, "voting")
    closed = post(r1, f"/proposals/{pid}/pledge", {"amount": "5000"})
    assert closed.status_code == 409  # type: ignore[attr-defined]
    html = closed.text  # type: ignore[attr-defined]
    assert "This proposal does not take pledges now." in html
    assert 'value="5000"' in html


def test_the_ballot_shows_each_proposal_with_its_summary_photo_and_page(
    people: dict[str, Actor],
) -> None:
    from tests.support.images import png
    from tests.support.proposals import election_rest

    admin, author = people["admin"], people["author"]
    program = make_program(admin, support_threshold=0, cofund_percent=0)
    pids = []
    for title, summary in (("Benches", "Ten oak benches"), ("Fountain", "A granite fountain")):
        pid = submitted(people, program, title=title, summary=summary)
        pids.append(pid)
    photo = author.use().post(
        f"/proposals/{pids[0]}/images",
        data={"csrf_token": author.csrf},
        files={"file": ("a.png", png(32, 32), "image/png")},
        headers=HTML,
        follow_redirects=False,
    )
    assert photo.status_code == 303
    phase(admin, program, "support")
    for pid in pids:
        review = {"decision": "accept", "validated_cost": 1_000_000}
        assert (
            people["mod"].call("POST", f"/api/v1/proposals/{pid}/review", review).status_code == 200
        )
    phase(admin, program, "voting")
    made = admin.call("POST", f"/api/v1/programs/{program}/elections",
                      {"district": "centre", "election": election_rest("centre-2027")})  # fmt: skip
    assert made.status_code == 201, made.text
    assert admin.call("POST", "/api/v1/elections/centre-2027/open").status_code == 200
    status, html = get(people["r1"], "/elections/centre-2027", "ru")
    assert status == 200
    for pid, summary in zip(pids, ("Ten oak benches", "A granite fountain"), strict=True):
        assert f'href="/proposals/{pid}"' in html
        assert f'<p class="project-summary">{summary}</p>' in html
    assert html.count('class="project-photo" src="/uploads/') == 1
    assert "Проект целиком" in html
    # One small map places both projects, each linked to its proposal's page.
    assert html.count('id="map"') == 1 and "Где находятся проекты" in html
    points = re.search(r'data-points="([^"]*)"', html)
    assert points is not None
    placed = json.loads(unescape(points.group(1)))
    assert [p["id"] for p in placed] == pids
    assert placed[0]["lat"] == "55.751244" and placed[0]["lon"] == "37.618423"


def test_my_proposals_offer_a_new_one_only_while_a_program_takes_them(
    people: dict[str, Actor],
) -> None:
    admin, author = people["admin"], people["author"]
    program = make_program(admin)
    _status, html = get(author, "/proposals/mine")
    assert f'href="/proposals/new?program={program}"' in html
    phase(admin, program, "support")
    _status, html = get(author, "/proposals/mine")
    assert "/proposals/new" not in html
