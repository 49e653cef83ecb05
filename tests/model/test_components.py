"""Every registered transform component, checked the same way (scikit-learn style: a new
component is picked up by the parametrised checks and must be given its closed form below).

Adstock: weights >= 0, zero outside the channel's active lags, sum to 1, leading draw axes
in NumPy and JAX agree, finite gradients wrt the sites. Saturation: 0 at 0, increasing,
concave or S-shaped as documented, finite gradients. Closed forms per component. The knobs
are exactly the priors the sites use, and the spec refuses unknown kinds and knobs naming
the touchpoint. Last, one fit: a world generated with plain NumPy formulas (not the
component code) from three non-default component pairs, recovered through the Workspace.
"""
from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from mediamix.errors import SpecError
from mediamix.model.components import ADSTOCKS, SATURATIONS
from mediamix.model.spec import ModelSpec
from mediamix.model.transforms import lag_layout
from tests.fitting import TEST_SAMPLER, case_spec, fit_case

N_LAGS = 8
LAGS = np.array([0, 2, 1, 0])          # first active lag per channel
TOPS = np.array([8, 6, 5, 3])          # lag + lookback: active lags are LAGS <= l < TOPS
N_CH = len(LAGS)

# What each saturation's docstring promises about its curvature.
SATURATION_SHAPES = {"hill": "s_shaped", "logistic": "concave", "michaelis_menten": "concave", "none": "linear"}


def adstock_ctx(xp=np, lags=LAGS, tops=TOPS, n_lags=N_LAGS):
    steps, active = lag_layout(n_lags, len(lags), lags, tops)
    ctx = {"steps": steps, "active": active, "n_active": active.sum(axis=0),
           "decay_lo": np.linspace(0.0, 0.3, len(lags)).astype(np.float32),
           "decay_hi": np.linspace(0.75, 0.9, len(lags)).astype(np.float32)}
    return {k: xp.asarray(v) for k, v in ctx.items()}


def default_knobs(comp) -> dict:
    return {k: (np.float32(m), np.float32(s)) for k, (m, s) in comp.knobs.items()}


def random_sites(comp, shape, seed=0, box=None, dtype=np.float32) -> dict:
    """Sites from the component's own priors, in sampling order: Normal draws, or with `box`
    uniform within +-box prior sds (the tails a sampler's warmup visits)."""
    rng = np.random.default_rng(seed)
    knobs, u = default_knobs(comp), {}
    for site in comp.sites:
        loc, sd = comp.site_prior(site, u, knobs, np)
        z = rng.standard_normal(shape) if box is None else rng.uniform(-box, box, shape)
        u[site] = np.asarray(loc + sd * z, dtype)
    return u


def adstock_weights(comp, u, xp=np, ctx=None):
    ctx = adstock_ctx(xp) if ctx is None else ctx
    return comp.weights(comp.derive(u, ctx, xp), ctx, xp)


def saturation_curve(comp, u, x, xp=np):
    return comp.apply(x, comp.derive(u, xp), xp)


# ---- adstock, every component ------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ADSTOCKS))
@pytest.mark.parametrize("box", [None, 4.0])
def test_adstock_weights_are_a_distribution_over_the_active_lags(name, box):
    comp = ADSTOCKS[name]
    _, active = lag_layout(N_LAGS, N_CH, LAGS, TOPS)
    w = adstock_weights(comp, random_sites(comp, (200, N_CH), seed=1, box=box))
    assert w.shape == (200, N_LAGS, N_CH)
    assert np.all(np.isfinite(w)) and np.all(w >= 0)
    assert np.all(w[:, active == 0] == 0), "weight outside the active lags"
    assert w.sum(axis=-2) == pytest.approx(np.ones((200, N_CH)), abs=1e-5)


@pytest.mark.parametrize("name", sorted(ADSTOCKS))
def test_adstock_leading_draw_axes_numpy_and_jax_agree(name):
    comp = ADSTOCKS[name]
    u = random_sites(comp, (2, 3, N_CH), seed=2)
    batched = adstock_weights(comp, u)
    assert batched.shape == (2, 3, N_LAGS, N_CH)
    in_jax = np.asarray(adstock_weights(comp, {k: jnp.asarray(v) for k, v in u.items()}, jnp, adstock_ctx(jnp)))
    assert in_jax == pytest.approx(batched, rel=1e-4, abs=1e-6)
    for i in range(2):
        for j in range(3):
            one = adstock_weights(comp, {k: v[i, j] for k, v in u.items()})
            assert one == pytest.approx(batched[i, j], rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("name", sorted(ADSTOCKS))
@pytest.mark.parametrize("seed,box", [(3, None), (4, 4.0)])
def test_adstock_gradients_are_finite(name, seed, box):
    comp = ADSTOCKS[name]
    ctx = adstock_ctx(jnp)
    # The weights sum to 1, so weigh the lags differently to get a gradient that is not 0.
    c = jnp.asarray(np.random.default_rng(seed).standard_normal((N_LAGS, N_CH)), jnp.float32)
    u = {k: jnp.asarray(v) for k, v in random_sites(comp, (N_CH,), seed=seed, box=box).items()}
    grad = jax.grad(lambda u: jnp.sum(comp.weights(comp.derive(u, ctx, jnp), ctx, jnp) * c))(u)
    assert set(grad) == set(comp.sites)
    for site, g in grad.items():
        assert np.all(np.isfinite(np.asarray(g))), (name, site, g)
    # Every channel's weights depend on its sites (channel 3 has 3 active lags: > 1, so a shape).
    assert np.all(sum(np.abs(np.asarray(g)) for g in grad.values()) > 0)


@pytest.mark.parametrize("shape_log", [-1.5, -0.5, 0.0, 0.7, 1.5])
def test_weibull_cdf_gradient_is_finite_at_step_zero(shape_log):
    """0^shape has no finite derivative in shape: the first active lag (step 0, also the steps
    before the lag) is special-cased. Shapes far below and above 1."""
    comp = ADSTOCKS["weibull_cdf"]
    ctx = adstock_ctx(jnp)
    u = {"shape_log": jnp.full(N_CH, shape_log, jnp.float32), "scale_logit": jnp.asarray([-2.0, -0.5, 0.5, 2.0])}
    for lag in range(N_LAGS):
        g = jax.grad(lambda u: comp.weights(comp.derive(u, ctx, jnp), ctx, jnp)[lag, :].sum())(u)
        assert all(np.all(np.isfinite(np.asarray(v))) for v in g.values()), (lag, g)


# ---- saturation, every component ----------------------------------------------------------------

X = np.linspace(0.0, 6.0, 241)


def _grid(dtype=np.float64):
    return np.broadcast_to(X[:, None], (len(X), N_CH)).astype(dtype)


@pytest.mark.parametrize("name", sorted(SATURATIONS))
def test_saturation_is_zero_at_zero_and_increasing(name):
    comp = SATURATIONS[name]
    y = np.broadcast_to(saturation_curve(comp, random_sites(comp, (40, N_CH), seed=5, box=4.0,
                                                            dtype=np.float64), _grid()), (40, len(X), N_CH))
    assert np.all(np.isfinite(y))
    assert np.all(y[:, 0, :] == 0)
    assert np.all(y[:, 1:, :] > 0)
    assert np.all(np.diff(y, axis=1) >= -1e-12)
    # strictly increasing while not numerically flat
    assert np.all(np.diff(y[:, :5, :], axis=1) > 0)


def _curvature_signs(y, tol=1e-9):
    d2 = np.diff(y, n=2, axis=-2)
    return np.where(d2 > tol, 1, np.where(d2 < -tol, -1, 0))


@pytest.mark.parametrize("name", sorted(SATURATIONS))
def test_saturation_curvature_is_as_documented(name):
    assert set(SATURATION_SHAPES) == set(SATURATIONS), "give every saturation its documented shape"
    comp = SATURATIONS[name]
    u = random_sites(comp, (40, N_CH), seed=6, box=4.0, dtype=np.float64)
    signs = _curvature_signs(np.broadcast_to(saturation_curve(comp, u, _grid()), (40, len(X), N_CH)))
    shape = SATURATION_SHAPES[name]
    if shape == "linear":
        assert np.all(signs == 0)
    elif shape == "concave":
        assert np.all(signs <= 0)
    else:
        # S-shaped: convex then concave, one change of sign at most, never concave then convex.
        for d in range(signs.shape[0]):
            for c in range(N_CH):
                s = signs[d, :, c][signs[d, :, c] != 0]
                assert np.all(np.diff(s) <= 0), (d, c, s)
        if name == "hill":   # concave from zero when slope <= 1, S-shaped above
            slope, per_curve = comp.derive(u, np)["slope"], signs.transpose(0, 2, 1)    # (draw, channel, x)
            assert (slope <= 1).any() and (slope > 1.2).any()
            assert np.all(per_curve[slope <= 1] <= 0)
            assert np.all(per_curve[slope > 1.2].max(axis=-1) > 0)


@pytest.mark.parametrize("name", sorted(SATURATIONS))
@pytest.mark.parametrize("seed,box", [(7, None), (8, 4.0)])
def test_saturation_gradients_are_finite(name, seed, box):
    comp = SATURATIONS[name]
    x = jnp.asarray(_grid(np.float32))            # includes x = 0
    c = jnp.asarray(np.random.default_rng(seed).standard_normal(x.shape), jnp.float32)
    u = {k: jnp.asarray(v) for k, v in random_sites(comp, (N_CH,), seed=seed, box=box).items()}
    grad_u, grad_x = jax.grad(lambda u, x: jnp.sum(saturation_curve(comp, u, x, jnp) * c), argnums=(0, 1))(u, x)
    assert set(grad_u) == set(comp.sites)
    for site, g in grad_u.items():
        assert np.all(np.isfinite(np.asarray(g))), (name, site, g)
    assert np.all(np.isfinite(np.asarray(grad_x)))


@pytest.mark.parametrize("name", sorted(SATURATIONS))
def test_saturation_leading_draw_axes_numpy_and_jax_agree(name):
    comp = SATURATIONS[name]
    u = random_sites(comp, (2, 3, N_CH), seed=9)
    x = _grid(np.float32)
    batched = np.broadcast_to(saturation_curve(comp, u, x), (2, 3, len(X), N_CH))
    in_jax = np.asarray(saturation_curve(comp, {k: jnp.asarray(v) for k, v in u.items()}, jnp.asarray(x), jnp))
    assert np.broadcast_to(in_jax, batched.shape) == pytest.approx(batched, rel=1e-4, abs=1e-6)
    one = saturation_curve(comp, {k: v[1, 2] for k, v in u.items()}, x)
    assert one == pytest.approx(batched[1, 2], rel=1e-5, abs=1e-7)


# ---- closed forms -------------------------------------------------------------------------------

def test_geometric_weights_are_decay_powers_normalised():
    ctx = adstock_ctx()
    decay = np.array([0.2, 0.5, 0.7, 0.9], np.float32)
    w = ADSTOCKS["geometric"].weights({"decay": decay}, ctx, np)
    for c in range(N_CH):
        lags = np.arange(LAGS[c], TOPS[c])
        raw = decay[c] ** (lags - LAGS[c])
        assert w[lags, c] == pytest.approx(raw / raw.sum(), rel=1e-6)


def test_geometric_decay_stays_in_its_lookback_range():
    comp, ctx = ADSTOCKS["geometric"], adstock_ctx()
    decay = comp.derive({"decay_logit": np.array([[-30.0] * N_CH, [30.0] * N_CH], np.float32)}, ctx, np)["decay"]
    assert decay[0] == pytest.approx(ctx["decay_lo"]) and decay[1] == pytest.approx(ctx["decay_hi"])


@pytest.mark.parametrize("peak", [0.0, 0.4, 1.3, 2.6, 4.0, 6.8])
def test_delayed_weights_peak_at_the_parameter(peak):
    ctx = adstock_ctx(lags=np.array([0, 1]), tops=np.array([8, 8]))
    w = ADSTOCKS["delayed"].weights({"decay": np.array([0.5, 0.7], np.float32),
                                     "peak": np.array([peak, min(peak, 6.0)], np.float32)}, ctx, np)
    assert int(np.argmax(w[:, 0])) == round(peak)
    assert int(np.argmax(w[:, 1])) == 1 + round(min(peak, 6.0))       # counted from the lag


def test_delayed_peak_spans_the_active_lags():
    comp, ctx = ADSTOCKS["delayed"], adstock_ctx()
    u = {"decay_logit": np.zeros((2, N_CH), np.float32), "peak_logit": np.array([[-30.0] * N_CH, [30.0] * N_CH],
                                                                                np.float32)}
    peak = comp.derive(u, ctx, np)["peak"]
    assert peak[0] == pytest.approx(np.zeros(N_CH)) and peak[1] == pytest.approx(ctx["n_active"] - 1)


@pytest.mark.parametrize("scale", [0.5, 1.0, 2.5, 6.0])
def test_weibull_cdf_with_shape_one_is_geometric(scale):
    ctx = adstock_ctx()
    w = ADSTOCKS["weibull_cdf"].weights({"shape": np.ones(N_CH, np.float32), "scale": np.full(N_CH, scale, np.float32)},
                                        ctx, np)
    geo = ADSTOCKS["geometric"].weights({"decay": np.full(N_CH, np.exp(-1.0 / scale), np.float32)}, ctx, np)
    assert w == pytest.approx(geo, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("shape,scale", [(1.5, 3.0), (2.0, 3.0), (2.0, 5.0), (3.0, 4.0), (4.0, 6.5), (1.2, 7.0)])
def test_weibull_pdf_peaks_at_the_weibull_mode(shape, scale):
    ctx = adstock_ctx(lags=np.array([0]), tops=np.array([N_LAGS]))
    w = ADSTOCKS["weibull_pdf"].weights({"shape": np.array([shape], np.float32),
                                         "scale": np.array([scale], np.float32)}, ctx, np)[:, 0]
    mode = scale * ((shape - 1) / shape) ** (1 / shape)        # of the density, at l + 1
    assert int(np.argmax(w)) == max(round(mode - 1), 0)
    # and the weights are the density at l + 1, normalised
    t = np.arange(1, N_LAGS + 1)
    dens = (t / scale) ** (shape - 1) * np.exp(-(t / scale) ** shape)
    assert w == pytest.approx(dens / dens.sum(), rel=1e-4, abs=1e-7)


def test_hill_is_one_half_at_half_and_the_hill_function():
    comp = SATURATIONS["hill"]
    half, slope = np.array([0.3, 1.0, 2.0, 5.0]), np.array([0.7, 1.0, 1.6, 3.0])
    x = np.concatenate([half[None, :], _grid()])
    y = comp.apply(x, {"half": half, "slope": slope}, np)
    assert y[0] == pytest.approx(np.full(N_CH, 0.5))
    assert y[1:] == pytest.approx(X[:, None] ** slope / (X[:, None] ** slope + half ** slope), rel=1e-9, abs=1e-15)
    # and the sampled offset is slope * log(half)
    u = {"slope_log": np.log(slope), "offset": slope * np.log(half)}
    p = comp.derive(u, np)
    assert p["half"] == pytest.approx(half) and p["slope"] == pytest.approx(slope)


def test_michaelis_menten_is_one_half_at_half():
    comp = SATURATIONS["michaelis_menten"]
    half = np.array([0.3, 1.0, 2.0, 5.0])
    y = comp.apply(np.concatenate([half[None, :], _grid()]), {"half": half}, np)
    assert y[0] == pytest.approx(np.full(N_CH, 0.5))
    assert y[1:] == pytest.approx(X[:, None] / (X[:, None] + half), rel=1e-12)


def test_logistic_is_tanh_of_half_lam_x():
    comp = SATURATIONS["logistic"]
    lam = np.array([0.2, 1.0, 2.0, 7.0])
    y = comp.apply(_grid(), {"lam": lam}, np)
    assert y == pytest.approx(np.tanh(lam * X[:, None] / 2), rel=1e-12)
    # the docstring's other form
    e = np.exp(-lam * X[:, None])
    assert y == pytest.approx((1 - e) / (1 + e), rel=1e-9, abs=1e-15)


def test_no_saturation_is_the_identity():
    comp = SATURATIONS["none"]
    assert comp.sites == () and comp.knobs == {} and comp.derive({}, np) == {}
    x = _grid()
    assert np.array_equal(comp.apply(x, {}, np), x)


# ---- knobs, sites, params -----------------------------------------------------------------------

class Recording(dict):
    """A dict that remembers which keys were read."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)


@pytest.mark.parametrize("role,name", [("adstock", n) for n in sorted(ADSTOCKS)]
                         + [("saturation", n) for n in sorted(SATURATIONS)])
def test_knobs_are_exactly_the_priors_the_sites_use(role, name):
    comp = (ADSTOCKS if role == "adstock" else SATURATIONS)[name]
    knobs = Recording(default_knobs(comp))
    start = comp.start(knobs)
    assert knobs.read == set(comp.knobs), f"{name}: knobs {sorted(comp.knobs)}, start reads {sorted(knobs.read)}"
    assert list(start) == list(comp.sites)
    knobs, u = Recording(default_knobs(comp)), {}
    for site in comp.sites:
        loc, sd = comp.site_prior(site, u, knobs, np)
        assert np.all(np.asarray(sd) > 0)
        u[site] = np.full(N_CH, loc, np.float32)
    assert knobs.read == set(comp.knobs)
    # derive reads every site and returns exactly the declared parameters
    sites = Recording({k: np.broadcast_to(v, (N_CH,)) for k, v in u.items()})
    p = comp.derive(sites, adstock_ctx(), np) if role == "adstock" else comp.derive(sites, np)
    assert sites.read == set(comp.sites)
    assert set(p) == set(comp.params)


# ---- the spec refuses what no component offers ---------------------------------------------------

def _spec(adstock=None, saturation=None) -> dict:
    tv = {"name": "tv", "spend": "tv_spend"}
    if adstock is not None:
        tv["adstock"] = adstock
    if saturation is not None:
        tv["saturation"] = saturation
    return {"name": "m", "data": "d", "conversion": "revenue", "touchpoints": [tv, {"name": "search"}]}


@pytest.mark.parametrize("raw,where", [
    (_spec(adstock="exponential"), "touchpoints[tv].adstock.kind"),
    (_spec(adstock={"kind": "hill"}), "touchpoints[tv].adstock.kind"),
    (_spec(saturation="tanh"), "touchpoints[tv].saturation.kind"),
    (_spec(saturation={"kind": "geometric"}), "touchpoints[tv].saturation.kind"),
])
def test_spec_refuses_unknown_kinds_naming_the_touchpoint(raw, where):
    with pytest.raises(SpecError) as err:
        ModelSpec.from_dict(raw)
    message = str(err.value)
    assert message.startswith(where), message
    table = ADSTOCKS if ".adstock." in where else SATURATIONS
    assert all(k in message for k in table), message      # lists what is available


def test_spec_refuses_a_kind_that_is_not_text():
    with pytest.raises(SpecError, match=r"touchpoints\[tv\]\.adstock\.kind: 3 must be text"):
        ModelSpec.from_dict(_spec(adstock={"kind": 3}))


@pytest.mark.parametrize("role,name", [("adstock", n) for n in sorted(ADSTOCKS)]
                         + [("saturation", n) for n in sorted(SATURATIONS)])
def test_spec_knobs_unknown_refused_known_accepted(role, name):
    comp = (ADSTOCKS if role == "adstock" else SATURATIONS)[name]
    other = "decay_logit" if "decay_logit" not in comp.knobs else "lam_log"   # another component's knob
    with pytest.raises(SpecError) as err:
        ModelSpec.from_dict(_spec(**{role: {"kind": name, "priors": {other: [0.0, 1.0]}}}))
    message = str(err.value)
    assert message.startswith(f"touchpoints[tv].{role}.priors.{other}: {name} has no prior"), message
    assert str(sorted(comp.knobs)) in message
    if comp.knobs:
        priors = {k: [round(m + 0.1, 3), round(s * 2, 3)] for k, (m, s) in comp.knobs.items()}
        spec = ModelSpec.from_dict(_spec(**{role: {"kind": name, "priors": priors}}))
        part = getattr(spec.touchpoints[0], role)
        assert part.kind == name and part.prior_overrides() == {k: tuple(v) for k, v in priors.items()}
        assert ModelSpec.from_yaml(spec.to_yaml()) == spec
        knob = next(iter(comp.knobs))
        with pytest.raises(SpecError, match=rf"touchpoints\[tv\]\.{role}\.priors\.{knob}: sd -1 must be > 0"):
            ModelSpec.from_dict(_spec(**{role: {"kind": name, "priors": {knob: [0.0, -1]}}}))


# ---- one fit: a non-default world, generated without the component code ---------------------------

WEEKS, LOOKBACK = 156, 8


def _weibull_pdf_weights(shape, scale, n):
    t = np.arange(1, n + 1, dtype=float)
    w = (shape / scale) * (t / scale) ** (shape - 1) * np.exp(-(t / scale) ** shape)
    return w / w.sum()


def _delayed_weights(decay, peak, n):
    w = decay ** ((np.arange(n) - peak) ** 2)
    return w / w.sum()


def _geometric_weights(decay, n):
    w = decay ** np.arange(n)
    return w / w.sum()


def _convolve(spend, w):
    """out[t] = sum_l w[l] * spend[t - l] (no spend before the series)."""
    return np.array([sum(w[l] * spend[t - l] for l in range(len(w)) if t - l >= 0) for t in range(len(spend))])


def simulate_non_default_world(seed=11):
    rng = np.random.default_rng(seed)
    t = np.arange(WEEKS)
    # A: always on; B: flighted (4-8 weeks on, 3-6 off); C: bursty (a third of the weeks).
    a = 30_000 * rng.lognormal(0.0, 0.35, WEEKS)
    on, i = np.zeros(WEEKS, bool), 0
    while i < WEEKS:
        run = int(rng.integers(4, 9))
        on[i:i + run] = True
        i += run + int(rng.integers(3, 7))
    b = np.where(on, 45_000 * rng.lognormal(0.0, 0.25, WEEKS), 0.0)
    c = np.where(rng.random(WEEKS) < 0.35, 25_000 * rng.lognormal(0.0, 0.4, WEEKS), 0.0)
    truth = {
        # weibull_pdf (shape 2.2, scale 3.5: peak ~2 weeks after spend) + logistic (tanh(lam x / 2))
        "A": 160_000 * np.tanh(0.5 * 1.1 * _convolve(a, _weibull_pdf_weights(2.2, 3.5, LOOKBACK)) / 30_000),
        # delayed (decay 0.5, peak 2 weeks) + Michaelis-Menten (half = 40k of adstocked spend)
        "B": 110_000 * (lambda x: x / (x + 40_000))(_convolve(b, _delayed_weights(0.5, 2.0, LOOKBACK))),
        # geometric (decay 0.4) + none: 3.5 revenue per adstocked unit of spend
        "C": 3.5 * _convolve(c, _geometric_weights(0.4, LOOKBACK)),
    }
    base = 420_000 + 40_000 * t / WEEKS + 30_000 * np.sin(2 * np.pi * t / 52.1775) \
        + 15_000 * np.cos(2 * np.pi * t / 52.1775)
    revenue = base + sum(truth.values()) + rng.normal(0.0, 6_000, WEEKS)
    frame = pd.DataFrame({"date": pd.date_range("2022-01-03", periods=WEEKS, freq="7D"), "A": a, "B": b, "C": c,
                          "revenue": revenue})
    shares = {ch: float(v.sum() / revenue.sum()) for ch, v in truth.items()}
    return frame, shares


def test_fit_recovers_shares_of_a_non_default_world(tmp_path):
    frame, true_shares = simulate_non_default_world()
    csv = tmp_path / "world.csv"
    frame.to_csv(csv, index=False)
    spec = case_spec("components", "components", ["A", "B", "C"], seasonality_order=1, lookback_weeks=LOOKBACK)
    spec = ModelSpec.from_dict({**spec.to_dict(), "sampler": TEST_SAMPLER, "touchpoints": [
        {"name": "A", "spend": "A", "adstock": "weibull_pdf", "saturation": "logistic"},
        {"name": "B", "spend": "B", "adstock": "delayed", "saturation": "michaelis_menten"},
        {"name": "C", "spend": "C", "adstock": "geometric", "saturation": "none"}]})
    started = time.perf_counter()
    ws, result = fit_case(tmp_path / "ws", csv, spec)
    seconds = time.perf_counter() - started

    from mediamix.insights.metrics import channel_table
    from mediamix.model.predict import component_draws
    fitted = ws.fitted(spec.name)
    # the posterior carries the named components' parameters
    assert {"shape", "scale", "peak", "decay", "lam", "half"} <= set(fitted.idata.posterior.data_vars)
    _, data = ws._national(fitted.spec)
    table = channel_table(fitted, component_draws(fitted, data)).set_index("channel")
    errors = {ch: 100 * (table.loc[ch, "share_mean"] - true_shares[ch]) for ch in true_shares}
    print(f"\nnon-default world fit {seconds:.1f}s, status {result.status}; share (truth / fit / error pp): "
          + ", ".join(f"{ch} {100 * true_shares[ch]:.2f} / {100 * table.loc[ch, 'share_mean']:.2f} / {e:+.2f}"
                      for ch, e in errors.items()))
    assert all(abs(e) <= 3.0 for e in errors.values()), errors


def test_a_parameterless_saturation_mixes_with_others_over_draws():
    """saturation: none beside hill: per-draw curves over a grid keep one shape (response curves)."""
    import pandas as pd
    from mediamix.data.simulate import demo_data_dir
    from mediamix.model.design import build_design
    from mediamix.model.fit import spend_in_fit
    from mediamix.model.mmm import ModelStatics, saturate, split_params
    from mediamix.model.priors import share_priors
    from mediamix.model.spec import ModelSpec
    frame = pd.read_csv(demo_data_dir() / "demo_weekly.csv", parse_dates=["date"])
    spec = ModelSpec.from_dict({"name": "m", "data": "demo", "conversion": "revenue",
                                "touchpoints": [{"name": "tv", "spend": "tv_spend", "saturation": "none"},
                                                {"name": "search", "spend": "search_spend"}]})
    design = build_design(frame, spec)
    st = ModelStatics(spec, design, share_priors(spec, spend_in_fit(design), float(design.y.sum()))).to_numpy()
    draws = {"decay": np.full((5, 2), 0.3), "half": np.full((5, 2), np.nan), "slope": np.full((5, 2), np.nan)}
    draws["half"][:, 1], draws["slope"][:, 1] = 1.0, 1.0
    x = np.linspace(0.0, 2.0, 7)[:, None].repeat(2, axis=1)
    out = saturate(st, split_params(st, draws), x, xp=np)
    assert out.shape == (5, 7, 2)
    assert out[:, :, 0] == pytest.approx(np.broadcast_to(x[:, 0], (5, 7)))        # linear
    assert out[:, :, 1] == pytest.approx(np.broadcast_to(x[:, 1] / (x[:, 1] + 1.0), (5, 7)))   # hill, slope 1


@pytest.mark.parametrize("bad", [[float("nan"), 1.0], [0.0, float("inf")]])
def test_prior_overrides_must_be_finite(bad):
    from mediamix.errors import SpecError
    from mediamix.model.spec import ModelSpec
    with pytest.raises(SpecError, match=r"touchpoints\[tv\]\.saturation\.priors\.half_log: .* two finite numbers"):
        ModelSpec.from_dict({"name": "m", "data": "d", "conversion": "y", "touchpoints": [
            {"name": "tv", "spend": "tv", "saturation": {"kind": "hill", "priors": {"half_log": bad}}}]})
