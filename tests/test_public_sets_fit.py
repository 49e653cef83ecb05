"""The main job on public data sets with known truth (PyMC-Marketing's example), and on
Robyn's and Meridian's examples, which have no published truth: there the job must finish
with Success or a Training issue whose reasons are stated."""
import pandas as pd
import pytest

from mediamix.model.spec import ModelSpec
from tests.fitting import RELAXED, TEST_SAMPLER, fit_case

pytestmark = pytest.mark.slow


def test_pymc_marketing_example_recovers_true_shares(tmp_path, shared_data):
    folder = shared_data / "pymc-marketing"
    truth = pd.read_csv(folder / "mmm_example_ground_truth_components.csv")
    true_share = {c: truth[f"{c}_contribution"].sum() / truth["y"].sum() for c in ("x1", "x2")}
    assert true_share["x1"] == pytest.approx(0.291, abs=0.001)  # the README's published totals
    spec = ModelSpec.from_dict({
        "name": "pymc", "data": "pymc", "conversion": "y",
        "touchpoints": [{"name": "x1", "spend": "x1"}, {"name": "x2", "spend": "x2"}],
        "factors": [{"column": "event_1", "impact": "positive"}, {"column": "event_2", "impact": "positive"}],
        "seasonality_order": 2, "sampler": TEST_SAMPLER, "thresholds": RELAXED})
    ws, result = fit_case(tmp_path, folder / "mmm_example.csv", spec)
    assert result.status in ("Success", "Training issue")
    scores = ws.score("pymc")
    totals = scores[scores.kind == "channel"].groupby("component")["mean"].sum()
    y_total = scores[scores.component == "actual"]["mean"].sum()
    for c in ("x1", "x2"):  # stated tolerance: 3 percentage points of total sales
        assert totals[c] / y_total == pytest.approx(true_share[c], abs=0.03), c


def _run_without_truth(tmp_path, csv, spec):
    ws, result = fit_case(tmp_path, csv, spec)
    assert result.status in ("Success", "Training issue")
    if result.status == "Training issue":
        assert result.reasons and all(isinstance(r, str) and r for r in result.reasons)
    assert ws.registry.get_model(spec.name).status.value == result.status
    report = ws.insights(spec.name)  # revenue and count targets both render
    channels = pd.read_csv(report.parent / "channels.csv")
    metric = "cpa_mean" if spec.conversion_kind == "count" else "roas_mean"
    assert channels[metric].notna().all() and (channels[metric] > 0).all()
    print(f"{spec.name}: status {result.status}; reasons {result.reasons}; "
          f"diagnostics max_rhat={result.diagnostics['max_rhat']:.3f} min_ess={result.diagnostics['min_ess_bulk']:.0f} "
          f"divergences={result.diagnostics['divergences']}; {metric}: "
          + ", ".join(f"{c} {v:.3g}" for c, v in zip(channels['channel'], channels[metric])))
    return ws, result


def test_robyn_simulated_weekly_runs(tmp_path, shared_data):
    spec = ModelSpec.from_dict({
        "name": "robyn", "data": "robyn", "conversion": "revenue",
        "touchpoints": [{"name": c, "spend": f"{c}_S"} for c in ("tv", "ooh", "print", "facebook", "search")],
        "factors": [{"column": "competitor_sales_B", "impact": "positive"}, {"column": "events"},
                    {"column": "newsletter", "impact": "positive"}],
        "seasonality_order": 2, "sampler": TEST_SAMPLER, "thresholds": RELAXED})
    _run_without_truth(tmp_path, shared_data / "meta-robyn" / "dt_simulated_weekly.csv", spec)


def test_meridian_national_all_channels_runs(tmp_path, shared_data):
    channels = [f"Channel{i}" for i in range(5)]
    spec = ModelSpec.from_dict({
        "name": "meridian", "data": "meridian", "conversion": "conversions", "conversion_kind": "count",
        "touchpoints": [{"name": c, "spend": f"{c}_spend", "volume": f"{c}_impression"} for c in channels],
        "factors": [{"column": "competitor_sales_control"}, {"column": "sentiment_score_control"},
                    {"column": "Promo", "impact": "positive"},
                    {"column": "Organic_channel0_impression", "impact": "positive"}],
        "seasonality_order": 2, "sampler": TEST_SAMPLER, "thresholds": RELAXED})
    _run_without_truth(tmp_path, shared_data / "google-meridian" / "national_all_channels.csv", spec)
