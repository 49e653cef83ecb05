"""Delayed adstock: the effect peaks `peak` periods after spend, weight decay^((l - peak)^2)."""
from mediamix.model.components.base import Adstock, normalise, register
from mediamix.model.components.geometric import bounded_decay
from mediamix.model.transforms import sigmoid


@register
class Delayed(Adstock):
    name = "delayed"
    sites = ("decay_logit", "peak_logit")
    params = ("decay", "peak")
    # peak = (active lags - 1) * sigmoid(peak_logit): N(-1, 1) puts the prior peak early in the window.
    knobs = {"decay_logit": (0.0, 1.2), "peak_logit": (-1.0, 1.0)}
    help = "weight decay^((l - peak)^2): a peak after a delay, for media that act late (TV, print)"

    def derive(self, u, ctx, xp):
        decay = bounded_decay(u["decay_logit"], ctx, xp)
        peak = (ctx["n_active"] - 1.0) * sigmoid(u["peak_logit"], xp)
        return {"decay": decay, "peak": peak}

    def weights(self, p, ctx, xp):
        distance = xp.square(ctx["steps"] - p["peak"][..., None, :])
        return normalise(xp.exp(distance * xp.log(p["decay"][..., None, :])), ctx["active"], xp)
