"""Exports: CSVs read back to the same values, the workbook has a sheet per table, the Vega
specs are valid JSON files."""
from __future__ import annotations

import json
from datetime import datetime

import openpyxl
import pandas as pd
import pytest

from mediamix.insights.export import TABLE_NAMES, WORKBOOK_NAME, write_tables
from tests.insights.test_report import CHART_KEYS, ISSUE_REASONS, make_tables


@pytest.fixture(scope="module", params=["revenue", "count"])
def exported(request, tmp_path_factory):
    tables = make_tables(request.param, status="Training issue", reasons=ISSUE_REASONS)
    folder = tmp_path_factory.mktemp(f"export-{request.param}")
    return tables, folder, write_tables(tables, folder)


def test_writes_a_csv_per_table_a_workbook_and_vega_specs(exported):
    _, folder, files = exported
    assert set(files) == set(TABLE_NAMES) | {"xlsx"} | {f"vega/{k}" for k in CHART_KEYS}
    for name in TABLE_NAMES:
        assert files[name] == folder / f"{name}.csv" and files[name].is_file()
    assert files["xlsx"] == folder / WORKBOOK_NAME
    for key in CHART_KEYS:
        spec = json.loads((folder / "vega" / f"{key}.json").read_text(encoding="utf-8"))
        assert spec["$schema"].endswith("v5.json")


@pytest.mark.parametrize("name", ["channels", "response_curves", "curve_markers", "adstock",
                                  "fit_metrics"])
def test_csv_round_trips_to_the_same_values(exported, name):
    tables, folder, _ = exported
    back = pd.read_csv(folder / f"{name}.csv")
    pd.testing.assert_frame_equal(back, getattr(tables, name).reset_index(drop=True),
                                  check_dtype=False, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["contributions", "fit"])
def test_csv_dates_are_iso_and_round_trip(exported, name):
    tables, folder, _ = exported
    raw = (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()
    assert raw[0].split(",")[0] == "date" and raw[1].startswith("2024-01-01,")
    back = pd.read_csv(folder / f"{name}.csv", parse_dates=["date"])
    expected = getattr(tables, name).reset_index(drop=True)
    pd.testing.assert_frame_equal(back, expected, check_dtype=False, rtol=0, atol=0)
    assert "Unnamed: 0" not in back.columns  # no index column


def test_model_csv_keeps_status_and_every_reason(exported):
    _, folder, _ = exported
    model = pd.read_csv(folder / "model.csv", keep_default_na=False).set_index("field")["value"]
    assert model["status"] == "Training issue"
    assert model["status_reasons"] == "; ".join(ISSUE_REASONS)
    assert model["training_start"] == "2024-01-01"


def test_diagnostics_csvs(exported):
    tables, folder, _ = exported
    diag = pd.read_csv(folder / "diagnostics.csv").set_index("metric")
    assert diag.loc["max_rhat", "value"] == pytest.approx(tables.diagnostics["max_rhat"])
    assert diag.loc["max_rhat", "threshold"] == pytest.approx(1.01)
    assert diag.loc["threshold max_divergences", "threshold"] == 0
    params = pd.read_csv(folder / "diagnostics_parameters.csv")
    assert list(params["name"]) == list(tables.diagnostics["parameters"]["name"])


def test_workbook_has_a_sheet_per_table_with_the_same_values(exported):
    tables, folder, _ = exported
    book = openpyxl.load_workbook(folder / WORKBOOK_NAME)
    assert book.sheetnames == list(TABLE_NAMES)
    sheet = book["channels"]
    header = [c.value for c in sheet[1]]
    assert header == list(tables.channels.columns)
    spend_col = header.index("spend")
    spends = [row[spend_col].value for row in sheet.iter_rows(min_row=2)]
    # Excel keeps 15 significant digits; the CSV is the exact copy
    assert spends == pytest.approx(list(tables.channels["spend"]), rel=1e-14)
    assert sheet.freeze_panes == "A2"
    first_date = book["fit"]["A2"]
    assert isinstance(first_date.value, datetime) and first_date.value.date().isoformat() == "2024-01-01"
    assert first_date.number_format.upper() == "YYYY-MM-DD"
    # NaN cells (no volume for Search) are left empty, not written as text
    volume_col = header.index("volume")
    volumes = [row[volume_col].value for row in sheet.iter_rows(min_row=2)]
    assert volumes[list(tables.channels["channel"]).index("Search")] is None


def test_write_tables_creates_the_folder(tmp_path):
    files = write_tables(make_tables("count"), tmp_path / "a" / "b")
    assert files["channels"].parent == tmp_path / "a" / "b"
