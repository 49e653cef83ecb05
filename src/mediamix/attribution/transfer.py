"""Transfer between MTA and MMM, in both directions, and the error figures that show it helps.

MTA -> MMM (`mta_priors`, `spec_with_mta_priors`, `mta_prior_plan`, `train_with_mta`): the
algorithmic model's incremental conversions per channel (incremental revenue, from the events'
conversion values, for a revenue model) become contribution-share priors for the channels MTA
sees; the MMM keeps its spend-share (or user) priors for the rest, and its own time span.

MMM -> MTA (`calibrate_credits`): after scoring, each channel's weekly MTA credits are rescaled to
sum to the MMM's contribution of that channel and week; offline channels and the base come from
the MMM alone. Both the raw and the calibrated credit are kept.

Errors (`share_errors`, `weekly_credit_errors`, `transfer_errors`): against a known truth (the
people simulator), how far MMM shares and MTA weekly credits are from the true incremental
conversions, as small tables for tests and insights.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mediamix.attribution import heuristics
from mediamix.attribution.algorithmic import DEFAULT_LAG_EDGES, AlgorithmicAttribution
from mediamix.attribution.journeys import VALUE_COLUMNS, Journeys, build_journeys
from mediamix.errors import DataError, SpecError
from mediamix.model.priors import logit_sd_for_confidence
from mediamix.model.spec import ModelSpec, PriorSpec

MTA_SOURCE = "mta"
MODEL_SD = 0.25      # logit-scale error MTA has however many journeys it sees (see mta_priors)
COVERAGE_SD = 1.0    # logit-scale error per unit of unobserved activity (1 - coverage)
MIN_SHARE = 0.1      # percent: the smallest share centre a prior gets
COMPONENT_KINDS = ("base", "factor", "channel")


# ---- MTA -> MMM ----------------------------------------------------------------------------

def mta_prior_table(incremental: pd.DataFrame, total_conversions: float, coverage: dict[str, float] | None = None,
                    *, model_sd: float = MODEL_SD, coverage_sd: float = COVERAGE_SD,
                    unit: str = "conversions") -> pd.DataFrame:
    """The numbers behind `mta_priors`, one row per channel (see there for the mapping):
    channel, incremental_conversions, sd, coverage, share (%), logit_sd, confidence (%), floored
    (the estimate was below the floor, so the centre is the floor), unit.

    `incremental_conversions`, `sd` and `total_conversions` are in the MMM target's unit, named by
    `unit`: conversions for a count model, revenue (the events' conversion values) for a revenue model."""
    missing = {"channel", "incremental_conversions", "sd"} - set(incremental.columns)
    if missing:
        raise DataError(f"MTA incremental table lacks column(s) {sorted(missing)}; it needs channel, "
                        "incremental_conversions, sd (AlgorithmicAttribution.incremental_by_channel())")
    if not np.isfinite(total_conversions) or total_conversions <= 0:
        raise DataError(f"total_conversions must be a positive amount of {unit}, got {total_conversions}")
    coverage = dict(coverage or {})
    rows = []
    for ch, inc, sd in incremental[["channel", "incremental_conversions", "sd"]].itertuples(index=False):
        cov = float(coverage.get(ch, 1.0))
        if not 0 < cov <= 1:
            raise DataError(f"coverage of channel '{ch}' is {cov}; give the fraction of its activity the "
                            "event data observes, in (0, 1]")
        if not np.isfinite(inc) or not np.isfinite(sd) or sd < 0:
            raise DataError(f"MTA estimate for channel '{ch}' is not usable (incremental {inc}, sd {sd})")
        seen_total = cov * total_conversions  # conversions of the window the events could see
        estimate = max(float(inc), 0.5 * float(sd), MIN_SHARE / 100 * seen_total)
        share = estimate / seen_total
        if share >= 0.95:
            raise DataError(f"MTA credits channel '{ch}' with {inc:,.0f} incremental {unit}, "
                            f"{100 * share:.0f}% of the {seen_total:,.0f} {unit} the events could see; "
                            "check total_conversions (the MMM's fitting window), the coverage and, for "
                            "revenue, that the events' values are in the model's currency")
        relative = float(sd) / estimate
        logit_sd = np.sqrt((relative / (1 - min(share, 0.99))) ** 2 + model_sd ** 2 + (coverage_sd * (1 - cov)) ** 2)
        rows.append({"channel": ch, "incremental_conversions": float(inc), "sd": float(sd), "coverage": cov,
                     "share": 100 * share, "logit_sd": float(logit_sd),
                     "confidence": confidence_for_logit_sd(logit_sd), "floored": bool(estimate > float(inc)),
                     "unit": unit})
    return pd.DataFrame(rows, columns=["channel", "incremental_conversions", "sd", "coverage", "share",
                                       "logit_sd", "confidence", "floored", "unit"])


def mta_priors(incremental: pd.DataFrame, total_conversions: float, coverage: dict[str, float] | None = None,
               *, model_sd: float = MODEL_SD, coverage_sd: float = COVERAGE_SD,
               unit: str = "conversions") -> list[PriorSpec]:
    """Contribution-share priors (source "mta") from MTA's incremental conversions per channel.

    incremental: channel, incremental_conversions, sd (AlgorithmicAttribution.incremental_by_channel()).
    total_conversions: the MMM target summed over its fitting window (the denominator of its shares).
    Both in the target's unit: for a revenue model, incremental revenue and total revenue (unit
    "revenue"); dividing counts by revenue would put every prior on the floor.
    coverage: per channel, the fraction of its activity in that window the event data observes
    (tracked share of exposures x share of the channel's spend in the weeks the events cover);
    default 1.

    Mapping. The events saw coverage x total_conversions of the window, so
        share = incremental / (coverage x total_conversions)
    (floored at half an sd and at 0.1 %, so a channel MTA finds useless gets a small, loose prior).
    The prior is logit-normal (priors.py), so its width is chosen on the logit scale:
        logit_sd^2 = (sd / incremental / (1 - share))^2       sampling uncertainty (delta method)
                   + model_sd^2                                MTA's own model error (default 0.25)
                   + (coverage_sd x (1 - coverage))^2          extrapolating to unobserved activity
    and confidence is the percent that priors.py turns into exactly that width:
        confidence = 100 x (1 - (logit_sd - 0.05) / 2), clipped to 0..100.
    A precise, fully covered MTA estimate gets 90 % (odds within about x1.5 at 90 %); half coverage
    lowers that to about 75 %; an sd as large as the estimate to about 50 %, twice as large to
    about 0 (a nearly flat prior).
    """
    table = mta_prior_table(incremental, total_conversions, coverage, model_sd=model_sd, coverage_sd=coverage_sd,
                            unit=unit)
    return priors_from_table(table)


def priors_from_table(table: pd.DataFrame) -> list[PriorSpec]:
    """The PriorSpecs (source "mta") of an `mta_prior_table`."""
    return [PriorSpec(touchpoint=r.channel, share=round(float(r.share), 4), confidence=round(float(r.confidence), 2),
                      source=MTA_SOURCE) for r in table.itertuples(index=False)]


def confidence_for_logit_sd(logit_sd: float) -> float:
    """The inverse of priors.logit_sd_for_confidence, clipped to 0..100 percent."""
    return float(np.clip(100 * (1 - (logit_sd - logit_sd_for_confidence(100)) / 2), 0, 100))


def spec_with_mta_priors(spec: ModelSpec, priors: list[PriorSpec]) -> ModelSpec:
    """The spec with MTA priors for the channels MTA sees. A prior the user already gave a channel
    stays (the user wins); MTA priors from an earlier run are replaced; other channels keep theirs."""
    names = set(spec.channel_names)
    unknown = sorted({p.touchpoint for p in priors} - names)
    if unknown:
        raise SpecError(f"MTA priors name channel(s) {unknown} that model '{spec.name}' does not have; "
                        f"its touchpoints are {spec.channel_names}; map MTA channels onto them first")
    kept = [p for p in spec.priors if p.source != MTA_SOURCE]
    taken = {p.touchpoint for p in kept}
    added = [dataclasses.replace(p, source=MTA_SOURCE) for p in priors if p.touchpoint not in taken]
    order = {name: i for i, name in enumerate(spec.channel_names)}
    return spec.replace(priors=tuple(sorted(kept + added, key=lambda p: order[p.touchpoint])))


# ---- MMM -> MTA ----------------------------------------------------------------------------

def mta_weekly_credit(journeys: Journeys, model="linear", credit: str = "influenced", periods=None,
                      **options) -> pd.DataFrame:
    """week, channel, credit: MTA credit per conversion period. `model` is a rule-based model name
    or a fitted AlgorithmicAttribution (`credit` picks "influenced" or "incremental"). With
    `periods` (e.g. the MMM's score dates) conversions are binned into those periods exactly,
    otherwise into Monday-based weeks."""
    if isinstance(model, AlgorithmicAttribution):
        if credit not in ("influenced", "incremental"):
            raise DataError(f"credit='{credit}' is not an option; use 'influenced' or 'incremental'")
        touches = model.touch_credits()
        frame = pd.DataFrame({"time": touches["conversion_time"], "channel": touches["channel"],
                              "credit": touches[credit]})
    else:
        paths = journeys.paths
        row = paths.path_index()
        shares = heuristics.touch_shares(journeys, model, **options)
        keep = journeys.converted[row]
        frame = pd.DataFrame({"time": journeys.end[row][keep],
                              "channel": np.asarray(paths.channels, dtype=object)[paths.codes][keep],
                              "credit": (shares * paths.conversions[row])[keep]})
    if periods is None:
        frame["week"] = pd.to_datetime(frame["time"]).dt.to_period("W-SUN").dt.start_time
    else:
        frame["week"] = _period_of(pd.to_datetime(frame["time"]), _sorted_dates(periods))
        frame = frame[frame["week"].notna()]
    out = frame.groupby(["week", "channel"], observed=True, sort=True)["credit"].sum().reset_index()
    out["channel"] = out["channel"].astype(str)
    return out


def calibrate_credits(mta_weekly: pd.DataFrame, mmm_scores: pd.DataFrame,
                      channel_map: dict[str, str] | None = None) -> pd.DataFrame:
    """Rescale MTA credits so that, per channel and week, they sum to the MMM's contribution.

    mta_weekly: week, channel, credit, plus any finer key columns (campaign, touchpoint ...), whose
    rows are scaled together. mmm_scores: the scores table (date, component, kind, mean, ...).
    channel_map: MTA channel name -> MMM touchpoint name, where they differ.

    Returns week, channel, <finer keys>, raw_credit, calibrated_credit, mmm_contribution, status,
    where mmm_contribution is that of the whole channel and week. status says what happened:
      calibrated      raw x mmm_contribution / (sum of raw over the channel and week)
      mmm only        a component MTA does not see (offline channel, base, factor): raw NaN,
                      calibrated = the MMM's contribution
      no mta credit   the MMM gives the channel contribution in a week where MTA's credit sums to
                      zero or less: nothing to scale, so one row carries the MMM's number (never a
                      division by zero)
      not in mmm      the MMM has no such component: calibrated NaN
      outside mmm     the week is outside the scored range: calibrated NaN
    """
    missing = {"week", "channel", "credit"} - set(mta_weekly.columns)
    if missing:
        raise DataError(f"MTA weekly credit table lacks column(s) {sorted(missing)}; it needs week, channel, credit")
    components = _mmm_components(mmm_scores)
    dates = _sorted_dates(components["date"])
    mta = mta_weekly.rename(columns={"credit": "raw_credit"}).copy()
    keys = [c for c in mta.columns if c not in ("week", "channel", "raw_credit")]
    mta["channel"] = mta["channel"].astype(str).map(lambda c: (channel_map or {}).get(c, c))
    mta["week"] = _period_of(pd.to_datetime(mta["week"]), dates)
    mta["raw_credit"] = mta["raw_credit"].astype(float)

    mmm = components.rename(columns={"date": "week", "component": "channel", "mean": "mmm_contribution"})
    mmm = mmm.groupby(["week", "channel"], sort=False)["mmm_contribution"].sum().reset_index()
    mta_channels = set(mta["channel"])
    beyond = mta["week"].isna()
    outside = mta[beyond].assign(week=pd.to_datetime(mta_weekly["week"][beyond]).to_numpy(), status="outside mmm")
    inside = mta[mta["week"].notna()]
    in_mmm = inside["channel"].isin(set(mmm["channel"]))
    unknown = inside[~in_mmm].assign(status="not in mmm")
    seen = inside[in_mmm]

    totals = seen.groupby(["week", "channel"])["raw_credit"].sum().rename("raw_total").reset_index()
    grid = mmm[mmm["channel"].isin(mta_channels)].merge(totals, on=["week", "channel"], how="left")
    grid["raw_total"] = grid["raw_total"].fillna(0.0)
    scalable = grid[grid["raw_total"] > 0]
    scaled = seen.merge(scalable, on=["week", "channel"], how="inner")
    scaled["calibrated_credit"] = scaled["raw_credit"] * scaled["mmm_contribution"] / scaled["raw_total"]
    scaled["status"] = "calibrated"
    no_credit = grid[grid["raw_total"] <= 0].assign(raw_credit=lambda g: g["raw_total"],
                                                    calibrated_credit=lambda g: g["mmm_contribution"],
                                                    status="no mta credit")
    mmm_only = mmm[~mmm["channel"].isin(mta_channels)].assign(raw_credit=np.nan,
                                                             calibrated_credit=lambda g: g["mmm_contribution"],
                                                             status="mmm only")
    columns = ["week", "channel", *keys, "raw_credit", "calibrated_credit", "mmm_contribution", "status"]
    parts = [scaled, no_credit, mmm_only, unknown, outside]
    out = pd.concat([p.reindex(columns=columns) for p in parts if len(p)], ignore_index=True)
    return out.sort_values(["week", "channel", *keys], kind="stable", ignore_index=True)


def calibrate_model_scores(workspace, model_name: str, mta_weekly: pd.DataFrame,
                           channel_map: dict[str, str] | None = None) -> pd.DataFrame:
    """calibrate_credits against a scored model's stored scores."""
    return calibrate_credits(mta_weekly, workspace.scores(model_name), channel_map)


def _mmm_components(scores: pd.DataFrame) -> pd.DataFrame:
    missing = {"date", "component", "kind", "mean"} - set(scores.columns)
    if missing:
        raise DataError(f"MMM scores lack column(s) {sorted(missing)}; pass the table Workspace.score returns")
    parts = scores[scores["kind"].isin(COMPONENT_KINDS)][["date", "component", "mean"]].copy()
    if parts.empty:
        raise DataError("MMM scores have no base, factor or channel rows; score the model first")
    parts["date"] = pd.to_datetime(parts["date"])
    return parts


def _sorted_dates(dates) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(pd.Series(dates)).drop_duplicates().sort_values())


def _period_of(times: pd.Series, dates: pd.DatetimeIndex) -> pd.Series:
    """The MMM period (one of `dates`) each time falls in; NaT outside them. Monthly dates (first
    or last day of each month) stand for their calendar month; other dates start a period that
    runs to the next date (the last one for the usual spacing)."""
    if _is_monthly(dates):
        by_month = pd.Series(dates, index=dates.to_period("M"))
        found = by_month.reindex(pd.DatetimeIndex(times).to_period("M")).to_numpy()
        return pd.Series(found, index=times.index, dtype="datetime64[ns]")
    starts = dates.to_numpy()
    spacing = np.median(np.diff(starts)) if len(starts) > 1 else np.timedelta64(7, "D")
    ends = np.append(starts[1:], starts[-1] + spacing)
    values = times.to_numpy(dtype="datetime64[ns]")
    idx = np.searchsorted(starts, values, side="right") - 1
    safe = np.clip(idx, 0, None)
    ok = (idx >= 0) & (values < ends[safe])
    return pd.Series(np.where(ok, starts[safe], np.datetime64("NaT")), index=times.index)


def _is_monthly(dates: pd.DatetimeIndex) -> bool:
    if len(dates) < 2 or (dates[1:] - dates[:-1]).min() < pd.Timedelta(days=28):
        return False
    return bool((dates.day == 1).all() or dates.is_month_end.all())


# ---- errors against a known truth ------------------------------------------------------------

def share_errors(mmm_scores: pd.DataFrame, true_incremental: pd.DataFrame) -> pd.DataFrame:
    """Per MMM channel: true and estimated share of all conversions (percent) over the scored
    weeks, and the absolute error in percentage points.

    true_incremental: week, channel, conversions for every cause (base included), e.g.
    PeopleSimulation.true_incremental()."""
    comp = _mmm_components(mmm_scores)
    channels = comp.loc[comp["component"].isin(mmm_scores.loc[mmm_scores["kind"] == "channel", "component"]),
                        "component"].unique()
    weeks = set(comp["date"])
    truth = _truth(true_incremental)
    truth = truth[truth["week"].isin(weeks)]
    actual = mmm_scores[mmm_scores["component"] == "actual"]["mean"].sum() if (mmm_scores["component"] == "actual").any() \
        else truth["conversions"].sum()
    estimated = comp.groupby("component")["mean"].sum().reindex(channels) / actual
    true = truth.groupby("channel")["conversions"].sum().reindex(channels).fillna(0.0) / truth["conversions"].sum()
    out = pd.DataFrame({"channel": channels, "true_share": 100 * true.to_numpy(),
                        "estimated_share": 100 * estimated.to_numpy()})
    out["abs_error"] = (out["estimated_share"] - out["true_share"]).abs()
    return out


def weekly_credit_errors(calibrated: pd.DataFrame, true_incremental: pd.DataFrame) -> pd.DataFrame:
    """Per MTA channel: mean absolute error of raw and of calibrated weekly credit against the
    true incremental conversions (conversions per week), over the weeks both exist; a last row
    "all" averages over every channel-week."""
    rows = calibrated[calibrated["status"].isin(["calibrated", "no mta credit"])]
    cells = rows.groupby(["week", "channel"])[["raw_credit", "calibrated_credit"]].sum().reset_index()
    truth = _truth(true_incremental)
    cells = cells.merge(truth, on=["week", "channel"], how="left").fillna({"conversions": 0.0})
    cells["raw_error"] = (cells["raw_credit"] - cells["conversions"]).abs()
    cells["calibrated_error"] = (cells["calibrated_credit"] - cells["conversions"]).abs()
    per = cells.groupby("channel").agg(weeks=("week", "size"), true_mean=("conversions", "mean"),
                                       raw_mae=("raw_error", "mean"), calibrated_mae=("calibrated_error", "mean"))
    per = per.reset_index()
    total = pd.DataFrame([{"channel": "all", "weeks": len(cells), "true_mean": cells["conversions"].mean(),
                           "raw_mae": cells["raw_error"].mean(), "calibrated_mae": cells["calibrated_error"].mean()}])
    return pd.concat([per, total], ignore_index=True)


def transfer_errors(true_incremental: pd.DataFrame, mmm_without_mta: pd.DataFrame | None = None,
                    mmm_with_mta: pd.DataFrame | None = None, calibrated: pd.DataFrame | None = None) -> pd.DataFrame:
    """The headline table: how far each estimate is from the truth (lower is better).

    comparison, error, unit; MMM rows give the mean absolute share error over the MMM's channels,
    MTA rows the mean absolute weekly credit error over the MTA channel-weeks."""
    rows = []
    for label, scores in (("MMM without MTA priors", mmm_without_mta), ("MMM with MTA priors", mmm_with_mta)):
        if scores is not None:
            rows.append({"comparison": label, "error": float(share_errors(scores, true_incremental)["abs_error"].mean()),
                         "unit": "mean abs. share error, % points of conversions"})
    if calibrated is not None:
        overall = weekly_credit_errors(calibrated, true_incremental).iloc[-1]
        unit = "mean abs. error, conversions per channel-week"
        rows.append({"comparison": "MTA weekly credit, raw", "error": float(overall["raw_mae"]), "unit": unit})
        rows.append({"comparison": "MTA weekly credit, calibrated to the MMM", "error": float(overall["calibrated_mae"]),
                     "unit": unit})
    return pd.DataFrame(rows, columns=["comparison", "error", "unit"])


def _truth(true_incremental: pd.DataFrame) -> pd.DataFrame:
    frame = true_incremental.rename(columns={"date": "week", "component": "channel"})
    missing = {"week", "channel", "conversions"} - set(frame.columns)
    if missing:
        raise DataError(f"truth table lacks column(s) {sorted(missing)}; it needs week, channel, conversions")
    frame = frame[["week", "channel", "conversions"]].copy()
    frame["week"] = pd.to_datetime(frame["week"])
    return frame


# ---- one call: MTA first, then the MMM -------------------------------------------------------

@dataclass
class MtaPlan:
    """What MTA offers a model, before the model is trained (`mta_prior_plan`)."""
    spec: ModelSpec                    # the model's spec with the MTA priors in (user priors win)
    priors: list[PriorSpec]            # the MTA priors offered, one per channel MTA sees
    evidence: pd.DataFrame             # mta_prior_table: incremental, sd, coverage, share, confidence, unit
    journeys: Journeys
    attribution: AlgorithmicAttribution
    unit: str                          # "conversions" (count model) or "revenue" (revenue model: event values)
    window: pd.DatetimeIndex           # the model's fitting periods
    covered: pd.DatetimeIndex          # those the evidence comes from (see _window_evidence)
    channel_names: dict[str, str]      # MTA channel -> model touchpoint, for the channels used
    kept: dict[str, PriorSpec]         # touchpoint -> the user's prior, kept instead of MTA's
    notes: list[str]                   # partial coverage, case-only name matches, unmatched or floored channels

    def prior_lines(self) -> list[str]:
        """One line per channel MTA sees: the MTA prior it gets, or the user's prior that was kept,
        with MTA's estimate beside it for information."""
        lines = []
        for p in self.priors:
            mta = f"{p.share:.2f}% of {self.unit} at {p.confidence:.0f}% confidence"
            user = self.kept.get(p.touchpoint)
            lines.append(f"MTA prior for {p.touchpoint}: {mta}" if user is None else
                         f"prior for {p.touchpoint}: kept yours ({describe_prior(user)}); MTA estimate {mta}, "
                         "for information only (not used)")
        return lines


@dataclass
class MtaTraining:
    train: object                      # the Workspace TrainResult
    spec: ModelSpec                    # the spec the MMM was trained with
    priors: list[PriorSpec]            # the MTA priors offered (a user prior may have won)
    evidence: pd.DataFrame             # mta_prior_table: incremental, sd, coverage, share, confidence
    journeys: Journeys
    attribution: AlgorithmicAttribution
    plan: MtaPlan | None = None

    @property
    def notes(self) -> list[str]:
        return list(self.plan.notes) if self.plan else []

    @property
    def kept(self) -> dict[str, PriorSpec]:
        return dict(self.plan.kept) if self.plan else {}


def describe_prior(p: PriorSpec) -> str:
    """A prior in words: '5% at 50% confidence, source experiment', 'ROI 1.5 ± 0.4, source ...'."""
    text = {"share": lambda: f"{p.share:g}% at {p.confidence:g}% confidence",
            "roi": lambda: f"ROI {p.roi:g} ± {p.roi_sd:g}",
            "cpa": lambda: f"CPA {p.cpa:g} ± {p.cpa_sd:g}"}[p.form]()
    return f"{text}, source {p.source}"


def train_with_mta(workspace, model_name: str, events: pd.DataFrame, *, person: str | None = None,
                   timestamp: str | None = None, channel: str | None = None, conversion: str | None = None,
                   value: str | None = None, lookback_weeks: float | None = None,
                   channel_map: dict[str, str] | None = None, tracked: dict[str, float] | None = None,
                   algorithmic: dict | None = None, model_sd: float = MODEL_SD, progress: bool = False,
                   method: str | None = None) -> MtaTraining:
    """Run MTA on `events`, turn it into priors, put them in the model's spec, train the MMM:
    `mta_prior_plan` (see there for the options) then `train_with_mta_plan`.
    method: "laplace" for a fast approximate fit this run (as `Workspace.train`), None for the spec's."""
    plan = mta_prior_plan(workspace, model_name, events, person=person, timestamp=timestamp, channel=channel,
                          conversion=conversion, value=value, lookback_weeks=lookback_weeks,
                          channel_map=channel_map, tracked=tracked, algorithmic=algorithmic, model_sd=model_sd)
    return train_with_mta_plan(workspace, model_name, plan, progress=progress, method=method)


def train_with_mta_plan(workspace, model_name: str, plan: MtaPlan, *, progress: bool = False,
                        method: str | None = None) -> MtaTraining:
    """Store the plan's priors in the model's spec and train it."""
    workspace.edit(model_name, priors=[dataclasses.asdict(p) for p in plan.spec.priors])
    result = workspace.train(model_name, progress=progress, method=method)
    return MtaTraining(result, plan.spec, plan.priors, plan.evidence, plan.journeys, plan.attribution, plan)


def mta_prior_plan(workspace, model_name: str, events: pd.DataFrame, *, person: str | None = None,
                   timestamp: str | None = None, channel: str | None = None, conversion: str | None = None,
                   value: str | None = None, lookback_weeks: float | None = None,
                   channel_map: dict[str, str] | None = None, tracked: dict[str, float] | None = None,
                   algorithmic: dict | None = None, model_sd: float = MODEL_SD) -> MtaPlan:
    """Run MTA on `events` and turn it into share priors for the model, without training.

    Units. A share prior divides a channel's incremental contribution by the model's target over
    the fitting window, so both must be in the target's unit. A count model uses MTA's
    incremental conversions. A revenue model uses MTA's incremental revenue: each conversion's
    incremental credit times its value, from the events' value column (`value`, or one named
    value / conversion_value / revenue), in the model's currency. Without values a revenue model
    is refused: a spec names a single target column, so the model has no conversion count to
    turn MTA's counts into revenue with (an average revenue per conversion), and the events' own
    conversions would give a wrong average whenever some conversions are untracked.

    Window. The evidence is MTA's incremental credit of conversions in the fitting periods the
    events fully cover (one lookback after the first event to the last event). When those are
    only part of the window, each channel's coverage is the share of its window spend that falls
    in them (times `tracked`), so the share prior, incremental / (coverage x window total), is
    the covered periods' evidence scaled up to the whole window in proportion to spend, and it is
    widened by coverage_sd x (1 - coverage); a note says which periods are covered.

    Names. MTA channel -> touchpoint: `channel_map` where given, else the same name, else the
    same name ignoring case and surrounding spaces (with a note); MTA channels that match no
    touchpoint give no prior (a note names them), and none matching is refused.

    lookback_weeks: the journey window (default the model's lookback_weeks). tracked: per
    channel, the fraction of its exposures the events record (default 1). algorithmic: options
    for AlgorithmicAttribution; its lag edges default to the standard ones that fit in half the
    lookback, so the journey tail shows the baseline the effects are measured from.
    """
    spec = workspace.spec(model_name)
    lookback = float(lookback_weeks or spec.lookback_weeks)
    journeys = build_journeys(events, person=person, timestamp=timestamp, channel=channel, conversion=conversion,
                              value=value, lookback=lookback)
    unit = "revenue" if spec.conversion_kind == "revenue" else "conversions"
    if unit == "revenue" and not journeys.paths.has_value:
        raise DataError(
            f"model '{model_name}' is a revenue model (conversion '{spec.conversion}', kind revenue), so MTA priors "
            f"need each conversion's revenue, but the events give only conversion counts: they have no value "
            f"column ({', '.join(VALUE_COLUMNS)}). Add a 'value' column holding each conversion row's revenue "
            f"(in the model's currency), or use the events with a count model (conversion kind: count); "
            f"counts cannot be turned into revenue here, as the model has no conversion count to take an "
            f"average revenue per conversion from")
    mapping, notes = _match_channels(journeys.channels, spec.channel_names, channel_map or {}, model_name)
    options = {"lag_edges": lag_edges_for(lookback), **(algorithmic or {})}
    mta = AlgorithmicAttribution(**options).fit(journeys)
    window = _fit_window(workspace, spec)
    evidence_in, covered, unused = _window_evidence(mta, journeys, window, lookback, mapping, tracked or {}, unit)
    if evidence_in.empty:
        raise DataError(f"the MTA channels {sorted(mapping)} have no spend in the model's fitting periods the "
                        f"events cover ({covered.min().date()}..{covered.max().date()}), so MTA gives no "
                        "evidence for them; supply events for weeks in which they spend")
    if unused:
        notes.append(f"MTA channel(s) {unused} have no spend in the covered periods, so they get no MTA prior")
    coverage = dict(zip(evidence_in["channel"], evidence_in["coverage"]))
    evidence = mta_prior_table(evidence_in, window.total_conversions, coverage, model_sd=model_sd, unit=unit)
    note = _coverage_note(window, covered, journeys, lookback, evidence, unit, bool(tracked))
    if note:
        notes.append(note)
    for r in evidence[evidence["floored"]].itertuples(index=False):
        notes.append(f"MTA finds {r.incremental_conversions:,.0f} incremental {unit} (sd {r.sd:,.0f}) for "
                     f"{r.channel}, below the floor, so its prior is centred on {r.share:.2f}% with a wide "
                     f"spread ({r.confidence:.0f}% confidence)")
    priors = priors_from_table(evidence)
    new_spec = spec_with_mta_priors(spec, priors)
    kept = {p.touchpoint: new_spec.prior_for(p.touchpoint) for p in priors
            if new_spec.prior_for(p.touchpoint).source != MTA_SOURCE}
    return MtaPlan(new_spec, priors, evidence, journeys, mta, unit, window.dates, covered, mapping, kept, notes)


def lag_edges_for(lookback_weeks: float) -> tuple[int, ...]:
    """The default lag edges (days) up to half the lookback: beyond the last edge exposures have no
    effect, which lets the journey tail identify the baseline."""
    half = lookback_weeks * 7 / 2
    edges = tuple(e for e in DEFAULT_LAG_EDGES if e <= half)
    return edges if len(edges) >= 2 else (0, max(1, int(half)))


def _fold(name) -> str:
    return str(name).strip().casefold()


def _match_channels(mta_channels, touchpoints, channel_map, model_name) -> tuple[dict[str, str], list[str]]:
    """MTA channel -> touchpoint (see mta_prior_plan), and notes on case-only and missing matches."""
    exact = set(touchpoints)
    folded: dict[str, list[str]] = {}
    for t in touchpoints:
        folded.setdefault(_fold(t), []).append(t)
    map_folded = {_fold(k): v for k, v in channel_map.items()}
    mapping, by_case, unmatched = {}, [], []
    for ch in mta_channels:
        target = channel_map.get(ch, map_folded.get(_fold(ch), ch))
        if target in exact:
            mapping[ch] = target
        elif len(folded.get(_fold(target), ())) == 1:
            mapping[ch] = folded[_fold(target)][0]
            by_case.append(f"'{ch}' -> {mapping[ch]}")
        else:
            unmatched.append(ch)
    if not mapping:
        raise DataError(f"none of the MTA channels {list(mta_channels)} is a touchpoint of model '{model_name}' "
                        f"({list(touchpoints)}), even ignoring case; rename the channel values in the events to "
                        "the model's touchpoint names (from Python: channel_map={'<event channel>': '<touchpoint>'})")
    notes = []
    if by_case:
        notes.append(f"MTA channel(s) matched touchpoints only when ignoring case: {', '.join(by_case)}")
    if unmatched:
        notes.append(f"MTA channel(s) {unmatched} match no touchpoint of model '{model_name}' "
                     f"({list(touchpoints)}), so they give no prior; rename them in the events if they are one")
    return mapping, notes


@dataclass
class _FitWindow:
    dates: pd.DatetimeIndex     # the MMM's fitting periods
    period: pd.Timedelta
    spend: pd.DataFrame         # spend per fitting period, one column per touchpoint
    total_conversions: float    # the target summed over them (conversions or revenue)
    unit: str = "week"          # the data's cadence: day, week or month


def _fit_window(workspace, spec: ModelSpec) -> _FitWindow:
    from mediamix.model.design import build_design
    from mediamix.workspace import PERIOD_DAYS

    data = workspace.dataset(spec.dataset).national()
    design = build_design(data.frame, spec, periods_per_year=data.cadence.periods_per_year,
                          period_days=PERIOD_DAYS[data.cadence.unit])
    fit = design.in_fit
    dates = design.dates[fit]
    period = pd.Timedelta(days=PERIOD_DAYS[data.cadence.unit])
    spend = pd.DataFrame(design.spend[fit], index=dates, columns=design.channels)
    return _FitWindow(dates, period, spend, float(np.nansum(design.y[fit])), data.cadence.unit)


def _window_evidence(mta, journeys, window, lookback_weeks, mapping, tracked, unit="conversions"):
    """Incremental conversions (unit "conversions") or revenue (unit "revenue": credit x conversion
    value) per touchpoint in the fitting periods the events fully cover (from one lookback after
    the first event to the last), with sd and coverage; and those periods.

    The sd is the channel's sd over all conversions scaled by the covered estimate's ratio to the
    all-conversions count (parameter uncertainty is shared by all conversions, so the relative sd
    carries over, to value too). Coverage = tracked x the share of the channel's window spend in
    the covered periods; a channel without spend there is left out (the third value names them)."""
    first = pd.Timestamp(journeys.touch_time.min()) + pd.Timedelta(weeks=lookback_weeks)
    last = pd.Timestamp(max(journeys.end.max(), journeys.touch_time.max()))
    covered = window.dates[(window.dates >= first) & (window.dates + window.period <= last + pd.Timedelta(seconds=1))]
    if len(covered) == 0:
        raise DataError(f"the event data ({pd.Timestamp(journeys.touch_time.min()).date()}..{last.date()}) covers "
                        f"none of the model's fitting periods ({window.dates.min().date()}.."
                        f"{window.dates.max().date()}) after a {lookback_weeks:g}-week lookback; "
                        "supply events for the model's window")
    metric = "incremental_value" if unit == "revenue" else "incremental"
    touches = mta.touch_credits()
    touches["period"] = _period_of(pd.to_datetime(touches["conversion_time"]), pd.DatetimeIndex(covered))
    inside = touches[touches["period"].notna()].groupby("channel")[metric].sum()
    overall = mta.attribution().set_index("channel")
    per_conversion = 1.0
    if unit == "revenue":
        values = journeys.paths.value[journeys.converted]
        per_conversion = float(values.mean()) if len(values) else 1.0
    rows = []
    for ch in overall.index:
        if ch not in mapping:
            continue
        inc_all, sd_all = overall.loc[ch, "incremental"], overall.loc[ch, "incremental_sd"]
        inc = float(inside.get(ch, 0.0))
        sd = sd_all * abs(inc / inc_all) if inc_all != 0 else sd_all * per_conversion
        name = mapping[ch]
        spent = window.spend[name] if name in window.spend else None
        in_time = float(spent.loc[covered].sum() / spent.sum()) if spent is not None and spent.sum() > 0 else 0.0
        cov = float(tracked.get(name, tracked.get(ch, 1.0))) * in_time
        rows.append({"mta_channel": ch, "channel": name, "incremental_conversions": inc, "sd": float(sd),
                     "coverage": cov})
    frame = pd.DataFrame(rows, columns=["mta_channel", "channel", "incremental_conversions", "sd", "coverage"])
    frame = frame[frame["coverage"] > 0]
    # Several MTA channels mapped onto one touchpoint pool their evidence (sd as if independent).
    out = frame.groupby("channel", sort=False).agg(
        incremental_conversions=("incremental_conversions", "sum"), sd=("sd", lambda x: float(np.sqrt((x ** 2).sum()))),
        coverage=("coverage", "first")).reset_index()
    dropped = sorted(set(mapping) & set(overall.index) - set(frame["mta_channel"]))
    return out, pd.DatetimeIndex(covered), dropped


def _coverage_note(window, covered, journeys, lookback_weeks, evidence, unit, tracked) -> str | None:
    """Says which fitting periods the events cover and what that does to the priors, when not all."""
    if len(covered) == len(window.dates):
        return None
    word = {"day": "days", "week": "weeks", "month": "months"}.get(window.unit, "periods")
    first = pd.Timestamp(journeys.touch_time.min())
    last = pd.Timestamp(max(journeys.end.max(), journeys.touch_time.max()))
    per_channel = ", ".join(f"{r.channel} {100 * r.coverage:.0f}%" for r in evidence.itertuples(index=False))
    return (f"the events cover {len(covered)} of the model's {len(window.dates)} fitting {word}: "
            f"{covered[0].date()}..{covered[-1].date()} of {window.dates[0].date()}..{window.dates[-1].date()} "
            f"(from one {lookback_weeks:g}-week lookback after the first event, {first.date()}, to the last event, "
            f"{last.date()}). MTA's estimate (incremental {unit}) from those {word} is scaled up to the whole window "
            f"by each channel's share of spend in them{' times its tracked share' if tracked else ''} "
            f"({per_channel}), and the priors are widened for the {word} not seen; events for the whole window "
            f"give a tighter prior")
