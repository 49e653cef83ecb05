"""Small-fit settings and helpers shared by tests that train real models."""
from __future__ import annotations

from pathlib import Path

from mediamix.model.spec import DiagnosticThresholds, ModelSpec, SamplerSpec
from mediamix.workspace import Workspace

# A few hundred draws: enough for means and 90% intervals, fast enough for CI.
TEST_SAMPLER = SamplerSpec(chains=2, warmup=400, draws=400, seed=3)
# Status logic is tested on its own; recovery tests judge the numbers, not the ESS target.
RELAXED = DiagnosticThresholds(max_rhat=1.05, min_ess=100, max_divergences=5, max_holdout_smape_ratio=3.0)


def case_spec(name: str, dataset: str, channels: list[str], factors=(), **kw) -> ModelSpec:
    return ModelSpec.from_dict({
        "name": name, "data": dataset, "conversion": kw.pop("conversion", "revenue"),
        "touchpoints": [{"name": c, "spend": c} for c in channels],
        "factors": [{"column": f} if isinstance(f, str) else f for f in factors],
        "seasonality_order": kw.pop("seasonality_order", 0),
        "sampler": TEST_SAMPLER, "thresholds": RELAXED, **kw})


def geo_model_spec(channels, **kw) -> ModelSpec:
    """A hierarchical model of a simulate_geo panel loaded as data set 'geo-weekly': every channel
    a touchpoint, the holiday a factor; kw overrides any field."""
    return ModelSpec.from_dict({
        "name": "geo", "data": "geo-weekly", "conversion": "revenue", "geos": "hierarchical",
        "touchpoints": [{"name": c.name, "spend": f"{c.name}_spend"} for c in channels],
        "factors": [{"column": "holiday", "impact": "positive"}], "seasonality_order": 2, "holdout_weeks": 0,
        "sampler": TEST_SAMPLER, "thresholds": RELAXED, **kw})


def fit_case(root: Path, csv: Path, spec: ModelSpec, **load_options):
    ws = Workspace.init(root)
    ws.load_data(csv, spec.dataset, **load_options)
    ws.create_model(spec)
    result = ws.train(spec.name, progress=False)
    return ws, result


def in_window_roas(ws: Workspace, name: str, *, intervals: bool = False) -> dict:
    """Posterior-mean ROAS per channel over the training rows (contribution / spend);
    with intervals=True, channel -> (mean, p05, p95)."""
    from mediamix.insights.metrics import channel_table
    from mediamix.model.predict import component_draws

    fitted = ws.fitted(name)
    _, frame = ws._national(fitted.spec)
    table = channel_table(fitted, component_draws(fitted, frame))
    if intervals:
        return {c: (m, lo, hi) for c, m, lo, hi in zip(table["channel"], table["roas_mean"], table["roas_p05"],
                                                        table["roas_p95"])}
    return dict(zip(table["channel"], table["roas_mean"]))
