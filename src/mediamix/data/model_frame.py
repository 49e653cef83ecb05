"""The table a model reads: defined touchpoints and a conversion, per period, checked.

    frame = touchpoint_frame(store, ["search_brand", "tv"], "orders", population="us_only")
    frame.columns -> date, search_brand_spend, search_brand_volume, tv_spend, conversion, revenue
    frame.attrs["warnings"], frame.attrs["currency"]

The frame covers the conversion's periods. Errors of the data-quality checks for these
touchpoints and this conversion stop it (DataProblems names every one); warnings travel in
frame.attrs. Spend and revenue in different currencies need a rate.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pandas as pd

from mediamix.data.definitions import load_definitions, pick
from mediamix.data.fields import load_catalogue
from mediamix.data.messages import column_list, count, date_runs, iso, quoted, show
from mediamix.data.quality import (
    Issue, check_series, conversion_currency, conversion_roles, correlated_pairs, geo_gaps, missing_currencies,
    touchpoint_roles,
)
from mediamix.data.schema import has_table
from mediamix.data.series import calendar, read_series
from mediamix.data.summary import SummaryData
from mediamix.data.validate import DataProblems
from mediamix.data.view import require_fresh, view_info
from mediamix.errors import DataError

HARMONIZED = "harmonized"  # the data set name a ModelSpec gives to read defined touchpoints (model_data)
_PAIR = re.compile(r"^\s*([A-Za-z]{3})\s*(?:/|->|to)\s*([A-Za-z]{3})\s*$")


def touchpoint_frame(store, touchpoint_names: Sequence[str], conversion_name: str, *, population: str | None = None,
                     factors: Sequence[str] = (), rates: Mapping | None = None, currency: str | None = None,
                     by_geo: bool = False, start=None, end=None) -> pd.DataFrame:
    """date, <tp>_spend, <tp>_volume, ..., conversion[, revenue][, factors] per period (and geo)."""
    if isinstance(touchpoint_names, str):
        touchpoint_names = [touchpoint_names]
    if not touchpoint_names:
        raise DataError("name at least one touchpoint for the model")
    repeated = sorted({n for n in touchpoint_names if list(touchpoint_names).count(n) > 1})
    if repeated:
        raise DataError(f"touchpoint {quoted(repeated[0])} is listed twice; list each touchpoint once")
    with store.reading() as con:
        if con is None:
            raise DataError("the store is empty: load data sets, add rules and run `mediamix data sync`")
        info = view_info(con)
        require_fresh(info)
        fields = load_catalogue(con)
        defined = load_definitions(con, "touchpoint")
        touchpoints = [pick(defined, "touchpoint", n) for n in touchpoint_names]
        conversion = pick(load_definitions(con, "conversion"), "conversion", conversion_name)
        where_population = None
        if population is not None:
            where_population = pick(load_definitions(con, "population"), "population", population).condition
        if by_geo and "geo" not in info.dimensions:
            raise DataError("by_geo needs a 'geo' dimension in the harmonized view; map a column to geo in the rules")
        national = read_series(con, info, fields, conversion.metrics, where=conversion.where,
                               population=where_population)
        periods = _periods(national, calendar(info), conversion.name, start, end)
        checked = {}  # national series, for the checks
        issues: list[Issue] = []
        for role, d in [("touchpoint", t) for t in touchpoints] + [("conversion", conversion)]:
            checked[d.name] = read_series(con, info, fields, d.metrics, where=d.where, population=where_population,
                                          periods=periods)
            roles = touchpoint_roles(d) if role == "touchpoint" else conversion_roles(d)
            issues += check_series(role, d.name, checked[d.name], roles, fields, info, periods)[0]
            issues += geo_gaps(con, info, fields, role, d.name, d.metrics, d.where, periods, where_population)
        if by_geo:
            target = read_series(con, info, fields, conversion.metrics, where=conversion.where,
                                 population=where_population, by_geo=True, periods=periods)
            geos = sorted(target.values.index.get_level_values("geo").dropna().unique())
            series = {t.name: read_series(con, info, fields, t.metrics, where=t.where, population=where_population,
                                          by_geo=True, periods=periods, geos=geos) for t in touchpoints}
        else:
            target = checked[conversion.name]
            series = {t.name: checked[t.name] for t in touchpoints}
        factor_frame = _factors(con, factors, periods)
        stored = _stored_warnings(con, info.sync_id, {d for s in checked.values() for d in s.datasets})
    issues += correlated_pairs({t.name: checked[t.name].values[t.spend] for t in touchpoints}, info.granularity.unit)
    issues += _factor_issues(factor_frame, factors, periods, info.granularity)
    issues += missing_currencies([m for d in (*touchpoints, conversion) for m in d.metrics], fields)
    money, currency_issues = _currencies(touchpoints, conversion, fields, rates, currency)
    issues += currency_issues
    errors = [i.message for i in issues if i.severity == "error"]
    if errors:
        raise DataProblems(errors)
    frame = _assemble(touchpoints, conversion, series, target, money, factor_frame, by_geo)
    frame.attrs["warnings"] = [i.message for i in issues if i.severity == "warning"] + stored
    frame.attrs["currency"] = money["currency"]
    frame.attrs["granularity"] = info.granularity.describe()
    frame.attrs["sync_id"] = info.sync_id
    return frame


def model_data(store, touchpoint_names: Sequence[str], conversion_name: str, **options) -> SummaryData:
    """touchpoint_frame as SummaryData (the view's cadence; warnings as notices), for the model path.

    Columns: date, <tp>_spend, <tp>_volume, ..., <conversion name> (its conversion metric) and, when
    the conversion has a revenue metric, <conversion name>_revenue; factors by their names.
    """
    frame = touchpoint_frame(store, touchpoint_names, conversion_name, **options)
    renamed = {"conversion": conversion_name, "revenue": f"{conversion_name}_revenue"}
    clash = [new for new in renamed.values() if new in frame.columns and new not in renamed]
    if clash:
        raise DataError(f"conversion {quoted(conversion_name)} would share the column name {quoted(clash[0])} with a "
                        "touchpoint or factor; rename one of them")
    data = frame.rename(columns=renamed)
    with store.reading() as con:
        cadence = view_info(con).granularity.cadence
    geo = "geo" in data.columns
    return SummaryData(data, cadence, geo, tuple(frame.attrs.get("warnings", ())))


def touchpoint_report(store, name: str, *, population: str | None = None) -> pd.DataFrame:
    """A touchpoint's series over the whole view: date, spend, volume, rows (False: no rows that period)."""
    return _report(store, "touchpoint", name, population)


def conversion_report(store, name: str, *, population: str | None = None) -> pd.DataFrame:
    """A conversion's series over the whole view: date, conversion, revenue, rows."""
    return _report(store, "conversion", name, population)


def _report(store, kind: str, name: str, population: str | None) -> pd.DataFrame:
    with store.reading() as con:
        if con is None:
            raise DataError("the store is empty: load data sets, add rules and run `mediamix data sync`")
        info = view_info(con)
        fields = load_catalogue(con)
        definition = pick(load_definitions(con, kind), kind, name)
        where_population = None if population is None else pick(
            load_definitions(con, "population"), "population", population).condition
        series = read_series(con, info, fields, definition.metrics, where=definition.where, population=where_population)
    words = touchpoint_roles(definition) if kind == "touchpoint" else conversion_roles(definition)
    frame = pd.DataFrame({word: series.values[metric] for metric, word in words}, index=series.values.index)
    frame["rows"] = series.present
    return frame.reset_index()


def _periods(target, full: pd.DatetimeIndex, name: str, start, end) -> pd.DatetimeIndex:
    present = target.present.groupby(level="date").any() if isinstance(target.present.index, pd.MultiIndex) else target.present
    dates = present[present].index
    if not len(dates):
        raise DataProblems([f"conversion {quoted(name)} matches no rows of the harmonized view; check its condition "
                            "and the active rules"])
    first, last = dates.min(), dates.max()
    for label, bound in (("start", start), ("end", end)):
        if bound is None:
            continue
        try:
            stamp = pd.Timestamp(bound)
        except (ValueError, TypeError):
            raise DataError(f"{label} {quoted(bound)} is not a date; write it as YYYY-MM-DD") from None
        first, last = (max(first, stamp), last) if label == "start" else (first, min(last, stamp))
    periods = full[(full >= first) & (full <= last)]
    if not len(periods):
        raise DataError(f"no periods between {iso(first)} and {iso(last)}; the conversion covers "
                        f"{iso(dates.min())} to {iso(dates.max())}: move the window")
    return periods


def _factors(con, names: Sequence[str], periods: pd.DatetimeIndex) -> pd.DataFrame:
    if not names:
        return pd.DataFrame(index=periods)
    available = [] if not has_table(con, "harmonized_factors") else [
        r[0] for r in con.execute("SELECT DISTINCT factor FROM harmonized_factors ORDER BY 1").fetchall()]
    unknown = [n for n in names if n not in available]
    if unknown:
        from mediamix.data.messages import suggestion

        raise DataError(f"no factor named {quoted(unknown[0])} in the harmonized view.{suggestion(unknown[0], available)} "
                        f"Factors: {column_list(available) if available else 'none yet (load a factors data set)'}")
    rows = con.execute("SELECT date, factor, value FROM harmonized_factors").df()
    rows["date"] = pd.to_datetime(rows["date"]).astype("datetime64[ns]")
    wide = rows.pivot(index="date", columns="factor", values="value")
    return wide.reindex(periods)[list(names)]


def _factor_issues(frame: pd.DataFrame, names: Sequence[str], periods, granularity) -> list[Issue]:
    issues, constant = [], []
    unit = granularity.unit
    for name in names:
        values = frame[name]
        missing = values.index[values.isna()]
        if len(missing):
            issues.append(Issue("error", "gaps", f"factor:{name}", (
                f"factor {quoted(name)} has no value in {len(missing)} of {count(len(periods), unit)}: "
                f"{date_runs(missing, lambda d: granularity.cadence.shift(d, 1))}; "
                "load the missing periods (a forecast value is fine for future ones)")))
        elif values.nunique() <= 1:
            constant.append(name)
    if constant:
        names_text = " and ".join(quoted(c) for c in constant)
        verb = "does" if len(constant) == 1 else "do"
        issues.append(Issue("error", "constant", f"factor:{constant[0]}", (
            f"factor{'s' if len(constant) > 1 else ''} {names_text} {verb} not vary over the model's periods; "
            "remove them from the model")))
    return issues


def _stored_warnings(con, sync_id: int, datasets: set[str]) -> list[str]:
    """Data-set warnings of the last sync (e.g. repeated rows) for the data sets these series read."""
    if not has_table(con, "quality_issues") or not datasets:
        return []
    rows = con.execute("SELECT subject, message FROM quality_issues WHERE sync_id = ? AND severity = 'warning' "
                       "AND subject LIKE 'dataset:%'", [sync_id]).fetchall()
    return [message for subject, message in rows if subject.split(":", 1)[1] in datasets]


def _currencies(touchpoints, conversion, fields, rates, currency) -> tuple[dict, list[Issue]]:
    """The model's currency and each touchpoint's rate into it; mismatches without a rate are errors."""
    rates = _parse_rates(rates or {})
    revenue = conversion_currency(conversion, fields)
    spends = {t.name: fields[t.spend].currency for t in touchpoints}
    target = (currency or revenue or next((c for c in spends.values() if c), "")).upper()
    issues, factors = [], {}
    for t in touchpoints:
        have = spends[t.name]
        if not have or not target or have == target:
            factors[t.name] = 1.0
            continue
        rate = rates.get((have, target))
        if rate is None and (target, have) in rates:
            rate = 1.0 / rates[(target, have)]
        if rate is None:
            against = (f"the revenue of conversion {quoted(conversion.name)}" if target == revenue and revenue
                       else "the model")
            issues.append(Issue("error", "units", f"touchpoint:{t.name}", (
                f"touchpoint {quoted(t.name)} spends in {have} but {against} is in {target}; give an exchange rate, "
                f"e.g. rates={{'{have}/{target}': 1.08}} (1 {have} = 1.08 {target}), or the model is refused")))
            continue
        factors[t.name] = rate
    if revenue and target and revenue != target:
        rate = rates.get((revenue, target)) or (1.0 / rates[(target, revenue)] if (target, revenue) in rates else None)
        if rate is None:
            issues.append(Issue("error", "units", f"conversion:{conversion.name}", (
                f"conversion {quoted(conversion.name)} earns revenue in {revenue} but the model's currency is {target}; "
                f"give rates={{'{revenue}/{target}': ...}}")))
        factors["__revenue"] = rate or 1.0
        if fields[conversion.conversion].kind == "money":
            factors["__conversion"] = factors["__revenue"]
    return {"currency": target or None, "factors": factors}, issues


def _parse_rates(rates: Mapping) -> dict:
    parsed = {}
    for key, value in rates.items():
        if isinstance(key, tuple) and len(key) == 2:
            pair = (str(key[0]).upper(), str(key[1]).upper())
        else:
            match = _PAIR.match(str(key))
            if not match:
                raise DataError(f"exchange rate key {quoted(key)} is not a currency pair; write it as 'EUR/USD' "
                                "(the value is how many USD one EUR buys)")
            pair = (match.group(1).upper(), match.group(2).upper())
        try:
            rate = float(value)
        except (TypeError, ValueError):
            rate = float("nan")
        if not rate > 0:
            raise DataError(f"exchange rate {quoted(key)} is {show(value)}; give a positive number")
        parsed[pair] = rate
    return parsed


def _assemble(touchpoints, conversion, series, target, money, factor_frame, by_geo) -> pd.DataFrame:
    columns = {}
    for t in touchpoints:
        values = series[t.name].values
        columns[f"{t.name}_spend"] = values[t.spend].fillna(0.0) * money["factors"].get(t.name, 1.0)
        if t.volume:
            columns[f"{t.name}_volume"] = values[t.volume].fillna(0.0)
    columns["conversion"] = target.values[conversion.conversion].fillna(0.0) * money["factors"].get("__conversion", 1.0)
    if conversion.revenue:
        columns["revenue"] = target.values[conversion.revenue].fillna(0.0) * money["factors"].get("__revenue", 1.0)
    frame = pd.DataFrame(columns)
    if len(factor_frame.columns):
        frame = frame.join(factor_frame, on="date") if by_geo else frame.join(factor_frame)
    return frame.reset_index()
