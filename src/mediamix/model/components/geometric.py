"""Geometric adstock: weight decay^l at l periods after the first active lag."""
from mediamix.model.components.base import Adstock, normalise, register
from mediamix.model.transforms import sigmoid


def bounded_decay(decay_logit, ctx, xp):
    """Decay inside the channel's range from its min/max lookback (weeks until weight < 10%)."""
    return ctx["decay_lo"] + (ctx["decay_hi"] - ctx["decay_lo"]) * sigmoid(decay_logit, xp)


@register
class Geometric(Adstock):
    name = "geometric"
    sites = ("decay_logit",)
    params = ("decay",)
    # decay = lo + (hi - lo) * sigmoid(decay_logit): lo, hi from the channel's min/max lookback.
    knobs = {"decay_logit": (0.0, 1.2)}
    help = "weight decay^l, largest in the period of spend"

    def derive(self, u, ctx, xp):
        return {"decay": bounded_decay(u["decay_logit"], ctx, xp)}

    def weights(self, p, ctx, xp):
        return normalise(xp.power(p["decay"][..., None, :], ctx["steps"]), ctx["active"], xp)
