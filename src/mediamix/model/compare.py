"""Model comparison by approximate leave-one-out cross-validation (PSIS-LOO, ELPD).

The pointwise log-likelihood of each fitted week is rebuilt from the stored draws with the
training model's own equations, so any two trained variants of a model on the same data
(different lookback, factors, priors) can be ranked without refitting.
"""
from __future__ import annotations

import warnings

import arviz as az
import pandas as pd
from scipy.stats import norm

from mediamix.errors import MediamixError
from mediamix.model.posterior import FittedModel
from mediamix.model.predict import component_draws


def with_log_likelihood(fitted: FittedModel, frame: pd.DataFrame) -> az.InferenceData:
    cd = component_draws(fitted, frame)
    d = cd.design
    post = fitted.idata.posterior
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    y = d.y[d.in_fit]
    mu = cd.predicted[:, d.in_fit]
    ll = norm.logpdf(y[None, :], loc=mu, scale=cd.noise_sd[:, d.in_fit]).reshape(chains, draws, -1)
    idata = fitted.idata.copy()
    idata.add_groups(log_likelihood={"y": ll}, coords={"week": d.dates[d.in_fit]}, dims={"y": ["week"]})
    return idata


def compare_models(fitted: dict[str, FittedModel], frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rank models by ELPD (higher is better); needs the same conversion over the same weeks."""
    if len(fitted) < 2:
        raise MediamixError("compare needs at least two trained models")
    idatas, windows = {}, {}
    for name, f in fitted.items():
        idatas[name] = with_log_likelihood(f, frames[name])
        windows[name] = (f.spec.conversion, f.scaling.train_start, f.scaling.fit_end)
    if len(set(windows.values())) > 1:
        detail = "; ".join(f"{n}: {c} {a}..{b}" for n, (c, a, b) in windows.items())
        raise MediamixError(f"models explain different weeks or conversions ({detail}); "
                            f"LOO compares models fitted to the same data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pareto-k warnings are reported in the table instead
        table = az.compare(idatas, ic="loo")
    out = table.reset_index(names="model")[["model", "rank", "elpd_loo", "p_loo", "elpd_diff", "dse", "weight", "warning"]]
    return out.rename(columns={"dse": "elpd_diff_se", "warning": "pareto_k_warning"})
