"""Journeys from experience events: per person, the touches before each conversion within the
lookback window, plus the touches that led to no conversion.

Rules (all vectorized over sorted arrays, so ten million events take seconds):
  * A person's events are split at each conversion: a conversion closes a segment that holds the
    rows after the person's previous conversion. A conversion row that carries a channel is also
    the last touch of its own journey (a session that converted).
  * Touches of a segment within `lookback` before its conversion form that conversion's journey,
    repeats kept in order. A conversion with no touch in its window is counted as unattributed.
  * Every other touch (after the person's last conversion, or too old for the next one) belongs to
    a non-converting journey: such touches are grouped into consecutive lookback-long spans
    starting at the first of them, so a non-converting journey is never longer than the window.
    `expired="drop"` discards the too-old ones instead, as some tools do.
  * A non-converting journey is observed from its first touch until the earliest of: last touch +
    lookback, the person's next journey, the end of the data (`observation_end`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mediamix.attribution.paths import PathTable, pick_column
from mediamix.errors import DataError

PERSON_COLUMNS = ("person_id", "person", "user_pseudo_id", "visitor_id", "cookie_id", "client_id",
                  "customer_id", "user_id")
TIME_COLUMNS = ("timestamp", "event_time", "time", "datetime", "event_timestamp", "date")
CHANNEL_COLUMNS = ("channel", "source_medium", "touchpoint", "medium", "source")
CONVERSION_COLUMNS = ("is_conversion", "conversion", "converted", "has_conversion", "is_conversion_purchase")
VALUE_COLUMNS = ("value", "conversion_value", "revenue")

_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n", ""}
_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True, eq=False)
class Journeys:
    """One row of `paths` per journey; touch arrays are aligned with `paths.codes`."""

    paths: PathTable
    touch_time: np.ndarray        # datetime64[ns] of every touch
    person: np.ndarray            # person id of every journey (original values)
    start: np.ndarray             # datetime64[ns] first touch of every journey
    end: np.ndarray               # conversion time, or end of observation if not converted
    converted: np.ndarray         # bool per journey
    lookback: pd.Timedelta
    unattributed_conversions: int
    unattributed_value: float

    def __repr__(self) -> str:
        return (f"Journeys({self.n_journeys} journeys, {int(self.converted.sum())} converting, "
                f"lookback={self.lookback}, unattributed_conversions={self.unattributed_conversions})")

    @property
    def n_journeys(self) -> int:
        return self.paths.n_paths

    @property
    def channels(self) -> tuple[str, ...]:
        return self.paths.channels

    def journey_frame(self) -> pd.DataFrame:
        """One row per journey: person, start, end, converted, conversions, value, touches, path."""
        return pd.DataFrame({
            "journey": np.arange(self.n_journeys), "person": self.person, "start": self.start,
            "end": self.end, "converted": self.converted, "conversions": self.paths.conversions,
            "value": self.paths.value, "n_touches": self.paths.lengths,
        })

    def touches(self) -> pd.DataFrame:
        """One row per touch, in journey order: journey, person, position, timestamp, channel."""
        journey = self.paths.path_index()
        return pd.DataFrame({
            "journey": journey, "person": self.person[journey], "position": self.paths.positions(),
            "timestamp": self.touch_time,
            "channel": pd.Categorical.from_codes(self.paths.codes, categories=list(self.channels)),
            "converted": self.converted[journey],
        })


def build_journeys(events: pd.DataFrame, *, person: str | None = None, timestamp: str | None = None,
                   channel: str | None = None, conversion: str | None = None, value: str | None = None,
                   lookback: float | str | pd.Timedelta = 4, observation_end=None,
                   expired: str = "null") -> Journeys:
    """Journeys from an event frame (one row per touch or conversion).

    `lookback` is in weeks when a number, else a Timedelta or string such as "30D". Column names
    are auto-detected from common spellings unless given.
    """
    if len(events) == 0:
        raise DataError("event table is empty: it has no rows; supply touchpoint and conversion events")
    if expired not in ("null", "drop"):
        raise DataError(f"expired='{expired}' is not an option; use 'null' (keep old touches as "
                        "non-converting journeys) or 'drop'")
    person_col = _pick(events, person, PERSON_COLUMNS, "person id", "person")
    time_col = _pick(events, timestamp, TIME_COLUMNS, "timestamp", "timestamp")
    channel_col = _pick(events, channel, CHANNEL_COLUMNS, "channel", "channel")
    conv_col = _pick(events, conversion, CONVERSION_COLUMNS, "conversion flag", "conversion")
    value_col = _pick(events, value, VALUE_COLUMNS, "value", "value", required=False)
    window = _lookback(lookback)

    persons, person_ids = _person_codes(events[person_col], person_col)
    times = _timestamps(events[time_col], time_col)
    chans, channels = _channel_codes(events[channel_col])
    conv = _conversion_flags(events[conv_col], conv_col)
    no_channel = (chans < 0) & ~conv
    if no_channel.any():
        row = int(np.flatnonzero(no_channel)[0])
        raise DataError(f"channel column '{channel_col}' is empty in {int(no_channel.sum())} rows that are "
                        f"not conversions (first: data row {row + 1}); fill the channel or drop those rows")
    values = _values(events[value_col], value_col, conv) if value_col else np.zeros(len(events))
    end_of_data = _observation_end(observation_end, times)

    order = _sort_order(persons, times, conv)
    return _assemble(persons[order], times[order], chans[order], conv[order], values[order],
                     channels, person_ids, window, end_of_data, expired, has_value=value_col is not None)


def _assemble(p, t, ch, cv, val, channels, person_ids, window, end_of_data, expired, has_value) -> Journeys:
    n = len(p)
    # A segment is a person's rows after their previous conversion, up to and including the next one.
    new_seg = np.empty(n, dtype=bool)
    new_seg[0] = True
    new_seg[1:] = (p[1:] != p[:-1]) | cv[:-1]
    seg = np.cumsum(new_seg) - 1
    seg_last = np.append(np.flatnonzero(new_seg)[1:] - 1, n - 1)
    seg_converts = cv[seg_last]
    seg_time = t[seg_last]

    is_touch = ch >= 0
    in_window = seg_converts[seg] & (seg_time[seg] - t <= window)
    keep = is_touch if expired == "null" else is_touch & (in_window | ~seg_converts[seg])
    idx = np.flatnonzero(keep)
    tk, sk, ck = t[idx], seg[idx], in_window[idx]

    # Non-converting touches: lookback-long spans from the segment's first such touch.
    bucket = np.full(len(idx), -1, dtype=np.int64)
    nc = ~ck
    if nc.any():
        s_nc, t_nc = sk[nc], tk[nc]
        first = np.ones(len(s_nc), dtype=bool)
        first[1:] = s_nc[1:] != s_nc[:-1]
        t0 = np.zeros(len(seg_last), dtype=np.int64)
        t0[s_nc[first]] = t_nc[first]
        bucket[nc] = (t_nc - t0[s_nc]) // window
    change = np.ones(len(idx), dtype=bool)
    change[1:] = (sk[1:] != sk[:-1]) | (bucket[1:] != bucket[:-1])
    jstart = np.flatnonzero(change)
    if len(jstart) == 0:
        raise DataError("no touchpoints left to build journeys from: every row is a conversion without a "
                        "channel; supply touchpoint events")
    lengths = np.diff(np.append(jstart, len(idx)))
    jlast = jstart + lengths - 1
    converted = ck[jstart]
    jseg = sk[jstart]
    person = p[idx[jstart]]

    start = tk[jstart]
    next_start = np.append(start[1:], _NEVER)
    same_person_next = np.append(person[1:] == person[:-1], False)
    open_end = np.minimum(tk[jlast] + window, np.where(same_person_next, next_start, _NEVER))
    open_end = np.maximum(np.minimum(open_end, end_of_data), tk[jlast])
    end = np.where(converted, seg_time[jseg], open_end)
    jvalue = np.where(converted, val[seg_last[jseg]], 0.0)

    attributed_segments = np.zeros(len(seg_last), dtype=bool)
    attributed_segments[jseg[converted]] = True
    lost = seg_converts & ~attributed_segments

    offsets = np.zeros(len(jstart) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    table = PathTable(channels, ch[idx].astype(np.int32), offsets, converted.astype(float),
                      (~converted).astype(float), jvalue, has_nulls=True, has_value=has_value)
    as_time = lambda a: a.view("datetime64[ns]")  # noqa: E731
    person = person if person_ids is None else person_ids[person]
    return Journeys(table, as_time(tk), person, as_time(start), as_time(end), converted,
                    pd.Timedelta(window, unit="ns"), int(lost.sum()), float(val[seg_last[lost]].sum()))


def _sort_order(persons, times, conv):
    """Stable order by person, then time, touches before a conversion at the same instant."""
    rel = times - times.min()
    if rel.max() >= np.iinfo(np.int64).max // 2:
        raise DataError("timestamps span more than 146 years; check the timestamp column")
    key = rel * 2 + conv  # folding the tie-break into the time keeps this to two stable sorts
    by_time = np.argsort(key, kind="stable")
    return by_time[np.argsort(persons[by_time], kind="stable")]


def _pick(frame, given, candidates, role, option, required=True):
    # `model train --mta-events` has no column options, so renaming the column is the way for every user.
    hint = (f"pass the column's name: --{option} COLUMN on `mediamix attribution journeys|report`, "
            f"{option}='<column>' from Python (for `mediamix model train --mta-events`, rename the column in "
            "the file to one of those)")
    return pick_column(frame, given, candidates, role, required, table="event table", hint=hint)


def _lookback(lookback) -> int:
    if isinstance(lookback, (int, float, np.integer, np.floating)) and not isinstance(lookback, bool):
        delta = pd.Timedelta(weeks=float(lookback))
    else:
        try:
            delta = pd.Timedelta(lookback)
        except (ValueError, TypeError):
            raise DataError(f"lookback '{lookback}' is not a duration; give weeks as a number or e.g. '30D'")
    if delta <= pd.Timedelta(0):
        raise DataError(f"lookback must be positive, got {lookback}")
    return int(delta.value)


def _person_codes(column, name):
    """Sortable integer person keys and the ids they stand for (None: the keys are the ids)."""
    if pd.api.types.is_integer_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype) \
            and not column.isna().any():
        return column.to_numpy(dtype=np.int64), None  # integers sort as they are: no factorize pass
    try:  # sorted ids make the journey order independent of the row order
        codes, uniques = pd.factorize(column, sort=True)
    except TypeError:
        codes, uniques = pd.factorize(column, sort=False)
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise DataError(f"person id column '{name}' is empty in {int((codes < 0).sum())} rows "
                        f"(first: data row {row + 1}); fill or drop those rows")
    return codes.astype(np.int64), np.asarray(uniques)


def _timestamps(column, name) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        raise DataError(f"timestamp column '{name}' is numeric, not a date-time; supply date-times such as "
                        "'2022-01-20 15:00:00'")
    parsed = pd.to_datetime(column, errors="coerce", format="mixed") if not \
        pd.api.types.is_datetime64_any_dtype(column) else column
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"timestamp column '{name}' has {int(bad.sum())} missing or unreadable values "
                        f"(first: data row {row + 1}, '{column.iloc[row]}'); supply date-times")
    return parsed.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _channel_codes(column):
    """Channel codes into a sorted, used-only channel list; -1 where the channel is empty."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        raw = column.cat.codes.to_numpy()
        names = np.asarray(column.cat.categories.astype(str), dtype=object)
    else:
        raw, uniq = pd.factorize(column, sort=False)
        names = np.asarray(pd.Index(uniq).astype(str), dtype=object)
    names = np.array([n.strip() for n in names], dtype=object)
    usable = names != ""  # per category, so no per-row string work
    raw = raw.astype(np.int32)
    safe = np.maximum(raw, 0)
    valid = raw >= 0
    if not usable.all():
        valid &= usable[safe]
    used = (np.bincount(raw[valid], minlength=len(names)) > 0) & usable
    order = np.argsort(names, kind="stable")
    order = order[used[order]]
    remap = np.full(len(names), -1, dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    codes = np.where(valid, remap[safe], np.int32(-1))
    return codes, tuple(str(n) for n in names[order])


def _conversion_flags(column, name) -> np.ndarray:
    if pd.api.types.is_bool_dtype(column) and not column.isna().any():
        return column.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype=float)
        bad = ~np.isin(values, (0.0, 1.0))
        flags = values == 1.0
    else:
        text = column.astype("string").str.strip().str.lower().fillna("<missing>")
        bad = ~text.isin(_TRUE | _FALSE).to_numpy()
        flags = text.isin(_TRUE).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"conversion flag column '{name}' has {int(bad.sum())} values that are not 0/1 or "
                        f"true/false (first: data row {row + 1}, '{column.iloc[row]}'); use one row per conversion")
    return flags


def _values(column, name, conv) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = conv & (~np.isfinite(values) | (values < 0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"value column '{name}' has {int(bad.sum())} conversion rows with a missing or negative "
                        f"value (first: data row {row + 1}, '{column.iloc[row]}'); supply values >= 0")
    return np.where(conv, values, 0.0)


def _observation_end(observation_end, times) -> int:
    if observation_end is None:
        return int(times.max())
    end = pd.Timestamp(observation_end)
    if end.value < times.max():
        raise DataError(f"observation_end {end} is before the last event {pd.Timestamp(times.max())}; "
                        "give a later end or leave it out")
    return int(end.value)
