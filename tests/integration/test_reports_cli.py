"""``veche reports`` on a local data directory: the configuration from the example TOML
file, a boundary, staff, closing unrated answers and the statistics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kernel.settings import Settings
from tests.support.paths import ROOT
from tests.support.reports import BOUNDARIES
from veche import setup
from veche.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_reports_commands(
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = ("--data-dir", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("VECHE_DATABASE_URL", settings.database_url)
    engine = setup.initialize(settings)
    setup.add_districts(settings, engine, setup.DEMO_DISTRICTS)
    setup.create_user(
        settings,
        engine,
        setup.NewUser("crew@example.org", "meadow-lantern-42", "Crew", "resident", "centre"),
    )
    engine.dispose()
    code, out, err = run(
        capsys, "reports", "config", str(ROOT / "examples" / "reports.toml"), *data
    )
    assert code == 0, err
    assert out.strip() == "10 categories, 6 routing rules."
    area = tmp_path / "centre.geojson"
    area.write_text(BOUNDARIES["centre"])
    assert run(capsys, "reports", "boundary", "centre", str(area), *data)[0] == 0
    code, out, err = run(capsys, "reports", "staff", "crew@example.org", "roads-dept", *data)
    assert code == 0 and "roads-dept" in out, err
    code, _out, err = run(capsys, "reports", "staff", "crew@example.org", "nobody", *data)
    assert code == 1 and "no such organisation" in err
    bad = tmp_path / "bad.toml"
    bad.write_text("[[category]]\ncode = 'a'\nparent = 'a'\ntitle_en = 'A'\n")
    code, _out, err = run(capsys, "reports", "config", str(bad), *data)
    assert code == 1 and "circle" in err
    assert run(capsys, "reports", "close-unrated", *data)[1].startswith("Closed 0")
    code, out, _err = run(capsys, "reports", "statistics", *data)
    assert json.loads(out)["reports"] == 0
