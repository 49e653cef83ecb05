"""Share priors: the documented confidence -> width mapping and spend-share centres."""
import numpy as np
import pytest
from scipy.special import expit

from mediamix.model.priors import logit_sd_for_confidence, share_priors
from mediamix.model.spec import ModelSpec


def test_confidence_mapping_is_the_documented_line():
    assert logit_sd_for_confidence(0) == pytest.approx(2.05)
    assert logit_sd_for_confidence(50) == pytest.approx(1.05)
    assert logit_sd_for_confidence(90) == pytest.approx(0.25)
    assert logit_sd_for_confidence(100) == pytest.approx(0.05)


def test_spend_share_centres_and_prior_knowledge_override():
    spec = ModelSpec.from_dict({"name": "m", "data": "d", "conversion": "y", "touchpoints": ["a", "b", "c"],
                                "media_share_prior": 30,
                                "priors": [{"touchpoint": "c", "share": 10, "confidence": 90}]})
    p = share_priors(spec, np.array([300.0, 100.0, 5000.0]), 1000.0)
    # c claims 10% of conversions; a and b split the remaining 20% 3:1 by spend.
    assert expit(p.loc) == pytest.approx([0.15, 0.05, 0.10])
    assert p.scale == pytest.approx([logit_sd_for_confidence(30), logit_sd_for_confidence(30), 0.25])
    assert p.source[0] == "spend share" and p.source[2].startswith("prior knowledge")
    median, lo, hi = p.interval()
    assert np.all(lo < median) and np.all(median < hi)


def test_spend_share_off_splits_evenly_with_wide_prior():
    spec = ModelSpec.from_dict({"name": "m", "data": "d", "conversion": "y", "touchpoints": ["a", "b"],
                                "spend_share": False, "media_share_prior": 40})
    p = share_priors(spec, np.array([1.0, 99.0]), 1000.0)
    assert expit(p.loc) == pytest.approx([0.2, 0.2])
    assert p.scale == pytest.approx([2.05, 2.05])
