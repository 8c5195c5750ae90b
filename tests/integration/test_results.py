"""Counting and publishing over HTTP on SQLite and PostgreSQL, checked against the log,
the exported Pabulib file, and pabutools."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from audit.core.canonical import b64url_decode
from audit.core.entry import parse_entry
from ballot.core import kinds, record
from ballot.core.client import VoterClient
from kernel.settings import Settings
from tally import compute, read_pb
from tests.integration.test_elections import PASSWORD, config, log_lines, login
from tests.unit.tally.oracle import Oracle
from veche.setup import DEMO_DISTRICTS, NewUser, add_districts, create_user
from veche.wiring import entry_kinds

KINDS = entry_kinds()

Client = TestClient[Litestar]

PROJECTS = [
    {"id": "park", "title": "Park", "cost": 400_000},
    {"id": "library", "title": "Library", "cost": 350_000},
    {"id": "playground", "title": "Playground", "cost": 300_000},
    {"id": "bench", "title": "Benches", "cost": 50_000},
    {"id": "lights", "title": "Street lights", "cost": 250_000},
]


def run_election(
    client: Client, app: Litestar, settings: Settings, rule: dict[str, Any], voters: int = 40
) -> tuple[str, list[dict[str, Any]]]:
    add_districts(settings, app.state.engine, DEMO_DISTRICTS)
    create_user(settings, app.state.engine, NewUser("admin@example.org", PASSWORD, "A", "admin"))
    admin = login(client, "admin@example.org")
    cfg = config(
        projects=PROJECTS,
        rule=rule,
        ballot={"kind": "approval", "min_projects": 1, "max_projects": 5},
        eligibility={"residents": False, "roll": True, "access_codes": True},
    )
    assert client.post("/api/v1/elections", json=cfg, headers=admin).status_code == 201
    roll = "voter_id\n" + "\n".join(f"V{k}" for k in range(voters)) + "\n"
    assert (
        client.post(
            f"/api/v1/elections/{cfg['id']}/roll",
            content=roll.encode(),
            headers={**admin, "content-type": "text/csv"},
        ).status_code
        == 201
    )
    assert client.post(f"/api/v1/elections/{cfg['id']}/open", headers=admin).status_code == 200
    codes = client.post(f"/api/v1/elections/{cfg['id']}/access-codes", headers=admin).text
    rows = [line.split(",") for line in codes.strip().split("\n")[1:]]
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(cfg["id"], allow_test_keys=True)
    rng = random.Random(11)
    choices_made = []
    for _ref, code in rows:
        wallet = voter.obtain_credential(info, access_code=code)
        picks = rng.sample([p["id"] for p in PROJECTS], rng.randint(1, 3))
        voter.cast(info, wallet, {"approve": picks})
        if rng.random() < 0.2:  # some change their minds; the last ballot counts
            picks = rng.sample([p["id"] for p in PROJECTS], rng.randint(1, 3))
            voter.cast(info, wallet, {"approve": picks})
        choices_made.append({"approve": picks})
    admin = login(client, "admin@example.org")
    assert client.post(f"/api/v1/elections/{cfg['id']}/close", headers=admin).status_code == 200
    return str(cfg["id"]), choices_made


@pytest.mark.parametrize(
    "rule",
    [
        {"name": "greedy"},
        {"name": "mes", "satisfaction": "cost", "completion": "add1"},
    ],
)
def test_published_result_is_what_anyone_recomputes(
    client: Client, app: Litestar, settings: Settings, rule: dict[str, Any]
) -> None:
    election_id, choices_made = run_election(client, app, settings, rule)
    admin = login(client, "admin@example.org")
    assert client.get(f"/api/v1/elections/{election_id}/result").status_code == 404
    published = client.post(f"/api/v1/elections/{election_id}/tally", headers=admin)
    assert published.status_code == 201, published.text
    view = published.json()
    assert view["counted"] == len(choices_made)
    assert view["spent"] <= view["budget"]
    again = client.post(f"/api/v1/elections/{election_id}/tally", headers=admin)
    assert again.status_code == 409
    assert client.get(f"/api/v1/elections/{election_id}/result").json() == view

    # From the log alone: the same count and the same signed result.
    entries = [parse_entry(line, KINDS) for line in log_lines(client)]
    records, orphans = record.gather(entries)
    assert orphans == []
    rec = records[view["election"]]
    counted = record.count(rec)
    assert counted.rejected == []
    last_choices = sorted(sorted(choices.approve) for _s, _c, choices, _sig in counted.counted)
    assert last_choices == sorted(sorted(c["approve"]) for c in choices_made)
    result_entry = entries[view["seq"]]
    body = result_entry.body
    assert isinstance(body, kinds.ResultPublished)
    kinds.verify_result_signature(app.state.authority_key.public_key().public_bytes_raw(), body)
    outcome = record.compute_outcome(rec, counted, b64url_decode(body.lot_secret))
    assert outcome.winners == body.winners == view["winners"]
    assert outcome.spent == body.spent

    # The exported Pabulib file gives the same winners to Veche's tally.
    exported = client.get(f"/api/v1/elections/{election_id}/export.pb")
    assert exported.status_code == 200
    pf = read_pb(exported.content)
    assert len(pf.ballots) == len(choices_made)
    from_file = record.rule_config(rec.manifest, bytes.fromhex(pf.meta["veche_lot_seed"]))
    assert compute(pf.election, pf.ballots, from_file).winners == view["winners"]

    # And pabutools, the reference implementation (test-only), agrees.
    oracle = Oracle(pf.election, pf.ballots, bytes.fromhex(pf.meta["veche_lot_seed"]))
    expected = oracle.greedy() if rule["name"] == "greedy" else oracle.mes("cost", add1=True)
    assert sorted(expected) == sorted(view["winners"])


def test_veche_tally_on_the_export_gives_the_published_result(
    client: Client, app: Litestar, settings: Settings, tmp_path: Path
) -> None:
    election_id, _choices = run_election(
        client, app, settings, {"name": "mes", "satisfaction": "cost", "completion": "add1"}
    )
    admin = login(client, "admin@example.org")
    view = client.post(f"/api/v1/elections/{election_id}/tally", headers=admin).json()
    exported = tmp_path / "election.pb"
    exported.write_bytes(client.get(f"/api/v1/elections/{election_id}/export.pb").content)
    done = subprocess.run(
        [sys.executable, "-m", "veche.cli", "tally", str(exported), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["winners"] == view["winners"]
