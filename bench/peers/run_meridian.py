"""Google Meridian on the shared simulated data set (national model, Meridian's default JAX backend).

Model (public API: DataFrameInputDataBuilder -> Meridian(ModelSpec) -> sample_posterior):
geometric adstock with max_lag from the config (8), Hill saturation (Meridian's default:
adstock, then Hill), time effects through Meridian's own mechanism, a piecewise-linear
time-varying intercept with `knots` equally spaced knots (it has no separate trend or Fourier
term), price and holiday as controls. Media execution = spend (the same column the other tools
read). Priors are the library's defaults (ROI priors). Warmup is split as Meridian's examples
do: n_adapt = warmup // 2 adaptation steps, then n_burnin = the rest, then n_keep = draws.

Contributions: Analyzer.incremental_outcome (revenue, media on vs off over the whole window),
posterior mean per channel over total revenue. Min bulk ESS is over the latent variables NUTS
samples (the sampling joint distribution's names, read from a private attribute; if that ever
fails, over every posterior variable without a time dimension).
"""
from __future__ import annotations

import time

import common


def _latent_names(mmm, posterior) -> list[str]:
    try:  # names of the sampling-optimised joint distribution (latents only), minus the pinned y
        dist = mmm.posterior_sampler_callable._get_joint_dist_sampling()
        names = [n for n in dist.event_shape._asdict() if n in posterior]
        if names:
            return names
    except Exception:  # private API: fall back to a rule that needs none
        pass
    return [n for n, v in posterior.data_vars.items() if not {"time", "media_time"} & set(v.dims)]


def fit(config: dict) -> dict:
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd
    from immutabledict import immutabledict
    from meridian.analysis import analyzer
    from meridian.data import data_frame_input_data_builder as builder_lib
    from meridian.model import model, spec
    import_s = time.perf_counter() - t0

    frame = pd.read_csv(config["csv"])            # date stays a YYYY-MM-DD string: Meridian's time coordinate
    channels = config["channels"]
    spend_cols = [f"{c}_spend" for c in channels]
    chains, warmup, draws = config["chains"], config["warmup"], config["draws"]
    n_adapt = warmup // 2
    n_burnin = warmup - n_adapt

    started = time.perf_counter()
    data = (builder_lib.DataFrameInputDataBuilder(kpi_type="revenue", default_time_column="date",
                                                  default_kpi_column=config["target"])
            .with_kpi(frame)
            .with_controls(frame, control_cols=list(config["controls"]))
            .with_media(frame, media_cols=spend_cols, media_spend_cols=spend_cols, media_channels=channels)
            .build())
    model_spec = spec.ModelSpec(max_lag=config["l_max"], adstock_decay_spec="geometric", saturation_spec="hill",
                                knots=config["knots"])
    mmm = model.Meridian(input_data=data, model_spec=model_spec)
    # The JAX backend passes dual_averaging_kwargs as a jit static argument, so it must be hashable:
    # a plain dict fails ("Non-hashable static arguments"); immutabledict is one of Meridian's own dependencies.
    mmm.sample_posterior(n_chains=chains, n_adapt=n_adapt, n_burnin=n_burnin, n_keep=draws, seed=config["seed"],
                         dual_averaging_kwargs=immutabledict({"target_accept_prob": config["target_accept"]}))
    wall_s = time.perf_counter() - started

    t1 = time.perf_counter()
    post = mmm.inference_data.posterior
    latents = _latent_names(mmm, post)
    conv = common.convergence(post, latents)
    divergences = int(np.asarray(mmm.inference_data.sample_stats["diverging"]).sum())
    incremental = np.asarray(analyzer.Analyzer(model_context=mmm.model_context, inference_data=mmm.inference_data)
                             .incremental_outcome(use_kpi=False))  # (chain, draw, channel)
    per_channel = incremental.reshape(-1, incremental.shape[-1]).mean(axis=0)
    total = float(frame[config["target"]].sum())
    shares = {ch: float(v) / total for ch, v in zip(channels, per_channel)}
    post_s = time.perf_counter() - t1
    return {
        "wall_s": wall_s, "import_s": import_s, "post_s": post_s, **conv, "divergences": divergences,
        "shares": shares,
        "settings": {"chains": chains, "warmup": warmup, "draws": draws, "n_adapt": n_adapt, "n_burnin": n_burnin,
                     "sampler": "TFP windowed adaptive NUTS", "target_accept": config["target_accept"],
                     "seed": config["seed"],
                     "model": f"geometric adstock max_lag={config['l_max']}, Hill saturation, "
                              f"time-varying intercept with {config['knots']} knots, controls price + holiday, "
                              f"media = spend, default ROI priors"},
        "versions": common.versions("google-meridian", "jax", "jaxlib", "tensorflow", "tfp-nightly",
                                    "tensorflow-probability", "arviz"),
    }


if __name__ == "__main__":
    common.run("meridian", fit)
