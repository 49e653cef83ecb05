"""The fast sampler's pieces: one density (hand-written and NumPyro views agree), the exact
level/intercept reparameterisation, NumPy and JAX equations agree, the Laplace start is the
mode, chunking, and (slow) a short real fit with everything scoring needs."""
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from numpyro.infer import Predictive
from numpyro.infer.util import potential_energy

from mediamix.data.simulate import demo_data_dir
from mediamix.model import fit as fit_module
from mediamix.model.design import build_design
from mediamix.model.fit import chunk_size, fit_nuts, laplace_start, spend_in_fit
from mediamix.model.mmm import (INTERCEPT_LOC, INTERCEPT_SD, ModelStatics, components, derived, log_density,
                                mmm_model, pack, param_names, predicted_mean, prior_centre, prior_residuals,
                                site_shapes, unpack)
from mediamix.model.priors import share_priors
from mediamix.model.spec import ModelSpec


def demo_spec(**sampler) -> ModelSpec:
    spec = ModelSpec.from_yaml((demo_data_dir() / "demo_model.yaml").read_text())
    return spec.replace(sampler=spec.sampler.__class__(**{**spec.sampler.__dict__, **sampler})) if sampler else spec


@pytest.fixture(scope="module")
def demo():
    frame = pd.read_csv(demo_data_dir() / "demo_weekly.csv", parse_dates=["date"])
    spec = demo_spec()
    design = build_design(frame, spec)
    total = float(np.nansum(design.y[design.in_fit]))
    statics = ModelStatics(spec, design, share_priors(spec, spend_in_fit(design), total))
    return spec, design, statics


def random_points(statics, n=4, seed=0):
    z0 = pack(statics, prior_centre(statics))
    rng = np.random.default_rng(seed)
    return [jnp.asarray(z0 + 0.3 * rng.standard_normal(z0.shape).astype(np.float32)) for _ in range(n)]


def test_hand_written_density_is_the_numpyro_model(demo):
    _, _, statics = demo
    diffs = []
    for z in random_points(statics):
        ours = float(log_density(statics, z))
        numpyro_pe = float(potential_energy(mmm_model, (statics,), {}, unpack(statics, z)))
        diffs.append(ours + numpyro_pe)              # equal up to the constant we drop
    assert np.ptp(diffs) < 1e-3 * max(1.0, abs(np.mean(diffs)))


def test_level_is_the_fit_window_mean_of_the_model(demo):
    _, design, statics = demo
    z = random_points(statics, n=1, seed=3)[0]
    u = unpack(statics, z)
    p = derived(statics, u, with_saturation=True)
    mu = np.asarray(predicted_mean(statics, p, p["_sat"]))
    assert mu[design.in_fit].mean() == pytest.approx(float(u["level"]), rel=1e-5)


def test_predicted_mean_is_the_sum_of_components(demo):
    _, _, statics = demo
    z = random_points(statics, n=1, seed=4)[0]
    p = derived(statics, unpack(statics, z), with_saturation=True)
    comp = components(statics, p)
    total = comp["base"] + comp["factor"].sum(axis=1) + comp["media"].sum(axis=1)
    assert np.asarray(predicted_mean(statics, p, p["_sat"])) == pytest.approx(np.asarray(total), rel=1e-5)


def test_numpy_equations_match_jax_for_a_batch_of_draws(demo):
    _, _, statics = demo
    Z = np.stack([np.asarray(z) for z in random_points(statics, n=3, seed=5)])
    in_numpy = derived(statics.to_numpy(), unpack(statics, Z), xp=np)
    for i in range(3):
        in_jax = derived(statics, unpack(statics, jnp.asarray(Z[i])))
        for name in param_names(statics):
            assert np.asarray(in_numpy[name][i]) == pytest.approx(np.asarray(in_jax[name]), rel=2e-4, abs=1e-6), name


def test_prior_predictive_intercept_follows_its_prior(demo):
    _, _, statics = demo
    draws = Predictive(mmm_model, num_samples=4000)(jax.random.PRNGKey(0), statics)
    intercept = np.asarray(draws["intercept"])
    assert intercept.mean() == pytest.approx(INTERCEPT_LOC, abs=0.03)
    assert intercept.std() == pytest.approx(INTERCEPT_SD, rel=0.05)


def test_laplace_start_is_the_mode(demo):
    _, _, statics = demo
    mode, chol = laplace_start(statics)
    # The start leaves out the priors' log-sd terms (Hill's offset has an sd that grows with the slope).

    def objective(z):
        u = unpack(statics, z)
        return log_density(statics, z) + prior_residuals(statics, u, derived(statics, u))[1]

    grad = np.asarray(jax.grad(objective)(jnp.asarray(mode)))
    scale = np.sqrt(np.diag(chol @ chol.T))
    # The gradient in posterior-sd units is ~0 at the mode (float32 round-off aside).
    assert np.max(np.abs(grad * scale)) < 0.05
    assert np.all(np.diag(chol) > 0)


def test_chunks_cover_the_iterations_with_little_overrun():
    for total in (1, 7, 99, 100, 101, 600, 2000, 2001, 4003):
        c = chunk_size(total)
        n = -(-total // c)
        assert n * c >= total and n * c - total < n and c <= 100 + n


def test_compile_cache_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("MEDIAMIX_COMPILE_CACHE", "off")
    assert fit_module.compile_cache_dir() is None
    monkeypatch.setenv("MEDIAMIX_COMPILE_CACHE", "/some/where")
    assert fit_module.compile_cache_dir() == "/some/where"


@pytest.mark.slow
def test_short_fit_carries_what_scoring_reads(demo):
    spec, design, _ = demo
    out = fit_nuts(demo_spec(chains=2, warmup=150, draws=100, seed=2), design, progress=False)
    post = out.idata.posterior
    assert post.sizes["chain"] == 2 and post.sizes["draw"] == 100
    for name in set(site_shapes(out.statics)) | set(param_names(out.statics)):
        assert name in post, name
        assert np.all(np.isfinite(post[name].to_numpy())), name
    assert post["beta"].dims == ("chain", "draw", "channel")
    assert list(post["beta"].coords["channel"].values) == design.channels
    stats = out.idata.sample_stats
    assert {"diverging", "n_steps", "energy", "tree_depth"} <= set(stats.data_vars)
    assert out.timings["start"] == "laplace" and out.seconds > 0
    # Stored parameters reproduce the sampled ones through the model's equations.
    z = pack(out.statics, {k: post[k].to_numpy()[0, 0] for k in site_shapes(out.statics)})
    again = derived(out.statics, unpack(out.statics, jnp.asarray(z)))
    assert float(again["intercept"]) == pytest.approx(float(post["intercept"][0, 0]), rel=1e-4, abs=1e-5)
    assert np.asarray(again["beta"]) == pytest.approx(post["beta"].to_numpy()[0, 0], rel=1e-4)


def test_start_falls_back_to_the_prior_when_the_mode_search_fails(demo, monkeypatch):
    _, _, statics = demo

    def fail(_statics):
        raise FloatingPointError("no mode")

    monkeypatch.setattr(fit_module, "laplace_start", fail)
    centre, chol, how = fit_module.sampler_start(statics)
    assert how == "prior"
    assert centre == pytest.approx(pack(statics, prior_centre(statics)))
    assert np.allclose(chol, np.diag(np.diag(chol))) and np.all(np.diag(chol) > 0)
