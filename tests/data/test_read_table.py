import pandas as pd
import pytest

from mediamix.data import read_table
from mediamix.errors import DataError


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_sniffs_each_delimiter(tmp_path, delimiter):
    path = tmp_path / "spend.csv"
    rows = [["date", "tv", "revenue"], ["2022-01-03", "10", "100"], ["2022-01-10", "20", "200"]]
    path.write_text("\n".join(delimiter.join(r) for r in rows) + "\n")
    df = read_table(path)
    assert list(df.columns) == ["date", "tv", "revenue"]
    assert df["tv"].tolist() == [10, 20]


def test_semicolon_file_with_decimal_commas(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("date;tv\n2022-01-03;1234,5\n2022-01-10;0,25\n")
    assert read_table(path)["tv"].tolist() == [1234.5, 0.25]


def test_quoted_commas_do_not_confuse_the_sniffer(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('date;campaign;spend\n2022-01-03;"a, b, c";1\n2022-01-10;"d, e";2\n')
    df = read_table(path)
    assert list(df.columns) == ["date", "campaign", "spend"]
    assert df["campaign"].tolist() == ["a, b, c", "d, e"]


def test_parquet_round_trip(tmp_path):
    frame = pd.DataFrame({"date": pd.to_datetime(["2022-01-03", "2022-01-10"]), "tv": [1.5, 2.5]})
    path = tmp_path / "spend.parquet"
    frame.to_parquet(path)
    pd.testing.assert_frame_equal(read_table(path), frame)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(DataError, match="is a folder"):
        read_table(tmp_path)


def test_unknown_extension(tmp_path):
    path = tmp_path / "spend.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(DataError, match=r"extension '\.xlsx'.*CSV.*Parquet"):
        read_table(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="is empty"):
        read_table(path)


def test_blank_lines_only(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n  \n")
    with pytest.raises(DataError, match="blank lines"):
        read_table(path)


def test_header_without_rows(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("date,tv\n")
    with pytest.raises(DataError, match="no data rows"):
        read_table(path)


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(DataError, match="not a readable Parquet"):
        read_table(path)


def test_ragged_csv(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("date,tv\n2022-01-03,1\n2022-01-10,2,3,4\n")
    with pytest.raises(DataError, match="not a readable CSV"):
        read_table(path)


def test_repeated_header_name(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("date,tv,tv\n2022-01-03,1,2\n")
    with pytest.raises(DataError, match="repeats column names.*'tv'"):
        read_table(path)


def test_latin1_file(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("date,région\n2022-01-03,1\n".encode("latin-1"))
    assert list(read_table(path).columns) == ["date", "région"]
