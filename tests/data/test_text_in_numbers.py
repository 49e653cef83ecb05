"""A missing-value word in a numeric column is reported at load, not read silently as NaN."""
import pandas as pd
import pytest

from mediamix.data import load_summary
from mediamix.errors import DataError


def test_na_word_in_a_spend_column_is_named(tmp_path):
    dates = pd.date_range("2024-01-01", periods=6, freq="7D").strftime("%Y-%m-%d")
    path = tmp_path / "spend.csv"
    pd.DataFrame({"date": dates, "tv": ["1", "2", "n/a", "4", "5", "6"], "revenue": range(6)}).to_csv(path, index=False)
    with pytest.raises(DataError, match="column 'tv' mixes numbers and text: 'n/a'"):
        load_summary(path)
    # An empty cell is still a missing value (caught later only if the model uses the column).
    pd.DataFrame({"date": dates, "tv": ["1", "2", "", "4", "5", "6"], "revenue": range(6)}).to_csv(path, index=False)
    assert load_summary(path).frame["tv"].isna().sum() == 1


def test_thousands_separators_are_read_and_a_decimal_comma_is_refused(tmp_path):
    dates = pd.date_range("2024-01-01", periods=3, freq="7D").strftime("%Y-%m-%d")
    path = tmp_path / "spend.csv"
    pd.DataFrame({"date": dates, "tv": ["1,234", "2,500.50", "300"], "revenue": range(3)}).to_csv(path, index=False)
    assert load_summary(path).frame["tv"].tolist() == [1234.0, 2500.5, 300.0]
    # "1,5" is 1.5 where commas mark decimals: never read as 15 (or as 1,500).
    pd.DataFrame({"date": dates, "tv": ["1,5", "2,25", "300"], "revenue": range(3)}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"'1,5', which looks like a decimal comma; write decimals with '\.'"):
        load_summary(path)
