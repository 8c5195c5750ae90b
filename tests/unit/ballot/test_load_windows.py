"""``veche bench load`` cuts its run into 10-second windows with an honest rate each."""

from __future__ import annotations

from veche.bench.load import windows

S = 1_000_000_000


def test_requests_in_flight_at_the_end_count_in_the_last_window() -> None:
    # 100 ballots/s for 20 s, then 3 answers arriving 50 ms after the time was up.
    done = [(i * S // 100, 2_000, 1) for i in range(1, 2001)]
    done += [(20 * S + S // 20, 9_000, 1)] * 3
    rows = windows(done, 20)
    assert [row[0] for row in rows] == [0, 10]
    assert rows[0][1] + rows[1][1] == 2003
    # The stragglers do not make a window of their own with a rate of thousands.
    assert [row[5] for row in rows] == [99, 99]


def test_a_run_that_ends_early_rates_its_last_window_over_its_length() -> None:
    # Out of prepared ballots after 12 s of a 30-second run: 201 ballots in its last 2 s.
    done = [(i * S // 100, 1_000, 1) for i in range(1, 1001)]
    done += [(10 * S + i * S // 100, 1_000, i % 50 != 0) for i in range(1, 201)]
    rows = windows(done, 30)
    assert [row[0] for row in rows] == [0, 10]
    assert rows[1][1:3] == (201, 4)
    assert rows[1][5] == 100
