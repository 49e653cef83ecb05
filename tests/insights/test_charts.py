"""Charts: each SVG is well-formed, self-contained, labelled with units; each Vega-Lite spec is
valid JSON whose encodings name fields that exist in its inlined data."""
from __future__ import annotations

import functools
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from mediamix.insights import charts
from tests.insights.test_report import CHART_KEYS, make_tables

SVG = "{http://www.w3.org/2000/svg}"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@functools.lru_cache(maxsize=None)
def svgs(kind: str) -> dict[str, str]:
    return charts.render_svgs(make_tables(kind))


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")]


@pytest.fixture(params=["revenue", "count"])
def kind(request) -> str:
    return request.param


def test_every_chart_is_a_self_contained_svg(kind):
    rendered = svgs(kind)
    assert tuple(rendered) == CHART_KEYS == tuple(c.key for c in charts.CHARTS)
    for key, svg in rendered.items():
        root = ET.fromstring(svg)  # well-formed XML, no prolog or DOCTYPE needed
        assert root.tag == f"{SVG}svg"
        assert root.get("id") == f"chart-{key}" and root.get("width") == "100%"
        assert root.get("viewBox"), "the viewBox keeps the aspect ratio when scaled"
        assert root.find(f"{SVG}title") is not None
        assert not list(root.iter(f"{SVG}image")), "no embedded raster images"
        assert "<metadata" not in svg and "DOCTYPE" not in svg
        leftover = re.sub(r'xmlns(:\w+)?="http://www\.w3\.org/[^"]*"', "", svg)
        assert "http" not in leftover and "@font-face" not in leftover
        assert texts(svg), "svg.fonttype='none' keeps text as <text>, not glyph paths"
        ids = re.findall(r'\bid="([^"]+)"', svg)
        assert all(i.startswith(f"{key}-") or i == f"chart-{key}" for i in ids)


def test_charts_are_reproducible():
    tables = make_tables("revenue")
    assert charts.fit_svg(tables) == charts.fit_svg(tables)


def test_time_axes_use_iso_dates(kind):
    for key in ("contribution_over_time", "fit"):
        dates = [t for t in texts(svgs(kind)[key]) if ISO_DATE.match(t)]
        assert len(dates) >= 3, key


def test_axis_labels_carry_units(kind):
    tables = make_tables(kind)
    unit = "(USD)" if kind == "revenue" else "(count)"
    over_time = texts(svgs(kind)["contribution_over_time"])
    assert f"Weekly {tables.conversion} {unit}" in over_time
    curves = texts(svgs(kind)["response_curves"])
    assert curves.count("Weekly spend (USD)") == len(tables.channels)  # 3 panels in one row
    assert "Weeks after spend (lag)" in texts(svgs(kind)["adstock"])
    assert any(t.startswith("Share of total") and t.endswith("(%)")
               for t in texts(svgs(kind)["contribution_share"]))


def test_contribution_chart_names_every_component(kind):
    labels = set(texts(svgs(kind)["contribution_over_time"]))
    assert {"base", "price", "TV", "Search", "Social", "Actual"} <= labels


def test_return_panels_follow_the_conversion_kind():
    revenue = texts(svgs("revenue")["returns"])
    count = texts(svgs("count")["returns"])
    assert "ROAS" in revenue and "ROI" in revenue and "CPA" not in revenue
    assert "CPA" in count and "ROAS" not in count and "ROI" not in count
    assert "break-even" in revenue


def test_response_curves_mark_current_spend_and_break_even_for_revenue_only():
    revenue = texts(svgs("revenue")["response_curves"])
    count = texts(svgs("count")["response_curves"])
    assert "Current weekly spend" in revenue and "Break-even" in revenue
    assert "Current weekly spend" in count and "Break-even" not in count
    assert {"TV", "Search", "Social"} <= set(revenue)


def test_fit_chart_shades_the_holdout(kind):
    assert "Holdout (not used for fitting)" in texts(svgs(kind)["fit"])


def test_channel_colors_are_stable_and_distinct():
    tables = make_tables("revenue")
    colors = charts.channel_colors(tables)
    assert list(colors) == ["TV", "Search", "Social"]
    assert len(set(colors.values())) == 3
    assert charts.component_order(tables) == ["base", "price", "TV", "Search", "Social"]


def test_missing_tables_draw_a_message_not_an_error():
    tables = make_tables("revenue")
    empty = type(tables)(**{**tables.__dict__, "response_curves": tables.response_curves.iloc[0:0],
                            "adstock": tables.adstock.iloc[0:0]})
    assert "No response curves" in " ".join(texts(charts.response_curves_svg(empty)))
    assert "No adstock" in " ".join(texts(charts.adstock_svg(empty)))


@pytest.mark.parametrize("value, expected", [(1_250_000, "1.25M"), (350_000, "350k"), (12, "12"),
                                             (-2_000, "\u22122k"), (0, "0"), (0.5, "0.5")])
def test_compact_tick_labels(value, expected):
    assert charts._compact(value) == expected


# ---------------------------------------------------------------- Vega-Lite

def _walk(spec: dict, data: list[dict] | None = None):
    """Yield (encoding, rows) for every view, rows being the data in scope for that view."""
    if "data" in spec:
        data = spec["data"]["values"]
    if "encoding" in spec:
        yield spec, data
    for key in ("layer", "hconcat", "vconcat"):
        for sub in spec.get(key, []):
            yield from _walk(sub, data)
    if "spec" in spec:
        yield from _walk(spec["spec"], data)


def _marks(spec: dict) -> set[str]:
    found = set()
    for view, _ in _walk(spec):
        mark = view["mark"]
        found.add(mark["type"] if isinstance(mark, dict) else mark)
    return found


@pytest.fixture(scope="module", params=["revenue", "count"])
def specs(request) -> dict[str, dict]:
    return charts.vega_lite_specs(make_tables(request.param))


def test_specs_are_json_with_inlined_data_and_real_fields(specs):
    assert tuple(specs) == CHART_KEYS
    for key, spec in specs.items():
        text = json.dumps(spec, allow_nan=False)  # NaN would make invalid JSON
        assert json.loads(text) == spec
        assert spec["$schema"].endswith("/vega-lite/v5.json")
        views = list(_walk(spec))
        assert views, key
        for view, rows in views:
            assert rows, f"{key}: a view without data"
            fields = set().union(*(r.keys() for r in rows))
            for channel, enc in view["encoding"].items():
                for item in enc if isinstance(enc, list) else [enc]:
                    if "field" in item:
                        assert item["field"] in fields, (key, channel, item["field"])
        if "facet" in spec:
            assert spec["facet"]["field"] in set().union(*(r.keys() for r in spec["data"]["values"]))


def test_spec_marks_and_encodings(specs):
    over_time = specs["contribution_over_time"]
    assert over_time["mark"]["type"] == "area"
    assert over_time["encoding"]["x"]["type"] == "temporal"
    assert over_time["encoding"]["y"]["stack"] == "zero"
    assert over_time["encoding"]["color"]["field"] == "component"
    assert all(ISO_DATE.match(r["date"]) for r in over_time["data"]["values"])
    assert _marks(specs["contribution_share"]) == {"bar", "rule"}
    assert _marks(specs["response_curves"]) == {"area", "line", "point"}
    assert specs["response_curves"]["facet"]["field"] == "channel"
    assert _marks(specs["adstock"]) == {"area", "line"}
    assert _marks(specs["fit"]) >= {"rect", "area", "line", "bar"}


def test_return_spec_has_a_panel_per_metric_of_the_kind():
    revenue = charts.vega_lite_specs(make_tables("revenue"))["returns"]["hconcat"]
    count = charts.vega_lite_specs(make_tables("count"))["returns"]["hconcat"]
    assert [p["title"].split(":")[0] for p in revenue] == ["ROAS", "ROI"]
    assert [p["title"].split(":")[0] for p in count] == ["CPA"]


def test_spec_data_matches_the_tables():
    tables = make_tables("revenue")
    spec = charts.vega_lite_specs(tables)["contribution_share"]
    shares = {r["channel"]: r["share_mean"] for r in spec["data"]["values"]}
    assert shares == dict(zip(tables.channels["channel"], tables.channels["share_mean"]))
    markers = [r for r in charts.vega_lite_specs(tables)["response_curves"]["data"]["values"]
               if r["marker"] == "Break-even"]
    expected = tables.curve_markers.set_index("channel")["breakeven_spend"]
    assert {r["channel"]: r["spend"] for r in markers} == pytest.approx(expected.to_dict())
    # on the Hill curve r(s) = top*s/(s+half), the break-even point sits where slope = 1
    for r in markers:
        c = tables.response_curves[tables.response_curves["channel"] == r["channel"]]
        assert r["response_mean"] == pytest.approx(
            np.interp(r["spend"], c["spend"], c["response_mean"]))


def test_count_specs_carry_no_nan():
    spec = charts.vega_lite_specs(make_tables("count"))["returns"]
    json.dumps(spec, allow_nan=False)
    rows = spec["hconcat"][0]["data"]["values"]
    assert all(r["cpa_mean"] is not None for r in rows)


def test_every_chart_and_spec_carries_the_caution_when_training_did_not_succeed():
    issue = make_tables("revenue", status="Training issue")
    caution = charts.status_caution(issue)
    assert caution and "Training issue" in caution
    for key, svg in charts.render_svgs(issue).items():
        assert caution in texts(svg), key
    for key, spec in charts.vega_lite_specs(issue).items():
        assert spec["title"]["subtitle"] == caution, key
        assert spec["usermeta"]["status"] == "Training issue"
    ok = make_tables("revenue")
    assert charts.status_caution(ok) is None
    assert not any("Model status" in t for svg in svgs("revenue").values() for t in texts(svg))
    assert all(isinstance(s["title"], str) for s in charts.vega_lite_specs(ok).values())
