"""mediamix.attribution: multi-touch attribution from journeys or aggregated path tables.

    journeys = build_journeys(events, lookback=4)           # or PathTable.from_csv("paths.csv")
    rule_based(journeys)                                    # first/last touch, linear, position, time decay
    markov(journeys, order=1).attribution                   # removal effects, exact
    shapley(journeys).attribution                           # coalition Shapley values
    AlgorithmicAttribution().fit(journeys).attribution()    # timing model with 90 % intervals
    attribution_tab(journeys)                               # the attribution-tab tables
"""
from mediamix.attribution.algorithmic import AlgorithmicAttribution
from mediamix.attribution.heuristics import (first_touch, last_touch, linear, position_based, rule_based,
                                             time_decay, touch_shares)
from mediamix.attribution.journeys import Journeys, build_journeys
from mediamix.attribution.markov import MarkovResult, markov
from mediamix.attribution.paths import AttributionWarning, PathTable
from mediamix.attribution.shapley import ShapleyResult, shapley
from mediamix.attribution.summary import (attribution_tab, channel_totals, credit_trend, position_breakdown,
                                          top_paths, touchpoint_effectiveness)

__all__ = [
    "AlgorithmicAttribution", "AttributionWarning", "Journeys", "MarkovResult", "PathTable", "ShapleyResult",
    "attribution_tab", "build_journeys", "channel_totals", "credit_trend", "first_touch", "last_touch", "linear",
    "markov", "position_based", "position_breakdown", "rule_based", "shapley", "time_decay", "top_paths",
    "touch_shares", "touchpoint_effectiveness",
]
