"""The Bayesian MMM in NumPyro, and the deterministic equations it shares with scoring.

Target, in units of its training mean:
    y_t = intercept + trend_coef * t + fourier_t . season + factors_t . factor_coef
          + sum_c beta_c * hill(adstock(spend_c)_t; half_c, slope_c) + noise
Media effects are non-negative. Each beta_c is not sampled directly: the channel's share of
conversions is (see priors.py), and beta_c = share_c * sum(y) / sum(hill(...)) over the
fitting window. Factor coefficients take their sign from the factor's impact.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from mediamix.model.design import Design, factor_impacts, periods_for_weeks
from mediamix.model.priors import SharePriors
from mediamix.model.spec import ModelSpec
from mediamix.model.transforms import apply_adstock, geometric_weights, hill

SAMPLED_SITES = ("decay_logit", "half_log", "slope_log", "share_logit", "intercept", "trend_coef", "season",
                 "factor_raw", "sigma_log")


def decay_bounds(spec: ModelSpec, periods_per_year: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel decay range from min/max lookback: lookback = periods until weight < 10%."""
    lo, hi = [], []
    for tp in spec.touchpoints:
        max_lb = spec.lookback_weeks if tp.adstock.max_lookback is None else tp.adstock.max_lookback
        n_min = periods_for_weeks(tp.adstock.min_lookback, periods_per_year)
        n_max = periods_for_weeks(max_lb, periods_per_year)
        lo.append(0.0 if n_min <= 1 else 0.1 ** (1.0 / n_min))
        hi.append(min(0.1 ** (1.0 / n_max), 0.95) if n_max > 1 else 0.1)
    lo, hi = np.array(lo), np.array(hi)
    return lo, np.maximum(hi, lo + 0.02)


def adstock_limits(spec: ModelSpec, periods_per_year: float) -> tuple[np.ndarray, np.ndarray]:
    lags, maxes = [], []
    for tp in spec.touchpoints:
        max_lb = spec.lookback_weeks if tp.adstock.max_lookback is None else tp.adstock.max_lookback
        lag = periods_for_weeks(tp.adstock.lag, periods_per_year) if tp.adstock.lag else 0
        lags.append(lag)
        maxes.append(lag + periods_for_weeks(max_lb, periods_per_year))
    return np.array(lags, dtype=np.float32), np.array(maxes, dtype=np.float32)


class ModelStatics:
    """Everything fixed for one model: arrays, masks, prior constants. Built once per fit/score."""

    def __init__(self, spec: ModelSpec, design: Design, priors: SharePriors):
        ppy = design.scaling.periods_per_year
        self.arrays = {k: jnp.asarray(v) for k, v in design.arrays().items()}
        self.n_lags = design.scaling.n_lags
        self.decay_lo, self.decay_hi = (jnp.asarray(a, dtype=jnp.float32) for a in decay_bounds(spec, ppy))
        lags, maxes = adstock_limits(spec, ppy)
        self.lags, self.max_lookbacks = jnp.asarray(lags), jnp.asarray(np.minimum(maxes, self.n_lags))
        self.share_loc = jnp.asarray(priors.loc, dtype=jnp.float32)
        self.share_scale = jnp.asarray(priors.scale, dtype=jnp.float32)
        impacts = factor_impacts(spec, design.factor_names)
        # Signed factors sample log|coef| ~ Normal(-2, 1) (|coef| ~ 0.14, per sd of the factor);
        # auto factors sample coef/0.25 ~ Normal(0, 1).
        sign = np.array([{"positive": 1.0, "negative": -1.0}.get(s, 0.0) for s in impacts], dtype=np.float32)
        self.factor_sign = jnp.asarray(sign)
        self.factor_loc = jnp.asarray(np.where(sign == 0, 0.0, -2.0).astype(np.float32))
        self.factor_scale = jnp.ones(len(impacts), dtype=jnp.float32)
        self.n_factors = len(impacts)
        self.n_channels = len(design.channels)
        self.n_season = design.fourier.shape[1]
        self.has_trend = spec.trend == "linear"
        self.fit_mask = jnp.asarray(design.in_fit)
        self.fit_weight = jnp.asarray(design.in_fit.astype(np.float32))
        self.y_scaled = jnp.asarray(design.y_scaled, dtype=jnp.float32)
        self.y_fit_total = float(design.y_scaled[design.in_fit].sum())


def media_saturation(statics: ModelStatics, decay, half, slope, media_stack=None):
    """Saturated adstocked media per (time, channel), before multiplying by beta."""
    weights = geometric_weights(decay, statics.n_lags, statics.lags, statics.max_lookbacks)
    stack = statics.arrays["media_stack"] if media_stack is None else media_stack
    adstocked = apply_adstock(stack, weights)[:, 0, :]
    return hill(adstocked, half, slope)


def components(statics: ModelStatics, p: dict) -> dict:
    """One draw's additive components in scaled target units: base, factor (t, f), media (t, c)."""
    a = statics.arrays
    base = p["intercept"] + p.get("trend_coef", 0.0) * a["trend"]
    if statics.n_season:
        base = base + a["fourier"] @ p["season"]
    sat = media_saturation(statics, p["decay"], p["half"], p["slope"])
    return {"base": base, "factor": a["factors"] * p["factor_coef"][None, :], "media": sat * p["beta"][None, :]}


def mmm_model(statics: ModelStatics):
    """Every sampled site is an unbounded Normal; constrained quantities are deterministic
    transforms of them. This keeps the gradient graph small (fast to compile) and the
    posterior geometry close to Gaussian (few leapfrog steps)."""
    C = statics.n_channels
    decay_logit = numpyro.sample("decay_logit", dist.Normal(0.0, 1.2).expand([C]))
    decay = numpyro.deterministic("decay", statics.decay_lo + (statics.decay_hi - statics.decay_lo) * jax.nn.sigmoid(decay_logit))
    half = numpyro.deterministic("half", jnp.exp(numpyro.sample("half_log", dist.Normal(0.0, 0.6).expand([C]))))
    slope = numpyro.deterministic("slope", jnp.exp(numpyro.sample("slope_log", dist.Normal(jnp.log(1.3), 0.3).expand([C]))))
    share_logit = numpyro.sample("share_logit", dist.Normal(statics.share_loc, statics.share_scale))
    share = numpyro.deterministic("share", jax.nn.sigmoid(share_logit))

    sat = media_saturation(statics, decay, half, slope)
    sat_total = jnp.sum(sat * statics.fit_weight[:, None], axis=0)
    beta = numpyro.deterministic("beta", share * statics.y_fit_total / jnp.maximum(sat_total, 1e-6))

    intercept = numpyro.sample("intercept", dist.Normal(0.7, 0.5))
    trend_coef = numpyro.sample("trend_coef", dist.Normal(0.0, 0.5)) if statics.has_trend else 0.0
    season = numpyro.sample("season", dist.Normal(0.0, 0.25).expand([statics.n_season])) \
        if statics.n_season else jnp.zeros(0)
    if statics.n_factors:
        # Signed factors: |coef| = exp(log_size); auto factors: coef = size_or_signed draw.
        raw = numpyro.sample("factor_raw", dist.Normal(statics.factor_loc, statics.factor_scale))
        coef = jnp.where(statics.factor_sign == 0, raw * 0.25, statics.factor_sign * jnp.exp(raw))
    else:
        coef = jnp.zeros(0)
    factor_coef = numpyro.deterministic("factor_coef", coef)
    sigma = numpyro.deterministic("sigma", jnp.exp(numpyro.sample("sigma_log", dist.Normal(-3.0, 1.5))))

    a = statics.arrays
    mu = intercept + trend_coef * a["trend"] + sat @ beta
    if statics.n_season:
        mu = mu + a["fourier"] @ season
    if statics.n_factors:
        mu = mu + a["factors"] @ factor_coef
    numpyro.sample("y", dist.Normal(mu, sigma).mask(statics.fit_mask), obs=statics.y_scaled)
