"""Fit speed: one MMM fit of the bundled demo set (issue 2's setting), cold and warm.

    .venv/bin/python bench/fit_speed.py [--chains 2 --warmup 1000 --draws 1000] [--cold | --warm]
        [--repeat N] [--seed S] [--target-accept A] [--max-tree-depth D]

The demo data (src/mediamix/demo_data: 156 weeks, 5 channels, price and holiday) with the
bundled demo model spec, fitted by `mediamix.model.fit.fit_nuts`. Every run is a fresh
process, so nothing is compiled or imported in advance:

* cold: an empty compilation cache, i.e. the first fit on a machine (XLA compiles);
* warm: the persistent compilation cache (MEDIAMIX_COMPILE_CACHE or ~/.cache/mediamix/xla)
  holds the sampler for this shape and setting, i.e. every later fit (a priming run fills it
  first when needed). The program is still traced (Python, ~0.5 s).

Columns: fit wall seconds (fit_nuts: design arrays, start, trace, compile, sampling, draws to
InferenceData; imports not included, shown separately), compile seconds (trace + XLA compile
or cache load), sampling seconds, process CPU seconds of the fit, min bulk ESS over the
sampled parameters (mediamix.model.mmm.site_shapes) and over the model's parameters,
ESS per wall second, divergences, mean leapfrog steps per draw, peak memory (getrusage
maxrss of the fitting process), max |share error| vs demo_truth.json in percentage points
(contribution over the training window / revenue over the window, as the recovery test
computes it). Target (issue 2, 2 CPU cores): <= 10 s with compile, 0 divergences, min
ESS >= 400. The machine may be shared: the load average is recorded with every run.
Results: a table on stdout and bench/results/fit_speed.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "fit_speed.json"
TARGET_SECONDS, TARGET_ESS = 10.0, 400.0


def worker(args) -> dict:
    """One fit in this (fresh) process; returns the measurements."""
    started = time.perf_counter()
    load_before = os.getloadavg()
    import numpy as np
    import pandas as pd
    import arviz as az
    import mediamix  # noqa: F401  (sets XLA_FLAGS: 2 host devices, before JAX starts)
    from mediamix.data.simulate import demo_data_dir
    from mediamix.model.design import build_design
    from mediamix.model.fit import fit_nuts
    from mediamix.model.mmm import media_saturation, param_names, site_shapes, split_params
    from mediamix.model.spec import ModelSpec
    import_seconds = time.perf_counter() - started

    folder = demo_data_dir()
    frame = pd.read_csv(folder / "demo_weekly.csv", parse_dates=["date"])
    truth = json.loads((folder / "demo_truth.json").read_text())
    spec = ModelSpec.from_yaml((folder / "demo_model.yaml").read_text())
    sampler = {**spec.sampler.__dict__, "chains": args.chains, "warmup": args.warmup, "draws": args.draws}
    for key in ("seed", "target_accept", "max_tree_depth"):
        if getattr(args, key) is not None:
            sampler[key] = getattr(args, key)
    spec = spec.replace(sampler=spec.sampler.__class__(**sampler))
    design = build_design(frame, spec)

    cpu0 = time.process_time()
    out = fit_nuts(spec, design, progress=False)
    fit_cpu = time.process_time() - cpu0

    idata, timings = out.idata, out.timings
    post = idata.posterior
    sampled_sites, model_params = list(site_shapes(out.statics)), param_names(out.statics)
    ess_sampled = az.ess(idata, var_names=[v for v in sampled_sites if v in post], method="bulk")
    ess_model = az.ess(idata, var_names=[v for v in model_params if v in post and post[v].size], method="bulk")
    min_sampled = min(float(ess_sampled[v].min()) for v in ess_sampled.data_vars)
    worst = min(ess_sampled.data_vars, key=lambda v: float(ess_sampled[v].min()))
    min_model = min(float(ess_model[v].min()) for v in ess_model.data_vars)
    stats = idata.sample_stats

    # Shares as the recovery test computes them: media contribution over the training window
    # divided by the window's revenue, posterior mean; the model's own NumPy equations.
    statics = out.statics.to_numpy()
    draws = {k: post[k].to_numpy().reshape((-1,) + post[k].shape[2:]) for k in model_params if k in post}
    sat = media_saturation(statics, split_params(statics, draws), xp=np)[:, :, 0, :]   # (draw, time, channel): one geo
    window = design.in_training
    contribution = (sat[:, window, :] * draws["beta"][:, None, :]).sum(axis=1) * design.scaling.y_scale
    share = contribution.mean(axis=0) / np.nansum(design.y[window])
    errors = {ch: 100 * (float(share[j]) - truth["channels"][ch]["share"]) for j, ch in enumerate(design.channels)}

    compile_seconds = timings.get("trace_seconds", 0.0) + timings.get("compile_seconds", 0.0)
    return {
        "fit_wall_s": out.seconds, "compile_s": compile_seconds, "trace_s": timings.get("trace_seconds"),
        "xla_compile_s": timings.get("compile_seconds"), "compile_cpu_s": timings.get("compile_cpu_seconds"),
        "sample_s": timings.get("sample_seconds"), "start_s": timings.get("start_seconds"),
        "postprocess_s": timings.get("postprocess_seconds"), "fit_cpu_s": fit_cpu,
        "import_s": import_seconds, "process_wall_s": time.perf_counter() - started,
        "compile_cache_hit": bool(timings.get("compile_cache_hit")), "start": timings.get("start"),
        "chain_method": timings.get("chain_method"),
        "min_ess_bulk": min_sampled, "min_ess_param": worst, "min_ess_bulk_model_params": min_model,
        "ess_per_s": min_sampled / out.seconds, "divergences": int(stats["diverging"].sum()),
        "warmup_divergences": timings.get("warmup_divergences"),
        "mean_leapfrog_steps": float(stats["n_steps"].mean()), "warmup_leapfrog_steps": timings.get("warmup_steps"),
        "max_rhat": float(max(float(v.max()) for v in az.rhat(idata, var_names=[
            v for v in sampled_sites if v in post]).data_vars.values())),
        "peak_mem_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "max_share_error_pp": max(abs(e) for e in errors.values()), "share_error_pp": errors,
        "load_before": load_before, "load_after": os.getloadavg(),
    }


def run_worker(args, cache_dir: str | None) -> dict:
    env = dict(os.environ, MEDIAMIX_COMPILE_CACHE=cache_dir or "off")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--chains", str(args.chains),
           "--warmup", str(args.warmup), "--draws", str(args.draws)]
    for key in ("seed", "target_accept", "max_tree_depth"):
        if getattr(args, key) is not None:
            cmd += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT_JSON "):
            return json.loads(line[len("RESULT_JSON "):])
    raise RuntimeError(f"fit worker failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


def print_table(rows: list[dict]) -> None:
    cols = [("run", lambda r: r["mode"]), ("wall s", lambda r: f"{r['fit_wall_s']:.2f}"),
            ("compile s", lambda r: f"{r['compile_s']:.2f}"), ("sampling s", lambda r: f"{r['sample_s']:.2f}"),
            ("fit CPU s", lambda r: f"{r['fit_cpu_s']:.2f}"), ("min ESS", lambda r: f"{r['min_ess_bulk']:.0f}"),
            ("ESS/s", lambda r: f"{r['ess_per_s']:.0f}"), ("div", lambda r: str(r["divergences"])),
            ("steps", lambda r: f"{r['mean_leapfrog_steps']:.1f}"), ("peak MB", lambda r: f"{r['peak_mem_mb']:.0f}"),
            ("share err pp", lambda r: f"{r['max_share_error_pp']:.2f}"),
            ("+imports s", lambda r: f"{r['import_s']:.1f}"), ("load", lambda r: f"{r['load_before'][0]:.1f}")]
    try:
        from rich.console import Console
        from rich.table import Table
        table = Table(title="mediamix fit speed: demo set")
        for name, _ in cols:
            table.add_column(name, justify="right")
        for r in rows:
            table.add_row(*(fn(r) for _, fn in cols))
        Console(width=170).print(table)
    except ImportError:
        print("  ".join(name for name, _ in cols))
        for r in rows:
            print("  ".join(fn(r) for _, fn in cols))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None, help="sampler seed (default: the demo spec's)")
    parser.add_argument("--target-accept", type=float, default=None)
    parser.add_argument("--max-tree-depth", type=int, default=None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--cold", action="store_true", help="only cold runs (empty compilation cache)")
    mode.add_argument("--warm", action="store_true", help="only warm runs (persistent compilation cache)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per mode (the machine may be shared)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print("RESULT_JSON " + json.dumps(worker(args)))
        return

    from mediamix.model.fit import compile_cache_dir
    modes = ["cold"] if args.cold else ["warm"] if args.warm else ["cold", "warm"]
    rows = []
    for m in modes:
        for i in range(args.repeat):
            if m == "cold":
                tmp = tempfile.mkdtemp(prefix="mediamix-cold-cache-")
                try:
                    r = run_worker(args, tmp)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
            else:
                cache = compile_cache_dir() or str(Path(tempfile.gettempdir()) / "mediamix-bench-cache")
                r = run_worker(args, cache)
                if not r["compile_cache_hit"] and i == 0:   # first fit of this shape here: prime, rerun
                    r = run_worker(args, cache)
            r["mode"] = m if args.repeat == 1 else f"{m} #{i + 1}"
            rows.append(r)
            print(f"{r['mode']}: wall {r['fit_wall_s']:.2f} s (compile {r['compile_s']:.2f}, sampling "
                  f"{r['sample_s']:.2f}), min ESS {r['min_ess_bulk']:.0f}, {r['divergences']} divergences, "
                  f"load {r['load_before'][0]:.1f}", flush=True)
    print_table(rows)
    result = {
        "benchmark": "fit_speed", "target": {"wall_s": TARGET_SECONDS, "divergences": 0, "min_ess_bulk": TARGET_ESS},
        "settings": {"chains": args.chains, "warmup": args.warmup, "draws": args.draws, "seed": args.seed,
                     "target_accept": args.target_accept, "max_tree_depth": args.max_tree_depth,
                     "data": "bundled demo set (demo_weekly.csv, demo_model.yaml)"},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "runs": rows,
        "meets_target": {r["mode"]: bool(r["fit_wall_s"] <= TARGET_SECONDS and r["divergences"] == 0
                                         and r["min_ess_bulk"] >= TARGET_ESS) for r in rows},
        "written": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
