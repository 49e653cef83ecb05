"""Calendar steps, with answers worked out by hand from a calendar."""
from datetime import datetime, timezone

import pytest

from mediamix.jobs import add_months, add_period, next_after

UTC = timezone.utc


def at(*parts):
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    "start,months,expected",
    [
        (at(2026, 1, 31, 10), 1, at(2026, 2, 28, 10)),   # 2026 is not a leap year
        (at(2028, 1, 31, 10), 1, at(2028, 2, 29, 10)),   # 2028 is
        (at(2026, 3, 31, 6, 30), 1, at(2026, 4, 30, 6, 30)),
        (at(2026, 12, 31), 1, at(2027, 1, 31)),           # over the year end
        (at(2026, 12, 15), 2, at(2027, 2, 15)),
        (at(2026, 1, 15), 12, at(2027, 1, 15)),
        (at(2024, 2, 29), 12, at(2025, 2, 28)),
    ],
)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    "frequency,expected",
    [("daily", at(2026, 3, 2, 9)), ("weekly", at(2026, 3, 8, 9)), ("monthly", at(2026, 4, 1, 9))],
)
def test_add_period(frequency, expected):
    assert add_period(at(2026, 3, 1, 9), frequency) == expected


def test_manual_has_no_period():
    with pytest.raises(ValueError, match="'manual' has no period"):
        add_period(at(2026, 3, 1), "manual")


def test_next_after_skips_missed_runs_and_keeps_the_time_of_day():
    # Daily at 09:00, next computed at 2026-03-04 11:30: 03-02, 03-03, 03-04 09:00 are past.
    assert next_after(at(2026, 3, 1, 9), "daily", at(2026, 3, 4, 11, 30)) == at(2026, 3, 5, 9)
    # Exactly at a step: that step is not "after now".
    assert next_after(at(2026, 3, 1, 9), "daily", at(2026, 3, 2, 9)) == at(2026, 3, 3, 9)
    # Weekly from Sunday 2026-03-01: 03-08, 03-15 past at 03-20, then 03-22.
    assert next_after(at(2026, 3, 1, 9), "weekly", at(2026, 3, 20, 12)) == at(2026, 3, 22, 9)
    # Monthly from Jan 31: Feb 28, then Mar 28 (one month after the previous due time).
    assert next_after(at(2026, 1, 31, 10), "monthly", at(2026, 1, 31, 10)) == at(2026, 2, 28, 10)
    assert next_after(at(2026, 1, 31, 10), "monthly", at(2026, 3, 1)) == at(2026, 3, 28, 10)
