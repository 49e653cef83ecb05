"""The simulator extended to people and journeys: one world seen both as weekly totals (for the
MMM) and as per-person touchpoint events (for MTA), with the true cause of every conversion.

Generating process (an additive hazard: every cause converts people independently of the
others, repeat purchases allowed, so each conversion has exactly one true cause and removing a
cause removes exactly its conversions, which makes the truth per channel and week a count):

  * base: weekly expected conversions base x (1 + trend x t + seasonality), at uniform random
    times in the week, to uniformly random people.
  * offline channels (e.g. tv, radio) leave no events, only weekly spend. Their expected weekly
    conversions are max_response x hill(adstock(spend)), with the MMM's own transforms (normalised
    geometric adstock over `lookback_weeks`, Hill saturation); they land on random people, so to
    MTA they look like base.
  * online channels (e.g. search, social, display, email) turn weekly spend into tracked
    exposures (Poisson, spend / cost_per_exposure), each to a random person at a random time in
    the week. An exposure causes a conversion with probability `conversion_probability` after a
    delay with a half-life of `half_life_days`, cut at `max_delay_days` (inside an MTA lookback
    of that length, so every caused conversion still has its cause on its journey).

Online spends share one digital budget index with little channel-own variation, so they are
nearly collinear in the weekly data: the setting in which an MMM alone cannot split them and
MTA, which sees individual exposures, can.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mediamix.data.simulate import ChannelTruth
from mediamix.model.transforms import apply_adstock, geometric_weights, hill, lag_stack

SECONDS_PER_WEEK = 7 * 24 * 3600
BASE = "base"


@dataclass(frozen=True)
class OnlineChannel:
    name: str
    mean_spend: float              # weekly spend, in currency
    cost_per_exposure: float       # currency per tracked exposure (click, visit, open)
    conversion_probability: float  # chance that one exposure causes a conversion
    half_life_days: float          # delay from exposure to the conversion it causes
    own_variation: float = 0.05    # sd of the channel's own log-spend noise around the shared index


ONLINE_CHANNELS = (
    OnlineChannel("search", 12_000, 20.0, 0.20, 1.0),
    OnlineChannel("social", 9_000, 20.0, 0.06, 2.0),
    OnlineChannel("display", 6_000, 20.0, 0.03, 3.0),
    OnlineChannel("email", 1_000, 5.0, 0.25, 1.0, own_variation=0.03),
)
# max_response here is weekly conversions at full saturation; half_saturation is adstocked spend.
OFFLINE_CHANNELS = (
    ChannelTruth("tv", 30_000, 0.5, 30_000, 1.3, 260.0, "flighted"),
    ChannelTruth("radio", 8_000, 0.3, 9_000, 1.2, 110.0, "always"),
)


@dataclass(frozen=True)
class PeopleSimulationSpec:
    start: str = "2022-01-03"          # a Monday: weeks start on Mondays
    weeks: int = 104
    people: int = 20_000
    base: float = 700.0                # expected base conversions per week
    trend: float = 0.10                # base rises by this fraction over the series
    season_amplitude: float = 0.12     # base seasonality, as a fraction of base
    digital_variation: float = 0.25    # sd of the shared digital budget index (log scale)
    max_delay_days: float = 14.0       # no exposure causes a conversion later than this
    lookback_weeks: int = 4            # offline adstock window, as in the MMM
    online: tuple[OnlineChannel, ...] = ONLINE_CHANNELS
    offline: tuple[ChannelTruth, ...] = OFFLINE_CHANNELS
    seed: int = 11


@dataclass
class PeopleSimulation:
    weekly: pd.DataFrame   # date, <channel>_spend for every channel, <online>_exposures, conversions
    events: pd.DataFrame   # person_id, timestamp, channel (empty on conversions), is_conversion
    truth: pd.DataFrame    # date, component (base or channel), conversions (realised), expected
    causes: pd.DataFrame   # one row per conversion: person_id, timestamp, cause, exposure (row in events or -1)
    spec: PeopleSimulationSpec = field(default_factory=PeopleSimulationSpec)

    @property
    def online_channels(self) -> list[str]:
        return [c.name for c in self.spec.online]

    @property
    def offline_channels(self) -> list[str]:
        return [c.name for c in self.spec.offline]

    @property
    def channels(self) -> list[str]:
        return self.online_channels + self.offline_channels

    def true_weekly(self, components=None) -> pd.DataFrame:
        """Wide: one row per week, one column of realised conversions per component."""
        wide = self.truth.pivot(index="date", columns="component", values="conversions")
        return wide[list(components) if components is not None else [BASE, *self.channels]]

    def true_shares(self, start=None, end=None) -> pd.Series:
        """Each channel's share of all conversions (0..1) over weeks start..end (inclusive)."""
        wide = self.true_weekly()
        wide = wide.loc[(wide.index >= pd.Timestamp(start or wide.index.min()))
                        & (wide.index <= pd.Timestamp(end or wide.index.max()))]
        return wide[self.channels].sum() / wide.sum(axis=1).sum()

    def true_incremental(self) -> pd.DataFrame:
        """week, channel, conversions: realised conversions per cause (base included) and week,
        the form mediamix.attribution.transfer's error tables compare against."""
        return self.truth.rename(columns={"date": "week", "component": "channel"})[["week", "channel", "conversions"]]


def simulate_people(spec: PeopleSimulationSpec = PeopleSimulationSpec()) -> PeopleSimulation:
    rng = np.random.default_rng(spec.seed)
    dates = pd.date_range(spec.start, periods=spec.weeks, freq="7D")
    origin = dates[0].value // 10 ** 9          # seconds since the epoch at the first Monday
    end_s = spec.weeks * SECONDS_PER_WEEK       # conversions after the last week are not observed
    weekly = {"date": dates}
    expected = {BASE: _base_curve(spec, dates)}

    spends = _online_spend(rng, spec)
    exposures = []                              # (channel index, person, second) per exposure
    for k, ch in enumerate(spec.online):
        n = rng.poisson(spends[ch.name] / ch.cost_per_exposure)
        week = np.repeat(np.arange(spec.weeks), n)
        second = week * SECONDS_PER_WEEK + rng.integers(0, SECONDS_PER_WEEK, len(week))
        exposures.append(pd.DataFrame({"k": k, "person": rng.integers(0, spec.people, len(week)), "second": second}))
        weekly[f"{ch.name}_spend"] = spends[ch.name]
        weekly[f"{ch.name}_exposures"] = n
    exposures = pd.concat(exposures, ignore_index=True).sort_values(["second", "k"], ignore_index=True)

    caused = _online_conversions(rng, spec, exposures, end_s)
    L = spec.lookback_weeks
    for ch in spec.offline:
        spend = _offline_spend(rng, ch, spec.weeks)
        weights = np.asarray(geometric_weights(np.array([ch.decay]), L))
        adstocked = np.asarray(apply_adstock(lag_stack(spend[:, None, None], L), weights))[:, 0, 0]
        expected[ch.name] = ch.max_response * np.asarray(hill(adstocked, ch.half_saturation, ch.slope))
        weekly[f"{ch.name}_spend"] = spend
    untracked = [_uniform_conversions(rng, spec, name, expected[name]) for name in [BASE, *[c.name for c in spec.offline]]]
    conversions = pd.concat([caused, *untracked], ignore_index=True).sort_values("second", kind="stable",
                                                                                 ignore_index=True)

    names = np.array([c.name for c in spec.online], dtype=object)
    touch_rows = pd.DataFrame({"person_id": exposures["person"].to_numpy(), "second": exposures["second"].to_numpy(),
                               "channel": names[exposures["k"].to_numpy()], "is_conversion": False})
    conv_rows = pd.DataFrame({"person_id": conversions["person"].to_numpy(), "second": conversions["second"].to_numpy(),
                              "channel": None, "is_conversion": True})
    events = pd.concat([touch_rows, conv_rows], ignore_index=True)
    events.insert(1, "timestamp", pd.to_datetime(origin + events.pop("second"), unit="s"))

    conv_week = conversions["second"].to_numpy() // SECONDS_PER_WEEK
    components = [BASE, *names.tolist(), *[c.name for c in spec.offline]]
    counts = pd.crosstab(conv_week, conversions["cause"]).reindex(index=range(spec.weeks), columns=components,
                                                                  fill_value=0)
    expected.update(_online_expected(spec, exposures, end_s))
    truth = pd.DataFrame({"date": np.tile(dates, len(components)), "component": np.repeat(components, spec.weeks),
                          "conversions": counts.to_numpy().T.ravel().astype(float),
                          "expected": np.concatenate([expected[c] for c in components])})
    weekly["conversions"] = counts.sum(axis=1).to_numpy().astype(float)
    causes = pd.DataFrame({"person_id": conversions["person"].to_numpy(),
                           "timestamp": pd.to_datetime(origin + conversions["second"].to_numpy(), unit="s"),
                           "cause": conversions["cause"].to_numpy(), "exposure": conversions["exposure"].to_numpy()})
    return PeopleSimulation(pd.DataFrame(weekly), events, truth, causes, spec)


def _base_curve(spec, dates) -> np.ndarray:
    t = np.arange(spec.weeks) / max(spec.weeks - 1, 1)
    phase = 2 * np.pi * (dates + pd.Timedelta(days=3.5)).day_of_year.to_numpy() / 365.25
    return spec.base * (1 + spec.trend * t + spec.season_amplitude * (np.sin(phase) + 0.4 * np.cos(2 * phase)))


def _online_spend(rng, spec) -> dict[str, np.ndarray]:
    """One shared digital index (seasonal plus a smooth random walk) times small own noise."""
    weeks = np.arange(spec.weeks)
    walk = np.cumsum(rng.normal(0, 1, spec.weeks))
    walk = (walk - walk.mean()) / max(walk.std(), 1e-9)
    index = np.exp(spec.digital_variation * (0.6 * walk + 0.8 * np.sin(2 * np.pi * weeks / 52.0 + 1.0)))
    index /= index.mean()
    return {ch.name: np.round(ch.mean_spend * index * rng.lognormal(0, ch.own_variation, spec.weeks), 2)
            for ch in spec.online}


def _offline_spend(rng, ch: ChannelTruth, weeks: int) -> np.ndarray:
    level = ch.mean_spend * rng.lognormal(0.0, 0.25, weeks)
    if ch.flighting == "flighted":  # on for 3-7 weeks, off for 2-5 weeks
        on = np.zeros(weeks, dtype=bool)
        t = int(rng.integers(0, 3))
        while t < weeks:
            run = int(rng.integers(3, 8))
            on[t:t + run] = True
            t += run + int(rng.integers(2, 6))
        level = np.where(on, level * 1.5, 0.0)
    return np.round(level, 2)


def _delays(rng, half_life_days, max_days, n) -> np.ndarray:
    """Exponential delays (seconds) with the given half-life, truncated at max_days (inverse CDF)."""
    cap = 1.0 - 2.0 ** (-max_days / half_life_days)
    u = rng.random(n) * cap
    return -half_life_days * np.log2(1.0 - u) * 86_400.0


def _online_conversions(rng, spec, exposures, end_s) -> pd.DataFrame:
    k = exposures["k"].to_numpy()
    p = np.array([c.conversion_probability for c in spec.online])[k]
    hit = np.flatnonzero(rng.random(len(k)) < p)
    half = np.array([c.half_life_days for c in spec.online])[k[hit]]
    delay = np.maximum(np.ceil(_delays(rng, half, spec.max_delay_days, len(hit))), 1)  # strictly after the touch
    second = exposures["second"].to_numpy()[hit] + delay.astype(np.int64)
    keep = second < end_s
    names = np.array([c.name for c in spec.online], dtype=object)
    return pd.DataFrame({"person": exposures["person"].to_numpy()[hit][keep], "second": second[keep],
                         "cause": names[k[hit][keep]], "exposure": hit[keep]})


def _online_expected(spec, exposures, end_s) -> dict[str, np.ndarray]:
    """Expected conversions per conversion week given the exposures (the delay law, integrated)."""
    reach = int(np.ceil(spec.max_delay_days / 7.0)) + 1   # weeks an exposure's conversions can span
    out = {}
    for k, ch in enumerate(spec.online):
        second = exposures.loc[exposures["k"] == k, "second"].to_numpy()
        week0 = second // SECONDS_PER_WEEK
        cap = 1.0 - 2.0 ** (-spec.max_delay_days / ch.half_life_days)

        def cdf(s):
            return np.clip(1.0 - 2.0 ** (-np.clip(s, 0, None) / 86_400.0 / ch.half_life_days), 0, cap) / cap

        total = np.zeros(spec.weeks + reach)
        for j in range(reach):
            lo = (week0 + j) * SECONDS_PER_WEEK - second
            np.add.at(total, week0 + j, cdf(lo + SECONDS_PER_WEEK) - cdf(lo))
        out[ch.name] = ch.conversion_probability * total[:spec.weeks]
    return out


def _uniform_conversions(rng, spec, cause, weekly_expected) -> pd.DataFrame:
    n = rng.poisson(np.maximum(weekly_expected, 0.0))
    week = np.repeat(np.arange(spec.weeks), n)
    second = week * SECONDS_PER_WEEK + rng.integers(0, SECONDS_PER_WEEK, len(week))
    return pd.DataFrame({"person": rng.integers(0, spec.people, len(week)), "second": second,
                         "cause": cause, "exposure": -1})
