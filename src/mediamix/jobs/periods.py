"""Run frequencies as calendar steps: daily +1 day, weekly +7 days, monthly +1 calendar month."""
from __future__ import annotations

import calendar
from datetime import datetime, timedelta

SCHEDULED_FREQUENCIES = ("daily", "weekly", "monthly")


def add_months(when: datetime, months: int) -> datetime:
    """The same day and time `months` later, or the month's last day when it is shorter
    (Jan 31 + 1 -> Feb 28, or Feb 29 in a leap year)."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def add_period(when: datetime, frequency: str) -> datetime:
    if frequency == "daily":
        return when + timedelta(days=1)
    if frequency == "weekly":
        return when + timedelta(days=7)
    if frequency == "monthly":
        return add_months(when, 1)
    raise ValueError(f"run frequency {frequency!r} has no period; scheduled ones are {SCHEDULED_FREQUENCIES}")


def next_after(due_at: datetime, frequency: str, now: datetime) -> datetime:
    """The first step after `due_at` that is later than `now`.

    Steps from the due time, not from `now`, so a tick a few minutes late does not push every
    later run back by those minutes; runs missed while nothing ticked are skipped, not replayed.
    Monthly steps add one month to the previous due time, so a schedule clamped to Feb 28 stays
    on the 28th afterwards.
    """
    step = add_period(due_at, frequency)
    while step <= now:
        step = add_period(step, frequency)
    return step
