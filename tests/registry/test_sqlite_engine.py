"""What the SQLite engine must guarantee: foreign keys on for every connection, files created
where asked, and concurrent writers that wait for each other instead of failing."""
import threading

from sqlalchemy import text

from mediamix.registry import Registry
from mediamix.registry.engine import database_url


def test_paths_and_urls():
    assert database_url("sqlite:////data/r.db").render_as_string() == "sqlite:////data/r.db"
    assert database_url("postgresql+psycopg://u@h/db").get_backend_name() == "postgresql"
    assert database_url(":memory:").database == ":memory:"


def test_a_plain_path_creates_its_folders(tmp_path):
    target = tmp_path / "workspace" / "nested" / "registry.db"
    registry = Registry(target)
    try:
        registry.create_model("brand", conversion="sales", spec_yaml="x: 1")
        assert target.is_file()
        assert Registry(str(target)).get_model("brand").name == "brand"
    finally:
        registry.close()


def test_foreign_keys_are_on_for_every_pooled_connection(tmp_path):
    registry = Registry(tmp_path / "r.db")
    try:
        with registry.engine.connect() as first, registry.engine.connect() as second:
            assert first.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert second.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        registry.close()


def test_an_in_memory_registry_keeps_its_data_across_calls():
    registry = Registry(":memory:")
    registry.create_model("brand", conversion="sales", spec_yaml="x: 1")
    assert [m.name for m in registry.list_models()] == ["brand"]


def test_concurrent_writers_wait_instead_of_failing(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    Registry(url).close()
    errors = []

    def create_many(prefix):
        registry = Registry(url)
        try:
            for i in range(15):
                registry.create_model(f"{prefix}{i}", conversion="sales", spec_yaml="x: 1")
                run_id = registry.start_run(f"{prefix}{i}", "train", {})
                registry.finish_run(run_id, "Success", None, None, None)
        except Exception as exc:  # "database is locked" would land here
            errors.append(exc)
        finally:
            registry.close()

    threads = [threading.Thread(target=create_many, args=(p,)) for p in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(Registry(url).list_models()) == 30
