"""Pabulib .pb reading and writing: real files, quirks and line-numbered errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally import (
    ApprovalBallot,
    CumulativeBallot,
    OrdinalBallot,
    PabulibError,
    RuleConfig,
    UnknownRule,
    compute,
    declared_config,
    read_pb,
    write_pb,
)
from tally.pabulib import sections as pabulib_sections
from tests.support.tally_data import DATA, load

SMALL = b'''META
key;value
description;Example
num_projects;3
num_votes;3
budget;100000
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name
1;5000;Project 1
2;10000;"Project; with ""quotes"""
3;85000;Project 3
VOTES
voter_id;vote
1;1,2
2;
3;3
'''


def test_reads_a_small_file() -> None:
    pf = read_pb(SMALL)
    assert pf.election.budget == 100000
    assert [p.id for p in pf.election.projects] == ["1", "2", "3"]
    assert pf.election.projects[1].name == 'Project; with "quotes"'
    assert pf.ballots == [ApprovalBallot(("1", "2")), ApprovalBallot(()), ApprovalBallot(("3",))]
    assert pf.declared_rule == "greedy"


def test_bom_crlf_and_spaces_are_accepted() -> None:
    text = b"\xef\xbb\xbf" + SMALL.replace(b"\n", b"\r\n").replace(b"1;5000;", b" 1 ; 5000 ;")
    pf = read_pb(text)
    assert pf.election.projects[0].id == "1"
    assert pf.election.projects[0].cost == 5000


def test_votes_read_the_same_quoted_padded_or_with_blank_lines() -> None:
    # Unquoted votes are split without the csv module; every other form goes through it.
    plain = read_pb(SMALL)
    votes = SMALL.split(b"VOTES\n")
    variants = [
        votes[0] + b'VOTES\nvoter_id;vote\n"1";"1,2"\n2;\n3;3\n',
        votes[0] + b"VOTES\n voter_id ; vote\n1 ;1, 2 \n\n2;\n ; \n3;\t3\n",
        (votes[0] + b"VOTES\nvoter_id;vote\n1;1,2\n2;\n3;3").replace(b"\n", b"\r\n"),
    ]
    for data in variants:
        assert read_pb(data) == plain
    padded = read_pb(variants[1])
    with pytest.raises(PabulibError) as info:
        read_pb(variants[1].replace(b"\t3", b"\t9"))
    assert info.value.line == 20
    assert padded.ballots[0] == ApprovalBallot(("1", "2"))


def test_a_vote_naming_a_project_twice_counts_it_once_with_a_warning() -> None:
    repeated = SMALL.replace(b"1;1,2\n", b"1;1,2,1,2\n").replace(b"3;3\n", b"3;3,3\n")
    pf = read_pb(repeated)
    assert [(w.line, w.code) for w in pf.warnings] == [
        (16, "repeated_project"),
        (18, "repeated_project"),
    ]
    assert "'1', '2'" in pf.warnings[0].detail and "voter '1'" in pf.warnings[0].detail
    assert str(pf.warnings[1]).startswith("line 18: ")
    clean = read_pb(SMALL)
    assert clean.warnings == []
    assert pf.ballots == clean.ballots
    for rule in ("greedy", "mes", "phragmen"):
        config = RuleConfig(rule=rule, completion="add1" if rule == "mes" else "none")  # type: ignore[arg-type]
        ours = compute(pf.election, pf.ballots, config)
        assert ours == compute(clean.election, clean.ballots, config)


def test_points_and_ranks_keep_a_repeated_project_once_at_its_first_place() -> None:
    head = SMALL.split(b"VOTES")[0].replace(b"vote_type;approval", b"vote_type;cumulative")
    pf = read_pb(head + b"VOTES\nvoter_id;vote;points\n1;2,1,2;3,1,5\n")
    assert pf.ballots == [CumulativeBallot({"2": 3, "1": 1})]
    assert [w.line for w in pf.warnings] == [16]
    head = head.replace(b"vote_type;cumulative", b"vote_type;ordinal")
    pf = read_pb(head + b"VOTES\nvoter_id;vote\n1;3,1,3,2\n2;1\n")
    assert pf.ballots == [OrdinalBallot(("3", "1", "2")), OrdinalBallot(("1",))]
    assert [w.line for w in pf.warnings] == [16]


def test_decimal_money_is_scaled_to_minor_units() -> None:
    text = SMALL.replace(b"1;5000;", b"1;5000,50;").replace(b"3;85000;", b"3;85000.25;")
    pf = read_pb(text)
    assert pf.election.unit == 100
    assert pf.election.budget == 10_000_000
    assert [p.cost for p in pf.election.projects] == [500050, 1_000_000, 8_500_025]
    again = read_pb(write_pb(pf))
    assert again == pf


def test_real_file_with_decimal_costs() -> None:
    pf = read_pb(DATA / "France_Toulouse_2022.pb")
    assert pf.election.unit == 10
    assert pf.election.budget == 80_000_000


@pytest.mark.parametrize(
    ("mutate", "line", "words"),
    [
        (lambda s: s.replace(b"1;1,2", b"1;1,9"), 16, "unknown project"),
        (lambda s: s.replace(b"3;85000;", b"3;lots;"), 13, "not a non-negative number"),
        (lambda s: s.replace(b"3;85000;Project 3", b"3;85000"), 13, "fields"),
        (lambda s: s.replace(b"3;3\n", b"1;3\n"), 18, "listed twice"),
        (lambda s: s.replace(b"3;85000;", b"1;85000;"), 13, "listed twice"),
        (lambda s: s.replace(b"key;value", b"key;val"), 2, "key;value"),
        (lambda s: s.replace(b"voter_id;vote", b"voter_id;votes"), 15, "lacks vote"),
        # an unclosed quote takes in the rest of the file
        (lambda s: s.replace(b"Project 3\n", b'"Project 3\n'), 0, "no VOTES section"),
        (lambda s: s.replace(b"3;3\n", b"3;3;4\n"), 18, "3 fields where the header has 2"),
        (lambda s: s.replace(b"3;3\n", b'3;"3";4\n'), 18, "3 fields where the header has 2"),
        (lambda s: s.replace(b"2;\n", b"2;\nVOTES\n"), 18, "a second VOTES section"),
    ],
)
def test_malformed_files_name_the_line(mutate, line: int, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PabulibError) as info:
        read_pb(mutate(SMALL))
    assert info.value.line == line
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "no META"),
        (b"\xff\xfe", "UTF-8"),
        (SMALL.replace(b"vote_type;approval", b"vote_type;pairwise"), "vote_type"),
        (SMALL.split(b"VOTES")[0], "no VOTES"),
        (SMALL.replace(b"budget;100000\n", b""), "budget"),
    ],
)
def test_whole_file_errors(data: bytes, words: str) -> None:
    with pytest.raises(PabulibError, match=words):
        read_pb(data)


def test_cumulative_and_ordinal_files() -> None:
    cum = load("Poland_Katowice_2023.pb")
    assert cum.election.kind == "cumulative"
    assert isinstance(cum.ballots[0], CumulativeBallot)
    assert cum.ballots[0].points == {"M/01/X": 2, "M/38/X": 1}
    assert cum.election.max_sum_points == 3
    ordinal = load("Poland_Krakow_2024.pb")
    assert isinstance(ordinal.ballots[0], OrdinalBallot)
    assert ordinal.election.max_length == 3


@pytest.mark.parametrize(
    "name",
    [
        "Netherlands_Assen_2024.pb",
        "Poland_Gdansk_2020_Piecki_Migowo.pb",
        "US_Stanford_Dataset_PB_Rochester_NY_2019_vote_rankings.pb",
        "France_Toulouse_2022.pb",
        pytest.param("Poland_Krakow_2024.pb", marks=pytest.mark.slow),
    ],
)
def test_real_files_write_then_read_back_identically(name: str) -> None:
    pf = load(name)
    assert read_pb(write_pb(pf)) == pf


def test_unknown_declared_rule_is_reported() -> None:
    pf = read_pb(DATA / "US_Stanford_Dataset_PB_Cambridge_2019_vote_approvals.pb")
    with pytest.raises(UnknownRule, match="'unknown'"):
        declared_config(pf)


def test_declared_rules_map_to_configs() -> None:
    assert declared_config(load("Poland_Lodz_2022.pb")).threshold == 100
    w = declared_config(load("Poland_Wieliczka_2023_Green_Budget.pb"))
    assert (w.rule, w.completion, w.comparison) == ("mes", "add1", "satisfaction")
    assert declared_config(load("Poland_Wroclaw_2023.pb")).rule == "greedy-no-skip"


_PIECES = ["p1", "p2", "p3", " ", "\t", "\xa0", "\u2003", ",", ";", "x", "7", "-1", "Votes", "mEtA"]
_FIELD = st.lists(st.sampled_from(_PIECES), max_size=6).map("".join)
_ROW = st.lists(_FIELD, min_size=0, max_size=4).map(";".join)
_VOTES_HEADERS = ["voter_id;vote", "vote;voter_id;age", " voter_id ;vote;points", "voter_id"]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["approval", "cumulative", "ordinal"]),
    st.sampled_from(_VOTES_HEADERS),
    st.lists(_ROW, max_size=8),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["", "VOTES", "\n\n", "projects;", " Meta ;;"]),
)
def test_unquoted_votes_read_as_the_csv_module_reads_them(
    vote_type: str, header: str, rows: list[str], end: str, tail: str
) -> None:
    head = (
        "META\nkey;value\nbudget;100\nvote_type;" + vote_type + "\n"
        "PROJECTS\nproject_id;cost\np1;10\np2;20\np3;30\nVOTES\n"
    )
    data = (head + "\n".join([header, *rows, tail])).replace("\n", end).encode()

    def read(fast: bool) -> object:
        try:
            if fast:
                return read_pb(data)
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(pabulib_sections, "_unquoted_rest", lambda *_: False)
                return read_pb(data)
        except PabulibError as exc:
            return ("error", exc.line, exc.detail)

    assert read(True) == read(False)


def test_the_other_whitespace_is_all_of_it() -> None:
    # the fast reader's padding check looks for these before trusting substring searches
    spaces = {chr(c) for c in range(0x110000) if chr(c).isspace()} - {" ", "\n"}
    assert set(pabulib_sections.OTHER_SPACE) == spaces
