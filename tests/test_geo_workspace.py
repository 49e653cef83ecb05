"""A geo-level data set through the workspace: a hierarchical model trains on the geo rows,
scores (national and per geo, carryover from before the range within each geo), rescores,
and its insights carry a per-geo channel table; a hierarchical spec on national data is
refused with a message that says what to do."""
import pandas as pd
import pytest

from mediamix.data.simulate_geo import DEFAULT_CHANNELS, GeoSimulationSpec, simulate_geo
from mediamix.errors import MediamixError
from mediamix.model.spec import ModelSpec, SamplerSpec
from mediamix.workspace import Workspace
from tests.fitting import geo_model_spec

CHANNELS = DEFAULT_CHANNELS[:3]
# Plumbing, not recovery (tests/model/test_geo.py judges the numbers): a short run.
SHORT = SamplerSpec(chains=2, warmup=200, draws=150, seed=4)


def spec(**kw) -> ModelSpec:
    return geo_model_spec(CHANNELS, **{"name": "geo-mmm", "seasonality_order": 1, "holdout_weeks": 8,
                                       "sampler": SHORT, **kw})


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A workspace with the simulated geo data set and its national sum, nothing trained."""
    root = tmp_path_factory.mktemp("geo-ws")
    sim = simulate_geo(GeoSimulationSpec(weeks=80, geo_sizes=(2.0, 1.0, 0.5), channels=CHANNELS, seed=8))
    csv = root / "geo.csv"
    sim.frame.to_csv(csv, index=False, date_format="%Y-%m-%d")
    ws = Workspace.init(root / "ws")
    ws.load_data(csv, "geo-weekly")
    national = sim.frame.groupby("date", as_index=False).sum(numeric_only=True)
    national.to_csv(root / "national.csv", index=False, date_format="%Y-%m-%d")
    ws.load_data(root / "national.csv", "national-weekly")
    return ws, sim


@pytest.fixture(scope="module")
def trained(loaded):
    ws, sim = loaded
    ws.create_model(spec())
    return ws, sim, ws.train("geo-mmm", progress=False)


@pytest.mark.slow
def test_geo_model_trains_scores_and_reports(trained, tmp_path):
    ws, sim, result = trained
    assert result.status in ("Success", "Training issue")
    fitted = ws.fitted("geo-mmm")
    assert fitted.scaling.geos == ["geo_01", "geo_02", "geo_03"]
    assert fitted.idata.posterior["beta"].dims == ("chain", "draw", "geo", "channel")

    full = ws.score("geo-mmm")                                   # the training window
    geo = ws.geo_scores("geo-mmm")
    assert set(geo["geo"]) == set(fitted.scaling.geos)
    # The national scores' means are the sums of the geos' (each draw sums the geos).
    summed = geo.groupby(["date", "component"])["mean"].sum()
    national = full.set_index(["date", "component"])["mean"]
    assert summed.loc[national.index].to_numpy() == pytest.approx(national.to_numpy(), rel=1e-5)
    actual = geo[geo["component"] == "actual"].groupby("date")["mean"].sum()
    assert actual.to_numpy() == pytest.approx(sim.frame.groupby("date")["revenue"].sum().to_numpy(), rel=1e-9)

    # A later range keeps each geo's carryover from the weeks before it: same numbers as the full run.
    start = str(pd.Timestamp(fitted.scaling.train_start) + pd.Timedelta(weeks=30))[:10]
    late = ws.score("geo-mmm", start=start)
    late_geo = ws.geo_scores("geo-mmm")
    assert late["date"].min() == pd.Timestamp(start)
    key = ["geo", "date", "component"]
    merged = late_geo.merge(geo, on=key, suffixes=("", "_full"))
    assert len(merged) == len(late_geo)
    assert merged["mean"].to_numpy() == pytest.approx(merged["mean_full"].to_numpy(), rel=1e-6, abs=1e-6)
    again = ws.rescore("geo-mmm")
    assert again["date"].min() == pd.Timestamp(start) and len(again) == len(late)

    report = ws.insights("geo-mmm", out_dir=tmp_path / "insights")
    table = pd.read_csv(tmp_path / "insights" / "geo_channels.csv")
    assert len(table) == 3 * len(CHANNELS)
    assert {"geo", "channel", "share_mean", "share_p05", "share_p95", "roas_mean", "roas_p05", "roas_p95"} <= set(table)
    assert (table["share_p05"] <= table["share_mean"]).all() and (table["share_mean"] <= table["share_p95"]).all()
    channels = pd.read_csv(tmp_path / "insights" / "channels.csv")
    by_channel = table.groupby("channel")["contribution_mean"].sum()
    assert by_channel.loc[channels["channel"]].to_numpy() == pytest.approx(channels["contribution_mean"], rel=1e-4)
    html = report.read_text()
    assert "Channels by geo" in html and "geo_03" in html


def test_hierarchical_on_national_data_names_the_fix(loaded):
    ws, _ = loaded
    with pytest.raises(MediamixError, match="geos: hierarchical needs a data set with a geo column, and data set "
                                            "'national-weekly' has none.*or set geos: national"):
        ws.create_model(spec(name="wrong", data="national-weekly"))
    with pytest.raises(MediamixError, match="population: 'people' is not a numeric column"):
        ws.create_model(spec(name="wrong-population", population="people"))
    # National is still the default: the geo rows summed into one series.
    ws.create_model(spec(name="summed", geos="national"))
    _, frame = ws.model_data(ws.spec("summed"))
    assert "geo" not in frame.columns and len(frame) == 80


@pytest.mark.slow
def test_cli_scores_by_geo(trained, tmp_path):
    from typer.testing import CliRunner

    from mediamix.cli import app
    ws, sim, _ = trained
    runner = CliRunner()
    out = runner.invoke(app, ["model", "score", "geo-mmm", "--by-geo", "--out", str(tmp_path / "new" / "s.csv"),
                              "--workspace", str(ws.root)], terminal_width=200)      # a missing folder is made
    assert out.exit_code == 0, out.output
    assert "Contributions by geo" in out.output and all(g in out.output for g in ("geo_01", "geo_02", "geo_03"))
    geo = pd.read_csv(tmp_path / "new" / "s_geo.csv")
    assert len(pd.read_csv(tmp_path / "new" / "s.csv")) == len(ws.scores("geo-mmm"))
    to_folder = runner.invoke(app, ["model", "score", "geo-mmm", "--out", str(tmp_path), "--workspace", str(ws.root)])
    assert isinstance(to_folder.exception, MediamixError) and "is a folder" in str(to_folder.exception)
    assert set(geo["geo"]) == {"geo_01", "geo_02", "geo_03"} and len(geo) == len(ws.geo_scores("geo-mmm"))
    # The actual column per geo is the data's revenue over the training window.
    fitted = ws.fitted("geo-mmm")
    window = sim.frame[(sim.frame["date"] >= str(fitted.scaling.train_start))
                       & (sim.frame["date"] <= str(fitted.scaling.train_end))]
    actual = geo[geo["component"] == "actual"].groupby("geo")["mean"].sum()
    assert actual.to_numpy() == pytest.approx(window.groupby("geo")["revenue"].sum().loc[actual.index].to_numpy(),
                                              rel=1e-9)
    # The terminal table's totals: actual is the data's revenue per geo, media the channels' sum.
    from mediamix.scoring.score import geo_totals
    totals = geo_totals(ws.geo_scores("geo-mmm"))
    assert totals["actual"].to_numpy() == pytest.approx(actual.loc[totals.index].to_numpy(), rel=1e-9)
    channels = geo[geo["kind"] == "channel"].groupby("geo")["mean"].sum()
    assert totals["media"].to_numpy() == pytest.approx(channels.loc[totals.index].to_numpy(), rel=1e-5)
    assert totals["media %"].to_numpy() == pytest.approx(100 * (channels / actual).loc[totals.index].to_numpy(),
                                                         rel=1e-5)
    ws.create_model(ModelSpec.from_dict({**spec().to_dict(), "name": "national", "data": "national-weekly",
                                         "geos": "national"}))
    refused = runner.invoke(app, ["model", "score", "national", "--by-geo", "--workspace", str(ws.root)])
    assert isinstance(refused.exception, MediamixError) and "is national" in str(refused.exception)
