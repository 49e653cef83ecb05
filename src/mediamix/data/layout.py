"""Wide and long summary layouts, both turned into one row per date (and geo), one column per metric."""
from __future__ import annotations

import pandas as pd

from mediamix.data.columns import as_metric
from mediamix.data.messages import column_list, iso, quoted
from mediamix.errors import DataError

LAYOUTS = ("auto", "wide", "long")
LONG_KEYS = ("channel", "metric", "value")


def long_columns(df: pd.DataFrame) -> dict[str, str]:
    """Map 'channel' / 'metric' / 'value' to the frame's own spelling of them (any case)."""
    lowered = {str(c).lower(): str(c) for c in df.columns}
    return {key: lowered[key] for key in LONG_KEYS if key in lowered}


def resolve_layout(df: pd.DataFrame, layout: str) -> str:
    if layout not in LAYOUTS:
        raise DataError(f"layout {quoted(layout)} is not one of 'auto', 'wide', 'long'")
    found = long_columns(df)
    if layout == "auto":
        return "long" if "channel" in found else "wide"
    if layout == "long" and "channel" not in found:
        raise DataError(
            f"layout 'long' needs a 'channel' column (and usually 'metric' and 'value'); columns are "
            f"{column_list(df.columns)}"
        )
    return layout


def wide_metrics(df: pd.DataFrame, metric_columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: as_metric(df[c], c) for c in metric_columns}, index=df.index)


def long_to_wide(
    df: pd.DataFrame, keys: pd.DataFrame, *, other_columns: list[str]
) -> pd.DataFrame:
    """Pivot long rows to one column per field named f"{channel}_{metric}".

    `keys` holds the parsed `date` (and `geo`) per input row. With 'metric' and 'value' columns
    each row is one value; with only 'channel', the remaining columns are the metrics
    (an ad-platform export: date, channel, spend, impressions). A row with no channel names a
    field by its metric alone (e.g. revenue). Repeated (date, geo, channel, metric) rows are refused.
    """
    names = long_columns(df)
    channel = df[names["channel"]]
    if "metric" in names and "value" in names:
        extra = [c for c in other_columns if c not in names.values()]
        if extra:
            raise DataError(
                f"long layout expects columns date, channel, metric, value (and optionally geo); also "
                f"found {column_list(extra)}: aggregate them away, or declare geo_column= if one is a geo"
            )
        metric = df[names["metric"]]
        value = df[names["value"]]
        rows = keys.assign(_channel=channel.to_numpy(), _metric=metric.to_numpy(), _value=value.to_numpy())
    elif "metric" in names or "value" in names:
        raise DataError(
            "long layout needs both a 'metric' and a 'value' column, or neither (then the other columns "
            f"are the metrics); columns are {column_list(df.columns)}"
        )
    else:
        metrics = [c for c in other_columns if c != names["channel"]]
        if not metrics:
            raise DataError("long layout: no metric columns besides date and channel")
        melted = df[metrics].melt(var_name="_metric", value_name="_value", ignore_index=False)
        rows = keys.loc[melted.index].assign(
            _channel=channel.loc[melted.index].to_numpy(),
            _metric=melted["_metric"].to_numpy(),
            _value=melted["_value"].astype(object).to_numpy(),
        )
    rows["_field"] = _field_names(rows)
    clashes = sorted(set(rows["_field"]) & {"date", "geo"})
    if clashes:
        raise DataError(
            f"long layout: a field would be named {quoted(clashes[0])}, which is reserved for the date "
            "and geo columns; rename that metric"
        )
    key_names = list(keys.columns)
    _refuse_repeated_keys(rows, key_names)
    columns = {}
    for field in pd.unique(rows["_field"]):
        part = rows[rows["_field"] == field]
        typed = as_metric(part["_value"], field)
        columns[field] = pd.Series(typed.to_numpy(), index=pd.MultiIndex.from_frame(part[key_names]))
    wide = pd.concat(columns, axis=1)
    for field, series in columns.items():  # outer join turns missing text into object; restore
        wide[field] = wide[field].astype(series.dtype)
    return wide.rename_axis(key_names).reset_index()


def _field_names(rows: pd.DataFrame) -> pd.Series:
    metric = rows["_metric"]
    if metric.isna().any():
        row = int(metric.index[metric.isna()][0]) + 1
        raise DataError(f"long layout: column 'metric' is empty in data row {row}; name the metric")
    metric = metric.astype(str).str.strip()
    channel = rows["_channel"].astype("str").str.strip()
    has_channel = rows["_channel"].notna() & (channel != "")
    return (channel + "_" + metric).where(has_channel, metric)


def _refuse_repeated_keys(rows: pd.DataFrame, key_names: list[str]) -> None:
    counts = rows.groupby(key_names + ["_field"], sort=False).size()
    repeated = counts[counts > 1]
    if repeated.empty:
        return
    items = []
    for key, n in list(repeated.items())[:5]:
        date, *geo, field = key
        where = f" in geo {quoted(geo[0])}" if geo else ""
        items.append(f"field {quoted(field)} has {n} rows for {iso(date)}{where}")
    more = f"; and {len(repeated) - 5} more" if len(repeated) > 5 else ""
    raise DataError(
        f"long layout: {'; '.join(items)}{more}. Each date, channel and metric must occur once"
        f"{' per geo' if len(key_names) > 1 else ''}: aggregate the export first (rows are never summed silently)"
    )
