"""Each credential's ballots as a sequence, as the count reads them (docs/protocol.md §9.3).

A log's operator cannot sign a ballot in a voter's name, but it can append again a
ballot the voter signed earlier, append the same one twice, copy a voter's sealed
choices into a ballot of a credential it made for itself, or stamp a ballot with a time
outside the window. The count (shared by the server and ``veche verify``) must refuse
each, name it by ``seq``, and count each credential's newest valid ballot.
"""

from __future__ import annotations

from typing import Any

import pytest

from ballot.core import record
from ballot.core.record import CastEntry, Count, ElectionRecord
from tests.support.operator import DURING, PureElection, Voter, copied_seal

PARK = {"approve": ["park"]}
LIBRARY = {"approve": ["library"]}
BIKES = {"approve": ["bike-lane"]}


@pytest.fixture(name="election", scope="module")
def fx_election() -> PureElection:
    return PureElection.open()


@pytest.fixture(name="old_election", scope="module")
def fx_old_election() -> PureElection:
    """An election of manifest version 1: ballots without counters."""
    return PureElection.open(version=1, id="autumn-2026")


def counted(
    election: PureElection,
    bodies: list[dict[str, Any] | tuple[str, dict[str, Any]]],
    *,
    closed_at: str | None = None,
) -> Count:
    """Count ``bodies`` logged at seq 10, 11, … (each at ``DURING`` unless given as
    ``(at, body)``), closed after them."""
    casts = []
    for offset, item in enumerate(bodies):
        at, body = item if isinstance(item, tuple) else (DURING, item)
        casts.append(CastEntry(10 + offset, at, body["ballot"], body["signature"]))
    size = 10 + len(bodies)
    rec = ElectionRecord(
        hash=election.hash,
        manifest=election.manifest,
        opened_seq=1,
        issued=10,
        casts=casts,
        closed_seq=size,
        closed_at=closed_at or DURING,
        count_size=size,
        sealing_private=election.sealing_private,
    )
    return record.count(rec)


def problems(count: Count) -> list[tuple[int | None, str]]:
    return [(p.seq, p.code) for p in count.rejected]


def counted_seqs(count: Count) -> dict[str, int]:
    return {credential: seq for seq, credential, _choices, _sig in count.counted}


def test_an_honest_sequence_counts_each_credentials_newest(election: PureElection) -> None:
    a, b = election.voter(), election.voter()
    count = counted(election, [a.ballot(PARK, 1), b.ballot(PARK, 1), a.ballot(LIBRARY, 2)])
    assert problems(count) == [] and count.anomalies == []
    assert counted_seqs(count) == {a.credential: 12, b.credential: 11}
    assert count.superseded == 1


def test_an_older_ballot_appended_again_after_a_newer_one_is_refused(
    election: PureElection,
) -> None:
    a = election.voter()
    first = a.ballot(PARK, 1)
    count = counted(election, [first, a.ballot(LIBRARY, 2), first])
    assert problems(count) == [(12, "replayed_ballot")]
    assert counted_seqs(count) == {a.credential: 11}  # the newer choice stands
    (_seq, _cred, choices, _sig) = count.counted[0]
    assert record.tally_ballot(choices).approve == ("library",)  # type: ignore[union-attr]


def test_an_older_ballot_never_logged_before_is_refused_after_a_newer_one(
    election: PureElection,
) -> None:
    # The operator withheld the voter's ballot number 1 and appends it after number 2.
    a = election.voter()
    withheld = a.ballot(PARK, 1)
    count = counted(election, [a.ballot(LIBRARY, 1), a.ballot(BIKES, 2), withheld])
    assert problems(count) == [(12, "replayed_ballot")]
    assert counted_seqs(count) == {a.credential: 11}


def test_the_same_ballot_twice_is_refused(election: PureElection) -> None:
    a = election.voter()
    newest = a.ballot(LIBRARY, 2)
    count = counted(election, [a.ballot(PARK, 1), newest, newest])
    assert problems(count) == [(12, "duplicate_ballot")]
    assert counted_seqs(count) == {a.credential: 11}
    assert count.superseded == 1


def test_two_different_ballots_with_one_number_are_a_fork(election: PureElection) -> None:
    a = election.voter()
    count = counted(election, [a.ballot(PARK, 1), a.ballot(LIBRARY, 2), a.ballot(BIKES, 2)])
    assert problems(count) == [(12, "counter_fork")]
    assert counted_seqs(count) == {a.credential: 11}


def test_a_gap_is_reported_and_the_newest_still_counts(election: PureElection) -> None:
    a, b = election.voter(), election.voter()
    count = counted(election, [a.ballot(PARK, 1), a.ballot(LIBRARY, 3), b.ballot(PARK, 2)])
    assert problems(count) == []
    assert [(p.seq, p.code) for p in count.anomalies] == [(11, "counter_gap"), (12, "counter_gap")]
    assert counted_seqs(count) == {a.credential: 11, b.credential: 12}


def test_a_seal_copied_under_another_credential_is_refused(election: PureElection) -> None:
    victim = election.voter()
    attacker = election.voter()  # a credential the operator certified for itself
    stolen = victim.ballot(BIKES, 1)
    copy = copied_seal(stolen, attacker.key, attacker.token)
    count = counted(election, [stolen, copy])
    assert problems(count) == [(11, "bad_seal")]
    assert counted_seqs(count) == {victim.credential: 10}


def test_a_version_1_ballot_in_a_version_2_election_is_refused(
    election: PureElection, old_election: PureElection
) -> None:
    # Made for the old format and re-signed into this election: no counter, an unbound
    # seal. Refused whatever else it holds.
    a = election.voter()
    old = Voter(old_election, a.key, a.token).ballot(PARK)
    assert "counter" not in old["ballot"]
    count = counted(election, [{**old, "ballot": {**old["ballot"], "election": election.hash}}])
    assert problems(count) == [(10, "wrong_ballot_version")]
    assert count.counted == []


def test_version_1_keeps_its_rules_and_still_refuses_a_replayed_copy(
    old_election: PureElection,
) -> None:
    a, b = old_election.voter(), old_election.voter()
    first, second = a.ballot(PARK), a.ballot(LIBRARY)
    assert "v" not in first["ballot"] and "v" not in second["ballot"]
    count = counted(old_election, [first, b.ballot(PARK), second, second, first])
    assert problems(count) == [(13, "duplicate_ballot"), (14, "replayed_ballot")]
    assert counted_seqs(count) == {a.credential: 12, b.credential: 11}
    # Without replays the last ballot counts, as before.
    count = counted(old_election, [first, second])
    assert problems(count) == [] and counted_seqs(count) == {a.credential: 11}


@pytest.mark.parametrize(
    ("at", "code"),
    [
        ("2027-03-01T07:59:59Z", "not_open_yet"),  # before opens_at
        ("2027-03-15T20:00:00Z", "closed"),  # at closes_at
        ("2027-03-20T10:00:00Z", "closed"),  # after it
    ],
)
def test_a_ballot_stamped_outside_the_window_is_refused(
    election: PureElection, at: str, code: str
) -> None:
    a, b = election.voter(), election.voter()
    closed_at = "2027-03-20T10:00:00Z"  # a close after the window's end
    count = counted(election, [a.ballot(PARK, 1), (at, b.ballot(LIBRARY, 1))], closed_at=closed_at)
    assert problems(count) == [(11, code)]
    assert list(counted_seqs(count)) == [a.credential]


def test_a_ballot_stamped_after_an_early_close_is_refused(election: PureElection) -> None:
    a, b = election.voter(), election.voter()
    early = "2027-03-05T12:00:00Z"
    late = "2027-03-05T12:00:01Z"
    count = counted(
        election, [(early, a.ballot(PARK, 1)), (late, b.ballot(LIBRARY, 1))], closed_at=early
    )
    assert problems(count) == [(11, "closed")]
    assert list(counted_seqs(count)) == [a.credential]
