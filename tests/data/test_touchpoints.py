"""Touchpoint, conversion and population definitions, and the frame a model reads from them.

A generated ad-platform export (weekly rows per channel, campaign and geo) and generated order
events; every expected series is recomputed here from those frames with pandas."""
import shutil

import numpy as np
import pandas as pd
import pytest

from mediamix.data import HarmonizedStore
from mediamix.data.datasets import load_batch
from mediamix.data.definitions import (
    definitions_table, define_conversion, define_population, define_touchpoint, remove_definition,
)
from mediamix.data.fields import set_unit
from mediamix.data.model_frame import conversion_report, touchpoint_frame, touchpoint_report
from mediamix.data.rules import add_rule
from mediamix.data.sync import sync
from mediamix.data.validate import DataProblems
from mediamix.errors import DataError, NotFoundError

WEEKS = pd.date_range("2024-01-01", periods=20, freq="7D")
CAMPAIGNS = {"search": ["brand_core", "generic_shoes"], "social": ["prospecting"], "tv": ["upfront"]}


def platform_export(seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for week in WEEKS:
        for channel, campaigns in CAMPAIGNS.items():
            for campaign in campaigns:
                for geo in ("US", "CA"):
                    spend = round(float(rng.uniform(100, 1000)), 2)
                    rows.append({"Week": week.strftime("%Y-%m-%d"), "Channel": channel, "Campaign": campaign,
                                 "Country": geo, "Cost": spend, "Clicks": int(rng.integers(10, 200)),
                                 "Impr": int(rng.integers(1000, 9000))})
    return pd.DataFrame(rows)


def order_events(seed=4, n=600):
    rng = np.random.default_rng(seed)
    stamps = WEEKS[0] + pd.to_timedelta(rng.integers(0, len(WEEKS) * 7 * 86_400, n), unit="s")
    return pd.DataFrame({"user_id": rng.integers(0, 300, n).astype(str), "ts": stamps,
                         "country": rng.choice(["US", "CA"], n), "order_value": rng.uniform(20, 90, n).round(2)})


def _build(path):
    store = HarmonizedStore(path)
    with store.session():
        _setup(store)
    return store


def _setup(store):
    load_batch(store, "platform", platform_export())
    load_batch(store, "shop", order_events(), kind="conversions")
    add_rule(store, {"name": "media", "status": "active", "granularity": {"unit": "week", "week_start": "Monday"},
                     "dimensions": {"channel": {"column": "Channel"}, "campaign": {"column": "Campaign"},
                                    "geo": {"column": "Country"}},
                     "metrics": {"spend": {"sum": "Cost"}, "clicks": {"sum": "Clicks"}, "impressions": {"sum": "Impr"}}},
             dataset="platform")
    add_rule(store, {"name": "orders", "status": "active", "granularity": "day",
                     "dimensions": {"conversion_type": {"value": "order"}, "geo": {"column": "country"}},
                     "metrics": {"orders": {"count": "*"}, "revenue": {"sum": "order_value"}}}, dataset="shop")
    define_touchpoint(store, "search_brand", where={"all_of": [{"field": "channel", "equals": "search"},
                                                               {"field": "campaign", "contains": "brand"}]},
                      spend="spend", volume="clicks")
    define_touchpoint(store, "search_generic", where={"all_of": [{"field": "channel", "equals": "search"},
                                                                 {"not": {"field": "campaign", "contains": "brand"}}]},
                      spend="spend", volume="clicks")
    define_touchpoint(store, "social", where={"field": "channel", "equals": "social"}, spend="spend",
                      volume="impressions")
    define_touchpoint(store, "tv", where={"field": "channel", "equals": "tv"}, spend="spend")
    define_conversion(store, "orders", conversion="orders", revenue="revenue",
                      where={"field": "conversion_type", "equals": "order"})
    define_population(store, "us", [{"conditions": [{"field": "geo", "equals": "US"}]}])
    sync(store)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("touchpoints") / "harmonized.duckdb")


@pytest.fixture
def store(built, tmp_path):
    """A private copy of the built store, for tests that change it."""
    path = tmp_path / "harmonized.duckdb"
    shutil.copy(built.path, path)
    return HarmonizedStore(path)


def _weekly(frame, mask, column):
    return frame[mask].groupby(pd.to_datetime(frame.loc[mask, "Week"]))[column].sum().reindex(WEEKS, fill_value=0)


def _weekly_orders(events, geo=None):
    events = events if geo is None else events[events["country"] == geo]
    weeks = events["ts"].dt.normalize() - pd.to_timedelta(events["ts"].dt.day_of_week, unit="D")
    return events.groupby(weeks.astype("datetime64[ns]")).agg(n=("ts", "size"), value=("order_value", "sum")).reindex(WEEKS)


def test_the_model_frame_holds_each_defined_series(built):
    frame = touchpoint_frame(built, ["search_brand", "social", "tv"], "orders")
    assert frame.columns.tolist() == ["date", "search_brand_spend", "search_brand_volume", "social_spend",
                                      "social_volume", "tv_spend", "conversion", "revenue"]
    export, events = platform_export(), order_events()
    brand = (export["Channel"] == "search") & export["Campaign"].str.contains("brand")
    np.testing.assert_allclose(frame["search_brand_spend"], _weekly(export, brand, "Cost"))
    np.testing.assert_allclose(frame["search_brand_volume"], _weekly(export, brand, "Clicks"))
    np.testing.assert_allclose(frame["social_volume"], _weekly(export, export["Channel"] == "social", "Impr"))
    np.testing.assert_allclose(frame["tv_spend"], _weekly(export, export["Channel"] == "tv", "Cost"))
    orders = _weekly_orders(events)
    np.testing.assert_allclose(frame["conversion"], orders["n"])
    np.testing.assert_allclose(frame["revenue"], orders["value"])
    assert frame["date"].tolist() == list(WEEKS)
    assert frame.attrs["granularity"] == "weekly, weeks starting on Monday"
    assert any("money metric 'spend' has no currency" in w for w in frame.attrs["warnings"])


def test_population_filter_restricts_touchpoints_and_conversions(built):
    frame = touchpoint_frame(built, ["search_generic"], "orders", population="us")
    export, events = platform_export(), order_events()
    generic = (export["Channel"] == "search") & ~export["Campaign"].str.contains("brand") & (export["Country"] == "US")
    np.testing.assert_allclose(frame["search_generic_spend"], _weekly(export, generic, "Cost"))
    np.testing.assert_allclose(frame["conversion"], _weekly_orders(events, "US")["n"])


def test_population_containers_combine_with_and_or(store):
    # (geo is US or CA) and (not a generic campaign): everything but the generic search rows
    define_population(store, "na_not_generic", [
        {"combine": "or", "conditions": [{"field": "geo", "equals": "US"}, {"field": "geo", "equals": "CA"}]},
        {"conditions": [{"not": {"field": "campaign", "contains": "generic"}}]},
    ])
    frame = touchpoint_frame(store, ["search_brand"], "orders", population="na_not_generic")
    assert frame["conversion"].sum() == len(order_events())  # orders have no campaign: kept
    with pytest.raises(DataProblems, match="touchpoint 'search_generic' matches no rows"):
        touchpoint_frame(store, ["search_generic"], "orders", population="na_not_generic")
    define_population(store, "us_or_social", [{"conditions": [{"field": "geo", "equals": "US"}]},
                                              {"conditions": [{"field": "channel", "equals": "social"}]}], combine="or")
    frame = touchpoint_frame(store, ["social", "tv"], "orders", population="us_or_social")
    export = platform_export()
    np.testing.assert_allclose(frame["social_spend"], _weekly(export, export["Channel"] == "social", "Cost"))
    us_tv = (export["Channel"] == "tv") & (export["Country"] == "US")
    np.testing.assert_allclose(frame["tv_spend"], _weekly(export, us_tv, "Cost"))


def test_by_geo_gives_one_row_per_period_and_geo(built):
    frame = touchpoint_frame(built, ["tv"], "orders", by_geo=True)
    assert frame.columns.tolist() == ["date", "geo", "tv_spend", "conversion", "revenue"]
    assert len(frame) == 2 * len(WEEKS) and sorted(frame["geo"].unique()) == ["CA", "US"]
    export = platform_export()
    ca = frame[frame["geo"] == "CA"].set_index("date")["tv_spend"]
    np.testing.assert_allclose(ca, _weekly(export, (export["Channel"] == "tv") & (export["Country"] == "CA"), "Cost"))


def test_mismatched_currencies_are_refused_unless_a_rate_is_given(store):
    with store.session():
        set_unit(store, "spend", "EUR")
        set_unit(store, "revenue", "USD")
        sync(store)
    with pytest.raises(DataProblems) as info:
        touchpoint_frame(store, ["tv", "social"], "orders")
    assert "touchpoint 'tv' spends in EUR but the revenue of conversion 'orders' is in USD; give an exchange rate, " \
           "e.g. rates={'EUR/USD': 1.08} (1 EUR = 1.08 USD), or the model is refused" in str(info.value)
    assert "touchpoint 'social' spends in EUR" in str(info.value)
    plain = touchpoint_frame(store, ["tv"], "orders", currency="EUR", rates={"USD/EUR": 0.5})
    converted = touchpoint_frame(store, ["tv"], "orders", rates={"EUR/USD": 1.1})
    np.testing.assert_allclose(converted["tv_spend"], plain["tv_spend"] * 1.1)
    assert converted.attrs["currency"] == "USD" and plain.attrs["currency"] == "EUR"
    np.testing.assert_allclose(plain["revenue"], converted["revenue"] * 0.5)  # revenue into EUR
    inverse = touchpoint_frame(store, ["tv"], "orders", rates={"USD/EUR": 1 / 1.1})
    np.testing.assert_allclose(inverse["tv_spend"], converted["tv_spend"])
    with pytest.raises(DataError, match="'EURUSD' is not a currency pair"):
        touchpoint_frame(store, ["tv"], "orders", rates={"EURUSD": 1.1})
    with pytest.raises(DataError, match="give a positive number"):
        touchpoint_frame(store, ["tv"], "orders", rates={"EUR/USD": -1})


def test_a_stale_view_is_refused(store):
    load_batch(store, "platform", platform_export(seed=9).head(4))
    with pytest.raises(DataError, match="was built before the latest changes .* run `mediamix data sync`"):
        touchpoint_frame(store, ["tv"], "orders")


def test_reports_show_each_series_with_its_rows(built):
    report = touchpoint_report(built, "social")
    assert report.columns.tolist() == ["date", "spend", "volume", "rows"]
    assert report["rows"].all() and len(report) == len(WEEKS)
    conversions = conversion_report(built, "orders", population="us")
    np.testing.assert_allclose(conversions["conversions"], _weekly_orders(order_events(), "US")["n"])


def test_definition_mistakes_are_named(store):
    with pytest.raises(DataError, match="spend metric 'clicks' is a count metric"):
        define_touchpoint(store, "x", where={"field": "channel", "equals": "tv"}, spend="clicks")
    with pytest.raises(DataError, match=r"field 'spend' \(in the condition of touchpoint 'x'\) is a metric"):
        define_touchpoint(store, "x", where={"field": "spend", "equals": "1"}, spend="spend")
    with pytest.raises(DataError, match="touchpoint name 'search brand' is not allowed"):
        define_touchpoint(store, "search brand", where={"field": "channel", "equals": "search"}, spend="spend")
    with pytest.raises(DataError, match="a touchpoint named 'tv' already exists"):
        define_touchpoint(store, "tv", where={"field": "channel", "equals": "tv"}, spend="spend")
    with pytest.raises(DataError, match="revenue metric 'orders' is a count metric"):
        define_conversion(store, "y", conversion="orders", revenue="orders")
    with pytest.raises(NotFoundError, match=r"no touchpoint named 'socail'\. Did you mean 'social'\?"):
        touchpoint_frame(store, ["socail"], "orders")
    with pytest.raises(NotFoundError, match=r"no population named 'uk'"):
        touchpoint_frame(store, ["tv"], "orders", population="uk")
    with pytest.raises(DataError, match="listed twice"):
        touchpoint_frame(store, ["tv", "tv"], "orders")
    table = definitions_table(store, "touchpoint")
    assert table["name"].tolist() == ["search_brand", "search_generic", "social", "tv"]
    remove_definition(store, "touchpoint", "tv")
    with pytest.raises(NotFoundError, match="no touchpoint named 'tv'"):
        touchpoint_frame(store, ["tv"], "orders")


def test_factors_join_the_frame_and_are_checked(store):
    with store.session():
        load_batch(store, "macro", pd.DataFrame({"date": WEEKS.strftime("%Y-%m-%d"), "price": np.linspace(1, 2, 20),
                                                 "flat": np.ones(20)}), kind="factors")
        load_batch(store, "short", pd.DataFrame({"date": WEEKS[:10].strftime("%Y-%m-%d"), "promo": np.arange(10.0)}),
                   kind="factors")
        sync(store)
    frame = touchpoint_frame(store, ["tv"], "orders", factors=["price"])
    np.testing.assert_allclose(frame["price"], np.linspace(1, 2, 20))
    with pytest.raises(DataProblems, match=r"factor 'flat' does not vary over the model's periods"):
        touchpoint_frame(store, ["tv"], "orders", factors=["flat"])
    with pytest.raises(DataProblems, match=r"factor 'promo' has no value in 10 of 20 weeks: 2024-03-11 … 2024-05-13"):
        touchpoint_frame(store, ["tv"], "orders", factors=["promo"])
    with pytest.raises(DataError, match=r"no factor named 'prize'.*Did you mean 'price'\?"):
        touchpoint_frame(store, ["tv"], "orders", factors=["prize"])


def test_model_data_is_summary_data_named_for_the_model(built):
    from mediamix.data.model_frame import model_data
    from mediamix.data import Cadence, check_model_columns

    data = model_data(built, ["search_brand", "tv"], "orders")
    assert data.cadence == Cadence("week", "Monday") and not data.geo_column_present
    assert data.metric_columns == ["search_brand_spend", "search_brand_volume", "tv_spend", "orders", "orders_revenue"]
    assert any("no currency" in n for n in data.notices)
    # the main job's own checks read it as they read any summary data set
    assert check_model_columns(data, target="orders", spend_columns=["search_brand_spend", "tv_spend"],
                               volume_columns=["search_brand_volume"]) == []


def test_a_model_spec_names_defined_touchpoints_through_the_harmonized_view(built):
    from mediamix.data.model_frame import HARMONIZED, model_data
    from mediamix.data import check_model_columns
    from mediamix.model.spec import ModelSpec

    spec = ModelSpec.from_dict({"name": "m", "data": HARMONIZED, "conversion": "orders",
                                "touchpoints": ["search_brand", {"name": "social", "volume": "social_volume"}]})
    data = model_data(built, [t.name for t in spec.touchpoints], spec.conversion)
    check_model_columns(data, target=spec.conversion, spend_columns=[t.spend for t in spec.touchpoints],
                        volume_columns=[t.volume for t in spec.touchpoints if t.volume])
