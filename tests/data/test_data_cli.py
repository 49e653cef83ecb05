"""`mediamix data ...` through Typer's CliRunner on the data sub-app, in a real workspace."""
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mediamix.data.cli import data_app
from mediamix.errors import DataError, NotFoundError
from mediamix.workspace import Workspace

runner = CliRunner()

RULES = """
- name: media
  granularity: {unit: week, week_start: Monday}
  dimensions:
    channel: {column: channel}
    campaign: {column: campaign}
    brand:
      case:
        - when: {column: campaign, contains: brand, ignore_case: true}
          then: brand
      else: generic
  metrics:
    spend: {sum: cost, currency: USD}
    clicks: {sum: clicks}
"""


@pytest.fixture
def ws(tmp_path):
    return Workspace.init(tmp_path / "ws")


def run(ws, *args):
    result = runner.invoke(data_app, [*args, "--workspace", str(ws.root)], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def test_summary_table_commands_keep_their_behaviour(ws, shared_cases, tmp_path):
    out = run(ws, "load", str(shared_cases / "B16_friday_week_start.csv"), "--name", "fri")
    assert "loaded fri: 104 rows, weekly, weeks starting on Friday" in out
    assert "fri" in run(ws, "list")
    assert "2022-01-07" in run(ws, "show", "fri", "--rows", "3")
    out_file = tmp_path / "fri.csv"
    run(ws, "export", "fri", str(out_file))
    assert len(pd.read_csv(out_file)) == 104
    assert ws.dataset("fri").national().frame.columns.tolist()[0] == "date"
    run(ws, "delete", "fri")
    assert ws.datasets().empty
    with pytest.raises(DataError, match="2022-05-16 appears 2 times"):
        run(ws, "load", str(shared_cases / "B03_duplicated_date.csv"), "--name", "x")
    with pytest.raises(DataError, match="--restatement apply to batches; add --kind"):
        run(ws, "load", str(shared_cases / "B16_friday_week_start.csv"), "--name", "x", "--restatement", "add")


def test_batches_rules_sync_touchpoints_and_quality(ws, tmp_path):
    weeks = pd.date_range("2024-01-01", periods=8, freq="7D")
    ads = pd.DataFrame([{"date": w.strftime("%Y-%m-%d"), "channel": c, "campaign": k, "cost": 100.0 + i, "clicks": 10 + i}
                        for i, w in enumerate(weeks) for c, k in (("search", "Brand_x"), ("search", "nb"), ("social", "p"))])
    ads_file = tmp_path / "ads.csv"
    ads.to_csv(ads_file, index=False)
    rng = np.random.default_rng(1)
    orders = pd.DataFrame({"user_id": rng.integers(0, 50, 120).astype(str),
                           "ts": (weeks[0] + pd.to_timedelta(rng.integers(0, 56 * 86400, 120), unit="s")).astype(str),
                           "value": rng.uniform(10, 50, 120).round(2)})
    orders_file = tmp_path / "orders.parquet"
    orders.to_parquet(orders_file)
    out = run(ws, "load", str(ads_file), "--name", "ads", "--kind", "summary")
    assert "batch 1 of 'ads': 24 rows from 2024-01-01 to 2024-02-19" in out
    assert "already loaded" in run(ws, "load", str(ads_file), "--name", "ads", "--kind", "summary")
    assert "batch 1 of 'shop'" in run(ws, "load", str(orders_file), "--name", "shop", "--kind", "conversions")
    assert "24" in run(ws, "batches", "ads")
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES)
    assert "added rule ads/media (draft" in run(ws, "rules", "add", f"@{rules_file}", "--dataset", "ads")
    run(ws, "rules", "activate", "ads", "media")
    run(ws, "rules", "add", "{name: orders, granularity: day, metrics: {orders: {count: '*'}, revenue: {sum: value}}}",
        "--dataset", "shop", "--activate")
    listing = run(ws, "rules", "list")
    assert "media" in listing and "orders" in listing and "active" in listing
    assert "brand" in run(ws, "rules", "show", "ads", "media")
    run(ws, "fields", "unit", "spend", "USD")
    run(ws, "fields", "unit", "revenue", "usd")
    run(ws, "fields", "add", "margin", "--role", "derived", "--kind", "number", "--formula", "(revenue - spend) / revenue")
    assert "margin" in run(ws, "fields", "list")
    run(ws, "touchpoints", "define", "search_brand", "--where",
        "{all_of: [{field: channel, equals: search}, {field: brand, equals: brand}]}", "--volume", "clicks")
    run(ws, "touchpoints", "define", "social", "--where", "{field: channel, equals: social}")
    run(ws, "conversions", "define", "orders", "--conversion", "orders", "--revenue", "revenue",
        "--where", "{field: channel, exists: false}")
    run(ws, "populations", "define", "everyone", "--container", "{conditions: [{field: geo, exists: false}]}")
    assert "everyone" in run(ws, "populations", "list")
    assert "search_brand" in run(ws, "touchpoints", "list") and "orders" in run(ws, "conversions", "list")
    run(ws, "merge", "set", "sum", "--metric", "spend")
    assert "sum" in run(ws, "merge", "show")
    out = run(ws, "sync")
    assert "sync 1:" in out and "weekly, weeks starting on Monday" in out and "data quality: 0 errors" in out
    view_file = tmp_path / "view.parquet"
    run(ws, "export", str(view_file))
    view = pd.read_parquet(view_file)
    brand = view[view["brand"] == "brand"].groupby("date")["spend"].sum()
    assert brand.tolist() == [100.0 + i for i in range(8)]
    assert "margin" in view.columns
    assert "Harmonized view, sync 1" in run(ws, "show", "--rows", "5")
    report = run(ws, "touchpoints", "report", "search_brand")
    assert "107" in report and "spend" in report
    assert "orders" in run(ws, "conversions", "report", "orders")
    assert "Coverage, sync 1" in run(ws, "quality")
    from mediamix.data.model_frame import touchpoint_frame
    frame = touchpoint_frame(ws.store, ["search_brand", "social"], "orders", population="everyone")
    assert frame["search_brand_volume"].tolist() == [10.0 + i for i in range(8)]
    assert frame["conversion"].sum() == 120 and frame.attrs["currency"] == "USD"
    run(ws, "rules", "draft", "ads", "media")
    assert "stale" in run(ws, "show")
    run(ws, "rules", "remove", "ads", "media")
    run(ws, "touchpoints", "remove", "social")
    with pytest.raises(NotFoundError, match="no touchpoint named 'social'"):
        run(ws, "touchpoints", "report", "social")
    with pytest.raises(DataError, match="not valid YAML or JSON"):
        run(ws, "touchpoints", "define", "x", "--where", "{field: channel, equals: [a")
