"""Weibull CDF adstock: weight = the Weibull survival exp(-(l/scale)^shape); shape < 1 gives a
long tail after a fast drop, shape > 1 a plateau then a fall."""
from mediamix.model.components.base import Adstock, normalise, register
from mediamix.model.transforms import sigmoid


@register
class WeibullCdf(Adstock):
    name = "weibull_cdf"
    sites = ("shape_log", "scale_logit")
    params = ("shape", "scale")
    # scale = active lags * sigmoid(scale_logit), in periods.
    knobs = {"shape_log": (0.0, 0.5), "scale_logit": (-1.0, 1.0)}
    help = "weight exp(-(l/scale)^shape): flexible decay, shape 1 is geometric"

    def derive(self, u, ctx, xp):
        return {"shape": xp.exp(u["shape_log"]), "scale": ctx["n_active"] * sigmoid(u["scale_logit"], xp)}

    def weights(self, p, ctx, xp):
        # 0^shape has no finite derivative in shape: the first lag's weight is 1 by definition.
        later = ctx["steps"] > 0
        ratio = xp.where(later, ctx["steps"], 1.0) / p["scale"][..., None, :]
        survival = xp.where(later, xp.exp(-xp.power(ratio, p["shape"][..., None, :])), 1.0)
        return normalise(survival, ctx["active"], xp)
