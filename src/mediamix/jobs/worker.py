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
from mediamix.registry import RUN_KINDS, RunRecord

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], Any]
JobReporter = Callable[[JobRecord], None]

# Log records about one job's end carry this attribute (the job id): a caller that reports ended
# jobs itself (`on_end`, as `mediamix worker` does) can filter them out of its log output, so that
# each failure is shown once.
JOB_ID_ATTRIBUTE = "mediamix_job_id"


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    """Runs queued jobs: `handlers` maps a job kind ("train", "score") to a function called as
    `handler(model_name, params)`. The worker claims only kinds it has a handler for.

    The handler does the work and records its own run in the registry. If it raises, the job is
    failed with the error's message; if it dies without closing the run it opened (a crashed
    process), the worker closes that run as Failed, so the model is not left 'In progress'.
    Either way the job records the run it opened and that run's status as its result
    (a "done" train job can have left a 'Training issue').

    `on_end`, if given, is called with each job as it ended (done or failed), once per job.
    """

    def __init__(
        self,
        queue: JobQueue,
        handlers: Mapping[str, Handler],
        *,
        executor: Executor | None = None,
        worker_id: str | None = None,
        on_end: JobReporter | None = None,
    ) -> None:
        unknown = sorted(set(handlers) - set(RUN_KINDS))
        if not handlers or unknown:
            raise ValueError(f"handlers must map job kinds {RUN_KINDS} to functions; got {sorted(handlers)}")
        self.queue = queue
        self.handlers = dict(handlers)
        self.executor: Executor = executor if executor is not None else LocalProcessExecutor()
        self.worker_id = worker_id or default_worker_id()
        self.on_end = on_end

    def run_once(self) -> JobRecord | None:
        """Claim and run one job; return it as it ended (done or failed), or None if none is queued."""
        ended = self.run_batch(1)
        return ended[0] if ended else None

    def run_batch(self, slots: int) -> list[JobRecord]:
        """Claim up to `slots` queued jobs, run them at the same time (one executor task each:
        processes, or Ray tasks across a cluster) and return them as they ended.

        The queue never hands out two jobs of one model at once (see JobQueue.claim): a second
        job of a model waits for a later batch, so its runs happen one after the other."""
        jobs = []
        for _ in range(max(1, slots)):
            job = self.queue.claim(self.worker_id, kinds=self.handlers)
            if job is None:
                break
            jobs.append(job)
        running = []
        for job in jobs:
            log.info("worker %s runs job %s: %s '%s'", self.worker_id, job.id, job.kind, job.model_name)
            before = self._last_run_id(job)
            try:
                future = self.executor.submit(self.handlers[job.kind], job.model_name, job.params)
            except Exception as exc:
                future = exc
            running.append((job, before, future))
        ended = []
        for i, (job, before, future) in enumerate(running):
            try:
                if isinstance(future, Exception):
                    raise future
                future.result()
            except Exception as exc:
                ended.append(self._report(self._fail(job, describe_error(exc), before)))
                continue
            except BaseException as exc:  # Ctrl-C or SystemExit: record why for every unfinished job, then stop
                for unfinished, earlier, _ in running[i:]:
                    self._fail(unfinished, f"the worker was stopped while the job ran ({type(exc).__name__})", earlier)
                raise
            done = self.queue.complete(job.id, self._run_of(job, before))
            log.info("job %s (%s '%s') done%s", job.id, job.kind, job.model_name,
                     f": {done.result}" if done.result else "", extra={JOB_ID_ATTRIBUTE: job.id})
            ended.append(self._report(done))
        return ended

    def _report(self, job: JobRecord) -> JobRecord:
        if self.on_end is not None:
            self.on_end(job)
        return job

    def _last_run_id(self, job: JobRecord) -> int | None:
        """The model's newest run before the job starts: the job's own run is the one after it."""
        try:
            run = self.queue.registry.latest_run(job.model_name)
        except MediamixError:
            return None  # the model is gone: the job will fail and say so
        return run.id if run is not None else 0

    def _run_of(self, job: JobRecord, before: int | None) -> RunRecord | None:
        if before is None:
            return None
        try:
            return self.queue.registry.latest_run(job.model_name, job.kind, after=before)
        except MediamixError:
            return None

    def _fail(self, job: JobRecord, error: str, before: int | None = None) -> JobRecord:
        log.warning("job %s (%s '%s') failed: %s", job.id, job.kind, job.model_name, error,
                    extra={JOB_ID_ATTRIBUTE: job.id})
        try:
            self.queue.registry.fail_unfinished_runs(job.model_name, error, started_since=job.started_at)
        except MediamixError:
            pass  # the model is gone (deleted, renamed): there is no run to close
        return self.queue.fail(job.id, error, self._run_of(job, before))

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
