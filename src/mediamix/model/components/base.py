"""Media transforms as registered components: adstock (carryover shape) and saturation.

A component names its unconstrained sampled sites, the Normal priors on them (its "knobs",
which a spec may override per channel), how its model parameters follow from the sites, and
its transform. The model samples each site for exactly the channels that chose the
component, so adding a transform is one file here plus its test: subclass, set the class
attributes, implement `derive` and `weights` (adstock) or `apply` (saturation), and
decorate with `@register`.

Sites are real-valued with Normal priors (the sampler needs no constraining transforms). A
site's prior may depend on sites sampled before it (Hill's offset given its slope): override
`site_prior`. Every array carries optional leading draw axes and a trailing channel axis
over the component's channels.
"""
from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from mediamix.data.messages import show
from mediamix.errors import SpecError

ADSTOCKS: dict[str, "Adstock"] = {}
SATURATIONS: dict[str, "Saturation"] = {}


class Component:
    role: ClassVar[str]
    name: ClassVar[str]
    sites: ClassVar[tuple[str, ...]] = ()            # sampled, in this order
    params: ClassVar[tuple[str, ...]] = ()           # model parameters it derives (posterior names)
    knobs: ClassVar[dict[str, tuple[float, float]]] = {}   # default Normal (loc, sd) priors
    help: ClassVar[str] = ""

    def site_prior(self, site: str, u: dict, knobs: dict, xp):
        """(loc, sd) of the site's Normal prior; `u` holds the sites sampled before it."""
        return knobs[site]

    def start(self, knobs: dict) -> dict:
        """Starting values of the sites (prior centres by default)."""
        u = {}
        for site in self.sites:
            loc, _ = self.site_prior(site, u, knobs, np)
            u[site] = np.asarray(loc, np.float32)
        return u


class Adstock(Component):
    role = "adstock"

    def derive(self, u: dict, ctx: dict, xp) -> dict:
        """Sites -> parameters. ctx: per-channel arrays `decay_lo`, `decay_hi`, `n_active`."""
        raise NotImplementedError

    def weights(self, p: dict, ctx: dict, xp):
        """Carryover weights (..., lag, channel), zero outside the channel's active lags and
        summing to 1 over them (so the long-run effect is the coefficient's alone).
        ctx: `steps` (lag, channel) lags since the first active one, `active` (lag, channel) 0/1."""
        raise NotImplementedError


class Saturation(Component):
    role = "saturation"

    def derive(self, u: dict, xp) -> dict:
        raise NotImplementedError

    def apply(self, x, p: dict, xp):
        """Response to adstocked spend x (..., time, channel), scaled so 1 = a typical active
        period; parameters p (..., channel). 0 at 0 and increasing (diminishing returns)."""
        raise NotImplementedError


def register(cls):
    """Class decorator: make a component available by name in specs."""
    table = ADSTOCKS if cls.role == "adstock" else SATURATIONS
    table[cls.name] = cls()
    return cls


def normalise(raw, active, xp):
    """Weights over the active lags scaled to sum to 1 (raw is (..., lag, channel))."""
    raw = raw * active
    return raw / xp.maximum(xp.sum(raw, axis=-2, keepdims=True), 1e-12)


def component(role: str, name: str) -> Component:
    from mediamix.model import components  # noqa: F401  (registers the built-in components)
    table = ADSTOCKS if role == "adstock" else SATURATIONS
    if name not in table:
        raise SpecError(f"{role}.kind: {name!r} is not one of {sorted(table)}")
    return table[name]


def check_knob_overrides(role: str, name: str, overrides: dict, where: str) -> None:
    """Spec overrides of a component's priors: known knob names, (loc, sd) with sd > 0."""
    comp = component(role, name)
    for knob, value in overrides.items():
        if knob not in comp.knobs:
            raise SpecError(f"{where}.priors.{knob}: {name} has no prior {knob!r}; its priors are "
                            f"{sorted(comp.knobs)} (each [mean, sd] on the scale the name says)")
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
            raise SpecError(f"{where}.priors.{knob}: {show(value)} must be [mean, sd], two numbers")
        if not all(math.isfinite(v) for v in value):
            raise SpecError(f"{where}.priors.{knob}: {show(list(value))} must be two finite numbers [mean, sd]")
        if not value[1] > 0:
            raise SpecError(f"{where}.priors.{knob}: sd {value[1]} must be > 0")
