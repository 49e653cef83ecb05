"""Frozen snapshots of registry rows.

The Registry hands these out instead of ORM objects so that nothing outside it can change a row
without going through a method that checks the change and records it in the audit trail, and so
that a record stays valid after its session is closed.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mediamix.registry.status import Status
from mediamix.registry.tables import AuditEventRow, ModelRow, PlanRow, RunRow


@dataclass(frozen=True)
class ModelRecord:
    id: int
    name: str
    description: str
    conversion: str
    spec_yaml: str
    spec_version: int
    run_frequency: str
    status: Status
    status_reasons: tuple[str, ...]
    status_message: str | None
    created_at: datetime
    updated_at: datetime
    last_run_at: datetime | None
    next_run_at: datetime | None

    @classmethod
    def from_row(cls, row: ModelRow) -> "ModelRecord":
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            conversion=row.conversion,
            spec_yaml=row.spec,
            spec_version=row.spec_version,
            run_frequency=row.run_frequency,
            status=Status(row.status),
            status_reasons=tuple(row.status_reasons or ()),
            status_message=row.status_message,
            created_at=row.created_at,
            updated_at=row.updated_at,
            last_run_at=row.last_run_at,
            next_run_at=row.next_run_at,
        )


@dataclass(frozen=True)
class RunRecord:
    id: int
    model_id: int
    model_name: str
    kind: str
    spec_version: int
    status: Status
    started_at: datetime
    finished_at: datetime | None
    message: str | None
    reasons: tuple[str, ...]
    diagnostics: dict[str, Any] | None
    artifact_dir: str | None
    params: dict[str, Any]

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None

    @classmethod
    def from_row(cls, row: RunRow, model_name: str) -> "RunRecord":
        return cls(
            id=row.id,
            model_id=row.model_id,
            model_name=model_name,
            kind=row.kind,
            spec_version=row.spec_version,
            status=Status(row.status),
            started_at=row.started_at,
            finished_at=row.finished_at,
            message=row.message,
            reasons=tuple(row.reasons or ()),
            diagnostics=copy.deepcopy(row.diagnostics),
            artifact_dir=row.artifact_dir,
            params=copy.deepcopy(row.params or {}),
        )


@dataclass(frozen=True)
class PlanRecord:
    id: int
    model_id: int
    model_name: str
    name: str
    spec: dict[str, Any]
    result: dict[str, Any] | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: PlanRow, model_name: str) -> "PlanRecord":
        return cls(
            id=row.id,
            model_id=row.model_id,
            model_name=model_name,
            name=row.name,
            spec=copy.deepcopy(row.spec),
            result=copy.deepcopy(row.result),
            created_at=row.created_at,
        )


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    model_name: str | None
    detail: dict[str, Any]

    @classmethod
    def from_row(cls, row: AuditEventRow) -> "AuditRecord":
        return cls(
            id=row.id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            model_name=row.model_name,
            detail=copy.deepcopy(row.detail or {}),
        )


@dataclass(frozen=True)
class TrainVerdict:
    """A new judgement of a train run's posterior, e.g. after its thresholds were edited: the run
    keeps its posterior, and takes this status and these reasons (see Registry.update_model)."""

    run_id: int
    status: Status
    reasons: Sequence[str] = ()
    diagnostics: Mapping[str, Any] = field(default_factory=dict)   # keys replaced in the run's diagnostics
