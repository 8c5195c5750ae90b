"""``read_for_tally`` (what ``veche tally`` reads) gives exactly what ``read_pb`` then
``build_profile`` give, on real files and on votes that need a closer look."""

from __future__ import annotations

import pytest

from tally import PabulibError, build_profile, read_pb
from tally.pabulib.counted import read_for_tally
from tests.support.tally_data import DATA

_FIELDS = ("n_voters", "ids", "costs", "projects", "mult", "votes", "points", "types")

SMALL = """META
key;value
description;Example
budget;100000
vote_type;{vote_type}
rule;greedy
PROJECTS
project_id;cost;name
1;5000;One
2;10000;Two
3;85000;Three
VOTES
voter_id;vote
1;1,2
2;2,1
3;3
4;{vote}
5;
"""


def _same(data: bytes) -> None:
    pf = read_pb(data)
    expected = build_profile(pf.election, pf.ballots)
    got = read_for_tally(data)
    assert got.election == pf.election
    assert got.meta == pf.meta
    assert got.warnings == pf.warnings
    assert got.declared_rule == pf.declared_rule
    for field in _FIELDS:
        assert getattr(got.profile, field) == getattr(expected, field), field


@pytest.mark.parametrize(
    "name",
    [
        "Netherlands_Assen_2024.pb",
        "Poland_Swiecie_2023.pb",
        "Poland_Wieliczka_2023_Green_Budget.pb",
        "France_Toulouse_2022.pb",
        "US_Stanford_Dataset_PB_Rochester_NY_2019_vote_rankings.pb",
        "Poland_Gdansk_2020_Piecki_Migowo.pb",
    ],
)
def test_real_files_read_the_same(name: str) -> None:
    _same((DATA / name).read_bytes())


@pytest.mark.parametrize(
    "vote",
    ["1,3", "3,2,1", "1,1", "1, 2", "2,9", "", "1,,2"],
    ids=["plain", "unsorted", "repeated", "space", "unknown", "empty", "empty id"],
)
def test_votes_that_need_a_closer_look_read_the_same(vote: str) -> None:
    data = SMALL.format(vote_type="approval", vote=vote).encode()
    try:
        read_pb(data)
    except PabulibError as exc:
        with pytest.raises(PabulibError) as raised:
            read_for_tally(data)
        assert (raised.value.line, raised.value.detail) == (exc.line, exc.detail)
    else:
        _same(data)


def test_choose_one_and_a_repeated_voter_read_the_same() -> None:
    _same(SMALL.format(vote_type="choose-1", vote="2").encode())
    twice = SMALL.format(vote_type="approval", vote="1").replace("\n5;\n", "\n4;2\n")
    with pytest.raises(PabulibError) as raised:
        read_for_tally(twice.encode())
    with pytest.raises(PabulibError) as expected:
        read_pb(twice.encode())
    assert (raised.value.line, raised.value.detail) == (expected.value.line, expected.value.detail)
