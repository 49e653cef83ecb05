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
