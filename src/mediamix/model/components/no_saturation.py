"""No saturation: response proportional to adstocked spend (constant returns)."""
from mediamix.model.components.base import Saturation, register


@register
class NoSaturation(Saturation):
    name = "none"
    help = "linear: constant returns at any spend"

    def derive(self, u, xp):
        return {}

    def apply(self, x, p, xp):
        return x
