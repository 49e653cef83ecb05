"""mediamix on the shared simulated data set, through the library's own train() call.

Run with the project's venv (/work/main/.venv/bin/python) like the peers' runners, so that
wall time and peak memory are measured the same way. Spec: the five touchpoints (spend
<ch>_spend), factors price (negative) and holiday (positive), the model's defaults otherwise
(geometric adstock over an 8-week lookback, Hill saturation, linear trend, Fourier order 2,
spend-share priors), no holdout so that every tool fits the same weeks.

wall_s is train() (design + compile + NUTS + diagnostics + the in-sample fit check); the
diagnostics' own fit_seconds (NUTS incl. compile) is reported too. Shares are
component_draws(...).media summed over the training window, posterior mean, over total revenue.
"""
from __future__ import annotations

import time

import common


def fit(config: dict) -> dict:
    t0 = time.perf_counter()
    import pandas as pd
    from mediamix.model.predict import component_draws
    from mediamix.model.spec import FactorSpec, ModelSpec, SamplerSpec, TouchpointSpec
    from mediamix.model.train import train
    import_s = time.perf_counter() - t0

    frame = pd.read_csv(config["csv"], parse_dates=["date"])
    channels = config["channels"]
    chains, warmup, draws = config["chains"], config["warmup"], config["draws"]
    spec = ModelSpec(
        name="compare-peers", dataset="compare-peers", conversion=config["target"],
        touchpoints=tuple(TouchpointSpec(name=c, spend=f"{c}_spend") for c in channels),
        factors=(FactorSpec("price", impact="negative"), FactorSpec("holiday", impact="positive")),
        lookback_weeks=config["l_max"], seasonality_order=config["seasonality_order"], holdout_weeks=0,
        sampler=SamplerSpec(chains=chains, warmup=warmup, draws=draws, seed=config["seed"],
                            target_accept=config["target_accept"]),
    )

    started = time.perf_counter()
    fitted, _ = train(spec, frame, progress=False)
    wall_s = time.perf_counter() - started

    t1 = time.perf_counter()
    diag = fitted.diagnostics
    table = diag.get("parameters_table") or []
    worst = min(table, key=lambda row: row["ess_bulk"])["name"] if table else ""
    comp = component_draws(fitted, frame)
    window = comp.design.in_training
    per_channel = comp.media[:, window, :].sum(axis=1).mean(axis=0)     # (channel,)
    total = float(frame.loc[window, config["target"]].sum())
    shares = {ch: float(per_channel[comp.design.channels.index(ch)]) / total for ch in channels}
    post_s = time.perf_counter() - t1
    return {
        "wall_s": wall_s, "import_s": import_s, "post_s": post_s, "fit_seconds": diag.get("fit_seconds"),
        "min_ess_bulk": float(diag["min_ess_bulk"]), "min_ess_var": worst, "max_rhat": diag.get("max_rhat"),
        "ess_vars": sorted({row["name"].split("[")[0] for row in table}),
        "divergences": int(diag["divergences"]), "shares": shares, "status": diag.get("status"),
        "settings": {"chains": chains, "warmup": warmup, "draws": draws, "sampler": "numpyro NUTS (diagonal mass on Laplace-whitened coordinates)",
                     "target_accept": config["target_accept"], "max_tree_depth": spec.sampler.max_tree_depth,
                     "seed": config["seed"],
                     "model": f"geometric adstock lookback {config['l_max']} weeks, Hill saturation, linear trend, "
                              f"Fourier order {config['seasonality_order']}, factors price (-) + holiday (+), "
                              f"spend-share priors, no holdout"},
        "versions": common.versions("mediamix", "numpyro", "jax", "jaxlib", "arviz"),
    }


if __name__ == "__main__":
    common.run("mediamix", fit)
