"""Rule-based attribution: first touch, last touch, linear, position (U-shape), time decay.

Every model gives each touch occurrence a share of its path's conversions (shares of a path sum
to 1); a channel's credit is the sum of its touches' shares times conversions (and value).
Repeated touches count each time they occur, in order.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mediamix.attribution.paths import PathTable, as_path_table
from mediamix.errors import DataError

RULE_BASED = ("first_touch", "last_touch", "linear", "position", "time_decay")


def credit_by_channel(paths: PathTable, shares: np.ndarray) -> pd.DataFrame:
    """Channel, conversions, value from per-touch shares of each path's conversion."""
    row = paths.path_index()
    n = len(paths.channels)
    conv = np.bincount(paths.codes, shares * paths.conversions[row], minlength=n)
    value = np.bincount(paths.codes, shares * paths.value[row], minlength=n) if paths.has_value \
        else np.full(n, np.nan)
    return pd.DataFrame({"channel": list(paths.channels), "conversions": conv, "value": value})


def first_touch_shares(paths: PathTable) -> np.ndarray:
    return (paths.positions() == 0).astype(float)


def last_touch_shares(paths: PathTable) -> np.ndarray:
    return (paths.positions() == np.repeat(paths.lengths, paths.lengths) - 1).astype(float)


def linear_shares(paths: PathTable) -> np.ndarray:
    return 1.0 / np.repeat(paths.lengths, paths.lengths)


def position_shares(paths: PathTable, first: float = 0.4, last: float = 0.4) -> np.ndarray:
    """U-shape: `first` and `last` to the end touches, the rest split equally over middle touches.
    A 1-touch path gives 100 % to its touch and a 2-touch path splits 50/50 (the cases' convention)."""
    if first < 0 or last < 0 or first + last > 1:
        raise DataError(f"position weights first={first}, last={last} must be >= 0 and sum to at most 1")
    pos = paths.positions()
    length = np.repeat(paths.lengths, paths.lengths)
    middle = (1.0 - first - last) / np.maximum(length - 2, 1)
    shares = np.where(pos == 0, first, np.where(pos == length - 1, last, middle))
    shares = np.where(length == 2, 0.5, shares)
    return np.where(length == 1, 1.0, shares)


def time_decay_shares(journeys, half_life="7D", whole_periods: bool = False) -> np.ndarray:
    """Weights halve every `half_life` before the conversion. With `whole_periods` the elapsed
    time is floored to whole half-lives first (a touch 5 days 2 hours out with a 1-day half-life
    weighs 2^-5), which is how some tools count days."""
    h = _half_life_ns(half_life)
    paths = journeys.paths
    row = paths.path_index()
    before = (journeys.end.view(np.int64)[row] - journeys.touch_time.view(np.int64)).astype(float) / h
    if whole_periods:
        before = np.floor(before)
    # Relative to each journey's last touch, so long gaps never underflow every weight to 0.
    last = before[paths.offsets[1:] - 1]
    weight = np.exp2(-(before - np.repeat(last, paths.lengths)))
    return weight / np.repeat(np.add.reduceat(weight, paths.offsets[:-1]), paths.lengths)


def first_touch(data) -> pd.DataFrame:
    paths = _paths(data)
    return credit_by_channel(paths, first_touch_shares(paths))


def last_touch(data) -> pd.DataFrame:
    paths = _paths(data)
    return credit_by_channel(paths, last_touch_shares(paths))


def linear(data) -> pd.DataFrame:
    paths = _paths(data)
    return credit_by_channel(paths, linear_shares(paths))


def position_based(data, first: float = 0.4, last: float = 0.4) -> pd.DataFrame:
    paths = _paths(data)
    return credit_by_channel(paths, position_shares(paths, first, last))


def time_decay(journeys, half_life="7D", whole_periods: bool = False) -> pd.DataFrame:
    """Needs touch timestamps, so it takes Journeys (from build_journeys), not a path table."""
    if not hasattr(journeys, "touch_time"):
        raise DataError("time decay needs touch timestamps: pass Journeys from build_journeys, "
                        "not an aggregated path table")
    journeys = _nonempty_journeys(journeys)
    return credit_by_channel(journeys.paths, time_decay_shares(journeys, half_life, whole_periods))


def touch_shares(data, model: str, **options) -> np.ndarray:
    """Per-touch shares for a rule-based model by name (aligned with the path table's codes)."""
    if model == "time_decay":
        return time_decay_shares(data, **options)
    makers = {"first_touch": first_touch_shares, "last_touch": last_touch_shares,
              "linear": linear_shares, "position": position_shares}
    if model not in makers:
        raise DataError(f"unknown rule-based model '{model}'; choose one of {list(RULE_BASED)}")
    return makers[model](as_path_table(data), **options)


def rule_based(data, half_life="7D") -> dict[str, pd.DataFrame]:
    """Every rule-based model; time decay only when `data` carries timestamps (Journeys)."""
    out = {"first_touch": first_touch(data), "last_touch": last_touch(data), "linear": linear(data),
           "position": position_based(data)}
    if hasattr(data, "touch_time"):
        out["time_decay"] = time_decay(data, half_life)
    return out


def _paths(data) -> PathTable:
    return as_path_table(data).nonempty()


def _nonempty_journeys(journeys):
    if (journeys.paths.lengths == 0).any():
        raise DataError("journeys contain an empty path; build them with build_journeys")
    return journeys


def _half_life_ns(half_life) -> float:
    try:
        h = pd.Timedelta(half_life)
    except (ValueError, TypeError):
        raise DataError(f"half_life '{half_life}' is not a duration; use e.g. '7D' or pd.Timedelta(days=7)")
    if h <= pd.Timedelta(0):
        raise DataError(f"half_life must be positive, got {half_life}")
    return float(h.value)
