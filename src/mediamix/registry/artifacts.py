"""Where a model's run artifacts (posterior, scores, reports) live under a workspace folder.

Paths use ids, not names, so renaming a model never orphans its files and two models whose names
differ only in case never share a folder on a case-insensitive filesystem.
"""
from __future__ import annotations

from pathlib import Path


def model_artifact_dir(root: str | Path, model_id: int) -> Path:
    return Path(root) / "models" / str(model_id)


def run_artifact_dir(root: str | Path, model_id: int, run_id: int) -> Path:
    return model_artifact_dir(root, model_id) / "runs" / str(run_id)
