"""From a data frame and a ModelSpec to the arrays the model reads.

The scaling (target mean, per-channel spend scale, factor centre and spread, trend origin)
is learned once from the training window and stored with the posterior, so scoring another
date range later uses exactly the same transformation.

Arrays are shaped (time, geo, channel). National data (no geo column) is one geo named
"national"; a hierarchical model's frame has a `geo` column and one row per date and geo.
Each geo's target and spend are scaled by that geo's own fitting-window means, so geos of
any size read alike (1 = a typical week of that geo). With `population`, target and spend
are taken per capita first and scaled by the means over all geos instead: a typical
per-capita week is 1 everywhere, and geos differ by how many people they hold.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from mediamix.data.messages import amount, show
from mediamix.errors import DataError, SpecError
from mediamix.model.spec import ModelSpec
from mediamix.model.transforms import lag_stack

WEEKS_PER_YEAR = 52.1775  # 365.25 / 7, as the data layer's cadence uses
NATIONAL = "national"     # the one geo of national data


@dataclass(frozen=True)
class Scaling:
    y_scale: float                           # the (summed) target's mean over the fitting window
    spend_scale: dict[str, float]            # the (summed) spend's mean over active fitting periods
    factor_center: dict[str, float]
    factor_scale: dict[str, float]
    factor_levels: dict[str, list[str]]     # categorical factors -> dummy levels (first level is the reference)
    train_start: str
    train_end: str
    fit_end: str                             # last date used in the likelihood (before the holdout)
    periods_per_year: float
    period_days: float
    n_lags: int
    # Per geo (national: one geo; older posteriors without these fields are national too).
    geos: list[str] = field(default_factory=lambda: [NATIONAL])
    geo_y_scale: list[float] | None = None               # per geo; None: [y_scale]
    geo_spend_scale: dict[str, list[float]] | None = None  # channel -> per geo; None: spend_scale
    population: str | None = None            # the per-capita column, if any

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Scaling":
        return cls(**json.loads(text))

    def y_scales(self) -> np.ndarray:
        """(geo,) target scale of each geo (per capita with a population column)."""
        return np.asarray(self.geo_y_scale if self.geo_y_scale is not None else [self.y_scale], np.float64)

    def spend_scales(self, channels: list[str]) -> np.ndarray:
        """(geo, channel) spend scale of each geo and channel (per capita with a population column)."""
        if self.geo_spend_scale is None:
            return np.asarray([[self.spend_scale[c] for c in channels]], np.float64)
        return np.asarray([self.geo_spend_scale[c] for c in channels], np.float64).T


@dataclass
class Design:
    dates: pd.DatetimeIndex
    geos: list[str]                          # ["national"] for national data
    channels: list[str]
    factor_names: list[str]                  # after expanding categoricals into dummies
    spend_geo: np.ndarray                    # (time, geo, channel) raw currency
    volume_geo: np.ndarray                   # (time, geo, channel) raw units, NaN where not given
    y_geo: np.ndarray                        # (time, geo) raw target, NaN where absent
    unit: np.ndarray                         # (time, geo) target units per scaled unit (y scale x population)
    media_stack: np.ndarray                  # (lag, time, geo, channel) scaled spend
    trend: np.ndarray                        # (time,)
    fourier: np.ndarray                      # (time, 2*order)
    factors: np.ndarray                      # (time, geo, factor) standardised
    trend_basis: np.ndarray                  # (time, knot) cubic B-splines of a smooth trend (trend: spline)
    effect_basis: np.ndarray                 # (time, knot) B-splines of time-varying channel effects
    in_training: np.ndarray                  # (time,) bool
    in_fit: np.ndarray                       # (time,) bool: training minus holdout
    in_holdout: np.ndarray                   # (time,) bool
    scaling: Scaling
    notices: list[str] = field(default_factory=list)

    # National views (summed over geos; for national data the one geo itself).
    @property
    def y(self) -> np.ndarray:
        """(time,) the target summed over geos, NaN where any geo lacks it."""
        return self.y_geo.sum(axis=1)

    @property
    def spend(self) -> np.ndarray:
        """(time, channel) spend summed over geos."""
        return self.spend_geo.sum(axis=1)

    @property
    def volume(self) -> np.ndarray:
        """(time, channel) volume summed over geos, NaN where any geo lacks it."""
        return self.volume_geo.sum(axis=1)

    @property
    def n_geos(self) -> int:
        return len(self.geos)

    @property
    def y_scaled(self) -> np.ndarray:
        """(time, geo) the target in model units (0 where absent)."""
        return np.nan_to_num(self.y_geo / self.unit)

    def arrays(self) -> dict[str, np.ndarray]:
        """The numeric inputs of the NumPyro model, as float32 arrays."""
        return {
            "media_stack": self.media_stack.astype(np.float32),
            "trend": self.trend.astype(np.float32),
            "fourier": self.fourier.astype(np.float32),
            "factors": self.factors.astype(np.float32),
            "trend_basis": self.trend_basis.astype(np.float32),
            "effect_basis": self.effect_basis.astype(np.float32),
        }


def periods_for_weeks(weeks: float, periods_per_year: float) -> int:
    return max(1, int(round(weeks * periods_per_year / WEEKS_PER_YEAR)))


def min_fit_periods(n_channels: int, n_factor_columns: int) -> int:
    """The fewest periods the fit may keep once the holdout is set aside: 26, or 4 per channel
    and factor column (every level dummy of a categorical counted), whichever is more."""
    return max(26, 4 * (n_channels + n_factor_columns))


def weeks_for_periods(n: int, periods_per_year: float) -> int:
    """The largest whole number of weeks W >= 0 that periods_for_weeks turns into at most n periods."""
    if n < 1:
        return 0
    w = math.floor((n + 0.5) * WEEKS_PER_YEAR / periods_per_year)
    while w > 0 and periods_for_weeks(w, periods_per_year) > n:
        w -= 1
    return w


def period_unit(period_days: float) -> str:
    """'day', 'week' or 'month': what one period of the data is, for messages."""
    return "day" if period_days < 2 else "week" if period_days < 15 else "month"


def periods_beyond(dates: pd.DatetimeIndex, lo: pd.Timestamp, hi: pd.Timestamp,
                   period_days: float) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """The period starts in [lo, hi] that the data's grid would have before its first date and
    after its last one, had the data gone on: what a date range reaching past the data covers
    beyond it. Months follow the calendar (the data's month starts or month ends)."""
    dates = pd.DatetimeIndex(dates).sort_values()
    first, last = dates[0], dates[-1]
    if period_days >= 15:
        freq = "ME" if dates.is_month_end.all() else "MS"
        before = pd.date_range(lo, first, freq=freq) if lo < first else pd.DatetimeIndex([])
        after = pd.date_range(last, hi, freq=freq) if hi > last else pd.DatetimeIndex([])
        return before[before < first], after[after > last]
    step = dates[1] - dates[0] if len(dates) > 1 else pd.Timedelta(days=period_days)
    n_before = int((first - lo) // step) if lo < first else 0
    n_after = int((hi - last) // step) if hi > last else 0
    return (pd.DatetimeIndex([first - k * step for k in range(n_before, 0, -1)]),
            pd.DatetimeIndex([last + k * step for k in range(1, n_after + 1)]))


def check_design(spec: ModelSpec, design: Design) -> list[str]:
    """What training would only note or silently clip, checked when a model is created or edited
    (Workspace.check_spec) on the design learned from its data: a holdout that leaves too little
    to fit is refused, and so are spline knots further apart than the training window is long; a
    training window reaching past the data gives a warning. Returns the warnings."""
    sc = design.scaling
    dates = design.dates
    first, last = dates.min(), dates.max()
    start, end = pd.Timestamp(sc.train_start), pd.Timestamp(sc.train_end)
    window = f"{start.date()}..{end.date()}"
    unit = period_unit(sc.period_days)
    n_train = int(design.in_training.sum())
    warnings: list[str] = []
    # The holdout: the same rule _learn_scaling applies (where it only skips the holdout).
    if spec.holdout_weeks:
        holdout = periods_for_weeks(spec.holdout_weeks, sc.periods_per_year)
        n_columns = len(design.factor_names) + len(sc.factor_levels)   # + each categorical's reference level
        need = min_fit_periods(len(design.channels), n_columns)
        if n_train - holdout < need:
            as_periods = f" ({holdout} {unit}s)" if unit != "week" else ""
            rule = (f"{need}: 26, or 4 per channel and factor column, 4 x ({len(design.channels)} + {n_columns}) = "
                    f"{4 * (len(design.channels) + n_columns)}, whichever is more")
            most = weeks_for_periods(n_train - need, sc.periods_per_year)
            fix = (f"set holdout_weeks to at most {most}, or 0 for no holdout" if most >= 1 else
                   "set holdout_weeks: 0 (no holdout)")
            left = (f"is as long as the whole training window, {n_train} {unit}s ({window})" if holdout >= n_train else
                    f"leaves {n_train - holdout} of the training window's {n_train} {unit}s ({window}) to fit")
            raise SpecError(f"holdout_weeks: {spec.holdout_weeks}{as_periods} {left}; the fit needs at least {rule}. "
                            f"{fix.capitalize()}, or train on more data")
    # Spline knots: further apart than the window is long, the spline has no knot inside it.
    span = (end - start).days / 7.0
    for knots, used, what in (("trend_knot_weeks", spec.trend == "spline", "the spline trend (trend: spline)"),
                              ("effect_knot_weeks", any(t.time_varying for t in spec.touchpoints),
                               "time-varying effects (" + ", ".join(f"touchpoints[{t.name}]" for t in spec.touchpoints
                                                                    if t.time_varying) + ")")):
        value = getattr(spec, knots)
        if used and value >= span:
            raise SpecError(f"{knots}: {amount(value)} weeks between knots is not shorter than the training window, "
                            f"{amount(round(span, 1))} weeks ({window}), so {what} would have no knot inside it and "
                            f"could not vary over time as asked; set {knots} below {amount(round(span, 1))} (26 is "
                            f"the default: about two knots a year)")
    # A window asked to start before (or end after) the data is clipped to it: say so.
    tw = spec.training
    data_span = f"the data runs {first.date()}..{last.date()}"
    if tw.start or tw.end:
        lo = pd.Timestamp(tw.start) if tw.start else first
        hi = pd.Timestamp(tw.end) if tw.end else last
        before, after = periods_beyond(dates, min(lo, first), max(hi, last), sc.period_days)
        if tw.start and len(before):
            warnings.append(f"training.start {tw.start} is before the data's first date {first.date()} ({data_span}); "
                            f"training starts at {first.date()}, {len(before)} {unit}{'s' if len(before) != 1 else ''} "
                            f"later than asked. Set training.start to {first.date()} or later, or load the earlier data")
        if tw.end and len(after):
            warnings.append(f"training.end {tw.end} is after the data's last date {last.date()} ({data_span}); "
                            f"training ends at {last.date()}, {len(after)} {unit}{'s' if len(after) != 1 else ''} "
                            f"earlier than asked. Set training.end to {last.date()} or earlier, or load the later data")
    if tw.last_years is not None:
        asked = max(1, round(tw.last_years * sc.periods_per_year))   # as training_window counts
        if asked > len(dates):
            have = len(dates) / sc.periods_per_year
            warnings.append(f"training.last_years {amount(tw.last_years)} asks for {asked} {unit}s, but the data holds "
                            f"{len(dates)} ({amount(round(have, 2))} years; {data_span}); training uses all of it, from the "
                            f"data's first date {first.date()}. Set last_years to {amount(round(have, 2))} or less, or "
                            f"load the earlier data")
    return warnings


def training_window(dates: pd.DatetimeIndex, spec: ModelSpec,
                    periods_per_year: float = WEEKS_PER_YEAR) -> tuple[pd.Timestamp, pd.Timestamp]:
    tw = spec.training
    first, last = dates.min(), dates.max()
    if tw.last_years is not None:  # the last N years of periods, e.g. 52 weeks for one year
        n = max(1, int(round(tw.last_years * periods_per_year)))
        return dates.sort_values()[max(len(dates) - n, 0)], last
    start = pd.Timestamp(tw.start) if tw.start else first
    end = pd.Timestamp(tw.end) if tw.end else last
    if start > last or end < first:
        raise SpecError(f"training: window {start.date()}..{end.date()} does not overlap the data "
                        f"({first.date()}..{last.date()})")
    return max(first, start), min(last, end)


def spline_basis(dates: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp, knot_weeks: float) -> np.ndarray:
    """Cubic B-splines over the training window with a knot every `knot_weeks`: (time, basis).

    The functions sum to 1 at every date, so the coefficients read as levels at the knots.
    Dates outside the window take the value at its nearer edge: a smooth trend is held flat
    beyond what the data saw instead of being extrapolated.
    """
    span = max((end - start).days / 7.0, 1e-9)
    n_inner = max(int(np.ceil(span / knot_weeks)), 1)
    inner = np.linspace(0.0, span, n_inner + 1)
    knots = np.concatenate([[inner[0]] * 3, inner, [inner[-1]] * 3])
    x = np.clip((dates - start).days.to_numpy() / 7.0, 0.0, span)
    from scipy.interpolate import BSpline
    return BSpline.design_matrix(x, knots, 3).toarray()


def _fourier(dates: pd.DatetimeIndex, order: int, period_days: float) -> np.ndarray:
    # Seasonality is read at the middle of the period each row covers, so weeks anchored on
    # any weekday (or months) land on the right part of the year.
    mid = dates + pd.to_timedelta(period_days / 2.0, unit="D")
    day = mid.day_of_year.to_numpy() + (mid.hour.to_numpy() / 24.0)
    phase = 2 * np.pi * day / 365.25
    cols = []
    for k in range(1, order + 1):
        cols += [np.sin(k * phase), np.cos(k * phase)]
    return np.stack(cols, axis=1) if cols else np.zeros((len(dates), 0))


def _factor_columns(frame: pd.DataFrame, spec: ModelSpec) -> tuple[dict[str, np.ndarray], dict[str, list[str]], dict[str, str]]:
    """Numeric factor columns, and categoricals expanded into 0/1 dummies (name 'col=level')."""
    values, levels, impact = {}, {}, {}  # impact is kept per expanded column
    for f in spec.factors:
        col = frame[f.column]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            values[f.column] = col.to_numpy(dtype=np.float64)
            impact[f.column] = f.impact
        else:
            # The most frequent level is the reference (e.g. "no event"), then the rest sorted.
            counts = col.dropna().astype(str).value_counts()
            reference = counts.index[0] if len(counts) else ""
            lv = [reference] + sorted(v for v in counts.index if v != reference)
            levels[f.column] = lv
            # Every level gets a dummy here; the training scaling keeps all but the reference,
            # so a later scoring frame with another most-frequent level still lines up.
            for level in lv:
                name = f"{f.column}={level}"
                values[name] = (col.astype(str) == level).to_numpy(dtype=np.float64)
                impact[name] = f.impact
    return values, levels, impact


def _panel(frame: pd.DataFrame, spec: ModelSpec, geos: list[str] | None) -> tuple[pd.DataFrame, pd.DatetimeIndex, list[str]]:
    """The frame as a full grid of (date, geo) rows, date-major. National data is one geo.

    geos: the trained model's geos when scoring (the data must have exactly these), else None.
    """
    has_geo = "geo" in frame.columns
    if spec.geos == "hierarchical" and not has_geo:
        raise DataError("geos: hierarchical needs data with a geo column (long format: one row per date and geo); "
                        "this data has none. Load the geo-level data set, or set geos: national")
    if not has_geo:
        if geos is not None and list(geos) != [NATIONAL]:
            raise DataError(f"the model was trained on geos {geos}, but this data has no geo column; "
                            f"score it with the geo-level data it was trained on")
        frame = frame.sort_values("date").reset_index(drop=True)
        return frame, pd.DatetimeIndex(frame["date"]), [NATIONAL]
    if spec.geos != "hierarchical":
        raise DataError("the data has a geo column but the model is national (geos: national): sum it over geos "
                        "first (SummaryData.national()), or set geos: hierarchical to model each geo")
    frame = frame.assign(geo=frame["geo"].astype(str))
    present = sorted(frame["geo"].unique())
    if geos is None:
        geos = present
    else:
        geos = list(geos)
        missing = [g for g in geos if g not in present]
        unknown = [g for g in present if g not in geos]
        if missing:
            raise DataError(f"the model was trained on geos {geos}; this data lacks {missing}. Score it with data "
                            f"for every trained geo")
        if unknown:
            raise DataError(f"geo(s) {unknown} are not in the trained model (geos {geos}); drop their rows or "
                            f"retrain the model on them")
    repeated = frame.duplicated(["date", "geo"])
    if repeated.any():
        first = frame[repeated].iloc[0]
        raise DataError(f"{int(repeated.sum())} rows repeat a (date, geo) pair, first {first['date'].date()} in geo "
                        f"'{first['geo']}'; keep one row per date and geo")
    dates = pd.DatetimeIndex(np.sort(frame["date"].unique()))
    grid = pd.MultiIndex.from_product([dates, geos], names=["date", "geo"])
    panel = frame.set_index(["date", "geo"]).reindex(grid)
    rows = frame.groupby("geo")["date"].nunique()
    for g in geos:
        if rows.get(g, 0) < len(dates):
            absent = dates[~dates.isin(frame.loc[frame["geo"] == g, "date"])]
            raise DataError(f"geo '{g}' has no row for {len(absent)} of the {len(dates)} dates (first "
                            f"{absent[0].date()}); every geo needs a row for every date: fill the gaps (zero "
                            f"spend where nothing ran) or drop the geo")
    return panel.reset_index(), dates, geos


def _population(panel: pd.DataFrame, spec: ModelSpec, dates: pd.DatetimeIndex, geos: list[str]) -> np.ndarray:
    """(time, geo) population to divide target and spend by; ones without a population column."""
    shape = (len(dates), len(geos))
    if spec.population is None:
        return np.ones(shape)
    if spec.population not in panel.columns:
        raise DataError(f"population: column '{spec.population}' is not in the data; name a per-geo, per-period "
                        f"numeric column (e.g. population) or drop population")
    pop = pd.to_numeric(panel[spec.population], errors="coerce").to_numpy(dtype=np.float64).reshape(shape)
    bad = ~(np.isfinite(pop) & (pop > 0))
    if bad.any():
        t, g = np.argwhere(bad)[0]
        raise DataError(f"population column '{spec.population}' must be a positive number in every row; it is "
                        f"{show(pop[t, g])} in geo '{geos[g]}' on {dates[t].date()} ({int(bad.sum())} such rows)")
    return pop


def _learn_scaling(spec: ModelSpec, dates: pd.DatetimeIndex, geos: list[str], spend: np.ndarray, y: np.ndarray,
                   pop: np.ndarray, factor_values: dict, factor_levels: dict, periods_per_year: float,
                   period_days: float, notices: list[str]) -> Scaling:
    """Scaling from the training window. spend (time, geo, channel), y and pop (time, geo)."""
    channels = spec.channel_names
    geo_model = spec.geos == "hierarchical"
    start, end = training_window(dates, spec, periods_per_year)
    in_training = np.asarray((dates >= start) & (dates <= end))
    n_train = int(in_training.sum())
    n_lags = periods_for_weeks(spec.lookback_weeks, periods_per_year)
    train_weeks = n_train * WEEKS_PER_YEAR / periods_per_year
    for tp in spec.touchpoints:
        reach, fields = spec.lookback_reach(tp)
        if reach > train_weeks / 8:
            # Said in the fields the user wrote: lookback_weeks when the touchpoint sets no max_lookback.
            room = math.floor(train_weeks / 8) - tp.adstock.lag
            field = "lookback_weeks" if tp.adstock.max_lookback is None else f"touchpoints[{tp.name}].adstock.max_lookback"
            shorten = f"lower {field} to {room} or less, " if room >= 1 else ""
            raise SpecError(
                f"touchpoints[{tp.name}].adstock: {fields} needs at least {amount(8 * reach)} training weeks, the "
                f"training window has {train_weeks:.0f} ({start.date()}..{end.date()}); {shorten}or train on more "
                f"data (a touchpoint's lag + lookback may be at most training weeks / 8)")
    holdout = periods_for_weeks(spec.holdout_weeks, periods_per_year) if spec.holdout_weeks else 0
    if holdout and n_train - holdout < min_fit_periods(len(channels), len(factor_values)):
        # (check_design refuses this when a model is created or edited; a stored one still trains)
        notices.append(f"holdout of {spec.holdout_weeks} weeks skipped: only {n_train} training periods")
        holdout = 0
    train_idx = np.flatnonzero(in_training)
    fit_idx = train_idx[: len(train_idx) - holdout] if holdout else train_idx
    fit_end = dates[fit_idx[-1]]
    window = f"{dates[fit_idx[0]].date()}..{fit_end.date()}"
    for g, geo in enumerate(geos):
        missing = np.isnan(y[fit_idx, g])
        if missing.any():
            bad = dates[fit_idx[missing]]
            where = f" in geo '{geo}'" if geo_model else ""
            raise DataError(f"conversion column '{spec.conversion}' is empty on {len(bad)} training dates{where} "
                            f"(first {bad[0].date()}); fill them or shorten the training window")
    # Per geo, one-dimensional slices: national data gets exactly the single-series numbers.
    per_capita_y = y / pop
    if spec.population:
        geo_y_scale = [float(np.mean(np.abs(per_capita_y[fit_idx].ravel())))] * len(geos)
    else:
        geo_y_scale = [float(np.mean(np.abs(per_capita_y[fit_idx, g]))) for g in range(len(geos))]
    for geo, scale in zip(geos, geo_y_scale):
        if not scale > 0:
            raise DataError(f"conversion column '{spec.conversion}' is zero in every fitting period of geo '{geo}' "
                            f"({window}); drop the geo or supply data")
    y_scale = geo_y_scale[0] if len(geos) == 1 else float(np.mean(np.abs(y.sum(axis=1)[fit_idx])))
    geo_spend_scale, spend_scale = {}, {}
    for j, ch in enumerate(channels):
        per_capita = spend[fit_idx, :, j] / pop[fit_idx]                        # (fit time, geo)
        if not (per_capita > 0).any():
            raise DataError(f"channel '{ch}' has zero spend in all {len(fit_idx)} fitting periods "
                            f"({window}); drop it or supply data")
        pooled = float(per_capita[per_capita > 0].mean())
        scales = []
        for g in range(len(geos)):
            active = per_capita[:, g][per_capita[:, g] > 0]
            # A geo where the channel never ran keeps the pooled scale: its effect there is 0
            # in the window (the model gives it no share), and later spend reads on a common scale.
            scales.append(pooled if spec.population or active.size == 0 else float(active.mean()))
        idle = [geos[g] for g in range(len(geos)) if not (per_capita[:, g] > 0).any()]
        if idle:
            notices.append(f"channel '{ch}' has no spend in geo(s) {idle} in the fitting window; its effect there is 0")
        geo_spend_scale[ch] = scales
        national = spend.sum(axis=1)[fit_idx, j]
        spend_scale[ch] = scales[0] if len(geos) == 1 else float(national[national > 0].mean())
    center, scale = {}, {}
    references = {f"{col}={lv[0]}" for col, lv in factor_levels.items()}
    for name, v in factor_values.items():
        if name in references:
            continue
        window_values = v[fit_idx].ravel()      # pooled over geos: one coefficient means the same everywhere
        sd = float(np.nanstd(window_values))
        # Measured from the factor's lowest level in the window (0 for an event dummy), so a
        # factor's contribution reads as its effect against its quietest weeks, not as swings
        # around its mean; the constant moves into the intercept.
        center[name] = float(np.nanmin(window_values))
        scale[name] = sd if sd > 0 else 1.0
    return Scaling(y_scale=y_scale, spend_scale=spend_scale, factor_center=center, factor_scale=scale,
                   factor_levels=factor_levels, train_start=str(start.date()), train_end=str(end.date()),
                   fit_end=str(fit_end.date()), periods_per_year=periods_per_year, period_days=period_days,
                   n_lags=n_lags, geos=list(geos), geo_y_scale=geo_y_scale, geo_spend_scale=geo_spend_scale,
                   population=spec.population)


def build_design(frame: pd.DataFrame, spec: ModelSpec, *, periods_per_year: float = WEEKS_PER_YEAR,
                 period_days: float = 7.0, scaling: Scaling | None = None) -> Design:
    """Arrays for the whole frame. With `scaling=None` it is learned from the training window.

    frame: a `date` column and the spec's columns; national data has one row per period,
    geo-level data (spec geos: hierarchical) a `geo` column and one row per date and geo.
    """
    panel, dates, geos = _panel(frame, spec, None if scaling is None else scaling.geos)
    T, G = len(dates), len(geos)

    def grid(column: str | None) -> np.ndarray:
        if column is None or column not in panel.columns:
            return np.full((T, G), np.nan)
        return panel[column].to_numpy(dtype=np.float64).reshape(T, G)

    channels = spec.channel_names
    spend = np.stack([grid(t.spend) for t in spec.touchpoints], axis=-1)             # (time, geo, channel)
    volume = np.stack([grid(t.volume) for t in spec.touchpoints], axis=-1)
    y = grid(spec.conversion)
    pop = _population(panel, spec, dates, geos)
    factor_values, factor_levels, _ = _factor_columns(panel, spec)
    factor_values = {k: v.reshape(T, G) for k, v in factor_values.items()}
    notices: list[str] = []
    if scaling is None:
        scaling = _learn_scaling(spec, dates, geos, spend, y, pop, factor_values, factor_levels, periods_per_year,
                                 period_days, notices)
    start, end, fit_end = (pd.Timestamp(scaling.train_start), pd.Timestamp(scaling.train_end),
                           pd.Timestamp(scaling.fit_end))
    in_training = np.asarray((dates >= start) & (dates <= end))
    in_fit = np.asarray((dates >= start) & (dates <= fit_end))
    in_holdout = in_training & ~in_fit

    unit = scaling.y_scales()[None, :] * pop                                          # (time, geo)
    scaled_spend = spend / (scaling.spend_scales(channels)[None, :, :] * pop[:, :, None])
    media_stack = lag_stack(scaled_spend, scaling.n_lags)
    span_days = max((end - start).days, 1)
    trend = ((dates - start).days.to_numpy() / span_days) if spec.trend == "linear" else np.zeros(len(dates))
    fourier = _fourier(dates, spec.seasonality_order, scaling.period_days)
    names = list(scaling.factor_center)
    factors = np.stack([(factor_values[n] - scaling.factor_center[n]) / scaling.factor_scale[n]
                        if n in factor_values else np.zeros((T, G)) for n in names], axis=-1) if names \
        else np.zeros((T, G, 0))
    trend_basis = spline_basis(dates, start, end, spec.trend_knot_weeks) if spec.trend == "spline" \
        else np.zeros((len(dates), 0))
    effect_basis = spline_basis(dates, start, end, spec.effect_knot_weeks) \
        if any(t.time_varying for t in spec.touchpoints) else np.zeros((len(dates), 0))
    return Design(dates=dates, geos=list(geos), channels=channels, factor_names=names, spend_geo=spend,
                  volume_geo=volume, y_geo=y, unit=unit, media_stack=media_stack, trend=trend, fourier=fourier,
                  factors=np.nan_to_num(factors), trend_basis=trend_basis, effect_basis=effect_basis,
                  in_training=in_training, in_fit=in_fit, in_holdout=in_holdout, scaling=scaling, notices=notices)


def factor_impacts(spec: ModelSpec, factor_names: list[str]) -> list[str]:
    """The impact (auto/positive/negative) of each expanded factor column."""
    by_column = {f.column: f.impact for f in spec.factors}
    return [by_column[n.split("=", 1)[0]] for n in factor_names]
