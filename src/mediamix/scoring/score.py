"""Scoring: a fitted posterior applied to a date range.

Contributions are computed over the whole available history and then cut to the range, so
carryover from weeks before the range is included. The same `components` function as the
training model is used, draw by draw, so results are exact and reproducible.
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from mediamix.errors import MediamixError
from mediamix.model.posterior import FittedModel
from mediamix.model.predict import component_draws

def _summary(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return x.mean(axis=0), np.quantile(x, 0.05, axis=0), np.quantile(x, 0.95, axis=0)


def score_range(fitted: FittedModel, frame: pd.DataFrame, start: str | None = None,
                end: str | None = None) -> pd.DataFrame:
    """Scores per period and component: date, component, kind, mean, p05, p95, spend, volume.

    Components are 'base', each factor and each channel; 'predicted' and 'actual' rows give
    the total. Dates default to the training window."""
    cd = component_draws(fitted, frame)
    dates = cd.design.dates
    lo = pd.Timestamp(start) if start else pd.Timestamp(fitted.scaling.train_start)
    hi = pd.Timestamp(end) if end else pd.Timestamp(fitted.scaling.train_end)
    if lo > hi:
        raise MediamixError(f"score range: --from {lo.date()} is after --to {hi.date()}")
    keep = np.asarray((dates >= lo) & (dates <= hi))
    if not keep.any():
        raise MediamixError(f"score range {lo.date()}..{hi.date()} has no data; the data covers "
                            f"{dates.min().date()}..{dates.max().date()}")
    rows = []

    def add(name, kind, draws_2d, spend=None, volume=None):
        m, p05, p95 = _summary(draws_2d[:, keep])
        part = pd.DataFrame({"date": dates[keep], "component": name, "kind": kind, "mean": m, "p05": p05, "p95": p95,
                             "spend": np.nan if spend is None else spend[keep],
                             "volume": np.nan if volume is None else volume[keep]})
        rows.append(part)

    add("base", "base", cd.base)
    for j, f in enumerate(cd.design.factor_names):
        add(f, "factor", cd.factors[:, :, j])
    for j, ch in enumerate(cd.design.channels):
        add(ch, "channel", cd.media[:, :, j], cd.design.spend[:, j], cd.design.volume[:, j])
    add("predicted", "total", cd.predicted)
    out = pd.concat(rows, ignore_index=True)
    actual = pd.DataFrame({"date": dates[keep], "component": "actual", "kind": "total",
                           "mean": cd.design.y[keep], "p05": np.nan, "p95": np.nan, "spend": np.nan, "volume": np.nan})
    return pd.concat([out, actual], ignore_index=True)
