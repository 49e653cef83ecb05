"""Engines for the registry database: SQLite by default, PostgreSQL (or any SQLAlchemy URL) by URL."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import StaticPool

# Execution option that marks a connection as one that will write. On SQLite such a transaction
# starts with BEGIN IMMEDIATE: it takes the write lock first, so two processes doing
# read-check-write (claiming a job, finishing a run) queue up behind the busy timeout instead of
# both reading and one failing with "database is locked" when it tries to write.
WRITE_OPTION = "mediamix_write"

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def database_url(target: str | Path) -> URL:
    """A SQLAlchemy URL for `target`: a URL as given, or a filesystem path for a SQLite file."""
    text = str(target)
    if "://" in text:
        return make_url(text)
    if text == ":memory:":
        return URL.create("sqlite", database=":memory:")
    return URL.create("sqlite", database=str(Path(text).expanduser().resolve()))


def make_engine(target: str | Path) -> Engine:
    url = database_url(target)
    if url.get_backend_name() != "sqlite":
        # pre_ping: a team server restarts; a stale pooled connection should not fail a job.
        return create_engine(url, pool_pre_ping=True)
    return _make_sqlite_engine(url)


def _make_sqlite_engine(url: URL) -> Engine:
    connect_args: dict = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
    kwargs: dict = {}
    if url.database in (None, "", ":memory:"):
        # One shared connection, or every connection would see its own empty database.
        connect_args["check_same_thread"] = False
        kwargs["poolclass"] = StaticPool
    else:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Take transaction control from the sqlite3 module (it would BEGIN lazily, only before
        # the first write) so that the "begin" hook below decides how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Off by default in SQLite; without it ON DELETE CASCADE silently does nothing.
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        writing = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine
