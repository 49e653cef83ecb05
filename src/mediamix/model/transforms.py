"""Media transforms as pure array functions.

Adstock spreads a period's spend over the following periods; saturation turns adstocked
spend into response with diminishing returns. The NumPyro model, the simulator and scoring
all call these same functions, so a reloaded posterior reproduces contributions exactly.

Each function takes `xp`, the array namespace: `jax.numpy` (the default: JAX arrays out,
traceable inside the sampler) or `numpy` (plain NumPy, nothing to compile; the fit uses it
to derive per-draw quantities from the samples). Parameters may carry leading batch axes
(draws): `decay`, `half`, `slope` shaped (..., channel).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import expit


def lag_stack(x: np.ndarray, n_lags: int) -> np.ndarray:
    """Stack shifted copies of x along a new leading axis: out[l, t] = x[t - l] (0 before row 0).

    x has time on axis 0; any trailing axes (geo, channel) are kept.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((n_lags,) + x.shape, dtype=np.float64)
    for lag in range(n_lags):
        out[lag, lag:] = x[: x.shape[0] - lag] if lag else x
    return out


def sigmoid(x, xp=jnp):
    return expit(x) if xp is np else jax.nn.sigmoid(x)


def lag_layout(n_lags: int, n_channels: int, lag=None, max_lookback=None) -> tuple[np.ndarray, np.ndarray]:
    """Exponent and 0/1 mask per (lag, channel) for the geometric weights (NumPy, no tracing).

    steps[l, c] = max(l - lag_c, 0); active[l, c] = 1 where lag_c <= l < max_lookback_c.
    """
    l = np.arange(n_lags, dtype=np.float32)[:, None]
    lag = np.zeros(n_channels, np.float32) if lag is None else \
        np.broadcast_to(np.asarray(lag, np.float32), (n_channels,))
    top = np.full(n_channels, n_lags, np.float32) if max_lookback is None else \
        np.broadcast_to(np.asarray(max_lookback, np.float32), (n_channels,))
    steps = np.clip(l - lag[None, :], 0.0, None)
    active = ((l >= lag[None, :]) & (l < top[None, :])).astype(np.float32)
    return steps, active


def weights_from_layout(decay, steps, active, xp=jnp):
    """Normalised weights decay^steps over the active lags: (..., lag, channel)."""
    raw = active * xp.power(decay[..., None, :], steps)
    return raw / xp.sum(raw, axis=-2, keepdims=True)


def geometric_weights(decay, n_lags: int, lag=None, max_lookback=None, xp=jnp):
    """Normalised geometric carryover weights, shape (n_lags, channel).

    w_l = decay^(l - lag) for lag <= l < max_lookback, else 0, scaled to sum to 1, so a
    channel's long-run effect (its coefficient) is separate from the shape of its carryover.
    decay has shape (channel,); lag and max_lookback are per-channel integers or None.
    """
    decay = xp.atleast_1d(decay)
    steps, active = lag_layout(n_lags, decay.shape[-1], lag, max_lookback)
    return weights_from_layout(decay, steps, active, xp)


def apply_adstock(stacked, weights, xp=jnp):
    """Adstocked series from a lag stack (lag, time, geo, channel) and weights (..., lag, channel).

    An einsum (XLA: one batched dot); a broadcast multiply-and-sum over the lag axis is the
    same number but ~10x slower to differentiate on CPU.
    """
    return xp.einsum("ltgc,...lc->...tgc", stacked, weights)


def hill(x, half, slope, xp=jnp):
    """Hill saturation x^s / (x^s + h^s): 0 at 0, 1/2 at x = half, approaching 1.

    Evaluated as sigmoid(s * (log x - log h)), the same function without overflow for any
    x/h and with a cheap gradient. Exact zeros (flighted media) give 0 with finite gradients.
    Broadcasts like x * half * slope.
    """
    positive = x > 0
    log_x = xp.log(xp.where(positive, x, 1.0))
    value = sigmoid(slope * (log_x - xp.log(half)), xp)
    return xp.where(positive, value, 0.0)
