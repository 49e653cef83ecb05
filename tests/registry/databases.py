"""Databases the registry and jobs tests run against: a SQLite file always, and PostgreSQL when
MEDIAMIX_TEST_PG_URL names a server, e.g.
    MEDIAMIX_TEST_PG_URL=postgresql+psycopg://mediamix:mediamix@localhost:5432/mediamix_test
Each PostgreSQL test gets a schema of its own, dropped afterwards, so tests can run in parallel."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ENV = "MEDIAMIX_TEST_PG_URL"
PG_SKIP_REASON = f"PostgreSQL backend not run: set {PG_ENV} to a server URL (postgresql+psycopg://...)"
# Without a server the PostgreSQL variants are not generated at all (one placeholder test skips
# with the reason instead of every test), so a user's `make test` output stays readable.
BACKENDS = ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'registry.db'}"


@contextmanager
def sqlite_file_url(fallback: Path) -> Iterator[str]:
    """A real SQLite file, on the RAM filesystem when there is one: each commit's fsync costs
    ~10 ms on disk and ~1 ms there, which is most of these tests' run time."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield sqlite_url(fallback)
        return
    directory = Path(tempfile.mkdtemp(prefix="mediamix-test-", dir=shm))
    try:
        yield sqlite_url(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def postgres_schema_url(base_url: str) -> Iterator[str]:
    schema = f"mmtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def empty_postgres_schema(url: str) -> str:
    """Empty every table of the schema `url` points at, so a test starts from nothing.
    Much faster than a schema per test: creating tables and dropping a schema take ~0.2 s each."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            tables = connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars().all()
            if tables:
                names = ", ".join(f'"{t}"' for t in tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
    return url


@contextmanager
def postgres_session_url() -> Iterator[str | None]:
    """One schema per test process (pytest-xdist workers each get their own)."""
    base = os.environ.get(PG_ENV)
    if not base:
        yield None
        return
    with postgres_schema_url(base) as url:
        yield url


@contextmanager
def database_url(backend: str, directory: Path, postgres_url: str | None = None) -> Iterator[str]:
    if backend == "sqlite":
        with sqlite_file_url(directory) as url:
            yield url
        return
    if not postgres_url:
        pytest.skip(PG_SKIP_REASON)
    yield empty_postgres_schema(postgres_url)


def check_postgres_server() -> None:
    """The placeholder test: skips with the reason, or checks the server is PostgreSQL."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP_REASON)
    engine = create_engine(base)
    try:
        with engine.connect() as connection:
            assert connection.dialect.name == "postgresql"
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


class FakeClock:
    """The registry's clock in tests: a fixed UTC time that tests move on by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current
