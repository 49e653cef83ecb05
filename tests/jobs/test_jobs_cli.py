"""The queue's commands as a user types them: `queue` refusing duplicates and untrained scores,
`jobs cancel ID`, `model delete` cancelling queued jobs, and `worker` printing each ended job
once (the real command in a subprocess, so stdout and stderr are the ones a terminal shows)."""
from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mediamix.cli import app
from mediamix.errors import MediamixError
from mediamix.jobs import JobQueue, JobState
from mediamix.workspace import Workspace
from tests.jobs.helpers import make_model, make_trained_model
from tests.jobs.test_queue_list import rows

runner = CliRunner()
# A spec that parses, on a data set that does not exist: its train job fails at once, in words.
MISSING_DATA_SPEC = "name: e1\ndata: missing\nconversion: revenue\ntouchpoints: [tv]\n"


@pytest.fixture
def ws(tmp_path):
    return Workspace.init(tmp_path / "ws")


def cli(ws, *args):
    return runner.invoke(app, [*args, "--workspace", str(ws.root)])


def flat(text: str) -> str:
    return " ".join(text.split())


def test_queue_refuses_a_duplicate_and_an_untrained_score_with_the_fix(ws):
    make_model(ws.registry, "e1")
    first = cli(ws, "queue", "train", "e1")
    assert first.exit_code == 0 and "queued train job 1 for e1" in first.output
    again = cli(ws, "queue", "train", "e1")
    assert isinstance(again.exception, MediamixError)
    assert "a train job for e1 is already queued (id 1)" in str(again.exception)
    make_model(ws.registry, "e2")
    score = cli(ws, "queue", "score", "e2")
    assert isinstance(score.exception, MediamixError)
    assert "model 'e2' has no trained posterior to score; train it first" in str(score.exception)
    assert "`mediamix queue train e2`" in str(score.exception)
    behind = cli(ws, "queue", "score", "e1")                 # e1 has a train job queued: the score waits for it
    assert behind.exit_code == 0 and "queued score job 2 for e1; it runs after train job 1" in flat(behind.output)


def test_jobs_cancel_a_queued_job_and_refuse_a_finished_one(ws):
    make_model(ws.registry, "e1")
    queue = JobQueue(ws.registry)
    done = queue.enqueue("train", "e1")
    queue.claim("w1")
    queue.complete(done)
    queued = queue.enqueue("train", "e1")
    out = cli(ws, "jobs", "cancel", str(queued))
    assert out.exit_code == 0, out.output
    assert "cancelled job 2 (train e1)" in out.output
    assert queue.get(queued).state is JobState.CANCELLED
    refused = cli(ws, "jobs", "cancel", str(done))
    assert isinstance(refused.exception, MediamixError)
    assert "has already finished (done); only a queued job can be cancelled" in str(refused.exception)
    listed = rows(cli(ws, "jobs").output)
    assert [r[:4] for r in listed] == [["2", "train", "e1", "cancelled"], ["1", "train", "e1", "done"]]
    assert listed[0][-1].startswith("cancelled by ")          # the reason, in the Error column
    assert cli(ws, "jobs", "--status", "cancelled").output.count("cancelled by") == 1


def test_model_delete_says_which_queued_jobs_it_cancelled(ws):
    make_trained_model(ws.registry, "e1")
    queue = JobQueue(ws.registry)
    train = queue.enqueue("train", "e1")
    score = queue.enqueue("score", "e1")
    out = cli(ws, "model", "delete", "e1")
    assert out.exit_code == 0, out.output
    assert flat(out.output) == f"deleted model e1; cancelled its queued jobs {train} (train), {score} (score)"
    assert [queue.get(i).state for i in (train, score)] == [JobState.CANCELLED] * 2
    make_model(ws.registry, "e2")
    assert flat(cli(ws, "model", "delete", "e2").output) == "deleted model e2"


def run(*args):
    return subprocess.run([sys.executable, "-m", "mediamix.cli", *args], capture_output=True, text=True,
                          check=False, timeout=300)


def test_the_worker_prints_a_failure_once_and_a_result_with_done(ws):
    ws.registry.create_model("e1", conversion="revenue", spec_yaml=MISSING_DATA_SPEC)
    queue = JobQueue(ws.registry)
    job = queue.enqueue("train", "e1")
    out = run("worker", "--once", "--workspace", str(ws.root))
    assert out.returncode == 0, out.stderr
    error = "no data set named 'missing'"
    assert out.stdout.count(error) == 1 and error not in out.stderr, (out.stdout, out.stderr)
    assert flat(out.stdout).startswith(f"job {job} (train e1): failed: {error}")   # one line (wrapped at 160)
    ended = queue.get(job)
    assert (ended.state, ended.result) == (JobState.FAILED, "Failed")
    listed = rows(run("jobs", "--workspace", str(ws.root)).stdout)
    assert listed[0][:5] == [str(job), "train", "e1", "failed", "Failed"]
