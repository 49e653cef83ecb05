"""Turn what callers naturally pass (dates, numpy scalars, paths) into plain JSON values.

Diagnostics come from ArviZ as numpy scalars and may hold NaN (an undefined ESS); PostgreSQL's
JSONB refuses NaN and the json module refuses numpy types, so both are converted here, once,
before a value reaches a JSON column. Non-finite numbers become null.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import PurePath
from typing import Any


def to_json_value(value: Any, what: str = "value") -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        # numpy scalars and arrays: tolist() gives Python numbers (and nested lists for arrays).
        return to_json_value(value.tolist(), what)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{what}: key {key!r} is not a string; JSON object keys must be strings")
            out[key] = to_json_value(item, f"{what}[{key!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [to_json_value(item, f"{what}[{i}]") for i, item in enumerate(value)]
    raise TypeError(f"{what}: {type(value).__name__} {value!r} cannot be stored as JSON")
