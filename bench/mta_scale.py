"""MTA at scale: 10M touchpoint events, 1M people, 15 channels (seeded).

Times journey building, every rule-based model and first-order Markov, then prints a table and
writes bench/results/mta_scale.json with wall seconds and peak memory (resource.getrusage).
Target: <= 60 s and <= 4 GB on 2 cores.

    .venv/bin/python bench/mta_scale.py [--events 10000000] [--people 1000000] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mediamix.attribution import heuristics
from mediamix.attribution.journeys import build_journeys
from mediamix.attribution.markov import markov

TARGET_SECONDS, TARGET_GB = 60.0, 4.0


def generate(n_events: int, n_people: int, n_channels: int, seed: int) -> pd.DataFrame:
    """Events over 90 days; channels skewed in reach and in conversion propensity."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_channels + 1)
    channel = rng.choice(n_channels, n_events, p=popularity / popularity.sum()).astype(np.int8)
    propensity = np.linspace(0.01, 0.05, n_channels)[rng.permutation(n_channels)]
    converts = rng.random(n_events) < propensity[channel]
    start = np.datetime64("2024-01-01T00:00:00", "ns").astype(np.int64)
    seconds = rng.integers(0, 90 * 86_400, n_events)
    names = [f"channel_{i:02d}" for i in range(n_channels)]
    return pd.DataFrame({
        "person_id": rng.integers(0, n_people, n_events),
        "timestamp": (start + seconds * 1_000_000_000).view("datetime64[ns]"),
        "channel": pd.Categorical.from_codes(channel, categories=names),
        "is_conversion": converts,
        "value": np.where(converts, rng.lognormal(3.5, 0.6, n_events), 0.0),
    })


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2  # Linux reports KiB


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lookback-weeks", type=float, default=4)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "mta_scale.json"))
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    events = generate(args.events, args.people, args.channels, args.seed)
    generate_s = time.perf_counter() - t0
    generate_gb = peak_gb()

    stages = {}

    def timed(name, fn):
        start = time.perf_counter()
        result = fn()
        stages[name] = time.perf_counter() - start
        return result

    journeys = timed("journeys", lambda: build_journeys(events, lookback=args.lookback_weeks))
    results = {
        "first_touch": timed("first_touch", lambda: heuristics.first_touch(journeys)),
        "last_touch": timed("last_touch", lambda: heuristics.last_touch(journeys)),
        "linear": timed("linear", lambda: heuristics.linear(journeys)),
        "position": timed("position", lambda: heuristics.position_based(journeys)),
        "time_decay": timed("time_decay", lambda: heuristics.time_decay(journeys, "7D")),
        "markov": timed("markov_order1", lambda: markov(journeys).attribution),
    }
    total_s = sum(stages.values())
    report = {
        "events": args.events, "people": args.people, "channels": args.channels, "seed": args.seed,
        "lookback_weeks": args.lookback_weeks,
        "journeys": journeys.n_journeys, "converting_journeys": int(journeys.converted.sum()),
        "touches": int(len(journeys.paths.codes)),
        "unattributed_conversions": journeys.unattributed_conversions,
        "generate_seconds": round(generate_s, 2), "stage_seconds": {k: round(v, 3) for k, v in stages.items()},
        "wall_seconds": round(total_s, 2), "peak_memory_gb": round(peak_gb(), 3),
        "peak_memory_after_generation_gb": round(generate_gb, 3),
        "targets": {"wall_seconds": TARGET_SECONDS, "peak_memory_gb": TARGET_GB},
        "cpu_count": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform(),
        "numpy": np.__version__, "pandas": pd.__version__,
        "checks": {name: round(float(r.conversions.sum()), 3) for name, r in results.items()},
    }
    report["within_targets"] = total_s <= TARGET_SECONDS and report["peak_memory_gb"] <= TARGET_GB

    print(f"mta_scale: {args.events:,} events, {args.people:,} people, {args.channels} channels, seed {args.seed}")
    print(f"  generated in {generate_s:.1f} s -> {report['journeys']:,} journeys "
          f"({report['converting_journeys']:,} converting), {report['touches']:,} touches")
    print(f"  {'stage':<16}{'seconds':>10}")
    for name, seconds in stages.items():
        print(f"  {name:<16}{seconds:>10.2f}")
    print(f"  {'total':<16}{total_s:>10.2f}   (target <= {TARGET_SECONDS:g} s)")
    print(f"  peak memory {report['peak_memory_gb']:.2f} GB   (target <= {TARGET_GB:g} GB)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"  wrote {out}")
    return report


if __name__ == "__main__":
    main()
