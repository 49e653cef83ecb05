"""Creating the jobs table, and bringing a table made by an older mediamix up to date.

Older tables lack the run_id and result columns and allow only the states queued, running,
done and failed (in a CHECK constraint, on an 8-character state column). Both upgrades keep
every job: columns are added in place; the constraint is replaced in place on PostgreSQL, and
on SQLite (which cannot alter a constraint) by copying the rows into a freshly created table,
inside the caller's transaction, so a failed upgrade changes nothing.
"""
from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from mediamix.jobs.tables import JOB_STATES, JobRow, JobsBase

_NEW_COLUMNS = {"run_id": "INTEGER", "result": "VARCHAR(32)"}
_STATE_CHECK = f"state IN ({', '.join(repr(s) for s in JOB_STATES)})"
_OLD_TABLE = "jobs_before_upgrade"


def ensure_jobs_table(connection: Connection) -> None:
    """Create the jobs table if there is none; upgrade one made by an older version."""
    JobsBase.metadata.create_all(connection)
    if connection.dialect.name == "sqlite":
        _upgrade_sqlite(connection)
    elif connection.dialect.name == "postgresql":
        _upgrade_postgresql(connection)


def _missing_columns(connection: Connection) -> list[str]:
    present = {c["name"] for c in inspect(connection).get_columns(JobRow.__tablename__)}
    return [name for name in _NEW_COLUMNS if name not in present]


def _upgrade_sqlite(connection: Connection) -> None:
    sql = connection.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobs'")
    ).scalar_one()
    if all(f"'{s}'" in sql for s in JOB_STATES) and not _missing_columns(connection):
        return
    old_columns = [c["name"] for c in inspect(connection).get_columns("jobs")]
    connection.exec_driver_sql(f"ALTER TABLE jobs RENAME TO {_OLD_TABLE}")
    for index in JobRow.__table__.indexes:   # the renamed table keeps them, under the same names
        connection.exec_driver_sql(f'DROP INDEX IF EXISTS "{index.name}"')
    JobsBase.metadata.create_all(connection)
    columns = ", ".join(f'"{c}"' for c in old_columns if c in JobRow.__table__.columns)
    connection.exec_driver_sql(f"INSERT INTO jobs ({columns}) SELECT {columns} FROM {_OLD_TABLE}")
    connection.exec_driver_sql(f"DROP TABLE {_OLD_TABLE}")


def _upgrade_postgresql(connection: Connection) -> None:
    for name in _missing_columns(connection):
        connection.exec_driver_sql(f"ALTER TABLE jobs ADD COLUMN IF NOT EXISTS {name} {_NEW_COLUMNS[name]}")
    length = connection.execute(text(
        "SELECT character_maximum_length FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'jobs' AND column_name = 'state'"
    )).scalar()
    if length is not None and length < max(len(s) for s in JOB_STATES):
        connection.exec_driver_sql("ALTER TABLE jobs ALTER COLUMN state TYPE VARCHAR(16)")
    definition = connection.execute(text(
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "WHERE t.relname = 'jobs' AND t.relnamespace = current_schema()::regnamespace "
        "AND c.conname = 'ck_jobs_state'"
    )).scalar()
    if definition is None or not all(f"'{s}'" in definition for s in JOB_STATES):
        connection.exec_driver_sql("ALTER TABLE jobs DROP CONSTRAINT IF EXISTS ck_jobs_state")
        connection.exec_driver_sql(f"ALTER TABLE jobs ADD CONSTRAINT ck_jobs_state CHECK ({_STATE_CHECK})")
