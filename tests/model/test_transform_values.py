"""Closed-form values of the media transforms."""
import numpy as np
import pytest

from mediamix.model.transforms import apply_adstock, geometric_weights, hill, lag_stack


def test_geometric_weights_closed_form():
    w = np.asarray(geometric_weights(np.array([0.5]), 4))[:, 0]
    raw = 0.5 ** np.arange(4)
    assert w == pytest.approx(raw / raw.sum())


def test_lag_and_max_lookback_shape_the_weights():
    w = np.asarray(geometric_weights(np.array([0.5]), 6, lag=np.array([2.0]), max_lookback=np.array([4])))[:, 0]
    assert w[:2] == pytest.approx([0, 0]) and w[4:] == pytest.approx([0, 0])
    assert w[2:4] == pytest.approx([1 / 1.5, 0.5 / 1.5])


def test_impulse_response_is_the_weights():
    x = np.zeros(10)
    x[2] = 1.0
    w = geometric_weights(np.array([0.6]), 5)
    out = np.asarray(apply_adstock(lag_stack(x[:, None, None], 5), w))[:, 0, 0]
    assert out[:2] == pytest.approx([0, 0])
    assert out[2:7] == pytest.approx(np.asarray(w)[:, 0], rel=1e-6)
    assert out[7:] == pytest.approx([0, 0, 0])


def test_hill_closed_form_and_zero():
    assert float(hill(2.0, 2.0, 1.7)) == pytest.approx(0.5)
    assert float(hill(6.0, 2.0, 2.0)) == pytest.approx(36 / 40)
    assert float(hill(0.0, 2.0, 2.0)) == 0.0
