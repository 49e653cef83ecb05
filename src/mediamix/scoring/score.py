"""Scoring: a fitted posterior applied to a date range.

Contributions are computed over the whole available history and then cut to the range, so
carryover from weeks before the range is included (per geo: each geo's own earlier spend).
The same equations as the training model are used, draw by draw, so results are exact and
reproducible. A geo model's national scores are the sums over geos; `score_geo_range` gives
the same table per geo.
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from mediamix.errors import MediamixError
from mediamix.model.posterior import FittedModel
from mediamix.model.predict import ComponentDraws, component_draws


def _summary(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return x.mean(axis=0), np.quantile(x, 0.05, axis=0), np.quantile(x, 0.95, axis=0)


def _range_mask(fitted: FittedModel, dates: pd.DatetimeIndex, start: str | None, end: str | None) -> np.ndarray:
    lo = pd.Timestamp(start) if start else pd.Timestamp(fitted.scaling.train_start)
    hi = pd.Timestamp(end) if end else pd.Timestamp(fitted.scaling.train_end)
    if lo > hi:
        raise MediamixError(f"score range: --from {lo.date()} is after --to {hi.date()}")
    keep = np.asarray((dates >= lo) & (dates <= hi))
    if not keep.any():
        raise MediamixError(f"score range {lo.date()}..{hi.date()} has no data; the data covers "
                            f"{dates.min().date()}..{dates.max().date()}")
    return keep


def _table(dates, keep, factor_names, channels, base, factors, media, spend, volume, actual) -> pd.DataFrame:
    """Rows per date and component from (sample, time[, k]) draws and (time[, channel]) data."""
    rows = []

    def add(name, kind, draws_2d, spend=None, volume=None):
        m, p05, p95 = _summary(draws_2d[:, keep])
        part = pd.DataFrame({"date": dates[keep], "component": name, "kind": kind, "mean": m, "p05": p05, "p95": p95,
                             "spend": np.nan if spend is None else spend[keep],
                             "volume": np.nan if volume is None else volume[keep]})
        rows.append(part)

    add("base", "base", base)
    for j, f in enumerate(factor_names):
        add(f, "factor", factors[:, :, j])
    for j, ch in enumerate(channels):
        add(ch, "channel", media[:, :, j], spend[:, j], volume[:, j])
    add("predicted", "total", base + factors.sum(-1) + media.sum(-1))
    out = pd.concat(rows, ignore_index=True)
    observed = pd.DataFrame({"date": dates[keep], "component": "actual", "kind": "total",
                             "mean": actual[keep], "p05": np.nan, "p95": np.nan, "spend": np.nan, "volume": np.nan})
    return pd.concat([out, observed], ignore_index=True)


def score_range(fitted: FittedModel, frame: pd.DataFrame, start: str | None = None,
                end: str | None = None, *, draws: ComponentDraws | None = None) -> pd.DataFrame:
    """Scores per period and component: date, component, kind, mean, p05, p95, spend, volume.

    Components are 'base', each factor and each channel; 'predicted' and 'actual' rows give
    the total. Dates default to the training window. `draws`: component draws of `frame`
    already computed (else computed here)."""
    cd = draws if draws is not None else component_draws(fitted, frame)
    d = cd.design
    keep = _range_mask(fitted, d.dates, start, end)
    return _table(d.dates, keep, d.factor_names, d.channels, cd.base, cd.factors, cd.media, d.spend, d.volume, d.y)


def score_geo_range(fitted: FittedModel, frame: pd.DataFrame, start: str | None = None,
                    end: str | None = None, *, draws: ComponentDraws | None = None) -> pd.DataFrame:
    """`score_range` per geo: the same columns after a leading `geo` column."""
    cd = draws if draws is not None and draws.media_geo is not None else component_draws(fitted, frame, per_geo=True)
    d = cd.design
    keep = _range_mask(fitted, d.dates, start, end)
    parts = []
    for g, geo in enumerate(d.geos):
        table = _table(d.dates, keep, d.factor_names, d.channels, cd.base_geo[:, :, g], cd.factors_geo[:, :, g],
                       cd.media_geo[:, :, g], d.spend_geo[:, g], d.volume_geo[:, g], d.y_geo[:, g])
        parts.append(table.assign(geo=geo))
    out = pd.concat(parts, ignore_index=True)
    return out[["geo"] + [c for c in out.columns if c != "geo"]]


def geo_totals(scores: pd.DataFrame) -> pd.DataFrame:
    """Per geo (the index), totals over a per-geo scores table's range: actual, base, factors,
    media, media % of actual, and the channel that drove most."""
    # "total" rows hold both the actual and the predicted series: keep the actual one apart
    kinds = scores.assign(kind=scores["kind"].where(scores["component"] != "actual", "actual"))
    total = kinds.groupby(["geo", "kind"], sort=False)["mean"].sum().unstack("kind")
    channels = scores[scores["kind"] == "channel"].groupby(["geo", "component"], sort=False)["mean"].sum()
    table = pd.DataFrame({"actual": total.get("actual"), "base": total.get("base"),
                          "factors": total.get("factor"), "media": total.get("channel")}, index=total.index)
    table["media %"] = 100 * table["media"] / table["actual"]
    table["top channel"] = channels.groupby(level="geo").idxmax().map(lambda key: key[1])
    return table
