"""ROI/CPA priors become the documented share priors; lift tests become exact masks and
scaled values, and their log likelihood is the hand-computed Gaussian sum in NumPy and JAX."""
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from mediamix.errors import DataError, SpecError
from mediamix.model.calibration import lift_arrays, lift_log_likelihood
from mediamix.model.design import build_design
from mediamix.model.priors import logit_sd_for_confidence, share_priors
from mediamix.model.spec import ModelSpec


def make_spec(**changes) -> ModelSpec:
    return ModelSpec.from_dict({"name": "m", "data": "d", "conversion": "y", "touchpoints": ["a", "b", "c"],
                                "media_share_prior": 30, **changes})


# ---- ROI / CPA priors -> share priors ---------------------------------------------------------

def test_roi_prior_centre_and_width_follow_the_closed_form():
    spec = make_spec(priors=[{"touchpoint": "a", "roi": 1.0, "roi_sd": 0.1, "source": "experiment"}])
    p = share_priors(spec, np.array([100.0, 300.0, 100.0]), 1000.0)
    # contribution (1 + 1) x 100 = 200 of 1000 -> share 0.2; s = (0.1 x 100 / 1000) / (0.2 x 0.8)
    assert expit(p.loc[0]) == pytest.approx(0.2)
    assert p.scale[0] == pytest.approx(0.0625)
    assert p.source[0] == "ROI prior (experiment, 1 ± 0.1)"
    # b and c split what is left of the 30% media share (10%) 3:1 by spend.
    assert expit(p.loc[1:]) == pytest.approx([0.075, 0.025])
    # The implied prior on ROI has median 1.0 and a 90% interval close to 1 -/+ 1.645 x 0.1.
    z = np.random.default_rng(0).normal(p.loc[0], p.scale[0], 400_000)
    roi = expit(z) * 1000.0 / 100.0 - 1.0
    q05, q50, q95 = np.quantile(roi, [0.05, 0.5, 0.95])
    assert q50 == pytest.approx(1.0, abs=0.003)
    assert q05 == pytest.approx(1.0 - 1.645 * 0.1, abs=0.01)
    assert q95 == pytest.approx(1.0 + 1.645 * 0.1, abs=0.01)


def test_cpa_prior_on_a_count_model():
    spec = make_spec(conversion_kind="count", priors=[{"touchpoint": "b", "cpa": 2.0, "cpa_sd": 0.1}])
    p = share_priors(spec, np.array([50.0, 100.0, 50.0]), 500.0)
    # 100 spent at 2 per conversion = 50 of 500 conversions; sd_share = 0.1 x 100 / (2^2 x 500)
    assert expit(p.loc[1]) == pytest.approx(0.1)
    assert p.scale[1] == pytest.approx(0.005 / (0.1 * 0.9))
    assert p.source[1] == "CPA prior (user, 2 ± 0.1)"
    cpa = 100.0 / (expit(np.random.default_rng(1).normal(p.loc[1], p.scale[1], 200_000)) * 500.0)
    assert np.median(cpa) == pytest.approx(2.0, abs=0.005)


def test_roi_spread_is_kept_between_a_fixed_and_a_no_confidence_width():
    tight = share_priors(make_spec(priors=[{"touchpoint": "a", "roi": 1.0, "roi_sd": 0.001}]),
                         np.array([100.0, 1.0, 1.0]), 1000.0)
    loose = share_priors(make_spec(priors=[{"touchpoint": "a", "roi": 1.0, "roi_sd": 50.0}]),
                         np.array([100.0, 1.0, 1.0]), 1000.0)
    assert tight.scale[0] == pytest.approx(logit_sd_for_confidence(100))
    assert loose.scale[0] == pytest.approx(logit_sd_for_confidence(0))


def test_share_priors_are_unchanged_by_the_new_argument():
    spec = make_spec(priors=[{"touchpoint": "c", "share": 10, "confidence": 90}])
    a = share_priors(spec, np.array([300.0, 100.0, 5000.0]), 1000.0)
    b = share_priors(spec, np.array([300.0, 100.0, 5000.0]), 123.0)
    assert a.loc == pytest.approx(b.loc) and a.loc[2] == pytest.approx(logit(0.1))


@pytest.mark.parametrize("priors, spend, match", [
    ([{"touchpoint": "a", "roi": 9.0, "roi_sd": 1.0}], [100.0, 1.0, 1.0], r"priors\[a\].*100\.0% of conversions"),
    ([{"touchpoint": "a", "roi": 1.0, "roi_sd": 0.2}], [0.0, 1.0, 1.0], r"priors\[a\].*0\.0% of conversions"),
    ([{"touchpoint": "a", "roi": 2.0, "roi_sd": 0.2}, {"touchpoint": "b", "share": 45, "confidence": 50}],
     [200.0, 1.0, 1.0], r"together they claim 105\.0%.*a 60\.0%, b 45\.0%.*room for the base"),
])
def test_implausible_roi_priors_are_refused(priors, spend, match):
    with pytest.raises(SpecError, match=match):
        share_priors(make_spec(priors=priors), np.array(spend), 1000.0)


# ---- lift tests: arrays -------------------------------------------------------------------------

def tiny_design(lift_tests):
    """12 Monday weeks from 2024-01-01; training is rows 2..11 (mean revenue 250 there);
    b does not spend in rows 8 and 9 (2024-02-26, 2024-03-04)."""
    dates = pd.date_range("2024-01-01", periods=12, freq="7D")
    b = np.full(12, 5.0)
    b[[8, 9]] = 0.0
    frame = pd.DataFrame({"date": dates, "y": [200.0, 200.0] + [200.0, 300.0] * 5,
                          "a_spend": np.arange(1.0, 13.0), "b_spend": b})
    spec = ModelSpec.from_dict({"name": "m", "data": "d", "conversion": "y", "touchpoints": ["a", "b"],
                                "lookback_weeks": 1, "holdout_weeks": 0, "seasonality_order": 0,
                                "training": {"start": "2024-01-15", "end": "2024-03-18"}, "lift_tests": lift_tests})
    return spec, build_design(frame, spec)


def lift(touchpoint, start, end, incremental=100.0, standard_error=10.0):
    return {"touchpoint": touchpoint, "start": start, "end": end, "incremental": incremental,
            "standard_error": standard_error}


def test_lift_arrays_masks_and_scaled_values():
    spec, design = tiny_design([lift("a", "2024-01-22", "2024-02-05", 500.0, 50.0),
                                lift("b", "2024-02-07", "2024-02-20", 125.0, 25.0)])   # Wednesday to Tuesday
    assert design.scaling.y_scale == pytest.approx(250.0)
    out = lift_arrays(spec, design)
    window = np.zeros((2, 12), np.float32)
    window[0, [3, 4, 5]] = 1.0          # weeks starting 01-22, 01-29, 02-05
    window[1, [6, 7]] = 1.0             # weeks starting 02-12, 02-19 (02-05 starts before the test)
    np.testing.assert_array_equal(out["window"], window)
    np.testing.assert_array_equal(out["onehot"], np.array([[1, 0], [0, 1]], np.float32))
    np.testing.assert_allclose(out["obs"], [2.0, 0.5])
    np.testing.assert_allclose(out["se"], [0.2, 0.1])
    assert all(v.dtype == np.float32 for v in out.values())


def test_no_lift_tests_give_empty_arrays():
    spec, design = tiny_design([])
    out = lift_arrays(spec, design)
    assert {k: v.shape for k, v in out.items()} == {"window": (0, 12), "onehot": (0, 2), "obs": (0,), "se": (0,)}
    assert all(v.dtype == np.float32 for v in out.values())


@pytest.mark.parametrize("test, match", [
    (lift("b", "2024-01-02", "2024-01-05"), r"lift_tests\[0\] \(b, 2024-01-02..2024-01-05\): no period"),
    (lift("a", "2025-01-01", "2025-02-01"), r"lift_tests\[0\] \(a, 2025-01-01..2025-02-01\): no period"),
    (lift("a", "2024-01-01", "2024-01-22"), r"2 of its 4 periods fall outside the training window 2024-01-15..2024-03-18"),
    (lift("b", "2024-02-26", "2024-03-04"), r"lift_tests\[0\] \(b, 2024-02-26..2024-03-04\): channel 'b' has no spend"),
])
def test_lift_tests_the_data_cannot_check_are_refused(test, match):
    spec, design = tiny_design([test])
    with pytest.raises(DataError, match=match):
        lift_arrays(spec, design)


# ---- lift tests: likelihood ---------------------------------------------------------------------

def by_hand(window, onehot, obs, se, media):
    out = np.zeros(media.shape[:-2])
    for i in range(len(obs)):
        c = int(np.argmax(onehot[i]))
        pred = sum(window[i, t] * media[..., t, c] for t in range(window.shape[1]))
        out = out - 0.5 * ((pred - obs[i]) / se[i]) ** 2
    return out


@pytest.fixture
def lift_inputs():
    rng = np.random.default_rng(3)
    window = np.zeros((2, 6), np.float32)
    window[0, 1:4] = 1.0
    window[1, [0, 5]] = 1.0
    onehot = np.array([[0, 1, 0], [1, 0, 0]], np.float32)
    obs, se = np.array([1.2, 0.4], np.float32), np.array([0.3, 0.1], np.float32)
    media = rng.uniform(0, 0.5, (4, 2, 6, 3)).astype(np.float32)     # (chain, draw, T, C)
    return window, onehot, obs, se, media


def test_lift_log_likelihood_matches_the_hand_sum(lift_inputs):
    window, onehot, obs, se, media = lift_inputs
    expected = by_hand(window, onehot, obs, se, media)
    got_np = lift_log_likelihood(window, onehot, obs, se, media, np)
    got_jax = lift_log_likelihood(*map(jnp.asarray, (window, onehot, obs, se, media)), jnp)
    assert got_np.shape == got_jax.shape == (4, 2)
    np.testing.assert_allclose(got_np, expected, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(got_jax), expected, rtol=1e-5)
    # No draw axes: one number.
    assert float(lift_log_likelihood(window, onehot, obs, se, media[0, 0], np)) == pytest.approx(float(expected[0, 0]))


@pytest.mark.parametrize("xp", [np, jnp])
def test_lift_log_likelihood_without_tests_is_zero(lift_inputs, xp):
    media = xp.asarray(lift_inputs[4])
    empty = [xp.zeros((0, 6)), xp.zeros((0, 3)), xp.zeros(0), xp.zeros(0)]
    out = lift_log_likelihood(*empty, media, xp)
    assert out.shape == (4, 2)
    np.testing.assert_array_equal(np.asarray(out), 0.0)


def test_a_post_campaign_window_is_credited_through_carryover():
    """No spend inside the test's weeks is fine if the lookback before them has spend."""
    dates = pd.date_range("2024-01-01", periods=32, freq="7D")
    b = np.full(32, 5.0)
    b[[18, 19, 20, 21]] = 0.0                       # dark from 2024-05-06 to 2024-05-27
    frame = pd.DataFrame({"date": dates, "y": np.full(32, 250.0), "a_spend": np.arange(1.0, 33.0), "b_spend": b})

    def design_with(test):
        spec = ModelSpec.from_dict({"name": "m", "data": "d", "conversion": "y", "touchpoints": ["a", "b"],
                                    "lookback_weeks": 3, "holdout_weeks": 0, "seasonality_order": 0,
                                    "lift_tests": [test]})
        return spec, build_design(frame, spec)

    spec, design = design_with(lift("b", "2024-05-06", "2024-05-13"))      # rows 18-19: spend in rows 16-17
    assert lift_arrays(spec, design)["window"][0].nonzero()[0].tolist() == [18, 19]
    spec, design = design_with(lift("b", "2024-05-20", "2024-05-27"))      # rows 20-21: rows 18-19 are dark too
    with pytest.raises(DataError, match=r"no spend in that period or in the 2 periods before it"):
        lift_arrays(spec, design)


# ---- lift tests: an incremental larger than everything observed -----------------------------------

def observed_total(start, end):
    """The target summed over tiny_design's weeks starting in [start, end], from its own numbers."""
    dates = pd.date_range("2024-01-01", periods=12, freq="7D")
    y = np.array([200.0, 200.0] + [200.0, 300.0] * 5)
    return float(y[(dates >= start) & (dates <= end)].sum())


def test_the_observed_total_is_the_limit_either_way():
    total = observed_total("2024-01-22", "2024-02-05")            # weeks of 01-22, 01-29, 02-05: 300 + 200 + 300
    assert total == 800.0
    for value in (total, -total, 0.0):                            # as much as everything observed: accepted
        spec, design = tiny_design([lift("a", "2024-01-22", "2024-02-05", value, 50.0)])
        assert lift_arrays(spec, design)["obs"][0] == pytest.approx(value / 250.0)


@pytest.mark.parametrize("incremental, shown", [(5 * 800.0, "incremental 4,000"), (800.5, "incremental 800.5"),
                                                (-1000.0, "a decrease of 1,000 (incremental -1,000)")])
def test_an_incremental_above_the_observed_total_is_refused(incremental, shown):
    spec, design = tiny_design([lift("b", "2024-01-15", "2024-01-15"), lift("a", "2024-01-22", "2024-02-05", incremental, 50.0)])
    with pytest.raises(DataError) as err:
        lift_arrays(spec, design)
    assert str(err.value) == (
        f"lift_tests[1] (a, 2024-01-22..2024-02-05): {shown} is more than all the 'y' observed in its "
        f"3 periods (2024-01-22..2024-02-05), 800 in total; a channel cannot cause more than everything observed. "
        f"Check the value, its units (USD, summed over the test's periods) and the dates")


def test_a_count_model_names_conversions_as_the_unit():
    dates = pd.date_range("2024-01-01", periods=12, freq="7D")
    frame = pd.DataFrame({"date": dates, "y": np.full(12, 40.0), "a_spend": np.arange(1.0, 13.0), "b_spend": 5.0})
    spec = ModelSpec.from_dict({"name": "m", "data": "d", "conversion": "y", "conversion_kind": "count",
                                "touchpoints": ["a", "b"], "lookback_weeks": 1, "holdout_weeks": 0,
                                "seasonality_order": 0, "lift_tests": [lift("b", "2024-03-04", "2024-03-04", 41.0, 5.0)]})
    with pytest.raises(DataError, match=r"incremental 41 is more than all the 'y' observed in its 1 period "
                                        r"\(2024-03-04\.\.2024-03-04\), 40 in total.*its units \(conversions,"):
        lift_arrays(spec, build_design(frame, spec))


# ---- lift tests reaching past the data, and inside the holdout --------------------------------------

def test_a_test_running_past_the_last_week_is_refused_not_scored_over_part_of_itself():
    # tiny_design's data ends with the week starting 2024-03-18 (training ends there too).
    weeks = pd.date_range("2024-03-04", "2024-04-08", freq="7D")      # 03-04 .. 04-08: 6 Monday weeks
    past = int((weeks > pd.Timestamp("2024-03-18")).sum())
    spec, design = tiny_design([lift("a", "2024-03-04", "2024-04-08")])
    with pytest.raises(DataError) as err:
        lift_arrays(spec, design)
    assert str(err.value).startswith(
        f"lift_tests[0] (a, 2024-03-04..2024-04-08): {past} of its {len(weeks)} periods fall outside the training "
        f"window 2024-01-15..2024-03-18 ({past} after the data ends on 2024-03-18): it would be scored over only the "
        f"{len(weeks) - past} inside.")
    # Ending on the last week's Sunday adds no week past the data: accepted, over its 3 weeks.
    spec, design = tiny_design([lift("a", "2024-03-04", "2024-03-24")])
    assert lift_arrays(spec, design)["window"][0].nonzero()[0].tolist() == [9, 10, 11]


def test_check_lift_tests_warns_of_a_test_in_the_holdout_only():
    from mediamix.model.calibration import check_lift_tests
    dates = pd.date_range("2024-01-01", periods=40, freq="7D")
    frame = pd.DataFrame({"date": dates, "y": np.full(40, 250.0), "a_spend": np.arange(1.0, 41.0), "b_spend": 5.0})
    spec = ModelSpec.from_dict({"name": "m", "data": "d", "conversion": "y", "touchpoints": ["a", "b"],
                                "lookback_weeks": 2, "holdout_weeks": 6, "seasonality_order": 0,
                                "lift_tests": [lift("a", str(dates[10].date()), str(dates[12].date())),
                                               lift("b", str(dates[33].date()), str(dates[35].date()))]})
    design = build_design(frame, spec)
    assert design.in_holdout.nonzero()[0].tolist() == list(range(34, 40))     # the last 6 weeks
    warnings = check_lift_tests(spec, design)
    # Only the second test; 2 of its 3 weeks (rows 34, 35) are held out; 4 weeks follow it (rows 36-39).
    assert len(warnings) == 1 and warnings[0].startswith(
        f"lift_tests[1] (b, {dates[33].date()}..{dates[35].date()}): 2 of its 3 periods lie in the holdout "
        f"({dates[34].date()}..{dates[39].date()}, the last holdout_weeks 6 of the training window)")
    assert "holdout_weeks: 4 or less starts the holdout after the test" in warnings[0]
    assert not check_lift_tests(spec.replace(holdout_weeks=4), build_design(frame, spec.replace(holdout_weeks=4)))
