"""Path tables: journeys as channel sequences with their conversion, non-conversion and value counts.

A `PathTable` stores every path flat (one code per touch, plus offsets), so that the models can
work on millions of journeys with array operations instead of Python loops over tuples.
Rows need not be unique: a row per journey and a row per aggregated path give the same results.
"""
from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mediamix.errors import DataError


class AttributionWarning(UserWarning):
    """Input accepted, but a result will be less complete than the user may expect."""


NO_NULLS_WARNING = (
    "path table has no nulls (non-conversion) column: every path is treated as converting only, "
    "so Markov and Shapley results ignore non-converting journeys; add a nulls column "
    "(e.g. 'nulls' or 'total_null') to include them"
)

# Known spellings, first match wins; ChannelAttribution's and common export names included.
PATH_COLUMNS = ("path", "paths", "journey", "channel_path", "channels", "touchpoints")
CONVERSION_COLUMNS = ("conversions", "total_conversions", "conversion", "conv", "converters", "n_conversions")
NULL_COLUMNS = ("nulls", "total_null", "total_nulls", "null", "non_conversions", "non_converting",
                "non_converters", "n_nulls")
VALUE_COLUMNS = ("value", "total_conversion_value", "conversion_value", "revenue", "total_value")


@dataclass(frozen=True, eq=False)
class PathTable:
    """Paths over `channels`; path i is `codes[offsets[i]:offsets[i+1]]` (indices into channels)."""

    channels: tuple[str, ...]
    codes: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    nulls: np.ndarray
    value: np.ndarray
    has_nulls: bool = True
    has_value: bool = True
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if len(self.offsets) != len(self.conversions) + 1:
            raise ValueError("offsets must have one more entry than there are paths")
        if len(self.conversions) == 0:
            raise DataError("path table is empty: it has no paths; supply at least one path row")

    def __repr__(self) -> str:
        return (f"PathTable({self.n_paths} paths, {len(self.codes)} touches, channels={list(self.channels)}, "
                f"conversions={self.total_conversions:g}, nulls={float(self.nulls.sum()):g})")

    # ---- construction -------------------------------------------------------------------

    @classmethod
    def from_paths(cls, paths, conversions, nulls=None, value=None) -> "PathTable":
        """Build from an iterable of channel-name sequences (tuples, lists or 'a > b' strings)."""
        paths = [tuple(_split_path(p, row)) if isinstance(p, str) else tuple(p) for row, p in enumerate(paths)]
        frame = pd.DataFrame({"path": [" > ".join(p) for p in paths], "conversions": conversions})
        if nulls is not None:
            frame["nulls"] = nulls
        if value is not None:
            frame["value"] = value
        return cls.from_frame(frame)

    @classmethod
    def from_csv(cls, source: str | Path, *, delimiter: str | None = None, **columns) -> "PathTable":
        """Read an aggregated path table; the delimiter (, ; tab |) is sniffed from the header."""
        source = Path(source)
        if not source.is_file():
            raise DataError(f"path table file '{source}' does not exist; check the path")
        text = source.read_text(encoding="utf-8-sig")
        if not text.strip():
            raise DataError(f"path table file '{source}' is empty; supply a header and path rows")
        sep = delimiter or sniff_delimiter(text.splitlines()[0])
        frame = pd.read_csv(io.StringIO(text), sep=sep)
        return cls.from_frame(frame, **columns)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, path: str | None = None, conversions: str | None = None,
                   nulls: str | None = None, value: str | None = None, separator: str = ">") -> "PathTable":
        """Build from an aggregated path frame; column names are auto-detected unless given."""
        if len(frame) == 0:
            raise DataError("path table is empty: it has no rows; supply at least one path row")
        path_col = _pick_column(frame, path, PATH_COLUMNS, "path", required=True)
        conv_col = _pick_column(frame, conversions, CONVERSION_COLUMNS, "conversions", required=True)
        null_col = _pick_column(frame, nulls, NULL_COLUMNS, "nulls", required=False)
        value_col = _pick_column(frame, value, VALUE_COLUMNS, "value", required=False)

        names, lengths = _parse_path_column(frame[path_col], separator, path_col)
        conv = _count_column(frame, conv_col)
        notes = []
        if null_col is None:
            notes.append(NO_NULLS_WARNING)
            warnings.warn(NO_NULLS_WARNING, AttributionWarning, stacklevel=2)
            null = np.zeros(len(frame))
        else:
            null = _count_column(frame, null_col)
        val = _count_column(frame, value_col, kind="value") if value_col else np.zeros(len(frame))

        channels, codes = np.unique(names, return_inverse=True)
        offsets = np.zeros(len(frame) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return cls(tuple(str(c) for c in channels), codes.astype(np.int32), offsets, conv, null, val,
                   has_nulls=null_col is not None, has_value=value_col is not None, warnings=tuple(notes))

    # ---- views ----------------------------------------------------------------------------

    @property
    def n_paths(self) -> int:
        return len(self.conversions)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def paths(self) -> list[tuple[str, ...]]:
        names = np.asarray(self.channels, dtype=object)[self.codes]
        return [tuple(names[a:b]) for a, b in zip(self.offsets[:-1], self.offsets[1:])]

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        return float(self.value.sum())

    def path_index(self) -> np.ndarray:
        """For each touch, the row of the path it belongs to."""
        return np.repeat(np.arange(self.n_paths), self.lengths)

    def positions(self) -> np.ndarray:
        """For each touch, its 0-based position within its path."""
        return np.arange(len(self.codes)) - np.repeat(self.offsets[:-1], self.lengths)

    def path_strings(self, separator: str = " > ") -> list[str]:
        return [separator.join(p) for p in self.paths]

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame({"path": self.path_strings(), "conversions": self.conversions, "nulls": self.nulls})
        if self.has_value:
            frame["value"] = self.value
        return frame

    # ---- transformations --------------------------------------------------------------------

    def _with(self, keep_touch: np.ndarray | None = None, keep_path: np.ndarray | None = None) -> "PathTable":
        codes, offsets = self.codes, self.offsets
        conv, null, val = self.conversions, self.nulls, self.value
        if keep_touch is not None:
            counts = np.bincount(self.path_index()[keep_touch], minlength=self.n_paths)
            codes = codes[keep_touch]
            offsets = np.zeros(self.n_paths + 1, dtype=np.int64)
            np.cumsum(counts, out=offsets[1:])
        if keep_path is not None:
            lengths = np.diff(offsets)
            codes = codes[np.repeat(keep_path, lengths)]
            offsets = np.zeros(int(keep_path.sum()) + 1, dtype=np.int64)
            np.cumsum(lengths[keep_path], out=offsets[1:])
            conv, null, val = conv[keep_path], null[keep_path], val[keep_path]
        return PathTable(self.channels, codes, offsets, conv, null, val, self.has_nulls, self.has_value,
                         self.warnings)

    def select_paths(self, keep: np.ndarray) -> "PathTable":
        """The rows where `keep` is true."""
        return self._with(keep_path=np.asarray(keep, dtype=bool))

    def collapse_repeats(self) -> "PathTable":
        """Merge back-to-back repeats of a channel ('a > a > b' -> 'a > b')."""
        keep = np.ones(len(self.codes), dtype=bool)
        keep[1:] = self.codes[1:] != self.codes[:-1]
        keep[self.offsets[:-1][self.lengths > 0]] = True  # a path's first touch always stays
        return self._with(keep_touch=keep)

    def nonempty(self) -> "PathTable":
        """Drop rows whose path has no touch (they carry no channel to credit)."""
        keep = self.lengths > 0
        return self if keep.all() else self.select_paths(keep)

    def aggregate(self) -> pd.DataFrame:
        """Identical paths merged: path, conversions, nulls, value, journeys, sorted by conversions."""
        width = 1 if len(self.channels) < 256 else 2 if len(self.channels) < 65536 else 4
        raw = self.codes.astype(f"u{width}").tobytes()
        starts, ends = self.offsets[:-1] * width, self.offsets[1:] * width
        keys = [raw[a:b] for a, b in zip(starts.tolist(), ends.tolist())]
        uniq, inverse = np.unique(np.array(keys, dtype=object), return_inverse=True)
        first = np.zeros(len(uniq), dtype=np.int64)
        first[inverse[::-1]] = np.arange(self.n_paths)[::-1]  # a representative row per unique path
        sums = {c: np.bincount(inverse, getattr(self, c), minlength=len(uniq))
                for c in ("conversions", "nulls", "value")}
        names = np.asarray(self.channels, dtype=object)
        paths = [" > ".join(names[self.codes[self.offsets[i]:self.offsets[i + 1]]]) for i in first]
        out = pd.DataFrame({"path": paths, **sums})
        out["journeys"] = out["conversions"] + out["nulls"]
        return out.sort_values(["conversions", "path"], ascending=[False, True], ignore_index=True)


def as_path_table(data) -> PathTable:
    """Accept a PathTable or anything carrying one (e.g. Journeys)."""
    if isinstance(data, PathTable):
        return data
    table = getattr(data, "paths", None)
    if isinstance(table, PathTable):
        return table
    raise TypeError(f"expected a PathTable or Journeys, got {type(data).__name__}")


def sniff_delimiter(header: str) -> str:
    """The delimiter that splits the header into the most fields (paths themselves use '>')."""
    counts = {d: len(next(csv.reader([header], delimiter=d))) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    if counts[best] < 2:
        raise DataError(f"cannot tell the delimiter of header '{header[:80]}': expected columns such as "
                        "path, conversions, nulls separated by , ; tab or |")
    return best


def pick_column(frame, given, candidates, role, required=True, *, table="path table", hint=None):
    """The column playing `role`: the one given, else the first of `candidates` (any case).
    Shared by path tables and event tables so both name a missing column the same way."""
    if given is not None:
        if given not in frame.columns:
            raise DataError(f"{role} column '{given}' is not in the {table}; columns are {list(frame.columns)}")
        return given
    lower = {str(c).strip().lower(): c for c in frame.columns}
    for name in candidates:
        if name in lower:
            return lower[name]
    if required:
        raise DataError(f"{table} has no {role} column; columns are {list(frame.columns)}; "
                        f"name one of {list(candidates)} or {hint or f'pass {role}=<column>'}")
    return None


def _pick_column(frame, given, candidates, role, required):
    return pick_column(frame, given, candidates, role, required, hint=f"pass {role}='<column>'")


def _split_path(text: str, row: int, separator: str = ">") -> list[str]:
    parts = [p.strip() for p in text.split(separator)]
    if not text.strip() or any(p == "" for p in parts):
        raise DataError(f"path in data row {row + 1} is malformed: '{text}'; write channels joined by "
                        f"'{separator}', e.g. 'search > email', with no empty channel")
    return parts


def _parse_path_column(column: pd.Series, separator: str, name: str):
    """Split every path string; returns (channel names per touch, path lengths)."""
    missing = column.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DataError(f"{name} column is empty in {int(missing.sum())} rows (first: data row {row + 1}); "
                        "fill or drop those rows")
    text = column.astype(str)
    pieces = text.str.split(separator, regex=False)
    lengths = pieces.str.len().to_numpy(dtype=np.int64)
    flat = pieces.explode().str.strip()
    bad = (flat == "").to_numpy()
    if bad.any():
        row = int(np.repeat(np.arange(len(text)), lengths)[np.flatnonzero(bad)[0]])
        _split_path(text.iloc[row], row, separator)  # raises with the row and text
    return flat.to_numpy(dtype=object), lengths


def _count_column(frame, col, kind="count") -> np.ndarray:
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"column '{col}' has {int(bad.sum())} non-numeric or missing values "
                        f"(first: data row {row + 1}, '{frame[col].iloc[row]}'); supply numbers")
    neg = values < 0
    if neg.any():
        row = int(np.flatnonzero(neg)[0])
        what = "counts" if kind == "count" else "values"
        raise DataError(f"column '{col}' has {int(neg.sum())} negative {what} (first: data row {row + 1}, "
                        f"{values[row]:g}); {kind} must be >= 0")
    return values
