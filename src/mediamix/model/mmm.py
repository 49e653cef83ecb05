"""The Bayesian MMM: its equations (shared with scoring), its log density, and a NumPyro view.

Model, with the target scaled to mean 1 over the training window:

    y_t = intercept + trend_coef * trend_t + fourier_t . season + factors_t . factor_coef
          + sum_c beta_c * hill(adstock(spend_c)_t; half_c, slope_c) + noise_t,
    noise_t ~ Normal(0, sigma), over the fitting window only (the holdout is not in the likelihood).

Priors. Every sampled quantity is an unbounded real with a Normal prior (the sampler needs
no constraining transforms); the model's parameters are deterministic functions of them:

    decay_c   = lo_c + (hi_c - lo_c) * sigmoid(decay_logit_c),  decay_logit_c ~ N(0, 1.2)
                (lo, hi from the channel's min/max lookback, see `decay_bounds`)
    half_c    = exp(half_log_c),   half_log_c ~ N(0.3, 0.6); spend is scaled by the channel's
                mean active spend, so half = 1 means "half-saturated in a typical active week"
    slope_c   = exp(slope_log_c),  slope_log_c ~ N(0.15, 0.25)
    share_c   = sigmoid(share_logit_c), share_logit_c ~ N(loc_c, scale_c) from priors.py
    beta_c    = share_c * sum_fit(y) / sum_fit(hill_c): the channel's contribution over the
                fitting window is exactly share_c of the conversions
    intercept ~ N(0.7, 0.5), trend_coef ~ N(0, 0.5), season_k ~ N(0, 0.25)
    factors   signed impact: coef = sign * exp(raw), raw ~ N(-2, 1) (|coef| ~ 0.14 per sd);
              auto impact: coef = 0.25 * raw, raw ~ N(0, 1)
    sigma     = exp(sigma_log), sigma_log ~ N(-3, 1.5)

How the sampler sees it (a reparameterisation: the posterior is exactly the model above).
The intercept is not sampled. The sampler draws `level`, the model's mean over the fitting
window,

    level = intercept + trend_coef * mean(trend) + mean(fourier) . season
            + mean(factors) . factor_coef + sum_c share_c * mean(y)

(the media term's window mean is sum_c share_c * mean(y) by construction of beta), and the
intercept is derived from it. For fixed other parameters level -> intercept is a shift, so
the Jacobian is 1 and the N(0.7, 0.5) prior density is applied to the derived intercept:
the same posterior. Why: the data pin the mean level down to ~sigma/sqrt(n), while the
intercept alone trades off against every share and the trend along curved ridges. On the
demo set, sampling the intercept took ~100 leapfrog steps per draw with a dense mass matrix
(step size 0.04, a few divergences per run); sampling `level` takes ~15 (step size 0.25, none).

Likewise the half-saturation is not sampled as log(half) but as

    hill_offset_c = slope_c * log(half_c),   so hill = sigmoid(slope * log(x) - hill_offset),

whose prior given the slope is Normal(slope * loc, slope * sd) with (loc, sd) the log(half)
prior above: exactly that prior after the change of variables (Jacobian 1/slope). Where
saturation is partly identified, log(half) and the slope lie on a curved ridge (their product
is what the data see); in these coordinates it is close to straight. Halves the steps per
draw and doubles the ESS of the worst parameter on case B16.

`fit.py` adds one more affine change of variables (the Laplace whitening); none of these
changes the posterior.

One source of truth: `derived` maps sampled values to the model's parameters, `components`
(what scoring applies to posterior draws) and `predicted_mean` (its sum, as matrix-vector
products) give the mean; `log_density` (what the sampler evaluates, over one flat vector)
and `mmm_model` (the same density as a NumPyro model, for NumPyro tools) are both built from
them and from one prior table, `site_priors`. A test checks that the two densities agree.
Posterior names kept for scoring: decay, half, slope, beta, intercept, trend_coef, season,
factor_coef, sigma (plus share).
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
from mediamix.model.transforms import apply_adstock, hill, lag_layout, sigmoid, weights_from_layout

# Sampled (unconstrained) sites, in the order of the flat parameter vector.
SAMPLED_SITES = ("decay_logit", "hill_offset", "slope_log", "share_logit", "level", "trend_coef", "season",
                 "factor_raw", "sigma_log")
# The model's parameters, derived from the sampled sites, which every posterior carries.
DERIVED_SITES = ("decay", "half", "slope", "share", "beta", "intercept", "trend_coef", "season", "factor_coef",
                 "sigma")

DECAY_LOGIT_SD = 1.2
# Saturation priors, chosen on the project's recovery suite (see README, "Priors"): for a
# channel that is always on, the data fix its marginal return but not how much of its level
# belongs to the intercept, so these centres decide that split. Half-saturation at ~1.35x a
# typical active week's spend, slope ~1.16 (mildly S-shaped), recover linear truths (cases
# B01-B16) and strongly saturated ones (PyMC-Marketing's example) alike.
HALF_LOG_LOC, HALF_LOG_SD = 0.3, 0.6
SLOPE_LOG_LOC, SLOPE_LOG_SD = 0.15, 0.25
INTERCEPT_LOC, INTERCEPT_SD = 0.7, 0.5
TREND_SD, SEASON_SD = 0.5, 0.25
SIGNED_FACTOR_LOC, AUTO_FACTOR_SCALE = -2.0, 0.25
SIGMA_LOG_LOC, SIGMA_LOG_SD = -3.0, 1.5


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


_STATIC = ("n_lags", "n_factors", "n_channels", "n_season", "has_trend")


@jax.tree_util.register_pytree_node_class
class ModelStatics:
    """Everything fixed for one model: arrays, masks, prior constants. Built once per fit/score.

    A JAX pytree whose leaves are the arrays (sizes are static), so a compiled sampler takes
    the data as arguments and serves every data set of the same shape. Built from NumPy and
    placed on the device without compiling anything; `to_numpy()` gives a NumPy copy.
    """

    def __init__(self, spec: ModelSpec, design: Design, priors: SharePriors):
        f32 = np.float32
        ppy = design.scaling.periods_per_year
        self.arrays = {k: np.asarray(v, f32) for k, v in design.arrays().items()}
        self.n_lags = int(design.scaling.n_lags)
        lo, hi = decay_bounds(spec, ppy)
        self.decay_lo, self.decay_hi = lo.astype(f32), hi.astype(f32)
        lags, maxes = adstock_limits(spec, ppy)
        self.lags, self.max_lookbacks = lags.astype(f32), np.minimum(maxes, self.n_lags).astype(f32)
        self.lag_steps, self.lag_active = lag_layout(self.n_lags, len(lags), self.lags, self.max_lookbacks)
        self.share_loc = np.asarray(priors.loc, f32)
        self.share_scale = np.asarray(priors.scale, f32)
        impacts = factor_impacts(spec, design.factor_names)
        sign = np.array([{"positive": 1.0, "negative": -1.0}.get(s, 0.0) for s in impacts], dtype=f32)
        self.factor_sign = sign
        self.factor_loc = np.where(sign == 0, 0.0, SIGNED_FACTOR_LOC).astype(f32)
        self.factor_scale = np.ones(len(impacts), f32)
        self.n_factors = len(impacts)
        self.n_channels = len(design.channels)
        self.n_season = int(design.fourier.shape[1])
        self.has_trend = spec.trend == "linear"
        fit = np.asarray(design.in_fit, bool)
        self.fit_mask = fit
        self.fit_weight = fit.astype(f32)
        y = np.asarray(design.y_scaled, np.float64)
        self.y_scaled = y.astype(f32)
        self.y_fit_total = np.asarray(y[fit].sum(), f32)
        # Fitting-window means of the linear columns: what ties `level` to the intercept.
        n_fit = max(int(fit.sum()), 1)
        self.n_fit = np.asarray(float(fit.sum()), f32)
        self.trend_mean = np.asarray(design.trend[fit].sum() / n_fit, f32)
        self.fourier_mean = (design.fourier[fit].sum(axis=0) / n_fit).astype(f32)
        self.factor_mean = (design.factors[fit].sum(axis=0) / n_fit).astype(f32)
        # The Normal priors of `site_priors` as flat vectors over the parameter vector, so the
        # log density evaluates them in one vectorised expression (`level` has weight 0).
        table = site_priors(self)
        loc, scale, weight = [], [], []
        for name, size in site_shapes(self).items():
            n = max(size, 1)
            m, sd = table.get(name, (0.0, 1.0))
            loc.append(np.broadcast_to(np.asarray(m, f32), (n,)))
            scale.append(np.broadcast_to(np.asarray(sd, f32), (n,)))
            weight.append(np.full(n, 1.0 if name in table else 0.0, f32))
        self.prior_loc, self.prior_scale, self.prior_weight = (np.concatenate(v) for v in (loc, scale, weight))
        self._put(jax.device_put)

    def _put(self, fn):
        for k, v in list(self.__dict__.items()):
            if k == "arrays":
                self.arrays = {a: fn(b) for a, b in v.items()}
            elif k not in _STATIC:
                self.__dict__[k] = fn(v)

    def to_numpy(self) -> "ModelStatics":
        out = jax.tree.map(np.asarray, self)
        return out

    def tree_flatten(self):
        keys = tuple(sorted(k for k in self.__dict__ if k not in _STATIC))
        return tuple(self.__dict__[k] for k in keys), (keys, tuple(self.__dict__[k] for k in _STATIC))

    @classmethod
    def tree_unflatten(cls, aux, leaves):
        keys, static = aux
        obj = object.__new__(cls)
        obj.__dict__.update(zip(keys, leaves))
        obj.__dict__.update(zip(_STATIC, static))
        return obj


def site_shapes(statics: ModelStatics) -> dict[str, int]:
    """Size of each sampled site in the flat parameter vector (0: a scalar; absent sites omitted)."""
    C = statics.n_channels
    sizes = {"decay_logit": C, "hill_offset": C, "slope_log": C, "share_logit": C, "level": 0,
             "trend_coef": 0 if statics.has_trend else None, "season": statics.n_season or None,
             "factor_raw": statics.n_factors or None, "sigma_log": 0}
    return {k: v for k, v in sizes.items() if v is not None}


def num_params(statics: ModelStatics) -> int:
    return sum(max(s, 1) for s in site_shapes(statics).values())


def unpack(statics: ModelStatics, z) -> dict:
    """Flat unconstrained values (..., D) -> {site: array}; scalar sites have shape (...)."""
    out, i = {}, 0
    for name, size in site_shapes(statics).items():
        n = max(size, 1)
        out[name] = z[..., i] if size == 0 else z[..., i:i + n]
        i += n
    return out


def pack(statics: ModelStatics, sites: dict) -> np.ndarray:
    """{site: value} -> the flat float32 vector (inverse of `unpack` for one draw)."""
    return np.concatenate([np.atleast_1d(np.asarray(sites[name], np.float32)) for name in site_shapes(statics)])


def site_priors(statics: ModelStatics) -> dict[str, tuple]:
    """(loc, scale) of the fixed Normal prior of every sampled site but two: `level` (flat: its
    prior is the intercept's, on the derived intercept) and `hill_offset` (Normal given the
    slope: `hill_offset_loc`, `hill_offset_sd`). The one prior table of the model."""
    C, f32 = statics.n_channels, np.float32
    priors = {
        "decay_logit": (np.zeros(C, f32), np.full(C, DECAY_LOGIT_SD, f32)),
        "slope_log": (np.full(C, SLOPE_LOG_LOC, f32), np.full(C, SLOPE_LOG_SD, f32)),
        "share_logit": (statics.share_loc, statics.share_scale),
        "trend_coef": (0.0, TREND_SD),
        "season": (np.zeros(statics.n_season, f32), np.full(statics.n_season, SEASON_SD, f32)),
        "factor_raw": (statics.factor_loc, statics.factor_scale),
        "sigma_log": (SIGMA_LOG_LOC, SIGMA_LOG_SD),
    }
    return {k: v for k, v in priors.items() if k in site_shapes(statics)}


def hill_offset_sd(slope):
    """Prior sd of hill_offset = slope * log(half) given the slope: log(half) ~ N(0.3, 0.6)."""
    return HALF_LOG_SD * slope


def hill_offset_loc(slope):
    """Prior mean of hill_offset given the slope."""
    return HALF_LOG_LOC * slope


def prior_centre(statics: ModelStatics) -> dict:
    """Unconstrained starting point: prior centres, `level` at the data mean, sigma ~ 0.14."""
    start = {k: np.asarray(loc, np.float32) for k, (loc, _) in site_priors(statics).items()}
    start["hill_offset"] = np.full(statics.n_channels, HALF_LOG_LOC * np.exp(SLOPE_LOG_LOC), np.float32)
    start["level"] = np.float32(1.0)
    start["sigma_log"] = np.float32(-2.0)
    return start


def media_saturation(statics: ModelStatics, decay, half, slope, media_stack=None, xp=jnp):
    """Saturated adstocked media (..., time, channel), before multiplying by beta."""
    weights = weights_from_layout(decay, statics.lag_steps, statics.lag_active, xp)
    stack = statics.arrays["media_stack"] if media_stack is None else media_stack
    adstocked = apply_adstock(stack, weights, xp)[..., 0, :]
    return hill(adstocked, half[..., None, :], slope[..., None, :], xp)


def factor_coefficients(statics: ModelStatics, raw, xp=jnp):
    return xp.where(statics.factor_sign == 0, raw * AUTO_FACTOR_SCALE, statics.factor_sign * xp.exp(raw))


def level_offset(statics: ModelStatics, share, trend_coef, season, factor_coef, xp=jnp):
    """level - intercept: the fitting-window mean of everything but the intercept."""
    return (trend_coef * statics.trend_mean + xp.sum(statics.fourier_mean * season, axis=-1)
            + xp.sum(statics.factor_mean * factor_coef, axis=-1)
            + xp.sum(share, axis=-1) * (statics.y_fit_total / statics.n_fit))


def derived(statics: ModelStatics, u: dict, xp=jnp, with_saturation: bool = False) -> dict:
    """Sampled sites (each with optional leading draw axes) -> the model's parameters."""
    decay = statics.decay_lo + (statics.decay_hi - statics.decay_lo) * sigmoid(u["decay_logit"], xp)
    slope = xp.exp(u["slope_log"])
    half = xp.exp(u["hill_offset"] / slope)
    share = sigmoid(u["share_logit"], xp)
    sat = media_saturation(statics, decay, half, slope, xp=xp)
    sat_total = statics.fit_weight @ sat
    # The floor only guards against 0/0 for a channel with (almost) no saturated spend in the
    # window; such a channel's share is then carried by nothing either way.
    beta = share * statics.y_fit_total / xp.maximum(sat_total, 1e-6)
    batch = xp.shape(u["level"])
    trend_coef = u["trend_coef"] if statics.has_trend else xp.zeros(batch, np.float32)
    season = u["season"] if statics.n_season else xp.zeros(batch + (0,), np.float32)
    factor_coef = factor_coefficients(statics, u["factor_raw"], xp) if statics.n_factors else \
        xp.zeros(batch + (0,), np.float32)
    intercept = u["level"] - level_offset(statics, share, trend_coef, season, factor_coef, xp)
    p = {"decay": decay, "half": half, "slope": slope, "share": share, "beta": beta, "intercept": intercept,
         "trend_coef": trend_coef, "season": season, "factor_coef": factor_coef, "sigma": xp.exp(u["sigma_log"])}
    if with_saturation:
        p["_sat"] = sat
    return p


def baseline(statics: ModelStatics, p: dict):
    """Intercept + trend + seasonality per period (one draw)."""
    a = statics.arrays
    base = p["intercept"] + p.get("trend_coef", 0.0) * a["trend"]
    if statics.n_season:
        base = base + a["fourier"] @ p["season"]
    return base


def components(statics: ModelStatics, p: dict, sat=None) -> dict:
    """One draw's additive components in scaled target units: base, factor (t, f), media (t, c).

    `sat` (saturated media, from `media_saturation`) may be passed when already computed.
    """
    if sat is None:
        sat = media_saturation(statics, p["decay"], p["half"], p["slope"])
    factor = statics.arrays["factors"] * p["factor_coef"][None, :]
    return {"base": baseline(statics, p), "factor": factor, "media": sat * p["beta"][None, :]}


def predicted_mean(statics: ModelStatics, p: dict, sat, xp=jnp):
    """The sum of `components` (base + factors + media); draws may carry leading axes."""
    a = statics.arrays
    mu = p["intercept"][..., None] + p["trend_coef"][..., None] * a["trend"]
    if statics.n_season:
        mu = mu + p["season"] @ a["fourier"].T
    if statics.n_factors:
        mu = mu + p["factor_coef"] @ a["factors"].T
    return mu + xp.einsum("...tc,...c->...t", sat, p["beta"])


def log_density(statics: ModelStatics, z) -> jax.Array:
    """Log posterior density, up to an additive constant, at the flat unconstrained vector z."""
    u = unpack(statics, z)
    p = derived(statics, u, with_saturation=True)
    prior = jnp.sum(statics.prior_weight * jnp.square((z - statics.prior_loc) / statics.prior_scale))
    prior = prior + jnp.square((p["intercept"] - INTERCEPT_LOC) / INTERCEPT_SD)
    prior = prior + jnp.sum(jnp.square((u["hill_offset"] - hill_offset_loc(p["slope"])) / hill_offset_sd(p["slope"])))
    resid = statics.y_scaled - predicted_mean(statics, p, p["_sat"])
    sse = statics.fit_weight @ jnp.square(resid)
    # -log of the sds that depend on parameters: sigma (n_fit times) and 0.6 * slope per channel.
    return -0.5 * (prior + sse / jnp.square(p["sigma"])) - statics.n_fit * u["sigma_log"] - jnp.sum(u["slope_log"])


class LevelGivenRest(dist.Distribution):
    """`level` = intercept + offset, offset from the other parameters (`level_offset`).

    Flat density: the intercept's N(0.7, 0.5) prior enters the model as a factor on the
    derived intercept. Sampling draws the intercept from that prior, so prior predictive
    draws (numpyro.infer.Predictive) follow the model's priors exactly.
    """
    support = dist.constraints.real

    def __init__(self, offset):
        self.offset = offset
        super().__init__(batch_shape=jnp.shape(offset), event_shape=())

    def sample(self, key, sample_shape=()):
        eps = jax.random.normal(key, tuple(sample_shape) + self.batch_shape)
        return self.offset + INTERCEPT_LOC + INTERCEPT_SD * eps

    def log_prob(self, value):
        return jnp.zeros(jnp.shape(value))


def mmm_model(statics: ModelStatics):
    """The density of `log_density` as a NumPyro model (sample sites named as SAMPLED_SITES)."""
    priors = site_priors(statics)
    u = {}
    for name, size in site_shapes(statics).items():
        if name in priors:
            loc, scale = priors[name]
            d = dist.Normal(loc, scale)
            u[name] = numpyro.sample(name, d if size == 0 else d.expand([size]))
    slope = jnp.exp(u["slope_log"])
    u["hill_offset"] = numpyro.sample("hill_offset", dist.Normal(hill_offset_loc(slope), hill_offset_sd(slope)))
    share = sigmoid(u["share_logit"])
    zero = jnp.zeros(0)
    offset = level_offset(statics, share, u.get("trend_coef", 0.0), u.get("season", zero), factor_coefficients(
        statics, u["factor_raw"]) if statics.n_factors else zero)
    u["level"] = numpyro.sample("level", LevelGivenRest(offset))
    p = derived(statics, u, with_saturation=True)
    numpyro.factor("intercept_prior", dist.Normal(INTERCEPT_LOC, INTERCEPT_SD).log_prob(p["intercept"]))
    for name in DERIVED_SITES:
        if name not in u:
            numpyro.deterministic(name, p[name])
    numpyro.sample("y", dist.Normal(predicted_mean(statics, p, p["_sat"]), p["sigma"]).mask(statics.fit_mask),
                   obs=statics.y_scaled)
