"""Shapley-value attribution over channel coalitions, from coalition conversion rates.

A journey's coalition T is the set of distinct channels on its path. CR(T) is the conversion rate
of journeys with exactly that set (conversions / (conversions + nulls)). The worth of a coalition
S is the conversions the observed journeys would have had if only the channels in S had run:
every journey of set T converts at the rate of set T & S,

    v(S) = sum_T n(T) * CR(T & S),    v(no channel) = 0,   v(all channels) = total conversions,

so Shapley credits sum to the conversions observed. A set never observed (a subset of an observed
one, e.g. {a, c} when only {a}, {c}, {a, b, c} occur) is given the best rate of its observed
subsets, 0 if none: adding a channel is assumed not to hurt where the data are silent.

Exact: with the Moebius transform a of CR and N(V) = sum over T containing V of n(T), v has
dividends a(V) * N(V), and a channel's Shapley value is the sum of dividends of the coalitions
containing it, each split equally among its members: O(channels * 2^channels).
Sampled (more channels than `max_exact_channels`): average marginal contributions over seeded
random channel orders; every order's contributions sum exactly to the total.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mediamix.attribution.paths import as_path_table
from mediamix.errors import DataError

_MAX_EXACT = 20     # 2^20 coalitions: the most the exact transform is allowed to allocate
_MAX_CHANNELS = 63  # coalitions are bit masks in one uint64


@dataclass(frozen=True, eq=False)
class ShapleyResult:
    attribution: pd.DataFrame   # channel, conversions, value (+ conversions_se, value_se if sampled)
    method: str                 # "exact" or "sampled"
    seed: int | None
    n_permutations: int | None


def shapley(data, max_exact_channels: int = 15, n_permutations: int = 2000, seed: int = 0) -> ShapleyResult:
    """Shapley attribution of conversions and value over a PathTable or Journeys."""
    paths = as_path_table(data).nonempty()
    if paths.total_conversions <= 0:
        raise DataError("the path table has no conversions, so there is nothing to attribute")
    if max_exact_channels > _MAX_EXACT:
        raise DataError(f"max_exact_channels={max_exact_channels} would need 2^{max_exact_channels} "
                        f"coalitions in memory; use at most {_MAX_EXACT} and sample beyond")
    masks, used = _coalition_masks(paths)
    n_used = len(used)
    if n_used > _MAX_CHANNELS:
        raise DataError(f"{n_used} channels appear in paths; Shapley supports at most {_MAX_CHANNELS}: "
                        "group channels (e.g. by medium) first")
    journeys = paths.conversions + paths.nulls
    sets, inverse = np.unique(masks, return_inverse=True)
    n = np.bincount(inverse, journeys)
    conv = np.bincount(inverse, paths.conversions)
    value = np.bincount(inverse, paths.value)
    seen = n > 0
    sets, n, rates = sets[seen], n[seen], np.column_stack([conv[seen] / n[seen], value[seen] / n[seen]])

    if n_used <= max_exact_channels:
        phi, se, method, used_seed, n_perm = _exact(sets, n, rates, n_used), None, "exact", None, None
    else:
        phi, se = _sampled(sets, n, rates, n_used, n_permutations, seed)
        method, used_seed, n_perm = "sampled", seed, n_permutations

    k = len(paths.channels)
    out = {"channel": list(paths.channels), "conversions": np.zeros(k), "value": np.zeros(k)}
    out["conversions"][used], out["value"][used] = phi[:, 0], phi[:, 1]
    if not paths.has_value:
        out["value"] = np.full(k, np.nan)
    if se is not None:
        out["conversions_se"], out["value_se"] = np.zeros(k), np.zeros(k)
        out["conversions_se"][used], out["value_se"][used] = se[:, 0], se[:, 1]
    return ShapleyResult(pd.DataFrame(out), method, used_seed, n_perm)


def _coalition_masks(paths):
    """Bit mask of distinct channels per path, over the channels that occur (compact bits)."""
    used = np.flatnonzero(np.bincount(paths.codes, minlength=len(paths.channels)) > 0)
    if len(used) > _MAX_CHANNELS:
        return np.zeros(paths.n_paths, dtype=np.uint64), used
    compact = np.full(len(paths.channels), -1, dtype=np.int64)
    compact[used] = np.arange(len(used))
    bits = np.left_shift(np.uint64(1), compact[paths.codes].astype(np.uint64))
    return np.bitwise_or.reduceat(bits, paths.offsets[:-1]), used


def _exact(sets, n, rates, channels):
    size = 1 << channels
    observed = np.zeros(size, dtype=bool)
    observed[sets.astype(np.int64)] = True
    weight = np.zeros(size)
    weight[sets.astype(np.int64)] = n
    supersets = _superset_sum(weight, channels)
    popcount = np.zeros(size, dtype=np.int64)
    for bit in range(channels):
        _halves(popcount, bit)[1][...] += 1
    share = np.where(popcount > 0, 1.0 / np.maximum(popcount, 1), 0.0)
    phi = np.empty((channels, rates.shape[1]))
    for j in range(rates.shape[1]):
        rate = np.full(size, -np.inf)
        rate[sets.astype(np.int64)] = rates[:, j]
        filled = np.where(observed, rate, np.maximum(_subset_max(rate, channels), 0.0))
        filled[0] = 0.0
        dividend = _moebius(filled, channels) * supersets * share
        for bit in range(channels):
            phi[bit, j] = _halves(dividend, bit)[1].sum()
    return phi


def _halves(array, bit):
    """Views of the entries without / with `bit` set (array length is a power of two)."""
    view = array.reshape(-1, 2, 1 << bit)
    return view[:, 0, :], view[:, 1, :]


def _subset_max(values, channels):
    out = values.copy()
    for bit in range(channels):
        without, with_ = _halves(out, bit)
        np.maximum(with_, without, out=with_)
    return out


def _moebius(values, channels):
    out = values.copy()
    for bit in range(channels):
        without, with_ = _halves(out, bit)
        with_ -= without
    return out


def _superset_sum(values, channels):
    out = values.copy()
    for bit in range(channels):
        without, with_ = _halves(out, bit)
        without += with_
    return out


class _Worth:
    """v(S) for coalition masks, with memoised rates of intersections and worths."""

    def __init__(self, sets, n, rates):
        order = np.argsort(sets)
        self.sets, self.n, self.rates = sets[order], n[order], rates[order]
        self._rate_cache: dict[int, np.ndarray] = {}
        self._worth_cache: dict[int, np.ndarray] = {}

    def rate(self, mask: int) -> np.ndarray:
        hit = self._rate_cache.get(mask)
        if hit is None:
            i = np.searchsorted(self.sets, np.uint64(mask))
            if i < len(self.sets) and self.sets[i] == mask:
                hit = self.rates[i]
            else:
                inside = (self.sets & ~np.uint64(mask)) == 0
                hit = np.maximum(self.rates[inside].max(axis=0), 0.0) if inside.any() else np.zeros(2)
            if mask == 0:
                hit = np.zeros(2)
            self._rate_cache[mask] = hit
        return hit

    def __call__(self, coalition: int) -> np.ndarray:
        hit = self._worth_cache.get(coalition)
        if hit is None:
            parts, inverse = np.unique(self.sets & np.uint64(coalition), return_inverse=True)
            rates = np.array([self.rate(int(p)) for p in parts])
            hit = (self.n[:, None] * rates[inverse]).sum(axis=0)
            self._worth_cache[coalition] = hit
        return hit


def _sampled(sets, n, rates, channels, n_permutations, seed):
    if n_permutations < 2:
        raise DataError(f"n_permutations must be at least 2, got {n_permutations}")
    rng = np.random.default_rng(seed)
    worth = _Worth(sets, n, rates)
    total = np.zeros((channels, 2))
    squares = np.zeros((channels, 2))
    for _ in range(n_permutations):
        coalition, before = 0, np.zeros(2)
        for channel in rng.permutation(channels):
            coalition |= 1 << int(channel)
            after = worth(coalition)
            gain = after - before
            total[channel] += gain
            squares[channel] += gain * gain
            before = after
    mean = total / n_permutations
    var = np.maximum(squares / n_permutations - mean ** 2, 0.0) * n_permutations / (n_permutations - 1)
    return mean, np.sqrt(var / n_permutations)
