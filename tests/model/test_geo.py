"""The geo-level hierarchical model: one geo is the national model exactly, several geos are
the national equations per geo with partially pooled shares and intercepts, the two density
views agree, bad input is named, and (slow) a fit recovers simulated geo shares."""
from dataclasses import replace

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from numpyro.infer.util import potential_energy

from mediamix.data.simulate import demo_data_dir
from mediamix.data.simulate_geo import DEFAULT_CHANNELS, GeoSimulationSpec, simulate_geo
from mediamix.errors import DataError, MediamixError, SpecError
from mediamix.model.design import NATIONAL, build_design
from mediamix.model.fit import fit_nuts, laplace_start, spend_in_fit
from mediamix.model.mmm import (ModelStatics, derived, geo_params, log_density, media_response, mmm_model, pack,
                                predicted_mean, predicted_mean_geo, prior_centre, site_shapes, split_params, unpack,
                                window_total)
from mediamix.model.posterior import FittedModel
from mediamix.model.predict import component_draws
from mediamix.model.priors import share_priors
from mediamix.model.spec import ModelSpec
from tests.fitting import RELAXED, TEST_SAMPLER, geo_model_spec

HIERARCHY_SITES = {"share_tau_log", "share_eps", "intercept_mu", "intercept_tau_log"}


def statics_of(spec, design):
    total = float(np.nansum(design.y[design.in_fit]))
    return ModelStatics(spec, design, share_priors(spec, spend_in_fit(design), total))


def points(statics, n=3, seed=0, spread=0.3):
    z0 = pack(statics, prior_centre(statics))
    rng = np.random.default_rng(seed)
    return [jnp.asarray(z0 + spread * rng.standard_normal(z0.shape).astype(np.float32)) for _ in range(n)]


# ---- one geo is the national model ------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_one_geo():
    """The demo data as a national frame and as geo-level data with a single geo."""
    frame = pd.read_csv(demo_data_dir() / "demo_weekly.csv", parse_dates=["date"])
    spec = ModelSpec.from_yaml((demo_data_dir() / "demo_model.yaml").read_text())
    geo_frame = frame.assign(geo="only")[["date", "geo"] + [c for c in frame.columns if c != "date"]]
    return frame, spec, geo_frame, spec.replace(geos="hierarchical")


def test_one_geo_gives_the_national_numbers_exactly(demo_one_geo):
    frame, spec, geo_frame, geo_spec = demo_one_geo
    national, one_geo = build_design(frame, spec), build_design(geo_frame, geo_spec)
    assert national.geos == [NATIONAL] and one_geo.geos == ["only"]
    for name in ("media_stack", "factors", "y_scaled", "unit", "spend", "y", "trend", "fourier"):
        assert np.array_equal(getattr(national, name), getattr(one_geo, name)), name
    # The single series' own scaling, computed here independently of the code.
    fit = frame.sort_values("date")[national.in_fit]
    assert national.scaling.y_scale == pytest.approx(fit["revenue"].abs().mean(), rel=1e-12)
    assert national.scaling.y_scales().tolist() == [national.scaling.y_scale]
    a, b = statics_of(spec, national), statics_of(geo_spec, one_geo)
    assert site_shapes(a) == site_shapes(b) and not HIERARCHY_SITES & set(site_shapes(a))
    for z in points(a):
        assert float(log_density(a, z)) == float(log_density(b, z))
        pa, pb = derived(a, unpack(a, z)), derived(b, unpack(b, z))
        assert pa["beta"].shape == (len(spec.touchpoints),) and pa["intercept"].shape == ()
        for name in pa:
            assert np.array_equal(np.asarray(pa[name]), np.asarray(pb[name]), equal_nan=True), name


# ---- several geos: the national equations per geo ---------------------------------------------

GEO_CHANNELS = tuple(replace(c, idle_geos=("geo_06",)) if c.name == "display" else c for c in DEFAULT_CHANNELS)


def geo_spec(channels=GEO_CHANNELS, **kw):
    return geo_model_spec(channels, **kw)


@pytest.fixture(scope="module")
def small_geo():
    sim = simulate_geo(GeoSimulationSpec(weeks=60, geo_sizes=(2.0, 1.0, 0.5), channels=DEFAULT_CHANNELS[:3],
                                         seed=5))
    spec = geo_spec(DEFAULT_CHANNELS[:3], lookback_weeks=6)
    return sim, spec, build_design(sim.frame, spec)


def test_each_geo_is_scaled_by_its_own_means(small_geo):
    sim, spec, d = small_geo
    assert d.geos == ["geo_01", "geo_02", "geo_03"] and d.media_stack.shape == (6, 60, 3, 3)
    for g, geo in enumerate(d.geos):
        rows = sim.frame[sim.frame["geo"] == geo]
        assert d.scaling.y_scales()[g] == pytest.approx(rows["revenue"].mean(), rel=1e-12)
        active = rows["tv_spend"][rows["tv_spend"] > 0]
        assert d.scaling.spend_scales(d.channels)[g, 0] == pytest.approx(active.mean(), rel=1e-12)
        assert d.y_scaled[:, g].mean() == pytest.approx(1.0, rel=1e-9)
    # National views sum the geos.
    assert np.allclose(d.y, sim.frame.groupby("date")["revenue"].sum().to_numpy())
    assert d.scaling.y_scale == pytest.approx(sim.frame.groupby("date")["revenue"].sum().mean(), rel=1e-12)


def test_geo_equations_are_the_national_ones_per_geo(small_geo):
    sim, spec, d = small_geo
    st = statics_of(spec, d).to_numpy()
    assert {"share_tau_log", "share_eps", "intercept_mu", "intercept_tau_log"} <= set(site_shapes(st))
    assert site_shapes(st)["share_eps"] == 9 and site_shapes(st)["level"] == 3
    z = np.asarray(points(st, n=1, seed=2)[0])
    u = unpack(st, z)
    p = derived(st, u, xp=np, with_saturation=True)
    # share_gc = sigmoid(logit_c + tau_c eps_gc); beta makes each share exact over the window.
    eps = u["share_eps"].reshape(3, 3)
    share = 1 / (1 + np.exp(-(u["share_logit"][None] + np.exp(u["share_tau_log"])[None] * eps)))
    assert p["share"] == pytest.approx(share, rel=1e-5)
    contribution = window_total(st, p["_sat"] * p["beta"][None], np)
    assert contribution == pytest.approx(share * st.y_fit_total[:, None], rel=1e-4)
    mu = predicted_mean_geo(st, p, p["_sat"], np)
    assert mu[d.in_fit].mean(axis=0) == pytest.approx(u["level"], rel=1e-5)
    # Geo g's prediction is the national model's on geo g alone with that geo's parameters
    # (the factor is national, so its pooled scaling is the single geo's too).
    for g, geo in enumerate(d.geos):
        alone = sim.frame[sim.frame["geo"] == geo].drop(columns="geo")
        nd = build_design(alone, spec.replace(geos="national"))
        assert np.allclose(nd.media_stack[:, :, 0], d.media_stack[:, :, g]) and np.allclose(nd.factors[:, 0], d.factors[:, g])
        nst = statics_of(spec.replace(geos="national"), nd).to_numpy()
        pg = {**p, "beta": p["beta"][g], "intercept": p["intercept"][g]}
        sat = media_response(nst, split_params(nst, p), xp=np)
        assert predicted_mean(nst, pg, sat, np) == pytest.approx(mu[:, g], rel=1e-5)


def test_geo_density_is_the_numpyro_model(small_geo):
    _, spec, d = small_geo
    st = statics_of(spec, d)
    diffs = [float(log_density(st, z)) + float(potential_energy(mmm_model, (st,), {}, unpack(st, z)))
             for z in points(st, n=2, seed=1)]
    assert np.ptp(diffs) < 1e-3 * max(1.0, abs(np.mean(diffs)))


def test_a_channel_that_never_ran_in_a_geo_has_no_share_there():
    channels = tuple(replace(c, idle_geos=("geo_03",)) if c.name == "display" else c for c in DEFAULT_CHANNELS)
    sim = simulate_geo(GeoSimulationSpec(weeks=60, geo_sizes=(1.0, 0.6, 0.4), channels=channels, seed=2))
    spec = geo_spec(channels, lookback_weeks=6)
    d = build_design(sim.frame, spec)
    assert any("no spend in geo(s) ['geo_03']" in n for n in d.notices)
    st = statics_of(spec, d).to_numpy()
    p = derived(st, unpack(st, np.asarray(points(st, n=1)[0])), xp=np)
    assert p["share"][2, 3] == 0 and p["beta"][2, 3] == 0 and p["share"][:2, 3].min() > 0
    mode, chol = laplace_start(st)
    assert np.all(np.isfinite(mode)) and np.all(np.isfinite(chol))


def test_population_scales_per_capita_over_all_geos(small_geo):
    sim, spec, _ = small_geo
    frame = sim.frame.copy()
    frame["population"] = frame["population"] * (1 + 0.002 * (frame["date"] - frame["date"].min()).dt.days / 7)
    d = build_design(frame, spec.replace(population="population"))
    per_capita = frame["revenue"] / frame["population"]
    assert d.scaling.y_scales() == pytest.approx([per_capita.mean()] * 3, rel=1e-12)
    pop = frame.pivot(index="date", columns="geo", values="population").to_numpy()
    assert d.unit == pytest.approx(per_capita.mean() * pop, rel=1e-12)
    assert d.y_scaled * d.unit == pytest.approx(d.y_geo, rel=1e-12)
    # Geos differ per capita: the largest geo sits above 1, the mean over geos and weeks is 1.
    assert d.y_scaled.mean() == pytest.approx(1.0, rel=1e-9)


# ---- bad input --------------------------------------------------------------------------------

def test_hierarchical_needs_a_geo_column(demo_one_geo):
    frame, spec, _, geo_model = demo_one_geo
    with pytest.raises(MediamixError, match="geos: hierarchical needs data with a geo column.*set geos: national"):
        build_design(frame, geo_model)
    with pytest.raises(DataError, match="geo column but the model is national.*SummaryData.national"):
        build_design(demo_one_geo[2], spec)
    with pytest.raises(SpecError, match="population: 'pop' scales each geo per capita, which needs geos: hierarchical"):
        spec.replace(population="pop")
    with pytest.raises(SpecError, match="geos: 'regional' must be 'national'"):
        spec.replace(geos="regional")


def test_gaps_and_unknown_geos_are_named(small_geo):
    sim, spec, d = small_geo
    gap = sim.frame.drop(index=sim.frame.index[(sim.frame["geo"] == "geo_02")][5:7])
    with pytest.raises(DataError, match="geo 'geo_02' has no row for 2 of the 60 dates"):
        build_design(gap, spec)
    extra = pd.concat([sim.frame, sim.frame[sim.frame["geo"] == "geo_03"].assign(geo="geo_04")])
    with pytest.raises(DataError, match=r"geo\(s\) \['geo_04'\] are not in the trained model"):
        build_design(extra, spec, scaling=d.scaling)
    with pytest.raises(DataError, match="population: column 'pop' is not in the data"):
        build_design(sim.frame, spec.replace(population="pop"))


# ---- recovery ---------------------------------------------------------------------------------

# Tolerances, measured on simulator seeds 1, 2, 3 and 11 with this setting (104 weeks, 6 geos of
# sizes 3..0.4, 4 channels, geo share logits sd 0.3 around the channel's): national shares
# within 2.5 pp of the truth (always-on channels a little high: they trade against the
# intercept), per-geo mean absolute error 0.6-1.1 pp, worst single geo and channel 2.5-3.3 pp,
# 0-1 divergences.
NATIONAL_PP, GEO_MAE_PP, GEO_MAX_PP = 3.0, 1.6, 4.5


@pytest.mark.slow
def test_fit_recovers_national_and_geo_shares():
    sim = simulate_geo(GeoSimulationSpec(weeks=104, channels=GEO_CHANNELS, seed=11))
    spec = geo_spec()
    d = build_design(sim.frame, spec)
    out = fit_nuts(spec, d, progress=False)
    post = out.idata.posterior
    assert post["share"].dims == ("chain", "draw", "geo", "channel")
    assert post["intercept"].dims == ("chain", "draw", "geo") and list(post["geo"].values) == d.geos
    assert int(out.idata.sample_stats["diverging"].sum()) <= RELAXED.max_divergences
    fitted = FittedModel(spec=spec, scaling=d.scaling, priors=out.priors, idata=out.idata, diagnostics={})
    cd = component_draws(fitted, sim.frame, per_geo=True)
    assert cd.media_geo.sum(axis=2) == pytest.approx(cd.media, rel=1e-5, abs=1e-3)
    win = d.in_training
    truth = sim.truth["channels"]
    national = cd.media[:, win].sum(axis=1).mean(axis=0) / np.nansum(d.y[win])
    for j, ch in enumerate(d.channels):
        assert 100 * abs(national[j] - truth[ch]["share"]) < NATIONAL_PP, ch
    geo_share = (cd.media_geo[:, win].sum(axis=1) / np.nansum(d.y_geo[win], axis=0)[None, :, None]).mean(axis=0)
    expected = np.array([[truth[ch]["geo_shares"][g] for ch in d.channels] for g in d.geos])
    errors = 100 * np.abs(geo_share - expected)
    assert errors.mean() < GEO_MAE_PP and errors.max() < GEO_MAX_PP
    assert geo_share[d.geos.index("geo_06"), d.channels.index("display")] == 0
    # Per-geo parameters come back through geo_params for any draw.
    beta, intercept = geo_params(out.statics, {k: post[k].to_numpy()[0, 0] for k in ("beta", "intercept")})
    assert beta.shape == (6, 4) and intercept.shape == (6,)


# ---- a public geo data set with a known truth -------------------------------------------------

# PyMC-Marketing's mmm_multidimensional_example.csv (2 geos x 159 weeks; truth derived in
# tests/public_truth.py): media are ~1/5 of the noise there (true shares 1.4-3.7%), so the data
# move the prior (x1 median 18%, x2 12%) only part of the way. Measured over sampler seeds
# 1, 2, 3: posterior means x1 9.1-9.4% (geo_a) and 10.1-10.4% (geo_b), x2 2.4-2.8%, i.e.
# errors of 6.6-7.0 pp (x1) and <= 1.2 pp (x2); every truth inside its 90% interval, but x1's
# 5th percentile in geo_a (1.8-2.1%) is within 0.7 pp of the truth (2.4%), so only the upper
# end is asserted.
PUBLIC_ERROR_PP = 10.0


@pytest.mark.slow
def test_public_two_geo_example_shares(shared_data):
    from tests.public_truth import multidimensional_example

    frame, truth = multidimensional_example(shared_data / "pymc-marketing")
    spec = ModelSpec.from_dict({
        "name": "multi", "data": "multi", "conversion": "y", "geos": "hierarchical",
        "touchpoints": [{"name": "x1", "spend": "x1"}, {"name": "x2", "spend": "x2"}],
        "factors": [{"column": "event_1"}, {"column": "event_2"}], "seasonality_order": 2, "holdout_weeks": 0,
        "sampler": TEST_SAMPLER, "thresholds": RELAXED})
    d = build_design(frame, spec)
    out = fit_nuts(spec, d, progress=False)
    fitted = FittedModel(spec=spec, scaling=d.scaling, priors=out.priors, idata=out.idata, diagnostics={})
    cd = component_draws(fitted, frame, per_geo=True)
    share = cd.media_geo.sum(axis=1) / np.nansum(d.y_geo, axis=0)[None, :, None]      # (sample, geo, channel)
    expected = np.array([[truth["share"][g][c] for c in d.channels] for g in d.geos])
    assert 100 * np.abs(share.mean(axis=0) - expected).max() < PUBLIC_ERROR_PP
    assert (expected <= np.quantile(share, 0.95, axis=0)).all()
    assert (share.mean(axis=0)[:, 0] > share.mean(axis=0)[:, 1]).all()     # x1 above x2 in both geos, as in the truth
