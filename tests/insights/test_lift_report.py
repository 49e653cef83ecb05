"""Lift tests in the insights report, and the channel table's volume column.

A tiny model (two always-on channels, Laplace draws) is trained with one lift test on
`search`. The report's "Lift tests" table must show, for the model, the channel's posterior
contribution summed over the periods starting in the test's dates, which this file computes
on its own from the posterior draws and the raw spend column in closed form:

    x_t      = sum_l w_l * spend_{t-l} / spend_scale,  w_l = decay^l / sum_k decay^k  (l < lags)
    hill_t   = x_t^slope / (x_t^slope + half^slope)
    contrib  = sum_{t in test} beta * hill_t * y_scale        (one number per draw)

then its mean and 5th/95th percentiles. The same fit has a touchpoint without a volume column:
its volume is blank in the HTML ("—") and an empty cell in channels.csv, while the other's is
the sum of its impressions over the training window.
"""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from mediamix.data.simulate import DEMO_CHANNELS, SimulationSpec, simulate
from mediamix.insights.report import DASH, format_money, render_report
from mediamix.model.spec import ModelSpec
from mediamix.workspace import Workspace
from tests.insights.test_report import channel_table_cells, make_tables, parse

START, END = "2023-03-06", "2023-04-24"          # 8 weekly periods (the simulated weeks start on Mondays)
LOOKBACK = 4


# What the insight tests' small fits share: two always-on channels, price and holidays, Laplace.
SMALL_WORLD = {"data": "sim", "conversion": "revenue",
               "factors": [{"column": "price", "impact": "negative"}, {"column": "holiday", "impact": "positive"}],
               "lookback_weeks": LOOKBACK, "holdout_weeks": 8, "seasonality_order": 1}


def small_world(seed: int):
    return simulate(SimulationSpec(weeks=104, channels=DEMO_CHANNELS[1:3], seed=seed))   # search, social


def train_and_report(folder, sim, **spec_fields) -> dict:
    """Load `sim`, create SMALL_WORLD + spec_fields, train it and write its insights."""
    csv = folder / "sim.csv"
    sim.frame.to_csv(csv, index=False)
    spec = ModelSpec.from_dict({**SMALL_WORLD, **spec_fields})
    ws = Workspace.init(folder / "ws")
    ws.load_data(csv, "sim")
    ws.create_model(spec)
    ws.train(spec.name, progress=False)
    report = ws.insights(spec.name, folder / "insights")
    return {"ws": ws, "frame": sim.frame, "report": report, "fitted": ws.fitted(spec.name)}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    sim = small_world(5)
    c = sim.components
    true = float(c.loc[(c["date"] >= START) & (c["date"] <= END), "search"].sum())
    lift = {"touchpoint": "search", "start": START, "end": END, "incremental": round(0.9 * true, 2),
            "standard_error": round(0.1 * true, 2), "source": "geo experiment"}
    out = train_and_report(
        tmp_path_factory.mktemp("lift-report"), sim, name="lift-report",
        touchpoints=[{"name": "search", "spend": "search_spend", "volume": "search_impressions"},
                     {"name": "social", "spend": "social_spend"}],                # no volume column
        lift_tests=[lift], sampler={"chains": 2, "draws": 200, "seed": 1, "method": "laplace"})
    return {**out, "lift": lift}


def closed_form_response(fitted, frame: pd.DataFrame, channel: str) -> tuple[np.ndarray, np.ndarray]:
    """beta (draw,) and the saturated carried-over spend hill (draw, time) of a geometric + Hill
    channel over the frame's rows, from the posterior draws and the raw spend column alone."""
    sc = fitted.scaling
    channels = list(fitted.spec.channel_names)
    j = channels.index(channel)
    draws = fitted.draws()
    decay, half, slope, beta = (np.asarray(draws[k], np.float64)[:, j] for k in ("decay", "half", "slope", "beta"))
    n_lags = int(sc.n_lags)
    assert n_lags == LOOKBACK                                      # weekly data: one lag per week
    spend = frame[f"{channel}_spend"].to_numpy(np.float64) / float(np.ravel(sc.spend_scales(channels))[j])
    lags = np.arange(n_lags)
    weights = decay[:, None] ** lags[None, :]
    weights /= weights.sum(axis=1, keepdims=True)                  # (draw, lag)
    shifted = np.stack([np.r_[np.zeros(l), spend[:len(spend) - l]] for l in lags])   # (lag, time)
    x = weights @ shifted                                          # (draw, time)
    with np.errstate(divide="ignore"):
        hill = np.where(x > 0, x ** slope[:, None] / (x ** slope[:, None] + half[:, None] ** slope[:, None]), 0.0)
    return beta, hill


def independent_lift(trained) -> np.ndarray:
    """The channel's contribution over the test's periods per draw, from the draws in closed form."""
    fitted, frame = trained["fitted"], trained["frame"]
    beta, hill = closed_form_response(fitted, frame, "search")
    dates = pd.to_datetime(frame["date"])
    rows = ((dates >= START) & (dates <= END)).to_numpy()
    assert rows.sum() == 8
    return (beta[:, None] * hill[:, rows]).sum(axis=1) * float(fitted.scaling.y_scale)


def lift_table_cells(doc) -> dict[str, tuple[str, str]]:
    section = doc.find_all("section", id="lift-tests")[0]
    table = section.find_all("table", class_="lift-tests")[0]
    header = [th.text() for th in table.find_all("thead")[0].find_all("th")]
    (tr,) = table.find_all("tbody")[0].find_all("tr")
    cells = [c for c in tr.children if not isinstance(c, str)]
    out = {header[0]: (cells[0].text(), "")}
    for h, td in zip(header[1:], cells[1:]):
        ci = td.find_all("span", class_="ci")
        out[h] = (td.find_all("span", class_="v")[0].text(), ci[0].text() if ci else "")
    return out


@pytest.mark.slow
def test_lift_table_model_column_is_the_posterior_contribution_over_the_test(trained):
    per_draw = independent_lift(trained)
    mean, p05, p95 = per_draw.mean(), np.quantile(per_draw, 0.05), np.quantile(per_draw, 0.95)
    lift = trained["lift"]
    folder = trained["report"].parent
    table = pd.read_csv(folder / "lift_tests.csv")
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["touchpoint"], row["start"], row["end"], row["periods"]) == ("search", START, END, 8)
    assert row["incremental"] == pytest.approx(lift["incremental"]) and \
        row["standard_error"] == pytest.approx(lift["standard_error"])
    # float32 in the model, float64 here: agreement to ~1e-6 relative
    assert row["model_mean"] == pytest.approx(mean, rel=1e-4)
    assert row["model_p05"] == pytest.approx(p05, rel=1e-4)
    assert row["model_p95"] == pytest.approx(p95, rel=1e-4)
    assert row["difference"] == pytest.approx(mean - lift["incremental"], rel=1e-3, abs=1.0)
    assert row["difference_se"] == pytest.approx((mean - lift["incremental"]) / lift["standard_error"], abs=1e-3)

    doc = parse(trained["report"].read_text(encoding="utf-8"))
    cells = lift_table_cells(doc)
    assert cells["Touchpoint"][0] == "search"
    assert cells["Test periods"] == (f"{START} to {END}", "8 periods")
    assert cells["Measured (USD)"][0] == (f"{format_money(lift['incremental'], 'USD')} \u00b1 "
                                          f"{format_money(lift['standard_error'], 'USD')}")
    assert "geo experiment" in cells["Measured (USD)"][1]
    assert cells["Model (USD)"] == (format_money(mean, "USD"),
                                    f"{format_money(p05, 'USD')} \u2013 {format_money(p95, 'USD')}")
    z = (mean - lift["incremental"]) / lift["standard_error"]
    assert cells["Difference (in test SEs)"][0] == ("+" if z > 0.05 else "") + f"{z:.1f}".replace("-", "\u2212")


@pytest.mark.slow
def test_lift_section_has_a_chart_a_csv_link_and_a_vega_spec(trained):
    folder = trained["report"].parent
    html = trained["report"].read_text(encoding="utf-8")
    doc = parse(html)
    section = doc.find_all("section", id="lift-tests")[0]
    (svg,) = section.find_all("svg")
    assert svg.attrs["id"] == "chart-lift_tests"
    assert "search, 2023-03-06 to 2023-04-24" in svg.text()
    links = [a.attrs["href"] for a in section.find_all("a")]
    assert links == ["lift_tests.csv"] and (folder / "lift_tests.csv").is_file()
    assert any(a.attrs.get("href") == "#lift-tests" for a in doc.find_all("nav")[0].find_all("a"))
    spec = json.loads((folder / "vega" / "lift_tests.json").read_text())
    values = {v["estimate"]: v for v in spec["data"]["values"]}
    row = pd.read_csv(folder / "lift_tests.csv").iloc[0]
    assert values["Model"]["value"] == pytest.approx(row["model_mean"])
    assert values["Measured"]["lo"] == pytest.approx(row["incremental"] - 1.6448536 * row["standard_error"])
    # the workbook has the sheet too; nothing a user reads carries a numpy repr
    import openpyxl
    assert "lift_tests" in openpyxl.load_workbook(folder / "insights.xlsx", read_only=True).sheetnames
    for path in [trained["report"], *folder.glob("*.csv"), *(folder / "vega").glob("*.json")]:
        assert not re.search(r"np\.\w+\(|float64\(|float32\(", path.read_text(encoding="utf-8")), path.name


@pytest.mark.slow
def test_volume_is_blank_for_a_touchpoint_without_volume_data(trained):
    folder = trained["report"].parent
    frame = trained["frame"]
    fitted = trained["fitted"]
    start, end = pd.Timestamp(fitted.scaling.train_start), pd.Timestamp(fitted.scaling.train_end)
    dates = pd.to_datetime(frame["date"])
    impressions = float(frame.loc[(dates >= start) & (dates <= end), "search_impressions"].sum())
    channels = pd.read_csv(folder / "channels.csv", keep_default_na=False).set_index("channel")
    assert channels.loc["social", "volume"] == ""                      # an empty cell, not 0
    assert float(channels.loc["search", "volume"]) == pytest.approx(impressions)
    cells = channel_table_cells(parse(trained["report"].read_text(encoding="utf-8")))
    assert cells["social"]["Volume"] == (DASH, "")
    assert cells["search"]["Volume"][0] == f"{impressions:,.0f}"


def test_no_lift_section_or_csv_without_lift_tests(tmp_path):
    path = render_report(make_tables("revenue"), tmp_path / "report.html")
    doc = parse(path.read_text(encoding="utf-8"))
    assert not doc.find_all(id="lift-tests") and not doc.find_all(id="chart-lift_tests")
    assert not (tmp_path / "lift_tests.csv").exists() and not (tmp_path / "vega" / "lift_tests.json").exists()
    assert "Lift tests" not in doc.find_all("nav")[0].text()
