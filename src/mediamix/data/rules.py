"""Rules: how one data set's rows become harmonized fields.

A rule selects rows (`when`, optional), sets dimensions (from a column, a constant, or case
rules), and sums or counts metrics, at a declared granularity. Rules are drafts until activated;
only active rules feed the harmonized view.

    name: google-search
    granularity: {unit: week, week_start: Monday}
    when: {column: Network, equals: Search}
    dimensions:
      channel: {value: search}
      campaign: {column: Campaign}
      campaign_type:
        case:
          - when: {column: Campaign, contains: brand, ignore_case: true}
            then: brand
        else: generic
    metrics:
      spend: {sum: Cost, currency: USD}
      clicks: {sum: Clicks}
      orders: {count: "*"}
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import pandas as pd

from mediamix.data.conditions import Condition, parse_condition, subjects, to_dict, to_sql
from mediamix.data.fields import load_catalogue, require
from mediamix.data.granularity import Granularity
from mediamix.data.messages import column_list, one_of, quoted
from mediamix.data.schema import bump_revision, has_table
from mediamix.data.sources import Source, source_for
from mediamix.data.sql import ident, literal, one
from mediamix.errors import DataError, NotFoundError

STATUSES = ("draft", "active")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,99}$")
_RULE_KEYS = {"name", "dataset", "status", "granularity", "when", "dimensions", "metrics", "description"}


@dataclass(frozen=True)
class Value:
    """How a rule sets a dimension: copy a column, a constant, or the first case rule that matches."""

    column: str | None = None
    constant: str | None = None
    cases: tuple = ()  # ((Condition, value), ...)
    default: str | None = None

    @classmethod
    def from_dict(cls, raw, where: str) -> "Value":
        if isinstance(raw, Value):
            return raw
        if not isinstance(raw, dict) or len({"column", "value", "case"} & set(raw)) != 1:
            raise DataError(
                f"{where}: set a dimension with one of {{column: NAME}}, {{value: TEXT}} or "
                f"{{case: [{{when: CONDITION, then: TEXT}}, ...], else: TEXT}}; got {raw!r}"
            )
        extra = set(raw) - {"column", "value", "case", "else"}
        if extra or ("else" in raw and "case" not in raw):
            raise DataError(f"{where}: unknown key(s) {sorted(extra or {'else'})} in {raw!r}")
        if "column" in raw:
            return cls(column=_text(raw["column"], where))
        if "value" in raw:
            return cls(constant=_text(raw["value"], where))
        cases = raw["case"]
        if not isinstance(cases, list) or not cases:
            raise DataError(f"{where}: case needs a list of {{when: CONDITION, then: TEXT}}")
        parsed = []
        for i, item in enumerate(cases):
            if not isinstance(item, dict) or set(item) != {"when", "then"}:
                raise DataError(f"{where}, case {i + 1}: write {{when: CONDITION, then: TEXT}}, got {item!r}")
            parsed.append((parse_condition(item["when"], where=f"{where}, case {i + 1}"),
                           _text(item["then"], where)))
        default = raw.get("else")
        return cls(cases=tuple(parsed), default=None if default is None else _text(default, where))

    def to_dict(self) -> dict:
        if self.column is not None:
            return {"column": self.column}
        if self.constant is not None:
            return {"value": self.constant}
        out = {"case": [{"when": to_dict(c), "then": v} for c, v in self.cases]}
        if self.default is not None:
            out["else"] = self.default
        return out

    @property
    def columns(self) -> tuple[str, ...]:
        if self.column is not None:
            return (self.column,)
        found: list[str] = []
        for condition, _ in self.cases:
            found += subjects(condition)
        return tuple(dict.fromkeys(found))

    def to_sql(self, source: Source) -> str:
        if self.column is not None:
            column = ident(self.column)
            if source.is_numeric(self.column):  # codes such as DMA 501 read as 501.0: keep them whole
                return (f"(CASE WHEN {column} = round({column}) THEN CAST(CAST({column} AS BIGINT) AS VARCHAR) "
                        f"ELSE CAST({column} AS VARCHAR) END)")
            return f"NULLIF(trim(CAST({column} AS VARCHAR)), '')"
        if self.constant is not None:
            return literal(self.constant)
        branches = " ".join(
            f"WHEN {to_sql(c, ident, source.is_numeric)} THEN {literal(v)}" for c, v in self.cases
        )
        return f"(CASE {branches} ELSE {literal(self.default)} END)"


@dataclass(frozen=True)
class Metric:
    """A metric summed from a column or counted (rows with '*', or non-empty values of a column)."""

    how: str
    column: str
    currency: str | None = None

    @classmethod
    def from_dict(cls, raw, where: str) -> "Metric":
        if isinstance(raw, Metric):
            return raw
        if not isinstance(raw, dict) or len({"sum", "count"} & set(raw)) != 1 or set(raw) - {"sum", "count", "currency"}:
            raise DataError(f"{where}: a metric is {{sum: COLUMN}} or {{count: '*' or COLUMN}} "
                            f"(optionally with currency: USD); got {raw!r}")
        how = "sum" if "sum" in raw else "count"
        column = _text(raw[how], where)
        if how == "sum" and column == "*":
            raise DataError(f"{where}: sum needs a column; to count rows write {{count: '*'}}")
        currency = raw.get("currency")
        if currency is not None:
            currency = _text(currency, where).upper()
            if not re.match(r"^[A-Z]{3}$", currency):
                raise DataError(f"{where}: currency {quoted(currency)} is not a three-letter code such as 'USD'")
        return cls(how, column, currency)

    def to_dict(self) -> dict:
        out = {self.how: self.column}
        if self.currency:
            out["currency"] = self.currency
        return out

    def to_sql(self) -> str:
        if self.how == "count":
            return "count(*)" if self.column == "*" else f"count({ident(self.column)})"
        return f"sum(CAST({ident(self.column)} AS DOUBLE))"


@dataclass(frozen=True)
class Rule:
    name: str
    dataset: str
    granularity: Granularity
    dimensions: tuple = ()  # ((field, Value), ...)
    metrics: tuple = ()  # ((field, Metric), ...)
    when: Condition | None = None
    status: str = "draft"
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise DataError(f"rule name {self.name!r} is not allowed; use up to 100 letters, digits, spaces, '_', '.' or '-'")
        if self.status not in STATUSES:
            raise DataError(f"rule {quoted(self.name)}: status {quoted(self.status)} is not one of {one_of(STATUSES)}")
        if not self.metrics:
            raise DataError(f"rule {quoted(self.name)} sets no metrics; add at least one, e.g. spend: {{sum: Cost}}")

    @classmethod
    def from_dict(cls, raw: dict, *, dataset: str | None = None) -> "Rule":
        if not isinstance(raw, dict):
            raise DataError(f"a rule is a mapping with name, granularity, dimensions and metrics; got {raw!r}")
        unknown = set(raw) - _RULE_KEYS
        if unknown:
            raise DataError(f"rule {raw.get('name', '?')!r}: unknown key(s) {sorted(unknown)}; keys are {sorted(_RULE_KEYS)}")
        name = raw.get("name")
        where = f"rule {quoted(name)}"
        dataset = raw.get("dataset", dataset)
        if not dataset:
            raise DataError(f"{where}: name the data set it applies to (dataset: NAME)")
        if "granularity" not in raw:
            raise DataError(f"{where}: declare its granularity: day, month, or {{unit: week, week_start: Monday}}")
        dims = raw.get("dimensions") or {}
        metrics = raw.get("metrics") or {}
        if not isinstance(dims, dict) or not isinstance(metrics, dict):
            raise DataError(f"{where}: dimensions and metrics are mappings of field name to how it is set")
        when = raw.get("when")
        return cls(
            name=name, dataset=str(dataset), granularity=Granularity.from_dict(raw["granularity"]),
            dimensions=tuple((f, Value.from_dict(v, f"{where}, dimension {quoted(f)}")) for f, v in dims.items()),
            metrics=tuple((f, Metric.from_dict(v, f"{where}, metric {quoted(f)}")) for f, v in metrics.items()),
            when=None if when is None else parse_condition(when, where=f"{where}, when"),
            status=raw.get("status", "draft"), description=str(raw.get("description", "")),
        )

    def to_dict(self) -> dict:
        out = {"name": self.name, "dataset": self.dataset, "status": self.status,
               "granularity": self.granularity.to_dict()}
        if self.description:
            out["description"] = self.description
        if self.when is not None:
            out["when"] = to_dict(self.when)
        out["dimensions"] = {f: v.to_dict() for f, v in self.dimensions}
        out["metrics"] = {f: m.to_dict() for f, m in self.metrics}
        return out

    @property
    def label(self) -> str:
        return f"{self.dataset}/{self.name}"

    @property
    def columns(self) -> tuple[str, ...]:
        used: list[str] = list(subjects(self.when)) if self.when is not None else []
        for _, value in self.dimensions:
            used += value.columns
        used += [m.column for _, m in self.metrics if m.column != "*"]
        return tuple(dict.fromkeys(used))


def check_rule(rule: Rule, fields: dict, source: Source) -> None:
    """Fields exist with the right roles, columns exist, summed columns hold numbers, currencies match."""
    where = f"rule {quoted(rule.name)} of data set {quoted(rule.dataset)}"
    for name, _ in rule.dimensions:
        require(fields, name, "dimension", used_as=f"(a dimension of {where})")
    for name, metric in rule.metrics:
        target = require(fields, name, "metric", used_as=f"(a metric of {where})")
        if metric.currency:
            if target.kind != "money":
                raise DataError(f"{where}: metric {quoted(name)} is a {target.kind} metric; only money metrics take a currency")
            if target.unit and target.unit != metric.currency:
                raise DataError(
                    f"{where} maps {metric.currency} amounts into {quoted(name)}, whose currency is {target.unit}; "
                    f"map them into a metric of their own (e.g. {name}_{metric.currency.lower()} with currency "
                    f"{metric.currency}), or convert them before loading"
                )
    for column in rule.columns:
        source.require_column(column, where)
    for name, metric in rule.metrics:
        if metric.how == "sum" and not source.is_numeric(metric.column):
            raise DataError(
                f"{where} sums column {quoted(metric.column)} into {quoted(name)}, but the column holds "
                f"{source.columns[metric.column].lower()} values, not numbers; sum a numeric column, or count it "
                f"with {{count: {metric.column}}}"
            )


# ---- persistence ---------------------------------------------------------------------------------


def add_rule(store, rule: Rule | dict, *, dataset: str | None = None, replace_existing: bool = False) -> Rule:
    """Store a rule for its data set (checked against the catalogue and the data set's columns)."""
    rule = rule if isinstance(rule, Rule) else Rule.from_dict(rule, dataset=dataset)
    with store.transaction() as con:
        check_rule(rule, load_catalogue(con), source_for(con, rule.dataset))
        existing = _stored(con, rule.dataset, rule.name)
        if existing is not None and not replace_existing:
            raise DataError(
                f"data set {quoted(rule.dataset)} already has a rule {quoted(rule.name)}; pass replace to change it"
            )
        _write(con, rule)
        if rule.status == "active" or (existing is not None and existing.status == "active"):
            bump_revision(con)
    return rule


def set_status(store, dataset: str, name: str, status: str) -> Rule:
    """Activate a draft (checked again against the current data) or return a rule to draft."""
    if status not in STATUSES:
        raise DataError(f"status {quoted(status)} is not one of {one_of(STATUSES)}")
    with store.transaction() as con:
        rule = _stored(con, dataset, name)
        if rule is None:
            raise NotFoundError(_missing(con, dataset, name))
        if status == "active":
            check_rule(rule, load_catalogue(con), source_for(con, dataset))
        updated = replace(rule, status=status)
        if updated.status != rule.status:
            _write(con, updated)
            bump_revision(con)
    return updated


def activate(store, dataset: str, name: str) -> Rule:
    return set_status(store, dataset, name, "active")


def remove_rule(store, dataset: str, name: str) -> None:
    with store.transaction() as con:
        rule = _stored(con, dataset, name)
        if rule is None:
            raise NotFoundError(_missing(con, dataset, name))
        con.execute("DELETE FROM rules WHERE dataset = ? AND name = ?", [dataset, name])
        if rule.status == "active":
            bump_revision(con)


def get_rule(store, dataset: str, name: str) -> Rule:
    with store.reading() as con:
        rule = _stored(con, dataset, name) if con is not None else None
        if rule is None:
            raise NotFoundError(_missing(con, dataset, name))
    return rule


def load_rules(con, *, active_only: bool = False, dataset: str | None = None) -> list[Rule]:
    if not has_table(con, "rules"):
        return []
    query = "SELECT spec FROM rules"
    conditions, params = [], []
    if active_only:
        conditions.append("status = 'active'")
    if dataset is not None:
        conditions.append("dataset = ?")
        params.append(dataset)
    if conditions:
        query += " WHERE " + " AND ".join(conditions)
    return [Rule.from_dict(json.loads(spec)) for (spec,) in con.execute(query + " ORDER BY dataset, name", params).fetchall()]


def rules_table(store, dataset: str | None = None) -> pd.DataFrame:
    """One row per rule: dataset, name, status, granularity, dimensions, metrics, when."""
    with store.reading() as con:
        rules = load_rules(con, dataset=dataset) if con is not None else []
    return pd.DataFrame(
        [{"dataset": r.dataset, "name": r.name, "status": r.status, "granularity": r.granularity.describe(),
          "dimensions": ", ".join(f for f, _ in r.dimensions), "metrics": ", ".join(f for f, _ in r.metrics),
          "when": "" if r.when is None else json.dumps(to_dict(r.when))} for r in rules],
        columns=["dataset", "name", "status", "granularity", "dimensions", "metrics", "when"],
    )


def uses_of_field(con, name: str) -> list[str]:
    users = [f"rule {quoted(r.label)}" for r in load_rules(con)
             if name in {f for f, _ in r.dimensions} | {f for f, _ in r.metrics}]
    if has_table(con, "definitions"):
        for kind, definition, spec in con.execute("SELECT kind, name, spec FROM definitions").fetchall():
            if re.search(rf'"{re.escape(name)}"', spec):
                users.append(f"{kind} {quoted(definition)}")
    return users


def wide_rules(dataset: str, granularity, channels: dict, *, metrics: dict | None = None,
               dimensions: dict | None = None, status: str = "active") -> list[Rule]:
    """Rules for a wide table (one column per channel and metric), e.g. Robyn's tv_S, facebook_I.

    channels: {channel: {metric field: column}}; metrics: {metric field: column} for columns that
    belong to no channel (revenue, orders); dimensions: set on every rule, e.g. {"geo": {"column": "geo"}}.
    """
    granularity = Granularity.from_dict(granularity)
    dimensions = dimensions or {}
    made = []
    for channel, mapping in channels.items():
        made.append(Rule.from_dict({
            "name": f"channel {channel}", "dataset": dataset, "status": status, "granularity": granularity.to_dict(),
            "dimensions": {**dimensions, "channel": {"value": channel}},
            "metrics": {m: {"sum": c} for m, c in mapping.items()},
        }))
    if metrics:
        made.append(Rule.from_dict({
            "name": "totals", "dataset": dataset, "status": status, "granularity": granularity.to_dict(),
            "dimensions": dict(dimensions), "metrics": {m: {"sum": c} for m, c in metrics.items()},
        }))
    return made


def _stored(con, dataset: str, name: str) -> Rule | None:
    if not has_table(con, "rules"):
        return None
    row = one(con, "SELECT spec FROM rules WHERE dataset = ? AND name = ?", [dataset, name])
    return None if row is None else Rule.from_dict(json.loads(row[0]))


def _write(con, rule: Rule) -> None:
    con.execute("DELETE FROM rules WHERE dataset = ? AND name = ?", [rule.dataset, rule.name])
    con.execute(
        "INSERT INTO rules VALUES (?, ?, ?, ?, ?)",
        [rule.dataset, rule.name, rule.status, json.dumps(rule.to_dict()),
         datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)],
    )


def _missing(con, dataset: str, name: str) -> str:
    names = [r.name for r in load_rules(con, dataset=dataset)] if con is not None else []
    available = column_list(names) if names else "none yet"
    return f"data set {quoted(dataset)} has no rule named {quoted(name)}; its rules: {available}"


def _text(value, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or str(value) == "":
        raise DataError(f"{where}: expected a name or text, got {value!r}")
    return str(value)
