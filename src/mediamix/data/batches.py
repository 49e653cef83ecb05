"""One batch of a data set, checked and shaped before it touches the store.

Four kinds of data set: summary (dated aggregate rows), events (experience events: a person id,
a timestamp and touchpoint fields), conversions (events or dated aggregates) and factors (factor
name, value, type internal/external, value type actual/forecast). Dated rows get a `__date`
column, events `__ts` and `__person`; every other column keeps its source name. Everything that
can be wrong with a batch is found here, so a refused batch never reaches the store.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mediamix.data.columns import as_metric, clean_names, drop_leftover_index
from mediamix.data.dates import _OFFSET, find_date_column, to_dates
from mediamix.data.messages import column_list, count, iso, one_of, quoted, suggestion
from mediamix.errors import DataError

KINDS = ("summary", "events", "conversions", "factors")
SHAPES = ("dated", "events")
RESTATEMENTS = ("replace", "add")
# Summary and factor exports are restated (a re-export of March replaces March); events are facts
# that only ever add up.
DEFAULT_RESTATEMENT = {"summary": "replace", "factors": "replace", "conversions": "replace", "events": "add"}
FACTOR_TYPES = ("internal", "external")
VALUE_TYPES = ("actual", "forecast")
FACTOR_AGGREGATIONS = ("mean", "sum")
GRANULARITIES = ("day", "week", "month")

TIMESTAMP_NAMES = (
    "timestamp", "ts", "event_time", "event_timestamp", "hit_time", "time", "datetime", "event_date", "date",
)
PERSON_NAMES = (
    "person_id", "user_id", "visitor_id", "customer_id", "client_id", "cookie_id", "anonymous_id",
    "person", "user", "visitor", "customer",
)
OPTION_NAMES = (
    "date_column", "timestamp_column", "person_column", "key_columns", "restate_by", "start_date",
    "frequency", "factor_type", "value_type", "granularity", "aggregation", "geo_column",
)
_SAMPLE = 2000  # values sampled to decide whether a text column holds formatted numbers
_FORMATTED = re.compile(r"^\s*[-+]?[$€£]?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d+)?\s*$")


@dataclass(frozen=True)
class PreparedBatch:
    frame: pd.DataFrame
    shape: str
    notices: tuple[str, ...]
    first_date: pd.Timestamp
    last_date: pd.Timestamp


def check_options(kind: str, options: dict) -> dict:
    """Known options only, with allowed values; lists become tuples so they store as JSON lists."""
    if kind not in KINDS:
        raise DataError(f"data set kind {quoted(kind)} is not one of {one_of(KINDS)}")
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise DataError(f"unknown load option(s) {column_list(unknown)}; options are {column_list(OPTION_NAMES)}")
    clean = {k: v for k, v in options.items() if v is not None}
    for key, allowed in (("factor_type", FACTOR_TYPES), ("value_type", VALUE_TYPES),
                         ("aggregation", FACTOR_AGGREGATIONS), ("granularity", GRANULARITIES)):
        if key in clean and clean[key] not in allowed:
            raise DataError(f"{key} {quoted(clean[key])} is not one of {one_of(allowed)}")
    for key in ("key_columns", "restate_by"):
        if key in clean:
            value = clean[key]
            clean[key] = [value] if isinstance(value, str) else [str(v) for v in value]
    return clean


def shape_of(kind: str, frame: pd.DataFrame, options: dict) -> str:
    """Events and event-level conversions carry a person and a timestamp; the rest are dated rows."""
    if kind == "events":
        return "events"
    if kind == "conversions":
        if options.get("person_column") or options.get("timestamp_column"):
            return "events"
        lowered = {str(c).strip().lower() for c in frame.columns}
        return "events" if lowered & set(PERSON_NAMES) else "dated"
    return "dated"


def prepare_batch(frame: pd.DataFrame, kind: str, shape: str, options: dict) -> PreparedBatch:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"a batch must be a pandas DataFrame or a file path, got {type(frame).__name__}")
    if frame.empty or len(frame.columns) == 0:
        raise DataError("the batch has no rows; load a file with data")
    notices: list[str] = []
    frame, found = clean_names(frame.reset_index(drop=True))
    notices += found
    frame, found = drop_leftover_index(frame)
    notices += found
    reserved = [c for c in frame.columns if c.startswith("__")]
    if reserved:
        raise DataError(
            f"column names starting with '__' are reserved by mediamix: {column_list(reserved)}; rename them"
        )
    if shape == "events":
        frame, found = _events(frame, options)
        days = frame["__ts"].dt.normalize()
    else:
        frame, found = _dated(frame, options)
        if kind == "factors":
            frame = _factor_rows(frame, options)
        _refuse_repeated_keys(frame, kind, options)
        days = frame["__date"]
    notices += found
    frame, found = _numbers_from_text(frame)
    notices += found
    return PreparedBatch(frame, shape, tuple(notices), days.min(), days.max())


# ---- dates and timestamps -------------------------------------------------------------------------


def _dated(frame: pd.DataFrame, options: dict) -> tuple[pd.DataFrame, list[str]]:
    notices: list[str] = []
    given = options.get("date_column")
    lowered = {c.lower(): c for c in frame.columns}
    if given is None and "year" in lowered and "month" in lowered and not _has_date_named(frame, lowered):
        dates = _year_month(frame, lowered["year"], lowered["month"])
        sources = [lowered["year"], lowered["month"]]
        notices.append(
            f"dated each row by the first day of its month from columns {quoted(sources[0])} and {quoted(sources[1])}"
        )
    else:
        source = find_date_column(frame, given)
        dates, _, found = to_dates(
            frame[source], source, start_date=options.get("start_date"), frequency=options.get("frequency")
        )
        notices += found
        sources = [source]
        if given is None and source != "date":
            notices.append(f"read dates from column {quoted(source)}")
    out = frame.drop(columns=sources)
    out.insert(0, "__date", pd.Series(dates.to_numpy(), index=frame.index).astype("datetime64[ns]"))
    return out, notices


def _has_date_named(frame: pd.DataFrame, lowered: dict[str, str]) -> bool:
    """A real date column beside Year/Month (e.g. 'Date') takes precedence over building dates."""
    return any(name in lowered for name in ("date", "ds", "week", "week_start", "datetime", "timestamp"))


def _year_month(frame: pd.DataFrame, year: str, month: str) -> pd.Series:
    parts = {}
    for column, low, high in ((year, 1900, 2100), (month, 1, 12)):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() | (values < low) | (values > high) | (values != values.round())
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"column {quoted(column)} has {quoted(frame[column].iloc[row])} in data row {row + 1}; "
                f"it must be a whole number from {low} to {high} to date the rows by year and month"
            )
        parts[column] = values.astype(int)
    return pd.to_datetime(pd.DataFrame({"year": parts[year], "month": parts[month], "day": 1})).astype(
        "datetime64[ns]"
    )


def _events(frame: pd.DataFrame, options: dict) -> tuple[pd.DataFrame, list[str]]:
    notices: list[str] = []
    ts_column = _pick(frame, options.get("timestamp_column"), TIMESTAMP_NAMES, "timestamp", "timestamp_column")
    person = _pick(frame, options.get("person_column"), PERSON_NAMES, "person id", "person_column")
    if ts_column == person:
        raise DataError(f"column {quoted(person)} cannot be both the timestamp and the person id")
    stamps = _timestamps(frame[ts_column], ts_column)
    persons = frame[person]
    missing = np.flatnonzero(persons.isna().to_numpy())
    if missing.size:
        rows = ", ".join(str(i + 1) for i in missing[:5])
        raise DataError(
            f"person id column {quoted(person)} is empty in {count(missing.size, 'row')} (data rows {rows}); "
            "every event needs the person it happened to: fill them in or remove those rows"
        )
    out = frame.drop(columns=[ts_column, person])
    out.insert(0, "__person", persons)
    out.insert(0, "__ts", stamps)
    for name, role in ((ts_column, "timestamps"), (person, "person ids")):
        if options.get("timestamp_column" if role == "timestamps" else "person_column") is None:
            notices.append(f"read {role} from column {quoted(name)}")
    return out, notices


def _pick(frame: pd.DataFrame, given: str | None, names: tuple[str, ...], what: str, option: str) -> str:
    columns = list(frame.columns)
    if given is not None:
        if given not in columns:
            raise DataError(
                f"{what} column {quoted(given)} is not in the data.{suggestion(given, columns)} "
                f"Columns are: {column_list(columns)}"
            )
        return given
    lowered = {c.lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    raise DataError(
        f"no {what} column found (looked for {column_list(names[:6])} ...); columns are "
        f"{column_list(columns)}. Pass {option}= to name it"
    )


def _timestamps(values: pd.Series, column: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_localize(None)  # the wall-clock time the source recorded
    elif pd.api.types.is_numeric_dtype(values):
        raise DataError(
            f"timestamp column {quoted(column)} holds {values.dtype} numbers, not timestamps; mediamix does "
            "not guess epoch units: convert them to ISO timestamps (YYYY-MM-DD HH:MM:SS)"
        )
    else:
        text = values.astype("str")
        try:
            stamps = pd.to_datetime(text, format="ISO8601", errors="coerce")
        except ValueError:  # offsets on some values only: keep the wall-clock time each value states
            stamps = pd.to_datetime(text.str.replace(_OFFSET, r"\1", regex=True), format="ISO8601", errors="coerce")
        if getattr(getattr(stamps, "dt", None), "tz", None) is not None:
            stamps = stamps.dt.tz_localize(None)
        bad = stamps.isna() & values.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"timestamp column {quoted(column)} has a value that is not a timestamp: "
                f"{quoted(values.iloc[row])} in data row {row + 1} ({count(int(bad.sum()), 'such value')}); "
                "write timestamps as ISO YYYY-MM-DD HH:MM:SS"
            )
    missing = np.flatnonzero(stamps.isna().to_numpy())
    if missing.size:
        rows = ", ".join(str(i + 1) for i in missing[:5])
        raise DataError(
            f"timestamp column {quoted(column)} is empty in {count(missing.size, 'row')} (data rows {rows}); "
            "every event needs a time: fill them in or remove those rows"
        )
    return pd.Series(stamps.to_numpy(), index=values.index).astype("datetime64[us]")


# ---- factors -------------------------------------------------------------------------------------


def _factor_rows(frame: pd.DataFrame, options: dict) -> pd.DataFrame:
    """Long factor rows (__date, factor, value, factor_type, value_type) from a long or wide file."""
    lowered = {c.lower(): c for c in frame.columns if c != "__date"}
    default_type = options.get("factor_type", "external")
    default_value_type = options.get("value_type", "actual")
    if "factor" in lowered and "value" in lowered:
        long = pd.DataFrame({
            "__date": frame["__date"],
            "factor": frame[lowered["factor"]],
            "value": frame[lowered["value"]],
            "factor_type": frame[lowered["type"]] if "type" in lowered else default_type,
            "value_type": frame[lowered["value_type"]] if "value_type" in lowered else default_value_type,
        })
        extra = [c for c in lowered.values() if c.lower() not in ("factor", "value", "type", "value_type")]
        if extra:
            raise DataError(
                f"a long factor file has columns date, factor, value and optionally type and value_type; "
                f"also found {column_list(extra)}: remove them or load them as another data set"
            )
    else:
        names = [c for c in frame.columns if c != "__date"]
        if not names:
            raise DataError("the factor batch has no factor columns besides the date")
        long = frame.melt(id_vars="__date", value_vars=names, var_name="factor", value_name="value")
        long["factor_type"] = default_type
        long["value_type"] = default_value_type
    if long["factor"].isna().any():
        row = int(np.flatnonzero(long["factor"].isna().to_numpy())[0]) + 1
        raise DataError(f"factor name is empty in data row {row}; name every factor")
    long["factor"] = long["factor"].astype("str").str.strip()
    for column, allowed in (("factor_type", FACTOR_TYPES), ("value_type", VALUE_TYPES)):
        values = long[column].astype("str").str.strip().str.lower()
        bad = ~values.isin(allowed)
        if bad.any():
            raise DataError(
                f"factor {quoted(long['factor'][bad].iloc[0])} has {column} {quoted(long[column][bad].iloc[0])}; "
                f"use one of {one_of(allowed)}"
            )
        long[column] = values
    numbers = []
    for factor, series in long.groupby("factor", sort=False)["value"]:
        try:
            as_number = as_metric(series, str(factor))
        except DataError as exc:
            raise DataError(f"factor {quoted(factor)}: {exc}") from None
        if not pd.api.types.is_numeric_dtype(as_number):
            raise DataError(
                f"factor {quoted(factor)} holds text (e.g. {quoted(as_number.dropna().iloc[0])}), not numbers; "
                "encode it as numbers (for events, one 0/1 column per event) before loading"
            )
        numbers.append(as_number)
    long["value"] = pd.concat(numbers).reindex(long.index).astype("float64")
    return long.reset_index(drop=True)


# ---- keys and text numbers ----------------------------------------------------------------------


def key_columns(frame: pd.DataFrame, kind: str, options: dict) -> list[str]:
    """The columns that identify one row: declared, or the date and every text column."""
    if kind == "factors":
        return ["__date", "factor", "value_type"]
    declared = options.get("key_columns")
    if declared:
        missing = [c for c in declared if c not in frame.columns]
        missing = [c for c in missing if c.lower() not in ("date",)]
        if missing:
            raise DataError(
                f"key column {quoted(missing[0])} is not in the batch.{suggestion(missing[0], frame.columns)} "
                f"Columns are: {column_list([c for c in frame.columns if not c.startswith('__')])}"
            )
        return ["__date"] + [c for c in declared if c in frame.columns]
    text = [c for c in frame.columns if c != "__date" and not pd.api.types.is_numeric_dtype(frame[c])]
    return ["__date"] + text


def _refuse_repeated_keys(frame: pd.DataFrame, kind: str, options: dict) -> None:
    keys = key_columns(frame, kind, options)
    repeated = frame[frame.duplicated(keys, keep=False)]
    if repeated.empty:
        return
    counts = repeated.groupby(keys, dropna=False, sort=True).size()
    items = []
    for key, n in list(counts.items())[:6]:
        key = key if isinstance(key, tuple) else (key,)
        where = ", ".join(f"{c} {quoted(v)}" for c, v in zip(keys[1:], key[1:]))
        items.append(f"{iso(key[0])}{' (' + where + ')' if where else ''} appears {n} times")
    more = f"; and {len(counts) - 6} more" if len(counts) > 6 else ""
    shown = column_list(["date"] + keys[1:])
    advice = (
        "each factor may have one actual and one forecast value per date"
        if kind == "factors"
        else "if rows differ by a numeric id (ad id, ...), declare the key with key_columns=[...]; if the export "
        "repeated rows, remove the extra rows (they are never summed or averaged silently)"
    )
    raise DataError(f"rows repeat the key ({shown}): {'; '.join(items)}{more}. {advice.capitalize()}")


def _numbers_from_text(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Text columns holding formatted numbers ('$1,234.50') become numbers; a sample decides cheaply."""
    notices = []
    for column in frame.columns:
        if column.startswith("__") or not (pd.api.types.is_string_dtype(frame[column]) or frame[column].dtype == object):
            continue
        sample = frame[column].dropna().head(_SAMPLE).astype("str")
        if sample.empty or not sample.str.match(_FORMATTED).all():
            continue
        if pd.to_numeric(sample, errors="coerce").notna().all() and sample.str.strip().str.match(r"^0\d").any():
            continue  # zero-padded codes such as '00123' are identifiers, not amounts
        frame[column] = as_metric(frame[column], column)
        notices.append(f"read column {quoted(column)} as numbers (it held formatted numbers as text)")
    return frame, notices
