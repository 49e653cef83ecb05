"""Finding the date column and turning its values into midnight timestamps, or refusing clearly."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mediamix.data.cadence import Cadence, detect_cadence, parse_frequency
from mediamix.data.messages import column_list, count, iso, quoted, suggestion
from mediamix.errors import DataError

# Names exporters give the time column, compared lower-case.
DATE_NAMES = (
    "date", "ds", "date_week", "week", "wk_strt_dt", "week_start", "week_starting", "week_ending",
    "week_start_date", "time", "period", "day", "month", "datetime", "timestamp", "dt",
)
# Non-ISO layouts tried only when ISO parsing fails; day-first and month-first are both listed so
# an ambiguous file is caught rather than guessed.
FALLBACK_FORMATS = ("%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%m-%d-%Y", "%Y%m%d")
# A trailing offset after a clock time ("...10:00:00+02:00", "...Z"): the local calendar date is the
# one the exporter meant, so the offset is dropped rather than converted to UTC.
_LAYOUT_NAMES = {
    "%m/%d/%Y": "month/day/year", "%d/%m/%Y": "day/month/year", "%d.%m.%Y": "day.month.year",
    "%d-%m-%Y": "day-month-year", "%m-%d-%Y": "month-day-year",
}
_OFFSET = re.compile(r"^(.*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)$", re.I)
MAX_PERIODS = 100_000  # ~270 years of days: more is not a period counter
_DIGITS = re.compile(r"^[+-]?\d+(\.0*)?$")


def find_date_column(df: pd.DataFrame, given: str | None) -> str:
    """The column holding dates: the one given, else one named like a date, else the only date-like one."""
    columns = [str(c) for c in df.columns]
    if given is not None:
        if given not in columns:
            raise DataError(
                f"date column {quoted(given)} is not in the data.{suggestion(given, columns)} "
                f"Columns are: {column_list(columns)}"
            )
        return given
    named = [c for c in columns if c.strip().lower() in DATE_NAMES]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        datelike = [c for c in named if _looks_like_dates(df[c])]
        if len(datelike) == 1:
            return datelike[0]
        raise DataError(
            f"several columns could hold the dates: {column_list(datelike or named)}; "
            "pass --date-column (date_column= in Python) to say which"
        )
    datelike = [c for c in columns if _looks_like_dates(df[c])]
    if len(datelike) == 1:
        return datelike[0]
    if len(datelike) > 1:
        raise DataError(
            f"several columns hold dates: {column_list(datelike)}; pass --date-column (date_column= in Python) to say which"
        )
    raise DataError(
        f"no date column found (looked for a column named date, week, time, ds, ... or holding dates); "
        f"columns are: {column_list(columns)}. Pass --date-column (date_column= in Python)"
    )


def _looks_like_dates(values: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        return False
    text = values.dropna().head(200).astype(str).str.strip()  # a sample decides; the full parse comes later
    text = text[text != ""]
    if text.empty or text.str.match(_DIGITS).all():
        return False
    try:
        _parse_strings(text, "?")
    except DataError:
        return False
    return True


def to_dates(
    values: pd.Series, column: str, *, start_date=None, frequency: str | None = None
) -> tuple[pd.Series, Cadence | None, list[str]]:
    """Dates at midnight (datetime64[ns]), the cadence they were built with (if any), and notices.

    Integer periods become dates only with both start_date and frequency declared.
    """
    notices: list[str] = []
    values = values.reset_index(drop=True)
    integers = _as_integers(values)
    if integers is not None:
        _refuse_missing(integers, column)
        integers = integers.astype(np.int64)
        yyyymmdd = _yyyymmdd(integers)
        if yyyymmdd is not None and start_date is None:
            notices.append(f"read integers in column {quoted(column)} as YYYYMMDD dates")
            return yyyymmdd, None, notices
        if start_date is None or frequency is None:
            raise DataError(
                f"time column {quoted(column)} is integer, not a date; supply dates or declare "
                "start date + frequency (--start-date 2022-01-03 --frequency week; start_date=, frequency= in Python)"
            )
        start = _one_date(start_date, "start_date")
        cadence = parse_frequency(frequency, start)
        dates = _dates_from_periods(integers, start, cadence)
        notices.append(
            f"built dates from integer column {quoted(column)}: period {integers.min()} is "
            f"{iso(start)}, {cadence.describe()}"
        )
        return dates, cadence, notices

    if start_date is not None:
        raise DataError(
            f"column {quoted(column)} already holds dates; start_date is only for an integer period "
            "column, so leave it out"
        )
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = values
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)  # keep the local calendar date
        _refuse_missing(dates, column)
    elif pd.api.types.is_string_dtype(values) or values.dtype == object:
        text = values.astype("str").str.strip()
        text = text.where(values.notna() & (text != ""), None)
        _refuse_missing(text, column)
        dates, notice = _parse_strings(text, column)
        notices += [notice] if notice else []
    else:
        raise DataError(
            f"column {quoted(column)} holds {values.dtype} values, not dates; supply ISO dates "
            "(YYYY-MM-DD) or pass --date-column to name the right column"
        )
    dates = pd.Series(pd.to_datetime(dates), name=None).astype("datetime64[ns]")
    if (dates != dates.dt.normalize()).any():
        notices.append(f"column {quoted(column)} held times of day; each row is dated by its day")
        dates = dates.dt.normalize()
    return dates, None, notices


def _one_date(value, what: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise DataError(f"{what} {quoted(value)} is not a date; write it as YYYY-MM-DD")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()


def _refuse_missing(values: pd.Series, column: str) -> None:
    missing = np.flatnonzero(values.isna().to_numpy())
    if missing.size:
        rows = ", ".join(str(i + 1) for i in missing[:5])
        raise DataError(
            f"column {quoted(column)} has no date in {count(missing.size, 'row')} (data rows {rows}); "
            "every row needs a date: fill them in or remove those rows"
        )


def _as_integers(values: pd.Series) -> pd.Series | None:
    """The values as numbers when the column holds whole numbers (or text of them), else None."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_complex_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        numbers = values
    elif pd.api.types.is_string_dtype(values) or values.dtype == object:
        text = values.dropna().astype(str).str.strip()
        if text.empty or not text.str.match(_DIGITS).all():
            return None
        numbers = pd.to_numeric(values, errors="coerce")
    else:
        return None
    if numbers.isna().all():
        return None
    finite = numbers.dropna()
    if not np.all(np.isfinite(finite)) or not np.all(finite == np.round(finite)):
        return None
    if (finite.abs() > 1e12).any():
        return None  # too large for a period number or a YYYYMMDD date
    return numbers


def _yyyymmdd(integers: pd.Series) -> pd.Series | None:
    if not ((integers >= 19000101) & (integers <= 21001231)).all():
        return None
    parsed = pd.to_datetime(integers.astype(str), format="%Y%m%d", errors="coerce")
    return None if parsed.isna().any() else parsed.astype("datetime64[ns]")


def _dates_from_periods(periods: pd.Series, start: pd.Timestamp, cadence: Cadence) -> pd.Series:
    first = int(periods.min())
    if int(periods.max()) - first > MAX_PERIODS:
        raise DataError(
            f"integer periods run from {first} to {int(periods.max())}, more than {MAX_PERIODS} "
            f"{cadence.plural}; they do not look like period numbers: supply dates instead"
        )
    lookup = {int(k): cadence.shift(start, int(k) - first) for k in periods.unique()}
    return periods.map(lookup).astype("datetime64[ns]")


def _regular(parsed: pd.Series) -> bool:
    """True when the dates follow one cadence with no period missing."""
    dates = pd.DatetimeIndex(parsed.dt.normalize().unique()).sort_values()
    try:
        cadence = detect_cadence(dates, "?")
    except DataError:
        return False
    return len(cadence.range(dates[0], dates[-1])) == len(dates)


def _parse_strings(text: pd.Series, column: str) -> tuple[pd.Series, str | None]:
    """Parse date strings: ISO first, then a few national layouts; returns dates and a notice."""
    present = text.dropna()
    clean = present.str.replace(_OFFSET, r"\1", regex=True)
    iso_parsed = pd.to_datetime(clean, format="ISO8601", errors="coerce")
    if iso_parsed.notna().all():
        return iso_parsed.reindex(text.index), None
    fits: dict[str, pd.Series] = {}
    for fmt in FALLBACK_FORMATS:
        parsed = pd.to_datetime(clean, format=fmt, errors="coerce")
        if parsed.notna().all():
            fits[fmt] = parsed
    readings: dict[tuple, tuple[str, pd.Series]] = {}
    for fmt, parsed in fits.items():
        readings.setdefault(tuple(parsed.to_numpy()), (fmt, parsed))
    if len(readings) == 1:
        (fmt, parsed), = readings.values()
        return parsed.reindex(text.index), None
    if len(readings) > 1:
        # Day-first and month-first both parse (every day <= 12): keep the one reading whose dates
        # form a complete regular series, e.g. 7/1/2015, 8/1/2015 ... is monthly read month-first
        # but a scatter of days read day-first.
        regular = [(fmt, parsed) for fmt, parsed in readings.values() if _regular(parsed)]
        if len(regular) == 1:
            fmt, parsed = regular[0]
            return parsed.reindex(text.index), (
                f"read column {quoted(column)} as {_LAYOUT_NAMES.get(fmt, fmt)}: the only reading of "
                "its dates that gives a complete, regular series"
            )
        example = clean.iloc[0]
        raise DataError(
            f"dates in column {quoted(column)} such as {quoted(example)} could be read day-first or "
            "month-first; write them as ISO YYYY-MM-DD"
        )
    # Report the first failure under the layout that reads the most values: that is the odd one out.
    best = iso_parsed
    for fmt in FALLBACK_FORMATS:
        parsed = pd.to_datetime(clean, format=fmt, errors="coerce")
        if parsed.notna().sum() > best.notna().sum():
            best = parsed
    bad_position = int(np.flatnonzero(best.isna().to_numpy())[0])
    bad_value = present.iloc[bad_position]
    row = int(present.index[bad_position]) + 1
    raise DataError(
        f"column {quoted(column)} has a value that is not a date: {quoted(bad_value)} in data row {row}; "
        "write dates as YYYY-MM-DD (a time of day or time zone after it is fine)"
    )
