"""The CLI as a user meets it: --help explains, bad input gives one clear line, no traceback."""
import subprocess
import sys

import pytest


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "mediamix.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_help_lists_the_commands():
    out = run("--help")
    assert out.returncode == 0
    for word in ("demo", "init", "data", "model", "models"):
        assert word in out.stdout
    model_help = run("model", "--help").stdout
    for word in ("train", "score", "rescore", "insights", "duplicate", "delete", "info", "edit"):
        assert word in model_help


def test_no_workspace_is_a_clear_error(tmp_path):
    out = run("models", "--workspace", str(tmp_path / "nowhere"))
    assert out.returncode == 2
    assert "mediamix init" in out.stderr and "Traceback" not in out.stderr


def test_bad_data_and_unknown_model_are_one_line_errors(tmp_path, shared_cases):
    ws = tmp_path / "ws"
    assert run("init", str(ws)).returncode == 0
    out = run("data", "load", str(shared_cases / "B03_duplicated_date.csv"), "--name", "x", "--workspace", str(ws))
    assert out.returncode == 2 and "2022-05-16 appears 2 times" in out.stderr and "Traceback" not in out.stderr
    out = run("data", "load", str(shared_cases / "B15_integer_dates.csv"), "--name", "x", "--workspace", str(ws))
    assert out.returncode == 2 and "integer, not a date" in out.stderr
    out = run("model", "train", "ghost", "--workspace", str(ws))
    assert out.returncode == 2 and "ghost" in out.stderr and "Traceback" not in out.stderr
    bad_spec = tmp_path / "m.yaml"
    bad_spec.write_text("name: m\ndata: x\nconversion: revenue\ntouchpoints: [tv]\nlookback_weeks: 60\n")
    out = run("model", "create", str(bad_spec), "--workspace", str(ws))
    assert out.returncode == 2 and "lookback_weeks" in out.stderr


def test_load_list_create_and_models_table(tmp_path, shared_cases):
    ws = tmp_path / "ws"
    run("init", str(ws))
    out = run("data", "load", str(shared_cases / "B16_friday_week_start.csv"), "--name", "fri", "--workspace", str(ws))
    assert out.returncode == 0 and "Friday" in out.stdout
    spec = tmp_path / "m.yaml"
    spec.write_text("name: fri-mmm\ndescription: Friday weeks\ndata: fri\nconversion: revenue\n"
                    "touchpoints:\n  - {name: tv, spend: tv}\n  - {name: search, spend: search}\n")
    out = run("model", "create", str(spec), "--workspace", str(ws))
    assert out.returncode == 0, out.stderr
    out = run("models", "--workspace", str(ws))
    assert "fri-mmm" in out.stdout and "Awaiting training" in out.stdout
    out = run("model", "delete", "fri-mmm", "--workspace", str(ws))
    assert out.returncode == 0
    assert "fri-mmm" not in run("models", "--workspace", str(ws)).stdout


def test_components_lists_every_registered_transform_with_its_priors():
    from mediamix.model.components import ADSTOCKS, SATURATIONS
    out = run("model", "components")
    assert out.returncode == 0, out.stderr
    for name in [*ADSTOCKS, *SATURATIONS]:
        assert name in out.stdout
    assert "decay_logit N(0, 1.2)" in out.stdout and "half_log N(0.3, 0.6)" in out.stdout


def test_worker_refuses_an_unknown_executor(tmp_path):
    ws = tmp_path / "ws"
    assert run("init", str(ws)).returncode == 0
    out = run("worker", "--once", "--executor", "spark", "--workspace", str(ws))
    assert out.returncode == 2 and "local or ray" in out.stderr and "Traceback" not in out.stderr


def test_edit_refuses_a_rename_and_bad_yaml_in_one_line(tmp_path):
    ws = tmp_path / "ws"
    assert run("init", str(ws)).returncode == 0
    # Both are refused before the model is even looked up.
    for setting, expected in (("name=other", "use `mediamix model duplicate"),
                              ("lookback_weeks=[", "is not a valid YAML value")):
        out = run("model", "edit", "any-model", "--set", setting, "--workspace", str(ws))
        assert out.returncode == 2 and expected in out.stderr and "Traceback" not in out.stderr, out.stderr
