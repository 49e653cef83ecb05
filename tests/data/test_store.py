"""HarmonizedStore on real DuckDB files: round trips, catalogue, atomic writes, separate processes."""
import subprocess
import sys
import textwrap

import duckdb
import numpy as np
import pandas as pd
import pytest

import mediamix.data.store as store_module
from mediamix.data import Cadence, HarmonizedStore, harmonize_summary
from mediamix.errors import DataError, NotFoundError

from .helpers import weekly


@pytest.fixture
def store(tmp_path):
    return HarmonizedStore(tmp_path / "work" / "harmonized.duckdb")


def _national():
    tv = np.array([1.5, np.nan, 3.25, 0.0, 1e9])
    frame = weekly(5, start="2022-01-07", tv=tv, revenue=[10.0, 20, 30, 40, 50], event=["a", None, "b", "a", "c"])
    frame.insert(0, "Unnamed: 0", range(5))
    return harmonize_summary(frame)


def _panel():
    a = weekly(3, tv=[1.0, 2, 3], name=["x", "y", "z"]).assign(geo="north")
    b = weekly(3, tv=[4.0, 5, 6], name=["p", "q", "r"]).assign(geo="south")
    return harmonize_summary(pd.concat([b, a]))


def test_round_trip_national(store):
    data = _national()
    store.put("spend", data, source="spend.csv")
    back = store.get("spend")
    assert back == data
    pd.testing.assert_frame_equal(back.frame, data.frame)
    assert list(back.frame.columns) == ["date", "tv", "revenue", "event"]
    assert back.cadence == Cadence("week", "Friday")
    assert back.notices == data.notices and len(back.notices) == 1


def test_round_trip_panel(store):
    data = _panel()
    store.put("panel", data, source="panel.csv")
    back = store.get("panel")
    pd.testing.assert_frame_equal(back.frame, data.frame)
    assert back.geo_column_present and back.geos == ["north", "south"]


def test_storage_is_one_tidy_table(store):
    data = _national()
    store.put("spend", data, source="spend.csv")
    with duckdb.connect(str(store.path), read_only=True) as con:
        rows = con.execute(
            "SELECT field, count(*), count(value_num), count(value_str) FROM summary_values "
            "WHERE dataset = 'spend' GROUP BY field ORDER BY field"
        ).fetchall()
        geo_nulls = con.execute("SELECT count(*) FROM summary_values WHERE geo IS NULL").fetchone()[0]
    # every cell is a row; missing cells are stored as NULL so the shape survives
    assert rows == [("event", 5, 0, 4), ("revenue", 5, 5, 0), ("tv", 5, 4, 0)]
    assert geo_nulls == 15


def test_list_exists_delete(store):
    assert store.list().empty and not store.exists("spend")
    store.put("spend", _national(), source="spend.csv")
    store.put("panel", _panel(), source="panel.csv")
    listing = store.list()
    assert listing["name"].tolist() == ["panel", "spend"]
    spend = listing.set_index("name").loc["spend"]
    assert spend["kind"] == "summary" and spend["source"] == "spend.csv"
    assert spend["cadence_unit"] == "week" and spend["cadence_anchor"] == "Friday"
    assert spend["rows"] == 5 and spend["columns"] == ["date", "tv", "revenue", "event"]
    assert spend["notices"] == ["dropped column 'Unnamed: 0' (a saved row index)"]
    assert isinstance(spend["loaded_at"], pd.Timestamp)
    assert store.exists("spend")
    store.delete("spend")
    assert not store.exists("spend") and store.list()["name"].tolist() == ["panel"]


def test_replace_and_create_modes(store):
    store.put("spend", _national(), source="a.csv")
    store.put("spend", _panel(), source="b.csv")
    assert store.get("spend") == _panel()
    assert store.list()["source"].tolist() == ["b.csv"]
    with pytest.raises(DataError, match="already exists.*mode='replace'"):
        store.put("spend", _national(), source="c.csv", mode="create")
    with pytest.raises(DataError, match="mode 'append' is not one of"):
        store.put("spend", _national(), source="c.csv", mode="append")


def test_unknown_name_lists_available(store):
    with pytest.raises(NotFoundError, match="has no data sets yet"):
        store.get("nope")
    store.put("spend", _national(), source="a.csv")
    store.put("panel", _panel(), source="b.csv")
    with pytest.raises(NotFoundError, match="no data set named 'nope'; available data sets: 'panel', 'spend'"):
        store.get("nope")
    with pytest.raises(NotFoundError, match="available data sets"):
        store.delete("nope")


def test_names_are_parameters_not_sql(store):
    name = "it's \"odd\"; DROP TABLE datasets; --"
    store.put(name, _national(), source="x'); DELETE FROM datasets; --")
    assert store.get(name) == _national()
    assert store.list()["name"].tolist() == [name]


def test_failed_put_leaves_store_unchanged(store, monkeypatch):
    store.put("spend", _national(), source="old.csv")

    def fail(con, record):
        raise RuntimeError("disk full (simulated) after the values were written")

    monkeypatch.setattr(store_module, "_record_dataset", fail)
    with pytest.raises(RuntimeError, match="simulated"):
        store.put("spend", _panel(), source="new.csv")
    with pytest.raises(RuntimeError, match="simulated"):
        store.put("fresh", _panel(), source="new.csv")
    monkeypatch.undo()
    assert store.get("spend") == _national()
    assert store.list()["name"].tolist() == ["spend"]
    with duckdb.connect(str(store.path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM summary_values WHERE dataset = 'fresh'").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM summary_values").fetchone()[0] == 15


def test_put_needs_summary_data(store):
    with pytest.raises(DataError, match="put needs SummaryData"):
        store.put("x", pd.DataFrame({"a": [1]}), source="x")
    with pytest.raises(DataError, match="non-empty text"):
        store.put("  ", _national(), source="x")


def _scores():
    return pd.DataFrame(
        {
            "date": pd.date_range("2022-01-03", periods=4, freq="7D").astype("datetime64[ns]"),
            "channel": pd.Series(["tv", "tv", None, "search"], dtype="str"),
            "contribution": [1.5, np.nan, 3.0, -2.0],
            "draws": np.array([1, 2, 3, 4], dtype=np.int64),
            "flag": [True, False, True, False],
            "maybe": pd.array([1, None, 3, 4], dtype="Int64"),
            "level": pd.Categorical(["lo", "hi", "lo", "hi"]),
        }
    ).iloc[[3, 1, 0, 2]].reset_index(drop=True)


def test_table_round_trip_keeps_dtypes_and_row_order(store):
    scores = _scores()
    store.put_table("scores_demo", scores)
    pd.testing.assert_frame_equal(store.get_table("scores_demo"), scores)
    assert store.table_exists("scores_demo")
    listing = store.list_tables()
    assert listing["name"].tolist() == ["scores_demo"] and listing["rows"].tolist() == [4]


def test_table_round_trip_with_index(store):
    scores = _scores().set_index(["date", "channel"])
    store.put_table("by_key", scores)
    pd.testing.assert_frame_equal(store.get_table("by_key"), scores)
    unnamed = _scores().set_index(pd.Index([10, 20, 30, 40]))
    store.put_table("unnamed_index", unnamed)
    pd.testing.assert_frame_equal(store.get_table("unnamed_index"), unnamed)


def test_table_replace_delete_and_not_found(store):
    store.put_table("t1", _scores())
    store.put_table("t1", _scores().head(1))
    assert len(store.get_table("t1")) == 1
    with pytest.raises(DataError, match="already exists"):
        store.put_table("t1", _scores(), mode="create")
    store.put_table("t2", _scores())
    store.delete_table("t1")
    with pytest.raises(NotFoundError, match="no table named 't1'.*available tables: 't2'"):
        store.get_table("t1")
    with pytest.raises(NotFoundError):
        store.delete_table("t1")


def test_failed_put_table_leaves_store_unchanged(store, monkeypatch):
    store.put_table("scores", _scores())
    monkeypatch.setattr(store_module, "_record_table", lambda con, record: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        store.put_table("scores", _scores().head(1))
    monkeypatch.undo()
    pd.testing.assert_frame_equal(store.get_table("scores"), _scores())


def test_table_names_and_columns_checked(store):
    with pytest.raises(DataError, match="table name .* is not allowed"):
        store.put_table('x"; DROP TABLE datasets; --', _scores())
    with pytest.raises(DataError, match="differ only by case"):
        store.put_table("t", pd.DataFrame({"a": [1], "A": [2]}))
    with pytest.raises(DataError, match="column names must be non-empty text"):
        store.put_table("t", pd.DataFrame({0: [1]}))
    with pytest.raises(DataError, match="column 'a' mixes value types"):
        store.put_table("t", pd.DataFrame({"a": pd.Series([1, "x"], dtype=object)}))
    with pytest.raises(DataError, match="put_table needs a pandas DataFrame"):
        store.put_table("t", [1, 2])


def test_not_a_duckdb_file(tmp_path):
    path = tmp_path / "junk.duckdb"
    path.write_text("not a database")
    with pytest.raises(DataError, match="not a readable mediamix store"):
        HarmonizedStore(path).list()


def test_separate_processes_use_the_file_in_turn(store):
    store.put("spend", _national(), source="main process")
    script = textwrap.dedent(
        f"""
        from mediamix.data import HarmonizedStore
        store = HarmonizedStore({str(store.path)!r})
        data = store.get("spend")
        store.put("copy", data, source="child process")
        print(len(data.frame))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "5"
    assert store.get("copy") == _national()
    assert store.list().set_index("name").loc["copy", "source"] == "child process"
