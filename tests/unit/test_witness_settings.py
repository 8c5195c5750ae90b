"""The witnesses setting (docs/protocol.md §15.7): a list in TOML or ';'-separated in the
environment, each 'URL VKEY'; a policy that cannot be met is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.core.cosignature import witness_key
from kernel.settings import SettingsError, load_settings

VKEY_A = witness_key("w.test/a", b"\x01" * 32)
VKEY_B = witness_key("w.test/b", b"\x02" * 32)


def test_environment_list_and_policy() -> None:
    env = {
        "VECHE_WITNESSES": f"http://a.test/ {VKEY_A}; https://b.test/w {VKEY_B}",
        "VECHE_WITNESS_POLICY": "2",
    }
    settings = load_settings(env)
    assert settings.witnesses == (f"http://a.test/ {VKEY_A}", f"https://b.test/w {VKEY_B}")
    assert settings.witness_policy == 2 and settings.witness_interval_ms == 200


def test_toml_list(tmp_path: Path) -> None:
    (tmp_path / "veche.toml").write_text(
        f'witnesses = ["http://a.test/ {VKEY_A}"]\nwitness_policy = 1\n', encoding="utf-8"
    )
    settings = load_settings({}, overrides={"data_dir": tmp_path})
    assert settings.witnesses == (f"http://a.test/ {VKEY_A}",)


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"VECHE_WITNESSES": VKEY_A}, "witnesses"),
        ({"VECHE_WITNESSES": f"a.test {VKEY_A}"}, "witnesses"),
        ({"VECHE_WITNESSES": f"http://a.test/ {VKEY_A}", "VECHE_WITNESS_POLICY": "2"}, "policy"),
        ({"VECHE_WITNESS_POLICY": "1"}, "policy"),
        ({"VECHE_WITNESS_INTERVAL_MS": "0"}, "interval"),
    ],
)
def test_unusable_witness_settings_are_refused(env: dict[str, str], match: str) -> None:
    with pytest.raises(SettingsError, match=match):
        load_settings(env)
