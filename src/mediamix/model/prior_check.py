"""Prior predictive check: what the priors imply before any training.

Draws from the model's priors (the same NumPyro model that is trained, with no data
conditioning) and reports, per channel, the implied share of conversions and return on
spend over the fitting window, so an analyst can see whether the priors say something
implausible (a 300% ROAS, media driving 90% of sales) before spending time on a fit.
"""
from __future__ import annotations

import jax
import numpy as np
import pandas as pd
from numpyro.infer import Predictive

from mediamix.model.design import WEEKS_PER_YEAR, build_design
from mediamix.model.fit import spend_in_fit
from mediamix.model.mmm import ModelStatics, mmm_model
from mediamix.model.priors import share_priors
from mediamix.model.spec import ModelSpec


def prior_check(spec: ModelSpec, frame: pd.DataFrame, *, periods_per_year: float = WEEKS_PER_YEAR,
                period_days: float = 7.0, draws: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Per channel: prior share of conversions and ROAS (or CPA for counts), 5/50/95 percentiles."""
    design = build_design(frame, spec, periods_per_year=periods_per_year, period_days=period_days)
    spend = spend_in_fit(design)
    total = float(np.nansum(design.y[design.in_fit]))
    priors = share_priors(spec, spend, total)
    statics = ModelStatics(spec, design, priors)
    samples = Predictive(mmm_model, num_samples=draws)(jax.random.PRNGKey(seed), statics)
    share = np.asarray(samples["share"])                               # (draw, channel)
    contribution = share * total
    if share.ndim == 3:     # geos: each geo's share of its own conversions, summed into national ones
        geo_totals = np.nansum(design.y_geo[design.in_fit], axis=0)    # (geo,)
        contribution = (share * geo_totals[None, :, None]).sum(axis=1)
        share = contribution / total
    rows = []
    for j, ch in enumerate(design.channels):
        q = np.quantile(share[:, j], [0.05, 0.5, 0.95])
        row = {"channel": ch, "prior_source": priors.source[j], "spend": spend[j],
               "share_p05": q[0], "share_median": q[1], "share_p95": q[2]}
        ratio = contribution[:, j] / spend[j] if spec.conversion_kind == "revenue" else spend[j] / contribution[:, j]
        name = "roas" if spec.conversion_kind == "revenue" else "cpa"
        r = np.quantile(ratio, [0.05, 0.5, 0.95])
        row.update({f"{name}_p05": r[0], f"{name}_median": r[1], f"{name}_p95": r[2]})
        rows.append(row)
    media = np.quantile(share.sum(axis=1), [0.05, 0.5, 0.95])
    rows.append({"channel": "all paid media", "prior_source": f"media_share_prior {spec.media_share_prior:g}%",
                 "spend": float(spend.sum()), "share_p05": media[0], "share_median": media[1], "share_p95": media[2]})
    return pd.DataFrame(rows)
