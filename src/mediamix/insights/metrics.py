"""Every number the insights report shows, computed from a fitted model and its data.

Returns the tables of `InsightTables` (see report.py for the contract). Money metrics:
ROAS = contribution / spend and ROI = (contribution - spend) / spend for a revenue target;
CPA = spend / contribution for a count target. Intervals are 5th-95th posterior percentiles,
taken per draw (the ratio of sums in each draw), never as ratios of interval ends.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mediamix.errors import DataError
from mediamix.model.calibration import lift_arrays
from mediamix.model.diagnostics import fit_metrics
from mediamix.model.mmm import adstock_weights, effect_multiplier, geo_params, saturate, split_params
from mediamix.model.posterior import FittedModel
from mediamix.model.predict import component_draws

Q = (0.05, 0.95)


def _mq(x: np.ndarray, axis=0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return x.mean(axis=axis), np.quantile(x, Q[0], axis=axis), np.quantile(x, Q[1], axis=axis)


def _safe_div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def channel_table(fitted: FittedModel, cd) -> pd.DataFrame:
    d = cd.design
    win = d.in_training
    total_y = np.nansum(d.y[win])
    contrib = cd.media[:, win, :].sum(axis=1)           # (sample, channel)
    spend = d.spend[win].sum(axis=0)
    # A touchpoint without volume data (no impressions column) has no volume: NaN, not a sum of nothing.
    given = np.isfinite(d.volume[win]).any(axis=0)
    volume = np.where(given, np.nansum(d.volume[win], axis=0), np.nan)
    revenue = fitted.spec.conversion_kind == "revenue"
    prior_mid, prior_lo, prior_hi = fitted.priors.interval()
    rows = {"channel": d.channels, "spend": spend, "volume": volume}
    for name, values in (("contribution", contrib), ("share", contrib / total_y)):
        rows[f"{name}_mean"], rows[f"{name}_p05"], rows[f"{name}_p95"] = _mq(values)
    roas = _safe_div(contrib, spend[None, :])
    cpa = _safe_div(spend[None, :], contrib)
    for name, values, applies in (("roas", roas, revenue), ("roi", roas - 1.0, revenue), ("cpa", cpa, not revenue)):
        m, lo, hi = _mq(values) if applies else (np.full(len(spend), np.nan),) * 3
        rows[f"{name}_mean"], rows[f"{name}_p05"], rows[f"{name}_p95"] = m, lo, hi
    rows["prior_share_mean"], rows["prior_share_p05"], rows["prior_share_p95"] = prior_mid, prior_lo, prior_hi
    rows["prior_source"] = fitted.priors.source
    return pd.DataFrame(rows)


def _geo_spend_split(cd) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How national spend reaches each geo's curve: (geo, channel) the geo's part of the
    channel's training-window spend and the currency per unit of the geo's scaled spend, and
    (geo,) target units per scaled unit, at the window's mean population. National data: 1,
    the channel's spend scale and the target scale."""
    d, sc = cd.design, cd.design.scaling
    win = d.in_training
    with np.errstate(divide="ignore", invalid="ignore"):
        part = d.spend_geo[win].sum(axis=0) / d.spend[win].sum(axis=0)[None, :]
    population = (d.unit[win] / sc.y_scales()[None, :]).mean(axis=0)                # (geo,)
    per_unit = sc.spend_scales(d.channels) * population[:, None]
    return np.nan_to_num(part), per_unit, sc.y_scales() * population


def _money_rows(rows: dict, contrib: np.ndarray, spend: np.ndarray, revenue: bool) -> None:
    """ROAS, ROI (revenue) or CPA (counts) per draw, as mean/p05/p95 columns of `rows`."""
    roas = _safe_div(contrib, spend[None])
    cpa = _safe_div(spend[None], contrib)
    for name, values, applies in (("roas", roas, revenue), ("roi", roas - 1.0, revenue), ("cpa", cpa, not revenue)):
        m, lo, hi = _mq(values) if applies else (np.full(spend.shape, np.nan),) * 3
        rows[f"{name}_mean"], rows[f"{name}_p05"], rows[f"{name}_p95"] = m, lo, hi


def geo_channel_table(fitted: FittedModel, cd) -> pd.DataFrame:
    """Per geo and channel over the training window: spend, contribution, share of the geo's
    target, ROAS and ROI (revenue) or CPA (counts), each with its 5-95% interval (needs
    component draws with per_geo=True). One row per (geo, channel), geos in model order."""
    d = cd.design
    win = d.in_training
    contrib = cd.media_geo[:, win].sum(axis=1)                      # (sample, geo, channel)
    spend = d.spend_geo[win].sum(axis=0)                             # (geo, channel)
    total_y = np.nansum(d.y_geo[win], axis=0)                        # (geo,)
    G, C = spend.shape
    rows = {"geo": np.repeat(d.geos, C), "channel": np.tile(d.channels, G), "spend": spend.ravel()}
    flat = lambda x: x.reshape(x.shape[0], G * C)                   # noqa: E731  (sample, geo x channel)
    for name, values in (("contribution", contrib), ("share", contrib / total_y[None, :, None])):
        rows[f"{name}_mean"], rows[f"{name}_p05"], rows[f"{name}_p95"] = _mq(flat(values))
    _money_rows(rows, flat(contrib), spend.ravel(), fitted.spec.conversion_kind == "revenue")
    return pd.DataFrame(rows)


def response_curves(fitted: FittedModel, cd, n_points: int = 41) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Steady-state weekly response to a constant weekly spend (normalised adstock of a constant
    is the constant), its marginal return, the current spend and the break-even spend. With
    geos: national spend split over geos as in the training window, responses summed."""
    d, draws = cd.design, fitted.draws()
    revenue = fitted.spec.conversion_kind == "revenue"
    draws = {k: np.asarray(v, np.float64) for k, v in draws.items()}   # float64 for the finite differences
    groups = split_params(cd.statics, draws)
    win = d.in_training
    grids = np.stack([np.linspace(0.0, max(2.0 * float(d.spend[win, j].max()), 1.0), n_points)
                      for j in range(len(d.channels))], axis=1)                      # (grid, channel) in currency
    part, per_unit, unit = _geo_spend_split(cd)
    with np.errstate(divide="ignore"):
        scale = per_unit / part                      # currency of national spend per geo scaled unit (inf: none)
    x = grids[:, None, :] * part / per_unit                                          # (grid, geo, channel)
    beta, _ = geo_params(cd.statics, draws)
    if cd.statics.varying_channels:
        # Time-varying effectiveness: the curve at the channel's average effectiveness over the window.
        beta = beta * effect_multiplier(cd.statics, draws["effect_coef"], xp=np)[:, win, :].mean(axis=1)[:, None, :]
    n_grid, G, C = x.shape

    def response(xs):                                                                # (sample, grid, geo, channel)
        sat = saturate(cd.statics, groups, xs.reshape(n_grid * G, C), xp=np).reshape(-1, n_grid, G, C)
        return sat * beta[:, None, :, :] * unit[None, None, :, None]

    curves = response(x).sum(axis=2)                                                 # (sample, grid, channel)
    # Marginal return per unit of currency: central differences of each draw's curve
    # (every saturation component is smooth for x > 0).
    h = 1e-4 * np.maximum(x, 1e-3)
    slopes = ((response(x + h) - response(np.maximum(x - h, 0.0))) / ((x + h - np.maximum(x - h, 0.0)) * scale)).sum(axis=2)
    rows, markers = [], []
    for j, ch in enumerate(d.channels):
        current = float(d.spend[win, j].mean())
        grid = grids[:, j]
        resp = curves[:, :, j]
        dresp = slopes[:, :, j]
        m, lo, hi = _mq(resp)
        marginal = np.full(n_points, np.nan)
        marginal[1:] = np.nanmean(dresp[:, 1:], axis=0)
        marginal[0] = marginal[1] if n_points > 1 else np.nan  # the curve's slope at zero spend
        rows.append(pd.DataFrame({"channel": ch, "spend": grid, "response_mean": m, "response_p05": lo,
                                  "response_p95": hi, "marginal_mean": marginal}))
        breakeven = np.nan
        if revenue:
            below = np.flatnonzero(marginal < 1.0)
            if below.size and below[0] > 0:
                k = below[0]  # linear interpolation between the grid points around marginal = 1
                x0, x1, y0, y1 = grid[k - 1], grid[k], marginal[k - 1], marginal[k]
                breakeven = float(x0 + (y0 - 1.0) * (x1 - x0) / (y0 - y1)) if y0 != y1 else float(x1)
            elif below.size == 0:
                breakeven = np.nan  # still profitable across the whole grid
        markers.append({"channel": ch, "current_spend": current, "breakeven_spend": breakeven})
    return pd.concat(rows, ignore_index=True), pd.DataFrame(markers)


def adstock_table(fitted: FittedModel, cd) -> pd.DataFrame:
    d, draws, sc = cd.design, fitted.draws(), fitted.scaling
    every = max(1, len(draws["sigma"]) // 400)                 # at most ~400 draws: a table, not a fit
    thinned = {k: v[::every] for k, v in draws.items()}
    w = adstock_weights(cd.statics, split_params(cd.statics, thinned), xp=np)     # (sample, lag, channel)
    rows = []
    for j, ch in enumerate(d.channels):
        m, lo, hi = _mq(w[:, :, j])
        rows.append(pd.DataFrame({"channel": ch, "lag": np.arange(sc.n_lags), "weight_mean": m,
                                  "weight_p05": lo, "weight_p95": hi}))
    return pd.concat(rows, ignore_index=True)


def fit_tables(cd) -> tuple[pd.DataFrame, pd.DataFrame]:
    d = cd.design
    rng = np.random.default_rng(0)  # seeded: the predictive band is reproducible
    predictive = cd.predicted + rng.standard_normal(cd.predicted.shape) * cd.noise_sd
    m, lo, hi = _mq(predictive)
    mean = cd.predicted.mean(axis=0)
    win = d.in_training
    fit = pd.DataFrame({"date": d.dates[win], "actual": d.y[win], "predicted_mean": mean[win],
                        "predicted_p05": lo[win], "predicted_p95": hi[win], "residual": d.y[win] - mean[win],
                        "holdout": d.in_holdout[win]})
    metrics = [{"sample": "in-sample", **fit_metrics(d.y[d.in_fit], mean[d.in_fit])}]
    if d.in_holdout.any():
        metrics.append({"sample": "holdout", **fit_metrics(d.y[d.in_holdout], mean[d.in_holdout])})
    return fit, pd.DataFrame(metrics)


def contributions_table(cd) -> pd.DataFrame:
    d = cd.design
    win = d.in_training
    parts = [("base", "base", cd.base)]
    parts += [(f, "factor", cd.factors[:, :, j]) for j, f in enumerate(d.factor_names)]
    parts += [(c, "channel", cd.media[:, :, j]) for j, c in enumerate(d.channels)]
    rows = []
    for name, kind, x in parts:
        m, lo, hi = _mq(x[:, win])
        rows.append(pd.DataFrame({"date": d.dates[win], "component": name, "kind": kind, "mean": m, "p05": lo, "p95": hi}))
    return pd.concat(rows, ignore_index=True)


def lift_table(fitted: FittedModel, cd) -> pd.DataFrame | None:
    """Each lift test against the model: the measurement and the channel's posterior
    contribution over the test's periods, with the very window the likelihood scored it on
    (`calibration.lift_arrays`: the periods starting in [start, end], each period's
    contribution including the carryover of spend before it). None without lift tests.

    difference = model mean - measured; difference_se = that in units of the test's
    standard error (the residual the likelihood squares, at the posterior mean)."""
    tests = fitted.spec.lift_tests
    if not tests:
        return None
    d = cd.design
    arrays = lift_arrays(fitted.spec, d)
    window = arrays["window"].astype(bool)                                   # (test, time)
    rows = []
    for i, lt in enumerate(tests):
        j = int(np.argmax(arrays["onehot"][i]))
        per_draw = cd.media[:, window[i], j].astype(np.float64).sum(axis=1)  # (sample,) target units
        mean, lo, hi = _mq(per_draw)
        dates = d.dates[window[i]]
        rows.append({"touchpoint": lt.touchpoint, "start": pd.Timestamp(lt.start), "end": pd.Timestamp(lt.end),
                     "first_period": dates.min(), "last_period": dates.max(), "periods": int(window[i].sum()),
                     "source": lt.source, "incremental": float(lt.incremental),
                     "standard_error": float(lt.standard_error), "model_mean": float(mean),
                     "model_p05": float(lo), "model_p95": float(hi), "model_sd": float(per_draw.std()),
                     "difference": float(mean - lt.incremental),
                     "difference_se": float((mean - lt.incremental) / lt.standard_error)})
    return pd.DataFrame(rows)


def effectiveness_table(fitted: FittedModel, cd) -> pd.DataFrame | None:
    """The effectiveness multiplier exp(effect_basis @ effect_coef) of each time-varying
    channel per training period: date, channel, mean, p05, p95. It is 1 at the start of the
    training window (the random walk starts at 0; the level is the channel's share). None
    when no channel is time varying."""
    st = cd.statics
    if not st.varying_channels:
        return None
    d = cd.design
    win = np.asarray(d.in_training, bool)
    basis = np.asarray(st.arrays["effect_basis"], np.float64)[win]          # (time, knot)
    coef = np.asarray(fitted.draws()["effect_coef"], np.float64)             # (sample, channel, knot)
    frames = []
    for j in st.varying_channels:
        multiplier = np.exp(coef[:, j, :] @ basis.T)                         # (sample, time)
        m, lo, hi = _mq(multiplier)
        frames.append(pd.DataFrame({"date": d.dates[win], "channel": d.channels[j], "mean": m, "p05": lo, "p95": hi}))
    return pd.concat(frames, ignore_index=True)


def compute_tables(fitted: FittedModel, frame: pd.DataFrame, model_info: dict):
    """All InsightTables for a fitted model over its training window."""
    from mediamix.insights.report import InsightTables

    geo_model = len(fitted.scaling.geos) > 1
    cd = component_draws(fitted, frame, per_geo=geo_model)
    curves, markers = response_curves(fitted, cd)
    fit, metrics = fit_tables(cd)
    diag = dict(fitted.diagnostics)
    notices = list(diag.get("notices") or [])
    try:
        lifts = lift_table(fitted, cd)
    except DataError as exc:   # the data changed since training: say why the section is missing
        lifts = None
        notices.append(f"Lift tests are not shown: {exc}")
    params = diag.get("parameters_table")
    diagnostics = {
        "max_rhat": diag.get("max_rhat"), "min_ess_bulk": diag.get("min_ess_bulk"),
        "divergences": diag.get("divergences"), "num_chains": diag.get("num_chains"),
        "num_draws": diag.get("num_draws"), "method": diag.get("method", "nuts"),
        "notices": notices,
        "thresholds": {"max_rhat": fitted.spec.thresholds.max_rhat, "min_ess": fitted.spec.thresholds.min_ess,
                       "max_divergences": fitted.spec.thresholds.max_divergences,
                       "max_holdout_smape_ratio": fitted.spec.thresholds.max_holdout_smape_ratio},
        "parameters": pd.DataFrame(params) if params is not None else None,
    }
    sc = fitted.scaling
    model = {
        "name": fitted.spec.name, "description": fitted.spec.description, "conversion": fitted.spec.conversion,
        "conversion_kind": fitted.spec.conversion_kind, "currency": fitted.spec.currency,
        "training_start": sc.train_start, "training_end": sc.train_end,
        "holdout_start": str(cd.design.dates[cd.design.in_holdout][0].date()) if cd.design.in_holdout.any() else None,
        "lookback_weeks": fitted.spec.lookback_weeks,
        "status": diag.get("status", "Success"), "status_reasons": list(diag.get("reasons", [])),
        **model_info,
    }
    return InsightTables(model=model, contributions=contributions_table(cd), channels=channel_table(fitted, cd),
                         response_curves=curves, curve_markers=markers, adstock=adstock_table(fitted, cd),
                         fit=fit, fit_metrics=metrics, diagnostics=diagnostics,
                         geo_channels=geo_channel_table(fitted, cd) if geo_model else None,
                         lift_tests=lifts, effectiveness=effectiveness_table(fitted, cd))
