"""Quoting for the SQL the data layer composes: user text only ever enters SQL through these."""
from __future__ import annotations

import math

from mediamix.data.messages import show
from mediamix.errors import DataError


def ident(name: str) -> str:
    """A DuckDB identifier: double quotes, inner quotes doubled, so any column name is safe."""
    text = str(name)
    if "\x00" in text:
        raise DataError(f"column name {text!r} contains a NUL character; rename the column")
    return '"' + text.replace('"', '""') + '"'


def literal(value) -> str:
    """A DuckDB literal for text, numbers, booleans or None (standard SQL: quotes doubled)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DataError(f"the number {show(value)} cannot be used here; give a finite number")
        return repr(value)
    text = str(value)
    if "\x00" in text:
        raise DataError(f"the value {text!r} contains a NUL character; remove it")
    return "'" + text.replace("'", "''") + "'"


def register(con, name: str, frame) -> None:
    """Register a DataFrame as a view; DuckDB refuses while a fetched-one-row result is still open."""
    con.complete()
    con.register(name, frame)


def unregister(con, name: str) -> None:
    con.complete()
    con.unregister(name)


def one(con, query: str, params=None):
    """The first row of a query, or None. Fetches everything, so no half-read result blocks the connection."""
    rows = con.execute(query, params or []).fetchall()
    return rows[0] if rows else None
