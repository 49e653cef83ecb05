"""What the queue refuses and how jobs end: one job of a kind per model, no score job for a model
with nothing to score, cancelling (by hand and when a model is deleted), one model's jobs run one
after the other, each job's result (the status of the run it left), and an old jobs table upgraded
in place. On every configured database backend where a registry fixture is used."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from mediamix.errors import MediamixError
from mediamix.jobs import InlineExecutor, JobQueue, JobState, Worker
from mediamix.jobs.worker import JOB_ID_ATTRIBUTE
from mediamix.registry import Registry, Status
from tests.jobs.helpers import make_model, make_trained_model


def inline_worker(queue, handlers, **options):
    return Worker(queue, handlers, executor=InlineExecutor(), worker_id="w-test", **options)


# ---- refused at queue time ---------------------------------------------------------------------

def test_a_second_train_job_for_a_model_is_refused_while_one_is_queued_or_running(queue, registry):
    make_model(registry, "e1")
    first = queue.enqueue("train", "e1")
    with pytest.raises(MediamixError) as info:
        queue.enqueue("train", "e1")
    assert str(info.value) == (f"a train job for e1 is already queued (id {first}); it will run, so there is no "
                               f"need for a second (`mediamix jobs cancel {first}` cancels it)")
    queue.claim("w1")
    with pytest.raises(MediamixError, match=rf"a train job for e1 is already running \(id {first}\); queue another "
                                            "once it has finished"):
        queue.enqueue("train", "e1")
    assert [j.id for j in queue.jobs()] == [first]
    queue.complete(first)
    assert queue.enqueue("train", "e1") > first               # once it ended, a new one is welcome


def test_a_second_score_job_is_refused_but_other_kinds_and_models_are_not(queue, registry):
    make_trained_model(registry, "e1")
    make_trained_model(registry, "e2")
    score = queue.enqueue("score", "e1")
    with pytest.raises(MediamixError, match=rf"a score job for e1 is already queued \(id {score}\)"):
        queue.enqueue("score", "e1", {"from": "2026-01-05"})     # other params: still a duplicate
    queue.enqueue("train", "e1")
    queue.enqueue("score", "e2")
    assert [(j.kind, j.model_name) for j in queue.jobs()] == [("score", "e1"), ("train", "e1"), ("score", "e2")]


def test_a_score_job_for_an_untrained_model_is_refused_with_what_to_do(queue, registry):
    make_model(registry, "e1")
    with pytest.raises(MediamixError) as info:
        queue.enqueue("score", "e1")
    message = str(info.value)
    assert message.startswith("model 'e1' has no trained posterior to score; train it first with "
                              "`mediamix model train e1`")
    assert "`mediamix queue train e1`, then `mediamix queue score e1`" in message
    assert queue.jobs() == [] and registry.audit_events("e1", action="job.enqueued") == []


def test_a_score_job_is_refused_after_a_failed_training_or_an_edit(queue, registry):
    make_model(registry, "e1")
    run_id = registry.start_run("e1", "train", {})
    registry.finish_run(run_id, Status.FAILED, message="NaN in spend column 'tv'")
    with pytest.raises(MediamixError, match="has no trained posterior to score"):
        queue.enqueue("score", "e1")
    registry.finish_run(registry.start_run("e1", "train", {}), Status.SUCCESS)
    queue.enqueue("score", "e1")                                       # trained: accepted
    queue.cancel_queued("e1", reason="test")
    registry.update_model("e1", spec_yaml="name: m\nconversion: sales\nlookback_weeks: 4\n")
    with pytest.raises(MediamixError, match=r"was edited after its last training \(spec version 1 -> 2\)"):
        queue.enqueue("score", "e1")


def test_a_score_job_queued_behind_a_train_job_is_accepted(queue, registry):
    make_model(registry, "e1")
    train = queue.enqueue("train", "e1")
    score = queue.enqueue("score", "e1")
    assert [j.id for j in queue.pending("e1")] == [train, score]


# ---- one model's jobs run one after the other ----------------------------------------------------

def test_a_job_waits_while_another_job_of_its_model_runs(queue, registry):
    make_model(registry, "e1")
    make_model(registry, "e2")
    train = queue.enqueue("train", "e1")
    score = queue.enqueue("score", "e1")
    other = queue.enqueue("train", "e2")
    assert queue.claim("w1").id == train
    assert queue.claim("w2").id == other            # e1's score job is skipped, not handed out
    assert queue.claim("w3") is None
    queue.fail(train, "NaN in spend column 'tv'")
    assert queue.claim("w3").id == score            # e1 is free again


def test_a_worker_with_two_slots_runs_one_models_jobs_one_after_the_other(queue, registry):
    """The reported failure: `worker --jobs 2` with a train and a score job of one model ran both
    at once, and the second failed with "cannot go from 'In progress' to 'In progress'"."""
    make_model(registry, "e1")
    train = queue.enqueue("train", "e1")
    score = queue.enqueue("score", "e1")
    order = []

    def run(kind):
        def handler(name, params):
            run_id = registry.start_run(name, kind, {})
            order.append((kind, registry.get_model(name).status))
            registry.finish_run(run_id, Status.SUCCESS)
        return handler

    worker = inline_worker(queue, {"train": run("train"), "score": run("score")})
    first = worker.run_batch(2)
    assert [(j.id, j.state) for j in first] == [(train, JobState.DONE)]
    second = worker.run_batch(2)
    assert [(j.id, j.state) for j in second] == [(score, JobState.DONE)]
    assert order == [("train", Status.IN_PROGRESS), ("score", Status.IN_PROGRESS)]


def test_a_model_trained_by_hand_meanwhile_fails_the_job_in_words(queue, registry):
    make_model(registry, "e1")
    queue.enqueue("train", "e1")
    manual = registry.start_run("e1", "train", {})            # `mediamix model train e1` in a terminal

    def train(name, params):
        registry.start_run(name, "train", {})

    job = inline_worker(queue, {"train": train}).run_once()
    assert job.state is JobState.FAILED
    assert job.error.startswith(f"model 'e1' is already being trained (run {manual}, started ")
    assert "it can be trained once that run has finished" in job.error
    assert "'In progress' to 'In progress'" not in job.error


# ---- cancelling ------------------------------------------------------------------------------------

def test_cancel_a_queued_job(queue, registry, clock):
    make_model(registry, "e1")
    job_id = queue.enqueue("train", "e1")
    clock.advance(minutes=2)
    cancelled = queue.cancel(job_id)
    assert cancelled.state is JobState.CANCELLED and cancelled.finished_at == clock.current
    assert cancelled.error == "cancelled by tester"
    assert queue.claim("w1") is None                          # never runs
    assert queue.pending("e1") == []
    [event] = registry.audit_events("e1", action="job.cancelled")
    assert event.detail == {"job_id": job_id, "kind": "train", "reason": "cancelled by tester"}
    assert queue.enqueue("train", "e1") > job_id              # no longer counts as a duplicate
    assert [j.id for j in queue.recent(states=["cancelled"])] == [job_id]


def test_running_finished_and_cancelled_jobs_cannot_be_cancelled(queue, registry):
    make_model(registry, "e1")
    job_id = queue.enqueue("train", "e1")
    queue.claim("w1")
    with pytest.raises(MediamixError, match=rf"job {job_id} \(train e1\) is running \(on w1\); a running job "
                                            "cannot be cancelled"):
        queue.cancel(job_id)
    queue.complete(job_id)
    with pytest.raises(MediamixError, match=rf"job {job_id} \(train e1\) has already finished \(done\); only a "
                                            "queued job can be cancelled"):
        queue.cancel(job_id)
    other = queue.enqueue("train", "e1")
    queue.cancel(other)
    with pytest.raises(MediamixError, match=rf"job {other} \(train e1\) is already cancelled"):
        queue.cancel(other)
    with pytest.raises(MediamixError, match="no job with id 424242"):
        queue.cancel(424242)
    assert queue.get(job_id).state is JobState.DONE


def test_cancel_queued_takes_only_the_models_queued_jobs(queue, registry):
    make_model(registry, "e1")
    make_trained_model(registry, "e2")
    running = queue.enqueue("train", "e1")
    queue.claim("w1")
    queued = queue.enqueue("score", "e1")
    kept = queue.enqueue("score", "e2")
    assert [j.id for j in queue.cancel_queued("e1", reason="model 'e1' was deleted")] == [queued]
    assert queue.get(queued).error == "model 'e1' was deleted"
    assert [queue.get(i).state for i in (running, queued, kept)] == [JobState.RUNNING, JobState.CANCELLED,
                                                                      JobState.QUEUED]


def test_deleting_a_model_cancels_its_queued_jobs(tmp_path):
    from mediamix.workspace import Workspace
    ws = Workspace.init(tmp_path / "ws")
    make_model(ws.registry, "e1")
    make_model(ws.registry, "e2")
    queue = JobQueue(ws.registry)
    train = queue.enqueue("train", "e1")
    score = queue.enqueue("score", "e1")
    other = queue.enqueue("train", "e2")
    result = ws.delete("e1")
    assert [j.id for j in result.cancelled_jobs] == [train, score] and result.running_jobs == []
    assert [(queue.get(i).state, queue.get(i).error) for i in (train, score)] == \
        [(JobState.CANCELLED, "model 'e1' was deleted")] * 2
    assert queue.get(other).state is JobState.QUEUED
    assert not ws.registry.has_model("e1")
    assert queue.claim("w1").id == other                      # nothing of e1 is left to fail later


def test_deleting_a_model_reports_a_running_job(tmp_path):
    from mediamix.workspace import Workspace
    ws = Workspace.init(tmp_path / "ws")
    make_model(ws.registry, "e1")
    queue = JobQueue(ws.registry)
    running = queue.enqueue("train", "e1")
    queue.claim("w1")
    result = ws.delete("e1")
    assert result.cancelled_jobs == [] and [j.id for j in result.running_jobs] == [running]


# ---- results and reporting ------------------------------------------------------------------------

@pytest.mark.parametrize("status,reasons", [(Status.SUCCESS, []), (Status.TRAINING_ISSUE, ["min bulk ESS 94 < 400"])])
def test_a_done_train_job_records_the_status_of_its_run(queue, registry, status, reasons):
    make_model(registry, "e1")
    make_model(registry, "e2")
    registry.finish_run(registry.start_run("e2", "train", {}), Status.SUCCESS)   # another model's run
    queue.enqueue("train", "e1")

    def train(name, params):
        registry.finish_run(registry.start_run(name, "train", {}), status, reasons=reasons)

    job = inline_worker(queue, {"train": train}).run_once()
    run = registry.latest_run("e1", "train")
    assert job.state is JobState.DONE and (job.run_id, job.result) == (run.id, status.value)
    assert queue.get(job.id).result == status.value


def test_a_failed_job_records_a_failed_run_or_none(queue, registry):
    make_model(registry, "e1")
    make_model(registry, "e2")
    queue.enqueue("train", "e1")
    queue.enqueue("train", "e2")

    def train(name, params):
        if name == "e1":
            registry.start_run(name, "train", {})
        raise MemoryError("cannot allocate 12 GiB")          # e1 dies inside its run, e2 before opening one

    worker = inline_worker(queue, {"train": train})
    e1, e2 = worker.run_once(), worker.run_once()
    assert (e1.state, e1.result) == (JobState.FAILED, "Failed") and e1.run_id == registry.latest_run("e1").id
    assert (e2.state, e2.result, e2.run_id) == (JobState.FAILED, None, None)


def test_a_job_that_opened_no_run_has_no_result(queue, registry):
    make_trained_model(registry, "e1")
    queue.enqueue("score", "e1")
    job = inline_worker(queue, {"score": lambda name, params: None}).run_once()
    assert job.state is JobState.DONE and (job.run_id, job.result) == (None, None)


def test_on_end_is_called_once_per_job_and_the_log_record_names_the_job(queue, registry, caplog):
    make_model(registry, "e1")
    make_model(registry, "e2")
    ok = queue.enqueue("train", "e1")
    bad = queue.enqueue("train", "e2")
    reported = []

    def train(name, params):
        if name == "e2":
            raise ValueError("could not broadcast shapes (104, 5) and (104, 4)")

    worker = inline_worker(queue, {"train": train}, on_end=reported.append)
    with caplog.at_level(logging.INFO, logger="mediamix.jobs"):
        worker.run_batch(2)
    assert [(j.id, j.state) for j in reported] == [(ok, JobState.DONE), (bad, JobState.FAILED)]
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(failures) == 1 and getattr(failures[0], JOB_ID_ATTRIBUTE) == bad
    assert "could not broadcast shapes" in failures[0].getMessage()


# ---- an old jobs table ------------------------------------------------------------------------------

OLD_JOBS_TABLE = """
CREATE TABLE jobs (
    id INTEGER NOT NULL, kind VARCHAR(8) NOT NULL, model_name VARCHAR(200) NOT NULL, params JSON NOT NULL,
    state VARCHAR(8) NOT NULL, attempts INTEGER NOT NULL, enqueued_at DATETIME NOT NULL, started_at DATETIME,
    finished_at DATETIME, error TEXT, worker VARCHAR(200), PRIMARY KEY (id),
    CONSTRAINT ck_jobs_kind CHECK (kind IN ('train', 'score')),
    CONSTRAINT ck_jobs_state CHECK (state IN ('queued', 'running', 'done', 'failed'))
)"""


def test_a_jobs_table_of_an_older_version_is_upgraded_in_place(tmp_path):
    registry = Registry(tmp_path / "registry.db", actor="tester")
    try:
        make_model(registry, "e1")
        with registry.engine.begin() as connection:
            connection.exec_driver_sql(OLD_JOBS_TABLE)
            connection.exec_driver_sql("CREATE INDEX ix_jobs_model_name ON jobs (model_name)")
            connection.exec_driver_sql("CREATE INDEX ix_jobs_state_id ON jobs (state, id)")
            connection.exec_driver_sql(
                "INSERT INTO jobs VALUES (7, 'train', 'e1', '{}', 'failed', 1, '2026-03-01 09:00:00', "
                "'2026-03-01 09:01:00', '2026-03-01 09:02:00', 'NaN in spend column ''tv''', 'w1'), "
                "(8, 'train', 'e1', '{}', 'queued', 0, '2026-03-01 09:10:00', NULL, NULL, NULL, NULL)")
        queue = JobQueue(registry)
        old = queue.get(7)
        assert (old.state, old.error, old.worker, old.result) == (JobState.FAILED, "NaN in spend column 'tv'", "w1", None)
        assert queue.cancel(8).state is JobState.CANCELLED        # the new state is allowed
        with registry.engine.connect() as connection:
            sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'jobs'")).scalar_one()
            indexes = set(connection.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'")).scalars())
            leftovers = connection.execute(text(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'jobs_before_upgrade'")).scalar_one()
        assert "'cancelled'" in sql and "run_id" in sql and "result" in sql
        assert {"ix_jobs_model_name", "ix_jobs_state_id"} <= indexes and leftovers == 0
        assert JobQueue(registry).get(8).state is JobState.CANCELLED   # a second open changes nothing
        with pytest.raises(IntegrityError, match="ck_jobs_state"), registry.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE jobs SET state = 'lost' WHERE id = 7")   # still guarded
    finally:
        registry.close()
