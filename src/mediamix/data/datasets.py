"""Data sets loaded in batches: each keeps its source rows in its own DuckDB table.

A batch is checked completely (batches.py) before the store is opened, then written in one
transaction: schema changes, restated rows, the new rows and the batch record commit together or
not at all. A batch whose content hash was loaded before changes nothing, so loading the same
export twice never double-counts.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from mediamix.data.batches import (
    DEFAULT_RESTATEMENT,
    KINDS,
    RESTATEMENTS,
    PreparedBatch,
    check_options,
    prepare_batch,
    shape_of,
)
from mediamix.data.ingest import read_table
from mediamix.data.messages import column_list, count, iso, one_of, quoted
from mediamix.data.schema import bump_revision, has_table
from mediamix.data.sql import ident, literal, one, register, unregister
from mediamix.errors import DataError, NotFoundError

LISTING = ["name", "kind", "source", "cadence_unit", "cadence_anchor", "geo_present", "rows", "columns",
           "loaded_at", "notices", "batches"]


@dataclass(frozen=True)
class DataSetInfo:
    name: str
    kind: str
    shape: str  # "dated" (a date per row) or "events" (a person and a timestamp per row)
    raw_table: str
    options: dict
    columns: tuple[str, ...]
    column_types: tuple[str, ...]
    rows: int

    @property
    def origin(self) -> str:
        """Which side of the merge preference this data set's metrics are on."""
        return "event" if self.shape == "events" else "summary"

    def column_type(self, column: str) -> str | None:
        return dict(zip(self.columns, self.column_types)).get(column)


@dataclass(frozen=True)
class BatchResult:
    dataset: str
    batch: int
    rows: int
    replaced_rows: int
    skipped: bool
    first_date: pd.Timestamp
    last_date: pd.Timestamp
    notices: tuple[str, ...]

    def describe(self) -> str:
        if self.skipped:
            return (
                f"this batch was already loaded into {quoted(self.dataset)} as batch {self.batch}; "
                "nothing changed"
            )
        replaced = f", replacing {count(self.replaced_rows, 'earlier row')}" if self.replaced_rows else ""
        return (
            f"batch {self.batch} of {quoted(self.dataset)}: {count(self.rows, 'row')} from "
            f"{iso(self.first_date)} to {iso(self.last_date)}{replaced}"
        )


def load_batch(store, name: str, source, *, kind: str | None = None, restatement: str | None = None,
               **options) -> BatchResult:
    """Append one batch (a CSV/Parquet path or a DataFrame) to data set `name`, creating it on first load.

    kind: summary | events | conversions | factors (fixed by the first batch). restatement:
    'replace' (rows of the batch's dates replace earlier rows of those dates) or 'add' (they add
    up); default per kind. Options (date_column, timestamp_column, person_column, key_columns,
    restate_by, start_date, frequency, geo_column, factor_type, value_type, granularity,
    aggregation) are remembered for later batches.
    """
    name = _name(name)
    label, frame = _read_source(source)
    # one transaction from the first look at the data set to the last row written
    with store.transaction() as con:
        _refuse_summary_name(con, name)
        current = lookup(con, name)
        kind = _kind(name, kind, current)
        options = {**(current.options if current else {}), **check_options(kind, options)}
        restatement = restatement or options.get("restatement") or DEFAULT_RESTATEMENT[kind]
        if restatement not in RESTATEMENTS:
            raise DataError(f"restatement {quoted(restatement)} is not one of {one_of(RESTATEMENTS)}")
        options["restatement"] = restatement
        shape = current.shape if current else shape_of(kind, frame, options)
        prepared = prepare_batch(frame, kind, shape, options)
        restate_by = _restate_by(prepared, kind, options)
        types = {c: _storage_type(prepared.frame[c], c) for c in prepared.frame.columns}
        register(con, "incoming_batch", prepared.frame)
        digest = _content_hash(con, types)
        loaded = con.execute(
            "SELECT batch FROM batches WHERE dataset = ? AND content_hash = ?", [name, digest]
        ).fetchall()
        if loaded:
            return BatchResult(name, loaded[0][0], len(prepared.frame), 0, True, prepared.first_date,
                               prepared.last_date, ("this batch was loaded before; nothing changed",))
        table = current.raw_table if current else f"raw_{uuid.uuid4().hex[:12]}"
        notices = list(prepared.notices)
        if current is None:
            _create_table(con, table, types)
        else:
            notices += _fit_schema(con, current, prepared.frame, types)
        replaced = 0
        if restatement == "replace" and current is not None:
            replaced = _restate(con, table, prepared.shape, restate_by)
        batch = _next_batch(con, name)
        columns = _table_columns(con, table)
        select = ", ".join(
            f"CAST({literal(batch)} AS INTEGER)" if c == "__batch" else
            (f"CAST({ident(c)} AS {t})" if c in prepared.frame.columns else "NULL") for c, t in columns
        )
        con.execute(f"INSERT INTO {ident(table)} SELECT {select} FROM incoming_batch")
        unregister(con, "incoming_batch")
        _record_batch(con, name, batch, prepared, digest, label, restatement, replaced)
        _record_dataset(con, name, kind, shape, table, options, columns, notices, new=current is None)
        bump_revision(con)
    return BatchResult(name, batch, len(prepared.frame), replaced, False, prepared.first_date,
                       prepared.last_date, tuple(notices))


def info(store, name: str, *, missing_ok: bool = False) -> DataSetInfo | None:
    with store.reading() as con:
        found = lookup(con, name) if con is not None else None
        if found is None and not missing_ok:
            from mediamix.data.store import dataset_names

            names = dataset_names(con) if con is not None else []
            available = column_list(names) if names else "none yet"
            raise NotFoundError(f"no batched data set named {quoted(name)}; data sets: {available}")
    return found


def list_batches(store, name: str) -> pd.DataFrame:
    """The batches of a data set: number, rows, dates, restatement, rows replaced, source, hash."""
    info(store, name)
    with store.reading() as con:
        return con.execute(
            "SELECT batch, rows, first_date, last_date, restatement, replaced_rows, source, loaded_at, "
            "content_hash FROM batches WHERE dataset = ? ORDER BY batch",
            [name],
        ).df()


def dataset_rows(store, name: str) -> pd.DataFrame:
    """The stored rows of a batched data set (with its `__batch` column), in batch order."""
    found = info(store, name)
    with store.reading() as con:
        return con.execute(f"SELECT * FROM {ident(found.raw_table)} ORDER BY __batch").df()


def all_info(con) -> list[DataSetInfo]:
    if not has_table(con, "batched_datasets"):
        return []
    names = [r[0] for r in con.execute("SELECT name FROM batched_datasets ORDER BY name").fetchall()]
    return [lookup(con, n) for n in names]


# ---- used by HarmonizedStore -----------------------------------------------------------------------


def batched_listing(con) -> pd.DataFrame:
    listing = con.execute(
        """SELECT d.name, d.kind, b.source, NULL AS cadence_unit, NULL AS cadence_anchor,
                  list_contains(d.columns, 'geo') AS geo_present, d.rows, d.columns, d.updated_at AS loaded_at,
                  d.notices, b.batches
           FROM batched_datasets d
           LEFT JOIN (SELECT dataset, count(*) AS batches, arg_max(source, batch) AS source
                      FROM batches GROUP BY dataset) b ON b.dataset = d.name
           ORDER BY d.name"""
    ).df()
    shown = {"__date": "date", "__ts": "timestamp", "__person": "person"}
    listing["columns"] = listing["columns"].map(lambda cs: [shown.get(c, c) for c in cs if c != "__batch"])
    return listing[LISTING]


def delete_batched(con, name: str) -> None:
    found = lookup(con, name)
    con.execute(f"DROP TABLE IF EXISTS {ident(found.raw_table)}")
    con.execute("DELETE FROM batches WHERE dataset = ?", [name])
    con.execute("DELETE FROM batched_datasets WHERE name = ?", [name])


def batched_summary(con, name: str):
    """A batched summary data set as SummaryData, when it has one row per date (and geo)."""
    from mediamix.data.ingest import harmonize_summary

    found = lookup(con, name)
    if found.kind != "summary" or found.shape != "dated":
        raise DataError(
            f"data set {quoted(name)} holds {found.kind}; read it through the harmonized view "
            "(`mediamix data sync`, then touchpoints and conversions)"
        )
    frame = con.execute(f"SELECT * EXCLUDE (__batch) FROM {ident(found.raw_table)} ORDER BY __date").df()
    frame = frame.rename(columns={"__date": "date"})
    try:
        return harmonize_summary(frame, date_column="date", geo_column=found.options.get("geo_column"))
    except DataError as exc:
        raise DataError(
            f"data set {quoted(name)} cannot be read as one row per date: {exc}. Rows at a finer grain "
            "(per campaign, ...) are read through rules and the harmonized view instead"
        ) from None


# ---- helpers ---------------------------------------------------------------------------------------


def _name(name) -> str:
    from mediamix.data.store import _dataset_name

    return _dataset_name(name)


def _read_source(source) -> tuple[str, pd.DataFrame]:
    if isinstance(source, pd.DataFrame):
        return "DataFrame", source
    if isinstance(source, (str, Path)):
        path = Path(source)
        return str(path.resolve()), read_table(path)
    raise DataError(f"a batch is a CSV/Parquet path or a DataFrame, got {type(source).__name__}")


def _kind(name: str, kind: str | None, existing: DataSetInfo | None) -> str:
    if existing is None:
        kind = kind or "summary"
        if kind not in KINDS:
            raise DataError(f"data set kind {quoted(kind)} is not one of {one_of(KINDS)}")
        return kind
    if kind is not None and kind != existing.kind:
        raise DataError(
            f"data set {quoted(name)} holds {existing.kind} data; a batch of {kind} data needs a data set "
            "of its own: choose another name"
        )
    return existing.kind


def _restate_by(prepared: PreparedBatch, kind: str, options: dict) -> list[str]:
    """Columns besides the date that scope a restatement (factors: the factor and its value type)."""
    if kind == "factors":
        return ["factor", "value_type"]
    scope = list(options.get("restate_by", []))
    missing = [c for c in scope if c not in prepared.frame.columns]
    if missing:
        raise DataError(f"restate_by column {quoted(missing[0])} is not in the batch; columns are "
                        f"{column_list([c for c in prepared.frame.columns if not c.startswith('__')])}")
    return scope


def _refuse_summary_name(con, name: str) -> None:
    found = one(con, "SELECT count(*) FROM datasets WHERE name = ?", [name])[0]
    if found:
        raise DataError(
            f"data set {quoted(name)} was loaded whole as one summary table; batches go into a data set "
            "of their own: choose another name, or delete it first"
        )


def lookup(con, name: str) -> DataSetInfo | None:
    if not has_table(con, "batched_datasets"):
        return None
    row = one(
        con,
        "SELECT name, kind, shape, raw_table, options, columns, column_types, rows FROM batched_datasets "
        "WHERE name = ?",
        [name],
    )
    if row is None:
        return None
    name, kind, shape, table, options, columns, types, n = row
    return DataSetInfo(name, kind, shape, table, json.loads(options), tuple(columns), tuple(types), int(n))


def _content_hash(con, types: dict[str, str]) -> str:
    """A digest of the batch's rows in any order (a sum of row hashes), computed by DuckDB in parallel.

    Loading a re-sorted export of the same rows is recognized; a changed value, row or column is not.
    """
    values = ", ".join(f"CAST({ident(c)} AS {'VARCHAR' if t == 'NULL' else t})" for c, t in types.items())
    rows, total = con.execute(f"SELECT count(*), sum(hash({values})) FROM incoming_batch").fetchall()[0]
    described = ";".join(f"{c}:{t}" for c, t in types.items())
    return hashlib.sha256(f"{described}|{rows}|{total}".encode()).hexdigest()


def _storage_type(values: pd.Series, column: str) -> str:
    """The DuckDB type a column is stored as; None-only columns take their type from later batches."""
    if column == "__date":
        return "DATE"
    if column == "__ts":
        return "TIMESTAMP"
    if column == "__person":  # whole-number ids stay numbers: far cheaper to store than their text
        return "BIGINT" if pd.api.types.is_integer_dtype(values) else "VARCHAR"
    if values.isna().all():
        return "NULL"
    if pd.api.types.is_bool_dtype(values):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(values):
        return "BIGINT"
    if pd.api.types.is_numeric_dtype(values):
        return "DOUBLE"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "TIMESTAMP"
    return "VARCHAR"


def _create_table(con, table: str, types: dict[str, str]) -> None:
    parts = []
    for column, kind in types.items():
        parts.append(f"{ident(column)} {'VARCHAR' if kind == 'NULL' else kind}")
    parts.append("__batch INTEGER NOT NULL")
    con.execute(f"CREATE TABLE {ident(table)} ({', '.join(parts)})")


def _table_columns(con, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {ident(table)}").fetchall()]


def _fit_schema(con, current: DataSetInfo, frame: pd.DataFrame, types: dict[str, str]) -> list[str]:
    """Add new columns, widen BIGINT to DOUBLE, and refuse a column whose values changed kind."""
    notices = []
    table = ident(current.raw_table)
    stored = dict(_table_columns(con, current.raw_table))
    for column, kind in types.items():
        if column == "__person" and stored.get(column) == "BIGINT" and kind == "VARCHAR":
            con.execute(f"ALTER TABLE {table} ALTER COLUMN __person TYPE VARCHAR")  # ids became text: keep both
            continue
        if column not in stored:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {ident(column)} {'VARCHAR' if kind == 'NULL' else kind}")
            notices.append(f"new column {quoted(column)}: earlier batches have no values for it")
            continue
        have = stored[column]
        # numbers and flags read as text are harmless; text or times where numbers were is not
        if kind in ("NULL", have) or (have == "DOUBLE" and kind == "BIGINT") or (have == "VARCHAR" and kind != "TIMESTAMP"):
            continue
        if have == "BIGINT" and kind == "DOUBLE":
            con.execute(f"ALTER TABLE {table} ALTER COLUMN {ident(column)} TYPE DOUBLE")
            continue
        empty = one(con, f"SELECT count({ident(column)}) FROM {table}")[0] == 0
        if empty:
            con.execute(f"ALTER TABLE {table} ALTER COLUMN {ident(column)} TYPE {kind}")
            continue
        example = frame[column].dropna().iloc[0]
        raise DataError(
            f"column {quoted(column)} of data set {quoted(current.name)} holds {_type_words(have)} in earlier "
            f"batches but {_type_words(kind)} in this one (e.g. {quoted(example)}); fix the export so the "
            "column keeps one kind of value"
        )
    absent = [c for c in stored if c not in frame.columns and c != "__batch"]
    if absent:
        notices.append(f"this batch has no column {column_list(absent)}; its rows have no values there")
    return notices


def _type_words(kind: str) -> str:
    return {"VARCHAR": "text", "DOUBLE": "numbers", "BIGINT": "whole numbers", "BOOLEAN": "true/false values",
            "TIMESTAMP": "timestamps", "DATE": "dates"}.get(kind, kind.lower())


def _restate(con, table: str, shape: str, scope: list[str]) -> int:
    """Delete earlier rows on the batch's dates (within its scope columns); returns how many."""
    outer = ident(table)  # qualified: inside the subquery a bare __date would mean the batch's own
    day = f"CAST({outer}.__ts AS DATE)" if shape == "events" else f"{outer}.__date"
    incoming_day = "CAST(i.__ts AS DATE)" if shape == "events" else "CAST(i.__date AS DATE)"
    match = [f"{incoming_day} = {day}"] + [f"i.{ident(c)} IS NOT DISTINCT FROM {outer}.{ident(c)}" for c in scope]
    where = f"EXISTS (SELECT 1 FROM incoming_batch i WHERE {' AND '.join(match)})"
    (n,) = one(con, f"SELECT count(*) FROM {ident(table)} WHERE {where}")
    if n:
        con.execute(f"DELETE FROM {ident(table)} WHERE {where}")
    return int(n)


def _next_batch(con, name: str) -> int:
    (last,) = one(con, "SELECT coalesce(max(batch), 0) FROM batches WHERE dataset = ?", [name])
    return int(last) + 1


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def _record_batch(con, name, batch, prepared: PreparedBatch, digest, label, restatement, replaced) -> None:
    con.execute(
        "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [name, batch, digest, len(prepared.frame), label, restatement, replaced,
         prepared.first_date.date(), prepared.last_date.date(), _now()],
    )


def _record_dataset(con, name, kind, shape, table, options, columns, notices, *, new: bool) -> None:
    (n,) = one(con, f"SELECT count(*) FROM {ident(table)}")
    names = [c for c, _ in columns]
    types = [t for _, t in columns]
    if new:
        con.execute(
            "INSERT INTO batched_datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [name, kind, shape, table, json.dumps(options), names, types, n, _now(), _now(), list(notices)],
        )
    else:
        con.execute(
            "UPDATE batched_datasets SET options = ?, columns = ?, column_types = ?, rows = ?, updated_at = ?, "
            "notices = ? WHERE name = ?",
            [json.dumps(options), names, types, n, _now(), list(notices), name],
        )
