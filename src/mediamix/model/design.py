"""From a data frame and a ModelSpec to the arrays the model reads.

The scaling (target mean, per-channel spend scale, factor centre and spread, trend origin)
is learned once from the training window and stored with the posterior, so scoring another
date range later uses exactly the same transformation.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from mediamix.errors import DataError, SpecError
from mediamix.model.spec import ModelSpec
from mediamix.model.transforms import lag_stack

WEEKS_PER_YEAR = 52.1775  # 365.25 / 7, as the data layer's cadence uses


@dataclass(frozen=True)
class Scaling:
    y_scale: float
    spend_scale: dict[str, float]
    factor_center: dict[str, float]
    factor_scale: dict[str, float]
    factor_levels: dict[str, list[str]]     # categorical factors -> dummy levels (first level is the reference)
    train_start: str
    train_end: str
    fit_end: str                             # last date used in the likelihood (before the holdout)
    periods_per_year: float
    period_days: float
    n_lags: int

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Scaling":
        return cls(**json.loads(text))


@dataclass
class Design:
    dates: pd.DatetimeIndex
    channels: list[str]
    factor_names: list[str]                  # after expanding categoricals into dummies
    spend: np.ndarray                        # (time, channel) raw currency
    volume: np.ndarray                       # (time, channel) raw units, NaN where not given
    media_stack: np.ndarray                  # (lag, time, geo=1, channel) scaled spend
    trend: np.ndarray                        # (time,)
    fourier: np.ndarray                      # (time, 2*order)
    factors: np.ndarray                      # (time, factor) standardised
    trend_basis: np.ndarray                  # (time, knot) cubic B-splines of a smooth trend (trend: spline)
    effect_basis: np.ndarray                 # (time, knot) B-splines of time-varying channel effects
    y: np.ndarray                            # (time,) raw target, NaN where absent
    in_training: np.ndarray                  # (time,) bool
    in_fit: np.ndarray                       # (time,) bool: training minus holdout
    in_holdout: np.ndarray                   # (time,) bool
    scaling: Scaling
    notices: list[str] = field(default_factory=list)

    @property
    def y_scaled(self) -> np.ndarray:
        return np.nan_to_num(self.y / self.scaling.y_scale)

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


def build_design(frame: pd.DataFrame, spec: ModelSpec, *, periods_per_year: float = WEEKS_PER_YEAR,
                 period_days: float = 7.0, scaling: Scaling | None = None) -> Design:
    """Arrays for the whole frame. With `scaling=None` it is learned from the training window.

    frame: one row per period, a `date` column and the spec's columns (national data).
    """
    frame = frame.sort_values("date").reset_index(drop=True)
    dates = pd.DatetimeIndex(frame["date"])
    channels = spec.channel_names
    spend = np.column_stack([frame[t.spend].to_numpy(dtype=np.float64) for t in spec.touchpoints])
    volume = np.column_stack([frame[t.volume].to_numpy(dtype=np.float64) if t.volume else np.full(len(frame), np.nan)
                              for t in spec.touchpoints])
    y = frame[spec.conversion].to_numpy(dtype=np.float64) if spec.conversion in frame else np.full(len(frame), np.nan)
    factor_values, factor_levels, _ = _factor_columns(frame, spec)
    notices: list[str] = []

    if scaling is None:
        start, end = training_window(dates, spec, periods_per_year)
        in_training = np.asarray((dates >= start) & (dates <= end))
        n_train = int(in_training.sum())
        n_lags = periods_for_weeks(spec.lookback_weeks, periods_per_year)
        train_weeks = n_train * WEEKS_PER_YEAR / periods_per_year
        for tp in spec.touchpoints:
            max_lb = spec.lookback_weeks if tp.adstock.max_lookback is None else tp.adstock.max_lookback
            if tp.adstock.lag + max_lb > train_weeks / 8:
                raise SpecError(
                    f"touchpoints[{tp.name}].adstock: lag + max_lookback = {tp.adstock.lag + max_lb:g} weeks, but the "
                    f"training window has {train_weeks:.0f} weeks and the rule is lag + max lookback <= training weeks / 8 "
                    f"(= {train_weeks / 8:.1f}); shorten the lookback or train on more data")
        holdout = periods_for_weeks(spec.holdout_weeks, periods_per_year) if spec.holdout_weeks else 0
        if holdout and n_train - holdout < max(26, 4 * (len(channels) + len(factor_values))):
            notices.append(f"holdout of {spec.holdout_weeks} weeks skipped: only {n_train} training periods")
            holdout = 0
        train_idx = np.flatnonzero(in_training)
        fit_idx = train_idx[: len(train_idx) - holdout] if holdout else train_idx
        fit_end = dates[fit_idx[-1]]
        train_y = y[fit_idx]
        if np.isnan(train_y).any():
            bad = dates[fit_idx[np.isnan(train_y)]]
            raise DataError(f"conversion column '{spec.conversion}' is empty on {len(bad)} training dates "
                            f"(first {bad[0].date()}); fill them or shorten the training window")
        y_scale = float(np.mean(np.abs(train_y)))
        spend_scale = {}
        for j, ch in enumerate(channels):
            active = spend[fit_idx, j][spend[fit_idx, j] > 0]
            if active.size == 0:
                raise DataError(f"channel '{ch}' has zero spend in all {len(fit_idx)} fitting periods "
                                f"({dates[fit_idx[0]].date()}..{fit_end.date()}); drop it or supply data")
            spend_scale[ch] = float(active.mean())
        center, scale = {}, {}
        references = {f"{col}={lv[0]}" for col, lv in factor_levels.items()}
        for name, v in factor_values.items():
            if name in references:
                continue
            sd = float(np.nanstd(v[fit_idx]))
            # Measured from the factor's lowest level in the window (0 for an event dummy), so a
            # factor's contribution reads as its effect against its quietest weeks, not as swings
            # around its mean; the constant moves into the intercept.
            center[name] = float(np.nanmin(v[fit_idx]))
            scale[name] = sd if sd > 0 else 1.0
        scaling = Scaling(y_scale=y_scale, spend_scale=spend_scale, factor_center=center, factor_scale=scale,
                          factor_levels=factor_levels, train_start=str(start.date()), train_end=str(end.date()),
                          fit_end=str(fit_end.date()), periods_per_year=periods_per_year, period_days=period_days,
                          n_lags=n_lags)
    start, end, fit_end = (pd.Timestamp(scaling.train_start), pd.Timestamp(scaling.train_end),
                           pd.Timestamp(scaling.fit_end))
    in_training = np.asarray((dates >= start) & (dates <= end))
    in_fit = np.asarray((dates >= start) & (dates <= fit_end))
    in_holdout = in_training & ~in_fit

    scaled_spend = spend / np.array([scaling.spend_scale[c] for c in channels])[None, :]
    media_stack = lag_stack(scaled_spend[:, None, :], scaling.n_lags)
    span_days = max((end - start).days, 1)
    trend = ((dates - start).days.to_numpy() / span_days) if spec.trend == "linear" else np.zeros(len(dates))
    fourier = _fourier(dates, spec.seasonality_order, scaling.period_days)
    names = list(scaling.factor_center)
    factors = np.column_stack([(factor_values[n] - scaling.factor_center[n]) / scaling.factor_scale[n]
                               if n in factor_values else np.zeros(len(dates)) for n in names]) if names \
        else np.zeros((len(dates), 0))
    trend_basis = spline_basis(dates, start, end, spec.trend_knot_weeks) if spec.trend == "spline" \
        else np.zeros((len(dates), 0))
    effect_basis = spline_basis(dates, start, end, spec.effect_knot_weeks) \
        if any(t.time_varying for t in spec.touchpoints) else np.zeros((len(dates), 0))
    return Design(dates=dates, channels=channels, factor_names=names, spend=spend, volume=volume,
                  media_stack=media_stack, trend=trend, fourier=fourier, factors=np.nan_to_num(factors), y=y,
                  trend_basis=trend_basis, effect_basis=effect_basis,
                  in_training=in_training, in_fit=in_fit, in_holdout=in_holdout, scaling=scaling, notices=notices)


def factor_impacts(spec: ModelSpec, factor_names: list[str]) -> list[str]:
    """The impact (auto/positive/negative) of each expanded factor column."""
    by_column = {f.column: f.impact for f in spec.factors}
    return [by_column[n.split("=", 1)[0]] for n in factor_names]
