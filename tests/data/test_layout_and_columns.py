"""Wide and long layouts, geo detection, column typing and leftover columns."""
import numpy as np
import pandas as pd
import pytest

from mediamix.data import harmonize_summary
from mediamix.errors import DataError

from .helpers import weekly


def _long_rows():
    """Long rows for 3 weeks, 2 channels x 2 metrics plus revenue without a channel, shuffled."""
    rows = []
    dates = ["2022-01-03", "2022-01-10", "2022-01-17"]
    for i, date in enumerate(dates):
        rows += [
            (date, "tv", "spend", 100.0 + i),
            (date, "tv", "impressions", 1000.0 * (i + 1)),
            (date, "search", "spend", 50.0 - i),
            (date, "search", "clicks", 7.0 * i),
            (date, None, "revenue", 999.0 + i),
        ]
    frame = pd.DataFrame(rows, columns=["date", "channel", "metric", "value"])
    return frame.sample(frac=1.0, random_state=3).reset_index(drop=True)


def test_long_layout_pivots_to_channel_metric_fields():
    data = harmonize_summary(_long_rows())
    expected = pd.DataFrame(
        {
            "date": pd.to_datetime(["2022-01-03", "2022-01-10", "2022-01-17"]).astype("datetime64[ns]"),
            "tv_spend": [100.0, 101.0, 102.0],
            "tv_impressions": [1000.0, 2000.0, 3000.0],
            "search_spend": [50.0, 49.0, 48.0],
            "search_clicks": [0.0, 7.0, 14.0],
            "revenue": [999.0, 1000.0, 1001.0],
        }
    )
    got = data.frame[expected.columns]
    pd.testing.assert_frame_equal(got, expected)
    assert sorted(data.metric_columns) == sorted(expected.columns[1:])


def test_long_layout_with_geo():
    frame = _long_rows()
    north = frame.assign(geo="north")
    south = frame.assign(geo="south", value=frame["value"] * 2)
    data = harmonize_summary(pd.concat([north, south], ignore_index=True), layout="long")
    assert data.geo_column_present
    assert data.frame[["date", "geo"]].values.tolist()[:2] == [[pd.Timestamp("2022-01-03"), "north"], [pd.Timestamp("2022-01-03"), "south"]]
    south_tv = data.frame.loc[data.frame["geo"] == "south", "tv_spend"].tolist()
    assert south_tv == [200.0, 202.0, 204.0]
    national = data.national()
    assert national.frame["tv_spend"].tolist() == [300.0, 303.0, 306.0]


def test_long_layout_repeated_key_refused():
    frame = _long_rows()
    frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError, match="has 2 rows for .*aggregate the export first"):
        harmonize_summary(frame)


def test_long_layout_text_values_become_text_field():
    frame = pd.DataFrame(
        {
            "date": ["2022-01-03", "2022-01-03", "2022-01-10", "2022-01-10"],
            "channel": ["tv", None, "tv", None],
            "metric": ["spend", "event", "spend", "event"],
            "value": ["10", "launch", "20", "none"],
        }
    )
    data = harmonize_summary(frame)
    assert data.frame["tv_spend"].tolist() == [10.0, 20.0]
    assert data.frame["event"].tolist() == ["launch", "none"]
    assert data.numeric_columns == ["tv_spend"] and data.text_columns == ["event"]


def test_long_layout_extra_columns_refused():
    frame = _long_rows().assign(campaign="c1")
    with pytest.raises(DataError, match="also found 'campaign'"):
        harmonize_summary(frame)


def test_channel_column_with_metric_columns():
    frame = pd.DataFrame(
        {
            "date": ["2022-01-03", "2022-01-03", "2022-01-10", "2022-01-10"],
            "channel": ["tv", "search", "tv", "search"],
            "spend": [10.0, 1.0, 20.0, 2.0],
            "impressions": [100, 10, 200, 20],
        }
    )
    data = harmonize_summary(frame)
    assert data.frame["tv_spend"].tolist() == [10.0, 20.0]
    assert data.frame["search_impressions"].tolist() == [10.0, 20.0]


def test_long_missing_cell_is_nan_not_zero():
    frame = _long_rows()
    frame = frame[~((frame["channel"] == "tv") & (frame["metric"] == "spend") & (frame["date"] == "2022-01-10"))]
    data = harmonize_summary(frame)
    assert np.isnan(data.frame.loc[1, "tv_spend"])


def test_wide_with_geo_detected_by_name():
    frame = pd.concat([weekly(3, tv=[1.0, 2.0, 3.0]).assign(Market="b"), weekly(3, tv=[4.0, 5.0, 6.0]).assign(Market="a")])
    data = harmonize_summary(frame)
    assert data.geo_column_present and list(data.frame.columns) == ["date", "geo", "tv"]
    assert data.frame["geo"].tolist() == ["a", "b"] * 3  # sorted by date, then geo
    assert data.geos == ["a", "b"]


def test_geo_column_given_explicitly():
    frame = pd.concat([weekly(2, tv=1.0).assign(store="s1"), weekly(2, tv=2.0).assign(store="s2")])
    data = harmonize_summary(frame, geo_column="store")
    assert data.geos == ["s1", "s2"]
    with pytest.raises(DataError, match="geo column 'stor' is not in the data. Did you mean 'store'?"):
        harmonize_summary(frame, geo_column="stor")


def test_duplicate_within_geo():
    frame = pd.concat([weekly(3, tv=1.0).assign(geo="x"), weekly(3, tv=2.0).assign(geo="y")])
    frame = pd.concat([frame, frame.iloc[[4]]])
    with pytest.raises(DataError, match="2022-01-10 appears 2 times in geo 'y'"):
        harmonize_summary(frame)


def test_empty_geo_refused():
    frame = pd.concat([weekly(2, tv=1.0).assign(geo="x"), weekly(2, tv=2.0).assign(geo=None)])
    with pytest.raises(DataError, match=r"geo column 'geo' is empty in 2 rows"):
        harmonize_summary(frame)


def test_metrics_are_float_or_text():
    frame = weekly(3, ints=[1, 2, 3], flag=[True, False, True], money=["$1,200.50", "300", "$45"], event=["a", None, "b"])
    data = harmonize_summary(frame)
    assert data.frame["ints"].dtype == np.float64
    assert data.frame["flag"].tolist() == [1.0, 0.0, 1.0]
    assert data.frame["money"].tolist() == [1200.5, 300.0, 45.0]
    assert data.frame["event"].dtype == pd.StringDtype(na_value=np.nan)
    assert data.numeric_columns == ["ints", "flag", "money"]


def test_numbers_mixed_with_text_refused():
    frame = weekly(4, tv=["10", "n/a", "30", "40"])
    with pytest.raises(DataError, match=r"column 'tv' mixes numbers and text: 'n/a' in data row 2"):
        harmonize_summary(frame)


def test_leftover_index_and_trailing_empty_column_dropped():
    frame = weekly(3, tv=[1.0, 2.0, 3.0])
    frame.insert(0, "Unnamed: 0", [0, 1, 2])
    frame["Unnamed: 3"] = np.nan
    data = harmonize_summary(frame)
    assert data.metric_columns == ["tv"]
    assert "dropped column 'Unnamed: 0' (a saved row index)" in data.notices
    assert any("Unnamed: 3" in n for n in data.notices)


def test_nameless_column_with_data_refused():
    frame = weekly(3, tv=[1.0, 2.0, 3.0])
    frame["Unnamed: 2"] = [5.0, 6.0, 7.0]
    with pytest.raises(DataError, match="has no header name but holds values"):
        harmonize_summary(frame)


def test_header_spaces_stripped_with_notice():
    frame = weekly(3, **{"Radio ": [1.0, 2.0, 3.0]})
    data = harmonize_summary(frame)
    assert data.metric_columns == ["Radio"]
    assert "renamed column 'Radio ' to 'Radio' (spaces removed)" in data.notices


def test_no_metric_columns():
    with pytest.raises(DataError, match="no metric columns"):
        harmonize_summary(weekly(3))


def test_not_a_dataframe_and_empty():
    with pytest.raises(DataError, match="needs a pandas DataFrame"):
        harmonize_summary([1, 2, 3])
    with pytest.raises(DataError, match="no rows"):
        harmonize_summary(pd.DataFrame({"date": [], "tv": []}))


def test_bad_layout_name():
    with pytest.raises(DataError, match="layout 'tall'"):
        harmonize_summary(weekly(3, tv=1.0), layout="tall")
    with pytest.raises(DataError, match="layout 'long' needs a 'channel' column"):
        harmonize_summary(weekly(3, tv=1.0), layout="long")


def test_input_frame_is_not_modified():
    frame = weekly(3, tv=[1, 2, 3])
    frame.insert(0, "Unnamed: 0", [0, 1, 2])
    before = frame.copy()
    harmonize_summary(frame)
    pd.testing.assert_frame_equal(frame, before)
