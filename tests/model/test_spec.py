"""ModelSpec validation: every bad field is refused with a message naming it."""
import pytest

from mediamix.errors import SpecError
from mediamix.model.spec import ModelSpec

BASE = {"name": "m", "data": "d", "conversion": "revenue", "touchpoints": ["tv", "search"]}


def spec(**changes):
    return ModelSpec.from_dict({**BASE, **changes})


def test_defaults_and_yaml_round_trip():
    s = spec(factors=[{"column": "price", "impact": "negative"}],
             priors=[{"touchpoint": "tv", "share": 12, "confidence": 70, "source": "experiment"}],
             training={"start": "2022-01-03", "end": "2024-12-30"})
    assert s.lookback_weeks == 8 and s.spend_share and s.holdout_weeks == 13
    assert s.touchpoints[0].spend == "tv_spend"
    assert ModelSpec.from_yaml(s.to_yaml()) == s


@pytest.mark.parametrize("changes, field", [
    ({"lookback_weeks": 0}, "lookback_weeks"),
    ({"lookback_weeks": 53}, "lookback_weeks"),
    ({"touchpoints": []}, "touchpoints"),
    ({"touchpoints": ["tv", "tv"]}, "touchpoints"),
    ({"conversion_kind": "clicks"}, "conversion_kind"),
    ({"factors": [{"column": "price", "impact": "up"}]}, "factors[price].impact"),
    ({"factors": [{"column": "price", "type": "weather"}]}, "factors[price].type"),
    ({"priors": [{"touchpoint": "radio", "share": 5, "confidence": 50}]}, "priors[radio]"),
    ({"priors": [{"touchpoint": "tv", "share": 120, "confidence": 50}]}, "priors[tv].share"),
    ({"priors": [{"touchpoint": "tv", "share": 10, "confidence": 150}]}, "priors[tv].confidence"),
    ({"priors": [{"touchpoint": "tv", "share": 10}]}, "priors[tv]"),
    ({"training": {"start": "2024-01-01", "end": "2023-01-01"}}, "training"),
    ({"training": {"start": "01/02/2023"}}, "training.start"),
    ({"training": {"start": "2023-01-02", "last_years": 2}}, "training"),
    ({"run_frequency": "hourly"}, "run_frequency"),
    ({"sampler": {"target_accept": 0.2}}, "sampler.target_accept"),
    ({"sampler": {"draws": 0}}, "sampler"),
    ({"colour": "blue"}, "unknown field"),
    ({"touchpoints": [{"name": "tv", "spend": "tv_spend", "adstock": {"lag": 9}}]}, "touchpoints[tv].adstock.lag"),
    ({"touchpoints": [{"name": "tv", "adstock": {"lag": 3, "max_lookback": 6}}]}, "lag + max_lookback"),
    ({"touchpoints": [{"name": "tv", "adstock": {"min_lookback": 5, "max_lookback": 3}}]}, "min_lookback"),
])
def test_invalid_fields_are_named(changes, field):
    with pytest.raises(SpecError) as err:
        spec(**changes)
    assert field in str(err.value)


def test_bad_yaml_is_a_spec_error():
    with pytest.raises(SpecError, match="not valid YAML"):
        ModelSpec.from_yaml("name: [unclosed")


@pytest.mark.parametrize("changes, field", [
    ({"lookback_weeks": "eight"}, "lookback_weeks"),
    ({"lookback_weeks": 8.5}, "lookback_weeks"),
    ({"spend_share": "maybe"}, "spend_share"),
    ({"thresholds": {"max_rhat": "x"}}, "thresholds.max_rhat"),
    ({"sampler": {"draws": "many"}}, "sampler.draws"),
    ({"touchpoints": "tv"}, "touchpoints: must be a list"),
    ({"priors": {"touchpoint": "tv", "share": 10}}, "priors: must be a list"),
    ({"priors": [{"touchpoint": "tv", "share": "ten", "confidence": 50}]}, "must be numbers"),
    ({"name": ["a", "b"]}, "name"),
    ({"name": None}, "missing field(s) ['name']"),
    ({"factors": "price"}, "factors: must be a list"),
])
def test_wrong_types_are_named_not_crashes(changes, field):
    with pytest.raises(SpecError) as err:
        spec(**changes)
    assert field in str(err.value)


# ---- ROI / CPA priors and lift tests ------------------------------------------------------------

LIFT = {"touchpoint": "tv", "start": "2024-03-04", "end": "2024-03-31", "incremental": 52000, "standard_error": 9000}


def test_roi_cpa_priors_and_lift_tests_round_trip():
    s = spec(priors=[{"touchpoint": "tv", "roi": 1.5, "roi_sd": 0.4, "source": "experiment"},
                     {"touchpoint": "search", "share": 12, "confidence": 70}],
             lift_tests=[LIFT])
    assert s.prior_for("tv").form == "roi" and s.prior_for("search").form == "share"
    assert s.lift_tests[0].start == "2024-03-04" and s.lift_tests[0].source == "experiment"
    assert ModelSpec.from_yaml(s.to_yaml()) == s
    # A share prior is written as before, without the unused ROI/CPA fields.
    assert s.to_dict()["priors"][1] == {"touchpoint": "search", "share": 12.0, "confidence": 70.0, "source": "user"}
    count = spec(conversion_kind="count", priors=[{"touchpoint": "tv", "cpa": 25, "cpa_sd": 5}])
    assert count.prior_for("tv").form == "cpa"
    assert ModelSpec.from_yaml(count.to_yaml()) == count


def test_lift_test_dates_from_yaml_dates():
    s = ModelSpec.from_yaml("name: m\ndata: d\nconversion: revenue\ntouchpoints: [tv]\nlift_tests:\n"
                            "  - {touchpoint: tv, start: 2024-03-04, end: 2024-03-31, incremental: 5, standard_error: 1}\n")
    assert (s.lift_tests[0].start, s.lift_tests[0].end) == ("2024-03-04", "2024-03-31")
    assert ModelSpec.from_yaml(s.to_yaml()) == s


@pytest.mark.parametrize("changes, message", [
    ({"priors": [{"touchpoint": "tv", "roi": 1.5}]}, "priors[tv].roi_sd: missing"),
    ({"priors": [{"touchpoint": "tv", "roi_sd": 0.4}]}, "priors[tv].roi: missing"),
    ({"priors": [{"touchpoint": "tv", "roi": 1.5, "roi_sd": 0}]}, "priors[tv].roi_sd"),
    ({"priors": [{"touchpoint": "tv", "roi": -1.2, "roi_sd": 0.3}]}, "priors[tv].roi"),
    ({"priors": [{"touchpoint": "tv", "roi": "high", "roi_sd": 0.3}]}, "priors[tv].roi"),
    ({"priors": [{"touchpoint": "tv", "share": 10, "confidence": 50, "roi": 1, "roi_sd": 0.2}]}, "only one of"),
    ({"priors": [{"touchpoint": "tv", "source": "experiment"}]}, "give share and confidence"),
    ({"priors": [{"touchpoint": "tv", "cpa": 20, "cpa_sd": 4}]}, "use roi and roi_sd"),
    ({"conversion_kind": "count", "priors": [{"touchpoint": "tv", "roi": 1, "roi_sd": 0.2}]}, "use cpa and cpa_sd"),
    ({"conversion_kind": "count", "priors": [{"touchpoint": "tv", "cpa": 0, "cpa_sd": 4}]}, "priors[tv].cpa"),
    ({"conversion_kind": "count", "priors": [{"touchpoint": "tv", "cpa": 20, "cpa_sd": -1}]}, "priors[tv].cpa_sd"),
    ({"priors": [{"touchpoint": "tv", "roi": 1, "roi_sd": 0.2, "roas": 2}]}, "unknown field(s) ['roas']"),
    ({"lift_tests": [{**LIFT, "touchpoint": "radio"}]}, "lift_tests[0].touchpoint"),
    ({"lift_tests": [LIFT, {**LIFT, "start": "2024-04-01"}]}, "lift_tests[1]: start 2024-04-01 is after end"),
    ({"lift_tests": [{**LIFT, "end": "31/03/2024"}]}, "lift_tests[0].end"),
    ({"lift_tests": [{**LIFT, "standard_error": 0}]}, "lift_tests[0].standard_error"),
    ({"lift_tests": [{**LIFT, "incremental": "lots"}]}, "lift_tests[0].incremental"),
    ({"lift_tests": [{k: v for k, v in LIFT.items() if k != "standard_error"}]}, "lift_tests[0]: missing ['standard_error']"),
    ({"lift_tests": [{**LIFT, "channel": "tv"}]}, "lift_tests[0]: unknown field(s) ['channel']"),
    ({"lift_tests": LIFT}, "lift_tests: must be a list"),
    ({"lift_tests": ["tv"]}, "lift_tests[0]: each entry is"),
])
def test_roi_priors_and_lift_tests_name_the_field(changes, message):
    with pytest.raises(SpecError) as err:
        spec(**changes)
    assert message in str(err.value)
