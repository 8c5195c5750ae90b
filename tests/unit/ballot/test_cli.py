"""The pure helpers of ``veche election`` and ``veche vote``: reading a configuration
file, times, choices, where the wallet goes."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ballot.cli.admin import parse_moment, read_config_file
from ballot.cli.common import Refusal
from ballot.cli.vote import default_wallet_path, parse_choices
from ballot.core.config import parse_config
from ballot.core.config_checks import validate_config
from tests.support.paths import EXAMPLE_ELECTION


def test_the_example_configuration_is_complete_and_valid() -> None:
    data = read_config_file(EXAMPLE_ELECTION)
    config = parse_config(data)
    assert validate_config(config) == []
    assert data["ballot"]["max_total_cost"] == data["budget"]
    assert data["rule"] == {"name": "mes", "satisfaction": "cost", "completion": "add1"}
    assert set(data["eligibility"]) == {"residents", "roll", "access_codes"}


def test_toml_times_must_be_quoted(tmp_path: Path) -> None:
    text = EXAMPLE_ELECTION.read_text().replace(
        'opens_at = "2027-03-01T06:00:00Z"', "opens_at = 2027-03-01"
    )
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


def test_survey_answers_from_json_or_a_file(tmp_path: Path) -> None:
    given = {"transport": "bike", "satisfaction": 4, "comment": "Больше деревьев"}
    text = json.dumps(given, ensure_ascii=False)
    assert parse_choices(choices(answers=text)) == {"answers": given}
    path = tmp_path / "answers.json"
    path.write_text(text, encoding="utf-8")
    assert parse_choices(choices(answers=f"@{path}")) == {"answers": given}
    for bad in ("[1]", "{not json", f"@{tmp_path / 'missing.json'}"):
        with pytest.raises(Refusal):
            parse_choices(choices(answers=bad))
