"""The catalogs cover every message in the code and templates, and language choice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from kernel import i18n

ROOT = Path(__file__).resolve().parents[2]


def _ids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id and isinstance(m.id, str)}


def test_catalog_template_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "NP_:1,2",
            "-o",
            str(fresh),
            "--no-location",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert _ids(fresh) == _ids(ROOT / "kernel/locale/messages.pot"), (
        "run 'make catalogs' and translate the new messages"
    )


def test_every_message_has_a_russian_translation() -> None:
    with (ROOT / "kernel/locale/ru/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="ru")
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert untranslated == []
    assert _ids(ROOT / "kernel/locale/messages.pot") <= {m.id for m in catalog if m.id}


def test_translations_load() -> None:
    assert i18n.translate("ru", "Log in") == "Войти"
    assert i18n.translate("en", "Log in") == "Log in"
    assert i18n.translate("ru", "a message nobody wrote") == "a message nobody wrote"


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "en"),
        (None, "ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        (None, "de-DE,de;q=0.9,ru;q=0.5", "ru"),
        (None, "en;q=0.4,ru;q=0.7", "ru"),
        (None, "ru;q=0,en", "en"),
        ("ru", "en", "ru"),
        ("xx", "ru", "ru"),
        (None, "garbage;;q=abc,,", "en"),
    ],
)
def test_pick_language(cookie: str | None, header: str | None, expected: str) -> None:
    assert i18n.pick_language(cookie, header, "en") == expected


def test_a_time_zone_is_named_by_its_city_and_offset() -> None:
    from kernel.i18n import zone_name

    assert zone_name("ru", "Europe/Moscow") == "Москва, UTC+3"  # no daylight saving since 2014
    assert zone_name("en", "Europe/Moscow") == "Moscow, UTC+3"
    assert zone_name("en", "Asia/Kolkata") == "Kolkata, UTC+5:30"
    assert zone_name("en", "America/St_Johns").startswith("St. John’s, UTC-")
    assert zone_name("ru", "UTC") == "UTC"
