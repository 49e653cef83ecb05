"""Convergence and fit diagnostics, and the status they imply.

Every fit carries these; a summary built from a fit that misses a threshold is flagged with
the parameters that failed (never only when a plot is asked for).

A Laplace fit (sampler.method: laplace) draws independently from a Gaussian at the mode:
R-hat, ESS, divergences and tree depths say nothing about it, so they are not computed
(NaN) and do not decide its status; the fit metrics do, and the diagnostics carry
`method: laplace` and a notice that the posterior is approximate.
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import arviz as az
import numpy as np
import pandas as pd

from mediamix.model.spec import DiagnosticThresholds

SUCCESS, TRAINING_ISSUE = "Success", "Training issue"
LAPLACE_NOTICE = ("approximate posterior (Laplace at the mode): intervals are approximate; "
                  "train with method nuts for final results")
# PSIS's k of a Laplace fit's importance ratios: above 0.7 the Gaussian misses the posterior's
# tails (intervals too narrow); above 1 importance ratios have no finite mean, and the
# approximation cannot be trusted for the shares either.
PARETO_K_POOR, PARETO_K_BAD = 0.7, 1.0


def fit_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """R2, MAPE, sMAPE (both in percent) and RMSE of a prediction."""
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    err = actual - predicted
    ss_tot = float(np.sum((actual - actual.mean()) ** 2))
    nonzero = actual != 0
    denom = np.abs(actual) + np.abs(predicted)
    return {
        "r2": float(1 - np.sum(err ** 2) / ss_tot) if ss_tot > 0 else float("nan"),
        "mape": float(100 * np.mean(np.abs(err[nonzero] / actual[nonzero]))) if nonzero.any() else float("nan"),
        "smape": float(100 * np.mean(np.where(denom > 0, 2 * np.abs(err) / np.where(denom > 0, denom, 1), 0.0))),
        "rmse": float(np.sqrt(np.mean(err ** 2))),
        "n": int(actual.size),
    }


@dataclass
class Diagnostics:
    max_rhat: float
    min_ess_bulk: float
    divergences: int
    num_chains: int
    num_draws: int
    mean_tree_depth: float
    max_tree_depth_hits: int
    bfmi_min: float
    in_sample: dict
    holdout: dict | None
    worst_rhat: list[str] = field(default_factory=list)   # parameters above the R-hat threshold
    worst_ess: list[str] = field(default_factory=list)    # parameters below the ESS threshold
    status: str = SUCCESS
    reasons: list[str] = field(default_factory=list)
    parameters: pd.DataFrame | None = None
    method: str = "nuts"                                  # nuts | laplace (spec.sampler.method)
    notices: list[str] = field(default_factory=list)      # shown with the status, never change it
    pareto_k: float | None = None   # laplace: PSIS k of the draws' importance ratios (> 0.7: poor tails)

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("parameters")
        return out


def _parameter_table(idata: az.InferenceData, convergence: bool = True) -> pd.DataFrame:
    names = [v for v in idata.posterior.attrs["sampled_sites"].split() if v in idata.posterior]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arviz warns on 1-chain R-hat; the thresholds handle it
        summary = az.summary(idata, var_names=names, kind="all" if convergence else "stats", hdi_prob=0.9,
                             round_to="none")
    table = summary.rename(columns={"hdi_5%": "p05", "hdi_95%": "p95"}).reset_index(names="name")
    if not convergence:      # independent draws: nothing to converge
        table["r_hat"] = table["ess_bulk"] = np.nan
    return table[["name", "mean", "sd", "p05", "p95", "r_hat", "ess_bulk"]]


def _holdout_reason(in_sample: dict, holdout: dict | None, thresholds: DiagnosticThresholds) -> list[str]:
    if holdout is not None and in_sample["smape"] > 0:
        ratio = holdout["smape"] / in_sample["smape"]
        if ratio > thresholds.max_holdout_smape_ratio:
            return [f"holdout sMAPE {holdout['smape']:.2f}% is {ratio:.1f}x the in-sample "
                    f"{in_sample['smape']:.2f}% (allowed {thresholds.max_holdout_smape_ratio}x): "
                    f"the model does not forecast well"]
    return []


def _pareto_k(idata: az.InferenceData) -> float | None:
    if "log_weight" not in idata.sample_stats:
        return None
    lw = idata.sample_stats["log_weight"].to_numpy().ravel()
    lw = lw[np.isfinite(lw)]
    if lw.size < 20:
        return float("nan")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(np.ravel(az.psislw(lw - lw.max())[1])[0])


def _pareto_messages(k: float | None) -> tuple[list[str], list[str]]:
    """(reasons, notices) for a Laplace fit's Pareto k."""
    if k is None or not np.isfinite(k) or k <= PARETO_K_POOR:
        return [], []
    if k > PARETO_K_BAD:
        return [f"Pareto k {k:.2f} > {PARETO_K_BAD}: the Gaussian at the mode is far from the posterior; "
                f"train with method nuts (without --fast)"], []
    return [], [f"Pareto k {k:.2f} > {PARETO_K_POOR}: the Gaussian misses the posterior's tails, "
                f"so intervals may be too narrow"]


def diagnose_laplace(idata: az.InferenceData, thresholds: DiagnosticThresholds, *, in_sample: dict,
                     holdout: dict | None) -> Diagnostics:
    """A Laplace fit's diagnostics: its status rests on the fit metrics and on the Pareto k
    of its importance ratios, with a notice that the posterior is an approximation."""
    k = _pareto_k(idata)
    k_reasons, k_notices = _pareto_messages(k)
    reasons = _holdout_reason(in_sample, holdout, thresholds) + k_reasons
    nan = float("nan")
    return Diagnostics(
        max_rhat=nan, min_ess_bulk=nan, divergences=0, num_chains=int(idata.posterior.sizes["chain"]),
        num_draws=int(idata.posterior.sizes["draw"]), mean_tree_depth=0.0, max_tree_depth_hits=0, bfmi_min=nan,
        in_sample=in_sample, holdout=holdout, status=SUCCESS if not reasons else TRAINING_ISSUE, reasons=reasons,
        parameters=_parameter_table(idata, convergence=False), method="laplace",
        notices=[LAPLACE_NOTICE] + k_notices, pareto_k=k)


def diagnose(idata: az.InferenceData, thresholds: DiagnosticThresholds, *, in_sample: dict,
             holdout: dict | None, max_tree_depth: int, method: str = "nuts") -> Diagnostics:
    if method == "laplace":
        return diagnose_laplace(idata, thresholds, in_sample=in_sample, holdout=holdout)
    params = _parameter_table(idata)
    chains, draws = idata.posterior.sizes["chain"], idata.posterior.sizes["draw"]
    r_hat = params["r_hat"].to_numpy(dtype=float)
    ess = params["ess_bulk"].to_numpy(dtype=float)
    max_rhat = float(np.nanmax(r_hat)) if chains > 1 else float("nan")
    min_ess = float(np.nanmin(ess))
    stats = idata.sample_stats
    divergences = int(stats["diverging"].sum())
    depth = stats["tree_depth"].to_numpy()
    try:
        bfmi_min = float(np.min(az.bfmi(idata)))
    except Exception:  # energy missing or degenerate
        bfmi_min = float("nan")
    worst_rhat = params.loc[params["r_hat"] > thresholds.max_rhat, "name"].tolist()
    worst_ess = params.loc[params["ess_bulk"] < thresholds.min_ess, "name"].tolist()

    reasons = []
    if chains < 2:
        reasons.append("only 1 chain: R-hat cannot be checked; train with 2 or more chains")
    elif not (max_rhat <= thresholds.max_rhat):
        reasons.append(f"max R-hat {max_rhat:.3f} > {thresholds.max_rhat} (chains disagree) for "
                       f"{', '.join(worst_rhat[:6])}{' …' if len(worst_rhat) > 6 else ''}")
    if not (min_ess >= thresholds.min_ess):
        reasons.append(f"min bulk ESS {min_ess:.0f} < {thresholds.min_ess:.0f} for "
                       f"{', '.join(worst_ess[:6])}{' …' if len(worst_ess) > 6 else ''}; draw more samples")
    if divergences > thresholds.max_divergences:
        reasons.append(f"{divergences} divergent transitions (allowed {thresholds.max_divergences}); "
                       f"results may be biased: raise target_accept or simplify the model")
    reasons += _holdout_reason(in_sample, holdout, thresholds)
    return Diagnostics(
        max_rhat=max_rhat, min_ess_bulk=min_ess, divergences=divergences, num_chains=int(chains),
        num_draws=int(draws), mean_tree_depth=float(depth.mean()),
        max_tree_depth_hits=int((depth >= max_tree_depth).sum()), bfmi_min=bfmi_min,
        in_sample=in_sample, holdout=holdout, worst_rhat=worst_rhat, worst_ess=worst_ess,
        status=SUCCESS if not reasons else TRAINING_ISSUE, reasons=reasons, parameters=params)
