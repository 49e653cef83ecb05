"""The media transforms in their NumPy and JAX forms, batched and not, against closed forms."""
import jax.numpy as jnp
import numpy as np
import pytest

from mediamix.model.transforms import (apply_adstock, geometric_weights, hill, lag_layout, lag_stack,
                                       weights_from_layout)


def test_hill_is_the_hill_function_for_any_ratio():
    x = np.array([1e-6, 0.01, 0.5, 1.0, 2.0, 50.0, 1e6])
    for half, slope in ((1.0, 1.3), (0.2, 3.0), (40.0, 0.5)):
        expected = x ** slope / (x ** slope + half ** slope)
        assert np.asarray(hill(x, half, slope)) == pytest.approx(expected, rel=1e-5, abs=1e-30)
        assert hill(x, half, slope, xp=np) == pytest.approx(expected, rel=1e-12)


def test_hill_is_zero_at_zero_with_finite_gradient():
    import jax
    g = jax.grad(lambda x: jnp.sum(hill(x, 1.0, 1.5)))(jnp.array([0.0, 1.0]))
    assert np.all(np.isfinite(np.asarray(g))) and float(g[0]) == 0.0
    assert float(hill(0.0, 2.0, 2.0, xp=np)) == 0.0


def test_lag_layout_marks_lag_and_lookback():
    steps, active = lag_layout(6, 2, lag=[0, 2], max_lookback=[6, 4])
    assert active[:, 0].tolist() == [1, 1, 1, 1, 1, 1]
    assert active[:, 1].tolist() == [0, 0, 1, 1, 0, 0]
    assert steps[:, 1].tolist() == [0, 0, 0, 1, 2, 3]


def test_weights_batched_match_one_draw_at_a_time():
    steps, active = lag_layout(5, 3)
    decay = np.array([[0.1, 0.5, 0.9], [0.3, 0.0001, 0.7]], dtype=np.float32)
    batched = weights_from_layout(decay, steps, active, xp=np)
    for i in range(2):
        one = np.asarray(geometric_weights(decay[i], 5))
        assert batched[i] == pytest.approx(one, rel=1e-5)
        raw = decay[i][None, :] ** np.arange(5)[:, None]
        assert one == pytest.approx(raw / raw.sum(axis=0), rel=1e-5)


def test_adstock_batched_numpy_equals_jax():
    rng = np.random.default_rng(0)
    spend = rng.gamma(2.0, 1.0, size=(30, 1, 3))
    stack = lag_stack(spend, 4).astype(np.float32)
    steps, active = lag_layout(4, 3)
    decay = rng.uniform(0.05, 0.9, size=(7, 3)).astype(np.float32)
    w = weights_from_layout(decay, steps, active, xp=np)
    batched = apply_adstock(stack, w, xp=np)                         # (draw, time, geo, channel)
    assert batched.shape == (7, 30, 1, 3)
    for i in range(7):
        assert np.asarray(apply_adstock(stack, jnp.asarray(w[i]))) == pytest.approx(batched[i], rel=1e-5)
    # By hand for one cell: sum over lags of weight x spend lagged.
    t, c = 10, 1
    by_hand = sum(w[0, l, c] * spend[t - l, 0, c] for l in range(4))
    assert batched[0, t, 0, c] == pytest.approx(by_hand, rel=1e-5)
