"""Insights as data files: a CSV per table, one Excel workbook, and the Vega-Lite specs.

Data comes first: anything the report shows can be re-plotted or audited from these files.
CSV dates are ISO (YYYY-MM-DD), there is no index column, and floats are written at full
precision so a CSV reads back to the same values.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from mediamix.insights.report import InsightTables

WORKBOOK_NAME = "insights.xlsx"
VEGA_FOLDER = "vega"
DATE_FORMAT = "%Y-%m-%d"
# Tables in the order a reader meets them in the report; these are the CSV and sheet names.
TABLE_NAMES = ("model", "channels", "contributions", "response_curves", "curve_markers",
               "adstock", "fit", "fit_metrics", "diagnostics", "diagnostics_parameters")
GEO_TABLE = "geo_channels"     # geo models only, after "channels"
# Tables only some models have, each placed after the table named beside it.
OPTIONAL_TABLES = (("geo_channels", "channels"),      # geo models
                   ("lift_tests", "geo_channels"),    # models with lift tests (after channels if national)
                   ("effectiveness", "curve_markers"))  # models with time-varying channels


def model_table(tables: InsightTables) -> pd.DataFrame:
    """The model dict as two columns (field, value); lists joined so one reason is one line."""
    rows = []
    for key, value in tables.model.items():
        if isinstance(value, (list, tuple)):
            value = "; ".join(str(v) for v in value)
        elif isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
            value = value.isoformat()
        rows.append({"field": key, "value": "" if value is None else str(value)})
    return pd.DataFrame(rows, columns=["field", "value"])


def diagnostics_table(tables: InsightTables) -> pd.DataFrame:
    """Scalar diagnostics and thresholds as (metric, value, threshold) rows."""
    d = tables.diagnostics
    thresholds = d.get("thresholds") or {}
    rows = [{"metric": key, "value": "; ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else value,
             "threshold": thresholds.get(key)}
            for key, value in d.items() if key not in ("parameters", "thresholds")]
    listed = {r["metric"] for r in rows}
    rows += [{"metric": f"threshold {key}", "value": None, "threshold": value}
             for key, value in thresholds.items() if key not in listed]
    return pd.DataFrame(rows, columns=["metric", "value", "threshold"])


def table_frames(tables: InsightTables) -> dict[str, pd.DataFrame]:
    """Every table as a DataFrame, keyed by TABLE_NAMES, plus the OPTIONAL_TABLES the model has
    (geo_channels for a geo model, lift_tests, effectiveness)."""
    params = tables.diagnostics.get("parameters")
    if params is None:
        params = pd.DataFrame(columns=["name", "mean", "sd", "p05", "p95", "r_hat", "ess_bulk"])
    frames = {
        "model": model_table(tables),
        "channels": tables.channels,
        "contributions": tables.contributions,
        "response_curves": tables.response_curves,
        "curve_markers": tables.curve_markers,
        "adstock": tables.adstock,
        "fit": tables.fit,
        "fit_metrics": tables.fit_metrics,
        "diagnostics": diagnostics_table(tables),
        "diagnostics_parameters": params,
    }
    names = list(TABLE_NAMES)
    for name, after in OPTIONAL_TABLES:
        frame = getattr(tables, name)
        if frame is None:
            continue
        frames[name] = frame
        if after not in names:
            after = "channels"
        names.insert(names.index(after) + 1, name)
    return {name: frames[name].reset_index(drop=True) for name in names}


def write_tables(tables: InsightTables, folder) -> dict[str, Path]:
    """Write `<name>.csv` per table, `insights.xlsx`, and `vega/<chart>.json` into `folder`.

    Returns name -> path: table names for CSVs, "xlsx" for the workbook, "vega/<chart>" for specs.
    """
    from mediamix.insights.charts import vega_lite_specs

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frames = table_frames(tables)
    written: dict[str, Path] = {}
    for name, frame in frames.items():
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False, date_format=DATE_FORMAT)
        written[name] = path
    written["xlsx"] = write_workbook(frames, folder / WORKBOOK_NAME)
    vega_folder = folder / VEGA_FOLDER
    vega_folder.mkdir(exist_ok=True)
    for key, spec in vega_lite_specs(tables).items():
        path = vega_folder / f"{key}.json"
        # allow_nan=False: NaN is not JSON, and a browser's JSON.parse would reject the file
        path.write_text(json.dumps(spec, indent=1, allow_nan=False, ensure_ascii=False),
                        encoding="utf-8")
        written[f"vega/{key}"] = path
    return written


def write_workbook(frames: dict[str, pd.DataFrame], path: Path) -> Path:
    """One sheet per table, header row frozen, dates shown as YYYY-MM-DD, columns sized to fit."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            sheet.freeze_panes = "A2"
            for i, column in enumerate(frame.columns, start=1):
                letter = sheet.cell(row=1, column=i).column_letter
                if pd.api.types.is_datetime64_any_dtype(frame[column]):
                    # real Excel dates (sortable, filterable), shown without a time of day
                    for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                        cell.number_format = "YYYY-MM-DD"
                    width = 10
                else:
                    width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
                sheet.column_dimensions[letter].width = min(40, max(8, width + 2))
    return path
