"""Fitting: NUTS (NumPyro's kernel) over the model's log density, returning ArviZ InferenceData.

A short fit is mostly start-up, so the sampler is organised to compile one small program
and waste no iterations:

* Start (`laplace_start`, model/mode.py): the posterior mode and a Gauss-Newton covariance
  by Levenberg-Marquardt on the model's own equations. The sampler moves
  x = chol^-1 (z - mode), an affine change of variables (same posterior) under which the
  posterior is close to standard normal, so warmup does not spend its first windows at
  maximum tree depth learning scales that differ by 1000x (`level` has sd ~0.001, shares
  ~0.5), and a diagonal mass matrix suffices (a dense one compiles and runs slower and its
  first estimate, from 25 draws of 29 parameters, is singular). Chains start apart, at
  x ~ N(0, 0.5^2) (seeded).
* One program (`_chunk`) runs a chunk of NUTS iterations for all chains, warmup and sampling
  alike (adaptation switches itself off after warmup), and initialises the chains on its
  first call. The host calls it ~20 times, updating the progress bar in between, then
  derives the model's parameters from the draws with the same equations in NumPy.
* The chains start with an unknown potential energy: evaluating the gradient at the start
  would put a second copy of the gradient in the program (~1 s of compile). The first warmup
  transition therefore starts from zero gradient and an energy that every trajectory point
  beats, and accepts a point of its trajectory (whose energy and gradient are computed as
  usual) with probability one. Warmup only; the sampler is exact from the second step on.
* Chains run in parallel, one per CPU device (mediamix/__init__.py asks XLA for 2 host
  devices), or vectorised on one device when there are fewer devices than chains.
* The data are arguments of the program (ModelStatics is a pytree), never constants, so one
  executable serves every data set of the same shape; it is kept for the process.
* XLA's CPU fusion emitters are off for this program, and small models compile with LLVM -O1
  (`compiler_options`): it compiles in about half the time and runs as fast (it is many tiny
  ops inside while loops).
* The executable goes to JAX's persistent compilation cache, so a new process with a
  same-shaped model skips XLA compilation (it still traces the program, ~0.5 s). The cache
  lives in $MEDIAMIX_COMPILE_CACHE, else $XDG_CACHE_HOME/mediamix/xla (~/.cache/mediamix/xla);
  MEDIAMIX_COMPILE_CACHE=off disables it; a cache directory already configured in JAX is
  used as it is.
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec
from numpyro.infer.hmc import hmc
from numpyro.infer.util import ParamInfo

from mediamix.model.design import Design
from mediamix.model.mmm import (ModelStatics, component_param_names, derived, log_density, pack, param_names,
                                prior_centre, site_dims, site_normals, unpack)
from mediamix.model.mode import laplace_start
from mediamix.model.priors import SharePriors, share_priors
from mediamix.model.spec import ModelSpec

# XLA CPU options for the sampler program (tiny ops inside while loops): without the fusion
# emitters it compiles in about half the time and runs as fast; for small models LLVM's -O1
# saves another ~20% of compile time at no measurable run time cost (larger models keep -O2).
COMPILER_OPTIONS = {"xla_cpu_use_fusion_emitters": False}
SMALL_MODEL_OPTIONS = {**COMPILER_OPTIONS, "xla_backend_optimization_level": 1}
SMALL_MODEL_ELEMENTS = 100_000      # lag x time x geo x channel cells of the media stack
CHANNEL_SITES = ("share_logit", "share", "beta")      # besides the components' parameters
FACTOR_SITES = ("factor_coef", "factor_raw")
# With several geos: per-geo parameters, and the pooling sites' layout.
GEO_CHANNEL_SITES = ("share", "beta", "share_eps")
GEO_SITES = ("level", "intercept")
POSTPROCESS_BLOCK_CELLS = 20_000_000     # derive_draws: draws x time x geo x channel per block
START_JITTER = 0.5       # sd of the chains' starting points around the mode, in posterior sds
_UNKNOWN_ENERGY = 1e30   # starting potential energy: above any reachable one (see above)


@dataclass
class FitOutput:
    idata: az.InferenceData
    statics: ModelStatics
    priors: SharePriors
    seconds: float
    timings: dict = field(default_factory=dict)   # start/trace/compile/sample seconds, cache use, warmup


@dataclass(frozen=True)
class NutsConfig:
    chains: int
    warmup: int
    draws: int
    target_accept: float
    max_tree_depth: int
    dense_mass: bool = False
    adapt_mass: bool = True
    chunk: int = 100            # iterations per call of the compiled program (`chunk_size`)


def _devices_for(chains: int) -> int:
    """Largest number of local devices <= chains that divides the chains evenly."""
    n = max(1, min(chains, jax.local_device_count()))
    while chains % n:
        n -= 1
    return n


def chain_method(chains: int) -> str:
    # One CPU device per chain runs chains truly in parallel; otherwise vectorise them.
    return "parallel" if chains > 1 and _devices_for(chains) > 1 else "vectorized"


def chunk_size(total: int, target: int = 100) -> int:
    """Iterations per program call: about `target`, in equal chunks that cover `total` with
    less than one extra iteration per chunk (extra draws at the end are dropped)."""
    n = max(1, -(-total // target))
    return -(-total // n)


def spend_in_fit(design: Design) -> np.ndarray:
    return design.spend[design.in_fit].sum(axis=0)


# ---- start: mode and metric (model/mode.py) ----------------------------------------------------

def sampler_start(statics: ModelStatics) -> tuple[np.ndarray, np.ndarray, str]:
    """`laplace_start`, else the prior centre with prior scales (slower warmup, still valid)."""
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return (*laplace_start(statics), "laplace")
    except (FloatingPointError, np.linalg.LinAlgError, ValueError):
        st = statics.to_numpy()
        start = prior_centre(st)
        sds = {k: np.broadcast_to(sd, np.shape(start[k])) for k, (_, sd) in site_normals(st, start, np).items()}
        scale = pack(st, {**sds, "level": np.full(np.shape(start["level"]), 0.05, np.float32)})
        return pack(st, start), np.diag(scale), "prior"


# ---- the compiled program ---------------------------------------------------------------------

def _kernel(statics: ModelStatics, centre, chol):
    return hmc(potential_fn=lambda x: -log_density(statics, centre + chol @ x), algo="NUTS")


def _init_state(init_kernel, x0, key, cfg: NutsConfig, energy):
    start = ParamInfo(x0, jnp.asarray(energy, x0.dtype), jnp.zeros_like(x0))
    return init_kernel(start, cfg.warmup, dense_mass=cfg.dense_mass, target_accept_prob=cfg.target_accept,
                       max_tree_depth=cfg.max_tree_depth, adapt_mass_matrix=cfg.adapt_mass, rng_key=key)


def _chunk(statics: ModelStatics, centre, chol, key, x0, state, it0, cfg: NutsConfig):
    """cfg.chunk NUTS iterations of one chain from `state` (from x0 when it0 == 0)."""
    init_kernel, sample_kernel = _kernel(statics, centre, chol)
    state = jax.lax.cond(it0 == 0, lambda _: _init_state(init_kernel, x0, key, cfg, _UNKNOWN_ENERGY),
                         lambda _: state, None)

    def step(state, _):
        state = sample_kernel(state)
        return state, (state.z, state.num_steps, state.diverging, state.energy, state.potential_energy)

    state, (x, n_steps, diverging, energy, pe) = jax.lax.scan(step, state, None, length=cfg.chunk)
    return state, {"x": x, "n_steps": n_steps, "diverging": diverging, "energy": energy, "lp": -pe}


_PROGRAMS: dict = {}


def compiler_options(statics: ModelStatics) -> dict:
    small = np.size(statics.arrays["media_stack"]) <= SMALL_MODEL_ELEMENTS
    return dict(SMALL_MODEL_OPTIONS if small else COMPILER_OPTIONS)


def _program(cfg: NutsConfig, options: dict):
    """The jitted all-chains chunk program for a configuration (built once per process)."""
    key = (cfg, tuple(sorted(options.items())))
    if key in _PROGRAMS:
        return _PROGRAMS[key]
    n_dev = _devices_for(cfg.chains)
    per_device = cfg.chains // n_dev

    def chains_on_device(statics, centre, chol, keys, x0, state, it0):
        if per_device == 1:
            first = partial(jax.tree.map, lambda a: a[0])
            out = _chunk(statics, centre, chol, keys[0], x0[0], first(state), it0, cfg)
            return jax.tree.map(lambda a: a[None], out)
        return jax.vmap(partial(_chunk, cfg=cfg), in_axes=(None, None, None, 0, 0, 0, None))(
            statics, centre, chol, keys, x0, state, it0)

    fn = chains_on_device
    if n_dev > 1:
        mesh = Mesh(np.array(jax.local_devices()[:n_dev]), ("chain",))
        chain, rep = PartitionSpec("chain"), PartitionSpec()
        fn = jax.shard_map(chains_on_device, mesh=mesh, in_specs=(rep, rep, rep, chain, chain, chain, rep),
                           out_specs=chain, check_vma=False)
    _PROGRAMS[key] = jax.jit(fn, compiler_options=options)
    return _PROGRAMS[key]


def _blank_state(statics: ModelStatics, centre, chol, keys, x0, cfg: NutsConfig):
    """Zeros shaped like the chains' NUTS state (the program replaces them on its first call)."""
    def init_all(keys, x0):
        init_kernel, _ = _kernel(statics, centre, chol)
        return jax.vmap(lambda k, x: _init_state(init_kernel, x, k, cfg, 0.0))(keys, x0)
    return jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), jax.eval_shape(init_all, keys, x0))


# ---- compilation cache ------------------------------------------------------------------------

def compile_cache_dir() -> str | None:
    """Where mediamix keeps compiled samplers (None: caching disabled)."""
    setting = os.environ.get("MEDIAMIX_COMPILE_CACHE")
    if setting is not None:
        return None if setting.strip().lower() in ("", "0", "off", "false", "no", "none") else setting
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "mediamix" / "xla")


def use_compile_cache(path: str | None = None) -> str | None:
    """Point JAX's persistent compilation cache at `path` (default `compile_cache_dir()`)
    unless a cache directory is configured already. Returns the directory in use, if any."""
    current = jax.config.jax_compilation_cache_dir
    if current:
        return current
    path = path or compile_cache_dir()
    if not path:
        return None
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", path)
    return path


_CACHE_HITS = [0]


def _on_event(event: str, **_) -> None:
    if event == "/jax/compilation_cache/cache_hits":
        _CACHE_HITS[0] += 1


jax.monitoring.register_event_listener(_on_event)
_EXECUTABLES: dict = {}


def _cache_any_compile_time():
    """Context in which JAX caches an executable whatever its compile time (its default
    threshold, 1 s, would skip our program on a fast machine). A private JAX setting, so
    without it nothing changes but that."""
    try:
        from jax._src.config import persistent_cache_min_compile_time_secs
        return persistent_cache_min_compile_time_secs(0.0)
    except Exception:
        return contextlib.nullcontext()


def _executable(cfg: NutsConfig, args, timings: dict):
    """The compiled program for these argument shapes: from memory, the disk cache, or XLA."""
    options = compiler_options(args[0])
    leaves, treedef = jax.tree.flatten(args)
    signature = (cfg, tuple(sorted(options.items())), treedef,
                 tuple((np.shape(a), np.asarray(a).dtype.str if not hasattr(a, 'dtype') else str(a.dtype))
                       for a in leaves))
    timings.update(trace_seconds=0.0, compile_seconds=0.0, compiled_in_process=signature in _EXECUTABLES)
    if signature not in _EXECUTABLES:
        timings["compile_cache"] = use_compile_cache()
        hits = _CACHE_HITS[0]
        t0, c0 = time.perf_counter(), time.process_time()
        lowered = _program(cfg, options).lower(*args)
        t1, c1 = time.perf_counter(), time.process_time()
        with _cache_any_compile_time():
            _EXECUTABLES[signature] = lowered.compile()
        timings.update(trace_seconds=t1 - t0, compile_seconds=time.perf_counter() - t1,
                       trace_cpu_seconds=c1 - c0, compile_cpu_seconds=time.process_time() - c1,
                       compile_cache_hit=_CACHE_HITS[0] > hits)
    return _EXECUTABLES[signature]


# ---- running ----------------------------------------------------------------------------------

def run_nuts(statics: ModelStatics, cfg: NutsConfig, seed: int, progress: bool = False) -> tuple[dict, dict]:
    """All chains, warmup and draws. Returns the kept draws as NumPy arrays shaped
    (chain, draw, ...) — z (flat parameters), n_steps, diverging, energy, lp — and timings."""
    timings: dict = {}
    t0 = time.perf_counter()
    centre, chol, timings["start"] = sampler_start(statics)
    timings["start_seconds"] = time.perf_counter() - t0
    x0 = START_JITTER * np.random.default_rng(seed).standard_normal((cfg.chains, len(centre))).astype(np.float32)
    keys = jax.random.split(jax.random.PRNGKey(seed), cfg.chains)
    fixed = (statics, jnp.asarray(centre), jnp.asarray(chol), keys, x0)
    state = _blank_state(*fixed, cfg)
    total = cfg.warmup + cfg.draws
    bar = _progress_bar(total, cfg.chains) if progress else None
    if bar is not None:
        bar.set_postfix_str("compiling")
    program = _executable(cfg, (*fixed, state, jnp.int32(0)), timings)
    if bar is not None:
        bar.set_postfix_str("")
    t0 = time.perf_counter()
    records = []
    for start in range(0, total, cfg.chunk):
        state, record = program(*fixed, state, jnp.int32(start))
        records.append(record)
        if bar is not None:
            jax.block_until_ready(record["n_steps"])
            bar.update(min(cfg.chunk, total - start))
    records = jax.device_get(records)
    timings["sample_seconds"] = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    out = {k: np.concatenate([r[k] for r in records], axis=1)[:, :total] for k in records[0]}
    out["z"] = centre + out.pop("x") @ chol.T
    timings["warmup_steps"] = int(out["n_steps"][:, :cfg.warmup].sum())
    timings["warmup_divergences"] = int(out["diverging"][:, :cfg.warmup].sum())
    return {k: v[:, cfg.warmup:] for k, v in out.items()}, timings


def _progress_bar(total: int, chains: int):
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=f"NUTS, {chains} chain{'s' if chains > 1 else ''}", unit="it")


def fit_nuts(spec: ModelSpec, design: Design, *, progress: bool = True) -> FitOutput:
    started = time.perf_counter()
    priors = share_priors(spec, spend_in_fit(design), float(np.nansum(design.y[design.in_fit])))
    statics = ModelStatics(spec, design, priors)
    s = spec.sampler
    cfg = NutsConfig(chains=s.chains, warmup=s.warmup, draws=s.draws, target_accept=float(s.target_accept),
                     max_tree_depth=int(s.max_tree_depth), chunk=chunk_size(s.warmup + s.draws))
    out, timings = run_nuts(statics, cfg, s.seed, progress=progress)
    t0 = time.perf_counter()
    stats = {"diverging": out["diverging"], "n_steps": out["n_steps"], "energy": out["energy"], "lp": out["lp"],
             "tree_depth": np.floor(np.log2(np.maximum(out["n_steps"], 1))).astype(int) + 1}
    idata = inference_data(statics, design, out["z"], stats)
    seconds = time.perf_counter() - started
    timings.update(seconds=seconds, postprocess_seconds=time.perf_counter() - t0, chain_method=chain_method(s.chains))
    return FitOutput(idata=idata, statics=statics, priors=priors, seconds=seconds, timings=timings)


def derive_draws(statics: ModelStatics, sampled: dict) -> dict:
    """`derived` (NumPy) for draws shaped (chain, draw, ...), in blocks of draws of at most
    POSTPROCESS_BLOCK_CELLS saturated-media cells: a large geo model's saturated media for
    every draw at once would take gigabytes. Small models are one block (the same call)."""
    st = statics.to_numpy()
    lead = np.shape(sampled["sigma_log"])                                   # (chain, draw)
    n = int(np.prod(lead))
    cells = int(np.prod(np.shape(st.arrays["media_stack"])[1:]))
    block = max(1, POSTPROCESS_BLOCK_CELLS // max(cells, 1))
    if block >= n:
        return derived(st, sampled, xp=np)
    flat = {k: np.reshape(v, (n,) + np.shape(v)[len(lead):]) for k, v in sampled.items()}
    parts = [derived(st, {k: v[i:i + block] for k, v in flat.items()}, xp=np) for i in range(0, n, block)]
    return {k: np.concatenate([p[k] for p in parts]).reshape(lead + np.shape(parts[0][k])[1:]) for k in parts[0]}


def geo_layout(statics: ModelStatics, design: Design, posterior: dict, dims: dict, coords: dict) -> None:
    """With several geos: per-geo parameters get a geo dimension (in place); share_eps is
    stored (geo, channel). A national model's posterior is left as it is."""
    if statics.n_geos == 1:
        return
    G, C = statics.n_geos, statics.n_channels
    posterior["share_eps"] = posterior["share_eps"].reshape(posterior["share_eps"].shape[:-1] + (G, C))
    dims.update({name: ["geo", "channel"] for name in GEO_CHANNEL_SITES})
    dims.update({name: ["geo"] for name in GEO_SITES})
    dims["share_tau_log"] = ["channel"]
    coords["geo"] = list(design.geos)


# ---- post-processing shared by the fit methods ---------------------------------------------------

def inference_data(statics: ModelStatics, design: Design, z: np.ndarray, stats: dict) -> az.InferenceData:
    """ArviZ InferenceData from flat draws z (chain, draw, D) and per-draw sample stats: the
    post-processing of every fit method. The model's parameters are derived from the draws
    with the same equations in NumPy, in blocks (`derive_draws`)."""
    sampled = unpack(statics, z)
    params = derive_draws(statics, sampled)
    posterior = {**sampled, **{k: params[k] for k in param_names(statics) if k not in sampled}}
    if not statics.has_trend:
        posterior.pop("trend_coef", None)
    if not statics.n_season:
        posterior.pop("season", None)
    posterior = {k: np.asarray(v, np.float32) for k, v in posterior.items()}
    dims, coords = site_dims(statics, design.channels)
    dims.update({name: ["channel"] for name in CHANNEL_SITES + component_param_names(statics)})
    dims.update({name: ["factor"] for name in FACTOR_SITES})
    dims.update({"trend_spline": ["trend_knot"], "effect_coef": ["channel", "effect_knot"]})
    coords.update({"channel": design.channels, "factor": design.factor_names})
    geo_layout(statics, design, posterior, dims, coords)
    idata = az.from_dict(posterior=posterior, sample_stats=stats, coords=coords, dims=dims)
    idata.posterior.attrs["sampled_sites"] = " ".join(sampled)   # what diagnostics judge
    return idata


# ---- Laplace mode: independent draws from the Gaussian approximation at the mode ---------------

_LOG_DENSITIES: dict = {}


def batched_log_density(statics: ModelStatics, Z: np.ndarray) -> np.ndarray:
    """`log_density` at every row of Z (n, D): a jitted vmap over blocks of rows (at most
    POSTPROCESS_BLOCK_CELLS lag x time x geo x channel cells at once, the last block padded),
    compiled once per shape and kept for the process (and in the persistent compilation cache)."""
    n = len(Z)
    block = int(max(1, min(n, POSTPROCESS_BLOCK_CELLS // max(np.size(statics.arrays["media_stack"]), 1))))
    padded = np.zeros((-(-n // block) * block, Z.shape[1]), np.float32)
    padded[:n] = Z
    padded[n:] = Z[0]                      # padding rows: any valid point
    blocks = jnp.asarray(padded.reshape(-1, block, Z.shape[1]))
    leaves, treedef = jax.tree.flatten(statics)
    key = (treedef, tuple((np.shape(a), str(a.dtype if hasattr(a, "dtype") else np.asarray(a).dtype))
                          for a in leaves), blocks.shape)
    if key not in _LOG_DENSITIES:
        use_compile_cache()

        def over_blocks(statics, blocks):
            return jax.lax.map(jax.vmap(lambda z: log_density(statics, z)), blocks)
        lowered = jax.jit(over_blocks, compiler_options=compiler_options(statics)).lower(statics, blocks)
        with _cache_any_compile_time():
            _LOG_DENSITIES[key] = lowered.compile()
    return np.asarray(_LOG_DENSITIES[key](statics, blocks), np.float64).reshape(-1)[:n]


def fit_laplace(spec: ModelSpec, design: Design, *, progress: bool = True) -> FitOutput:
    """A fast approximate fit: `laplace_start`'s mode and Gauss-Newton covariance, and
    chains x draws independent draws z = mode + chol @ N(0, I) (seeded by sampler.seed; warmup
    is not used). Same InferenceData layout as `fit_nuts`; sample_stats: diverging False,
    n_steps and tree_depth 0, lp = the log density at the draw, energy = -lp (its potential
    energy: no kinetic part), log_weight = lp - log q (the importance ratio against the
    Gaussian, up to a constant). R-hat and ESS mean nothing here (see diagnostics)."""
    from mediamix.errors import TrainingError

    started = time.perf_counter()
    priors = share_priors(spec, spend_in_fit(design), float(np.nansum(design.y[design.in_fit])))
    statics = ModelStatics(spec, design, priors)
    s = spec.sampler
    timings: dict = {"start": "laplace", "method": "laplace"}
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=3, desc="Laplace (mode, draws, density)", unit="step")
    t0 = time.perf_counter()
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            mode, chol = laplace_start(statics)
    except (FloatingPointError, np.linalg.LinAlgError, ValueError) as exc:
        if bar is not None:
            bar.close()
        raise TrainingError(f"the Laplace fit found no usable posterior mode ({exc}). Check what the priors "
                            f"imply (`mediamix model prior-check NAME`) and the data; NUTS (train without "
                            f"--fast) does not need a mode") from None
    timings["start_seconds"] = time.perf_counter() - t0
    if bar is not None:
        bar.update(1)
    t0 = time.perf_counter()
    eps = np.random.default_rng(s.seed).standard_normal((s.chains, s.draws, len(mode)))
    z = (mode.astype(np.float64) + eps @ chol.astype(np.float64).T).astype(np.float32)
    if bar is not None:
        bar.update(1)
    lp = batched_log_density(statics, z.reshape(-1, z.shape[-1])).reshape(s.chains, s.draws)
    log_q = -0.5 * np.sum(eps ** 2, axis=-1) - np.sum(np.log(np.diag(chol.astype(np.float64))))
    timings["sample_seconds"] = time.perf_counter() - t0
    if bar is not None:
        bar.update(1)
        bar.close()
    t0 = time.perf_counter()
    zeros = np.zeros((s.chains, s.draws), int)
    stats = {"diverging": zeros.astype(bool), "n_steps": zeros, "tree_depth": zeros,
             "energy": -lp, "lp": lp, "log_weight": lp - log_q}
    idata = inference_data(statics, design, z, stats)
    seconds = time.perf_counter() - started
    timings.update(seconds=seconds, postprocess_seconds=time.perf_counter() - t0, chain_method="independent draws")
    return FitOutput(idata=idata, statics=statics, priors=priors, seconds=seconds, timings=timings)
