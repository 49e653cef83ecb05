"""Spec messages in the user's terms: the lookback rules name the fields the user set, lift-test
values are refused with the test named, and no NumPy repr (np.float64(0.0)) reaches a message."""
import numpy as np
import pandas as pd
import pytest

from mediamix.data.messages import amount, show
from mediamix.errors import SpecError
from mediamix.model.design import build_design
from mediamix.model.spec import LiftTestSpec, ModelSpec, TouchpointSpec

BASE = {"name": "m", "data": "d", "conversion": "revenue", "holdout_weeks": 0,
        "touchpoints": [{"name": "tv", "spend": "tv"}, {"name": "search", "spend": "search"}]}
LIFT = {"touchpoint": "tv", "start": "2024-03-04", "end": "2024-03-31", "incremental": 52000, "standard_error": 9000}


def spec(**changes) -> ModelSpec:
    return ModelSpec.from_dict({**BASE, **changes})


def weeks(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    dates = pd.date_range("2022-01-03", periods=n, freq="7D")
    return pd.DataFrame({"date": dates, "tv": rng.uniform(1, 10, n), "search": rng.uniform(1, 5, n),
                         "revenue": rng.uniform(90, 110, n)})


# ---- lag + lookback <= training weeks / 8, said in the fields the user wrote -------------------

def test_training_length_rule_names_lookback_weeks_when_max_lookback_is_not_set():
    with pytest.raises(SpecError) as err:
        build_design(weeks(104), spec(lookback_weeks=20))
    text = str(err.value)
    # 8 x (20 + 0) = 160 weeks needed; 104 weeks hold a lookback of at most floor(104 / 8) = 13.
    assert text.startswith("touchpoints[tv].adstock: lookback_weeks 20 (+ lag 0) needs at least 160 training "
                           "weeks, the training window has 104 (2022-01-03..2023-12-25)")
    assert "lower lookback_weeks to 13 or less, or train on more data" in text
    assert "max_lookback" not in text and "training weeks / 8" in text


def test_the_suggested_lookback_is_accepted_and_one_more_is_not():
    build_design(weeks(104), spec(lookback_weeks=13))            # 13 = 104 / 8 exactly
    with pytest.raises(SpecError, match="lookback_weeks 14"):
        build_design(weeks(104), spec(lookback_weeks=14))


def test_training_length_rule_names_max_lookback_when_the_touchpoint_sets_it():
    tps = [{"name": "tv", "spend": "tv", "adstock": {"lag": 2, "max_lookback": 10}}, {"name": "search", "spend": "search"}]
    s = spec(lookback_weeks=12, touchpoints=tps, training={"start": "2022-01-03", "end": "2023-07-03"})
    with pytest.raises(SpecError) as err:
        build_design(weeks(104), s)
    # 79 training weeks (2022-01-03..2023-07-03); tv reaches 2 + 10 = 12 weeks back, needing 8 x 12 = 96;
    # the most it may reach is floor(79 / 8) = 9 weeks, so max_lookback at most 9 - 2 = 7.
    assert str(err.value).startswith("touchpoints[tv].adstock: max_lookback 10 (+ lag 2) needs at least 96 training "
                                     "weeks, the training window has 79")
    assert "lower touchpoints[tv].adstock.max_lookback to 7 or less" in str(err.value)
    ok = [{"name": "tv", "spend": "tv", "adstock": {"lag": 2, "max_lookback": 7}}, {"name": "search", "spend": "search",
                                                                                        "adstock": {"max_lookback": 9}}]
    build_design(weeks(104), s.edited({"touchpoints": ok}))


def test_too_short_a_window_only_asks_for_more_data():
    with pytest.raises(SpecError) as err:
        build_design(weeks(7), spec(lookback_weeks=1, seasonality_order=0))
    # 7 weeks / 8 < 1: no lookback fits, so there is nothing to shorten.
    assert "lookback_weeks 1 (+ lag 0) needs at least 8 training weeks, the training window has 7" in str(err.value)
    assert "lower" not in str(err.value) and "or train on more data" in str(err.value)


def test_lag_without_max_lookback_is_explained_in_the_fields_given():
    with pytest.raises(SpecError) as err:
        spec(touchpoints=[{"name": "tv", "spend": "tv", "adstock": {"lag": 2}}])
    assert str(err.value) == (
        "touchpoints[tv].adstock: lag 2 + lookback_weeks 8 (max_lookback is not set, so the touchpoint looks back "
        "the whole window) = 10 weeks, more than lookback_weeks 8; set touchpoints[tv].adstock.max_lookback to at "
        "most 6, or raise lookback_weeks and set max_lookback")
    # The fix it names is accepted.
    assert spec(touchpoints=[{"name": "tv", "spend": "tv", "adstock": {"lag": 2, "max_lookback": 6}}])


def test_lag_plus_max_lookback_over_the_window_gives_both_fixes():
    with pytest.raises(SpecError) as err:
        spec(touchpoints=[{"name": "tv", "spend": "tv", "adstock": {"lag": 3, "max_lookback": 6.5}}])
    assert str(err.value) == ("touchpoints[tv].adstock: lag + max_lookback = 3 + 6.5 = 9.5 weeks exceeds lookback_weeks "
                              "8; raise lookback_weeks to 10 or shorten max_lookback to 5")


# ---- lift-test values ------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("standard_error", 0, "lift_tests[0].standard_error (tv, 2024-03-04..2024-03-31): 0 must be > 0"),
    ("standard_error", -9000, "lift_tests[0].standard_error (tv, 2024-03-04..2024-03-31): -9,000 must be > 0"),
    ("standard_error", float("nan"), "lift_tests[0].standard_error (tv, 2024-03-04..2024-03-31): nan must be a finite"),
    ("standard_error", float("inf"), "standard_error (tv, 2024-03-04..2024-03-31): inf must be a finite number"),
    ("incremental", float("-inf"), "lift_tests[0].incremental (tv, 2024-03-04..2024-03-31): -inf must be a finite"),
    ("incremental", "52k", "lift_tests[0].incremental (tv, 2024-03-04..2024-03-31): '52k' must be a number"),
    ("incremental", True, "lift_tests[0].incremental (tv, 2024-03-04..2024-03-31): True must be a number"),
])
def test_lift_test_values_are_refused_with_the_test_named(field, value, message):
    with pytest.raises(SpecError) as err:
        spec(lift_tests=[{**LIFT, field: value}])
    assert message in str(err.value)


def test_a_zero_standard_error_says_how_to_get_one_from_an_interval():
    with pytest.raises(SpecError, match=r"interval width / 3\.92 \(95%\)"):
        spec(lift_tests=[{**LIFT, "standard_error": 0}])


def test_negative_lift_is_a_measurement_not_an_error():
    assert spec(lift_tests=[{**LIFT, "incremental": -1500}]).lift_tests[0].incremental == -1500


# ---- no NumPy reprs --------------------------------------------------------------------------

def test_show_and_number_give_plain_values():
    assert show(np.float64(0.0)) == "0.0" and show(np.int64(8)) == "8" and show(np.float32(0.5)) == "0.5"
    assert show([np.float64(1.5), "tv", None]) == "[1.5, 'tv', None]"
    assert show((np.int64(1), np.float64(2.0))) == "[1, 2.0]"
    assert show({"a": np.float64(0.25)}) == "{a: 0.25}" and show(np.array([1.0, 2.0])) == "[1.0, 2.0]"
    assert [amount(v) for v in (np.float64(52000.0), 0.25, -9000, 1234.56, 1.5e-5, float("nan"))] == \
        ["52,000", "0.25", "-9,000", "1,234.6", "1.5e-05", "nan"]


def test_numpy_values_from_a_notebook_validate_and_round_trip():
    s = spec(lookback_weeks=np.int64(6), sampler={"draws": np.int64(300), "target_accept": np.float64(0.85)},
             lift_tests=[{**LIFT, "incremental": np.float64(52000.0), "standard_error": np.float32(9000.0)}])
    assert s.lookback_weeks == 6 and type(s.lookback_weeks) is int and type(s.sampler.draws) is int
    assert type(s.lift_tests[0].standard_error) is float
    assert ModelSpec.from_yaml(s.to_yaml()) == s


@pytest.mark.parametrize("changes, message", [
    ({"lift_tests": [{**LIFT, "standard_error": np.float64(0.0)}]}, "): 0 must be > 0"),
    ({"lift_tests": [{**LIFT, "incremental": np.float64("nan")}]}, "): nan must be a finite number"),
    ({"lookback_weeks": np.float64(6.5)}, "lookback_weeks: 6.5 must be a whole number"),
    ({"priors": [{"touchpoint": "tv", "share": np.float64(120.0), "confidence": 50}]}, "priors[tv].share: 120.0"),
    ({"lift_tests": [np.float64(1.0)]}, ("lift_tests[0]: each entry is {touchpoint, start, end, incremental, "
                                         "standard_error, source}, not 1.0")),
    ({"training": np.int64(2)}, "training: 2 must be 'auto'"),
])
def test_messages_about_numpy_values_show_plain_numbers(changes, message):
    with pytest.raises(SpecError) as err:
        spec(**changes)
    assert message in str(err.value) and "np." not in str(err.value)


def test_numpy_scalars_in_a_spec_built_directly_are_named_with_the_fix():
    with pytest.raises(SpecError) as err:
        ModelSpec(name="m", dataset="d", conversion="revenue", touchpoints=(TouchpointSpec("tv", "tv"),),
                  lookback_weeks=np.int64(8))
    assert str(err.value) == ("lookback_weeks: 8 must be a whole number (it is a NumPy int64; pass int(value) or "
                              "float(value))")
    with pytest.raises(SpecError) as err:
        ModelSpec(name="m", dataset="d", conversion="revenue", touchpoints=(TouchpointSpec("tv", "tv"),),
                  lift_tests=(LiftTestSpec("tv", "2024-03-04", "2024-03-31", np.float32(5.0), 1.0),))
    assert "incremental (tv, 2024-03-04..2024-03-31): 5.0 must be a number" in str(err.value)
    assert "NumPy float32" in str(err.value) and "np." not in str(err.value)


# ---- sampler values, empty values and misspelt field names ----------------------------------------

@pytest.mark.parametrize("field", ["chains", "warmup", "draws"])
def test_a_sampler_count_below_one_is_named(field):
    with pytest.raises(SpecError) as err:
        spec(sampler={field: -5})
    assert str(err.value) == f"sampler.{field}: -5 must be >= 1"


@pytest.mark.parametrize("path, kind", [("sampler.draws", "a whole number"), ("lookback_weeks", "a whole number"),
                                        ("sampler.target_accept", "a number"), ("spend_share", "true or false"),
                                        ("thresholds.max_rhat", "a number")])
def test_an_empty_value_says_no_value_given(path, kind):
    # `model edit m --set sampler.draws=` reads the empty value as YAML: None.
    with pytest.raises(SpecError) as err:
        spec().edited({path: None})
    assert str(err.value) == f"{path}: no value given; give {kind}, or leave the field out for its default"
    assert "None" not in str(err.value)


def test_optional_numbers_may_stay_empty():
    s = spec(touchpoints=[{"name": "tv", "spend": "tv", "adstock": {"max_lookback": None}}, "search"],
             training={"last_years": None})
    assert s.touchpoints[0].adstock.max_lookback is None and s.training.is_auto


def test_holdout_weeks_below_zero_names_its_value():
    with pytest.raises(SpecError, match=r"^holdout_weeks: -2 must be >= 0 \(0 disables the holdout\)$"):
        spec(holdout_weeks=-2)


@pytest.mark.parametrize("changes, message", [
    ({"touchpoints[tv].saturaton": "hill"}, ("touchpoints[tv]: unknown field(s) ['saturaton'] (did you mean "
                                             "'saturation'?); allowed: [")),
    ({"lookback_week": 6}, "spec: unknown field(s) ['lookback_week'] (did you mean 'lookback_weeks'?); allowed: ["),
    ({"sampler.drows": 5, "sampler.chans": 2}, ("sampler: unknown field(s) ['chans', 'drows'] (did you mean 'chains' "
                                                "for 'chans', 'draws' for 'drows'?)")),
    ({"colour": "blue"}, "spec: unknown field(s) ['colour']; allowed: ["),       # nothing close: no guess
])
def test_unknown_fields_get_a_close_match(changes, message):
    with pytest.raises(SpecError) as err:
        spec().edited(changes)
    assert str(err.value).startswith(message)


def test_laplace_needs_chains_times_draws_of_a_hundred():
    from mediamix.model.spec import LAPLACE_MIN_DRAWS, check_fit_settings
    assert LAPLACE_MIN_DRAWS == 100
    for chains, draws in ((2, 3), (1, 1), (2, 49), (3, 33)):
        s = spec(sampler={"method": "laplace", "chains": chains, "draws": draws})      # a stored spec still reads
        with pytest.raises(SpecError) as err:
            check_fit_settings(s)
        assert str(err.value).startswith(
            f"sampler.draws: a Laplace fit (sampler.method: laplace, or train --fast) takes chains x draws = {chains} "
            f"x {draws} = {chains * draws} independent draws, and needs at least 100")
        assert f"Set sampler.draws to at least {-(-100 // chains)} (with chains {chains})" in str(err.value)
    for chains, draws in ((2, 50), (1, 100), (3, 34)):
        check_fit_settings(spec(sampler={"method": "laplace", "chains": chains, "draws": draws}))
    check_fit_settings(spec(sampler={"chains": 1, "draws": 3}))        # NUTS: judged by its own diagnostics


@pytest.mark.parametrize("text, field", [
    ("training: {start: 2024-02-30}", "training.start"),
    ("training: {start: 2022-01-03, end: 2024-13-01}", "training.end"),
])
def test_an_impossible_date_is_named_not_a_yaml_crash(text, field):
    base = ("name: m\ndata: d\nconversion: revenue\ntouchpoints: [tv]\n")
    with pytest.raises(SpecError, match=rf"{field}: 20\d\d-\d\d-\d\d is not a calendar date \((day|month) "):
        ModelSpec.from_yaml(base + text)


def test_dates_in_a_spec_file_still_read_as_dates():
    spec = ModelSpec.from_yaml("name: m\ndata: d\nconversion: revenue\ntouchpoints: [tv]\n"
                               "training: {start: 2022-01-03, end: 2024-12-30}\n")
    assert (spec.training.start, spec.training.end) == ("2022-01-03", "2024-12-30")
