"""Shared by every runner in bench/peers/ (standard library only: each runner imports it from
its own venv). A runner is started by bench/compare_peers.py as

    <venv>/bin/python bench/peers/run_<tool>.py CONFIG.json

reads the data set and the settings from CONFIG.json, fits, and prints exactly one line that
starts with RESULT_JSON followed by a JSON object (it also writes that object to
config["out"]). Whatever the libraries print goes to stderr or is ignored by the parent.

The object always has: tool, ok, and on success wall_s (model build + compile + warmup +
sampling, from data in memory to posterior in hand), post_s (computing contributions
afterwards), min_ess_bulk, min_ess_var and max_rhat (over the model's free parameters, listed in
ess_vars), divergences, shares
({channel: posterior-mean contribution / total revenue}), versions, settings and peak_rss_mb
(resource.getrusage RUSAGE_SELF ru_maxrss of the runner process; RUSAGE_CHILDREN is reported
separately for compilers a library starts). On failure: ok=false and error.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time
import traceback
from importlib import metadata

# Every tool gets the same view of the 2-core machine: one XLA CPU device per chain, so JAX-based
# samplers can run two chains in parallel (set before any JAX import).
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

RESULT_PREFIX = "RESULT_JSON "


def load_config() -> dict:
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} CONFIG.json")
    with open(sys.argv[1]) as fh:
        return json.load(fh)


def versions(*packages: str) -> dict:
    out = {"python": sys.version.split()[0]}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def peak_rss_mb() -> dict:
    # Linux reports ru_maxrss in KiB.
    return {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "children_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def convergence(posterior, var_names: list[str]) -> dict:
    """Smallest bulk ESS and largest rank-normalised R-hat (ArviZ) over every element of the named
    posterior variables (an xarray Dataset), the variable the smallest ESS belongs to, and the
    variables they were taken over (constants, e.g. Meridian's geo-hierarchy terms fixed at 0 in
    a national model, have neither and are left out)."""
    import arviz as az
    import numpy as np

    var_names = [n for n in var_names if float(np.nanstd(np.asarray(posterior[n]))) > 0]
    ess = az.ess(posterior[var_names], method="bulk")
    rhat = az.rhat(posterior[var_names])
    worst, where = float("inf"), ""
    for name in var_names:
        values = np.asarray(ess[name]).ravel()
        if values.size and np.nanmin(values) < worst:
            worst, where = float(np.nanmin(values)), name
    max_rhat = float(np.nanmax(np.concatenate([np.asarray(rhat[n]).ravel() for n in var_names])))
    return {"min_ess_bulk": worst, "min_ess_var": where, "max_rhat": max_rhat, "ess_vars": var_names}


def emit(config: dict, result: dict) -> None:
    result = {**result, **peak_rss_mb()}
    line = json.dumps(result, default=float)
    if config.get("out"):
        with open(config["out"], "w") as fh:
            fh.write(line + "\n")
    sys.stdout.flush()
    print(RESULT_PREFIX + line, flush=True)


def run(tool: str, fit) -> None:
    """Call fit(config) -> dict and emit its result, or emit the error instead of crashing."""
    config = load_config()
    started = time.perf_counter()
    try:
        result = {"tool": tool, "ok": True, **fit(config)}
    except BaseException as exc:  # report any failure (incl. MemoryError, KeyboardInterrupt) as a row
        traceback.print_exc(file=sys.stderr)
        result = {"tool": tool, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000]}
    result["process_s"] = time.perf_counter() - started
    emit(config, result)
