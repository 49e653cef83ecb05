"""Per-draw components of a fitted model over any frame, with the training model's own equations."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mediamix.model.design import Design, build_design
from mediamix.model.mmm import ModelStatics, media_response, split_params
from mediamix.model.posterior import FittedModel

@dataclass
class ComponentDraws:
    """Per-draw components in target units over the design's dates."""
    design: Design
    base: np.ndarray      # (sample, time)
    factors: np.ndarray   # (sample, time, factor)
    media: np.ndarray     # (sample, time, channel)
    sigma: np.ndarray     # (sample,) noise sd in target units
    statics: ModelStatics  # the model's arrays and component groups over the design (NumPy)

    @property
    def predicted(self) -> np.ndarray:
        return self.base + self.factors.sum(-1) + self.media.sum(-1)


def statics_for(fitted: FittedModel, design: Design) -> ModelStatics:
    return ModelStatics(fitted.spec, design, fitted.priors, training=False)


def component_draws(fitted: FittedModel, frame: pd.DataFrame) -> ComponentDraws:
    """All draws at once in NumPy (float32), with the model's own equations: nothing to compile,
    and the same numbers in every process (a reloaded posterior reproduces them exactly)."""
    sc = fitted.scaling
    design = build_design(frame, fitted.spec, periods_per_year=sc.periods_per_year, period_days=sc.period_days,
                          scaling=sc)
    st = statics_for(fitted, design).to_numpy()
    draws = {k: np.asarray(v, dtype=np.float32) for k, v in fitted.draws().items()}
    n = len(draws["sigma"])
    a = st.arrays
    sat = media_response(st, split_params(st, draws), draws.get("effect_coef"), xp=np)   # (sample, time, channel)
    base = draws["intercept"][:, None] + draws.get("trend_coef", np.zeros(n, np.float32))[:, None] * a["trend"][None, :]
    if st.n_season:
        base = base + draws["season"] @ a["fourier"].T
    if st.n_trend_knots:
        base = base + draws["trend_spline"] @ a["trend_basis"].T
    factors = a["factors"][None, :, :] * draws["factor_coef"][:, None, :] if st.n_factors else \
        np.zeros((n, len(design.dates), 0), np.float32)
    media = sat * draws["beta"][:, None, :]
    y = sc.y_scale
    return ComponentDraws(design=design, base=np.asarray(base) * y, factors=np.asarray(factors) * y,
                          media=np.asarray(media) * y, sigma=draws["sigma"] * y, statics=st)
