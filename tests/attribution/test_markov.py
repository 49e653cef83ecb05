import warnings

import numpy as np
import pandas as pd
import pytest

from mediamix.attribution.journeys import build_journeys
from mediamix.attribution.markov import CONVERSION, NULL, markov
from mediamix.attribution.paths import AttributionWarning, PathTable
from mediamix.errors import DataError


def by_channel(result, column="conversions"):
    return dict(zip(result.attribution.channel, result.attribution[column]))


def approx(expected, tol=0.01):
    return pytest.approx(expected, abs=tol)


def case(shared_cases, name):
    return PathTable.from_csv(shared_cases / f"{name}.csv")


@pytest.mark.parametrize("collapse", [False, True])
def test_b22_truth_with_and_without_collapsing_repeats(shared_cases, collapse):
    result = markov(case(shared_cases, "B22_repeated_touchpoints"), collapse_repeats=collapse)
    assert result.p_conversion == pytest.approx(0.275, abs=1e-9)
    assert by_channel(result) == approx({"search": 44.5193, "display": 35.7280, "email": 22.5818, "social": 7.1709})
    assert result.attribution.conversions.sum() == pytest.approx(110)


def test_b22_collapsing_is_identical_to_round_off(shared_cases):
    table = case(shared_cases, "B22_repeated_touchpoints")
    plain, collapsed = markov(table), markov(table, collapse_repeats=True)
    assert np.allclose(plain.attribution.conversions, collapsed.attribution.conversions, rtol=0, atol=1e-9)


def test_b23_non_converting_paths_enter_the_chain(shared_cases):
    table = case(shared_cases, "B23_non_converting_paths")
    result = markov(table)
    assert result.p_conversion == pytest.approx(0.075829, abs=1e-6)
    assert by_channel(result, "removal_effect") == approx(
        {"display": 0.779827, "google_ads": 0.533509, "mailing": 0.512691}, 1e-6)
    assert by_channel(result) == approx({"display": 34.1650, "google_ads": 23.3735, "mailing": 22.4615})
    matrix = result.transition_matrix()
    assert (matrix.loc[["display", "google_ads", "mailing"], NULL] > 0).all()
    assert matrix.sum(axis=1).loc[["display", "google_ads", "mailing"]].tolist() == approx([1, 1, 1], 1e-12)


def test_b23_transition_probabilities_by_hand(shared_cases):
    # Journeys = conversions + nulls per path. display is visited 200 ('display > google_ads')
    # + 400 ('display') + 100 ('display > mailing') + 50 ('google_ads > display > mailing')
    # + 2 * 250 ('display > display') = 1250 times. It leaves to display 250, google_ads 200,
    # mailing 100 + 50 = 150, (conversion) 5 (the converting 'display' journeys) and
    # (null) 395 + 250 = 645 (the non-converting 'display' and 'display > display' journeys).
    matrix = markov(case(shared_cases, "B23_non_converting_paths")).transition_matrix()
    assert matrix.loc["display", "mailing"] == pytest.approx(150 / 1250)
    assert matrix.loc["display", "display"] == pytest.approx(250 / 1250)
    assert matrix.loc["display", NULL] == pytest.approx(645 / 1250)
    assert matrix.loc["display", CONVERSION] == pytest.approx(5 / 1250)


def test_b23_without_nulls_gives_the_documented_wrong_line_and_warns(shared_cases):
    frame = pd.read_csv(shared_cases / "B23_non_converting_paths.csv").drop(columns="nulls")
    with pytest.warns(AttributionWarning, match="ignore non-converting"):
        table = PathTable.from_frame(frame)
    result = markov(table)
    assert result.p_conversion == pytest.approx(1.0)
    assert by_channel(result) == approx({"display": 31.84, "google_ads": 25.56, "mailing": 22.60})


def test_b25_value_is_fifty_times_conversions_and_runs_are_identical(shared_cases):
    table = case(shared_cases, "B25_conversion_value")
    runs = [markov(table).attribution for _ in range(5)]
    for other in runs[1:]:
        pd.testing.assert_frame_equal(runs[0], other)  # exact: no simulation, no seed
    result = runs[0].set_index("channel")
    truth = {"search": 132.9323, "social": 122.3924, "display": 118.9097, "email": 117.2539, "affiliate": 116.5117}
    assert result.conversions.to_dict() == approx(truth)
    assert result.value.to_dict() == approx({k: 50 * v for k, v in truth.items()}, 0.5)
    assert np.allclose(result.value, 50 * result.conversions, rtol=1e-9)
    assert (result.value > 0).all()


def test_higher_order_states_are_channel_tuples_closed_form():
    # 'a > b' converts, 'c > b' does not. Order 1 pools the two b visits (P(conv | b) = 1/2), so
    # removing a or c halves P(conv): effects a 1/2, b 1, c 1/2 -> credits 0.25, 0.5, 0.25.
    # Order 2 keeps (a, b) -> conversion and (c, b) -> null apart: removing c changes nothing,
    # removing a or b kills every conversion -> credits a 0.5, b 0.5, c 0.
    table = PathTable.from_paths(["a > b", "c > b"], conversions=[1, 0], nulls=[0, 1])
    assert by_channel(markov(table)) == approx({"a": 0.25, "b": 0.5, "c": 0.25}, 1e-12)
    second = markov(table, order=2)
    assert by_channel(second) == approx({"a": 0.5, "b": 0.5, "c": 0.0}, 1e-12)
    assert set(second.chain.labels) == {"a", "c", "a > b", "c > b"}


def test_dp6_removal_effects_match_upstream(shared_data):
    # Upstream (tests/test_multiple_conversions.py @ 560a7440) weights each journey by its
    # purchases: E's journey counts twice. Expected removal effects crm .30, google_ads .125,
    # seo .375, direct 1.0, and (start) -> direct 5/7, direct -> (conversion) 6/14.
    ev = pd.read_csv(shared_data / "dp6-marketing-attribution-models" / "test_dataset_multiple_conversions.csv")
    j = build_journeys(ev, lookback="30D", value="n_purchases", expired="drop")
    table = PathTable.from_paths(j.paths.paths, conversions=j.paths.value, nulls=j.paths.nulls)
    result = markov(table)
    assert by_channel(result, "removal_effect") == approx(
        {"crm": 0.30, "google_ads": 0.125, "seo": 0.375, "direct": 1.0}, 1e-12)
    matrix = result.transition_matrix()
    assert matrix.loc["(start)", "direct"] == pytest.approx(5 / 7)
    assert matrix.loc["direct", CONVERSION] == pytest.approx(6 / 14)
    assert matrix.loc["direct", "crm"] == pytest.approx(3 / 14)


def test_higher_orders_on_channelattribution_conserve_totals(shared_data):
    table = PathTable.from_csv(shared_data / "channelattribution" / "Data.csv")
    for order in (1, 2, 3):
        result = markov(table, order=order)
        assert result.attribution.conversions.sum() == pytest.approx(19_785)
        assert result.attribution.value.sum() == pytest.approx(table.total_value)
        assert (result.attribution.conversions >= 0).all()


def test_markov_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AttributionWarning)
        no_conv = PathTable.from_paths(["a > b"], conversions=[0], nulls=[3])
    with pytest.raises(DataError, match="no conversions"):
        markov(no_conv)
    with pytest.raises(DataError, match="order"):
        markov(no_conv, order=0)
