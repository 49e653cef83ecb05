"""Tables of the harmonizing layer (batched data sets, fields, rules, definitions, sync results).

Created with the store's own tables on every write, so an older store file gains them on its
next write; readers check for a table before using it. `revision` counts changes to data,
rules, fields and merge preferences, so a harmonized view built at an older revision is stale.
"""
from __future__ import annotations

from mediamix.data.sql import one

HARMONIZE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS batched_datasets (
        name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, shape VARCHAR NOT NULL,
        raw_table VARCHAR NOT NULL, options VARCHAR NOT NULL, columns VARCHAR[] NOT NULL,
        column_types VARCHAR[] NOT NULL, rows BIGINT NOT NULL, created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL, notices VARCHAR[] NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS batches (
        dataset VARCHAR NOT NULL, batch INTEGER NOT NULL, content_hash VARCHAR NOT NULL,
        rows BIGINT NOT NULL, source VARCHAR, restatement VARCHAR NOT NULL, replaced_rows BIGINT NOT NULL,
        first_date DATE, last_date DATE, loaded_at TIMESTAMP NOT NULL, PRIMARY KEY (dataset, batch))""",
    """CREATE TABLE IF NOT EXISTS fields (
        name VARCHAR PRIMARY KEY, role VARCHAR NOT NULL, kind VARCHAR NOT NULL, unit VARCHAR NOT NULL,
        formula VARCHAR, description VARCHAR NOT NULL, builtin BOOLEAN NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS rules (
        dataset VARCHAR NOT NULL, name VARCHAR NOT NULL, status VARCHAR NOT NULL, spec VARCHAR NOT NULL,
        updated_at TIMESTAMP NOT NULL, PRIMARY KEY (dataset, name))""",
    """CREATE TABLE IF NOT EXISTS merge_preferences (
        metric VARCHAR NOT NULL, channel VARCHAR NOT NULL, preference VARCHAR NOT NULL,
        PRIMARY KEY (metric, channel))""",
    """CREATE TABLE IF NOT EXISTS definitions (
        kind VARCHAR NOT NULL, name VARCHAR NOT NULL, spec VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (kind, name))""",
    """CREATE TABLE IF NOT EXISTS sync_runs (
        sync_id INTEGER PRIMARY KEY, finished_at TIMESTAMP NOT NULL, revision BIGINT NOT NULL,
        unit VARCHAR NOT NULL, week_start VARCHAR, first_date DATE, last_date DATE, rows BIGINT NOT NULL,
        dimensions VARCHAR[] NOT NULL, notices VARCHAR[] NOT NULL, seconds DOUBLE NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS quality_issues (
        sync_id INTEGER NOT NULL, severity VARCHAR NOT NULL, check_name VARCHAR NOT NULL,
        subject VARCHAR NOT NULL, message VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS quality_coverage (
        sync_id INTEGER NOT NULL, subject VARCHAR NOT NULL, role VARCHAR NOT NULL, metric VARCHAR NOT NULL,
        unit VARCHAR NOT NULL, first_date DATE, last_date DATE, periods BIGINT NOT NULL,
        gaps BIGINT NOT NULL, zero_periods BIGINT NOT NULL, total DOUBLE)""",
)


def revision(con) -> int:
    row = one(con, "SELECT value FROM store_meta WHERE key = 'revision'")
    return int(row[0]) if row else 0


def bump_revision(con) -> int:
    """Count one more change to what the harmonized view is built from."""
    new = revision(con) + 1
    con.execute(
        "INSERT INTO store_meta VALUES ('revision', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [str(new)],
    )
    return new


def has_table(con, table: str) -> bool:
    if con is None:
        return False
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'", [table]
    ).fetchall()
    return found[0][0] > 0
