"""Terminal output shared by every command: Rich consoles and one way to print a table."""
from __future__ import annotations

import math
import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

# Piped output (CI logs, files) gets a wide table instead of Rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


def cell(value) -> str:
    """A value as a table cell: ISO dates, thousands separators, — for missing."""
    import pandas as pd

    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return "—"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def print_frame(df, title: str | None = None, max_rows: int = 60, *, out: Console | None = None) -> None:
    """Print a DataFrame as a Rich table (numbers right-aligned), at most `max_rows` rows."""
    import pandas as pd

    table = Table(title=title)
    for column in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[column]) and not pd.api.types.is_bool_dtype(df[column])
        table.add_column(str(column), justify="right" if numeric else "left")
    for row in df.head(max_rows).itertuples(index=False):
        table.add_row(*[escape(cell(v)) for v in row])
    (out or console).print(table)
    if len(df) > max_rows:
        (out or console).print(f"… {len(df) - max_rows} more rows")
