"""Algorithmic attribution: a discrete-time logistic model of conversion from exposure timing.

Each journey is observed in steps (default one day) from its first touch until it converts or
its observation ends. In step t the conversion probability is

    h_t = sigmoid(alpha + sum over exposures e seen by step t of beta[channel_e, bucket(t - step_e)])

with `lag_edges` (in steps) defining the time-since-exposure buckets; an exposure older than the
last edge has no effect. Converting journeys contribute their surviving steps and the converting
step, non-converting journeys their surviving steps (a person-period logistic regression). A
person's exposures also act on their later journeys while still within the last edge.

The MAP under Gaussian priors is found by Newton's method with the exact Hessian; a Laplace
approximation (the inverse Hessian at the MAP) gives seeded parameter draws for intervals.

Credit per conversion, with x_e = beta[channel_e, bucket] at the converting step, h = P(convert)
and h0 = sigmoid(alpha) the same step without exposures:
  (h0 also holds any still-active exposures carried over from the person's earlier journeys.)
  * incremental_e = x_e * (h - h0) / (sum_e x_e * h): the Aumann-Shapley split of the lift
    h - h0 over the touches (exact for the logistic link), as a share of the conversion;
    they sum to 1 - h0/h, the conversion's share the exposures caused (negative for a harmful one).
  * influenced_e = incremental_e + (h0/h) / n_touches: the baseline share, which no touch
    caused, spread evenly over the n touches present, so influenced shares sum to 1 and
    incremental = influenced minus the baseline share. (Splitting by x_e / sum x instead would
    blow up whenever the effects nearly cancel.)
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mediamix.data.messages import show
from mediamix.errors import DataError, TrainingError

DEFAULT_LAG_EDGES = (0, 1, 3, 7, 14, 28)


class AlgorithmicAttribution:
    """Fit with `fit(journeys)`; read `coef_`, `attribution()`, `touch_credits()`,
    `incremental_by_channel()` (the per-channel form MMM priors will take)."""

    def __init__(self, lag_edges=DEFAULT_LAG_EDGES, step="1D", prior_sd: float = 1.0,
                 baseline_prior=(-5.0, 5.0), n_draws: int = 400, seed: int = 0, interval: float = 0.90,
                 max_iter: int = 60):
        edges = tuple(int(e) for e in lag_edges)
        if len(edges) < 2 or edges[0] != 0 or any(b <= a for a, b in zip(edges, edges[1:])):
            raise DataError(f"lag_edges {show(list(lag_edges))} must start at 0 and increase, e.g. (0, 1, 3, 7, 14, 28)")
        if prior_sd <= 0:
            raise DataError(f"prior_sd must be positive, got {prior_sd}")
        if int(n_draws) < 2:
            raise DataError(f"n_draws must be at least 2 to give an interval, got {n_draws}")
        if not 0 < interval < 1:
            raise DataError(f"interval must be between 0 and 1, got {interval}")
        self.lag_edges, self.step, self.prior_sd = edges, pd.Timedelta(step), float(prior_sd)
        self.baseline_prior, self.n_draws, self.seed = tuple(baseline_prior), int(n_draws), int(seed)
        self.interval, self.max_iter = float(interval), int(max_iter)

    # ---- fitting ------------------------------------------------------------------------

    def fit(self, journeys) -> "AlgorithmicAttribution":
        if not hasattr(journeys, "touch_time"):
            raise DataError("the algorithmic model needs touch timestamps: pass Journeys from build_journeys")
        if not journeys.converted.any():
            raise DataError("no converting journeys: the model needs conversions to learn from")
        self.channels_ = tuple(journeys.channels)
        self.n_buckets_ = len(self.lag_edges) - 1
        design = _person_periods(journeys, self.step, self.lag_edges)
        self.n_periods_ = design["x"].shape[0]
        theta, hessian, self.n_iter_ = _newton_map(design["x"], design["y"], self._prior(), self.max_iter)
        self.theta_ = theta
        self.covariance_ = _inverse_spd(hessian)
        self.baseline_ = float(theta[0])
        self.baseline_sd_ = float(np.sqrt(self.covariance_[0, 0]))
        sd = np.sqrt(np.diag(self.covariance_))[1:]
        lo, hi = np.array(self.lag_edges[:-1]), np.array(self.lag_edges[1:])
        self.coef_ = pd.DataFrame({
            "channel": np.repeat(self.channels_, self.n_buckets_),
            "lag_from": np.tile(lo, len(self.channels_)), "lag_to": np.tile(hi, len(self.channels_)),
            "estimate": theta[1:], "sd": sd})
        self._credit_inputs = design["credit"]
        self._journeys = journeys
        self._draws = self._draw_parameters()
        return self

    def _prior(self):
        k = 1 + len(self.channels_) * self.n_buckets_
        mean = np.zeros(k)
        precision = np.full(k, 1.0 / self.prior_sd ** 2)
        mean[0], precision[0] = self.baseline_prior[0], 1.0 / self.baseline_prior[1] ** 2
        return mean, precision

    def _draw_parameters(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        chol = np.linalg.cholesky(self.covariance_)
        return self.theta_ + rng.standard_normal((self.n_draws, len(self.theta_))) @ chol.T

    # ---- credits ------------------------------------------------------------------------

    def touch_credits(self) -> pd.DataFrame:
        """Point-estimate credits of every touch on a converting journey."""
        self._check_fitted()
        c = self._credit_inputs
        influenced, incremental = _credits(self.theta_[None, :], c)
        paths = self._journeys.paths
        value = paths.value[c["journey"]] if paths.has_value else np.full(len(c["journey"]), np.nan)
        return pd.DataFrame({
            "journey": c["journey"], "channel": np.asarray(self.channels_, dtype=object)[c["channel"]],
            "timestamp": self._journeys.touch_time[c["touch"]],
            "conversion_time": self._journeys.end[c["journey"]],
            "lag_steps": c["lag"], "influenced": influenced[0], "incremental": incremental[0],
            "influenced_value": influenced[0] * value, "incremental_value": incremental[0] * value})

    def attribution(self) -> pd.DataFrame:
        """Per channel: influenced and incremental conversions (MAP) with their intervals, and value."""
        self._check_fitted()
        touches = self.touch_credits()
        point = touches.groupby("channel", observed=True)[["influenced", "incremental", "influenced_value",
                                                           "incremental_value"]].sum()
        point = point.reindex(list(self.channels_), fill_value=0.0)
        draws_inf, draws_inc = self._channel_draws()
        tail = (1 - self.interval) / 2
        out = pd.DataFrame({"channel": list(self.channels_), "conversions": point.influenced.to_numpy(),
                            "value": point.influenced_value.to_numpy()})
        out["influenced_lo"], out["influenced_hi"] = np.quantile(draws_inf, [tail, 1 - tail], axis=0)
        out["incremental"] = point.incremental.to_numpy()
        out["incremental_lo"], out["incremental_hi"] = np.quantile(draws_inc, [tail, 1 - tail], axis=0)
        out["incremental_sd"] = draws_inc.std(axis=0, ddof=1)
        out["incremental_value"] = point.incremental_value.to_numpy()
        if not self._journeys.paths.has_value:
            out[["value", "incremental_value"]] = np.nan
        return out

    def incremental_by_channel(self) -> pd.DataFrame:
        """channel, incremental_conversions, sd: the MTA evidence to hand an MMM as priors."""
        table = self.attribution()
        return pd.DataFrame({"channel": table.channel, "incremental_conversions": table.incremental,
                             "sd": table.incremental_sd})

    def _channel_draws(self):
        c = self._credit_inputs
        n_channels = len(self.channels_)
        onehot = sp.csr_matrix((np.ones(len(c["channel"])), (np.arange(len(c["channel"])), c["channel"])),
                               shape=(len(c["channel"]), n_channels))
        inf_tot, inc_tot = [], []
        for chunk in np.array_split(self._draws, max(1, len(self._draws) // 50)):
            influenced, incremental = _credits(chunk, c)
            inf_tot.append(np.asarray(onehot.T @ influenced.T).T)
            inc_tot.append(np.asarray(onehot.T @ incremental.T).T)
        return np.vstack(inf_tot), np.vstack(inc_tot)

    def _check_fitted(self):
        if not hasattr(self, "theta_"):
            raise DataError("the algorithmic model is not fitted yet: call fit(journeys) first")


def _person_periods(journeys, step, lag_edges) -> dict:
    """Sparse exposure counts per (journey, step) row and (channel, lag bucket) column.

    An exposure acts on its own journey's rows and, while its lag is below the last edge, on the
    rows of the same person's following journeys: journeys are cut by outcome (a conversion, the
    lookback), so dropping that carry-over would bias the fit toward late converters.
    """
    paths = journeys.paths
    step_ns = step.value
    if step_ns <= 0:
        raise DataError(f"step must be positive, got {step}")
    start = journeys.start.view(np.int64)
    span = journeys.end.view(np.int64) - start
    converted = journeys.converted
    conv_step = span // step_ns
    periods = np.where(converted, conv_step + 1, -(-span // step_ns))  # ceil for non-converting
    row0 = np.concatenate([[0], np.cumsum(periods)])[:-1]
    n_rows = int(periods.sum())
    n_buckets = len(lag_edges) - 1
    max_lag = lag_edges[-1]
    bucket_of_lag = np.searchsorted(np.asarray(lag_edges), np.arange(max_lag), side="right") - 1

    touch, target = _exposure_targets(journeys, max_lag * step_ns)
    rel = (journeys.touch_time.view(np.int64)[touch] - start[target]) // step_ns  # < 0 if carried over
    first = np.maximum(rel, 0)
    count = np.clip(np.minimum(periods[target], rel + max_lag) - first, 0, None)
    owner = np.repeat(np.arange(len(touch)), count)
    k = first[owner] + np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    lag = k - rel[owner]
    feature = paths.codes[touch].astype(np.int64) * n_buckets
    x = sp.csr_matrix((np.ones(len(owner)), (row0[target[owner]] + k, feature[owner] + bucket_of_lag[lag])),
                      shape=(n_rows, len(paths.channels) * n_buckets))
    x.sum_duplicates()
    y = np.zeros(n_rows)
    y[(row0 + conv_step)[converted]] = 1.0

    # At each converting step: the journey's own touches share the credit; carried-over exposures
    # still active there belong to the baseline of that conversion.
    at_conv = converted[target]
    lag_c = conv_step[target] - rel
    active = (lag_c >= 0) & (lag_c < max_lag)
    feat_c = np.where(active, feature + bucket_of_lag[np.clip(lag_c, 0, max_lag - 1)], -1)
    own = at_conv & (paths.path_index()[touch] == target)
    carried = at_conv & ~own & active
    journeys_conv, slot = np.unique(target[own], return_inverse=True)
    n_conv, n_own, n_carry = len(journeys_conv), int(own.sum()), int(carried.sum())
    credit = {
        "touch": touch[own], "journey": target[own], "channel": paths.codes[touch[own]],
        "feature": feat_c[own], "lag": lag_c[own], "journey_slot": slot,
        "touch_count": np.bincount(slot, minlength=n_conv)[slot],
        "touch_journey_matrix": sp.csr_matrix((np.ones(n_own), (np.arange(n_own), slot)), shape=(n_own, n_conv)),
        "carry_feature": feat_c[carried],
        "carry_journey_matrix": sp.csr_matrix(
            (np.ones(n_carry), (np.arange(n_carry), np.searchsorted(journeys_conv, target[carried]))),
            shape=(n_carry, n_conv)),
    }
    return {"x": x, "y": y, "credit": credit}


def _exposure_targets(journeys, reach_ns):
    """(touch, journey) pairs: each touch with its own journey and the same person's later
    journeys that start within `reach_ns` of it."""
    journey = journeys.paths.path_index()
    person = journeys.person
    new_person = np.ones(len(person), dtype=bool)
    new_person[1:] = np.asarray(person[1:] != person[:-1], dtype=bool)
    person_code = np.cumsum(new_person)
    start = journeys.start.view(np.int64)
    touch_time = journeys.touch_time.view(np.int64)
    touches, targets = [np.arange(len(journey))], [journey]
    candidate = np.arange(len(journey))
    offset = 1
    while len(candidate):
        tgt = journey[candidate] + offset
        ok = tgt < len(start)
        ok[ok] &= (person_code[tgt[ok]] == person_code[journey[candidate[ok]]]) & \
            (start[tgt[ok]] < touch_time[candidate[ok]] + reach_ns)
        candidate = candidate[ok]  # later journeys start later still: the set only shrinks
        touches.append(candidate)
        targets.append(journey[candidate] + offset)
        offset += 1
    return np.concatenate(touches), np.concatenate(targets)


def _newton_map(x, y, prior, max_iter):
    """Minimise -log likelihood - log prior over theta = (alpha, beta) with Newton steps."""
    mean, precision = prior
    theta = mean.copy()
    theta[0] = _logit(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    xt = x.T.tocsr()

    def objective(th):
        eta = th[0] + x @ th[1:]
        return np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * np.sum(precision * (th - mean) ** 2)

    current = objective(theta)
    for iteration in range(1, max_iter + 1):
        eta = theta[0] + x @ theta[1:]
        p = _sigmoid(eta)
        w = p * (1 - p)
        resid = p - y
        grad = np.concatenate([[resid.sum()], xt @ resid]) + precision * (theta - mean)
        hessian = _weighted_gram(x, xt, w) + np.diag(precision)
        direction = np.linalg.solve(hessian, grad)
        size = 1.0
        while True:  # backtracking keeps every step a descent step
            trial = theta - size * direction
            value = objective(trial)
            if value <= current + 1e-12 or size < 1e-8:
                break
            size /= 2
        theta, previous, current = trial, current, value
        if np.max(np.abs(size * direction)) < 1e-9 or abs(previous - current) < 1e-12 * max(1.0, abs(current)):
            eta = theta[0] + x @ theta[1:]
            p = _sigmoid(eta)
            return theta, _weighted_gram(x, xt, p * (1 - p)) + np.diag(precision), iteration
    raise TrainingError(f"the algorithmic model did not converge in {max_iter} Newton steps; "
                        "raise max_iter or use coarser lag_edges")


def _weighted_gram(x, xt, w):
    """[1, X]^T diag(w) [1, X] as a dense matrix."""
    k = x.shape[1] + 1
    gram = np.empty((k, k))
    gram[0, 0] = w.sum()
    cross = xt @ w
    gram[0, 1:] = gram[1:, 0] = cross
    gram[1:, 1:] = (xt @ x.multiply(w[:, None]).tocsc()).toarray()
    return gram


def _credits(theta, c):
    """influenced and incremental shares per (draw, touch) for parameter rows `theta`."""
    beta = theta[:, 1:]
    effect = np.where(c["feature"] >= 0, beta[:, np.maximum(c["feature"], 0)], 0.0)  # (draws, touches)
    per_journey = c["touch_journey_matrix"]          # touches x journeys indicator
    total = np.asarray(effect @ per_journey)
    base = theta[:, :1] + np.asarray(beta[:, c["carry_feature"]] @ c["carry_journey_matrix"])
    h0 = _sigmoid(base)                               # without this journey's touches
    h = _sigmoid(base + total)
    near_zero = np.abs(total) < 1e-12
    # Lift per unit of logit, (h - h0) / sum x, with its limit h0 (1 - h0) as sum x -> 0.
    slope = np.where(near_zero, h0 * (1 - h0), (h - h0) / np.where(near_zero, 1.0, total))
    slot = c["journey_slot"]
    incremental = effect * (slope / h)[:, slot]
    influenced = incremental + (h0 / h)[:, slot] / c["touch_count"]
    return influenced, incremental


def _inverse_spd(matrix):
    try:
        chol = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        raise TrainingError("the algorithmic model's Hessian is not positive definite at the optimum; "
                            "raise prior_sd's strength (lower it) or use coarser lag_edges")
    inv_chol = np.linalg.inv(chol)
    return inv_chol.T @ inv_chol


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _logit(p):
    return np.log(p / (1 - p))
