"""LOO comparison ranks a model that includes a real driver above one that leaves it out."""
import pytest

from mediamix.errors import MediamixError
from tests.fitting import case_spec, fit_case

pytestmark = pytest.mark.slow


def test_model_with_the_true_channel_ranks_first(tmp_path, shared_cases):
    csv = shared_cases / "B16_friday_week_start.csv"
    ws, _ = fit_case(tmp_path, csv, case_spec("full", "d", ["tv", "search", "social"]))
    ws.create_model(case_spec("no-search", "d", ["tv", "social"]))
    ws.train("no-search", progress=False)
    table = ws.compare(["full", "no-search"])
    assert table.iloc[0]["model"] == "full"  # search truly drives revenue (ROI 3)
    assert table.iloc[1]["elpd_diff"] > 4 * table.iloc[1]["elpd_diff_se"]
    with pytest.raises(MediamixError, match="at least two"):
        ws.compare(["full"])
