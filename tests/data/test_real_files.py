"""Public data sets from ../shared/data, loaded end to end."""
import numpy as np
import pandas as pd

import pytest

from mediamix.data import Cadence, HarmonizedStore, check_model_columns, harmonize_summary, load_summary, read_table
from mediamix.errors import DataError


def test_pymc_marketing_example(shared_data):
    raw = pd.read_csv(shared_data / "pymc-marketing" / "mmm_example.csv")
    data = harmonize_summary(read_table(shared_data / "pymc-marketing" / "mmm_example.csv"))
    assert len(data.frame) == 179
    assert data.cadence == Cadence("week", "Monday")
    assert data.dates[0] == pd.Timestamp("2018-04-02")
    assert data.metric_columns == ["y", "x1", "x2", "event_1", "event_2", "dayofyear", "t"]
    np.testing.assert_array_equal(data.frame["y"].to_numpy(), raw["y"].to_numpy())
    assert check_model_columns(data, target="y", spend_columns=["x1", "x2"], factor_columns=["event_1", "event_2"]) == []


def test_robyn_simulated_weekly(shared_data):
    data = harmonize_summary(read_table(shared_data / "meta-robyn" / "dt_simulated_weekly.csv"))
    assert len(data.frame) == 208
    assert data.cadence == Cadence("week", "Monday")
    assert data.dates[0] == pd.Timestamp("2015-11-23")
    assert "events" in data.text_columns
    assert set(data.frame["events"].unique()) == {"na", "event1", "event2"}
    assert data.frame["competitor_sales_B"].dtype == np.float64
    spends = ["tv_S", "ooh_S", "print_S", "facebook_S", "search_S"]
    warnings = check_model_columns(
        data, target="revenue", spend_columns=spends, volume_columns=["facebook_I"],
        factor_columns=["competitor_sales_B", "events"],
    )
    # competitor sales (~5.5e6) are ~600x the median channel's spend: under the 1000x warning line
    assert warnings == []


def test_meridian_national(shared_data):
    data = harmonize_summary(read_table(shared_data / "google-meridian" / "national_all_channels.csv"))
    assert len(data.frame) == 156
    assert "Unnamed: 0" not in data.frame and data.metric_columns[0] == "conversions"
    assert data.cadence == Cadence("week", "Monday")
    assert data.dates[0] == pd.Timestamp("2021-01-25")
    spends = [f"Channel{i}_spend" for i in range(5)]
    check_model_columns(
        data, target="conversions", spend_columns=spends,
        volume_columns=[f"Channel{i}_impression" for i in range(5)],
        factor_columns=["competitor_sales_control", "sentiment_score_control", "Promo"],
    )


def test_meridian_geo_panel(shared_data, tmp_path):
    path = shared_data / "google-meridian" / "geo_all_channels.csv"
    raw = pd.read_csv(path)
    data = harmonize_summary(read_table(path))
    assert data.geo_column_present and len(data.geos) == 40
    assert len(data.frame) == 40 * 156
    assert "dropped column 'Unnamed: 0' (a saved row index)" in data.notices
    assert data.cadence == Cadence("week", "Monday")
    national = data.national()
    expected = raw.groupby("time")["Channel0_spend"].sum().to_numpy()
    np.testing.assert_allclose(national.frame["Channel0_spend"].to_numpy(), expected, rtol=1e-12)
    assert len(national.frame) == 156
    store = HarmonizedStore(tmp_path / "store.duckdb")
    store.put("meridian_geo", data, source=str(path))
    assert store.get("meridian_geo") == data


def test_eleckart_monthly_nps_read_month_first(shared_data):
    data = load_summary(shared_data / "eleckart" / "MonthlyNPSscore.csv")
    # 7/1/2015 ... 6/1/2016 parse both ways; only month-first gives a complete monthly series
    assert data.cadence == Cadence("month", "start")
    assert list(data.dates) == list(pd.date_range("2015-07-01", periods=12, freq="MS"))
    assert any("month/day/year" in n for n in data.notices)


def test_garve_panel_with_uneven_geo_coverage_is_refused(shared_data):
    with pytest.raises(DataError, match=r"geo 'Austria' is missing 100 of 200 dates.*geo 'Switzerland'"):
        load_summary(shared_data / "garve-datasets" / "bhmmm.csv")
