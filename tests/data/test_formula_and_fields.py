"""Derived-metric formulas (parsed by hand, no eval) and the harmonized field catalogue."""
import duckdb
import numpy as np
import pandas as pd
import pytest

from mediamix.data import HarmonizedStore
from mediamix.data.fields import (
    BUILTIN_FIELDS, Field, add_field, catalogue, evaluate_metric, fields_table, metric_components, remove_field,
    set_unit,
)
from mediamix.data.formula import parse_formula
from mediamix.errors import DataError


@pytest.fixture
def store(tmp_path):
    return HarmonizedStore(tmp_path / "harmonized.duckdb")


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("10 - 4 - 3", 3.0),        # left to right
    ("12 / 3 / 2", 2.0),
    ("-2 * -(3 + 1)", 8.0),
    ("2.5e1 / .5", 50.0),
    ("+4 - -1", 5.0),
    ("((((7))))", 7.0),
])
def test_numbers_follow_arithmetic_precedence(text, expected):
    assert parse_formula(text).evaluate({}) == expected


def test_names_sql_and_pandas_agree():
    formula = parse_formula("(revenue - spend) / spend * 100")
    assert formula.names == ("revenue", "spend")
    frame = pd.DataFrame({"revenue": [150.0, 80.0, 10.0], "spend": [100.0, 100.0, 0.0]})
    by_pandas = formula.evaluate({"revenue": frame["revenue"], "spend": frame["spend"]})
    # independent values: 50 %, -20 %, and no spend gives no ratio (not infinity)
    np.testing.assert_allclose(by_pandas.to_numpy()[:2], [50.0, -20.0])
    assert np.isnan(by_pandas.iloc[2])
    sql = formula.to_sql(lambda n: f'"{n}"')
    by_sql = duckdb.sql(f"SELECT {sql} AS r FROM frame").df()["r"]
    np.testing.assert_allclose(by_sql.to_numpy()[:2], [50.0, -20.0])
    assert pd.isna(by_sql.iloc[2])


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('x')", r"at character 12: \"'\" is not allowed"),
    ("sqrt(spend)", r"sqrt\(\.\.\.\) looks like a function call; formulas have no functions"),
    ("spend ** 2", r"'\*\*' is not allowed"),
    ("spend ^ 2", r"powers are not supported"),
    ("spend; DROP TABLE fields", r"';' is not allowed"),
    ("(spend / clicks", r"a parenthesis is opened but not closed"),
    ("spend / clicks)", r"a closing parenthesis without its opening one"),
    ("spend /", r"the formula ends where a name or number is expected"),
    ("spend clicks", r"unexpected 'clicks'; put an operator"),
    ("spend * \"x\"", r"'\"' is not allowed"),
    ("   ", r"a formula is empty"),
    ("-" * 50 + "1", r"nests more than 40 levels"),
])
def test_unsafe_or_broken_formulas_are_refused_with_position(text, message):
    with pytest.raises(DataError, match=message):
        parse_formula(text)


def test_error_names_the_character_position():
    with pytest.raises(DataError, match=r"at character 7: '%' is not allowed"):
        parse_formula("spend % clicks")


def test_builtin_catalogue_has_the_issue_fields(store):
    fields = catalogue(store)
    for name in ("channel", "campaign", "media_type", "geo", "brand", "conversion_type"):
        assert fields[name].role == "dimension"
    for name in ("spend", "impressions", "clicks", "orders", "revenue"):
        assert fields[name].role == "metric"
    assert fields["spend"].kind == "money" and fields["revenue"].kind == "money"
    assert fields["cpc"].formula == "spend / clicks"
    table = fields_table(store)
    assert table["role"].tolist() == sorted(table["role"].tolist(), key=["dimension", "metric", "derived"].index)


def test_user_fields_units_and_derived_metrics_persist(store):
    add_field(store, "store_visits", "metric", kind="count", unit="visits", description="footfall")
    add_field(store, "region_type", "dimension")
    add_field(store, "cost_per_visit", "derived", kind="money", formula="spend / store_visits")
    set_unit(store, "spend", "eur")
    reopened = catalogue(HarmonizedStore(store.path))
    assert reopened["store_visits"] == Field("store_visits", "metric", "count", "visits", None, "footfall")
    assert reopened["spend"].currency == "EUR" and reopened["spend"].builtin
    assert metric_components("cost_per_visit", reopened) == ("spend", "store_visits")
    sums = {"spend": pd.Series([100.0, 50.0]), "store_visits": pd.Series([20.0, 0.0])}
    values = evaluate_metric("cost_per_visit", reopened, sums)
    assert values.iloc[0] == 5.0 and np.isnan(values.iloc[1])


def test_field_mistakes_are_named(store):
    with pytest.raises(DataError, match="field name 'Spend EUR' is not allowed"):
        add_field(store, "Spend EUR", "metric")
    with pytest.raises(DataError, match="'date' is reserved"):
        add_field(store, "date", "dimension")
    with pytest.raises(DataError, match="already exists"):
        add_field(store, "spend", "metric")
    with pytest.raises(DataError, match=r"no harmonized field named 'clickz' in the formula of 'x'\. Did you mean 'clicks'\?"):
        add_field(store, "x", "derived", formula="spend / clickz")
    with pytest.raises(DataError, match="'channel' in the formula of 'y' is a dimension"):
        add_field(store, "y", "derived", formula="spend / channel")
    with pytest.raises(DataError, match="currency 'dollars' is not a three-letter code"):
        add_field(store, "spend_local", "metric", kind="money", unit="dollars")
    with pytest.raises(DataError, match="role 'measure' is not one of 'dimension', 'metric' or 'derived'"):
        add_field(store, "z", "measure")
    add_field(store, "a_ratio", "derived", formula="spend / clicks")
    with pytest.raises(DataError, match="built-in field and cannot be removed"):
        remove_field(store, "spend")
    with pytest.raises(DataError, match="used by derived metric 'b_ratio'"):
        add_field(store, "b_ratio", "derived", formula="a_ratio * 2")
        remove_field(store, "a_ratio")
    remove_field(store, "b_ratio")
    remove_field(store, "a_ratio")
    assert "a_ratio" not in catalogue(store)


def test_derived_loops_are_refused():
    fields = dict(BUILTIN_FIELDS)
    fields["p"] = Field("p", "derived", "number", formula="q + 1")
    fields["q"] = Field("q", "derived", "number", formula="p * 2")
    from mediamix.data.fields import check_formula
    with pytest.raises(DataError, match="in a loop: p -> q -> p"):
        check_formula(fields["p"], fields)
