"""Rolling-origin time-series cross-validation.

Each fold trains on everything up to an origin and forecasts the next `horizon_weeks`; the
origins step back from the end of the training window one horizon at a time. The forecast
uses the real spend and factors of the forecast weeks (as scoring would), so it measures how
well the fitted response explains weeks it never saw.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from mediamix.errors import MediamixError
from mediamix.model.design import WEEKS_PER_YEAR, periods_for_weeks, training_window
from mediamix.model.diagnostics import fit_metrics
from mediamix.model.predict import component_draws
from mediamix.model.spec import ModelSpec, TrainingWindow
from mediamix.model.train import train


def rolling_origin(spec: ModelSpec, frame: pd.DataFrame, *, folds: int = 3, horizon_weeks: int = 13,
                   periods_per_year: float = WEEKS_PER_YEAR, period_days: float = 7.0,
                   progress: bool = False) -> pd.DataFrame:
    """One row per fold: origin, forecast window, and R2/MAPE/sMAPE/RMSE of the forecast."""
    if folds < 1:
        raise MediamixError("folds: need at least 1")
    frame = frame.sort_values("date").reset_index(drop=True)
    dates = pd.DatetimeIndex(np.sort(frame["date"].unique()))      # geo-level frames repeat each date
    start, end = training_window(dates, spec, periods_per_year)
    window = dates[(dates >= start) & (dates <= end)]
    horizon = periods_for_weeks(horizon_weeks, periods_per_year)
    if len(window) - folds * horizon < 52 * periods_per_year / WEEKS_PER_YEAR:
        raise MediamixError(f"{folds} folds of {horizon_weeks} weeks leave less than a year to train on "
                            f"({len(window)} periods in the training window); use fewer folds")
    rows = []
    for k in range(folds, 0, -1):
        origin = window[len(window) - k * horizon - 1]
        test = window[len(window) - k * horizon: len(window) - (k - 1) * horizon]
        fold_spec = replace(spec, training=TrainingWindow(start=str(window[0].date()), end=str(origin.date())),
                            holdout_weeks=0)
        fitted, diag = train(fold_spec, frame, periods_per_year=periods_per_year, period_days=period_days,
                             progress=progress)
        cd = component_draws(fitted, frame)
        keep = np.asarray(cd.design.dates.isin(test))
        metrics = fit_metrics(cd.design.y[keep], cd.predicted.mean(axis=0)[keep])
        rows.append({"fold": folds - k + 1, "origin": origin, "forecast_start": test[0], "forecast_end": test[-1],
                     "status": diag.status, **metrics})
    return pd.DataFrame(rows)
