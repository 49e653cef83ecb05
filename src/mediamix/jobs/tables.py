"""The jobs table, in the registry's database so that queue and registry share one source of truth."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mediamix.registry.tables import RUN_KINDS
from mediamix.registry.types import JSONType, UTCDateTime

JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
# The run statuses a finished job can record as its result (the status of the run it opened).
JOB_RESULTS = ("Success", "Training issue", "Failed")


class JobsBase(DeclarativeBase):
    pass


class JobRow(JobsBase):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in RUN_KINDS)})", name="ck_jobs_kind"),
        CheckConstraint(f"state IN ({', '.join(repr(s) for s in JOB_STATES)})", name="ck_jobs_state"),
        Index("ix_jobs_state_id", "state", "id"),  # claim: the oldest queued job
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    # A name, not a foreign key: a job for a model deleted meanwhile fails with a clear message
    # instead of vanishing, and the job history outlives the model like the audit trail does.
    model_name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))
    # The registry run the job opened (no foreign key: jobs outlive their model's runs), and that
    # run's status when the job ended: a "done" train job can still have left a Training issue.
    run_id: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[str | None] = mapped_column(String(32))
