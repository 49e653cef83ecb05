import threading
import time

import pytest

from mediamix.errors import SpecError
from mediamix.jobs import (
    InlineExecutor,
    JobQueue,
    JobState,
    LocalProcessExecutor,
    Worker,
)
from mediamix.registry import Registry, Status
from tests.jobs import job_functions
from tests.jobs.helpers import make_model, make_trained_model


def inline_worker(queue, handlers):
    return Worker(queue, handlers, executor=InlineExecutor(), worker_id="w-test")


def test_run_once_on_an_empty_queue(queue):
    assert inline_worker(queue, {"train": lambda n, p: None}).run_once() is None


def test_a_job_runs_with_its_model_and_params(queue, registry):
    make_trained_model(registry)
    job_id = queue.enqueue("score", "brand", {"from": "2026-01-05"})
    calls = []
    job = inline_worker(queue, {"score": lambda name, params: calls.append((name, params))}).run_once()
    assert calls == [("brand", {"from": "2026-01-05"})]
    assert job.id == job_id and job.state is JobState.DONE and job.worker == "w-test"


@pytest.mark.parametrize(
    "error,expected",
    [
        (SpecError("lookback_weeks 60 is over 52; use 1-52"), "lookback_weeks 60 is over 52; use 1-52"),
        (ZeroDivisionError("division by zero"), "ZeroDivisionError: division by zero"),
    ],
    ids=["user-error", "bug"],
)
def test_a_handler_exception_fails_the_job_with_its_message(queue, registry, error, expected):
    make_model(registry)
    queue.enqueue("train", "brand")

    def handler(name, params):
        raise error

    job = inline_worker(queue, {"train": handler}).run_once()
    assert job.state is JobState.FAILED and job.error == expected


def test_a_worker_claims_only_kinds_it_can_run(queue, registry):
    make_model(registry)
    train_job = queue.enqueue("train", "brand")
    score_job = queue.enqueue("score", "brand")
    job = inline_worker(queue, {"score": lambda n, p: None}).run_once()
    assert job.id == score_job
    assert queue.get(train_job).state is JobState.QUEUED


def test_a_job_for_a_deleted_model_fails_clearly(queue, registry):
    make_model(registry)
    queue.enqueue("train", "brand")
    registry.delete_model("brand")

    def train(name, params):
        registry.start_run(name, "train", {})

    job = inline_worker(queue, {"train": train}).run_once()
    assert job.state is JobState.FAILED and job.error.startswith("no model named 'brand'")


def test_a_handler_that_raises_mid_run_does_not_leave_the_model_in_progress(queue, registry):
    make_model(registry)
    queue.enqueue("train", "brand")

    def train(name, params):
        registry.start_run(name, "train", {})
        raise MemoryError("cannot allocate 12 GiB")

    inline_worker(queue, {"train": train}).run_once()
    model = registry.get_model("brand")
    assert model.status is Status.FAILED and model.status_message == "MemoryError: cannot allocate 12 GiB"


def test_run_forever_until_stopped(queue, registry):
    ids = []
    for i in range(3):
        make_trained_model(registry, f"brand-{i}")
        ids.append(queue.enqueue("score", f"brand-{i}", {"i": i}))
    seen = []
    worker = inline_worker(queue, {"score": lambda name, params: seen.append(params["i"])})
    stop = threading.Event()
    processed = []
    thread = threading.Thread(target=lambda: processed.append(worker.run_forever(poll_seconds=0.02, stop_event=stop)))
    thread.start()
    deadline = time.monotonic() + 20
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert seen == [0, 1, 2] and processed == [3]
    assert [queue.get(i).state for i in ids] == [JobState.DONE] * 3


def test_a_crashing_job_process_does_not_kill_the_worker(db_url):
    """Real processes and the real clock: the job opens a train run, then its process dies."""
    registry = Registry(db_url)
    try:
        queue = JobQueue(registry)
        make_model(registry, "crashy")
        make_model(registry, "fine")
        crash_job = queue.enqueue("train", "crashy", {"db_url": db_url})
        good_job = queue.enqueue("train", "fine", {"db_url": db_url})
        handlers = {"train": job_functions.train_then_crash}
        worker = Worker(queue, handlers, executor=LocalProcessExecutor(), worker_id="w-proc")

        crashed = worker.run_once()
        assert crashed.id == crash_job and crashed.state is JobState.FAILED
        assert "exited with code 1 before reporting a result" in crashed.error
        model = registry.get_model("crashy")
        assert model.status is Status.FAILED and "exited with code 1" in model.status_message
        assert registry.runs("crashy")[0].status is Status.FAILED

        worker.handlers["train"] = job_functions.train_successfully
        done = worker.run_once()
        assert done.id == good_job and done.state is JobState.DONE
        assert registry.get_model("fine").status is Status.SUCCESS
    finally:
        registry.close()


def test_handlers_must_name_job_kinds(queue):
    with pytest.raises(ValueError, match="handlers must map job kinds"):
        Worker(queue, {"fit": lambda n, p: None})
    with pytest.raises(ValueError):
        Worker(queue, {})
