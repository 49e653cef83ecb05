"""Priors on contribution shares, not raw coefficients.

Each channel's share of total conversions in the fitting window has a logit-normal prior:
share = sigmoid(z), z ~ Normal(logit(m), s). The centre m is

* the analyst's prior-knowledge share, when the spec gives one for the channel;
* the share an ROI (revenue) or CPA (count) prior implies, when the spec gives one (below);
* otherwise, with spend share on, `media_share_prior` x the channel's share of spend among
  the channels without prior knowledge (minus what prior-knowledge channels already claim);
* otherwise the same media share split evenly.

Confidence c (percent) sets the width on the logit scale:  s = 0.05 + 2.0 x (1 - c/100).
So c = 0 gives s = 2.05 (a 90% prior interval spanning a factor of ~30 on the odds), c = 50
gives 1.05 (factor ~5.6), c = 90 gives 0.25 (factor ~1.5) and c = 100 gives 0.05 (a near-fixed
share). Spend-share priors use `spend_share_confidence` (default 30%, s = 1.45); with spend share
off the fallback prior uses confidence 0.

ROI and CPA priors become share priors through the fitting window's totals. With spend S and
total conversions Y (the target summed over the window), the channel's contribution is
(roi + 1) x S for an ROI prior (roi = (revenue - spend) / spend) or S / cpa for a CPA prior, so
the centre is m = contribution / Y. The spread maps by the delta method: sd_share = roi_sd x S / Y
(or cpa_sd x S / (cpa^2 x Y)), and on the logit scale s = sd_share / (m (1 - m)), kept within
[0.05, 2.05] (from near-fixed to the width of a 0%-confidence share prior; wider would pile the
prior up at 0 and 1). The implied prior on ROI then has median roi and, for a small spread, a 90%
interval close to roi +/- 1.645 roi_sd. An implied share that is not strictly between 0 and 95%,
or prior-knowledge shares that together leave no room for the base, are refused.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from mediamix.errors import DataError, SpecError
from mediamix.model.spec import ModelSpec, PriorSpec

MAX_IMPLIED_SHARE = 0.95


def logit_sd_for_confidence(confidence_percent: float) -> float:
    return 0.05 + 2.0 * (1.0 - confidence_percent / 100.0)


@dataclass(frozen=True)
class SharePriors:
    channels: list[str]
    loc: np.ndarray      # logit-scale centre per channel
    scale: np.ndarray    # logit-scale sd per channel
    source: list[str]    # "prior knowledge (...)" | "ROI prior (...)" | "CPA prior (...)" | "spend share" | "even split"

    def interval(self, q_low: float = 0.05, q_high: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Prior mean-ish (median), low and high share quantiles, as fractions 0..1."""
        from scipy.stats import norm
        median = expit(self.loc)
        lo = expit(self.loc + norm.ppf(q_low) * self.scale)
        hi = expit(self.loc + norm.ppf(q_high) * self.scale)
        return median, lo, hi


def knowledge_prior(p: PriorSpec, spend: float, conversions: float) -> tuple[float, float, str]:
    """One prior-knowledge entry as (share centre m, logit sd s, source text)."""
    if p.form == "share":
        return (p.share / 100.0, logit_sd_for_confidence(p.confidence),
                f"prior knowledge ({p.source}, {p.share:g}% at {p.confidence:g}% confidence)")
    if p.form == "roi":
        contribution, sd_contribution = (p.roi + 1.0) * spend, p.roi_sd * spend
        text = f"ROI prior ({p.source}, {p.roi:g} ± {p.roi_sd:g})"
    else:  # d(S / cpa) / d cpa = -S / cpa^2
        contribution, sd_contribution = spend / p.cpa, p.cpa_sd * spend / p.cpa ** 2
        text = f"CPA prior ({p.source}, {p.cpa:g} ± {p.cpa_sd:g})"
    if not conversions > 0:
        raise DataError(f"priors[{p.touchpoint}]: the {text} needs the target's total over the fitting window, "
                        f"which is {conversions:g}; it must be > 0")
    m = contribution / conversions
    if not (0 < m < MAX_IMPLIED_SHARE):
        raise SpecError(f"priors[{p.touchpoint}]: the {text} implies {p.touchpoint} drives {100 * m:.1f}% of conversions "
                        f"in the fitting window (contribution {contribution:,.0f} of {conversions:,.0f}, spend "
                        f"{spend:,.0f}); it must be between 0 and {100 * MAX_IMPLIED_SHARE:g}%: check the value and "
                        f"its units")
    s = (sd_contribution / conversions) / (m * (1.0 - m))
    return m, float(np.clip(s, logit_sd_for_confidence(100), logit_sd_for_confidence(0))), text


def share_priors(spec: ModelSpec, spend_in_fit: np.ndarray, conversions_in_fit: float) -> SharePriors:
    """spend_in_fit: total spend per channel over the fitting window, in the spec's channel order.
    conversions_in_fit: the target summed over the same window (what ROI/CPA priors are shares of)."""
    channels = spec.channel_names
    known = {p.touchpoint: knowledge_prior(p, float(spend_in_fit[channels.index(p.touchpoint)]), conversions_in_fit)
             for p in spec.priors}
    claimed = sum(m for m, _, _ in known.values())
    if claimed >= 1.0:  # the spec checks plain shares; ROI/CPA shares are only known here
        parts = ", ".join(f"{ch} {100 * m:.1f}%" for ch, (m, _, _) in known.items())
        raise SpecError(f"priors: together they claim {100 * claimed:.1f}% of conversions ({parts}); "
                        f"they must leave room for the base")
    media_total = spec.media_share_prior / 100.0
    remaining = max(media_total - claimed, 0.02 * (len(channels) - len(known)))
    free = [c for c in channels if c not in known]
    free_spend = np.array([spend_in_fit[channels.index(c)] for c in free], dtype=float)
    loc, scale, source = [], [], []
    for j, ch in enumerate(channels):
        if ch in known:
            m, s, text = known[ch]
            source.append(text)
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
