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


def test_rolling_origin_folds_forecast_unseen_weeks(tmp_path, shared_cases):
    import pandas as pd
    from mediamix.model.spec import SamplerSpec

    spec = case_spec("cv", "d", ["tv", "radio", "social"]).replace(sampler=SamplerSpec(chains=2, warmup=150, draws=150))
    ws, _ = fit_case(tmp_path, shared_cases / "B12_flighted_many_zeros.csv", spec)
    table = ws.cross_validate("cv", folds=2, horizon_weeks=13)
    assert list(table["fold"]) == [1, 2]
    # Fold 1 trains to week 78 and forecasts weeks 79-91; fold 2 forecasts the last 13 weeks.
    dates = ws.dataset("d").dates
    assert table.loc[1, "forecast_end"] == dates[-1] and table.loc[1, "forecast_start"] == dates[-13]
    assert table.loc[0, "origin"] == dates[-27] and (table["n"] == 13).all()
    assert (table["smape"] < 10).all()  # noise sd 500 on ~80k revenue: a good model forecasts within a few %
