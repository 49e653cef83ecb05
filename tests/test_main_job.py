"""The main job end to end on the bundled demo set: load -> create -> train -> score ->
insights -> reload in a fresh process -> delete. Recovery is judged against the simulator's
truth file (demo_truth.json), which is computed by the generating process, not by the model."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from mediamix.data.simulate import demo_data_dir
from mediamix.model.spec import ModelSpec
from mediamix.registry import Status
from mediamix.workspace import Workspace
from tests.fitting import RELAXED, TEST_SAMPLER

pytestmark = pytest.mark.slow

SHARE_TOLERANCE_PP = 1.5   # absolute percentage points of total revenue, per channel
ROAS_TOLERANCE = 0.30      # relative, per channel (small always-on channels are the hardest)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("ws")
    ws = Workspace.init(root)
    ws.load_data(demo_data_dir() / "demo_weekly.csv", name="demo")
    spec = ModelSpec.from_yaml((demo_data_dir() / "demo_model.yaml").read_text())
    spec = spec.replace(sampler=TEST_SAMPLER, thresholds=RELAXED)
    ws.create_model(spec)
    assert ws.registry.get_model(spec.name).status is Status.AWAITING_TRAINING
    result = ws.train(spec.name, progress=False)
    return ws, spec, result


@pytest.fixture(scope="module")
def truth():
    return json.loads((demo_data_dir() / "demo_truth.json").read_text())


def test_training_sets_status_and_stores_posterior(demo):
    ws, spec, result = demo
    assert result.status in ("Success", "Training issue")
    assert result.posterior.exists()
    rec = ws.registry.get_model(spec.name)
    assert rec.status.value == result.status and rec.last_run_at is not None
    table = ws.models()
    assert list(table.columns) == ["Name", "Description", "Conversion event", "Run frequency", "Last run", "Status"]
    assert table.loc[0, "Name"] == "demo-mmm" and table.loc[0, "Run frequency"] == "weekly"


def test_recovers_true_contribution_shares_and_roas(demo, truth):
    from mediamix.insights.metrics import channel_table
    from mediamix.model.predict import component_draws

    ws, spec, _ = demo
    fitted = ws.fitted(spec.name)
    _, frame = ws._national(spec)
    table = channel_table(fitted, component_draws(fitted, frame)).set_index("channel")
    for channel, t in truth["channels"].items():
        share_pp = 100 * table.loc[channel, "share_mean"]
        assert share_pp == pytest.approx(100 * t["share"], abs=SHARE_TOLERANCE_PP), channel
        assert table.loc[channel, "roas_mean"] == pytest.approx(t["roas"], rel=ROAS_TOLERANCE), channel
    covered = sum(table.loc[c, "roas_p05"] <= t["roas"] <= table.loc[c, "roas_p95"] for c, t in truth["channels"].items())
    assert covered >= 3, "90% ROAS intervals should cover the truth for most channels"


def test_scores_include_carryover_from_before_the_range(demo):
    ws, spec, _ = demo
    full = ws.score(spec.name)
    part = ws.score(spec.name, "2023-06-05", "2023-08-28")
    assert part["date"].min() == pd.Timestamp("2023-06-05") and part["date"].max() == pd.Timestamp("2023-08-28")
    # The first scored week carries adstock from May: same value as in the full-range score.
    key = ["date", "component"]
    merged = part.merge(full, on=key, suffixes=("_part", "_full"))
    assert np.allclose(merged["mean_part"], merged["mean_full"])
    tv_first = part[(part.component == "tv") & (part.date == part.date.min())]["mean"].iloc[0]
    assert tv_first > 0
    stored = ws.scores(spec.name)
    assert len(stored) == len(part)  # the store keeps the latest score run
    assert {"mean", "p05", "p95", "spend", "volume"} <= set(stored.columns)


def test_posterior_reloads_in_a_fresh_process_and_reproduces_contributions(demo, tmp_path):
    ws, spec, _ = demo
    here = ws.score(spec.name)
    out = tmp_path / "fresh.parquet"
    code = textwrap.dedent(f"""
        from mediamix.workspace import Workspace
        ws = Workspace.open({str(ws.root)!r})
        ws.score({spec.name!r}).to_parquet({str(out)!r})
        assert ws.fitted({spec.name!r}).spec == ws.spec({spec.name!r})
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
    fresh = pd.read_parquet(out)
    assert np.array_equal(fresh["mean"].to_numpy(), here["mean"].to_numpy(), equal_nan=True)
    assert np.array_equal(fresh["p95"].to_numpy(), here["p95"].to_numpy(), equal_nan=True)


def test_insights_report_and_tables(demo):
    ws, spec, result = demo
    report = ws.insights(spec.name)
    html = report.read_text()
    assert html.count("<svg") >= 6 and "http://" not in html.replace("http://www.w3.org", "")
    folder = report.parent
    channels = pd.read_csv(folder / "channels.csv")
    assert set(channels["channel"]) == {"tv", "search", "social", "display", "video"}
    assert (folder / "insights.xlsx").exists()
    metrics = pd.read_csv(folder / "fit_metrics.csv")
    assert set(metrics["sample"]) == {"in-sample", "holdout"}
    assert metrics.set_index("sample").loc["in-sample", "r2"] > 0.9
    if result.status != "Success":
        assert "Training issue" in html


def test_duplicate_then_delete_removes_only_that_model(demo):
    ws, spec, _ = demo
    ws.duplicate(spec.name, "copy")
    assert ws.registry.get_model("copy").status is Status.AWAITING_TRAINING
    assert ws.spec("copy").name == "copy" and ws.spec("copy").touchpoints == spec.touchpoints
    ws.delete("copy")
    assert not ws.registry.has_model("copy")
    assert ws.registry.has_model(spec.name) and ws.fitted(spec.name) is not None
    assert ws.store.exists("demo")


def test_mta_calibration_is_stored_and_exported_with_insights(demo):
    ws, spec, _ = demo
    scores = ws.score(spec.name)
    weeks = sorted(scores["date"].unique())[:4]
    # Two campaigns of search with raw MTA credit 1 and 3 each week: calibrated to the MMM's
    # weekly search contribution in the ratio 1:3.
    mta = pd.DataFrame([{"week": w, "channel": "search", "campaign": c, "credit": k}
                        for w in weeks for c, k in (("brand", 1.0), ("generic", 3.0))])
    calibrated = ws.calibrate_mta(spec.name, mta)
    search = scores[scores.component == "search"].set_index("date")["mean"]
    rows = calibrated[(calibrated.channel == "search") & calibrated.week.isin(weeks)]
    for w in weeks:
        part = rows[rows.week == w].set_index("campaign")
        assert part["calibrated_credit"].sum() == pytest.approx(search[w], rel=1e-6)
        assert part.loc["generic", "calibrated_credit"] == pytest.approx(3 * part.loc["brand", "calibrated_credit"])
        assert part.loc["brand", "raw_credit"] == 1.0
    report = ws.insights(spec.name)
    exported = pd.read_csv(report.parent / "mta_calibration.csv")
    assert {"raw_credit", "calibrated_credit", "mmm_contribution"} <= set(exported.columns)
