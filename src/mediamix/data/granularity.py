"""Granularity of a rule (day, week with its start weekday, or month) and period arithmetic in SQL.

Every period is dated by its first day. A row belongs to the period containing its date, so daily
rows and events sum exactly into weeks and months. Weeks do not nest in months (nor in weeks
starting on another weekday): such weekly values are spread evenly over their seven days and
summed into the periods those days fall in.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mediamix.data.cadence import WEEKDAYS, Cadence
from mediamix.data.messages import join_words, one_of, quoted
from mediamix.errors import DataError

UNITS = ("day", "week", "month")
DATED_BY = ("start", "end")
_RANK = {unit: i for i, unit in enumerate(UNITS)}
_UNIT_WORDS = {"day": "day", "daily": "day", "d": "day", "week": "week", "weekly": "week", "w": "week",
               "month": "month", "monthly": "month", "m": "month"}


@dataclass(frozen=True)
class Granularity:
    unit: str
    week_start: str | None = None
    dated_by: str = "start"  # weekly source rows dated by the first or the last day of their week

    def __post_init__(self) -> None:
        unit = _UNIT_WORDS.get(str(self.unit).strip().lower())
        if unit is None:
            raise DataError(f"granularity {quoted(self.unit)} is not one of {one_of(UNITS)}")
        object.__setattr__(self, "unit", unit)
        if unit == "week":
            if self.week_start is None:
                raise DataError("a weekly granularity needs its week_start weekday, e.g. week_start: Monday")
            object.__setattr__(self, "week_start", weekday(self.week_start))
        elif self.week_start is not None:
            raise DataError(f"week_start applies to weekly granularity only, not {quoted(unit)}")
        if self.dated_by not in DATED_BY:
            raise DataError(f"dated_by {quoted(self.dated_by)} is not one of {one_of(DATED_BY)}")
        if self.dated_by == "end" and unit != "week":
            raise DataError("dated_by 'end' applies to weekly rows dated by the last day of their week")

    @classmethod
    def from_dict(cls, raw) -> "Granularity":
        if isinstance(raw, Granularity):
            return raw
        if isinstance(raw, str):
            return cls(raw)
        if not isinstance(raw, dict) or "unit" not in raw:
            raise DataError(f"granularity is 'day', 'month' or {{unit: week, week_start: Monday}}, got {raw!r}")
        unknown = set(raw) - {"unit", "week_start", "dated_by"}
        if unknown:
            raise DataError(f"granularity has unknown key(s) {sorted(unknown)}; keys are unit, week_start, dated_by")
        return cls(raw["unit"], raw.get("week_start"), raw.get("dated_by", "start"))

    def to_dict(self) -> dict:
        out = {"unit": self.unit}
        if self.week_start:
            out["week_start"] = self.week_start
        if self.dated_by != "start":
            out["dated_by"] = self.dated_by
        return out

    def describe(self) -> str:
        if self.unit == "week":
            return f"weekly, weeks starting on {self.week_start}"
        return {"day": "daily", "month": "monthly"}[self.unit]

    @property
    def cadence(self) -> Cadence:
        if self.unit == "week":
            return Cadence("week", self.week_start)
        return Cadence(self.unit, "start" if self.unit == "month" else None)

    @property
    def days(self) -> int | None:
        """Days per period when fixed (month lengths vary)."""
        return {"day": 1, "week": 7}.get(self.unit)

    def period_sql(self, day: str) -> str:
        """SQL for the first day of the period containing the DATE expression `day`."""
        if self.unit == "day":
            return day
        if self.unit == "month":
            return f"CAST(date_trunc('month', {day}) AS DATE)"
        offset = WEEKDAYS.index(self.week_start)
        return f"({day} - CAST(((isodow({day}) - 1 - {offset}) % 7 + 7) % 7 AS INTEGER))"

    def nests_in(self, coarser: "Granularity") -> bool:
        """True when every period of self lies inside one period of `coarser` (no spreading needed)."""
        if self.unit == "day" or self == coarser:
            return True
        if self.unit == "week" and coarser.unit == "week":
            return self.week_start == coarser.week_start
        return self.unit == "month" and coarser.unit == "month"

    def coarser_than(self, other: "Granularity") -> bool:
        return _RANK[self.unit] > _RANK[other.unit]


def weekday(name) -> str:
    text = str(name).strip().lower()
    for day in WEEKDAYS:
        if text in (day.lower(), day[:3].lower()):
            return day
    raise DataError(f"week_start {quoted(name)} is not a weekday; use one of {one_of(WEEKDAYS)}")


def view_granularity(declared: Iterable[tuple[str, Granularity, bool]], week_start: str | None = None
                     ) -> tuple[Granularity, list[str]]:
    """The coarsest granularity among (rule label, granularity, from events) triples, and notices.

    Weekly rules over dated rows must agree on the weekday weeks start on, unless week_start names
    it; events are bucketed from their timestamps, so they follow whatever weeks the view has.
    """
    declared = list(declared)
    if not declared:
        raise DataError("no active rules: add rules to the data sets and activate them before syncing")
    unit = max((g.unit for _, g, _ in declared), key=_RANK.__getitem__)
    notices: list[str] = []
    if unit != "week":
        return Granularity(unit), notices
    dated: dict[str, list[str]] = {}
    events: dict[str, list[str]] = {}
    for label, g, from_events in declared:
        if g.unit == "week":
            (events if from_events else dated).setdefault(g.week_start, []).append(label)
    voters = dated or events
    if week_start is not None:
        chosen = weekday(week_start)
    elif len(voters) == 1:
        chosen = next(iter(voters))
    else:
        described = [f"{join_words([quoted(r) for r in labels])} start weeks on {day}" for day, labels in voters.items()]
        raise DataError(
            f"weekly rules disagree on the first day of the week: {'; '.join(described)}. Pass week_start= to "
            "sync (weekly rows starting on another day are then spread over their days), or make the rules agree"
        )
    spread = [label for day, labels in dated.items() if day != chosen for label in labels]
    if spread:
        notices.append(
            f"weeks of {join_words([quoted(s) for s in spread])} start on another weekday than {chosen}: their "
            f"values were spread evenly over their 7 days into weeks starting on {chosen}"
        )
    return Granularity("week", chosen), notices
