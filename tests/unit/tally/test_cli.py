"""``veche tally`` as the top-level CLI registers it (argparse)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tally.cli import add_tally_command, main
from tests.support.tally_data import DATA


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="veche")
    sub = parser.add_subparsers(dest="command", required=True)
    add_tally_command(sub)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_tally_uses_the_declared_rule_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["tally", str(DATA / "Netherlands_Assen_2024.pb")]) == 0
    out = capsys.readouterr().out
    assert "equalshares/add1" in out
    assert "Spent 76700 of 100000" in out
    assert "PopUp Podium" in out


def test_tally_json_lists_winner_ids(capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "Poland_Swiecie_2023.pb"
    assert run(["tally", str(path), "--rule", "greedy", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rule"] == "greedy"
    assert all(isinstance(w, str) for w in data["winners"])
    assert data["spent"] <= data["budget"]


def test_tally_options_override(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(DATA / "Netherlands_Assen_2024.pb")
    for extra in (
        ["--rule", "mes", "--satisfaction", "cardinality", "--completion", "add1-greedy"],
        ["--rule", "mes", "--completion", "none", "--comparison", "exclusion"],
        ["--rule", "phragmen", "--tie-break", "order"],
        ["--rule", "greedy-threshold", "--threshold", "20"],
        ["--rule", "approval"],
    ):
        assert run(["tally", path, *extra, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["winners"]


def test_tally_warns_on_stderr_about_a_vote_naming_a_project_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (DATA / "Netherlands_Assen_2024.pb").read_text()
    head, votes = text.split("VOTES\n")
    rows = votes.splitlines()
    voter, vote = rows[1].split(";")[:2]
    first = vote.split(",")[0]
    rows[1] = rows[1].replace(f";{vote}", f";{vote},{first}", 1)
    repeated = tmp_path / "repeated.pb"
    repeated.write_text(head + "VOTES\n" + "\n".join(rows) + "\n")
    line = head.count("\n") + 3  # VOTES, its header, the first vote
    assert run(["tally", str(repeated), "--json"]) == 0
    out = capsys.readouterr()
    assert out.err.splitlines() == [
        f"veche tally: warning: line {line}: the vote of voter {voter!r} names project "
        f"{first!r} more than once; each counts once"
    ]
    assert run(["tally", str(DATA / "Netherlands_Assen_2024.pb"), "--json"]) == 0
    clean = capsys.readouterr()
    assert clean.err == ""
    assert json.loads(out.out) == json.loads(clean.out)


def test_unknown_declared_rule_is_reported_not_guessed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = DATA / "US_Stanford_Dataset_PB_Cambridge_2019_vote_approvals.pb"
    assert run(["tally", str(path)]) == 2
    err = capsys.readouterr().err
    assert "unknown" in err
    assert len(err.strip().splitlines()) == 1


def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.pb"
    bad.write_bytes(b"META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n")
    assert run(["tally", str(bad)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert run(["tally", str(tmp_path / "missing.pb")]) == 2
    assert "cannot read" in capsys.readouterr().err
    # a rule that needs another ballot kind
    assert run(["tally", str(DATA / "Poland_Krakow_2024.pb"), "--rule", "mes"]) == 2
    assert "needs" in capsys.readouterr().err


def test_main_runs_the_command_on_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tally", str(DATA / "Poland_Swiecie_2023.pb"), "--rule", "greedy"]) == 0
    assert "Spent" in capsys.readouterr().out


def _python(
    code: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -c code args`` in a process of its own (this interpreter)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env
    )


def _last_line(code: str) -> str:
    """The last line ``code`` prints, run on Assen 2024 (``sys.argv[1]``), which succeeds."""
    done = _python(code, str(DATA / "Netherlands_Assen_2024.pb"))
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


def test_a_tally_imports_only_the_standard_library_and_msgspec() -> None:
    # The bottom layer: a whole ``veche tally`` (every rule module included) imports
    # nothing but the standard library, msgspec and the tally, which keeps it quick to
    # start; gmpy2 only when the add1 completion's many runs need it.
    code = (
        "import sys, pkgutil, tally, tally.cli\n"
        "for m in pkgutil.walk_packages(tally.__path__, 'tally.'): __import__(m.name)\n"
        "code = tally.cli.main(['tally', sys.argv[1], '--rule', 'mes', '--completion', 'none'])\n"
        "tops = {m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)\n"
        "print(code, sorted(tops - {'__main__', '_distutils_hack'}))\n"
    )
    # typing_extensions: msgspec's own dependency
    assert _last_line(code) == "0 ['msgspec', 'tally', 'typing_extensions']"


def _console(*args: str, columns: int | None = None) -> subprocess.CompletedProcess[str]:
    """``veche`` as its console script runs (``veche.cli.entry``), in a process; with
    ``columns``, in a terminal that wide (``COLUMNS``)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as usual
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return _python("from veche.cli import entry; entry()", *args, env=env)


@pytest.mark.parametrize("name", ["Netherlands_Assen_2024.pb", "Poland_Lodz_2022.pb"])
def test_the_console_script_ends_a_tally_with_all_its_output(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # ``veche tally`` ends without Python's teardown, so what it wrote must all be out
    # first. Standard output to a pipe keeps up to 8 KiB before writing: Assen's result
    # (2 KiB) would be lost whole without the flush, Łódź's (25 KiB) is one large write.
    path = str(DATA / name)
    assert main(["tally", path, "--rule", "greedy", "--json"]) == 0
    expected = capsys.readouterr().out
    done = _console("tally", path, "--rule", "greedy", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
    assert json.loads(done.stdout)["winners"]


def test_the_console_script_keeps_a_tally_failure_and_its_status(tmp_path: Path) -> None:
    done = _console("tally", str(tmp_path / "missing.pb"))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("veche tally: cannot read ")
    assert done.stderr.count("\n") == 1


def test_a_tally_finds_the_terminal_width_without_shutil() -> None:
    # argparse's own formatter imports shutil (and its archive modules) for the width,
    # at every parser; the tally's command line is built with one that does not.
    code = (
        "import sys\n"
        "from veche.cli import main\n"
        "code = main(['tally', sys.argv[1], '--rule', 'greedy'])\n"
        "print(code, 'shutil' in sys.modules)\n"
    )
    assert _last_line(code) == "0 False"


@pytest.mark.parametrize("columns", [50, 120])
def test_the_tally_help_fits_the_terminal_width(columns: int) -> None:
    done = _console("tally", "--help", columns=columns)
    assert done.returncode == 0
    options = done.stdout.split("\noptions:\n")[1].splitlines()  # the description is as written
    assert any("--satisfaction {cost,cardinality}" in line for line in options)
    # argparse wraps at the width less two columns; a choice list it cannot break is longer
    wrapped = [line for line in options if "greedy-no-skip" not in line]
    assert max(map(len, wrapped)) <= columns - 2
    assert max(map(len, wrapped)) > min(columns, 80) * 2 // 3  # it uses the width it has
