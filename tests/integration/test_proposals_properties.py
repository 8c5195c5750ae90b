"""Hypothesis over sequences of API calls by every role: no illegal transition ever
succeeds, pledge totals always equal the sum of live pledges, and no proposal reaches
the ballot without meeting its program's rules."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from litestar import Litestar

from kernel.settings import Settings
from proposals.core.lifecycle import TRANSITIONS
from tests.strategies.proposals import amounts
from tests.support.accounts import Client
from tests.support.proposals import Actor, log_in_all, program_body, proposal_body, setup_people

NAMES = ("admin", "mod", "author", "r1", "r2")
PHASES = ("support", "review", "cofunding", "voting")
_ids = itertools.count()


@pytest.fixture(name="settings")
def fx_settings(settings: Settings) -> Settings:
    """The suite's deployment without per-account limits: one author makes every
    proposal of every example (the limits have their own tests, test_limits)."""
    return settings.with_changes(proposal_drafts_per_day=0, uploads_per_hour=0, pledges_per_hour=0)


def machine_for(app: Litestar, people: dict[str, Actor]) -> type[RuleBasedStateMachine]:
    class Proposals(RuleBasedStateMachine):
        @initialize(
            threshold=st.integers(0, 2),
            percent=st.sampled_from([0, 5, 50]),
        )
        def program(self, threshold: int, percent: int) -> None:
            body = program_body(support_threshold=threshold, cofund_percent=percent)
            response = people["admin"].call("POST", "/api/v1/programs", body)
            assert response.status_code == 201, response.text
            self.program_id = response.json()["id"]
            self.threshold = threshold
            self.percent = percent
            self.proposals: list[int] = []
            self.pledges: list[tuple[int, int]] = []  # (proposal, pledge)

        def view(self, pid: int) -> dict[str, Any]:
            response = people["author"].call("GET", f"/api/v1/proposals/{pid}")
            assert response.status_code == 200, response.text
            return dict(response.json())

        @rule(cost=st.integers(1, 3_000_000), submit=st.booleans())
        def create(self, cost: int, submit: bool) -> None:
            body = proposal_body(self.program_id, cost=cost)
            response = people["author"].call("POST", "/api/v1/proposals", body)
            assert response.status_code == 201, response.text
            pid = response.json()["id"]
            self.proposals.append(pid)
            if submit:
                people["author"].call("POST", f"/api/v1/proposals/{pid}/submit")

        @rule(data=st.data(), steps=st.integers(1, 6))
        def advance(self, data: st.DataObject, steps: int) -> None:
            """The next legal steps for one proposal, so that runs get far along the road."""
            if not self.proposals:
                return
            pid = data.draw(st.sampled_from(self.proposals))
            base, phase = f"/api/v1/proposals/{pid}", f"/api/v1/programs/{self.program_id}/phase"
            for _ in range(steps):
                view = self.view(pid)
                status = view["status"]
                if status == "draft":
                    people["author"].call("POST", f"{base}/submit")
                elif status == "submitted":
                    people["admin"].call("POST", phase, {"phase": "support"})
                    for who in ("r1", "r2"):
                        people[who].call("POST", f"{base}/support")
                elif status == "in_review":
                    body = {"decision": "accept", "validated_cost": view["cost"]}
                    people["mod"].call("POST", f"{base}/review", body)
                elif status == "accepted":
                    missing = view["cofunding"]["required"] - view["cofunding"]["pledged"]
                    if missing > 0:
                        body = {"amount": missing}
                        response = people["r1"].call("POST", f"{base}/pledges", body)
                        if response.status_code == 201:
                            self.pledges.append((pid, response.json()["id"]))
                    else:
                        people["admin"].call("POST", phase, {"phase": "cofunding"})
                        self.to_ballot()
                elif status == "on_ballot":
                    self.result(data)
                elif status in {"won", "in_implementation"}:
                    body = {"stage": "completed", "date": "2031-01-01"}
                    people["admin"].call("POST", f"{base}/milestones", body)

        @rule(data=st.data(), who=st.sampled_from(NAMES))
        def submit(self, data: st.DataObject, who: str) -> None:
            if self.proposals:
                pid = data.draw(st.sampled_from(self.proposals))
                people[who].call("POST", f"/api/v1/proposals/{pid}/submit")

        @rule(data=st.data(), who=st.sampled_from(NAMES))
        def support(self, data: st.DataObject, who: str) -> None:
            if self.proposals:
                pid = data.draw(st.sampled_from(self.proposals))
                people[who].call("POST", f"/api/v1/proposals/{pid}/support")

        @rule(phase=st.sampled_from(PHASES), who=st.sampled_from(("admin", "mod")))
        def move_phase(self, phase: str, who: str) -> None:
            url = f"/api/v1/programs/{self.program_id}/phase"
            people[who].call("POST", url, {"phase": phase})

        @rule(data=st.data(), who=st.sampled_from(NAMES), amount=amounts, business=st.booleans())
        def pledge(self, data: st.DataObject, who: str, amount: int, business: bool) -> None:
            if not self.proposals:
                return
            pid = data.draw(st.sampled_from(self.proposals))
            body: dict[str, Any] = {"amount": amount}
            if business:
                mine = people[who].call("GET", "/api/v1/businesses")
                if mine.status_code == 200 and mine.json():
                    body["business"] = mine.json()[0]["id"]
            response = people[who].call("POST", f"/api/v1/proposals/{pid}/pledges", body)
            if response.status_code == 201:
                assert amount > 0
                self.pledges.append((pid, response.json()["id"]))

        @rule(data=st.data(), who=st.sampled_from(NAMES))
        def withdraw(self, data: st.DataObject, who: str) -> None:
            if self.pledges:
                pid, pledge = data.draw(st.sampled_from(self.pledges))
                url = f"/api/v1/proposals/{pid}/pledges/{pledge}/withdraw"
                people[who].call("POST", url)

        @rule(
            data=st.data(),
            who=st.sampled_from(NAMES),
            decision=st.sampled_from(["accept", "reject"]),
            cost=st.integers(-5, 2_000_000),
        )
        def review(self, data: st.DataObject, who: str, decision: str, cost: int) -> None:
            if self.proposals:
                pid = data.draw(st.sampled_from(self.proposals))
                body = {"decision": decision, "validated_cost": cost, "reason": "No"}
                people[who].call("POST", f"/api/v1/proposals/{pid}/review", body)

        @rule()
        def to_ballot(self) -> None:
            before = {pid: self.view(pid) for pid in self.proposals}
            election = {
                "id": f"prop-{next(_ids)}",
                "title": "E",
                "ballot": {"kind": "approval", "min_projects": 1, "max_projects": 1},
                "rule": {"name": "greedy"},
                "window": {"opens_at": "2030-01-01T00:00:00Z", "closes_at": "2030-02-01T00:00:00Z"},
                "eligibility": {"residents": True, "roll": False, "access_codes": False},
                "rsa_key_bits": 1024,
            }  # fmt: skip
            url = f"/api/v1/programs/{self.program_id}/elections"
            response = people["admin"].call(
                "POST", url, {"district": "centre", "election": election}
            )
            if response.status_code != 201:
                return
            event("an election was made from proposals")
            for entry in response.json()["projects"]:
                old = before[int(entry["proposal"])]
                funding = old["cofunding"]
                assert old["status"] == "accepted"
                assert old["supports"] >= self.threshold
                assert funding["pledged"] >= funding["required"]
                assert funding["required"] == -(-old["validated_cost"] * self.percent // 100)
                assert entry["cost"] == old["validated_cost"]

        @rule(data=st.data())
        def result(self, data: st.DataObject) -> None:
            on_ballot = [p for p in self.proposals if self.view(p)["status"] == "on_ballot"]
            if not on_ballot:
                return
            election = self.view(on_ballot[0])["election"]
            winners = data.draw(st.lists(st.sampled_from(on_ballot), unique=True))
            event("a result was applied")
            app.state.ballot_link.apply_winners(
                self.program_id, election, [f"proposal-{w}" for w in winners]
            )

        @rule(data=st.data(), who=st.sampled_from(NAMES), stage=st.sampled_from(
            ["planned", "contracted", "in_progress", "completed"]))  # fmt: skip
        def milestone(self, data: st.DataObject, who: str, stage: str) -> None:
            if self.proposals:
                pid = data.draw(st.sampled_from(self.proposals))
                body = {"stage": stage, "percent": 50, "date": "2031-01-01"}
                people[who].call("POST", f"/api/v1/proposals/{pid}/milestones", body)

        @invariant()
        def history_follows_the_table_and_totals_add_up(self) -> None:
            for pid in getattr(self, "proposals", []):
                view = self.view(pid)
                history = people["author"].call("GET", f"/api/v1/proposals/{pid}/history").json()
                status = "draft"
                for change in history:
                    assert change["from_status"] == status
                    assert (change["from_status"], change["to_status"]) in TRANSITIONS
                    status = change["to_status"]
                assert view["status"] == status
                event(f"reached {status}")
                pledges = people["author"].call("GET", f"/api/v1/proposals/{pid}/pledges").json()
                live = sum(p["amount"] for p in pledges if p["status"] == "live")
                assert view["cofunding"]["pledged"] == live
                assert all(p["amount"] > 0 for p in pledges)
                if view["status"] in {"won", "in_implementation", "completed"}:
                    assert all(p["status"] in {"due", "withdrawn"} for p in pledges)
                if view["status"] in {"lost", "rejected"}:
                    assert all(p["status"] in {"released", "withdrawn"} for p in pledges)

    return Proposals


@pytest.mark.slow
def test_sequences_of_calls(app: Litestar, settings: Settings, client: Client) -> None:
    setup_people(app, settings)
    people = log_in_all(client)
    business = people["r2"].call(
        "POST", "/api/v1/businesses", {"name": "Bakery", "inn": "7707083893"}
    )
    assert business.status_code == 201
    machine = machine_for(app, people)
    run_state_machine_as_test(
        machine,
        settings=settings_for_calls,
    )


settings_for_calls = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
