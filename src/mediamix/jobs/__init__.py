"""mediamix.jobs: train and score work as durable jobs in the registry database.

    queue = JobQueue(registry)
    queue.enqueue("train", "brand", {})
    Worker(queue, {"train": train_model, "score": score_model}).run_forever(poll_seconds=5)
    Scheduler(registry, queue).tick(datetime.now(timezone.utc))   # from cron or a loop

Executors decide where a job function runs: LocalProcessExecutor (default, a fresh process per
job), InlineExecutor (same thread); anything with `submit(fn, *args) -> future` fits (Ray).

Names are imported on first use: a job's child process imports mediamix.jobs.executors, and
should not pay for SQLAlchemy and the registry before the job itself needs them.
"""
from importlib import import_module

_EXPORTS = {
    "Executor": "executors",
    "InlineExecutor": "executors",
    "JobCrashed": "executors",
    "JobError": "executors",
    "JobFailed": "executors",
    "JobFuture": "executors",
    "LocalProcessExecutor": "executors",
    "describe_error": "executors",
    "add_months": "periods",
    "add_period": "periods",
    "next_after": "periods",
    "JobQueue": "queue",
    "JobRecord": "records",
    "JobState": "records",
    "Scheduler": "scheduler",
    "due_at": "scheduler",
    "Worker": "worker",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mediamix.jobs' has no attribute {name!r}")
    value = getattr(import_module(f"mediamix.jobs.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
