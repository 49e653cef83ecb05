"""Scale of the geo-level hierarchical model: one NUTS fit of a large simulated geo panel.

    .venv/bin/python bench/scale_geo.py [--weeks 208 --geos 50 --channels 30 --controls 10]
        [--chains 2 --warmup 1000 --draws 1000] [--max-tree-depth 8] [--target-accept 0.9] [--seed 0]

Data: mediamix.data.simulate_geo with `--geos` geos of log-normal sizes (mean 1), `--channels`
channels (decay 0.1-0.6, Hill slope 1.0-1.6, half-saturation 0.8-1.6x a geo's typical spend,
mean shares summing to ~35% of revenue, geo shares drawn around them with logit sd 0.3, a mix
of always-on, flighted and bursty spend) and `--controls` geo-varying controls plus a national
holiday dummy. Model: geos: hierarchical, every channel a touchpoint (geometric + Hill), every
control a factor, order-2 seasonality, linear trend, 13-week holdout; fitted by
`mediamix.model.fit.fit_nuts` in a fresh process (so peak memory is this fit's), with the
persistent compilation cache off (compile time is a cold compile).

Reported: fit wall seconds (design arrays excluded, shown separately), compile seconds (trace
+ XLA compile), start (Laplace or prior centre) and sampling seconds, peak memory (getrusage
ru_maxrss of the process, after the fit and again after the recovery check, which keeps
every draw's per-geo contributions), divergences, min bulk ESS and max R-hat over the sampled sites,
mean leapfrog steps, and recovery: max |national share error| and the per-geo share mean
absolute error, in percentage points, over the training window. A table on stdout and
bench/results/scale_geo.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "scale_geo.json"


def simulation_spec(args):
    import numpy as np
    from mediamix.data.simulate_geo import GeoChannelTruth, GeoSimulationSpec

    rng = np.random.default_rng(args.seed)
    sizes = rng.lognormal(0.0, 0.7, args.geos)
    sizes = tuple(float(s) for s in np.round(sizes / sizes.mean(), 3))
    weights = rng.dirichlet(np.full(args.channels, 2.0))
    kinds = ("always", "flighted", "bursty")
    channels = tuple(GeoChannelTruth(
        name=f"ch_{j + 1:02d}", mean_spend=float(np.round(rng.lognormal(np.log(8_000), 0.6), -1)),
        decay=float(rng.uniform(0.1, 0.6)), half_relative=float(rng.uniform(0.8, 1.6)),
        slope=float(rng.uniform(1.0, 1.6)), share=float(0.35 * weights[j]), flighting=kinds[j % 3])
        for j in range(args.channels))
    return GeoSimulationSpec(weeks=args.weeks, geo_sizes=sizes, channels=channels, n_controls=args.controls,
                             seed=args.seed + 1)


def model_spec(args, sim_spec):
    from mediamix.model.spec import ModelSpec

    return ModelSpec.from_dict({
        "name": "scale-geo", "data": "sim", "conversion": "revenue", "geos": "hierarchical",
        "touchpoints": [{"name": c.name, "spend": f"{c.name}_spend"} for c in sim_spec.channels],
        "factors": [{"column": "holiday", "impact": "positive"}]
        + [{"column": f"control_{k + 1}"} for k in range(args.controls)],
        "seasonality_order": 2, "holdout_weeks": 13,
        "sampler": {"chains": args.chains, "warmup": args.warmup, "draws": args.draws, "seed": args.seed,
                    "target_accept": args.target_accept, "max_tree_depth": args.max_tree_depth}})


def worker(args) -> dict:
    """One fit in this (fresh) process; returns the measurements."""
    started = time.perf_counter()
    import numpy as np
    import arviz as az
    import mediamix  # noqa: F401  (sets XLA_FLAGS: 2 host devices, before JAX starts)
    from mediamix.data.simulate_geo import simulate_geo
    from mediamix.model.design import build_design
    from mediamix.model.fit import fit_nuts
    from mediamix.model.mmm import num_params
    from mediamix.model.posterior import FittedModel
    from mediamix.model.predict import component_draws

    sim_spec = simulation_spec(args)
    sim = simulate_geo(sim_spec)
    spec = model_spec(args, sim_spec)
    t0 = time.perf_counter()
    design = build_design(sim.frame, spec)
    design_seconds = time.perf_counter() - t0
    out = fit_nuts(spec, design, progress=False)
    fit_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024     # before the recovery check
    timings, idata = out.timings, out.idata
    sampled = idata.posterior.attrs["sampled_sites"].split()
    ess = az.ess(idata, var_names=sampled, method="bulk")
    rhat = az.rhat(idata, var_names=sampled)
    worst = min(ess.data_vars, key=lambda v: float(ess[v].min()))

    # Recovery over the training window, summed over draws in blocks (component_draws).
    fitted = FittedModel(spec=spec, scaling=design.scaling, priors=out.priors, idata=idata, diagnostics={})
    cd = component_draws(fitted, sim.frame, per_geo=True)
    win = design.in_training
    truth = sim.truth["channels"]
    national = cd.media[:, win].sum(axis=1).mean(axis=0) / np.nansum(design.y[win])
    national_err = [100 * abs(national[j] - truth[ch]["share"]) for j, ch in enumerate(design.channels)]
    geo_share = (cd.media_geo[:, win].sum(axis=1) / np.nansum(design.y_geo[win], axis=0)[None, :, None]).mean(axis=0)
    expected = np.array([[truth[ch]["geo_shares"][g] for ch in design.channels] for g in design.geos])
    stats = idata.sample_stats
    return {
        "fit_wall_s": out.seconds, "design_s": design_seconds,
        "compile_s": timings.get("trace_seconds", 0.0) + timings.get("compile_seconds", 0.0),
        "trace_s": timings.get("trace_seconds"), "xla_compile_s": timings.get("compile_seconds"),
        "start": timings.get("start"), "start_s": timings.get("start_seconds"),
        "sample_s": timings.get("sample_seconds"), "postprocess_s": timings.get("postprocess_seconds"),
        "chain_method": timings.get("chain_method"), "parameters": num_params(out.statics),
        "divergences": int(stats["diverging"].sum()), "warmup_divergences": timings.get("warmup_divergences"),
        "min_ess_bulk": float(min(float(ess[v].min()) for v in ess.data_vars)), "min_ess_site": worst,
        "max_rhat": float(max(float(rhat[v].max()) for v in rhat.data_vars)),
        "mean_leapfrog_steps": float(stats["n_steps"].mean()), "max_tree_depth_hits":
            int((stats["tree_depth"] >= args.max_tree_depth).sum()),
        "max_national_share_error_pp": float(max(national_err)),
        "geo_share_mae_pp": float(100 * np.abs(geo_share - expected).mean()),
        "peak_mem_fit_mb": fit_peak_mb, "peak_mem_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "process_wall_s": time.perf_counter() - started, "load_before": os.getloadavg(),
    }


def print_table(r: dict) -> None:
    rows = [("wall s (fit)", f"{r['fit_wall_s']:.1f}"), ("compile s", f"{r['compile_s']:.1f}"),
            ("start", f"{r['start']} ({r['start_s']:.1f} s)"), ("sampling s", f"{r['sample_s']:.1f}"),
            ("peak memory MB (fit)", f"{r['peak_mem_fit_mb']:.0f}"),
            ("peak memory MB (+ recovery check)", f"{r['peak_mem_mb']:.0f}"), ("divergences", str(r["divergences"])),
            ("min bulk ESS", f"{r['min_ess_bulk']:.0f} ({r['min_ess_site']})"), ("max R-hat", f"{r['max_rhat']:.3f}"),
            ("leapfrog steps / draw", f"{r['mean_leapfrog_steps']:.1f}"),
            ("tree-depth hits", str(r["max_tree_depth_hits"])), ("sampled parameters", str(r["parameters"])),
            ("max national share error pp", f"{r['max_national_share_error_pp']:.2f}"),
            ("geo share MAE pp", f"{r['geo_share_mae_pp']:.2f}")]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", type=int, default=208)
    parser.add_argument("--geos", type=int, default=50)
    parser.add_argument("--channels", type=int, default=30)
    parser.add_argument("--controls", type=int, default=10)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--target-accept", type=float, default=0.9)
    parser.add_argument("--max-tree-depth", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    keys = ("weeks", "geos", "channels", "controls", "chains", "warmup", "draws", "target_accept",
            "max_tree_depth", "seed")
    if args.worker:
        print("RESULT_JSON " + json.dumps(worker(args)))
        return
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    for key in keys:
        cmd += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
    env = dict(os.environ, MEDIAMIX_COMPILE_CACHE="off")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT_JSON ")), None)
    if line is None:
        raise SystemExit(f"fit worker failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    r = json.loads(line[len("RESULT_JSON "):])
    print(f"geo MMM scale: {args.weeks} weeks x {args.geos} geos x {args.channels} channels x {args.controls} "
          f"controls, {args.chains} chains x {args.warmup} warmup x {args.draws} draws")
    print_table(r)
    result = {"benchmark": "scale_geo", "settings": {k: getattr(args, k) for k in keys},
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
              "run": r, "written": time.strftime("%Y-%m-%dT%H:%M:%S")}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
