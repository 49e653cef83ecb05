"""`mediamix attribution ...` through typer's CliRunner. Expected numbers are the cases' published
truth (../shared/cases/README.md) or journeys worked out by hand from the raw event file."""
import pandas as pd
import pytest
from typer.testing import CliRunner

from mediamix.attribution.cli import AttributionOptionError, attribution_app
from mediamix.errors import DataError, MediamixError

runner = CliRunner()

B22_TRUTH = {  # README, case B22 (110 conversions)
    "first_touch": {"search": 65, "display": 20, "social": 15, "email": 10},
    "last_touch": {"display": 60, "search": 40, "email": 10, "social": 0},
    "linear": {"search": 56.5, "display": 22.0, "email": 24.0, "social": 7.5},
    "position": {"search": 53.8333, "display": 33.3333, "email": 15.3333, "social": 7.5},
    "markov": {"search": 44.5193, "display": 35.7280, "email": 22.5818, "social": 7.1709},
}


def invoke(*args):
    return runner.invoke(attribution_app, [str(a) for a in args])


def by_channel(frame, model, column="conversions"):
    rows = frame[frame["model"] == model]
    return dict(zip(rows["channel"], rows[column]))


def test_paths_all_models_match_the_b22_truth(shared_cases, tmp_path):
    out = tmp_path / "b22.csv"
    result = invoke("paths", shared_cases / "B22_repeated_touchpoints.csv", "--model", "all", "--out", out)
    assert result.exit_code == 0, result.output
    assert "Attributed conversions by model" in result.output and "time-decay skipped" in result.output
    table = pd.read_csv(out)
    assert set(table["model"]) == {*B22_TRUTH, "shapley"}
    for model, truth in B22_TRUTH.items():
        got = by_channel(table, model)
        for channel, expected in truth.items():
            assert got.get(channel, 0.0) == pytest.approx(expected, abs=0.01), (model, channel)
    for model, rows in table.groupby("model"):  # every model hands out all 110 conversions, value 50 each
        assert rows["conversions"].sum() == pytest.approx(110)
        assert rows["value"].sum() == pytest.approx(110 * 50)


def test_paths_single_model_prints_its_table(shared_cases, tmp_path):
    out = tmp_path / "first.csv"
    result = invoke("paths", shared_cases / "B22_repeated_touchpoints.csv", "--model", "first", "--out", out)
    assert result.exit_code == 0, result.output
    assert "first_touch: attributed conversions" in result.output
    assert by_channel(pd.read_csv(out), "first_touch") == B22_TRUTH["first_touch"]


def test_paths_markov_with_nulls_matches_b23(shared_cases, tmp_path):
    out = tmp_path / "b23.csv"
    result = invoke("paths", shared_cases / "B23_non_converting_paths.csv", "-m", "markov", "--out", out)
    assert result.exit_code == 0, result.output
    got = by_channel(pd.read_csv(out), "markov")
    for channel, expected in {"display": 34.1650, "google_ads": 23.3735, "mailing": 22.4615}.items():
        assert got[channel] == pytest.approx(expected, abs=0.01)


def test_paths_markov_value_is_fifty_times_conversions_on_b25(shared_cases, tmp_path):
    out = tmp_path / "b25.csv"
    assert invoke("paths", shared_cases / "B25_conversion_value.csv", "-m", "markov", "--out", out).exit_code == 0
    table = pd.read_csv(out)
    conversions, value = by_channel(table, "markov"), by_channel(table, "markov", "value")
    truth = {"search": 132.9323, "social": 122.3924, "display": 118.9097, "email": 117.2539, "affiliate": 116.5117}
    for channel, expected in truth.items():
        assert conversions[channel] == pytest.approx(expected, abs=0.01)
        assert value[channel] == pytest.approx(50 * conversions[channel], rel=1e-9)


def test_paths_higher_order_markov_keeps_the_total(shared_cases, tmp_path):
    out = tmp_path / "o2.csv"
    result = invoke("paths", shared_cases / "B25_conversion_value.csv", "-m", "markov", "--order", 2, "--out", out)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["conversions"].sum() == pytest.approx(608)


@pytest.mark.parametrize("args, error", [
    (["--model", "time-decay"], AttributionOptionError),   # a path table has no timestamps
    (["--model", "last-click"], AttributionOptionError),
    (["--order", "0"], AttributionOptionError),
])
def test_paths_refuses_options_it_cannot_honour(shared_cases, args, error):
    result = invoke("paths", shared_cases / "B22_repeated_touchpoints.csv", *args)
    assert isinstance(result.exception, error)
    assert isinstance(result.exception, MediamixError)


def test_missing_files_are_named(tmp_path):
    for command in ("paths", "journeys", "report"):
        result = invoke(command, tmp_path / "nope.csv")
        assert isinstance(result.exception, DataError), command
        assert "nope.csv" in str(result.exception)


def test_a_malformed_path_is_a_data_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("path,conversions,nulls\nsearch > > email,3,1\n")
    result = invoke("paths", bad)
    assert isinstance(result.exception, DataError) and "row 1" in str(result.exception)


# dp6 test_dataset.csv, lookback 4 weeks, by the journey rules (a conversion row that carries a
# channel is its journey's last touch; A's 2021 seo touch is too old for A's conversion):
#   A: direct > google_ads > direct (converts); seo alone (no conversion)
#   B: seo > direct (no conversion)
#   C: direct > crm > direct (converts)
#   D: seo > direct > direct (converts), then direct > direct > seo > direct (converts)
DP6_PATHS = {"direct > google_ads > direct": (1, 0), "direct > crm > direct": (1, 0),
             "seo > direct > direct": (1, 0), "direct > direct > seo > direct": (1, 0),
             "seo": (0, 1), "seo > direct": (0, 1)}


def dp6_journeys(shared_data, out):
    return invoke("journeys", shared_data / "dp6-marketing-attribution-models" / "test_dataset.csv",
                  "--person", "user_pseudo_id", "--timestamp", "event_time", "--channel", "source_medium",
                  "--conversion", "is_conversion_purchase", "--lookback-weeks", 4, "--out", out)


def test_journeys_from_events_by_hand(shared_data, tmp_path):
    out = tmp_path / "paths.csv"
    result = dp6_journeys(shared_data, out)
    assert result.exit_code == 0, result.output
    assert "6 journeys (4 converting)" in result.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["path", "conversions", "nulls", "journeys"]  # no value column given
    assert {p: (c, n) for p, c, n in table[["path", "conversions", "nulls"]].itertuples(index=False)} == DP6_PATHS


def test_journeys_output_feeds_paths(shared_data, tmp_path):
    paths_csv, credits = tmp_path / "paths.csv", tmp_path / "credits.csv"
    assert dp6_journeys(shared_data, paths_csv).exit_code == 0
    result = invoke("paths", paths_csv, "--model", "first", "--out", credits)
    assert result.exit_code == 0, result.output
    assert by_channel(pd.read_csv(credits), "first_touch") == {"crm": 0, "direct": 3, "google_ads": 0, "seo": 1}


def test_journeys_refuses_a_non_positive_lookback(shared_data):
    result = invoke("journeys", shared_data / "dp6-marketing-attribution-models" / "test_dataset.csv",
                    "--lookback-weeks", 0)
    assert isinstance(result.exception, AttributionOptionError)


def test_journeys_names_a_missing_column(shared_data):
    result = invoke("journeys", shared_data / "dp6-marketing-attribution-models" / "test_dataset.csv",
                    "--person", "visitor")
    assert isinstance(result.exception, DataError) and "'visitor'" in str(result.exception)


def test_report_writes_the_attribution_tab_from_a_path_table(shared_cases, tmp_path):
    out = tmp_path / "report"
    result = invoke("report", shared_cases / "B22_repeated_touchpoints.csv", "--out", out)
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"totals.csv", "positions.csv", "top_paths.csv", "effectiveness.csv"}
    totals = pd.read_csv(out / "totals.csv").set_index("channel")
    for model, truth in B22_TRUTH.items():
        for channel, expected in truth.items():
            assert totals.loc[channel, model] == pytest.approx(expected, abs=0.01)
    # display: closer on the 40-conversion path; starter, player, closer on the 20-conversion one
    positions = pd.read_csv(out / "positions.csv").set_index("channel")[["starter", "player", "closer"]]
    assert positions.loc["display"].tolist() == pytest.approx([20.0, 20.0, 60.0])
    assert positions.loc["social"].tolist() == pytest.approx([100.0, 0.0, 0.0])
    assert positions.sum(axis=1).to_numpy() == pytest.approx(100.0)


def test_report_from_events_adds_trends(shared_data, tmp_path):
    out = tmp_path / "report"
    result = invoke("report", shared_data / "dp6-marketing-attribution-models" / "test_dataset.csv", "--out", out,
                    "--person", "user_pseudo_id", "--timestamp", "event_time", "--channel", "source_medium",
                    "--conversion", "is_conversion_purchase", "--no-shapley")
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert {"trend_daily.csv", "trend_weekly.csv", "trend_monthly.csv", "totals.csv"} <= names
    totals = pd.read_csv(out / "totals.csv").set_index("channel")
    assert "shapley" not in totals.columns
    assert totals["first_touch"].to_dict() == {"crm": 0, "direct": 3, "google_ads": 0, "seo": 1}
    assert totals["time_decay"].sum() == pytest.approx(4)
    weekly = pd.read_csv(out / "trend_weekly.csv")
    assert weekly["conversions"].sum() == pytest.approx(4)  # linear credit of the 4 conversions, by week


def test_report_refuses_a_bad_order(shared_cases, tmp_path):
    result = invoke("report", shared_cases / "B22_repeated_touchpoints.csv", "--order", -1, "--out", tmp_path)
    assert isinstance(result.exception, AttributionOptionError)
