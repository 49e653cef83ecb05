"""check_model_columns on small frames whose problems are known by construction."""
import numpy as np
import pandas as pd
import pytest

from mediamix.data import check_model_columns, harmonize_summary
from mediamix.data.validate import DataProblems
from mediamix.errors import DataError

from .helpers import weekly


def _data(n=8, **columns):
    base = {"tv": None, "search": None, "revenue": None, "price": None}
    base.update(columns)
    return harmonize_summary(weekly(n, **base))


def _problems(data, **kw):
    kw.setdefault("target", "revenue")
    kw.setdefault("spend_columns", ["tv", "search"])
    with pytest.raises(DataProblems) as info:
        check_model_columns(data, **kw)
    return info.value.problems


def test_clean_data_passes_with_no_warnings():
    assert check_model_columns(_data(), target="revenue", spend_columns=["tv", "search"], factor_columns=["price"]) == []


def test_missing_column_suggests_close_match_and_lists_columns():
    (problem,) = _problems(_data(), spend_columns=["tv", "serch"])
    assert problem.startswith("spend column 'serch' is not in the data. Did you mean 'search'?")
    assert "Available columns: 'tv', 'search', 'revenue', 'price'" in problem


def test_case_only_difference_is_suggested():
    (problem,) = _problems(_data(), target="Revenue")
    assert "Did you mean 'revenue'?" in problem


def test_all_problems_reported_together():
    values = np.full(8, 100.0)
    values[2] = -5.0
    data = _data(tv=np.zeros(8), search=values, price=np.full(8, 3.0))
    problems = _problems(data, volume_columns=["impr"], factor_columns=["price"])
    assert len(problems) == 4
    joined = "\n".join(problems)
    assert "volume column 'impr' is not in the data" in joined
    assert "channel 'tv' has zero spend in all 8 periods" in joined
    assert "search has 1 negative value: 2022-01-17 \u22125" in joined
    assert "factor 'price' does not vary over time; remove it from the model" in joined
    with pytest.raises(DataError, match="^4 problems with the model's data:\n  - "):
        check_model_columns(data, target="revenue", spend_columns=["tv", "search"], volume_columns=["impr"], factor_columns=["price"])


def test_nan_in_used_column_names_count_and_dates():
    tv = np.arange(1.0, 9.0)
    tv[[1, 4]] = np.nan
    (problem,) = _problems(_data(tv=tv))
    assert problem.startswith("spend column 'tv' has 2 missing values between 2022-01-03 and 2022-02-21: 2022-01-10, 2022-01-31")


def test_nan_outside_window_is_ignored():
    tv = np.arange(1.0, 9.0)
    tv[0] = np.nan
    data = _data(tv=tv)
    assert check_model_columns(data, target="revenue", spend_columns=["tv"], start="2022-01-10") == []


def test_nan_in_unused_column_is_ignored():
    price = np.full(8, np.nan)
    assert check_model_columns(_data(price=price), target="revenue", spend_columns=["tv"]) == []


def test_infinite_values_flagged():
    tv = np.arange(1.0, 9.0)
    tv[3] = np.inf
    (problem,) = _problems(_data(tv=tv))
    assert "1 missing or infinite value between" in problem and "2022-01-24" in problem


def test_negative_volume():
    data = _data(impressions=[10, 20, -3, 40, 50, 60, 70, -8])
    (problem,) = _problems(data, volume_columns=["impressions"])
    assert problem == (
        "impressions has 2 negative values: 2022-01-17 \u22123, 2022-02-21 \u22128; "
        "fix the export or model it as a signed factor"
    )


def test_zero_volume_everywhere():
    (problem,) = _problems(_data(impressions=np.zeros(8)), volume_columns=["impressions"])
    assert problem == "volume column 'impressions' is zero in all 8 periods; drop it or supply data"


def test_zero_spend_counts_periods_in_window():
    data = _data(tv=np.r_[np.full(4, 5.0), np.zeros(4)])
    (problem,) = _problems(data, start="2022-01-31")
    assert problem == "channel 'tv' has zero spend in all 4 periods; drop it or supply data"


def test_text_target_or_spend_refused():
    data = _data(tv=["a", "b"] * 4)
    (problem,) = _problems(data)
    assert problem.startswith("spend column 'tv' holds text, not numbers (e.g. 'a')")


def test_target_all_zero_and_constant():
    assert _problems(_data(revenue=np.zeros(8))) == (
        "target 'revenue' is zero in all 8 periods; choose the column that holds the conversions or revenue",
    )
    (problem,) = _problems(_data(revenue=np.full(8, 7.0)))
    assert problem.startswith("target 'revenue' is 7 in all 8 periods")


def test_constant_categorical_factor():
    data = _data(event=["none"] * 8)
    (problem,) = _problems(data, factor_columns=["event"])
    assert problem == "factor 'event' does not vary over time; remove it from the model"


def test_varying_categorical_factor_passes():
    data = _data(event=["none"] * 7 + ["launch"])
    assert check_model_columns(data, target="revenue", spend_columns=["tv"], factor_columns=["event"]) == []


def test_three_constant_factors_listed():
    data = _data(a=np.ones(8), b=np.ones(8) * 2, c=["x"] * 8)
    (problem,) = _problems(data, factor_columns=["a", "b", "c"])
    assert problem == "factors 'a', 'b' and 'c' do not vary over time; remove them from the model"


def test_factor_constant_within_each_geo_is_constant_over_time():
    a = weekly(4, tv=[1.0, 2, 3, 4], revenue=[5.0, 6, 7, 8], population=100.0).assign(geo="a")
    b = weekly(4, tv=[1.0, 2, 3, 4], revenue=[5.0, 6, 7, 9], population=900.0).assign(geo="b")
    data = harmonize_summary(pd.concat([a, b]))
    with pytest.raises(DataError, match="factor 'population' does not vary over time"):
        check_model_columns(data, target="revenue", spend_columns=["tv"], factor_columns=["population"])


def test_nan_in_geo_panel_names_geo():
    a = weekly(3, tv=[1.0, np.nan, 3], revenue=[5.0, 6, 7]).assign(geo="a")
    b = weekly(3, tv=[1.0, 2, 3], revenue=[5.0, 6, 8]).assign(geo="b")
    data = harmonize_summary(pd.concat([a, b]))
    with pytest.raises(DataError, match=r"1 missing value .*: 2022-01-10 \(a\)"):
        check_model_columns(data, target="revenue", spend_columns=["tv"])


def test_scale_warning_small_factor_and_indicator_exempt():
    data = _data(tv=np.full(8, 5e4) + np.arange(8), ratio=np.linspace(0.01, 0.02, 8), promo=[0, 1] * 4)
    warnings = check_model_columns(data, target="revenue", spend_columns=["tv"], factor_columns=["ratio", "promo"])
    assert len(warnings) == 1
    # mean 0.015 against spend 50003.5: log10 ratio -6.5, about 7 orders below
    assert warnings[0].startswith("factor 'ratio' (typical 0.015, about 7 orders of magnitude below) differs")
    assert "promo" not in warnings[0]


def test_duplicate_roles_refused():
    problems = _problems(_data(), spend_columns=["tv", "tv"], factor_columns=["revenue"])
    assert "column 'tv' is listed twice as spend; give each column one role" in problems
    assert "column 'revenue' is used as both target and factor; give each column one role" in problems


def test_no_spend_columns():
    assert "no spend columns given" in _problems(_data(), spend_columns=[])[0]


def test_window_outside_data_and_bad_window():
    data = _data()
    with pytest.raises(DataError, match="no rows between 2030-01-01 and the end; the data covers 2022-01-03 to 2022-02-21"):
        check_model_columns(data, target="revenue", spend_columns=["tv"], start="2030-01-01")
    with pytest.raises(DataError, match="window start 'soon' is not a date"):
        check_model_columns(data, target="revenue", spend_columns=["tv"], start="soon")


def test_a_lone_string_is_one_column():
    assert check_model_columns(_data(), target="revenue", spend_columns="tv", factor_columns="price") == []


def test_window_problem_reported_with_name_problems():
    problems = _problems(_data(), spend_columns=["tvv"], start="2030-01-01")
    assert len(problems) == 2 and "'tvv'" in problems[0] and problems[1].startswith("no rows between 2030-01-01")
