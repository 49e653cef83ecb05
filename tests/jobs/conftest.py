import pytest

from mediamix.jobs import JobQueue
from mediamix.registry import Registry
from tests.registry.databases import BACKENDS, FakeClock, database_url, postgres_session_url


@pytest.fixture(scope="session")
def postgres_url():
    with postgres_session_url() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, postgres_url):
    with database_url(request.param, tmp_path, postgres_url) as url:
        yield url


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def registry(db_url, clock):
    reg = Registry(db_url, actor="tester", clock=clock)
    yield reg
    reg.close()


@pytest.fixture
def queue(registry):
    return JobQueue(registry)

