"""The transfer demo on a simulated world: errors against the truth land in the insights."""
import pandas as pd
import pytest

from mediamix.demo_mta import run_mta_demo
from mediamix.workspace import Workspace

pytestmark = pytest.mark.slow


def test_transfer_errors_are_reported_in_insights(tmp_path):
    ws = Workspace.init(tmp_path)
    errors, report = run_mta_demo(ws, weeks=52, warmup=300, draws=300, progress=False)
    table = dict(zip(errors["comparison"], errors["error"]))
    assert table["MMM with MTA priors"] < table["MMM without MTA priors"]
    assert table["MTA weekly credit, calibrated to the MMM"] < table["MTA weekly credit, raw"]
    written = pd.read_csv(report.parent / "transfer_errors.csv")
    assert list(written["comparison"]) == list(errors["comparison"])
    assert (report.parent / "mta_calibration.csv").exists()
