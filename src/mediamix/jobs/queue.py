"""A durable queue of train and score jobs, kept in the registry's database.

Durable: a job survives restarts of the worker and of the machine, and its history (who ran it,
when, why it failed) stays queryable. A job moves queued -> running -> done | failed; requeue()
puts a failed job, or one whose worker died, back in the queue.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from mediamix.errors import MediamixError, NotFoundError
from mediamix.jobs.records import PENDING_STATES, JobRecord, JobState
from mediamix.jobs.tables import JobRow, JobsBase
from mediamix.registry import RUN_KINDS, Registry
from mediamix.registry.json_values import to_json_value

_SCHEMA_LOCK_KEY = 0x6D6D_6A6F_6200  # "mmjob": serializes table creation on PostgreSQL


class JobQueue:
    def __init__(self, registry: Registry, *, clock: Callable[[], datetime] | None = None) -> None:
        self.registry = registry
        self._clock = clock or registry.now
        with registry.transaction() as session:
            connection = session.connection()
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
            JobsBase.metadata.create_all(connection)

    def _job_row(self, session: Session, job_id: int, *, lock: bool = False) -> JobRow:
        row = session.get(JobRow, job_id, with_for_update=lock)
        if row is None:
            raise NotFoundError(f"no job with id {job_id}; list jobs with `mediamix jobs`")
        return row

    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in RUN_KINDS:
            allowed = " or ".join(f"'{k}'" for k in RUN_KINDS)
            raise MediamixError(f"job kind '{kind}' is not {allowed}")

    def enqueue(
        self,
        kind: str,
        model_name: str,
        params: dict[str, Any] | None = None,
        *,
        actor: str | None = None,
        session: Session | None = None,
    ) -> int:
        """Queue a job for an existing model and record it in the audit trail; returns the job id."""
        self._check_kind(kind)
        params = to_json_value(params or {}, "job params")
        with self.registry.transaction(session) as s:
            self.registry.get_model(model_name, session=s)  # NotFoundError with close matches
            row = JobRow(
                kind=kind, model_name=model_name, params=params,
                state=JobState.QUEUED.value, attempts=0, enqueued_at=self._clock(),
            )
            s.add(row)
            s.flush()
            self.registry.audit(
                "job.enqueued", model_name=model_name, actor=actor, session=s,
                detail={"job_id": row.id, "kind": kind, "params": params},
            )
            return row.id

    def claim(self, worker_id: str, kinds: Iterable[str] | None = None) -> JobRecord | None:
        """Take the oldest queued job (of `kinds`, if given) for `worker_id`, or None if there is none.

        Atomic across processes: on PostgreSQL the row is locked with FOR UPDATE SKIP LOCKED, so
        concurrent claimers each take a different job without waiting on each other; on SQLite
        the write transaction starts with BEGIN IMMEDIATE, so claims run one after another.
        """
        kinds = list(kinds) if kinds is not None else None
        with self.registry.transaction() as session:
            statement = select(JobRow).where(JobRow.state == JobState.QUEUED.value)
            if kinds is not None:
                statement = statement.where(JobRow.kind.in_(kinds))
            statement = statement.order_by(JobRow.id).limit(1).with_for_update(skip_locked=True)
            row = session.scalars(statement).first()
            if row is None:
                return None
            row.state = JobState.RUNNING.value
            row.worker = worker_id
            row.started_at = self._clock()
            row.finished_at = None
            row.error = None
            row.attempts += 1
            session.flush()
            return JobRecord.from_row(row)

    def _finish(self, job_id: int, state: JobState, error: str | None) -> JobRecord:
        with self.registry.transaction() as session:
            row = self._job_row(session, job_id, lock=True)
            if row.state != JobState.RUNNING.value:
                raise MediamixError(
                    f"job {job_id} ({row.kind} '{row.model_name}') is {row.state}, not running; "
                    f"only a running job can be marked {state.value}"
                )
            row.state = state.value
            row.finished_at = self._clock()
            row.error = error
            return JobRecord.from_row(row)

    def complete(self, job_id: int) -> JobRecord:
        return self._finish(job_id, JobState.DONE, None)

    def fail(self, job_id: int, error: str) -> JobRecord:
        return self._finish(job_id, JobState.FAILED, error or "the job failed without an error message")

    def requeue(self, job_id: int) -> JobRecord:
        """Put a failed job, or a running one whose worker is gone, back in the queue."""
        with self.registry.transaction() as session:
            row = self._job_row(session, job_id, lock=True)
            if row.state not in (JobState.FAILED.value, JobState.RUNNING.value):
                raise MediamixError(f"job {job_id} is {row.state}; only a failed or running job can be requeued")
            row.state = JobState.QUEUED.value
            row.worker = None
            row.started_at = None
            row.finished_at = None
            return JobRecord.from_row(row)

    def get(self, job_id: int) -> JobRecord:
        with self.registry.reading() as session:
            return JobRecord.from_row(self._job_row(session, job_id))

    def jobs(self, model_name: str | None = None, state: JobState | str | None = None) -> list[JobRecord]:
        """Jobs oldest first, optionally of one model and/or in one state."""
        statement = select(JobRow)
        if model_name is not None:
            statement = statement.where(JobRow.model_name == model_name)
        if state is not None:
            statement = statement.where(JobRow.state == JobState(state).value)
        with self.registry.reading() as session:
            return [JobRecord.from_row(r) for r in session.scalars(statement.order_by(JobRow.id))]

    def recent(
        self,
        limit: int | None = 20,
        states: Iterable[JobState | str] | None = None,
        model_name: str | None = None,
    ) -> list[JobRecord]:
        """The newest jobs first (latest enqueued; ties by id), at most `limit` (None: all),
        optionally only those in `states` and/or of one model: what `mediamix jobs` lists."""
        if limit is not None and limit < 1:
            raise MediamixError(f"limit {limit} must be 1 or more")
        statement = select(JobRow)
        if states is not None:
            values = []
            for state in states:
                try:
                    values.append(JobState(state).value)
                except ValueError:
                    allowed = ", ".join(s.value for s in JobState)
                    raise MediamixError(f"job status '{state}' is not one of {allowed}") from None
            statement = statement.where(JobRow.state.in_(values))
        if model_name is not None:
            statement = statement.where(JobRow.model_name == model_name)
        statement = statement.order_by(JobRow.enqueued_at.desc(), JobRow.id.desc())
        if limit is not None:
            statement = statement.limit(limit)
        with self.registry.reading() as session:
            return [JobRecord.from_row(r) for r in session.scalars(statement)]

    def pending(self, model_name: str, *, session: Session | None = None) -> list[JobRecord]:
        """The model's queued and running jobs."""
        statement = (
            select(JobRow)
            .where(JobRow.model_name == model_name, JobRow.state.in_(PENDING_STATES))
            .order_by(JobRow.id)
        )
        with self.registry.reading(session) as s:
            return [JobRecord.from_row(r) for r in s.scalars(statement)]

    def discard_queued(self, model_name: str) -> int:
        """Drop the model's jobs that have not started (e.g. before deleting the model)."""
        with self.registry.transaction() as session:
            result = session.execute(
                delete(JobRow).where(JobRow.model_name == model_name, JobRow.state == JobState.QUEUED.value)
            )
            return result.rowcount
