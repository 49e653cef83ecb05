"""mediamix vs PyMC-Marketing and Google Meridian on one simulated data set, in one run.

Simulates one weekly data set with mediamix's own simulator (true contribution shares known),
installs each peer in its own venv under bench/.venvs/ (from bench/peers/requirements-*.txt;
they are not project dependencies), then fits the same CSV with mediamix and with each peer,
one at a time, each in its own process (bench/peers/run_*.py), and prints a table: wall time,
min bulk ESS, ESS/s, divergences, peak memory, mean absolute contribution-share error vs the
truth, and mediamix's ratio to each peer. Writes bench/results/compare_peers.json.
Target (issue 4): mediamix >= 10x faster than the fastest peer with equal or better ESS and error.

    .venv/bin/python bench/compare_peers.py [--chains 2 --warmup 1000 --draws 1000]
        [--peers pymc-marketing,meridian] [--skip-install] [--override meridian=2x500x500]

A peer that cannot be installed, fails or times out gets a row saying why; the bench goes on.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PEERS_DIR = BENCH / "peers"
VENVS = BENCH / ".venvs"
RESULTS = BENCH / "results"
CHANNELS = ["tv", "search", "social", "display", "video"]
RESULT_PREFIX = "RESULT_JSON "
TARGET_SPEEDUP = 10.0


@dataclass(frozen=True)
class Peer:
    name: str
    requirements: Path
    runner: Path
    packages: tuple[str, ...]   # the distributions whose versions the results record


PEERS = {
    "pymc-marketing": Peer("pymc-marketing", PEERS_DIR / "requirements-pymc-marketing.txt",
                           PEERS_DIR / "run_pymc_marketing.py", ("pymc-marketing", "pymc", "numpyro", "jax")),
    "meridian": Peer("meridian", PEERS_DIR / "requirements-meridian.txt", PEERS_DIR / "run_meridian.py",
                     ("google-meridian", "tensorflow", "tfp-nightly", "jax")),
}


def log(msg: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def load_now() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---- data -----------------------------------------------------------------------------------
def make_data(folder: Path, weeks: int, seed: int) -> dict:
    from mediamix.data.simulate import SimulationSpec, simulate

    sim = simulate(SimulationSpec(weeks=weeks, seed=seed))
    csv = folder / "simulated_weekly.csv"
    sim.frame.to_csv(csv, index=False, date_format="%Y-%m-%d")
    truth = {ch: float(sim.truth["channels"][ch]["share"]) for ch in CHANNELS}
    return {"csv": str(csv), "weeks": weeks, "seed": seed, "rows": len(sim.frame),
            "columns": list(sim.frame.columns), "sha256": hashlib.sha256(csv.read_bytes()).hexdigest(),
            "true_shares": truth, "total_revenue": float(sim.truth["total_revenue"])}


# ---- venvs ----------------------------------------------------------------------------------
def venv_python(peer: Peer) -> Path:
    return VENVS / peer.name / "bin" / "python"


def ensure_venv(peer: Peer, skip_install: bool, log_dir: Path) -> tuple[bool, str, float]:
    """(ready, reason if not, install seconds). Reinstalls when the requirements file changed."""
    python = venv_python(peer)
    stamp = VENVS / peer.name / ".requirements.sha256"
    wanted = hashlib.sha256(peer.requirements.read_bytes()).hexdigest()
    if skip_install:
        if python.exists():
            return True, "", 0.0
        return False, f"--skip-install but no venv at {python.parent.parent}", 0.0
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return True, "", 0.0
    started = time.perf_counter()
    install_log = log_dir / f"install-{peer.name}.log"
    log(f"installing {peer.name} into {VENVS / peer.name} (log: {install_log})")
    steps = []
    if not python.exists():
        steps.append([sys.executable, "-m", "venv", str(VENVS / peer.name)])
    steps += [[str(python), "-m", "pip", "install", "--upgrade", "pip"],
              [str(python), "-m", "pip", "install", "-r", str(peer.requirements)]]
    with open(install_log, "w") as fh:
        for cmd in steps:
            fh.write("$ " + " ".join(cmd) + "\n")
            fh.flush()
            done = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT)
            if done.returncode != 0:
                lines = install_log.read_text(errors="replace").strip().splitlines()
                tail = [ln for ln in lines if ln.startswith("ERROR")][-3:] or lines[-3:]
                why = f"install failed ({' '.join(cmd[-2:])}): {' | '.join(tail)}"
                return False, why, time.perf_counter() - started
    stamp.write_text(wanted + "\n")
    return True, "", time.perf_counter() - started


def installed_versions(python: Path, packages: tuple[str, ...]) -> dict:
    code = ("import json, importlib.metadata as m\nout = {}\nfor p in %r:\n    try: out[p] = m.version(p)\n"
            "    except m.PackageNotFoundError: out[p] = None\nprint(json.dumps(out))" % (packages,))
    try:
        done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120)
        return json.loads(done.stdout)
    except Exception:
        return {}


# ---- fits -----------------------------------------------------------------------------------
def run_fit(tool: str, python: Path, runner: Path, config: dict, work: Path, log_dir: Path, timeout: float) -> dict:
    cfg_path = work / f"config-{tool}.json"
    config = {**config, "out": str(work / f"result-{tool}.json")}
    cfg_path.write_text(json.dumps(config, indent=1))
    stderr_log = log_dir / f"fit-{tool}.log"
    load_before = load_now()
    log(f"fitting {tool} ({config['chains']}x{config['warmup']}x{config['draws']}), load {load_before}")
    started = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONPATH", None)
    with open(stderr_log, "w") as err:
        # Own session, so a timeout ends the runner and anything it started (compilers, workers).
        proc = subprocess.Popen([str(python), str(runner), str(cfg_path)], cwd=str(runner.parent), env=env,
                                stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True)
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            log(f"{tool}: timed out after {timeout:.0f} s")
            return {"tool": tool, "ok": False, "error": f"timed out after {timeout:.0f} s (see {stderr_log})",
                    "subprocess_s": time.perf_counter() - started, "load_before": load_before,
                    "load_after": load_now()}
    elapsed = time.perf_counter() - started
    lines = [ln for ln in stdout.splitlines() if ln.startswith(RESULT_PREFIX)]
    if lines:
        result = json.loads(lines[-1][len(RESULT_PREFIX):])
    else:
        tail = " | ".join(stderr_log.read_text(errors="replace").strip().splitlines()[-3:])
        why = f"killed by signal {-proc.returncode} (out of memory?)" if proc.returncode < 0 \
            else f"exit code {proc.returncode}"
        result = {"tool": tool, "ok": False, "error": f"runner printed no result, {why}: {tail}"[:2000]}
    result.update(subprocess_s=elapsed, returncode=proc.returncode, load_before=load_before, load_after=load_now(),
                  log=str(stderr_log))
    if result.get("ok"):
        log(f"{tool}: wall {result['wall_s']:.1f} s, min ESS {result['min_ess_bulk']:.0f}, "
            f"{result['divergences']} divergences")
    else:
        log(f"{tool}: FAILED: {result.get('error')}")
    return result


def share_error_pp(shares: dict, truth: dict) -> float:
    return 100.0 * sum(abs(shares[ch] - truth[ch]) for ch in truth) / len(truth)


def summarise(result: dict, truth: dict) -> dict:
    row = {"tool": result["tool"], "ok": bool(result.get("ok"))}
    if not row["ok"]:
        row["error"] = result.get("error", "unknown error")
        return row
    s = result["settings"]
    row.update(setting=f"{s['chains']}x{s['warmup']}x{s['draws']}", wall_s=result["wall_s"],
               min_ess=result["min_ess_bulk"], ess_per_s=result["min_ess_bulk"] / result["wall_s"],
               max_rhat=result.get("max_rhat"),
               divergences=result["divergences"], peak_mb=result["peak_rss_mb"],
               share_error_pp=share_error_pp(result["shares"], truth))
    return row


def ratios(mm: dict, rows: list[dict], main_setting: str) -> dict:
    out = {}
    if not mm.get("ok"):
        return out
    for row in rows:
        if row["tool"] == "mediamix" or not row.get("ok"):
            continue
        out[row["tool"]] = {"wall_speedup": row["wall_s"] / mm["wall_s"],
                            "ess_per_s_ratio": mm["ess_per_s"] / row["ess_per_s"] if row["ess_per_s"] > 0 else None,
                            "same_setting": row["setting"] == main_setting}
    return out


def verdict(mm: dict, rows: list[dict], main_setting: str) -> dict:
    peers = [r for r in rows if r["tool"] != "mediamix" and r.get("ok") and r["setting"] == main_setting]
    if not mm.get("ok") or not peers:
        return {"met": None, "why": "no successful peer fit at the same setting to compare with"}
    fastest = min(peers, key=lambda r: r["wall_s"])
    speedup = fastest["wall_s"] / mm["wall_s"]
    checks = {"speedup >= 10x": speedup >= TARGET_SPEEDUP,
              "min ESS >= peer's": mm["min_ess"] >= fastest["min_ess"],
              "share error <= peer's": mm["share_error_pp"] <= fastest["share_error_pp"]}
    return {"met": all(checks.values()), "fastest_peer": fastest["tool"], "speedup": speedup, "checks": checks}


# ---- output ---------------------------------------------------------------------------------
def fmt(value, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def print_table(rows: list[dict], rat: dict, truth: dict, results: dict, target: dict) -> None:
    head = (f"{'tool':<15} {'setting':<12} {'wall s':>8} {'min ESS':>8} {'ESS/s':>8} {'R-hat':>6} {'div':>5} "
            f"{'peak MB':>8} {'share err pp':>12} {'mm speed-up':>11} {'mm ESS/s x':>10}")
    print(head)
    print("-" * len(head))
    for row in rows:
        if not row["ok"]:
            print(f"{row['tool']:<15} FAILED: {row['error']}")
            continue
        r = rat.get(row["tool"], {})
        mark = "" if r.get("same_setting", True) else "*"
        print(f"{row['tool']:<15} {row['setting']:<12} {row['wall_s']:>8.1f} {row['min_ess']:>8.0f} "
              f"{row['ess_per_s']:>8.2f} {fmt(row['max_rhat'], '.3f'):>6} {row['divergences']:>5d} "
              f"{row['peak_mb']:>8.0f} {row['share_error_pp']:>12.2f} "
              f"{fmt(r.get('wall_speedup'), '.1f') + ('x' if r else '') + mark:>11} "
              f"{fmt(r.get('ess_per_s_ratio'), '.1f') + ('x' if r.get('ess_per_s_ratio') else '') + mark:>10}")
    if any(not r.get("same_setting", True) for r in rat.values()):
        print("* peer fitted at a different chains x warmup x draws than mediamix: ratios are indicative only")
    print()
    names = [row["tool"] for row in rows if row["ok"]]
    print(f"{'contribution share %':<22}" + f"{'truth':>9}" + "".join(f"{n:>16}" for n in names))
    for ch in truth:
        vals = "".join(f"{100 * results[n]['shares'][ch]:>16.2f}" for n in names)
        print(f"{ch:<22}{100 * truth[ch]:>9.2f}{vals}")
    print()
    if target.get("met") is None:
        print(f"target (>= {TARGET_SPEEDUP:.0f}x the fastest peer, ESS and error no worse): "
              f"not judged: {target['why']}")
    else:
        checks = ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in target["checks"].items())
        print(f"target vs fastest peer ({target['fastest_peer']}, {target['speedup']:.1f}x): "
              f"{'MET' if target['met'] else 'NOT MET'} ({checks})")


def git_state() -> dict:
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=str(BENCH.parent), capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except Exception:
            return ""
    return {"commit": git("rev-parse", "HEAD"),
            "dirty_model_files": git("status", "--short", "src/mediamix/model").splitlines()}


def parse_override(items: list[str]) -> dict:
    out = {}
    for item in items or []:
        try:
            name, setting = item.split("=", 1)
            c, w, d = (int(x) for x in setting.lower().split("x"))
        except ValueError:
            raise SystemExit(f"--override {item!r}: expected PEER=CHAINSxWARMUPxDRAWS, e.g. meridian=2x500x500")
        out[name.strip()] = (c, w, d)
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0, help="sampler seed, the same for every tool")
    parser.add_argument("--target-accept", type=float, default=0.9, help="NUTS target acceptance, every tool")
    parser.add_argument("--peers", default="pymc-marketing,meridian", help=f"comma-separated, of {sorted(PEERS)}")
    parser.add_argument("--skip-install", action="store_true", help="use the venvs in bench/.venvs as they are")
    parser.add_argument("--override", action="append", metavar="PEER=CxWxD",
                        help="fit one peer at another chains x warmup x draws (marked in the table)")
    parser.add_argument("--weeks", type=int, default=156, help="simulated weeks")
    parser.add_argument("--sim-seed", type=int, default=7, help="simulator seed")
    parser.add_argument("--knots", type=int, default=None,
                        help="Meridian time-effect knots (default: one per 8 weeks)")
    parser.add_argument("--timeout", type=float, default=7200, help="seconds allowed per fit")
    parser.add_argument("--keep-data", action="store_true", help="keep the temp folder (CSV, configs)")
    parser.add_argument("--out", default=str(RESULTS / "compare_peers.json"))
    args = parser.parse_args(argv)

    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise SystemExit(f"--peers: unknown {unknown}; known: {sorted(PEERS)}")
    overrides = parse_override(args.override)
    RESULTS.mkdir(parents=True, exist_ok=True)
    VENVS.mkdir(parents=True, exist_ok=True)
    log_dir = Path(args.out).with_suffix("").parent / (Path(args.out).stem + "_logs")   # beside the JSON
    log_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="compare_peers_"))
    started_at = dt.datetime.now().isoformat(timespec="seconds")
    load_start = load_now()
    git = git_state()  # before any fit: the package may change while the bench runs

    data = make_data(work, args.weeks, args.sim_seed)
    truth = data["true_shares"]
    log(f"data: {data['rows']} weeks in {data['csv']}")
    base = {"csv": data["csv"], "channels": CHANNELS, "target": "revenue", "controls": ["price", "holiday"],
            "chains": args.chains, "warmup": args.warmup, "draws": args.draws, "seed": args.seed,
            "target_accept": args.target_accept, "l_max": 8, "seasonality_order": 2,
            "knots": args.knots or max(2, round(args.weeks / 8))}
    main_setting = f"{args.chains}x{args.warmup}x{args.draws}"

    installs, ready = {}, {}
    for name in peers:
        ok, why, seconds = ensure_venv(PEERS[name], args.skip_install, log_dir)
        installs[name] = {"ok": ok, "error": why or None, "seconds": round(seconds, 1),
                          "versions": installed_versions(venv_python(PEERS[name]), PEERS[name].packages)
                          if ok else {}}
        ready[name] = ok
        if not ok:
            log(f"{name}: {why}")

    results = {"mediamix": run_fit("mediamix", Path(sys.executable), PEERS_DIR / "run_mediamix.py", base, work,
                                   log_dir, args.timeout)}
    for name in peers:
        if not ready[name]:
            results[name] = {"tool": name, "ok": False, "error": installs[name]["error"]}
            continue
        config = dict(base)
        if name in overrides:
            config["chains"], config["warmup"], config["draws"] = overrides[name]
        results[name] = run_fit(name, venv_python(PEERS[name]), PEERS[name].runner, config, work, log_dir,
                                args.timeout)

    rows = [summarise(results[name], truth) for name in results]
    mm = rows[0]
    rat = ratios(mm, rows, main_setting)
    target = verdict(mm, rows, main_setting)
    out = {
        "bench": "compare_peers", "started": started_at, "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_start": load_start, "load_end": load_now(),
                    "mem_total_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3, 1)},
        "settings": {**{k: v for k, v in base.items() if k != "csv"},
                     "overrides": {k: "x".join(map(str, v)) for k, v in overrides.items()},
                     "timeout_s": args.timeout},
        "data": {k: v for k, v in data.items() if k != "csv"},
        "mediamix_git": git, "installs": installs, "rows": rows, "ratios": rat, "target": target,
        "results": results,
    }
    Path(args.out).write_text(json.dumps(out, indent=2, default=float))
    print()
    print(f"compare_peers: {data['rows']} simulated weeks, {len(CHANNELS)} channels, 2 controls; "
          f"{main_setting} (chains x warmup x draws); load {load_start} -> {out['machine']['load_end']}")
    print()
    print_table(rows, rat, truth, {n: r for n, r in results.items() if r.get("ok")}, target)
    print(f"\nwrote {args.out}; logs in {log_dir}")
    if args.keep_data:
        print(f"data and configs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return out


if __name__ == "__main__":
    main()
