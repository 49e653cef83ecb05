"""Per-draw components of a fitted model over any frame, with the training model's own equations."""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from mediamix.model.design import Design, build_design
from mediamix.model.mmm import ModelStatics, components
from mediamix.model.posterior import FittedModel

PARAMS = ("decay", "half", "slope", "beta", "intercept", "trend_coef", "season", "factor_coef")


@dataclass
class ComponentDraws:
    """Per-draw components in target units over the design's dates."""
    design: Design
    base: np.ndarray      # (sample, time)
    factors: np.ndarray   # (sample, time, factor)
    media: np.ndarray     # (sample, time, channel)
    sigma: np.ndarray     # (sample,) noise sd in target units

    @property
    def predicted(self) -> np.ndarray:
        return self.base + self.factors.sum(-1) + self.media.sum(-1)


def statics_for(fitted: FittedModel, design: Design) -> ModelStatics:
    return ModelStatics(fitted.spec, design, fitted.priors)


def component_draws(fitted: FittedModel, frame: pd.DataFrame) -> ComponentDraws:
    sc = fitted.scaling
    design = build_design(frame, fitted.spec, periods_per_year=sc.periods_per_year, period_days=sc.period_days,
                          scaling=sc)
    statics = statics_for(fitted, design)
    draws = fitted.draws()
    params = {k: jnp.asarray(draws[k]) for k in PARAMS if k in draws}
    n = len(draws["sigma"])
    if "trend_coef" not in params:
        params["trend_coef"] = jnp.zeros(n)
    if "season" not in params:
        params["season"] = jnp.zeros((n, 0))
    comp = jax.jit(jax.vmap(lambda p: components(statics, p)))(params)
    y = sc.y_scale
    return ComponentDraws(design=design, base=np.asarray(comp["base"]) * y, factors=np.asarray(comp["factor"]) * y,
                          media=np.asarray(comp["media"]) * y, sigma=np.asarray(draws["sigma"]) * y)


