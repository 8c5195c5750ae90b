"""What the election pages share: numbers for people (money, shares) in the reader's
language, the manifest an election shows, and the elections residents may see."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import msgspec
from litestar import Request
from sqlalchemy.orm import Session

from ballot.services.elections import ElectionService
from ballot.services.errors import ElectionNotFound
from ballot.services.models import Election
from kernel import i18n


def money(amount: int | Fraction, currency: str, lang: str = "en") -> str:
    """Minor units in the currency's units, in the page's language through Babel:
    ``180000000`` RUB is ``1 800 000 ₽`` in Russian. A fraction (an MES price) is
    rounded down to a minor unit and marked ``≈``."""
    return i18n.money(lang, Fraction(amount), currency or "RUB")


def percent(part: int, whole: int, lang: str = "en") -> str:
    return i18n.percent(lang, part, whole)


def manifest_of(row: Election) -> dict[str, Any]:
    raw = row.manifest if row.manifest is not None else row.config
    data: dict[str, Any] = msgspec.json.decode(raw)
    return data


def published(service: ElectionService, db: Session, election_id: str) -> Election:
    """An election residents may see: a draft is nobody's business yet (404)."""
    row = service.get(db, election_id)
    if row.status == "draft":
        raise ElectionNotFound("no_such_election", f"There is no election {election_id!r}.")
    return row


def base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/")
