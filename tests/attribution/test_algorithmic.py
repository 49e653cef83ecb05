import numpy as np
import pandas as pd
import pytest

from mediamix.attribution.algorithmic import AlgorithmicAttribution
from mediamix.attribution.journeys import build_journeys
from mediamix.attribution.paths import PathTable
from mediamix.errors import DataError

EDGES = (0, 2, 7, 14)                 # lag buckets in days: [0, 2), [2, 7), [7, 14)
ALPHA = -4.0                          # daily baseline log-odds: 1.8 % a day
BETA = np.array([[1.2, 0.6, 0.2],     # a: strong, fading
                 [0.5, 0.8, 0.0],     # b: peaks after 2 days
                 [0.0, 0.0, 0.0]])    # c: no effect
CHANNELS = np.array(["a", "b", "c"])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def bucket(lag):
    return np.searchsorted(np.array(EDGES), lag, side="right") - 1


def simulate(n, seed, lookback_days=28, kmax=6):
    """People get 1-6 exposures on days 0-6; each day they convert with probability
    sigmoid(ALPHA + sum of BETA[channel, bucket(lag)] over exposures with lag < 14) until they
    convert or reach last exposure + lookback. Touches at 01:00, conversions at 23:00."""
    rng = np.random.default_rng(seed)
    k = np.minimum(1 + rng.poisson(1.5, n), kmax)
    valid = np.arange(kmax)[None, :] < k[:, None]
    days = np.where(valid, rng.integers(0, 7, (n, kmax)), 10 ** 6)
    days[:, 0] = 0
    ch = rng.integers(0, 3, (n, kmax))
    horizon = np.where(valid, days, -1).max(axis=1) + lookback_days
    conv = np.full(n, -1)
    alive = np.ones(n, dtype=bool)
    for t in range(int(horizon.max())):
        lag = t - days
        on = (lag >= 0) & (lag < EDGES[-1])
        eta = ALPHA + np.where(on, BETA[ch, bucket(np.clip(lag, 0, EDGES[-1] - 1))], 0.0).sum(axis=1)
        hit = alive & (t < horizon) & (rng.random(n) < sigmoid(eta))
        conv[hit], alive = t, alive & ~hit
    keep = valid & ((conv[:, None] < 0) | (days <= conv[:, None]))
    base = pd.Timestamp("2024-01-01")
    person = np.repeat(np.arange(n)[:, None], kmax, axis=1)
    touches = pd.DataFrame({"person_id": person[keep], "channel": CHANNELS[ch[keep]], "is_conversion": False,
                            "timestamp": base + pd.to_timedelta(days[keep] * 24 + 1, unit="h")})
    done = conv >= 0
    conversions = pd.DataFrame({"person_id": np.flatnonzero(done), "channel": None, "is_conversion": True,
                                "timestamp": base + pd.to_timedelta(conv[done] * 24 + 23, unit="h")})
    events = pd.concat([touches, conversions], ignore_index=True)
    return events, {"days": days, "ch": ch, "conv": conv, "keep": keep}


def true_incremental(sim):
    """Per channel, the incremental credit the true process implies, summed over conversions."""
    total = np.zeros(3)
    for i in np.flatnonzero(sim["conv"] >= 0):
        t, d, c = sim["conv"][i], sim["days"][i][sim["keep"][i]], sim["ch"][i][sim["keep"][i]]
        lag = t - d
        x = np.where(lag < EDGES[-1], BETA[c, bucket(np.clip(lag, 0, EDGES[-1] - 1))], 0.0)
        h0, h = sigmoid(ALPHA), sigmoid(ALPHA + x.sum())
        share = x * (h - h0) / (x.sum() * h) if abs(x.sum()) > 1e-12 else np.zeros_like(x)
        np.add.at(total, c, share)
    return total


@pytest.fixture(scope="module")
def fitted():
    events, sim = simulate(20_000, seed=5)
    journeys = build_journeys(events, lookback=4, observation_end="2025-01-01")
    model = AlgorithmicAttribution(lag_edges=EDGES, prior_sd=2.0, n_draws=300, seed=3).fit(journeys)
    return model, sim, journeys


def test_recovers_the_generating_parameters(fitted):
    model, _, _ = fitted
    assert abs(model.baseline_ - ALPHA) < 4 * model.baseline_sd_
    assert abs(model.baseline_ - ALPHA) < 0.1
    z = (model.coef_.estimate.to_numpy() - BETA.ravel()) / model.coef_.sd.to_numpy()
    assert np.all(np.abs(z) < 4), model.coef_.assign(true=BETA.ravel(), z=z)
    assert np.all(np.abs(model.coef_.estimate.to_numpy() - BETA.ravel()) < 0.12)
    assert list(model.coef_.channel[:3]) == ["a"] * 3 and model.coef_.lag_to.tolist()[:3] == [2, 7, 14]


def test_incremental_credit_matches_the_true_process_within_its_uncertainty(fitted):
    model, sim, _ = fitted
    truth = true_incremental(sim)
    table = model.attribution().set_index("channel")
    for channel, true_value in zip(CHANNELS, truth):
        row = table.loc[channel]
        assert abs(row.incremental - true_value) < 4 * row.incremental_sd + 1.0, (channel, true_value, row)
        assert row.incremental_lo <= row.incremental <= row.incremental_hi
    # channel c has no effect: its incremental credit is small next to a's and b's
    assert abs(table.incremental["c"]) < 0.1 * table.incremental["a"]
    prior_view = model.incremental_by_channel()
    assert list(prior_view.columns) == ["channel", "incremental_conversions", "sd"]
    assert (prior_view.sd > 0).all()
    assert table.value.isna().all()  # the events carry no value column


def test_per_conversion_credit_identities(fitted):
    model, _, journeys = fitted
    touches = model.touch_credits()
    per_conversion = touches.groupby("journey")
    # influenced shares of a conversion sum to 1; incremental to 1 - h0 / h, recomputed here from
    # the fitted coefficients and each touch's lag at the converting step; their difference is the
    # baseline share h0 / h spread evenly over the conversion's touches.
    assert np.allclose(per_conversion.influenced.sum(), 1.0)
    coef = model.coef_.set_index(["channel", "lag_from"]).estimate
    lag_from = np.array(EDGES)[np.clip(bucket(touches.lag_steps.to_numpy()), 0, len(EDGES) - 2)]
    effect = np.where(touches.lag_steps < EDGES[-1],
                      coef.reindex(list(zip(touches.channel, lag_from))).to_numpy(), 0.0)
    logit_lift = pd.Series(effect).groupby(touches.journey.to_numpy()).sum()
    h0, h = sigmoid(model.baseline_), sigmoid(model.baseline_ + logit_lift)
    assert np.allclose(per_conversion.incremental.sum().to_numpy(), (1 - h0 / h).to_numpy())
    n_touches = per_conversion.journey.transform("size").to_numpy()
    baseline_share = (h0 / h).reindex(touches.journey.to_numpy()).to_numpy()
    assert np.allclose(touches.influenced - touches.incremental, baseline_share / n_touches)
    assert touches.journey.nunique() == int(journeys.converted.sum())
    # credits are seeded: the same seed gives the same intervals
    again = AlgorithmicAttribution(lag_edges=EDGES, prior_sd=2.0, n_draws=300, seed=3).fit(journeys)
    pd.testing.assert_frame_equal(model.attribution(), again.attribution())


def test_algorithmic_errors(shared_cases):
    with pytest.raises(DataError, match="lag_edges"):
        AlgorithmicAttribution(lag_edges=(1, 3))
    with pytest.raises(DataError, match="needs touch timestamps"):
        AlgorithmicAttribution().fit(PathTable.from_csv(shared_cases / "B22_repeated_touchpoints.csv"))
    ev = pd.DataFrame({"person_id": [1], "timestamp": ["2024-01-01"], "channel": ["a"], "is_conversion": [0]})
    with pytest.raises(DataError, match="no converting journeys"):
        AlgorithmicAttribution().fit(build_journeys(ev))
    with pytest.raises(DataError, match="not fitted"):
        AlgorithmicAttribution().attribution()


def test_algorithmic_credits_feed_the_attribution_tab(fitted):
    from mediamix.attribution.summary import attribution_tab, credit_trend
    model, _, journeys = fitted
    tab = attribution_tab(journeys, include_shapley=False, algorithmic=model)
    totals = tab["totals"].set_index("channel")
    table = model.attribution().set_index("channel")
    assert totals.algorithmic_incremental.to_dict() == pytest.approx(table.incremental.to_dict())
    # influenced credit, like every rule-based model, shares out each conversion in full
    assert totals.algorithmic_influenced.sum() == pytest.approx(journeys.converted.sum())
    weekly = credit_trend(journeys, model, "weekly", credit="incremental")
    assert weekly.conversions.sum() == pytest.approx(table.incremental.sum())
    assert (weekly.period.dt.day_of_week == 0).all()  # weeks start on Monday
