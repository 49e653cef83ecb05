import warnings

import numpy as np
import pandas as pd
import pytest

from mediamix.attribution.paths import AttributionWarning, PathTable, sniff_delimiter
from mediamix.errors import DataError


def test_b22_reads_paths_in_order_with_repeats(shared_cases):
    table = PathTable.from_csv(shared_cases / "B22_repeated_touchpoints.csv")
    assert table.paths[0] == ("search", "email", "search", "display")
    assert table.paths[1] == ("search", "search", "search")
    assert table.total_conversions == 110
    assert table.nulls.sum() == 60 + 75 + 30 + 90 + 35
    assert table.has_nulls and table.has_value and not table.warnings


def test_channelattribution_semicolon_file_and_its_column_names(shared_data):
    # Data.csv stays in ../shared (GPL): read in place, never copied into the project.
    table = PathTable.from_csv(shared_data / "channelattribution" / "Data.csv")
    assert table.n_paths == 10_000
    assert len(table.channels) == 12  # alpha .. mi, per the data README
    assert table.total_conversions == 19_785
    assert table.nulls.sum() == 68_602
    assert table.total_value == pytest.approx(74_803, abs=1)
    assert table.lengths.max() == 89
    assert table.lengths.mean() == pytest.approx(5.9, abs=0.05)


def test_sniffer_picks_the_delimiter_that_splits_the_header():
    assert sniff_delimiter("path;total_conversions;total_null") == ";"
    assert sniff_delimiter("path,conversions,nulls") == ","
    assert sniff_delimiter("path\tconversions") == "\t"


def test_missing_nulls_column_is_accepted_with_a_warning():
    frame = pd.DataFrame({"path": ["a > b", "b"], "conversions": [3, 1]})
    with pytest.warns(AttributionWarning, match="ignore non-converting journeys"):
        table = PathTable.from_frame(frame)
    assert not table.has_nulls and table.nulls.sum() == 0
    assert any("non-converting" in w for w in table.warnings)


def test_configurable_columns_and_separator():
    frame = pd.DataFrame({"journey_str": ["a|b|a"], "conv": [2], "nonconv": [5], "rev": [9.5]})
    table = PathTable.from_frame(frame, path="journey_str", conversions="conv", nulls="nonconv",
                                 value="rev", separator="|")
    assert table.paths == [("a", "b", "a")]
    assert table.nulls.tolist() == [5] and table.value.tolist() == [9.5]


def test_collapse_repeats_and_aggregate():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AttributionWarning)
        table = PathTable.from_paths([("a", "a", "b"), "a > b", ("b", "b")], conversions=[1, 2, 4])
    collapsed = table.collapse_repeats()
    assert collapsed.paths == [("a", "b"), ("a", "b"), ("b",)]
    merged = collapsed.aggregate()
    assert merged.to_dict("list")["path"] == ["b", "a > b"]
    assert merged["conversions"].tolist() == [4, 3]


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame({"route": ["a"], "conversions": [1]}), "no path column"),
    (pd.DataFrame({"path": ["a"], "nulls": [1]}), "no conversions column"),
    (pd.DataFrame({"path": ["a >  > b"], "conversions": [1], "nulls": [0]}), "data row 1 is malformed"),
    (pd.DataFrame({"path": ["a", None], "conversions": [1, 1], "nulls": [0, 0]}), "first: data row 2"),
    (pd.DataFrame({"path": ["a", "b"], "conversions": [1, -2], "nulls": [0, 0]}), "negative counts"),
    (pd.DataFrame({"path": ["a"], "conversions": ["x"], "nulls": [0]}), "non-numeric"),
    (pd.DataFrame({"path": [], "conversions": [], "nulls": []}), "empty"),
])
def test_user_mistakes_raise_data_error_naming_the_problem(frame, message):
    with pytest.raises(DataError, match=message):
        PathTable.from_frame(frame)


def test_csv_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        PathTable.from_csv(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        PathTable.from_csv(empty)


def test_flat_helpers():
    table = PathTable.from_paths([("a", "b", "c"), ("b",)], conversions=[1, 1], nulls=[0, 0])
    assert table.path_index().tolist() == [0, 0, 0, 1]
    assert table.positions().tolist() == [0, 1, 2, 0]
    assert np.array_equal(table.lengths, [3, 1])
