"""A worker takes jobs from the queue and runs each with the handler for its kind."""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.exc import OperationalError

from mediamix.errors import MediamixError
from mediamix.jobs.executors import Executor, LocalProcessExecutor, describe_error
from mediamix.jobs.queue import JobQueue
from mediamix.jobs.records import JobRecord
from mediamix.registry import RUN_KINDS

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], Any]


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    """Runs queued jobs: `handlers` maps a job kind ("train", "score") to a function called as
    `handler(model_name, params)`. The worker claims only kinds it has a handler for.

    The handler does the work and records its own run in the registry. If it raises, the job is
    failed with the error's message; if it dies without closing the run it opened (a crashed
    process), the worker closes that run as Failed, so the model is not left 'In progress'.
    """

    def __init__(
        self,
        queue: JobQueue,
        handlers: Mapping[str, Handler],
        *,
        executor: Executor | None = None,
        worker_id: str | None = None,
    ) -> None:
        unknown = sorted(set(handlers) - set(RUN_KINDS))
        if not handlers or unknown:
            raise ValueError(f"handlers must map job kinds {RUN_KINDS} to functions; got {sorted(handlers)}")
        self.queue = queue
        self.handlers = dict(handlers)
        self.executor: Executor = executor if executor is not None else LocalProcessExecutor()
        self.worker_id = worker_id or default_worker_id()

    def run_once(self) -> JobRecord | None:
        """Claim and run one job; return it as it ended (done or failed), or None if none is queued."""
        ended = self.run_batch(1)
        return ended[0] if ended else None

    def run_batch(self, slots: int) -> list[JobRecord]:
        """Claim up to `slots` queued jobs, run them at the same time (one executor task each:
        processes, or Ray tasks across a cluster) and return them as they ended."""
        jobs = []
        for _ in range(max(1, slots)):
            job = self.queue.claim(self.worker_id, kinds=self.handlers)
            if job is None:
                break
            jobs.append(job)
        running = []
        for job in jobs:
            log.info("worker %s runs job %s: %s '%s'", self.worker_id, job.id, job.kind, job.model_name)
            try:
                running.append((job, self.executor.submit(self.handlers[job.kind], job.model_name, job.params)))
            except Exception as exc:
                running.append((job, exc))
        ended = []
        for i, (job, future) in enumerate(running):
            try:
                if isinstance(future, Exception):
                    raise future
                future.result()
            except Exception as exc:
                ended.append(self._fail(job, describe_error(exc)))
                continue
            except BaseException as exc:  # Ctrl-C or SystemExit: record why for every unfinished job, then stop
                for unfinished, _ in running[i:]:
                    self._fail(unfinished, f"the worker was stopped while the job ran ({type(exc).__name__})")
                raise
            ended.append(self.queue.complete(job.id))
        return ended

    def _fail(self, job: JobRecord, error: str) -> JobRecord:
        log.warning("job %s (%s '%s') failed: %s", job.id, job.kind, job.model_name, error)
        try:
            self.queue.registry.fail_unfinished_runs(job.model_name, error, started_since=job.started_at)
        except MediamixError:
            pass  # the model is gone (deleted, renamed): there is no run to close
        return self.queue.fail(job.id, error)

    def run_forever(self, poll_seconds: float = 5.0, stop_event: threading.Event | None = None,
                    slots: int = 1) -> int:
        """Run jobs, up to `slots` at a time, until `stop_event` is set, waiting `poll_seconds`
        whenever the queue is empty. Jobs that have started are finished before stopping.
        Returns the number of jobs run."""
        stop_event = stop_event if stop_event is not None else threading.Event()
        processed = 0
        while not stop_event.is_set():
            try:
                ended = self.run_batch(slots)
            except OperationalError as exc:
                # The database is briefly unreachable (server restart, long lock): wait and retry
                # rather than let one hiccup end the worker.
                log.warning("worker %s: database unavailable (%s); retrying in %ss", self.worker_id, exc, poll_seconds)
                ended = []
            if not ended:
                stop_event.wait(poll_seconds)
            else:
                processed += len(ended)
        return processed
