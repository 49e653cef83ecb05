"""Job states and frozen job snapshots."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from mediamix.jobs.tables import JobRow


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"   # taken out of the queue before it ran (by hand, or its model was deleted)


PENDING_STATES = (JobState.QUEUED.value, JobState.RUNNING.value)
FINISHED_STATES = (JobState.DONE.value, JobState.FAILED.value, JobState.CANCELLED.value)


@dataclass(frozen=True)
class JobRecord:
    id: int
    kind: str
    model_name: str
    params: dict[str, Any]
    state: JobState
    attempts: int
    enqueued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None       # a failed job's error; a cancelled job's reason
    worker: str | None
    run_id: int | None = None   # the registry run the job opened, once it has ended
    result: str | None = None   # that run's status: Success, Training issue or Failed

    @classmethod
    def from_row(cls, row: JobRow) -> "JobRecord":
        return cls(
            id=row.id,
            kind=row.kind,
            model_name=row.model_name,
            params=copy.deepcopy(row.params or {}),
            state=JobState(row.state),
            attempts=row.attempts,
            enqueued_at=row.enqueued_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            error=row.error,
            worker=row.worker,
            run_id=row.run_id,
            result=row.result,
        )
