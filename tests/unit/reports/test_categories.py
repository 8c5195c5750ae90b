"""The category tree and its routing (docs/protocol.md §16.1)."""

from __future__ import annotations

import tomllib

import pytest

from reports.core.categories import (
    DEFAULT_DEADLINE_DAYS,
    Category,
    CategoryTree,
    ConfigRefused,
    Routing,
    tree_from_config,
)

CONFIG = """
organisations = ["roads-dept", "roads-north", "waste-co"]

[[category]]
code = "roads"
title_en = "Roads"
title_ru = "Дороги"

[[category]]
code = "potholes"
parent = "roads"
title_en = "Potholes"
title_ru = "Ямы"

[[category]]
code = "waste"
title_en = "Waste"
title_ru = "Мусор"

[[rule]]
category = "roads"
organisation = "roads-dept"
first_response_days = 3

[[rule]]
category = "potholes"
district = "north"
organisation = "roads-north"
deadline_days = 10
"""


@pytest.fixture(name="tree")
def fx_tree() -> CategoryTree:
    return tree_from_config(tomllib.loads(CONFIG))


def test_a_subcategory_inherits_its_parents_rule(tree: CategoryTree) -> None:
    assert tree.route("potholes", "south") == Routing("roads-dept", DEFAULT_DEADLINE_DAYS, 3)


def test_a_district_rule_beats_the_rule_for_every_district(tree: CategoryTree) -> None:
    assert tree.route("potholes", "north") == Routing("roads-north", 10, None)
    assert tree.route("roads", "north") == Routing("roads-dept", 30, 3)


def test_no_rule_no_route(tree: CategoryTree) -> None:
    assert tree.route("waste", "north") is None
    assert tree.route("nonexistent", "north") is None


def test_path_and_children(tree: CategoryTree) -> None:
    assert tree.path("potholes") == ["potholes", "roads"]
    assert [c.code for c in tree.children(None)] == ["roads", "waste"]


@pytest.mark.parametrize(
    ("categories", "rules", "words"),
    [
        ([Category("a", "A", "А", "b"), Category("b", "B", "Б", "a")], {}, "circle"),
        ([Category("a", "A", "А", "zzz")], {}, "parent"),
        ([Category("a", "A", "А"), Category("a", "A", "А")], {}, "twice"),
        ([Category("A!", "A", "А")], {}, "code"),
        ([Category("a", "A", "А")], {("b", "*"): Routing("org")}, "category"),
        ([Category("a", "A", "А")], {("a", "*"): Routing("nobody")}, "organisation"),
    ],
)
def test_inconsistent_configurations_are_refused(
    categories: list[Category], rules: dict[tuple[str, str], Routing], words: str
) -> None:
    with pytest.raises(ConfigRefused, match=words):
        CategoryTree(categories, rules, ["org"])


@pytest.mark.parametrize(("deadline", "first"), [(0, None), (367, None), (30, 0), (10, 11)])
def test_deadlines_out_of_range_are_refused(deadline: int, first: int | None) -> None:
    with pytest.raises(ConfigRefused):
        Routing("org", deadline, first)


def test_a_missing_key_is_named() -> None:
    with pytest.raises(ConfigRefused, match="title_en"):
        tree_from_config({"category": [{"code": "a"}]})
