"""Top campaigns: journeys rebuilt with the campaign as the touchpoint, credited linearly."""
import pandas as pd
import pytest

from mediamix.attribution.summary import top_campaigns
from mediamix.errors import DataError


def events():
    t = pd.Timestamp("2024-03-01")
    rows = [  # person, days after t, campaign, converted
        ("a", 0, "spring_sale", 0), ("a", 1, "brand", 0), ("a", 2, None, 1),
        ("b", 0, "brand", 0), ("b", 3, None, 1),
        ("c", 0, "spring_sale", 0), ("c", 1, "spring_sale", 0), ("c", 2, "retarget", 0), ("c", 4, None, 1),
        ("d", 0, "retarget", 0),  # never converts
    ]
    return pd.DataFrame([{"person": p, "ts": t + pd.Timedelta(days=d), "campaign": c, "converted": k}
                         for p, d, c, k in rows])


def test_linear_credit_by_campaign_by_hand():
    table = top_campaigns(events(), campaign="campaign", person="person", timestamp="ts", conversion="converted",
                          lookback=2).set_index("campaign")
    # a: spring_sale 1/2, brand 1/2; b: brand 1; c: spring_sale 2/3, retarget 1/3 (every touch counts).
    assert table.loc["brand", "conversions"] == pytest.approx(1.5)
    assert table.loc["spring_sale", "conversions"] == pytest.approx(0.5 + 2 / 3)
    assert table.loc["retarget", "conversions"] == pytest.approx(1 / 3)
    assert table["share"].sum() == pytest.approx(100)
    assert list(table.sort_values("rank").index) == ["brand", "spring_sale", "retarget"]


def test_unknown_campaign_column_is_named():
    with pytest.raises(DataError, match="campaign column 'utm'"):
        top_campaigns(events(), campaign="utm", person="person", timestamp="ts", conversion="converted")
