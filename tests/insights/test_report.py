"""The HTML report: structure, warning, formatted numbers, no outside references.

`make_tables` builds a small InsightTables from a known generating process (Hill response,
geometric adstock) so the numbers are consistent; test_charts and test_export reuse it.
"""
from __future__ import annotations

import functools
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mediamix.insights.report import (
    InsightTables,
    format_money,
    format_number,
    format_percent,
    render_html,
    render_report,
)

CHART_KEYS = ("contribution_over_time", "contribution_share", "returns", "response_curves",
              "adstock", "fit")
CHANNELS = {  # name: (weekly spend level, Hill max weekly response, Hill half-saturation, decay)
    "TV": (40_000.0, 160_000.0, 60_000.0, 0.6),
    "Search": (15_000.0, 70_000.0, 10_000.0, 0.1),
    "Social": (8_000.0, 14_000.0, 12_000.0, 0.3),
}


def make_tables(kind: str = "revenue", status: str = "Success", n_weeks: int = 20,
                reasons: tuple[str, ...] = ()) -> InsightTables:
    """A consistent synthetic InsightTables: contributions add up to the prediction, shares to
    contributions over the total, ROAS to contribution over spend, CPA to spend over contribution."""
    rng = np.random.default_rng(7)
    dates = pd.date_range("2024-01-01", periods=n_weeks, freq="7D")
    holdout = np.arange(n_weeks) >= n_weeks - n_weeks // 4
    lags = 4
    scale = 1.0 if kind == "revenue" else 0.01  # count: conversions are ~100x smaller numbers

    contrib_rows, channel_rows, curve_rows, marker_rows, adstock_rows = [], [], [], [], []
    base = 300_000.0 * scale + 2_000.0 * scale * np.arange(n_weeks)
    price = -20_000.0 * scale * (1 + np.sin(np.arange(n_weeks) / 3.0))
    total = base + price
    per_channel = {}
    for i, (name, (level, top, half, decay)) in enumerate(CHANNELS.items()):
        spend = level * rng.uniform(0.5, 1.5, n_weeks)
        if name == "TV":
            spend[5:9] = 0.0  # a flight gap
        weights = decay ** np.arange(lags)
        weights = weights / weights.sum()
        adstocked = np.convolve(spend, weights)[:n_weeks]
        response = top * scale * adstocked / (adstocked + half)
        per_channel[name] = (spend, response)
        total = total + response
        for lag, w in enumerate(weights):
            adstock_rows.append({"channel": name, "lag": lag, "weight_mean": w,
                                 "weight_p05": w * 0.8, "weight_p95": min(1.0, w * 1.2)})
        grid = np.linspace(0, 2 * spend.max(), 25)
        curve = top * scale * grid / (grid + half)
        for s, r in zip(grid, curve):
            curve_rows.append({"channel": name, "spend": s, "response_mean": r,
                               "response_p05": r * 0.85, "response_p95": r * 1.15,
                               "marginal_mean": top * scale * half / (s + half) ** 2})
        # marginal = 1 where top*half/(s+half)^2 = 1, i.e. s = sqrt(top*half) - half
        breakeven = math.sqrt(top * half) - half if kind == "revenue" and top > half else math.nan
        marker_rows.append({"channel": name, "current_spend": spend.mean(),
                            "breakeven_spend": breakeven})

    contrib_rows += [{"date": d, "component": "base", "kind": "base", "mean": v,
                      "p05": v * 0.95, "p95": v * 1.05} for d, v in zip(dates, base)]
    contrib_rows += [{"date": d, "component": "price", "kind": "factor", "mean": v,
                      "p05": v * 1.2, "p95": v * 0.8} for d, v in zip(dates, price)]
    grand_total = total.sum()
    for name, (spend, response) in per_channel.items():
        contrib_rows += [{"date": d, "component": name, "kind": "channel", "mean": v,
                          "p05": v * 0.8, "p95": v * 1.2} for d, v in zip(dates, response)]
        c = response.sum()
        s = spend.sum()
        row = {"channel": name, "spend": s,
               "volume": s * 120.0 if name != "Search" else math.nan,
               "contribution_mean": c, "contribution_p05": c * 0.8, "contribution_p95": c * 1.2,
               "share_mean": c / grand_total, "share_p05": 0.8 * c / grand_total,
               "share_p95": 1.2 * c / grand_total,
               "prior_share_mean": 0.1, "prior_share_p05": 0.02, "prior_share_p95": 0.25,
               "prior_source": "spend share" if name != "TV" else "prior knowledge (lift test)"}
        for metric, value in (("roas", c / s), ("roi", c / s - 1), ("cpa", s / c)):
            usable = (metric == "cpa") != (kind == "revenue")
            lo, hi = (value * 0.8, value * 1.2) if metric != "roi" else (0.8 * c / s - 1, 1.2 * c / s - 1)
            if metric == "cpa":
                lo, hi = s / (1.2 * c), s / (0.8 * c)
            row.update({f"{metric}_mean": value if usable else math.nan,
                        f"{metric}_p05": lo if usable else math.nan,
                        f"{metric}_p95": hi if usable else math.nan})
        channel_rows.append(row)

    predicted = total
    actual = predicted * (1 + rng.normal(0, 0.03, n_weeks))
    fit = pd.DataFrame({"date": dates, "actual": actual, "predicted_mean": predicted,
                        "predicted_p05": predicted * 0.93, "predicted_p95": predicted * 1.07,
                        "residual": actual - predicted, "holdout": holdout})
    fit_metrics = pd.DataFrame([
        {"sample": "in-sample", "r2": 0.91, "mape": 3.1, "smape": 3.0, "rmse": 9_876.5,
         "n": int((~holdout).sum())},  # mape and smape in percent, as model.diagnostics gives
        {"sample": "holdout", "r2": 0.84, "mape": 4.2, "smape": 4.1, "rmse": 12_345.6,
         "n": int(holdout.sum())},
    ])
    parameters = pd.DataFrame([
        {"name": "intercept", "mean": 0.51, "sd": 0.02, "p05": 0.48, "p95": 0.54, "r_hat": 1.002,
         "ess_bulk": 1800.0},
        {"name": "beta[TV]", "mean": 0.2, "sd": 0.05, "p05": 0.12, "p95": 0.28,
         "r_hat": 1.04 if status != "Success" else 1.003, "ess_bulk": 150.0 if status != "Success" else 900.0},
        {"name": "decay[Search]", "mean": 0.1, "sd": 0.03, "p05": 0.05, "p95": 0.15, "r_hat": 1.001,
         "ess_bulk": 2100.0},
    ])
    model = {
        "name": "Demo <revenue> & co" if kind == "revenue" else "Signups model",
        "description": "Weekly national model for the synthetic test set",
        "conversion": "revenue" if kind == "revenue" else "signups",
        "conversion_kind": kind, "currency": "USD",
        "training_start": "2024-01-01", "training_end": dates[-1].strftime("%Y-%m-%d"),
        "holdout_start": dates[holdout][0].strftime("%Y-%m-%d"), "lookback_weeks": 8,
        "status": status, "status_reasons": list(reasons),
        "created": "2024-06-01T09:30:00", "trained": "2024-06-01T09:45:00",
    }
    diagnostics = {
        "max_rhat": float(parameters["r_hat"].max()), "min_ess_bulk": float(parameters["ess_bulk"].min()),
        "divergences": 0 if status == "Success" else 3, "num_chains": 2, "num_draws": 1000,
        "thresholds": {"max_rhat": 1.01, "min_ess": 400, "max_divergences": 0,
                       "max_holdout_smape_ratio": 2.0},  # the keys insights.metrics passes
        "parameters": parameters,
    }
    return InsightTables(
        model=model, contributions=pd.DataFrame(contrib_rows), channels=pd.DataFrame(channel_rows),
        response_curves=pd.DataFrame(curve_rows), curve_markers=pd.DataFrame(marker_rows),
        adstock=pd.DataFrame(adstock_rows), fit=fit, fit_metrics=fit_metrics, diagnostics=diagnostics,
    )


ISSUE_REASONS = ("max R-hat 1.040 > 1.01", "min bulk ESS 150 < 400", "3 divergent transitions")


@functools.lru_cache(maxsize=None)
def html_for(kind: str = "revenue", status: str = "Success", reasons: tuple[str, ...] = ()) -> str:
    """Rendering draws six charts; tests that only read the HTML share one rendering."""
    return render_html(make_tables(kind, status=status, reasons=reasons))


# ---------------------------------------------------------------- a tiny DOM over html.parser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag: str | None = None, **attrs) -> list[Node]:
        found = []
        for node in self.iter():
            if tag and node.tag != tag:
                continue
            cls = attrs.get("class_")
            if cls and cls not in (node.attrs.get("class") or "").split():
                continue
            if any(node.attrs.get(k) != v for k, v in attrs.items() if k != "class_"):
                continue
            found.append(node)
        return found


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"closing </{tag}> without an opening tag"
        self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    assert builder.current is builder.root, f"unclosed <{builder.current.tag}>"
    return builder.root


def channel_table_cells(doc: Node) -> dict[str, dict[str, tuple[str, str]]]:
    """channel -> column header -> (value, interval) from the channel summary table."""
    table = doc.find_all("table", class_="channels")[0]
    header = [th.text() for th in table.find_all("thead")[0].find_all("th")]
    out = {}
    for tr in table.find_all("tbody")[0].find_all("tr"):
        cells = [c for c in tr.children if isinstance(c, Node)]
        name = cells[0].text()
        row = {}
        for h, td in zip(header[1:], cells[1:]):
            value = td.find_all("span", class_="v")[0].text()
            ci = td.find_all("span", class_="ci")
            row[h] = (value, ci[0].text() if ci else "")
        out[name] = row
    return out


# ---------------------------------------------------------------- tests

@pytest.fixture(params=["revenue", "count"])
def kind(request) -> str:
    return request.param


@pytest.fixture(scope="module", params=["revenue", "count"])
def report_dir(request, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp(f"report-{request.param}")
    return render_report(make_tables(request.param), folder / "insights.html").parent


def test_render_report_writes_one_html_with_every_chart_as_inline_svg(report_dir):
    html = (report_dir / "insights.html").read_text(encoding="utf-8")
    doc = parse(html)
    for key in CHART_KEYS:
        section = doc.find_all("section", id=key)
        assert len(section) == 1, key
        svgs = section[0].find_all("svg")
        assert len(svgs) == 1 and svgs[0].attrs["id"] == f"chart-{key}"
        assert section[0].find_all("p", class_="how")[0].text().strip()
    ids = [n.attrs["id"] for n in doc.iter() if "id" in n.attrs]
    assert len(ids) == len(set(ids)), "inlined SVGs must not repeat element ids"


def test_report_has_no_outside_references(report_dir):
    html = (report_dir / "insights.html").read_text(encoding="utf-8")
    for match in re.finditer(r"(?:src|href)\s*=\s*[\"']([^\"']*)", html):
        target = match.group(1)
        assert not re.match(r"^(https?:|//|ftp:|file:|data:)", target), target
    assert "http" not in html  # not even SVG namespace names: HTML does not need them
    doc = parse(html)
    assert not doc.find_all("link") and not doc.find_all("script") and not doc.find_all("img")
    assert doc.find_all("style"), "CSS must be inline"


def test_every_download_link_points_at_a_file_beside_the_report(report_dir):
    doc = parse((report_dir / "insights.html").read_text(encoding="utf-8"))
    links = [a.attrs["href"] for a in doc.find_all("section", id="downloads")[0].find_all("a")]
    assert "insights.xlsx" in links and "channels.csv" in links
    for href in links:
        assert (report_dir / href).is_file(), href


@pytest.mark.parametrize("kind, status", [("revenue", "Success"), ("count", "Success"),
                                          ("revenue", "Training issue"), ("count", "Training issue"),
                                          ("count", "Failed")])
def test_warning_box_appears_exactly_when_status_is_not_success(kind, status):
    reasons = () if status == "Success" else ISSUE_REASONS
    doc = parse(html_for(kind, status, reasons))
    warnings = doc.find_all(id="status-warning")
    badge = doc.find_all(id="status-badge")[0].text()
    assert badge == status
    if status == "Success":
        assert warnings == []
        assert not doc.find_all(class_="caution")
    else:
        assert len(warnings) == 1
        listed = [li.text() for li in warnings[0].find_all("li")]
        assert listed == list(ISSUE_REASONS)
        # the warning comes before the first return figure a user could read
        order = [n for n in doc.iter() if n.attrs.get("id") in ("status-warning", "returns")]
        assert order[0].attrs["id"] == "status-warning"


def test_warning_without_recorded_reasons_still_says_so():
    doc = parse(html_for(status="Training issue"))
    assert "No reason was recorded" in doc.find_all(id="status-warning")[0].text()


def test_channel_table_numbers_match_the_input(kind):
    tables = make_tables(kind)
    cells = channel_table_cells(parse(html_for(kind)))
    assert list(cells) == list(tables.channels["channel"])
    for _, r in tables.channels.iterrows():
        row = cells[r["channel"]]
        assert row["Spend (USD)"][0] == "$" + f"{r['spend']:,.0f}"
        assert row["Share of total"][0] == f"{100 * r['share_mean']:.1f}%"
        assert row["Share of total"][1] == f"{100 * r['share_p05']:.1f}% \u2013 {100 * r['share_p95']:.1f}%"
        volume = "\u2014" if math.isnan(r["volume"]) else f"{r['volume']:,.0f}"
        assert row["Volume"][0] == volume
        if kind == "revenue":
            assert row["Contribution (USD)"][0] == "$" + f"{r['contribution_mean']:,.0f}"
            assert row["ROAS"][0] == f"{r['roas_mean']:.2f}"
            assert row["ROI"][1] == f"{r['roi_p05']:.2f} \u2013 {r['roi_p95']:.2f}".replace("-", "\u2212")
            assert "CPA (USD)" not in row
        else:
            assert row["Contribution (signups)"][0] == f"{r['contribution_mean']:,.0f}"
            assert row["CPA (USD)"][0] == "$" + f"{r['cpa_mean']:,.2f}"
            assert "ROAS" not in row and "ROI" not in row


def test_channel_table_totals_are_sums_of_means():
    tables = make_tables("revenue")
    doc = parse(html_for("revenue"))
    foot = doc.find_all("table", class_="channels")[0].find_all("tfoot")[0]
    values = [s.text() for s in foot.find_all("span", class_="v")]
    ch = tables.channels
    assert values[0] == "$" + f"{ch['spend'].sum():,.0f}"
    assert f"{100 * ch['share_mean'].sum():.1f}%" in values
    assert f"{ch['contribution_mean'].sum() / ch['spend'].sum():.2f}" in values


def test_fit_metrics_and_diagnostics_are_shown_with_parameters_collapsed():
    doc = parse(html_for("revenue", "Training issue", ISSUE_REASONS))
    fit_rows = doc.find_all("section", id="fit-metrics")[0].find_all("tbody")[0].find_all("tr")
    assert [tr.find_all("th")[0].text() for tr in fit_rows] == ["in-sample", "holdout"]
    assert "4.1%" in fit_rows[1].text()  # holdout sMAPE 4.1 (percent)
    diag = doc.find_all("section", id="diagnostics")[0]
    checks = {tr.find_all("th")[0].text(): tr for tr in diag.find_all("table", class_="checks")[0]
              .find_all("tbody")[0].find_all("tr")}
    assert "FAIL" in checks["Max R-hat"].text() and "1.040" in checks["Max R-hat"].text()
    assert "FAIL" in checks["Divergences"].text()
    assert "FAIL" in checks["Min bulk ESS"].text() and "\u2265 400" in checks["Min bulk ESS"].text()
    ratio = checks["Holdout sMAPE \u00f7 in-sample sMAPE"].text()
    assert "1.37" in ratio and "pass" in ratio  # 4.1 / 3.0
    details = diag.find_all("details")
    assert len(details) == 1 and "open" not in details[0].attrs
    params = details[0].find_all("tbody")[0].find_all("tr")
    assert params[0].find_all("th")[0].text() == "beta[TV]"  # worst R-hat first
    assert "bad" in params[0].attrs.get("class", "")


def test_prior_source_is_shown_under_the_prior_share():
    cells = channel_table_cells(parse(html_for("revenue")))
    assert cells["TV"]["Prior share"] == ("10.0%", "2.0% \u2013 25.0%, prior knowledge (lift test)")
    assert cells["Search"]["Prior share"][1].endswith(", spend share")


def test_an_uncheckable_rhat_fails_rather_than_passes():
    from mediamix.insights.report import diagnostic_checks
    tables = make_tables("revenue")
    one_chain = type(tables)(**{**tables.__dict__,
                                "diagnostics": {**tables.diagnostics, "max_rhat": float("nan")}})
    rhat = next(c for c in diagnostic_checks(one_chain) if c.name == "Max R-hat")
    assert rhat.value == "\u2014" and rhat.ok is False


def test_text_from_the_model_is_escaped():
    html = html_for("revenue")
    assert "Demo &lt;revenue&gt; &amp; co" in html and "<revenue>" not in html


def test_key_numbers_use_the_conversion_kind():
    revenue = parse(html_for("revenue")).find_all("section", class_="key-numbers")[0].text()
    count = parse(html_for("count")).find_all("section", class_="key-numbers")[0].text()
    assert "Blended ROAS" in revenue and "CPA" not in revenue
    assert "Blended CPA" in count and "ROAS" not in count


def test_report_without_downloads_links_to_nothing(tmp_path):
    path = render_report(make_tables("count"), tmp_path / "r.html", write_downloads=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]
    doc = parse(path.read_text(encoding="utf-8"))
    assert not doc.find_all(id="downloads")
    assert all(a.attrs["href"].startswith("#") for a in doc.find_all("a"))


def test_missing_column_is_named():
    tables = make_tables()
    with pytest.raises(ValueError, match="channels is missing column\\(s\\) share_p95"):
        InsightTables(**{**tables.__dict__, "channels": tables.channels.drop(columns="share_p95")})


@pytest.mark.parametrize("value, currency, expected", [
    (1234567.8, "USD", "$1,234,568"), (-1500, "EUR", "\u2212\u20ac1,500"), (12.345, "CHF", "CHF\u00a012"),
    (float("nan"), "USD", "\u2014"), (0.4, "USD", "$0"),
])
def test_format_money(value, currency, expected):
    assert format_money(value, currency) == expected


def test_number_and_percent_formats():
    assert format_number(9876543.21) == "9,876,543"
    assert format_number(-0.2) == "0"
    assert format_percent(0.2346) == "23.5%"
    assert format_percent(-0.05) == "\u22125.0%"
    assert format_percent(None) == "\u2014"


@pytest.mark.parametrize("value, expected", [(87_133_227, "$87.1M"), (12_337_791, "$12.3M"),
                                             (9_876, "$9,876"), (-2_500_000, "\u2212$2.5M"),
                                             (1_250_000_000, "$1.2B")])
def test_headline_money_is_short(value, expected):
    from mediamix.insights.report import format_money_short
    assert format_money_short(value, "USD") == expected
