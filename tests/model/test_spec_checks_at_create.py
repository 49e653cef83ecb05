"""What training would refuse, clip or only note is checked when a model is created or edited
(Workspace.check_spec): lift tests against the data, a lift test reaching past the data, a lift
test inside the holdout (a warning), a holdout that leaves too little to fit, spline knots wider
than the training window, a training window reaching past the data (a warning), too few Laplace
draws; a refused create stores nothing and a refused edit leaves the model and its status as
they were. Every expected number is computed here from the data this file writes."""
import math
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mediamix.data.messages import amount
from mediamix.errors import DataError, MediamixError, SpecError
from mediamix.model.design import WEEKS_PER_YEAR, periods_beyond
from mediamix.model.spec import ModelSpec
from mediamix.registry import Status
from mediamix.workspace import Workspace

N = 156
DATES = pd.date_range("2022-01-03", periods=N, freq="7D")     # Mondays, 2022-01-03 .. 2024-12-23
FIRST, LAST = str(DATES[0].date()), str(DATES[-1].date())
DARK = slice(60, 80)                                           # tv spends nothing in rows 60-79
SPEC = {"name": "m", "data": "weekly", "conversion": "revenue", "touchpoints": ["tv", "search"],
        "factors": [{"column": "price"}], "holdout_weeks": 13, "seasonality_order": 1}


def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    tv = rng.uniform(10, 50, N).round(2)
    tv[DARK] = 0.0
    return pd.DataFrame({"date": DATES.strftime("%Y-%m-%d"), "revenue": rng.uniform(900, 1100, N).round(2),
                         "price": rng.uniform(9, 11, N).round(3), "tv_spend": tv,
                         "search_spend": rng.uniform(5, 20, N).round(2)})


@pytest.fixture
def ws(tmp_path):
    frame().to_csv(tmp_path / "weekly.csv", index=False)
    w = Workspace.init(tmp_path / "ws")
    w.load_data(tmp_path / "weekly.csv", name="weekly")
    return w


def lift(start, end, incremental=100.0, touchpoint="tv", standard_error=20.0):
    return {"touchpoint": touchpoint, "start": start, "end": end, "incremental": incremental,
            "standard_error": standard_error}


def day(row: int) -> str:
    return str(DATES[row].date())


def refused(ws, match, **changes):
    """create_model refuses the spec with a message matching `match`, and stores nothing."""
    with pytest.raises(MediamixError) as err:
        ws.create_model({**SPEC, **changes})
    assert re.search(match, str(err.value)), str(err.value)
    assert not ws.registry.has_model("m")
    return str(err.value)


# ---- 1. lift tests are checked against the data at create ----------------------------------------

def test_an_incremental_above_everything_observed_is_refused_at_create(ws):
    rows = slice(9, 13)                                         # 2022-03-07 .. 2022-03-28: 4 weeks
    total = float(frame()["revenue"].iloc[rows].sum())
    start, end = day(9), day(12)
    text = refused(ws, "is more than all the 'revenue' observed", lift_tests=[lift(start, end, total + 1)])
    assert text == (f"lift_tests[0] (tv, {start}..{end}): incremental {amount(total + 1)} is more than all the "
                    f"'revenue' observed in its 4 periods ({start}..{end}), {amount(total)} in total; a channel "
                    f"cannot cause more than everything observed. Check the value, its units (USD, summed over the "
                    f"test's periods) and the dates")
    # 4. A decrease is said as one, with its size.
    text = refused(ws, "a decrease of", lift_tests=[lift(start, end, -(total + 1))])
    assert f"a decrease of {amount(total + 1)} (incremental -{amount(total + 1)}) is more than all the" in text
    assert "|" not in text
    # Up to everything observed is accepted.
    ws.create_model({**SPEC, "lift_tests": [lift(start, end, -(total - 0.01))]})


def test_a_lift_test_before_the_data_or_in_weeks_without_spend_is_refused_at_create(ws):
    refused(ws, rf"lift_tests\[0\] \(tv, 2021-06-07..2021-06-28\): no period of the data starts in that range "
                rf"\(the data runs {FIRST}..{LAST}\)", lift_tests=[lift("2021-06-07", "2021-06-28")])
    # Rows 70-72 are dark and so are the 7 weeks before them (lookback 8): no contribution to measure.
    assert 70 - 7 >= DARK.start
    refused(ws, rf"lift_tests\[0\] \(tv, {day(70)}..{day(72)}\): channel 'tv' has no spend in that period or in "
                rf"the 7 periods before it", lift_tests=[lift(day(70), day(72))])
    # The second test is the bad one: it is the one named.
    refused(ws, r"^lift_tests\[1\]", lift_tests=[lift(day(20), day(22)), lift(day(70), day(72))])


# ---- 2. a lift test reaching past the data ------------------------------------------------------

def test_a_lift_test_running_past_the_end_of_the_data_is_refused_with_both_windows(ws):
    start, end = "2024-10-07", "2025-02-24"
    weeks = pd.date_range(start, end, freq="7D")               # the Monday weeks the test measures
    inside = int((weeks <= DATES[-1]).sum())
    assert (len(weeks), inside) == (21, 12)
    text = refused(ws, "fall outside the training window", lift_tests=[lift(start, end)])
    assert text.startswith(
        f"lift_tests[0] (tv, {start}..{end}): {len(weeks) - inside} of its {len(weeks)} periods fall outside the "
        f"training window {FIRST}..{LAST} ({len(weeks) - inside} after the data ends on {LAST}): it would be scored "
        f"over only the {inside} inside.")
    assert f"shorten the test to the window ({start}..{LAST}, with the incremental measured" in text
    assert f"or load data through {weeks[-1].date()}" in text


def test_a_lift_test_starting_before_the_data_is_refused_too(ws):
    start, end = "2021-11-01", "2022-02-28"
    weeks = pd.date_range(start, end, freq="7D")
    before = int((weeks < DATES[0]).sum())
    text = refused(ws, "fall outside the training window", lift_tests=[lift(start, end)])
    assert (f"{before} of its {len(weeks)} periods fall outside the training window {FIRST}..{LAST} ({before} before "
            f"the data begins on {FIRST})") in text
    assert f"or load data from {weeks[0].date()}" in text


def test_a_lift_test_outside_a_narrower_training_window_asks_to_widen_it(ws):
    training = {"start": day(10), "end": day(140)}
    text = refused(ws, "fall outside the training window", training=training, lift_tests=[lift(day(138), day(143))])
    assert f"3 of its 6 periods fall outside the training window {day(10)}..{day(140)} (3 in the data but outside " \
           f"the training window)" in text
    assert "widen the training window (training.start / training.end)" in text


def test_a_lift_test_ending_within_the_last_week_is_accepted(ws):
    # The last week starts on 2024-12-23 and runs to 2024-12-29: a test ending then has no week past the data.
    end = str((DATES[-1] + pd.Timedelta(days=6)).date())
    assert ws.create_model({**SPEC, "holdout_weeks": 0, "lift_tests": [lift(day(150), end)]}) is not None


# ---- 3. a lift test inside the holdout ---------------------------------------------------------

def test_a_lift_test_inside_the_holdout_is_accepted_with_a_warning(ws):
    holdout_rows = range(N - 13, N)                            # holdout_weeks 13 on weekly data
    test_rows = [145, 146, 147]
    after = N - 1 - test_rows[-1]                              # training weeks after the test: 8
    warnings = ws.create_model({**SPEC, "lift_tests": [lift(day(145), day(147))]})
    note = [w for w in warnings if w.startswith("lift_tests[0]")]
    assert note == [(
        f"lift_tests[0] (tv, {day(145)}..{day(147)}): 3 of its 3 periods lie in the holdout ({day(holdout_rows[0])}.."
        f"{LAST}, the last holdout_weeks 13 of the training window). The test enters the fit there, so the holdout "
        f"is not a clean out-of-sample check of 'tv': holdout_weeks: {after} or less starts the holdout after the "
        f"test; or keep both, reading the holdout error as optimistic")]
    # The fix it names is quiet; one week more is not.
    assert not [w for w in ws.check_spec(ws.spec("m").replace(holdout_weeks=after)) if "holdout" in w]
    assert [w for w in ws.check_spec(ws.spec("m").replace(holdout_weeks=after + 1)) if "holdout" in w]
    # A test in the last weeks leaves only no holdout.
    last = ws.check_spec(ws.spec("m").replace(lift_tests=ModelSpec.from_dict(
        {**SPEC, "lift_tests": [lift(day(N - 3), LAST)]}).lift_tests))
    assert any("only holdout_weeks: 0 (no holdout) keeps it clean" in w for w in last)


def test_the_command_prints_the_holdout_warning(ws, tmp_path):
    spec = tmp_path / "m.yaml"
    spec.write_text(ModelSpec.from_dict({**SPEC, "lift_tests": [lift(day(145), day(147))]}).to_yaml())
    out = subprocess.run([sys.executable, "-m", "mediamix.cli", "model", "create", str(spec), "-w", str(ws.root)],
                         capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "2000"})
    assert out.returncode == 0, out.stderr
    assert "warning:" in out.stdout and "the holdout is not a clean out-of-sample check of 'tv'" in out.stdout


# ---- 5. other values the data says cannot work -------------------------------------------------

def test_a_holdout_that_leaves_too_little_to_fit_is_refused_with_the_numbers(ws):
    channels, factor_columns = 2, 1                            # tv, search; price
    need = max(26, 4 * (channels + factor_columns))            # the rule training applies: 26
    most = N - need                                            # weekly: holdout_weeks = holdout periods
    text = refused(ws, r"^holdout_weeks: 150 ", holdout_weeks=150)
    assert text == (f"holdout_weeks: 150 leaves {N - 150} of the training window's {N} weeks ({FIRST}..{LAST}) to "
                    f"fit; the fit needs at least {need}: 26, or 4 per channel and factor column, 4 x (2 + 1) = 12, "
                    f"whichever is more. Set holdout_weeks to at most {most}, or 0 for no holdout, or train on more data")
    text = refused(ws, r"^holdout_weeks: 500 is as long as the whole training window, 156 weeks", holdout_weeks=500)
    assert f"at most {most}," in text
    refused(ws, r"^holdout_weeks: 131 ", holdout_weeks=most + 1)
    ws.create_model({**SPEC, "holdout_weeks": most})


def test_the_holdout_rule_counts_months_on_monthly_data(tmp_path):
    months = pd.date_range("2021-01-01", periods=36, freq="MS")
    rng = np.random.default_rng(2)
    pd.DataFrame({"date": months.strftime("%Y-%m-%d"), "revenue": rng.uniform(900, 1100, 36),
                  "tv_spend": rng.uniform(10, 50, 36), "search_spend": rng.uniform(5, 20, 36)}
                 ).to_csv(tmp_path / "monthly.csv", index=False)
    w = Workspace.init(tmp_path / "ws")
    w.load_data(tmp_path / "monthly.csv", name="monthly")
    spec = {**SPEC, "data": "monthly", "factors": [], "lookback_weeks": 4}
    # 36 months, 26 to fit: at most 10 holdout months; holdout_weeks W is round(W x 12 / 52.1775) months.
    most = max(w for w in range(200) if round(w * 12 / WEEKS_PER_YEAR) <= 10)
    assert most == 45
    with pytest.raises(SpecError) as err:
        w.create_model({**spec, "holdout_weeks": most + 1})
    assert str(err.value).startswith(f"holdout_weeks: {most + 1} (11 months) leaves 25 of the training window's 36 "
                                     f"months")
    assert f"at most {most}," in str(err.value)
    w.create_model({**spec, "holdout_weeks": most})


def test_spline_knots_wider_than_the_training_window_are_refused(ws):
    span = (DATES[-1] - DATES[0]).days / 7                     # 155 weeks from the first week's start to the last's
    assert span == 155
    text = refused(ws, r"^trend_knot_weeks: 155 weeks between knots is not shorter than the training window, 155 "
                       rf"weeks \({FIRST}..{LAST}\)", trend="spline", trend_knot_weeks=155)
    assert "set trend_knot_weeks below 155" in text
    tv = [{"name": "tv", "spend": "tv_spend", "time_varying": True}, "search"]
    text = refused(ws, r"^effect_knot_weeks: 200 ", touchpoints=tv, effect_knot_weeks=200)
    assert "time-varying effects (touchpoints[tv])" in text
    # Unused knot settings are not judged; a narrower window is.
    ws.create_model({**SPEC, "name": "unused", "trend_knot_weeks": 500})
    refused(ws, r"^trend_knot_weeks: 52 .*, 52 weeks", trend="spline", trend_knot_weeks=52,
            training={"start": day(100), "end": day(152)}, holdout_weeks=0, lookback_weeks=6)
    ws.create_model({**SPEC, "trend": "spline", "trend_knot_weeks": 154})


def test_a_training_window_past_the_data_is_clipped_with_a_warning(ws):
    start = "2021-01-04"
    missing = int((pd.date_range(start, FIRST, freq="7D") < DATES[0]).sum())     # 52 weeks before the data
    warnings = ws.create_model({**SPEC, "training": {"start": start}})
    assert (f"training.start {start} is before the data's first date {FIRST} (the data runs {FIRST}..{LAST}); "
            f"training starts at {FIRST}, {missing} weeks later than asked.") in " ".join(warnings)
    ws.delete("m")
    # A start inside the first week (a Saturday before the Monday) leaves no week out: no warning.
    assert not [w for w in ws.create_model({**SPEC, "training": {"start": "2022-01-01"}}) if "training." in w]
    ws.delete("m")
    asked = round(10 * WEEKS_PER_YEAR)
    warnings = ws.create_model({**SPEC, "training": {"last_years": 10}})
    assert (f"training.last_years 10 asks for {asked} weeks, but the data holds {N} ({round(N / WEEKS_PER_YEAR, 2)} "
            f"years; the data runs {FIRST}..{LAST}); training uses all of it, from the data's first date "
            f"{FIRST}") in " ".join(warnings)
    ws.delete("m")
    end = "2025-03-03"
    warnings = ws.create_model({**SPEC, "training": {"end": end}})
    late = len(pd.date_range(LAST, end, freq="7D")) - 1
    assert f"training ends at {LAST}, {late} weeks earlier than asked" in " ".join(warnings)


def test_laplace_needs_a_hundred_draws_at_create_but_a_stored_spec_still_opens(ws):
    text = refused(ws, r"^sampler\.draws: a Laplace fit", sampler={"method": "laplace", "draws": 3})
    assert "chains x draws = 2 x 3 = 6 independent draws, and needs at least 100" in text
    assert f"Set sampler.draws to at least {math.ceil(100 / 2)} (with chains 2)" in text
    refused(ws, r"at least 34 \(with chains 3\)", sampler={"method": "laplace", "chains": 3, "draws": 33})
    ws.create_model({**SPEC, "sampler": {"method": "laplace", "chains": 2, "draws": 50}})
    ws.delete("m")
    ws.create_model({**SPEC, "sampler": {"chains": 1, "draws": 3}})                   # NUTS: its diagnostics judge it
    ws.delete("m")
    # A model stored before the rule opens, is named as a problem and can be edited to a fix.
    legacy = ModelSpec.from_dict({**SPEC, "sampler": {"method": "laplace", "draws": 3}})
    ws.registry.create_model("m", description="", conversion="revenue", spec_yaml=legacy.to_yaml(),
                             run_frequency="manual")
    assert ws.spec("m") == legacy
    assert ws.info("m")["data_error"].startswith("sampler.draws: a Laplace fit")
    ws.edit("m", **{"sampler.draws": 500})
    assert ws.spec("m").sampler.draws == 500 and ws.info("m")["data_error"] is None


# ---- a refused edit changes nothing ------------------------------------------------------------

def stored(w):
    rec = w.registry.get_model("m")
    return rec.spec_yaml, rec.spec_version, rec.status, rec.status_reasons, len(w.registry.audit_events("m"))


@pytest.mark.parametrize("changes", [
    {"lift_tests": [lift("2024-10-07", "2025-02-24")]},                      # past the data
    {"lift_tests": [lift(day(9), day(12), 10_000_000.0)]},                   # above everything observed
    {"lift_tests": [lift("2021-06-07", "2021-06-28")]},                      # before the data
    {"lift_tests": [lift(day(70), day(72))]},                                # no spend
    {"holdout_weeks": 500},
    {"trend": "spline", "trend_knot_weeks": 200},
    {"sampler.method": "laplace", "sampler.draws": 3},
])
def test_a_refused_edit_leaves_the_model_and_its_status_unchanged(ws, changes):
    ws.create_model(SPEC)
    run = ws.registry.start_run("m", "train")
    ws.registry.finish_run(run, Status.TRAINING_ISSUE, reasons=["max R-hat 1.05 > 1.01"])
    before = stored(ws)
    with pytest.raises(MediamixError):
        ws.edit("m", **changes)
    assert stored(ws) == before and before[2] is Status.TRAINING_ISSUE


def test_an_accepted_edit_with_a_test_in_the_holdout_shows_the_warning_in_info(ws):
    ws.create_model(SPEC)
    ws.edit("m", lift_tests=[lift(day(145), day(147))])
    assert ws.registry.get_model("m").status is Status.AWAITING_TRAINING
    assert any("is not a clean out-of-sample check" in w for w in ws.info("m")["data_warnings"])


# ---- the grid past the data's ends --------------------------------------------------------------

def test_periods_beyond_the_data_follow_its_cadence():
    fridays = pd.date_range("2024-01-05", periods=10, freq="7D")             # last 2024-03-08
    before, after = periods_beyond(fridays, pd.Timestamp("2023-12-20"), pd.Timestamp("2024-03-28"), 7.0)
    assert list(before) == [pd.Timestamp("2023-12-22"), pd.Timestamp("2023-12-29")]
    assert list(after) == [pd.Timestamp("2024-03-15"), pd.Timestamp("2024-03-22")]
    ends = pd.date_range("2023-01-31", periods=24, freq="ME")                # month ends, last 2024-12-31
    _, after = periods_beyond(ends, ends[0], pd.Timestamp("2025-03-15"), 365.25 / 12)
    assert list(after) == [pd.Timestamp("2025-01-31"), pd.Timestamp("2025-02-28")]
    starts = pd.date_range("2023-01-01", periods=24, freq="MS")
    before, after = periods_beyond(starts, pd.Timestamp("2022-11-15"), pd.Timestamp("2025-03-15"), 365.25 / 12)
    assert list(before) == [pd.Timestamp("2022-12-01")]
    assert list(after) == [pd.Timestamp(f"2025-0{m}-01") for m in (1, 2, 3)]
    days = pd.date_range("2024-01-01", periods=5, freq="D")
    assert [len(x) for x in periods_beyond(days, days[0], days[-1], 1.0)] == [0, 0]


# ---- the worker's options -----------------------------------------------------------------------

def flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_worker_refuses_a_poll_that_is_not_a_positive_wait(value):
    out = CliRunner().invoke(__import__("mediamix.cli", fromlist=["app"]).app, ["worker", "--once", "--poll", value])
    assert out.exit_code == 2
    assert "Invalid value for --poll" in flat(out.output) and "must be a number above 0, e.g. --poll 5" in flat(out.output)


def test_worker_refuses_fewer_than_one_job():
    out = CliRunner().invoke(__import__("mediamix.cli", fromlist=["app"]).app, ["worker", "--once", "--jobs", "0"])
    assert out.exit_code == 2 and "'--jobs'" in flat(out.output)


def test_lift_checks_at_create_are_the_ones_training_makes(ws):
    """The design check_spec builds is the one train builds: lift_arrays refuses what create refused."""
    from mediamix.model.calibration import lift_arrays
    from mediamix.model.design import build_design
    spec = ModelSpec.from_dict({**SPEC, "lift_tests": [lift("2024-10-07", "2025-02-24")]})
    design = build_design(frame().assign(date=DATES), spec)
    with pytest.raises(DataError) as at_train:
        lift_arrays(spec, design)
    with pytest.raises(DataError) as at_create:
        ws.create_model(spec)
    assert str(at_train.value) == str(at_create.value)
