"""Per-period series of a condition over the harmonized view (what touchpoints and conversions read).

Metrics are summed per period in DuckDB; derived metrics are computed from those sums. The
result covers every period of the view's calendar, with a flag saying which periods have rows at
all: a period without rows is a gap (or, for event data, a period without events), never
silently a zero.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mediamix.data.conditions import Condition, subjects, to_sql
from mediamix.data.fields import evaluate_metric, metric_components
from mediamix.data.sql import ident, literal
from mediamix.data.view import ViewInfo


@dataclass(frozen=True)
class PeriodSeries:
    values: pd.DataFrame  # index date (and geo); one column per requested metric; NaN where no rows
    present: pd.Series  # same index: True where the period has rows
    summary_fed: bool  # some rows come from summary (dated) data, whose missing periods are gaps
    datasets: tuple[str, ...]
    missing_dimensions: tuple[str, ...]  # dimensions the conditions test that no active rule sets

    @property
    def first(self) -> pd.Timestamp | None:
        dates = self.present[self.present].index.get_level_values("date")
        return dates.min() if len(dates) else None

    @property
    def last(self) -> pd.Timestamp | None:
        dates = self.present[self.present].index.get_level_values("date")
        return dates.max() if len(dates) else None


def calendar(info: ViewInfo, start=None, end=None) -> pd.DatetimeIndex:
    """Every period of the view from its first to its last date (or the given bounds)."""
    if info.first_date is None:
        return pd.DatetimeIndex([], name="date")
    first = info.first_date if start is None else pd.Timestamp(start)
    last = info.last_date if end is None else pd.Timestamp(end)
    return pd.DatetimeIndex(info.granularity.cadence.range(first, last), name="date")


def read_series(con, info: ViewInfo, fields: dict, metrics: tuple[str, ...], *, where: Condition | None = None,
                population: Condition | None = None, by_geo: bool = False,
                periods: pd.DatetimeIndex | None = None, geos: list[str] | None = None) -> PeriodSeries:
    components = tuple(dict.fromkeys(c for m in metrics for c in metric_components(m, fields)))
    tested = [s for c in (where, population) if c is not None for s in subjects(c)]
    missing = tuple(dict.fromkeys(s for s in tested if s not in info.dimensions))

    def resolve(name: str) -> str:
        return ident(name) if name in info.dimensions else "CAST(NULL AS VARCHAR)"

    filters = [f"field IN ({', '.join(literal(c) for c in components)})"]
    filters += [to_sql(c, resolve) for c in (where, population) if c is not None]
    keys = ["date"] + (["geo"] if by_geo else [])
    key_sql = ", ".join(ident(k) if k != "geo" else resolve("geo") + " AS geo" for k in keys)
    sums = ", ".join(f"sum(value) FILTER (WHERE field = {literal(c)}) AS {ident(c)}" for c in components)
    where_sql = " AND ".join(filters)
    frame = con.execute(
        f"SELECT {key_sql}, {sums}, count(*) AS __rows FROM harmonized WHERE {where_sql} GROUP BY ALL"
    ).df()
    datasets, summary_fed = con.execute(
        f"SELECT list(DISTINCT dataset ORDER BY dataset), coalesce(bool_or(origin = 'summary'), FALSE) "
        f"FROM harmonized WHERE {where_sql}"
    ).fetchall()[0]
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame = frame.set_index(keys)
    periods = calendar(info) if periods is None else periods
    if by_geo:
        geos = geos if geos is not None else sorted(frame.index.get_level_values("geo").dropna().unique())
        index = pd.MultiIndex.from_product([periods, geos], names=["date", "geo"])
    else:
        index = periods
    frame = frame.reindex(index)
    present = frame["__rows"].notna()
    sums = {c: frame[c].where(~present, frame[c].fillna(0.0)) for c in components}  # no rows of a metric: 0
    values = pd.DataFrame({m: evaluate_metric(m, fields, sums) for m in metrics}, index=index)
    return PeriodSeries(values, present, bool(summary_fed), tuple(datasets or ()), missing)
