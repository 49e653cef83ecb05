"""Lift tests in the likelihood, on the bundled demo data (simulator truth per week).

A lift test reports a channel's incremental revenue over a period with a standard error. The
model's contribution of that channel over the period must move to the measurement: with an
accurate test the posterior sits within two standard errors of the truth and is narrower
than without it; with a test that reports 1.4x the truth the estimate moves up toward it.
"""
import numpy as np
import pandas as pd
import pytest

from mediamix.data.simulate import demo_data_dir
from mediamix.model.predict import component_draws
from mediamix.model.spec import ModelSpec
from tests.fitting import RELAXED, TEST_SAMPLER, fit_case

pytestmark = pytest.mark.slow

CHANNEL, START, END = "search", "2023-03-06", "2023-05-29"     # 13 weeks of an always-on channel


def window_contribution(tmp_path, name, lift_tests):
    spec = ModelSpec.from_yaml((demo_data_dir() / "demo_model.yaml").read_text())
    spec = ModelSpec.from_dict({**spec.to_dict(), "name": name, "sampler": TEST_SAMPLER.__dict__,
                                "thresholds": RELAXED.__dict__, "lift_tests": lift_tests})
    ws, result = fit_case(tmp_path / name, demo_data_dir() / "demo_weekly.csv", spec)
    fitted = ws.fitted(name)
    _, frame = ws._national(fitted.spec)
    cd = component_draws(fitted, frame)
    rows = (cd.design.dates >= START) & (cd.design.dates <= END)
    j = cd.design.channels.index(CHANNEL)
    return cd.media[:, rows, j].sum(axis=1)                     # per draw


def test_lift_test_pulls_the_channel_to_the_measurement(tmp_path):
    truth = pd.read_csv(demo_data_dir() / "demo_truth_components.csv", parse_dates=["date"])
    true = float(truth.loc[(truth["date"] >= START) & (truth["date"] <= END), CHANNEL].sum())
    se = 0.04 * true
    test = lambda value: [{"touchpoint": CHANNEL, "start": START, "end": END, "incremental": value,
                           "standard_error": se}]
    without = window_contribution(tmp_path, "no-lift", [])
    accurate = window_contribution(tmp_path, "lift", test(true))
    high = window_contribution(tmp_path, "lift-high", test(1.4 * true))
    # Measured: truth 599k; without the test 597k ± 222k; with it 598k ± 24k; a 1.4x test gives 836k.
    assert abs(accurate.mean() - true) < 2 * se, (accurate.mean(), true)
    assert accurate.std() < without.std()
    assert high.mean() > accurate.mean() + 0.2 * true      # follows a (wrong) measurement, as it should
