"""Design matrix: scaling, windows, holdout, seasonality alignment and the lookback rule."""
import numpy as np
import pandas as pd
import pytest

from mediamix.errors import DataError, SpecError
from mediamix.model.design import build_design
from mediamix.model.spec import ModelSpec


def frame(n=104, start="2022-01-03"):
    rng = np.random.default_rng(0)
    dates = pd.date_range(start, periods=n, freq="7D")
    return pd.DataFrame({"date": dates, "tv": rng.uniform(0, 10, n), "search": rng.uniform(1, 5, n),
                         "price": rng.uniform(0.9, 1.1, n), "event": np.where(np.arange(n) % 10 == 0, "sale", "none"),
                         "revenue": rng.uniform(90, 110, n)})


def spec(**kw):
    base = {"name": "m", "data": "d", "conversion": "revenue",
            "touchpoints": [{"name": "tv", "spend": "tv"}, {"name": "search", "spend": "search"}],
            "factors": [{"column": "price"}, {"column": "event"}]}
    return ModelSpec.from_dict({**base, **kw})


def test_scaling_windows_and_holdout():
    df = frame()
    d = build_design(df, spec())
    assert d.in_training.sum() == 104 and d.in_holdout.sum() == 13 and d.in_fit.sum() == 91
    assert np.flatnonzero(d.in_holdout)[0] == 91  # the holdout is the last 13 weeks
    fit = df.iloc[:91]
    assert d.scaling.y_scale == pytest.approx(fit["revenue"].mean())
    assert d.scaling.spend_scale["tv"] == pytest.approx(fit["tv"][fit["tv"] > 0].mean())
    # Factors are scaled by their sd and measured from their lowest level in the fitting window;
    # the categorical becomes one dummy against its most frequent level ("none").
    assert d.factor_names == ["price", "event=sale"]
    assert d.factors[:91, 0, 0].min() == pytest.approx(0, abs=1e-9)
    assert d.factors[:91, 0, 0].std() == pytest.approx(1)
    assert set(np.unique(d.factors[:91, 0, 1])) == {0.0, 1.0 / d.scaling.factor_scale["event=sale"]}
    # Lag stack: lag 1 of week t is week t-1's scaled spend, zero before the first row.
    assert d.media_stack[1, 0, 0, 0] == 0
    assert d.media_stack[1, 5, 0, 0] == pytest.approx(df["tv"][4] / d.scaling.spend_scale["tv"])


def test_training_window_last_years_and_explicit():
    df = frame(156)
    d = build_design(df, spec(training={"last_years": 1}, lookback_weeks=4))
    assert d.in_training.sum() == 52
    d = build_design(df, spec(training={"start": "2022-07-04", "end": "2023-07-03"}, lookback_weeks=4))
    assert pd.Timestamp(d.scaling.train_start) == pd.Timestamp("2022-07-04") and d.in_training.sum() == 53


def test_friday_weeks_read_seasonality_mid_week():
    # Friday-start weeks: the phase is read at Friday + 3.5 days, not floored to a Monday.
    df = frame(104, start="2022-01-07")
    d = build_design(df, spec(seasonality_order=1))
    mid = pd.Timestamp("2022-01-07") + pd.Timedelta(days=3.5)
    expected = np.sin(2 * np.pi * (mid.day_of_year + 0.5) / 365.25)
    assert d.fourier[0, 0] == pytest.approx(expected)


def test_lookback_rule_against_training_length():
    with pytest.raises(SpecError, match="training weeks / 8"):
        build_design(frame(40), spec(lookback_weeks=8))


def test_zero_spend_channel_in_fit_window_is_named():
    df = frame()
    df["search"] = 0.0
    with pytest.raises(DataError, match="channel 'search' has zero spend in all 91 fitting periods"):
        build_design(df, spec())


def test_scoring_scaling_is_reused_not_relearned():
    df = frame()
    d = build_design(df, spec())
    later = df.copy()
    later["revenue"] *= 3
    d2 = build_design(later, spec(), scaling=d.scaling)
    assert d2.scaling == d.scaling
    assert np.array_equal(d2.media_stack, d.media_stack)


def test_daily_and_monthly_cadence_use_calendar_units():
    from mediamix.model.design import _fourier, periods_for_weeks
    # Seasonality is a function of the calendar, whatever the cadence: the same mid-period
    # day of year gives the same Fourier value.
    daily = _fourier(pd.DatetimeIndex(["2023-03-04"]), 1, period_days=1.0)
    weekly = _fourier(pd.DatetimeIndex(["2023-03-01"]), 1, period_days=7.0)  # Wed + 3.5 days = Sat noon
    assert daily[0, 0] == pytest.approx(weekly[0, 0], abs=1e-9)
    # The lookback window is converted from weeks to the data's periods.
    assert periods_for_weeks(8, 365.25) == 56
    assert periods_for_weeks(8, 12.0) == 2
    assert periods_for_weeks(8, 52.1775) == 8
    n = 48
    monthly = pd.DataFrame({"date": pd.date_range("2021-01-01", periods=n, freq="MS"),
                            "tv": np.linspace(1, 2, n), "search": np.linspace(2, 1, n),
                            "price": np.sin(np.arange(n)), "event": "none", "revenue": 100 + np.arange(n)})
    s = spec(lookback_weeks=4, factors=[{"column": "price"}])
    d = build_design(monthly, s, periods_per_year=12.0, period_days=365.25 / 12)
    assert d.scaling.n_lags == 1 and d.media_stack.shape[0] == 1
    assert d.in_holdout.sum() == 3  # 13 weeks of holdout is 3 months
