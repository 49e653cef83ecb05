"""Fitting: NUTS over the NumPyro model, returning an ArviZ InferenceData."""
from __future__ import annotations

import time
from dataclasses import dataclass

import arviz as az
import jax
import numpy as np
from numpyro.infer import MCMC, NUTS, init_to_value

from mediamix.model.design import Design
from mediamix.model.mmm import ModelStatics, mmm_model
from mediamix.model.priors import SharePriors, share_priors
from mediamix.model.spec import ModelSpec


@dataclass
class FitOutput:
    idata: az.InferenceData
    statics: ModelStatics
    priors: SharePriors
    seconds: float


def chain_method(chains: int) -> str:
    # One CPU device per chain runs chains truly in parallel; otherwise vectorise them.
    return "parallel" if chains > 1 and jax.local_device_count() >= chains else "vectorized"


def prior_centre(statics: ModelStatics) -> dict:
    """Start every chain at the prior centre: cheap (nothing extra to compile) and valid."""
    C = statics.n_channels
    start = {"decay_logit": np.zeros(C), "half_log": np.zeros(C), "slope_log": np.full(C, np.log(1.3)),
             "share_logit": np.asarray(statics.share_loc), "intercept": 0.7, "sigma_log": -2.0}
    if statics.has_trend:
        start["trend_coef"] = 0.0
    if statics.n_season:
        start["season"] = np.zeros(statics.n_season)
    if statics.n_factors:
        start["factor_raw"] = np.asarray(statics.factor_loc)
    return {k: np.asarray(v, dtype=np.float32) for k, v in start.items()}


def spend_in_fit(design: Design) -> np.ndarray:
    return design.spend[design.in_fit].sum(axis=0)


def fit_nuts(spec: ModelSpec, design: Design, *, progress: bool = True) -> FitOutput:
    priors = share_priors(spec, spend_in_fit(design))
    statics = ModelStatics(spec, design, priors)
    s = spec.sampler
    kernel = NUTS(mmm_model, target_accept_prob=s.target_accept, max_tree_depth=s.max_tree_depth, dense_mass=True,
                  init_strategy=init_to_value(values=prior_centre(statics)))
    mcmc = MCMC(kernel, num_warmup=s.warmup, num_samples=s.draws, num_chains=s.chains,
                chain_method=chain_method(s.chains), progress_bar=progress)
    started = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(s.seed), statics, extra_fields=("diverging", "num_steps", "energy"))
    samples = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    extra = {k: np.asarray(v) for k, v in mcmc.get_extra_fields(group_by_chain=True).items()}
    seconds = time.perf_counter() - started
    dims = {name: ["channel"] for name in ("decay_logit", "decay", "half_log", "half", "slope_log", "slope", "share_logit", "share", "beta")}
    dims["factor_coef"] = dims["factor_raw"] = ["factor"]
    coords = {"channel": design.channels, "factor": design.factor_names}
    idata = az.from_dict(
        posterior=samples,
        sample_stats={"diverging": extra["diverging"], "n_steps": extra["num_steps"], "energy": extra["energy"],
                      "tree_depth": np.floor(np.log2(np.maximum(extra["num_steps"], 1))).astype(int) + 1},
        coords=coords, dims=dims,
    )
    return FitOutput(idata=idata, statics=statics, priors=priors, seconds=seconds)
