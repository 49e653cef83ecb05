"""The insights report: one self-contained HTML file built from an InsightTables.

`insights.metrics` computes the tables from a posterior; this module only renders them.
The HTML has no outside references at all (CSS inline, charts as inline SVG) so it can be
mailed or opened offline; the CSV/XLSX/Vega downloads it links to sit next to it.
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "contributions": ("date", "component", "kind", "mean", "p05", "p95"),
    "channels": (
        "channel", "spend", "volume",
        "contribution_mean", "contribution_p05", "contribution_p95",
        "share_mean", "share_p05", "share_p95",
        "roi_mean", "roi_p05", "roi_p95", "roas_mean", "roas_p05", "roas_p95",
        "cpa_mean", "cpa_p05", "cpa_p95",
        "prior_share_mean", "prior_share_p05", "prior_share_p95",
    ),
    "response_curves": ("channel", "spend", "response_mean", "response_p05", "response_p95",
                        "marginal_mean"),
    "curve_markers": ("channel", "current_spend", "breakeven_spend"),
    "adstock": ("channel", "lag", "weight_mean", "weight_p05", "weight_p95"),
    "fit": ("date", "actual", "predicted_mean", "predicted_p05", "predicted_p95", "residual",
            "holdout"),
    "fit_metrics": ("sample", "r2", "mape", "smape", "rmse", "n"),
}
PARAMETER_COLUMNS = ("name", "mean", "sd", "p05", "p95", "r_hat", "ess_bulk")
GEO_CHANNEL_COLUMNS = ("geo", "channel", "spend", "contribution_mean", "contribution_p05", "contribution_p95",
                       "share_mean", "share_p05", "share_p95", "roas_mean", "roas_p05", "roas_p95",
                       "roi_mean", "roi_p05", "roi_p95", "cpa_mean", "cpa_p05", "cpa_p95")
# Models with lift tests: each test against the model over the same periods (metrics.lift_table).
LIFT_COLUMNS = ("touchpoint", "start", "end", "periods", "incremental", "standard_error",
                "model_mean", "model_p05", "model_p95", "difference", "difference_se")
# Models with time-varying channels: the effectiveness multiplier per period and channel.
EFFECTIVENESS_COLUMNS = ("date", "channel", "mean", "p05", "p95")
CONVERSION_KINDS = ("revenue", "count")
SUCCESS = "Success"


@dataclass(frozen=True)
class InsightTables:
    """Everything the report, the exports and the web app show about one trained model.

    Shares are fractions (0..1); fit_metrics' mape and smape are percent (3.1 is 3.1%), as
    `mediamix.model.diagnostics.fit_metrics` returns them; intervals are the 5th and 95th
    posterior percentiles. Extra columns are allowed (channels.prior_source is shown).
    Construction checks the columns and turns date columns into datetimes, once.
    """

    model: dict
    contributions: pd.DataFrame
    channels: pd.DataFrame
    response_curves: pd.DataFrame
    curve_markers: pd.DataFrame
    adstock: pd.DataFrame
    fit: pd.DataFrame
    fit_metrics: pd.DataFrame
    diagnostics: dict = field(default_factory=dict)
    geo_channels: pd.DataFrame | None = None   # geo models: per geo and channel (GEO_CHANNEL_COLUMNS)
    lift_tests: pd.DataFrame | None = None     # models with lift tests (LIFT_COLUMNS)
    effectiveness: pd.DataFrame | None = None  # models with time-varying channels (EFFECTIVENESS_COLUMNS)

    def __post_init__(self) -> None:
        for name, columns in REQUIRED_COLUMNS.items():
            frame = getattr(self, name)
            if not isinstance(frame, pd.DataFrame):
                raise TypeError(f"InsightTables.{name} must be a pandas DataFrame, "
                                f"not {type(frame).__name__}")
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ValueError(f"InsightTables.{name} is missing column(s) {', '.join(missing)}")
        if self.geo_channels is not None:
            missing = [c for c in GEO_CHANNEL_COLUMNS if c not in self.geo_channels.columns]
            if missing:
                raise ValueError(f"InsightTables.geo_channels is missing column(s) {', '.join(missing)}")
        for name, columns in (("lift_tests", LIFT_COLUMNS), ("effectiveness", EFFECTIVENESS_COLUMNS)):
            frame = getattr(self, name)
            if frame is None:
                continue
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ValueError(f"InsightTables.{name} is missing column(s) {', '.join(missing)}")
            frame = frame.copy()
            for col in ("date", "start", "end", "first_period", "last_period"):
                if col in frame.columns:
                    frame[col] = pd.to_datetime(frame[col])
            # an empty table is no table: the report leaves the section out
            object.__setattr__(self, name, frame if not frame.empty else None)
        kind = self.model.get("conversion_kind")
        if kind not in CONVERSION_KINDS:
            raise ValueError(f"InsightTables.model['conversion_kind'] must be one of "
                             f"{CONVERSION_KINDS}, not {kind!r}")
        params = self.diagnostics.get("parameters")
        if params is not None:
            missing = [c for c in PARAMETER_COLUMNS if c not in params.columns]
            if missing:
                raise ValueError("InsightTables.diagnostics['parameters'] is missing column(s) "
                                 + ", ".join(missing))
        # Dates arrive as strings or timestamps; every consumer wants datetimes.
        for name in ("contributions", "fit"):
            frame = getattr(self, name).copy()
            frame["date"] = pd.to_datetime(frame["date"])
            object.__setattr__(self, name, frame)
        fit = self.fit.copy()
        fit["holdout"] = fit["holdout"].astype(bool)
        object.__setattr__(self, "fit", fit)

    @property
    def is_revenue(self) -> bool:
        return self.model["conversion_kind"] == "revenue"

    @property
    def currency(self) -> str:
        return str(self.model.get("currency") or "")

    @property
    def conversion(self) -> str:
        """The conversion's display name, e.g. 'revenue' or 'signups'."""
        return str(self.model.get("conversion") or ("revenue" if self.is_revenue else "conversions"))

    @property
    def status(self) -> str:
        return str(self.model.get("status") or "Unknown")

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCESS


# ---------------------------------------------------------------- number formatting

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "\u20ac", "GBP": "\u00a3", "JPY": "\u00a5", "INR": "\u20b9"}
DASH = "\u2014"  # shown for a missing value, never "nan"
MINUS = "\u2212"


def _missing(x) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and not math.isfinite(x)) or x is pd.NA


def format_number(x, decimals: int = 0) -> str:
    """1234567.8 -> '1,234,568' (minus sign, not hyphen)."""
    if _missing(x):
        return DASH
    text = f"{abs(float(x)):,.{decimals}f}"
    return f"{MINUS}{text}" if float(x) < 0 and float(text.replace(",", "")) != 0 else text


def format_money(x, currency: str, decimals: int = 0) -> str:
    """1234.5, 'USD' -> '$1,235'; unknown codes are written out: 'CHF 1,235'."""
    if _missing(x):
        return DASH
    number = format_number(abs(float(x)), decimals)
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    text = f"{symbol}{number}" if symbol else f"{currency}\u00a0{number}".strip()
    return f"{MINUS}{text}" if float(x) < 0 and number.strip("0.,") else text


def format_money_short(x, currency: str) -> str:
    """Headline figures: 87133227, 'USD' -> '$87.1M'; below 10,000 the full amount."""
    if _missing(x) or abs(float(x)) < 10_000:
        return format_money(x, currency)
    a = abs(float(x))
    size, suffix = next((s, u) for s, u in ((1e9, "B"), (1e6, "M"), (1e3, "k")) if a >= s)
    text = format_money(a / size, currency, 1) + suffix
    return f"{MINUS}{text}" if float(x) < 0 else text


def format_percent(x, decimals: int = 1) -> str:
    """0.2345 -> '23.5%'."""
    if _missing(x):
        return DASH
    return f"{float(x) * 100:.{decimals}f}%".replace("-", MINUS)


def format_percent_points(x, decimals: int = 1) -> str:
    """A value already in percent: 3.14 -> '3.1%' (fit errors come this way)."""
    if _missing(x):
        return DASH
    return f"{float(x):.{decimals}f}%".replace("-", MINUS)


def format_ratio(x, decimals: int = 2) -> str:
    if _missing(x):
        return DASH
    return f"{float(x):,.{decimals}f}".replace("-", MINUS)


@dataclass(frozen=True)
class Cell:
    """A table cell: the value, and optionally its 90% interval shown smaller underneath."""
    value: str
    interval: str = ""


def _interval(lo: str, hi: str) -> str:
    return "" if DASH in (lo, hi) else f"{lo} \u2013 {hi}"


# ---------------------------------------------------------------- report sections

def channel_table(tables: InsightTables) -> tuple[list[str], list[list[Cell]], list[Cell]]:
    """Header, formatted rows and a totals row for the channel summary."""
    ch = tables.channels
    cur = tables.currency
    money = lambda x: format_money(x, cur)  # noqa: E731
    cpa = lambda x: format_money(x, cur, 2)  # noqa: E731

    columns: list[tuple[str, Callable[[object], str], str | None]] = [  # header, format, prefix
        (f"Spend ({cur})", money, None),
    ]
    if ch["volume"].notna().any():
        columns.append(("Volume", format_number, None))
    columns += [
        (f"Contribution ({cur})" if tables.is_revenue else f"Contribution ({tables.conversion})",
         money if tables.is_revenue else format_number, "contribution"),
        ("Share of total", format_percent, "share"),
        ("Prior share", format_percent, "prior_share"),
    ]
    for prefix, header, fmt in (("roas", "ROAS", format_ratio), ("roi", "ROI", format_ratio),
                                ("cpa", f"CPA ({cur})", cpa)):
        if ch[f"{prefix}_mean"].notna().any():
            columns.append((header, fmt, prefix))

    rows = []
    for _, r in ch.iterrows():
        cells = [Cell(str(r["channel"]))]
        for header, fmt, prefix in columns:
            if prefix is None:
                source = "spend" if header.startswith("Spend") else "volume"
                cells.append(Cell(fmt(r[source])))
            else:
                interval = _interval(fmt(r[f"{prefix}_p05"]), fmt(r[f"{prefix}_p95"]))
                if prefix == "prior_share" and isinstance(r.get("prior_source"), str):
                    interval = f"{interval}, {r['prior_source']}" if interval else r["prior_source"]
                cells.append(Cell(fmt(r[f"{prefix}_mean"]), interval))
        rows.append(cells)

    totals = _channel_totals(tables)
    total_row = [Cell("All channels")]
    for header, fmt, prefix in columns:
        # volumes are in each channel's own unit (impressions, clicks...): no total
        key = "spend" if header.startswith("Spend") else prefix
        total_row.append(Cell(fmt(totals[key]) if key in totals else ""))
    return ["Channel"] + [c[0] for c in columns], rows, total_row


def _channel_totals(tables: InsightTables) -> dict[str, float]:
    """Sums of means only: intervals do not add up, so none are shown for totals."""
    ch = tables.channels
    spend = float(ch["spend"].sum())
    contribution = float(ch["contribution_mean"].sum())
    totals = {"spend": spend, "contribution": contribution,
              "share": float(ch["share_mean"].sum())}
    if spend > 0 and tables.is_revenue:
        totals["roas"] = contribution / spend
        totals["roi"] = (contribution - spend) / spend
    if contribution > 0 and not tables.is_revenue:
        totals["cpa"] = spend / contribution
    return totals


def geo_channel_rows(tables: InsightTables) -> tuple[list[str], list[list[Cell]]]:
    """Header and formatted rows of the per-geo channel table (empty for a national model)."""
    geo = tables.geo_channels
    if geo is None or geo.empty:
        return [], []
    cur = tables.currency
    contribution = (lambda x: format_money(x, cur)) if tables.is_revenue else format_number
    columns = [(f"Spend ({cur})", lambda x: format_money(x, cur), None),
               (f"Contribution ({cur})" if tables.is_revenue else f"Contribution ({tables.conversion})",
                contribution, "contribution"),
               ("Share of the geo's total", format_percent, "share")]
    columns += [("ROAS", format_ratio, "roas")] if tables.is_revenue else \
        [(f"CPA ({cur})", lambda x: format_money(x, cur, 2), "cpa")]
    rows = []
    for _, r in geo.iterrows():
        cells = [Cell(str(r["geo"])), Cell(str(r["channel"]))]
        for _, fmt, prefix in columns:
            if prefix is None:
                cells.append(Cell(fmt(r["spend"])))
            else:
                cells.append(Cell(fmt(r[f"{prefix}_mean"]), _interval(fmt(r[f"{prefix}_p05"]), fmt(r[f"{prefix}_p95"]))))
        rows.append(cells)
    return ["Geo", "Channel"] + [c[0] for c in columns], rows


def _signed(text: str, x) -> str:
    """A formatted difference with its sign spelled out: '+$3,000', '\u22121.2', '0.0'."""
    if _missing(x) or float(x) <= 0 or not any(ch in "123456789" for ch in text):
        return text
    return "+" + text


def lift_test_rows(tables: InsightTables) -> tuple[list[str], list[list[Cell]]]:
    """Header and formatted rows of the lift-test table (empty without lift tests): what each
    test measured against the model's posterior over the same periods."""
    lt = tables.lift_tests
    if lt is None:
        return [], []
    cur = tables.currency
    amount = (lambda x: format_money(x, cur)) if tables.is_revenue else format_number
    unit = f" ({cur})" if tables.is_revenue else f" ({tables.conversion})"
    header = ["Touchpoint", "Test periods", f"Measured{unit}", f"Model{unit}",
              f"Model − measured{unit}", "Difference (in test SEs)"]
    rows = []
    for r in lt.itertuples(index=False):
        n = int(r.periods)
        periods = f"{n} period{'s' if n != 1 else ''}"
        if hasattr(r, "first_period") and not pd.isna(r.first_period) and (
                r.first_period != r.start or r.last_period != r.end):
            periods += f", first {_iso(r.first_period)}, last {_iso(r.last_period)}"
        source = getattr(r, "source", None)
        rows.append([
            Cell(str(r.touchpoint)),
            Cell(f"{_iso(r.start)} to {_iso(r.end)}", periods),
            Cell(f"{amount(r.incremental)} ± {amount(r.standard_error)}",
                 f"± 1 standard error{', ' + source if isinstance(source, str) and source else ''}"),
            Cell(amount(r.model_mean), _interval(amount(r.model_p05), amount(r.model_p95))),
            Cell(_signed(amount(r.difference), r.difference)),
            Cell(_signed(format_ratio(r.difference_se, 1), r.difference_se)),
        ])
    return header, rows


@dataclass(frozen=True)
class KeyNumber:
    label: str
    value: str
    note: str = ""


def key_numbers(tables: InsightTables) -> list[KeyNumber]:
    cur = tables.currency
    totals = _channel_totals(tables)
    fit = tables.fit
    numbers = []
    if not fit.empty:
        total = fit["actual"].sum()
        shown = format_money_short(total, cur) if tables.is_revenue else format_number(total)
        numbers.append(KeyNumber(f"Total {tables.conversion}", shown,
                                 f"actual, {len(fit)} periods"))
    numbers.append(KeyNumber("Media spend", format_money_short(totals["spend"], cur),
                             f"{len(tables.channels)} channels"))
    numbers.append(KeyNumber("Driven by media", format_percent(totals["share"]),
                             f"of total {tables.conversion}, posterior mean"))
    if tables.is_revenue and "roas" in totals:
        numbers.append(KeyNumber("Blended ROAS", format_ratio(totals["roas"]),
                                 f"{tables.conversion} per {cur} of media spend"))
    if not tables.is_revenue and "cpa" in totals:
        numbers.append(KeyNumber("Blended CPA", format_money(totals["cpa"], cur, 2),
                                 "media spend per media-driven conversion"))
    best = _best_channel(tables)
    if best:
        numbers.append(best)
    holdout = tables.fit_metrics[tables.fit_metrics["sample"] == "holdout"]
    if not holdout.empty:
        numbers.append(KeyNumber("Holdout sMAPE", format_percent_points(holdout["smape"].iloc[0]),
                                 "forecast error on weeks not used for fitting"))
    return numbers


def _best_channel(tables: InsightTables) -> KeyNumber | None:
    ch = tables.channels
    if tables.is_revenue and ch["roas_mean"].notna().any():
        row = ch.loc[ch["roas_mean"].idxmax()]
        return KeyNumber("Highest ROAS", str(row["channel"]), f"ROAS {format_ratio(row['roas_mean'])}")
    if not tables.is_revenue and ch["cpa_mean"].notna().any():
        row = ch.loc[ch["cpa_mean"].idxmin()]
        return KeyNumber("Lowest CPA", str(row["channel"]),
                         f"CPA {format_money(row['cpa_mean'], tables.currency, 2)}")
    return None


def fit_metric_rows(tables: InsightTables) -> list[list[str]]:
    rows = []
    for _, r in tables.fit_metrics.iterrows():
        rows.append([str(r["sample"]), format_ratio(r["r2"], 3), format_percent_points(r["mape"]),
                     format_percent_points(r["smape"]), format_number(r["rmse"]),
                     format_number(r["n"])])
    return rows


@dataclass(frozen=True)
class Check:
    name: str
    value: str
    threshold: str
    ok: bool | None  # None: no threshold given


def _threshold(thresholds: dict, *names: str):
    for name in names:
        if thresholds.get(name) is not None:
            return thresholds[name]
    return None


def diagnostic_checks(tables: InsightTables) -> list[Check]:
    """The convergence checks that set the status, each against its threshold. A Laplace fit
    (independent draws at the mode) has no convergence to check: only the fit is judged."""
    d = tables.diagnostics
    thr = d.get("thresholds") or {}
    checks = []
    laplace = d.get("method") == "laplace"

    def add(name, value, fmt, limit, upper: bool):
        if value is None:
            return
        if limit is None:
            checks.append(Check(name, fmt(value), "", None))
            return
        # NaN (e.g. R-hat of a single chain) cannot pass: the check could not be made
        ok = not _missing(value) and (value <= limit if upper else value >= limit)
        sign = "\u2264" if upper else "\u2265"
        checks.append(Check(name, fmt(value), f"{sign} {fmt(limit)}", bool(ok)))

    if laplace:
        checks.append(Check("Method", "Laplace approximation at the mode (R-hat, ESS, divergences do not apply)",
                            "", None))
    else:
        add("Max R-hat", d.get("max_rhat"), lambda v: format_ratio(v, 3),
            _threshold(thr, "max_rhat", "rhat", "r_hat"), upper=True)
        add("Min bulk ESS", d.get("min_ess_bulk"), format_number,
            _threshold(thr, "min_ess_bulk", "ess_bulk", "min_ess"), upper=False)
        add("Divergences", d.get("divergences"), format_number,
            _threshold(thr, "max_divergences", "divergences"), upper=True)
    ratio = _smape_ratio(tables)
    if ratio is not None:
        add("Holdout sMAPE \u00f7 in-sample sMAPE", ratio, format_ratio,
            _threshold(thr, "max_holdout_smape_ratio", "max_smape_ratio", "smape_ratio"),
            upper=True)
    if d.get("num_chains") is not None:
        draws = d.get("num_draws")
        checks.append(Check("Chains \u00d7 draws",
                            f"{format_number(d['num_chains'])} \u00d7 {format_number(draws)}", "", None))
    return checks


def _smape_ratio(tables: InsightTables) -> float | None:
    m = tables.fit_metrics.set_index("sample")["smape"]
    if "holdout" in m and "in-sample" in m and m["in-sample"] > 0:
        return float(m["holdout"] / m["in-sample"])
    return None


def parameter_rows(tables: InsightTables) -> tuple[list[list[str]], list[bool]]:
    """Per-parameter diagnostics, worst R-hat first, with a flag for rows missing a threshold."""
    params = tables.diagnostics.get("parameters")
    if params is None or params.empty:
        return [], []
    thr = tables.diagnostics.get("thresholds") or {}
    rhat_max = _threshold(thr, "max_rhat", "rhat", "r_hat")
    ess_min = _threshold(thr, "min_ess_bulk", "ess_bulk", "min_ess")
    params = params.sort_values("r_hat", ascending=False, na_position="last")
    rows, flags = [], []
    for _, p in params.iterrows():
        rows.append([str(p["name"]), _sig(p["mean"]), _sig(p["sd"]), _sig(p["p05"]), _sig(p["p95"]),
                     format_ratio(p["r_hat"], 3), format_number(p["ess_bulk"])])
        bad = (rhat_max is not None and p["r_hat"] > rhat_max) or \
              (ess_min is not None and p["ess_bulk"] < ess_min)
        flags.append(bool(bad))
    return rows, flags


def _sig(x) -> str:
    """Three significant figures: parameters span many orders of magnitude."""
    if _missing(x):
        return DASH
    return f"{float(x):.3g}".replace("-", MINUS)


def _window(model: dict) -> str:
    start, end = model.get("training_start"), model.get("training_end")
    text = f"{_iso(start)} to {_iso(end)}" if start and end else DASH
    if model.get("holdout_start"):
        text += f" (holdout from {_iso(model['holdout_start'])})"
    return text


def _iso(value) -> str:
    if value is None or value == "":
        return DASH
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    except (ValueError, TypeError):
        return str(value)


def _timestamp(value) -> str:
    if value is None or value == "":
        return DASH
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")
    except (ValueError, TypeError):
        return str(value)


# ---------------------------------------------------------------- rendering

def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,  # a typo in the template fails loudly, not blank
        trim_blocks=True, lstrip_blocks=True,
    )


def report_context(tables: InsightTables, downloads: dict[str, str],
                   table_links: dict[str, str] | None = None) -> dict:
    """Everything the template shows, already formatted: the template has no logic of its own.

    table_links maps a table (CSV) name to its relative link, shown beside that table or chart."""
    from mediamix import __version__
    from mediamix.insights import charts

    links = dict(table_links or {})
    svgs = charts.render_svgs(tables)
    lift_header, lift_rows = lift_test_rows(tables)
    header, rows, totals = channel_table(tables)
    param_rows, param_flags = parameter_rows(tables)
    checks = diagnostic_checks(tables)
    model = tables.model
    return {
        "model": {
            "name": model.get("name") or "Unnamed model",
            "description": model.get("description") or "",
            "conversion": tables.conversion if tables.conversion == model["conversion_kind"]
            else f"{tables.conversion} ({model['conversion_kind']})",
            "conversion_kind": model["conversion_kind"],
            "currency": tables.currency,
            "window": _window(model),
            "lookback_weeks": model.get("lookback_weeks"),
            "created": _timestamp(model.get("created")),
            "trained": _timestamp(model.get("trained")),
        },
        "status": tables.status,
        "status_class": {"Success": "ok", "Training issue": "issue", "Failed": "failed"}.get(
            tables.status, "other"),
        "succeeded": tables.succeeded,
        "reasons": [str(r) for r in model.get("status_reasons") or []],
        "notices": [str(n) for n in tables.diagnostics.get("notices") or []
                    if str(n) not in [str(r) for r in model.get("status_reasons") or []]],
        "key_numbers": key_numbers(tables),
        "charts": [_chart_context(c, tables, svgs, links) for c in charts.charts_for(tables)
                   if c.key != charts.LIFT_TESTS_CHART.key],   # the lift chart sits in its own section
        "lift": ({"chart": _chart_context(charts.LIFT_TESTS_CHART, tables, svgs, links),
                  "header": lift_header, "rows": lift_rows, "csv": links.get("lift_tests")}
                 if lift_rows else None),
        "csv": {name: links.get(name) for name in ("channels", "geo_channels", "fit_metrics", "diagnostics",
                                                   "diagnostics_parameters")},
        "channel_header": header,
        "channel_rows": rows,
        "channel_totals": totals,
        "geo_header": geo_channel_rows(tables)[0],
        "geo_rows": geo_channel_rows(tables)[1],
        "fit_header": ["Sample", "R\u00b2", "MAPE", "sMAPE", "RMSE", "Periods"],
        "fit_rows": fit_metric_rows(tables),
        "checks": checks,
        "checks_failed": sum(1 for c in checks if c.ok is False),
        "param_header": ["Parameter", "Mean", "SD", "5%", "95%", "R-hat", "Bulk ESS"],
        "param_rows": list(zip(param_rows, param_flags)),
        "param_flagged": sum(param_flags),
        "downloads": downloads,
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
    }


def _chart_context(chart, tables: InsightTables, svgs: dict[str, str], links: dict[str, str]) -> dict:
    return {"key": chart.key, "title": chart.title, "how_to_read": chart.how_to_read(tables),
            "svg": Markup(_inline_svg(svgs[chart.key])), "csv": links.get(chart.table) if chart.table else None,
            "csv_name": f"{chart.table}.csv" if chart.table else None}


def _inline_svg(svg: str) -> str:
    """HTML parses inline SVG (and xlink:href) without namespace declarations; dropping them
    leaves the report with no "http" string at all, which keeps strict link scanners quiet."""
    return re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg, count=2)


def render_html(tables: InsightTables, downloads: dict[str, str] | None = None,
                table_links: dict[str, str] | None = None) -> str:
    """The report as an HTML string; `downloads` maps a label to a relative link, `table_links`
    a table's CSV name (e.g. "channels") to its link, shown beside the table."""
    return _environment().get_template("report.html.j2").render(
        **report_context(tables, downloads or {}, table_links))


def render_report(tables: InsightTables, path, *, write_downloads: bool = True) -> Path:
    with warnings.catch_warnings():  # matplotlib's date-locator chatter is not for the user
        warnings.simplefilter("ignore", UserWarning)
        return _render_report(tables, path, write_downloads=write_downloads)


def _render_report(tables: InsightTables, path, *, write_downloads: bool = True) -> Path:
    """Write the HTML report to `path` and, by default, the CSV/XLSX/Vega files beside it.

    The report links only to files that exist next to it: with write_downloads=False the
    download section is left out rather than pointing at nothing.
    """
    from mediamix.insights.export import write_tables

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    downloads: dict[str, str] = {}
    table_links: dict[str, str] = {}
    if write_downloads:
        files = write_tables(tables, path.parent)
        # the workbook first: most readers want one file, not ten
        names = ["xlsx"] + [n for n in files if n != "xlsx" and not n.startswith("vega/")]
        downloads = {_download_label(n): files[n].relative_to(path.parent).as_posix() for n in names}
        table_links = {n: files[n].relative_to(path.parent).as_posix() for n in names if n != "xlsx"}
    path.write_text(render_html(tables, downloads, table_links), encoding="utf-8")
    return path


def _download_label(name: str) -> str:
    return "All tables (Excel workbook)" if name == "xlsx" else f"{name.replace('_', ' ')} (CSV)"
