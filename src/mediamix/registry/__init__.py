"""mediamix.registry: the record of every model, run, plan and audit event, and their statuses.

    from mediamix.registry import Registry, Status
    registry = Registry("workspace/registry.db")          # or a postgresql+psycopg:// URL
    registry.create_model("brand", conversion="sales", spec_yaml=yaml_text)
    run_id = registry.start_run("brand", "train", {})
    registry.finish_run(run_id, Status.SUCCESS, diagnostics={...}, artifact_dir=path)
    registry.models_table()                               # the table `mediamix models` prints
"""
from mediamix.registry.artifacts import model_artifact_dir, run_artifact_dir
from mediamix.registry.records import AuditRecord, ModelRecord, PlanRecord, RunRecord, TrainVerdict
from mediamix.registry.registry import EDITABLE_FIELDS, Registry
from mediamix.registry.status import ALLOWED_TRANSITIONS, FINISHED, Status, can_transition, check_transition
from mediamix.registry.table_view import MODELS_TABLE_COLUMNS
from mediamix.registry.tables import RUN_FREQUENCIES, RUN_KINDS

__all__ = [
    "ALLOWED_TRANSITIONS",
    "AuditRecord",
    "EDITABLE_FIELDS",
    "FINISHED",
    "MODELS_TABLE_COLUMNS",
    "ModelRecord",
    "PlanRecord",
    "RUN_FREQUENCIES",
    "RUN_KINDS",
    "Registry",
    "RunRecord",
    "Status",
    "TrainVerdict",
    "can_transition",
    "check_transition",
    "model_artifact_dir",
    "run_artifact_dir",
]
