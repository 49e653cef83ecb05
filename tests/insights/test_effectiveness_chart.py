"""The "Effectiveness over time" chart and effectiveness.csv of a time-varying channel.

A tiny model (Laplace draws) has `search` with `time_varying: true` and `social` without. The
multiplier the report shows must be the factor by which the model's own contribution of the
channel differs from its constant-effect response, computed here per draw as

    multiplier_t = contribution_t / (beta * hill(adstock(spend))_t * y_scale)

with the contribution from the model's component draws and beta, hill and the adstock in closed
form from the posterior draws (test_lift_report.closed_form_response); then its mean and
5th/95th percentiles per period. The random walk starts at 0, so the multiplier is exactly 1 at
the start of the training window in every draw.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mediamix.insights.report import render_report
from mediamix.model.predict import component_draws
from tests.insights.test_lift_report import closed_form_response, small_world, train_and_report
from tests.insights.test_report import make_tables, parse


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_and_report(
        tmp_path_factory.mktemp("effectiveness"), small_world(11), name="search-effect",   # always on
        touchpoints=[{"name": "search", "spend": "search_spend", "time_varying": True},
                     {"name": "social", "spend": "social_spend"}],
        effect_knot_weeks=26, sampler={"chains": 2, "draws": 200, "seed": 2, "method": "laplace"})


@pytest.mark.slow
def test_effectiveness_csv_is_the_multiplier_on_the_channels_contribution(trained):
    fitted, frame = trained["fitted"], trained["frame"]
    folder = trained["report"].parent
    table = pd.read_csv(folder / "effectiveness.csv")
    assert list(table.columns) == ["date", "channel", "mean", "p05", "p95"]
    assert set(table["channel"]) == {"search"}                      # only the time-varying channel
    # the model's own contributions per draw over the frame's dates
    _, model_frame = trained["ws"].model_data(fitted.spec)
    cd = component_draws(fitted, model_frame)
    dates = pd.DatetimeIndex(cd.design.dates)
    assert list(dates) == list(pd.to_datetime(frame["date"]))
    j = cd.design.channels.index("search")
    beta, hill = closed_form_response(fitted, frame, "search")
    assert (hill > 0).all()                                          # always-on spend: the ratio is defined
    multiplier = cd.media[:, :, j].astype(np.float64) / (beta[:, None] * hill * float(fitted.scaling.y_scale))
    window = (dates >= pd.Timestamp(fitted.scaling.train_start)) & (dates <= pd.Timestamp(fitted.scaling.train_end))
    expected = pd.DataFrame({"date": dates[window].strftime("%Y-%m-%d"),
                             "mean": multiplier[:, window].mean(axis=0),
                             "p05": np.quantile(multiplier[:, window], 0.05, axis=0),
                             "p95": np.quantile(multiplier[:, window], 0.95, axis=0)})
    assert list(table["date"]) == list(expected["date"])            # ISO dates, every training period
    for col in ("mean", "p05", "p95"):
        np.testing.assert_allclose(table[col], expected[col], rtol=2e-4, err_msg=col)
    first = table.iloc[0]
    assert first["date"] == pd.Timestamp(fitted.scaling.train_start).strftime("%Y-%m-%d")
    assert first["mean"] == pytest.approx(1.0, abs=1e-6) and first["p05"] == pytest.approx(1.0, abs=1e-6)
    # not a constant: with a knot every 26 weeks over two years the curve moves
    assert table["p95"].max() - table["p05"].min() > 0.01


@pytest.mark.slow
def test_effectiveness_chart_sits_after_the_response_curves_with_its_data(trained):
    folder = trained["report"].parent
    doc = parse(trained["report"].read_text(encoding="utf-8"))
    (section,) = doc.find_all("section", id="effectiveness")
    assert section.find_all("h2")[0].text() == "Effectiveness over time"
    (svg,) = section.find_all("svg")
    assert svg.attrs["id"] == "chart-effectiveness" and "search" in svg.text() and "social" not in svg.text()
    assert [a.attrs["href"] for a in section.find_all("a")] == ["effectiveness.csv"]
    order = [n.attrs["id"] for n in doc.iter() if n.tag == "section" and "id" in n.attrs]
    assert order.index("effectiveness") == order.index("response_curves") + 1
    spec = json.loads((folder / "vega" / "effectiveness.json").read_text())
    table = pd.read_csv(folder / "effectiveness.csv")
    values = spec["data"]["values"]
    assert len(values) == len(table) and values[0]["date"] == table["date"].iloc[0]
    assert values[-1]["mean"] == pytest.approx(table["mean"].iloc[-1])
    import openpyxl
    assert "effectiveness" in openpyxl.load_workbook(folder / "insights.xlsx", read_only=True).sheetnames


def test_no_effectiveness_chart_without_a_time_varying_channel(tmp_path):
    from mediamix.insights import charts
    tables = make_tables("count")
    assert "effectiveness" not in charts.render_svgs(tables)
    path = render_report(tables, tmp_path / "report.html")
    doc = parse(path.read_text(encoding="utf-8"))
    assert not doc.find_all(id="effectiveness") and not (tmp_path / "effectiveness.csv").exists()
