"""``veche election`` on a local data directory, as an operator runs it: the election's
whole administration from the command line, on SQLite and on PostgreSQL."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kernel.settings import Settings
from tests.support.paths import EXAMPLE_ELECTION
from veche.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_election_commands_on_a_local_data_directory(
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = ("--data-dir", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("VECHE_DATABASE_URL", settings.database_url)
    code, out, err = run(
        capsys,
        "election",
        "create",
        str(EXAMPLE_ELECTION),
        "--opens-at",
        "now",
        "--closes-at",
        "+1d",
        *data,
    )
    assert code == 0, err
    assert "riverside-2027" in out

    code, _, err = run(capsys, "election", "create", str(EXAMPLE_ELECTION), *data)
    assert code == 1
    assert err.strip().endswith("(election_exists)")

    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE_ELECTION.read_text().replace("budget = 250_000_000", "budget = 0"))
    code, _, err = run(capsys, "election", "create", str(bad), *data)
    assert code == 1
    assert "Traceback" not in err
    assert err.startswith("veche: error: budget: ")

    code, out, _ = run(capsys, "election", "list", *data)
    assert code == 0
    assert "riverside-2027" in out and "draft" in out

    roll = tmp_path / "roll.csv"
    roll.write_text("voter_id,email\nA1,a1@example.org\nA2,\n")
    code, out, err = run(capsys, "election", "roll", "riverside-2027", str(roll), *data)
    assert code == 0, err
    assert "Added 2 voters" in out
    roll.write_text("voter_id\nA1\n")
    code, _, err = run(capsys, "election", "roll", "riverside-2027", str(roll), *data)
    assert code == 1
    assert "line 2" in err and "(bad_roll)" in err

    codes = tmp_path / "codes.csv"
    code, out, err = run(capsys, "election", "codes", "riverside-2027", "--out", str(codes), *data)
    assert code == 0, err
    assert stat.S_IMODE(codes.stat().st_mode) == 0o600
    lines = codes.read_text().strip().split("\n")
    assert lines[0] == "voter_id,access_code"
    assert [line.split(",")[0] for line in lines[1:]] == ["A1", "A2"]
    code, _, err = run(capsys, "election", "codes", "riverside-2027", "--out", str(codes), *data)
    assert code == 1
    assert "exists" in err

    code, out, err = run(capsys, "election", "open", "riverside-2027", *data)
    assert code == 0, err
    assert "manifest:" in out

    # Open: the roll is frozen; voters are added only with a reason, which is logged.
    roll.write_text("voter_id\nA3\n")
    code, _, err = run(capsys, "election", "roll", "riverside-2027", str(roll), *data)
    assert code == 1
    assert "(electorate_frozen)" in err
    late = tmp_path / "late.csv"
    code, out, err = run(
        capsys,
        "election",
        "add-voters",
        "riverside-2027",
        str(roll),
        "--reason",
        "Left off the roll by mistake",
        "--out",
        str(late),
        *data,
    )
    assert code == 0, err
    assert "Added 1 voters" in out and "electorate.added" in out
    assert late.read_text().split("\n")[1].startswith("A3,")
    assert stat.S_IMODE(late.stat().st_mode) == 0o600

    # The window runs for a day: closing now is refused unless it is an early close.
    code, _, err = run(capsys, "election", "close", "riverside-2027", *data)
    assert code == 1
    assert err.strip().endswith("(window_open)")
    code, _, err = run(capsys, "election", "close", "riverside-2027", "--early", *data)
    assert code == 1
    assert err.strip().endswith("(reason_required)")
    code, _, err = run(capsys, "election", "close", "riverside-2027", "--reason", "Flood", *data)
    assert code == 1
    assert "--early" in err
    reason = "Flooding in the district: the polling stations are shut"
    early = ("--early", "--reason", reason)
    code, out, err = run(capsys, "election", "close", "riverside-2027", *early, *data)
    assert code == 0, err
    assert "closed" in out
    export = tmp_path / "export"
    code, _, err = run(capsys, "export", "log", str(export), *data)
    assert code == 0, err
    closes = [
        line
        for line in (export / "entries.ndjson").read_text().splitlines()
        if '"kind":"election.closed"' in line
    ]
    assert len(closes) == 1 and f'"reason":"{reason}"' in closes[0]
    code, _, err = run(capsys, "election", "close", "riverside-2027", *data)
    assert code == 1
    assert err.strip().endswith("(not_open)")
    code, _, err = run(capsys, "election", "open", "nope", *data)
    assert code == 1
    assert err.count("\n") == 1 and "(no_such_election)" in err
