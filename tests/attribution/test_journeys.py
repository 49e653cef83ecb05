import numpy as np
import pandas as pd
import pytest

from mediamix.attribution.journeys import build_journeys
from mediamix.errors import DataError


def events(rows):
    return pd.DataFrame(rows, columns=["person_id", "timestamp", "channel", "is_conversion"])


def dp6(shared_data, name):
    return pd.read_csv(shared_data / "dp6-marketing-attribution-models" / name)


def test_dp6_sessions_become_journeys_per_conversion(shared_data):
    # Column names are auto-detected: user_pseudo_id, event_time, source_medium, is_conversion_purchase.
    j = build_journeys(dp6(shared_data, "test_dataset_multiple_conversions.csv"), lookback="30D",
                       value="n_purchases")
    frame = j.journey_frame()
    converting = [p for p, c in zip(j.paths.paths, j.converted) if c]
    # Upstream's journeys (30-day window): A's 2021-07-20 seo is 184 days before A's purchase, so it
    # is outside the window; D converts twice, so D has two journeys; the purchase session is a touch.
    assert converting == [("direct", "google_ads", "direct"), ("direct", "crm", "direct"),
                          ("seo", "direct", "direct"), ("direct", "direct", "seo", "direct"),
                          ("direct", "crm", "direct")]
    # Non-converting: B's two sessions, and A's expired seo touch (no conversion within 30 days of it).
    non = [(person, p) for person, p, c in zip(frame.person, j.paths.paths, j.converted) if not c]
    assert non == [("A", ("seo",)), ("B", ("seo", "direct"))]
    assert frame.loc[frame.converted, "value"].tolist() == [1, 1, 1, 1, 2]  # E bought 2
    assert j.unattributed_conversions == 0
    # A's seo journey is observed for 30 days (next journey is months later).
    assert frame.end[0] == pd.Timestamp("2021-08-19 15:00:00")
    # B's journey ends 30 days after its last touch (before the data ends on 2022-03-21 23:00).
    assert frame.end[2] == pd.Timestamp("2022-02-20 20:00:00")


def test_expired_touches_can_be_dropped(shared_data):
    j = build_journeys(dp6(shared_data, "test_dataset.csv"), lookback="30D", expired="drop")
    assert j.paths.paths[0] == ("direct", "google_ads", "direct")
    assert j.n_journeys == 5  # as upstream: A, B, C, D1, D2


def test_lookback_in_weeks_is_inclusive_at_the_boundary():
    t0 = pd.Timestamp("2024-01-01")
    ev = events([
        ["p", t0, "tv", 0],
        ["p", t0 + pd.Timedelta(days=1), "search", 0],
        ["p", t0 + pd.Timedelta(weeks=1, days=1), "email", 1],  # exactly one week after 'search'
    ])
    j = build_journeys(ev, lookback=1)
    assert j.paths.paths == [("tv",), ("search", "email")]
    assert j.converted.tolist() == [False, True]
    assert j.end[1] == t0 + pd.Timedelta(days=8)


def test_non_converting_touches_split_into_lookback_spans_and_end_at_next_journey():
    t0 = pd.Timestamp("2024-01-01")
    day = pd.Timedelta(days=1)
    ev = events([
        ["p", t0, "a", 0], ["p", t0 + 6 * day, "b", 0],       # span 1: days 0..6 (< 7)
        ["p", t0 + 7 * day, "c", 0], ["p", t0 + 9 * day, "c", 0],  # span 2 starts at day 7
        ["p", t0 + 30 * day, "d", 0],                           # span 4 (day 28..34)
        ["q", t0, "a", 0],
    ])
    j = build_journeys(ev, lookback="7D", observation_end=t0 + 100 * day)
    assert j.paths.paths == [("a", "b"), ("c", "c"), ("d",), ("a",)]
    assert not j.converted.any()
    # ends: min(last touch + 7 days, next journey start of the same person, observation end)
    assert list(j.end) == [t0 + 7 * day, t0 + 16 * day, t0 + 37 * day, t0 + 7 * day]


def test_conversion_rows_without_channel_and_ties():
    t0 = pd.Timestamp("2024-01-01")
    ev = events([
        ["p", t0 + pd.Timedelta(hours=1), None, 1],  # conversion event, same instant as the touch below
        ["p", t0 + pd.Timedelta(hours=1), "search", 0],
        ["q", t0, None, 1],  # a conversion no touch precedes
        ["q", t0 + pd.Timedelta(hours=2), "tv", 0],
    ])
    ev["value"] = [10.0, np.nan, 7.0, np.nan]
    j = build_journeys(ev, lookback=2)
    assert j.paths.paths == [("search",), ("tv",)]
    assert j.converted.tolist() == [True, False]
    assert j.paths.value.tolist() == [10.0, 0.0]
    assert j.unattributed_conversions == 1 and j.unattributed_value == 7.0


def test_row_order_does_not_matter():
    rng = np.random.default_rng(3)
    n = 400
    ev = pd.DataFrame({
        "person_id": rng.integers(0, 40, n),
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.choice(90 * 24 * 60, n, replace=False), unit="min"),
        "channel": rng.choice(["a", "b", "c"], n),
        "is_conversion": rng.random(n) < 0.1,
    })
    a = build_journeys(ev, lookback=2)
    b = build_journeys(ev.sample(frac=1, random_state=1), lookback=2)
    assert a.paths.paths == b.paths.paths
    assert np.array_equal(a.converted, b.converted) and np.array_equal(a.end, b.end)
    touches = a.touches()
    assert len(touches) == len(a.paths.codes)
    assert (touches.groupby("journey")["timestamp"].is_monotonic_increasing).all()


@pytest.mark.parametrize("change, message", [
    (lambda e: e.drop(columns="channel"), "no channel column"),
    (lambda e: e.assign(timestamp=[1, 2]), "numeric, not a date-time"),
    (lambda e: e.assign(timestamp=["2024-01-01", "not a date"]), "first: data row 2, 'not a date'"),
    (lambda e: e.assign(is_conversion=[0, 2]), "not 0/1"),
    (lambda e: e.assign(channel=["tv", None]), "empty in 1 rows that are not conversions"),
    (lambda e: e.assign(person_id=[None, "p"]), "person id column 'person_id' is empty"),
    (lambda e: e.iloc[:0], "empty"),
])
def test_user_mistakes_raise_data_error(change, message):
    ev = events([["p", "2024-01-01", "tv", 0], ["p", "2024-01-02", "search", 0]])
    with pytest.raises(DataError, match=message):
        build_journeys(change(ev))


def test_bad_options_raise_data_error():
    ev = events([["p", "2024-01-01", "tv", 1]]).assign(value=[-5.0])
    with pytest.raises(DataError, match="negative value"):
        build_journeys(ev)
    with pytest.raises(DataError, match="lookback must be positive"):
        build_journeys(ev.drop(columns="value"), lookback=0)
    with pytest.raises(DataError, match="expired="):
        build_journeys(ev.drop(columns="value"), expired="keep")
