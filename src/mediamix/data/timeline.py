"""Every series must have one row per period with no holes: duplicates and gaps stop the load."""
from __future__ import annotations

import pandas as pd

from mediamix.data.cadence import Cadence
from mediamix.data.messages import count, date_runs, iso, quoted
from mediamix.errors import DataError

FILL_OPTIONS = (None, "zero")


def refuse_duplicates(frame: pd.DataFrame, *, date_source: str, geo_source: str | None) -> None:
    """Stop on a date that occurs more than once (per geo in a panel), naming dates and counts."""
    keys = ["date"] if geo_source is None else ["geo", "date"]
    counts = frame.groupby(keys, sort=True).size()
    repeated = counts[counts > 1]
    if repeated.empty:
        return
    if geo_source is None:
        items = [f"{iso(d)} appears {n} times" for d, n in repeated.items()]
    else:
        items = [f"{iso(d)} appears {n} times in geo {quoted(g)}" for (g, d), n in repeated.items()]
    shown = "; ".join(items[:8]) + (f"; and {len(items) - 8} more" if len(items) > 8 else "")
    if geo_source is None:
        advice = (
            "each date must occur once. If this is panel data (one row per date and region, market or "
            "customer), declare that column with --geo-column (geo_column= in Python); if the export repeated a period, "
            "remove the extra rows (they are never summed or averaged silently)"
        )
    else:
        advice = (
            f"each date must occur once per geo in column {quoted(geo_source)}; remove the extra rows or "
            "aggregate them in the export"
        )
    where = f"column {quoted(date_source)}"
    raise DataError(f"duplicated dates in {where}: {shown}; {advice}")


def complete_timeline(
    frame: pd.DataFrame,
    cadence: Cadence,
    *,
    date_source: str,
    geo_present: bool,
    fill: str | None,
) -> tuple[pd.DataFrame, list[str]]:
    """Check that every period (for every geo) is present; with fill='zero' add the missing rows as zeros.

    `frame` is sorted, deduplicated, with `date` (and `geo`) first.
    """
    if fill not in FILL_OPTIONS:
        raise DataError(
            f"fill={fill!r} is not an option; use fill='zero' to treat missing periods as zero, "
            "or leave it out to be told about them"
        )
    expected = cadence.range(frame["date"].min(), frame["date"].max())
    present = pd.DatetimeIndex(frame["date"].unique())
    off_cadence = present.difference(expected)
    if len(off_cadence):  # cannot happen after detect_cadence, but a declared cadence may disagree
        raise DataError(
            f"dates in column {quoted(date_source)} such as {iso(off_cadence[0])} do not fit the cadence "
            f"({cadence.describe()}); fix the dates or the declared frequency"
        )
    step = lambda d: cadence.shift(d, 1)  # noqa: E731 - runs of consecutive periods
    missing_everywhere = expected.difference(present)
    gaps_by_geo: dict[str, pd.DatetimeIndex] = {}
    if geo_present:
        for geo, rows in frame.groupby("geo", sort=False):
            lacking = expected.difference(pd.DatetimeIndex(rows["date"])).difference(missing_everywhere)
            if len(lacking):
                gaps_by_geo[geo] = lacking
    if not len(missing_everywhere) and not gaps_by_geo:
        return frame, []

    if fill is None:
        problems = []
        if len(missing_everywhere):
            scope = " in every geo" if geo_present else ""
            problems.append(
                f"column {quoted(date_source)} is missing {len(missing_everywhere)} of "
                f"{count(len(expected), cadence.unit)}{scope} between {iso(expected[0])} and {iso(expected[-1])} "
                f"({cadence.describe()}): {date_runs(missing_everywhere, step)}"
            )
        for geo, lacking in gaps_by_geo.items():
            problems.append(
                f"geo {quoted(geo)} is missing {len(lacking)} of {len(expected)} dates: "
                f"{date_runs(lacking, step)}"
            )
        raise DataError(
            "; ".join(problems)
            + f". Missing {cadence.plural} are not zero-spend {cadence.plural}: add the rows (with zeros "
            f"where nothing was spent), or pass --fill zero (fill='zero' in Python) if those {cadence.plural} truly had no activity"
        )

    # fill == "zero": the user said missing periods had no activity; new rows get 0 in numeric
    # columns and stay empty in text columns, and the notice records exactly what was added.
    notices = []
    if geo_present:
        geos = sorted(pd.unique(frame["geo"]))
        grid = pd.MultiIndex.from_product([expected, geos], names=["date", "geo"])
        indexed = frame.set_index(["date", "geo"])
    else:
        grid = pd.DatetimeIndex(expected, name="date")
        indexed = frame.set_index("date")
    added = grid.difference(indexed.index)
    filled = indexed.reindex(grid)
    numeric = [c for c in filled.columns if pd.api.types.is_numeric_dtype(filled[c])]
    filled.loc[added, numeric] = 0.0
    filled = filled.reset_index()
    for column in frame.columns:
        filled[column] = filled[column].astype(frame[column].dtype)
    filled = filled[list(frame.columns)]
    if len(missing_everywhere):
        notices.append(
            f"filled {count(len(missing_everywhere), 'missing ' + cadence.unit)} with zeros (fill='zero'): "
            f"{date_runs(missing_everywhere, step)}"
        )
    for geo, lacking in gaps_by_geo.items():
        notices.append(
            f"filled {count(len(lacking), 'missing date')} of geo {quoted(geo)} with zeros (fill='zero'): "
            f"{date_runs(lacking, step)}"
        )
    return filled, notices
