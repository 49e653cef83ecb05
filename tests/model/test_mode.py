"""The posterior mode and its Jacobians (model/mode.py): JAX forward mode with the geos' share
deviations compressed agrees with central differences, column for column, with and without
a lift test (which ties the geos together and turns the compression off), and both Jacobian
sources give the same Laplace start."""
import numpy as np
import pytest

from mediamix.data.simulate_geo import DEFAULT_CHANNELS, GeoSimulationSpec, simulate_geo
from mediamix.model import mode
from mediamix.model.design import build_design
from mediamix.model.fit import spend_in_fit
from mediamix.model.mmm import ModelStatics, num_params, pack, prior_centre
from mediamix.model.priors import share_priors
from mediamix.model.spec import ModelSpec

CHANNELS = DEFAULT_CHANNELS[:3]


@pytest.fixture(scope="module")
def geo_world():
    sim = simulate_geo(GeoSimulationSpec(weeks=80, geo_sizes=(2.0, 1.0, 0.5, 1.5), channels=CHANNELS, seed=8))
    return sim


def statics_for(sim, **extra):
    spec = ModelSpec.from_dict({
        "name": "geo", "data": "sim", "conversion": "revenue", "geos": "hierarchical",
        "touchpoints": [{"name": c.name, "spend": f"{c.name}_spend"} for c in CHANNELS],
        "factors": [{"column": "holiday", "impact": "positive"}], "seasonality_order": 1, "holdout_weeks": 8,
        **extra})
    design = build_design(sim.frame, spec)
    total = float(np.nansum(design.y[design.in_fit]))
    return ModelStatics(spec, design, share_priors(spec, spend_in_fit(design), total))


def jacobians(statics, seed=0):
    st = statics.to_numpy()
    D = num_params(st)
    free = np.array([i for i in range(D) if i != mode.site_offset(st, "sigma_log")])
    z = pack(st, prior_centre(st)).astype(np.float64) + 0.2 * np.random.default_rng(seed).standard_normal(D)
    return mode.forward_jacobian(statics, z, 0.05, free), mode.difference_jacobian(st, z, 0.05, free)


def test_compressed_forward_jacobian_matches_differences(geo_world):
    statics = statics_for(geo_world)
    assert statics.n_geos == 4
    forward, differences = jacobians(statics)
    assert forward.shape == differences.shape
    # float32 forward mode against float64 differences with h = 1e-4 (error ~h^2 x third derivative)
    scale = np.abs(differences).max()
    assert np.abs(forward - differences).max() < 2e-4 * scale
    # the compression must not put a geo's derivative on another geo's rows: exact zeros stay zero
    st = statics.to_numpy()
    eps = mode.site_offset(st, "share_eps")
    assert eps < mode.site_offset(st, "sigma_log")          # so eps keeps its index among the free columns
    rows = np.shape(st.y_scaled)[0] * 4                      # data rows, (time, geo) flattened
    geo_of_row = np.arange(rows) % 4
    for g in range(4):
        column = forward[:rows, eps + g * len(CHANNELS)]     # eps (g, first channel)
        assert np.all(column[geo_of_row != g] == 0) and np.any(column[geo_of_row == g] != 0), g


def test_a_lift_test_turns_the_compression_off_and_stays_exact(geo_world):
    dates = sorted(geo_world.frame["date"].unique())
    start, end = str(dates[30])[:10], str(dates[33])[:10]
    lift = [{"touchpoint": CHANNELS[0].name, "start": start, "end": end, "incremental": 1000.0,
             "standard_error": 200.0}]
    forward, differences = jacobians(statics_for(geo_world, lift_tests=lift))
    assert np.abs(forward - differences).max() < 2e-4 * np.abs(differences).max()


def test_both_jacobian_sources_give_the_same_start(geo_world, monkeypatch):
    statics = statics_for(geo_world)
    by_differences = mode.laplace_start(statics)
    monkeypatch.setattr(mode, "FORWARD_MODE_CELLS", 0)       # force forward mode at this size
    by_forward = mode.laplace_start(statics)
    sd = np.sqrt(np.diag(by_differences[1].astype(np.float64) @ by_differences[1].T.astype(np.float64)))
    # the modes agree to a small fraction of a posterior sd; the covariances to a few percent
    assert np.max(np.abs(by_forward[0] - by_differences[0]) / sd) < 0.05
    sd_forward = np.sqrt(np.diag(by_forward[1].astype(np.float64) @ by_forward[1].T.astype(np.float64)))
    assert np.max(np.abs(sd_forward / sd - 1)) < 0.05
