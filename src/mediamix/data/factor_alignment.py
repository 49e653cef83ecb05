"""Factors onto the harmonized view's periods, whatever granularity each factor arrived in.

Factors never coarsen the view: a monthly price index joins a weekly view as well as a daily
one. Each value is laid over the days of its period (a level such as a price holds on every
day; a total such as promotion days is divided among them) and the days are gathered into the
view's periods: levels averaged, totals summed. An actual value wins over a forecast for the
same day (a period with both is 'mixed').
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mediamix.data.cadence import detect_cadence
from mediamix.data.granularity import Granularity
from mediamix.data.messages import quoted
from mediamix.errors import DataError

COLUMNS = ["date", "factor", "value", "value_type", "factor_type", "dataset", "covered_days", "period_days"]


def factor_granularity(dates: pd.Series, factor: str, declared: str | None) -> Granularity:
    """The declared granularity, else the one the factor's dates show."""
    unique = pd.DatetimeIndex(pd.to_datetime(dates).drop_duplicates().sort_values())
    if declared in ("day", "month"):
        return Granularity(declared)
    if declared == "week":
        return Granularity("week", unique[0].day_name())
    if len(unique) < 2:
        raise DataError(
            f"factor {quoted(factor)} has a single date; its granularity cannot be told: load it with "
            "granularity='day', 'week' or 'month'"
        )
    try:
        cadence = detect_cadence(unique, f"factor {factor}")
    except DataError as exc:
        raise DataError(f"factor {quoted(factor)}: {exc}") from None
    if cadence.unit == "week":
        return Granularity("week", cadence.anchor)
    return Granularity(cadence.unit)


def align_factors(rows: pd.DataFrame, view: Granularity, options_by_dataset: dict[str, dict]) -> pd.DataFrame:
    """rows: __date, factor, value, factor_type, value_type, dataset. Returns one row per period and factor."""
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    owners = rows.groupby("factor")["dataset"].unique()
    shared = owners[owners.map(len) > 1]
    if len(shared):
        factor = shared.index[0]
        raise DataError(
            f"factor {quoted(factor)} comes from several data sets ({', '.join(quoted(d) for d in shared.iloc[0])}); "
            "keep each factor in one data set, or rename it in one of them"
        )
    parts = []
    for (factor, dataset), part in rows.groupby(["factor", "dataset"], sort=True):
        options = options_by_dataset.get(dataset, {})
        grain = factor_granularity(part["__date"], factor, options.get("granularity"))
        aggregation = options.get("aggregation", "mean")
        parts.append(_align_one(part, factor, dataset, grain, view, aggregation))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True)[COLUMNS] if parts else pd.DataFrame(columns=COLUMNS)


def _align_one(part: pd.DataFrame, factor: str, dataset: str, grain: Granularity, view: Granularity,
               aggregation: str) -> pd.DataFrame:
    part = part.dropna(subset=["value"])  # a missing value covers no day
    if part.empty:
        return pd.DataFrame(columns=COLUMNS)
    part = part.assign(__date=pd.to_datetime(part["__date"]).astype("datetime64[ns]"))
    starts = _period_start(part["__date"], grain)
    ends = _next_period(starts, grain)
    lengths = ((ends - starts).dt.days).astype(int)
    expanded = part.loc[part.index.repeat(lengths)].copy()
    offsets = np.concatenate([np.arange(n) for n in lengths]) if len(lengths) else np.array([], dtype=int)
    expanded["day"] = starts.loc[expanded.index].to_numpy() + offsets.astype("timedelta64[D]")
    if aggregation == "sum":
        expanded["value"] = expanded["value"] / lengths.loc[expanded.index].to_numpy()
    # an actual value wins over a forecast for the same day
    expanded = expanded.sort_values(["day", "value_type"]).drop_duplicates("day", keep="first")
    expanded["date"] = _period_start(expanded["day"], view)
    grouped = expanded.groupby("date", sort=True)
    out = grouped["value"].agg("sum" if aggregation == "sum" else "mean").rename("value").to_frame()
    out["covered_days"] = grouped["day"].nunique()
    kinds = grouped["value_type"].agg(lambda v: v.iloc[0] if v.nunique() == 1 else "mixed")
    out["value_type"] = kinds
    out = out.reset_index()
    out["period_days"] = (_next_period(out["date"], view) - out["date"]).dt.days.astype(int)
    out["factor"] = factor
    out["dataset"] = dataset
    out["factor_type"] = part["factor_type"].iloc[-1]
    return out


def _period_start(days: pd.Series, grain: Granularity) -> pd.Series:
    days = pd.to_datetime(days)
    if grain.unit == "day":
        return days
    if grain.unit == "month":
        return days.dt.to_period("M").dt.start_time.astype("datetime64[ns]")
    start = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"].index(grain.week_start)
    return days - pd.to_timedelta((days.dt.day_of_week - start) % 7, unit="D")


def _next_period(starts: pd.Series, grain: Granularity) -> pd.Series:
    if grain.unit == "day":
        return starts + pd.Timedelta(days=1)
    if grain.unit == "week":
        return starts + pd.Timedelta(days=7)
    return (starts.dt.to_period("M") + 1).dt.start_time.astype("datetime64[ns]")
