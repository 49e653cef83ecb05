"""Media transforms as pure array functions (NumPy or JAX arrays in, JAX arrays out).

Adstock spreads a period's spend over the following periods; saturation turns adstocked
spend into response with diminishing returns. The NumPyro model, the simulator and scoring
all call these same functions, so a reloaded posterior reproduces contributions exactly.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def lag_stack(x: np.ndarray, n_lags: int) -> np.ndarray:
    """Stack shifted copies of x along a new leading axis: out[l, t] = x[t - l] (0 before row 0).

    x has time on axis 0; any trailing axes (geo, channel) are kept.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((n_lags,) + x.shape, dtype=np.float64)
    for lag in range(n_lags):
        out[lag, lag:] = x[: x.shape[0] - lag] if lag else x
    return out


def geometric_weights(decay, n_lags: int, lag=None, max_lookback=None):
    """Normalised geometric carryover weights, shape (n_lags, channel).

    w_l = decay^(l - lag) for lag <= l < max_lookback, else 0, scaled to sum to 1, so a
    channel's long-run effect (its coefficient) is separate from the shape of its carryover.
    decay has shape (channel,); lag and max_lookback are per-channel integers or None.
    """
    decay = jnp.atleast_1d(decay)
    n_channels = decay.shape[-1]
    l = jnp.arange(n_lags, dtype=decay.dtype)[:, None]
    lag = jnp.zeros(n_channels) if lag is None else jnp.asarray(lag, dtype=l.dtype)
    max_lookback = jnp.full(n_channels, n_lags) if max_lookback is None else jnp.asarray(max_lookback)
    steps = jnp.clip(l - lag[None, :], 0.0, None)
    active = (l >= lag[None, :]) & (l < max_lookback[None, :])
    raw = jnp.where(active, decay[None, :] ** steps, 0.0)
    return raw / jnp.sum(raw, axis=0, keepdims=True)


def apply_adstock(stacked, weights):
    """Adstocked series from a lag stack (lag, time, geo, channel) and weights (lag, channel)."""
    return jnp.einsum("ltgc,lc->tgc", stacked, weights)


def hill(x, half, slope):
    """Hill saturation x^s / (x^s + h^s): 0 at 0, 1/2 at x = half, approaching 1.

    Written as 1 / (1 + (h/x)^s) on safe values so that exact zeros (flighted media) give 0
    with finite gradients.
    """
    safe = jnp.where(x > 0, x, 1.0)
    value = 1.0 / (1.0 + (half / safe) ** slope)
    return jnp.where(x > 0, value, 0.0)
