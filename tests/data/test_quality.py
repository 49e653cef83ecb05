"""The data-quality report of a sync: each check on a series built to trip it (and only it)."""
import numpy as np
import pandas as pd
import pytest

from mediamix.data import HarmonizedStore
from mediamix.data.datasets import load_batch
from mediamix.data.definitions import define_conversion, define_touchpoint
from mediamix.data.fields import set_unit
from mediamix.data.model_frame import touchpoint_frame
from mediamix.data.quality import quality_report
from mediamix.data.rules import add_rule, wide_rules
from mediamix.data.sync import sync
from mediamix.data.validate import DataProblems

N = 30
WEEKS = pd.date_range("2024-01-01", periods=N, freq="7D")
MONDAY = {"unit": "week", "week_start": "Monday"}


def _weekly_table():
    rng = np.random.default_rng(11)
    steady = rng.uniform(900, 1100, N)
    late = np.r_[np.zeros(8), rng.uniform(500, 700, N - 8)]
    spiky = rng.uniform(90, 110, N)
    spiky[12] = 10_000.0
    neg = rng.uniform(50, 60, N)
    neg[[3, 17]] = [-35.0, -5.5]
    units = rng.uniform(1, 2, N)
    units[5] = -1.0
    return pd.DataFrame({"date": WEEKS.strftime("%Y-%m-%d"), "steady": steady, "late": late, "spiky": spiky,
                         "twin": steady * 2 + rng.normal(0, 30, N), "dead": np.zeros(N), "neg": neg,
                         "units": units, "revenue": rng.uniform(5e4, 6e4, N)})


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    store = HarmonizedStore(tmp_path_factory.mktemp("quality") / "harmonized.duckdb")
    with store.session():
        result = _setup(store)
    assert quality_report(store).issues == result.report.issues  # stored with the sync, read back the same
    return store, result.report


def _setup(store):
    load_batch(store, "weekly", _weekly_table())
    channels = ["steady", "late", "spiky", "twin", "dead", "neg"]
    for rule in wide_rules("weekly", MONDAY, {c: {"spend": c} for c in channels},
                           metrics={"revenue": "revenue", "units": "units"}):
        add_rule(store, rule)
    gappy = pd.DataFrame({"date": WEEKS.delete([9, 10]).strftime("%Y-%m-%d"), "channel": "gappy", "cost": 10.0})
    load_batch(store, "gappy", gappy)
    add_rule(store, {"name": "g", "status": "active", "granularity": MONDAY, "dimensions": {"channel": {"column": "channel"}},
                     "metrics": {"spend": {"sum": "cost"}}}, dataset="gappy")
    stamps = [w + pd.Timedelta(hours=10) for i, w in enumerate(WEEKS) if i not in (4, 5)]
    events = pd.DataFrame({"person_id": [f"p{i}" for i in range(len(stamps))], "ts": stamps, "channel": "email",
                           "cost": 1.0})
    events = pd.concat([events, events.iloc[[0]]], ignore_index=True)  # one row exported twice
    load_batch(store, "web", events, kind="events")
    add_rule(store, {"name": "email", "status": "active", "granularity": "day",
                     "dimensions": {"channel": {"column": "channel"}}, "metrics": {"spend": {"sum": "cost"}}},
             dataset="web")
    for name in channels + ["gappy", "email"]:
        define_touchpoint(store, name, where={"field": "channel", "equals": name}, spend="spend")
    define_touchpoint(store, "nothing", where={"field": "channel", "equals": "radio"}, spend="spend")
    define_touchpoint(store, "branded", where={"field": "brand", "equals": "x"}, spend="spend")
    define_conversion(store, "sales", conversion="revenue", where={"field": "channel", "exists": False})
    set_unit(store, "spend", "EUR")
    set_unit(store, "revenue", "USD")
    return sync(store)


def _messages(report, subject, check=None):
    return [i.message for i in report.about(subject) if check is None or i.check == check]


def test_errors_and_warnings_are_told_apart(report):
    _, report = report
    errors = {(i.subject, i.check) for i in report.errors}
    assert errors == {("touchpoint:dead", "zeros"), ("touchpoint:neg", "negative"), ("touchpoint:gappy", "gaps"),
                      ("touchpoint:nothing", "coverage"), ("touchpoint:branded", "coverage")}
    assert not _messages(report, "touchpoint:steady", "gaps") and not _messages(report, "conversion:sales", "gaps")


def test_coverage_per_touchpoint(report):
    _, report = report
    coverage = report.coverage.set_index("subject")
    assert coverage.loc["steady", "first_date"] == WEEKS[0] and coverage.loc["steady", "last_date"] == WEEKS[-1]
    assert coverage.loc["steady", ["periods", "gaps", "zero_periods"]].tolist() == [N, 0, 0]
    assert coverage.loc["late", "zero_periods"] == 8
    assert coverage.loc["gappy", ["periods", "gaps"]].tolist() == [N, 2]
    assert coverage.loc["email", "gaps"] == 2
    assert coverage.loc["steady", "unit"] == "EUR" and coverage.loc["sales", "unit"] == "USD"
    assert coverage.loc["steady", "total"] == pytest.approx(_weekly_table()["steady"].sum())


def test_each_check_names_what_it_found(report):
    _, report = report
    assert _messages(report, "touchpoint:dead", "zeros") == [
        "touchpoint 'dead' has zero spend in all 30 weeks; drop it or supply data"]
    assert _messages(report, "touchpoint:neg", "negative") == [
        "touchpoint 'neg' has 2 negative spend values: 2024-01-22 \u221235, 2024-04-29 \u22125.5; fix the export or "
        "model it as a signed factor"]
    assert _messages(report, "touchpoint:gappy", "gaps")[0].startswith(
        "touchpoint 'gappy' has no rows in 2 of 30 weeks between 2024-01-01 and 2024-07-22: 2024-03-04, 2024-03-11. "
        "Missing weeks are not zero-spend weeks")
    assert _messages(report, "touchpoint:email", "gaps") == [
        "touchpoint 'email' has no events in 2 of 30 weeks between 2024-01-01 and 2024-07-22: 2024-01-29, 2024-02-05; "
        "they are read as zero"]
    assert _messages(report, "touchpoint:late", "start") == [
        "touchpoint 'late' starts on 2024-02-26, 8 weeks after the data begins (2024-01-01); its earlier weeks read as zero"]
    outliers = _messages(report, "touchpoint:spiky", "outliers")
    assert len(outliers) == 1 and "2024-03-25 10000" in outliers[0]
    pairs = [i.message for i in report.issues if i.check == "correlation"]
    table = _weekly_table()
    r = np.corrcoef(table["steady"], table["twin"])[0, 1]
    assert 0.95 < r < 0.99
    assert pairs == [f"touchpoints 'steady' and 'twin' have spend correlated at r = {r:.3f} over 30 weeks; a model "
                     "cannot tell their effects apart: combine them, or add data where they vary apart"]
    assert "no active rule sets 'brand'" in _messages(report, "touchpoint:branded")[0]
    duplicates = _messages(report, "dataset:web", "duplicates")
    assert len(duplicates) == 1 and duplicates[0].startswith("data set 'web' has 1 row repeating another row exactly "
                                                             "(e.g. 2024-01-01 10:00:00 person 'p0'")
    assert _messages(report, "field:units") == [
        "metric 'units' from data set 'weekly' is negative in 1 row (lowest \u22121 on 2024-02-05); if these are "
        "returns or corrections, that may be intended"]
    units = _messages(report, "touchpoint:steady", "units")
    assert units == ["touchpoint 'steady' spends in EUR but conversion 'sales' earns revenue in USD; a model of both "
                     "needs an exchange rate (rates={'EUR/USD': ...})"]


def test_errors_block_the_model_and_warnings_travel_with_it(report):
    store, _ = report
    with pytest.raises(DataProblems) as info:
        touchpoint_frame(store, ["steady", "dead", "neg"], "sales", rates={"EUR/USD": 1.1})
    assert info.value.problems[0] == "touchpoint 'dead' has zero spend in all 30 weeks; drop it or supply data"
    assert info.value.problems[1].startswith("touchpoint 'neg' has 2 negative spend values")
    frame = touchpoint_frame(store, ["steady", "twin", "email"], "sales", rates={"EUR/USD": 1.1})
    warnings = frame.attrs["warnings"]
    assert any(w.startswith("touchpoints 'steady' and 'twin' have spend correlated") for w in warnings)
    assert any(w.startswith("touchpoint 'email' has no events in 2 of 30 weeks") for w in warnings)
    assert any(w.startswith("data set 'web' has 1 row repeating") for w in warnings)
    assert frame.loc[4:5, "email_spend"].tolist() == [0.0, 0.0]
