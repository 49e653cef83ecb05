import numpy as np
import pandas as pd
import pytest

from mediamix.attribution import heuristics
from mediamix.attribution.journeys import build_journeys
from mediamix.attribution.markov import markov
from mediamix.attribution.paths import PathTable
from mediamix.attribution.summary import (attribution_tab, channel_totals, credit_trend, position_breakdown,
                                          top_paths, touchpoint_effectiveness)
from mediamix.errors import DataError

# B22 paths (conversions, nulls):
#   1 search > email > search > display           40, 60
#   2 search > search > search                    25, 75
#   3 display > search > display > email > display 20, 30
#   4 email                                        10, 90
#   5 social > search                              15, 35


@pytest.fixture
def b22(shared_cases):
    return PathTable.from_csv(shared_cases / "B22_repeated_touchpoints.csv")


def test_position_breakdown_by_hand(b22):
    table = position_breakdown(b22).set_index("channel")
    # search: starter 40 (p1) + 25 (p2); player 40 (p1) + 25 (p2) + 20 (p3); closer 25 (p2) + 15 (p5)
    #   -> 65 / 85 / 40 of 190 touches.
    assert table.loc["search", ["starter", "player", "closer"]].tolist() == pytest.approx(
        [100 * 65 / 190, 100 * 85 / 190, 100 * 40 / 190])
    # display: starter 20 (p3), player 20 (p3), closer 40 (p1) + 20 (p3) -> 20 / 20 / 60 of 100.
    assert table.loc["display", ["starter", "player", "closer"]].tolist() == pytest.approx([20, 20, 60])
    # email: player 40 (p1) + 20 (p3); the 1-touch path 4 counts half starter, half closer (5 + 5).
    assert table.loc["email", ["starter", "player", "closer"]].tolist() == pytest.approx(
        [100 * 5 / 70, 100 * 60 / 70, 100 * 5 / 70])
    assert table.loc["social", ["starter", "player", "closer"]].tolist() == pytest.approx([100, 0, 0])
    assert np.allclose(table[["starter", "player", "closer"]].sum(axis=1), 100)


def test_top_paths_by_hand(b22):
    top = top_paths(b22)
    assert top.path.tolist() == ["search > email > search > display", "search > search > search",
                                 "display > search > display > email > display", "social > search", "email"]
    assert top.conversions.tolist() == [40, 25, 20, 15, 10]
    assert top.share.tolist() == pytest.approx([40 / 110, 25 / 110, 20 / 110, 15 / 110, 10 / 110])
    assert top.conversion_rate.tolist() == pytest.approx([0.4, 0.25, 0.4, 0.3, 0.1])
    assert top_paths(b22, n=2)["rank"].tolist() == [1, 2]


def test_touchpoint_effectiveness_by_hand(b22):
    table = touchpoint_effectiveness(b22).set_index("channel")
    # search is on paths 1, 2, 3, 5 (repeats count once): 100 of 110 conversions, 200 of 290 nulls.
    assert table.loc["search", "converting_share"] == pytest.approx(100 / 110)
    assert table.loc["search", "non_converting_share"] == pytest.approx(200 / 290)
    assert table.loc["search", "conversion_rate"] == pytest.approx(100 / 300)
    # email is on paths 1, 3, 4: 70 conversions, 180 nulls.
    assert table.loc["email", "converting_share"] == pytest.approx(70 / 110)
    assert table.loc["email", "ratio"] == pytest.approx((70 / 110) / (180 / 290))
    assert table.loc["display", "conversion_rate"] == pytest.approx(60 / 150)


def test_channel_totals_table(b22):
    results = {**heuristics.rule_based(b22), "markov": markov(b22).attribution}
    table = channel_totals(results).set_index("channel")
    assert list(table.columns) == ["first_touch", "last_touch", "linear", "position", "markov"]
    assert table.sum().tolist() == pytest.approx([110] * 5)
    assert table.loc["social", "last_touch"] == 0
    with pytest.raises(DataError, match="no model results"):
        channel_totals({})


@pytest.fixture
def dp6(shared_data):
    ev = pd.read_csv(shared_data / "dp6-marketing-attribution-models" / "test_dataset_multiple_conversions.csv")
    return build_journeys(ev, lookback="30D", value="n_purchases")


def test_weekly_and_monthly_trends_of_linear_credit(dp6):
    # Conversions: A Thu 2022-01-20 (direct > google_ads > direct), C and D1 Mon 2022-02-21,
    # D2 Sun 2022-02-27 (same Monday-to-Sunday week as 02-21), E Mon 2022-03-21 (2 purchases).
    weekly = credit_trend(dp6, "linear", "weekly").set_index(["period", "channel"])
    week = pd.Timestamp("2022-02-21")
    # direct: C 2/3 + D1 2/3 + D2 3/4; seo: D1 1/3 + D2 1/4; crm: C 1/3.
    assert weekly.loc[(week, "direct"), "conversions"] == pytest.approx(2 / 3 + 2 / 3 + 3 / 4)
    assert weekly.loc[(week, "seo"), "conversions"] == pytest.approx(1 / 3 + 1 / 4)
    assert weekly.loc[(pd.Timestamp("2022-01-17"), "google_ads"), "conversions"] == pytest.approx(1 / 3)
    assert weekly.loc[(pd.Timestamp("2022-03-21"), "direct"), "value"] == pytest.approx(4 / 3)  # 2 x 2/3
    monthly = credit_trend(dp6, "linear", "monthly").set_index(["period", "channel"])
    assert monthly.loc[(pd.Timestamp("2022-02-01"), "direct"), "conversions"] == pytest.approx(2 / 3 + 2 / 3 + 3 / 4)
    daily = credit_trend(dp6, "first_touch", "daily")
    assert daily.conversions.sum() == pytest.approx(5)
    with pytest.raises(DataError, match="frequency"):
        credit_trend(dp6, "linear", "hourly")


def test_attribution_tab_has_every_table(dp6, b22):
    tab = attribution_tab(dp6)
    assert {"totals", "positions", "top_paths", "effectiveness", "trend_daily", "trend_weekly",
            "trend_monthly"} <= set(tab)
    assert {"time_decay", "markov", "shapley"} <= set(tab["totals"].columns)
    assert tab["totals"].drop(columns="channel").sum().tolist() == pytest.approx([5.0] * 7)
    no_time = attribution_tab(b22, include_shapley=False)
    assert "trend_weekly" not in no_time and "time_decay" not in no_time["totals"].columns
    with pytest.raises(DataError, match="conversion timestamps"):
        credit_trend(b22)
