"""Charts of an InsightTables: inline SVG for the HTML report, Vega-Lite specs for the web app.

Every chart exists twice, drawn from the same tables with the same colors: a matplotlib SVG
(self-contained: text stays text, no fonts, images or links) and a Vega-Lite v5 spec with
its data inlined. `CHARTS` lists them in reading order with a one-line "how to read it".
"""
from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import matplotlib

matplotlib.use("Agg")  # headless: charts are rendered in jobs and tests, never shown

import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter  # noqa: E402

if TYPE_CHECKING:
    from mediamix.insights.report import InsightTables

# Okabe-Ito, then Paul Tol's "muted": distinguishable with the common color-vision deficiencies.
# Okabe-Ito yellow is left out: too light for lines and markers on white.
CHANNEL_PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
    "#332288", "#117733", "#999933", "#882255", "#44AA99", "#AA4499",
)
# Base and factors are context, not the story: greys and earth tones, so channels stand out.
BASE_COLOR = "#C8C8C8"
FACTOR_PALETTE = ("#8C8C8C", "#C9B38C", "#5E5E5E", "#A68A64", "#B0B0B0")
ACTUAL_COLOR = "#111111"
PREDICTED_COLOR = "#0072B2"
HOLDOUT_COLOR = "#9A9A9A"  # neutral grey: a colored region would tint the blue band beneath
PRIOR_COLOR = "#9A9A9A"
CAUTION_COLOR = "#A15C00"

FIG_WIDTH = 9.0  # inches; SVG user units are points, so 648 units ~ 864 CSS px at 100%
VEGA_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"

_RC = {
    "svg.fonttype": "none",  # text as <text>, rendered by the browser's own sans-serif
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.7,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
}


# ---------------------------------------------------------------- colors, units, number formats

def channel_colors(tables: InsightTables) -> dict[str, str]:
    """One color per channel, in the order of the channel summary, shared by every chart."""
    names = list(tables.channels["channel"])
    return {name: CHANNEL_PALETTE[i % len(CHANNEL_PALETTE)] for i, name in enumerate(names)}


def component_order(tables: InsightTables) -> list[str]:
    """Stacking order: base at the bottom, then factors, then channels in summary order."""
    contrib = tables.contributions
    base = [c for c in contrib.loc[contrib["kind"] == "base", "component"].unique()]
    factors = [c for c in contrib.loc[contrib["kind"] == "factor", "component"].unique()]
    present = set(contrib.loc[contrib["kind"] == "channel", "component"])
    channels = [c for c in tables.channels["channel"] if c in present]
    channels += [c for c in contrib.loc[contrib["kind"] == "channel", "component"].unique()
                 if c not in channels]
    return base + factors + channels


def component_colors(tables: InsightTables) -> dict[str, str]:
    contrib = tables.contributions
    colors = {name: BASE_COLOR for name in contrib.loc[contrib["kind"] == "base", "component"].unique()}
    factors = contrib.loc[contrib["kind"] == "factor", "component"].unique()
    colors.update({f: FACTOR_PALETTE[i % len(FACTOR_PALETTE)] for i, f in enumerate(factors)})
    colors.update(channel_colors(tables))
    return colors


def period_word(dates) -> str:
    """'Weekly', 'Daily' or 'Monthly' from the typical gap between dates, for axis labels."""
    values = pd.to_datetime(pd.Series(dates)).drop_duplicates().sort_values()
    if len(values) < 2:
        return "Per-period"
    days = values.diff().dt.days.median()
    if days <= 1.5:
        return "Daily"
    if days <= 10:
        return "Weekly"
    if 27 <= days <= 32:
        return "Monthly"
    return "Per-period"


def _compact(x: float, _pos=None) -> str:
    """Axis ticks: 1.2M, 350k, 12; short enough for small multiples."""
    if x is None or not math.isfinite(x):
        return ""
    sign = "\u2212" if x < 0 else ""
    a = abs(x)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= size:
            text = f"{a / size:.2f}".rstrip("0").rstrip(".")  # 1.25M, not a misleading 1.2M
            return f"{sign}{text}{suffix}"
    if a >= 10 or a == 0:
        return f"{sign}{a:.0f}"
    return f"{sign}{a:.2g}"


_COMPACT = FuncFormatter(_compact)


def _sig3(x: float) -> str:
    """Annotations: three significant figures (38k, 16.5k, 961), not tick precision."""
    a = abs(x)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= size:
            return f"{x / size:.3g}{suffix}".replace("-", "\u2212")
    return f"{x:.3g}".replace("-", "\u2212")


def _value_label(tables: InsightTables, prefix: str = "") -> str:
    """'Weekly revenue (USD)' or 'Weekly signups (count)'."""
    what = tables.conversion
    unit = tables.currency if tables.is_revenue else "count"
    return f"{prefix}{what} ({unit})".strip()


def _date_axis(ax) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))


def _dates(series: pd.Series) -> np.ndarray:
    return pd.to_datetime(series).to_numpy()


def _grid(n: int) -> tuple[int, int]:
    ncols = 1 if n == 1 else 2 if n in (2, 4) else 3
    return math.ceil(n / ncols), ncols


# ---------------------------------------------------------------- SVG output

def _to_svg(fig: Figure, key: str, title: str) -> str:
    """Serialize a figure as an SVG fragment that is safe to inline many times in one page.

    Drops the XML prolog, DOCTYPE and RDF metadata (they carry outside URLs), prefixes every id
    with the chart key (matplotlib reuses ids like "axes_1" in every figure) and makes the root
    scale to its container width while keeping the viewBox aspect ratio.
    """
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                                "Type": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'(\bid="|href="#|url\(#)([^")]+)', lambda m: f"{m.group(1)}{key}-{m.group(2)}", svg)
    svg = re.sub(
        r'<svg ([^>]*?)width="[^"]+" height="[^"]+"',
        lambda m: (f'<svg {m.group(1)}id="chart-{key}" class="chart" role="img" '
                   f'aria-label="{_xml_escape(title)}" width="100%"'),
        svg, count=1,
    )
    svg = svg.replace(">", f"><title>{_xml_escape(title)}</title>", 1)
    return svg.strip() + "\n"


def _xml_escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _figure(height: float) -> Figure:
    return Figure(figsize=(FIG_WIDTH, height), layout="constrained")


def status_caution(tables: InsightTables) -> str | None:
    """The line every chart carries when training did not succeed, so no copy of a chart
    (a slide, a screenshot, the web app) shows results without the warning."""
    if tables.succeeded:
        return None
    return f"\u26a0 Model status: {tables.status}. These results may be unreliable; see diagnostics."


def _render(tables: InsightTables, key: str, title: str, draw: Callable[[], Figure]) -> str:
    # rc_context keeps our style out of anyone else's matplotlib state; the salt makes ids stable
    with matplotlib.rc_context({**_RC, "svg.hashsalt": key}):
        fig = draw()
        caution = status_caution(tables)
        if caution:
            fig.suptitle(caution, x=0.01, ha="left", fontsize=9, fontweight="bold",
                         color=CAUTION_COLOR)
        return _to_svg(fig, key, title)


def _no_data(fig: Figure, message: str) -> Figure:
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", color="#555555")
    return fig


# ---------------------------------------------------------------- the charts (SVG)

def contribution_over_time_svg(tables: InsightTables) -> str:
    """Stacked areas of base, factors and channels per period; negative parts stack below zero."""
    def draw() -> Figure:
        fig = _figure(4.3)
        contrib = tables.contributions
        if contrib.empty:
            return _no_data(fig, "No contributions to show.")
        wide = (contrib.pivot_table(index="date", columns="component", values="mean", aggfunc="sum")
                .sort_index())
        dates = wide.index.to_numpy()
        colors = component_colors(tables)
        ax = fig.add_subplot()
        up = np.zeros(len(wide))
        down = np.zeros(len(wide))
        for name in component_order(tables):
            values = wide[name].fillna(0.0).to_numpy(dtype=float)
            pos, neg = np.clip(values, 0, None), np.clip(values, None, 0)
            style = dict(color=colors[name], linewidth=0.4, edgecolor="white")
            if (pos > 0).any():
                ax.fill_between(dates, up, up + pos, label=name, **style)
                up = up + pos
            if (neg < 0).any():
                label = "_nolegend_" if (pos > 0).any() else name
                ax.fill_between(dates, down + neg, down, label=label, **style)
                down = down + neg
        fit = tables.fit
        if not fit.empty:
            fit_sorted = fit.sort_values("date")
            ax.plot(_dates(fit_sorted["date"]), fit_sorted["actual"], color=ACTUAL_COLOR,
                    linewidth=1.3, label="Actual")
        if (down < 0).any():
            ax.axhline(0, color="#333333", linewidth=0.8)
        ax.set_xlim(dates[0], dates[-1])
        ax.yaxis.set_major_formatter(_COMPACT)
        ax.set_ylabel(_value_label(tables, f"{period_word(dates)} "))
        ax.set_xlabel("Period start (ISO date)")
        _date_axis(ax)
        handles, labels = ax.get_legend_handles_labels()
        rows = math.ceil(len(labels) / 8)  # balanced rows: 9 entries as 5 + 4, not 8 + 1
        fig.legend(handles, labels, loc="outside lower center", ncol=math.ceil(len(labels) / rows))
        return fig

    return _render(tables, "contribution_over_time", "Contribution over time", draw)


def contribution_share_svg(tables: InsightTables) -> str:
    """Horizontal bars of each channel's share of conversions, posterior 90% whiskers, prior behind."""
    def draw() -> Figure:
        ch = tables.channels
        fig = _figure(1.4 + 0.5 * max(len(ch), 1))
        if ch.empty:
            return _no_data(fig, "No channels to show.")
        colors = channel_colors(tables)
        ax = fig.add_subplot()
        y = np.arange(len(ch))
        has_prior = ch["prior_share_p05"].notna() & ch["prior_share_p95"].notna()
        ax.barh(y, ch["share_mean"] * 100, height=0.45,
                color=[colors[c] for c in ch["channel"]], label="Share (posterior mean)", zorder=3)
        lower = (ch["share_mean"] - ch["share_p05"]).clip(lower=0) * 100
        upper = (ch["share_p95"] - ch["share_mean"]).clip(lower=0) * 100
        ax.errorbar(ch["share_mean"] * 100, y, xerr=[lower, upper], fmt="none", ecolor="#222222",
                    elinewidth=1.2, capsize=4, label="90% interval", zorder=4)
        ax.barh(y[has_prior], (ch["prior_share_p95"] - ch["prior_share_p05"])[has_prior] * 100,
                left=ch["prior_share_p05"][has_prior] * 100, height=0.8, color=PRIOR_COLOR,
                alpha=0.22, label="Prior 90% interval", zorder=1)
        prior_mean = ch["prior_share_mean"].notna()
        ax.scatter(ch["prior_share_mean"][prior_mean] * 100, y[prior_mean], marker="|", s=300,
                   color=PRIOR_COLOR, linewidths=1.5, label="Prior mean", zorder=2)
        right = np.nanmax(np.r_[ch["share_p95"].to_numpy(float), ch["prior_share_p95"].to_numpy(float)])
        for yi, (mean, hi) in enumerate(zip(ch["share_mean"], ch["share_p95"])):
            ax.text(hi * 100 + right * 1.5, yi, f"{mean:.1%}", va="center", fontsize=9, zorder=5)
        ax.set_xlim(0, right * 100 * 1.18)
        ax.set_yticks(y, ch["channel"])
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.set_xlabel(f"Share of total {tables.conversion} in the training window (%)")
        handles = dict(zip(*reversed(ax.get_legend_handles_labels())))
        order = [k for k in ("Share (posterior mean)", "90% interval", "Prior 90% interval",
                             "Prior mean") if k in handles]
        fig.legend([handles[k] for k in order], order, loc="outside lower center", ncol=4)
        return fig

    return _render(tables, "contribution_share", "Contribution share by channel", draw)


@dataclass(frozen=True)
class ReturnMetric:
    column: str  # prefix in the channel table: roi, roas, cpa
    name: str
    unit: str
    reference: float | None  # the break-even value, drawn as a line

    @property
    def title(self) -> str:
        return f"{self.name}: {self.unit}"


def return_metrics(tables: InsightTables) -> list[ReturnMetric]:
    """ROAS and ROI for revenue, CPA (and ROI if given) for counts; only metrics with values."""
    cur = tables.currency
    if tables.is_revenue:
        candidates = [
            ReturnMetric("roas", "ROAS", f"{tables.conversion} per {cur} spent", 1.0),
            ReturnMetric("roi", "ROI", f"({tables.conversion} \u2212 spend) \u00f7 spend", 0.0),
            ReturnMetric("cpa", "CPA", f"{cur} per conversion", None),
        ]
    else:
        candidates = [
            ReturnMetric("cpa", "CPA", f"{cur} per conversion", None),
            ReturnMetric("roi", "ROI", f"{tables.conversion} per {cur} spent", None),
            ReturnMetric("roas", "ROAS", f"return per {cur} spent", None),
        ]
    ch = tables.channels
    return [m for m in candidates if np.isfinite(ch[f"{m.column}_mean"].to_numpy(float)).any()]


def returns_svg(tables: InsightTables) -> str:
    """Dot-and-whisker per channel for each return metric that applies, side by side."""
    def draw() -> Figure:
        ch = tables.channels
        metrics = return_metrics(tables)
        fig = _figure(1.5 + 0.45 * max(len(ch), 1))
        if ch.empty or not metrics:
            return _no_data(fig, "No return metrics for this model.")
        colors = [channel_colors(tables)[c] for c in ch["channel"]]
        axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
        y = np.arange(len(ch))
        for ax, metric in zip(axes, metrics):
            mean = ch[f"{metric.column}_mean"].to_numpy(float)
            lo = ch[f"{metric.column}_p05"].to_numpy(float)
            hi = ch[f"{metric.column}_p95"].to_numpy(float)
            ax.hlines(y, lo, hi, colors=colors, linewidth=2.5, zorder=2)
            ax.scatter(mean, y, color=colors, s=55, zorder=3, edgecolors="white", linewidths=0.8)
            if metric.reference is not None:
                ax.axvline(metric.reference, color="#555555", linestyle="--", linewidth=1, zorder=1)
                ax.text(metric.reference, -0.7, " break-even", fontsize=8, color="#555555",
                        va="center", ha="left")
            for yi, value in enumerate(mean):
                if np.isfinite(value):
                    ax.annotate(_fmt_metric(value, metric.column), (value, yi),
                                xytext=(0, 7), textcoords="offset points", ha="center", fontsize=8)
            ax.set_title(metric.name, loc="left")
            ax.set_xlabel(f"{metric.unit}\n(dot: mean, line: 90% interval)")
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_formatter(_COMPACT)
            ax.set_ylim(len(ch) - 0.4, -1.0)
        axes[0].set_yticks(y, ch["channel"])
        return fig

    return _render(tables, "returns", "Return per channel", draw)


def _fmt_metric(value: float, column: str) -> str:
    if column == "cpa" and abs(value) >= 100:
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.2f}"
    return text.replace("-", "\u2212")


def _interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> float:
    order = np.argsort(xp)
    return float(np.interp(x, xp[order], fp[order]))


def _channel_panels(tables: InsightTables, frame: pd.DataFrame | None, empty: str, *, base: float,
                    per_row: float, sharey: bool = True, others: bool = True):
    """One panel per channel of `frame`, in the channel table's order (then, with `others`,
    any channel it lacks): (figure, [(axis, channel)], columns). Spare panels are hidden; with
    no channel the figure says `empty` and the list is empty."""
    names = [] if frame is None else [c for c in tables.channels["channel"] if c in set(frame["channel"])]
    if frame is not None and others:
        names += [c for c in frame["channel"].unique() if c not in names]
    nrows, ncols = _grid(max(len(names), 1))
    fig = _figure(base + per_row * nrows)
    if not names:
        return _no_data(fig, empty), [], ncols
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=sharey).ravel()
    for ax in axes[len(names):]:
        ax.axis("off")
    return fig, list(zip(axes, names)), ncols


def response_curves_svg(tables: InsightTables) -> str:
    """Small multiples of weekly response vs weekly spend with the current spend and break-even."""
    def draw() -> Figure:
        curves = tables.response_curves
        fig, panels, ncols = _channel_panels(tables, curves, "No response curves for this model.", base=0.9,
                                         per_row=2.5, sharey=False, others=False)
        if not panels:
            return fig
        colors = channel_colors(tables)
        markers = tables.curve_markers.set_index("channel")
        for ax, name in panels:
            c = curves[curves["channel"] == name].sort_values("spend")
            spend = c["spend"].to_numpy(float)
            mean = c["response_mean"].to_numpy(float)
            ax.fill_between(spend, c["response_p05"], c["response_p95"], color=colors[name],
                            alpha=0.18, linewidth=0)
            ax.plot(spend, mean, color=colors[name], linewidth=2)
            notes = []
            if name in markers.index:
                current = float(markers.at[name, "current_spend"])
                breakeven = float(markers.at[name, "breakeven_spend"])
                if np.isfinite(current):
                    at = _interp(current, spend, mean)
                    ax.axvline(current, color="#444444", linestyle=":", linewidth=1)
                    ax.plot([current], [at], "o", color="#222222", markersize=6, zorder=4,
                            label="Current weekly spend")
                    marginal = _interp(current, spend, c["marginal_mean"].to_numpy(float))
                    notes.append(_fmt_marginal(marginal, tables))
                if np.isfinite(breakeven) and breakeven > spend.max():
                    notes.append(f"break-even at {_sig3(breakeven)} {tables.currency}/wk "
                                 "(off the chart)")
                elif np.isfinite(breakeven):
                    at = _interp(breakeven, spend, mean)
                    ax.plot([breakeven], [at], "D", color="white", markeredgecolor="#222222",
                            markeredgewidth=1.5, markersize=7, zorder=5, label="Break-even")
                    notes.append(f"break-even at {_sig3(breakeven)} {tables.currency}/wk")
                elif tables.is_revenue:
                    notes.append(_no_breakeven_note(c["marginal_mean"].to_numpy(float)))
            # bottom right: concave curves leave that corner empty
            ax.text(0.97, 0.04, "\n".join(notes), transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=8, color="#333333", linespacing=1.4,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5})
            ax.set_title(name, loc="left")
            ax.set_xlim(0, spend.max() if len(spend) else 1)
            ax.set_ylim(bottom=0)
            ax.xaxis.set_major_formatter(_COMPACT)
            ax.yaxis.set_major_formatter(_COMPACT)
            ax.xaxis.set_major_locator(MaxNLocator(4))
        for i, (ax, _) in enumerate(panels):
            if i + ncols >= len(panels):  # bottom panel of each column
                ax.set_xlabel(f"Weekly spend ({tables.currency})")
            if i % ncols == 0:
                ax.set_ylabel(_value_label(tables, "Weekly "))
        handles, labels = [], []
        for ax, _ in panels:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncol=len(labels))
        return fig

    return _render(tables, "response_curves", "Response curves", draw)


def _fmt_marginal(value: float, tables: InsightTables) -> str:
    """What the next unit of spend buys at today's level, in the analyst's words."""
    if not np.isfinite(value):
        return "marginal return at current spend: n/a"
    if tables.is_revenue:
        return f"marginal ROAS at current spend: {value:.2f}"
    # per 1,000: a single currency unit buys a small fraction of a conversion
    return f"next 1,000 {tables.currency}: +{value * 1000:,.1f} {tables.conversion}"


def _no_breakeven_note(marginal: np.ndarray) -> str:
    finite = marginal[np.isfinite(marginal)]
    if finite.size and finite.min() > 1:
        return "returns > 1 across the whole range"
    if finite.size and finite.max() < 1:
        return "returns < 1 at every spend level"
    return "no break-even found"


def adstock_svg(tables: InsightTables) -> str:
    """Small multiples of the carryover weight per week of lag, with 90% bands."""
    def draw() -> Figure:
        ad = tables.adstock
        fig, panels, ncols = _channel_panels(tables, ad, "No adstock weights for this model.", base=0.6,
                                             per_row=2.2)
        if not panels:
            return fig
        colors = channel_colors(tables)
        for i, (ax, name) in enumerate(panels):
            a = ad[ad["channel"] == name].sort_values("lag")
            lag = a["lag"].to_numpy(float)
            color = colors.get(name, CHANNEL_PALETTE[0])
            ax.fill_between(lag, a["weight_p05"] * 100, a["weight_p95"] * 100, color=color,
                            alpha=0.2, linewidth=0)
            ax.plot(lag, a["weight_mean"] * 100, "-o", color=color, markersize=4, linewidth=1.8)
            weights = a["weight_mean"].to_numpy(float)
            mean_lag = float(np.sum(lag * weights) / np.sum(weights)) if weights.sum() > 0 else np.nan
            ax.set_title(name, loc="left")
            ax.text(0.98, 0.95, f"average delay {mean_lag:.1f} wk", transform=ax.transAxes,
                    ha="right", va="top", fontsize=8, color="#333333")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
            if i + ncols >= len(panels):
                ax.set_xlabel("Weeks after spend (lag)")
            if i % ncols == 0:
                ax.set_ylabel("Share of effect (%)")
        top = float(np.nanmax(ad[["weight_mean", "weight_p95"]].to_numpy(float))) * 100
        panels[0][0].set_ylim(0, top * 1.08 if np.isfinite(top) and top > 0 else 100)  # shared by all
        return fig

    return _render(tables, "adstock", "Adstock (carryover) weights", draw)


def fit_svg(tables: InsightTables) -> str:
    """Actual vs predicted with the 90% band and the holdout shaded; residuals underneath."""
    def draw() -> Figure:
        fit = tables.fit.sort_values("date")
        fig = _figure(5.2)
        if fit.empty:
            return _no_data(fig, "No fit to show.")
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
        dates = _dates(fit["date"])
        holdout = fit["holdout"].to_numpy(bool)
        if holdout.any():
            step = (dates[1] - dates[0]) / 2 if len(dates) > 1 else np.timedelta64(0, "D")
            start, end = dates[holdout].min() - step, dates[holdout].max() + step
            for ax in (top, bottom):
                ax.axvspan(start, end, color=HOLDOUT_COLOR, alpha=0.16, linewidth=0, zorder=0,
                           label="Holdout (not used for fitting)" if ax is top else None)
        top.fill_between(dates, fit["predicted_p05"], fit["predicted_p95"], color=PREDICTED_COLOR,
                         alpha=0.2, linewidth=0, label="Predicted 90% interval")
        top.plot(dates, fit["predicted_mean"], color=PREDICTED_COLOR, linewidth=1.8,
                 label="Predicted (mean)")
        top.plot(dates, fit["actual"], color=ACTUAL_COLOR, linewidth=1.1, marker="o",
                 markersize=2.5, label="Actual")
        top.set_ylabel(_value_label(tables, f"{period_word(dates)} "))
        top.yaxis.set_major_formatter(_COMPACT)
        top.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=4, fontsize=8.5,
                   borderaxespad=0.2)  # above the plot: inside it would cover the data
        residual = fit["residual"].to_numpy(float)
        bar_width = (dates[1] - dates[0]) * 0.8 if len(dates) > 1 else 5
        bottom.bar(dates, residual, width=bar_width,
                   color=np.where(residual >= 0, "#0072B2", "#D55E00"), linewidth=0)
        bottom.axhline(0, color="#333333", linewidth=0.8)
        bottom.set_ylabel("Residual\n(actual \u2212 pred.)")
        bottom.yaxis.set_major_locator(MaxNLocator(nbins=4, symmetric=True))
        bottom.yaxis.set_major_formatter(_COMPACT)
        bottom.set_xlabel("Period start (ISO date)")
        bottom.set_xlim(dates[0], dates[-1])
        _date_axis(bottom)
        return fig

    return _render(tables, "fit", "Actual vs predicted", draw)


def effectiveness_svg(tables: InsightTables) -> str:
    """Small multiples of each time-varying channel's effectiveness multiplier per period:
    posterior mean and 90% band, 1 (the start of the window) dashed, the window average dotted."""
    def draw() -> Figure:
        eff = tables.effectiveness
        fig, panels, ncols = _channel_panels(tables, eff, "No channel has time-varying effectiveness.", base=1.0,
                                             per_row=2.4)
        if not panels:
            return fig
        colors = channel_colors(tables)
        for i, (ax, name) in enumerate(panels):
            e = eff[eff["channel"] == name].sort_values("date")
            dates = _dates(e["date"])
            color = colors.get(name, CHANNEL_PALETTE[0])
            ax.fill_between(dates, e["p05"], e["p95"], color=color, alpha=0.2, linewidth=0,
                            label="90% interval")
            ax.plot(dates, e["mean"], color=color, linewidth=1.8, label="Posterior mean")
            ax.axhline(1.0, color="#555555", linestyle="--", linewidth=0.9,
                       label="1 = effectiveness at the window's start")
            average = float(e["mean"].mean())
            ax.axhline(average, color="#333333", linestyle=":", linewidth=1,
                       label="Average over the window (used by the response curves)")
            ax.set_title(name, loc="left")
            ax.text(0.98, 0.95, f"average {average:.2f}\u00d7, range {e['mean'].min():.2f}\u2013"
                                f"{e['mean'].max():.2f}\u00d7", transform=ax.transAxes,
                    ha="right", va="top", fontsize=8, color="#333333")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.2g}\u00d7"))
            ax.set_xlim(dates[0], dates[-1])
            _date_axis(ax)
            # side-by-side panels are narrow: few ISO dates, slanted, so labels never run together
            ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=4 if ncols > 1 else 6))
            if ncols > 1:
                ax.tick_params(axis="x", labelrotation=30)
            if i + ncols >= len(panels):
                ax.set_xlabel("Period start (ISO date)")
            if i % ncols == 0:
                ax.set_ylabel("Effectiveness multiplier")
        handles, labels = panels[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=2)
        return fig

    return _render(tables, "effectiveness", "Effectiveness over time", draw)


def lift_test_labels(tables: InsightTables) -> list[str]:
    """One label per lift test: 'tv, 2024-03-04 to 2024-03-31'."""
    lt = tables.lift_tests
    return [f"{r.touchpoint}, {r.start:%Y-%m-%d} to {r.end:%Y-%m-%d}" for r in lt.itertuples(index=False)]


Z90 = 1.6448536269514722  # the 95th percentile of a standard Normal: a 90% interval is mean +/- Z90 sd


def lift_tests_svg(tables: InsightTables) -> str:
    """Per lift test: the measurement with its 90% error bar (+/- 1.645 SE) above the model's
    posterior mean and 90% interval over the same periods."""
    def draw() -> Figure:
        lt = tables.lift_tests
        n = 0 if lt is None else len(lt)
        fig = _figure(1.5 + 0.75 * max(n, 1))
        if not n:
            return _no_data(fig, "This model has no lift tests.")
        colors = channel_colors(tables)
        ax = fig.add_subplot()
        y = np.arange(n, dtype=float)
        measured = lt["incremental"].to_numpy(float)
        se = lt["standard_error"].to_numpy(float)
        ax.errorbar(measured, y - 0.17, xerr=Z90 * se, fmt="D", color=ACTUAL_COLOR, markersize=6,
                    elinewidth=1.4, capsize=4, label="Measured, 90% interval (\u00b11.645 SE)", zorder=3)
        model = lt["model_mean"].to_numpy(float)
        lo, hi = lt["model_p05"].to_numpy(float), lt["model_p95"].to_numpy(float)
        point_colors = [colors.get(c, CHANNEL_PALETTE[0]) for c in lt["touchpoint"]]
        ax.hlines(y + 0.17, lo, hi, colors=point_colors, linewidth=3, zorder=2)
        ax.scatter(model, y + 0.17, color=point_colors, s=55, zorder=4, edgecolors="white",
                   linewidths=0.8, label="Model: posterior mean, 90% interval")
        right = float(np.nanmax(np.r_[measured + Z90 * se, hi]))
        left = float(np.nanmin(np.r_[measured - Z90 * se, lo]))
        # zero as the origin when it costs little room; otherwise the intervals would be squeezed
        left = min(left, 0.0) if left < 0.5 * right else left - 0.08 * (right - left)
        for yi, z in enumerate(lt["difference_se"].to_numpy(float)):
            if np.isfinite(z):
                ax.text(right + 0.03 * (right - left), yi, f"model \u2212 measured\n{_signed(z)} SE",
                        va="center", fontsize=8, color="#333333")
        ax.set_xlim(left, right + 0.22 * (right - left))
        ax.set_yticks(y, lift_test_labels(tables))
        ax.set_ylim(n - 0.4, -0.6)
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter(_COMPACT)
        ax.set_xlabel(f"Incremental {_value_label(tables)} over the test's periods")
        handles, labels = ax.get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda k: not labels[k].startswith("Measured"))
        fig.legend([handles[k] for k in order], [labels[k] for k in order], loc="outside lower center", ncol=2)
        return fig

    return _render(tables, "lift_tests", "Lift tests: measured vs model", draw)


def _signed(x: float, decimals: int = 1) -> str:
    text = f"{abs(x):.{decimals}f}"
    if float(text) == 0:
        return text
    return ("+" if x > 0 else "\u2212") + text


# ---------------------------------------------------------------- the registry

@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: Callable[[InsightTables], str]
    how_to_read: Callable[[InsightTables], str]
    table: str | None = None    # the export (CSV name) holding the chart's data
    applies: Callable[[InsightTables], bool] | None = None   # None: every model has this chart


def _how_returns(t: InsightTables) -> str:
    if t.is_revenue:
        return ("Each dot is a channel's average return over the training window, the line its 90% "
                "interval; to the right of the dashed line a channel brings back more than it costs.")
    return ("Each dot is what one conversion from that channel costs on average, the line its 90% "
            "interval; further left is cheaper.")


def _how_curves(t: InsightTables) -> str:
    text = ("Each panel shows the weekly result a channel produces at a steady weekly spend; the "
            "black dot is today's average spend, and a flattening curve means extra budget buys less")
    if t.is_revenue:
        text += "; past the diamond (break-even) each extra unit of spend returns less than it costs"
    return text + "."


CHARTS: tuple[Chart, ...] = (
    Chart("contribution_over_time", "Contribution over time", contribution_over_time_svg,
          lambda t: ("Each band is how much of each period's result the model credits to base "
                     "demand, a factor or a channel; the black line is what actually happened, and "
                     "bands below zero are factors that held results down."), table="contributions"),
    Chart("contribution_share", "Contribution share by channel", contribution_share_svg,
          lambda t: ("Bars are each channel's share of total results with a 90% interval; the grey "
                     "band behind is what the model assumed before seeing the data, so a bar far "
                     "from its band is what the data said."), table="channels"),
    Chart("returns", "Return per channel", returns_svg, _how_returns, table="channels"),
    Chart("response_curves", "Response curves", response_curves_svg, _how_curves, table="response_curves"),
    Chart("adstock", "Adstock (carryover)", adstock_svg,
          lambda t: ("How a week's spend spreads its effect over the following weeks: lag 0 is the "
                     "week of spend, and a long tail means results keep coming after a campaign stops."),
          table="adstock"),
    Chart("fit", "Actual vs predicted", fit_svg,
          lambda t: ("The blue line and band are what the model predicts, the black line the actual "
                     "result; the grey region was held out from fitting, so a good match there "
                     "shows the model forecasts, and residuals below should look like noise."), table="fit"),
)

# Charts only some models have, placed after the chart named by `after` (None: at the end).
EFFECTIVENESS_CHART = Chart(
    "effectiveness", "Effectiveness over time", effectiveness_svg,
    lambda t: ("How much each unit of a time-varying channel's (carried-over, saturated) spend "
               "does, period by period, relative to the start of the training window (1\u00d7): "
               "the line is the posterior mean and the band its 90% interval; 1.2\u00d7 means 20% "
               "more effect per unit than at the start. The response curves use the dotted average."),
    table="effectiveness", applies=lambda t: t.effectiveness is not None)
LIFT_TESTS_CHART = Chart(
    "lift_tests", "Lift tests: measured vs model", lift_tests_svg,
    lambda t: ("Each black diamond is a lift test's measured incremental result with its 90% "
               "error bar; the colored dot and line below it are the model's estimate of the same "
               "channel over the same periods. The tests are part of the fit, so a model interval "
               "far from its test means the rest of the data disagrees with the measurement."),
    table="lift_tests", applies=lambda t: t.lift_tests is not None)
OPTIONAL_CHARTS: tuple[tuple[Chart, str | None], ...] = (
    (EFFECTIVENESS_CHART, "response_curves"),
    (LIFT_TESTS_CHART, None),
)


def charts_for(tables: InsightTables) -> list[Chart]:
    """The charts this model has, in reading order: CHARTS plus the optional ones that apply."""
    out = list(CHARTS)
    for chart, after in OPTIONAL_CHARTS:
        if chart.applies(tables):
            keys = [c.key for c in out]
            out.insert(keys.index(after) + 1 if after in keys else len(out), chart)
    return out


def render_svgs(tables: InsightTables) -> dict[str, str]:
    """Every chart of the model as an SVG string, keyed like CHARTS (plus any optional chart
    that applies: effectiveness, lift_tests)."""
    return {chart.key: chart.svg(tables) for chart in charts_for(tables)}


# ---------------------------------------------------------------- Vega-Lite specs

def _records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Rows as JSON-ready dicts: ISO dates, None for NaN, plain Python numbers."""
    out = df[columns].copy()
    for col in columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    rows = []
    for row in out.itertuples(index=False, name=None):
        rows.append({col: _json_value(v) for col, v in zip(columns, row)})
    return rows


def _json_value(v):
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    return v


def _base_spec(title: str, description: str) -> dict:
    return {"$schema": VEGA_SCHEMA, "title": title, "description": description,
            "width": "container", "config": {"view": {"stroke": None}}}


def _color_scale(colors: dict[str, str], order: list[str]) -> dict:
    return {"domain": order, "range": [colors[name] for name in order]}


def _contribution_over_time_spec(tables: InsightTables, how: str) -> dict:
    order = component_order(tables)
    data = tables.contributions.assign(order=lambda d: d["component"].map(order.index))
    spec = _base_spec("Contribution over time", how)
    spec.update({
        "height": 320,
        "data": {"values": _records(data, ["date", "component", "kind", "mean", "p05", "p95", "order"])},
        "mark": {"type": "area", "interpolate": "linear"},
        "encoding": {
            "x": {"field": "date", "type": "temporal", "title": "Period start",
                  "axis": {"format": "%Y-%m-%d"}},
            "y": {"field": "mean", "type": "quantitative", "stack": "zero",
                  "title": _value_label(tables, f"{period_word(data['date'])} ")},
            "color": {"field": "component", "type": "nominal", "title": "Component",
                      "scale": _color_scale(component_colors(tables), order)},
            "order": {"field": "order", "type": "quantitative"},
            "tooltip": [{"field": "date", "type": "temporal", "format": "%Y-%m-%d"},
                        {"field": "component", "type": "nominal"},
                        {"field": "mean", "type": "quantitative", "format": ",.0f"},
                        {"field": "p05", "type": "quantitative", "format": ",.0f"},
                        {"field": "p95", "type": "quantitative", "format": ",.0f"}],
        },
    })
    return spec


def _contribution_share_spec(tables: InsightTables, how: str) -> dict:
    ch = tables.channels
    order = list(ch["channel"])
    y = {"field": "channel", "type": "nominal", "sort": order, "title": None}
    spec = _base_spec("Contribution share by channel", how)
    spec.update({
        "height": {"step": 36},
        "data": {"values": _records(ch, ["channel", "share_mean", "share_p05", "share_p95",
                                         "prior_share_mean", "prior_share_p05", "prior_share_p95"])},
        "layer": [
            {"mark": {"type": "bar", "color": PRIOR_COLOR, "opacity": 0.22, "size": 28},
             "encoding": {"y": y, "x": {"field": "prior_share_p05", "type": "quantitative"},
                          "x2": {"field": "prior_share_p95"}}},
            {"mark": {"type": "bar", "size": 16},
             "encoding": {"y": y,
                          "x": {"field": "share_mean", "type": "quantitative",
                                "title": f"Share of total {tables.conversion}",
                                "axis": {"format": ".0%"}},
                          "color": {"field": "channel", "type": "nominal", "legend": None,
                                    "scale": _color_scale(channel_colors(tables), order)}}},
            {"mark": {"type": "rule", "color": "#222222"},
             "encoding": {"y": y, "x": {"field": "share_p05", "type": "quantitative"},
                          "x2": {"field": "share_p95"}}},
        ],
    })
    return spec


def _returns_spec(tables: InsightTables, how: str) -> dict:
    ch = tables.channels
    order = list(ch["channel"])
    colors = channel_colors(tables)
    panels = []
    for metric in return_metrics(tables):
        cols = [f"{metric.column}_mean", f"{metric.column}_p05", f"{metric.column}_p95"]
        y = {"field": "channel", "type": "nominal", "sort": order, "title": None}
        color = {"field": "channel", "type": "nominal", "legend": None,
                 "scale": _color_scale(colors, order)}
        layers = [
            {"mark": {"type": "rule", "strokeWidth": 3},
             "encoding": {"y": y, "x": {"field": cols[1], "type": "quantitative", "title": metric.title},
                          "x2": {"field": cols[2]}, "color": color}},
            {"mark": {"type": "point", "filled": True, "size": 80},
             "encoding": {"y": y, "x": {"field": cols[0], "type": "quantitative"}, "color": color}},
        ]
        if metric.reference is not None:
            layers.append({"data": {"values": [{"reference": metric.reference}]},
                           "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#555555"},
                           "encoding": {"x": {"field": "reference", "type": "quantitative"}}})
        panels.append({"title": metric.title, "width": 260, "height": {"step": 32},
                       "data": {"values": _records(ch, ["channel", *cols])}, "layer": layers})
    spec = _base_spec("Return per channel", how)
    spec.pop("width")
    spec["hconcat"] = panels
    return spec


def _curve_marker_rows(tables: InsightTables) -> pd.DataFrame:
    """Current spend and break-even as points on each curve, so one faceted dataset holds both."""
    rows = []
    curves = tables.response_curves
    for m in tables.curve_markers.itertuples(index=False):
        c = curves[curves["channel"] == m.channel]
        if c.empty:
            continue
        spend, mean = c["spend"].to_numpy(float), c["response_mean"].to_numpy(float)
        for label, x in (("Current weekly spend", m.current_spend), ("Break-even", m.breakeven_spend)):
            if x is not None and np.isfinite(x):
                rows.append({"channel": m.channel, "spend": float(x),
                             "response_mean": _interp(float(x), spend, mean), "marker": label})
    return pd.DataFrame(rows, columns=["channel", "spend", "response_mean", "marker"])


def _response_curves_spec(tables: InsightTables, how: str) -> dict:
    cols = ["channel", "spend", "response_mean", "response_p05", "response_p95", "marginal_mean"]
    curve_rows = _records(tables.response_curves, cols)
    marker_rows = _records(_curve_marker_rows(tables), ["channel", "spend", "response_mean", "marker"])
    for row in curve_rows:
        row["marker"] = None
    x = {"field": "spend", "type": "quantitative", "title": f"Weekly spend ({tables.currency})"}
    y_title = _value_label(tables, "Weekly ")
    spec = _base_spec("Response curves", how)
    spec.pop("width")
    spec.update({
        "data": {"values": curve_rows + marker_rows},
        "facet": {"field": "channel", "type": "nominal", "title": None,
                  "sort": list(tables.channels["channel"])},
        "columns": 3,
        "resolve": {"scale": {"x": "independent", "y": "independent"}},
        "spec": {
            "width": 240, "height": 170,
            "layer": [
                {"transform": [{"filter": "datum.marker == null"}],
                 "mark": {"type": "area", "opacity": 0.2},
                 "encoding": {"x": x, "y": {"field": "response_p05", "type": "quantitative",
                                            "title": y_title},
                              "y2": {"field": "response_p95"}}},
                {"transform": [{"filter": "datum.marker == null"}],
                 "mark": {"type": "line", "strokeWidth": 2},
                 "encoding": {"x": x, "y": {"field": "response_mean", "type": "quantitative"},
                              "tooltip": [{"field": "spend", "format": ",.0f"},
                                          {"field": "response_mean", "format": ",.0f"},
                                          {"field": "marginal_mean", "format": ".3f"}]}},
                {"transform": [{"filter": "datum.marker != null"}],
                 "mark": {"type": "point", "filled": True, "size": 70, "color": "#222222"},
                 "encoding": {"x": x, "y": {"field": "response_mean", "type": "quantitative"},
                              "shape": {"field": "marker", "type": "nominal", "title": None,
                                        "scale": {"domain": ["Current weekly spend", "Break-even"],
                                                  "range": ["circle", "diamond"]}}}},
            ],
        },
    })
    return spec


def _adstock_spec(tables: InsightTables, how: str) -> dict:
    x = {"field": "lag", "type": "quantitative", "title": "Weeks after spend (lag)",
         "axis": {"tickMinStep": 1}}
    spec = _base_spec("Adstock (carryover) weights", how)
    spec.pop("width")
    spec.update({
        "data": {"values": _records(tables.adstock, ["channel", "lag", "weight_mean", "weight_p05",
                                                     "weight_p95"])},
        "facet": {"field": "channel", "type": "nominal", "title": None,
                  "sort": list(tables.channels["channel"])},
        "columns": 3,
        "spec": {
            "width": 240, "height": 140,
            "layer": [
                {"mark": {"type": "area", "opacity": 0.2},
                 "encoding": {"x": x, "y": {"field": "weight_p05", "type": "quantitative",
                                            "title": "Share of effect", "axis": {"format": ".0%"}},
                              "y2": {"field": "weight_p95"}}},
                {"mark": {"type": "line", "point": True},
                 "encoding": {"x": x, "y": {"field": "weight_mean", "type": "quantitative"}}},
            ],
        },
    })
    return spec


def _fit_spec(tables: InsightTables, how: str) -> dict:
    fit = tables.fit.sort_values("date")
    values = _records(fit, ["date", "actual", "predicted_mean", "predicted_p05", "predicted_p95",
                            "residual", "holdout"])
    x = {"field": "date", "type": "temporal", "title": "Period start", "axis": {"format": "%Y-%m-%d"}}
    y_title = _value_label(tables, f"{period_word(fit['date'])} ")
    holdout = fit.loc[fit["holdout"].astype(bool), "date"]
    top_layers = []
    if not holdout.empty:
        top_layers.append({
            "data": {"values": [{"start": holdout.min().strftime("%Y-%m-%d"),
                                 "end": holdout.max().strftime("%Y-%m-%d"), "label": "Holdout"}]},
            "mark": {"type": "rect", "color": HOLDOUT_COLOR, "opacity": 0.25},
            "encoding": {"x": {"field": "start", "type": "temporal"}, "x2": {"field": "end"}}})
    top_layers += [
        {"mark": {"type": "area", "color": PREDICTED_COLOR, "opacity": 0.2},
         "encoding": {"x": x, "y": {"field": "predicted_p05", "type": "quantitative", "title": y_title},
                      "y2": {"field": "predicted_p95"}}},
        {"mark": {"type": "line", "color": PREDICTED_COLOR},
         "encoding": {"x": x, "y": {"field": "predicted_mean", "type": "quantitative"}}},
        {"mark": {"type": "line", "color": ACTUAL_COLOR, "point": {"size": 12, "color": ACTUAL_COLOR}},
         "encoding": {"x": x, "y": {"field": "actual", "type": "quantitative"}}},
    ]
    spec = _base_spec("Actual vs predicted", how)
    spec.pop("width")
    spec.update({
        "data": {"values": values},
        "vconcat": [
            {"width": 760, "height": 260, "layer": top_layers},
            {"width": 760, "height": 90, "mark": {"type": "bar"},
             "encoding": {"x": x, "y": {"field": "residual", "type": "quantitative",
                                        "title": "Residual (actual \u2212 predicted)"},
                          "color": {"condition": {"test": "datum.residual >= 0",
                                                  "value": "#0072B2"}, "value": "#D55E00"}}},
        ],
    })
    return spec


def _effectiveness_spec(tables: InsightTables, how: str) -> dict:
    eff = tables.effectiveness
    x = {"field": "date", "type": "temporal", "title": "Period start", "axis": {"format": "%Y-%m-%d"}}
    order = [c for c in tables.channels["channel"] if c in set(eff["channel"])]
    spec = _base_spec("Effectiveness over time", how)
    spec.pop("width")
    spec.update({
        "data": {"values": _records(eff, ["date", "channel", "mean", "p05", "p95"])},
        "facet": {"field": "channel", "type": "nominal", "title": None, "sort": order},
        "columns": 2,
        "spec": {
            "width": 360, "height": 160,
            "layer": [
                {"mark": {"type": "area", "opacity": 0.2},
                 "encoding": {"x": x, "y": {"field": "p05", "type": "quantitative",
                                            "title": "Effectiveness multiplier"},
                              "y2": {"field": "p95"}}},
                {"mark": {"type": "line", "strokeWidth": 2},
                 "encoding": {"x": x, "y": {"field": "mean", "type": "quantitative"},
                              "tooltip": [{"field": "date", "type": "temporal", "format": "%Y-%m-%d"},
                                          {"field": "mean", "format": ".3f"},
                                          {"field": "p05", "format": ".3f"},
                                          {"field": "p95", "format": ".3f"}]}},
                {"data": {"values": [{"reference": 1.0}]},
                 "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#555555"},
                 "encoding": {"y": {"field": "reference", "type": "quantitative"}}},
            ],
        },
    })
    return spec


def _lift_tests_spec(tables: InsightTables, how: str) -> dict:
    lt = tables.lift_tests
    labels = lift_test_labels(tables)
    rows = []
    for label, r in zip(labels, lt.itertuples(index=False)):
        rows.append({"test": label, "touchpoint": r.touchpoint, "estimate": "Measured",
                     "value": _json_value(r.incremental),
                     "lo": _json_value(r.incremental - Z90 * r.standard_error),
                     "hi": _json_value(r.incremental + Z90 * r.standard_error)})
        rows.append({"test": label, "touchpoint": r.touchpoint, "estimate": "Model",
                     "value": _json_value(r.model_mean), "lo": _json_value(r.model_p05),
                     "hi": _json_value(r.model_p95)})
    y = {"field": "test", "type": "nominal", "sort": labels, "title": None}
    y_offset = {"field": "estimate", "type": "nominal", "sort": ["Measured", "Model"]}
    color = {"field": "estimate", "type": "nominal", "title": None,
             "scale": {"domain": ["Measured", "Model"], "range": [ACTUAL_COLOR, PREDICTED_COLOR]}}
    spec = _base_spec("Lift tests: measured vs model", how)
    spec.update({
        "height": {"step": 44},
        "data": {"values": rows},
        "layer": [
            {"mark": {"type": "rule", "strokeWidth": 2},
             "encoding": {"y": y, "yOffset": y_offset, "color": color,
                          "x": {"field": "lo", "type": "quantitative",
                                "title": f"Incremental {_value_label(tables)} (90% intervals)"},
                          "x2": {"field": "hi"}}},
            {"mark": {"type": "point", "filled": True, "size": 70},
             "encoding": {"y": y, "yOffset": y_offset, "color": color,
                          "shape": {"field": "estimate", "type": "nominal", "legend": None,
                                    "scale": {"domain": ["Measured", "Model"], "range": ["diamond", "circle"]}},
                          "x": {"field": "value", "type": "quantitative"},
                          "tooltip": [{"field": "test"}, {"field": "estimate"},
                                      {"field": "value", "format": ",.0f"}, {"field": "lo", "format": ",.0f"},
                                      {"field": "hi", "format": ",.0f"}]}},
        ],
    })
    return spec


_VEGA_BUILDERS: dict[str, Callable[[InsightTables, str], dict]] = {
    "contribution_over_time": _contribution_over_time_spec,
    "contribution_share": _contribution_share_spec,
    "returns": _returns_spec,
    "response_curves": _response_curves_spec,
    "adstock": _adstock_spec,
    "fit": _fit_spec,
    "effectiveness": _effectiveness_spec,
    "lift_tests": _lift_tests_spec,
}


def vega_lite_specs(tables: InsightTables) -> dict[str, dict]:
    """A Vega-Lite v5 spec per chart (same keys as `charts_for`), data inlined, JSON-serializable.

    `usermeta` carries the model status; when it is not Success the title gets the caution
    as a subtitle, as the SVG charts do.
    """
    specs = {}
    caution = status_caution(tables)
    for chart in charts_for(tables):
        spec = _VEGA_BUILDERS[chart.key](tables, chart.how_to_read(tables))
        spec["usermeta"] = {"model": tables.model.get("name"), "status": tables.status,
                            "status_reasons": [str(r) for r in tables.model.get("status_reasons") or []]}
        if caution:
            spec["title"] = {"text": spec["title"], "subtitle": caution, "subtitleColor": CAUTION_COLOR}
        specs[chart.key] = spec
    return specs
