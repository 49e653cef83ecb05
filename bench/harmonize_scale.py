"""Harmonizing at scale: 10M touchpoint events over 2 years, 200k people, 12 channels (seeded).

The events are written as Parquet batches in a temporary folder, then a fresh process loads every
batch into a DuckDB store, adds the rules (touchpoints and conversions, weekly weeks starting
Monday) and syncs: the harmonized view plus its data-quality report. Prints a table and writes
bench/results/harmonize_scale.json with wall seconds and peak memory (resource.getrusage) of
that process. Target: load + sync <= 60 s and <= 4 GB on 2 cores.

    .venv/bin/python bench/harmonize_scale.py [--events 10000000] [--people 200000] [--channels 12]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_SECONDS, TARGET_GB = 60.0, 4.0
START = np.datetime64("2023-01-02T00:00:00", "s")  # a Monday; two years of events follow
DAYS = 728
CAMPAIGNS_PER_CHANNEL = 5
KINDS = np.array(["impression", "click", "conversion"])


def generate(folder: Path, n_events: int, n_people: int, n_channels: int, batches: int, seed: int):
    """Parquet batches of events, split by time (as exports arrive), and the totals they hold (for the check)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    channels = [f"channel_{i:02d}" for i in range(n_channels)]
    campaigns = [f"{c}_{'brand' if k == 0 else 'generic'}_{k}" for c in channels for k in range(CAMPAIGNS_PER_CHANNEL)]
    seconds = np.sort(rng.integers(0, DAYS * 86_400, n_events))
    popularity = 1.0 / np.arange(1, n_channels + 1)
    channel = rng.choice(n_channels, n_events, p=popularity / popularity.sum()).astype(np.int32)
    campaign = channel * CAMPAIGNS_PER_CHANNEL + rng.integers(0, CAMPAIGNS_PER_CHANNEL, n_events).astype(np.int32)
    kind = rng.choice(3, n_events, p=[0.80, 0.18, 0.02]).astype(np.int32)
    cost = np.where(kind == 0, rng.uniform(0.002, 0.01, n_events), np.where(kind == 1, rng.uniform(0.2, 2.0, n_events), 0.0))
    revenue = np.where(kind == 2, rng.lognormal(3.5, 0.6, n_events), 0.0)
    person = rng.integers(0, n_people, n_events)
    totals = {"impressions": int((kind == 0).sum()), "clicks": int((kind == 1).sum()), "orders": int((kind == 2).sum()),
              "spend": float(cost.sum()), "revenue": float(revenue.sum())}
    paths = []
    for i, rows in enumerate(np.array_split(np.arange(n_events), batches)):
        table = pa.table({
            "person_id": pa.array(person[rows]),
            "timestamp": pa.array((START + seconds[rows]).astype("datetime64[us]")),
            "channel": pa.DictionaryArray.from_arrays(pa.array(channel[rows]), pa.array(channels)),
            "campaign": pa.DictionaryArray.from_arrays(pa.array(campaign[rows]), pa.array(campaigns)),
            "event_type": pa.DictionaryArray.from_arrays(pa.array(kind[rows]), pa.array(KINDS)),
            "cost": pa.array(cost[rows]),
            "revenue": pa.array(revenue[rows]),
        })
        path = folder / f"events_{i + 1:02d}.parquet"
        pq.write_table(table, path)
        paths.append(path)
    return paths, totals


WEEK = {"unit": "week", "week_start": "Monday"}
BRAND = {"case": [{"when": {"column": "campaign", "contains": "brand"}, "then": "brand"}], "else": "generic"}
RULES = [
    {"name": "impressions", "status": "active", "granularity": WEEK, "when": {"column": "event_type", "equals": "impression"},
     "dimensions": {"channel": {"column": "channel"}, "campaign": {"column": "campaign"}, "brand": BRAND},
     "metrics": {"spend": {"sum": "cost"}, "impressions": {"count": "*"}}},
    {"name": "clicks", "status": "active", "granularity": WEEK, "when": {"column": "event_type", "equals": "click"},
     "dimensions": {"channel": {"column": "channel"}, "campaign": {"column": "campaign"}, "brand": BRAND},
     "metrics": {"spend": {"sum": "cost"}, "clicks": {"count": "*"}}},
    {"name": "orders", "status": "active", "granularity": WEEK, "when": {"column": "event_type", "equals": "conversion"},
     "dimensions": {"conversion_type": {"value": "order"}},
     "metrics": {"orders": {"count": "*"}, "revenue": {"sum": "revenue"}}},
]


def run_load_and_sync(folder: Path, store_path: Path, n_channels: int) -> dict:
    """The measured part, in its own process: load every batch, add rules and definitions, sync."""
    from mediamix.data import HarmonizedStore
    from mediamix.data.datasets import load_batch
    from mediamix.data.definitions import define_conversion, define_touchpoint
    from mediamix.data.fields import set_unit
    from mediamix.data.rules import add_rule
    from mediamix.data.sync import sync
    from mediamix.data.view import harmonized_view

    store = HarmonizedStore(store_path)
    timings = {}
    started = time.perf_counter()
    rows = 0
    for path in sorted(folder.glob("events_*.parquet")):
        rows += load_batch(store, "events", path, kind="events").rows
    timings["load_s"] = time.perf_counter() - started
    mark = time.perf_counter()
    with store.session():
        set_unit(store, "spend", "USD")
        set_unit(store, "revenue", "USD")
        for rule in RULES:
            add_rule(store, rule, dataset="events")
        for i in range(n_channels):
            define_touchpoint(store, f"channel_{i:02d}", where={"field": "channel", "equals": f"channel_{i:02d}"},
                              spend="spend", volume="impressions")
        define_conversion(store, "orders", conversion="orders", revenue="revenue",
                          where={"field": "conversion_type", "equals": "order"})
    timings["setup_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    result = sync(store)
    timings["sync_s"] = time.perf_counter() - mark
    timings["total_s"] = time.perf_counter() - started
    view = harmonized_view(store)
    totals = {m: float(view[m].sum()) for m in ("impressions", "clicks", "orders", "spend", "revenue")}
    return {"view_totals": totals,
        **timings, "rows_loaded": rows, "view_rows": result.rows, "weeks": int(
            (result.last_date - result.first_date).days // 7 + 1), "granularity": result.granularity.describe(),
        "errors": len(result.report.errors), "warnings": len(result.report.warnings),
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2,
        "store_mb": store_path.stat().st_size / 1024 ** 2,
    }


def _child(args) -> None:
    if args.child == "generate":
        paths, totals = generate(Path(args.folder), args.events, args.people, args.channels, args.batches, args.seed)
        print(json.dumps({"files": [str(p) for p in paths], "totals": totals,
                          "parquet_mb": sum(p.stat().st_size for p in paths) / 1024 ** 2}))
    else:
        print(json.dumps(run_load_and_sync(Path(args.folder), Path(args.folder) / "harmonized.duckdb", args.channels)))


def _spawn(args, role: str, folder: Path) -> tuple[dict, float]:
    command = [sys.executable, __file__, "--child", role, "--folder", str(folder), "--events", str(args.events),
               "--people", str(args.people), "--channels", str(args.channels), "--batches", str(args.batches),
               "--seed", str(args.seed)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{role} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1]), time.perf_counter() - started


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--channels", type=int, default=12)
    parser.add_argument("--batches", type=int, default=4, help="Parquet files the events arrive in (loaded in turn).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "harmonize_scale.json"))
    parser.add_argument("--child", choices=["generate", "run"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return {}
    with tempfile.TemporaryDirectory(prefix="harmonize_scale_") as tmp:
        generated, generate_s = _spawn(args, "generate", Path(tmp))
        measured, process_s = _spawn(args, "run", Path(tmp))
    result = {
        "events": args.events, "people": args.people, "channels": args.channels, "batches": args.batches,
        "seed": args.seed, "parquet_mb": round(generated["parquet_mb"], 1), "generate_s": round(generate_s, 2),
        **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in measured.items()},
        "process_wall_s": round(process_s, 2),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(), "machine": platform.machine(),
        "target_seconds": TARGET_SECONDS, "target_gb": TARGET_GB,
    }
    import duckdb
    import pandas

    result["duckdb"], result["pandas"] = duckdb.__version__, pandas.__version__
    # the view's totals against those computed by the generator (numpy), to 1e-9 relative
    view_totals = result.pop("view_totals")
    result["totals_match"] = all(abs(view_totals[k] - v) <= 1e-9 * max(1.0, abs(v)) for k, v in generated["totals"].items())
    result["generated_totals"] = generated["totals"]
    result["meets_target"] = result["total_s"] <= TARGET_SECONDS and result["peak_rss_gb"] <= TARGET_GB
    _print(result)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return result


def _print(r: dict) -> None:
    rows = [
        ("events loaded", f"{r['rows_loaded']:,} in {r['batches']} Parquet batches ({r['parquet_mb']} MB)"),
        ("people / channels", f"{r['people']:,} / {r['channels']}"),
        ("load (all batches)", f"{r['load_s']:.1f} s"),
        ("rules + definitions", f"{r['setup_s']:.2f} s"),
        ("sync to weekly + quality report", f"{r['sync_s']:.1f} s ({r['view_rows']:,} view rows, {r['weeks']} weeks)"),
        ("load + sync", f"{r['total_s']:.1f} s (target <= {TARGET_SECONDS:.0f} s)"),
        ("peak memory (RSS)", f"{r['peak_rss_gb']:.2f} GB (target <= {TARGET_GB:.0f} GB)"),
        ("quality report", f"{r['errors']} errors, {r['warnings']} warnings"),
        ("view totals = generated totals", "yes" if r["totals_match"] else "NO"),
        ("store file", f"{r['store_mb']:.0f} MB"),
        ("cpus", str(r["cpus"])),
        ("meets target", "yes" if r["meets_target"] else "NO"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'harmonize_scale':<{width}}  result")
    print("-" * (width + 50))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
