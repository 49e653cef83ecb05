"""A model on the harmonized view: a wide summary export mapped by rules, synced, then read
through touchpoint and conversion definitions (`data: harmonized`), trained and scored.
The series the model reads must equal the export's own weekly columns."""
import numpy as np
import pandas as pd
import pytest

from mediamix.data import add_rule, define_conversion, define_touchpoint, wide_rules
from mediamix.data.simulate import demo_data_dir
from mediamix.model.spec import ModelSpec
from mediamix.workspace import Workspace
from tests.fitting import RELAXED

pytestmark = pytest.mark.slow
CHANNELS = ["tv", "search", "social"]


def test_train_on_the_harmonized_view(tmp_path):
    export = pd.read_csv(demo_data_dir() / "demo_weekly.csv")
    ws = Workspace.init(tmp_path)
    ws.load_batch(export[["date", *[f"{c}_spend" for c in CHANNELS], *[f"{c}_impressions" for c in CHANNELS],
                          "revenue"]], "platform", kind="summary")
    for rule in wide_rules("platform", {"unit": "week", "week_start": "Monday"},
                           {c: {"spend": f"{c}_spend", "impressions": f"{c}_impressions"} for c in CHANNELS},
                           metrics={"revenue": "revenue"}):
        add_rule(ws.store, rule)
    for c in CHANNELS:
        define_touchpoint(ws.store, c, where={"field": "channel", "equals": c}, spend="spend", volume="impressions")
    define_conversion(ws.store, "sales", conversion="revenue")
    ws.sync()
    spec = ModelSpec.from_dict({
        "name": "harmonized-mmm", "data": "harmonized", "conversion": "sales",
        "touchpoints": [{"name": c, "volume": f"{c}_volume"} for c in CHANNELS],
        "sampler": {"chains": 2, "warmup": 200, "draws": 200}, "thresholds": RELAXED.__dict__})
    ws.create_model(spec)
    _, frame = ws._national(spec)
    for c in CHANNELS:  # the harmonized series are the export's columns, week by week
        np.testing.assert_allclose(frame[f"{c}_spend"].to_numpy(), export[f"{c}_spend"].to_numpy())
    np.testing.assert_allclose(frame["sales"].to_numpy(), export["revenue"].to_numpy())
    result = ws.train("harmonized-mmm", progress=False)
    assert result.status in ("Success", "Training issue")
    scores = ws.score("harmonized-mmm")
    assert set(scores.loc[scores.kind == "channel", "component"]) == set(CHANNELS)
