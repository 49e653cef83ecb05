"""`mediamix data ...`: every data command, a thin door onto mediamix.data.

Mounted by mediamix.cli as `app.add_typer(data_app, name="data")`; user mistakes raise
MediamixError, which the main entry point prints as one line.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.markup import escape

from mediamix.errors import DataError

if TYPE_CHECKING:  # pandas and yaml load only when a command runs, so `mediamix --help` stays quick
    import pandas as pd

from mediamix.terminal import console  # noqa: E402  (one console for every command)

data_app = typer.Typer(help="Data sets, harmonized fields and rules, sync, touchpoints, conversions and data quality.",
                       no_args_is_help=True)
fields_app = typer.Typer(help="The catalogue of harmonized fields: dimensions, metrics, derived metrics.", no_args_is_help=True)
rules_app = typer.Typer(help="Per-data-set rules mapping source columns to harmonized fields.", no_args_is_help=True)
touchpoints_app = typer.Typer(help="Marketing touchpoints: named conditions with a spend and a volume metric.",
                              no_args_is_help=True)
conversions_app = typer.Typer(help="Conversions: named conditions with a conversion and a revenue metric.",
                              no_args_is_help=True)
populations_app = typer.Typer(help="Eligible populations: containers of field conditions joined and/or.",
                              no_args_is_help=True)
merge_app = typer.Typer(help="Merge preference when summary and event data give the same metric and channel.",
                        no_args_is_help=True)
data_app.add_typer(fields_app, name="fields")
data_app.add_typer(rules_app, name="rules")
data_app.add_typer(touchpoints_app, name="touchpoints")
data_app.add_typer(conversions_app, name="conversions")
data_app.add_typer(populations_app, name="populations")
data_app.add_typer(merge_app, name="merge")

WorkspaceOpt = typer.Option(None, "--workspace", "-w", envvar="MEDIAMIX_HOME",
                            help="Workspace folder (default ./mediamix-workspace or $MEDIAMIX_HOME).")


def _ws(path: Optional[Path]):
    from mediamix.workspace import Workspace

    return Workspace.open(path)


def _store(path: Optional[Path]):
    return _ws(path).store


from mediamix.terminal import print_frame as _print  # noqa: E402


def _notes(notices) -> None:
    for notice in notices:
        console.print(f"[yellow]note:[/yellow] {escape(notice)}")


def _spec(text: str, what: str):
    """A YAML/JSON value given inline, or read from a file given as @path."""
    import yaml

    if text.startswith("@"):
        path = Path(text[1:])
        if not path.exists():
            raise DataError(f"{what}: file {path} does not exist")
        text = path.read_text()
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DataError(f"{what} is not valid YAML or JSON: {str(exc).splitlines()[0]}") from None


def _write(frame: pd.DataFrame, out: Path) -> None:
    if out.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(out, index=False)
    elif out.suffix.lower() == ".csv":
        frame.to_csv(out, index=False, date_format="%Y-%m-%d")
    else:
        raise DataError(f"export to {out.name}: name a .csv or .parquet file")
    console.print(f"wrote {out} ({len(frame)} rows)")


# ---- data sets --------------------------------------------------------------------------------------


@data_app.command("load")
def load(file: Path = typer.Argument(..., help="CSV or Parquet file."),
         name: str = typer.Option(..., "--name", "-n", help="Name of the data set."),
         kind: Optional[str] = typer.Option(None, help="summary, events, conversions or factors: append the file as a "
                                                       "batch. Without it the file is one summary table, replaced whole."),
         restatement: Optional[str] = typer.Option(None, help="replace or add: what a later batch does to rows of dates "
                                                              "already loaded."),
         date_column: Optional[str] = typer.Option(None, help="Date column (detected if omitted)."),
         timestamp_column: Optional[str] = typer.Option(None, help="Event timestamp column (events)."),
         person_column: Optional[str] = typer.Option(None, help="Person id column (events)."),
         key_column: Optional[list[str]] = typer.Option(None, help="Column that identifies a row besides the date "
                                                                   "(repeatable)."),
         restate_by: Optional[list[str]] = typer.Option(None, help="Column that scopes a restatement (repeatable)."),
         geo_column: Optional[str] = typer.Option(None, help="Geo column for panel data."),
         layout: str = typer.Option("auto", help="auto, wide or long (summary table only)."),
         start_date: Optional[str] = typer.Option(None, help="First date when the time column holds period numbers."),
         frequency: Optional[str] = typer.Option(None, help="Cadence of period numbers: day, week (W-MON ...) or month."),
         fill: Optional[str] = typer.Option(None, help="'zero' fills missing periods (summary table only)."),
         factor_type: Optional[str] = typer.Option(None, help="internal or external (factors)."),
         value_type: Optional[str] = typer.Option(None, help="actual or forecast (factors)."),
         granularity: Optional[str] = typer.Option(None, help="day, week or month of the factors' dates."),
         aggregation: Optional[str] = typer.Option(None, help="mean (levels) or sum (totals) for factors."),
         workspace: Optional[Path] = WorkspaceOpt):
    """Load a data set: one summary table, or (with --kind) a batch appended to a data set."""
    ws = _ws(workspace)
    if kind is None:
        batch_only = {"--restatement": restatement, "--timestamp-column": timestamp_column,
                      "--person-column": person_column, "--key-column": key_column, "--restate-by": restate_by,
                      "--factor-type": factor_type, "--value-type": value_type, "--granularity": granularity,
                      "--aggregation": aggregation}
        given = [flag for flag, value in batch_only.items() if value]
        if given:
            raise DataError(f"{', '.join(given)} apply to batches; add --kind summary|events|conversions|factors")
        replacing = ws.store.exists(name)
        data = ws.load_data(file, name, date_column=date_column, geo_column=geo_column, layout=layout,
                            start_date=start_date, frequency=frequency, fill=fill)
        users = ws.models_using(name) if replacing else []
        if users:
            console.print(f"[yellow]note:[/yellow] replaced data set {escape(name)}, which model(s) "
                          f"{escape(', '.join(users))} read: retrain or rescore them")
        console.print(f"loaded [bold]{escape(name)}[/bold]: {len(data.frame)} rows, {data.cadence.describe()}, "
                      f"{data.dates.min().date()}..{data.dates.max().date()}, columns: {', '.join(data.metric_columns)}")
        _notes(data.notices)
        return
    if layout != "auto" or fill is not None:
        raise DataError("--layout and --fill apply to a summary table loaded whole; leave them out with --kind")
    from mediamix.data.datasets import load_batch

    result = load_batch(ws.store, name, file, kind=kind, restatement=restatement, date_column=date_column,
                        timestamp_column=timestamp_column, person_column=person_column, key_columns=key_column or None,
                        restate_by=restate_by or None, geo_column=geo_column, start_date=start_date, frequency=frequency,
                        factor_type=factor_type, value_type=value_type, granularity=granularity, aggregation=aggregation)
    console.print(result.describe())
    _notes(n for n in result.notices if not result.skipped)


@data_app.command("list")
def list_datasets(workspace: Optional[Path] = WorkspaceOpt):
    """List the data sets: kind, rows, batches, columns."""
    listing = _store(workspace).list()
    _print(listing[["name", "kind", "rows", "batches", "cadence_unit", "columns", "loaded_at"]], title="Data sets")


@data_app.command("batches")
def batches_command(name: str, workspace: Optional[Path] = WorkspaceOpt):
    """The batches of a data set: rows, dates, restatement, rows replaced, source."""
    from mediamix.data.datasets import list_batches

    frame = list_batches(_store(workspace), name)
    _print(frame.drop(columns=["content_hash"]), title=f"Batches of {name}")


def _dataset_frame(store, name: str) -> pd.DataFrame:
    from mediamix.data.datasets import dataset_rows, info

    if info(store, name, missing_ok=True) is None:
        return store.get(name).frame
    frame = dataset_rows(store, name)
    return frame.rename(columns={"__date": "date", "__ts": "timestamp", "__person": "person", "__batch": "batch"})


@data_app.command("show")
def show(name: Optional[str] = typer.Argument(None, help="A data set; leave out to show the harmonized view."),
         rows: int = typer.Option(20, help="Rows to show."),
         long: bool = typer.Option(False, "--long", help="The harmonized view as stored: one row per field."),
         factors: bool = typer.Option(False, "--factors", help="The harmonized factors."),
         start: Optional[str] = typer.Option(None, help="First date (harmonized view)."),
         end: Optional[str] = typer.Option(None, help="Last date (harmonized view)."),
         workspace: Optional[Path] = WorkspaceOpt):
    """Show a data set's rows, or the harmonized view built by the last sync."""
    store = _store(workspace)
    if name is not None:
        _print(_dataset_frame(store, name), title=name, max_rows=rows)
        return
    from mediamix.data.view import harmonized_factors, harmonized_view, last_sync

    info = last_sync(store)
    frame = harmonized_factors(store) if factors else harmonized_view(store, wide=not long, start=start, end=end)
    stale = " (stale: run `mediamix data sync`)" if info.stale else ""
    _print(frame, title=f"Harmonized {'factors' if factors else 'view'}, sync {info.sync_id}, "
                        f"{info.granularity.describe()}{stale}", max_rows=rows)


@data_app.command("export")
def export(first: str = typer.Argument(..., metavar="[NAME] OUT", help="A data set and the .csv/.parquet to write; "
                                                                      "OUT alone exports the harmonized view."),
           second: Optional[Path] = typer.Argument(None, hidden=True),
           long: bool = typer.Option(False, "--long", help="The harmonized view as stored: one row per field."),
           factors: bool = typer.Option(False, "--factors", help="Export the harmonized factors."),
           workspace: Optional[Path] = WorkspaceOpt):
    """Export a data set, or the harmonized view, to CSV or Parquet."""
    store = _store(workspace)
    if second is not None:
        _write(_dataset_frame(store, first), second)
        return
    from mediamix.data.view import harmonized_factors, harmonized_view

    frame = harmonized_factors(store) if factors else harmonized_view(store, wide=not long)
    _write(frame, Path(first))


@data_app.command("delete")
def delete(name: str = typer.Argument(..., help="Data set to delete."),
           force: bool = typer.Option(False, "--force", help="Delete even if models use it."),
           workspace: Optional[Path] = WorkspaceOpt):
    """Delete a data set with its rows, batches and rules (refused while a model uses it)."""
    _ws(workspace).delete_data(name, force=force)
    console.print(f"deleted data set {escape(name)}")


@data_app.command("sync")
def sync_command(week_start: Optional[str] = typer.Option(None, help="First weekday of the view's weeks, when weekly "
                                                                     "rules disagree."),
                 workspace: Optional[Path] = WorkspaceOpt):
    """Rebuild the harmonized view from the active rules (atomically) and report data quality."""
    from mediamix.data.sync import sync

    result = sync(_store(workspace), week_start=week_start)
    console.print(result.describe() + f" in {result.seconds:.2f}s; dimensions: {', '.join(result.dimensions) or 'none'}")
    _notes(result.notices)
    _print_issues(result.report)


def _print_issues(report) -> None:
    errors, warnings = report.errors, report.warnings
    console.print(f"data quality: {len(errors)} errors, {len(warnings)} warnings")
    for issue in errors:
        console.print(f"  [red]error[/red] {escape(issue.message)}")
    for issue in warnings:
        console.print(f"  [yellow]warning[/yellow] {escape(issue.message)}")


@data_app.command("quality")
def quality(sync_id: Optional[int] = typer.Option(None, "--sync", help="A sync id (default: the last)."),
            workspace: Optional[Path] = WorkspaceOpt):
    """The data-quality report of a sync: coverage per touchpoint and conversion, errors and warnings."""
    from mediamix.data.quality import quality_report

    report = quality_report(_store(workspace), sync_id)
    if len(report.coverage):
        _print(report.coverage, title=f"Coverage, sync {report.sync_id}")
    _print_issues(report)


# ---- fields -----------------------------------------------------------------------------------------


@fields_app.command("list")
def fields_list(workspace: Optional[Path] = WorkspaceOpt):
    """Every harmonized field: dimensions, metrics (with units) and derived metrics (with formulas)."""
    from mediamix.data.fields import fields_table

    _print(fields_table(_store(workspace)), title="Harmonized fields", max_rows=500)


@fields_app.command("add")
def fields_add(name: str, role: str = typer.Option(..., help="dimension, metric or derived."),
               kind: Optional[str] = typer.Option(None, help="money, count or number (metrics)."),
               unit: str = typer.Option("", help="Currency of a money metric (USD), or a unit."),
               formula: Optional[str] = typer.Option(None, help="Derived metrics: e.g. '(revenue - spend) / spend'."),
               description: str = typer.Option("", help="What the field holds."),
               workspace: Optional[Path] = WorkspaceOpt):
    """Add a user-defined field."""
    from mediamix.data.fields import add_field

    field = add_field(_store(workspace), name, role, kind=kind, unit=unit, formula=formula, description=description)
    console.print(f"added {field.role} [bold]{field.name}[/bold]" + (f" = {field.formula}" if field.formula else ""))


@fields_app.command("unit")
def fields_unit(name: str, unit: str, workspace: Optional[Path] = WorkspaceOpt):
    """Set a metric's unit: the currency of a money metric (USD, EUR, INR, ...)."""
    from mediamix.data.fields import set_unit

    field = set_unit(_store(workspace), name, unit)
    console.print(f"{field.name} is now in {field.unit}")


@fields_app.command("remove")
def fields_remove(name: str, workspace: Optional[Path] = WorkspaceOpt):
    """Remove a user-defined field no rule, definition or formula uses."""
    from mediamix.data.fields import remove_field

    remove_field(_store(workspace), name)
    console.print(f"removed field {escape(name)}")


# ---- rules ------------------------------------------------------------------------------------------


@rules_app.command("add")
def rules_add(spec: str = typer.Argument(..., help="A rule (or list of rules) as YAML/JSON text, or @file.yaml."),
              dataset: Optional[str] = typer.Option(None, help="Data set the rules apply to (else each names one)."),
              activate: bool = typer.Option(False, "--activate", help="Store the rules active, not as drafts."),
              replace: bool = typer.Option(False, "--replace", help="Replace rules of the same names."),
              workspace: Optional[Path] = WorkspaceOpt):
    """Add rules (drafts unless --activate)."""
    from mediamix.data.rules import add_rule

    raw = _spec(spec, "the rule")
    store = _store(workspace)
    for item in raw if isinstance(raw, list) else [raw]:
        if not isinstance(item, dict):
            raise DataError(f"a rule is a mapping with name, granularity, dimensions and metrics; got {item!r}")
        if activate:
            item = {**item, "status": "active"}
        rule = add_rule(store, item, dataset=dataset, replace_existing=replace)
        console.print(f"added rule [bold]{escape(rule.label)}[/bold] ({rule.status}, {rule.granularity.describe()})")


@rules_app.command("list")
def rules_list(dataset: Optional[str] = typer.Option(None, help="Only this data set's rules."),
               workspace: Optional[Path] = WorkspaceOpt):
    """The rules of every data set (or one), with status and granularity."""
    from mediamix.data.rules import rules_table

    _print(rules_table(_store(workspace), dataset), title="Rules", max_rows=500)


@rules_app.command("show")
def rules_show(dataset: str, name: str, workspace: Optional[Path] = WorkspaceOpt):
    """One rule in full, as YAML."""
    import yaml

    from mediamix.data.rules import get_rule

    console.print(escape(yaml.safe_dump(get_rule(_store(workspace), dataset, name).to_dict(), sort_keys=False)))


@rules_app.command("activate")
def rules_activate(dataset: str, name: str, workspace: Optional[Path] = WorkspaceOpt):
    """Activate a draft rule (checked against the data set's columns first)."""
    from mediamix.data.rules import set_status

    set_status(_store(workspace), dataset, name, "active")
    console.print(f"rule {escape(dataset)}/{escape(name)} is active; run `mediamix data sync`")


@rules_app.command("draft")
def rules_draft(dataset: str, name: str, workspace: Optional[Path] = WorkspaceOpt):
    """Return a rule to draft: it stops feeding the harmonized view at the next sync."""
    from mediamix.data.rules import set_status

    set_status(_store(workspace), dataset, name, "draft")
    console.print(f"rule {escape(dataset)}/{escape(name)} is a draft")


@rules_app.command("remove")
def rules_remove(dataset: str, name: str, workspace: Optional[Path] = WorkspaceOpt):
    """Remove a rule."""
    from mediamix.data.rules import remove_rule

    remove_rule(_store(workspace), dataset, name)
    console.print(f"removed rule {escape(dataset)}/{escape(name)}")


# ---- touchpoints, conversions, populations ----------------------------------------------------------


@touchpoints_app.command("define")
def touchpoints_define(name: str,
                       where: str = typer.Option(..., help="Condition over dimensions, YAML/JSON, e.g. "
                                                           "'{all_of: [{field: channel, equals: search}, "
                                                           "{field: campaign, contains: brand}]}'."),
                       spend: str = typer.Option("spend", help="Spend metric (money)."),
                       volume: Optional[str] = typer.Option(None, help="Volume metric (impressions, clicks, ...)."),
                       description: str = typer.Option(""),
                       replace: bool = typer.Option(False, "--replace", help="Replace a touchpoint of that name."),
                       workspace: Optional[Path] = WorkspaceOpt):
    """Define a marketing touchpoint."""
    from mediamix.data.definitions import define_touchpoint

    t = define_touchpoint(_store(workspace), name, where=_spec(where, "--where"), spend=spend, volume=volume,
                          description=description, replace=replace)
    console.print(f"defined touchpoint [bold]{t.name}[/bold]: spend {t.spend}" + (f", volume {t.volume}" if t.volume else ""))


@touchpoints_app.command("list")
def touchpoints_list(workspace: Optional[Path] = WorkspaceOpt):
    """The defined touchpoints: condition, spend and volume metrics."""
    _list_definitions("touchpoint", workspace)


@touchpoints_app.command("report")
def touchpoints_report(name: str, population: Optional[str] = typer.Option(None, help="An eligible population."),
                       rows: int = typer.Option(60, help="Rows to show."),
                       out: Optional[Path] = typer.Option(None, help="Also write the series to .csv/.parquet."),
                       workspace: Optional[Path] = WorkspaceOpt):
    """A touchpoint's series per period (spend, volume, whether the period has rows), with its quality issues."""
    _report_definition("touchpoint", name, population, rows, out, workspace)


@touchpoints_app.command("remove")
def touchpoints_remove(name: str, workspace: Optional[Path] = WorkspaceOpt):
    """Remove a touchpoint definition (the harmonized view is unchanged)."""
    _remove_definition("touchpoint", name, workspace)


@conversions_app.command("define")
def conversions_define(name: str,
                       conversion: str = typer.Option(..., help="Conversion metric (orders, conversions, revenue ...)."),
                       revenue: Optional[str] = typer.Option(None, help="Revenue metric (money)."),
                       where: Optional[str] = typer.Option(None, help="Condition over dimensions, YAML/JSON."),
                       description: str = typer.Option(""),
                       replace: bool = typer.Option(False, "--replace"),
                       workspace: Optional[Path] = WorkspaceOpt):
    """Define a conversion."""
    from mediamix.data.definitions import define_conversion

    c = define_conversion(_store(workspace), name, conversion=conversion, revenue=revenue,
                          where=None if where is None else _spec(where, "--where"), description=description,
                          replace=replace)
    console.print(f"defined conversion [bold]{c.name}[/bold]: {c.conversion}" + (f", revenue {c.revenue}" if c.revenue else ""))


@conversions_app.command("list")
def conversions_list(workspace: Optional[Path] = WorkspaceOpt):
    """The defined conversions: condition, conversion and revenue metrics."""
    _list_definitions("conversion", workspace)


@conversions_app.command("report")
def conversions_report(name: str, population: Optional[str] = typer.Option(None, help="An eligible population."),
                       rows: int = typer.Option(60, help="Rows to show."),
                       out: Optional[Path] = typer.Option(None, help="Also write the series to .csv/.parquet."),
                       workspace: Optional[Path] = WorkspaceOpt):
    """A conversion's series per period, with its quality issues."""
    _report_definition("conversion", name, population, rows, out, workspace)


@conversions_app.command("remove")
def conversions_remove(name: str, workspace: Optional[Path] = WorkspaceOpt):
    """Remove a conversion definition."""
    _remove_definition("conversion", name, workspace)


# Touchpoints and conversions are definitions of the same kind: one body for each verb.
def _list_definitions(kind: str, workspace) -> None:
    from mediamix.data.definitions import definitions_table

    _print(definitions_table(_store(workspace), kind), title=f"{kind.capitalize()}s", max_rows=500)


def _report_definition(kind: str, name: str, population, rows: int, out, workspace) -> None:
    from mediamix.data import model_frame

    store = _store(workspace)
    frame = getattr(model_frame, f"{kind}_report")(store, name, population=population)
    _print(frame, title=f"{kind.capitalize()} {name}", max_rows=rows)
    _subject_issues(store, f"{kind}:{name}")
    if out:
        _write(frame, out)


def _remove_definition(kind: str, name: str, workspace) -> None:
    from mediamix.data.definitions import remove_definition

    remove_definition(_store(workspace), kind, name)
    console.print(f"removed {kind} {escape(name)}")


@populations_app.command("define")
def populations_define(name: str,
                       container: list[str] = typer.Option(..., help="A container, YAML/JSON: '{combine: or, "
                                                                     "conditions: [{field: geo, equals: US}]}' "
                                                                     "(repeatable)."),
                       combine: str = typer.Option("and", help="How containers join: and, or."),
                       description: str = typer.Option(""),
                       replace: bool = typer.Option(False, "--replace"),
                       workspace: Optional[Path] = WorkspaceOpt):
    """Define an eligible population (which rows a model reads)."""
    from mediamix.data.definitions import define_population

    p = define_population(_store(workspace), name, [_spec(c, "--container") for c in container], combine=combine,
                          description=description, replace=replace)
    console.print(f"defined population [bold]{p.name}[/bold] ({len(p.containers)} containers joined with {p.combine})")


@populations_app.command("list")
def populations_list(workspace: Optional[Path] = WorkspaceOpt):
    """The defined eligible populations and their containers."""
    from mediamix.data.definitions import definitions_table

    _print(definitions_table(_store(workspace), "population"), title="Populations", max_rows=500)


@populations_app.command("remove")
def populations_remove(name: str, workspace: Optional[Path] = WorkspaceOpt):
    """Remove a population definition."""
    from mediamix.data.definitions import remove_definition

    remove_definition(_store(workspace), "population", name)
    console.print(f"removed population {escape(name)}")


def _subject_issues(store, subject: str) -> None:
    from mediamix.data.quality import quality_report

    for issue in quality_report(store).about(subject):
        colour = "red" if issue.severity == "error" else "yellow"
        console.print(f"  [{colour}]{issue.severity}[/{colour}] {escape(issue.message)}")


# ---- merge preferences ------------------------------------------------------------------------------


@merge_app.command("show")
def merge_show(workspace: Optional[Path] = WorkspaceOpt):
    """The default merge preference and its overrides."""
    from mediamix.data.merge import preferences

    _print(preferences(_store(workspace)).table(), title="Merge preferences")


@merge_app.command("set")
def merge_set(preference: str = typer.Argument(..., help="summary, event or sum."),
              metric: Optional[str] = typer.Option(None, help="Only this metric (else the default)."),
              channel: Optional[str] = typer.Option(None, help="Only this channel of the metric."),
              workspace: Optional[Path] = WorkspaceOpt):
    """Set the default merge preference, or an override for a metric (and channel)."""
    from mediamix.data.merge import set_preference

    prefs = set_preference(_store(workspace), preference, metric=metric, channel=channel)
    _print(prefs.table(), title="Merge preferences")
