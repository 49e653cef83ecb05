"""The models table a user reads (`mediamix models`, the web list), as a DataFrame."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from mediamix.registry.records import ModelRecord

if TYPE_CHECKING:
    import pandas as pd

MODELS_TABLE_COLUMNS = ("Name", "Description", "Conversion event", "Run frequency", "Last run", "Status")
NEVER = "—"


def format_last_run(at: datetime | None) -> str:
    """ISO minutes in UTC, e.g. "2026-03-01 14:05", or an em dash for a model never run."""
    if at is None:
        return NEVER
    return at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def models_frame(models: Iterable[ModelRecord]) -> "pd.DataFrame":
    import pandas as pd  # here, not at import: job processes import the registry and rarely print tables

    rows = [
        {
            "Name": m.name,
            "Description": m.description,
            "Conversion event": m.conversion,
            "Run frequency": m.run_frequency,
            "Last run": format_last_run(m.last_run_at),
            "Status": m.status.value,
        }
        for m in models
    ]
    return pd.DataFrame(rows, columns=list(MODELS_TABLE_COLUMNS))
