"""Counting and publishing over HTTP on SQLite and PostgreSQL, checked against the log,
the exported Pabulib file, and pabutools."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from audit.core.canonical import b64url_decode
from audit.core.entry import parse_entry
from ballot.core import kinds, record
from kernel.settings import Settings
from tally import compute, read_pb
from tests.support.accounts import Client, login
from tests.support.elections import log_lines, run_election
from tests.support.tally_oracle import Oracle
from veche.kinds import entry_kinds

KINDS = entry_kinds()


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
