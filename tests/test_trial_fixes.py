"""Fixes from a new user's trial: a workspace opened from another folder still finds its
posteriors (records of older workspaces included), ISO-only score dates, --out checks before
scoring, spec files that are folders or empty, seeds and thresholds in range, impossible dates
and 5e9 in a spec, and a refused train that stores nothing."""
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediamix.cli import app
from mediamix.data.simulate import demo_data_dir
from mediamix.errors import MediamixError, SpecError
from mediamix.model.spec import ModelSpec
from mediamix.workspace import Workspace

DEMO = ModelSpec.from_yaml((demo_data_dir() / "demo_model.yaml").read_text())


@pytest.fixture(scope="module")
def fast_demo(tmp_path_factory):
    """The demo trained with the Laplace mode, in a workspace opened by a relative path."""
    base = tmp_path_factory.mktemp("trial")
    old = os.getcwd()
    os.chdir(base)
    try:
        ws = Workspace.init(Path("relative-ws"))
        ws.load_data(demo_data_dir() / "demo_weekly.csv", "demo")
        ws.create_model(DEMO)
        ws.train("demo-mmm", progress=False, method="laplace")
    finally:
        os.chdir(old)
    return base, ws


def test_a_relative_workspace_is_found_from_any_folder(fast_demo, tmp_path, monkeypatch):
    base, ws = fast_demo
    assert ws.root.is_absolute() and ws.root == (base / "relative-ws").resolve()
    monkeypatch.chdir(tmp_path)                     # somewhere else entirely
    again = Workspace(base / "relative-ws")
    assert len(again.score("demo-mmm")) > 0


def test_an_older_record_relative_to_the_training_folder_still_resolves(fast_demo):
    _, ws = fast_demo
    run = ws.registry.trained_run("demo-mmm")
    relative = Path("relative-ws") / Path(run.artifact_dir).relative_to(ws.root)   # as older versions stored it
    assert ws.run_dir(str(relative)) == Path(run.artifact_dir)


@pytest.mark.parametrize("value, message", [("01/02/2024", "not an ISO date"), ("2024-1-8", "not an ISO date"),
                                            ("2024-02-30", "not a calendar date")])
def test_score_dates_are_iso_only(fast_demo, value, message):
    _, ws = fast_demo
    runs = len(ws.registry.runs("demo-mmm"))
    with pytest.raises(MediamixError, match=message):
        ws.score("demo-mmm", value, None)
    assert len(ws.registry.runs("demo-mmm")) == runs


def test_out_is_checked_before_scoring(fast_demo, tmp_path):
    _, ws = fast_demo
    (tmp_path / "a.yaml").write_text("x")
    runs = len(ws.registry.runs("demo-mmm"))
    for out, message in ((tmp_path / "s.xlsx", "name the file .csv"), (tmp_path / "a.yaml" / "s.csv", "is a file"),
                         (tmp_path, "is a folder")):
        result = CliRunner().invoke(app, ["model", "score", "demo-mmm", "--out", str(out), "--workspace", str(ws.root)])
        assert isinstance(result.exception, MediamixError) and message in str(result.exception), out
    assert len(ws.registry.runs("demo-mmm")) == runs


def test_a_spec_that_is_a_folder_or_empty_is_named(tmp_path):
    (tmp_path / "empty.yaml").write_text("  \n")
    with pytest.raises(SpecError, match="is a folder"):
        Workspace._as_spec(tmp_path)
    with pytest.raises(SpecError, match="is empty"):
        Workspace._as_spec(tmp_path / "empty.yaml")


@pytest.mark.parametrize("changes, field", [
    ({"sampler.seed": -1}, "sampler.seed"), ({"sampler.seed": 2 ** 40}, "sampler.seed"),
    ({"thresholds.max_rhat": -1}, "thresholds.max_rhat"), ({"thresholds.max_rhat": 0.99}, "thresholds.max_rhat"),
    ({"thresholds.min_ess": float("nan")}, "thresholds.min_ess"), ({"thresholds.min_ess": 0}, "thresholds.min_ess"),
    ({"thresholds.max_divergences": -3}, "thresholds.max_divergences"),
    ({"thresholds.max_holdout_smape_ratio": 0}, "thresholds.max_holdout_smape_ratio"),
])
def test_seed_and_thresholds_out_of_range_are_refused(changes, field):
    with pytest.raises(SpecError, match=rf"^{field}: "):
        DEMO.edited(changes)


def test_impossible_dates_and_exponents_in_a_spec():
    base = "name: m\ndata: d\nconversion: revenue\ntouchpoints: [tv]\n"
    with pytest.raises(SpecError, match=r"training.start: 2024-02-30 is not a calendar date \(day is out of range"):
        ModelSpec.from_yaml(base + "training: {start: 2024-02-30}\n")
    spec = ModelSpec.from_yaml(base + "training: {start: 2022-01-03, end: 2024-12-30}\nlift_tests: [{touchpoint: tv, "
                               "start: 2023-03-06, end: 2023-03-27, incremental: 5e4, standard_error: 1E3}]\n")
    assert (spec.lift_tests[0].incremental, spec.lift_tests[0].standard_error) == (50000.0, 1000.0)


def test_a_train_refused_by_its_settings_stores_nothing(fast_demo):
    _, ws = fast_demo
    ws.duplicate("demo-mmm", "few-draws")
    ws.edit("few-draws", **{"sampler.draws": 3})          # fine for NUTS as a spec ...
    before = ws.registry.get_model("few-draws").status
    runs = len(ws.registry.runs("few-draws"))
    with pytest.raises(MediamixError, match="Laplace"):
        ws.train("few-draws", progress=False, method="laplace")   # ... not for a Laplace fit
    assert ws.registry.get_model("few-draws").status == before and len(ws.registry.runs("few-draws")) == runs


def test_an_edit_prints_what_the_new_spec_means_for_its_data(fast_demo):
    _, ws = fast_demo
    ws.duplicate("demo-mmm", "early-start")
    out = CliRunner().invoke(app, ["model", "edit", "early-start", "--set", "training.start=2020-01-06",
                                   "--workspace", str(ws.root)], terminal_width=200)
    assert out.exit_code == 0, out.output
    assert "warning:" in out.output and "2022-01-03" in out.output     # the data's first week
