"""The registry's database fixtures (SQLite, and PostgreSQL when configured), plus a queue."""
import pytest

from mediamix.jobs import JobQueue
from tests.registry.conftest import clock, db_url, postgres_url, registry  # noqa: F401  (shared fixtures)


@pytest.fixture
def queue(registry):  # noqa: F811
    return JobQueue(registry)
