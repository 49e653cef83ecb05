"""Lift tests (calibration): measured incremental outcomes that enter the likelihood.

A lift test says: channel c drove `incremental` conversions (or revenue) over the periods
starting in [start, end], with standard error `standard_error`. The model's prediction of that
number is its contribution of c summed over those periods, so each test adds one Gaussian term
    -0.5 x ((sum_t window[i, t] x media[t, c_i] - obs_i) / se_i)^2
to the log likelihood, everything in scaled target units (divided by the training y_scale).
A test is refused when the data cannot check it: no period in its range, periods outside the
training window, no spend of the channel there or in the lookback before, or an |incremental|
larger than the total conversions observed in its periods.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mediamix.data.messages import amount
from mediamix.errors import DataError
from mediamix.model.design import Design
from mediamix.model.spec import ModelSpec


def lift_arrays(spec: ModelSpec, design: Design) -> dict[str, np.ndarray]:
    """float32 arrays for the spec's lift tests: window (n_lift, T) 0/1 over the design's rows,
    onehot (n_lift, C) picking the channel, obs and se (n_lift,) in scaled target units."""
    n, T, C = len(spec.lift_tests), len(design.dates), len(design.channels)
    window, onehot = np.zeros((n, T), np.float32), np.zeros((n, C), np.float32)
    obs, se = np.zeros(n, np.float32), np.zeros(n, np.float32)
    y_scale = design.scaling.y_scale
    for i, lt in enumerate(spec.lift_tests):
        where = f"lift_tests[{i}] ({lt.touchpoint}, {lt.start}..{lt.end})"
        rows = np.asarray((design.dates >= pd.Timestamp(lt.start)) & (design.dates <= pd.Timestamp(lt.end)))
        if not rows.any():
            raise DataError(f"{where}: no period of the data starts in that range (the data runs "
                            f"{design.dates.min().date()}..{design.dates.max().date()}); check the dates")
        outside = rows & ~design.in_training
        if outside.any():
            # The test measures the whole period; the model is only trained on its window.
            raise DataError(f"{where}: {int(outside.sum())} of its {int(rows.sum())} periods fall outside the training "
                            f"window {design.scaling.train_start}..{design.scaling.train_end}; move the test's dates "
                            f"inside it or widen the training window")
        j = design.channels.index(lt.touchpoint)
        # Carryover counts: a post-campaign test window may hold no spend of its own.
        first = int(np.argmax(rows))
        reach = rows.copy()
        reach[max(first - (design.scaling.n_lags - 1), 0):first] = True
        if not design.spend[reach, j].sum() > 0:
            raise DataError(f"{where}: channel '{lt.touchpoint}' has no spend in that period or in the "
                            f"{design.scaling.n_lags - 1} periods before it (where its carryover would come from), "
                            f"so the model gives it no contribution there; check the dates or the channel")
        # The channel cannot have caused more than everything observed in those periods: a
        # larger |incremental| is a typo, the wrong units or the wrong dates.
        observed = design.y[rows]
        if np.isfinite(observed).all():   # (a period without the target cannot be checked)
            total = float(observed.sum())
            if abs(lt.incremental) > total:
                dates = design.dates[rows]
                periods = f"{len(dates)} period{'s' if len(dates) != 1 else ''} ({dates[0].date()}..{dates[-1].date()})"
                units = spec.currency if spec.conversion_kind == "revenue" else "conversions"
                raise DataError(f"{where}: incremental {amount(lt.incremental)} is more than all the "
                                f"'{spec.conversion}' observed in its {periods}, {amount(total)} in total; a channel "
                                f"cannot cause more than everything observed. Check the value, its units ({units}, "
                                f"summed over the test's periods) and the dates")
        window[i, rows] = 1.0
        onehot[i, j] = 1.0
        obs[i] = lt.incremental / y_scale
        se[i] = lt.standard_error / y_scale
    return {"window": window, "onehot": onehot, "obs": obs, "se": se}


def lift_log_likelihood(window, onehot, obs, se, media, xp):
    """Gaussian log likelihood of the lift tests, summed over tests; shape media.shape[:-2].

    media: the channels' contribution in scaled target units, (..., T, C). The constant
    -log(se sqrt(2 pi)) is left out: it does not depend on the parameters. xp: numpy or jax.numpy.
    With no tests the sum is over an empty axis, i.e. 0.
    """
    pred = xp.einsum("...tc,ic,it->...i", media, onehot, window)   # test i's channel, summed over its periods
    return -0.5 * xp.sum(((pred - obs) / se) ** 2, axis=-1)
