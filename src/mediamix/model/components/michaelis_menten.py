"""Michaelis-Menten saturation x / (x + half): concave, half the maximum at x = half."""
from mediamix.model.components.base import Saturation, register


@register
class MichaelisMenten(Saturation):
    name = "michaelis_menten"
    sites = ("half_log",)
    params = ("half",)
    knobs = {"half_log": (0.3, 0.6)}
    help = "concave: x / (x + half)"

    def derive(self, u, xp):
        return {"half": xp.exp(u["half_log"])}

    def apply(self, x, p, xp):
        return x / (x + p["half"][..., None, :])
