"""Turns each model's run frequency into queued jobs."""
from __future__ import annotations

import logging
from datetime import datetime

from mediamix.errors import NotFoundError
from mediamix.jobs.periods import add_period, next_after
from mediamix.jobs.queue import JobQueue
from mediamix.jobs.records import JobRecord
from mediamix.registry import ModelRecord, Registry, Status

log = logging.getLogger(__name__)

SCHEDULER_ACTOR = "scheduler"


def due_at(model: ModelRecord) -> datetime | None:
    """When the model is (or was) next due; None for a manual model.

    next_run_at when the scheduler has set it; otherwise one period after the last run; a model
    never run is due from its creation.
    """
    if model.run_frequency == "manual":
        return None
    if model.next_run_at is not None:
        return model.next_run_at
    if model.last_run_at is not None:
        return add_period(model.last_run_at, model.run_frequency)
    return model.created_at


def _check_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now={now!r} is naive; pass a timezone-aware datetime (UTC)")


class Scheduler:
    def __init__(self, registry: Registry, queue: JobQueue) -> None:
        self.registry = registry
        self.queue = queue

    def due(self, now: datetime) -> list[str]:
        """Names of the models whose scheduled time has come at `now`."""
        _check_aware(now)
        return [m.name for m in self.registry.list_models() if (at := due_at(m)) is not None and at <= now]

    def tick(self, now: datetime) -> list[JobRecord]:
        """Queue one job per due model and move its next_run_at past `now`; returns the new jobs.

        A model without a usable posterior for its current spec (never trained, training failed,
        spec edited since) gets a "train" job, others "score". A model with a job already queued
        or running gets no second one (its next_run_at still moves on). A model 'In progress'
        without a job (trained by hand) is left for a later tick. Each model is handled in one
        transaction holding its row, so two schedulers ticking at once still queue one job.
        """
        enqueued: list[JobRecord] = []
        for name in self.due(now):
            try:
                job_id = self._tick_model(name, now)
            except NotFoundError:
                continue  # deleted since due() listed it
            if job_id is not None:
                enqueued.append(self.queue.get(job_id))
        return enqueued

    def _tick_model(self, name: str, now: datetime) -> int | None:
        with self.registry.transaction() as session:
            model = self.registry.get_model(name, session=session, lock=True)  # re-read under the lock
            when = due_at(model)
            if when is None or when > now:
                return None  # another scheduler got here first, or the frequency changed
            pending = self.queue.pending(name, session=session)
            if model.status is Status.IN_PROGRESS and not pending:
                return None
            job_id = None
            if not pending:
                # A model whose spec changed since its last training is trained again, not scored.
                trained = self.registry.trained_run(name, session=session)
                kind = "score" if trained is not None else "train"
                params = {"trigger": "schedule", "due_at": when}
                job_id = self.queue.enqueue(kind, name, params, actor=SCHEDULER_ACTOR, session=session)
            following = next_after(when, model.run_frequency, now)
            self.registry.set_next_run_at(name, following, session=session)
            log.info("scheduler: '%s' due %s, %s; next %s", name, when,
                     f"queued job {job_id}" if job_id else "a job is already pending", following)
            return job_id
