"""Languages: gettext catalogs for Russian and English, one Jinja2 environment each.

The catalogs are the ``.po`` files in ``kernel/locale``; they are compiled in memory at
start-up, so no build step is needed. The language of a request is chosen by the
``veche_lang`` cookie (set by the switch in the page header), then by
``Accept-Language``, then the deployment's default. English text is the message id,
so an untranslated message shows in English rather than as a key.
"""

from __future__ import annotations

import gettext
from decimal import Decimal
from functools import cache, partial
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from jinja2 import Environment, FileSystemLoader, select_autoescape

LANGUAGES = ("en", "ru")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
LOCALE_DIR = Path(__file__).parent / "locale"
TEMPLATES_DIR = Path(__file__).parent / "templates"
LANG_COOKIE = "veche_lang"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def pick_language(cookie: str | None, accept_language: str | None, default: str) -> str:
    if cookie is not None and cookie in LANGUAGES:
        return cookie
    for lang, _q in _parse_accept_language(accept_language or ""):
        base = lang.split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return default


def _parse_accept_language(header: str) -> list[tuple[str, int]]:
    """Language ranges by preference; q-values compared as thousandths, not floats."""
    ranges: list[tuple[str, int]] = []
    for part in header.split(","):
        piece = part.strip()
        if not piece:
            continue
        lang, _, params = piece.partition(";")
        quality = 1000
        params = params.strip()
        if params.startswith("q="):
            value = params[2:].strip()
            whole, _, frac = value.partition(".")
            if whole in {"0", "1"} and (frac.isdigit() or frac == ""):
                quality = int(whole) * 1000 + int((frac + "000")[:3] or 0)
                quality = min(quality, 1000)
            else:
                quality = 0
        if quality > 0:
            ranges.append((lang.strip(), quality))
    ranges.sort(key=lambda item: -item[1])
    return ranges


@cache
def jinja_env(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    # ``_()`` takes fixed strings only: its result is trusted markup and is not escaped.
    # A message the code chooses (a status, a form error that may quote what was typed)
    # goes through ``|tr``: translated if the catalog knows it, always plain text, so
    # autoescaping applies. User and administrator text is neither: it is escaped only.
    env.filters["tr"] = translations(lang).gettext
    env.filters["money"] = partial(format_money, lang=lang)
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    return env


def format_money(minor: int, currency: str = "RUB", *, lang: str) -> str:
    """An amount in minor units as the language writes money ("1 500 000 ₽",
    "RUB 1,500,000.50"): whole amounts without the minor digits. Exact (``Decimal``)."""
    digits = 2
    if minor % 10**digits:
        return format_currency(Decimal(minor) / 10**digits, currency, locale=lang)
    pattern = Locale.parse(lang).currency_formats["standard"].pattern.replace(".00", "")
    return format_currency(
        minor // 10**digits, currency, format=pattern, locale=lang, currency_digits=False
    )


def translate(lang: str, message: str) -> str:
    return translations(lang).gettext(message)
