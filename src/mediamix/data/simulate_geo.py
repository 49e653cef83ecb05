"""Simulated geo-level weekly data from a known generating process (one row per week and geo).

The geo version of simulate.py, for recovery tests and benchmarks of the hierarchical model.
Geos differ in size (population); each channel has one adstock decay, Hill slope and
relative half-saturation for every geo, and geo-specific contribution shares drawn around
the channel's mean on the logit scale (the structure the hierarchical model assumes):

    spend_gct    = size_g x mean_spend_c x a national flighting pattern x geo-level noise
    response_gct = max_gc x hill(adstock_c(spend_gc)_t, half_c x size_g x mean_spend_c, slope_c)
    revenue_gt   = size_g x (base + trend_t + seasonality_t + holiday_t + factors) + sum_c response_gct
                   + noise_gt,  noise sd proportional to size_g

max_gc is set so that channel c's contribution over the series is exactly share_gc of geo
g's revenue, share_gc = sigmoid(logit(share_c) + share_tau x eps_gc), eps ~ N(0, 1); a geo
where a channel never runs (idle_geos) has share 0 there. The truth holds per-geo and
national (summed) shares, the numbers a fitted model's contributions are compared with.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from mediamix.model.transforms import apply_adstock, geometric_weights, hill, lag_stack


@dataclass(frozen=True)
class GeoChannelTruth:
    name: str
    mean_spend: float          # weekly spend while active in a geo of size 1
    decay: float               # geometric adstock decay per week
    half_relative: float       # half-saturation, in multiples of the geo's mean active spend
    slope: float               # Hill slope
    share: float               # mean share of a geo's revenue (logit-scale centre of the geo shares)
    flighting: str = "always"  # always | flighted (national on/off weeks) | bursty (~30% of weeks off, per geo)
    idle_geos: tuple[str, ...] = ()   # geos where the channel never runs


DEFAULT_CHANNELS = (
    GeoChannelTruth("tv", 40_000, 0.55, 1.3, 1.5, 0.12, "flighted"),
    GeoChannelTruth("search", 15_000, 0.1, 1.2, 1.2, 0.09, "always"),
    GeoChannelTruth("social", 9_000, 0.3, 1.4, 1.3, 0.06, "always"),
    GeoChannelTruth("display", 5_000, 0.25, 1.1, 1.1, 0.04, "bursty"),
)


@dataclass(frozen=True)
class GeoSimulationSpec:
    start: str = "2022-01-03"         # a Monday
    weeks: int = 104
    geo_sizes: tuple[float, ...] = (3.0, 2.0, 1.4, 1.0, 0.7, 0.4)
    population_per_size: float = 1_000_000.0
    lookback_weeks: int = 8
    base: float = 300_000.0           # weekly base revenue of a geo of size 1
    trend_total: float = 0.1          # base grows by this fraction over the series
    season_amplitude: float = 0.12    # fraction of the base
    holiday_effect: float = 0.25      # fraction of the base in holiday weeks (national factor)
    noise: float = 0.02               # noise sd, fraction of the base
    share_tau: float = 0.3            # sd of geo share logits around the channel's
    spend_noise: float = 0.3          # lognormal sd of geo-level spend around the national pattern
    channels: tuple[GeoChannelTruth, ...] = DEFAULT_CHANNELS
    n_controls: int = 0               # extra geo-varying control columns control_1.. (no effect when 0)
    control_effect: float = 0.02      # each control's effect per sd, fraction of the base
    seed: int = 11

    @property
    def geos(self) -> list[str]:
        return [f"geo_{i + 1:02d}" for i in range(len(self.geo_sizes))]


@dataclass
class GeoSimulation:
    frame: pd.DataFrame      # long: date, geo, population, <channel>_spend, holiday, control_k, revenue
    truth: dict = field(default_factory=dict)


def _national_pattern(rng: np.random.Generator, ch: GeoChannelTruth, weeks: int) -> np.ndarray:
    level = rng.lognormal(0.0, 0.2, weeks)
    if ch.flighting == "flighted":            # on for 4-8 weeks, off for 3-6 weeks
        on = np.zeros(weeks, dtype=bool)
        t = int(rng.integers(0, 4))
        while t < weeks:
            run = int(rng.integers(4, 9))
            on[t: t + run] = True
            t += run + int(rng.integers(3, 7))
        level = np.where(on, level * 1.5, 0.0)
    return level


def simulate_geo(spec: GeoSimulationSpec = GeoSimulationSpec()) -> GeoSimulation:
    rng = np.random.default_rng(spec.seed)
    n, geos, sizes = spec.weeks, spec.geos, np.asarray(spec.geo_sizes, float)
    G, L = len(geos), spec.lookback_weeks
    dates = pd.date_range(spec.start, periods=n, freq="7D")
    t = np.arange(n) / max(n - 1, 1)
    phase = 2 * np.pi * (dates + pd.Timedelta(days=3.5)).day_of_year.to_numpy() / 365.25
    holiday = np.array([float(any((x.month == 11 and x.weekday() == 3 and 22 <= x.day <= 28)
                                  or (x.month == 12 and x.day == 25) for x in pd.date_range(d, periods=7)))
                        for d in dates])
    shape = 1.0 + spec.trend_total * t + spec.season_amplitude * (np.sin(phase) + 0.4 * np.cos(2 * phase)) \
        + spec.holiday_effect * holiday                                             # (time,)
    controls = rng.standard_normal((spec.n_controls, n, G))
    base = spec.base * sizes[None, :] * (shape[:, None] + spec.control_effect * controls.sum(axis=0))  # (time, geo)
    noise = rng.normal(0.0, 1.0, (n, G)) * spec.noise * spec.base * sizes[None, :]

    spends, sats, shares = {}, {}, {}
    for ch in spec.channels:
        pattern = _national_pattern(rng, ch, n)[:, None] * rng.lognormal(0.0, spec.spend_noise, (n, G))
        if ch.flighting == "bursty":
            pattern = np.where(rng.random((n, G)) < 0.3, 0.0, pattern)
        idle = np.array([g in ch.idle_geos for g in geos])
        spend = np.round(np.where(idle[None, :], 0.0, ch.mean_spend * sizes[None, :] * pattern), 2)
        weights = np.asarray(geometric_weights(np.array([ch.decay]), L))
        adstocked = np.asarray(apply_adstock(lag_stack(spend[:, :, None], L), weights))[:, :, 0]     # (time, geo)
        half = ch.half_relative * ch.mean_spend * sizes
        spends[ch.name] = spend
        sats[ch.name] = np.asarray(hill(adstocked, half[None, :], ch.slope))
        draw = expit(logit(ch.share) + spec.share_tau * rng.standard_normal(G))
        shares[ch.name] = np.where(idle, 0.0, draw)
    # Contributions hit their shares exactly: revenue_g = (base_g + noise_g) / (1 - sum_c share_gc).
    total_share = sum(shares.values())
    revenue_total = (base + noise).sum(axis=0) / (1.0 - total_share)                # (geo,)
    response = {}
    for name in spends:
        max_gc = np.where(sats[name].sum(axis=0) > 0,
                          shares[name] * revenue_total / np.maximum(sats[name].sum(axis=0), 1e-12), 0.0)
        response[name] = sats[name] * max_gc[None, :]
    revenue = base + noise + sum(response.values())

    frame = pd.DataFrame({"date": np.repeat(dates, G), "geo": np.tile(geos, n),
                          "population": np.tile(sizes * spec.population_per_size, n)})
    for name, spend in spends.items():
        frame[f"{name}_spend"] = spend.ravel()
    frame["holiday"] = np.repeat(holiday, G)
    for k in range(spec.n_controls):
        frame[f"control_{k + 1}"] = np.round(controls[k].ravel(), 4)
    frame["revenue"] = np.round(revenue.ravel(), 2)

    geo_revenue = revenue.sum(axis=0)
    truth_channels = {}
    for name in spends:
        contribution = response[name].sum(axis=0)                                  # (geo,)
        truth_channels[name] = {
            "share": float(contribution.sum() / geo_revenue.sum()),
            "geo_shares": {g: float(c / r) for g, c, r in zip(geos, contribution, geo_revenue)},
            "contribution": float(contribution.sum()), "spend": float(spends[name].sum()),
            "roas": float(contribution.sum() / spends[name].sum()),
        }
    ch_by_name = {c.name: c for c in spec.channels}
    for name, tc in truth_channels.items():
        ch = ch_by_name[name]
        tc.update(decay=ch.decay, half_relative=ch.half_relative, slope=ch.slope, mean_share=ch.share)
    truth = {"description": "mediamix geo simulator truth; shares are contribution / revenue over the whole series",
             "geos": geos, "geo_sizes": list(spec.geo_sizes), "weeks": n,
             "total_revenue": float(geo_revenue.sum()), "channels": truth_channels}
    return GeoSimulation(frame, truth)
