"""The project's own simulator: weekly marketing data from a known generating process.

The truth it returns (adstock, saturation, coefficients, per-week contributions, shares and
ROAS) is what parameter-recovery tests and the bundled demo compare a fitted model against.
Media response uses the same transforms as the model (normalised geometric adstock over the
lookback window, Hill saturation), so a correct fit can recover the truth, not just mimic it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mediamix.model.transforms import apply_adstock, geometric_weights, hill, lag_stack


@dataclass(frozen=True)
class ChannelTruth:
    name: str
    mean_spend: float          # average weekly spend while active, in currency
    decay: float               # geometric adstock decay per week
    half_saturation: float     # adstocked weekly spend at which response is half its maximum
    slope: float               # Hill slope
    max_response: float        # weekly revenue at full saturation
    flighting: str = "always"  # always | flighted | bursty
    starts_week: int = 0       # first week with spend (a channel launched mid-series)
    cost_per_impression: float = 0.01


DEMO_CHANNELS = (
    ChannelTruth("tv", 60_000, 0.6, 55_000, 1.6, 180_000, "flighted", cost_per_impression=0.025),
    ChannelTruth("search", 20_000, 0.1, 24_000, 1.2, 110_000, "always", cost_per_impression=0.8),
    ChannelTruth("social", 12_000, 0.3, 14_000, 1.4, 55_000, "always", cost_per_impression=0.006),
    ChannelTruth("display", 6_000, 0.25, 9_000, 1.1, 22_000, "bursty", cost_per_impression=0.004),
    ChannelTruth("video", 15_000, 0.45, 16_000, 1.5, 60_000, "always", starts_week=60,
                 cost_per_impression=0.02),
)


@dataclass(frozen=True)
class SimulationSpec:
    start: str = "2022-01-03"       # a Monday: weeks start on Mondays
    weeks: int = 156
    lookback_weeks: int = 8
    base: float = 400_000.0
    trend_total: float = 60_000.0   # base rises by this much over the series
    season_amplitude: float = 50_000.0
    price_effect: float = -300_000.0  # revenue per unit of relative price change
    holiday_effect: float = 90_000.0
    noise_sd: float = 8_000.0
    channels: tuple[ChannelTruth, ...] = DEMO_CHANNELS
    seed: int = 7


@dataclass
class Simulation:
    frame: pd.DataFrame            # what a user would load: date, <channel>_spend, <channel>_impressions, price, holiday, revenue
    components: pd.DataFrame       # true weekly components: date, base, trend, seasonality, price, holiday, <channel>, noise
    truth: dict = field(default_factory=dict)

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.frame.to_csv(folder / "demo_weekly.csv", index=False, date_format="%Y-%m-%d")
        self.components.to_csv(folder / "demo_truth_components.csv", index=False, date_format="%Y-%m-%d")
        (folder / "demo_truth.json").write_text(json.dumps(self.truth, indent=2))


def _spend_pattern(rng: np.random.Generator, ch: ChannelTruth, weeks: int) -> np.ndarray:
    level = ch.mean_spend * rng.lognormal(0.0, 0.25, weeks)
    if ch.flighting == "flighted":            # on for 4-8 weeks, off for 3-6 weeks
        on = np.zeros(weeks, dtype=bool)
        t = int(rng.integers(0, 4))
        while t < weeks:
            run = int(rng.integers(4, 9))
            on[t : t + run] = True
            t += run + int(rng.integers(3, 7))
        level = np.where(on, level * 1.5, 0.0)
    elif ch.flighting == "bursty":            # about a third of weeks at zero
        level = np.where(rng.random(weeks) < 0.35, 0.0, level)
    level[: ch.starts_week] = 0.0
    return np.round(level, 2)


def simulate(spec: SimulationSpec = SimulationSpec()) -> Simulation:
    rng = np.random.default_rng(spec.seed)
    n = spec.weeks
    dates = pd.date_range(spec.start, periods=n, freq="7D")
    t = np.arange(n) / (n - 1)
    day_of_year = (dates + pd.Timedelta(days=3.5)).day_of_year.to_numpy()
    phase = 2 * np.pi * day_of_year / 365.25

    trend = spec.trend_total * t
    seasonality = spec.season_amplitude * (np.sin(phase) + 0.4 * np.cos(2 * phase))
    price = np.round(1.0 + 0.04 * np.sin(2 * np.pi * np.arange(n) / 26) + rng.normal(0, 0.015, n), 4)
    price_effect = spec.price_effect * (price - 1.0)
    # Holiday weeks: the week containing Black Friday (4th Thursday of November) and Christmas week.
    holiday = np.zeros(n)
    for i, d in enumerate(dates):
        week_days = pd.date_range(d, periods=7)
        if any((x.month == 11 and x.weekday() == 3 and 22 <= x.day <= 28) or (x.month == 12 and x.day == 25)
               for x in week_days):
            holiday[i] = 1.0
    holiday_effect = spec.holiday_effect * holiday

    frame = {"date": dates}
    components = {"date": dates, "base": np.full(n, spec.base), "trend": trend, "seasonality": seasonality,
                  "price": price_effect, "holiday": holiday_effect}
    truth_channels = {}
    L = spec.lookback_weeks
    for ch in spec.channels:
        spend = _spend_pattern(rng, ch, n)
        impressions = np.round(spend / ch.cost_per_impression * rng.lognormal(0, 0.05, n))
        weights = np.asarray(geometric_weights(np.array([ch.decay]), L))
        adstocked = np.asarray(apply_adstock(lag_stack(spend[:, None, None], L), weights))[:, 0, 0]
        response = ch.max_response * np.asarray(hill(adstocked, ch.half_saturation, ch.slope))
        frame[f"{ch.name}_spend"] = spend
        frame[f"{ch.name}_impressions"] = impressions
        components[ch.name] = response
        truth_channels[ch.name] = {
            "decay": ch.decay, "half_saturation": ch.half_saturation, "slope": ch.slope,
            "max_response": ch.max_response, "spend": float(spend.sum()),
            "contribution": float(response.sum()),
            "roas": float(response.sum() / spend.sum()),
        }
    noise = rng.normal(0, spec.noise_sd, n)
    components["noise"] = noise
    revenue = (spec.base + trend + seasonality + price_effect + holiday_effect
               + sum(components[ch.name] for ch in spec.channels) + noise)
    frame["price"] = price
    frame["holiday"] = holiday
    frame["revenue"] = np.round(revenue, 2)

    total = float(revenue.sum())
    for name, tc in truth_channels.items():
        tc["share"] = tc["contribution"] / total
    truth = {
        "description": "mediamix simulator truth; contributions include carryover inside the series only",
        "spec": {k: v for k, v in spec.__dict__.items() if k != "channels"},
        "adstock": "geometric, normalised over lookback_weeks lags",
        "saturation": "hill: max_response / (1 + (half_saturation / adstocked_spend)^slope)",
        "total_revenue": total,
        "channels": truth_channels,
    }
    return Simulation(pd.DataFrame(frame), pd.DataFrame(components), truth)


def demo_data_dir() -> Path:
    """Folder of the bundled demo data set inside the installed package."""
    return Path(__file__).resolve().parents[1] / "demo_data"


if __name__ == "__main__":  # regenerate the bundled demo data: python -m mediamix.data.simulate
    simulate().write(demo_data_dir())
    print(f"wrote {demo_data_dir()}")
