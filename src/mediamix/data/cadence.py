"""Cadence of a time series: daily, weekly on any weekday, or monthly (first or last day)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mediamix.data.messages import iso, join_words, quoted
from mediamix.errors import DataError

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PERIODS_PER_YEAR = {"day": 365.25, "week": 52.1775, "month": 12.0}
MONTH_ANCHORS = ("start", "end")


@dataclass(frozen=True)
class Cadence:
    """How far apart consecutive periods are.

    unit: "day", "week" or "month". anchor: None for days, the weekday each week starts on
    ("Monday" ... "Sunday") for weeks, "start" or "end" (day of the month) for months.
    """

    unit: str
    anchor: str | None = None
    periods_per_year: float = field(init=False)

    def __post_init__(self) -> None:
        if self.unit not in PERIODS_PER_YEAR:
            raise DataError(f"cadence unit {quoted(self.unit)} is not one of 'day', 'week', 'month'")
        allowed = {"day": (None,), "week": WEEKDAYS, "month": MONTH_ANCHORS}[self.unit]
        if self.anchor not in allowed:
            raise DataError(
                f"cadence anchor {quoted(self.anchor)} does not fit unit {quoted(self.unit)}; "
                f"use one of {join_words([quoted(a) for a in allowed], 'or')}"
            )
        object.__setattr__(self, "periods_per_year", PERIODS_PER_YEAR[self.unit])

    @property
    def pandas_freq(self) -> str:
        if self.unit == "day":
            return "D"
        if self.unit == "week":
            return f"W-{self.anchor[:3].upper()}"
        return "MS" if self.anchor == "start" else "ME"

    def describe(self) -> str:
        if self.unit == "day":
            return "daily"
        if self.unit == "week":
            return f"weekly, weeks starting on {self.anchor}"
        return f"monthly, dated by the {'first' if self.anchor == 'start' else 'last'} day of each month"

    @property
    def plural(self) -> str:
        return f"{self.unit}s"

    def fits(self, date: pd.Timestamp) -> bool:
        """True when `date` lies on this cadence's anchor."""
        date = pd.Timestamp(date)
        if self.unit == "day":
            return True
        if self.unit == "week":
            return WEEKDAYS[date.weekday()] == self.anchor
        return date.day == 1 if self.anchor == "start" else date.is_month_end

    def shift(self, date: pd.Timestamp, periods: int) -> pd.Timestamp:
        """The date `periods` steps after (or before, if negative) `date`."""
        date = pd.Timestamp(date)
        if self.unit == "day":
            return date + pd.Timedelta(days=periods)
        if self.unit == "week":
            return date + pd.Timedelta(days=7 * periods)
        month = pd.Period(date, freq="M") + periods
        return month.start_time.normalize() if self.anchor == "start" else month.end_time.normalize()

    def range(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
        """Every period from start to end inclusive (start must lie on the anchor)."""
        return pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq=self.pandas_freq).astype(
            "datetime64[ns]"
        )


def detect_cadence(dates: pd.DatetimeIndex, column: str) -> Cadence:
    """Cadence of sorted unique dates; gaps are allowed here (checked later), uneven steps are not."""
    if len(dates) < 2:
        only = iso(dates[0]) if len(dates) else "none"
        raise DataError(
            f"column {quoted(column)} has a single date ({only}); the cadence cannot be told from "
            "one period: pass frequency='week' (or 'day', 'month')"
        )
    if all(d.day == 1 for d in dates):
        return Cadence("month", "start")
    if all(d.is_month_end for d in dates):
        return Cadence("month", "end")
    steps = np.diff(dates.values).astype("timedelta64[D]").astype(np.int64)
    values, counts = np.unique(steps, return_counts=True)
    step = int(values[counts == counts.max()].min())  # the usual spacing; ties go to the finer one
    if 28 <= step <= 31:
        off = [d for d in dates if d.day != 1][:3]
        raise DataError(
            f"dates in column {quoted(column)} look monthly but are neither all first nor all last "
            f"days of their month (e.g. {', '.join(iso(d) for d in off)}); "
            "date each month by its first day (or each by its last day)"
        )
    if step not in (1, 7):
        raise DataError(
            f"dates in column {quoted(column)} are mostly {step} days apart; mediamix supports daily, "
            "weekly (any weekday) and monthly data: aggregate to one of those"
        )
    uneven = np.nonzero(steps % step)[0]
    if uneven.size:
        pairs = [f"{iso(dates[i])} \u2192 {iso(dates[i + 1])} ({steps[i]} days)" for i in uneven[:6]]
        more = f" and {uneven.size - 6} more" if uneven.size > 6 else ""
        unit = "daily" if step == 1 else "weekly"
        raise DataError(
            f"dates in column {quoted(column)} are not evenly spaced: most steps are {step} days "
            f"({unit}), but {', '.join(pairs)}{more}; use one cadence throughout "
            "(weekly dates must all fall on the same weekday)"
        )
    if step == 1:
        return Cadence("day")
    return Cadence("week", WEEKDAYS[dates[0].weekday()])


_DAY = {"d", "day", "days", "daily"}
_WEEK = {"w", "week", "weeks", "weekly"}
_MONTH = {"m", "month", "months", "monthly"}
_WEEK_CODES = {f"w-{w[:3].lower()}": w for w in WEEKDAYS}


def is_generic(frequency: str) -> bool:
    """True for 'week' / 'month' / 'day' spellings that name a unit but no anchor."""
    return str(frequency).strip().lower() in _DAY | _WEEK | _MONTH


def parse_frequency(frequency: str, start: pd.Timestamp | None = None) -> Cadence:
    """A declared frequency ('day', 'week', 'W-FRI', 'month', 'MS', 'ME', ...) as a Cadence.

    Plain 'week' / 'month' take their anchor from `start` when given.
    """
    text = str(frequency).strip().lower()
    start = pd.Timestamp(start) if start is not None else None
    if text in _DAY:
        return Cadence("day")
    if text in _WEEK:
        return Cadence("week", WEEKDAYS[start.weekday()] if start is not None else "Monday")
    if text in _WEEK_CODES:
        cadence = Cadence("week", _WEEK_CODES[text])
    elif text in _MONTH:
        if start is None or start.day == 1:
            return Cadence("month", "start")
        if start.is_month_end:
            return Cadence("month", "end")
        raise DataError(
            f"start date {iso(start)} is neither the first nor the last day of a month; monthly "
            "periods are dated by one of those"
        )
    elif text == "ms":
        cadence = Cadence("month", "start")
    elif text == "me":
        cadence = Cadence("month", "end")
    else:
        raise DataError(
            f"frequency {quoted(frequency)} is not understood; use 'day', 'week', 'W-MON' ... 'W-SUN', "
            "'month', 'MS' (month start) or 'ME' (month end)"
        )
    if start is not None and not cadence.fits(start):
        raise DataError(
            f"start date {iso(start)} ({WEEKDAYS[start.weekday()]}) does not fit frequency "
            f"{quoted(frequency)} ({cadence.describe()}); change one of them"
        )
    return cadence
