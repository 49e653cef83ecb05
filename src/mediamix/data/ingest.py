"""Reading summary files and harmonizing them into SummaryData (dates, geo, typed metrics)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from mediamix.data.cadence import Cadence, detect_cadence, is_generic, parse_frequency
from mediamix.data.columns import clean_names, drop_leftover_index
from mediamix.data.dates import find_date_column, to_dates
from mediamix.data.layout import long_columns, long_to_wide, resolve_layout, wide_metrics
from mediamix.data.messages import column_list, count, quoted, suggestion
from mediamix.data.summary import SummaryData
from mediamix.data.timeline import complete_timeline, refuse_duplicates
from mediamix.errors import DataError

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
DELIMITERS = (",", ";", "\t")
GEO_NAMES = ("geo", "region", "market", "country", "dma", "state", "geo_id", "geo_name")
_SNIFF_BYTES = 64 * 1024


def read_table(path) -> pd.DataFrame:
    """A CSV (delimiter , ; or tab, sniffed) or Parquet file as a DataFrame, with clear errors."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"file {quoted(str(path))} does not exist; check the path")
    if path.is_dir():
        raise DataError(f"{quoted(str(path))} is a folder, not a file; name a CSV or Parquet file")
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise DataError(
            f"file {quoted(path.name)} has extension {quoted(suffix or '(none)')}; mediamix reads CSV "
            f"({', '.join(CSV_SUFFIXES)}) and Parquet ({', '.join(PARQUET_SUFFIXES)}) files"
        )
    if path.stat().st_size == 0:
        raise DataError(f"file {quoted(str(path))} is empty; export the data again")
    df = _read_parquet(path) if suffix in PARQUET_SUFFIXES else _read_csv(path)
    if df.empty:
        raise DataError(f"file {quoted(str(path))} has a header but no data rows; export the data again")
    return df


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types; the user needs only "cannot read"
        raise DataError(f"file {quoted(str(path))} is not a readable Parquet file ({exc})") from None


def _read_csv(path: Path) -> pd.DataFrame:
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            with path.open(encoding=encoding, newline="") as handle:
                head = handle.read(_SNIFF_BYTES)
            break
        except UnicodeDecodeError:
            continue
    if not head.strip():
        raise DataError(f"file {quoted(str(path))} holds only blank lines; export the data again")
    delimiter = _sniff_delimiter(head)
    _refuse_repeated_header(head, delimiter, path)
    try:
        return pd.read_csv(
            path,
            sep=delimiter,
            encoding=encoding,
            # semicolon files come from locales that write decimals with a comma
            decimal="," if delimiter == ";" else ".",
            # Only an empty cell is missing: "n/a" or "null" in a spend column must be reported,
            # not silently read as NaN.
            keep_default_na=False, na_values=[""],
            # One pass over each column: chunked type guessing makes a column mixed (and warns) when,
            # e.g., a long run of conversion rows leaves an event file's channel empty.
            low_memory=False,
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"file {quoted(str(path))} is empty; export the data again") from None
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(
            f"file {quoted(str(path))} is not a readable CSV: {str(exc).strip()}; check that every "
            "row has as many fields as the header"
        ) from None


def _sniff_delimiter(head: str) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of fields, most fields wins."""
    lines = [line for line in head.splitlines()[:20] if line.strip()]
    if len(lines) > 1 and not head.endswith("\n"):
        lines = lines[:-1]  # the last line may be cut mid-way by the sniff window
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        widths = {len(row) for row in csv.reader(lines, delimiter=delimiter)}
        if len(widths) == 1 and (width := widths.pop()) > best_fields:
            best, best_fields = delimiter, width
    return best


def _refuse_repeated_header(head: str, delimiter: str, path: Path) -> None:
    # pandas renames a repeated header to "tv.1"; a repeated column is a broken export, so say so.
    header = next(csv.reader(head.splitlines()[:1], delimiter=delimiter), [])
    names = [h.strip() for h in header if h.strip()]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(
            f"file {quoted(path.name)} repeats column names in its header: {column_list(repeated)}; "
            "give each column its own name"
        )


def load_summary(path, **options) -> SummaryData:
    """read_table then harmonize_summary with the same options."""
    return harmonize_summary(read_table(path), **options)


def harmonize_summary(
    df: pd.DataFrame,
    *,
    date_column: str | None = None,
    geo_column: str | None = None,
    layout: str = "auto",
    start_date=None,
    frequency: str | None = None,
    fill: str | None = None,
) -> SummaryData:
    """Turn a wide or long summary table into SummaryData, refusing bad dates with named errors.

    date_column / geo_column: detected by name when not given. layout: "auto", "wide" or "long"
    (date, channel, metric, value -> field f"{channel}_{metric}"). start_date + frequency build
    dates from an integer period column; frequency alone declares the expected cadence.
    fill="zero" adds missing periods (per geo) as zeros and records a notice; otherwise gaps stop.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"harmonize_summary needs a pandas DataFrame, got {type(df).__name__}")
    if df.empty or len(df.columns) == 0:
        raise DataError("the table has no rows; load a file with data")
    notices: list[str] = []
    df, found = clean_names(df.reset_index(drop=True))
    notices += found
    df, found = drop_leftover_index(df)
    notices += found

    date_source = find_date_column(df, date_column)
    if date_column is None and date_source != "date":
        notices.append(f"read dates from column {quoted(date_source)}")
    dates, built, found = to_dates(
        df[date_source], date_source, start_date=start_date, frequency=frequency
    )
    notices += found

    geo_source = _find_geo_column(df, geo_column, exclude=date_source)
    keys = pd.DataFrame({"date": dates.to_numpy()}, index=df.index)
    if geo_source is not None:
        keys["geo"] = _geo_values(df[geo_source], geo_source)
        if geo_column is None and geo_source != "geo":
            notices.append(f"read geos from column {quoted(geo_source)}")

    others = [c for c in df.columns if c not in (date_source, geo_source)]
    if resolve_layout(df, layout) == "long":
        wide = long_to_wide(df, keys, other_columns=others)
        notices.append(
            f"pivoted long rows into {len(wide.columns) - len(keys.columns)} fields named channel_metric"
        )
    else:
        clashes = [c for c in others if c in ("date", "geo")]
        if clashes:
            raise DataError(
                f"column {quoted(clashes[0])} is neither the date nor the geo column but has that name; "
                "rename it, or pass --date-column / --geo-column to use it"
            )
        wide = pd.concat([keys, wide_metrics(df, others)], axis=1)
    if len(wide.columns) == len(keys.columns):
        raise DataError(
            f"the table has no metric columns besides {column_list(keys.columns)}; add spend, volume "
            "or conversion columns"
        )

    wide = wide.sort_values(list(keys.columns), kind="stable").reset_index(drop=True)
    refuse_duplicates(wide, date_source=date_source, geo_source=geo_source)
    cadence = _cadence(wide, built, frequency, date_source)
    wide, found = complete_timeline(
        wide, cadence, date_source=date_source, geo_present=geo_source is not None, fill=fill
    )
    notices += found
    return SummaryData(wide, cadence, geo_source is not None, tuple(notices))


def _find_geo_column(df: pd.DataFrame, given: str | None, *, exclude: str) -> str | None:
    columns = [c for c in df.columns if c != exclude]
    if given is not None:
        if given not in columns:
            raise DataError(
                f"geo column {quoted(given)} is not in the data.{suggestion(given, columns)} "
                f"Columns are: {column_list(columns)}"
            )
        return given
    reserved = set(long_columns(df).values())
    named = [c for c in columns if c.lower() in GEO_NAMES and c not in reserved]
    if len(named) > 1:
        raise DataError(
            f"several columns could be the geo: {column_list(named)}; pass geo_column= to say which"
        )
    return named[0] if named else None


def _geo_values(values: pd.Series, column: str) -> pd.Series:
    if values.isna().any():
        row = int(values.index[values.isna()][0]) + 1
        raise DataError(
            f"geo column {quoted(column)} is empty in {count(int(values.isna().sum()), 'row')} (first: data row "
            f"{row}); every row needs a geo"
        )
    if pd.api.types.is_float_dtype(values) and np.isfinite(values).all() and (values == values.round()).all():
        values = values.astype("int64")  # geo codes like DMA 501 read as 501.0 when a cell is odd
    return values.astype("str").str.strip()


def _cadence(
    wide: pd.DataFrame, built: Cadence | None, frequency: str | None, date_source: str
) -> Cadence:
    """The detected cadence, checked against the one the dates were built with or declared."""
    dates = pd.DatetimeIndex(wide["date"].unique())
    if len(dates) < 2 and (built is not None or frequency is not None):
        cadence = built or parse_frequency(frequency, dates[0] if is_generic(frequency) else None)
        if not cadence.fits(dates[0]):
            raise DataError(
                f"the date {dates[0]:%Y-%m-%d} in column {quoted(date_source)} does not fit the declared "
                f"cadence ({cadence.describe()}); fix the date or the declared frequency"
            )
        return cadence
    detected = detect_cadence(dates, date_source)
    if built is not None:
        agrees, declared = built == detected, built
    elif frequency is not None:
        declared = parse_frequency(frequency)
        # 'week' names no weekday, so only the unit is compared; 'W-FRI' must match exactly
        agrees = declared.unit == detected.unit if is_generic(frequency) else declared == detected
    else:
        return detected
    if not agrees:
        raise DataError(
            f"frequency was declared as {quoted(frequency)} ({declared.describe()}), but the dates in "
            f"column {quoted(date_source)} are {detected.describe()}; fix the dates or the declared frequency"
        )
    return detected
