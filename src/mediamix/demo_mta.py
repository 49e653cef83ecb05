"""The transfer-learning demo: a simulated world of people and journeys with known truth,
an MMM trained without and with MTA priors, and MTA credit calibrated to the MMM.

Writes both models' insights; the MTA model's insights folder also gets
`transfer_errors.csv` (how far each estimate is from the truth) and `mta_calibration.csv`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from mediamix.model.spec import ModelSpec


def run_mta_demo(ws, *, weeks: int = 52, people: int = 20_000, seed: int = 11, warmup: int = 500,
                 draws: int = 500, progress: bool = True) -> tuple[pd.DataFrame, Path]:
    """Returns (transfer error table, report path of the model trained with MTA priors)."""
    from mediamix.attribution.transfer import mta_weekly_credit, train_with_mta, transfer_errors
    from mediamix.data.simulate_people import PeopleSimulationSpec, simulate_people

    sim = simulate_people(PeopleSimulationSpec(weeks=weeks, people=people, seed=seed))
    folder = ws.root / "demo-mta"
    folder.mkdir(parents=True, exist_ok=True)
    sim.weekly.to_csv(folder / "world_weekly.csv", index=False)
    sim.events.to_parquet(folder / "world_events.parquet", index=False)
    ws.load_data(folder / "world_weekly.csv", "mta-world")
    base = {"data": "mta-world", "conversion": {"column": "conversions", "kind": "count"},
            "touchpoints": [{"name": c, "spend": f"{c}_spend"} for c in sim.channels],
            "lookback_weeks": 4, "holdout_weeks": 0, "seasonality_order": 2,
            "sampler": {"chains": 2, "warmup": warmup, "draws": draws, "seed": 1}}
    names = {"alone": "mta-world-mmm", "mta": "mta-world-mmm-with-mta"}
    for key, name in names.items():
        if ws.registry.has_model(name):
            ws.delete(name)
        ws.create_model(ModelSpec.from_dict({"name": name, "description": f"simulated people world ({key})", **base}))
    ws.train(names["alone"], progress=progress)
    run = train_with_mta(ws, names["mta"], sim.events)
    alone, with_mta = ws.score(names["alone"]), ws.score(names["mta"])
    raw = mta_weekly_credit(run.journeys, run.attribution, "influenced", periods=with_mta["date"].unique())
    calibrated = ws.calibrate_mta(names["mta"], raw)
    errors = transfer_errors(sim.true_incremental(), alone, with_mta, calibrated)
    ws.insights(names["alone"])
    report = ws.insights(names["mta"])
    errors.to_csv(report.parent / "transfer_errors.csv", index=False)
    return errors, report
