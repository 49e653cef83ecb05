"""`model edit` on a trained model: fields that do not change the fit (description, run_frequency)
keep the trained posterior and the status, so scoring still works; thresholds keep the posterior
and judge it again; anything else sends the model back to Awaiting training and says so.

The re-judged verdict is checked against an independent one: training the same seeded spec
again under the new thresholds must reach the same status with the same reasons."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediamix.cli import app
from mediamix.data.simulate import demo_data_dir
from mediamix.errors import MediamixError
from mediamix.model.spec import DiagnosticThresholds, ModelSpec, SamplerSpec
from mediamix.registry import Status
from mediamix.workspace import Workspace

pytestmark = pytest.mark.slow
runner = CliRunner()
LAPLACE = SamplerSpec(chains=2, draws=200, seed=5, method="laplace")
TINY_NUTS = SamplerSpec(chains=2, warmup=60, draws=60, seed=4)   # too short on purpose: low ESS, high R-hat


def trained_workspace(root: Path, sampler: SamplerSpec, name: str = "world") -> Workspace:
    ws = Workspace.init(root)
    ws.load_data(demo_data_dir() / "demo_weekly.csv", "demo")
    base = ModelSpec.from_yaml((demo_data_dir() / "demo_model.yaml").read_text())
    ws.create_model(base.replace(name=name, sampler=sampler))
    ws.train(name, progress=False)
    return ws


def edit(ws: Workspace, name: str, *sets: str) -> str:
    args = ["model", "edit", name]
    for item in sets:
        args += ["--set", item]
    out = runner.invoke(app, [*args, "--workspace", str(ws.root)])
    assert out.exit_code == 0, out.output
    return " ".join(out.output.split())


def test_description_and_run_frequency_keep_the_trained_posterior(tmp_path):
    ws = trained_workspace(tmp_path / "ws", LAPLACE)
    before = ws.registry.get_model("world")
    trained = ws.registry.trained_run("world")
    assert before.status in (Status.SUCCESS, Status.TRAINING_ISSUE)

    line = edit(ws, "world", "description=Simulated world")
    assert line == f"updated world: description; the trained posterior and status ({before.status.value}) are kept"
    line = edit(ws, "world", "run_frequency=monthly")
    assert line == f"updated world: run_frequency; the trained posterior and status ({before.status.value}) are kept"
    after = ws.registry.get_model("world")
    assert (after.description, after.run_frequency) == ("Simulated world", "monthly")
    assert ws.spec("world").description == "Simulated world"
    assert after.spec_version == before.spec_version
    assert (after.status, after.status_reasons) == (before.status, before.status_reasons)
    assert ws.registry.trained_run("world").id == trained.id
    scores = ws.score("world")                                # not refused: the posterior is still the model's
    assert len(scores) and ws.registry.latest_run("world").kind == "score"
    assert edit(ws, "world", "description=Simulated world") == \
        "world: nothing to update (description already as given)"


def test_an_edit_that_changes_the_fit_needs_training_again_and_says_so(tmp_path):
    ws = trained_workspace(tmp_path / "ws", LAPLACE)
    line = edit(ws, "world", "lookback_weeks=6")
    assert line == ("updated world: lookback_weeks; the model needs training again (status Awaiting training): "
                    "mediamix model train world")
    assert ws.registry.get_model("world").status is Status.AWAITING_TRAINING
    with pytest.raises(MediamixError, match="no trained posterior"):
        ws.score("world")
    assert edit(ws, "world", "lookback_weeks=7") == \
        "updated world: lookback_weeks (status Awaiting training; train it with: mediamix model train world)"


def check_rejudged_like_training(ws: Workspace, name: str, result) -> None:
    """The stored verdict after a thresholds edit equals that of training the same spec again."""
    rejudged = ws.registry.get_model(name)
    run = ws.registry.trained_run(name)
    assert (run.status, list(run.reasons)) == (result.status, result.reasons)
    assert run.diagnostics["status"] == result.status.value and run.diagnostics["reasons"] == result.reasons
    retrained = ws.train(name, progress=False)                    # same seed, same data, new thresholds
    assert (retrained.status, retrained.reasons) == (rejudged.status.value, list(rejudged.status_reasons))
    for key in ("worst_rhat", "worst_ess"):
        assert run.diagnostics[key] == retrained.diagnostics[key]


def test_laplace_thresholds_are_judged_again_as_training_would(tmp_path):
    ws = trained_workspace(tmp_path / "ws", LAPLACE)
    first = ws.registry.get_model("world")
    result = ws.edit("world", **{"thresholds.max_holdout_smape_ratio": 0.2})   # far stricter: the holdout fails
    assert result.rejudged and not result.refit and result.previous_status is first.status
    assert result.status is Status.TRAINING_ISSUE and any("holdout sMAPE" in r for r in result.reasons)
    assert ws.registry.get_model("world").spec_version == first.spec_version
    check_rejudged_like_training(ws, "world", result)


def test_nuts_thresholds_are_judged_again_both_ways(tmp_path):
    ws = trained_workspace(tmp_path / "ws", TINY_NUTS, name="n")
    strict = ws.registry.get_model("n")
    assert strict.status is Status.TRAINING_ISSUE and any("min bulk ESS" in r for r in strict.status_reasons)
    relaxed = edit(ws, "n", "thresholds.min_ess=5", "thresholds.max_rhat=1.5", "thresholds.max_divergences=1000")
    assert relaxed == ("updated n: thresholds.min_ess, thresholds.max_rhat, thresholds.max_divergences; the trained "
                       "posterior was judged again under the new thresholds: Training issue -> Success")
    rec = ws.registry.get_model("n")
    assert rec.status is Status.SUCCESS and rec.status_reasons == ()
    run = ws.registry.trained_run("n")
    assert run.diagnostics["worst_ess"] == [] and run.diagnostics["worst_rhat"] == []
    # Back to the spec's original thresholds: the original verdict, word for word.
    result = ws.edit("n", thresholds=DiagnosticThresholds().__dict__)
    assert (result.status, result.reasons) == (Status.TRAINING_ISSUE, list(strict.status_reasons))
    # Relaxed again, then checked against training under the relaxed thresholds.
    result = ws.edit("n", **{"thresholds.min_ess": 5, "thresholds.max_rhat": 1.5, "thresholds.max_divergences": 1000})
    check_rejudged_like_training(ws, "n", result)


def test_without_its_posterior_file_a_thresholds_edit_needs_training(tmp_path):
    ws = trained_workspace(tmp_path / "ws", LAPLACE)
    shutil.rmtree(ws.registry.trained_run("world").artifact_dir)
    line = edit(ws, "world", "thresholds.min_ess=100")
    assert line.startswith("updated world: thresholds.min_ess; the model needs training again (its posterior could "
                           "not be judged again under the new thresholds")
    assert line.endswith("(status Awaiting training): mediamix model train world")
    assert ws.registry.get_model("world").status is Status.AWAITING_TRAINING
