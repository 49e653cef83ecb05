"""True media contributions of two public PyMC-Marketing data sets (in ../shared/data/pymc-marketing).

media_tvp_data.csv ("MMM with time-varying media baseline" notebook): the truth is in the file.
`channel_contribution` = `baseline_channel_contribution` x `hidden_latent_media_fluctuation`
(a 0.5..1.5 multiplier) = `x1_contribution` + `x2_contribution`; y = intercept (6) + channel +
yearly seasonality + control (events) contributions + N(0, ~0.24) noise. Exact; no derivation.

mmm_multidimensional_example.csv (2 geos x 159 weeks) with ..._true_parameters.json: one
prior-predictive draw of a PyMC-Marketing multidimensional MMM (upstream script
scripts/data_generators/mmm_data_generation.py, seed 12345, draw 8). Only the media parameters
were saved, in the model's scaled space, so the contributions in units of y are derived here:

    contribution[t, g, c] = target_scale[g] * beta[c, g] * logistic(adstock[t, g, c]; lam[c])
    adstock[t, g, c]      = sum_{l<8} w_l x[t-l, g, c] / channel_scale[g, c],  w_l = alpha[g, c]^l / sum_l alpha^l
    logistic(s; lam)      = (1 - exp(-lam s)) / (1 + exp(-lam s))

- Adstock: GeometricAdstock(l_max=8); its class default is normalize=True (the bare
  `geometric_adstock` function defaults to False, the component passes normalize=True), mode
  "After" (zeros before the first week); adstock before saturation (adstock_first default).
- Scaling: the script passes scaling={"channel": {"method": "max", "dims": ()}, "target":
  {"method": "max", "dims": ()}}. A VariableScaling reduces over "date" plus its `dims`, so
  dims=() means max over dates only: per (geo, channel) for spend, per geo for the target (the
  MMM's default, dims=("geo",), would reduce over geos too). Checked by building the script's
  model with the installed pymc-marketing 0.19.2: its scalers are channel (geo x channel)
  9319, 9756 / 10555, 11761 and target 6543 (geo_a), 6374 (geo_b), the values below.
- The target scale is NOT max(y): the model was built on a placeholder y ~ N(5000, 500) drawn
  from the script's NumPy stream (default_rng(12345)) after the channels and event dates, and
  the final y is the prior draw times that scale. The stream is redrawn here; that it is the
  right stream is checked on what the file shows: x2 and the six event dates match exactly.
  (x1 does not match in weeks 70-79: the published file predates the script's off period there;
  its draws are the same, so the placeholder that follows is unaffected.)
- What the data can and cannot confirm: with the truth above, y/scale - media regressed per geo
  on intercept + order-2 yearly Fourier + events leaves white residuals (sd 0.29 / 0.27, lag-1
  autocorrelation -0.01 / -0.16), intercepts 0.67 / 0.51 (prior N(0.5, 0.2)) and event effects
  0.22 / 0.53 and -0.02 / -0.23 (se ~0.17; one gamma per event, shared by the geos in the
  model: the geos agree within 1.3 se). But the noise (sd ~0.28 in scaled units) is ~5x the
  media term (true shares of y: x1 2.4% / 3.7%, x2 1.4% / 1.7%), so the residuals cannot tell
  the scaling hypotheses apart (free coefficients on the true media curves come out -1.1 +- 2.2
  and 2.4 +- 2.8 in geo_a, where 1 is the truth): the choice of scale rests on the script and the
  library, not on a fit. In 5 of 318 weeks the media exceed y: weeks where the truncated-normal
  noise put y near zero (y 22..270).
- Caveat on the scaling: the script version that wrote the file is not the stored one (see
  x1 above). Both stored versions pass dims=(); had the older one left `scaling` at the MMM's
  default (max over dates and geos), the true totals would be x1 0.88x / 1.03x and x2 0.83x /
  1.03x of these (geo_a / geo_b). ../shared/data/README.md says "max-abs scaled per geo" too.
- Confidence: parameters exact (the upstream .nc); functional form high (library source);
  per-geo scaling high (both stored script versions; scalers reproduced); target scale high but indirect (the
  redrawn placeholder; a wrong stream would shift geo_a/geo_b contributions by a common
  factor, e.g. a scale of max(y) instead would multiply them by ~2.1 / 1.7). Re-running the
  prior predictive with pymc 5.28.5 does not give the published draw (the file was made with
  pymc 5.25.1), so the contributions could not be checked against the library's own
  `channel_contribution_original_scale` for this draw.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

CHANNELS = ("x1", "x2")
TVP_TRUTH_COLUMNS = ("hidden_latent_media_fluctuation", "init_target", "intercept", "baseline_channel_contribution",
                     "channel_contribution", "x1_contribution", "x2_contribution",
                     "yearly_seasonality_contribution", "control_contribution")
GENERATOR_SEED = 12345


def media_tvp(folder: Path) -> tuple[pd.DataFrame, dict]:
    """(frame without the truth columns, truth) for media_tvp_data.csv."""
    raw = pd.read_csv(folder / "media_tvp_data.csv", parse_dates=["date_week"]).drop(columns="Unnamed: 0")
    weekly = raw[["date_week", "x1_contribution", "x2_contribution"]].rename(
        columns={"x1_contribution": "x1", "x2_contribution": "x2"})
    truth = {
        "contribution": {c: float(raw[f"{c}_contribution"].sum()) for c in CHANNELS},
        "share": {c: float(raw[f"{c}_contribution"].sum() / raw["y"].sum()) for c in CHANNELS},
        "weekly": weekly,
        "multiplier": raw.set_index("date_week")["hidden_latent_media_fluctuation"],
        "components": raw[["date_week", *TVP_TRUTH_COLUMNS, "y"]],
    }
    return raw.drop(columns=list(TVP_TRUTH_COLUMNS)), truth


def generator_stream(n_dates: int) -> dict:
    """The upstream script's NumPy draws, in its order: x1 innovations, x2, event dates, placeholder y."""
    rng = np.random.default_rng(GENERATOR_SEED)

    def correlated(sd, mean):
        cov = np.diag([sd, sd]) @ np.array([[1.0, 0.25], [0.25, 1.0]]) @ np.diag([sd, sd])
        return rng.multivariate_normal(mean=mean, cov=cov, size=n_dates)

    correlated(1500, [0, 0])                      # x1's AR(1) innovations (not needed here)
    x2 = np.maximum(correlated(2000, [6000, 7000]), 0)
    for start, g in ((0, 0), (60, 0), (120, 0), (5, 1), (65, 1), (125, 1)):
        x2[start:start + 30, g] = 0
    event_rows = [rng.choice(n_dates, size=3, replace=False) for _ in range(2)]
    placeholder = rng.normal(5000, 500, size=2 * n_dates).reshape(n_dates, 2)  # rows date-major, geo a/b
    return {"x2": x2, "event_rows": event_rows, "placeholder_y": placeholder}


def _adstock(x: np.ndarray, alpha: float, l_max: int = 8) -> np.ndarray:
    w = alpha ** np.arange(l_max)
    w = w / w.sum()
    return np.convolve(x, w)[: len(x)]


def multidimensional_example(folder: Path) -> tuple[pd.DataFrame, dict]:
    """(frame: date, geo, x1, x2, event_1, event_2, y; truth) for mmm_multidimensional_example.csv."""
    frame = pd.read_csv(folder / "mmm_multidimensional_example.csv", parse_dates=["date"])
    params = json.loads((folder / "mmm_multidimensional_example_true_parameters.json").read_text())
    geos = params["saturation_beta"]["coords"]["geo"]
    assert params["adstock_alpha"]["coords"]["geo"] == geos and tuple(params["saturation_beta"]["coords"]["channel"]) == CHANNELS
    beta = np.array(params["saturation_beta"]["values"])      # (channel, geo)
    alpha = np.array(params["adstock_alpha"]["values"])       # (geo, channel)
    lam = np.array(params["saturation_lam"]["values"])        # (channel,)

    dates = np.sort(frame["date"].unique())
    stream = generator_stream(len(dates))
    target_scale = dict(zip(geos, stream["placeholder_y"].max(axis=0)))
    channel_scale = frame.groupby("geo")[list(CHANNELS)].max()

    parts = []
    for g, geo in enumerate(geos):
        rows = frame[frame["geo"] == geo].sort_values("date")
        part = rows[["date", "geo"]].copy()
        for c, ch in enumerate(CHANNELS):
            s = _adstock(rows[ch].to_numpy() / channel_scale.loc[geo, ch], alpha[g, c])
            saturated = (1 - np.exp(-lam[c] * s)) / (1 + np.exp(-lam[c] * s))
            part[ch] = target_scale[geo] * beta[c, g] * saturated
        parts.append(part)
    contributions = pd.concat(parts, ignore_index=True)
    y_total = frame.groupby("geo")["y"].sum()
    media_total = contributions.groupby("geo")[list(CHANNELS)].sum()
    truth = {
        "contributions": contributions,                                    # date, geo, x1, x2 in units of y
        "contribution": {geo: media_total.loc[geo].to_dict() for geo in geos},
        "share": {geo: (media_total.loc[geo] / y_total[geo]).to_dict() for geo in geos},
        "target_scale": target_scale,
        "channel_scale": {geo: channel_scale.loc[geo].to_dict() for geo in geos},
        "params": {"beta": beta, "alpha": alpha, "lam": lam, "geos": geos},
        "stream": stream,
    }
    return frame, truth
