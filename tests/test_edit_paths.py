"""`model edit --set PATH=VALUE`: one field of one touchpoint (by position or name), of a section,
or a whole field; a bad path or an invalid result is refused with a named message and leaves
the stored model, its spec, status and audit trail exactly as they were."""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mediamix.errors import MediamixError, SpecError
from mediamix.model.spec import ModelSpec
from mediamix.model.spec_paths import parse_path
from mediamix.registry import Status
from mediamix.workspace import Workspace

CHANNELS = ["tv", "search", "social", "video", "radio"]
SPEC = {"name": "m", "data": "weekly", "conversion": "revenue", "touchpoints": CHANNELS,
        "factors": [{"column": "price", "impact": "negative"}],
        "priors": [{"touchpoint": "tv", "share": 10, "confidence": 50}]}


def spec() -> ModelSpec:
    return ModelSpec.from_dict(SPEC)


# ---- the path syntax --------------------------------------------------------------------------

@pytest.mark.parametrize("path, steps", [
    ("lookback_weeks", [("key", "lookback_weeks")]),
    ("sampler.draws", [("key", "sampler"), ("key", "draws")]),
    ("touchpoints[3].saturation", [("key", "touchpoints"), ("index", 3), ("key", "saturation")]),
    ("touchpoints[search].adstock.lag", [("key", "touchpoints"), ("name", "search"), ("key", "adstock"), ("key", "lag")]),
    (" touchpoints[ 'search' ].saturation ", [("key", "touchpoints"), ("name", "search"), ("key", "saturation")]),
    ("touchpoints[0].adstock.priors.decay_logit[1]",
     [("key", "touchpoints"), ("index", 0), ("key", "adstock"), ("key", "priors"), ("key", "decay_logit"), ("index", 1)]),
])
def test_paths_parse_into_steps(path, steps):
    assert parse_path(path) == steps


@pytest.mark.parametrize("path, problem", [
    ("", "no field name"),
    ("sampler.", "ends with '.'"),
    ("sampler..draws", "a '.' with no field name before it (character 9)"),
    ("[3].saturation", "must follow the name of a list"),
    ("touchpoints[3.saturation", "'[' at character 12 is not closed"),
    ("touchpoints]3", "']' (character 12) without its '['"),
    ("touchpoints[].saturation", "an empty [ ]"),
    ("touchpoints[3]saturation", "write a '.' before the field at character 15"),
])
def test_malformed_paths_say_what_is_wrong_and_show_the_form(path, problem):
    with pytest.raises(SpecError) as err:
        parse_path(path)
    assert problem in str(err.value) and "touchpoints[3].saturation" in str(err.value)


# ---- ModelSpec.edited -------------------------------------------------------------------------

def test_an_indexed_path_edits_one_touchpoint_only():
    before = spec()
    after = before.edited({"touchpoints[3].saturation": "logistic"})
    assert after.touchpoints[3].name == "video" and after.touchpoints[3].saturation.kind == "logistic"
    assert before.touchpoints[3].saturation.kind == "hill"              # the original is untouched
    assert [t for i, t in enumerate(after.touchpoints) if i != 3] == [t for i, t in enumerate(before.touchpoints) if i != 3]
    assert after.replace(touchpoints=before.touchpoints) == before        # nothing else moved


def test_a_touchpoint_is_picked_by_name_and_nested_fields_by_dots():
    after = spec().edited({"touchpoints[search].saturation": "michaelis_menten",
                           "touchpoints[radio].adstock.kind": "weibull_pdf",
                           "touchpoints[tv].adstock.max_lookback": 4, "touchpoints[tv].adstock.lag": 2,
                           "touchpoints[social].adstock.priors.decay_logit": [0.5, 0.8],
                           "sampler.draws": 500, "sampler.chains": 4})
    tp = {t.name: t for t in after.touchpoints}
    assert tp["search"].saturation.kind == "michaelis_menten"
    assert tp["radio"].adstock.kind == "weibull_pdf" and tp["radio"].adstock.lag == 0
    assert (tp["tv"].adstock.lag, tp["tv"].adstock.max_lookback) == (2, 4)
    assert tp["social"].adstock.prior_overrides() == {"decay_logit": (0.5, 0.8)}
    assert (after.sampler.draws, after.sampler.chains, after.sampler.warmup) == (500, 4, 1000)


def test_priors_factors_conversion_and_training_paths():
    after = spec().edited({"priors[tv].share": 15, "factors[price].impact": "positive", "conversion.kind": "count",
                           "training.start": "2022-03-07"})
    assert after.prior_for("tv").share == 15 and after.prior_for("tv").confidence == 50
    assert after.factors[0].impact == "positive" and after.conversion_kind == "count"
    assert (after.training.start, after.training.end) == ("2022-03-07", None)   # from training: auto


def test_paths_apply_in_order_and_a_whole_field_still_replaces():
    after = spec().edited({"sampler": {"draws": 200}, "sampler.chains": 3})
    assert (after.sampler.draws, after.sampler.chains) == (200, 3)
    after = spec().edited({"touchpoints": ["tv", "search"]})
    assert after.channel_names == ["tv", "search"]


@pytest.mark.parametrize("changes, message", [
    ({"touchpoints[5].saturation": "hill"},
     "touchpoints[5].saturation: touchpoints has 5 entries (0-4), so there is no touchpoints[5]"),
    ({"touchpoints[-1].saturation": "hill"}, "touchpoints has 5 entries (0-4)"),
    ({"touchpoints[seach].saturation": "hill"},
     "no touchpoint named 'seach'; touchpoints are tv, search, social, video, radio"),
    ({"touchpoints[seach].saturation": "hill"}, "Did you mean touchpoints[search]?"),
    ({"priors[radio].share": 5}, "no prior for touchpoint 'radio'; priors are tv"),
    ({"lift_tests[0].incremental": 5}, "lift_tests has no entries"),
    ({"touchpoints.saturation": "hill"}, "touchpoints is a list (5 entries (0-4)); pick an entry first, e.g. touchpoints[0].saturation"),
    ({"sampler[draws]": 5}, "sampler is a mapping of fields, not a list, so [draws] picks nothing; write sampler.draws"),
    ({"lookback_weeks.weeks": 5}, "lookback_weeks is 8, a single value without fields"),
    # The edited spec is validated in full, with the spec's own messages.
    ({"touchpoints[3].saturation": "hil"}, "touchpoints[video].saturation.kind: 'hil' is not one of"),
    ({"touchpoints[video].saturaton": "hill"}, "touchpoints[video]: unknown field(s) ['saturaton']"),
    ({"touchpoints[0].name": "search"}, "touchpoints: names must be unique; repeated: ['search']"),
    ({"sampler.drows": 5}, "sampler: unknown field(s) ['drows']"),
])
def test_bad_paths_and_invalid_results_are_named(changes, message):
    with pytest.raises(SpecError) as err:
        spec().edited(changes)
    assert message in str(err.value)


def test_lift_tests_are_picked_by_position_not_name():
    s = spec().edited({"lift_tests": [{"touchpoint": "tv", "start": "2022-03-07", "end": "2022-03-28",
                                       "incremental": 500, "standard_error": 100}]})
    assert s.edited({"lift_tests[0].standard_error": 50}).lift_tests[0].standard_error == 50
    with pytest.raises(SpecError, match=r"entries of lift_tests are picked by position, not by name; it has "
                                        r"1 entry \(0\), e.g. lift_tests\[0\]"):
        s.edited({"lift_tests[tv].standard_error": 50})


# ---- the workspace: validated before anything is stored ---------------------------------------

@pytest.fixture
def ws(tmp_path):
    """A workspace with 104 weeks of data for five channels and model 'm', marked as trained with
    a training issue so that a reset (to Awaiting training) would show."""
    rng = np.random.default_rng(0)
    dates = pd.date_range("2022-01-03", periods=104, freq="7D")
    frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "revenue": rng.uniform(900, 1100, 104),
                          "price": rng.uniform(9, 11, 104),
                          **{f"{c}_spend": rng.uniform(10, 50, 104) for c in CHANNELS}})
    frame.to_csv(tmp_path / "weekly.csv", index=False)
    w = Workspace.init(tmp_path / "ws")
    w.load_data(tmp_path / "weekly.csv", name="weekly")
    w.create_model(SPEC)
    run = w.registry.start_run("m", "train")
    w.registry.finish_run(run, Status.TRAINING_ISSUE, reasons=["max R-hat 1.05 > 1.01"])
    return w


def stored(w):
    rec = w.registry.get_model("m")
    return (rec.spec_yaml, rec.spec_version, rec.status, rec.status_reasons, rec.description,
            len(w.registry.audit_events("m")))


@pytest.mark.parametrize("changes", [
    {"touchpoints[5].saturation": "hill"},
    {"touchpoints[seach].saturation": "hill"},
    {"touchpoints[3].saturation": "hil"},
    {"touchpoints[video].spend": "video_cost"},               # valid spec, but no such column in the data
    {"touchpoints[tv].adstock.lag": 2},                       # lag without max_lookback: the spec refuses it
    {"description": "new words", "touchpoints[9].saturation": "hill"},   # one bad path refuses the lot
])
def test_a_refused_edit_leaves_the_model_and_its_status_unchanged(ws, changes):
    before = stored(ws)
    assert before[2] is Status.TRAINING_ISSUE
    with pytest.raises(MediamixError):
        ws.edit("m", **changes)
    assert stored(ws) == before


def test_an_accepted_indexed_edit_is_stored_and_resets_the_status(ws):
    before = ws.spec("m")
    ws.edit("m", **{"touchpoints[3].saturation": "logistic", "touchpoints[search].adstock.max_lookback": 4})
    rec = ws.registry.get_model("m")
    after = ws.spec("m")
    assert after.touchpoints[3].saturation.kind == "logistic"
    assert after.touchpoints[1].adstock.max_lookback == 4
    assert after.replace(touchpoints=before.touchpoints) == before
    assert rec.status is Status.AWAITING_TRAINING and rec.spec_version == 2


# ---- the command ------------------------------------------------------------------------------

def run(*args):
    return subprocess.run([sys.executable, "-m", "mediamix.cli", *args], capture_output=True, text=True, check=False)


def test_the_command_edits_one_touchpoint_and_refuses_a_bad_index_in_one_line(ws):
    where = ["--workspace", str(ws.root)]
    before = stored(ws)
    out = run("model", "edit", "m", "--set", "touchpoints[7].saturation=hill", *where)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "touchpoints has 5 entries (0-4)" in out.stderr
    assert stored(ws) == before
    out = run("model", "edit", "m", "--set", "touchpoints[search].saturation=logistic", "--set", "sampler.draws=300", *where)
    assert out.returncode == 0, out.stderr
    assert "updated m: touchpoints[search].saturation, sampler.draws" in out.stdout   # brackets shown, not eaten as markup
    after = ws.spec("m")
    assert after.touchpoints[1].saturation.kind == "logistic" and after.sampler.draws == 300


def test_the_help_shows_the_path_syntax():
    out = run("model", "edit", "--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.replace("│", " ").split())
    assert "touchpoints[3].saturation=logistic" in text and "touchpoints[tv].time_varying=true" in text


def test_conversion_as_a_mapping_replaces_its_kind_and_currency():
    s = spec().edited({"conversion": {"kind": "count"}})
    assert (s.conversion, s.conversion_kind, s.currency) == ("revenue", "count", "USD")
    s = spec().edited({"conversion": {"column": "sales", "currency": "EUR"}})
    assert (s.conversion, s.conversion_kind, s.currency) == ("sales", "revenue", "EUR")
    with pytest.raises(SpecError, match=r"conversion: unknown field\(s\) \['unit'\]"):
        spec().edited({"conversion": {"unit": "EUR"}})


def test_an_entry_of_a_field_that_is_not_set_is_refused():
    with pytest.raises(SpecError, match=r"touchpoints\[tv\]\.adstock\.priors\.decay_logit is not set, so \[1\] picks "
                                        r"nothing; set it whole \(touchpoints\[tv\]\.adstock\.priors\.decay_logit=\[\.\.\.\]\)"):
        spec().edited({"touchpoints[tv].adstock.priors.decay_logit[1]": 0.5})
    s = spec().edited({"touchpoints[tv].adstock.priors.decay_logit": [0.0, 1.0]})
    assert s.edited({"touchpoints[tv].adstock.priors.decay_logit[1]": 0.5}).touchpoints[0].adstock.prior_overrides() == \
        {"decay_logit": (0.0, 0.5)}
