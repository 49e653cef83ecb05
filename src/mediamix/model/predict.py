"""Per-draw components of a fitted model over any frame, with the training model's own equations.

The model works per geo in scaled units; here every component is brought back to target
units (a geo's scale, times its population with per-capita scaling) and summed over geos
into the national arrays insights and scoring read. National data is one geo, so the
national arrays are that geo's. Per-geo arrays are kept on request (`per_geo=True`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mediamix.model.design import Design, build_design
from mediamix.model.mmm import ModelStatics, geo_params, media_response, split_params
from mediamix.model.posterior import FittedModel

# Draws are processed in blocks of at most this many (draw x time x geo x channel) cells, so
# a large geo model never holds its saturated media for every draw at once.
BLOCK_CELLS = 4_000_000


@dataclass
class ComponentDraws:
    """Per-draw components in target units over the design's dates, summed over geos."""
    design: Design
    base: np.ndarray      # (sample, time)
    factors: np.ndarray   # (sample, time, factor)
    media: np.ndarray     # (sample, time, channel)
    sigma: np.ndarray     # (sample,) noise sd in scaled units x the national target scale (national: target units)
    noise_sd: np.ndarray  # (sample, time) sd of the national target's noise (geos' noise is independent)
    statics: ModelStatics  # the model's arrays and component groups over the design (NumPy)
    base_geo: np.ndarray | None = None      # (sample, time, geo), with per_geo=True
    factors_geo: np.ndarray | None = None   # (sample, time, geo, factor)
    media_geo: np.ndarray | None = None     # (sample, time, geo, channel)

    @property
    def predicted(self) -> np.ndarray:
        return self.base + self.factors.sum(-1) + self.media.sum(-1)

    @property
    def predicted_geo(self) -> np.ndarray:
        """(sample, time, geo); needs per_geo=True."""
        if self.media_geo is None:
            raise ValueError("per-geo components were not kept; call component_draws(..., per_geo=True)")
        return self.base_geo + self.factors_geo.sum(-1) + self.media_geo.sum(-1)


def statics_for(fitted: FittedModel, design: Design) -> ModelStatics:
    return ModelStatics(fitted.spec, design, fitted.priors, training=False)


def _block(st: ModelStatics, draws: dict, unit: np.ndarray) -> dict:
    """Per-geo components in target units for a block of draws: base (n, t, g), factors
    (n, t, g, f), media (n, t, g, c)."""
    a = st.arrays
    n = len(draws["sigma"])
    T, G, F = a["factors"].shape
    beta, intercept = geo_params(st, draws)
    sat = media_response(st, split_params(st, draws), draws.get("effect_coef"), xp=np)   # (n, t, g, c)
    trend_coef = draws.get("trend_coef", np.zeros(n, np.float32))
    base = intercept[:, None, :] + (trend_coef[:, None] * a["trend"][None, :])[:, :, None]
    if st.n_season:
        base = base + (draws["season"] @ a["fourier"].T)[:, :, None]
    if st.n_trend_knots:
        base = base + (draws["trend_spline"] @ a["trend_basis"].T)[:, :, None]
    factors = a["factors"][None] * draws["factor_coef"][:, None, None, :] if st.n_factors else \
        np.zeros((n, T, G, 0), np.float32)
    media = sat * beta[:, None, :, :]
    return {"base": base * unit[None], "factors": factors * unit[None, :, :, None],
            "media": media * unit[None, :, :, None]}


def component_draws(fitted: FittedModel, frame: pd.DataFrame, *, per_geo: bool = False) -> ComponentDraws:
    """All draws in NumPy (float32), with the model's own equations: nothing to compile, and
    the same numbers in every process (a reloaded posterior reproduces them exactly)."""
    sc = fitted.scaling
    design = build_design(frame, fitted.spec, periods_per_year=sc.periods_per_year, period_days=sc.period_days,
                          scaling=sc)
    st = statics_for(fitted, design).to_numpy()
    draws = {k: np.asarray(v, dtype=np.float32) for k, v in fitted.draws().items()}
    n = len(draws["sigma"])
    T, G, C = len(design.dates), design.n_geos, len(design.channels)
    unit = design.unit.astype(np.float32)                  # target units per scaled unit (time, geo)
    size = max(1, BLOCK_CELLS // max(T * G * C, 1))
    national, geo = {"base": [], "factors": [], "media": []}, {"base": [], "factors": [], "media": []}
    for lo in range(0, n, size):
        part = _block(st, {k: v[lo:lo + size] for k, v in draws.items()}, unit)
        for name, values in part.items():
            national[name].append(values.sum(axis=2))
            if per_geo:
                geo[name].append(values)
    joined = {name: np.concatenate(parts) for name, parts in national.items()}
    kept = {f"{name}_geo": np.concatenate(parts) for name, parts in geo.items()} if per_geo else {}
    noise_scale = np.sqrt(np.sum(np.square(unit.astype(np.float64)), axis=1)).astype(np.float32)   # (time,)
    return ComponentDraws(design=design, base=joined["base"], factors=joined["factors"], media=joined["media"],
                          sigma=draws["sigma"] * np.float32(sc.y_scale),
                          noise_sd=draws["sigma"][:, None] * noise_scale[None, :], statics=st, **kept)
