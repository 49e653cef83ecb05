"""Data-quality report: built with every sync, and for the series a model reads.

Per touchpoint and conversion: coverage (first and last period, gaps, zero periods), negative
values, outliers, mid-series starts and early stops, all-zero series; between touchpoints:
spend correlated above 0.95 (the pair is named); per data set: rows repeated exactly and
negative values; units: money metrics without a currency, spend and revenue in different
currencies. Errors block a model; warnings travel with it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mediamix.data.datasets import all_info
from mediamix.data.definitions import load_definitions
from mediamix.data.fields import load_catalogue, metric_components
from mediamix.data.messages import count, date_runs, iso, number, quoted
from mediamix.data.schema import has_table
from mediamix.data.series import PeriodSeries, calendar, read_series
from mediamix.data.sql import ident
from mediamix.data.view import ViewInfo, view_info

CORRELATION_LIMIT = 0.95
OUTLIER_Z = 6.0  # robust z-score (median and MAD of the non-zero values)
MIN_VALUES_FOR_OUTLIERS = 8
COVERAGE_COLUMNS = ["subject", "role", "metric", "unit", "first_date", "last_date", "periods", "gaps",
                    "zero_periods", "total"]


@dataclass(frozen=True)
class Issue:
    severity: str  # "error" blocks a model, "warning" is shown with it
    check: str
    subject: str  # "touchpoint:search", "conversion:orders", "dataset:web", "field:spend", "factor:price"
    message: str


@dataclass(frozen=True)
class QualityReport:
    sync_id: int | None
    issues: tuple[Issue, ...]
    coverage: pd.DataFrame

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def about(self, *subjects: str) -> list[Issue]:
        return [i for i in self.issues if i.subject in subjects]

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([i.__dict__ for i in self.issues], columns=["severity", "check", "subject", "message"])


# ---- series checks ---------------------------------------------------------------------------------


def check_series(role: str, name: str, series: PeriodSeries, metrics: list[tuple[str, str]], fields: dict,
                 info: ViewInfo, periods: pd.DatetimeIndex) -> tuple[list[Issue], list[dict]]:
    """Checks of one touchpoint or conversion over `periods`; metrics: [(metric, role word), ...]."""
    subject = f"{role}:{name}"
    label = f"{role} {quoted(name)}"
    unit = info.granularity.unit
    issues: list[Issue] = []
    present = series.present.groupby(level="date").any() if isinstance(series.present.index, pd.MultiIndex) else series.present
    present = present.reindex(periods, fill_value=False)
    values = series.values.groupby(level="date").sum(min_count=1) if isinstance(series.values.index, pd.MultiIndex) else series.values
    values = values.reindex(periods)
    if not len(periods) or not present.any():
        hint = ""
        if series.missing_dimensions:
            hint = (f"; no active rule sets {', '.join(quoted(d) for d in series.missing_dimensions)}, so those "
                    "dimensions are empty in the view")
        span = f" between {iso(periods[0])} and {iso(periods[-1])}" if len(periods) else ""
        issues.append(Issue("error", "coverage", subject, f"{label} matches no rows of the harmonized view{span}{hint}; "
                            "check its condition and the active rules"))
        return issues, [_coverage(name, role, m, fields, None, None, 0, 0, 0, None) for m, _ in metrics]
    dates = present[present].index
    first, last = dates.min(), dates.max()
    inside = present.loc[first:last]
    gaps = inside[~inside].index
    step = lambda d: info.granularity.cadence.shift(d, 1)  # noqa: E731
    if len(gaps):
        span = f"between {iso(first)} and {iso(last)}"
        if series.summary_fed:
            issues.append(Issue("error", "gaps", subject, (
                f"{label} has no rows in {len(gaps)} of {count(len(inside), unit)} {span}: {date_runs(gaps, step)}. "
                f"Missing {unit}s are not zero-spend {unit}s: add the rows (with zeros where nothing happened), "
                "or restate the data")))
        else:
            issues.append(Issue("warning", "gaps", subject, (
                f"{label} has no events in {len(gaps)} of {count(len(inside), unit)} {span}: {date_runs(gaps, step)}; "
                f"they are read as zero")))
    coverage = []
    primary = metrics[0][0]
    active = values[primary].fillna(0) != 0
    if active.any():
        started, stopped = active[active].index.min(), active[active].index.max()
        lead = len(periods[periods < started])
        if lead > 1:
            issues.append(Issue("warning", "start", subject, (
                f"{label} starts on {iso(started)}, {count(lead, unit)} after the data begins ({iso(periods[0])}); "
                f"its earlier {unit}s read as zero")))
        tail = len(periods[periods > stopped])
        if tail > 1:
            issues.append(Issue("warning", "end", subject, (
                f"{label} stops on {iso(stopped)}, {count(tail, unit)} before the data ends ({iso(periods[-1])}); "
                f"its later {unit}s read as zero")))
    for metric, word in metrics:
        column = values[metric]
        observed = column[present].dropna()
        zeros = int((observed == 0).sum())
        issues += _value_issues(label, subject, word, column[present])
        if len(observed) and (observed == 0).all():
            advice = "drop it or supply data" if role == "touchpoint" else "choose the metric that holds the conversions"
            issues.append(Issue("error", "zeros", subject,
                                f"{label} has zero {word} in all {count(len(observed), unit)}; {advice}"))
        coverage.append(_coverage(name, role, metric, fields, first, last, len(inside), len(gaps), zeros,
                                  float(observed.sum()) if len(observed) else None))
    return issues, coverage


def geo_gap_issues(role: str, name: str, by_geo: PeriodSeries, periods: pd.DatetimeIndex, info: ViewInfo) -> list[Issue]:
    """Geos of a summary-fed series missing periods the series has elsewhere: summing them would hide the hole."""
    if not by_geo.summary_fed or not isinstance(by_geo.present.index, pd.MultiIndex):
        return []
    present = by_geo.present
    national = present.groupby(level="date").any().reindex(periods, fill_value=False)
    if not national.any():
        return []
    span = periods[(periods >= national[national].index.min()) & (periods <= national[national].index.max())]
    unit = info.granularity.unit
    step = lambda d: info.granularity.cadence.shift(d, 1)  # noqa: E731
    grid = present.unstack("geo").reindex(span, fill_value=False).astype(bool)
    grid = grid.loc[:, grid.any()]  # a geo this series never reaches is not a gap
    holes = grid.columns[(~grid).any()]
    issues = []
    for geo in holes:
        lacking = grid.index[~grid[geo]]
        if len(lacking):
            issues.append(Issue("error", "gaps", f"{role}:{name}", (
                f"{role} {quoted(name)} has no rows in geo {quoted(geo)} in {len(lacking)} of {count(len(span), unit)} "
                f"between {iso(span[0])} and {iso(span[-1])}: {date_runs(lacking, step)}. Missing {unit}s are not "
                f"zero-spend {unit}s: add the rows for that geo (with zeros where nothing happened)")))
    return issues


def _value_issues(label: str, subject: str, word: str, values: pd.Series) -> list[Issue]:
    issues = []
    negative = values[values < 0]
    if len(negative):
        pairs = [f"{iso(d)} {number(v)}" for d, v in negative.items()]
        shown = ", ".join(pairs[:10]) + (f" and {len(pairs) - 10} more" if len(pairs) > 10 else "")
        issues.append(Issue("error", "negative", subject, (
            f"{label} has {count(len(pairs), f'negative {word} value')}: {shown}; fix the export or model it as a "
            "signed factor")))
    nonzero = values[(values != 0) & values.notna()]
    if len(nonzero) >= MIN_VALUES_FOR_OUTLIERS:
        median = nonzero.median()
        mad = (nonzero - median).abs().median()
        if mad > 0:
            z = 0.6745 * (nonzero - median) / mad
            far = nonzero[z.abs() > OUTLIER_Z]
            if len(far):
                shown = ", ".join(f"{iso(d)} {number(v)}" for d, v in far.head(6).items())
                issues.append(Issue("warning", "outliers", subject, (
                    f"{label} has {count(len(far), f'outlying {word} value')} (typical {number(median)}): {shown}; "
                    "check them in the source")))
    return issues


def _coverage(name, role, metric, fields, first, last, periods, gaps, zeros, total) -> dict:
    return {"subject": name, "role": role, "metric": metric, "unit": fields[metric].unit, "first_date": first,
            "last_date": last, "periods": periods, "gaps": gaps, "zero_periods": zeros, "total": total}


def correlated_pairs(spends: dict[str, pd.Series], unit: str) -> list[Issue]:
    """Touchpoints whose spend moves together (|r| > 0.95): a model cannot tell their effects apart."""
    issues = []
    names = list(spends)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            x, y = spends[a].fillna(0).to_numpy(float), spends[b].fillna(0).to_numpy(float)
            if len(x) < 3 or x.std() == 0 or y.std() == 0:
                continue
            r = float(np.corrcoef(x, y)[0, 1])
            if abs(r) > CORRELATION_LIMIT:
                issues.append(Issue("warning", "correlation", f"touchpoint:{a}", (
                    f"touchpoints {quoted(a)} and {quoted(b)} have spend correlated at r = {r:.3f} over "
                    f"{count(len(x), unit)}; a model cannot tell their effects apart: combine them, or add data where "
                    "they vary apart")))
    return issues


def conversion_currency(conversion, fields: dict) -> str:
    """The currency a conversion's value is in: its revenue metric's, or its conversion metric's if that is money."""
    metric = conversion.revenue or conversion.conversion
    return fields[metric].currency if metric in fields else ""


def currency_issues(touchpoints: dict, conversions: dict, fields: dict) -> list[Issue]:
    issues = []
    for c in conversions.values():
        revenue = conversion_currency(c, fields)
        if not revenue:
            continue
        for t in touchpoints.values():
            spend = fields[t.spend].currency
            if revenue and spend and spend != revenue:
                issues.append(Issue("warning", "units", f"touchpoint:{t.name}", (
                    f"touchpoint {quoted(t.name)} spends in {spend} but conversion {quoted(c.name)} earns revenue in "
                    f"{revenue}; a model of both needs an exchange rate (rates={{'{spend}/{revenue}': ...}})")))
    return issues


# ---- data-set checks --------------------------------------------------------------------------------


def duplicate_rows(con) -> list[Issue]:
    """Rows repeated exactly (every column equal) within a batched data set."""
    issues = []
    for found in all_info(con):
        columns = [c for c in found.columns if c != "__batch"]
        cols = ", ".join(ident(c) for c in columns)
        table = ident(found.raw_table)
        # rows grouped by a hash of all their values first (8 bytes a row, not the whole row), then the few
        # candidates compared value by value, so a hash collision is never reported as a duplicate
        candidates = f"SELECT h FROM (SELECT hash({cols}) AS h FROM {table}) GROUP BY h HAVING count(*) > 1"
        repeated = (f"SELECT {cols}, count(*) AS __n FROM {table} WHERE hash({cols}) IN ({candidates}) "
                    f"GROUP BY {cols} HAVING count(*) > 1")
        rows = con.execute(f"SELECT * FROM ({repeated}) ORDER BY __n DESC LIMIT 3").df()
        if rows.empty:
            continue
        (extra,) = con.execute(f"SELECT coalesce(sum(__n - 1), 0) FROM ({repeated})").fetchall()[0]
        example = rows.iloc[0]
        when = example.get("__ts", example.get("__date"))
        described = ", ".join(f"{c} {quoted(example[c])}" for c in columns[1:4] if not c.startswith("__") and pd.notna(example[c]))
        who = f" person {quoted(example['__person'])}" if "__person" in example else ""
        issues.append(Issue("warning", "duplicates", f"dataset:{found.name}", (
            f"data set {quoted(found.name)} has {count(int(extra), 'row')} repeating another row exactly (e.g. "
            f"{pd.Timestamp(when)}{who}{', ' + described if described else ''}, {int(example['__n'])} times); if the "
            "export repeated them, restate those dates without the copies")))
    return issues


def negative_metrics(con, used: set[str]) -> list[Issue]:
    """Negative values of metrics no touchpoint or conversion uses (those are errors of their series)."""
    rows = con.execute(
        "SELECT dataset, field, count(*) AS n, min(value) AS low, arg_min(date, value) AS at FROM harmonized "
        "WHERE value < 0 GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    return [Issue("warning", "negative", f"field:{field}", (
        f"metric {quoted(field)} from data set {quoted(dataset)} is negative in {count(n, 'row')} (lowest "
        f"{number(low)} on {iso(at)}); if these are returns or corrections, that may be intended"))
        for dataset, field, n, low, at in rows if field not in used]


def missing_currencies(metrics, fields: dict) -> list[Issue]:
    """One warning per money metric without a currency among `metrics` (stored or derived)."""
    return [Issue("warning", "units", f"field:{f}", (
        f"money metric {quoted(f)} has no currency; set it with `mediamix data fields unit {f} USD` (or its currency)"))
        for f in dict.fromkeys(metrics) if f in fields and fields[f].kind == "money" and not fields[f].currency]


# ---- the report of a sync --------------------------------------------------------------------------


def build_report(con, sync_id: int) -> QualityReport:
    info = view_info(con)
    fields = load_catalogue(con)
    touchpoints = load_definitions(con, "touchpoint")
    conversions = load_definitions(con, "conversion")
    periods = calendar(info)
    issues: list[Issue] = []
    coverage: list[dict] = []
    spends = {}
    for name, t in touchpoints.items():
        if not _known(t.metrics, fields):
            issues.append(_unknown_metric("touchpoint", name, t.metrics, fields))
            continue
        series = read_series(con, info, fields, t.metrics, where=t.where)
        found, rows = check_series("touchpoint", name, series, touchpoint_roles(t), fields, info, periods)
        issues += found + geo_gaps(con, info, fields, "touchpoint", name, t.metrics, t.where, periods)
        coverage += rows
        spends[name] = series.values[t.spend]
    for name, c in conversions.items():
        if not _known(c.metrics, fields):
            issues.append(_unknown_metric("conversion", name, c.metrics, fields))
            continue
        series = read_series(con, info, fields, c.metrics, where=c.where)
        found, rows = check_series("conversion", name, series, conversion_roles(c), fields, info, periods)
        issues += found + geo_gaps(con, info, fields, "conversion", name, c.metrics, c.where, periods)
        coverage += rows
    issues += correlated_pairs(spends, info.granularity.unit)
    issues += currency_issues(touchpoints, conversions, fields)
    used = {m for d in (*touchpoints.values(), *conversions.values()) if _known(d.metrics, fields)
            for metric in d.metrics for m in metric_components(metric, fields)}
    issues += duplicate_rows(con)
    issues += negative_metrics(con, used)
    issues += missing_currencies([r[0] for r in con.execute("SELECT DISTINCT field FROM harmonized ORDER BY 1").fetchall()],
                                 fields)
    return QualityReport(sync_id, tuple(issues), pd.DataFrame(coverage, columns=COVERAGE_COLUMNS))


def geo_gaps(con, info, fields, role, name, metrics, where, periods, population=None) -> list[Issue]:
    if "geo" not in info.dimensions:
        return []
    by_geo = read_series(con, info, fields, metrics, where=where, population=population, by_geo=True, periods=periods)
    return geo_gap_issues(role, name, by_geo, periods, info)


def touchpoint_roles(t) -> list[tuple[str, str]]:
    return [(t.spend, "spend")] + ([(t.volume, "volume")] if t.volume else [])


def conversion_roles(c) -> list[tuple[str, str]]:
    return [(c.conversion, "conversions")] + ([(c.revenue, "revenue")] if c.revenue else [])


def _known(metrics, fields) -> bool:
    return all(m in fields for m in metrics)


def _unknown_metric(role, name, metrics, fields) -> Issue:
    gone = [m for m in metrics if m not in fields]
    return Issue("error", "definition", f"{role}:{name}",
                 f"{role} {quoted(name)} uses metric {quoted(gone[0])}, which is no longer in the field catalogue")


def store_report(con, sync_id: int, report: QualityReport) -> None:
    for issue in report.issues:
        con.execute("INSERT INTO quality_issues VALUES (?, ?, ?, ?, ?)",
                    [sync_id, issue.severity, issue.check, issue.subject, issue.message])
    for row in report.coverage.to_dict("records"):
        con.execute(
            "INSERT INTO quality_coverage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sync_id, row["subject"], row["role"], row["metric"], row["unit"] or "",
             None if row["first_date"] is None or pd.isna(row["first_date"]) else pd.Timestamp(row["first_date"]).date(),
             None if row["last_date"] is None or pd.isna(row["last_date"]) else pd.Timestamp(row["last_date"]).date(),
             int(row["periods"]), int(row["gaps"]), int(row["zero_periods"]),
             None if row["total"] is None or pd.isna(row["total"]) else float(row["total"])],
        )


def quality_report(store, sync_id: int | None = None) -> QualityReport:
    """The report of a sync (the latest by default)."""
    with store.reading() as con:
        info = view_info(con)
        sync_id = info.sync_id if sync_id is None else int(sync_id)
        if not has_table(con, "quality_issues"):
            return QualityReport(sync_id, (), pd.DataFrame(columns=COVERAGE_COLUMNS))
        issues = tuple(Issue(*row) for row in con.execute(
            "SELECT severity, check_name, subject, message FROM quality_issues WHERE sync_id = ?", [sync_id]).fetchall())
        coverage = con.execute(
            f"SELECT {', '.join(COVERAGE_COLUMNS)} FROM quality_coverage WHERE sync_id = ? ORDER BY role DESC, subject, metric",
            [sync_id]).df()
    for column in ("first_date", "last_date"):
        coverage[column] = pd.to_datetime(coverage[column])
    return QualityReport(sync_id, issues, coverage)
