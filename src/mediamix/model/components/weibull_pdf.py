"""Weibull PDF adstock: weight = the Weibull density at l + 1 periods; shape > 1 puts the peak
after the period of spend, shape <= 1 makes it decay from the start."""
from mediamix.model.components.base import normalise, register
from mediamix.model.components.weibull_cdf import WeibullCdf


@register
class WeibullPdf(WeibullCdf):
    """Same parameters as the CDF form (shape, scale in periods); another weight curve."""
    name = "weibull_pdf"
    knobs = {"shape_log": (0.4, 0.5), "scale_logit": (-1.0, 1.0)}
    help = "weight ~ Weibull density at l+1: a delayed peak whose timing and spread are learned"

    def weights(self, p, ctx, xp):
        k = p["shape"][..., None, :]
        ratio = (ctx["steps"] + 1.0) / p["scale"][..., None, :]
        # log density up to a per-channel constant, which the normalisation removes
        log_w = (k - 1.0) * xp.log(ratio) - xp.power(ratio, k)
        # Far in the tails ratio^k overflows to inf; a floor keeps the weights defined there.
        log_w = xp.maximum(log_w, -1e30)
        return normalise(xp.exp(log_w - xp.max(log_w, axis=-2, keepdims=True)), ctx["active"], xp)
