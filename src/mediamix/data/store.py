"""HarmonizedStore: harmonized data sets and plain tables in one DuckDB file.

Summary data sets put whole (SummaryData) live in one tidy table (dataset, date, geo, field,
value_num, value_str) with a `datasets` catalogue; data sets loaded in batches (summary rows,
experience events, conversions, factors: see datasets.py) keep their rows in a table each, listed
in `batched_datasets`. Other tables (scores, ...) are stored as DuckDB tables listed in
`stored_tables`. Every write is one transaction, so a failed write leaves the store as it was.
A connection is opened per operation so separate processes can use the file in turn.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from mediamix.data.cadence import Cadence
from mediamix.data.messages import column_list, quoted, show
from mediamix.data.schema import HARMONIZE_SCHEMA, bump_revision, has_table
from mediamix.data.sql import register, unregister
from mediamix.data.summary import SummaryData
from mediamix.errors import DataError, MediamixError, NotFoundError

SCHEMA_VERSION = "1"
MODES = ("replace", "create")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_ROW = "__mediamix_row__"  # ordinal column so stored tables come back in their original row order
_LOCK_WAIT_SECONDS = 10.0

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS datasets (
        name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, source VARCHAR,
        cadence_unit VARCHAR NOT NULL, cadence_anchor VARCHAR, geo_present BOOLEAN NOT NULL,
        rows BIGINT NOT NULL, columns VARCHAR[] NOT NULL, column_types VARCHAR[] NOT NULL,
        loaded_at TIMESTAMP NOT NULL, notices VARCHAR[] NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS summary_values (
        dataset VARCHAR NOT NULL, date DATE NOT NULL, geo VARCHAR, field VARCHAR NOT NULL,
        value_num DOUBLE, value_str VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS stored_tables (
        name VARCHAR PRIMARY KEY, table_name VARCHAR NOT NULL, rows BIGINT NOT NULL,
        columns VARCHAR[] NOT NULL, dtypes VARCHAR[] NOT NULL, index_columns VARCHAR[] NOT NULL,
        layout VARCHAR NOT NULL, stored_at TIMESTAMP NOT NULL)""",
) + HARMONIZE_SCHEMA
LIST_COLUMNS = [
    "name", "kind", "source", "cadence_unit", "cadence_anchor", "geo_present", "rows", "columns",
    "loaded_at", "notices",
]
TABLE_LIST_COLUMNS = ["name", "rows", "columns", "stored_at"]


class HarmonizedStore:
    """Harmonized data sets and tables in the DuckDB file at `path` (created on first write)."""

    def __init__(self, path):
        self.path = Path(path)
        self._session = None  # the connection of an open session(), shared by the operations inside it
        self._session_failed = False

    def __repr__(self) -> str:
        return f"HarmonizedStore({str(self.path)!r})"

    # ---- summary data sets -------------------------------------------------------------------

    def put(self, name: str, data: SummaryData, *, source: str, mode: str = "replace") -> None:
        """Store `data` under `name`; mode 'replace' overwrites a data set of that name, 'create' refuses."""
        name = _dataset_name(name)
        if not isinstance(data, SummaryData):
            raise DataError(f"put needs SummaryData (from harmonize_summary), got {type(data).__name__}")
        _check_mode(mode)
        values = _tidy_values(name, data)
        record = _dataset_record(name, data, source)
        with self._write() as con:
            _refuse_batched(con, name)
            if _has_dataset(con, name) and mode == "create":
                raise DataError(
                    f"data set {quoted(name)} already exists in {quoted(str(self.path))}; pass "
                    "mode='replace' to overwrite it, or choose another name"
                )
            con.execute("DELETE FROM summary_values WHERE dataset = ?", [name])
            con.execute("DELETE FROM datasets WHERE name = ?", [name])
            register(con, "incoming_values", values)
            con.execute(
                "INSERT INTO summary_values SELECT dataset, CAST(date AS DATE), geo, field, value_num, "
                "value_str FROM incoming_values"
            )
            unregister(con, "incoming_values")
            _record_dataset(con, record)
            bump_revision(con)

    def get(self, name: str) -> SummaryData:
        """The data set stored under `name`, as it was put (rows sorted by date, then geo).

        A batched summary data set comes back harmonized (one row per date, and geo) when its rows
        allow; other batched kinds are read through the harmonized view instead.
        """
        with self._read() as con:
            if con is not None and _is_batched(con, name):
                from mediamix.data.datasets import batched_summary

                return batched_summary(con, name)
            row = None if con is None else con.execute(
                "SELECT cadence_unit, cadence_anchor, geo_present, columns, column_types, notices "
                "FROM datasets WHERE name = ?",
                [name],
            ).fetchone()
            if row is None:
                raise NotFoundError(self._missing_dataset(con, name))
            values = con.execute(
                "SELECT date, geo, field, value_num, value_str FROM summary_values WHERE dataset = ?",
                [name],
            ).df()
        unit, anchor, geo_present, columns, column_types, notices = row
        frame = _from_tidy(values, list(columns), list(column_types), geo_present)
        return SummaryData(frame, Cadence(unit, anchor), bool(geo_present), tuple(notices))

    def exists(self, name: str) -> bool:
        with self._read() as con:
            return con is not None and (_has_dataset(con, name) or _is_batched(con, name))

    def list(self) -> pd.DataFrame:
        """One row per data set: name, kind, source, cadence, rows, columns, loaded_at, notices, batches."""
        with self._read() as con:
            if con is None:
                return pd.DataFrame(columns=LIST_COLUMNS + ["batches"])
            listing = con.execute(
                f"SELECT {', '.join(LIST_COLUMNS)}, 1 AS batches FROM datasets ORDER BY name"
            ).df()
            if has_table(con, "batched_datasets"):
                from mediamix.data.datasets import batched_listing

                batched = batched_listing(con)
                if len(batched):
                    listing = pd.concat([listing, batched[listing.columns]], ignore_index=True)
                    listing = listing.sort_values("name", kind="stable").reset_index(drop=True)
        for column in ("columns", "notices"):
            listing[column] = listing[column].map(list)
        return listing

    def delete(self, name: str) -> None:
        """Remove a data set (put whole or batched) with its rows, batches and rules."""
        with self._write() as con:
            if _is_batched(con, name):
                from mediamix.data.datasets import delete_batched

                delete_batched(con, name)
            elif not _has_dataset(con, name):
                raise NotFoundError(self._missing_dataset(con, name))
            con.execute("DELETE FROM summary_values WHERE dataset = ?", [name])
            con.execute("DELETE FROM datasets WHERE name = ?", [name])
            con.execute("DELETE FROM rules WHERE dataset = ?", [name])
            bump_revision(con)

    # ---- transactions for the other modules of mediamix.data -----------------------------------

    def transaction(self):
        """A connection inside one transaction (schema ensured): committed at the end, rolled back on error."""
        return self._write()

    def reading(self):
        """A read-only connection, or None while the store file or its tables do not exist yet."""
        return self._read()

    @contextmanager
    def session(self):
        """Run many operations on one connection and in one transaction: all of them commit, or none.

        Opening a DuckDB file costs tens of milliseconds, so a setup of many small steps (rules,
        definitions, a sync) is faster inside a session. A failed operation fails the session,
        even if the error is caught inside it, so a half-done step can never be committed.
        """
        if self._session is not None:
            yield self
            return
        with self._write() as con:
            self._session, self._session_failed = con, False
            try:
                yield self
                if self._session_failed:
                    raise MediamixError(
                        "an operation inside the session failed, so nothing of the session was written; fix the "
                        "problem and run the steps again"
                    )
            finally:
                self._session = None

    # ---- plain tables (scores and other derived frames) --------------------------------------

    def put_table(self, name: str, df: pd.DataFrame, *, mode: str = "replace") -> None:
        """Store a DataFrame as table `name` (letters, digits, _ . -); its dtypes and index come back on get."""
        name = _table_name(name)
        _check_mode(mode)
        prepared, index_columns, layout, dtypes = _prepare_table(df)
        table = f'"t_{name}"'  # safe to quote: the name pattern excludes quotes
        with self._write() as con:
            exists = _has_table(con, name)
            if exists and mode == "create":
                raise DataError(
                    f"table {quoted(name)} already exists; pass mode='replace' to overwrite it"
                )
            con.execute(f"DROP TABLE IF EXISTS {table}")
            register(con, "incoming_table", prepared)
            try:
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM incoming_table")
            except duckdb.Error as exc:
                raise DataError(
                    f"table {quoted(name)} could not be stored: {exc}; give each column one plain type "
                    "(numbers, text, dates or booleans)"
                ) from None
            unregister(con, "incoming_table")
            _record_table(
                con,
                [name, f"t_{name}", len(df), [str(c) for c in df.columns], dtypes, index_columns,
                 json.dumps(layout), _now()],
            )

    def get_table(self, name: str) -> pd.DataFrame:
        with self._read() as con:
            row = None if con is None else con.execute(
                "SELECT table_name, columns, dtypes, index_columns, layout FROM stored_tables "
                "WHERE name = ?",
                [name],
            ).fetchone()
            if row is None:
                raise NotFoundError(self._missing_table(con, name))
            table_name, columns, dtypes, index_columns, layout = row
            df = con.execute(f'SELECT * FROM "{table_name}" ORDER BY {_ROW}').df()
        return _restore_table(df, list(columns), list(dtypes), list(index_columns), json.loads(layout))

    def list_tables(self) -> pd.DataFrame:
        with self._read() as con:
            if con is None:
                return pd.DataFrame(columns=TABLE_LIST_COLUMNS)
            listing = con.execute(
                f"SELECT {', '.join(TABLE_LIST_COLUMNS)} FROM stored_tables ORDER BY name"
            ).df()
        listing["columns"] = listing["columns"].map(list)
        return listing

    def table_exists(self, name: str) -> bool:
        with self._read() as con:
            return con is not None and _has_table(con, name)

    def delete_table(self, name: str) -> None:
        with self._write() as con:
            if not _has_table(con, name):
                raise NotFoundError(self._missing_table(con, name))
            (table_name,) = con.execute(
                "SELECT table_name FROM stored_tables WHERE name = ?", [name]
            ).fetchone()
            con.execute(f'DROP TABLE IF EXISTS "{table_name}"')
            con.execute("DELETE FROM stored_tables WHERE name = ?", [name])

    # ---- connections ----------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction: committed when the block ends, rolled back on error."""
        if self._session is not None:
            try:
                yield self._session
            except BaseException:
                self._session_failed = True
                raise
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open(read_only=False)
        try:
            con.execute("BEGIN TRANSACTION")
            if not _schema_present(con):
                for statement in _SCHEMA:
                    con.execute(statement)
                con.execute(
                    "INSERT INTO store_meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
                    [SCHEMA_VERSION],
                )
            yield con
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass  # the original error matters more; DuckDB discards an unfinished transaction on close
            raise
        finally:
            con.close()

    @contextmanager
    def _read(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A read-only connection, or None when the store file does not exist yet."""
        if self._session is not None:
            yield self._session
            return
        if not self.path.exists():
            yield None
            return
        con = self._open(read_only=True)
        try:
            if not _has_relation(con, "datasets"):
                yield None
                return
            yield con
        finally:
            con.close()

    def _open(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        # Another process holding the file makes DuckDB refuse the lock; wait a little for it.
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise DataError(
                        f"{quoted(str(self.path))} is not a readable mediamix store ({exc}); point to "
                        "the workspace's DuckDB file"
                    ) from None
                if time.monotonic() > deadline:
                    raise MediamixError(
                        f"the store {quoted(str(self.path))} is in use by another process; try again "
                        "when it finishes"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except duckdb.Error as exc:
                raise DataError(
                    f"{quoted(str(self.path))} is not a readable mediamix store ({exc}); point to the "
                    "workspace's DuckDB file"
                ) from None

    # ---- messages ---------------------------------------------------------------------------------

    def _missing_dataset(self, con, name: str) -> str:
        names = [] if con is None else dataset_names(con)
        if not names:
            return (
                f"no data set named {quoted(name)}: the store {quoted(str(self.path))} has no data sets "
                "yet; load one with `mediamix data load FILE --name NAME`"
            )
        return f"no data set named {quoted(name)}; available data sets: {column_list(names)}"

    def _missing_table(self, con, name: str) -> str:
        names = [] if con is None else [
            r[0] for r in con.execute("SELECT name FROM stored_tables ORDER BY name").fetchall()
        ]
        available = column_list(names) if names else "none yet"
        return f"no table named {quoted(name)} in {quoted(str(self.path))}; available tables: {available}"


# ---- helpers: names, records ----------------------------------------------------------------------


RESERVED_NAMES = ("harmonized",)  # a ModelSpec's `data: harmonized` reads the defined touchpoints


def _dataset_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"a data set name must be non-empty text, got {name!r}")
    if name.strip().lower() in RESERVED_NAMES:
        raise DataError(f"{quoted(name.strip())} names the harmonized view; choose another name for a data set")
    return name.strip()


def _table_name(name) -> str:
    if not isinstance(name, str) or not _TABLE_NAME.match(name):
        raise DataError(
            f"table name {name!r} is not allowed; use up to 100 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise DataError(f"mode {quoted(mode)} is not one of {column_list(MODES)}")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


_SCHEMA_TABLES = tuple(re.search(r"EXISTS (\w+)", statement).group(1) for statement in _SCHEMA)


def _schema_present(con) -> bool:
    """True when every table of the schema exists: one query instead of a dozen CREATE IF NOT EXISTS."""
    names = ", ".join(f"'{t}'" for t in _SCHEMA_TABLES)
    (found,) = con.execute(
        f"SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name IN ({names})"
    ).fetchall()[0]
    return found == len(_SCHEMA_TABLES)


def _has_relation(con, table: str) -> bool:
    return has_table(con, table)


def _has_dataset(con, name: str) -> bool:
    return con.execute("SELECT count(*) FROM datasets WHERE name = ?", [name]).fetchone()[0] > 0


def _is_batched(con, name: str) -> bool:
    if not has_table(con, "batched_datasets"):
        return False
    return con.execute("SELECT count(*) FROM batched_datasets WHERE name = ?", [name]).fetchone()[0] > 0


def _refuse_batched(con, name: str) -> None:
    if _is_batched(con, name):
        (kind,) = con.execute("SELECT kind FROM batched_datasets WHERE name = ?", [name]).fetchone()
        raise DataError(
            f"data set {quoted(name)} holds batches of {kind} data; append to it with load_batch "
            "(`mediamix data load FILE --name NAME --kind KIND`), or choose another name"
        )


def dataset_names(con) -> list[str]:
    """Every data set name, put whole or batched, sorted."""
    names = [r[0] for r in con.execute("SELECT name FROM datasets").fetchall()]
    if has_table(con, "batched_datasets"):
        names += [r[0] for r in con.execute("SELECT name FROM batched_datasets").fetchall()]
    return sorted(names)


def _has_table(con, name: str) -> bool:
    if not _has_relation(con, "stored_tables"):
        return False
    return con.execute("SELECT count(*) FROM stored_tables WHERE name = ?", [name]).fetchone()[0] > 0


def _dataset_record(name: str, data: SummaryData, source: str) -> list:
    frame = data.frame
    return [
        name, "summary", str(source), data.cadence.unit, data.cadence.anchor, data.geo_column_present,
        len(frame), [str(c) for c in frame.columns], [str(t) for t in frame.dtypes], _now(),
        list(data.notices),
    ]


def _record_dataset(con, record: list) -> None:
    con.execute("INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", record)


def _record_table(con, record: list) -> None:
    con.execute("DELETE FROM stored_tables WHERE name = ?", [record[0]])
    con.execute("INSERT INTO stored_tables VALUES (?, ?, ?, ?, ?, ?, ?, ?)", record)


# ---- helpers: summary data <-> tidy rows ------------------------------------------------------------


def _tidy_values(name: str, data: SummaryData) -> pd.DataFrame:
    """Every cell of the metric columns as one row (missing cells too, so shapes survive)."""
    frame = data.frame
    keys = data.key_columns
    parts = []
    for columns, value_name in ((data.numeric_columns, "value_num"), (data.text_columns, "value_str")):
        if not columns:
            continue
        part = frame[keys + columns].melt(id_vars=keys, var_name="field", value_name=value_name)
        parts.append(part)
    if not parts:
        raise DataError(f"data set {quoted(name)} has no metric columns; there is nothing to store")
    tidy = pd.concat(parts, ignore_index=True)
    if "geo" not in tidy:
        tidy["geo"] = pd.Series(np.nan, index=tidy.index, dtype="str")
    for column, dtype in (("value_num", "float64"), ("value_str", "str")):
        if column not in tidy:
            tidy[column] = pd.Series(np.nan, index=tidy.index, dtype=dtype)
    tidy["value_num"] = tidy["value_num"].astype("float64")
    tidy["value_str"] = tidy["value_str"].astype("str")
    tidy.insert(0, "dataset", name)
    return tidy[["dataset", "date", "geo", "field", "value_num", "value_str"]]


def _from_tidy(values: pd.DataFrame, columns: list[str], types: list[str], geo_present: bool) -> pd.DataFrame:
    keys = ["date", "geo"] if geo_present else ["date"]
    values["date"] = values["date"].astype("datetime64[ns]")
    metrics = [c for c in columns if c not in keys]
    kinds = dict(zip(columns, types))
    wide = {}
    for field, rows in values.groupby("field", sort=False):
        source = "value_num" if _is_numeric_type(kinds[field]) else "value_str"
        wide[field] = rows.set_index(keys)[source]
    frame = pd.concat(wide, axis=1).sort_index().reset_index()
    frame = frame[keys + metrics]
    for column, dtype in kinds.items():
        if str(frame[column].dtype) != dtype:
            frame[column] = frame[column].astype(dtype)
    return frame


def _is_numeric_type(dtype: str) -> bool:
    try:
        return pd.api.types.is_numeric_dtype(pd.api.types.pandas_dtype(dtype))
    except TypeError:
        return False


# ---- helpers: plain tables --------------------------------------------------------------------------


def _prepare_table(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str], dict, list[str]]:
    """The frame as DuckDB will store it, its index columns, a layout record and each column's dtype.

    The index becomes leading columns, an ordinal column keeps row order, and the layout records
    index names and categorical categories (DuckDB returns enums as ordered categoricals).
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"put_table needs a pandas DataFrame, got {type(df).__name__}")
    bad = [c for c in df.columns if not isinstance(c, str) or not c]
    if bad:
        raise DataError(f"table column names must be non-empty text; found {show(list(bad[:5]))}")
    index = df.index
    plain_index = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None
    index_names = [] if plain_index else list(index.names)
    index_columns = [
        str(n) if n is not None else f"__index_level_{i}__" for i, n in enumerate(index_names)
    ]
    names = index_columns + list(df.columns)
    lowered: dict[str, str] = {}
    for column in names:
        if column.lower() in lowered:
            raise DataError(
                f"table columns {quoted(lowered[column.lower()])} and {quoted(column)} differ only by "
                "case (or clash with the index); DuckDB treats them as one: rename one"
            )
        lowered[column.lower()] = column
    if _ROW.lower() in lowered:
        raise DataError(f"column name {quoted(_ROW)} is reserved by the store; rename it")
    for column in df.columns:
        if df[column].dtype == object and pd.api.types.infer_dtype(df[column], skipna=True).startswith("mixed"):
            raise DataError(
                f"table column {quoted(column)} mixes value types (e.g. numbers and text); DuckDB would "
                "turn them all into text: convert the column to one type first"
            )
    prepared = df.reset_index(drop=plain_index)  # a copy: the caller's frame is left alone
    prepared.columns = names
    dtypes = [str(t) for t in prepared.dtypes]
    categories = {}
    for column in names:
        dtype = prepared[column].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            values = dtype.categories.tolist()
            if all(isinstance(v, (str, int, float)) for v in values):
                categories[column] = {"categories": values, "ordered": bool(dtype.ordered)}
    prepared.insert(0, _ROW, np.arange(len(prepared), dtype=np.int64))
    return prepared, index_columns, {"index_names": index_names, "categories": categories}, dtypes


def _restore_table(
    df: pd.DataFrame, columns: list[str], dtypes: list[str], index_columns: list[str], layout: dict
) -> pd.DataFrame:
    df = df.drop(columns=[_ROW])
    categories = layout.get("categories", {})
    for column, dtype in zip(df.columns, dtypes):
        if column in categories:
            spec = categories[column]
            df[column] = df[column].astype(pd.CategoricalDtype(spec["categories"], ordered=spec["ordered"]))
        elif str(df[column].dtype) != dtype:
            df[column] = df[column].astype(dtype)
    if index_columns:
        df = df.set_index(index_columns)
        df.index.names = layout["index_names"]
    else:
        df = df.reset_index(drop=True)
    return df[columns] if list(df.columns) != columns else df
