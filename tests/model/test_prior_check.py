"""The prior predictive check reports what the share priors imply, quantile by quantile."""
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from scipy.stats import norm

from mediamix.model.prior_check import prior_check
from mediamix.model.priors import logit_sd_for_confidence
from mediamix.model.spec import ModelSpec


def test_prior_quantiles_match_the_logit_normal_prior():
    rng = np.random.default_rng(1)
    n = 104
    df = pd.DataFrame({"date": pd.date_range("2022-01-03", periods=n, freq="7D"),
                       "a": rng.uniform(1, 3, n), "b": rng.uniform(1, 3, n), "y": rng.uniform(90, 110, n)})
    spec = ModelSpec.from_dict({"name": "m", "data": "d", "conversion": "y",
                                "touchpoints": [{"name": "a", "spend": "a"}, {"name": "b", "spend": "b"}],
                                "priors": [{"touchpoint": "a", "share": 10, "confidence": 80}]})
    table = prior_check(spec, df, draws=4000).set_index("channel")
    s = logit_sd_for_confidence(80)
    expected = expit(np.log(0.1 / 0.9) + norm.ppf([0.05, 0.5, 0.95]) * s)
    got = table.loc["a", ["share_p05", "share_median", "share_p95"]].to_numpy(dtype=float)
    assert got == pytest.approx(expected, rel=0.06)
    # ROAS quantiles follow from share x total conversions / spend over the fitting window.
    fit = df.iloc[: n - 13]
    assert table.loc["a", "roas_median"] == pytest.approx(expected[1] * fit["y"].sum() / fit["a"].sum(), rel=0.06)
    assert table.loc["a", "prior_source"].startswith("prior knowledge")
