"""The `mediamix` command: a thin door onto mediamix.workspace.Workspace.

Every command maps to one Workspace call; user mistakes print a one-line message (no
traceback) and exit with status 2.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from mediamix.errors import MediamixError
from mediamix.terminal import console, err, print_frame  # noqa: E402

app = typer.Typer(help="mediamix: marketing mix modeling and attribution. Start with `mediamix demo`, "
                       "or `mediamix init`, `mediamix data load`, `mediamix model create`, `mediamix model train`.",
                  no_args_is_help=True, add_completion=False)
from mediamix.data.cli import data_app  # noqa: E402  (load, sync, rules, touchpoints, quality)

model_app = typer.Typer(help="Create, train, score, inspect, duplicate, edit and delete models.", no_args_is_help=True)
app.add_typer(data_app, name="data")
from mediamix.attribution.cli import attribution_app  # noqa: E402  (a sub-app; light to import)

app.add_typer(attribution_app, name="attribution",
              help="Multi-touch attribution: rule-based, Markov, Shapley on path tables or touchpoint events.")
app.add_typer(model_app, name="model")

WorkspaceOpt = typer.Option(None, "--workspace", "-w", envvar="MEDIAMIX_HOME",
                            help="Workspace folder (default ./mediamix-workspace or $MEDIAMIX_HOME).")


def _ws(path: Optional[Path]):
    from mediamix.workspace import Workspace
    return Workspace.open(path)


# ---- workspace and demo ---------------------------------------------------------------------
@app.command()
def init(directory: Optional[Path] = typer.Argument(None, help="Folder to create (default ./mediamix-workspace or $MEDIAMIX_HOME).")):
    """Create a workspace: a DuckDB store for harmonized data, a SQLite model registry, an artifacts folder."""
    from mediamix.workspace import Workspace
    ws = Workspace.init(directory)
    console.print(f"workspace ready at [bold]{ws.root.resolve()}[/bold]")


@app.command()
def demo(workspace: Optional[Path] = WorkspaceOpt,
         draws: int = typer.Option(1000, help="Posterior draws per chain (the demo uses 2 chains)."),
         warmup: int = typer.Option(1000, help="Warm-up iterations per chain.")):
    """Run the main job end to end on the bundled demo data: load, create, train, score, insights."""
    from mediamix.data.simulate import demo_data_dir
    from mediamix.model.spec import ModelSpec
    from mediamix.workspace import Workspace

    ws = Workspace.init(workspace)
    folder = demo_data_dir()
    ws.load_data(folder / "demo_weekly.csv", name="demo")
    console.print(f"loaded data set [bold]demo[/bold] from {folder / 'demo_weekly.csv'}")
    spec = ModelSpec.from_yaml((folder / "demo_model.yaml").read_text())
    spec = spec.replace(sampler=spec.sampler.__class__(**{**spec.sampler.__dict__, "draws": draws, "warmup": warmup}))
    if ws.registry.has_model(spec.name):
        ws.delete(spec.name)  # the demo owns this model: start it afresh
    for w in ws.create_model(spec):
        console.print(f"[yellow]warning:[/yellow] {escape(w)}")
    console.print(f"created model [bold]{spec.name}[/bold]; training (2 chains x {warmup} warm-up x {draws} draws)…")
    result = ws.train(spec.name)
    _print_train(result)
    scores = ws.score(spec.name)
    console.print(f"scored {scores['date'].nunique()} periods")
    report = ws.insights(spec.name)
    print_frame(ws.models(), title="Models")
    console.print(f"insights report: [bold]{report.resolve()}[/bold]")
    console.print(f"(truth of the simulated data: {folder / 'demo_truth.json'})")


@app.command("demo-mta")
def demo_mta(workspace: Optional[Path] = WorkspaceOpt,
             weeks: int = typer.Option(52, help="Weeks of the simulated world."),
             draws: int = typer.Option(500, help="Posterior draws per chain.")):
    """Transfer learning on a simulated world with known truth: MMM without and with MTA priors,
    MTA calibrated to the MMM; prints how far each is from the truth and writes it to the insights."""
    from mediamix.demo_mta import run_mta_demo
    from mediamix.workspace import Workspace
    ws = Workspace.init(workspace)
    errors, report = run_mta_demo(ws, weeks=weeks, warmup=draws, draws=draws)
    print_frame(errors, title="Error against the simulated truth (lower is better)")
    console.print(f"insights report (with transfer_errors.csv beside it): [bold]{report.resolve()}[/bold]")
    world = ws.root / "demo-mta"
    console.print(f"the simulated world: {world / 'world_weekly.csv'} (data set 'mta-world') and its touchpoint "
                  f"events {world / 'world_events.parquet'} (for `mediamix model train NAME --mta-events`)")


def _print_train(result) -> None:
    d = result.diagnostics
    colour = "green" if result.status == "Success" else "yellow"
    if d.get("method") == "laplace":   # independent draws: R-hat, ESS and divergences do not apply
        k = d.get("pareto_k")
        console.print(f"status: [{colour}]{result.status}[/{colour}]  method laplace (approximate)  "
                      + (f"Pareto k {k:.2f}{' (> 0.7: the Gaussian misses the tails)' if k > 0.7 else ''}  "
                         if k is not None and k == k else "")
                      + f"fit {d.get('fit_seconds', float('nan')):.1f}s")
    else:
        console.print(f"status: [{colour}]{result.status}[/{colour}]  max R-hat {d.get('max_rhat', float('nan')):.3f}  "
                      f"min ESS {d.get('min_ess_bulk', float('nan')):.0f}  divergences {d.get('divergences')}  "
                      f"fit {d.get('fit_seconds', float('nan')):.1f}s")
    for r in result.reasons:
        console.print(f"  [yellow]•[/yellow] {escape(r)}")
    for n in d.get("notices") or []:
        if n not in result.reasons:
            console.print(f"  [cyan]note:[/cyan] {escape(n)}")


# ---- models ---------------------------------------------------------------------------------
@app.command()
def models(workspace: Optional[Path] = WorkspaceOpt):
    """The models table: Name, Description, Conversion event, Run frequency, Last run, Status."""
    print_frame(_ws(workspace).models(), title="Models")


@model_app.command("create")
def model_create(spec: Path = typer.Argument(..., help="Model spec YAML (see README for the fields)."),
                 workspace: Optional[Path] = WorkspaceOpt):
    """Register a model from its YAML spec (status: Awaiting training)."""
    ws = _ws(workspace)
    warnings = ws.create_model(spec)
    name = ws._as_spec(spec).name
    console.print(f"created model [bold]{name}[/bold] (Awaiting training)")
    for w in warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(w)}")


@model_app.command("info")
def model_info(name: str, workspace: Optional[Path] = WorkspaceOpt):
    """Show a model's spec, status (with reasons) and runs."""
    info = _ws(workspace).info(name)
    rec = info["model"]
    console.print(f"[bold]{rec.name}[/bold] — {rec.description}")
    console.print(f"status: {rec.status.value}" + (f" — {escape(rec.status_message)}" if rec.status_message else ""))
    for r in rec.status_reasons:
        console.print(f"  [yellow]•[/yellow] {escape(r)}")
    fit = info.get("fit")
    if fit:
        k = fit.get("pareto_k")
        console.print(f"fitted with: {fit['method']}" + (" (approximate posterior)" if fit["method"] == "laplace" else "")
                      + (f", Pareto k {k:.2f}" if k is not None and k == k else ""))
        for n in fit["notices"]:
            if n not in rec.status_reasons:
                console.print(f"  [cyan]note:[/cyan] {escape(n)}")
    if info["data_error"]:
        console.print(f"[red]data problem (training will fail):[/red] {escape(info['data_error'])}")
    for w in info["data_warnings"]:
        console.print(f"[yellow]data warning:[/yellow] {escape(w)}")
    console.print(escape(info["spec"].to_yaml()))
    import pandas as pd
    runs = pd.DataFrame([{"run": r.id, "kind": r.kind, "status": r.status.value, "started": r.started_at,
                          "finished": r.finished_at, "message": r.message or ""} for r in info["runs"]])
    if len(runs):
        print_frame(runs, title="Runs")


@model_app.command("prior-check")
def model_prior_check(name: str, draws: int = typer.Option(1000, help="Prior draws."),
                      workspace: Optional[Path] = WorkspaceOpt):
    """Show what the priors imply before training: each channel's share of conversions and ROAS/CPA ranges."""
    table = _ws(workspace).prior_check(name, draws)
    for col in [c for c in table.columns if c.startswith("share_")]:
        table[col.replace("share_", "share % ")] = 100 * table.pop(col)
    console.print("Shares have independent priors, so the all-media row can exceed 100% in its tail: "
                  "lower media_share_prior or raise confidence if that looks implausible.")
    print_frame(table, title=f"Prior predictive check: {name} (5th / median / 95th percentiles)")


@model_app.command("train")
def model_train(name: str,
                mta_events: Optional[Path] = typer.Option(None, "--mta-events", help="Touchpoint events (CSV/Parquet: person, timestamp, channel, conversion flag): run MTA first and use its incremental conversions as share priors for the channels it sees."),
                fast: bool = typer.Option(False, "--fast", help="Laplace approximation at the posterior mode for this run (seconds; the stored spec is unchanged): for exploration, its intervals are approximate."),
                workspace: Optional[Path] = WorkspaceOpt):
    """Train (or retrain) a model with NUTS (or --fast: a Laplace approximation); sets Success, Training issue (with reasons) or Failed."""
    ws = _ws(workspace)
    method = "laplace" if fast else None
    if mta_events is None:
        _print_train(ws.train(name, method=method))
        return
    from mediamix.data import read_table
    events = read_table(mta_events)
    from mediamix.attribution.transfer import mta_prior_plan, train_with_mta_plan
    plan = mta_prior_plan(ws, name, events)
    for note in plan.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    for line in plan.prior_lines():
        console.print(escape(line))
    _print_train(train_with_mta_plan(ws, name, plan, method=method).train)


@model_app.command("score")
def model_score(name: str, date_from: Optional[str] = typer.Option(None, "--from", help="First date (ISO); default training start."),
                date_to: Optional[str] = typer.Option(None, "--to", help="Last date (ISO); default training end."),
                out: Optional[Path] = typer.Option(None, help="Also write the scores to this CSV."),
                by_geo: bool = typer.Option(False, "--by-geo", help="A geo model (geos: hierarchical): also show the contributions per geo; with --out, write them beside it as NAME_geo.csv."),
                workspace: Optional[Path] = WorkspaceOpt):
    """Score a trained model over a date range: contribution per period and channel with 90% intervals."""
    ws = _ws(workspace)
    if by_geo and ws.spec(name).geos != "hierarchical":
        raise MediamixError(f"--by-geo: model '{name}' is national (geos: national), so it has no per-geo scores; "
                            f"score it without --by-geo")
    if out is not None:                      # before scoring: a refused command stores nothing
        _check_csv_target(out)
    scores = ws.score(name, date_from, date_to)
    status = ws.registry.get_model(name).status.value
    if status != "Success":
        err.print(f"[yellow]note:[/yellow] model '{name}' is in status {status}: see `mediamix model info {name}` "
                  f"before acting on these numbers")
    _print_scores(scores, out)
    if by_geo:
        _print_geo_scores(ws.geo_scores(name), out.with_name(f"{out.stem}_geo{out.suffix}") if out else None)


@model_app.command("rescore")
def model_rescore(name: str, workspace: Optional[Path] = WorkspaceOpt):
    """Score again over the last scored range (e.g. after new data arrived)."""
    _print_scores(_ws(workspace).rescore(name), None)


def _check_csv_target(out: Path) -> None:
    """--out FILE must name a .csv file whose folders are folders (missing ones are created)."""
    if out.is_dir():
        raise MediamixError(f"--out {out} is a folder; give a file name, e.g. {out / 'scores.csv'}")
    if out.suffix.lower() != ".csv":
        raise MediamixError(f"--out {out}: scores are written as CSV; name the file .csv (for Excel, "
                            f"`mediamix model insights` writes an .xlsx workbook)")
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise MediamixError(f"--out {out}: {parent} is a file, not a folder; choose another path")


def _write_csv(frame, out: Path) -> None:
    """--out FILE: missing folders are created; a folder or an unwritable path is named."""
    _check_csv_target(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False, date_format="%Y-%m-%d")
    except OSError as exc:
        raise MediamixError(f"--out {out}: cannot write there ({exc.strerror or exc}); choose another path") from None
    console.print(f"wrote {out}")


def _print_geo_scores(scores, out):
    from mediamix.scoring.score import geo_totals

    print_frame(geo_totals(scores).reset_index(), title=f"Contributions by geo {scores['date'].min().date()}.."
                                                         f"{scores['date'].max().date()}")
    if out:
        _write_csv(scores, out)


def _print_scores(scores, out):
    totals = (scores[scores["kind"].isin(["base", "factor", "channel"])]
              .groupby(["component", "kind"], sort=False)[["mean", "spend"]].sum(min_count=1).reset_index())
    print_frame(totals, title=f"Contributions {scores['date'].min().date()}..{scores['date'].max().date()}")
    if out:
        _write_csv(scores, out)


@model_app.command("insights")
def model_insights(name: str, out: Optional[Path] = typer.Option(None, help="Folder for the report and tables."),
                   workspace: Optional[Path] = WorkspaceOpt):
    """Write the insight tables (CSV, XLSX) and a self-contained HTML report with charts."""
    path = _ws(workspace).insights(name, out)
    console.print(f"insights report: [bold]{path.resolve()}[/bold]")


@model_app.command("cv")
def model_cv(name: str, folds: int = typer.Option(3, help="Forecast origins, stepping back one horizon each."),
             horizon: int = typer.Option(13, help="Weeks forecast per fold."),
             workspace: Optional[Path] = WorkspaceOpt):
    """Rolling-origin cross-validation: refit up to each origin and score the next weeks' forecast."""
    table = _ws(workspace).cross_validate(name, folds, horizon).rename(columns={"mape": "MAPE %", "smape": "sMAPE %"})
    print_frame(table, title=f"Rolling-origin CV: {name} (forecast accuracy per fold)")


@model_app.command("compare")
def model_compare(names: list[str] = typer.Argument(..., help="Two or more trained models on the same data."),
                  workspace: Optional[Path] = WorkspaceOpt):
    """Rank model variants by leave-one-out predictive accuracy (PSIS-LOO ELPD; higher is better)."""
    table = _ws(workspace).compare(names)
    table["rank"] = table["rank"] + 1
    print_frame(table, title="Model comparison (PSIS-LOO)")
    console.print("elpd_loo: expected log predictive density (higher is better); elpd_diff and its se: gap to the best; "
                  "weight: stacking weight; pareto_k_warning: LOO is unreliable for some weeks, prefer `mediamix model cv`.")


@model_app.command("duplicate")
def model_duplicate(name: str, new_name: str, workspace: Optional[Path] = WorkspaceOpt):
    """Copy a model's spec under a new name (Awaiting training)."""
    _ws(workspace).duplicate(name, new_name)
    console.print(f"duplicated {name} as {new_name}")


@model_app.command("edit")
def model_edit(name: str,
               set_: list[str] = typer.Option(
                   ..., "--set",
                   help=escape("PATH=VALUE (YAML value); repeat it for several fields. PATH is a field (lookback_weeks=6), "
                               "a field of a section (sampler.draws=500) or of one list entry, by position or name: "
                               "touchpoints[3].saturation=logistic, touchpoints[tv].time_varying=true, "
                               "factors[price].impact=negative (and priors[tv].share=15 once the model has a prior "
                               "for tv).")),   # escape: [search] is not Rich markup
               workspace: Optional[Path] = WorkspaceOpt):
    """Change spec fields. An edit that changes the fit sends a trained model back to Awaiting training;
    description and run_frequency keep its trained posterior and status, and thresholds keep the posterior
    and judge it again (Success or Training issue).

    The edited spec is validated in full first: a refused edit changes nothing.
    """
    import yaml

    from mediamix.model.spec import load_yaml
    changes = {}
    for item in set_:
        if "=" not in item:
            raise MediamixError(f"--set {item!r}: write PATH=VALUE, e.g. --set touchpoints[search].saturation=hill")
        key, value = item.split("=", 1)
        key = key.strip()
        if key == "name":
            raise MediamixError("--set name: a model keeps its name; use `mediamix model duplicate NAME NEW` "
                                "to copy it under another")
        try:
            changes[key] = load_yaml(value)
        except yaml.YAMLError as exc:
            raise MediamixError(f"--set {key}: {value!r} is not a valid YAML value ({str(exc).splitlines()[0]})") from None
    result = _ws(workspace).edit(name, **changes)     # paths such as touchpoints[3].saturation: ModelSpec.edited
    console.print(_edit_summary(result, ", ".join(changes)))
    for r in result.reasons if result.rejudged else ():
        console.print(f"  [yellow]•[/yellow] {escape(r)}")
    for w in result.warnings if result.refit else ():     # what the edited spec means for its data
        console.print(f"[yellow]warning:[/yellow] {escape(w)}")


def _edit_summary(result, fields: str) -> str:
    """One line: what was updated, and what it means for the trained posterior and the status."""
    name, head = result.model, f"updated {escape(result.model)}: {escape(fields)}"
    if not result.changed:
        return f"{escape(name)}: nothing to update ({escape(fields)} already as given)"
    if result.refit:
        if result.previous_status.value == "Awaiting training":
            return f"{head} (status Awaiting training; train it with: mediamix model train {escape(name)})"
        why = f" ({escape(result.note)})" if result.note else ""
        return (f"{head}; the model needs training again{why} (status {result.status.value}): "
                f"mediamix model train {escape(name)}")
    if result.rejudged:
        moved = (f"{result.previous_status.value} -> {result.status.value}"
                 if result.previous_status != result.status else f"still {result.status.value}")
        return f"{head}; the trained posterior was judged again under the new thresholds: {moved}"
    if result.status.value == "Awaiting training":
        return f"{head} (status Awaiting training)"
    return f"{head}; the trained posterior and status ({result.status.value}) are kept"


@model_app.command("delete")
def model_delete(name: str, workspace: Optional[Path] = WorkspaceOpt):
    """Delete a model now, with its runs, scores and artifacts (data sets stay); its queued jobs are cancelled."""
    result = _ws(workspace).delete(name)
    line = f"deleted model {escape(name)}"
    if result.cancelled_jobs:
        ids = ", ".join(f"{j.id} ({j.kind})" for j in result.cancelled_jobs)
        line += f"; cancelled its queued job{'s' if len(result.cancelled_jobs) > 1 else ''} {ids}"
    console.print(line)
    for j in result.running_jobs:
        console.print(f"[yellow]note:[/yellow] job {j.id} ({j.kind}) was already running on {escape(j.worker or '?')}; "
                      "it will fail, as the model is gone")


# ---- jobs -----------------------------------------------------------------------------------
@app.command()
def queue(kind: str = typer.Argument(..., help="train or score"), name: str = typer.Argument(..., help="Model name."),
          workspace: Optional[Path] = WorkspaceOpt):
    """Queue a train or score job for a worker (see `mediamix worker`; `mediamix jobs` lists the queue).

    Refused: a second job of the same kind for a model that has one queued or running, and a score
    job for a model with nothing to score (queue train first: the score job then runs after it)."""
    from mediamix.jobs import JobQueue
    ws = _ws(workspace)
    ws.registry.get_model(name)
    jobs = JobQueue(ws.registry)
    job_id = jobs.enqueue(kind, name, {})
    earlier = [j for j in jobs.pending(name) if j.id != job_id]
    after = (f"; it runs after {', '.join(f'{j.kind} job {j.id}' for j in earlier)}" if earlier else "")
    console.print(f"queued {kind} job {job_id} for {escape(name)}{after} (`mediamix jobs` lists the queue)")


JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")
# "finished": a job that ended, whichever way
STATUS_GROUPS = {**{s: (s,) for s in JOB_STATUSES}, "finished": ("done", "failed", "cancelled")}


def _utc(value) -> str:
    """A job time as ISO 8601 in UTC, to the second: 2024-05-01T10:32:05Z; blank when unset."""
    if value is None:
        return ""
    from datetime import timezone
    if value.tzinfo is None:      # the registry stores UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


jobs_app = typer.Typer(help="List the job queue, newest first: id, kind, model, status, result (the status of the run "
                            "a finished job left: Success, Training issue or Failed), created/started/finished times "
                            "(UTC), and the error of failed jobs (the reason of cancelled ones). "
                            "`mediamix jobs cancel ID` cancels a queued job.", invoke_without_command=True)
app.add_typer(jobs_app, name="jobs")


@jobs_app.callback()
def jobs_list(ctx: typer.Context,
              limit: int = typer.Option(20, "--limit", "-n", min=1, help="Show at most this many jobs, newest first."),
              status: Optional[list[str]] = typer.Option(
                  None, "--status", "-s",
                  help="Only jobs in this status: queued, running, done, failed, cancelled, or finished (done, failed "
                       "or cancelled). Repeat it, or separate with commas, for several."),
              model: Optional[str] = typer.Option(None, "--model", "-m", help="Only this model's jobs."),
              workspace: Optional[Path] = WorkspaceOpt):
    """The listing itself (the group's help describes it)."""
    if ctx.invoked_subcommand is not None:
        return
    import pandas as pd

    from mediamix.jobs import JobQueue
    states: list[str] | None = None
    if status:
        states = []
        for item in (part.strip().lower() for value in status for part in value.split(",")):
            if item not in STATUS_GROUPS:
                raise typer.BadParameter(f"{item!r} is not one of {', '.join(STATUS_GROUPS)}", param_hint="--status")
            states += [s for s in STATUS_GROUPS[item] if s not in states]
    ws = _ws(workspace)
    queue = JobQueue(ws.registry)
    jobs = queue.recent(limit + 1, states, model)   # one more than shown: says whether there are more
    shown, more = jobs[:limit], len(jobs) > limit
    if not shown and model is not None and not ws.registry.has_model(model):
        # a deleted model's jobs are still listed; no jobs and no such model is likely a typo
        ws.registry.get_model(model)       # "no model named ..." with close matches
    if not shown:
        if states is None and model is None:
            console.print("The job queue is empty: no job has been queued yet. "
                          "Queue one with `mediamix queue train NAME` (or `mediamix schedule`).")
        else:
            which = " or ".join(states) if states else "any status"
            whose = f" for model {model}" if model else ""
            console.print(f"No {which} jobs{whose}.")
        return
    explained = ("failed", "cancelled")
    with_error = any(j.state.value in explained for j in shown)
    rows = []
    for j in shown:
        row = {"ID": j.id, "Kind": j.kind, "Model": j.model_name, "Status": j.state.value, "Result": j.result or "",
               "Created (UTC)": _utc(j.enqueued_at), "Started (UTC)": _utc(j.started_at),
               "Finished (UTC)": _utc(j.finished_at)}
        if with_error:
            row["Error"] = (j.error or "") if j.state.value in explained else ""
        rows.append(row)
    title = "Jobs, newest first" + (f" ({', '.join(states)})" if states else "") + (f", model {model}" if model else "")
    print_frame(pd.DataFrame(rows), title=title, max_rows=limit)
    if more:
        console.print(f"showing the newest {limit}; `--limit N` shows more")


@jobs_app.command("cancel")
def jobs_cancel(job_id: int = typer.Argument(..., help="The job's ID (`mediamix jobs` lists them)."),
                workspace: Optional[Path] = WorkspaceOpt):
    """Cancel a queued job: it never runs, and stays in the list as cancelled. A running or finished job cannot be cancelled."""
    from mediamix.jobs import JobQueue
    job = JobQueue(_ws(workspace).registry).cancel(job_id)
    console.print(f"cancelled job {job.id} ({job.kind} {escape(job.model_name)})")


def _job_line(job) -> str:
    """One line per ended job: `job 7 (train world): done, Training issue` or `...: failed: <error>`."""
    head = f"job {job.id} ({job.kind} {escape(job.model_name)}): {job.state.value}"
    if job.state.value == "failed":
        return f"{head}: {escape(job.error or 'no error message')}"
    return f"{head}, {job.result}" if job.result else head


class _ReportedElsewhere:
    """A logging filter: drop the worker's own records about an ended job, which the command
    prints itself (one line per job), so a failure is not shown twice."""

    def filter(self, record) -> bool:
        from mediamix.jobs.worker import JOB_ID_ATTRIBUTE
        return not hasattr(record, JOB_ID_ATTRIBUTE)


@app.command()
def worker(once: bool = typer.Option(False, "--once", help="Run one batch of queued jobs (up to --jobs), then exit."),
           poll: float = typer.Option(5.0, help="Seconds between looks at the queue."),
           jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Jobs run at the same time (model variants, brands)."),
           executor: str = typer.Option("local", help="local: a process per job on this machine; ray: Ray tasks, "
                                                      "on a local Ray or the cluster at --ray-address."),
           ray_address: Optional[str] = typer.Option(None, help="Ray cluster to join (ray://head:10001 or auto); "
                                                                "default: start Ray on this machine."),
           workspace: Optional[Path] = WorkspaceOpt):
    """Run queued train/score jobs, each in its own process (or Ray task), until interrupted.
    Prints one line per job as it ends: done with its result (Success, Training issue), or failed with its error."""
    import logging
    import math
    import os

    from mediamix.job_handlers import HANDLERS
    from mediamix.jobs import JobQueue, Worker
    if not (poll > 0 and math.isfinite(poll)):     # -1, 0, nan, inf (--jobs has min=1 already)
        raise typer.BadParameter(f"{poll:g} seconds: the worker waits --poll seconds between looks at the queue, so "
                                 f"it must be a number above 0, e.g. --poll 5 (the default) or --poll 0.5",
                                 param_hint="--poll")
    if executor not in ("local", "ray"):
        raise typer.BadParameter(f"{executor!r} is not local or ray", param_hint="--executor")
    ws = _ws(workspace)
    os.environ["MEDIAMIX_HOME"] = str(ws.root.resolve())
    # The worker's other warnings (database unavailable, retrying) still reach stderr; its records
    # about ended jobs do not, since each ended job is printed below.
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.addFilter(_ReportedElsewhere())
    jobs_log = logging.getLogger("mediamix.jobs")
    jobs_log.addHandler(handler)
    runner = None
    try:
        if executor == "ray":
            from mediamix.jobs.ray_executor import RayExecutor
            runner = RayExecutor(ray_address)
        w = Worker(JobQueue(ws.registry), HANDLERS, executor=runner,
                   on_end=lambda job: console.print(_job_line(job)))
        if once:
            if not w.run_batch(jobs):
                console.print("no queued job")
            return
        console.print(f"worker polling every {poll:g}s, {jobs} job{'s' if jobs > 1 else ''} at a time "
                      f"({executor}); Ctrl-C stops it")
        try:
            w.run_forever(poll_seconds=poll, slots=jobs)
        except KeyboardInterrupt:
            console.print("worker stopped")
    finally:
        jobs_log.removeHandler(handler)
        if runner is not None:
            runner.shutdown()


@model_app.command("components")
def model_components():
    """The adstock and saturation components a touchpoint can name, with their default priors."""
    import pandas as pd

    from mediamix.model.components import ADSTOCKS, SATURATIONS
    from mediamix.terminal import print_frame
    rows = [{"role": role, "kind": name, "what it does": comp.help,
             "default priors": ", ".join(f"{k} N({m:g}, {sd:g})"
                                                                   for k, (m, sd) in comp.knobs.items()) or "-"}
            for role, table in (("adstock", ADSTOCKS), ("saturation", SATURATIONS)) for name, comp in table.items()]
    print_frame(pd.DataFrame(rows), title="Transform components: name one as touchpoints[].adstock.kind or .saturation.kind; "
                                          "override a prior with priors: {name: \\[mean, sd]}")


@app.command()
def schedule(workspace: Optional[Path] = WorkspaceOpt):
    """Queue the jobs that are due by each model's run frequency (run this from cron)."""
    from datetime import datetime, timezone

    from mediamix.jobs import JobQueue, Scheduler
    ws = _ws(workspace)
    jobs = Scheduler(ws.registry, JobQueue(ws.registry)).tick(datetime.now(timezone.utc))
    for job in jobs:
        console.print(f"queued {job.kind} job {job.id} for {job.model_name}")
    if not jobs:
        console.print("nothing due")


def main() -> None:
    try:
        app()
    except MediamixError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        sys.exit(2)


if __name__ == "__main__":
    main()
