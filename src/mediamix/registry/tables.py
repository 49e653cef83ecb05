"""The registry's tables. Rows stay inside the Registry; callers get frozen records instead."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mediamix.registry.status import Status
from mediamix.registry.types import JSONType, UTCDateTime

RUN_FREQUENCIES = ("manual", "daily", "weekly", "monthly")
RUN_KINDS = ("train", "score")


def _one_of(column: str, values) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class RegistryBase(DeclarativeBase):
    pass


class ModelRow(RegistryBase):
    __tablename__ = "models"
    __table_args__ = (
        CheckConstraint(_one_of("run_frequency", RUN_FREQUENCIES), name="ck_models_run_frequency"),
        CheckConstraint(_one_of("status", [s.value for s in Status]), name="ck_models_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    conversion: Mapped[str] = mapped_column(String(200), nullable=False)
    spec: Mapped[str] = mapped_column(Text, nullable=False)  # the model's YAML, as the user wrote it
    # Goes up by one whenever the spec or conversion changes; each run records the version it
    # ran on, so a posterior trained on an older spec is never taken for the current model's.
    spec_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    run_frequency: Mapped[str] = mapped_column(String(16), nullable=False, default="manual")
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    status_reasons: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    status_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RunRow(RegistryBase):
    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(_one_of("kind", RUN_KINDS), name="ck_runs_kind"),
        CheckConstraint(_one_of("status", [s.value for s in Status]), name="ck_runs_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # ON DELETE CASCADE in the database, so a model's runs go with it whoever deletes the row.
    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    spec_version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str | None] = mapped_column(Text)
    reasons: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    diagnostics: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    artifact_dir: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)


class PlanRow(RegistryBase):
    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("model_id", "name", name="uq_plans_model_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class AuditEventRow(RegistryBase):
    """No foreign key to models on purpose: the trail must outlive the model it describes."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    model_name: Mapped[str | None] = mapped_column(String(200), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
