"""Lift tests (calibration): measured incremental outcomes that enter the likelihood.

A lift test says: channel c drove `incremental` conversions (or revenue) over the periods
starting in [start, end], with standard error `standard_error`. The model's prediction of that
number is its contribution of c summed over those periods, so each test adds one Gaussian term
    -0.5 x ((sum_t window[i, t] x media[t, c_i] - obs_i) / se_i)^2
to the log likelihood, everything in scaled target units (divided by the training y_scale).
A test is refused when the data cannot check it: no period in its range, periods outside the
training window (a test reaching past the data's first or last date included), no spend of the
channel there or in the lookback before, or an |incremental| larger than the total conversions
observed in its periods. The same checks run when a model is created or edited
(`check_lift_tests`, from Workspace.check_spec), which also warns of a test inside the holdout.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mediamix.data.messages import amount
from mediamix.errors import DataError
from mediamix.model.design import Design, periods_beyond, weeks_for_periods
from mediamix.model.spec import ModelSpec


def _periods(n: int, unit: str = "period") -> str:
    return f"{n} {unit}{'s' if n != 1 else ''}"


def _test_rows(spec: ModelSpec, design: Design, i: int) -> np.ndarray:
    """The design rows (bool, (T,)) lift test i is scored over, or a DataError saying why the data
    cannot check it: no period in its range, periods outside the training window (periods past
    the data's ends included: a test reaching past the data would be scored over only part of
    itself), no spend of the channel there or in the lookback before, or an |incremental| above
    everything observed in its periods."""
    lt = spec.lift_tests[i]
    where = f"lift_tests[{i}] ({lt.touchpoint}, {lt.start}..{lt.end})"
    sc = design.scaling
    lo, hi = pd.Timestamp(lt.start), pd.Timestamp(lt.end)
    rows = np.asarray((design.dates >= lo) & (design.dates <= hi))
    data_span = f"{design.dates.min().date()}..{design.dates.max().date()}"
    if not rows.any():
        raise DataError(f"{where}: no period of the data starts in that range (the data runs "
                        f"{data_span}); check the dates")
    # The test measures all of its periods, the model is trained on its window only.
    before, after = periods_beyond(design.dates, lo, hi, sc.period_days)
    in_data_out = rows & ~design.in_training
    n_total = int(rows.sum()) + len(before) + len(after)
    n_out = int(in_data_out.sum()) + len(before) + len(after)
    if n_out:
        inside = rows & design.in_training
        parts, fixes = [], []
        if len(before):
            parts.append(f"{len(before)} before the data begins on {design.dates.min().date()}")
            fixes.append(f"load data from {before[0].date()}")
        if in_data_out.any():
            parts.append(f"{int(in_data_out.sum())} in the data but outside the training window")
            fixes.append("widen the training window (training.start / training.end)")
        if len(after):
            parts.append(f"{len(after)} after the data ends on {design.dates.max().date()}")
            fixes.append(f"load data through {after[-1].date()}")
        scored = (f"it would be scored over only the {int(inside.sum())} inside" if inside.any() else
                  "none of them is inside")
        shorten = ""
        if inside.any():
            kept = design.dates[inside]
            shorten = (f"shorten the test to the window ({kept[0].date()}..{kept[-1].date()}, with the incremental "
                       f"measured over those periods only), or ")
        raise DataError(f"{where}: {n_out} of its {n_total} periods fall outside the training window "
                        f"{sc.train_start}..{sc.train_end} ({'; '.join(parts)}): {scored}. A test's periods must lie "
                        f"inside the training window: {shorten}{' or '.join(fixes)}")
    j = design.channels.index(lt.touchpoint)
    # Carryover counts: a post-campaign test window may hold no spend of its own.
    first = int(np.argmax(rows))
    reach = rows.copy()
    reach[max(first - (sc.n_lags - 1), 0):first] = True
    if not design.spend[reach, j].sum() > 0:
        raise DataError(f"{where}: channel '{lt.touchpoint}' has no spend in that period or in the "
                        f"{sc.n_lags - 1} periods before it (where its carryover would come from), "
                        f"so the model gives it no contribution there; check the dates or the channel")
    # The channel cannot have caused more than everything observed in those periods: a
    # larger |incremental| is a typo, the wrong units or the wrong dates.
    observed = design.y[rows]
    if np.isfinite(observed).all():   # (a period without the target cannot be checked)
        total = float(observed.sum())
        if abs(lt.incremental) > total:
            dates = design.dates[rows]
            periods = f"{_periods(len(dates))} ({dates[0].date()}..{dates[-1].date()})"
            units = spec.currency if spec.conversion_kind == "revenue" else "conversions"
            size = (f"incremental {amount(lt.incremental)}" if lt.incremental >= 0 else
                    f"a decrease of {amount(-lt.incremental)} (incremental {amount(lt.incremental)})")
            raise DataError(f"{where}: {size} is more than all the '{spec.conversion}' observed in its {periods}, "
                            f"{amount(total)} in total; a channel cannot cause more than everything observed. Check "
                            f"the value, its units ({units}, summed over the test's periods) and the dates")
    return rows


def check_lift_tests(spec: ModelSpec, design: Design) -> list[str]:
    """Every lift test checked against the data as training checks it (a DataError naming the
    first that fails), when a model is created or edited; returns warnings: a test inside the
    holdout makes the holdout no clean out-of-sample check."""
    warnings = []
    sc = design.scaling
    for i, lt in enumerate(spec.lift_tests):
        rows = _test_rows(spec, design, i)
        held = rows & design.in_holdout
        if not held.any():
            continue
        holdout = design.dates[design.in_holdout]
        after = int((design.in_training & (design.dates > design.dates[rows][-1])).sum())
        most = weeks_for_periods(after, sc.periods_per_year)
        fix = (f"holdout_weeks: {most} or less starts the holdout after the test" if most >= 1 else
               "only holdout_weeks: 0 (no holdout) keeps it clean, as the test runs to the end of the training window")
        warnings.append(
            f"lift_tests[{i}] ({lt.touchpoint}, {lt.start}..{lt.end}): {int(held.sum())} of its "
            f"{_periods(int(rows.sum()))} lie in the holdout ({holdout[0].date()}..{holdout[-1].date()}, the last "
            f"holdout_weeks {spec.holdout_weeks} of the training window). The test enters the fit there, so the "
            f"holdout is not a clean out-of-sample check of '{lt.touchpoint}': {fix}; or keep both, reading the "
            f"holdout error as optimistic")
    return warnings


def lift_arrays(spec: ModelSpec, design: Design) -> dict[str, np.ndarray]:
    """float32 arrays for the spec's lift tests: window (n_lift, T) 0/1 over the design's rows,
    onehot (n_lift, C) picking the channel, obs and se (n_lift,) in scaled target units."""
    n, T, C = len(spec.lift_tests), len(design.dates), len(design.channels)
    window, onehot = np.zeros((n, T), np.float32), np.zeros((n, C), np.float32)
    obs, se = np.zeros(n, np.float32), np.zeros(n, np.float32)
    y_scale = design.scaling.y_scale
    for i, lt in enumerate(spec.lift_tests):
        rows = _test_rows(spec, design, i)
        window[i, rows] = 1.0
        onehot[i, design.channels.index(lt.touchpoint)] = 1.0
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
