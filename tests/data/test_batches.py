"""Batched data sets on real DuckDB files: kinds, appends, restatement, idempotence, atomic batches."""
import duckdb
import numpy as np
import pandas as pd
import pytest

import mediamix.data.datasets as datasets_module
from mediamix.data import HarmonizedStore, SummaryData, harmonize_summary
from mediamix.data.datasets import dataset_rows, info, list_batches, load_batch
from mediamix.errors import DataError, MediamixError

from .helpers import weekly


@pytest.fixture
def store(tmp_path):
    return HarmonizedStore(tmp_path / "harmonized.duckdb")


def _ads(dates, spend, channels=("search", "social")):
    records = [{"date": d, "channel": c, "campaign": f"{c}_brand", "spend": s}
               for d, s in zip(dates, spend) for c in channels]
    return pd.DataFrame(records)


def _snapshot(store, name):
    """Everything a batch could change: stored rows, the batch list and the stored columns."""
    return dataset_rows(store, name).sort_values(list(dataset_rows(store, name).columns)).reset_index(drop=True), \
        list_batches(store, name)[["batch", "rows", "content_hash"]], info(store, name).columns


def test_four_kinds_are_registered_and_listed(store, tmp_path):
    load_batch(store, "ads", _ads(["2024-01-01", "2024-01-08"], [10.0, 20.0]))
    events = pd.DataFrame({"user_id": ["u1", "u2"], "timestamp": ["2024-01-01 09:30", "2024-01-02 23:59:59"],
                           "channel": ["search", "email"]})
    path = tmp_path / "events.parquet"
    events.to_parquet(path)
    load_batch(store, "web", path, kind="events")
    load_batch(store, "orders", pd.DataFrame({"date": ["2024-01-01"], "orders": [3], "revenue": [90.0]}),
               kind="conversions")
    load_batch(store, "shop", pd.DataFrame({"customer_id": [7], "ts": ["2024-01-03 10:00"], "revenue": [30.0]}),
               kind="conversions")
    load_batch(store, "macro", pd.DataFrame({"date": ["2024-01-01", "2024-01-08"], "price": [1.0, 1.1]}),
               kind="factors", factor_type="internal")
    listing = store.list().set_index("name")
    assert listing["kind"].to_dict() == {"ads": "summary", "macro": "factors", "orders": "conversions",
                                         "shop": "conversions", "web": "events"}
    assert listing.loc["web", "source"] == str(path.resolve())
    assert listing.loc["ads", "batches"] == 1 and listing.loc["ads", "rows"] == 4
    assert info(store, "shop").shape == "events" and info(store, "orders").shape == "dated"
    web = dataset_rows(store, "web")
    assert web["__ts"].tolist() == [pd.Timestamp("2024-01-01 09:30"), pd.Timestamp("2024-01-02 23:59:59")]
    assert web["__person"].tolist() == ["u1", "u2"]
    macro = dataset_rows(store, "macro")
    assert macro[["factor", "value", "factor_type", "value_type"]].values.tolist() == [
        ["price", 1.0, "internal", "actual"], ["price", 1.1, "internal", "actual"]]


def test_replace_restatement_replaces_rows_of_the_batch_dates(store):
    load_batch(store, "ads", _ads(["2024-01-01", "2024-01-08", "2024-01-15"], [10.0, 20.0, 30.0]))
    result = load_batch(store, "ads", _ads(["2024-01-15", "2024-01-22"], [35.0, 40.0]))
    assert result.replaced_rows == 2 and result.batch == 2 and not result.skipped
    stored = dataset_rows(store, "ads").groupby("__date")["spend"].sum()
    assert stored.to_dict() == {pd.Timestamp("2024-01-01"): 20.0, pd.Timestamp("2024-01-08"): 40.0,
                                pd.Timestamp("2024-01-15"): 70.0, pd.Timestamp("2024-01-22"): 80.0}
    assert list_batches(store, "ads")["replaced_rows"].tolist() == [0, 2]


def test_add_restatement_adds_to_rows_of_the_same_dates(store):
    load_batch(store, "ads", _ads(["2024-01-01", "2024-01-08"], [10.0, 20.0]), restatement="add")
    load_batch(store, "ads", _ads(["2024-01-08"], [5.0]))  # the data set's rule: add
    stored = dataset_rows(store, "ads").groupby("__date")["spend"].sum()
    assert stored.to_dict() == {pd.Timestamp("2024-01-01"): 20.0, pd.Timestamp("2024-01-08"): 50.0}


def test_restatement_can_be_scoped_by_columns(store):
    load_batch(store, "ads", _ads(["2024-01-01"], [10.0]), restate_by=["channel"])
    load_batch(store, "ads", _ads(["2024-01-01"], [99.0], channels=("search",)))
    stored = dataset_rows(store, "ads").set_index("channel")["spend"].to_dict()
    assert stored == {"search": 99.0, "social": 10.0}  # social was not in the restated batch


def test_loading_the_same_batch_twice_does_not_double_count(store, tmp_path):
    frame = _ads(["2024-01-01", "2024-01-08"], [10.0, 20.0])
    path = tmp_path / "ads.csv"
    frame.to_csv(path, index=False)
    load_batch(store, "ads", path, restatement="add")
    again = load_batch(store, "ads", path)
    assert again.skipped and again.batch == 1 and "already loaded" in again.describe()
    # the same rows in another order are the same batch
    shuffled = load_batch(store, "ads", frame.iloc[::-1].reset_index(drop=True))
    assert shuffled.skipped
    assert dataset_rows(store, "ads")["spend"].sum() == 60.0
    assert len(list_batches(store, "ads")) == 1


def test_a_bad_batch_leaves_the_store_as_it_was(store):
    load_batch(store, "ads", _ads(["2024-01-01", "2024-01-08"], [10.0, 20.0]))
    before = _snapshot(store, "ads")
    bad = _ads(["2024-01-15", "2024-13-40"], [1.0, 2.0])
    with pytest.raises(DataError, match=r"column 'date' has a value that is not a date: '2024-13-40' in data row 3"):
        load_batch(store, "ads", bad)
    with pytest.raises(DataError, match=r"column 'spend' of data set 'ads' holds numbers in earlier batches "
                                        r"but text in this one \(e\.g\. 'lots'\)"):
        load_batch(store, "ads", _ads(["2024-01-15"], ["lots"]))
    after = _snapshot(store, "ads")
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])
    assert before[2] == after[2]


def test_a_batch_failing_mid_write_is_rolled_back(store, monkeypatch):
    load_batch(store, "ads", _ads(["2024-01-01", "2024-01-08"], [10.0, 20.0]))
    before = _snapshot(store, "ads")

    def fail(*args, **kwargs):
        raise RuntimeError("disk full (simulated) after rows were deleted, altered and inserted")

    monkeypatch.setattr(datasets_module, "_record_batch", fail)
    restated = _ads(["2024-01-08", "2024-01-15"], [7.0, 8.0]).assign(clicks=[1, 2, 3, 4])
    with pytest.raises(RuntimeError, match="simulated"):
        load_batch(store, "ads", restated)
    with pytest.raises(RuntimeError, match="simulated"):
        load_batch(store, "fresh", restated)
    monkeypatch.undo()
    after = _snapshot(store, "ads")
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])
    assert "clicks" not in after[2]  # the added column was rolled back with the rows
    assert not store.exists("fresh")
    with duckdb.connect(str(store.path), read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert len([t for t in tables if t.startswith("raw_")]) == 1


def test_repeated_keys_are_refused_naming_date_and_count(store):
    frame = weekly(4, tv=[1.0, 2, 3, 4])
    frame = pd.concat([frame, frame.iloc[[2]].assign(tv=9.0)], ignore_index=True)
    with pytest.raises(DataError) as info_:
        load_batch(store, "wide", frame)
    message = str(info_.value)
    assert message.startswith("rows repeat the key ('date'): 2022-01-17 appears 2 times.")
    assert "key_columns=" in message and "never summed" in message
    ads = _ads(["2024-01-01"], [1.0]).assign(ad_id=[1, 1])
    ads = pd.concat([ads, ads.assign(ad_id=2)], ignore_index=True)
    with pytest.raises(DataError, match=r"2024-01-01 \(channel 'search', campaign 'search_brand'\) appears 2 times"):
        load_batch(store, "ads", ads)
    result = load_batch(store, "ads", ads, key_columns=["channel", "campaign", "ad_id"])
    assert result.rows == 4
    assert not store.exists("wide")


def test_event_batches_name_bad_rows(store):
    good = {"person_id": ["a", "b", "c"], "timestamp": ["2024-01-01 10:00", "2024-01-01 11:00", "2024-01-02"]}
    with pytest.raises(DataError, match=r"person id column 'person_id' is empty in 1 row \(data rows 2\)"):
        load_batch(store, "web", pd.DataFrame({**good, "person_id": ["a", None, "c"]}), kind="events")
    with pytest.raises(DataError, match=r"'yesterday' in data row 3"):
        load_batch(store, "web", pd.DataFrame({**good, "timestamp": ["2024-01-01", "2024-01-02", "yesterday"]}),
                   kind="events")
    with pytest.raises(DataError, match="does not guess epoch units"):
        load_batch(store, "web", pd.DataFrame({**good, "timestamp": [1704103200, 1704106800, 1704153600]}),
                   kind="events")
    with pytest.raises(DataError, match=r"no person id column found .*Pass person_column="):
        load_batch(store, "web", pd.DataFrame({"who": ["a"], "timestamp": ["2024-01-01"]}), kind="events")
    assert not store.exists("web")
    offsets = pd.DataFrame({"visitor": ["a", "b"], "when": ["2024-01-01T23:30:00+05:30", "2024-01-02 08:00"]})
    load_batch(store, "web", offsets, kind="events", timestamp_column="when", person_column="visitor")
    # wall-clock times as written, so the day of each event is the one the source meant
    assert dataset_rows(store, "web")["__ts"].tolist() == [pd.Timestamp("2024-01-01 23:30"), pd.Timestamp("2024-01-02 08:00")]


def test_factor_batches_long_wide_and_restated_per_factor(store):
    wide = pd.DataFrame({"date": ["2024-01-01", "2024-01-08"], "price": [1.0, 1.2], "promo": [0, 1]})
    load_batch(store, "factors", wide, kind="factors")
    long = pd.DataFrame({"date": ["2024-01-08", "2024-01-08"], "factor": ["price", "price"],
                         "value": [1.25, 1.3], "value_type": ["actual", "Forecast"], "type": ["internal", "internal"]})
    result = load_batch(store, "factors", long)
    assert result.replaced_rows == 1  # price actual on 01-08; promo on that date is another factor
    stored = dataset_rows(store, "factors").sort_values(["factor", "__date", "value_type"])
    assert stored[["factor", "value", "value_type"]].values.tolist() == [
        ["price", 1.0, "actual"], ["price", 1.25, "actual"], ["price", 1.3, "forecast"],
        ["promo", 0.0, "actual"], ["promo", 1.0, "actual"]]
    with pytest.raises(DataError, match=r"factor 'events' holds text \(e\.g\. 'launch'\), not numbers"):
        load_batch(store, "factors", pd.DataFrame({"date": ["2024-01-15"], "events": ["launch"]}))
    with pytest.raises(DataError, match=r"has value_type 'guess'; use one of 'actual' or 'forecast'"):
        load_batch(store, "factors", long.assign(value_type="guess"))


def test_kind_and_name_clashes(store):
    load_batch(store, "ads", _ads(["2024-01-01"], [1.0]))
    with pytest.raises(DataError, match="holds summary data; a batch of events data needs a data set of its own"):
        load_batch(store, "ads", pd.DataFrame({"person_id": [1], "ts": ["2024-01-01"]}), kind="events")
    with pytest.raises(DataError, match="kind 'clicks' is not one of"):
        load_batch(store, "x", _ads(["2024-01-01"], [1.0]), kind="clicks")
    with pytest.raises(DataError, match="restatement 'merge' is not one of"):
        load_batch(store, "x", _ads(["2024-01-01"], [1.0]), restatement="merge")
    with pytest.raises(DataError, match="'Harmonized' names the harmonized view; choose another name"):
        load_batch(store, "Harmonized", _ads(["2024-01-01"], [1.0]))
    with pytest.raises(DataError, match="unknown load option"):
        load_batch(store, "x", _ads(["2024-01-01"], [1.0]), date_col="date")
    whole = harmonize_summary(weekly(3, tv=[1.0, 2, 3]))
    store.put("whole", whole, source="w.csv")
    with pytest.raises(DataError, match="was loaded whole as one summary table"):
        load_batch(store, "whole", _ads(["2024-01-01"], [1.0]))
    with pytest.raises(DataError, match="holds batches of summary data"):
        store.put("ads", whole, source="w.csv")


def test_get_reads_a_wide_batched_summary_as_summary_data(store):
    load_batch(store, "wide", weekly(3, tv=[1.0, 2, 3], revenue=[5.0, 6, 7]))
    load_batch(store, "wide", weekly(2, start="2022-01-24", tv=[4.0, 5], revenue=[8.0, 9]))
    data = store.get("wide")
    assert isinstance(data, SummaryData) and data.cadence.unit == "week"
    assert data.frame["tv"].tolist() == [1.0, 2, 3, 4, 5]
    assert store.get("wide").national().frame.columns.tolist() == ["date", "tv", "revenue"]
    load_batch(store, "web", pd.DataFrame({"person_id": [1], "ts": ["2024-01-01"]}), kind="events")
    with pytest.raises(DataError, match="holds events; read it through the harmonized view"):
        store.get("web")
    load_batch(store, "ads", _ads(["2024-01-01"], [1.0]))
    with pytest.raises(DataError, match="cannot be read as one row per date"):
        store.get("ads")


def test_delete_drops_rows_batches_and_table(store):
    load_batch(store, "ads", _ads(["2024-01-01"], [1.0]))
    table = info(store, "ads").raw_table
    store.delete("ads")
    assert not store.exists("ads") and store.list().empty
    with duckdb.connect(str(store.path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM batches").fetchone()[0] == 0


def test_integer_periods_and_column_changes_across_batches(store):
    first = pd.DataFrame({"week": [1, 2], "sales": [10, 20]})
    with pytest.raises(DataError, match="time column 'week' is integer, not a date"):
        load_batch(store, "sales", first)
    load_batch(store, "sales", first, start_date="2024-01-01", frequency="W-MON")
    later = pd.DataFrame({"week": [1], "sales": [10.5], "returns": [1.0]})
    result = load_batch(store, "sales", later, start_date="2024-01-15")  # frequency remembered
    assert "new column 'returns': earlier batches have no values for it" in result.notices
    stored = dataset_rows(store, "sales").sort_values("__date")
    assert stored["__date"].tolist() == list(pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15"]))
    assert stored["sales"].tolist() == [10.0, 20.0, 10.5]  # whole numbers widened to decimals
    assert np.isnan(stored["returns"].iloc[0])


def test_a_session_writes_all_its_steps_or_none(store):
    with store.session():
        load_batch(store, "a", _ads(["2024-01-01"], [1.0]))
        load_batch(store, "b", _ads(["2024-01-01"], [2.0]))
        assert dataset_rows(store, "a")["spend"].sum() == 2.0  # reads inside the session see its writes
    assert store.exists("a") and store.exists("b")
    with pytest.raises(MediamixError, match="an operation inside the session failed, so nothing of the session was written"):
        with store.session():
            load_batch(store, "c", _ads(["2024-01-01"], [1.0]))
            try:
                load_batch(store, "c", _ads(["2024-01-08"], ["text"]))
            except DataError:
                pass  # caught, yet the session is spoiled: a half-done step is never committed
    assert not store.exists("c")
    with pytest.raises(DataError):
        with store.session():
            load_batch(store, "d", _ads(["2024-01-01"], [1.0]))
            load_batch(store, "d", _ads(["2024-13-01"], [1.0]))
    assert not store.exists("d") and store.list()["name"].tolist() == ["a", "b"]
