"""The rows a rule reads: a batched data set's table, or a summary table put whole (SummaryData).

Both look the same to a rule: source columns by name, a `__date` (dated rows) or `__ts` (events),
and an origin for the merge preference (summary or event).
"""
from __future__ import annotations

from dataclasses import dataclass

from mediamix.data.datasets import lookup
from mediamix.data.messages import column_list, quoted, suggestion
from mediamix.data.schema import has_table
from mediamix.data.sql import ident, one, register
from mediamix.errors import DataError, NotFoundError

NUMERIC_TYPES = ("DOUBLE", "BIGINT", "INTEGER", "FLOAT", "HUGEINT", "SMALLINT", "TINYINT", "DECIMAL")


@dataclass(frozen=True)
class Source:
    dataset: str
    kind: str
    shape: str  # "dated" or "events"
    columns: dict  # source column -> DuckDB type (internal __ columns left out)
    table: str | None  # the batched table, or None for a summary put whole

    @property
    def origin(self) -> str:
        return "event" if self.shape == "events" else "summary"

    def is_numeric(self, column: str) -> bool:
        return str(self.columns.get(column, "")).upper().startswith(NUMERIC_TYPES)

    def require_column(self, column: str, where: str) -> None:
        if column not in self.columns:
            raise DataError(
                f"{where}: data set {quoted(self.dataset)} has no column {quoted(column)}."
                f"{suggestion(column, self.columns)} Columns are: {column_list(self.columns)}"
            )


def source_for(con, dataset: str) -> Source:
    found = lookup(con, dataset) if con is not None else None
    if found is not None:
        columns = {c: t for c, t in zip(found.columns, found.column_types) if not c.startswith("__")}
        return Source(dataset, found.kind, found.shape, columns, found.raw_table)
    row = None
    if con is not None and has_table(con, "datasets"):
        row = one(con, "SELECT columns, column_types FROM datasets WHERE name = ?", [dataset])
    if row is None:
        from mediamix.data.store import dataset_names

        names = dataset_names(con) if con is not None else []
        raise NotFoundError(
            f"no data set named {quoted(dataset)}; data sets: {column_list(names) if names else 'none yet'}"
        )
    columns = {c: ("DOUBLE" if t.startswith(("float", "int")) else "VARCHAR")
               for c, t in zip(row[0], row[1]) if c != "date"}
    return Source(dataset, "summary", "dated", columns, None)


def relation(con, source: Source, alias: str) -> str:
    """A relation for the source's rows; a put-whole summary is registered on this connection as `alias`."""
    if source.table is not None:
        return ident(source.table)
    register(con, alias, store_frame(con, source.dataset))
    return ident(alias)


def store_frame(con, dataset: str):
    """A put-whole summary data set's rows with the date as `__date` (read on the open connection)."""
    from mediamix.data.store import _from_tidy

    columns, types, geo_present = one(
        con, "SELECT columns, column_types, geo_present FROM datasets WHERE name = ?", [dataset]
    )
    values = con.execute(
        "SELECT date, geo, field, value_num, value_str FROM summary_values WHERE dataset = ?", [dataset]
    ).df()
    frame = _from_tidy(values, list(columns), list(types), bool(geo_present))
    return frame.rename(columns={"date": "__date"})
