"""SummaryData helpers: national aggregation, windows, equality."""
import numpy as np
import pandas as pd
import pytest

from mediamix.data import Cadence, SummaryData, harmonize_summary
from mediamix.errors import DataError

from .helpers import weekly


def _panel():
    a = weekly(3, tv=[1.0, 2.0, 3.0], price=[10.0, 10.0, 12.0], event=["x", "y", "z"]).assign(geo="a")
    b = weekly(3, tv=[10.0, 20.0, 30.0], price=[20.0, 30.0, 40.0], event=["x", "y", "z"]).assign(geo="b")
    return harmonize_summary(pd.concat([a, b], ignore_index=True))


def test_national_sums_numeric_columns_per_date():
    national = _panel().national()
    assert not national.geo_column_present
    assert list(national.frame.columns) == ["date", "tv", "price", "event"]
    assert national.frame["tv"].tolist() == [11.0, 22.0, 33.0]
    assert national.frame["price"].tolist() == [30.0, 40.0, 52.0]
    assert national.frame["event"].tolist() == ["x", "y", "z"]  # geos agree, so kept
    assert national.cadence == Cadence("week", "Monday")
    assert "summed 2 geos into one national series" in national.notices


def test_national_can_average_some_columns():
    national = _panel().national(average=["price"])
    assert national.frame["price"].tolist() == [15.0, 20.0, 26.0]
    with pytest.raises(DataError, match="cannot average 'event'"):
        _panel().national(average=["event"])


def test_national_keeps_missing_values_missing():
    panel = _panel()
    frame = panel.frame.copy()
    frame.loc[0, "tv"] = np.nan
    national = SummaryData(frame, panel.cadence, True).national()
    assert np.isnan(national.frame["tv"].iloc[0])
    assert national.frame["tv"].iloc[1] == 22.0


def test_national_drops_text_columns_geos_disagree_on():
    panel = _panel()
    frame = panel.frame.copy()
    frame.loc[1, "event"] = "other"
    national = SummaryData(frame, panel.cadence, True).national()
    assert "event" not in national.frame
    assert any("dropped text column 'event'" in n for n in national.notices)


def test_national_of_national_is_itself():
    data = harmonize_summary(weekly(3, tv=1.0))
    assert data.national() is data


def test_between_is_inclusive():
    data = harmonize_summary(weekly(5, tv=[1.0, 2.0, 3.0, 4.0, 5.0]))
    window = data.between("2022-01-10", "2022-01-24")
    assert window.frame["tv"].tolist() == [2.0, 3.0, 4.0]
    assert data.between(start="2022-01-24").frame["tv"].tolist() == [4.0, 5.0]
    with pytest.raises(DataError, match="after its end"):
        data.between("2022-02-01", "2022-01-01")


def test_equality_compares_frame_and_metadata():
    a = harmonize_summary(weekly(3, tv=[1.0, 2.0, 3.0]))
    b = harmonize_summary(weekly(3, tv=[1.0, 2.0, 3.0]))
    assert a == b
    assert a != harmonize_summary(weekly(3, tv=[1.0, 2.0, 4.0]))
    assert a != SummaryData(a.frame, Cadence("day"), False)


def test_frame_must_start_with_date():
    with pytest.raises(DataError, match="starts with columns 'date'"):
        SummaryData(pd.DataFrame({"tv": [1.0]}), Cadence("day"))
    with pytest.raises(DataError, match="must be datetime64"):
        SummaryData(pd.DataFrame({"date": ["2022-01-01"], "tv": [1.0]}), Cadence("day"))


def test_cadence_validates_anchor():
    with pytest.raises(DataError, match="does not fit unit 'week'"):
        Cadence("week", "Funday")
    with pytest.raises(DataError, match="not one of 'day', 'week', 'month'"):
        Cadence("year")


def test_cadence_shift_and_range():
    weekly_fri = Cadence("week", "Friday")
    assert weekly_fri.shift(pd.Timestamp("2022-01-07"), 2) == pd.Timestamp("2022-01-21")
    month_end = Cadence("month", "end")
    assert month_end.shift(pd.Timestamp("2024-01-31"), 1) == pd.Timestamp("2024-02-29")
    assert list(month_end.range("2024-01-31", "2024-03-31")) == list(
        pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"])
    )
    assert Cadence("month", "start").shift(pd.Timestamp("2022-12-01"), 1) == pd.Timestamp("2023-01-01")
