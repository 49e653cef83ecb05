"""Transfer between MTA and MMM. Small tables are checked against numbers worked out by hand from
the documented formulas; the end-to-end test judges both directions against the people
simulator's truth (the true cause of every conversion)."""
import time

import numpy as np
import pandas as pd
import pytest

from mediamix.attribution.transfer import (calibrate_credits, confidence_for_logit_sd, mta_prior_table, mta_priors,
                                           mta_weekly_credit, share_errors, spec_with_mta_priors, train_with_mta,
                                           transfer_errors, weekly_credit_errors)
from mediamix.data.simulate_people import PeopleSimulationSpec, simulate_people
from mediamix.errors import DataError, SpecError
from mediamix.model.priors import logit_sd_for_confidence
from mediamix.model.spec import ModelSpec, PriorSpec


def spec_of(channels, priors=(), **extra):
    return ModelSpec.from_dict({
        "name": "m", "data": "d", "conversion": {"column": "conversions", "kind": "count"},
        "touchpoints": [{"name": c, "spend": f"{c}_spend"} for c in channels],
        "priors": [p.__dict__ for p in priors], **extra})


# ---- MTA -> MMM priors ---------------------------------------------------------------------

def test_mta_priors_follow_the_documented_mapping():
    incremental = pd.DataFrame({"channel": ["search", "email", "display"],
                                "incremental_conversions": [100.0, 100.0, -5.0], "sd": [10.0, 10.0, 20.0]})
    priors = mta_priors(incremental, total_conversions=1000, coverage={"email": 0.5})
    by = {p.touchpoint: p for p in priors}
    # search: share 100/1000; logit sd = sqrt((0.1/0.9)^2 + 0.25^2) = 0.273579
    assert by["search"].share == pytest.approx(10.0)
    assert by["search"].confidence == pytest.approx(100 * (1 - (0.273579 - 0.05) / 2), abs=0.01)
    # email: half its activity seen -> share 100/(0.5*1000); sqrt((0.1/0.8)^2 + 0.25^2 + 0.5^2) = 0.572822
    assert by["email"].share == pytest.approx(20.0)
    assert by["email"].confidence == pytest.approx(100 * (1 - (0.572822 - 0.05) / 2), abs=0.01)
    # display: negative estimate -> centre floored at sd/2 = 10 (1 %), relative sd 2 -> nearly flat
    assert by["display"].share == pytest.approx(1.0)
    assert by["display"].confidence == pytest.approx(100 * (1 - (np.sqrt((2 / 0.99) ** 2 + 0.0625) - 0.05) / 2),
                                                     abs=0.01)
    assert {p.source for p in priors} == {"mta"}


def test_confidence_round_trips_through_the_prior_width():
    table = mta_prior_table(pd.DataFrame({"channel": ["a"], "incremental_conversions": [50.0], "sd": [5.0]}), 400)
    assert logit_sd_for_confidence(table["confidence"].iloc[0]) == pytest.approx(table["logit_sd"].iloc[0])
    assert confidence_for_logit_sd(0.0) == 100.0 and confidence_for_logit_sd(5.0) == 0.0


@pytest.mark.parametrize("incremental, total, coverage", [
    (pd.DataFrame({"channel": ["a"], "incremental_conversions": [1.0]}), 10, None),        # no sd column
    (pd.DataFrame({"channel": ["a"], "incremental_conversions": [1.0], "sd": [0.1]}), 0, None),
    (pd.DataFrame({"channel": ["a"], "incremental_conversions": [1.0], "sd": [0.1]}), 10, {"a": 1.5}),
])
def test_mta_priors_refuse_unusable_inputs(incremental, total, coverage):
    with pytest.raises(DataError):
        mta_priors(incremental, total, coverage)


def test_user_priors_win_and_old_mta_priors_are_replaced():
    user = PriorSpec("search", 5.0, 50.0, "experiment")
    old = PriorSpec("social", 3.0, 60.0, "mta")
    spec = spec_of(["search", "social", "email", "tv"], priors=[user, old])
    new = [PriorSpec("search", 9.0, 90.0, "mta"), PriorSpec("social", 4.0, 88.0, "mta"),
           PriorSpec("email", 2.0, 85.0, "mta")]
    updated = spec_with_mta_priors(spec, new)
    assert updated.prior_for("search") == user
    assert updated.prior_for("social") == PriorSpec("social", 4.0, 88.0, "mta")
    assert updated.prior_for("email") == PriorSpec("email", 2.0, 85.0, "mta")
    assert updated.prior_for("tv") is None
    assert [p.touchpoint for p in updated.priors] == ["search", "social", "email"]


def test_mta_priors_for_an_unknown_channel_are_refused():
    with pytest.raises(SpecError, match="affiliate"):
        spec_with_mta_priors(spec_of(["search"]), [PriorSpec("affiliate", 2.0, 80.0, "mta")])


# ---- MMM -> MTA calibration -------------------------------------------------------------------

def scores_table(rows):
    return pd.DataFrame([{"date": pd.Timestamp(d), "component": c, "kind": k, "mean": m} for d, c, k, m in rows])


W1, W2 = "2024-01-01", "2024-01-08"  # Monday weeks
SCORES = scores_table([
    (W1, "base", "base", 100.0), (W2, "base", "base", 110.0),
    (W1, "search", "channel", 20.0), (W2, "search", "channel", 40.0),
    (W1, "email", "channel", 4.0), (W2, "email", "channel", 6.0),
    (W1, "tv", "channel", 10.0), (W2, "tv", "channel", 0.0),
    (W1, "predicted", "total", 134.0), (W2, "predicted", "total", 156.0),
])
MTA = pd.DataFrame({  # weeks given mid-week: they belong to the MMM week that contains them
    "week": pd.to_datetime(["2024-01-03", "2024-01-03", "2024-01-10", "2024-01-10", "2024-01-02",
                            "2024-01-16", "2024-01-02"]),
    "channel": ["search", "search", "search", "search", "email", "search", "affiliate"],
    "campaign": ["a", "b", "a", "b", "news", "a", "x"],
    "credit": [30.0, 10.0, 5.0, 15.0, 8.0, 7.0, 3.0]})


def test_calibration_rescales_each_channel_week_to_the_mmm():
    out = calibrate_credits(MTA, SCORES)
    cal = out.set_index(["week", "channel", "campaign"])
    w1, w2 = pd.Timestamp(W1), pd.Timestamp(W2)
    # search week 1: 30 and 10 share the MMM's 20 -> 15 and 5; week 2: 5 and 15 share 40 -> 10 and 30
    assert cal.loc[(w1, "search", "a"), "calibrated_credit"] == pytest.approx(15.0)
    assert cal.loc[(w1, "search", "b"), "calibrated_credit"] == pytest.approx(5.0)
    assert cal.loc[(w2, "search", "a"), "calibrated_credit"] == pytest.approx(10.0)
    assert cal.loc[(w2, "search", "b"), "calibrated_credit"] == pytest.approx(30.0)
    assert cal.loc[(w1, "search", "a"), "raw_credit"] == 30.0
    assert cal.loc[(w1, "search", "a"), "mmm_contribution"] == 20.0
    assert cal.loc[(w1, "email", "news"), "calibrated_credit"] == pytest.approx(4.0)

    def row(week, channel):
        r = out[(out["week"] == pd.Timestamp(week)) & (out["channel"] == channel)]
        assert len(r) == 1, (week, channel)
        return r.iloc[0]

    # email has MMM contribution in week 2 but no MTA credit: reported, carries the MMM's 6, no division
    email2 = row(W2, "email")
    assert (email2["status"], email2["raw_credit"], email2["calibrated_credit"]) == ("no mta credit", 0.0, 6.0)
    # offline tv and the base come from the MMM alone
    for week, channel, value in ((W1, "tv", 10.0), (W2, "tv", 0.0), (W1, "base", 100.0), (W2, "base", 110.0)):
        r = row(week, channel)
        assert r["status"] == "mmm only" and np.isnan(r["raw_credit"]) and r["calibrated_credit"] == value
    assert row("2024-01-16", "search")["status"] == "outside mmm"  # keeps the week it was given
    assert np.isnan(row("2024-01-16", "search")["calibrated_credit"])
    assert row(W1, "affiliate")["status"] == "not in mmm"
    # inside the scored range, calibrated credit adds up to the MMM's prediction of each week
    known = out[out["status"].isin(["calibrated", "no mta credit", "mmm only"])]
    assert known.groupby("week")["calibrated_credit"].sum().tolist() == pytest.approx([134.0, 156.0])


def test_calibration_maps_mta_channel_names():
    mta = pd.DataFrame({"week": [pd.Timestamp(W1)], "channel": ["google / cpc"], "credit": [8.0]})
    out = calibrate_credits(mta, SCORES, channel_map={"google / cpc": "search"})
    row = out[(out["channel"] == "search") & (out["week"] == pd.Timestamp(W1))].iloc[0]
    assert (row["raw_credit"], row["calibrated_credit"], row["status"]) == (8.0, 20.0, "calibrated")


def test_calibration_follows_the_mmm_periods_even_monthly():
    scores = scores_table([("2024-01-01", "search", "channel", 12.0), ("2024-02-01", "search", "channel", 9.0)])
    mta = pd.DataFrame({"week": pd.to_datetime(["2024-01-31 23:00", "2024-02-01 00:00", "2024-02-29 12:00", "2024-03-02 00:00"]),
                        "channel": "search", "credit": [3.0, 1.0, 2.0, 5.0]})
    out = calibrate_credits(mta, scores)
    inside = out[out["status"] == "calibrated"].groupby("week")["calibrated_credit"].sum()
    assert inside.to_dict() == {pd.Timestamp("2024-01-01"): 12.0, pd.Timestamp("2024-02-01"): pytest.approx(9.0)}
    assert out.loc[out["week"] == pd.Timestamp("2024-02-01"), "calibrated_credit"].tolist() == \
        pytest.approx([3.0, 6.0])  # 1 and 2 of February's 3 share its 9
    assert out.loc[out["status"] == "outside mmm", "week"].tolist() == [pd.Timestamp("2024-03-02")]
    # dated by the last day of each month: the same credits belong to the months they fall in
    month_ends = scores.assign(date=pd.to_datetime(["2024-01-31", "2024-02-29"]))
    by_end = calibrate_credits(mta, month_ends)
    assert by_end[by_end["status"] == "calibrated"].groupby("week")["calibrated_credit"].sum().to_dict() == \
        {pd.Timestamp("2024-01-31"): 12.0, pd.Timestamp("2024-02-29"): pytest.approx(9.0)}


def test_calibration_needs_credit_and_scores_columns():
    with pytest.raises(DataError, match="credit"):
        calibrate_credits(MTA.drop(columns="credit"), SCORES)
    with pytest.raises(DataError, match="mean"):
        calibrate_credits(MTA, SCORES.drop(columns="mean"))


def test_error_tables_by_hand():
    scores = pd.concat([SCORES, scores_table([(W1, "actual", "total", 140.0), (W2, "actual", "total", 160.0)])])
    truth = pd.DataFrame({"week": pd.to_datetime([W1, W1, W1, W1, W2, W2, W2, W2]),
                          "channel": ["base", "search", "email", "tv", "base", "search", "email", "tv"],
                          "conversions": [100.0, 24.0, 6.0, 10.0, 110.0, 36.0, 9.0, 5.0]})  # 140 + 160
    shares = share_errors(scores, truth).set_index("channel")
    assert shares.loc["search", "true_share"] == pytest.approx(100 * 60 / 300)
    assert shares.loc["search", "estimated_share"] == pytest.approx(100 * 60 / 300)
    assert shares.loc["email", "abs_error"] == pytest.approx(100 * abs(10 - 15) / 300)
    assert shares.loc["tv", "abs_error"] == pytest.approx(100 * abs(10 - 15) / 300)

    calibrated = calibrate_credits(MTA, SCORES)
    errors = weekly_credit_errors(calibrated, truth).set_index("channel")
    # search: raw 40, 20 vs truth 24, 36 -> 16; calibrated 20, 40 -> 4 (week 3 is outside the MMM)
    assert errors.loc["search", "raw_mae"] == pytest.approx(16.0)
    assert errors.loc["search", "calibrated_mae"] == pytest.approx(4.0)
    # email: raw 8, 0 vs 6, 9 -> 5.5; calibrated 4, 6 -> 2.5
    assert errors.loc["email", "raw_mae"] == pytest.approx(5.5)
    assert errors.loc["email", "calibrated_mae"] == pytest.approx(2.5)
    assert errors.loc["all", "raw_mae"] == pytest.approx((16 + 16 + 2 + 9) / 4)
    table = transfer_errors(truth, mmm_with_mta=scores, calibrated=calibrated)
    assert table["comparison"].tolist() == ["MMM with MTA priors", "MTA weekly credit, raw",
                                            "MTA weekly credit, calibrated to the MMM"]
    assert table["error"].iloc[2] == pytest.approx((4 + 4 + 2 + 3) / 4)


# ---- the people simulator ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_world():
    return simulate_people(PeopleSimulationSpec(weeks=30, people=5_000, seed=4))


def test_simulated_views_agree_with_each_other(small_world):
    sim = small_world
    weekly, events, truth = sim.weekly, sim.events, sim.true_weekly()
    # the MMM's weekly conversions are the sum of every cause; MTA sees the same conversions
    assert weekly["conversions"].tolist() == truth.sum(axis=1).tolist()
    assert int(events["is_conversion"].sum()) == int(truth.to_numpy().sum())
    # tracked exposures per channel and week are exactly the events; offline channels leave none
    touches = events[~events["is_conversion"]]
    assert set(touches["channel"]) == set(sim.online_channels)
    week = (touches["timestamp"] - pd.Timestamp(sim.spec.start)).dt.days // 7
    counts = touches.groupby([week, touches["channel"]]).size().unstack(fill_value=0)
    for ch in sim.online_channels:
        assert counts[ch].reindex(range(sim.spec.weeks), fill_value=0).tolist() == weekly[f"{ch}_exposures"].tolist()
    assert (weekly[[f"{c}_spend" for c in sim.offline_channels]].to_numpy() >= 0).all()


def test_every_online_conversion_follows_its_cause(small_world):
    sim = small_world
    online = sim.causes[sim.causes["exposure"] >= 0]
    source = sim.events.iloc[online["exposure"].to_numpy()]
    assert (source["person_id"].to_numpy() == online["person_id"].to_numpy()).all()
    assert (source["channel"].to_numpy() == online["cause"].to_numpy()).all()
    delay = (online["timestamp"].to_numpy() - source["timestamp"].to_numpy()) / np.timedelta64(1, "D")
    assert (delay > 0).all() and (delay <= sim.spec.max_delay_days + 1e-4).all()
    assert set(sim.causes.loc[sim.causes["exposure"] < 0, "cause"]) == {"base", *sim.offline_channels}


def test_realised_truth_matches_the_expected_process(small_world):
    totals = small_world.truth.groupby("component")[["conversions", "expected"]].sum()
    # realised counts are Poisson/binomial around the expectation: within 4 sd
    assert ((totals["conversions"] - totals["expected"]).abs() <= 4 * np.sqrt(totals["expected"]) + 1).all()
    spec = small_world.spec
    by_channel = {c.name: c for c in spec.online}
    exposures = small_world.weekly[[f"{c}_exposures" for c in by_channel]].sum()
    for name, ch in by_channel.items():  # every exposure converts with its probability (minus the last weeks' tail)
        assert totals.loc[name, "expected"] <= ch.conversion_probability * exposures[f"{name}_exposures"] + 1e-6


def test_simulation_is_seeded():
    a = simulate_people(PeopleSimulationSpec(weeks=8, people=1_000, seed=2))
    b = simulate_people(PeopleSimulationSpec(weeks=8, people=1_000, seed=2))
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.truth, b.truth)


# ---- end to end: both directions on the simulated world ----------------------------------------

WEEKS = 52  # one year, online channels nearly collinear: the MMM alone cannot split them


@pytest.fixture(scope="module")
def transfer_run(tmp_path_factory):
    from mediamix.workspace import Workspace

    started = time.perf_counter()
    sim = simulate_people(PeopleSimulationSpec(weeks=WEEKS, seed=11))
    root = tmp_path_factory.mktemp("transfer")
    ws = Workspace.init(root / "ws")
    sim.weekly.to_csv(root / "world.csv", index=False)
    ws.load_data(root / "world.csv", "world")
    base = {"data": "world", "conversion": {"column": "conversions", "kind": "count"},
            "touchpoints": [{"name": c, "spend": f"{c}_spend"} for c in sim.channels],
            "lookback_weeks": 4, "holdout_weeks": 0, "seasonality_order": 2,
            "sampler": {"chains": 2, "warmup": 300, "draws": 300, "seed": 1},
            "thresholds": {"max_rhat": 1.1, "min_ess": 50, "max_divergences": 20, "max_holdout_smape_ratio": 5.0}}
    for name in ("mmm-alone", "mmm-mta"):
        ws.create_model(ModelSpec.from_dict({"name": name, **base}))
    ws.train("mmm-alone", progress=False)
    run = train_with_mta(ws, "mmm-mta", sim.events)
    alone, with_mta = ws.score("mmm-alone"), ws.score("mmm-mta")
    periods = with_mta["date"].unique()
    raw = {credit: mta_weekly_credit(run.journeys, run.attribution, credit, periods=periods)
           for credit in ("influenced", "incremental")}
    raw["linear"] = mta_weekly_credit(run.journeys, "linear", periods=periods)
    calibrated = {name: calibrate_credits(table, with_mta) for name, table in raw.items()}
    print(f"\nend-to-end transfer run: {time.perf_counter() - started:.1f} s")
    return {"sim": sim, "ws": ws, "run": run, "alone": alone, "with_mta": with_mta, "calibrated": calibrated}


def test_mta_priors_enter_the_trained_spec(transfer_run):
    run, ws = transfer_run["run"], transfer_run["ws"]
    stored = ws.spec("mmm-mta")
    assert {p.touchpoint for p in stored.priors} == set(transfer_run["sim"].online_channels)
    assert {p.source for p in stored.priors} == {"mta"}
    assert ws.fitted("mmm-mta").spec.priors == stored.priors
    assert run.train.status in ("Success", "Training issue")
    assert (run.evidence["confidence"] > 50).all()
    assert ws.spec("mmm-alone").priors == ()


def test_mta_priors_make_the_mmm_recover_true_shares_better(transfer_run):
    truth = transfer_run["sim"].true_incremental()
    without = share_errors(transfer_run["alone"], truth)
    with_mta = share_errors(transfer_run["with_mta"], truth)
    print("\nshare errors without MTA priors (% points):\n", without.round(2).to_string(index=False))
    print("share errors with MTA priors (% points):\n", with_mta.round(2).to_string(index=False))
    e_without, e_with = without["abs_error"].mean(), with_mta["abs_error"].mean()
    print(f"mean absolute share error: without MTA priors {e_without:.2f} pp, with {e_with:.2f} pp")
    assert e_with < 0.6 * e_without
    online = transfer_run["sim"].online_channels  # the gain is where MTA sees
    assert with_mta.set_index("channel").loc[online, "abs_error"].mean() < \
        0.5 * without.set_index("channel").loc[online, "abs_error"].mean()


@pytest.mark.parametrize("raw_credit", ["influenced", "linear"])
def test_calibrated_mta_credit_is_closer_to_the_truth(transfer_run, raw_credit):
    truth = transfer_run["sim"].true_incremental()
    errors = weekly_credit_errors(transfer_run["calibrated"][raw_credit], truth)
    print(f"\nweekly credit errors, raw = {raw_credit} (conversions per channel-week):\n",
          errors.round(2).to_string(index=False))
    overall = errors.set_index("channel").loc["all"]
    assert overall["calibrated_mae"] < 0.5 * overall["raw_mae"]
    assert overall["weeks"] == WEEKS * len(transfer_run["sim"].online_channels)


def test_headline_error_table(transfer_run):
    truth = transfer_run["sim"].true_incremental()
    table = transfer_errors(truth, transfer_run["alone"], transfer_run["with_mta"],
                            transfer_run["calibrated"]["influenced"])
    incremental = weekly_credit_errors(transfer_run["calibrated"]["incremental"], truth).iloc[-1]
    print("\n" + table.round(2).to_string(index=False))
    print(f"(for reference: the algorithmic model's incremental credit, uncalibrated {incremental['raw_mae']:.2f}, "
          f"calibrated {incremental['calibrated_mae']:.2f} conversions per channel-week)")
    errors = dict(zip(table["comparison"], table["error"]))
    assert errors["MMM with MTA priors"] < errors["MMM without MTA priors"]
    assert errors["MTA weekly credit, calibrated to the MMM"] < errors["MTA weekly credit, raw"]


def test_cli_fast_fit_with_mta_priors(transfer_run, tmp_path):
    """`model train NAME --fast --mta-events FILE`: the same MTA priors as the NUTS run above,
    then a Laplace fit; the stored spec keeps method nuts and gains the priors."""
    from typer.testing import CliRunner

    from mediamix.cli import app
    ws = transfer_run["ws"]
    ws.duplicate("mmm-alone", "mmm-mta-fast")
    events = tmp_path / "events.csv"
    transfer_run["sim"].events.to_csv(events, index=False)
    out = CliRunner().invoke(app, ["model", "train", "mmm-mta-fast", "--fast", "--mta-events", str(events),
                                   "--workspace", str(ws.root)])
    assert out.exit_code == 0, out.output
    assert "method laplace (approximate)" in out.output and "MTA prior for" in out.output
    stored = ws.spec("mmm-mta-fast")
    assert stored.priors == ws.spec("mmm-mta").priors and {p.source for p in stored.priors} == {"mta"}
    assert stored.sampler.method == "nuts" and ws.fitted("mmm-mta-fast").spec.sampler.method == "laplace"


# ---- MTA priors for count and revenue models, partial coverage, names, reading events ------------

MTA_WEEKS = 40  # lookback 4 needs 32 training weeks


@pytest.fixture(scope="module")
def priors_world(tmp_path_factory):
    """A 40-week people world with a value on every conversion row (lognormal, seeded) and weekly
    data holding conversions, revenue = the week's event values summed, and revenue50 = 50 x
    conversions; count, revenue and revenue50 models over it (no holdout)."""
    from mediamix.workspace import Workspace

    sim = simulate_people(PeopleSimulationSpec(weeks=MTA_WEEKS, people=5_000, seed=4))
    rng = np.random.default_rng(7)
    conv = sim.events["is_conversion"].to_numpy()
    events = sim.events.assign(value=np.where(conv, np.round(rng.lognormal(3.5, 0.6, len(conv)), 2), np.nan))
    week = (events["timestamp"] - pd.Timestamp(sim.spec.start)).dt.days // 7
    revenue = events.loc[conv, "value"].groupby(week[conv]).sum().reindex(range(MTA_WEEKS), fill_value=0.0)
    weekly = sim.weekly.assign(revenue=revenue.to_numpy(), revenue50=50.0 * sim.weekly["conversions"])
    assert revenue.sum() == pytest.approx(events["value"].sum())  # every conversion falls in a data week
    root = tmp_path_factory.mktemp("priors")
    weekly.to_csv(root / "weekly.csv", index=False)
    ws = Workspace.init(root / "ws")
    ws.load_data(root / "weekly.csv", "w")
    base = {"data": "w", "touchpoints": [{"name": c, "spend": f"{c}_spend"} for c in sim.channels],
            "lookback_weeks": 4, "holdout_weeks": 0, "sampler": {"chains": 1, "warmup": 100, "draws": 100}}
    for name, column, kind in (("count", "conversions", "count"), ("rev", "revenue", "revenue"),
                               ("rev50", "revenue50", "revenue")):
        ws.create_model(ModelSpec.from_dict({"name": name, "conversion": {"column": column, "kind": kind}, **base}))
    return {"sim": sim, "events": events, "weekly": weekly, "ws": ws, "root": root}


def covered_weeks(weekly, events, lookback_weeks=4):
    """Data weeks (Mondays) from one lookback after the first event whose whole week ends by the last event."""
    dates = pd.to_datetime(weekly["date"])
    first, last = events["timestamp"].min(), events["timestamp"].max()
    return pd.DatetimeIndex(dates[(dates >= first + pd.Timedelta(weeks=lookback_weeks))
                                  & (dates + pd.Timedelta(days=7) <= last)])


def test_revenue_model_priors_use_incremental_revenue(priors_world):
    from mediamix.attribution.transfer import mta_prior_plan

    ws, events, weekly = priors_world["ws"], priors_world["events"], priors_world["weekly"]
    count = mta_prior_plan(ws, "count", events)
    # every conversion worth 50 and the target 50 x conversions: the same shares as the count model
    rev50 = mta_prior_plan(ws, "rev50", events.assign(value=np.where(events["is_conversion"], 50.0, np.nan)))
    assert rev50.unit == "revenue" and count.unit == "conversions"
    for a, b in zip(count.priors, rev50.priors):
        assert (a.touchpoint, a.share, a.confidence) == (b.touchpoint, pytest.approx(b.share, rel=1e-9),
                                                        pytest.approx(b.confidence, rel=1e-9))
    # varying values: share = sum over covered-week conversions of (incremental credit x that
    # conversion's value) / (coverage x the window's revenue), coverage = spend share of those weeks
    plan = mta_prior_plan(ws, "rev", events)
    weeks = covered_weeks(weekly, events)
    touches = plan.attribution.touch_credits()
    value = plan.journeys.journey_frame()["value"].to_numpy()[touches["journey"]]
    in_covered = pd.to_datetime(touches["conversion_time"]).dt.to_period("W-SUN").dt.start_time.isin(weeks)
    dates = pd.to_datetime(weekly["date"])
    by = {p.touchpoint: p for p in plan.priors}
    assert set(by) == set(priors_world["sim"].online_channels)
    for ch, p in by.items():
        inc_value = float((touches["incremental"] * value)[in_covered & (touches["channel"] == ch)].sum())
        spend = weekly[f"{ch}_spend"]
        coverage = spend[dates.isin(weeks)].sum() / spend.sum()
        assert p.share == pytest.approx(100 * inc_value / (coverage * weekly["revenue"].sum()), rel=1e-4)
        assert p.share > 0.2  # not the 0.1 % floor that counts / revenue gave
    assert not plan.evidence["floored"].any() and set(plan.evidence["unit"]) == {"revenue"}


def test_revenue_model_without_event_values_is_refused(priors_world):
    from mediamix.attribution.transfer import mta_prior_plan
    from mediamix.errors import MediamixError

    with pytest.raises(MediamixError) as err:
        mta_prior_plan(priors_world["ws"], "rev", priors_world["sim"].events)
    text = str(err.value)
    assert "revenue model" in text and "only conversion counts" in text
    assert "'value' column" in text and "count model" in text
    assert priors_world["ws"].spec("rev").priors == ()  # nothing stored


def test_partial_coverage_is_noted_and_scaled_by_spend(priors_world):
    from mediamix.attribution.transfer import mta_prior_plan

    ws, weekly = priors_world["ws"], priors_world["weekly"]
    events = priors_world["events"]
    late = events[events["timestamp"] >= pd.Timestamp("2022-05-23")]  # weeks 20..39 of 0..39
    plan = mta_prior_plan(ws, "count", late)
    weeks = covered_weeks(weekly, late)
    assert list(plan.covered) == list(weeks)
    # the first event falls just after Monday 2022-05-23 00:00, so 4 weeks later 2022-06-20 has begun:
    # weeks 25 (2022-06-27) .. 38 (2022-09-26); week 39 ends 2022-10-10, after the last event
    assert late["timestamp"].min() > pd.Timestamp("2022-05-23") and late["timestamp"].max() < pd.Timestamp("2022-10-10")
    assert (weeks[0], weeks[-1], len(weeks)) == (pd.Timestamp("2022-06-27"), pd.Timestamp("2022-09-26"), 14)
    note = next(n for n in plan.notes if "the events cover" in n)
    assert f"cover 14 of the model's {MTA_WEEKS} fitting weeks: 2022-06-27..2022-09-26 of 2022-01-03..2022-10-03" in note
    assert "scaled up to the whole window" in note
    dates = pd.to_datetime(weekly["date"])
    total = weekly["conversions"].sum()
    touches = plan.attribution.touch_credits()
    in_covered = pd.to_datetime(touches["conversion_time"]).dt.to_period("W-SUN").dt.start_time.isin(weeks)
    for r in plan.evidence.itertuples(index=False):
        spend = weekly[f"{r.channel}_spend"]
        coverage = spend[dates.isin(weeks)].sum() / spend.sum()
        assert r.coverage == pytest.approx(coverage) and 0.2 < coverage < 0.6
        inc = touches.loc[in_covered & (touches["channel"] == r.channel), "incremental"].sum()
        assert r.share == pytest.approx(100 * inc / (coverage * total))
        assert f"{r.channel} {100 * coverage:.0f}%" in note
        # the unseen weeks widen the prior: (1 - coverage) in the logit sd
        rel = r.sd / max(r.incremental_conversions, 0.5 * r.sd, 0.001 * coverage * total)
        assert r.logit_sd == pytest.approx(np.sqrt((rel / (1 - r.share / 100)) ** 2 + 0.25 ** 2 + (1 - coverage) ** 2))


def test_channel_names_match_ignoring_case_with_a_note(priors_world):
    from mediamix.attribution.transfer import mta_prior_plan

    ws, events = priors_world["ws"], priors_world["events"]
    plain = mta_prior_plan(ws, "count", events)
    renamed = events.assign(channel=events["channel"].replace({"search": "Search", "email": " EMAIL ",
                                                               "display": "affiliate"}))
    plan = mta_prior_plan(ws, "count", renamed)
    assert plan.channel_names == {"EMAIL": "email", "Search": "search", "social": "social"}
    assert any("ignoring case" in n and "'Search' -> search" in n for n in plan.notes)
    assert any("['affiliate']" in n and "no prior" in n for n in plan.notes)
    same = {p.touchpoint: p for p in plain.priors}
    assert {p.touchpoint for p in plan.priors} == {"search", "email", "social"}
    assert plan.spec.prior_for("display") is None
    for p in plan.priors:  # same events, same channel names once matched: the same prior
        assert p.share == pytest.approx(same[p.touchpoint].share, rel=1e-6)


def test_unmatched_names_and_columns_say_what_a_cli_user_can_do(priors_world):
    from mediamix.attribution.transfer import mta_prior_plan

    ws, events = priors_world["ws"], priors_world["events"]
    with pytest.raises(DataError) as err:
        mta_prior_plan(ws, "count", events.assign(
            channel=events["channel"].where(events["is_conversion"], "x_" + events["channel"].astype(str))))
    assert "even ignoring case" in str(err.value) and "rename the channel values in the events" in str(err.value)
    with pytest.raises(DataError) as err:
        mta_prior_plan(ws, "count", events.rename(columns={"person_id": "uid"}))
    text = str(err.value)
    assert "no person id column" in text and "--person COLUMN" in text and "rename the column in the file" in text


def test_event_csv_with_empty_conversion_channels_reads_without_warnings(tmp_path):
    import warnings

    from mediamix.data import read_table

    n = 140_000  # pandas guesses types in chunks of about 2**17 rows: one chunk is all empty channels
    lines = ["person_id,timestamp,channel,is_conversion", "1,2024-01-01 00:00:00,search,0",
             *["1,2024-01-02 00:00:00,,1"] * n, "2,2024-01-03 00:00:00,email,0"]
    path = tmp_path / "events.csv"
    path.write_text("\n".join(lines) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = read_table(path)
    assert len(table) == n + 2
    assert table["channel"].iloc[[0, -1]].tolist() == ["search", "email"]
    assert table["channel"].iloc[1:-1].isna().all()


def test_cli_keeps_a_user_prior_and_says_so(priors_world):
    """`model train rev --fast --mta-events FILE` on a revenue model with a user prior on search:
    the notes come first, search keeps the user's prior (MTA's estimate shown beside it)."""
    from typer.testing import CliRunner

    from mediamix.attribution.transfer import mta_prior_plan
    from mediamix.cli import app
    ws, events = priors_world["ws"], priors_world["events"]
    ws.duplicate("rev", "rev-user")
    ws.edit("rev-user", priors=[{"touchpoint": "search", "share": 5.0, "confidence": 50.0, "source": "experiment"}])
    expected = {p.touchpoint: p for p in mta_prior_plan(ws, "rev-user", events).priors}
    path = priors_world["root"] / "events.csv"
    events.to_csv(path, index=False)  # conversion rows have an empty channel
    out = CliRunner().invoke(app, ["model", "train", "rev-user", "--fast", "--mta-events", str(path),
                                   "--workspace", str(ws.root)])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())  # Rich wraps long lines
    search = expected["search"]
    assert (f"prior for search: kept yours (5% at 50% confidence, source experiment); MTA estimate "
            f"{search.share:.2f}% of revenue at {search.confidence:.0f}% confidence, for information only") in text
    assert "MTA prior for search" not in text
    email = expected["email"]
    assert f"MTA prior for email: {email.share:.2f}% of revenue at {email.confidence:.0f}% confidence" in text
    assert "note: the events cover" in text and text.index("note:") < text.index("prior for search")
    stored = ws.spec("rev-user")
    assert stored.prior_for("search").source == "experiment" and stored.prior_for("email").source == "mta"
