"""Merge preference: when summary and event data both give a metric for the same channel.

'summary' keeps the summary rows, 'event' keeps the event rows, 'sum' keeps both. A default
(summary, unless changed) applies to every metric and channel; overrides name a metric, and
optionally a channel. The choice is made per metric and channel over the whole series, so a
series never switches source from one period to the next.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from mediamix.data.fields import load_catalogue, require
from mediamix.data.messages import one_of, quoted
from mediamix.data.schema import bump_revision, has_table
from mediamix.errors import DataError

PREFERENCES = ("summary", "event", "sum")
ANY = "*"  # stored in place of "every metric" / "every channel"


@dataclass(frozen=True)
class MergePreferences:
    default: str = "summary"
    overrides: dict = field(default_factory=dict)  # {(metric, channel or None): preference}

    def for_metric(self, metric: str, channel: str | None) -> str:
        for key in ((metric, channel), (metric, None)):
            if key in self.overrides:
                return self.overrides[key]
        return self.default

    def table(self) -> pd.DataFrame:
        rows = [{"metric": "(every metric)", "channel": "(every channel)", "preference": self.default}]
        rows += [{"metric": m, "channel": c or "(every channel)", "preference": p}
                 for (m, c), p in sorted(self.overrides.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))]
        return pd.DataFrame(rows)


def load_preferences(con) -> MergePreferences:
    if not has_table(con, "merge_preferences"):
        return MergePreferences()
    default = "summary"
    overrides = {}
    for metric, channel, preference in con.execute("SELECT metric, channel, preference FROM merge_preferences").fetchall():
        if metric == ANY:
            default = preference
        else:
            overrides[(metric, None if channel == ANY else channel)] = preference
    return MergePreferences(default, overrides)


def preferences(store) -> MergePreferences:
    with store.reading() as con:
        return load_preferences(con) if con is not None else MergePreferences()


def set_preference(store, preference: str, *, metric: str | None = None, channel: str | None = None) -> MergePreferences:
    """Set the default (no metric) or an override for a metric, optionally for one channel only."""
    if preference not in PREFERENCES:
        raise DataError(f"merge preference {quoted(preference)} is not one of {one_of(PREFERENCES)}")
    if channel is not None and metric is None:
        raise DataError("an override for a channel also names its metric (e.g. metric='spend', channel='search')")
    with store.transaction() as con:
        if metric is not None:
            require(load_catalogue(con), metric, "metric", used_as="(in a merge preference)")
        key = (metric or ANY, channel or ANY)
        con.execute("DELETE FROM merge_preferences WHERE metric = ? AND channel = ?", list(key))
        con.execute("INSERT INTO merge_preferences VALUES (?, ?, ?)", [*key, preference])
        bump_revision(con)
        return load_preferences(con)


def clear_preference(store, *, metric: str, channel: str | None = None) -> MergePreferences:
    with store.transaction() as con:
        con.execute("DELETE FROM merge_preferences WHERE metric = ? AND channel = ?", [metric, channel or ANY])
        bump_revision(con)
        return load_preferences(con)


def dropped_origins(presence: pd.DataFrame, prefs: MergePreferences) -> tuple[pd.DataFrame, list[str]]:
    """Which (field, channel, origin) rows to drop, from a frame of field, channel, summary, event flags."""
    drops, notices = [], []
    for row in presence.itertuples(index=False):
        if not (row.summary and row.event):
            continue
        channel = None if pd.isna(row.channel) else row.channel
        choice = prefs.for_metric(row.field, channel)
        where = f"{quoted(row.field)} of channel {quoted(channel)}" if channel is not None else quoted(row.field)
        if choice == "sum":
            notices.append(f"summed summary and event data for {where} (merge preference 'sum')")
            continue
        drop = "event" if choice == "summary" else "summary"
        drops.append({"field": row.field, "channel": channel, "origin": drop})
        notices.append(f"kept the {choice} data for {where}, dropped its {drop} data (merge preference {quoted(choice)})")
    frame = pd.DataFrame(drops, columns=["field", "channel", "origin"]).astype({"field": "str", "channel": "object", "origin": "str"})
    return frame, notices
