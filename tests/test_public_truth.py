"""Consistency of the truth loaders in tests/public_truth.py (no model fits)."""
import numpy as np
import pandas as pd
import pytest

from tests.public_truth import CHANNELS, TVP_TRUTH_COLUMNS, media_tvp, multidimensional_example


@pytest.fixture(scope="module")
def tvp(shared_data):
    return media_tvp(shared_data / "pymc-marketing")


@pytest.fixture(scope="module")
def multi(shared_data):
    return multidimensional_example(shared_data / "pymc-marketing")


def test_tvp_frame_has_no_truth_columns(tvp):
    frame, truth = tvp
    assert not set(TVP_TRUTH_COLUMNS) & set(frame.columns)
    assert {"date_week", "x1", "x2", "event_1", "event_2", "y"} <= set(frame.columns) and len(frame) == 179
    assert truth["weekly"]["date_week"].equals(frame["date_week"])


def test_tvp_channel_contribution_is_the_sum_of_channels_and_baseline_times_multiplier(tvp):
    _, truth = tvp
    comp, weekly = truth["components"], truth["weekly"]
    assert np.allclose(comp["channel_contribution"], weekly["x1"] + weekly["x2"], atol=1e-12)
    assert np.allclose(comp["channel_contribution"],
                       comp["baseline_channel_contribution"] * truth["multiplier"].to_numpy(), atol=1e-12)
    assert truth["multiplier"].between(0.5, 1.5).all()
    for c in CHANNELS:
        assert truth["contribution"][c] == pytest.approx(weekly[c].sum())
        assert (weekly[c] >= 0).all()


def test_tvp_y_is_the_sum_of_components_plus_noise(tvp):
    frame, truth = tvp
    comp = truth["components"]
    parts = ["intercept", "channel_contribution", "yearly_seasonality_contribution", "control_contribution"]
    residual = frame["y"] - comp[parts].sum(axis=1)
    assert residual.std() == pytest.approx(0.24, abs=0.02)
    assert abs(residual.mean()) < 3 * residual.std() / np.sqrt(len(residual))
    assert abs(np.corrcoef(residual[1:], residual[:-1])[0, 1]) < 0.2   # white noise


def test_multi_frame_columns(multi):
    frame, truth = multi
    assert list(frame.columns) == ["date", "geo", "x1", "x2", "event_1", "event_2", "y"]
    assert len(frame) == 318 and set(frame["geo"]) == {"geo_a", "geo_b"}
    assert len(truth["contributions"]) == len(frame)


def test_multi_redrawn_generator_stream_matches_the_file(multi):
    """The placeholder y (the target scale) comes from a redrawn stream: the draws before it must match."""
    frame, truth = multi
    wide = frame.pivot(index="date", columns="geo")
    assert np.allclose(wide["x2"][["geo_a", "geo_b"]].to_numpy(), truth["stream"]["x2"], rtol=0, atol=1e-6)
    for event, rows in zip(("event_1", "event_2"), truth["stream"]["event_rows"]):
        assert sorted(wide.index[rows]) == sorted(wide.index[wide[event]["geo_a"] == 1])
        assert (wide[event]["geo_a"] == wide[event]["geo_b"]).all()


def test_multi_scales_are_pymc_marketing_per_geo_max(multi):
    frame, truth = multi
    # Values of mmm.scalers from the upstream script's model built with pymc-marketing 0.19.2.
    assert truth["target_scale"]["geo_a"] == pytest.approx(6542.74, abs=0.01)
    assert truth["target_scale"]["geo_b"] == pytest.approx(6373.88, abs=0.01)
    assert truth["channel_scale"]["geo_b"]["x1"] == pytest.approx(frame.loc[frame.geo == "geo_b", "x1"].max())
    assert truth["channel_scale"]["geo_a"]["x2"] == pytest.approx(9755.97, abs=0.01)


def test_multi_contributions_are_nonnegative_and_follow_spend(multi):
    frame, truth = multi
    merged = frame.merge(truth["contributions"], on=["date", "geo"], suffixes=("", "_true"))
    for c in CHANNELS:
        assert (merged[f"{c}_true"] >= 0).all()
        # Zero before a channel's first spend (adstock carries forward only).
        for geo, g in merged.groupby("geo"):
            first = g.index[g[c] > 0][0]
            assert (g.loc[: first - 1, f"{c}_true"] == 0).all() and g.loc[first, f"{c}_true"] > 0
    assert (merged.groupby("geo")["x2_true"].apply(lambda s: (s == 0).sum()) > 0).all()


def test_multi_contributions_are_small_against_y(multi):
    frame, truth = multi
    merged = frame.merge(truth["contributions"], on=["date", "geo"], suffixes=("", "_true"))
    media = merged["x1_true"] + merged["x2_true"]
    for geo in ("geo_a", "geo_b"):
        share = truth["share"][geo]
        assert 0 < share["x1"] + share["x2"] < 0.1, share
        assert sum(truth["contribution"][geo].values()) == pytest.approx(media[merged.geo == geo].sum())
    # Media exceed y only where the truncated-normal noise put y near zero (its lowest 5%).
    low = merged.groupby("geo")["y"].transform(lambda s: s.quantile(0.05))
    assert (merged.loc[media > merged["y"], "y"] <= low[media > merged["y"]]).all()
    assert (media > merged["y"]).sum() <= 6


def test_multi_residual_is_intercept_seasonality_events_and_noise(multi):
    """y / target_scale - media should look like the generator's baseline: an intercept (prior
    N(0.5, 0.2)), order-2 yearly Fourier terms, event effects, white noise (sd ~ HalfNormal(0.5))."""
    frame, truth = multi
    merged = frame.merge(truth["contributions"], on=["date", "geo"], suffixes=("", "_true"))
    for geo, g in merged.groupby("geo"):
        scaled = (g["y"] - g["x1_true"] - g["x2_true"]).to_numpy() / truth["target_scale"][geo]
        day = g["date"].dt.day_of_year.to_numpy()
        design = np.column_stack([np.ones(len(g))] + [f(2 * np.pi * k * day / 365.25) for k in (1, 2) for f in (np.sin, np.cos)]
                                 + [g["event_1"], g["event_2"]])
        coef, *_ = np.linalg.lstsq(design, scaled, rcond=None)
        residual = scaled - design @ coef
        assert 0.1 < coef[0] < 0.9, (geo, coef[0])
        assert residual.std() < 0.5
        assert abs(np.corrcoef(residual[1:], residual[:-1])[0, 1]) < 0.3, geo
