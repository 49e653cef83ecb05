"""Column hygiene before harmonizing: header names, leftover index columns, one dtype per metric."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mediamix.data.messages import count, quoted
from mediamix.errors import DataError

_UNNAMED = re.compile(r"^Unnamed: \d+$")
# "1,234.50", "$1,234", "-12.5": exports often format money; anything else stays text.
_FORMATTED_NUMBER = re.compile(r"^[-+]?[$€£]?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def clean_names(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Header names as stripped strings; duplicates refused (they would be silently renamed)."""
    notices = []
    names = []
    for column in df.columns:
        name = str(column).strip()
        if name != str(column):
            notices.append(f"renamed column {quoted(column)} to {quoted(name)} (spaces removed)")
        names.append(name)
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    repeated = [f"{quoted(n)} ({k} times)" for n, k in seen.items() if k > 1]
    if repeated:
        raise DataError(
            f"the header repeats column names: {', '.join(repeated)}; give each column its own name"
        )
    return df.set_axis(names, axis=1), notices  # copy-on-write: the values are not copied


def drop_leftover_index(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Drop columns a spreadsheet or `to_csv(index=True)` leaves without a header.

    A nameless first column of unique integers is a saved row index; a nameless empty column comes
    from a trailing delimiter. A nameless column with other values is data and must be named.
    """
    notices = []
    drop = []
    for position, column in enumerate(df.columns):
        if not (column == "" or _UNNAMED.match(column)):
            continue
        values = df[column]
        if values.isna().all():
            drop.append(column)
            notices.append(f"dropped empty column {quoted(column)} (it has no header and no values)")
        elif position == 0 and _is_row_index(values):
            drop.append(column)
            notices.append(f"dropped column {quoted(column)} (a saved row index)")
        else:
            raise DataError(
                f"column {quoted(column)} (position {position + 1}) has no header name but holds values; "
                "name it in the file, or remove it"
            )
    return df.drop(columns=drop), notices


def _is_row_index(values: pd.Series) -> bool:
    if not pd.api.types.is_integer_dtype(values):
        return False
    return values.is_unique and values.is_monotonic_increasing


def as_metric(values: pd.Series, column: str) -> pd.Series:
    """A metric column as float64, or as text for categorical columns (event names, flags)."""
    if pd.api.types.is_complex_dtype(values):
        raise DataError(f"column {quoted(column)} holds complex numbers; supply real numbers")
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d %H:%M:%S").astype("str")
    text = values.astype("str").str.strip()
    text = text.where(values.notna() & (text != ""), np.nan)
    present = text.dropna()
    if present.empty:
        return pd.Series(np.nan, index=values.index, dtype="float64")
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all():
        return pd.to_numeric(text, errors="coerce").astype("float64")
    if present.str.match(_FORMATTED_NUMBER).all():
        stripped = text.str.replace(r"[,$€£\s]", "", regex=True)
        return pd.to_numeric(stripped, errors="coerce").astype("float64")
    if numbers.isna().all():
        return text.astype("str")
    # Mostly numbers with a few words ("n/a", "-", "tbd"): refusing beats guessing either way.
    bad = present[numbers.isna()]
    row = int(bad.index[0]) + 1 if isinstance(bad.index[0], (int, np.integer)) else bad.index[0]
    decimal_comma = bad[bad.str.match(r"^[-+]?\d+,\d{1,2}$|^[-+]?\d+,\d{4,}$")]
    if len(decimal_comma):
        # "1,5" is one and a half in much of Europe, never a thousands separator: do not guess.
        raise DataError(
            f"column {quoted(column)} has {quoted(decimal_comma.iloc[0])}, which looks like a decimal comma; "
            "write decimals with '.' (1.5), or save the file with ';' between columns, which mediamix reads "
            "with decimal commas")
    raise DataError(
        f"column {quoted(column)} mixes numbers and text: {quoted(bad.iloc[0])} in data row {row} "
        f"({count(len(bad), 'text value')} among {count(int(numbers.notna().sum()), 'number')}); leave missing values empty "
        "or fix the export"
    )
