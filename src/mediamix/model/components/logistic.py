"""Logistic saturation (1 - exp(-lam x)) / (1 + exp(-lam x)) = tanh(lam x / 2): concave from 0."""
from mediamix.model.components.base import Saturation, register


@register
class Logistic(Saturation):
    name = "logistic"
    sites = ("lam_log",)
    params = ("lam",)
    # lam = 1 puts a typical active period at 46% of the maximum response.
    knobs = {"lam_log": (0.0, 0.7)}
    help = "concave: tanh(lam * x / 2), steepest at zero spend"

    def derive(self, u, xp):
        return {"lam": xp.exp(u["lam_log"])}

    def apply(self, x, p, xp):
        return xp.tanh(0.5 * p["lam"][..., None, :] * x)
