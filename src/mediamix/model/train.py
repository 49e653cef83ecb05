"""Training: design -> NUTS (or the Laplace approximation, sampler.method: laplace) -> diagnostics ->
FittedModel (what the registry and CLI call)."""
from __future__ import annotations

import pandas as pd

from mediamix.model.design import WEEKS_PER_YEAR, build_design
from mediamix.model.diagnostics import Diagnostics, diagnose, fit_metrics
from mediamix.model.fit import fit_laplace, fit_nuts
from mediamix.model.posterior import FittedModel
from mediamix.model.predict import component_draws
from mediamix.model.spec import ModelSpec


def train(spec: ModelSpec, frame: pd.DataFrame, *, periods_per_year: float = WEEKS_PER_YEAR,
          period_days: float = 7.0, progress: bool = True) -> tuple[FittedModel, Diagnostics]:
    design = build_design(frame, spec, periods_per_year=periods_per_year, period_days=period_days)
    fit = fit_laplace if spec.sampler.method == "laplace" else fit_nuts
    out = fit(spec, design, progress=progress)
    fitted = FittedModel(spec=spec, scaling=design.scaling, priors=out.priors, idata=out.idata, diagnostics={})
    predicted = component_draws(fitted, frame).predicted.mean(axis=0)
    in_sample = fit_metrics(design.y[design.in_fit], predicted[design.in_fit])
    holdout = fit_metrics(design.y[design.in_holdout], predicted[design.in_holdout]) if design.in_holdout.any() else None
    diag = diagnose(out.idata, spec.thresholds, in_sample=in_sample, holdout=holdout,
                    max_tree_depth=spec.sampler.max_tree_depth, method=spec.sampler.method)
    diag.reasons = design.notices + diag.reasons if diag.reasons else diag.reasons
    fitted.diagnostics = {**diag.to_dict(), "fit_seconds": out.seconds, "notices": design.notices + diag.notices,
                          "parameters_table": diag.parameters.to_dict("records")}
    return fitted, diag
