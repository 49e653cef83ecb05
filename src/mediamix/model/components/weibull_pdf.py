"""Weibull PDF adstock: weight = the Weibull density at l + 1 periods; shape > 1 puts the peak
after the period of spend, shape <= 1 makes it decay from the start."""
from mediamix.model.components.base import Adstock, normalise, register
from mediamix.model.transforms import sigmoid


@register
class WeibullPdf(Adstock):
    name = "weibull_pdf"
    sites = ("shape_log", "scale_logit")
    params = ("shape", "scale")
    knobs = {"shape_log": (0.4, 0.5), "scale_logit": (-1.0, 1.0)}
    help = "weight ~ Weibull density at l+1: a delayed peak whose timing and spread are learned"

    def derive(self, u, ctx, xp):
        return {"shape": xp.exp(u["shape_log"]), "scale": ctx["n_active"] * sigmoid(u["scale_logit"], xp)}

    def weights(self, p, ctx, xp):
        k = p["shape"][..., None, :]
        ratio = (ctx["steps"] + 1.0) / p["scale"][..., None, :]
        # log density up to a per-channel constant, which the normalisation removes
        log_w = (k - 1.0) * xp.log(ratio) - xp.power(ratio, k)
        return normalise(xp.exp(log_w - xp.max(log_w, axis=-2, keepdims=True)), ctx["active"], xp)
