"""ModelSpec: the frozen, validated description of one model.

Built from YAML/JSON or Python; validation happens once, at construction, and every message
names the field that is wrong. Nothing here reads data: checks against the data set (columns
exist, no NaN, ...) happen when the design matrix is built.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import difflib
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

from mediamix.data.messages import amount, is_numpy, show
from mediamix.errors import SpecError

IMPACTS = ("auto", "positive", "negative")
FACTOR_TYPES = ("internal", "external")
CONVERSION_KINDS = ("revenue", "count")
RUN_FREQUENCIES = ("manual", "daily", "weekly", "monthly")
# national: the data summed over geos into one series; hierarchical: one series per geo with
# partially pooled geo intercepts and channel shares (needs a data set with a geo column).
GEO_MODES = ("national", "hierarchical")
# The three ways to state prior knowledge of a channel, as (value, spread) field pairs.
PRIOR_FORMS = {"share": ("share", "confidence"), "roi": ("roi", "roi_sd"), "cpa": ("cpa", "cpa_sd")}
PRIOR_NUMBERS = ("share", "confidence", "roi", "roi_sd", "cpa", "cpa_sd")
LIFT_REQUIRED = ("touchpoint", "start", "end", "incremental", "standard_error")


def _plain(value):
    """NumPy scalars and arrays (from a notebook) as Python numbers and lists, inside any dict,
    list or tuple, so they validate like typed-in numbers and the spec dumps to YAML."""
    if is_numpy(value):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


class _TextDatesLoader(yaml.SafeLoader):
    """YAML's safe loader, but dates stay text: the spec checks them itself (`_iso`), so an
    impossible date (2024-02-30) is named as such instead of failing inside the YAML parser."""


_TextDatesLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
# YAML 1.1 reads 5e9 as text (a float needs a dot there); people write it as a number.
_TextDatesLoader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$"),
                                       list("-+0123456789"))


def load_yaml(text: str):
    """A spec file or a --set value: YAML, with dates read as text. Raises yaml.YAMLError."""
    return yaml.load(text, Loader=_TextDatesLoader)


def _iso(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as exc:
        if len(text) == 10 and text[4] == text[7] == "-" and (text[:4] + text[5:7] + text[8:]).isdigit():
            raise SpecError(f"{where}: {text} is not a calendar date ({exc})") from None
        raise SpecError(f"{where}: {show(value)} is not an ISO date (YYYY-MM-DD)") from None


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_types(obj, ints: tuple = (), numbers: tuple = (), bools: tuple = (), where: str = "") -> None:
    """Types first, so later checks never compare a string with a number. A field left empty
    (`sampler.draws=` or `draws:` in YAML) is None: said as "no value given", unless None is the
    field's default (an optional number such as max_lookback)."""
    optional = {f.name for f in dataclasses.fields(obj) if f.default is None}

    def empty(name: str, kind: str) -> SpecError:
        return SpecError(f"{where}{name}: no value given; give {kind}, or leave the field out for its default")

    for name in ints:
        v = getattr(obj, name)
        if v is None:
            raise empty(name, "a whole number")
        if not _is_int(v):
            raise SpecError(f"{where}{name}: {show(v)} must be a whole number{_numpy_hint(v)}")
    for name in numbers:
        v = getattr(obj, name)
        if v is None and name not in optional:
            raise empty(name, "a number")
        if v is not None and not _is_number(v):
            raise SpecError(f"{where}{name}: {show(v)} must be a number{_numpy_hint(v)}")
    for name in bools:
        v = getattr(obj, name)
        if v is None:
            raise empty(name, "true or false")
        if not isinstance(v, bool):
            raise SpecError(f"{where}{name}: {show(v)} must be true or false")


def _numpy_hint(v) -> str:
    """Built directly (not from a dict), a spec may hold a NumPy scalar: say how to pass it."""
    return f" (it is a NumPy {type(v).__name__}; pass int(value) or float(value))" if is_numpy(v) else ""


def _as_list(value, where: str, example: str) -> list:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise SpecError(f"{where}: must be a list, e.g. {example}")
    return list(value)


def _check_components(tp) -> None:
    """The touchpoint's adstock and saturation are registered components with known priors."""
    from mediamix.model.components.base import check_knob_overrides
    for role, part in (("adstock", tp.adstock), ("saturation", tp.saturation)):
        where = f"touchpoints[{tp.name}].{role}"
        if not isinstance(part.kind, str):
            raise SpecError(f"{where}.kind: {show(part.kind)} must be text")
        try:
            check_knob_overrides(role, part.kind, {k: (m, s) for k, m, s in part.priors}, where)
        except SpecError as exc:
            raise SpecError(str(exc).replace(f"{role}.kind", f"{where}.kind", 1)) from None


def _touchpoint_dict(tp) -> dict:
    out = dataclasses.asdict(tp)
    for role in ("adstock", "saturation"):
        out[role]["priors"] = {k: [m, s] for k, m, s in getattr(tp, role).priors}
    return out


def _check_keys(raw: dict, allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        names = sorted(unknown, key=str)
        guesses = {k: difflib.get_close_matches(str(k), sorted(allowed), n=1, cutoff=0.7) for k in names}
        guesses = {k: g[0] for k, g in guesses.items() if g}
        if len(guesses) == 1 and len(names) == 1:
            hint = f" (did you mean '{next(iter(guesses.values()))}'?)"
        elif guesses:
            hint = " (did you mean " + ", ".join(f"'{g}' for '{k}'" for k, g in guesses.items()) + "?)"
        else:
            hint = ""
        raise SpecError(f"{where}: unknown field(s) {names}{hint}; allowed: {sorted(allowed)}")


def _knob_overrides(raw, where: str) -> tuple:
    """Spec form {knob: [mean, sd]} -> the frozen form ((knob, mean, sd), ...)."""
    if raw in (None, {}):
        return ()
    if isinstance(raw, tuple) and all(isinstance(k, tuple) for k in raw):
        return raw
    if not isinstance(raw, dict):
        raise SpecError(f"{where}.priors: must be a mapping like {{decay_logit: [0.0, 1.0]}}")
    out = []
    for knob, value in raw.items():
        if not (isinstance(value, (list, tuple)) and len(value) == 2):
            raise SpecError(f"{where}.priors.{knob}: {show(value)} must be [mean, sd], two numbers")
        out.append((str(knob), *value))
    return tuple(out)


@dataclass(frozen=True)
class AdstockSpec:
    """Per-channel carryover: the shape (a registered adstock component) and its limits, in
    weeks. Lookback = weeks until the weight falls below 10% (geometric and delayed decay)."""
    lag: int = 0
    min_lookback: float = 1.0
    max_lookback: float | None = None   # None: the model's lookback window
    kind: str = "geometric"             # geometric | delayed | weibull_cdf | weibull_pdf
    priors: tuple = ()                  # ((knob, mean, sd), ...) overriding the component's defaults

    def prior_overrides(self) -> dict:
        return {k: (float(m), float(s)) for k, m, s in self.priors}


@dataclass(frozen=True)
class SaturationSpec:
    """Per-channel diminishing returns: a registered saturation component."""
    kind: str = "hill"                  # hill | logistic | michaelis_menten | none
    priors: tuple = ()

    def prior_overrides(self) -> dict:
        return {k: (float(m), float(s)) for k, m, s in self.priors}


@dataclass(frozen=True)
class TouchpointSpec:
    name: str
    spend: str
    volume: str | None = None
    adstock: AdstockSpec = AdstockSpec()
    saturation: SaturationSpec = SaturationSpec()
    time_varying: bool = False          # effectiveness drifts smoothly over time (effect_knot_weeks)


@dataclass(frozen=True)
class FactorSpec:
    column: str
    type: str = "external"
    impact: str = "auto"


@dataclass(frozen=True)
class PriorSpec:
    """Prior knowledge of one channel's contribution over the fitting window, in exactly one form:
    share of total conversions (percent) with a confidence; ROI with its spread (revenue models);
    or CPA with its spread (count models). priors.py turns each into a share prior."""
    touchpoint: str
    share: float | None = None        # percent of total conversions, 0 < share < 100
    confidence: float | None = None   # percent, 0 (no idea) .. 100 (certain)
    source: str = "user"  # experiment | previous model | mta | user
    roi: float | None = None          # (contribution - spend) / spend; 1.5 = 2.5 revenue per 1 spent
    roi_sd: float | None = None       # its spread (one standard deviation), > 0
    cpa: float | None = None          # spend per incremental conversion, > 0
    cpa_sd: float | None = None       # its spread, > 0

    @property
    def form(self) -> str:
        """'share', 'roi' or 'cpa' (validation guarantees exactly one)."""
        return next(f for f, (value, _) in PRIOR_FORMS.items() if getattr(self, value) is not None)


@dataclass(frozen=True)
class LiftTestSpec:
    """A lift-test result: the channel's measured incremental conversions (or revenue) summed
    over the periods starting in [start, end], with its standard error. It enters the likelihood."""
    touchpoint: str
    start: str                # ISO date
    end: str                  # ISO date, >= start
    incremental: float        # in the target's units (revenue or conversions)
    standard_error: float     # > 0
    source: str = "experiment"


def _check_prior(p: PriorSpec, conversion_kind: str) -> None:
    """Exactly one form per prior, the one that fits the target, each value in range."""
    where = f"priors[{p.touchpoint}]"
    for name in PRIOR_NUMBERS:
        v = getattr(p, name)
        if v is not None and not (_is_number(v) and math.isfinite(v)):
            raise SpecError(f"{where}.{name}: {show(v)} must be a number{_numpy_hint(v)}")
    forms = [f for f, pair in PRIOR_FORMS.items() if any(getattr(p, k) is not None for k in pair)]
    if not forms:
        raise SpecError(f"{where}: give share and confidence (%), or roi and roi_sd (revenue models), "
                        f"or cpa and cpa_sd (count models)")
    if len(forms) > 1:
        raise SpecError(f"{where}: give only one of share+confidence, roi+roi_sd or cpa+cpa_sd; got {' and '.join(forms)}")
    form = forms[0]
    if form == "roi" and conversion_kind == "count":
        raise SpecError(f"{where}.roi: an ROI prior needs revenue (conversion_kind: revenue); this model counts "
                        f"conversions, so use cpa and cpa_sd (spend per incremental conversion)")
    if form == "cpa" and conversion_kind == "revenue":
        raise SpecError(f"{where}.cpa: a CPA prior is for counted conversions (conversion_kind: count); this model "
                        f"measures revenue, so use roi and roi_sd (ROI = (revenue - spend) / spend)")
    value, spread = PRIOR_FORMS[form]
    for name in (value, spread):
        if getattr(p, name) is None:
            raise SpecError(f"{where}.{name}: missing; {value} and {spread} go together, e.g. "
                            f"{{touchpoint: {p.touchpoint}, {value}: {_EXAMPLES[value]}, {spread}: {_EXAMPLES[spread]}}}")
    if form == "share":
        if not (0 < p.share < 100):
            raise SpecError(f"{where}.share: {p.share} must be a percent strictly between 0 and 100")
        if not (0 <= p.confidence <= 100):
            raise SpecError(f"{where}.confidence: {p.confidence} must be 0-100 (percent)")
        return
    # ROI = (revenue - spend) / spend, so ROI <= -1 means the channel brings no revenue at all.
    if form == "roi" and p.roi <= -1:
        raise SpecError(f"{where}.roi: {p.roi:g} implies zero or negative revenue (ROI = (revenue - spend) / spend); "
                        f"it must be > -1")
    if form == "cpa" and p.cpa <= 0:
        raise SpecError(f"{where}.cpa: {p.cpa:g} must be > 0 (spend per incremental conversion)")
    if getattr(p, spread) <= 0:
        raise SpecError(f"{where}.{spread}: {getattr(p, spread):g} must be > 0 (its spread, one standard deviation)")


_EXAMPLES = {"share": 12, "confidence": 70, "roi": 1.5, "roi_sd": 0.4, "cpa": 25, "cpa_sd": 5}


def _check_lift_test(lt: LiftTestSpec, i: int, names: list[str]) -> None:
    where = f"lift_tests[{i}]"
    if lt.touchpoint not in names:
        raise SpecError(f"{where}.touchpoint: {show(lt.touchpoint)} is not a touchpoint; touchpoints are {names}")
    start, end = _iso(lt.start, f"{where}.start"), _iso(lt.end, f"{where}.end")
    if start is None or end is None:
        raise SpecError(f"{where}: needs start and end (ISO dates)")
    if start > end:
        raise SpecError(f"{where}: start {start} is after end {end} (the {lt.touchpoint} test); swap them")
    test = f"({lt.touchpoint}, {start}..{end})"
    for name in ("incremental", "standard_error"):
        v = getattr(lt, name)
        if not _is_number(v):
            raise SpecError(f"{where}.{name} {test}: {show(v)} must be a number (in the target's units)"
                            f"{_numpy_hint(v)}")
        if not math.isfinite(v):
            raise SpecError(f"{where}.{name} {test}: {show(v)} must be a finite number (in the target's units)")
    if lt.standard_error <= 0:
        raise SpecError(f"{where}.standard_error {test}: {amount(lt.standard_error)} must be > 0: it is the "
                        f"test's standard error (one standard deviation of the measured incremental, in the "
                        f"target's units); a test reported with a confidence interval has standard error = "
                        f"interval width / 3.92 (95%)")
    if not isinstance(lt.source, str):
        raise SpecError(f"{where}.source: {show(lt.source)} must be text, e.g. experiment")


@dataclass(frozen=True)
class TrainingWindow:
    start: str | None = None
    end: str | None = None
    last_years: float | None = None   # the last N years of data, ending at the last date

    @property
    def is_auto(self) -> bool:
        return self.start is None and self.end is None and self.last_years is None


# nuts: the full posterior (NumPyro's NUTS); laplace: independent draws from a Gaussian at the
# posterior mode, seconds instead of minutes, for exploring specs (its intervals are approximate).
SAMPLER_METHODS = ("nuts", "laplace")


@dataclass(frozen=True)
class SamplerSpec:
    chains: int = 2
    warmup: int = 1000
    draws: int = 1000
    seed: int = 0
    target_accept: float = 0.9
    max_tree_depth: int = 8
    method: str = "nuts"                # nuts | laplace (chains x draws independent draws; warmup unused)


# A Laplace fit's intervals are percentiles of its chains x draws independent draws: the 90%
# interval's ends are the 5th and 95th, so 100 draws put 5 in each tail (fewer rest an end on one
# or two draws), and PSIS fits the Pareto k of its importance ratios to the largest 20 of 100.
LAPLACE_MIN_DRAWS = 100


def check_fit_settings(spec: ModelSpec) -> None:
    """Sampler settings that are valid but cannot give usable results, refused when a model is
    created, edited or trained (Workspace.check_spec), not when a stored spec is read, so a model
    stored before the rule can still be opened and edited. A Laplace fit needs chains x draws >=
    LAPLACE_MIN_DRAWS."""
    s = spec.sampler
    total = s.chains * s.draws
    if s.method == "laplace" and total < LAPLACE_MIN_DRAWS:
        need = math.ceil(LAPLACE_MIN_DRAWS / s.chains)
        raise SpecError(
            f"sampler.draws: a Laplace fit (sampler.method: laplace, or train --fast) takes chains x draws = "
            f"{s.chains} x {s.draws} = {total} independent draws, and needs at least {LAPLACE_MIN_DRAWS}: its 90% "
            f"intervals are the 5th and 95th percentiles of the draws (100 draws leave 5 in each tail; fewer rest "
            f"an interval's end on one or two draws) and its Pareto k check needs them too. Set sampler.draws to "
            f"at least {need} (with chains {s.chains}); draws are cheap here, independent and without warm-up "
            f"(1000 is the default)")


@dataclass(frozen=True)
class DiagnosticThresholds:
    max_rhat: float = 1.01
    min_ess: float = 400.0
    max_divergences: int = 0
    max_holdout_smape_ratio: float = 2.0


@dataclass(frozen=True)
class ModelSpec:
    name: str
    dataset: str
    conversion: str
    touchpoints: tuple[TouchpointSpec, ...]
    conversion_kind: str = "revenue"
    currency: str = "USD"
    description: str = ""
    lookback_weeks: int = 8
    training: TrainingWindow = TrainingWindow()
    holdout_weeks: int = 13
    factors: tuple[FactorSpec, ...] = ()
    priors: tuple[PriorSpec, ...] = ()
    lift_tests: tuple[LiftTestSpec, ...] = ()
    spend_share: bool = True
    spend_share_confidence: float = 30.0
    media_share_prior: float = 30.0     # expected % of conversions driven by all paid media together
    seasonality_order: int = 2
    trend: str = "linear"               # linear | spline (smooth, time-varying baseline) | none
    trend_knot_weeks: float = 26.0      # spline trend: a knot every this many weeks
    effect_knot_weeks: float = 26.0     # time-varying channel effects: a knot every this many weeks
    geos: str = "national"              # national | hierarchical (one series per geo, partially pooled)
    population: str | None = None       # hierarchical: per-geo, per-period column to model per capita
    sampler: SamplerSpec = SamplerSpec()
    thresholds: DiagnosticThresholds = DiagnosticThresholds()
    run_frequency: str = "manual"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise SpecError(f"name: {show(self.name)} must be text, e.g. name: brand-mmm")
        for field_name in ("dataset", "conversion", "conversion_kind", "currency", "description", "trend", "run_frequency"):
            if not isinstance(getattr(self, field_name), str):
                raise SpecError(f"{field_name}: {show(getattr(self, field_name))} must be text")
        _check_types(self, ints=("lookback_weeks", "holdout_weeks", "seasonality_order"),
                     numbers=("spend_share_confidence", "media_share_prior"), bools=("spend_share",))
        _check_types(self.sampler, ints=("chains", "warmup", "draws", "seed", "max_tree_depth"),
                     numbers=("target_accept",), where="sampler.")
        if not isinstance(self.sampler.method, str) or self.sampler.method not in SAMPLER_METHODS:
            raise SpecError(f"sampler.method: {show(self.sampler.method)} is not one of {SAMPLER_METHODS} (nuts: the full "
                            f"posterior; laplace: a fast approximation at the mode, for exploration)")
        _check_types(self.thresholds, ints=("max_divergences",),
                     numbers=("max_rhat", "min_ess", "max_holdout_smape_ratio"), where="thresholds.")
        if not 0 <= self.sampler.seed < 2 ** 32:
            raise SpecError(f"sampler.seed: {show(self.sampler.seed)} must be a whole number from 0 to 4294967295 "
                            f"(it fixes the random draws, so a fit can be repeated)")
        t = self.thresholds
        for field_name, ok, rule in (
                ("max_rhat", math.isfinite(t.max_rhat) and t.max_rhat >= 1, "a number >= 1 (R-hat is 1 when chains agree; "
                                                                             "1.01 is the usual bar)"),
                ("min_ess", math.isfinite(t.min_ess) and t.min_ess > 0, "a positive number of effective draws (e.g. 400)"),
                ("max_divergences", t.max_divergences >= 0, "0 or more"),
                ("max_holdout_smape_ratio", math.isfinite(t.max_holdout_smape_ratio) and t.max_holdout_smape_ratio > 0,
                 "a positive ratio (holdout sMAPE over in-sample sMAPE; e.g. 2)")):
            if not ok:
                raise SpecError(f"thresholds.{field_name}: {show(getattr(t, field_name))} must be {rule}")
        for tp in self.touchpoints:
            _check_types(tp.adstock, ints=("lag",), numbers=("min_lookback", "max_lookback"),
                         where=f"touchpoints[{tp.name}].adstock.")
        if not self.name or not str(self.name).strip():
            raise SpecError("name: a model needs a name")
        if any(c in self.name for c in "/\\"):
            raise SpecError(f"name: {show(self.name)} may not contain '/' or '\\'")
        if not self.dataset:
            raise SpecError("dataset: name the data set the model reads (see `mediamix data list`)")
        if not self.conversion:
            raise SpecError("conversion: name the conversion column (revenue or a count)")
        if self.conversion_kind not in CONVERSION_KINDS:
            raise SpecError(f"conversion_kind: {show(self.conversion_kind)} is not one of {CONVERSION_KINDS}")
        if not self.touchpoints:
            raise SpecError("touchpoints: a model needs at least one marketing touchpoint")
        names = [t.name for t in self.touchpoints]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SpecError(f"touchpoints: names must be unique; repeated: {dupes}")
        if not (1 <= self.lookback_weeks <= 52):
            raise SpecError(f"lookback_weeks: {self.lookback_weeks} is outside 1-52 weeks")
        for tp in self.touchpoints:
            _check_components(tp)
            a = tp.adstock
            where = f"touchpoints[{tp.name}].adstock"
            if a.lag < 0 or a.lag >= self.lookback_weeks:
                raise SpecError(f"{where}.lag: {a.lag} must be 0..{self.lookback_weeks - 1} (inside the lookback window)")
            max_lb = self.lookback_weeks if a.max_lookback is None else a.max_lookback
            if not (0 < a.min_lookback <= max_lb):
                given = (f"max_lookback ({amount(max_lb)})" if a.max_lookback is not None else
                         f"the lookback (max_lookback is not set, so lookback_weeks {self.lookback_weeks})")
                raise SpecError(f"{where}: need 0 < min_lookback ({amount(a.min_lookback)}) <= {given}")
            if a.lag + max_lb > self.lookback_weeks:
                room = self.lookback_weeks - a.lag
                if a.max_lookback is None:
                    raise SpecError(
                        f"{where}: lag {a.lag} + lookback_weeks {self.lookback_weeks} (max_lookback is not set, so "
                        f"the touchpoint looks back the whole window) = {a.lag + max_lb} weeks, more than "
                        f"lookback_weeks {self.lookback_weeks}; set {where}.max_lookback to at most {room}, or raise "
                        f"lookback_weeks and set max_lookback")
                needed = math.ceil(a.lag + max_lb)
                fix = f"raise lookback_weeks to {needed} or " if needed <= 52 else ""
                raise SpecError(f"{where}: lag + max_lookback = {a.lag} + {amount(max_lb)} = {amount(a.lag + max_lb)} "
                                f"weeks exceeds lookback_weeks {self.lookback_weeks}; {fix}shorten max_lookback to "
                                f"{room}")
        factor_cols = [f.column for f in self.factors]
        for f in self.factors:
            if f.impact not in IMPACTS:
                raise SpecError(f"factors[{f.column}].impact: {show(f.impact)} is not one of {IMPACTS}")
            if f.type not in FACTOR_TYPES:
                raise SpecError(f"factors[{f.column}].type: {show(f.type)} is not one of {FACTOR_TYPES}")
        if len(set(factor_cols)) != len(factor_cols):
            raise SpecError(f"factors: a column is listed twice in {factor_cols}")
        for p in self.priors:
            if p.touchpoint not in names:
                raise SpecError(f"priors[{p.touchpoint}]: no touchpoint of that name; touchpoints are {names}")
            _check_prior(p, self.conversion_kind)
        if len({p.touchpoint for p in self.priors}) != len(self.priors):
            raise SpecError("priors: one entry per touchpoint")
        # ROI/CPA priors claim a share too, but only the data can say how much: share_priors checks those.
        total_prior = sum(p.share for p in self.priors if p.share is not None)
        if total_prior >= 100:
            raise SpecError(f"priors: shares add up to {total_prior}% of conversions; they must leave room for the base")
        for i, lt in enumerate(self.lift_tests):
            _check_lift_test(lt, i, names)
        if not (0 <= self.spend_share_confidence <= 100):
            raise SpecError("spend_share_confidence: must be 0-100 (percent)")
        if not (0 < self.media_share_prior < 100):
            raise SpecError("media_share_prior: must be a percent strictly between 0 and 100")
        if self.seasonality_order < 0 or self.seasonality_order > 10:
            raise SpecError(f"seasonality_order: {self.seasonality_order} must be 0-10")
        if self.trend not in ("linear", "spline", "none"):
            raise SpecError(f"trend: {show(self.trend)} must be 'linear', 'spline' (a smooth time-varying baseline) or 'none'")
        _check_types(self, numbers=("trend_knot_weeks", "effect_knot_weeks"))
        for knots in ("trend_knot_weeks", "effect_knot_weeks"):
            if not 4 <= getattr(self, knots) < float("inf"):
                raise SpecError(f"{knots}: {getattr(self, knots)} must be at least 4 weeks between knots")
        for tp in self.touchpoints:
            if not isinstance(tp.time_varying, bool):
                raise SpecError(f"touchpoints[{tp.name}].time_varying: {show(tp.time_varying)} must be true or false")
        if self.geos not in GEO_MODES:
            raise SpecError(f"geos: {show(self.geos)} must be 'national' (the data summed over geos) or 'hierarchical' "
                            f"(one series per geo, geo effects partially pooled)")
        if self.population is not None:
            if not isinstance(self.population, str) or not self.population.strip():
                raise SpecError(f"population: {show(self.population)} must be a column name, e.g. population: population")
            if self.geos != "hierarchical":
                raise SpecError(f"population: '{self.population}' scales each geo per capita, which needs "
                                f"geos: hierarchical; add it or drop population")
        if self.holdout_weeks < 0:
            raise SpecError(f"holdout_weeks: {self.holdout_weeks} must be >= 0 (0 disables the holdout)")
        s = self.sampler
        for name in ("chains", "warmup", "draws"):
            if getattr(s, name) < 1:
                raise SpecError(f"sampler.{name}: {getattr(s, name)} must be >= 1")
        if not (0.5 <= s.target_accept < 1):
            raise SpecError("sampler.target_accept: must be in [0.5, 1)")
        if self.run_frequency not in RUN_FREQUENCIES:
            raise SpecError(f"run_frequency: {show(self.run_frequency)} is not one of {RUN_FREQUENCIES}")
        tw = self.training
        _check_types(tw, numbers=("last_years",), where="training.")
        if tw.start and tw.end and tw.start >= tw.end:
            raise SpecError(f"training: start {tw.start} must be before end {tw.end}")
        if tw.last_years is not None and (tw.start or tw.end):
            raise SpecError("training: give either start/end or last_years, not both")
        if tw.last_years is not None and tw.last_years <= 0:
            raise SpecError("training.last_years: must be > 0")

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_dict(cls, raw: dict) -> "ModelSpec":
        if not isinstance(raw, dict):
            raise SpecError("a model spec must be a mapping of fields (YAML or JSON object)")
        raw = _plain(dict(raw))
        allowed = {f.name for f in dataclasses.fields(cls)} | {"data"}
        _check_keys(raw, allowed, "spec")
        if "data" in raw:
            raw["dataset"] = raw.pop("data")
        conv = raw.get("conversion")
        if isinstance(conv, dict):  # conversion: {column, kind, currency}
            _check_keys(conv, {"column", "kind", "currency"}, "conversion")
            raw["conversion"] = conv.get("column")
            raw.setdefault("conversion_kind", conv.get("kind", "revenue"))
            if "currency" in conv:
                raw.setdefault("currency", conv["currency"])
        missing = [k for k in ("name", "dataset", "conversion") if raw.get(k) in (None, "")]
        if missing:
            names = ["data" if k == "dataset" else k for k in missing]
            raise SpecError(f"spec: missing field(s) {names}; a model needs name, data, conversion and touchpoints")
        tps = []
        for i, tp in enumerate(_as_list(raw.get("touchpoints"), "touchpoints",
                                        "[{name: tv, spend: tv_spend}, {name: search, spend: search_spend}]")):
            if isinstance(tp, str):
                tp = {"name": tp, "spend": f"{tp}_spend"}
            if not isinstance(tp, dict) or not isinstance(tp.get("name"), str):
                raise SpecError(f"touchpoints[{i}]: needs at least name and spend")
            where = f"touchpoints[{tp['name']}]"
            _check_keys(tp, {"name", "spend", "volume", "adstock", "saturation", "time_varying"}, where)
            ad = tp.get("adstock") or {}
            if isinstance(ad, str):                      # adstock: weibull_pdf
                ad = {"kind": ad}
            if not isinstance(ad, dict):
                raise SpecError(f"{where}.adstock: must be a kind (e.g. geometric) or a mapping of "
                                f"kind, lag, min_lookback, max_lookback, priors")
            _check_keys(ad, {"kind", "lag", "min_lookback", "max_lookback", "priors"}, f"{where}.adstock")
            ad = {**ad, "priors": _knob_overrides(ad.get("priors"), f"{where}.adstock")}
            sat = tp.get("saturation") or {}
            if isinstance(sat, str):                     # saturation: logistic
                sat = {"kind": sat}
            if not isinstance(sat, dict):
                raise SpecError(f"{where}.saturation: must be a kind (e.g. hill) or a mapping of kind, priors")
            _check_keys(sat, {"kind", "priors"}, f"{where}.saturation")
            sat = {**sat, "priors": _knob_overrides(sat.get("priors"), f"{where}.saturation")}
            tps.append(TouchpointSpec(name=str(tp["name"]), spend=str(tp.get("spend") or f"{tp['name']}_spend"),
                                      volume=tp.get("volume"), adstock=AdstockSpec(**ad),
                                      saturation=SaturationSpec(**sat), time_varying=tp.get("time_varying", False)))
        raw["touchpoints"] = tuple(tps)
        factors = []
        for f in _as_list(raw.get("factors"), "factors", "[{column: price, impact: negative}]"):
            if not isinstance(f, (str, dict)):
                raise SpecError(f"factors: each entry is a column name or {{column, type, impact}}, not {show(f)}")
            if isinstance(f, str):
                f = {"column": f}
            _check_keys(f, {"column", "type", "impact"}, f"factors[{f.get('column')}]")
            factors.append(FactorSpec(**f))
        raw["factors"] = tuple(factors)
        priors = []
        for p in _as_list(raw.get("priors"), "priors", "[{touchpoint: tv, share: 12, confidence: 70}]"):
            if not isinstance(p, dict):
                raise SpecError(f"priors: each entry is {{touchpoint, share, confidence}}, {{touchpoint, roi, roi_sd}} "
                                f"or {{touchpoint, cpa, cpa_sd}}, not {show(p)}")
            where = f"priors[{p.get('touchpoint')}]"
            _check_keys(p, {"touchpoint", "source", *PRIOR_NUMBERS}, where)
            if p.get("touchpoint") is None:
                raise SpecError(f"{where}: missing 'touchpoint'; name the channel the prior is about")
            given = {k: v for k, v in p.items() if v is not None}   # None = not given (to_dict leaves them out)
            for k in PRIOR_NUMBERS:
                if k in given:
                    try:
                        given[k] = float(given[k])
                    except (TypeError, ValueError):
                        raise SpecError(f"{where}.{k}: {show(p[k])}; share, confidence, roi, roi_sd, cpa and cpa_sd "
                                        f"must be numbers") from None
            priors.append(PriorSpec(**given))
        raw["priors"] = tuple(priors)
        lifts = []
        for i, lt in enumerate(_as_list(raw.get("lift_tests"), "lift_tests",
                                        "[{touchpoint: tv, start: 2024-03-04, end: 2024-03-31, incremental: 52000, "
                                        "standard_error: 9000}]")):
            where = f"lift_tests[{i}]"
            if not isinstance(lt, dict):
                raise SpecError(f"{where}: each entry is {{touchpoint, start, end, incremental, standard_error, source}}, "
                                f"not {show(lt)}")
            _check_keys(lt, {*LIFT_REQUIRED, "source"}, where)
            missing = [k for k in LIFT_REQUIRED if lt.get(k) is None]
            if missing:
                raise SpecError(f"{where}: missing {missing}; give touchpoint, start and end (ISO dates), incremental "
                                f"(measured over the period, in the target's units) and standard_error")
            lifts.append(LiftTestSpec(**{**lt, "start": _iso(lt["start"], f"{where}.start"),
                                         "end": _iso(lt["end"], f"{where}.end")}))
        raw["lift_tests"] = tuple(lifts)
        tw = raw.get("training", "auto")
        if tw in (None, "auto"):
            raw["training"] = TrainingWindow()
        elif isinstance(tw, dict):
            _check_keys(tw, {"start", "end", "last_years"}, "training")
            raw["training"] = TrainingWindow(start=_iso(tw.get("start"), "training.start"),
                                             end=_iso(tw.get("end"), "training.end"),
                                             last_years=tw.get("last_years"))
        else:
            raise SpecError(f"training: {show(tw)} must be 'auto' or {{start, end}} or {{last_years}}")
        for key, klass in (("sampler", SamplerSpec), ("thresholds", DiagnosticThresholds)):
            if raw.get(key) is not None and not isinstance(raw[key], (dict, klass)):
                raise SpecError(f"{key}: must be a mapping of {[f.name for f in dataclasses.fields(klass)]}")
            if isinstance(raw.get(key), dict):
                _check_keys(raw[key], {f.name for f in dataclasses.fields(klass)}, key)
                raw[key] = klass(**raw[key])
        try:
            return cls(**raw)
        except TypeError as exc:
            raise SpecError(f"spec: {exc}") from None

    @classmethod
    def from_yaml(cls, text: str) -> "ModelSpec":
        try:
            raw = load_yaml(text)
        except yaml.YAMLError as exc:
            raise SpecError(f"the model spec is not valid YAML: {exc}") from None
        return cls.from_dict(raw)

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["touchpoints"] = [_touchpoint_dict(t) for t in self.touchpoints]
        out["training"] = "auto" if self.training.is_auto else {k: v for k, v in dataclasses.asdict(self.training).items() if v is not None}
        # Only the fields a prior uses, so a share prior reads as before: {touchpoint, share, confidence, source}.
        out["priors"] = [{k: v for k, v in dataclasses.asdict(p).items() if v is not None} for p in self.priors]
        out["lift_tests"] = [dataclasses.asdict(t) for t in self.lift_tests]
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def replace(self, **changes) -> "ModelSpec":
        return dataclasses.replace(self, **changes)

    def edited(self, changes: dict[str, Any]) -> "ModelSpec":
        """This spec with fields changed, each named by its path in the spec file:
        `lookback_weeks`, `sampler.draws`, `touchpoints[3].saturation` (an entry by position) or
        `touchpoints[search].adstock.lag` (by name; priors by touchpoint, factors by column).
        Paths are applied in order, then the whole spec is validated again as a new one would be."""
        from mediamix.model.spec_paths import as_lists, set_path
        raw = as_lists(copy.deepcopy(self.to_dict()))
        for path, value in changes.items():
            set_path(raw, path, value)
        return ModelSpec.from_dict(raw)

    # ---- views --------------------------------------------------------------------------
    def lookback_reach(self, tp: TouchpointSpec) -> tuple[float, str]:
        """How far back a touchpoint's carryover reaches (lag + max lookback, in weeks) and, in the
        spec's own terms, which fields give that number: 'lookback_weeks 20 (+ lag 0)' when the
        touchpoint leaves max_lookback unset, 'max_lookback 6 (+ lag 2)' when it sets it."""
        a = tp.adstock
        if a.max_lookback is None:
            return a.lag + self.lookback_weeks, f"lookback_weeks {self.lookback_weeks} (+ lag {a.lag})"
        return a.lag + a.max_lookback, f"max_lookback {amount(a.max_lookback)} (+ lag {a.lag})"

    @property
    def channel_names(self) -> list[str]:
        return [t.name for t in self.touchpoints]

    def prior_for(self, touchpoint: str) -> PriorSpec | None:
        return next((p for p in self.priors if p.touchpoint == touchpoint), None)
