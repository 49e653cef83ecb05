"""Priors on contribution shares, not raw coefficients.

Each channel's share of total conversions in the fitting window has a logit-normal prior:
share = sigmoid(z), z ~ Normal(logit(m), s). The centre m is

* the analyst's prior-knowledge share, when the spec gives one for the channel;
* otherwise, with spend share on, `media_share_prior` x the channel's share of spend among
  the channels without prior knowledge (minus what prior-knowledge channels already claim);
* otherwise the same media share split evenly.

Confidence c (percent) sets the width on the logit scale:  s = 0.05 + 2.0 x (1 - c/100).
So c = 0 gives s = 2.05 (a 90% prior interval spanning a factor of ~30 on the odds), c = 50
gives 1.05 (factor ~5.6), c = 90 gives 0.25 (factor ~1.5) and c = 100 gives 0.05 (a near-fixed
share). Spend-share priors use `spend_share_confidence` (default 30%, s = 1.45); with spend share
off the fallback prior uses confidence 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from mediamix.model.spec import ModelSpec


def logit_sd_for_confidence(confidence_percent: float) -> float:
    return 0.05 + 2.0 * (1.0 - confidence_percent / 100.0)


@dataclass(frozen=True)
class SharePriors:
    channels: list[str]
    loc: np.ndarray      # logit-scale centre per channel
    scale: np.ndarray    # logit-scale sd per channel
    source: list[str]    # "prior knowledge (source)" | "spend share" | "even split"

    def interval(self, q_low: float = 0.05, q_high: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Prior mean-ish (median), low and high share quantiles, as fractions 0..1."""
        from scipy.stats import norm
        median = expit(self.loc)
        lo = expit(self.loc + norm.ppf(q_low) * self.scale)
        hi = expit(self.loc + norm.ppf(q_high) * self.scale)
        return median, lo, hi


def share_priors(spec: ModelSpec, spend_in_fit: np.ndarray) -> SharePriors:
    """spend_in_fit: total spend per channel over the fitting window, in the spec's channel order."""
    channels = spec.channel_names
    known = {p.touchpoint: p for p in spec.priors}
    media_total = spec.media_share_prior / 100.0
    claimed = sum(p.share / 100.0 for p in spec.priors)
    remaining = max(media_total - claimed, 0.02 * (len(channels) - len(known)))
    free = [c for c in channels if c not in known]
    free_spend = np.array([spend_in_fit[channels.index(c)] for c in free], dtype=float)
    loc, scale, source = [], [], []
    for j, ch in enumerate(channels):
        if ch in known:
            p = known[ch]
            m = p.share / 100.0
            s = logit_sd_for_confidence(p.confidence)
            source.append(f"prior knowledge ({p.source}, {p.share:g}% at {p.confidence:g}% confidence)")
        elif spec.spend_share and free_spend.sum() > 0:
            m = remaining * spend_in_fit[j] / free_spend.sum()
            s = logit_sd_for_confidence(spec.spend_share_confidence)
            source.append("spend share")
        else:
            m = remaining / max(len(free), 1)
            s = logit_sd_for_confidence(0.0)
            source.append("even split")
        loc.append(float(logit(np.clip(m, 1e-4, 0.95))))
        scale.append(s)
    return SharePriors(channels, np.array(loc), np.array(scale), source)
