"""Hill saturation x^s / (x^s + half^s), sampled as an offset for good geometry.

The sampler draws slope_log and offset = slope * log(half), whose prior given the slope is
Normal(slope * m, slope * sd) for the half_log prior N(m, sd): exactly that prior after the
change of variables. Where saturation is only partly identified, log(half) and the slope lie
on a curved ridge (their product is what the data see); in these coordinates it is nearly
straight, which halves the leapfrog steps per draw.
"""
from mediamix.model.components.base import Saturation, register
from mediamix.model.transforms import hill


@register
class Hill(Saturation):
    name = "hill"
    sites = ("slope_log", "offset")
    params = ("half", "slope")
    # Chosen on the project's recovery suite (README, "Priors"): half-saturation ~1.35x a typical
    # active period's spend, slope ~1.16 (mildly S-shaped). For an always-on channel these
    # centres decide how much of its level the intercept takes.
    knobs = {"half_log": (0.3, 0.6), "slope_log": (0.15, 0.25)}
    help = "S-shaped or concave: x^slope / (x^slope + half^slope)"

    def site_prior(self, site, u, knobs, xp):
        if site == "slope_log":
            return knobs["slope_log"]
        loc, sd = knobs["half_log"]
        slope = xp.exp(u["slope_log"])
        return loc * slope, sd * slope

    def derive(self, u, xp):
        slope = xp.exp(u["slope_log"])
        return {"half": xp.exp(u["offset"] / slope), "slope": slope}

    def apply(self, x, p, xp):
        return hill(x, p["half"][..., None, :], p["slope"][..., None, :], xp)
