"""INN check digits: published valid numbers, and every one-digit corruption refused."""

from __future__ import annotations

import pytest

from proposals.core.inn import inn_is_valid, inn_kind

VALID = [
    "7707083893",  # a well-known bank (organization)
    "7830002293",
    "500100732259",  # individual entrepreneurs
    "773370857141",
]


@pytest.mark.parametrize("inn", VALID)
def test_valid(inn: str) -> None:
    assert inn_is_valid(inn)
    assert inn_kind(inn) == ("organization" if len(inn) == 10 else "entrepreneur")


@pytest.mark.parametrize("inn", VALID)
def test_any_changed_check_digit_is_refused(inn: str) -> None:
    checks = 1 if len(inn) == 10 else 2
    for position in range(len(inn) - checks, len(inn)):
        for digit in "0123456789":
            if digit != inn[position]:
                changed = inn[:position] + digit + inn[position + 1 :]
                assert not inn_is_valid(changed), changed


@pytest.mark.parametrize(
    "text",
    [
        "",
        "770708389",
        "77070838931",
        "7707o83893",
        "７７０７０８３８９３",
        " 7707083893",
        "12345678901",
    ],
)
def test_malformed(text: str) -> None:
    assert not inn_is_valid(text)
