"""The fast Laplace mode (sampler.method: laplace, `mediamix model train NAME --fast`):
independent draws from the Gaussian at the posterior mode, in the InferenceData layout of a
NUTS fit. On the bundled demo it takes a fraction of the NUTS time (printed, not asserted),
its channel shares are within 2 pp of a NUTS fit and 3 pp of the truth, its intervals cover,
and its status says honestly that the posterior is approximate.

Run with `-s` to see the times and share errors.
"""
import json
import time

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from mediamix.data.simulate import demo_data_dir
from mediamix.errors import SpecError
from mediamix.model.design import build_design
from mediamix.model.diagnostics import LAPLACE_NOTICE
from mediamix.model.fit import fit_laplace, fit_nuts
from mediamix.model.mmm import log_density
from mediamix.model.spec import ModelSpec, SamplerSpec
from mediamix.workspace import Workspace
from tests.fitting import RELAXED, TEST_SAMPLER

LAPLACE = SamplerSpec(**{**TEST_SAMPLER.__dict__, "method": "laplace"})


def demo_spec(sampler=TEST_SAMPLER) -> ModelSpec:
    spec = ModelSpec.from_yaml((demo_data_dir() / "demo_model.yaml").read_text())
    return spec.replace(sampler=sampler, thresholds=RELAXED)


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((demo_data_dir() / "demo_truth.json").read_text())


@pytest.fixture(scope="module")
def design():
    frame = pd.read_csv(demo_data_dir() / "demo_weekly.csv", parse_dates=["date"])
    return build_design(frame, demo_spec())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The demo trained twice in one workspace, Laplace first (it pays JAX's start-up), then NUTS."""
    from mediamix.insights.metrics import channel_table
    from mediamix.model.predict import component_draws

    ws = Workspace.init(tmp_path_factory.mktemp("laplace"))
    ws.load_data(demo_data_dir() / "demo_weekly.csv", "demo")
    ws.create_model(demo_spec())
    ws.duplicate("demo-mmm", "demo-fast")
    out = {"ws": ws}
    for name, method in (("demo-fast", "laplace"), ("demo-mmm", None)):
        started = time.perf_counter()
        result = ws.train(name, progress=False, method=method)
        seconds = time.perf_counter() - started
        fitted = ws.fitted(name)
        _, frame = ws._national(fitted.spec)
        out[method or "nuts"] = {"result": result, "train_seconds": seconds, "fitted": fitted,
                                 "table": channel_table(fitted, component_draws(fitted, frame)).set_index("channel")}
    return out


# ---- the spec ---------------------------------------------------------------------------------

def test_method_is_validated_and_round_trips():
    assert SamplerSpec().method == "nuts"
    spec = demo_spec(LAPLACE)
    assert ModelSpec.from_yaml(spec.to_yaml()).sampler.method == "laplace"
    for bad in ("map", "Laplace", 1, None):
        with pytest.raises(SpecError, match=r"^sampler\.method: .* is not one of \('nuts', 'laplace'\)"):
            demo_spec(SamplerSpec(method=bad))
    with pytest.raises(SpecError, match=r"sampler\.method"):
        ModelSpec.from_dict({**demo_spec().to_dict(), "sampler": {"method": "vi"}})


# ---- the fit itself ------------------------------------------------------------------------------

def test_laplace_fit_has_the_nuts_layout_and_honest_sample_stats(design):
    spec = demo_spec(LAPLACE)
    out = fit_laplace(spec, design, progress=False)
    nuts_like = fit_nuts(demo_spec(SamplerSpec(chains=2, warmup=20, draws=10, seed=3)), design, progress=False)
    post, ref = out.idata.posterior, nuts_like.idata.posterior
    assert post.sizes["chain"] == LAPLACE.chains and post.sizes["draw"] == LAPLACE.draws
    assert set(post.data_vars) == set(ref.data_vars)
    for name in post.data_vars:
        assert post[name].dims[2:] == ref[name].dims[2:], name
        assert np.all(np.isfinite(post[name].to_numpy())), name
    assert post.attrs["sampled_sites"] == ref.attrs["sampled_sites"]
    stats = out.idata.sample_stats
    assert {"diverging", "n_steps", "energy", "lp", "tree_depth"} <= set(stats.data_vars)
    assert not stats["diverging"].to_numpy().any() and not stats["n_steps"].to_numpy().any()
    # lp is the model's log density at the draw (energy its negative: a potential, no kinetic part)
    from mediamix.model.mmm import pack, site_shapes
    for c, d in ((0, 0), (1, 57)):
        z = pack(out.statics, {k: post[k].to_numpy()[c, d] for k in site_shapes(out.statics)})
        assert float(stats["lp"][c, d]) == pytest.approx(float(log_density(out.statics, jnp.asarray(z))), rel=1e-4)
    assert stats["energy"].to_numpy() == pytest.approx(-stats["lp"].to_numpy())
    assert out.timings["method"] == "laplace" and out.timings["start"] == "laplace"
    # seeded: the same seed gives the same draws, another seed others
    again = fit_laplace(spec, design, progress=False).idata.posterior["share"].to_numpy()
    assert np.array_equal(again, post["share"].to_numpy())
    other = fit_laplace(demo_spec(SamplerSpec(**{**LAPLACE.__dict__, "seed": 4})), design, progress=False)
    assert not np.array_equal(other.idata.posterior["share"].to_numpy(), post["share"].to_numpy())


# ---- against NUTS and the truth --------------------------------------------------------------------

def test_shares_match_nuts_and_the_truth_and_intervals_cover(trained, truth):
    lap, nuts = trained["laplace"], trained["nuts"]
    fit_l, fit_n = lap["result"].diagnostics["fit_seconds"], nuts["result"].diagnostics["fit_seconds"]
    rows = []
    for ch, t in truth["channels"].items():
        L, N = lap["table"].loc[ch], nuts["table"].loc[ch]
        rows.append({"channel": ch, "truth": 100 * t["share"], "laplace": 100 * L["share_mean"],
                     "nuts": 100 * N["share_mean"], "laplace_p05": 100 * L["share_p05"],
                     "laplace_p95": 100 * L["share_p95"], "nuts_p05": 100 * N["share_p05"],
                     "nuts_p95": 100 * N["share_p95"], "true_roas": t["roas"], "roas_p05": L["roas_p05"],
                     "roas_p95": L["roas_p95"]})
    table = pd.DataFrame(rows).set_index("channel")
    table["vs_nuts_pp"] = table["laplace"] - table["nuts"]
    table["vs_truth_pp"] = table["laplace"] - table["truth"]
    table["nuts_vs_truth_pp"] = table["nuts"] - table["truth"]
    print(f"\nfit seconds: laplace {fit_l:.2f}, nuts {fit_n:.2f} (ratio {fit_l / fit_n:.2f}); "
          f"whole train call: laplace {lap['train_seconds']:.2f}, nuts {nuts['train_seconds']:.2f}")
    print(table.round(2).to_string())
    assert table["vs_nuts_pp"].abs().max() <= 2.0
    assert table["vs_truth_pp"].abs().max() <= 3.0
    # 90% intervals: the truth's share and ROAS inside for most channels, NUTS's mean for every one
    covered_share = ((table["laplace_p05"] <= table["truth"]) & (table["truth"] <= table["laplace_p95"])).sum()
    covered_roas = ((table["roas_p05"] <= table["true_roas"]) & (table["true_roas"] <= table["roas_p95"])).sum()
    assert covered_share >= 4 and covered_roas >= 4, (covered_share, covered_roas)
    assert ((table["laplace_p05"] <= table["nuts"]) & (table["nuts"] <= table["laplace_p95"])).all()
    # and they are about as wide as NUTS's
    width = (table["laplace_p95"] - table["laplace_p05"]) / (table["nuts_p95"] - table["nuts_p05"])
    print("interval width laplace / nuts:", width.round(2).to_dict())
    assert width.between(0.5, 2.0).all(), width.to_dict()


# ---- status, notice, where it is shown ---------------------------------------------------------------

def test_status_rests_on_the_fit_and_says_it_is_approximate(trained):
    ws, lap = trained["ws"], trained["laplace"]
    result, fitted = lap["result"], lap["fitted"]
    d = result.diagnostics
    assert result.status == "Success" and result.reasons == []
    assert d["method"] == "laplace" and LAPLACE_NOTICE in d["notices"]
    assert np.isnan(d["max_rhat"]) and np.isnan(d["min_ess_bulk"]) and d["divergences"] == 0
    assert d["in_sample"]["r2"] > 0.9
    # the override is for that run: the stored spec still says nuts, the posterior says laplace
    assert ws.spec("demo-fast").sampler.method == "nuts"
    assert fitted.spec.sampler.method == "laplace"
    assert ws.registry.latest_run("demo-fast", "train").params["sampler"]["method"] == "laplace"
    # NUTS fits say nothing of the kind
    nuts = trained["nuts"]["result"].diagnostics
    assert nuts["method"] == "nuts" and LAPLACE_NOTICE not in nuts["notices"]


def test_a_laplace_fit_that_forecasts_badly_is_a_training_issue(design):
    from mediamix.model.diagnostics import diagnose
    from mediamix.model.spec import DiagnosticThresholds
    out = fit_laplace(demo_spec(LAPLACE), design, progress=False)
    good, bad = {"smape": 2.0}, {"smape": 9.0}
    thresholds = DiagnosticThresholds(max_holdout_smape_ratio=2.0)
    ok = diagnose(out.idata, thresholds, in_sample=good, holdout={"smape": 3.0}, max_tree_depth=8, method="laplace")
    # (the demo's Pareto k is 0.65-0.9 depending on the seed: a tails notice may follow)
    assert ok.status == "Success" and ok.notices[0] == LAPLACE_NOTICE
    assert all("Pareto k" in n for n in ok.notices[1:])
    issue = diagnose(out.idata, thresholds, in_sample=good, holdout=bad, max_tree_depth=8, method="laplace")
    assert issue.status == "Training issue" and "holdout sMAPE" in issue.reasons[0]
    assert issue.parameters["r_hat"].isna().all() and issue.parameters["mean"].notna().all()


def test_cli_fast_flag_info_and_report_show_the_notice(trained):
    from typer.testing import CliRunner

    from mediamix.cli import app
    ws = trained["ws"]
    runner = CliRunner()
    out = runner.invoke(app, ["model", "train", "demo-fast", "--fast", "--workspace", str(ws.root)])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "method laplace (approximate)" in text and LAPLACE_NOTICE in text
    assert ws.spec("demo-fast").sampler.method == "nuts"
    info = " ".join(runner.invoke(app, ["model", "info", "demo-fast", "--workspace", str(ws.root)]).output.split())
    assert "fitted with: laplace" in info and LAPLACE_NOTICE in info
    nuts_info = " ".join(runner.invoke(app, ["model", "info", "demo-mmm", "--workspace", str(ws.root)]).output.split())
    assert "fitted with: nuts" in nuts_info and LAPLACE_NOTICE not in nuts_info
    html = ws.insights("demo-fast").read_text()
    assert 'id="fit-notices"' in html and LAPLACE_NOTICE in html
    assert "R-hat, ESS, divergences do not apply" in html and "FAIL" not in html
    assert LAPLACE_NOTICE not in ws.insights("demo-mmm").read_text()


@pytest.mark.parametrize("tail_index, expected", [(5.0, "fine"), (1 / 0.85, "notice"), (0.5, "issue")])
def test_pareto_k_of_the_importance_ratios_flags_a_poor_approximation(tail_index, expected):
    """Importance weights drawn from a Pareto law with tail index a have k = 1/a (the generalised
    Pareto shape of their tail): 0.2 is fine, 0.85 warns that the tails are missed, 2.0 makes the
    fit a training issue. Seeded: the estimates are 0.19, 0.78 and 1.82."""
    import arviz as az

    from mediamix.model.diagnostics import diagnose_laplace
    from mediamix.model.spec import DiagnosticThresholds
    rng = np.random.default_rng(3)
    log_w = np.log(rng.pareto(tail_index, (2, 2000)) + 1.0)
    idata = az.from_dict(posterior={"share_logit": rng.standard_normal((2, 2000))},
                         sample_stats={"log_weight": log_w})
    idata.posterior.attrs["sampled_sites"] = "share_logit"
    d = diagnose_laplace(idata, DiagnosticThresholds(), in_sample={"smape": 2.0}, holdout=None)
    # the estimate's sd is about (1 + k) / sqrt(tail size ~190)
    assert d.pareto_k == pytest.approx(1 / tail_index, abs=0.15 * (1 + 1 / tail_index))
    k_reasons = [r for r in d.reasons if "Pareto k" in r]
    k_notices = [n for n in d.notices if "Pareto k" in n]
    assert (d.status, bool(k_notices), bool(k_reasons)) == {
        "fine": ("Success", False, False), "notice": ("Success", True, False),
        "issue": ("Training issue", False, True)}[expected]
