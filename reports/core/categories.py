"""The category tree and its routing: for each category and district, the responsible
organisation, the deadline in calendar days and an optional first-response target
(docs/protocol.md §16.1).

A rule set on a category holds for its sub-categories unless they set their own; a rule
for district ``"*"`` holds for every district without its own. Pure: built from plain
values (a parsed TOML file or an API body), checked once, then read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kernel.markers import N_

DEFAULT_DEADLINE_DAYS = 30
MAX_DEADLINE_DAYS = 366
ANY_DISTRICT = "*"
CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class ConfigRefused(ValueError):
    """The categories or organisations are not a consistent configuration."""

    def __init__(self, message: str, *, code: str = "bad_report_config") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Category:
    code: str
    title_en: str
    title_ru: str
    parent: str | None = None


@dataclass(frozen=True)
class Routing:
    """Who answers a report, and how soon."""

    organisation: str
    deadline_days: int = DEFAULT_DEADLINE_DAYS
    first_response_days: int | None = None

    def __post_init__(self) -> None:
        if CODE.fullmatch(self.organisation) is None:
            raise ConfigRefused(
                N_("An organisation code is 1 to 64 lowercase letters, digits, - or _.")
            )
        if not 1 <= self.deadline_days <= MAX_DEADLINE_DAYS:
            raise ConfigRefused(N_("A deadline is 1 to 366 calendar days."))
        if self.first_response_days is not None and not (
            1 <= self.first_response_days <= self.deadline_days
        ):
            raise ConfigRefused(
                N_("A first-response target is at least 1 day and no longer than the deadline.")
            )


class CategoryTree:
    """Categories with parents, and the routing rules by (category, district)."""

    def __init__(
        self,
        categories: Iterable[Category],
        rules: Mapping[tuple[str, str], Routing],
        organisations: Iterable[str],
    ) -> None:
        self.categories: dict[str, Category] = {}
        for category in categories:
            if CODE.fullmatch(category.code) is None:
                raise ConfigRefused(
                    N_("A category code is 1 to 64 lowercase letters, digits, - or _.")
                )
            if category.code in self.categories:
                raise ConfigRefused(N_("A category code appears twice."))
            self.categories[category.code] = category
        for category in self.categories.values():
            seen = {category.code}
            parent = category.parent
            while parent is not None:
                if parent not in self.categories:
                    raise ConfigRefused(N_("A category names a parent that does not exist."))
                if parent in seen:
                    raise ConfigRefused(N_("The categories' parents go round in a circle."))
                seen.add(parent)
                parent = self.categories[parent].parent
        self.organisations = frozenset(organisations)
        for (code, _district), routing in rules.items():
            if code not in self.categories:
                raise ConfigRefused(N_("A routing rule names a category that does not exist."))
            if routing.organisation not in self.organisations:
                raise ConfigRefused(N_("A routing rule names an organisation that does not exist."))
        self.rules = dict(rules)

    def path(self, code: str) -> list[str]:
        """The category and its ancestors, nearest first."""
        chain: list[str] = []
        current: str | None = code
        while current is not None:
            chain.append(current)
            current = self.categories[current].parent
        return chain

    def children(self, code: str | None) -> list[Category]:
        return sorted(
            (c for c in self.categories.values() if c.parent == code), key=lambda c: c.code
        )

    def route(self, code: str, district: str) -> Routing | None:
        """The rule for a report of ``code`` in ``district``: the nearest category with a
        rule for this district, else for every district; ``None`` when none has one."""
        if code not in self.categories:
            return None
        for ancestor in self.path(code):
            for key in ((ancestor, district), (ancestor, ANY_DISTRICT)):
                if key in self.rules:
                    return self.rules[key]
        return None


def tree_from_config(config: Mapping[str, object]) -> CategoryTree:
    """The tree from a TOML-shaped mapping::

    organisations = ["roads-dept", "waste-co"]
    [[category]]
    code = "roads"; title_en = "Roads"; title_ru = "Дороги"
    [[category]]
    code = "potholes"; parent = "roads"; title_en = "Potholes"; title_ru = "Ямы"
    [[rule]]
    category = "roads"; district = "*"; organisation = "roads-dept"
    deadline_days = 30; first_response_days = 3
    """
    try:
        organisations = [str(o) for o in _list(config.get("organisations", []))]
        categories = [
            Category(
                code=str(c["code"]),
                title_en=str(c["title_en"]),
                title_ru=str(c.get("title_ru", c["title_en"])),
                parent=None if c.get("parent") is None else str(c["parent"]),
            )
            for c in (_map(x) for x in _list(config.get("category", [])))
        ]
        rules: dict[tuple[str, str], Routing] = {}
        for raw in _list(config.get("rule", [])):
            r = _map(raw)
            key = (str(r["category"]), str(r.get("district", ANY_DISTRICT)))
            if key in rules:
                raise ConfigRefused(N_("Two routing rules for the same category and district."))
            first = r.get("first_response_days")
            rules[key] = Routing(
                organisation=str(r["organisation"]),
                deadline_days=_int(r.get("deadline_days", DEFAULT_DEADLINE_DAYS)),
                first_response_days=None if first is None else _int(first),
            )
    except KeyError as missing:
        raise ConfigRefused(f"A required setting is missing: {missing.args[0]}.") from None
    return CategoryTree(categories, rules, organisations)


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise ConfigRefused(N_("The configuration has a list where it expects one."))
    return value


def _map(value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ConfigRefused(N_("The configuration has a table where it expects one."))
    return value


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigRefused(N_("A number of days is a whole number."))
    return value
