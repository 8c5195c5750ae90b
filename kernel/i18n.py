"""Languages: gettext catalogs for Russian and English, one Jinja2 environment each.

The catalogs are the ``.po`` files in ``kernel/locale``; they are compiled in memory at
start-up, so no build step is needed. The language of a request is chosen by the
``veche_lang`` cookie (set by the switch in the page header), then by
``Accept-Language``, then the deployment's default. English text is the message id,
so an untranslated message shows in English rather than as a key.
"""

from __future__ import annotations

import gettext
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_datetime, get_timezone, get_timezone_location
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_precision,
    get_currency_symbol,
)
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

LANGUAGES = ("en", "ru")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
LOCALE_DIR = Path(__file__).parent / "locale"
TEMPLATES_DIR = Path(__file__).parent / "templates"
LANG_COOKIE = "veche_lang"
# A recorded value that is a code rather than words (a status, a district's code, an
# id, a hash): shown as code on the pages, never translated.
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:/+=-]+")


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
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    env.filters["number"] = lambda value: number(lang, value)
    env.filters["money"] = lambda minor, currency="RUB": money(lang, minor, currency)
    env.filters["datetime"] = _datetime_filter(lang, "medium")
    env.filters["date"] = _datetime_filter(lang, "date")
    env.filters["label"] = lambda text: label(lang, text)
    env.filters["sign"] = lambda currency: currency_sign(lang, currency or "RUB")
    env.filters["zone"] = lambda name: zone_name(lang, name)
    env.tests["identifier_like"] = lambda text: bool(_IDENTIFIER.fullmatch(str(text)))
    env.globals["plural"] = lambda singular, plural_, n, **kw: plural(
        lang, singular, plural_, n, **kw
    )
    return env


def translate(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


# --- formats: numbers, money, dates and plurals through Babel, in the page's language ---


def number(lang: str, value: int | Fraction | Decimal | str | None) -> str:
    """A number in the language's notation: ``1 234 567`` in Russian, ``1,234,567`` in
    English. Fractions are shown to two decimal places (exact decimal arithmetic)."""
    if value is None or value == "":
        return ""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
        value = value.quantize(Decimal("0.01"))
    elif isinstance(value, str):
        value = Decimal(value)
    return format_decimal(value, locale=lang)


def currency_sign(lang: str, currency: str) -> str:
    """The currency's sign (₽, €); where the language has none but the code, the sign
    the Russian locale uses, then the code."""
    sign = get_currency_symbol(currency, locale=lang)
    if sign == currency:
        sign = get_currency_symbol(currency, locale="ru")
    return sign


def money(lang: str, minor: int | Fraction | None, currency: str = "RUB") -> str:
    """Minor units (kopecks) as an amount with the currency's sign: ``1 234 ₽`` in
    Russian, ``₽1,234`` in English; kopecks shown only when there are any. A fraction of a
    minor unit (an equal share, a price per voter) is rounded down and marked ``≈``."""
    if minor is None or minor == "":
        return ""
    value = Fraction(minor)
    approx = value.denominator != 1
    whole = value.numerator // value.denominator
    digits = get_currency_precision(currency)
    amount = Decimal(whole).scaleb(-digits)
    pattern = Locale.parse(lang).currency_formats["standard"].pattern
    pattern = pattern.split(";")[0]
    if amount == amount.to_integral_value():
        pattern = pattern.replace("0.00", "0")
        amount = amount.quantize(Decimal(1))
    sign = currency_sign(lang, currency).replace("'", "''")
    pattern = pattern.replace("¤", f"'{sign}'")
    text = format_currency(amount, currency, format=pattern, locale=lang, currency_digits=False)
    return ("≈" if approx else "") + text


def percent(lang: str, part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage to one decimal place, rounded down."""
    if whole <= 0:
        return "—"
    tenths = part * 1000 // whole
    return format_percent(Decimal(tenths).scaleb(-3), format="#,##0.0%", locale=lang)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def moment(value: int | str | datetime) -> datetime | None:
    """Unix seconds, an ISO 8601 text (``…Z``) or a datetime, as an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        text = value.removesuffix(" UTC") + ("+00:00" if value.endswith(" UTC") else "")
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def when(lang: str, value: Any, time_zone: str | None, style: str = "medium") -> str:
    """A moment in the municipality's time zone, in the language's words: a date and a
    time with the zone's name (``7 дек. 2026 г., 19:00 MSK``), or a date alone."""
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-":
        try:  # a calendar date ("2026-12-07") is the same day everywhere
            return format_date(date.fromisoformat(value), format="medium", locale=lang)
        except ValueError:
            return value
    at = moment(value)
    if at is None:
        return "" if value is None else str(value)
    tz = zone(time_zone)
    if style == "date":
        return format_date(at.astimezone(tz).date(), format="medium", locale=lang)
    # The seconds add nothing to a page; the zone is said once, short.
    text = format_datetime(at, format=_no_seconds(lang), tzinfo=tz, locale=lang)
    return f"{text} {_zone_label(at, tz)}"


def _no_seconds(lang: str) -> str:
    loc = Locale.parse(lang)
    date = loc.date_formats["medium"].pattern
    time = loc.time_formats["short"].pattern
    joined = str(loc.datetime_formats["medium"])
    return joined.replace("{1}", date).replace("{0}", time)


def _zone_label(at: datetime, tz: ZoneInfo) -> str:
    if tz.key == "UTC":
        return "UTC"
    local = at.astimezone(tz)
    label = local.tzname() or ""
    if label[:1] in "+-" or not label:
        offset = local.utcoffset()
        minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
        sign = "+" if minutes >= 0 else "-"
        hours, mins = divmod(abs(minutes), 60)
        label = f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")
    return label


def zone_name(lang: str, name: str | None) -> str:
    """A time zone as a reader names it: its city in the reader's language and its offset
    now (``Москва, UTC+3``; ``Berlin, UTC+1``); ``UTC`` for UTC."""
    tz = zone(name)
    if tz.key == "UTC":
        return "UTC"
    now = datetime.now(UTC).astimezone(tz)
    offset = now.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    city = get_timezone_location(get_timezone(tz.key), locale=lang, return_city=True)
    return f"{city}, UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")


def _datetime_filter(lang: str, style: str) -> Any:
    @pass_context
    def apply(context: Context, value: Any) -> str:
        return when(lang, value, context.get("time_zone"), style)

    return apply


def NP_(singular: str, plural_: str) -> tuple[str, str]:
    """Marks a message with a plural form for extraction (``-k NP_:1,2``); unchanged."""
    return singular, plural_


def plural(lang: str, singular: str, plural_: str, n: int, **values: Any) -> str:
    """``ngettext`` with ``%(num)s`` filled by the number in the language's notation:
    "1 voter", "2 voters"; Russian has three forms. The result is plain text."""
    text = translations(lang).ngettext(singular, plural_, n)
    return text % {"num": number(lang, n), **values}


def label(lang: str, text: str | None) -> str:
    """A name the municipality wrote in both languages, ``English / Русский``: the part
    in the page's language; any other name as it is."""
    if not text:
        return ""
    parts = [part.strip() for part in str(text).split(" / ")]
    if len(parts) == len(LANGUAGES) and all(parts):
        return parts[LANGUAGES.index(lang)]
    return str(text)
