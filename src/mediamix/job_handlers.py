"""Train and score as job functions, for the worker (`mediamix worker`) and the scheduler.

They run in a fresh process per job (LocalProcessExecutor), so they are module-level and
find the workspace through MEDIAMIX_HOME, which the worker sets before starting jobs.
"""
from __future__ import annotations

import os


def _workspace():
    from mediamix.workspace import Workspace
    return Workspace.open(os.environ.get("MEDIAMIX_HOME"))


def train_job(model_name: str, params: dict) -> None:
    _workspace().train(model_name, progress=False)


def score_job(model_name: str, params: dict) -> None:
    ws = _workspace()
    if params.get("from") or params.get("to"):
        ws.score(model_name, params.get("from"), params.get("to"))
    else:
        ws.rescore(model_name)


HANDLERS = {"train": train_job, "score": score_job}
