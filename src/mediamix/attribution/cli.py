"""`mediamix attribution ...`: multi-touch attribution from the command line.

    mediamix attribution paths paths.csv --model all          # attributed conversions per channel
    mediamix attribution journeys events.csv --out paths.csv  # events -> aggregated path table
    mediamix attribution report paths.csv --out report/       # the attribution-tab tables as CSVs

A thin door onto mediamix.attribution: each command reads a file, calls the library and prints
a table. User mistakes raise MediamixError subclasses, which the main CLI prints without traceback.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.markup import escape

from mediamix.attribution import heuristics
from mediamix.attribution.journeys import build_journeys
from mediamix.attribution.markov import markov
from mediamix.attribution.paths import PATH_COLUMNS, PathTable, sniff_delimiter
from mediamix.attribution.shapley import shapley
from mediamix.attribution.summary import attribution_tab, channel_totals
from mediamix.errors import DataError, MediamixError

from mediamix.terminal import console  # noqa: E402  (one console for every command)

attribution_app = typer.Typer(
    help="Multi-touch attribution: journeys from touchpoint events, rule-based, Markov and Shapley models, "
         "and the attribution-tab tables.", no_args_is_help=True)

# command-line name -> library name; "all" runs every model the input allows
MODELS = {"first": "first_touch", "last": "last_touch", "linear": "linear", "position": "position",
          "time-decay": "time_decay", "markov": "markov", "shapley": "shapley"}


class AttributionOptionError(MediamixError):
    """A command-line option of `mediamix attribution` has a value the command cannot use."""


# ---- commands -----------------------------------------------------------------------------------

@attribution_app.command("paths")
def paths_command(
        file: Path = typer.Argument(..., help="Aggregated path table: path ('a > b > c'), conversions, nulls, value."),
        model: str = typer.Option("all", "--model", "-m", help="first, last, linear, position, time-decay, markov, "
                                                               "shapley or all."),
        order: int = typer.Option(1, "--order", help="Markov chain order (1 = first order)."),
        delimiter: Optional[str] = typer.Option(None, help="Column delimiter (default: sniffed from the header)."),
        out: Optional[Path] = typer.Option(None, "--out", help="Also write model, channel, conversions, value as CSV.")):
    """Attributed conversions and value per channel from an aggregated path table."""
    names = _model_names(model)
    if order < 1:
        raise AttributionOptionError(f"--order {order}: the Markov order must be 1 or more")
    table = _read_path_table(file, delimiter)
    if "time_decay" in names:
        if model != "all":
            raise AttributionOptionError(
                "--model time-decay needs touch timestamps, which a path table does not have; run "
                "`mediamix attribution report EVENTS.csv` on the event data instead")
        names.remove("time_decay")
        console.print("[yellow]note:[/yellow] time-decay skipped: a path table has no touch timestamps")
    results = {name: _run_model(table, name, order) for name in names}
    _print_channel_results(results, table.has_value)
    if out:
        long = pd.concat([r[["channel", "conversions", "value"]].assign(model=name) for name, r in results.items()],
                         ignore_index=True)[["model", "channel", "conversions", "value"]]
        _write_csv(long, out)


@attribution_app.command("journeys")
def journeys_command(
        events: Path = typer.Argument(..., help="Touchpoint events (CSV or Parquet): one row per touch or conversion."),
        person: Optional[str] = typer.Option(None, "--person", help="Person id column (detected if omitted)."),
        timestamp: Optional[str] = typer.Option(None, "--timestamp", help="Timestamp column (detected if omitted)."),
        channel: Optional[str] = typer.Option(None, "--channel", help="Channel column (detected if omitted)."),
        conversion: Optional[str] = typer.Option(None, "--conversion", help="Conversion flag column, 0/1 or "
                                                                            "true/false (detected if omitted)."),
        value: Optional[str] = typer.Option(None, "--value", help="Conversion value column (optional)."),
        lookback_weeks: float = typer.Option(4.0, "--lookback-weeks", help="Touches this many weeks before a "
                                                                           "conversion belong to its journey."),
        out: Optional[Path] = typer.Option(None, "--out", help="Write the aggregated path table (path, conversions, "
                                                               "nulls, value, journeys) as CSV.")):
    """Journeys from touchpoint events, aggregated into a path table (converting and non-converting)."""
    journeys = build_journeys(_read_events(events), person=person, timestamp=timestamp, channel=channel,
                              conversion=conversion, value=value, lookback=_positive_weeks(lookback_weeks))
    aggregated = journeys.paths.aggregate()
    if not journeys.paths.has_value:
        aggregated = aggregated.drop(columns="value")
    console.print(f"{journeys.n_journeys:,} journeys ({int(journeys.converted.sum()):,} converting) over "
                  f"{len(journeys.channels)} channels, {len(aggregated):,} distinct paths; "
                  f"{journeys.unattributed_conversions:,} conversions had no touch within "
                  f"{lookback_weeks:g} weeks")
    _print_frame(aggregated, title="Top paths", max_rows=10)
    if out:
        _write_csv(aggregated, out)


@attribution_app.command("report")
def report_command(
        file: Path = typer.Argument(..., help="A path table, or touchpoint events (then trends are included)."),
        out: Path = typer.Option(Path("attribution-report"), "--out", help="Folder for the CSV tables."),
        order: int = typer.Option(1, "--order", help="Markov chain order."),
        shapley_values: bool = typer.Option(True, "--shapley/--no-shapley", help="Include Shapley values."),
        half_life: str = typer.Option("7D", "--half-life", help="Time-decay half-life (events only), e.g. 7D."),
        person: Optional[str] = typer.Option(None, "--person", help="Events: person id column."),
        timestamp: Optional[str] = typer.Option(None, "--timestamp", help="Events: timestamp column."),
        channel: Optional[str] = typer.Option(None, "--channel", help="Events: channel column."),
        conversion: Optional[str] = typer.Option(None, "--conversion", help="Events: conversion flag column."),
        value: Optional[str] = typer.Option(None, "--value", help="Events: conversion value column."),
        lookback_weeks: float = typer.Option(4.0, "--lookback-weeks", help="Events: journey lookback in weeks."),
        campaign: Optional[str] = typer.Option(None, "--campaign", help="Events: campaign column, for a top-campaigns table."),
        delimiter: Optional[str] = typer.Option(None, help="Column delimiter (default: sniffed from the header).")):
    """Write the attribution-tab tables (totals, positions, top paths, effectiveness, trends, top campaigns) as CSVs."""
    if order < 1:
        raise AttributionOptionError(f"--order {order}: the Markov order must be 1 or more")
    events = None
    if _is_path_table(file, delimiter):
        if campaign:
            raise AttributionOptionError("--campaign needs touchpoint events, not an aggregated path table")
        data = _read_path_table(file, delimiter)
    else:
        events = _read_events(file, delimiter)
        data = build_journeys(events, person=person, timestamp=timestamp, channel=channel,
                              conversion=conversion, value=value, lookback=_positive_weeks(lookback_weeks))
    tables = attribution_tab(data, half_life=half_life, markov_order=order, include_shapley=shapley_values)
    if campaign:
        from mediamix.attribution.summary import top_campaigns
        tables["top_campaigns"] = top_campaigns(events, campaign=campaign, person=person, timestamp=timestamp,
                                                conversion=conversion, value=value,
                                                lookback=_positive_weeks(lookback_weeks))
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False)
    _print_frame(tables["totals"], title="Attributed conversions by model")
    console.print(f"wrote {len(tables)} tables to [bold]{escape(str(out))}[/bold]: "
                  f"{', '.join(f'{n}.csv' for n in tables)}")


# ---- reading ------------------------------------------------------------------------------------

def _model_names(model: str) -> list[str]:
    key = model.strip().lower()
    if key == "all":
        return list(MODELS.values())
    if key not in MODELS:
        raise AttributionOptionError(f"--model '{model}' is not a model; choose one of "
                                     f"{', '.join([*MODELS, 'all'])}")
    return [MODELS[key]]


def _positive_weeks(weeks: float) -> float:
    if not weeks > 0:
        raise AttributionOptionError(f"--lookback-weeks {weeks:g}: give a positive number of weeks")
    return weeks


def _check_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise DataError(f"{what} file '{path}' does not exist; check the path")


def _read_path_table(path: Path, delimiter: str | None) -> PathTable:
    _check_file(path, "path table")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = PathTable.from_csv(path, delimiter=delimiter)
    for w in caught:
        console.print(f"[yellow]warning:[/yellow] {escape(str(w.message))}")
    return table


def _is_path_table(path: Path, delimiter: str | None) -> bool:
    """A file with a path column (path, paths, journey, ...) is a path table; anything else events."""
    _check_file(path, "input")
    if path.suffix.lower() == ".parquet":
        return False
    with path.open(encoding="utf-8-sig") as handle:
        header = handle.readline().strip()
    if not header:
        raise DataError(f"input file '{path}' is empty; supply a header and rows")
    sep = delimiter or sniff_delimiter(header)
    columns = {c.strip().strip('"').lower() for c in header.split(sep)}
    return bool(columns & set(PATH_COLUMNS))


def _read_events(path: Path, delimiter: str | None = None) -> pd.DataFrame:
    _check_file(path, "event")
    if path.suffix.lower() == ".parquet":
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # a foreign or damaged file
            raise DataError(f"cannot read event file '{path}' as Parquet: {exc}") from None
    with path.open(encoding="utf-8-sig") as handle:
        header = handle.readline().strip()
    if not header:
        raise DataError(f"event file '{path}' is empty; supply a header and one row per touch or conversion")
    try:
        return pd.read_csv(path, sep=delimiter or sniff_delimiter(header), encoding="utf-8-sig")
    except pd.errors.ParserError as exc:
        raise DataError(f"cannot read event file '{path}' as CSV: {exc}") from None


# ---- models and printing ------------------------------------------------------------------------

def _run_model(table: PathTable, name: str, order: int) -> pd.DataFrame:
    if name == "markov":
        return markov(table, order=order).attribution
    if name == "shapley":
        return shapley(table).attribution
    return getattr(heuristics, {"first_touch": "first_touch", "last_touch": "last_touch", "linear": "linear",
                                "position": "position_based"}[name])(table)


def _print_channel_results(results: dict[str, pd.DataFrame], has_value: bool) -> None:
    if len(results) == 1:
        (name, frame), = results.items()
        shown = frame[["channel", "conversions", "value"]].copy()
        shown["share_%"] = 100 * shown["conversions"] / shown["conversions"].sum()
        if not has_value:
            shown = shown.drop(columns="value")
        _print_frame(shown, title=f"{name}: attributed conversions")
        return
    _print_frame(channel_totals(results, "conversions"), title="Attributed conversions by model")
    if has_value:
        _print_frame(channel_totals(results, "value"), title="Attributed value by model")


from mediamix.terminal import print_frame as _print_frame  # noqa: E402


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    if path.parent and not path.parent.exists():
        raise DataError(f"folder '{path.parent}' for --out does not exist; create it or choose another path")
    frame.to_csv(path, index=False)
    console.print(f"wrote [bold]{escape(str(path))}[/bold]")
