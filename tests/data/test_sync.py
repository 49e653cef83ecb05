"""sync on real DuckDB files: generated events whose aggregates are computed here in pandas,
granularity (coarsest wins, week starts, weeks spread into months), merge preferences, factors,
atomic rebuilds and stale views."""
import numpy as np
import pandas as pd
import pytest

import mediamix.data.quality as quality_module
from mediamix.data import HarmonizedStore, harmonize_summary
from mediamix.data.datasets import load_batch
from mediamix.data.merge import preferences, set_preference
from mediamix.data.rules import add_rule, set_status, wide_rules
from mediamix.data.sync import sync
from mediamix.data.view import harmonized_factors, harmonized_view, last_sync
from mediamix.errors import DataError

CHANNELS = ["search", "social", "display", "email"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def generated_events(n=3000, seed=7, start="2024-01-01", days=70):
    """Touchpoint and order events with known content; aggregates are recomputed from this frame."""
    rng = np.random.default_rng(seed)
    stamps = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days * 86_400, n), unit="s")
    kind = rng.choice(["impression", "click", "order"], n, p=[0.7, 0.25, 0.05])
    campaigns = rng.choice(["Brand_core", "brand_promo", "NB_shoes", "prospecting"], n)
    return pd.DataFrame({
        "person_id": rng.integers(0, 400, n).astype(str),
        "timestamp": stamps,
        "channel": rng.choice(CHANNELS, n),
        "campaign": campaigns,
        "event": kind,
        "cost": np.where(kind == "order", 0.0, rng.uniform(0.01, 2.0, n).round(4)),
        "revenue": np.where(kind == "order", rng.uniform(10, 200, n).round(2), 0.0),
    })


EVENT_RULES = [
    {"name": "touches", "granularity": "day", "when": {"column": "event", "equals": ["impression", "click"]},
     "dimensions": {"channel": {"column": "channel"},
                    "brand": {"case": [{"when": {"column": "campaign", "contains": "brand", "ignore_case": True},
                                        "then": "brand"}], "else": "generic"}},
     "metrics": {"spend": {"sum": "cost"}, "impressions": {"count": "*"}}},
    {"name": "clicks", "granularity": "day", "when": {"column": "event", "equals": "click"},
     "dimensions": {"channel": {"column": "channel"}}, "metrics": {"clicks": {"count": "*"}}},
    {"name": "orders", "granularity": "day", "when": {"column": "event", "equals": "order"},
     "dimensions": {"conversion_type": {"value": "order"}},
     "metrics": {"orders": {"count": "*"}, "revenue": {"sum": "revenue"}}},
]


def _period(days: pd.Series, unit: str, week_start: str = "Monday") -> pd.Series:
    """First day of the period of each day, computed in plain pandas (independent of the SQL)."""
    days = pd.to_datetime(days).dt.normalize().astype("datetime64[ns]")
    if unit == "day":
        return days
    if unit == "month":
        return days.dt.to_period("M").dt.start_time.astype("datetime64[ns]")
    return days - pd.to_timedelta((days.dt.day_of_week - WEEKDAYS.index(week_start)) % 7, unit="D")


@pytest.fixture
def events_store(tmp_path):
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    events = generated_events()
    with store.session():
        load_batch(store, "web", events, kind="events")
        for rule in EVENT_RULES:
            add_rule(store, {**rule, "status": "active"}, dataset="web")
    return store, events


def _expected(events: pd.DataFrame, unit: str, week_start: str = "Monday") -> pd.DataFrame:
    touches = events[events["event"].isin(["impression", "click"])].copy()
    touches["brand"] = np.where(touches["campaign"].str.lower().str.contains("brand"), "brand", "generic")
    touches["date"] = _period(touches["timestamp"], unit, week_start)
    return touches.groupby(["date", "channel", "brand"]).agg(spend=("cost", "sum"), impressions=("cost", "size"))


@pytest.mark.parametrize("unit, week_start", [("day", None), ("week", "Monday"), ("week", "Sunday"), ("month", None)])
def test_events_aggregate_to_the_view_granularity(events_store, unit, week_start):
    store, events = events_store
    if unit != "day":
        # one dated weekly/monthly rule decides the view; events follow it exactly
        granularity = {"unit": unit, "week_start": week_start} if unit == "week" else unit
        frame = pd.DataFrame({"date": [_period(pd.Series([pd.Timestamp("2024-01-01")]), unit, week_start or "Monday")[0]],
                              "tv": [100.0]})
        load_batch(store, "tv", frame)
        add_rule(store, {"name": "tv", "status": "active", "granularity": granularity,
                         "dimensions": {"channel": {"value": "tv"}}, "metrics": {"spend": {"sum": "tv"}}}, dataset="tv")
    result = sync(store)
    assert result.granularity.unit == unit and result.granularity.week_start == week_start
    view = harmonized_view(store)
    got = view[view["brand"].notna()].set_index(["date", "channel", "brand"])[["spend", "impressions"]]
    expected = _expected(events, unit, week_start or "Monday")
    pd.testing.assert_frame_equal(got.sort_index(), expected.astype("float64").sort_index(), check_exact=False, rtol=1e-9)
    clicks = events[events["event"] == "click"].assign(date=lambda f: _period(f["timestamp"], unit, week_start or "Monday"))
    got_clicks = view[view["clicks"].notna()].groupby(["date", "channel"])["clicks"].sum()
    assert got_clicks.to_dict() == clicks.groupby(["date", "channel"]).size().astype(float).to_dict()
    orders = events[events["event"] == "order"].assign(date=lambda f: _period(f["timestamp"], unit, week_start or "Monday"))
    got_orders = view[view["conversion_type"] == "order"].set_index("date")
    np.testing.assert_allclose(got_orders["revenue"], orders.groupby("date")["revenue"].sum().loc[got_orders.index])
    assert got_orders["orders"].sum() == len(orders)


def test_coarsest_granularity_wins_and_weeks_spread_into_months(tmp_path):
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    daily = pd.DataFrame({"date": pd.date_range("2024-01-01", "2024-03-31").strftime("%Y-%m-%d")})
    daily["search"] = np.arange(len(daily), dtype=float)
    weekly = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=13, freq="W-MON").strftime("%Y-%m-%d"),
                           "sales": np.arange(1, 14, dtype=float) * 70})
    monthly = pd.DataFrame({"date": ["2024-01-01", "2024-02-01", "2024-03-01"], "tv": [300.0, 310.0, 320.0]})
    with store.session():
        for name, frame in (("daily", daily), ("weekly", weekly), ("monthly", monthly)):
            load_batch(store, name, frame)
        add_rule(store, {"name": "search", "status": "active", "granularity": "day",
                         "dimensions": {"channel": {"value": "search"}}, "metrics": {"spend": {"sum": "search"}}},
                 dataset="daily")
        add_rule(store, {"name": "sales", "status": "active", "granularity": {"unit": "week", "week_start": "Monday"},
                         "metrics": {"revenue": {"sum": "sales"}}}, dataset="weekly")
        add_rule(store, {"name": "tv", "status": "active", "granularity": "month",
                         "dimensions": {"channel": {"value": "tv"}}, "metrics": {"spend": {"sum": "tv"}}},
                 dataset="monthly")
        result = sync(store)
    assert result.granularity.unit == "month"
    assert any("spread the weekly rows of rule 'weekly/sales'" in n for n in result.notices)
    view = harmonized_view(store).set_index(["date", "channel"])
    months = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])
    search = daily.assign(date=pd.to_datetime(daily["date"]).dt.to_period("M").dt.start_time).groupby("date")["search"].sum()
    assert [view.loc[(m, "search"), "spend"] for m in months] == search.loc[months].tolist()
    assert [view.loc[(m, "tv"), "spend"] for m in months] == [300.0, 310.0, 320.0]
    # each week's sales, a seventh per day, into the month of each day (computed independently)
    spread = {}
    for date, value in zip(pd.to_datetime(weekly["date"]), weekly["sales"]):
        for offset in range(7):
            month = (date + pd.Timedelta(days=offset)).to_period("M").start_time
            spread[month] = spread.get(month, 0.0) + value / 7
    full = harmonized_view(store)
    revenue = full[full["channel"].isna()].set_index("date")["revenue"]
    assert revenue.to_dict() == pytest.approx(spread)
    assert sum(spread.values()) == pytest.approx(weekly["sales"].sum())  # nothing lost in the spreading


def test_week_starts_must_agree_unless_chosen(tmp_path):
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    mondays = pd.DataFrame({"date": ["2024-01-01", "2024-01-08"], "spend": [70.0, 140.0]})
    sundays = pd.DataFrame({"date": ["2023-12-31", "2024-01-07"], "spend": [7.0, 14.0]})
    load_batch(store, "mon", mondays)
    load_batch(store, "sun", sundays)
    for name, day in (("mon", "Monday"), ("sun", "Sunday")):
        add_rule(store, {"name": name, "status": "active", "granularity": {"unit": "week", "week_start": day},
                         "dimensions": {"channel": {"value": name}}, "metrics": {"spend": {"sum": "spend"}}}, dataset=name)
    with pytest.raises(DataError, match="weekly rules disagree on the first day of the week: 'mon/mon' start weeks on "
                                        "Monday; 'sun/sun' start weeks on Sunday. Pass week_start="):
        sync(store)
    result = sync(store, week_start="Monday")
    view = harmonized_view(store).set_index(["date", "channel"])["spend"]
    # the Sunday week of 2023-12-31 has 1 day in the Monday week of 2023-12-25 and 6 in that of 2024-01-01
    assert view[(pd.Timestamp("2023-12-25"), "sun")] == pytest.approx(1.0)
    assert view[(pd.Timestamp("2024-01-01"), "sun")] == pytest.approx(6.0 + 2.0)
    assert view[(pd.Timestamp("2024-01-08"), "sun")] == pytest.approx(12.0)
    assert view[(pd.Timestamp("2024-01-01"), "mon")] == 70.0
    assert any("spread evenly over their 7 days" in n for n in result.notices)


def test_a_misdeclared_week_start_is_named(tmp_path):
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    load_batch(store, "ends", pd.DataFrame({"date": ["2024-01-07", "2024-01-14"], "spend": [1.0, 2.0]}))
    rule = {"name": "w", "status": "active", "granularity": {"unit": "week", "week_start": "Monday"},
            "metrics": {"spend": {"sum": "spend"}}}
    add_rule(store, rule, dataset="ends")
    with pytest.raises(DataError, match="declares weeks starting on Monday, but every row of data set 'ends' is dated on "
                                        "a Sunday: declare week_start: Sunday, or, if the rows are dated by the last "
                                        "day of their week, week_start: Monday with dated_by: end"):
        sync(store)
    add_rule(store, {**rule, "granularity": {"unit": "week", "week_start": "Monday", "dated_by": "end"}},
             dataset="ends", replace_existing=True)
    sync(store)
    assert harmonized_view(store)["date"].tolist() == list(pd.to_datetime(["2024-01-01", "2024-01-08"]))


def _merge_store(tmp_path):
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    summary = pd.DataFrame({"date": ["2024-01-01"] * 2 + ["2024-01-08"] * 2, "channel": ["search", "social"] * 2,
                            "cost": [100.0, 50.0, 110.0, 55.0]})
    events = pd.DataFrame({"person_id": ["a", "b", "c"], "ts": ["2024-01-02 10:00", "2024-01-03 12:00", "2024-01-09 08:00"],
                           "channel": ["search", "search", "display"], "cost": [1.5, 2.5, 4.0]})
    with store.session():
        load_batch(store, "platform", summary)
        load_batch(store, "web", events, kind="events")
        add_rule(store, {"name": "spend", "status": "active", "granularity": {"unit": "week", "week_start": "Monday"},
                         "dimensions": {"channel": {"column": "channel"}}, "metrics": {"spend": {"sum": "cost"}}},
                 dataset="platform")
        add_rule(store, {"name": "spend", "status": "active", "granularity": "day",
                         "dimensions": {"channel": {"column": "channel"}}, "metrics": {"spend": {"sum": "cost"}}},
                 dataset="web")
    return store


def _spend(store):
    view = harmonized_view(store)
    return view.groupby(["channel"])["spend"].sum().to_dict()


def test_merge_preference_default_and_overrides(tmp_path):
    store = _merge_store(tmp_path)
    result = sync(store)
    # summary wins for search; display exists only in events, so it is kept
    assert _spend(store) == {"display": 4.0, "search": 210.0, "social": 105.0}
    assert "kept the summary data for 'spend' of channel 'search', dropped its event data" in result.notices[0]
    set_preference(store, "event")
    sync(store)
    assert _spend(store) == {"display": 4.0, "search": 4.0, "social": 105.0}
    set_preference(store, "sum")
    sync(store)
    assert _spend(store) == {"display": 4.0, "search": 214.0, "social": 105.0}
    set_preference(store, "summary")
    set_preference(store, "event", metric="spend", channel="search")
    sync(store)
    assert _spend(store) == {"display": 4.0, "search": 4.0, "social": 105.0}
    table = preferences(store).table()
    assert table.values.tolist() == [["(every metric)", "(every channel)", "summary"], ["spend", "search", "event"]]
    with pytest.raises(DataError, match="merge preference 'both' is not one of 'summary', 'event' or 'sum'"):
        set_preference(store, "both")
    with pytest.raises(DataError, match="no harmonized field named 'spnd'"):
        set_preference(store, "sum", metric="spnd")


def test_draft_rules_do_not_feed_the_view(tmp_path):
    store = _merge_store(tmp_path)
    set_status(store, "web", "spend", "draft")
    sync(store)
    assert _spend(store) == {"search": 210.0, "social": 105.0}
    set_status(store, "platform", "spend", "draft")
    with pytest.raises(DataError, match="no active rules"):
        sync(store)


def test_a_failed_sync_leaves_the_previous_view(tmp_path, monkeypatch):
    store = _merge_store(tmp_path)
    first = sync(store)
    before = harmonized_view(store, wide=False)
    load_batch(store, "platform", pd.DataFrame({"date": ["2024-01-15"], "channel": ["search"], "cost": [999.0]}))
    assert last_sync(store).stale
    monkeypatch.setattr(quality_module, "build_report", lambda con, sync_id: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        sync(store)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(harmonized_view(store, wide=False), before)
    info = last_sync(store)
    assert info.sync_id == first.sync_id and info.stale
    second = sync(store)
    assert second.sync_id == first.sync_id + 1 and not last_sync(store).stale
    assert harmonized_view(store)["spend"].max() == 999.0


def test_a_put_whole_summary_feeds_rules(tmp_path):
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=4, freq="7D").strftime("%Y-%m-%d"),
                          "tv": [1.0, 2, 3, 4], "revenue": [10.0, 20, 30, 40]})
    store.put("whole", harmonize_summary(frame), source="whole.csv")
    for rule in wide_rules("whole", {"unit": "week", "week_start": "Monday"}, {"tv": {"spend": "tv"}},
                           metrics={"revenue": "revenue"}):
        add_rule(store, rule)
    sync(store)
    view = harmonized_view(store)
    assert view.loc[view["channel"] == "tv", "spend"].tolist() == [1.0, 2, 3, 4]
    assert view.loc[view["channel"].isna(), "revenue"].tolist() == [10.0, 20, 30, 40]
    assert view["roas"].dropna().empty  # spend and revenue sit on different rows (channel vs none)


def test_factors_join_the_view_at_its_granularity(tmp_path):
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    load_batch(store, "spend", pd.DataFrame({"date": pd.date_range("2024-01-01", periods=9, freq="7D").strftime("%Y-%m-%d"),
                                             "tv": np.ones(9)}))
    add_rule(store, {"name": "tv", "status": "active", "granularity": {"unit": "week", "week_start": "Monday"},
                     "metrics": {"spend": {"sum": "tv"}}}, dataset="spend")
    load_batch(store, "index", pd.DataFrame({"date": ["2024-01-01", "2024-02-01"], "price": [100.0, 131.0]}),
               kind="factors")
    long = pd.DataFrame({"date": ["2024-02-01", "2024-02-01", "2024-03-01"], "factor": ["promo_days"] * 3,
                         "value": [4.0, 9.0, 3.0], "value_type": ["actual", "forecast", "forecast"]})
    load_batch(store, "promos", long, kind="factors", aggregation="sum", granularity="month")
    sync(store)
    factors = harmonized_factors(store).set_index(["factor", "date"])
    # week of 2024-01-29 has 3 January days at 100 and 4 February days at 131
    assert factors.loc[("price", pd.Timestamp("2024-01-29")), "value"] == pytest.approx((3 * 100 + 4 * 131) / 7)
    assert factors.loc[("price", pd.Timestamp("2024-01-22")), "value"] == 100.0
    # promo days: February's actual 4 (not the forecast 9) spread over its 29 days; 4 of them in that week
    assert factors.loc[("promo_days", pd.Timestamp("2024-01-29")), "value"] == pytest.approx(4 * 4 / 29)
    assert factors.loc[("promo_days", pd.Timestamp("2024-01-29")), "value_type"] == "actual"
    # the week of 2024-02-26 has February actual days and March forecast days
    assert factors.loc[("promo_days", pd.Timestamp("2024-02-26")), "value_type"] == "mixed"
    assert factors.loc[("promo_days", pd.Timestamp("2024-03-04")), "value_type"] == "forecast"
    feb_total = factors.xs("promo_days").loc["2024-01-29":"2024-02-26", "value"].sum()
    assert feb_total == pytest.approx(4.0 + 3.0 * 3 / 31)  # February's 4 days plus March 1-3 of the forecast
