"""Harmonizing the public sets of ../shared/data, read in place: Meridian geo panel, Robyn, and
ElecKart's real monthly and weekly tables. Expected values are recomputed from the raw files."""
import numpy as np
import pandas as pd
import pytest

from mediamix.data import HarmonizedStore
from mediamix.data.datasets import load_batch
from mediamix.data.definitions import define_conversion, define_population, define_touchpoint
from mediamix.data.model_frame import touchpoint_frame
from mediamix.data.rules import add_rule, wide_rules
from mediamix.data.sync import sync
from mediamix.data.validate import DataProblems
from mediamix.data.view import harmonized_factors, harmonized_view
from mediamix.errors import DataError

MONDAY = {"unit": "week", "week_start": "Monday"}
SUNDAY = {"unit": "week", "week_start": "Sunday"}
ELECKART_WEEK_1 = "2015-06-28"  # media.csv spreads July 2015 over 4 days of week 1: weeks run Sunday-Saturday
ELECKART_CHANNELS = ["TV", "Digital", "Sponsorship", "Content Marketing", "Online marketing", "Affiliates", "SEM",
                     "Radio", "Other"]


def _key(name: str) -> str:
    return name.lower().replace(" ", "_")


def test_meridian_geo_panel(shared_data, tmp_path):
    path = shared_data / "google-meridian" / "geo_all_channels.csv"
    raw = pd.read_csv(path)
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    with store.session():
        result = load_batch(store, "meridian", path)
        channels = {f"Channel{i}": {"spend": f"Channel{i}_spend", "impressions": f"Channel{i}_impression"}
                    for i in range(5)}
        for rule in wide_rules("meridian", MONDAY, channels, metrics={"conversions": "conversions"},
                               dimensions={"geo": {"column": "geo"}}):
            add_rule(store, rule)
        for i in range(5):
            define_touchpoint(store, f"ch{i}", where={"field": "channel", "equals": f"Channel{i}"}, spend="spend",
                              volume="impressions")
        define_conversion(store, "kpi", conversion="conversions", where={"field": "channel", "exists": False})
        define_population(store, "first_ten",
                          [{"conditions": [{"field": "geo", "equals": [f"Geo{i}" for i in range(10)]}]}])
        sync(store)
    assert "dropped column 'Unnamed: 0' (a saved row index)" in result.notices and result.rows == 6240
    names = [f"ch{i}" for i in range(5)]
    frame = touchpoint_frame(store, names, "kpi")
    national = raw.groupby("time").sum(numeric_only=True)
    assert len(frame) == 156 and frame["date"].iloc[0] == pd.Timestamp("2021-01-25")
    for i in range(5):
        np.testing.assert_allclose(frame[f"ch{i}_spend"], national[f"Channel{i}_spend"], rtol=1e-12)
        np.testing.assert_allclose(frame[f"ch{i}_volume"], national[f"Channel{i}_impression"], rtol=1e-12)
    np.testing.assert_allclose(frame["conversion"], national["conversions"], rtol=1e-12)
    panel = touchpoint_frame(store, names, "kpi", by_geo=True).set_index(["geo", "date"])
    assert len(panel) == 40 * 156
    geo7 = raw[raw["geo"] == "Geo7"].set_index("time")
    np.testing.assert_allclose(panel.loc["Geo7", "ch3_spend"], geo7["Channel3_spend"], rtol=1e-12)
    subset = touchpoint_frame(store, ["ch0"], "kpi", population="first_ten")
    ten = raw[raw["geo"].isin([f"Geo{i}" for i in range(10)])].groupby("time").sum(numeric_only=True)
    np.testing.assert_allclose(subset["ch0_spend"], ten["Channel0_spend"], rtol=1e-12)
    np.testing.assert_allclose(subset["conversion"], ten["conversions"], rtol=1e-12)


def test_robyn_weekly_with_a_factor(shared_data, tmp_path):
    path = shared_data / "meta-robyn" / "dt_simulated_weekly.csv"
    raw = pd.read_csv(path)
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    with pytest.raises(DataError, match=r"factor 'events' holds text \(e\.g\. 'na'\), not numbers; encode it as numbers"):
        load_batch(store, "robyn_factors", raw[["DATE", "competitor_sales_B", "events"]], kind="factors")
    channels = {"tv": {"spend": "tv_S"}, "ooh": {"spend": "ooh_S"}, "print": {"spend": "print_S"},
                "facebook": {"spend": "facebook_S", "impressions": "facebook_I"},
                "search": {"spend": "search_S", "clicks": "search_clicks_P"}}
    with store.session():
        load_batch(store, "robyn", path)
        for rule in wide_rules("robyn", MONDAY, channels, metrics={"revenue": "revenue"}):
            add_rule(store, rule)
        load_batch(store, "robyn_factors", raw[["DATE", "competitor_sales_B", "newsletter"]], kind="factors")
        for name, mapping in channels.items():
            volume = "impressions" if "impressions" in mapping else ("clicks" if "clicks" in mapping else None)
            define_touchpoint(store, name, where={"field": "channel", "equals": name}, spend="spend", volume=volume)
        define_conversion(store, "revenue", conversion="revenue", where={"field": "channel", "exists": False})
        result = sync(store)
    assert result.granularity.describe() == "weekly, weeks starting on Monday" and result.rows > 0
    frame = touchpoint_frame(store, list(channels), "revenue", factors=["competitor_sales_B"])
    assert len(frame) == 208
    np.testing.assert_allclose(frame["facebook_volume"], raw["facebook_I"])
    np.testing.assert_allclose(frame["search_volume"], raw["search_clicks_P"])
    np.testing.assert_allclose(frame["tv_spend"], raw["tv_S"])
    np.testing.assert_allclose(frame["conversion"], raw["revenue"])
    np.testing.assert_allclose(frame["competitor_sales_B"], raw["competitor_sales_B"])


def _eleckart_monthly_and_weekly(shared_data, store):
    folder = shared_data / "eleckart"
    investment = load_batch(store, "investment", folder / "MediaInvestment.csv")
    assert any("first day of its month" in n for n in investment.notices)
    channels = {ch: {"spend": ch} for ch in ELECKART_CHANNELS}
    for rule in wide_rules("investment", "month", channels):
        add_rule(store, rule)
    load_batch(store, "sales", folder / "sales.csv", start_date=ELECKART_WEEK_1, frequency="W-SUN")
    add_rule(store, {"name": "gmv", "status": "active", "granularity": SUNDAY, "metrics": {"revenue": {"sum": "gmv"}}},
             dataset="sales")
    for ch in ELECKART_CHANNELS:
        define_touchpoint(store, _key(ch), where={"field": "channel", "equals": ch}, spend="spend")
    define_conversion(store, "gmv", conversion="revenue", where={"field": "channel", "exists": False})


def test_eleckart_monthly_media_and_weekly_sales_meet_in_months(shared_data, tmp_path):
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    with store.session():
        _eleckart_monthly_and_weekly(shared_data, store)
        result = sync(store)
    assert result.granularity.unit == "month"  # the coarsest granularity present
    view = harmonized_view(store)
    # weekly GMV into months, a seventh per day (recomputed here from the raw file)
    sales = pd.read_csv(shared_data / "eleckart" / "sales.csv")
    expected = {}
    for week, gmv in zip(sales["week"], sales["gmv"]):
        start = pd.Timestamp(ELECKART_WEEK_1) + pd.Timedelta(weeks=int(week) - 1)
        for offset in range(7):
            month = (start + pd.Timedelta(days=offset)).to_period("M").start_time
            expected[month] = expected.get(month, 0.0) + gmv / 7
    gmv = view[view["channel"].isna()].set_index("date")["revenue"]
    assert gmv.index.min() == pd.Timestamp("2015-06-01") and gmv.index.max() == pd.Timestamp("2016-07-01")
    assert gmv.to_dict() == pytest.approx(expected, rel=1e-12)
    assert gmv.sum() == pytest.approx(sales["gmv"].sum(), rel=1e-12)
    investment = pd.read_csv(shared_data / "eleckart" / "MediaInvestment.csv")
    tv = view[view["channel"] == "TV"].set_index("date")["spend"]
    np.testing.assert_allclose(tv.to_numpy(), investment["TV"].to_numpy())
    # Radio is blank in most months of the export: missing months are not zero-spend months
    radio = [i.message for i in result.report.about("touchpoint:radio") if i.check == "gaps"]
    assert radio == ["touchpoint 'radio' has no rows in 2 of 5 months between 2016-01-01 and 2016-05-01: 2016-02-01, "
                     "2016-04-01. Missing months are not zero-spend months: add the rows (with zeros where nothing "
                     "happened), or restate the data"]
    with pytest.raises(DataProblems, match="touchpoint 'radio' has no rows in 2 of 5 months"):
        touchpoint_frame(store, ["tv", "radio"], "gmv")
    frame = touchpoint_frame(store, ["tv", "sem", "sponsorship"], "gmv")
    assert frame["date"].tolist() == list(pd.date_range("2015-06-01", "2016-07-01", freq="MS"))
    assert frame.loc[0, "tv_spend"] == 0.0  # June 2015: three days of week 1, before the media data begins


def test_eleckart_monthly_nps_joins_weekly_data_as_a_factor(shared_data, tmp_path):
    folder = shared_data / "eleckart"
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    with store.session():
        load_batch(store, "sales", folder / "sales.csv", start_date=ELECKART_WEEK_1, frequency="W-SUN")
        load_batch(store, "media", folder / "media.csv", start_date=ELECKART_WEEK_1, frequency="W-SUN")
        add_rule(store, {"name": "gmv", "status": "active", "granularity": SUNDAY,
                         "metrics": {"revenue": {"sum": "gmv"}}}, dataset="sales")
        add_rule(store, {"name": "sem", "status": "active", "granularity": SUNDAY,
                         "dimensions": {"channel": {"value": "SEM"}}, "metrics": {"spend": {"sum": "SEM"}}},
                 dataset="media")
        nps = load_batch(store, "nps", folder / "MonthlyNPSscore.csv", kind="factors")
        define_touchpoint(store, "sem", where={"field": "channel", "equals": "SEM"}, spend="spend")
        define_conversion(store, "gmv", conversion="revenue", where={"field": "channel", "exists": False})
        result = sync(store)
    assert any("month/day/year" in n for n in nps.notices)
    assert result.granularity.describe() == "weekly, weeks starting on Sunday"
    # each week's NPS: the mean over its days of the month's score, days before July 2015 not covered
    scores = pd.read_csv(folder / "MonthlyNPSscore.csv")
    by_month = dict(zip(pd.to_datetime(scores["Date"], format="%m/%d/%Y").dt.to_period("M"), scores["NPS"]))
    expected = {}
    for k in range(53):
        start = pd.Timestamp(ELECKART_WEEK_1) + pd.Timedelta(weeks=k)
        days = [start + pd.Timedelta(days=d) for d in range(7)]
        values = [by_month[d.to_period("M")] for d in days if d.to_period("M") in by_month]
        expected[start] = sum(values) / len(values)
    factors = harmonized_factors(store).set_index("date")
    assert factors["value"].to_dict() == pytest.approx(expected, rel=1e-12)
    assert factors.loc[pd.Timestamp(ELECKART_WEEK_1), "covered_days"] == 4
    frame = touchpoint_frame(store, ["sem"], "gmv", factors=["NPS"])
    np.testing.assert_allclose(frame["NPS"], [expected[d] for d in frame["date"]], rtol=1e-12)
    media = pd.read_csv(folder / "media.csv")
    np.testing.assert_allclose(frame["sem_spend"], media["SEM"])
