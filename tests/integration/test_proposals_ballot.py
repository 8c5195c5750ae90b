"""From accepted proposals to an election and back: the admin creates the district's
election draft from the proposals that met the rules, the election runs, and its
published result moves proposals to won or lost and pledges to due or released."""

from __future__ import annotations

from typing import Any

from tests.support.elections import EARLY_CLOSE
from tests.support.proposals import Actor, election_rest, program_body, proposal_body


def test_ballot_from_proposals_and_result_back(people: dict[str, Actor]) -> None:
    admin = people["admin"]
    body = program_body(support_threshold=0, cofund_percent=5)
    program = admin.call("POST", "/api/v1/programs", body).json()["id"]
    # Submission happens in the submission phase; pledges from the support phase on.
    drafts = []
    for title in ("Benches", "Fountain", "Unfunded"):
        pid = (
            people["author"]
            .call("POST", "/api/v1/proposals", proposal_body(program, title=title))
            .json()["id"]
        )
        people["author"].call("POST", f"/api/v1/proposals/{pid}/submit")
        drafts.append(pid)
    admin.call("POST", f"/api/v1/programs/{program}/phase", {"phase": "support"})
    for pid, amount in zip(drafts, (50_000, 60_000, 10_000), strict=True):
        made = people["r1"].call("POST", f"/api/v1/proposals/{pid}/pledges", {"amount": amount})
        assert made.status_code == 201, made.text
        review = {"decision": "accept", "validated_cost": 1_000_000}
        assert (
            people["mod"].call("POST", f"/api/v1/proposals/{pid}/review", review).status_code == 200
        )
    listed = admin.call("GET", f"/api/v1/programs/{program}/ballot/centre").json()
    assert [p["proposal"] for p in listed] == [str(drafts[0]), str(drafts[1])]
    rest = election_rest("centre-2027")
    early = admin.call("POST", f"/api/v1/programs/{program}/elections",
                       {"district": "centre", "election": rest})  # fmt: skip
    assert early.status_code == 409 and early.json()["error"] == "wrong_phase"
    admin.call("POST", f"/api/v1/programs/{program}/phase", {"phase": "voting"})
    refused = people["r1"].call("POST", f"/api/v1/programs/{program}/elections",
                                {"district": "centre", "election": rest})  # fmt: skip
    assert refused.status_code == 403
    sneaky = admin.call("POST", f"/api/v1/programs/{program}/elections",
                        {"district": "centre", "election": {**rest, "projects": []}})  # fmt: skip
    assert sneaky.status_code == 400
    created = admin.call("POST", f"/api/v1/programs/{program}/elections",
                         {"district": "centre", "election": rest})  # fmt: skip
    assert created.status_code == 201, created.text
    assert [p["proposal"] for p in created.json()["projects"]] == listed_ids(listed)
    election = admin.call("GET", "/api/v1/elections/centre-2027").json()
    assert [p["proposal"] for p in election["config"]["projects"]] == listed_ids(listed)
    assert election["config"]["budget"] == 100_000_000
    for pid in drafts[:2]:
        assert admin.call("GET", f"/api/v1/proposals/{pid}").json()["status"] == "on_ballot"
    assert admin.call("GET", f"/api/v1/proposals/{drafts[2]}").json()["status"] == "accepted"
    # Before the result is published there is nothing to apply.
    apply = f"/api/v1/programs/{program}/elections/centre-2027/apply-result"
    assert admin.call("POST", apply).status_code == 404
    for step in ("open", "close", "tally"):
        body = EARLY_CLOSE if step == "close" else None
        response = admin.call("POST", f"/api/v1/elections/centre-2027/{step}", body)
        assert response.status_code in (200, 201), (step, response.text)
    winners = admin.call("GET", "/api/v1/elections/centre-2027/result").json()["winners"]
    assert people["r1"].call("POST", apply).status_code == 403
    applied = admin.call("POST", apply)
    assert applied.status_code == 200, applied.text
    result = applied.json()
    assert sorted(result["won"] + result["lost"]) == sorted(drafts[:2])
    for pid in drafts[:2]:
        view = admin.call("GET", f"/api/v1/proposals/{pid}").json()
        won = f"proposal-{pid}" in winners
        assert view["status"] == ("won" if won else "lost")
        pledges = people["r1"].call("GET", f"/api/v1/proposals/{pid}/pledges").json()
        assert {p["status"] for p in pledges} == {"due" if won else "released"}
    # Applying twice is refused: nothing is on the ballot any more.
    assert admin.call("POST", apply).status_code == 409


def listed_ids(listed: list[dict[str, Any]]) -> list[str]:
    return [p["proposal"] for p in listed]
