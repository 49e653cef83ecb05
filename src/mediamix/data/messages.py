"""Small formatters shared by every data error, so messages read the same everywhere."""
from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Iterable, Sequence

import pandas as pd

MINUS = "\u2212"  # typographic minus, so "-350" reads as a value and not a list dash


def quoted(name: object) -> str:
    return f"'{name}'"


def join_words(items: Sequence[str], conjunction: str = "and") -> str:
    """'a'; 'a and b'; 'a, b and c'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def iso(date: pd.Timestamp) -> str:
    return pd.Timestamp(date).strftime("%Y-%m-%d")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 week', '3 weeks'."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def date_runs(dates: Sequence[pd.Timestamp], step_of, limit: int = 6) -> str:
    """Group consecutive dates into runs: '2022-03-07 … 2022-03-28, 2022-06-06'.

    `step_of(date)` returns the next expected date, so runs follow the data's cadence.
    """
    dates = sorted(pd.Timestamp(d) for d in dates)
    runs: list[list[pd.Timestamp]] = []
    for d in dates:
        if runs and step_of(runs[-1][-1]) == d:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = []
    for run in runs:
        if len(run) == 1:
            parts.append(iso(run[0]))
        elif len(run) == 2:
            parts.append(f"{iso(run[0])}, {iso(run[1])}")
        else:
            parts.append(f"{iso(run[0])} \u2026 {iso(run[-1])}")
    shown = ", ".join(parts[:limit])
    if len(parts) > limit:
        shown += f" and {len(parts) - limit} more runs"
    return shown


def number(value: float) -> str:
    """Compact value for a message: 350, 1234.5, 4.2e+08; negatives with a real minus sign."""
    value = float(value)
    sign = MINUS if value < 0 else ""
    magnitude = abs(value)
    if magnitude >= 1e7 or (0 < magnitude < 1e-3):
        text = f"{magnitude:.3g}"
    elif magnitude == int(magnitude):
        text = str(int(magnitude))
    elif magnitude < 1:
        text = f"{magnitude:.2g}"  # keep two significant digits of small values (0.015, not 0.02)
    else:
        text = f"{magnitude:.2f}".rstrip("0").rstrip(".")
    return sign + text


def suggestion(name: str, available: Iterable[str]) -> str:
    """' Did you mean 'tv_spend'?' when a close column name exists, else ''."""
    available = list(available)
    lowered = {a.lower(): a for a in available}
    if name.lower() in lowered:
        return f" Did you mean {quoted(lowered[name.lower()])}?"
    close = difflib.get_close_matches(name, available, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
        close = [lowered[c] for c in close]
    return f" Did you mean {quoted(close[0])}?" if close else ""


def column_list(columns: Iterable[str], limit: int = 30) -> str:
    columns = [quoted(c) for c in columns]
    shown = ", ".join(columns[:limit])
    if len(columns) > limit:
        shown += f" and {len(columns) - limit} more"
    return shown


def one_of(options: Iterable[str]) -> str:
    """"'a', 'b' or 'c'": the allowed values in a message."""
    return join_words([quoted(o) for o in options], "or")


def is_numpy(value) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "tolist")


def show(value) -> str:
    """A value for a message, as the user would write it: text quoted, numbers plain (a NumPy
    scalar as its number, never np.float64(...)), lists and mappings item by item."""
    if is_numpy(value):
        value = value.tolist()
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return repr(value)


def amount(value: float) -> str:
    """A total or setting for a message, thousands grouped: 52,000, 1,250,000, 0.25, 1.5e-05 (no NumPy repr, no float noise)."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:.4g}"
