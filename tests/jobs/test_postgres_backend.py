"""The tests in this folder run on SQLite, and on PostgreSQL too when MEDIAMIX_TEST_PG_URL is set."""
from tests.registry.databases import check_postgres_server


def test_postgresql_backend_is_reachable_or_skipped_with_the_reason():
    check_postgres_server()
