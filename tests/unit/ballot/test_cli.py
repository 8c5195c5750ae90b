"""``veche election`` on a local SQLite data directory, and the pure helpers of ``veche vote``."""

from __future__ import annotations

import argparse
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ballot.cli.admin import parse_moment, read_config_file
from ballot.cli.common import Refusal
from ballot.cli.vote import default_wallet_path, parse_choices
from ballot.core.config import parse_config, validate_config
from tests.conftest import ROOT
from veche.cli import main

EXAMPLE = ROOT / "examples" / "election.toml"


def test_the_example_configuration_is_complete_and_valid() -> None:
    data = read_config_file(EXAMPLE)
    config = parse_config(data)
    assert validate_config(config) == []
    assert data["ballot"]["max_total_cost"] == data["budget"]
    assert data["rule"] == {"name": "mes", "satisfaction": "cost", "completion": "add1"}
    assert set(data["eligibility"]) == {"residents", "roll", "access_codes"}


def test_toml_times_must_be_quoted(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace('opens_at = "2027-03-01T06:00:00Z"', "opens_at = 2027-03-01")
    path = tmp_path / "e.toml"
    path.write_text(text)
    with pytest.raises(Refusal) as refused:
        read_config_file(path)
    assert refused.value.lines == (
        "window.opens_at: write the time as a quoted string, RFC 3339 UTC, "
        'e.g. "2027-03-01T06:00:00Z"',
    )


def test_json_and_unreadable_files(tmp_path: Path) -> None:
    good = tmp_path / "e.json"
    good.write_text('{"id": "x"}')
    assert read_config_file(good) == {"id": "x"}
    listed = tmp_path / "l.json"
    listed.write_text("[1]")
    with pytest.raises(Refusal, match="one object"):
        read_config_file(listed)
    broken = tmp_path / "b.toml"
    broken.write_text("id = ")
    with pytest.raises(Refusal, match="not valid TOML"):
        read_config_file(broken)
    with pytest.raises(Refusal, match="cannot read"):
        read_config_file(tmp_path / "missing.toml")


def test_moments() -> None:
    now = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
    assert parse_moment("now", now) == "2026-11-23T10:00:00Z"
    assert parse_moment("+90m", now) == "2026-11-23T11:30:00Z"
    assert parse_moment("+2h", now) == "2026-11-23T12:00:00Z"
    assert parse_moment("+14d", now) == "2026-12-07T10:00:00Z"
    assert parse_moment("2027-01-01T00:00:00Z", now) == "2027-01-01T00:00:00Z"


def choices(**given: str) -> argparse.Namespace:
    base = {"approve": None, "points": None, "rank": None, "choose": None}
    return argparse.Namespace(**{**base, **given})


def test_choices_from_options() -> None:
    assert parse_choices(choices(approve="park, library")) == {"approve": ["park", "library"]}
    assert parse_choices(choices(points="p1=3,p2=2")) == {"points": {"p1": 3, "p2": 2}}
    assert parse_choices(choices(rank="p3,p1")) == {"rank": ["p3", "p1"]}
    assert parse_choices(choices(choose="o1")) == {"choose": ["o1"]}
    for bad in ({"approve": "park,,x"}, {"points": "p1=x"}, {"points": "p1=1,p1=2"}):
        with pytest.raises(Refusal):
            parse_choices(choices(**bad))


def test_wallet_path() -> None:
    env = {"XDG_DATA_HOME": "/data"}
    assert default_wallet_path("https://Vote.Example.org/", "c-1", env) == Path(
        "/data/veche/wallets/vote.example.org/c-1.json"
    )
    assert default_wallet_path("http://127.0.0.1:8000", "c-1", env) == Path(
        "/data/veche/wallets/127.0.0.1_8000/c-1.json"
    )
    assert default_wallet_path("http://h", "c", {}).parts[-5:-2] == ("share", "veche", "wallets")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_election_commands_on_a_local_data_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ("--data-dir", str(tmp_path / "var"))
    code, out, err = run(
        capsys, "election", "create", str(EXAMPLE), "--opens-at", "now", "--closes-at", "+1d", *data
    )
    assert code == 0, err
    assert "riverside-2027" in out

    code, _, err = run(capsys, "election", "create", str(EXAMPLE), *data)
    assert code == 1
    assert err.strip().endswith("(election_exists)")

    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace("budget = 250_000_000", "budget = 0"))
    code, _, err = run(capsys, "election", "create", str(bad), *data)
    assert code == 1
    assert "Traceback" not in err
    assert err.startswith("veche: error: budget: ")

    code, out, _ = run(capsys, "election", "list", *data)
    assert code == 0
    assert "riverside-2027" in out and "draft" in out

    code, out, err = run(capsys, "election", "open", "riverside-2027", *data)
    assert code == 0, err
    assert "manifest:" in out

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

    code, out, err = run(capsys, "election", "close", "riverside-2027", *data)
    assert code == 0, err
    assert "closed" in out
    code, _, err = run(capsys, "election", "close", "riverside-2027", *data)
    assert code == 1
    assert err.strip().endswith("(not_open)")
    code, _, err = run(capsys, "election", "open", "nope", *data)
    assert code == 1
    assert err.count("\n") == 1 and "(no_such_election)" in err


@pytest.mark.slow
def test_the_cast_benchmark_runs_on_a_small_load(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "bench",
        "cast",
        "--skip-postgres",
        "--workers",
        "1",
        "--voters",
        "6",
        "--ballots",
        "12",
        "--concurrency",
        "1,4",
        "--credential-concurrency",
        "3",
    )
    assert code == 0
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("SQLite")]
    assert len(rows) == 3  # two ballot loads and one credential load
    assert all(row[4] == "0" for row in rows), out  # no failures
