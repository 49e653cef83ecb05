"""The Workspace: the library API every door (CLI, notebook, REST, web) calls.

    from mediamix.workspace import Workspace
    ws = Workspace.init("my-workspace")          # DuckDB store, SQLite registry, artifacts folder
    ws.load_data("spend.csv", name="weekly")
    ws.create_model("model.yaml")                # a ModelSpec as YAML, dict or object
    ws.train("brand-mmm")                        # NUTS; status Success / Training issue / Failed
    ws.train("brand-mmm", method="laplace")      # seconds: approximate posterior, for exploration
    ws.score("brand-mmm", start="2024-01-01")    # contributions with 90% intervals
    ws.insights("brand-mmm")                     # CSV/XLSX tables + self-contained HTML report
    ws.models()                                  # the models table
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mediamix.data import HarmonizedStore, SummaryData, check_model_columns, load_summary
from mediamix.errors import MediamixError, NotFoundError, SpecError
from mediamix.model.spec import ModelSpec
from mediamix.registry import Registry, Status, run_artifact_dir

DEFAULT_DIR = "mediamix-workspace"
MARKER = "mediamix-workspace.json"
PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}


def default_root() -> Path:
    return Path(os.environ.get("MEDIAMIX_HOME") or DEFAULT_DIR)


@dataclass
class TrainResult:
    model: str
    status: str
    reasons: list[str]
    diagnostics: dict
    posterior: Path


@dataclass
class EditResult:
    """What `Workspace.edit` did. `refit`: the fit changed, so the model needs training again
    (status Awaiting training if it had been trained). `rejudged`: the thresholds changed and the
    trained posterior was judged again under them (the status may have moved between Success and
    Training issue). `note`: why an edit that would have kept the posterior did not."""
    model: str
    spec: ModelSpec
    changed: bool
    refit: bool
    previous_status: Status
    status: Status
    reasons: list[str]
    rejudged: bool = False
    note: str | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)   # new with the edit, e.g. a window past the data


@dataclass
class DeleteResult:
    """What `Workspace.delete` did beyond deleting the model: the queued jobs it cancelled, and
    the jobs still running (they fail when they next touch the model)."""
    model: str
    cancelled_jobs: list
    running_jobs: list


class Workspace:
    def __init__(self, root: Path):
        # Absolute, so the artifact paths the registry records work from any folder (cron, a worker)
        self.root = Path(root).expanduser().resolve()
        self.store = HarmonizedStore(self.root / "harmonized.duckdb")
        self.registry = Registry(self.root / "registry.db")
        self.artifacts = self.root / "artifacts"

    # ---- opening ------------------------------------------------------------------------
    @classmethod
    def init(cls, root: str | Path | None = None) -> "Workspace":
        root = Path(root) if root else default_root()
        root.mkdir(parents=True, exist_ok=True)
        (root / "artifacts").mkdir(exist_ok=True)
        marker = root / MARKER
        if not marker.exists():
            marker.write_text(json.dumps({"format": 1}))
        return cls(root)

    @classmethod
    def open(cls, root: str | Path | None = None) -> "Workspace":
        root = Path(root) if root else default_root()
        if not (root / MARKER).exists():
            raise MediamixError(f"no mediamix workspace at {root.resolve()}; create one with `mediamix init {root}` "
                                f"or point MEDIAMIX_HOME at an existing one")
        return cls(root)

    # ---- data ---------------------------------------------------------------------------
    def load_data(self, path: str | Path, name: str, **options) -> SummaryData:
        """Read a summary CSV/Parquet (wide or long), validate dates, store it under `name`
        (replacing a data set of that name; models that use it read the new data from then on)."""
        if not name or not str(name).strip():
            raise MediamixError("data set name: give --name NAME")
        data = load_summary(path, **options)
        self.store.put(name, data, source=str(Path(path).resolve()))
        return data

    def models_using(self, dataset: str) -> list[str]:
        return [m.name for m in self.registry.list_models()
                if ModelSpec.from_yaml(m.spec_yaml).dataset == dataset]

    def delete_data(self, name: str, *, force: bool = False) -> None:
        """Delete a data set; refused while a model uses it, unless forced."""
        users = self.models_using(name)
        if users and not force:
            raise MediamixError(f"data set '{name}' is used by model(s) {', '.join(users)}; delete or edit those "
                                f"models first, or pass --force")
        self.store.delete(name)

    def load_batch(self, path, name: str, **options):
        """Append a batch (summary, events, conversions or factors) to a data set; all or nothing."""
        from mediamix.data import load_batch
        return load_batch(self.store, name, path, **options)

    def sync(self, **options):
        """Rebuild the harmonized view from every data set's active rules (atomically)."""
        from mediamix.data import sync
        return sync(self.store, **options)

    def datasets(self) -> pd.DataFrame:
        return self.store.list()

    def dataset(self, name: str) -> SummaryData:
        return self.store.get(name)

    # ---- models -------------------------------------------------------------------------
    @staticmethod
    def _as_spec(spec: ModelSpec | dict | str | Path) -> ModelSpec:
        if isinstance(spec, ModelSpec):
            return spec
        if isinstance(spec, dict):
            return ModelSpec.from_dict(spec)
        text = str(spec)
        path = Path(text)
        if "\n" not in text and (path.suffix in (".yaml", ".yml", ".json") or path.exists()):
            if path.is_dir():
                raise SpecError(f"model spec {path} is a folder; give the spec file (YAML), e.g. {path / 'model.yaml'}")
            if not path.exists():
                raise SpecError(f"model spec file {path} does not exist")
            text = path.read_text()
            if not text.strip():
                raise SpecError(f"model spec file {path} is empty; see README for the fields a spec has")
        return ModelSpec.from_yaml(text)

    def model_data(self, spec: ModelSpec) -> tuple[SummaryData, pd.DataFrame]:
        """The data a model reads and its frame: summed over geos into one national series
        (geos: national), or one row per date and geo (geos: hierarchical)."""
        from mediamix.data.model_frame import HARMONIZED
        if spec.dataset == HARMONIZED:  # `data: harmonized`: touchpoint and conversion definitions
            from mediamix.data import model_data
            data = model_data(self.store, [t.name for t in spec.touchpoints], spec.conversion,
                              factors=[f.column for f in spec.factors])
        else:
            data = self.store.get(spec.dataset)
        if spec.geos == "hierarchical":
            if not data.geo_column_present:
                raise SpecError(f"geos: hierarchical needs a data set with a geo column, and data set "
                                f"'{spec.dataset}' has none (one row per date). Load the geo-level data in long "
                                f"format (date, geo, metrics), or set geos: national")
            return data, data.frame
        nat = data.national()
        return nat, nat.frame

    _national = model_data      # the older name, kept for callers

    def check_spec(self, spec: ModelSpec, *, training_checks: bool = True) -> list[str]:
        """Validate the spec against its data set; returns warnings, raises on problems.

        Runs for create_model and edit before anything is stored (and for train and info). With
        training_checks (the default) it also builds the design training would build and checks
        what training checks: the training-window rules, the holdout, spline knots, the lift
        tests against the data (calibration.check_lift_tests) and the sampler settings. Scoring a
        fitted model needs none of those: pass training_checks=False there."""
        from mediamix.model.spec import check_fit_settings
        data, frame = self.model_data(spec)
        if spec.population is not None and spec.population not in data.numeric_columns:
            raise SpecError(f"population: '{spec.population}' is not a numeric column of data set '{spec.dataset}'; "
                            f"numeric columns are {data.numeric_columns}")
        warnings = list(data.notices) + check_model_columns(
            data, target=spec.conversion, spend_columns=[t.spend for t in spec.touchpoints],
            volume_columns=[t.volume for t in spec.touchpoints if t.volume],
            factor_columns=[f.column for f in spec.factors],
            start=spec.training.start, end=spec.training.end)
        if not training_checks:
            return warnings
        from mediamix.model.calibration import check_lift_tests
        from mediamix.model.design import build_design, check_design
        check_fit_settings(spec)
        # The columns are known good here; the design is what train builds first (a few arrays).
        design = build_design(frame, spec, periods_per_year=data.cadence.periods_per_year,
                              period_days=PERIOD_DAYS[data.cadence.unit])
        return warnings + check_design(spec, design) + check_lift_tests(spec, design)

    def create_model(self, spec: ModelSpec | dict | str | Path) -> list[str]:
        """Register a model (status Awaiting training). Returns data warnings."""
        spec = self._as_spec(spec)
        warnings = self.check_spec(spec)
        self.registry.create_model(spec.name, description=spec.description, conversion=spec.conversion,
                                   spec_yaml=spec.to_yaml(), run_frequency=spec.run_frequency)
        return warnings

    def spec(self, name: str) -> ModelSpec:
        return ModelSpec.from_yaml(self.registry.get_model(name).spec_yaml)

    def edit(self, name: str, **changes) -> "EditResult":
        """Change spec fields (e.g. description, lookback_weeks); returns what the edit did.

        A field may be named by its path: `sampler={"draws": 500}` replaces the section,
        `**{"sampler.draws": 500}` one field of it, `**{"touchpoints[3].saturation": "hill"}` or
        `**{"touchpoints[search].saturation": "hill"}` one touchpoint's (by position or name).
        The edited spec is validated in full, and against its data, before anything is stored:
        a refused edit leaves the model, its spec and its status as they were.

        An edit that changes the fit (data, touchpoints, priors, windows, sampler, ...) sends a
        trained model back to Awaiting training. One that does not keeps the trained posterior
        and the status: description and run_frequency say nothing about the fit; thresholds only
        judge it, so the stored posterior is judged again under the new thresholds (the same
        diagnostics training computes) and the status follows: Success <-> Training issue."""
        before = self.spec(name)
        spec = before.edited(changes)
        if spec.name != name:
            raise SpecError("name: use `mediamix model duplicate` to copy a model under a new name")
        warnings = self.check_spec(spec)
        previous = self.registry.get_model(name)
        refit = _changes_fit(before, spec)
        verdict, note = None, None
        if not refit and spec.thresholds != before.thresholds:
            trained = self.registry.trained_run(name)
            if trained is not None:
                try:
                    verdict = _rejudge(trained, spec, self.run_dir(trained.artifact_dir or ""))
                except Exception as exc:  # noqa: BLE001  (posterior gone or unreadable: train again)
                    refit = True
                    note = (f"its posterior could not be judged again under the new thresholds "
                            f"({exc if isinstance(exc, MediamixError) else type(exc).__name__ + ': ' + str(exc)})")
        rec = self.registry.update_model(name, spec_yaml=spec.to_yaml(), description=spec.description,
                                         conversion=spec.conversion, run_frequency=spec.run_frequency,
                                         same_fit=not refit, verdict=verdict)
        return EditResult(model=name, spec=spec, changed=spec != before, refit=refit,
                          previous_status=previous.status, status=rec.status, reasons=list(rec.status_reasons),
                          rejudged=verdict is not None, note=note, warnings=self._new_warnings(before, warnings)
                          if refit else [])

    def _new_warnings(self, before: ModelSpec, warnings: list[str]) -> list[str]:
        """The edited spec's warnings that the spec before the edit did not have."""
        try:
            known = set(self.check_spec(before))
        except MediamixError:      # the old spec fails today's checks: every warning is news
            known = set()
        return [w for w in warnings if w not in known]

    def models(self) -> pd.DataFrame:
        return self.registry.models_table()

    def info(self, name: str) -> dict:
        rec = self.registry.get_model(name)
        runs = self.registry.runs(name)
        spec = self.spec(name)
        try:  # the data may have changed since the model was created: check it now
            data_warnings, data_error = self.check_spec(spec), None
        except MediamixError as exc:
            data_warnings, data_error = [], str(exc)
        # How the current posterior was fitted (NUTS or the Laplace approximation) and its notices.
        trained = self.registry.trained_run(name)
        diag = (trained.diagnostics or {}) if trained is not None else {}
        fit = {"method": diag.get("method", "nuts"), "notices": list(diag.get("notices") or []),
               "pareto_k": diag.get("pareto_k")} if trained is not None else None
        return {"model": rec, "spec": spec, "runs": runs, "data_warnings": data_warnings, "data_error": data_error,
                "fit": fit}

    def duplicate(self, name: str, new_name: str) -> None:
        spec = self.spec(name).replace(name=new_name)
        self.registry.duplicate(name, new_name)
        self.registry.update_model(new_name, spec_yaml=spec.to_yaml())

    def delete(self, name: str) -> "DeleteResult":
        """Remove the model, its runs, scores and artifacts; nothing else. Its queued jobs are
        cancelled in the same transaction (they would only fail later); a job already running
        cannot be stopped from here and is reported, so the caller can say it will fail."""
        from mediamix.jobs import JobQueue, JobState

        queue = JobQueue(self.registry)
        with self.registry.transaction() as session:
            rec = self.registry.get_model(name, session=session, lock=True)
            cancelled = queue.cancel_queued(name, reason=f"model '{name}' was deleted", session=session)
            running = [j for j in queue.pending(name, session=session) if j.state is JobState.RUNNING]
            dirs = self.registry.delete_model(name, session=session)
        for table in (_scores_table(rec.id), _geo_scores_table(rec.id)):
            if self.store.table_exists(table):
                self.store.delete_table(table)
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(self.artifacts / "models" / str(rec.id), ignore_errors=True)
        return DeleteResult(model=name, cancelled_jobs=cancelled, running_jobs=running)

    def prior_check(self, name: str, draws: int = 1000) -> pd.DataFrame:
        """What the model's priors imply (share of conversions, ROAS or CPA) before training."""
        from mediamix.model.prior_check import prior_check
        spec = self.spec(name)
        nat, frame = self.model_data(spec)
        return prior_check(spec, frame, periods_per_year=nat.cadence.periods_per_year,
                           period_days=PERIOD_DAYS[nat.cadence.unit], draws=draws)

    # ---- training -----------------------------------------------------------------------
    def train(self, name: str, *, progress: bool = True, method: str | None = None) -> TrainResult:
        """Fit the model's spec. `method` ("nuts" or "laplace") overrides spec.sampler.method for
        this run only: the stored spec is unchanged; the run and the posterior record the method."""
        from mediamix.model.train import train as train_model

        rec = self.registry.get_model(name)
        spec = self.spec(name)
        if method is not None and method != spec.sampler.method:
            spec = spec.replace(sampler=dataclasses.replace(spec.sampler, method=method))   # validates it
        from mediamix.model.spec import check_fit_settings
        check_fit_settings(spec)      # before the run opens: a refused train changes nothing stored
        run_id = self.registry.start_run(name, "train", {"sampler": spec.to_dict()["sampler"]})
        out_dir = run_artifact_dir(self.artifacts, rec.id, run_id)
        try:
            data_warnings = self.check_spec(spec)
            nat, frame = self.model_data(spec)
            fitted, diag = train_model(spec, frame, periods_per_year=nat.cadence.periods_per_year,
                                       period_days=PERIOD_DAYS[nat.cadence.unit], progress=progress)
            fitted.diagnostics["data_warnings"] = data_warnings
            path = fitted.save(out_dir / "posterior.nc")
        except Exception as exc:
            message = str(exc) if isinstance(exc, MediamixError) else f"{type(exc).__name__}: {exc}"
            self.registry.finish_run(run_id, Status.FAILED, message=message, artifact_dir=out_dir)
            raise
        status = Status.SUCCESS if diag.status == "Success" else Status.TRAINING_ISSUE
        summary = {k: v for k, v in fitted.diagnostics.items() if k != "parameters_table"}
        self.registry.finish_run(run_id, status, diagnostics=summary, artifact_dir=out_dir, reasons=diag.reasons)
        return TrainResult(name, status.value, list(diag.reasons), summary, path)

    def fitted(self, name: str):
        from mediamix.model.posterior import load_fitted

        run = self.registry.trained_run(name)  # the posterior of the current spec version
        if run is None or not run.artifact_dir:
            raise MediamixError(f"model '{name}' has no trained posterior; run `mediamix model train {name}`")
        return load_fitted(self.run_dir(run.artifact_dir) / "posterior.nc")

    def run_dir(self, artifact_dir: str) -> Path:
        """A run's artifact folder as recorded. Older workspaces recorded it relative to the folder
        training ran from (mediamix-workspace/artifacts/...): it is found under this workspace's
        artifacts/ from any folder."""
        path = Path(artifact_dir)
        if path.is_absolute() or path.exists() or "artifacts" not in path.parts:
            return path
        return self.root / Path(*path.parts[path.parts.index("artifacts"):])

    def cross_validate(self, name: str, folds: int = 3, horizon_weeks: int = 13) -> pd.DataFrame:
        """Rolling-origin cross-validation of the model's spec (each fold is a full fit)."""
        from mediamix.model.validation import rolling_origin
        spec = self.spec(name)
        nat, frame = self.model_data(spec)
        return rolling_origin(spec, frame, folds=folds, horizon_weeks=horizon_weeks,
                              periods_per_year=nat.cadence.periods_per_year, period_days=PERIOD_DAYS[nat.cadence.unit])

    def compare(self, names: list[str]) -> pd.DataFrame:
        """Rank trained variants of a model by PSIS-LOO expected log predictive density."""
        from mediamix.model.compare import compare_models
        fitted = {n: self.fitted(n) for n in names}
        frames = {n: self.model_data(f.spec)[1] for n, f in fitted.items()}
        return compare_models(fitted, frames)

    # ---- scoring and insights -------------------------------------------------------------
    def score(self, name: str, start: str | None = None, end: str | None = None) -> pd.DataFrame:
        """Contributions per period and component for [start, end] (default: training window).
        A geo model's are the national sums; its per-geo scores are kept too (`geo_scores`)."""
        from mediamix.model.predict import component_draws
        from mediamix.scoring.score import score_geo_range, score_range

        rec = self.registry.get_model(name)
        fitted = self.fitted(name)
        # Check the request and the data before opening a run: a bad request changes nothing stored.
        # (Not the training checks: a posterior trained under older rules still scores.)
        self.check_spec(fitted.spec, training_checks=False)
        _, frame = self.model_data(fitted.spec)
        start, end = _check_range(frame, start, end)
        run_id = self.registry.start_run(name, "score", {"from": start, "to": end})
        out_dir = run_artifact_dir(self.artifacts, rec.id, run_id)
        try:
            per_geo = len(fitted.scaling.geos) > 1
            draws = component_draws(fitted, frame, per_geo=per_geo)
            scores = score_range(fitted, frame, start, end, draws=draws)
            out_dir.mkdir(parents=True, exist_ok=True)
            scores.to_parquet(out_dir / "scores.parquet", index=False)
            self.store.put_table(_scores_table(rec.id), scores)
            if per_geo:
                geo_scores = score_geo_range(fitted, frame, start, end, draws=draws)
                geo_scores.to_parquet(out_dir / "scores_geo.parquet", index=False)
                self.store.put_table(_geo_scores_table(rec.id), geo_scores)
        except Exception as exc:
            message = str(exc) if isinstance(exc, MediamixError) else f"{type(exc).__name__}: {exc}"
            self.registry.finish_run(run_id, Status.FAILED, message=message, artifact_dir=out_dir)
            raise
        # The registry keeps the training verdict (and its reasons) on the model.
        self.registry.finish_run(run_id, Status.SUCCESS, artifact_dir=out_dir)
        return scores

    def rescore(self, name: str) -> pd.DataFrame:
        """Score again with the range of the last score run (or the training window)."""
        last = self.registry.latest_run(name, "score")
        params = last.params if last else {}
        return self.score(name, params.get("from"), params.get("to"))

    def scores(self, name: str) -> pd.DataFrame:
        rec = self.registry.get_model(name)
        table = _scores_table(rec.id)
        if not self.store.table_exists(table):
            raise NotFoundError(f"model '{name}' has no scores yet; run `mediamix model score {name}`")
        return self.store.get_table(table)

    def geo_scores(self, name: str) -> pd.DataFrame:
        """A geo model's scores per geo (the columns of `scores` after a leading geo column)."""
        rec = self.registry.get_model(name)
        table = _geo_scores_table(rec.id)
        if not self.store.table_exists(table):
            if self.spec(name).geos != "hierarchical":
                raise NotFoundError(f"model '{name}' is national (geos: national): it has no per-geo scores")
            raise NotFoundError(f"model '{name}' has no scores yet; run `mediamix model score {name}`")
        return self.store.get_table(table)

    def insights(self, name: str, out_dir: str | Path | None = None) -> Path:
        """Write the insight tables (CSV, XLSX, Vega-Lite) and the HTML report; returns the report path."""
        from mediamix.insights.metrics import compute_tables
        from mediamix.insights.report import render_report

        rec = self.registry.get_model(name)
        fitted = self.fitted(name)
        _, frame = self.model_data(fitted.spec)
        trained = self.registry.trained_run(name)
        tables = compute_tables(fitted, frame, {
            "status": rec.status.value if rec.status.value in ("Success", "Training issue") else fitted.diagnostics.get("status"),
            "status_reasons": list(rec.status_reasons) or list(fitted.diagnostics.get("reasons", [])),
            "created": rec.created_at.isoformat(),
            "trained": trained.finished_at.isoformat() if trained and trained.finished_at else None})
        folder = Path(out_dir) if out_dir else self.artifacts / "models" / str(rec.id) / "insights"
        folder.mkdir(parents=True, exist_ok=True)
        calibration = f"mta_calibrated_model_{rec.id}"
        if self.store.table_exists(calibration):  # MTA credit rescaled to this model: raw and calibrated
            self.store.get_table(calibration).to_csv(folder / "mta_calibration.csv", index=False, date_format="%Y-%m-%d")
        return render_report(tables, folder / "report.html")


    # ---- attribution, both directions -------------------------------------------------------
    def train_with_mta(self, name: str, events: pd.DataFrame, **options):
        """Run MTA on touchpoint events first, turn its incremental conversions into share
        priors for the channels it sees (user priors win), then train the MMM."""
        from mediamix.attribution.transfer import train_with_mta
        return train_with_mta(self, name, events, **options)

    def calibrate_mta(self, name: str, mta_weekly: pd.DataFrame, channel_map: dict | None = None) -> pd.DataFrame:
        """Rescale weekly MTA credits to the MMM's weekly incremental contribution per channel;
        keeps raw and calibrated credit side by side, stored next to the scores."""
        from mediamix.attribution.transfer import calibrate_model_scores
        rec = self.registry.get_model(name)
        frame = calibrate_model_scores(self, name, mta_weekly, channel_map)
        self.store.put_table(f"mta_calibrated_model_{rec.id}", frame)
        return frame


# ModelSpec fields that say nothing about what is fitted; thresholds only judge the fit.
_NOT_FITTED = ("description", "run_frequency", "thresholds")


def _changes_fit(before: ModelSpec, after: ModelSpec) -> bool:
    """Whether `after` fits differently from `before`: any field other than _NOT_FITTED differs
    (a field added to ModelSpec later counts as fitted until it is listed here)."""
    return before.replace(**{f: getattr(after, f) for f in _NOT_FITTED}) != after


def _rejudge(run, spec: ModelSpec, run_dir: Path):
    """The verdict training would have reached on `run`'s posterior under `spec.thresholds`:
    the same diagnostics on the stored draws, with the data notices training put first."""
    from mediamix.model.diagnostics import diagnose
    from mediamix.model.posterior import load_fitted
    from mediamix.registry import TrainVerdict

    stored = run.diagnostics or {}
    if not run.artifact_dir or "in_sample" not in stored:
        raise MediamixError(f"run {run.id} has no stored posterior and fit metrics to judge")
    fitted = load_fitted(run_dir / "posterior.nc")
    diag = diagnose(fitted.idata, spec.thresholds, in_sample=stored["in_sample"], holdout=stored.get("holdout"),
                    max_tree_depth=spec.sampler.max_tree_depth, method=stored.get("method", "nuts"))
    # Training stores notices = the design's notices + the diagnostics' own, and puts the design's
    # first in the reasons of a Training issue (model/train.py); do the same.
    design_notices = [n for n in stored.get("notices") or [] if n not in diag.notices]
    reasons = design_notices + list(diag.reasons) if diag.reasons else []
    status = Status.TRAINING_ISSUE if reasons else Status.SUCCESS
    return TrainVerdict(run.id, status, reasons, {"status": status.value, "reasons": reasons,
                                                  "worst_rhat": diag.worst_rhat, "worst_ess": diag.worst_ess})


def _check_range(frame: pd.DataFrame, start, end) -> tuple[str | None, str | None]:
    """ISO dates inside the data, from <= to; named errors otherwise."""
    parsed = []
    for flag, value in (("--from", start), ("--to", end)):
        if value is None or value == "":
            parsed.append(None)
            continue
        text = str(value).strip()
        # ISO only: 01/02/2024 is 1 February to some users and 2 January to others
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise MediamixError(f"{flag} {text!r} is not an ISO date; write it as YYYY-MM-DD, e.g. 2024-02-01")
        try:
            parsed.append(pd.Timestamp(dt.date.fromisoformat(text)))
        except ValueError as exc:
            raise MediamixError(f"{flag} {text} is not a calendar date ({exc})") from None
    lo, hi = parsed
    first, last = frame["date"].min(), frame["date"].max()
    if lo is not None and hi is not None and lo > hi:
        raise MediamixError(f"--from {lo.date()} is after --to {hi.date()}")
    if (lo is not None and lo > last) or (hi is not None and hi < first):
        raise MediamixError(f"the range {start or first.date()}..{end or last.date()} has no data; "
                            f"the data covers {first.date()}..{last.date()}")
    return (str(lo.date()) if lo is not None else None), (str(hi.date()) if hi is not None else None)


def _scores_table(model_id: int) -> str:
    return f"scores_model_{model_id}"


def _geo_scores_table(model_id: int) -> str:
    return f"scores_geo_model_{model_id}"
