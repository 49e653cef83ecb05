"""A queued train job runs in the worker's own process and sets the model's status."""
import subprocess
import sys

import pytest

from mediamix.registry import Status
from mediamix.workspace import Workspace
from tests.fitting import case_spec

pytestmark = pytest.mark.slow


def test_queue_then_worker_once_trains_the_model(tmp_path, shared_cases):
    ws = Workspace.init(tmp_path / "ws")
    ws.load_data(shared_cases / "B16_friday_week_start.csv", "fri")
    spec = case_spec("fri", "fri", ["tv", "search", "social"])
    ws.create_model(spec.replace(sampler=spec.sampler.__class__(chains=2, warmup=100, draws=100)))
    cli = [sys.executable, "-m", "mediamix.cli"]
    out = subprocess.run(cli + ["queue", "train", "fri", "-w", str(ws.root)], capture_output=True, text=True)
    assert out.returncode == 0 and "queued train job" in out.stdout
    out = subprocess.run(cli + ["worker", "--once", "-w", str(ws.root)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert ws.registry.get_model("fri").status in (Status.SUCCESS, Status.TRAINING_ISSUE)
    out = subprocess.run(cli + ["worker", "--once", "-w", str(ws.root)], capture_output=True, text=True)
    assert "no queued job" in out.stdout
