"""SummaryData: one harmonized summary data set (dates, optional geo, metric columns) and its cadence."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from mediamix.data.cadence import Cadence
from mediamix.data.messages import column_list, count, iso, quoted
from mediamix.errors import DataError


@dataclass(frozen=True, eq=False)
class SummaryData:
    """Harmonized summary rows.

    frame: columns `date` (datetime64[ns], midnight), then `geo` (str) when geo_column_present,
    then metrics: float64 for numbers, str for categorical columns. Sorted by date (and geo).
    notices: non-fatal messages from harmonizing, e.g. "dropped column 'Unnamed: 0' ...".
    """

    frame: pd.DataFrame
    cadence: Cadence
    geo_column_present: bool = False
    notices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        columns = list(self.frame.columns)
        keys = self.key_columns
        if columns[: len(keys)] != keys:
            raise DataError(
                f"a SummaryData frame starts with columns {column_list(keys)}; got {column_list(columns[:3])}"
            )
        if not self.geo_column_present and "geo" in columns:
            raise DataError(
                "a SummaryData frame has a 'geo' column but geo_column_present is False; set it to True "
                "or rename the column"
            )
        if not pd.api.types.is_datetime64_any_dtype(self.frame["date"]):
            raise DataError(f"SummaryData column 'date' must be datetime64, not {self.frame['date'].dtype}")
        object.__setattr__(self, "notices", tuple(self.notices))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SummaryData):
            return NotImplemented
        return (
            self.cadence == other.cadence
            and self.geo_column_present == other.geo_column_present
            and self.notices == other.notices
            and list(self.frame.columns) == list(other.frame.columns)
            and list(self.frame.dtypes) == list(other.frame.dtypes)
            and self.frame.reset_index(drop=True).equals(other.frame.reset_index(drop=True))
        )

    __hash__ = None  # holds a DataFrame: not hashable

    @property
    def key_columns(self) -> list[str]:
        return ["date", "geo"] if self.geo_column_present else ["date"]

    @property
    def metric_columns(self) -> list[str]:
        return [c for c in self.frame.columns if c not in self.key_columns]

    @property
    def numeric_columns(self) -> list[str]:
        return [c for c in self.metric_columns if pd.api.types.is_numeric_dtype(self.frame[c])]

    @property
    def text_columns(self) -> list[str]:
        return [c for c in self.metric_columns if c not in self.numeric_columns]

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.frame["date"].drop_duplicates().sort_values(), name="date")

    @property
    def geos(self) -> list[str]:
        return list(pd.unique(self.frame["geo"])) if self.geo_column_present else []

    def between(self, start=None, end=None) -> SummaryData:
        """The rows dated from start to end inclusive (either may be None for open-ended)."""
        start = None if start is None else pd.Timestamp(start)
        end = None if end is None else pd.Timestamp(end)
        if start is not None and end is not None and start > end:
            raise DataError(f"window start {iso(start)} is after its end {iso(end)}; swap them")
        mask = pd.Series(True, index=self.frame.index)
        if start is not None:
            mask &= self.frame["date"] >= start
        if end is not None:
            mask &= self.frame["date"] <= end
        return SummaryData(
            self.frame[mask].reset_index(drop=True), self.cadence, self.geo_column_present, self.notices
        )

    def national(self, *, average: Iterable[str] = ()) -> SummaryData:
        """One row per date: numeric columns summed over geos (those in `average` averaged instead).

        A missing value in any geo leaves the national value missing, so gaps are not hidden by
        the sum. Text columns are kept when every geo agrees on each date, else dropped with a notice.
        """
        if not self.geo_column_present:
            return self
        average = list(average)
        unknown = [c for c in average if c not in self.numeric_columns]
        if unknown:
            raise DataError(
                f"cannot average {column_list(unknown)}: not numeric columns of this data set; "
                f"numeric columns are {column_list(self.numeric_columns)}"
            )
        grouped = self.frame.groupby("date", sort=True)
        parts = []
        summed = [c for c in self.numeric_columns if c not in average]
        if summed:
            parts.append(grouped[summed].sum(skipna=False))
        if average:
            parts.append(grouped[average].mean(skipna=False))
        notices = list(self.notices)
        for column in self.text_columns:
            levels = grouped[column].nunique(dropna=False)
            if (levels <= 1).all():
                parts.append(grouped[column].first())
            else:
                notices.append(
                    f"dropped text column {quoted(column)} from the national series: geos differ on "
                    f"{count(int((levels > 1).sum()), 'date')}"
                )
        notices.append(f"summed {len(self.geos)} geos into one national series")
        wide = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=grouped.size().index)
        keep = [c for c in self.metric_columns if c in wide.columns]
        frame = wide[keep].reset_index()
        frame["date"] = frame["date"].astype("datetime64[ns]")
        return SummaryData(frame, self.cadence, False, tuple(notices))
