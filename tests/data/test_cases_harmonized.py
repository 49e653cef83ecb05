"""The data cases of ../shared/cases (B01-B16) loaded as batches, harmonized by rules and read as
touchpoints: each stops, warns or passes the way the case expects."""
import pandas as pd
import pytest

from mediamix.data import HarmonizedStore
from mediamix.data.datasets import load_batch
from mediamix.data.definitions import define_conversion, define_touchpoint
from mediamix.data.model_frame import touchpoint_frame
from mediamix.data.rules import add_rule, wide_rules
from mediamix.data.sync import sync
from mediamix.data.validate import DataProblems
from mediamix.errors import DataError

MONDAY = {"unit": "week", "week_start": "Monday"}


def _harmonize(cases, tmp_path, name, channels, *, granularity=MONDAY, geo=False, **options):
    """Load a case file as one batch, one rule per channel, touchpoints per channel, revenue as conversion."""
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    with store.session():  # one connection for the whole setup
        load_batch(store, "case", cases / name, **options)
        dimensions = {"geo": {"column": "geo"}} if geo else None
        for rule in wide_rules("case", granularity, {c: {"spend": c} for c in channels}, metrics={"revenue": "revenue"},
                               dimensions=dimensions):
            add_rule(store, rule)
        for channel in channels:
            define_touchpoint(store, channel, where={"field": "channel", "equals": channel}, spend="spend")
        define_conversion(store, "sales", conversion="revenue", where={"field": "channel", "exists": False})
        return store, sync(store)


def _errors(result):
    return [i.message for i in result.report.errors]


def test_b01_all_zero_channel_stops_the_model_naming_it(shared_cases, tmp_path):
    store, result = _harmonize(shared_cases, tmp_path, "B01_all_zero_channel.csv", ["tv", "search", "social"])
    assert _errors(result) == ["touchpoint 'social' has zero spend in all 104 weeks; drop it or supply data"]
    with pytest.raises(DataProblems, match="touchpoint 'social' has zero spend in all 104 weeks"):
        touchpoint_frame(store, ["tv", "search", "social"], "sales")
    frame = touchpoint_frame(store, ["tv", "search"], "sales")  # dropping it, as the message says
    raw = pd.read_csv(shared_cases / "B01_all_zero_channel.csv")
    assert frame["tv_spend"].sum() == pytest.approx(710_589.30)  # the case's stated tv spend
    assert frame["conversion"].tolist() == pytest.approx(raw["revenue"].tolist())


def test_b02_one_geo_missing_weeks_is_named_even_for_a_national_model(shared_cases, tmp_path):
    store, result = _harmonize(shared_cases, tmp_path, "B02_geo_missing_weeks.csv", ["tv", "search", "social"], geo=True)
    gaps = [m for m in _errors(result) if m.startswith("touchpoint 'tv'")]
    assert gaps == ["touchpoint 'tv' has no rows in geo 'south' in 4 of 52 weeks between 2022-01-03 and 2022-12-26: "
                    "2022-03-07 \u2026 2022-03-28. Missing weeks are not zero-spend weeks: add the rows for that geo "
                    "(with zeros where nothing happened)"]
    assert not any("north" in m for m in _errors(result))
    with pytest.raises(DataProblems, match="geo 'south' in 4 of 52 weeks"):
        touchpoint_frame(store, ["tv"], "sales")


def test_b03_duplicated_date_is_refused_at_load(shared_cases, tmp_path):
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    with pytest.raises(DataError, match=r"rows repeat the key \('date'\): 2022-05-16 appears 2 times"):
        load_batch(store, "case", shared_cases / "B03_duplicated_date.csv")
    assert not store.exists("case")


def test_b05_weekly_gap_names_both_weeks(shared_cases, tmp_path):
    store, result = _harmonize(shared_cases, tmp_path, "B05_weekly_gap.csv", ["tv", "search", "social"])
    search = [m for m in _errors(result) if m.startswith("touchpoint 'search'")]
    assert search == ["touchpoint 'search' has no rows in 2 of 104 weeks between 2022-01-03 and 2023-12-25: "
                      "2022-10-10, 2022-10-17. Missing weeks are not zero-spend weeks: add the rows (with zeros where "
                      "nothing happened), or restate the data"]
    assert any(m.startswith("conversion 'sales' has no rows in 2 of 104 weeks") for m in _errors(result))


def test_b06_negative_spend_names_dates_and_values(shared_cases, tmp_path):
    store, result = _harmonize(shared_cases, tmp_path, "B06_negative_spend.csv", ["tv", "search", "social"])
    assert _errors(result) == [
        "touchpoint 'search' has 3 negative spend values: 2022-02-21 \u2212350, 2022-06-13 \u2212120, "
        "2022-10-17 \u2212800; fix the export or model it as a signed factor"]


def test_b08_a_huge_factor_arrives_unchanged(shared_cases, tmp_path):
    store, _ = _harmonize(shared_cases, tmp_path, "B08_extreme_scale_control.csv", ["tv", "search", "social"])
    raw = pd.read_csv(shared_cases / "B08_extreme_scale_control.csv")
    load_batch(store, "controls", raw[["date", "market_size_usd", "price_index"]], kind="factors")
    sync(store)
    frame = touchpoint_frame(store, ["tv", "search", "social"], "sales", factors=["market_size_usd", "price_index"])
    assert frame["market_size_usd"].tolist() == raw["market_size_usd"].astype(float).tolist()


def test_b10_constant_factors_are_named(shared_cases, tmp_path):
    store, _ = _harmonize(shared_cases, tmp_path, "B10_constant_controls.csv", ["tv", "search", "social"])
    raw = pd.read_csv(shared_cases / "B10_constant_controls.csv")
    with pytest.raises(DataError, match=r"factor 'event' holds text \(e\.g\. 'none'\)"):
        load_batch(store, "controls", raw[["date", "price", "event"]], kind="factors")
    load_batch(store, "controls", raw[["date", "price"]].assign(event=0.0), kind="factors")
    sync(store)
    with pytest.raises(DataProblems, match=r"factors 'price' and 'event' do not vary over the model's periods; "
                                           r"remove them from the model"):
        touchpoint_frame(store, ["tv", "search"], "sales", factors=["price", "event"])


def test_b12_exact_zeros_are_valid(shared_cases, tmp_path):
    store, result = _harmonize(shared_cases, tmp_path, "B12_flighted_many_zeros.csv", ["tv", "radio", "social"])
    assert _errors(result) == []
    coverage = result.report.coverage.set_index("subject")
    raw = pd.read_csv(shared_cases / "B12_flighted_many_zeros.csv")
    assert coverage.loc["social", "zero_periods"] == (raw["social"] == 0).sum()
    frame = touchpoint_frame(store, ["tv", "radio", "social"], "sales")
    assert (frame["social_spend"] == 0).mean() == pytest.approx(0.5)


def test_b15_integer_weeks_need_a_start_and_frequency(shared_cases, tmp_path):
    store = HarmonizedStore(tmp_path / "harmonized.duckdb")
    with pytest.raises(DataError, match="time column 'week' is integer, not a date; supply dates or declare start date "
                                        r"\+ frequency"):
        load_batch(store, "case", shared_cases / "B15_integer_dates.csv")
    store, result = _harmonize(shared_cases, tmp_path, "B15_integer_dates.csv", ["tv", "search", "social"],
                               start_date="2022-01-03", frequency="W-MON")
    assert result.first_date == pd.Timestamp("2022-01-03") and result.last_date.year == 2023
    assert _errors(result) == []


def test_b16_friday_weeks_are_kept_as_fridays(shared_cases, tmp_path):
    with pytest.raises(DataError, match="every row of data set 'case' is dated on a Friday: declare week_start: Friday"):
        _harmonize(shared_cases, tmp_path, "B16_friday_week_start.csv", ["tv", "search", "social"])
    store, result = _harmonize(shared_cases, tmp_path / "friday", "B16_friday_week_start.csv", ["tv", "search", "social"],
                               granularity={"unit": "week", "week_start": "Friday"})
    assert result.granularity.describe() == "weekly, weeks starting on Friday"
    frame = touchpoint_frame(store, ["tv", "search", "social"], "sales")
    assert frame["date"].iloc[0] == pd.Timestamp("2022-01-07") and (frame["date"].dt.day_of_week == 4).all()
    assert len(frame) == 104
