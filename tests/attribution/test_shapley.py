import numpy as np
import pandas as pd
import pytest

from mediamix.attribution.paths import PathTable
from mediamix.attribution.shapley import shapley
from mediamix.errors import DataError


def by_channel(result, column="conversions"):
    return dict(zip(result.attribution.channel, result.attribution[column]))


def test_two_channels_closed_form():
    # Journeys {a}: 100 (10 convert, CR .1); {b}: 100 (20, CR .2); {a, b}: 50 (15, CR .3).
    # v(S) = sum_T n(T) CR(T & S):  v({a}) = 100*.1 + 50*.1 = 15,  v({b}) = 100*.2 + 50*.2 = 30,
    # v({a, b}) = 10 + 20 + 15 = 45.  phi_a = (15 - 0)/2 + (45 - 30)/2 = 15,  phi_b = (30 + 30)/2 = 30.
    table = PathTable.from_paths(["a", "b", "a > b"], conversions=[10, 20, 15], nulls=[90, 80, 35],
                                 value=[100, 200, 150])
    result = shapley(table)
    assert result.method == "exact" and result.seed is None
    assert by_channel(result) == pytest.approx({"a": 15.0, "b": 30.0}, abs=1e-12)
    assert by_channel(result, "value") == pytest.approx({"a": 150.0, "b": 300.0}, abs=1e-9)


def test_three_channels_with_unobserved_coalitions_closed_form():
    # Observed sets {a} (100, 10 -> .1), {b} (100, 20 -> .2), {a, b, c} (50, 20 -> .4); repeats on a
    # path do not change its set. Unobserved sets take the best observed subset's rate:
    # {c} 0, {a, c} .1, {b, c} .2, {a, b} .2.
    # v: {} 0, a 10+50*.1 = 15, b 20+50*.2 = 30, c 0, ab 10+20+10 = 40, ac 10+5 = 15, bc 20+10 = 30,
    #    abc 10+20+20 = 50.
    # Shapley weights for 3 players: |S| = 0 -> 1/3, 1 -> 1/6, 2 -> 1/3.
    # phi_a = 15/3 + (40-30)/6 + (15-0)/6 + (50-30)/3 = 15.8333
    # phi_b = 30/3 + (40-15)/6 + (30-0)/6 + (50-15)/3 = 30.8333
    # phi_c = 0/3 + (15-15)/6 + (30-30)/6 + (50-40)/3 = 3.3333
    table = PathTable.from_paths(["a", "b > b", "a > b > c > a"], conversions=[10, 20, 20], nulls=[90, 80, 30])
    result = shapley(table)
    expected = {"a": 15 + 5 / 6, "b": 30 + 5 / 6, "c": 10 / 3}
    assert by_channel(result) == pytest.approx(expected, abs=1e-12)
    assert np.isnan(result.attribution.value).all()  # no value column given

    sampled = shapley(table, max_exact_channels=2, n_permutations=4000, seed=7)
    assert sampled.method == "sampled" and sampled.seed == 7 and sampled.n_permutations == 4000
    got = sampled.attribution.set_index("channel")
    for channel, truth in expected.items():
        assert abs(got.conversions[channel] - truth) < 4 * got.conversions_se[channel] + 1e-9
    assert got.conversions.sum() == pytest.approx(50)  # every order's gains sum to v(all)


def test_sampled_mode_beyond_the_exact_limit_is_seeded_and_efficient():
    rng = np.random.default_rng(0)
    channels = [f"c{i:02d}" for i in range(17)]
    paths = [" > ".join(rng.choice(channels, rng.integers(1, 4))) for _ in range(400)]
    table = PathTable.from_paths(paths, conversions=rng.integers(0, 4, 400), nulls=rng.integers(0, 30, 400))
    first = shapley(table, n_permutations=60, seed=11)
    again = shapley(table, n_permutations=60, seed=11)
    assert first.method == "sampled" and first.seed == 11
    pd.testing.assert_frame_equal(first.attribution, again.attribution)
    assert first.attribution.conversions.sum() == pytest.approx(table.total_conversions)
    exact = shapley(table, max_exact_channels=17)
    assert exact.method == "exact"
    assert exact.attribution.conversions.sum() == pytest.approx(table.total_conversions)
    gap = (first.attribution.conversions - exact.attribution.conversions).abs()
    assert (gap < 5 * first.attribution.conversions_se + 1e-6).all()


def test_b22_case_sums_to_total(shared_cases):
    result = shapley(PathTable.from_csv(shared_cases / "B22_repeated_touchpoints.csv"))
    assert result.attribution.conversions.sum() == pytest.approx(110)
    assert result.attribution.value.sum() == pytest.approx(5500)


def test_shapley_errors():
    table = PathTable.from_paths(["a"], conversions=[0], nulls=[4])
    with pytest.raises(DataError, match="no conversions"):
        shapley(table)
    ok = PathTable.from_paths(["a"], conversions=[1], nulls=[4])
    with pytest.raises(DataError, match="max_exact_channels"):
        shapley(ok, max_exact_channels=30)
