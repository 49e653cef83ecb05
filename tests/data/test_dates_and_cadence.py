"""Date parsing and cadence rules of harmonize_summary, on small hand-built frames."""
import numpy as np
import pandas as pd
import pytest

from mediamix.data import Cadence, harmonize_summary
from mediamix.errors import DataError

from .helpers import weekly


def test_iso_dates_become_midnight_datetime64():
    data = harmonize_summary(weekly(4, tv=[1.0, 2.0, 3.0, 4.0]))
    assert data.frame["date"].dtype == np.dtype("datetime64[ns]")
    assert list(data.dates) == list(pd.date_range("2022-01-03", periods=4, freq="7D"))
    assert data.cadence == Cadence("week", "Monday")
    assert data.cadence.periods_per_year == pytest.approx(52.1775)


@pytest.mark.parametrize(
    "start, anchor",
    [("2022-01-03", "Monday"), ("2022-01-04", "Tuesday"), ("2022-01-07", "Friday"), ("2022-01-09", "Sunday")],
)
def test_weekly_any_anchor(start, anchor):
    data = harmonize_summary(weekly(6, start=start, tv=1.0))
    assert data.cadence.unit == "week" and data.cadence.anchor == anchor
    assert data.cadence.pandas_freq == f"W-{anchor[:3].upper()}"


def test_daily():
    frame = pd.DataFrame({"date": pd.date_range("2022-01-01", periods=10).strftime("%Y-%m-%d"), "tv": 1.0})
    data = harmonize_summary(frame)
    assert data.cadence == Cadence("day")
    assert data.cadence.periods_per_year == 365.25


def test_monthly_month_starts_and_month_ends():
    starts = pd.DataFrame({"month": ["2022-01-01", "2022-02-01", "2022-03-01"], "tv": [1, 2, 3]})
    assert harmonize_summary(starts).cadence == Cadence("month", "start")
    ends = pd.DataFrame({"date": ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"], "tv": 1})
    data = harmonize_summary(ends)
    assert data.cadence == Cadence("month", "end")
    assert data.cadence.periods_per_year == 12


def test_monthly_gap_is_named():
    frame = pd.DataFrame({"date": ["2022-01-01", "2022-02-01", "2022-04-01"], "tv": 1})
    with pytest.raises(DataError, match=r"missing 1 of 4 months.*2022-03-01"):
        harmonize_summary(frame)


def test_mid_month_dates_refused():
    frame = pd.DataFrame({"date": ["2022-01-15", "2022-02-15", "2022-03-15", "2022-04-15"], "tv": 1})
    with pytest.raises(DataError, match="look monthly.*2022-01-15"):
        harmonize_summary(frame)


def test_mixed_spacing_names_offending_dates():
    frame = pd.DataFrame(
        {"date": ["2022-01-03", "2022-01-10", "2022-01-17", "2022-01-20", "2022-01-24", "2022-01-31"], "tv": 1}
    )
    with pytest.raises(DataError, match=r"not evenly spaced.*2022-01-17 \u2192 2022-01-20 \(3 days\)"):
        harmonize_summary(frame)


def test_weekly_then_monthly_refused():
    dates = ["2022-01-03", "2022-01-10", "2022-01-17", "2022-01-24", "2022-03-01", "2022-04-01"]
    with pytest.raises(DataError, match="not evenly spaced"):
        harmonize_summary(pd.DataFrame({"date": dates, "tv": 1}))


def test_biweekly_refused():
    frame = pd.DataFrame({"date": pd.date_range("2022-01-03", periods=5, freq="14D"), "tv": 1})
    with pytest.raises(DataError, match="mostly 14 days apart"):
        harmonize_summary(frame)


def test_datetime_strings_with_times_and_offsets_normalize_to_local_dates():
    frame = pd.DataFrame(
        {
            "date": ["2022-01-03T00:00:00+01:00", "2022-01-10 09:30:00", "2022-01-17T23:15:00Z", "2022-01-24"],
            "tv": [1, 2, 3, 4],
        }
    )
    data = harmonize_summary(frame)
    # the calendar date as written is kept (not shifted by converting to UTC)
    assert [d.strftime("%Y-%m-%d") for d in data.dates] == ["2022-01-03", "2022-01-10", "2022-01-17", "2022-01-24"]
    assert (data.frame["date"] == data.frame["date"].dt.normalize()).all()
    assert any("times of day" in n for n in data.notices)


def test_timezone_aware_datetime_column():
    stamps = pd.date_range("2022-01-03 23:00", periods=3, freq="7D", tz="America/New_York")
    data = harmonize_summary(pd.DataFrame({"date": stamps, "tv": 1.0}))
    assert list(data.dates) == list(pd.date_range("2022-01-03", periods=3, freq="7D"))


def test_unparsable_string_names_column_value_and_row():
    frame = weekly(5, tv=1.0)
    frame.loc[3, "date"] = "2022-13-45"
    with pytest.raises(DataError, match=r"column 'date' has a value that is not a date: '2022-13-45' in data row 4"):
        harmonize_summary(frame)


def test_empty_date_cells_refused():
    frame = weekly(5, tv=1.0)
    frame.loc[2, "date"] = None
    with pytest.raises(DataError, match=r"no date in 1 row \(data rows 3\)"):
        harmonize_summary(frame)


def test_us_dates_read_when_unambiguous():
    frame = pd.DataFrame({"Date": ["1/28/2022", "2/4/2022", "2/11/2022"], "tv": 1})
    data = harmonize_summary(frame)
    assert list(data.dates) == list(pd.to_datetime(["2022-01-28", "2022-02-04", "2022-02-11"]))


def test_ambiguous_day_month_refused():
    frame = pd.DataFrame({"date": ["01/02/2022", "03/04/2022", "05/06/2022"], "tv": 1})
    with pytest.raises(DataError, match="day-first or month-first"):
        harmonize_summary(frame)


def test_integer_dates_refused():
    frame = pd.DataFrame({"week": [1, 2, 3], "tv": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError) as info:
        harmonize_summary(frame)
    assert str(info.value).startswith(
        "time column 'week' is integer, not a date; supply dates or declare start date + frequency"
    )


def test_integer_text_dates_refused_too():
    frame = pd.DataFrame({"week": ["1", "2", "3"], "tv": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="is integer, not a date"):
        harmonize_summary(frame)


@pytest.mark.parametrize("frequency", ["W-MON", "week", "weekly", "W"])
def test_integer_periods_with_start_and_frequency(frequency):
    frame = pd.DataFrame({"week": [1, 2, 3, 4], "tv": [1.0, 2.0, 3.0, 4.0]})
    data = harmonize_summary(frame, start_date="2022-01-03", frequency=frequency)
    assert list(data.dates) == list(pd.date_range("2022-01-03", periods=4, freq="7D"))
    assert data.cadence == Cadence("week", "Monday")
    assert data.frame["tv"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_integer_periods_monthly_and_gap_kept():
    frame = pd.DataFrame({"period": [0, 1, 3], "tv": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="missing 1 of 4 months.*2022-03-01"):
        harmonize_summary(frame, start_date="2022-01-01", frequency="month")


def test_start_date_off_anchor_refused():
    frame = pd.DataFrame({"week": [1, 2], "tv": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"2022-01-04 \(Tuesday\) does not fit frequency 'W-MON'"):
        harmonize_summary(frame, start_date="2022-01-04", frequency="W-MON")


def test_start_date_with_real_dates_refused():
    with pytest.raises(DataError, match="already holds dates"):
        harmonize_summary(weekly(3, tv=1.0), start_date="2022-01-03", frequency="week")


def test_declared_frequency_must_match_dates():
    frame = weekly(4, start="2022-01-07", tv=1.0)  # Fridays
    assert harmonize_summary(frame, frequency="week").cadence.anchor == "Friday"
    assert harmonize_summary(frame, frequency="W-FRI").cadence.anchor == "Friday"
    with pytest.raises(DataError, match="declared as 'W-MON'.*weeks starting on Friday"):
        harmonize_summary(frame, frequency="W-MON")
    with pytest.raises(DataError, match="not understood"):
        harmonize_summary(frame, frequency="fortnightly")


def test_single_date_needs_frequency():
    frame = pd.DataFrame({"date": ["2022-01-03"], "tv": [1.0]})
    with pytest.raises(DataError, match="single date"):
        harmonize_summary(frame)
    assert harmonize_summary(frame, frequency="W-MON").cadence == Cadence("week", "Monday")


def test_yyyymmdd_integers_are_dates():
    frame = pd.DataFrame({"date": [20220103, 20220110, 20220117], "tv": 1.0})
    data = harmonize_summary(frame)
    assert list(data.dates) == list(pd.date_range("2022-01-03", periods=3, freq="7D"))


def test_duplicated_dates_without_geo_suggest_panel():
    frame = weekly(4, tv=[1.0, 2.0, 3.0, 4.0])
    frame = pd.concat([frame, frame.iloc[[1, 1]]], ignore_index=True)
    with pytest.raises(DataError) as info:
        harmonize_summary(frame)
    message = str(info.value)
    assert "2022-01-10 appears 3 times" in message
    assert "panel data" in message and "geo_column" in message


def test_gap_in_daily_data():
    dates = pd.date_range("2022-01-01", periods=10).delete([4, 5, 6])
    frame = pd.DataFrame({"date": dates, "tv": 1.0})
    with pytest.raises(DataError, match=r"missing 3 of 10 days.*2022-01-05 \u2026 2022-01-07.*not zero-spend days"):
        harmonize_summary(frame)


def test_fill_zero_for_national_gap():
    frame = weekly(5, tv=[1.0, 2.0, 3.0, 4.0, 5.0], event=["a", "b", "c", "d", "e"]).drop(index=[2])
    data = harmonize_summary(frame, fill="zero")
    assert data.frame["tv"].tolist() == [1.0, 2.0, 0.0, 4.0, 5.0]
    assert pd.isna(data.frame["event"].iloc[2])
    assert data.frame["event"].dtype == frame["event"].dtype
    assert any("filled 1 missing week with zeros" in n and "2022-01-17" in n for n in data.notices)


def test_unknown_fill_option():
    frame = weekly(5, tv=1.0).drop(index=[2])
    with pytest.raises(DataError, match="fill='interpolate' is not an option"):
        harmonize_summary(frame, fill="interpolate")


def test_date_column_named_explicitly_and_missing():
    frame = weekly(3, tv=1.0).rename(columns={"date": "when"})
    assert harmonize_summary(frame, date_column="when").frame.columns[0] == "date"
    with pytest.raises(DataError, match="date column 'wen' is not in the data. Did you mean 'when'?"):
        harmonize_summary(frame, date_column="wen")


@pytest.mark.parametrize("name", ["date", "DATE", "week", "time", "ds", "date_week", "wk_strt_dt", "Week_Start"])
def test_date_column_detected_by_name(name):
    frame = weekly(3, tv=1.0).rename(columns={"date": name})
    assert len(harmonize_summary(frame).dates) == 3


def test_date_column_detected_as_only_date_like_column():
    frame = weekly(3, tv=1.0).rename(columns={"date": "reporting_period"})
    frame["campaign_name"] = ["x", "y", "z"]
    data = harmonize_summary(frame)
    assert len(data.dates) == 3
    assert data.metric_columns == ["tv", "campaign_name"]


def test_no_date_column():
    with pytest.raises(DataError, match="no date column found.*'sales', 'tv'"):
        harmonize_summary(pd.DataFrame({"sales": [1, 2], "tv": [3, 4]}))


def test_two_date_like_columns_are_ambiguous():
    frame = weekly(3, tv=1.0).rename(columns={"date": "start"})
    frame["end"] = frame["start"]
    with pytest.raises(DataError, match="several columns hold dates"):
        harmonize_summary(frame)


def test_parquet_date32_and_dictionary_columns(tmp_path):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from mediamix.data import read_table

    table = pa.table(
        {
            "day": pa.array([dt.date(2022, 1, 3), dt.date(2022, 1, 10), dt.date(2022, 1, 17)], pa.date32()),
            "tv": [1.0, 2.0, 3.0],
            "event": pa.array(["a", "b", "a"]).dictionary_encode(),
        }
    )
    pq.write_table(table, tmp_path / "d.parquet")
    data = harmonize_summary(read_table(tmp_path / "d.parquet"))
    assert list(data.dates) == list(pd.date_range("2022-01-03", periods=3, freq="7D"))
    assert data.frame["event"].tolist() == ["a", "b", "a"] and data.text_columns == ["event"]
