"""The data cases of ../shared/cases (B01-B18) and the behaviour each expects."""
import pandas as pd
import pytest

from mediamix.data import check_model_columns, harmonize_summary, read_table
from mediamix.errors import DataError

CHANNELS = ["tv", "search", "social"]


def _load(cases, name, **options):
    return harmonize_summary(read_table(cases / name), **options)


def test_b01_all_zero_channel(shared_cases):
    data = _load(shared_cases, "B01_all_zero_channel.csv")
    with pytest.raises(DataError) as info:
        check_model_columns(data, target="revenue", spend_columns=CHANNELS, factor_columns=["promo"])
    assert str(info.value) == "channel 'social' has zero spend in all 104 periods; drop it or supply data"
    # dropping it, as the message says, passes
    assert check_model_columns(data, target="revenue", spend_columns=["tv", "search"], factor_columns=["promo"]) == []


def test_b02_geo_missing_weeks_stops(shared_cases):
    with pytest.raises(DataError) as info:
        _load(shared_cases, "B02_geo_missing_weeks.csv")
    message = str(info.value)
    assert message.startswith("geo 'south' is missing 4 of 52 dates: 2022-03-07 \u2026 2022-03-28")
    assert "north" not in message
    assert "not zero-spend weeks" in message and "fill='zero'" in message


def test_b02_fill_zero_fills_and_records(shared_cases):
    raw = read_table(shared_cases / "B02_geo_missing_weeks.csv")
    data = harmonize_summary(raw, fill="zero")
    assert data.geos == ["north", "south"]
    assert len(data.frame) == 104
    filled = pd.to_datetime(["2022-03-07", "2022-03-14", "2022-03-21", "2022-03-28"])
    south = data.frame[data.frame["geo"] == "south"].set_index("date")
    assert (south.loc[filled, ["tv", "search", "social", "revenue"]] == 0).all().all()
    # rows that were present are untouched
    original = raw[raw["geo"] == "south"].assign(date=lambda f: pd.to_datetime(f["date"]).astype("datetime64[ns]")).set_index("date")
    pd.testing.assert_series_equal(
        south.loc[original.index, "revenue"], original["revenue"].astype(float), check_names=False
    )
    assert data.notices == (
        "filled 4 missing dates of geo 'south' with zeros (fill='zero'): 2022-03-07 \u2026 2022-03-28",
    )


def test_b03_duplicated_date(shared_cases):
    with pytest.raises(DataError) as info:
        _load(shared_cases, "B03_duplicated_date.csv")
    message = str(info.value)
    assert "2022-05-16 appears 2 times" in message
    assert "panel data" in message and "geo_column" in message


def test_b05_weekly_gap(shared_cases):
    with pytest.raises(DataError) as info:
        _load(shared_cases, "B05_weekly_gap.csv")
    message = str(info.value)
    assert "missing 2 of 104 weeks" in message
    assert "2022-10-10, 2022-10-17" in message
    assert "Missing weeks are not zero-spend weeks" in message


def test_b06_negative_spend(shared_cases):
    data = _load(shared_cases, "B06_negative_spend.csv")
    with pytest.raises(DataError) as info:
        check_model_columns(data, target="revenue", spend_columns=CHANNELS)
    assert str(info.value) == (
        "search has 3 negative values: 2022-02-21 \u2212350, 2022-06-13 \u2212120, 2022-10-17 \u2212800; "
        "fix the export or model it as a signed factor"
    )


def test_b08_extreme_scale_factor_warns(shared_cases):
    data = _load(shared_cases, "B08_extreme_scale_control.csv")
    warnings = check_model_columns(
        data, target="revenue", spend_columns=CHANNELS, factor_columns=["market_size_usd", "price_index"]
    )
    assert len(warnings) == 1
    assert "'market_size_usd'" in warnings[0] and "5 orders of magnitude above" in warnings[0]
    assert "standardizes factors internally" in warnings[0]
    # rescaling the factor into the spends' range removes the warning
    frame = data.frame.assign(market_size_usd=data.frame["market_size_usd"] / 1e5)
    rescaled = type(data)(frame, data.cadence)
    assert check_model_columns(rescaled, target="revenue", spend_columns=CHANNELS, factor_columns=["market_size_usd"]) == []


def test_b10_constant_factors(shared_cases):
    data = _load(shared_cases, "B10_constant_controls.csv")
    assert data.frame["event"].dtype == "str" and data.frame["price"].dtype == "float64"
    with pytest.raises(DataError) as info:
        check_model_columns(data, target="revenue", spend_columns=CHANNELS, factor_columns=["price", "event"])
    assert str(info.value) == "factors 'price' and 'event' do not vary over time; remove them from the model"


def test_b15_integer_dates_refused(shared_cases):
    with pytest.raises(DataError) as info:
        _load(shared_cases, "B15_integer_dates.csv")
    assert str(info.value).startswith(
        "time column 'week' is integer, not a date; supply dates or declare start date + frequency"
    )


def test_b15_integer_dates_with_start_and_frequency(shared_cases):
    data = _load(shared_cases, "B15_integer_dates.csv", start_date="2022-01-03", frequency="W-MON")
    assert len(data.frame) == 104
    assert data.dates[0] == pd.Timestamp("2022-01-03")
    assert data.dates[-1] == pd.Timestamp("2022-01-03") + pd.Timedelta(weeks=103)
    assert data.frame["date"].dt.year.min() == 2022  # never 1970 nanoseconds
    assert check_model_columns(data, target="revenue", spend_columns=CHANNELS) == []


def test_b16_friday_weeks_accepted(shared_cases):
    data = _load(shared_cases, "B16_friday_week_start.csv")
    assert data.cadence.unit == "week" and data.cadence.anchor == "Friday"
    assert data.dates[0] == pd.Timestamp("2022-01-07")
    assert (data.frame["date"].dt.day_of_week == 4).all()  # dates kept, not shifted to Mondays
    assert len(data.frame) == 104
    assert check_model_columns(data, target="revenue", spend_columns=CHANNELS) == []


def test_b18_channel_absent_in_one_geo_warns(shared_cases):
    data = _load(shared_cases, "B18_geo_channel_absent.csv")
    warnings = check_model_columns(data, target="revenue", spend_columns=CHANNELS)
    assert warnings == [
        "channel 'social' has zero spend in every period of geo 'south'; its effect there cannot be "
        "estimated from this data"
    ]


def test_b12_exact_zeros_are_valid(shared_cases):
    data = _load(shared_cases, "B12_flighted_many_zeros.csv")
    assert check_model_columns(data, target="revenue", spend_columns=["tv", "radio", "social"]) == []
    assert (data.frame["social"] == 0).mean() == pytest.approx(0.5)
