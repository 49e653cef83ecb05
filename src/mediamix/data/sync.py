"""`sync`: rebuild the harmonized view from every active rule, in one transaction.

Each rule's rows are aggregated in DuckDB to the view's granularity (the coarsest any active rule
declares), then merged by the merge preference into the long table `harmonized`
(date, dataset, origin, rule, <dimensions>, field, value). Factors are aligned to the same
periods into `harmonized_factors`. The old view stays readable until the new one commits; a
failed sync leaves it as it was.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd

from mediamix.data.cadence import WEEKDAYS
from mediamix.data.conditions import to_sql
from mediamix.data.datasets import all_info
from mediamix.data.factor_alignment import align_factors
from mediamix.data.fields import load_catalogue
from mediamix.data.granularity import Granularity, view_granularity
from mediamix.data.merge import dropped_origins, load_preferences
from mediamix.data.messages import count, quoted
from mediamix.data.rules import Rule, check_rule, load_rules
from mediamix.data.schema import revision
from mediamix.data.sources import Source, relation, source_for
from mediamix.data.sql import ident, literal, one, register, unregister
from mediamix.errors import DataError

STAGING = "harmonized_staging"


@dataclass(frozen=True)
class SyncResult:
    sync_id: int
    granularity: Granularity
    rows: int
    first_date: pd.Timestamp | None
    last_date: pd.Timestamp | None
    dimensions: tuple[str, ...]
    notices: tuple[str, ...]
    seconds: float
    report: object = None  # the QualityReport of this sync

    def describe(self) -> str:
        span = f"{self.first_date:%Y-%m-%d} to {self.last_date:%Y-%m-%d}" if self.first_date is not None else "no dates"
        return f"sync {self.sync_id}: {count(self.rows, 'row')}, {self.granularity.describe()}, {span}"


def sync(store, *, week_start: str | None = None) -> SyncResult:
    """Rebuild the harmonized view (and its data-quality report) from the active rules."""
    from mediamix.data.quality import build_report, store_report

    started = time.perf_counter()
    with store.transaction() as con:
        fields = load_catalogue(con)
        rules = load_rules(con, active_only=True)
        sources = {}
        for rule in rules:
            if rule.dataset not in sources:
                sources[rule.dataset] = source_for(con, rule.dataset)
            check_rule(rule, fields, sources[rule.dataset])
        view, notices = view_granularity(
            [(rule.label, rule.granularity, sources[rule.dataset].shape == "events") for rule in rules], week_start
        )
        dimensions = _dimensions(rules, fields)
        _create_staging(con, dimensions)
        for index, rule in enumerate(rules):
            source = sources[rule.dataset]
            table = relation(con, source, f"summary_source_{index}")
            notices += _stage_rule(con, rule, source, table, view, dimensions)
        notices += _merge(con, dimensions, load_preferences(con))
        notices += _factors(con, view)
        sync_id = _record(con, view, dimensions, notices, started)
        report = build_report(con, sync_id)
        store_report(con, sync_id, report)
        rows, first, last = one(con, "SELECT count(*), min(date), max(date) FROM harmonized")
    first = None if first is None else pd.Timestamp(first)
    last = None if last is None else pd.Timestamp(last)
    return SyncResult(sync_id, view, int(rows), first, last, tuple(dimensions), tuple(notices),
                      time.perf_counter() - started, report)


def _dimensions(rules: list[Rule], fields: dict) -> list[str]:
    """Every dimension an active rule sets, in catalogue order (so the view's columns are stable)."""
    used = {name for rule in rules for name, _ in rule.dimensions}
    return [name for name in fields if name in used]


def _create_staging(con, dimensions: list[str]) -> None:
    columns = ", ".join(f"{ident(d)} VARCHAR" for d in dimensions)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGING} (date DATE, dataset VARCHAR, origin VARCHAR, rule VARCHAR"
        f"{', ' + columns if columns else ''}, field VARCHAR, value DOUBLE)"
    )


def _stage_rule(con, rule: Rule, source: Source, table: str, view: Granularity, dimensions: list[str]) -> list[str]:
    """Aggregate one rule's rows to the view's periods (in SQL) and append them, one row per metric."""
    notices = []
    where = "TRUE" if rule.when is None else to_sql(rule.when, ident, source.is_numeric)
    set_by_rule = dict(rule.dimensions)
    dims = [f"{set_by_rule[d].to_sql(source) if d in set_by_rule else 'CAST(NULL AS VARCHAR)'} AS {ident(d)}"
            for d in dimensions]
    metrics = [f"{m.to_sql()} AS __m{i}" for i, (_, m) in enumerate(rule.metrics)]
    if source.shape == "events":
        period = view.period_sql("CAST(__ts AS DATE)")
        select = f"SELECT {period} AS date, {', '.join(dims + metrics)} FROM {table} WHERE {where} GROUP BY ALL"
    else:
        notices += _check_week_anchor(con, rule, table, where)
        day = "CAST(__date AS DATE)" if rule.granularity.dated_by == "start" else "CAST(__date AS DATE) - 6"
        inner = (f"SELECT {rule.granularity.period_sql(f'({day})')} AS __period, {', '.join(dims + metrics)} "
                 f"FROM {table} WHERE {where} GROUP BY ALL")
        names = [ident(d) for d in dimensions]
        sums = [f"sum(__m{i}) AS __m{i}" for i in range(len(rule.metrics))]
        if rule.granularity.nests_in(view):
            period = view.period_sql("__period")
            select = f"SELECT {period} AS date, {', '.join(names + sums)} FROM ({inner}) GROUP BY ALL"
        else:
            # a week straddling the view's periods: its value spread evenly over its seven days
            spread = [f"sum(__m{i} / 7.0) AS __m{i}" for i in range(len(rule.metrics))]
            period = view.period_sql("CAST(__period + CAST(__d AS INTEGER) AS DATE)")
            select = (f"SELECT {period} AS date, {', '.join(names + spread)} FROM ({inner}) "
                      f"CROSS JOIN range(7) AS __days(__d) GROUP BY ALL")
            notices.append(f"spread the weekly rows of rule {quoted(rule.label)} over their days into "
                           f"{view.describe()} periods")
    con.execute(f"CREATE OR REPLACE TEMP TABLE rule_output AS {select}")
    dim_list = "".join(f", {ident(d)}" for d in dimensions)
    for i, (name, _) in enumerate(rule.metrics):
        con.execute(
            f"INSERT INTO {STAGING} SELECT date, {literal(rule.dataset)}, {literal(source.origin)}, "
            f"{literal(rule.name)}{dim_list}, {literal(name)}, __m{i} FROM rule_output WHERE __m{i} IS NOT NULL"
        )
    (produced,) = one(con, "SELECT count(*) FROM rule_output")
    if produced == 0:
        notices.append(f"rule {quoted(rule.label)} matched no rows of data set {quoted(rule.dataset)}")
    con.execute("DROP TABLE rule_output")
    return notices


def _check_week_anchor(con, rule: Rule, table: str, where: str) -> list[str]:
    """Weekly rows all dated on one weekday that is not the declared one are a mis-declared week."""
    g = rule.granularity
    if g.unit != "week":
        return []
    days = con.execute(
        f"SELECT isodow(CAST(__date AS DATE)) AS d, count(*) FROM {table} WHERE {where} GROUP BY 1"
    ).fetchall()
    if len(days) != 1:
        return []
    found = WEEKDAYS[days[0][0] - 1]
    start = WEEKDAYS.index(g.week_start)
    expected = WEEKDAYS[start] if g.dated_by == "start" else WEEKDAYS[(start + 6) % 7]
    if found == expected:
        return []
    end_of = WEEKDAYS[(WEEKDAYS.index(found) + 1) % 7]
    raise DataError(
        f"rule {quoted(rule.label)} declares weeks starting on {g.week_start}"
        f"{' dated by their last day' if g.dated_by == 'end' else ''}, but every row of data set "
        f"{quoted(rule.dataset)} is dated on a {found}: declare week_start: {found}, or, if the rows are dated "
        f"by the last day of their week, week_start: {end_of} with dated_by: end"
    )


def _merge(con, dimensions: list[str], prefs) -> list[str]:
    channel = ident("channel") if "channel" in dimensions else "CAST(NULL AS VARCHAR)"
    staged_channel = f"s.{channel}" if "channel" in dimensions else channel
    presence = con.execute(
        f"SELECT field, {channel} AS channel, bool_or(origin = 'summary') AS summary, bool_or(origin = 'event') AS event "
        f"FROM {STAGING} GROUP BY ALL ORDER BY ALL"
    ).df()
    drops, notices = dropped_origins(presence, prefs)
    if drops.empty:
        con.execute(f"CREATE OR REPLACE TABLE harmonized AS SELECT * FROM {STAGING}")
    else:
        register(con, "merge_drops", drops)
        con.execute(
            f"CREATE OR REPLACE TABLE harmonized AS SELECT s.* FROM {STAGING} s WHERE NOT EXISTS ("
            f"SELECT 1 FROM merge_drops d WHERE d.field = s.field AND d.origin = s.origin "
            f"AND CAST(d.channel AS VARCHAR) IS NOT DISTINCT FROM {staged_channel})"
        )
        unregister(con, "merge_drops")
    con.execute(f"DROP TABLE {STAGING}")
    return notices


def _factors(con, view: Granularity) -> list[str]:
    parts, options = [], {}
    for found in all_info(con):
        if found.kind != "factors":
            continue
        options[found.name] = found.options
        rows = con.execute(
            f"SELECT __date, factor, value, factor_type, value_type FROM {ident(found.raw_table)}"
        ).df()
        parts.append(rows.assign(dataset=found.name))
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["__date", "factor", "value", "factor_type", "value_type", "dataset"])
    aligned = align_factors(rows, view, options)
    aligned = aligned.astype({"date": "datetime64[ns]", "factor": "str", "value": "float64", "value_type": "str",
                              "factor_type": "str", "dataset": "str", "covered_days": "int64", "period_days": "int64"})
    register(con, "aligned_factors", aligned)
    con.execute(
        "CREATE OR REPLACE TABLE harmonized_factors AS SELECT CAST(date AS DATE) AS date, factor, value, value_type, "
        "factor_type, dataset, covered_days, period_days FROM aligned_factors"
    )
    unregister(con, "aligned_factors")
    n = aligned["factor"].nunique()
    return [f"aligned {count(n, 'factor')} to {view.describe()} periods"] if n else []


def _record(con, view: Granularity, dimensions: list[str], notices: list[str], started: float) -> int:
    (sync_id,) = one(con, "SELECT coalesce(max(sync_id), 0) + 1 FROM sync_runs")
    rows, first, last = one(con, "SELECT count(*), min(date), max(date) FROM harmonized")
    con.execute(
        "INSERT INTO sync_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [sync_id, datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0), revision(con), view.unit,
         view.week_start, first, last, rows, list(dimensions), list(notices), time.perf_counter() - started],
    )
    return int(sync_id)
