"""B19: saving and loading keeps every transform setting; the loaded model predicts the same
contributions bit for bit from the stored draws; a foreign or damaged file is refused clearly."""
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from mediamix.errors import MediamixError
from mediamix.model.posterior import load_fitted
from mediamix.model.spec import SamplerSpec
from tests.fitting import case_spec, fit_case

pytestmark = pytest.mark.slow


def test_non_default_transforms_survive_save_and_load(tmp_path, shared_cases):
    spec = case_spec("b19", "b19", ["tv", "radio", "social"], seasonality_order=1, lookback_weeks=10,
                     trend="none", spend_share=False, media_share_prior=40,
                     priors=[{"touchpoint": "radio", "share": 3, "confidence": 60, "source": "experiment"}])
    spec = spec.from_dict({**spec.to_dict(), "touchpoints": [
        {"name": "tv", "spend": "tv", "adstock": {"lag": 2, "min_lookback": 2, "max_lookback": 6}},
        {"name": "radio", "spend": "radio", "adstock": {"max_lookback": 4}},
        {"name": "social", "spend": "social"}], "sampler": SamplerSpec(chains=2, warmup=150, draws=150)})
    ws, result = fit_case(tmp_path, shared_cases / "B12_flighted_many_zeros.csv", spec)
    here = ws.score("b19")
    out = tmp_path / "fresh.parquet"
    code = textwrap.dedent(f"""
        from mediamix.workspace import Workspace
        from mediamix.model.spec import ModelSpec
        ws = Workspace.open({str(ws.root)!r})
        fitted = ws.fitted("b19")
        assert fitted.spec == ModelSpec.from_yaml({spec.to_yaml()!r}), "spec changed on reload"
        ws.score("b19").to_parquet({str(out)!r})
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
    fresh = pd.read_parquet(out)
    assert np.array_equal(fresh["mean"].to_numpy(), here["mean"].to_numpy(), equal_nan=True)
    # The lag is honoured: tv's first two weeks after a flight starts carry no tv effect.
    tv = here[here.component == "tv"].set_index("date")["mean"]
    assert tv.iloc[0] == 0 and tv.iloc[1] == 0


def test_damaged_or_foreign_posterior_is_refused(tmp_path):
    bad = tmp_path / "posterior.nc"
    bad.write_bytes(b"not a netcdf file")
    with pytest.raises(MediamixError, match="cannot read posterior"):
        load_fitted(bad)
    with pytest.raises(MediamixError, match="does not exist"):
        load_fitted(tmp_path / "missing.nc")
