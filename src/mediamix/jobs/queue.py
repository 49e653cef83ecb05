"""A durable queue of train and score jobs, kept in the registry's database.

Durable: a job survives restarts of the worker and of the machine, and its history (who ran it,
when, why it failed, the status of the run it left) stays queryable. A job moves queued ->
running -> done | failed, or queued -> cancelled; requeue() puts a failed job, or one whose
worker died, back in the queue.

One job per model at a time: a model has at most one queued or running job of each kind
(enqueue refuses a second), and claim() never hands out a job of a model whose other job is
still running, so a train and a score job of one model run one after the other, never at once.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, aliased

from mediamix.errors import MediamixError, NotFoundError
from mediamix.jobs.records import PENDING_STATES, JobRecord, JobState
from mediamix.jobs.schema import ensure_jobs_table
from mediamix.jobs.tables import JOB_RESULTS, JobRow
from mediamix.registry import RUN_KINDS, Registry, RunRecord
from mediamix.registry.json_values import to_json_value

_SCHEMA_LOCK_KEY = 0x6D6D_6A6F_6200  # "mmjob": serializes table creation on PostgreSQL
_MODEL_LOCK_SPACE = 0x6D6D_6A62      # "mmjb": per-model advisory locks of claim() on PostgreSQL


class JobQueue:
    def __init__(self, registry: Registry, *, clock: Callable[[], datetime] | None = None) -> None:
        self.registry = registry
        self._clock = clock or registry.now
        with registry.transaction() as session:
            connection = session.connection()
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
            ensure_jobs_table(connection)

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
        """Queue a job for an existing model and record it in the audit trail; returns the job id.

        Refused, with what to do instead: a second job of the same kind for a model that has
        one queued or running, and a score job for a model with nothing to score (never trained,
        training failed, or edited since) unless a train job for it is queued or running first.
        """
        self._check_kind(kind)
        params = to_json_value(params or {}, "job params")
        with self.registry.transaction(session) as s:
            # Locked (PostgreSQL): two enqueues for one model check and insert one after the other.
            self.registry.get_model(model_name, session=s, lock=True)  # NotFoundError with close matches
            pending = self.pending(model_name, session=s)
            for job in pending:
                if job.kind == kind:
                    raise MediamixError(self._duplicate_message(job))
            if kind == "score" and not any(j.kind == "train" for j in pending):
                try:
                    self.registry.check_scorable(model_name, session=s)
                except MediamixError as exc:
                    raise MediamixError(
                        f"{exc}. Or queue both: `mediamix queue train {model_name}`, then "
                        f"`mediamix queue score {model_name}` (the score job runs after the training)"
                    ) from None
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

    @staticmethod
    def _duplicate_message(job: JobRecord) -> str:
        if job.state is JobState.RUNNING:
            return (f"a {job.kind} job for {job.model_name} is already running (id {job.id}); "
                    f"queue another once it has finished (`mediamix jobs --model {job.model_name}`)")
        return (f"a {job.kind} job for {job.model_name} is already queued (id {job.id}); it will run, so there "
                f"is no need for a second (`mediamix jobs cancel {job.id}` cancels it)")

    def claim(self, worker_id: str, kinds: Iterable[str] | None = None) -> JobRecord | None:
        """Take the oldest queued job (of `kinds`, if given) for `worker_id`, or None if there is none.

        A job of a model whose other job is running waits: it is skipped until that job ends,
        so a worker running several jobs at once (or several workers) never runs two jobs of one
        model together; it takes the next model's job instead.

        Atomic across processes: on PostgreSQL the row is locked with FOR UPDATE SKIP LOCKED, so
        concurrent claimers each take a different job without waiting on each other, and a
        per-model advisory lock makes the "no job of this model is running" check and the claim
        one step; on SQLite the write transaction starts with BEGIN IMMEDIATE, so claims run one
        after another.
        """
        kinds = list(kinds) if kinds is not None else None
        with self.registry.transaction() as session:
            postgres = session.connection().dialect.name == "postgresql"
            other = aliased(JobRow)
            running = select(other.model_name).where(other.state == JobState.RUNNING.value)
            busy: list[str] = []
            while True:
                statement = select(JobRow).where(
                    JobRow.state == JobState.QUEUED.value, JobRow.model_name.not_in(running)
                )
                if kinds is not None:
                    statement = statement.where(JobRow.kind.in_(kinds))
                if busy:
                    statement = statement.where(JobRow.model_name.not_in(busy))
                statement = statement.order_by(JobRow.id).limit(1).with_for_update(skip_locked=True, of=JobRow)
                row = session.scalars(statement).first()
                if row is None:
                    return None
                if postgres and self._claimed_meanwhile(session, row):
                    busy.append(row.model_name)
                    continue
                row.state = JobState.RUNNING.value
                row.worker = worker_id
                row.started_at = self._clock()
                row.finished_at = None
                row.error = None
                row.run_id = None
                row.result = None
                row.attempts += 1
                session.flush()
                return JobRecord.from_row(row)

    @staticmethod
    def _claimed_meanwhile(session: Session, row: JobRow) -> bool:
        """PostgreSQL: whether another claimer started a job of this model after our snapshot.
        The advisory lock (held to the end of the transaction) orders claims of one model, and
        the check after it sees what the claimer before us committed."""
        session.execute(text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), hashtext(:name))"),
                        {"space": _MODEL_LOCK_SPACE, "name": row.model_name})
        other = session.scalar(
            select(JobRow.id).where(
                JobRow.model_name == row.model_name, JobRow.state == JobState.RUNNING.value, JobRow.id != row.id
            ).limit(1)
        )
        return other is not None

    def _finish(self, job_id: int, state: JobState, error: str | None, run: RunRecord | None) -> JobRecord:
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
            if run is not None:
                result = run.status.value if run.is_finished else None
                if result is not None and result not in JOB_RESULTS:
                    raise MediamixError(f"run {run.id} ended with '{result}', not one of {', '.join(JOB_RESULTS)}")
                row.run_id, row.result = run.id, result
            return JobRecord.from_row(row)

    def complete(self, job_id: int, run: RunRecord | None = None) -> JobRecord:
        """Mark a running job done; `run`, the registry run it opened, gives the job its result."""
        return self._finish(job_id, JobState.DONE, None, run)

    def fail(self, job_id: int, error: str, run: RunRecord | None = None) -> JobRecord:
        return self._finish(job_id, JobState.FAILED, error or "the job failed without an error message", run)

    def cancel(self, job_id: int, *, reason: str | None = None, actor: str | None = None) -> JobRecord:
        """Take a queued job out of the queue (state cancelled, kept in the history). A running
        job cannot be cancelled, nor a finished one; the message says what state it is in."""
        with self.registry.transaction() as session:
            row = self._job_row(session, job_id, lock=True)
            what = f"job {job_id} ({row.kind} {row.model_name})"
            if row.state == JobState.RUNNING.value:
                raise MediamixError(
                    f"{what} is running (on {row.worker}); a running job cannot be cancelled: it ends "
                    "on its own (stopping its worker with Ctrl-C fails it)"
                )
            if row.state == JobState.CANCELLED.value:
                raise MediamixError(f"{what} is already cancelled")
            if row.state != JobState.QUEUED.value:
                raise MediamixError(f"{what} has already finished ({row.state}); only a queued job can be cancelled")
            return self._cancel_row(session, row, reason or f"cancelled by {actor or self.registry.actor}", actor)

    def cancel_queued(
        self, model_name: str, *, reason: str, actor: str | None = None, session: Session | None = None
    ) -> list[JobRecord]:
        """Cancel every queued job of the model (e.g. as it is deleted); returns them, oldest first."""
        with self.registry.transaction(session) as s:
            rows = s.scalars(
                select(JobRow)
                .where(JobRow.model_name == model_name, JobRow.state == JobState.QUEUED.value)
                .order_by(JobRow.id)
                .with_for_update()
            ).all()
            return [self._cancel_row(s, row, reason, actor) for row in rows]

    def _cancel_row(self, session: Session, row: JobRow, reason: str, actor: str | None) -> JobRecord:
        row.state = JobState.CANCELLED.value
        row.finished_at = self._clock()
        row.error = reason
        self.registry.audit(
            "job.cancelled", model_name=row.model_name, actor=actor, session=session,
            detail={"job_id": row.id, "kind": row.kind, "reason": reason},
        )
        return JobRecord.from_row(row)

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
