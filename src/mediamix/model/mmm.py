"""The Bayesian MMM: its equations (shared with scoring), its log density, and a NumPyro view.

Model, with the target scaled to mean 1 over the training window:

    y_t = intercept + trend_coef * trend_t + B_t . trend_spline + fourier_t . season + factors_t . factor_coef
          + sum_c beta_c * m_ct * saturation_c(adstock_c(spend_c)_t) + noise_t,
    noise_t ~ Normal(0, sigma), over the fitting window only (the holdout is not in the likelihood).

Priors. Every sampled quantity is an unbounded real with a Normal prior (the sampler needs
no constraining transforms); the model's parameters are deterministic functions of them:

    adstock_c and saturation_c are the components the channel's spec names (components/,
                geometric + Hill by default), each with its own sites and default priors;
                spend is scaled by the channel's mean active spend, so saturation parameters
                read "in a typical active week"
    share_c   = sigmoid(share_logit_c), share_logit_c ~ N(loc_c, scale_c) from priors.py
    beta_c    = share_c * sum_fit(y) / sum_fit(hill_c): the channel's contribution over the
                fitting window is exactly share_c of the conversions
    intercept ~ N(0.7, 0.5), trend_coef ~ N(0, 0.5), season_k ~ N(0, 0.25)
    trend_spline (trend: spline): cubic B-splines B_t over the training window, knot values a
              random walk from 0 with step sd tau ~ LogNormal(log 0.05, 0.7)
    m_ct      time-varying effectiveness (touchpoints[].time_varying): exp(B_t . effect_c), the
              same random walk over knots with step sd ~ LogNormal(log 0.15, 0.5); 1 otherwise
    lift tests: each adds a Normal likelihood term on the channel's contribution summed over
              the test's periods (calibration.py)
    factors   signed impact: coef = sign * exp(raw), raw ~ N(-2, 1) (|coef| ~ 0.14 per sd);
              auto impact: coef = 0.25 * raw, raw ~ N(0, 1)
    sigma     = exp(sigma_log), sigma_log ~ N(-3, 1.5)

Geos. Every array carries a geo axis (time, geo, channel); national data is one geo. With
G > 1 geos (`geos: hierarchical`, design.py) each geo's target and spend have their own
scale, and the model above holds per geo g, sharing the components' adstock and saturation
parameters, the trend, seasonality, factor coefficients and sigma (all on scaled units).
Each geo has its own intercept and shares, partially pooled (the shares non-centred):

    share_gc     = sigmoid(share_logit_c + tau_c * eps_gc), tau_c = exp(share_tau_log_c),
                   share_tau_log_c ~ N(-1.5, 0.7), eps_gc ~ N(0, 1); share_gc = 0 where
                   channel c had no spend in geo g over the fitting window
    beta_gc      = share_gc * sum_fit(y_g) / sum_fit(hill_gc)
    intercept_g  ~ N(intercept_mu, exp(intercept_tau_log)), intercept_mu ~ N(0.7, 0.5),
                   intercept_tau_log ~ N(-2, 1)

and `level` (below) is sampled per geo. With one geo none of these sites exist: the
national model is exactly the model above (its parameters keep their national shapes).

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

Likewise Hill's half-saturation is sampled as slope * log(half) (components/hill.py).

`fit.py` adds one more affine change of variables (the Laplace whitening); none of these
changes the posterior.

One source of truth: `derived` maps sampled values to the model's parameters, `components`
(what scoring applies to posterior draws) and `predicted_mean` (its sum, as matrix-vector
products) give the mean; `log_density` (what the sampler evaluates, over one flat vector)
and `mmm_model` (the same density as a NumPyro model, for NumPyro tools) are both built from
them and from one prior table, `site_normals`. A test checks that the two densities agree.
Posterior names kept for scoring: the components' parameters (decay, half, slope, ... per
channel, NaN where a channel's component has no such parameter), share, beta, intercept,
trend_coef, season, factor_coef, sigma; with several geos share and beta are (geo, channel)
and intercept (geo,).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from mediamix.model.calibration import lift_arrays, lift_log_likelihood
from mediamix.model.components import ADSTOCKS, SATURATIONS
from mediamix.model.design import Design, factor_impacts, periods_for_weeks
from mediamix.model.priors import SharePriors
from mediamix.model.spec import ModelSpec
from mediamix.model.transforms import apply_adstock, lag_layout, sigmoid

# The model's own sampled sites, after the components' sites in the flat parameter vector.
MODEL_SITES = ("share_logit", "share_tau_log", "share_eps", "level", "intercept_mu", "intercept_tau_log",
               "trend_coef", "season", "factor_raw", "sigma_log")
# The model's parameters besides the components', which every posterior carries.
MODEL_PARAMS = ("share", "beta", "intercept", "trend_coef", "season", "factor_coef", "sigma")

INTERCEPT_LOC, INTERCEPT_SD = 0.7, 0.5
TREND_SD, SEASON_SD = 0.5, 0.25
# Smooth drifts as random walks over spline knots: a spline trend's level moves ~5% of the mean
# target per knot, a time-varying channel's effectiveness ~15% per knot (log scale), a priori.
TREND_TAU_LOG_LOC, TREND_TAU_LOG_SD = float(np.log(0.05)), 0.7
EFFECT_TAU_LOG_LOC, EFFECT_TAU_LOG_SD = float(np.log(0.15)), 0.5
SIGNED_FACTOR_LOC, AUTO_FACTOR_SCALE = -2.0, 0.25
SIGMA_LOG_LOC, SIGMA_LOG_SD = -3.0, 1.5
# Geo pooling: a geo's share logit sits ~0.2 (exp(-1.5)) from the channel's, a priori, within
# a factor ~2 either way; geo intercepts ~0.14 (exp(-2)) apart on the scaled target.
SHARE_TAU_LOG_LOC, SHARE_TAU_LOG_SD = -1.5, 0.7
INTERCEPT_TAU_LOG_LOC, INTERCEPT_TAU_LOG_SD = -2.0, 1.0


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


def _groups(kinds: list[str]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Channels grouped by component, in order of first use: ((kind, channel indices), ...)."""
    order = list(dict.fromkeys(kinds))
    return tuple((k, tuple(j for j, x in enumerate(kinds) if x == k)) for k in order)


def _inverse_order(groups) -> tuple[int, ...] | None:
    """Index that puts group-ordered channels back in spec order (None: already in order)."""
    order = [j for _, idx in groups for j in idx]
    return None if order == sorted(order) else tuple(int(i) for i in np.argsort(order))


_STATIC = ("n_lags", "n_factors", "n_channels", "n_season", "has_trend", "adstock_groups", "saturation_groups",
           "adstock_inverse", "saturation_inverse", "n_trend_knots", "n_effect_knots", "varying_channels", "n_geos")


@jax.tree_util.register_pytree_node_class
class ModelStatics:
    """Everything fixed for one model: arrays, masks, prior constants. Built once per fit/score.

    A JAX pytree whose leaves are the arrays (sizes and the channels' component groups are
    static), so a compiled sampler takes the data as arguments and serves every data set of
    the same shape. Built from NumPy and placed on the device without compiling anything;
    `to_numpy()` gives a NumPy copy.
    """

    def __init__(self, spec: ModelSpec, design: Design, priors: SharePriors, *, training: bool = True):
        """training=False (scoring, insights): the lift tests are left out, since they belong to
        the training data and need not fall in the range being scored."""
        f32 = np.float32
        ppy = design.scaling.periods_per_year
        self.arrays = {k: np.asarray(v, f32) for k, v in design.arrays().items()}
        self.n_lags = int(design.scaling.n_lags)
        lo, hi = decay_bounds(spec, ppy)
        lags, maxes = adstock_limits(spec, ppy)
        steps, active = lag_layout(self.n_lags, len(lags), lags, np.minimum(maxes, self.n_lags))
        tps = spec.touchpoints
        self.adstock_groups = _groups([tp.adstock.kind for tp in tps])
        self.saturation_groups = _groups([tp.saturation.kind for tp in tps])
        self.adstock_inverse = _inverse_order(self.adstock_groups)
        self.saturation_inverse = _inverse_order(self.saturation_groups)
        # Per group: the channels' lag layout and decay range (adstock), and every knob's
        # (loc, sd) per channel, the component's default unless the spec overrides it.
        self.group_ctx, self.group_knobs = {}, {}
        for role, groups, table in (("adstock", self.adstock_groups, ADSTOCKS),
                                    ("saturation", self.saturation_groups, SATURATIONS)):
            for kind, idx in groups:
                ix = list(idx)
                overrides = [getattr(tps[j], role).prior_overrides() for j in ix]
                self.group_knobs[kind] = {
                    knob: (np.array([o.get(knob, default)[0] for o in overrides], f32),
                           np.array([o.get(knob, default)[1] for o in overrides], f32))
                    for knob, default in table[kind].knobs.items()}
                if role == "adstock":
                    self.group_ctx[kind] = {"steps": steps[:, ix], "active": active[:, ix],
                                            "n_active": active[:, ix].sum(axis=0),
                                            "decay_lo": lo[ix].astype(f32), "decay_hi": hi[ix].astype(f32)}
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
        self.n_trend_knots = int(design.trend_basis.shape[1])
        self.n_effect_knots = int(design.effect_basis.shape[1])
        self.varying_channels = tuple(j for j, tp in enumerate(tps) if tp.time_varying)
        # (channel, varying channel) 0/1: puts the varying channels' effect curves in place.
        self.varying_onehot = np.eye(self.n_channels, dtype=f32)[:, list(self.varying_channels)]
        fit = np.asarray(design.in_fit, bool)
        self.n_geos = len(design.geos)
        self.fit_mask = fit
        self.fit_weight = fit.astype(f32)
        y = np.asarray(design.y_scaled, np.float64)                      # (time, geo)
        self.y_scaled = y.astype(f32)
        # Summed over one geo at a time: national data gets the single-series sum exactly.
        self.y_fit_total = np.asarray([y[fit, g].sum() for g in range(self.n_geos)], f32)       # (geo,)
        # (geo, channel) 1 where the channel has spend in the geo's fitting window: elsewhere
        # the geo's share is 0 (nothing in the window says what it would be).
        self.share_mask = (design.media_stack[0][fit] > 0).any(axis=0).astype(f32)
        # Fitting-window means of the linear columns: what ties `level` to the intercept.
        n_fit = max(int(fit.sum()), 1)
        self.n_fit = np.asarray(float(fit.sum()), f32)
        self.n_obs = np.asarray(float(fit.sum() * self.n_geos), f32)
        self.trend_mean = np.asarray(design.trend[fit].sum() / n_fit, f32)
        self.fourier_mean = (design.fourier[fit].sum(axis=0) / n_fit).astype(f32)
        self.factor_mean = (design.factors[fit].sum(axis=0) / n_fit).astype(f32)       # (geo, factor)
        # Lift tests measure the national target: a geo's scaled units in national scaled units.
        self.lift_unit = (design.unit / design.scaling.y_scale).astype(f32)              # (time, geo)
        self.trend_basis_mean = (design.trend_basis[fit].sum(axis=0) / n_fit).astype(f32)
        # lift tests: window, onehot, obs, se
        self.lift = lift_arrays(spec if training else spec.replace(lift_tests=()), design)
        self._put(jax.device_put)

    def _put(self, fn):
        for k, v in list(self.__dict__.items()):
            if k not in _STATIC:
                self.__dict__[k] = jax.tree.map(fn, v)

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


# ---- the flat parameter vector ---------------------------------------------------------------

def _component_groups(statics: ModelStatics):
    """(component, kind, channel indices) of every group, adstock groups first."""
    return [(ADSTOCKS[k], k, idx) for k, idx in statics.adstock_groups] + \
        [(SATURATIONS[k], k, idx) for k, idx in statics.saturation_groups]


def site_shapes(statics: ModelStatics) -> dict[str, int]:
    """Size of each sampled site in the flat parameter vector (0: a scalar; absent sites omitted).
    Component sites are named kind_site and sized by the channels using the component."""
    sizes = {f"{kind}_{site}": len(idx) for comp, kind, idx in _component_groups(statics) for site in comp.sites}
    n_varying, spline = len(statics.varying_channels), statics.n_trend_knots > 0
    pooled, G, C = statics.n_geos > 1, statics.n_geos, statics.n_channels
    sizes.update({"share_logit": C, "share_tau_log": C if pooled else None, "share_eps": G * C if pooled else None,
                  "level": G if pooled else 0, "intercept_mu": 0 if pooled else None,
                  "intercept_tau_log": 0 if pooled else None,
                  "trend_coef": 0 if statics.has_trend else None, "season": statics.n_season or None,
                  "factor_raw": statics.n_factors or None,
                  "trend_eps": statics.n_trend_knots - 1 if spline else None, "trend_tau_log": 0 if spline else None,
                  "effect_eps": n_varying * (statics.n_effect_knots - 1) if n_varying else None,
                  "effect_tau_log": n_varying or None, "sigma_log": 0})
    return {k: v for k, v in sizes.items() if v is not None}


def site_dims(statics: ModelStatics, channels: list[str]) -> tuple[dict, dict]:
    """ArviZ dims and coords of the sampled component sites (each over its group's channels)."""
    dims, coords = {}, {}
    for comp, kind, idx in _component_groups(statics):
        coords[f"{kind}_channel"] = [channels[j] for j in idx]
        dims.update({f"{kind}_{site}": [f"{kind}_channel"] for site in comp.sites})
    return dims, coords


def param_names(statics: ModelStatics) -> tuple[str, ...]:
    """The components' parameter names, then the model's (what `derived` returns)."""
    names = [p for comp, _, _ in _component_groups(statics) for p in comp.params]
    optional = (("trend_spline",) if statics.n_trend_knots else ()) + \
        (("effect_coef",) if statics.varying_channels else ())
    return tuple(dict.fromkeys(names)) + MODEL_PARAMS + optional


def component_param_names(statics: ModelStatics) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for comp, _, _ in _component_groups(statics) for p in comp.params))


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
    return np.concatenate([np.ravel(np.asarray(sites[name], np.float32)) for name in site_shapes(statics)])


def site_normals(statics: ModelStatics, u: dict, xp=jnp) -> dict[str, tuple]:
    """(loc, sd) of the Normal prior of every sampled site but `level` (flat: its prior is the
    intercept's, on the derived intercept). Component sites' priors may depend on the sites
    sampled before them (`u`). The one prior table of the model."""
    out = {}
    for comp, kind, _ in _component_groups(statics):
        knobs, earlier = statics.group_knobs.get(kind, {}), {}
        for site in comp.sites:
            out[f"{kind}_{site}"] = comp.site_prior(site, earlier, knobs, xp)
            if f"{kind}_{site}" not in u:
                break          # later sites may depend on this one (NumPyro samples in order)
            earlier[site] = u[f"{kind}_{site}"]
    out.update({"share_logit": (statics.share_loc, statics.share_scale),
                "share_tau_log": (SHARE_TAU_LOG_LOC, SHARE_TAU_LOG_SD), "share_eps": (0.0, 1.0),
                "intercept_mu": (INTERCEPT_LOC, INTERCEPT_SD),
                "intercept_tau_log": (INTERCEPT_TAU_LOG_LOC, INTERCEPT_TAU_LOG_SD), "trend_coef": (0.0, TREND_SD),
                "season": (0.0, SEASON_SD), "factor_raw": (statics.factor_loc, statics.factor_scale),
                "trend_eps": (0.0, 1.0), "trend_tau_log": (TREND_TAU_LOG_LOC, TREND_TAU_LOG_SD),
                "effect_eps": (0.0, 1.0), "effect_tau_log": (EFFECT_TAU_LOG_LOC, EFFECT_TAU_LOG_SD),
                "sigma_log": (SIGMA_LOG_LOC, SIGMA_LOG_SD)})
    return {k: v for k, v in out.items() if k in site_shapes(statics)}


def prior_centre(statics: ModelStatics) -> dict:
    """Unconstrained starting point: prior centres, `level` at the data mean, sigma ~ 0.14."""
    start = {}
    for comp, kind, idx in _component_groups(statics):
        knobs = {k: tuple(np.asarray(v) for v in lv) for k, lv in statics.group_knobs.get(kind, {}).items()}
        start.update({f"{kind}_{s}": np.broadcast_to(v, (len(idx),)).astype(np.float32)
                      for s, v in comp.start(knobs).items()})
    sizes = site_shapes(statics)
    fixed = site_normals(statics, start, np)
    for name in ("share_logit", "share_tau_log", "share_eps", "intercept_mu", "intercept_tau_log", "trend_coef",
                 "season", "factor_raw", "trend_eps", "trend_tau_log", "effect_eps", "effect_tau_log"):
        if name in sizes:
            start[name] = np.broadcast_to(np.asarray(fixed[name][0], np.float32), (sizes[name],) if sizes[name] else ())
    # Each geo's level at its data mean (1 with the geo's own scaling; national data: 1).
    start["level"] = (np.asarray(statics.y_fit_total) / np.asarray(statics.n_fit)).astype(np.float32) \
        if statics.n_geos > 1 else np.float32(1.0)
    start["sigma_log"] = np.float32(-2.0)
    return start


# ---- the equations ---------------------------------------------------------------------------

def _ungroup(pieces: list, inverse, xp):
    """Concatenate per-group arrays along the channel axis and restore spec channel order."""
    if len(pieces) > 1:
        # Components without parameters (saturation "none") carry no draw axes: broadcast them.
        lead = np.broadcast_shapes(*(tuple(xp.shape(p)[:-1]) for p in pieces))
        pieces = [xp.broadcast_to(p, lead + (xp.shape(p)[-1],)) for p in pieces]
    out = pieces[0] if len(pieces) == 1 else xp.concatenate(pieces, axis=-1)
    return out if inverse is None else out[..., list(inverse)]


def group_params(statics: ModelStatics, u: dict, xp=jnp) -> list[dict]:
    """Sampled sites -> each group's component parameters (adstock groups, then saturation)."""
    out = []
    for comp, kind, _ in _component_groups(statics):
        sites = {s: u[f"{kind}_{s}"] for s in comp.sites}
        out.append(comp.derive(sites, statics.group_ctx[kind], xp) if comp.role == "adstock" else comp.derive(sites, xp))
    return out


def split_params(statics: ModelStatics, full: dict) -> list[dict]:
    """Per-channel parameter arrays (as in a posterior) -> each group's component parameters."""
    return [{name: full[name][..., list(idx)] for name in comp.params} for comp, _, idx in _component_groups(statics)]


def full_params(statics: ModelStatics, groups: list[dict], xp=jnp) -> dict:
    """Each group's parameters -> per-channel arrays (NaN where a channel's component lacks one)."""
    out = {}
    n_ad = len(statics.adstock_groups)
    for role_groups, params, inverse in (
            (_component_groups(statics)[:n_ad], groups[:n_ad], statics.adstock_inverse),
            (_component_groups(statics)[n_ad:], groups[n_ad:], statics.saturation_inverse)):
        names = dict.fromkeys(n for comp, _, _ in role_groups for n in comp.params)
        for name in names:
            batch = next(xp.shape(p[name])[:-1] for p in params if name in p)
            pieces = [p[name] if name in p else xp.full(batch + (len(idx),), np.nan, np.float32)
                      for (_, _, idx), p in zip(role_groups, params)]
            out[name] = _ungroup(pieces, inverse, xp)
    return out


def adstock_weights(statics: ModelStatics, groups: list[dict], xp=jnp):
    """Carryover weights (..., lag, channel) of every channel."""
    pieces = [ADSTOCKS[k].weights(p, statics.group_ctx[k], xp)
              for (k, _), p in zip(statics.adstock_groups, groups)]
    return _ungroup(pieces, statics.adstock_inverse, xp)


def saturate(statics: ModelStatics, groups: list[dict], x, xp=jnp):
    """Saturation of adstocked spend x (..., time, channel), every channel by its component."""
    sat_params = groups[len(statics.adstock_groups):]
    pieces = [SATURATIONS[k].apply(x[..., list(idx)], p, xp)
              for (k, idx), p in zip(statics.saturation_groups, sat_params)]
    return _ungroup(pieces, statics.saturation_inverse, xp)


def media_saturation(statics: ModelStatics, groups: list[dict], media_stack=None, xp=jnp):
    """Saturated adstocked media (..., time, geo, channel), before multiplying by beta."""
    weights = adstock_weights(statics, groups, xp)
    stack = statics.arrays["media_stack"] if media_stack is None else media_stack
    adstocked = apply_adstock(stack, weights, xp)                       # (..., time, geo, channel)
    shape = xp.shape(adstocked)
    # Components read (..., time, channel): geos ride along with time.
    flat = xp.reshape(adstocked, shape[:-3] + (shape[-3] * shape[-2], shape[-1]))
    return xp.reshape(saturate(statics, groups, flat, xp), shape)


def random_walk(eps, tau_log, xp=jnp):
    """Knot values of a random walk starting at 0: (..., K-1) steps -> (..., K)."""
    steps = xp.exp(tau_log)[..., None] * eps
    return xp.concatenate([xp.zeros(xp.shape(steps)[:-1] + (1,), np.float32), xp.cumsum(steps, axis=-1)], axis=-1)


def effect_coefficients(statics: ModelStatics, u: dict, xp=jnp):
    """Log-effectiveness at the effect knots per channel (..., channel, knot); 0 for channels
    with constant effectiveness. Each varying channel's curve is a random walk from 0 (its
    overall level is carried by the share/beta)."""
    n_varying, K = len(statics.varying_channels), statics.n_effect_knots
    eps = xp.reshape(u["effect_eps"], xp.shape(u["effect_eps"])[:-1] + (n_varying, K - 1))
    walk = random_walk(eps, u["effect_tau_log"], xp)                                  # (..., varying, knot)
    return xp.einsum("cv,...vk->...ck", statics.varying_onehot, walk)


def effect_multiplier(statics: ModelStatics, effect_coef, xp=jnp):
    """Effectiveness multiplier per period and channel (..., time, channel): exp of the curve."""
    return xp.exp(xp.einsum("tk,...ck->...tc", statics.arrays["effect_basis"], effect_coef))


def media_response(statics: ModelStatics, groups: list[dict], effect_coef=None, media_stack=None, xp=jnp):
    """Saturated adstocked media times time-varying effectiveness (..., time, geo, channel), before beta."""
    sat = media_saturation(statics, groups, media_stack, xp)
    if not statics.varying_channels:
        return sat
    return sat * effect_multiplier(statics, effect_coef, xp)[..., :, None, :]


def window_total(statics: ModelStatics, x, xp=jnp):
    """Sum over the fitting window of x (..., time, geo, channel) -> (..., geo, channel)."""
    shape = xp.shape(x)
    flat = xp.reshape(x, shape[:-3] + (shape[-3], shape[-2] * shape[-1]))
    return xp.reshape(statics.fit_weight @ flat, shape[:-3] + shape[-2:])


def geo_shares(statics: ModelStatics, u: dict, xp=jnp):
    """Each geo's channel shares of its conversions over the fitting window (..., geo, channel)."""
    if statics.n_geos == 1:
        return sigmoid(u["share_logit"], xp)[..., None, :]
    eps = xp.reshape(u["share_eps"], xp.shape(u["share_eps"])[:-1] + (statics.n_geos, statics.n_channels))
    tau = xp.exp(u["share_tau_log"])[..., None, :]
    return sigmoid(u["share_logit"][..., None, :] + tau * eps, xp) * statics.share_mask


def geo_levels(statics: ModelStatics, u: dict):
    """The sampled `level` per geo (..., geo)."""
    return u["level"][..., None] if statics.n_geos == 1 else u["level"]


def geo_params(statics: ModelStatics, p: dict) -> tuple:
    """beta (..., geo, channel) and intercept (..., geo) of parameters in either layout
    (a national model keeps them without the geo axis)."""
    if statics.n_geos == 1:
        return p["beta"][..., None, :], p["intercept"][..., None]
    return p["beta"], p["intercept"]


def national_view(statics: ModelStatics, x, geo_axis: int):
    """A per-geo array without its geo axis for a national model (unchanged with several geos)."""
    if statics.n_geos > 1:
        return x
    index = [slice(None)] * x.ndim
    index[geo_axis] = 0
    return x[tuple(index)]


def factor_coefficients(statics: ModelStatics, raw, xp=jnp):
    return xp.where(statics.factor_sign == 0, raw * AUTO_FACTOR_SCALE, statics.factor_sign * xp.exp(raw))


def level_offset(statics: ModelStatics, share, trend_coef, season, factor_coef, xp=jnp, trend_spline=None):
    """level - intercept per geo (..., geo): the fitting-window mean of everything but the
    intercept. share is (..., geo, channel); the other parameters are shared by the geos."""
    spline = 0.0 if trend_spline is None else xp.sum(statics.trend_basis_mean * trend_spline, axis=-1)
    shared = spline + trend_coef * statics.trend_mean + xp.sum(statics.fourier_mean * season, axis=-1)
    return (xp.asarray(shared)[..., None] + xp.sum(statics.factor_mean * factor_coef[..., None, :], axis=-1)
            + xp.sum(share, axis=-1) * (statics.y_fit_total / statics.n_fit))


def derived(statics: ModelStatics, u: dict, xp=jnp, with_saturation: bool = False) -> dict:
    """Sampled sites (each with optional leading draw axes) -> the model's parameters."""
    groups = group_params(statics, u, xp)
    share = geo_shares(statics, u, xp)                                      # (..., geo, channel)
    extra = {}
    if statics.varying_channels:
        extra["effect_coef"] = effect_coefficients(statics, u, xp)
    if statics.n_trend_knots:
        extra["trend_spline"] = random_walk(u["trend_eps"], u["trend_tau_log"], xp)
    sat = media_response(statics, groups, extra.get("effect_coef"), xp=xp)    # (..., time, geo, channel)
    sat_total = window_total(statics, sat, xp)
    # The floor only guards against 0/0 for a channel with (almost) no saturated spend in the
    # window; such a channel's share is then carried by nothing either way.
    beta = share * statics.y_fit_total[:, None] / xp.maximum(sat_total, 1e-6)
    batch = xp.shape(u["sigma_log"])
    trend_coef = u["trend_coef"] if statics.has_trend else xp.zeros(batch, np.float32)
    season = u["season"] if statics.n_season else xp.zeros(batch + (0,), np.float32)
    factor_coef = factor_coefficients(statics, u["factor_raw"], xp) if statics.n_factors else \
        xp.zeros(batch + (0,), np.float32)
    intercept = geo_levels(statics, u) - level_offset(statics, share, trend_coef, season, factor_coef, xp,
                                                      extra.get("trend_spline"))
    p = {**full_params(statics, groups, xp), "share": national_view(statics, share, -2),
         "beta": national_view(statics, beta, -2), "intercept": national_view(statics, intercept, -1),
         "trend_coef": trend_coef, "season": season, "factor_coef": factor_coef, "sigma": xp.exp(u["sigma_log"]),
         **extra}
    if with_saturation:
        p["_sat"] = sat
    return p


def baseline(statics: ModelStatics, p: dict):
    """Intercept + trend + seasonality per period and geo (one draw): (time, geo)."""
    a = statics.arrays
    _, intercept = geo_params(statics, p)
    base = intercept[None, :] + (p.get("trend_coef", 0.0) * a["trend"])[:, None]
    if statics.n_season:
        base = base + (a["fourier"] @ p["season"])[:, None]
    if statics.n_trend_knots:
        base = base + (a["trend_basis"] @ p["trend_spline"])[:, None]
    return base


def components(statics: ModelStatics, p: dict, sat=None) -> dict:
    """One draw's additive components in scaled target units: base (t, g), factor (t, g, f),
    media (t, g, c); a national model's without the geo axis: base (t,), factor (t, f), media (t, c).

    `sat` (saturated media, from `media_saturation`) may be passed when already computed.
    """
    if sat is None:
        sat = media_response(statics, split_params(statics, p), p.get("effect_coef"))
    beta, _ = geo_params(statics, p)
    factor = statics.arrays["factors"] * p["factor_coef"]
    return {"base": national_view(statics, baseline(statics, p), 1), "factor": national_view(statics, factor, 1),
            "media": national_view(statics, sat * beta[None], 1)}


def predicted_mean_geo(statics: ModelStatics, p: dict, sat, xp=jnp):
    """The sum of the components per period and geo (..., time, geo); draws may carry leading axes."""
    a = statics.arrays
    beta, intercept = geo_params(statics, p)
    T, G, F = xp.shape(a["factors"])
    mu = intercept[..., None, :] + (p["trend_coef"][..., None] * a["trend"])[..., :, None]
    if statics.n_season:
        mu = mu + (p["season"] @ a["fourier"].T)[..., :, None]
    if statics.n_factors:
        mu = mu + xp.reshape(p["factor_coef"] @ xp.reshape(a["factors"], (T * G, F)).T,
                             xp.shape(p["factor_coef"])[:-1] + (T, G))
    if statics.n_trend_knots:
        mu = mu + (p["trend_spline"] @ a["trend_basis"].T)[..., :, None]
    return mu + xp.einsum("...tgc,...gc->...tg", sat, beta)


def predicted_mean(statics: ModelStatics, p: dict, sat, xp=jnp):
    """The sum of `components` (base + factors + media) per period, and per geo with several
    geos: (..., time[, geo]); draws may carry leading axes."""
    return national_view(statics, predicted_mean_geo(statics, p, sat, xp), -1)


def intercept_prior(statics: ModelStatics, u: dict, xp=jnp) -> tuple:
    """(loc, sd) of the intercepts' Normal prior: N(0.7, 0.5), or per geo the pooled one."""
    if statics.n_geos == 1:
        return INTERCEPT_LOC, INTERCEPT_SD
    return u["intercept_mu"][..., None], xp.exp(u["intercept_tau_log"])[..., None]


def prior_residuals(statics: ModelStatics, u: dict, p: dict, xp=jnp) -> tuple[dict, object]:
    """Standardised prior residuals per site ((value - loc) / sd, the intercept's included) and
    the sum of log sds: the log prior is -0.5 * sum(residual^2) - that sum, up to a constant."""
    res, log_sd = {}, 0.0
    for name, (loc, sd) in site_normals(statics, u, xp).items():
        res[name] = (u[name] - loc) / sd
        log_sd = log_sd + xp.sum(xp.log(xp.broadcast_to(sd, xp.shape(u[name]))))
    loc, sd = intercept_prior(statics, u, xp)
    res["intercept"] = (p["intercept"] - loc) / sd
    if statics.n_geos > 1:       # the geo intercepts' sd is a parameter: its log counts once per geo
        log_sd = log_sd + statics.n_geos * xp.sum(u["intercept_tau_log"])
    return res, log_sd


def log_density(statics: ModelStatics, z) -> jax.Array:
    """Log posterior density, up to an additive constant, at the flat unconstrained vector z."""
    u = unpack(statics, z)
    p = derived(statics, u, with_saturation=True)
    res, log_sd = prior_residuals(statics, u, p)
    prior = sum(jnp.sum(jnp.square(r)) for r in res.values())
    resid = statics.y_scaled - predicted_mean_geo(statics, p, p["_sat"])
    sse = jnp.sum(statics.fit_weight @ jnp.square(resid))
    # -log sigma for each of the n_obs observations (fitting periods x geos)
    return (-0.5 * (prior + sse / jnp.square(p["sigma"])) - statics.n_obs * u["sigma_log"] - log_sd
            + lift_term(statics, p, jnp))


def lift_media(statics: ModelStatics, p: dict, xp=jnp):
    """The channels' contributions summed over geos, in the national target's scaled units
    (..., time, channel): what a lift test measures."""
    beta, _ = geo_params(statics, p)
    return xp.sum(p["_sat"] * beta[..., None, :, :] * statics.lift_unit[:, :, None], axis=-2)


def lift_term(statics: ModelStatics, p: dict, xp=jnp):
    """Log likelihood of the spec's lift tests given the model's media contributions."""
    return lift_log_likelihood(**statics.lift, media=lift_media(statics, p, xp), xp=xp)


def lift_residuals(statics: ModelStatics, p: dict, xp=jnp):
    """Standardised lift-test residuals (..., n_lift): what `lift_term` squares."""
    lift = statics.lift
    pred = xp.einsum("...tc,ic,it->...i", lift_media(statics, p, xp), lift["onehot"], lift["window"])
    return (pred - lift["obs"]) / lift["se"]


class LevelGivenRest(dist.Distribution):
    """`level` = intercept + offset, offset from the other parameters (`level_offset`).

    Flat density: the intercept's Normal(loc, scale) prior (N(0.7, 0.5); per geo the pooled
    one) enters the model as a factor on the derived intercept. Sampling draws the intercept
    from that prior, so prior predictive draws (numpyro.infer.Predictive) follow the model's
    priors exactly.
    """
    support = dist.constraints.real

    def __init__(self, offset, loc=INTERCEPT_LOC, scale=INTERCEPT_SD):
        self.offset, self.loc, self.scale = offset, loc, scale
        super().__init__(batch_shape=jnp.shape(offset), event_shape=())

    def sample(self, key, sample_shape=()):
        eps = jax.random.normal(key, tuple(sample_shape) + self.batch_shape)
        return self.offset + self.loc + self.scale * eps

    def log_prob(self, value):
        return jnp.zeros(jnp.shape(value))


def mmm_model(statics: ModelStatics):
    """The density of `log_density` as a NumPyro model (sample sites named as `site_shapes`)."""
    u = {}
    for name, size in site_shapes(statics).items():
        if name == "level":
            continue
        d = dist.Normal(*site_normals(statics, u)[name])
        if size and d.batch_shape != (size,):
            d = d.expand([size])
        u[name] = numpyro.sample(name, d)
    share = geo_shares(statics, u)
    zero = jnp.zeros(0)
    offset = level_offset(statics, share, u.get("trend_coef", 0.0), u.get("season", zero), factor_coefficients(
        statics, u["factor_raw"]) if statics.n_factors else zero,
        trend_spline=random_walk(u["trend_eps"], u["trend_tau_log"]) if statics.n_trend_knots else None)
    loc, scale = intercept_prior(statics, u)
    u["level"] = numpyro.sample("level", LevelGivenRest(national_view(statics, offset, -1), loc, scale))
    p = derived(statics, u, with_saturation=True)
    numpyro.factor("intercept_prior", jnp.sum(dist.Normal(loc, scale).log_prob(p["intercept"])))
    numpyro.factor("lift_tests", lift_term(statics, p))
    for name in param_names(statics):
        if name not in u:
            numpyro.deterministic(name, p[name])
    numpyro.sample("y", dist.Normal(predicted_mean_geo(statics, p, p["_sat"]), p["sigma"]).mask(
        statics.fit_mask[:, None]), obs=statics.y_scaled)
