"""`mediamix jobs`: the job queue listed newest first, through the CLI (typer's CliRunner), and
JobQueue.recent underneath it on every configured database backend.

Four jobs on a fixed clock: 1 done, 2 failed (with its error), 3 running, 4 queued, enqueued ten
minutes apart; the listing must show them 4, 3, 2, 1 with ISO 8601 UTC times, the error only on
the failed job, honour --limit and --status, and say so plainly when nothing matches.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from mediamix.cli import app
from mediamix.errors import MediamixError
from mediamix.jobs import JobQueue, JobState
from mediamix.registry import Status
from mediamix.workspace import Workspace
from tests.jobs.helpers import make_model, make_trained_model
from tests.registry.databases import FakeClock

runner = CliRunner()
ERROR = "data set 'weekly' is missing column tv_spend"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def iso(minutes: int) -> str:
    """T0 plus `minutes`, as the listing writes it."""
    return (T0.replace(minute=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def four_jobs(queue: JobQueue, clock: FakeClock) -> list[int]:
    """1 done (its train run left a Training issue), 2 failed, 3 running, 4 queued; job k enqueued
    at 09:(k-1)0, started a minute later. Model b must have been trained (job 2 scores it)."""
    ids = []
    for kind, model in (("train", "a"), ("score", "b"), ("train", "b"), ("train", "a")):
        clock.current = T0.replace(minute=10 * len(ids))
        ids.append(queue.enqueue(kind, model))
        if len(ids) == 4:
            break
        clock.advance(minutes=1)
        assert queue.claim("w1").id == ids[-1]
        if len(ids) == 1:
            clock.advance(minutes=4)
            registry = queue.registry
            run_id = registry.start_run("a", "train", {})
            run = registry.finish_run(run_id, Status.TRAINING_ISSUE, reasons=["min bulk ESS 120 < 400"])
            queue.complete(ids[-1], run)
        elif len(ids) == 2:
            clock.advance(minutes=1)
            queue.fail(ids[-1], ERROR)
    return ids


def rows(output: str) -> list[list[str]]:
    """The body rows of the Rich table in `output`, as lists of stripped cells (a cell wrapped
    onto the next lines joined back with spaces)."""
    out = []
    for line in output.splitlines():
        if line.count("\u2502") >= 2:                        # │ cell │ cell │
            cells = [c.strip() for c in line.strip().strip("\u2502").split("\u2502")]
            if cells and cells[0].isdigit():
                out.append(cells)
            elif out and cells and cells[0] == "" and len(cells) == len(out[-1]):   # a wrapped row goes on
                out[-1] = [f"{a} {b}".strip() for a, b in zip(out[-1], cells)]
    return out


@pytest.fixture
def workspace(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    yield ws


def jobs(ws: Workspace, *args: str):
    result = runner.invoke(app, ["jobs", *args, "--workspace", str(ws.root)])
    return result


def test_an_empty_queue_says_so(workspace):
    result = jobs(workspace)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "The job queue is empty" in text and "mediamix queue train NAME" in text


def test_jobs_are_listed_newest_first_with_iso_times_and_the_error_of_failed_ones(workspace):
    make_model(workspace.registry, "a")
    make_trained_model(workspace.registry, "b")
    clock = FakeClock(T0)
    ids = four_jobs(JobQueue(workspace.registry, clock=clock), clock)
    result = jobs(workspace)
    assert result.exit_code == 0, result.output
    assert "ID" in result.output and "Created (UTC)" in result.output and "Error" in result.output
    table = rows(result.output)
    assert [int(r[0]) for r in table] == ids[::-1]
    by_id = {int(r[0]): r for r in table}
    # ID, Kind, Model, Status, Result, Created, Started, Finished, Error
    assert by_id[ids[3]] == [str(ids[3]), "train", "a", "queued", "", iso(30), "", "", ""]
    assert by_id[ids[2]] == [str(ids[2]), "train", "b", "running", "", iso(20), iso(21), "", ""]
    assert by_id[ids[1]] == [str(ids[1]), "score", "b", "failed", "", iso(10), iso(11), iso(12), ERROR]
    # "done" says the job ran to its end; the result says how the training went.
    assert by_id[ids[0]] == [str(ids[0]), "train", "a", "done", "Training issue", iso(0), iso(1), iso(5), ""]
    assert "np.float" not in result.output and "datetime(" not in result.output


def test_limit_and_status_filter(workspace):
    make_model(workspace.registry, "a")
    make_trained_model(workspace.registry, "b")
    clock = FakeClock(T0)
    ids = four_jobs(JobQueue(workspace.registry, clock=clock), clock)
    limited = jobs(workspace, "--limit", "2")
    assert [int(r[0]) for r in rows(limited.output)] == [ids[3], ids[2]]
    assert "showing the newest 2" in limited.output
    assert "showing the newest" not in jobs(workspace, "--limit", "4").output
    failed = jobs(workspace, "--status", "failed")
    assert [int(r[0]) for r in rows(failed.output)] == [ids[1]] and ERROR in failed.output
    finished = jobs(workspace, "--status", "finished")
    assert [int(r[0]) for r in rows(finished.output)] == [ids[1], ids[0]]
    pending = jobs(workspace, "--status", "queued,running")
    assert [int(r[0]) for r in rows(pending.output)] == [ids[3], ids[2]]
    assert "Error" not in pending.output                     # no failed job listed: no error column
    repeated = jobs(workspace, "-s", "done", "-s", "queued")
    assert [int(r[0]) for r in rows(repeated.output)] == [ids[3], ids[0]]
    of_a = jobs(workspace, "--model", "a")
    assert [int(r[0]) for r in rows(of_a.output)] == [ids[3], ids[0]]
    none = jobs(workspace, "--model", "a", "--status", "failed")
    assert none.exit_code == 0 and "No failed jobs for model a." in " ".join(none.output.split())


def test_bad_options_are_refused_with_the_allowed_values(workspace):
    bad = jobs(workspace, "--status", "finshed")
    text = " ".join(re.sub("[\u2500-\u257f]", " ", bad.output).split())      # without the box drawing
    assert bad.exit_code == 2 and "'finshed' is not one of queued, running, done, failed, cancelled, finished" in text
    assert "Traceback" not in bad.output
    assert jobs(workspace, "--limit", "0").exit_code == 2
    make_model(workspace.registry, "brand")
    typo = jobs(workspace, "--model", "brnd")              # no jobs and no such model: named as such
    assert isinstance(typo.exception, MediamixError) and "brnd" in str(typo.exception)


def test_jobs_of_a_deleted_model_are_still_listed(workspace):
    make_model(workspace.registry, "old")
    job = JobQueue(workspace.registry).enqueue("train", "old")
    JobQueue(workspace.registry).claim("w")
    JobQueue(workspace.registry).fail(job, "model 'old' was deleted")
    workspace.registry.delete_model("old")
    table = rows(jobs(workspace, "--model", "old").output)
    assert [r[:4] for r in table] == [[str(job), "train", "old", "failed"]]


def test_queue_train_still_queues_and_the_job_is_listed(workspace):
    make_model(workspace.registry, "brand")
    out = runner.invoke(app, ["queue", "train", "brand", "--workspace", str(workspace.root)])
    assert out.exit_code == 0 and "queued train job" in out.output and "mediamix jobs" in out.output
    table = rows(jobs(workspace).output)
    assert len(table) == 1 and table[0][1:5] == ["train", "brand", "queued", ""]
    assert datetime.strptime(table[0][5], "%Y-%m-%dT%H:%M:%SZ")   # ISO 8601, UTC


# ---- JobQueue.recent on every backend --------------------------------------------------------

def test_recent_orders_newest_first_and_filters(queue, registry, clock):
    make_model(registry, "a")
    make_trained_model(registry, "b")
    first = queue.enqueue("train", "a")
    second = queue.enqueue("score", "b")                     # same enqueue time: the later id first
    clock.advance(minutes=5)
    third = queue.enqueue("train", "b")
    assert [j.id for j in queue.recent()] == [third, second, first]
    assert [j.id for j in queue.recent(limit=2)] == [third, second]
    assert [j.id for j in queue.recent(model_name="a")] == [first]
    queue.claim("w")                                         # the oldest: `first`
    assert [j.id for j in queue.recent(states=["running"])] == [first]
    assert [j.id for j in queue.recent(states=[JobState.QUEUED])] == [third, second]
    assert queue.recent(states=[]) == []
    with pytest.raises(MediamixError, match="job status 'finished' is not one of queued, running, done, failed, cancelled"):
        queue.recent(states=["finished"])
    with pytest.raises(MediamixError, match="limit 0"):
        queue.recent(limit=0)
