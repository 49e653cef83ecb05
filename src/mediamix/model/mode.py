"""The posterior mode and a Gauss-Newton covariance there: the sampler's start and metric
(`fit.sampler_start`) and the Laplace fit (`fit.fit_laplace`).

The model is penalised least squares: standardised data residuals (divided by sigma), the
Normal priors' standardised residuals, the intercept prior's and the lift tests'. The mode
is found by Levenberg-Marquardt on those residuals with sigma profiled out (and the log-sd
terms of priors whose sd depends on another parameter left out: this is a starting point,
not the answer). Residuals are evaluated in NumPy (float64); the Jacobian is needed once per
iteration, and comes from one of two places:

* central differences in NumPy (2 x D model evaluations, in blocks of at most
  JACOBIAN_BLOCK_CELLS cells): nothing to compile, the right choice for national models,
  where a whole Jacobian costs milliseconds;
* JAX forward mode (`jax.linearize`, then the linear map applied to blocks of tangents):
  exact, float32, one compile (~1-3 s), and for a large geo model (1,700 parameters over
  300k time x geo x channel cells) far cheaper than differences, which would cost minutes:
  the geos' share deviations are compressed to one tangent per channel and one per geo
  (`forward_jacobian`). Chosen when 2 x D x cells exceeds FORWARD_MODE_CELLS.
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from mediamix.model.mmm import (SIGMA_LOG_SD, ModelStatics, derived, lift_residuals, num_params, pack,
                                predicted_mean_geo, prior_centre, prior_residuals, site_shapes, unpack)

JACOBIAN_BLOCK_CELLS = 4_000_000      # model rows x time x geo x channel per evaluation block
FORWARD_MODE_CELLS = 50_000_000       # above this (2 x D x cells) the Jacobian comes from JAX
TANGENT_BLOCK_CELLS = 16_000_000      # tangents x lag x time x geo x channel per forward-mode block


def site_offset(statics: ModelStatics, name: str) -> int:
    """Where a site starts in the flat parameter vector."""
    i = 0
    for site, size in site_shapes(statics).items():
        if site == name:
            return i
        i += max(size, 1)
    raise KeyError(name)


def _fit_rows(st: ModelStatics, xp):
    return xp.sqrt(xp.asarray(st.fit_weight, np.float32 if xp is jnp else np.float64))[:, None]


def data_residuals(st: ModelStatics, Z, xp=np):
    """sqrt(weight) x (y - mean) per fitting row, flattened over (time, geo): (..., T x G)."""
    p = derived(st, unpack(st, Z), xp=xp, with_saturation=True)
    y = xp.asarray(st.y_scaled, np.float32 if xp is jnp else np.float64)
    r = _fit_rows(st, xp) * (y - predicted_mean_geo(st, p, p["_sat"], xp=xp))
    return xp.reshape(r, xp.shape(r)[:-2] + (-1,)), p


def residuals(st: ModelStatics, Z, sigma, xp=np):
    """Every standardised residual of the objective at Z (..., D): data / sigma, then priors
    (without sigma_log's, which is handled in closed form) and lift tests."""
    data, p = data_residuals(st, Z, xp)
    u = unpack(st, Z)
    prior, _ = prior_residuals(st, u, p, xp=xp)
    prior.pop("sigma_log")
    prior["lift_tests"] = lift_residuals(st, p, xp=xp)
    # The geo intercepts' log-sd term is left out with the others: with it the joint mode of a
    # centred hierarchy is degenerate (all intercepts equal, their sd -> 0).
    lead = xp.shape(Z)[:-1]
    return xp.concatenate([data / sigma] + [xp.reshape(r, lead + (-1,)) for r in prior.values()], axis=-1)


def _media_cells(st: ModelStatics) -> tuple[int, int]:
    """(time x geo x channel, lag x time x geo x channel) of the media stack."""
    shape = np.shape(st.arrays["media_stack"])
    return int(np.prod(shape[1:])), int(np.prod(shape))


def difference_jacobian(st: ModelStatics, z, sigma, free, h=1e-4):
    """Central-difference Jacobian (residual, free parameter) in NumPy."""
    E = np.zeros((len(free), len(z)))
    E[np.arange(len(free)), free] = h
    Z = np.concatenate([z + E, z - E])
    block = max(1, JACOBIAN_BLOCK_CELLS // max(_media_cells(st)[0], 1))
    R = np.concatenate([residuals(st, Z[i:i + block], sigma) for i in range(0, len(Z), block)])
    return ((R[:len(free)] - R[len(free):]) / (2 * h)).T


@partial(jax.jit, static_argnames=("block",))
def _forward_columns(statics: ModelStatics, z, sigma, tangents, block: int):
    """J @ t for every row t of tangents (n, D), `block` rows at a time: (n, residuals)."""
    _, jvp = jax.linearize(lambda x: residuals(statics, x, sigma, jnp), z)
    blocks = jnp.reshape(tangents, (-1, block, tangents.shape[-1]))
    return jnp.reshape(jax.lax.map(jax.vmap(jvp), blocks), (tangents.shape[0], -1))


def _forward(statics: ModelStatics, z, sigma, tangents: np.ndarray) -> np.ndarray:
    """J @ t for the rows t of tangents, in blocks bounded by TANGENT_BLOCK_CELLS: (n, residuals)."""
    n = len(tangents)
    block = int(max(1, min(n, TANGENT_BLOCK_CELLS // max(_media_cells(statics)[1], 1))))
    padded = np.zeros((-(-n // block) * block, tangents.shape[1]), np.float32)   # whole blocks
    padded[:n] = tangents
    cols = _forward_columns(statics, jnp.asarray(z, jnp.float32), jnp.float32(sigma), jnp.asarray(padded),
                            block=block)
    return np.asarray(cols, np.float64)[:n]


def _unit_rows(columns, width: int, weights=None) -> np.ndarray:
    rows = np.zeros((len(columns), width), np.float32)
    rows[np.arange(len(columns)), columns] = 1.0 if weights is None else weights
    return rows


def forward_jacobian(statics: ModelStatics, z, sigma, free) -> np.ndarray:
    """Exact Jacobian (residual, free parameter) by JAX forward mode, float32.

    With several geos most parameters are the geos' share deviations share_eps (g, c), and
    eps of geo g moves only geo g's residuals (its data rows, its intercept, its own prior).
    So one tangent per channel c, e_eps(0, c) + ... + e_eps(G-1, c), gives G columns at once:
    geo g's rows of the result are the column of eps (g, c). Which rows are geo g's is probed
    at the same point, by one tangent per geo (random positive weights on its eps, so no row
    cancels to zero by chance). If a residual moves with two geos (a lift test sums them), the
    columns are computed one by one instead. G x C columns cost C + G evaluations."""
    st = statics.to_numpy()
    D, G, C = len(z), st.n_geos, st.n_channels
    free = np.asarray(free)
    eps_size = site_shapes(st).get("share_eps") or 0
    if G == 1 or eps_size != G * C:
        return _forward(statics, z, sigma, _unit_rows(free, D)).T
    first = site_offset(st, "share_eps")
    eps = first + np.arange(G * C).reshape(G, C)                  # flat index of eps (g, c)
    plain = free[(free < first) | (free >= first + G * C)]
    weights = np.random.default_rng(0).uniform(0.5, 1.5, C).astype(np.float32)
    tangents = np.concatenate([_unit_rows(plain, D)]
                              + [np.sum(_unit_rows(eps[:, c], D), axis=0, keepdims=True) for c in range(C)]
                              + [np.sum(_unit_rows(eps[g], D, weights), axis=0, keepdims=True) for g in range(G)])
    cols = _forward(statics, z, sigma, tangents)
    by_channel, probes = cols[len(plain):len(plain) + C], cols[len(plain) + C:] != 0
    if (probes.sum(axis=0) > 1).any():
        return _forward(statics, z, sigma, _unit_rows(free, D)).T
    in_geo = probes.astype(np.float64)                                # (geo, residual): geo g's rows
    J = np.empty((cols.shape[1], D))
    J[:, plain] = cols[:len(plain)].T
    J[:, eps.ravel()] = (in_geo[:, None, :] * by_channel[None, :, :]).reshape(G * C, -1).T
    return J[:, free]


def laplace_start(statics: ModelStatics, max_iter: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(mode, chol): the posterior mode of the flat parameters and the Cholesky factor of the
    Gauss-Newton covariance there. Raises FloatingPointError."""
    st = statics.to_numpy()
    D, i_sigma = num_params(st), site_offset(st, "sigma_log")
    free = np.array([i for i in range(D) if i != i_sigma])
    n = max(float(st.fit_weight.sum()) * st.n_geos, 1.0)
    forward = 2 * len(free) * _media_cells(st)[0] > FORWARD_MODE_CELLS

    # Converged when an iteration gains less than `tol` of the objective (and sigma settles).
    # A float32 Jacobian's steps are not exact to 1e-7, and for a large model each iteration
    # costs seconds for gains that do not matter to a starting point: looser in forward mode.
    tol = 1e-5 if forward else 1e-7

    def jacobian(z, sigma):
        return forward_jacobian(statics, z, sigma, free) if forward else difference_jacobian(st, z, sigma, free)

    def profiled_sigma(z):
        return max(float(np.sqrt(np.sum(data_residuals(st, z)[0] ** 2) / n)), 1e-6)

    z = pack(st, prior_centre(st)).astype(np.float64)
    sigma, lam = profiled_sigma(z), 1e-2
    for _ in range(max_iter):
        r = residuals(st, z, sigma)
        J = jacobian(z, sigma)
        H, g, F = J.T @ J, J.T @ r, r @ r
        F_new = None
        while lam < 1e10:
            try:
                step = np.linalg.solve(H + lam * np.diag(np.diag(H) + 1e-9), -g)
            except np.linalg.LinAlgError:
                lam *= 5
                continue
            trial = z.copy()
            trial[free] += step
            r_trial = residuals(st, trial, sigma)
            if np.all(np.isfinite(r_trial)) and r_trial @ r_trial < F:
                z, F_new, lam = trial, r_trial @ r_trial, max(lam / 3, 1e-9)
                break
            lam *= 5
        new_sigma = profiled_sigma(z)
        done = F_new is None or (F - F_new < tol * (1 + F) and abs(new_sigma / sigma - 1) < 100 * tol)
        sigma = new_sigma
        if done:
            break
    z[i_sigma] = np.log(sigma)
    J = jacobian(z, sigma)
    precision = np.zeros((D, D))
    precision[np.ix_(free, free)] = J.T @ J
    precision[i_sigma, i_sigma] = 2 * n + 1 / SIGMA_LOG_SD ** 2
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        try:
            chol = np.linalg.cholesky(np.linalg.inv(precision))
        except (np.linalg.LinAlgError, FloatingPointError) as exc:
            raise FloatingPointError(f"Laplace start failed: {exc}") from None
    if not (np.all(np.isfinite(z)) and np.all(np.isfinite(chol))):
        raise FloatingPointError("Laplace start failed: non-finite mode or covariance")
    return z.astype(np.float32), chol.astype(np.float32)
