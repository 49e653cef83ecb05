"""PyMC-Marketing on the shared simulated data set, sampled with NumPyro's NUTS.

Model (public API of pymc_marketing.mmm.multidimensional.MMM): geometric adstock (l_max from
the config, 8), logistic saturation, yearly Fourier seasonality of the configured order, a
linear trend, price and holiday as controls. The library does not scale controls ("apply
your own preprocessing"), so price is standardised; holiday stays 0/1 and the trend runs 0..1.
Priors are the library's defaults. Contributions are channel_contribution in original units
(add_original_scale_contribution_variable), summed over the weeks, over total revenue.
"""
from __future__ import annotations

import time

import common


def fit(config: dict) -> dict:
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd
    from pymc_marketing.mmm import GeometricAdstock, LogisticSaturation
    from pymc_marketing.mmm.multidimensional import MMM
    import_s = time.perf_counter() - t0

    frame = pd.read_csv(config["csv"], parse_dates=["date"])
    channels = config["channels"]
    spend_cols = [f"{c}_spend" for c in channels]
    X = frame[["date", *spend_cols]].copy()
    price = frame["price"].to_numpy(float)
    X["price"] = (price - price.mean()) / price.std()
    X["holiday"] = frame["holiday"].astype(float)
    X["trend"] = np.linspace(0.0, 1.0, len(frame))
    controls = ["price", "holiday", "trend"]
    y = frame[config["target"]].rename("y")

    chains, warmup, draws = config["chains"], config["warmup"], config["draws"]
    started = time.perf_counter()
    mmm = MMM(
        date_column="date",
        channel_columns=spend_cols,
        control_columns=controls,
        adstock=GeometricAdstock(l_max=config["l_max"]),
        saturation=LogisticSaturation(),
        yearly_seasonality=config["seasonality_order"],
    )
    mmm.build_model(X, y)
    mmm.add_original_scale_contribution_variable(var=["channel_contribution"])
    free = [rv.name for rv in mmm.model.free_RVs]
    mmm.fit(X, y, chains=chains, tune=warmup, draws=draws, nuts_sampler="numpyro",
            target_accept=config["target_accept"], random_seed=config["seed"], progressbar=False)
    wall_s = time.perf_counter() - started

    t1 = time.perf_counter()
    post = mmm.idata.posterior
    conv = common.convergence(post, free)
    divergences = int(mmm.idata.sample_stats["diverging"].sum())
    contribution = post["channel_contribution_original_scale"]          # (chain, draw, date, channel)
    per_channel = contribution.sum("date").mean(("chain", "draw"))
    total = float(frame[config["target"]].sum())
    channel_dim = [d for d in per_channel.dims][0]
    shares = {ch: float(per_channel.sel({channel_dim: col})) / total for ch, col in zip(channels, spend_cols)}
    post_s = time.perf_counter() - t1
    return {
        "wall_s": wall_s, "import_s": import_s, "post_s": post_s, **conv, "divergences": divergences,
        "shares": shares,
        "settings": {"chains": chains, "warmup": warmup, "draws": draws, "sampler": "numpyro NUTS",
                     "target_accept": config["target_accept"], "seed": config["seed"],
                     "model": f"geometric adstock l_max={config['l_max']}, logistic saturation, "
                              f"yearly Fourier order {config['seasonality_order']}, linear trend control, "
                              f"controls price (standardised) + holiday, default priors"},
        "versions": common.versions("pymc-marketing", "pymc", "pytensor", "numpyro", "jax", "jaxlib", "arviz"),
    }


if __name__ == "__main__":
    common.run("pymc-marketing", fit)
