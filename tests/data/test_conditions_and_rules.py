"""Case conditions compiled to SQL (checked against plain Python), and rules stored per data set."""
import duckdb
import pandas as pd
import pytest

from mediamix.data import HarmonizedStore
from mediamix.data.conditions import parse_condition, subjects, to_dict, to_sql
from mediamix.data.datasets import load_batch
from mediamix.data.fields import add_field, set_unit
from mediamix.data.granularity import Granularity, view_granularity
from mediamix.data.rules import Rule, activate, add_rule, get_rule, remove_rule, rules_table, set_status, wide_rules
from mediamix.data.sql import ident
from mediamix.errors import DataError, NotFoundError

CAMPAIGNS = ["Brand_US", "brand_uk", "NB_shoes", "Generic", None, "O'Brien brand", "prospecting-BRAND"]
FRAME = pd.DataFrame({"campaign": CAMPAIGNS, "store": [101, 102, 101, 103, None, 104, 105]})


def _select(condition, key="column"):
    parsed = parse_condition(condition, key=key)
    sql = to_sql(parsed, ident, lambda c: c == "store")
    return duckdb.sql(f"SELECT {sql} AS hit FROM FRAME").df()["hit"].tolist()


def _expected(test):
    return [bool(test(c if c is not None else "", s)) for c, s in zip(CAMPAIGNS, FRAME["store"])]


@pytest.mark.parametrize("condition, test", [
    ({"column": "campaign", "equals": "Generic"}, lambda c, s: c == "Generic"),
    ({"column": "campaign", "equals": ["Generic", "NB_shoes"]}, lambda c, s: c in ("Generic", "NB_shoes")),
    ({"column": "campaign", "contains": "brand"}, lambda c, s: "brand" in c),
    ({"column": "campaign", "contains": "brand", "ignore_case": True}, lambda c, s: "brand" in c.lower()),
    ({"column": "campaign", "starts_with": "NB_"}, lambda c, s: c.startswith("NB_")),
    ({"column": "campaign", "ends_with": "BRAND"}, lambda c, s: c.endswith("BRAND")),
    ({"column": "campaign", "exists": True}, lambda c, s: c != ""),
    ({"column": "campaign", "exists": False}, lambda c, s: c == ""),
    ({"not": {"column": "campaign", "contains": "brand"}}, lambda c, s: "brand" not in c),
    ({"column": "campaign", "contains": "O'Brien"}, lambda c, s: "O'Brien" in c),
    ({"column": "store", "equals": 101}, lambda c, s: s == 101),
    ({"column": "store", "equals": "101"}, lambda c, s: s == 101),  # numbers compare as numbers
    ({"any_of": [{"column": "campaign", "starts_with": "NB"}, {"column": "store", "equals": 103}]},
     lambda c, s: c.startswith("NB") or s == 103),
    ({"all_of": [{"column": "campaign", "contains": "brand", "ignore_case": True},
                 {"not": {"column": "campaign", "starts_with": "Brand"}}]},
     lambda c, s: "brand" in c.lower() and not c.startswith("Brand")),
    ({"column": "campaign", "op": "ends_with", "value": "_uk"}, lambda c, s: c.endswith("_uk")),
])
def test_conditions_select_the_rows_plain_python_selects(condition, test):
    assert _select(condition) == _expected(test)


def test_conditions_round_trip_and_name_their_subjects():
    raw = {"any_of": [{"field": "channel", "equals": ["search", "shopping"]},
                      {"not": {"field": "campaign", "contains": "brand", "ignore_case": True}}]}
    parsed = parse_condition(raw, key="field")
    assert to_dict(parsed, key="field") == raw
    assert subjects(parsed) == ("channel", "campaign")


@pytest.mark.parametrize("raw, message", [
    ({"column": "c", "like": "x%"}, r"'like' is not a test; tests are 'equals', 'contains'"),
    ({"column": "c", "equals": "a", "contains": "b"}, "give exactly one test"),
    ({"field": "channel", "equals": "a"}, r"conditions here test columns, not fields"),
    ({"any_of": []}, "needs a non-empty list"),
    ({"any_of": [{"column": "c", "exists": True}], "column": "d"}, "stands alone"),
    ({"column": "c", "exists": "yes"}, "exists is true or false"),
    ({"column": "c", "equals": None}, "needs text or a number"),
    ("channel = search", "a condition is a mapping"),
])
def test_condition_mistakes_are_named(raw, message):
    with pytest.raises(DataError, match=message):
        parse_condition(raw, where="rule 'x'")


def test_granularity_declarations_and_the_coarsest():
    assert Granularity("weekly", "sun").week_start == "Sunday"
    with pytest.raises(DataError, match="needs its week_start"):
        Granularity("week")
    with pytest.raises(DataError, match="'fortnight' is not one of 'day', 'week' or 'month'"):
        Granularity("fortnight")
    monday, sunday = Granularity("week", "Monday"), Granularity("week", "Sunday")
    view, notices = view_granularity([("a", Granularity("day"), False), ("b", monday, False), ("c", sunday, True)])
    assert view == monday and notices == []  # events follow the dated rows' weeks
    with pytest.raises(DataError, match=r"weekly rules disagree .*'a' start weeks on Monday; 'b' start weeks on Sunday"):
        view_granularity([("a", monday, False), ("b", sunday, False)])
    view, notices = view_granularity([("a", monday, False), ("b", sunday, False)], week_start="Sunday")
    assert view == sunday and "'a'" in notices[0] and "spread evenly" in notices[0]
    assert view_granularity([("a", monday, False), ("b", Granularity("month"), False)])[0] == Granularity("month")


def test_period_sql_matches_pandas_periods():
    days = pd.DataFrame({"d": pd.date_range("2023-12-20", "2024-03-10", freq="D")})
    for g in (Granularity("day"), Granularity("week", "Monday"), Granularity("week", "Sunday"),
              Granularity("week", "Thursday"), Granularity("month")):
        got = duckdb.sql(f"SELECT {g.period_sql('CAST(d AS DATE)')} AS p FROM days").df()["p"]
        if g.unit == "week":
            start = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"].index(g.week_start)
            expected = days["d"].map(lambda d: d - pd.Timedelta(days=(d.weekday() - start) % 7))
        elif g.unit == "month":
            expected = days["d"].dt.to_period("M").dt.start_time
        else:
            expected = days["d"]
        assert pd.to_datetime(got).tolist() == expected.tolist(), g


@pytest.fixture
def store(tmp_path):
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    ads = pd.DataFrame({"date": ["2024-01-01", "2024-01-01"], "Network": ["Search", "Display"],
                        "Campaign": ["brand_x", "prospecting"], "Cost": [10.0, 20.0], "Clicks": [3, 4]})
    load_batch(store, "ads", ads)
    return store


RULE = {
    "name": "search", "granularity": {"unit": "week", "week_start": "Monday"},
    "when": {"column": "Network", "equals": "Search"},
    "dimensions": {"channel": {"value": "search"}, "campaign": {"column": "Campaign"},
                   "brand": {"case": [{"when": {"column": "Campaign", "contains": "brand"}, "then": "brand"}],
                             "else": "generic"}},
    "metrics": {"spend": {"sum": "Cost", "currency": "USD"}, "clicks": {"sum": "Clicks"}, "orders": {"count": "*"}},
}


def test_rules_are_stored_as_drafts_and_activated(store):
    rule = add_rule(store, RULE, dataset="ads")
    assert rule.status == "draft"
    assert get_rule(store, "ads", "search") == rule
    assert Rule.from_dict(rule.to_dict()) == rule
    table = rules_table(store)
    assert table[["dataset", "name", "status", "granularity"]].values.tolist() == [
        ["ads", "search", "draft", "weekly, weeks starting on Monday"]]
    assert table.loc[0, "dimensions"] == "channel, campaign, brand"
    assert activate(store, "ads", "search").status == "active"
    assert set_status(store, "ads", "search", "draft").status == "draft"
    with pytest.raises(DataError, match="already has a rule 'search'"):
        add_rule(store, RULE, dataset="ads")
    add_rule(store, {**RULE, "status": "active"}, dataset="ads", replace_existing=True)
    assert get_rule(store, "ads", "search").status == "active"
    remove_rule(store, "ads", "search")
    with pytest.raises(NotFoundError, match="has no rule named 'search'; its rules: none yet"):
        get_rule(store, "ads", "search")


@pytest.mark.parametrize("change, message", [
    ({"dimensions": {"chanel": {"value": "x"}}}, r"no harmonized field named 'chanel' \(a dimension of rule 'search'.*Did you mean 'channel'\?"),
    ({"dimensions": {"spend": {"value": "x"}}}, r"field 'spend' \(a dimension of rule 'search' of data set 'ads'\) is a metric"),
    ({"metrics": {"channel": {"sum": "Cost"}}}, r"is a dimension, but a metric is needed"),
    ({"metrics": {"cpc": {"sum": "Cost"}}}, r"is a derived, but a metric is needed"),
    ({"metrics": {"spend": {"sum": "cost"}}}, r"data set 'ads' has no column 'cost'\. Did you mean 'Cost'\?"),
    ({"metrics": {"spend": {"sum": "Campaign"}}}, r"sums column 'Campaign' into 'spend', but the column holds varchar values"),
    ({"metrics": {"clicks": {"sum": "Clicks", "currency": "USD"}}}, r"'clicks' is a count metric; only money metrics take a currency"),
    ({"metrics": {}}, r"sets no metrics"),
    ({"when": {"column": "network", "equals": "Search"}}, r"no column 'network'"),
    ({"granularity": "fortnight"}, r"granularity 'fortnight' is not one of"),
    ({"status": "live"}, r"status 'live' is not one of 'draft' or 'active'"),
    ({"colour": "red"}, r"unknown key\(s\) \['colour'\]"),
])
def test_rule_mistakes_are_named(store, change, message):
    with pytest.raises(DataError, match=message):
        add_rule(store, {**RULE, **change}, dataset="ads")


def test_currency_of_a_rule_must_match_its_metric(store):
    set_unit(store, "spend", "EUR")
    with pytest.raises(DataError, match=r"maps USD amounts into 'spend', whose currency is EUR; map them into a metric of their own \(e\.g\. spend_usd"):
        add_rule(store, RULE, dataset="ads")
    add_field(store, "spend_usd", "metric", kind="money", unit="USD")
    add_rule(store, {**RULE, "metrics": {"spend_usd": {"sum": "Cost", "currency": "USD"}}}, dataset="ads")


def test_rules_need_an_existing_data_set(store):
    with pytest.raises(NotFoundError, match="no data set named 'adz'; data sets: 'ads'"):
        add_rule(store, RULE, dataset="adz")


def test_wide_rules_cover_every_channel():
    rules = wide_rules("robyn", {"unit": "week", "week_start": "Monday"},
                       {"tv": {"spend": "tv_S"}, "facebook": {"spend": "facebook_S", "impressions": "facebook_I"}},
                       metrics={"revenue": "revenue"})
    assert [r.name for r in rules] == ["channel tv", "channel facebook", "totals"]
    assert rules[1].to_dict()["metrics"] == {"spend": {"sum": "facebook_S"}, "impressions": {"sum": "facebook_I"}}
    assert all(r.status == "active" for r in rules)
