"""Attribution-tab tables, as data: totals per model, position breakdown, top paths,
per-touchpoint effectiveness and credit trends. Charts and formats belong to insights/."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from mediamix.attribution import heuristics
from mediamix.attribution.markov import markov
from mediamix.attribution.paths import as_path_table
from mediamix.attribution.shapley import shapley
from mediamix.errors import DataError

FREQUENCIES = {"daily": "D", "weekly": "W-SUN", "monthly": "M"}  # W-SUN periods run Monday..Sunday


def channel_totals(results: Mapping[str, pd.DataFrame], column: str = "conversions") -> pd.DataFrame:
    """One row per channel, one column per model (e.g. the dict from rule_based plus markov)."""
    if not results:
        raise DataError("no model results to tabulate; run at least one attribution model")
    frames = [r.set_index("channel")[column].rename(name) for name, r in results.items()]
    table = pd.concat(frames, axis=1).fillna(0.0)
    return table.rename_axis("channel").reset_index()


def position_breakdown(data) -> pd.DataFrame:
    """Per channel, the % of its touches on converting paths that open (starter), sit in the
    middle (player) or close (closer) the path, weighted by conversions; each row sums to 100.
    A 1-touch path both opens and closes: its touch counts half starter, half closer."""
    paths = as_path_table(data).nonempty()
    pos, length = paths.positions(), np.repeat(paths.lengths, paths.lengths)
    weight = paths.conversions[paths.path_index()]
    single = length == 1
    starter = np.where(single, 0.5, (pos == 0).astype(float))
    closer = np.where(single, 0.5, (pos == length - 1).astype(float))
    player = 1.0 - starter - closer
    n = len(paths.channels)
    parts = {name: np.bincount(paths.codes, weight * share, minlength=n)
             for name, share in (("starter", starter), ("player", player), ("closer", closer))}
    touches = parts["starter"] + parts["player"] + parts["closer"]
    scale = np.where(touches > 0, 100.0 / np.where(touches > 0, touches, 1.0), np.nan)
    out = pd.DataFrame({"channel": list(paths.channels), **{k: v * scale for k, v in parts.items()}})
    out["converting_touches"] = touches
    return out


def top_paths(data, n: int = 5) -> pd.DataFrame:
    """The n paths with most conversions: share of all conversions and their conversion rate."""
    paths = as_path_table(data)
    merged = paths.aggregate().head(n).copy()
    merged.insert(0, "rank", np.arange(1, len(merged) + 1))
    merged["share"] = merged.conversions / paths.total_conversions if paths.total_conversions else np.nan
    # without nulls every journey looks converted, so a rate would be meaningless
    merged["conversion_rate"] = (merged.conversions / merged.journeys.where(merged.journeys > 0)
                                 if paths.has_nulls else np.nan)
    if not paths.has_value:
        merged = merged.drop(columns="value")
    return merged.reset_index(drop=True)


def touchpoint_effectiveness(data) -> pd.DataFrame:
    """Per channel: share of converting journeys that touched it, share of non-converting ones,
    their ratio (above 1: over-represented among converters) and the conversion rate of journeys
    that touched it."""
    paths = as_path_table(data).nonempty()
    n = len(paths.channels)
    row = paths.path_index()
    # each channel once per path, however often it repeats there
    key = np.unique(row.astype(np.int64) * n + paths.codes)
    path_of, channel_of = key // n, key % n
    conv = np.bincount(channel_of, paths.conversions[path_of], minlength=n)
    null = np.bincount(channel_of, paths.nulls[path_of], minlength=n)
    conv_share = conv / paths.total_conversions if paths.total_conversions else np.full(n, np.nan)
    total_null = paths.nulls.sum()
    if paths.has_nulls and total_null > 0:
        null_share = null / total_null
        rate = np.where(conv + null > 0, conv / np.where(conv + null > 0, conv + null, 1), np.nan)
    else:
        null_share, rate = np.full(n, np.nan), np.full(n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = conv_share / null_share
    return pd.DataFrame({"channel": list(paths.channels), "converting_share": conv_share,
                         "non_converting_share": null_share, "ratio": ratio, "conversion_rate": rate,
                         "converting_journeys": conv, "non_converting_journeys": null})


def credit_trend(journeys, model="linear", freq: str = "weekly", credit: str = "influenced",
                 **options) -> pd.DataFrame:
    """Credits per conversion period and channel. `model` is a rule-based model name or a fitted
    AlgorithmicAttribution (then `credit` picks 'influenced' or 'incremental')."""
    if not hasattr(journeys, "touch_time"):
        raise DataError("trends need conversion timestamps: pass Journeys from build_journeys")
    period = _period_code(freq)
    if isinstance(model, str):
        paths = journeys.paths
        row = paths.path_index()
        shares = heuristics.touch_shares(journeys, model, **options)
        frame = pd.DataFrame({"time": journeys.end[row], "channel": np.asarray(paths.channels, dtype=object)[paths.codes],
                              "conversions": shares * paths.conversions[row],
                              "value": shares * paths.value[row] if paths.has_value else np.nan,
                              "converted": journeys.converted[row]})
        frame = frame[frame.converted]
    else:
        if credit not in ("influenced", "incremental"):
            raise DataError(f"credit='{credit}' is not an option; use 'influenced' or 'incremental'")
        touches = model.touch_credits()
        frame = pd.DataFrame({"time": touches.conversion_time, "channel": touches.channel,
                              "conversions": touches[credit], "value": touches[f"{credit}_value"]})
    frame["period"] = pd.to_datetime(frame["time"]).dt.to_period(period).dt.start_time
    out = frame.groupby(["period", "channel"], observed=True)[["conversions", "value"]].sum(min_count=1)
    return out.reset_index()


def attribution_tab(data, half_life="7D", markov_order: int = 1, include_shapley: bool = True,
                    algorithmic=None) -> dict[str, pd.DataFrame]:
    """Every table of the attribution tab for a PathTable or Journeys (trends need Journeys)."""
    results = heuristics.rule_based(data, half_life=half_life)
    results["markov"] = markov(data, order=markov_order).attribution
    if include_shapley:
        results["shapley"] = shapley(data).attribution
    if algorithmic is not None:  # a fitted AlgorithmicAttribution
        table = algorithmic.attribution()
        results["algorithmic_influenced"] = table
        results["algorithmic_incremental"] = table[["channel", "incremental"]].rename(
            columns={"incremental": "conversions"})
    tab = {"totals": channel_totals(results), "positions": position_breakdown(data),
           "top_paths": top_paths(data), "effectiveness": touchpoint_effectiveness(data)}
    if hasattr(data, "touch_time"):
        for name in FREQUENCIES:
            tab[f"trend_{name}"] = credit_trend(data, "linear", name)
    return tab


def _period_code(freq: str) -> str:
    if freq in FREQUENCIES:
        return FREQUENCIES[freq]
    if freq in FREQUENCIES.values():
        return freq
    raise DataError(f"trend frequency '{freq}' is not an option; use one of {list(FREQUENCIES)}")


def top_campaigns(events: pd.DataFrame, *, campaign: str, n: int = 10, model: str = "linear",
                  **journey_options) -> pd.DataFrame:
    """The campaigns credited with the most conversions: journeys are rebuilt with the campaign
    as the touchpoint (same lookback and conventions), then attributed by a rule-based model.

    Returns rank, campaign, conversions, value and share (% of attributed conversions)."""
    from mediamix.attribution.journeys import build_journeys

    if campaign not in events.columns:
        raise DataError(f"campaign column '{campaign}' is not in the events; columns are {list(events.columns)}")
    models = {"first": heuristics.first_touch, "last": heuristics.last_touch, "linear": heuristics.linear,
              "position": heuristics.position_based}
    if model not in models:
        raise DataError(f"model '{model}' is not one of {list(models)} for top campaigns")
    frame = events.copy()
    frame[campaign] = frame[campaign].astype("string")
    conversion = journey_options.get("conversion")
    if conversion in frame.columns:  # a touch without a campaign is still a touch; a bare conversion row is not
        touch = ~frame[conversion].fillna(0).astype(bool)
        frame.loc[touch & frame[campaign].isna(), campaign] = "(no campaign)"
    journeys = build_journeys(frame, channel=campaign, **journey_options)
    table = models[model](journeys).rename(columns={"channel": "campaign"})
    table = table.sort_values(["conversions", "campaign"], ascending=[False, True]).head(n).reset_index(drop=True)
    total = float(models[model](journeys)["conversions"].sum())
    table["share"] = 100 * table["conversions"] / total if total > 0 else np.nan
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table
