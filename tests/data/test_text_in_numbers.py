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
