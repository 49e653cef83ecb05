import numpy as np
import pandas as pd
import pytest

from mediamix.attribution import heuristics as h
from mediamix.attribution.journeys import build_journeys
from mediamix.attribution.paths import PathTable
from mediamix.errors import DataError


def by_channel(frame, column="conversions"):
    return dict(zip(frame.channel, frame[column]))


def approx(expected, tol=0.01):
    return pytest.approx(expected, abs=tol)


def test_b22_truth_every_touch_occurrence_counts(shared_cases):
    table = PathTable.from_csv(shared_cases / "B22_repeated_touchpoints.csv")
    assert by_channel(h.first_touch(table)) == approx({"search": 65, "display": 20, "social": 15, "email": 10})
    assert by_channel(h.last_touch(table)) == approx({"display": 60, "search": 40, "email": 10, "social": 0})
    assert by_channel(h.linear(table)) == approx({"search": 56.5, "display": 22.0, "email": 24.0, "social": 7.5})
    assert by_channel(h.position_based(table)) == approx(
        {"search": 53.8333, "display": 33.3333, "email": 15.3333, "social": 7.5})
    for frame in h.rule_based(table).values():
        assert frame.conversions.sum() == pytest.approx(110)
        assert frame.value.sum() == pytest.approx(110 * 50)  # value is 50 per conversion


def test_position_model_conventions_for_short_paths():
    table = PathTable.from_paths([("a",), ("a", "b"), ("a", "b", "b", "c")], conversions=[1, 1, 1], nulls=[0, 0, 0])
    shares = h.position_shares(table)
    # 1 touch: 100 %; 2 touches: 50/50; 4 touches: 40 / 10 / 10 / 40 (20 % over two middle touches).
    assert shares.tolist() == approx([1.0, 0.5, 0.5, 0.4, 0.1, 0.1, 0.4], 1e-12)


def test_first_touch_on_channelattribution_matches_a_group_by(shared_data):
    # Independent computation: group conversions by the text before the first ' > '.
    raw = pd.read_csv(shared_data / "channelattribution" / "Data.csv", sep=";")
    expected = raw.groupby(raw.path.str.split(" > ").str[0])["total_conversions"].sum()
    table = PathTable.from_csv(shared_data / "channelattribution" / "Data.csv")
    got = h.first_touch(table).set_index("channel").conversions
    assert got.reindex(expected.index).tolist() == approx(expected.tolist(), 1e-9)
    last = raw.groupby(raw.path.str.split(" > ").str[-1])["total_conversion_value"].sum()
    got_last = h.last_touch(table).set_index("channel").value
    assert got_last.reindex(last.index).tolist() == approx(last.tolist(), 1e-6)


def dp6_journey_credits(journeys, shares):
    """Per journey, each touch's credit = share x conversions-weight (upstream's lists)."""
    weight = np.repeat(journeys.paths.value * journeys.converted, journeys.paths.lengths) * shares
    return [weight[a:b].tolist() for a, b in zip(journeys.paths.offsets[:-1], journeys.paths.offsets[1:])]


@pytest.fixture
def dp6_multiple(shared_data):
    # Upstream DP6 tests use a 30-day window and drop touches outside it; n_purchases weights E (2).
    ev = pd.read_csv(shared_data / "dp6-marketing-attribution-models" / "test_dataset_multiple_conversions.csv")
    return build_journeys(ev, lookback="30D", value="n_purchases", expired="drop")


def test_dp6_multiple_conversions_match_upstream_expected_lists(dp6_multiple):
    # Expected lists are those of DP6/Marketing-Attribution-Models tests/test_multiple_conversions.py
    # at 560a7440: journeys A, B (no conversion), C, D1, D2, E (2 purchases).
    j = dp6_multiple
    third = 1 / 3
    assert dp6_journey_credits(j, h.last_touch_shares(j.paths)) == [
        [0, 0, 1], [0, 0], [0, 0, 1], [0, 0, 1], [0, 0, 0, 1], [0, 0, 2]]
    assert dp6_journey_credits(j, h.first_touch_shares(j.paths)) == [
        [1, 0, 0], [0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0, 0], [2, 0, 0]]
    linear = dp6_journey_credits(j, h.linear_shares(j.paths))
    assert linear == [approx([third] * 3, 1e-12), [0, 0], approx([third] * 3, 1e-12),
                      approx([third] * 3, 1e-12), [0.25] * 4, approx([2 * third] * 3, 1e-12)]
    # Upstream's time decay halves per whole day before the conversion: D2's first touch is
    # 5 days 2 hours before it, so weights 2^-5, 1, 1, 1 -> 1/97 and 32/97 each.
    decay = dp6_journey_credits(j, h.time_decay_shares(j, "1D", whole_periods=True))
    assert decay[4] == approx([1 / 97, 32 / 97, 32 / 97, 32 / 97], 1e-12)
    assert decay[5] == approx([2 * third] * 3, 1e-12)
    assert decay[0] == approx([third] * 3, 1e-12)


def test_dp6_single_conversion_first_click(shared_data):
    ev = pd.read_csv(shared_data / "dp6-marketing-attribution-models" / "test_dataset.csv")
    j = build_journeys(ev, lookback="30D", expired="drop")
    j1 = build_journeys(ev.assign(value=1.0), lookback="30D", expired="drop")
    # upstream tests/test_end2end.py: {0: [1, 0, 0], 1: [0, 0], 2: [1, 0, 0], 3: [1, 0, 0], 4: [1, 0, 0, 0]}
    assert dp6_journey_credits(j1, h.first_touch_shares(j1.paths)) == [
        [1, 0, 0], [0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0, 0]]
    # Totals: direct starts A, C, D2; seo starts D1 -> direct 3, seo 1.
    assert by_channel(h.first_touch(j)) == {"crm": 0, "direct": 3, "google_ads": 0, "seo": 1}


def test_continuous_time_decay_closed_form():
    # Touches 14, 7 and 0 days before the conversion, half-life 7 days: weights 1/4, 1/2, 1 -> /1.75.
    t0 = pd.Timestamp("2024-03-01")
    day = pd.Timedelta(days=1)
    ev = pd.DataFrame({"person_id": "p", "timestamp": [t0, t0 + 7 * day, t0 + 14 * day],
                       "channel": ["tv", "search", "email"], "is_conversion": [0, 0, 1]})
    j = build_journeys(ev, lookback=3)
    assert h.time_decay_shares(j, "7D").tolist() == approx([1 / 7, 2 / 7, 4 / 7], 1e-12)
    # A shorter half-life pushes credit to the end: 1/16, 1/4, 1 over 1.3125.
    assert by_channel(h.time_decay(j, pd.Timedelta(days=3.5))) == approx(
        {"email": 1 / 1.3125, "search": 0.25 / 1.3125, "tv": 0.0625 / 1.3125}, 1e-12)


def test_time_decay_needs_timestamps_and_valid_options(shared_cases):
    table = PathTable.from_csv(shared_cases / "B22_repeated_touchpoints.csv")
    with pytest.raises(DataError, match="needs touch timestamps"):
        h.time_decay(table)
    with pytest.raises(DataError, match="half_life"):
        h.time_decay_shares(None, half_life="soon")
    with pytest.raises(DataError, match="position weights"):
        h.position_based(table, first=0.7, last=0.7)
    with pytest.raises(DataError, match="unknown rule-based model"):
        h.touch_shares(table, "w_shape")
