"""The suite's own layout: what tests share lives in ``tests/support`` (and strategies in
``tests/strategies``); no test module, conftest included, imports another test module or
a conftest, so that each can be read, moved or run alone."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

TESTS = ROOT / "tests"
SHARED = ("tests.support", "tests.strategies")


def _imported(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_no_test_imports_another_test_module() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for name in _imported(path)
        if name.startswith("tests.") and not name.startswith(SHARED)
    ]
    assert wrong == []


def test_the_check_sees_an_import_of_a_test_module(tmp_path: Path) -> None:
    module = tmp_path / "test_example.py"
    module.write_text("from tests.e2e.test_js_crypto import ORIGIN\nimport tests.unit.x\n")
    assert _imported(module) == ["tests.e2e.test_js_crypto", "tests.unit.x"]
