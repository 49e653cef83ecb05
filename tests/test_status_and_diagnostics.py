"""B13: a fit that misses the thresholds must say so everywhere results are shown, with the
parameters that failed; and the statuses follow the run (Awaiting training -> In progress ->
Success / Training issue / Failed)."""
import pytest

from mediamix.errors import DataError
from mediamix.model.spec import DiagnosticThresholds, SamplerSpec
from mediamix.registry import Status
from mediamix.workspace import Workspace
from tests.fitting import case_spec, fit_case

pytestmark = pytest.mark.slow


def test_b13_poor_fit_is_a_training_issue_shown_with_results(tmp_path, shared_cases):
    spec = case_spec("poor", "b12", ["tv", "radio", "social"]).replace(
        sampler=SamplerSpec(chains=1, warmup=20, draws=20, seed=0), thresholds=DiagnosticThresholds())
    ws, result = fit_case(tmp_path, shared_cases / "B12_flighted_many_zeros.csv", spec)
    assert result.status == "Training issue"
    text = " ".join(result.reasons)
    assert "only 1 chain" in text and "ESS" in text
    assert "[" in text  # the failing parameters are named, e.g. share_logit[tv]
    rec = ws.registry.get_model("poor")
    assert rec.status is Status.TRAINING_ISSUE and rec.status_reasons
    # Results stay viewable, and every view of them carries the warning.
    html = ws.insights("poor").read_text()
    assert "Training issue" in html and "only 1 chain" in html
    scores = ws.score("poor")
    assert len(scores) and ws.registry.get_model("poor").status is Status.TRAINING_ISSUE


def test_default_thresholds_reach_success_on_a_clean_case(tmp_path, shared_cases):
    spec = case_spec("clean", "b16", ["tv", "search", "social"]).replace(
        sampler=SamplerSpec(chains=2, warmup=600, draws=600, seed=1), thresholds=DiagnosticThresholds(min_ess=300))
    ws, result = fit_case(tmp_path, shared_cases / "B16_friday_week_start.csv", spec)
    assert result.status == "Success", result.reasons
    assert result.diagnostics["max_rhat"] <= 1.01 and result.diagnostics["divergences"] == 0


def test_a_data_error_at_training_sets_failed_with_its_message(tmp_path, shared_cases):
    import pandas as pd

    ws = Workspace.init(tmp_path)
    df = pd.read_csv(shared_cases / "B16_friday_week_start.csv")
    df.to_csv(tmp_path / "ok.csv", index=False)
    ws.load_data(tmp_path / "ok.csv", "d")
    ws.create_model(case_spec("m", "d", ["tv", "search", "social"]))
    assert ws.registry.get_model("m").status is Status.AWAITING_TRAINING
    # The data set is replaced by one where social is never spent: training fails, named.
    df["social"] = 0.0
    df.to_csv(tmp_path / "bad.csv", index=False)
    ws.load_data(tmp_path / "bad.csv", "d")
    with pytest.raises(DataError):
        ws.train("m", progress=False)
    rec = ws.registry.get_model("m")
    assert rec.status is Status.FAILED and "social" in (rec.status_message or "")


def test_bad_score_request_changes_nothing_and_data_in_use_is_protected(tmp_path, shared_cases):
    from mediamix.errors import MediamixError

    spec = case_spec("m", "d", ["tv", "search", "social"])
    ws, result = fit_case(tmp_path, shared_cases / "B16_friday_week_start.csv", spec)
    before = ws.registry.get_model("m").status
    for start, end, message in (("notadate", None, "is not an ISO date"), ("2023-06-01", "2023-01-01", "is after"),
                                ("2030-01-01", None, "has no data")):
        with pytest.raises(MediamixError, match=message):
            ws.score("m", start, end)
    assert ws.registry.get_model("m").status is before
    assert [r.kind for r in ws.registry.runs("m")] == ["train"]
    with pytest.raises(MediamixError, match="used by model"):
        ws.delete_data("d")
    assert ws.store.exists("d")
