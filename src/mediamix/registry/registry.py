"""The Registry: every model, run, plan and audit event, behind methods that keep them consistent.

Each public method is one database transaction, and writes its audit event inside that same
transaction, so the trail never claims something that was rolled back. Methods that other
packages sharing this database (jobs/) need to combine take an optional `session`: pass the one
from `Registry.transaction()` to make several calls one transaction.
"""
from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mediamix.errors import MediamixError, NotFoundError, SpecError
from mediamix.registry.engine import WRITE_OPTION, database_url, make_engine
from mediamix.registry.json_values import to_json_value
from mediamix.registry.names import check_model_name, check_run_frequency, model_not_found
from mediamix.registry.records import AuditRecord, ModelRecord, PlanRecord, RunRecord, TrainVerdict
from mediamix.registry.status import Status, check_transition
from mediamix.registry.table_view import models_frame
from mediamix.registry.tables import (
    RUN_KINDS,
    AuditEventRow,
    ModelRow,
    PlanRow,
    RegistryBase,
    RunRow,
)
from mediamix.registry.types import utc_now

if TYPE_CHECKING:
    import pandas as pd

# Fields a user may edit with update_model; `name` changes go through rename().
EDITABLE_FIELDS = ("description", "conversion", "spec_yaml", "run_frequency")
# Edits that change what the model computes: a trained model must be trained again.
MODELING_FIELDS = frozenset({"conversion", "spec_yaml"})
# Statuses whose last train run left a posterior that can be viewed and scored.
USABLE_TRAIN_STATUSES = (Status.SUCCESS.value, Status.TRAINING_ISSUE.value)

# Serializes table creation across processes on PostgreSQL (SQLite uses BEGIN IMMEDIATE).
_SCHEMA_LOCK_KEY = 0x6D6D_7265_6700  # "mmreg"


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry for this uid in some containers
        return "unknown"


class Registry:
    """The record of models, runs, plans and the audit trail, in a SQL database.

    `Registry("path/to/registry.db")` or `Registry("sqlite:///...")` uses SQLite;
    `Registry("postgresql+psycopg://user@host/db")` a team PostgreSQL server. Tables are
    created on first use. `actor` names who is acting in the audit trail; `clock` returns
    the current timezone-aware UTC time (tests pass a fixed one).
    """

    def __init__(
        self,
        url: str | Path,
        *,
        actor: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.url = database_url(url)
        self.engine: Engine = make_engine(url)
        self._write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        self.actor = actor or _default_actor()
        self._clock = clock or utc_now
        self._create_tables()

    # ----- plumbing -------------------------------------------------------------------------

    def _create_tables(self) -> None:
        with self._write_engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
            RegistryBase.metadata.create_all(connection)

    def now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the registry clock returned a naive datetime; it must return UTC-aware times")
        return now.astimezone(timezone.utc)  # records read back are UTC; fresh ones should be too

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Registry":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Registry({self.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def transaction(self, session: Session | None = None) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back if it raises.
        Given the `session` of an enclosing transaction, joins that one instead."""
        if session is not None:
            yield session
            return
        with Session(self._write_engine, expire_on_commit=False) as own, own.begin():
            yield own

    @contextmanager
    def reading(self, session: Session | None = None) -> Iterator[Session]:
        """A read-only transaction (or the enclosing `session`): one consistent view."""
        if session is not None:
            yield session
            return
        with Session(self.engine, expire_on_commit=False) as own, own.begin():
            yield own

    def _model_row(self, session: Session, name: str, *, lock: bool = False) -> ModelRow:
        statement = select(ModelRow).where(ModelRow.name == name)
        if lock:
            statement = statement.with_for_update()
        row = session.scalars(statement).one_or_none()
        if row is None:
            raise model_not_found(name, session.scalars(select(ModelRow.name)).all())
        return row

    def _ensure_name_free(self, session: Session, name: str, *, hint: str, ignore_id: int | None = None) -> None:
        # Case-insensitive: on macOS and Windows 'Brand' and 'brand' would share files downstream.
        statement = select(ModelRow.id, ModelRow.name).where(func.lower(ModelRow.name) == name.lower())
        for row_id, existing in session.execute(statement):
            if row_id == ignore_id:
                continue
            if existing == name:
                raise MediamixError(f"model '{name}' already exists; {hint}")
            raise MediamixError(
                f"model '{name}' would differ from existing model '{existing}' only in letter case; {hint}"
            )

    def _flush_unique(self, session: Session, name: str, hint: str) -> None:
        # A second writer may have taken the name between our check and our insert.
        try:
            session.flush()
        except IntegrityError as exc:
            if "unique" not in str(exc.orig).lower():
                raise
            raise MediamixError(f"model '{name}' already exists; {hint}") from exc

    def _record_audit(
        self,
        session: Session,
        action: str,
        model_name: str | None,
        detail: dict[str, Any] | None = None,
        actor: str | None = None,
        at: datetime | None = None,
    ) -> None:
        session.add(
            AuditEventRow(
                at=at or self.now(),
                actor=actor or self.actor,
                action=action,
                model_name=model_name,
                detail=to_json_value(detail or {}, "audit detail"),
            )
        )

    def _apply_status(
        self,
        row: ModelRow,
        new: Status,
        reasons: Sequence[str],
        message: str | None,
        now: datetime,
    ) -> None:
        old = Status(row.status)
        check_transition(row.name, old, new)
        reasons = [str(r) for r in reasons]
        if new is Status.TRAINING_ISSUE and not reasons:
            raise MediamixError(
                f"model '{row.name}': 'Training issue' needs at least one reason "
                "(which diagnostic threshold was missed) so users can see why"
            )
        row.status = new.value
        row.status_reasons = reasons if new is Status.TRAINING_ISSUE else []
        # status_message is the error text of a Failed model and nothing else.
        row.status_message = (message or "no error message was recorded") if new is Status.FAILED else None
        row.updated_at = now

    @staticmethod
    def _check_text(value: object, field: str, example: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise SpecError(f"{field} {value!r} is empty; give {example}")
        return value

    @staticmethod
    def _check_description(value: object) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise SpecError(f"description {value!r} is not text; give a sentence describing the model")
        return value

    @staticmethod
    def _check_kind(kind: str) -> str:
        if kind not in RUN_KINDS:
            allowed = " or ".join(f"'{k}'" for k in RUN_KINDS)
            raise MediamixError(f"run kind '{kind}' is not {allowed}")
        return kind

    # ----- models ---------------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        *,
        description: str = "",
        conversion: str,
        spec_yaml: str,
        run_frequency: str = "manual",
    ) -> ModelRecord:
        """Register a new model in status 'Awaiting training'."""
        check_model_name(name)
        self._check_description(description)
        self._check_text(conversion, "conversion", "the conversion event or column the model explains")
        self._check_text(spec_yaml, "spec_yaml", "the model's YAML specification")
        run_frequency = check_run_frequency(run_frequency)
        hint = "choose another name or use `mediamix model duplicate`"
        now = self.now()
        with self.transaction() as session:
            self._ensure_name_free(session, name, hint=hint)
            row = ModelRow(
                name=name,
                description=self._check_description(description),
                conversion=conversion,
                spec=spec_yaml,
                spec_version=1,
                run_frequency=run_frequency,
                status=Status.AWAITING_TRAINING.value,
                status_reasons=[],
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            self._flush_unique(session, name, hint)
            self._record_audit(
                session, "model.created", name,
                {"conversion": conversion, "run_frequency": run_frequency}, at=now,
            )
            return ModelRecord.from_row(row)

    def get_model(self, name: str, *, session: Session | None = None, lock: bool = False) -> ModelRecord:
        """A snapshot of the model; NotFoundError (with close matches) if there is none.
        `lock=True` inside a caller's transaction holds the row until it ends (PostgreSQL)."""
        with self.reading(session) as s:
            return ModelRecord.from_row(self._model_row(s, name, lock=lock))

    def has_model(self, name: str) -> bool:
        with self.reading() as session:
            return session.scalar(select(ModelRow.id).where(ModelRow.name == name)) is not None

    def list_models(self, *, session: Session | None = None) -> list[ModelRecord]:
        """All models by name (case-insensitive), the same order on SQLite and PostgreSQL."""
        with self.reading(session) as s:
            records = [ModelRecord.from_row(row) for row in s.scalars(select(ModelRow))]
        return sorted(records, key=lambda m: (m.name.lower(), m.name))

    def models_table(self) -> "pd.DataFrame":
        """Name, Description, Conversion event, Run frequency, Last run, Status: one row per model."""
        return models_frame(self.list_models())

    def update_model(
        self, name: str, /, *, same_fit: bool = False, verdict: TrainVerdict | None = None, **fields: Any
    ) -> ModelRecord:
        """Edit description, conversion, spec_yaml or run_frequency.

        Changing the spec or the conversion of a model that has been trained sets it back to
        'Awaiting training' and raises its spec version: its posterior no longer describes the
        model. `same_fit=True` says the new spec_yaml differs from the old one only in fields
        that do not change the fit (description, run frequency, thresholds): the spec version,
        the trained posterior and the status stay. `verdict` (with `same_fit`) re-judges the
        current train run, e.g. under edited thresholds: that run and, if its verdict is what the
        model shows, the model take the new status and reasons. Changing the run frequency
        clears next_run_at so the scheduler works it out again from the last run.
        """
        if verdict is not None and not same_fit:
            raise ValueError("a verdict re-judges the posterior of an unchanged fit: pass same_fit=True with it")
        unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
        if unknown:
            hint = "; to rename a model use `mediamix model rename`" if "name" in unknown else ""
            allowed = ", ".join(EDITABLE_FIELDS)
            raise MediamixError(
                f"cannot edit {', '.join(unknown)} of model '{name}'; editable fields are {allowed}{hint}"
            )
        if "conversion" in fields:
            self._check_text(fields["conversion"], "conversion", "the conversion event or column the model explains")
        if "spec_yaml" in fields:
            self._check_text(fields["spec_yaml"], "spec_yaml", "the model's YAML specification")
        if "run_frequency" in fields:
            fields["run_frequency"] = check_run_frequency(fields["run_frequency"])
        if "description" in fields:
            fields["description"] = self._check_description(fields["description"])
        now = self.now()
        with self.transaction() as session:
            row = self._model_row(session, name, lock=True)
            column = {"spec_yaml": "spec"}
            changed = sorted(f for f, v in fields.items() if getattr(row, column.get(f, f)) != v)
            if not changed and verdict is None:
                return ModelRecord.from_row(row)
            status = Status(row.status)
            modeling = set(MODELING_FIELDS) & set(changed)
            if same_fit:
                modeling.discard("spec_yaml")  # the caller compared the specs: what is fitted is the same
            modeling_change = bool(modeling)
            if modeling_change and status is Status.IN_PROGRESS:
                raise MediamixError(
                    f"model '{name}' is 'In progress'; wait for its run to finish before editing "
                    f"{' and '.join(sorted(modeling))}"
                )
            if verdict is not None and status is Status.IN_PROGRESS:
                raise MediamixError(
                    f"model '{name}' is 'In progress'; wait for its run to finish before editing its "
                    "thresholds (the run would be judged by the old ones)"
                )
            if verdict is not None and modeling_change:
                raise ValueError(f"a verdict cannot come with an edit of {', '.join(sorted(modeling))}")
            for field in changed:
                setattr(row, column.get(field, field), fields[field])
            if modeling_change:
                row.spec_version += 1
            reset = modeling_change and status is not Status.AWAITING_TRAINING
            if reset:
                # Not a run transition: the model is new again, so the usual state machine is bypassed.
                row.status = Status.AWAITING_TRAINING.value
                row.status_reasons = []
                row.status_message = None
            if "run_frequency" in changed:
                row.next_run_at = None
            row.updated_at = now
            self._record_audit(
                session, "model.updated", name,
                {"changed": changed, "status_reset_from": status.value if reset else None}, at=now,
            )
            if verdict is not None:
                self._apply_verdict(session, row, verdict, now)
            return ModelRecord.from_row(row)

    def _apply_verdict(self, session: Session, row: ModelRow, verdict: TrainVerdict, now: datetime) -> None:
        run = self._trained_run_row(session, row)
        if run is None or run.id != verdict.run_id:
            raise MediamixError(
                f"model '{row.name}' was trained or edited again while this edit was being prepared; "
                "make the edit again"
            )
        status = Status.parse(verdict.status)
        if status not in (Status.SUCCESS, Status.TRAINING_ISSUE):
            raise MediamixError(f"a posterior is judged 'Success' or 'Training issue', not '{status.value}'")
        reasons = [str(r) for r in verdict.reasons] if status is Status.TRAINING_ISSUE else []
        if status is Status.TRAINING_ISSUE and not reasons:
            raise MediamixError(f"model '{row.name}': 'Training issue' needs at least one reason")
        before = (run.status, list(run.reasons or []))
        run.status = status.value
        run.reasons = reasons
        if verdict.diagnostics:
            run.diagnostics = {**(run.diagnostics or {}), **to_json_value(dict(verdict.diagnostics), "diagnostics")}
        model_before = row.status
        if row.status in USABLE_TRAIN_STATUSES:
            # The model shows its training's verdict (plus the issues of a later score run, as
            # finish_run combines them). Not a run transition, so the state machine is bypassed.
            later = session.scalars(
                select(RunRow)
                .where(RunRow.model_id == row.id, RunRow.id > run.id, RunRow.finished_at.is_not(None))
                .order_by(RunRow.id.desc()).limit(1)
            ).first()
            combined = list(reasons)
            if later is not None and later.kind == "score" and later.status == Status.TRAINING_ISSUE.value:
                combined += list(later.reasons or [])
            row.status = (Status.TRAINING_ISSUE if combined else Status.SUCCESS).value
            row.status_reasons = combined
            row.status_message = None
            row.updated_at = now
        self._record_audit(
            session, "run.rejudged", row.name,
            {"run_id": run.id, "from": before[0], "to": status.value, "reasons_before": before[1],
             "reasons": reasons, "model_status_from": model_before, "model_status": row.status},
            at=now,
        )

    def rename(self, name: str, new_name: str) -> ModelRecord:
        """Give a model a new name; its runs, plans and artifacts stay with it."""
        check_model_name(new_name)
        if new_name == name:
            return self.get_model(name)
        hint = "choose another name"
        now = self.now()
        with self.transaction() as session:
            row = self._model_row(session, name, lock=True)
            self._ensure_name_free(session, new_name, hint=hint, ignore_id=row.id)
            row.name = new_name
            row.updated_at = now
            self._flush_unique(session, new_name, hint)
            self._record_audit(session, "model.renamed", new_name, {"old_name": name}, at=now)
            return ModelRecord.from_row(row)

    def duplicate(self, name: str, new_name: str) -> ModelRecord:
        """A new model with the same description, conversion, spec and run frequency, in status
        'Awaiting training', without the original's runs or plans."""
        check_model_name(new_name)
        hint = "choose another name for the copy"
        now = self.now()
        with self.transaction() as session:
            source = self._model_row(session, name)
            self._ensure_name_free(session, new_name, hint=hint)
            row = ModelRow(
                name=new_name,
                description=source.description,
                conversion=source.conversion,
                spec=source.spec,
                spec_version=1,
                run_frequency=source.run_frequency,
                status=Status.AWAITING_TRAINING.value,
                status_reasons=[],
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            self._flush_unique(session, new_name, hint)
            self._record_audit(session, "model.duplicated", new_name, {"source": name}, at=now)
            return ModelRecord.from_row(row)

    def delete_model(self, name: str, *, session: Session | None = None) -> list[Path]:
        """Delete the model with its runs and plans, in one transaction (or the caller's
        `session`: Workspace.delete cancels the model's queued jobs in the same one).

        Returns the runs' artifact folders: files are not the database's to delete, so the
        caller removes them (after this returns, so a failed delete leaves files in place).
        The audit trail keeps its events about the model.
        """
        now = self.now()
        with self.transaction(session) as s:
            row = self._model_row(s, name, lock=True)
            dirs = s.scalars(
                select(RunRow.artifact_dir)
                .where(RunRow.model_id == row.id, RunRow.artifact_dir.is_not(None))
                .order_by(RunRow.id)
            ).all()
            n_runs = s.scalar(select(func.count(RunRow.id)).where(RunRow.model_id == row.id))
            n_plans = s.scalar(select(func.count(PlanRow.id)).where(PlanRow.model_id == row.id))
            # Runs and plans go by ON DELETE CASCADE, in this same statement.
            s.execute(delete(ModelRow).where(ModelRow.id == row.id))
            unique_dirs = list(dict.fromkeys(dirs))
            self._record_audit(
                s, "model.deleted", name,
                {"model_id": row.id, "runs": n_runs, "plans": n_plans, "artifact_dirs": unique_dirs},
                at=now,
            )
        return [Path(d) for d in unique_dirs]

    def set_status(
        self,
        name: str,
        status: Status | str,
        reasons: Sequence[str] = (),
        message: str | None = None,
    ) -> ModelRecord:
        """Move the model to `status` if the transition is allowed (see status.py).
        `reasons` explain a 'Training issue'; `message` is the error text of 'Failed'."""
        status = Status.parse(status)
        now = self.now()
        with self.transaction() as session:
            row = self._model_row(session, name, lock=True)
            old = row.status
            self._apply_status(row, status, reasons, message, now)
            self._record_audit(
                session, "model.status", name,
                {"from": old, "to": status.value, "reasons": list(reasons), "message": message}, at=now,
            )
            return ModelRecord.from_row(row)

    def set_next_run_at(self, name: str, when: datetime | None, *, session: Session | None = None) -> None:
        """When the scheduler should next run this model (None: work it out from the last run)."""
        if when is not None and (when.tzinfo is None or when.utcoffset() is None):
            raise ValueError(f"naive datetime {when!r} for next_run_at: pass a timezone-aware datetime (UTC)")
        with self.transaction(session) as s:
            row = self._model_row(s, name, lock=True)
            row.next_run_at = when

    # ----- runs -----------------------------------------------------------------------------

    def start_run(self, name: str, kind: str, params: dict[str, Any] | None = None) -> int:
        """Open a train or score run and set the model 'In progress'; returns the run id.

        Scoring needs a posterior of the current spec, so a score run is refused until a train
        run since the last spec edit has ended in 'Success' or 'Training issue'. A model already
        'In progress' is refused: one run at a time.
        """
        self._check_kind(kind)
        params = to_json_value(params or {}, "run params")
        now = self.now()
        with self.transaction() as session:
            row = self._model_row(session, name, lock=True)
            if row.status == Status.IN_PROGRESS.value:
                raise self._busy(session, row, kind)
            if kind == "score" and self._trained_run_row(session, row) is None:
                raise self._nothing_to_score(session, row)
            self._apply_status(row, Status.IN_PROGRESS, (), None, now)
            run = RunRow(
                model_id=row.id, kind=kind, spec_version=row.spec_version, status=Status.IN_PROGRESS.value,
                started_at=now, params=params, reasons=[],
            )
            session.add(run)
            session.flush()
            self._record_audit(session, "run.started", name, {"run_id": run.id, "kind": kind, "params": params}, at=now)
            return run.id

    def finish_run(
        self,
        run_id: int,
        status: Status | str,
        diagnostics: dict[str, Any] | None = None,
        message: str | None = None,
        artifact_dir: str | Path | None = None,
        *,
        reasons: Sequence[str] = (),
    ) -> RunRecord:
        """Close a run with 'Success', 'Training issue' (give `reasons`) or 'Failed' (give
        `message`), and set the model's status and last_run_at.

        A train run's outcome becomes the model's status. A score run does not re-judge the
        posterior: a scored model keeps the verdict of its training ('Training issue' stays,
        with its reasons), plus any reasons the score run adds; a failed score run fails the model.
        """
        status = Status.parse(status)
        if not status.is_finished:
            raise MediamixError(
                f"run {run_id} must end with 'Success', 'Training issue' or 'Failed', not '{status.value}'"
            )
        reasons = [str(r) for r in reasons]
        diagnostics = to_json_value(diagnostics, "diagnostics")
        now = self.now()
        with self.transaction() as session:
            run = session.get(RunRow, run_id, with_for_update=True)
            if run is None:
                raise NotFoundError(f"no run with id {run_id}; see `mediamix model info NAME` for a model's runs")
            model = session.get(ModelRow, run.model_id, with_for_update=True)
            if run.finished_at is not None:
                raise MediamixError(
                    f"run {run_id} of model '{model.name}' already finished with '{run.status}'; "
                    "start a new run instead"
                )
            if status is Status.TRAINING_ISSUE and not reasons:
                raise MediamixError(
                    f"run {run_id} of model '{model.name}': 'Training issue' needs at least one reason"
                )
            run.status = status.value
            run.finished_at = now
            run.message = message
            run.reasons = reasons if status is Status.TRAINING_ISSUE else []
            run.diagnostics = diagnostics
            run.artifact_dir = str(artifact_dir) if artifact_dir is not None else None
            model_status, model_reasons = self._verdict(session, run, status, reasons)
            self._apply_status(model, model_status, model_reasons, message, now)
            model.last_run_at = now
            self._record_audit(
                session, "run.finished", model.name,
                {"run_id": run.id, "kind": run.kind, "status": status.value, "reasons": reasons, "message": message},
                at=now,
            )
            return RunRecord.from_row(run, model.name)

    def _verdict(
        self, session: Session, run: RunRow, status: Status, reasons: list[str]
    ) -> tuple[Status, list[str]]:
        if run.kind == "train" or status is Status.FAILED:
            return status, reasons
        # A score run re-judges nothing: the posterior's verdict stands, plus the score's own issues.
        train = self._trained_run_row(session, session.get(ModelRow, run.model_id))
        combined = []
        if train is not None and train.status == Status.TRAINING_ISSUE.value:
            combined = list(train.reasons or [])
        if status is Status.TRAINING_ISSUE:
            combined += reasons
        return (Status.TRAINING_ISSUE if combined else Status.SUCCESS), combined

    def fail_unfinished_runs(
        self, name: str, message: str, *, started_since: datetime | None = None
    ) -> list[int]:
        """Close every run of the model still open (since `started_since`) as 'Failed'.

        For a worker whose job died before the job could finish its own run (a crashed
        process): without this the model would stay 'In progress' for ever. Returns the run ids.
        """
        now = self.now()
        with self.transaction() as session:
            row = self._model_row(session, name, lock=True)
            statement = select(RunRow).where(RunRow.model_id == row.id, RunRow.finished_at.is_(None))
            if started_since is not None:
                statement = statement.where(RunRow.started_at >= started_since)
            open_runs = session.scalars(statement.order_by(RunRow.id)).all()
            for run in open_runs:
                run.status = Status.FAILED.value
                run.finished_at = now
                run.message = message
            if open_runs and row.status == Status.IN_PROGRESS.value:
                self._apply_status(row, Status.FAILED, (), message, now)
                row.last_run_at = now
            if open_runs:
                self._record_audit(
                    session, "run.abandoned", name, {"run_ids": [r.id for r in open_runs], "message": message}, at=now
                )
            return [r.id for r in open_runs]

    def _latest_run_row(
        self, session: Session, model_id: int, kind: str | None, *, usable_only: bool, after: int | None = None
    ) -> RunRow | None:
        statement = select(RunRow).where(RunRow.model_id == model_id)
        if after is not None:
            statement = statement.where(RunRow.id > after)
        if kind is not None:
            statement = statement.where(RunRow.kind == kind)
        if usable_only:
            statement = statement.where(RunRow.status.in_(USABLE_TRAIN_STATUSES), RunRow.finished_at.is_not(None))
        return session.scalars(statement.order_by(RunRow.id.desc()).limit(1)).first()

    def _trained_run_row(self, session: Session, model: ModelRow) -> RunRow | None:
        statement = (
            select(RunRow)
            .where(
                RunRow.model_id == model.id,
                RunRow.kind == "train",
                RunRow.spec_version == model.spec_version,
                RunRow.status.in_(USABLE_TRAIN_STATUSES),
                RunRow.finished_at.is_not(None),
            )
            .order_by(RunRow.id.desc())
            .limit(1)
        )
        return session.scalars(statement).first()

    def _busy(self, session: Session, model: ModelRow, kind: str) -> MediamixError:
        """Why a second run of a model 'In progress' cannot start, in words rather than statuses."""
        running = session.scalars(
            select(RunRow).where(RunRow.model_id == model.id, RunRow.finished_at.is_(None))
            .order_by(RunRow.id.desc()).limit(1)
        ).first()
        verb = {"train": "trained", "score": "scored"}
        if running is None:
            what = "is already in progress"
        else:
            started = running.started_at.strftime("%Y-%m-%d %H:%M UTC")
            what = f"is already being {verb.get(running.kind, running.kind)} (run {running.id}, started {started})"
        return MediamixError(
            f"model '{model.name}' {what}; it can be {verb.get(kind, kind)} once that run has finished "
            f"(`mediamix model info {model.name}` shows its runs)"
        )

    def check_scorable(self, name: str, *, session: Session | None = None) -> RunRecord:
        """The train run a score run would score; raises the reason when there is none (never
        trained, training failed, or spec edited since), naming the command that fixes it."""
        with self.reading(session) as s:
            row = self._model_row(s, name)
            run = self._trained_run_row(s, row)
            if run is None:
                raise self._nothing_to_score(s, row)
            return RunRecord.from_row(run, row.name)

    def _nothing_to_score(self, session: Session, model: ModelRow) -> MediamixError:
        older = self._latest_run_row(session, model.id, "train", usable_only=True)
        if older is not None:
            return MediamixError(
                f"model '{model.name}' was edited after its last training (spec version {older.spec_version} "
                f"-> {model.spec_version}); train it again with `mediamix model train {model.name}` before scoring"
            )
        return MediamixError(
            f"model '{model.name}' has no trained posterior to score; train it first "
            f"with `mediamix model train {model.name}`"
        )

    def trained_run(self, name: str, *, session: Session | None = None) -> RunRecord | None:
        """The latest train run that left a usable posterior ('Success' or 'Training issue') for
        the model's current spec: what a score run scores. None if the model must be trained."""
        with self.reading(session) as s:
            row = self._model_row(s, name)
            run = self._trained_run_row(s, row)
            return RunRecord.from_row(run, row.name) if run is not None else None

    def get_run(self, run_id: int) -> RunRecord:
        with self.reading() as session:
            run = session.get(RunRow, run_id)
            if run is None:
                raise NotFoundError(f"no run with id {run_id}; see `mediamix model info NAME` for a model's runs")
            model_name = session.scalar(select(ModelRow.name).where(ModelRow.id == run.model_id))
            return RunRecord.from_row(run, model_name)

    def runs(self, name: str, kind: str | None = None) -> list[RunRecord]:
        """The model's runs, oldest first."""
        if kind is not None:
            self._check_kind(kind)
        with self.reading() as session:
            row = self._model_row(session, name)
            statement = select(RunRow).where(RunRow.model_id == row.id)
            if kind is not None:
                statement = statement.where(RunRow.kind == kind)
            return [RunRecord.from_row(r, row.name) for r in session.scalars(statement.order_by(RunRow.id))]

    def latest_run(
        self,
        name: str,
        kind: str | None = None,
        successful_only: bool = False,
        *,
        after: int | None = None,
        session: Session | None = None,
    ) -> RunRecord | None:
        """The most recent run (of `kind`, if given). `successful_only` keeps runs that left a
        usable result: finished with 'Success' or 'Training issue' (whose results stay viewable).
        `after`: only runs with a larger id (opened after that run), e.g. the run a job opened."""
        if kind is not None:
            self._check_kind(kind)
        with self.reading(session) as s:
            row = self._model_row(s, name)
            run = self._latest_run_row(s, row.id, kind, usable_only=successful_only, after=after)
            return RunRecord.from_row(run, row.name) if run is not None else None

    # ----- plans ----------------------------------------------------------------------------

    def save_plan(
        self, name: str, plan_name: str, spec: dict[str, Any], result: dict[str, Any] | None = None
    ) -> PlanRecord:
        """Store a budget plan (its request and, once optimized, its result) under the model."""
        self._check_text(plan_name, "plan name", "the plan a name such as 'q3-budget'")
        spec = to_json_value(spec, "plan spec")
        result = to_json_value(result, "plan result")
        now = self.now()
        with self.transaction() as session:
            model = self._model_row(session, name)
            exists = session.scalar(select(PlanRow.id).where(PlanRow.model_id == model.id, PlanRow.name == plan_name))
            if exists is not None:
                raise MediamixError(
                    f"model '{name}' already has a plan named '{plan_name}'; choose another name or delete that plan"
                )
            plan = PlanRow(model_id=model.id, name=plan_name, spec=spec, result=result, created_at=now)
            session.add(plan)
            session.flush()
            self._record_audit(session, "plan.saved", name, {"plan": plan_name, "plan_id": plan.id}, at=now)
            return PlanRecord.from_row(plan, model.name)

    def plans(self, name: str) -> list[PlanRecord]:
        with self.reading() as session:
            model = self._model_row(session, name)
            rows = session.scalars(select(PlanRow).where(PlanRow.model_id == model.id).order_by(PlanRow.id))
            return [PlanRecord.from_row(p, model.name) for p in rows]

    def get_plan(self, name: str, plan_name: str) -> PlanRecord:
        with self.reading() as session:
            model = self._model_row(session, name)
            return PlanRecord.from_row(self._plan_row(session, model, plan_name), model.name)

    def delete_plan(self, name: str, plan_name: str) -> None:
        with self.transaction() as session:
            model = self._model_row(session, name)
            plan = self._plan_row(session, model, plan_name)
            session.execute(delete(PlanRow).where(PlanRow.id == plan.id))
            self._record_audit(session, "plan.deleted", name, {"plan": plan_name, "plan_id": plan.id})

    def _plan_row(self, session: Session, model: ModelRow, plan_name: str) -> PlanRow:
        plan = session.scalars(
            select(PlanRow).where(PlanRow.model_id == model.id, PlanRow.name == plan_name)
        ).one_or_none()
        if plan is None:
            names = session.scalars(select(PlanRow.name).where(PlanRow.model_id == model.id)).all()
            known = ", ".join(f"'{n}'" for n in names) or "none yet"
            raise NotFoundError(f"model '{model.name}' has no plan named '{plan_name}'; its plans: {known}")
        return plan

    # ----- audit ----------------------------------------------------------------------------

    def audit(
        self,
        action: str,
        *,
        model_name: str | None = None,
        detail: dict[str, Any] | None = None,
        actor: str | None = None,
        session: Session | None = None,
    ) -> None:
        """Record an action in the audit trail. Registry methods record their own; callers
        record the rest (jobs/ records enqueued jobs; a caller might record an exported report)."""
        self._check_text(action, "audit action", "a short action name such as 'report.exported'")
        with self.transaction(session) as s:
            self._record_audit(s, action, model_name, detail, actor)

    def audit_events(self, model_name: str | None = None, *, action: str | None = None) -> list[AuditRecord]:
        """The trail, oldest first; events about a deleted model are still here."""
        statement = select(AuditEventRow)
        if model_name is not None:
            statement = statement.where(AuditEventRow.model_name == model_name)
        if action is not None:
            statement = statement.where(AuditEventRow.action == action)
        with self.reading() as session:
            return [AuditRecord.from_row(r) for r in session.scalars(statement.order_by(AuditEventRow.id))]
