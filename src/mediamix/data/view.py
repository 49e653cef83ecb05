"""Reading the harmonized view: its last sync, whether it is stale, and its rows (long or wide)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mediamix.data.fields import evaluate_metric, load_catalogue, metric_components
from mediamix.data.granularity import Granularity
from mediamix.data.messages import quoted
from mediamix.data.schema import has_table, revision
from mediamix.data.sql import ident, literal, one
from mediamix.errors import DataError


@dataclass(frozen=True)
class ViewInfo:
    sync_id: int
    granularity: Granularity
    dimensions: tuple[str, ...]
    first_date: pd.Timestamp | None
    last_date: pd.Timestamp | None
    rows: int
    built_at_revision: int
    current_revision: int
    notices: tuple[str, ...]

    @property
    def stale(self) -> bool:
        return self.built_at_revision != self.current_revision


def view_info(con) -> ViewInfo:
    """The last sync, or a DataError saying to run one."""
    row = None
    if has_table(con, "sync_runs") and has_table(con, "harmonized"):
        row = one(
            con,
            "SELECT sync_id, unit, week_start, dimensions, first_date, last_date, rows, revision, notices "
            "FROM sync_runs ORDER BY sync_id DESC LIMIT 1"
        )
    if row is None:
        raise DataError(
            "the harmonized view has not been built yet: add rules to the data sets, activate them and run "
            "`mediamix data sync`"
        )
    sync_id, unit, week_start, dims, first, last, rows, built, notices = row
    return ViewInfo(int(sync_id), Granularity(unit, week_start), tuple(dims),
                    None if first is None else pd.Timestamp(first), None if last is None else pd.Timestamp(last),
                    int(rows), int(built), revision(con), tuple(notices))


def require_fresh(info: ViewInfo) -> None:
    if info.stale:
        raise DataError(
            f"the harmonized view (sync {info.sync_id}) was built before the latest changes to data sets, rules, "
            "fields or merge preferences; run `mediamix data sync` to rebuild it"
        )


def harmonized_view(store, *, wide: bool = True, derived: bool = True, start=None, end=None) -> pd.DataFrame:
    """The harmonized view. wide: one row per date and dimension values, one column per metric (and
    derived metric, computed from the period's sums); else the long table as stored."""
    with store.reading() as con:
        if con is None:
            raise DataError("the store is empty: load data sets, add rules and run `mediamix data sync`")
        info = view_info(con)
        window = _window_sql(start, end)
        if not wide:
            frame = con.execute(f"SELECT * FROM harmonized WHERE {window} ORDER BY ALL").df()
            frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
            return frame
        metrics = [r[0] for r in con.execute("SELECT DISTINCT field FROM harmonized ORDER BY field").fetchall()]
        fields = load_catalogue(con)
        dims = [ident(d) for d in info.dimensions]
        sums = [f"sum(value) FILTER (WHERE field = {literal(m)}) AS {ident(m)}" for m in metrics]
        frame = con.execute(
            f"SELECT date{''.join(', ' + d for d in dims)}{''.join(', ' + s for s in sums)} FROM harmonized "
            f"WHERE {window} GROUP BY ALL ORDER BY ALL"
        ).df()
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    ordered = [m for m in fields if m in metrics] + [m for m in metrics if m not in fields]
    frame = frame[["date", *info.dimensions, *ordered]]
    if derived:
        for name, field in fields.items():
            if field.role == "derived" and all(c in metrics for c in metric_components(name, fields)):
                frame[name] = evaluate_metric(name, fields, {m: frame[m] for m in metrics})
    return frame


def harmonized_factors(store) -> pd.DataFrame:
    with store.reading() as con:
        view_info(con)
        frame = con.execute("SELECT * FROM harmonized_factors ORDER BY factor, date").df()
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    return frame


def last_sync(store) -> ViewInfo:
    with store.reading() as con:
        if con is None:
            raise DataError("the store is empty: load data sets, add rules and run `mediamix data sync`")
        return view_info(con)


def _window_sql(start, end) -> str:
    parts = ["TRUE"]
    for op, value, label in ((">=", start, "start"), ("<=", end, "end")):
        if value is None:
            continue
        stamp = pd.Timestamp(value) if _is_date(value) else None
        if stamp is None:
            raise DataError(f"{label} {quoted(value)} is not a date; write it as YYYY-MM-DD")
        parts.append(f"date {op} DATE {literal(stamp.strftime('%Y-%m-%d'))}")
    return " AND ".join(parts)


def _is_date(value) -> bool:
    try:
        return not pd.isna(pd.Timestamp(value))
    except (ValueError, TypeError):
        return False
