"""The catalogue of harmonized fields: dimensions, metrics and derived metrics (formulas of metrics).

Built-in fields are defined here; users add their own and set units (a currency for money
metrics), which are stored in the `fields` table and laid over the built-ins. Field names become
column names of the harmonized view, so they are restricted to lower-case identifiers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

import pandas as pd

from mediamix.data.formula import parse_formula
from mediamix.data.messages import column_list, one_of, quoted, suggestion
from mediamix.data.schema import bump_revision, has_table
from mediamix.errors import DataError

ROLES = ("dimension", "metric", "derived")
METRIC_KINDS = ("money", "count", "number")
RESERVED = ("date", "dataset", "origin", "field", "value", "period", "batch", "rows")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Field:
    """One harmonized field. kind and unit apply to metrics: money metrics carry a currency code."""

    name: str
    role: str
    kind: str = ""
    unit: str = ""
    formula: str | None = None
    description: str = ""
    builtin: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise DataError(
                f"field name {self.name!r} is not allowed; use lower-case letters, digits and '_', starting "
                "with a letter (up to 63 characters)"
            )
        if self.name in RESERVED:
            raise DataError(f"field name {quoted(self.name)} is reserved by the harmonized view; choose another")
        if self.role not in ROLES:
            raise DataError(f"field {quoted(self.name)}: role {quoted(self.role)} is not one of {one_of(ROLES)}")
        if self.role == "dimension":
            if self.kind or self.unit or self.formula:
                raise DataError(f"dimension {quoted(self.name)} takes no kind, unit or formula; those are for metrics")
            return
        if self.kind not in METRIC_KINDS:
            raise DataError(
                f"metric {quoted(self.name)}: kind {quoted(self.kind)} is not one of {one_of(METRIC_KINDS)}"
            )
        if self.kind == "money" and self.unit and not _CURRENCY.match(self.unit):
            raise DataError(
                f"money metric {quoted(self.name)}: currency {quoted(self.unit)} is not a three-letter code such "
                "as 'USD', 'EUR' or 'INR'"
            )
        if self.role == "derived":
            if not self.formula:
                raise DataError(f"derived metric {quoted(self.name)} needs a formula, e.g. 'spend / clicks'")
            parse_formula(self.formula)
        elif self.formula:
            raise DataError(f"metric {quoted(self.name)} has a formula; declare it with role 'derived'")

    @property
    def currency(self) -> str:
        return self.unit if self.kind == "money" else ""


def _builtins() -> dict[str, Field]:
    dims = {
        "channel": "marketing channel (search, social, tv, ...)", "campaign": "campaign name",
        "media_type": "paid, owned or earned; or a media class", "geo": "region, market or country",
        "brand": "brand or product line", "product": "product or category", "conversion_type":
        "kind of conversion (order, signup, ...)", "platform": "ad platform or publisher", "device": "device type",
        "audience": "audience or segment", "creative": "creative or ad", "event_type": "kind of event (impression, click, ...)",
    }
    metrics = {
        "spend": ("money", "media cost"), "revenue": ("money", "conversion value"),
        "impressions": ("count", "ad impressions"), "clicks": ("count", "clicks"), "views": ("count", "video views"),
        "reach": ("count", "people reached"), "sessions": ("count", "site or app sessions"),
        "visits": ("count", "visits"), "orders": ("count", "orders"), "conversions": ("count", "conversions"),
        "signups": ("count", "sign-ups"), "leads": ("count", "leads"), "units": ("count", "units sold"),
    }
    derived = {
        "cpc": ("money", "spend / clicks", "cost per click"),
        "cpm": ("money", "spend / impressions * 1000", "cost per thousand impressions"),
        "ctr": ("number", "clicks / impressions", "click-through rate"),
        "cpa": ("money", "spend / conversions", "cost per conversion"),
        "roas": ("number", "revenue / spend", "return on ad spend"),
        "aov": ("money", "revenue / orders", "average order value"),
    }
    fields = {n: Field(n, "dimension", description=d, builtin=True) for n, d in dims.items()}
    fields.update({n: Field(n, "metric", k, description=d, builtin=True) for n, (k, d) in metrics.items()})
    fields.update({n: Field(n, "derived", k, formula=f, description=d, builtin=True) for n, (k, f, d) in derived.items()})
    return fields


BUILTIN_FIELDS = _builtins()


def load_catalogue(con) -> dict[str, Field]:
    """Built-ins laid over by the stored fields (user fields and units set on built-ins)."""
    fields = dict(BUILTIN_FIELDS)
    if has_table(con, "fields"):
        for name, role, kind, unit, formula, description, builtin in con.execute(
            "SELECT name, role, kind, unit, formula, description, builtin FROM fields ORDER BY name"
        ).fetchall():
            fields[name] = Field(name, role, kind, unit, formula, description, bool(builtin))
    return fields


def catalogue(store) -> dict[str, Field]:
    with store.reading() as con:
        return load_catalogue(con)


def fields_table(store) -> pd.DataFrame:
    """The catalogue as a table: name, role, kind, unit, formula, description, builtin."""
    rows = [f.__dict__ for f in catalogue(store).values()]
    order = {role: i for i, role in enumerate(ROLES)}
    frame = pd.DataFrame(rows, columns=["name", "role", "kind", "unit", "formula", "description", "builtin"])
    return frame.sort_values(["role", "name"], key=lambda s: s.map(order) if s.name == "role" else s).reset_index(drop=True)


def add_field(store, name: str, role: str, *, kind: str | None = None, unit: str = "", formula: str | None = None,
              description: str = "") -> Field:
    """Add a user field. Metrics default to kind 'number'; derived metrics need a formula of metrics."""
    if role != "dimension" and kind is None:
        kind = "money" if unit and _CURRENCY.match(unit) else "number"
    field = Field(name, role, kind or "", unit or "", formula, description)
    with store.transaction() as con:
        fields = load_catalogue(con)
        if name in fields:
            raise DataError(f"field {quoted(name)} already exists ({fields[name].role}); choose another name")
        if field.role == "derived":
            check_formula(field, {**fields, name: field})
        _write(con, field)
    return field


def set_unit(store, name: str, unit: str) -> Field:
    """Set a metric's unit; for money metrics the three-letter currency of its values."""
    with store.transaction() as con:
        fields = load_catalogue(con)
        field = require(fields, name)
        if field.role == "dimension":
            raise DataError(f"{quoted(name)} is a dimension; units belong to metrics")
        updated = replace(field, unit=unit.strip().upper() if field.kind == "money" else unit.strip())
        _write(con, updated)
    return updated


def remove_field(store, name: str) -> None:
    """Remove a user field that no rule, definition or formula uses."""
    from mediamix.data.rules import uses_of_field

    with store.transaction() as con:
        fields = load_catalogue(con)
        field = require(fields, name)
        if field.builtin:
            raise DataError(f"{quoted(name)} is a built-in field and cannot be removed")
        users = [f"derived metric {quoted(f.name)}" for f in fields.values()
                 if f.formula and name in parse_formula(f.formula).names]
        users += uses_of_field(con, name)
        if users:
            raise DataError(f"field {quoted(name)} is used by {', '.join(users)}; change those first")
        con.execute("DELETE FROM fields WHERE name = ?", [name])
        bump_revision(con)


def require(fields: dict[str, Field], name: str, role: str | tuple[str, ...] | None = None, *, used_as: str = "") -> Field:
    """The field named `name` with one of the given roles, or a DataError that says what exists."""
    roles = (role,) if isinstance(role, str) else role
    if name not in fields:
        candidates = [f for f, v in fields.items() if roles is None or v.role in roles]
        raise DataError(
            f"no harmonized field named {quoted(name)}{' ' + used_as if used_as else ''}.{suggestion(name, candidates)} "
            f"Fields{' of that role' if roles else ''}: {column_list(sorted(candidates))}; add one with "
            "`mediamix data fields add`"
        )
    field = fields[name]
    if roles is not None and field.role not in roles:
        raise DataError(
            f"field {quoted(name)}{' ' + used_as if used_as else ''} is a {field.role}, but a "
            f"{' or '.join(roles)} is needed here"
        )
    return field


def check_formula(field: Field, fields: dict[str, Field]) -> None:
    """A derived metric may use metrics and other derived metrics, without a cycle."""
    for name in parse_formula(field.formula).names:
        require(fields, name, ("metric", "derived"), used_as=f"in the formula of {quoted(field.name)}")
    _refuse_cycle(field.name, fields, [])


def _refuse_cycle(name: str, fields: dict[str, Field], path: list[str]) -> None:
    if name in path:
        loop = " -> ".join(path[path.index(name):] + [name])
        raise DataError(f"derived metrics refer to each other in a loop: {loop}; break the loop")
    field = fields.get(name)
    if field is None or field.role != "derived":
        return
    for used in parse_formula(field.formula).names:
        _refuse_cycle(used, fields, path + [name])


def metric_components(name: str, fields: dict[str, Field]) -> tuple[str, ...]:
    """The stored metrics a metric or derived metric is computed from."""
    field = require(fields, name, ("metric", "derived"))
    if field.role == "metric":
        return (name,)
    found: list[str] = []
    for used in parse_formula(field.formula).names:
        found += metric_components(used, fields)
    return tuple(dict.fromkeys(found))


def _write(con, field: Field) -> None:
    con.execute("DELETE FROM fields WHERE name = ?", [field.name])
    con.execute(
        "INSERT INTO fields VALUES (?, ?, ?, ?, ?, ?, ?)",
        [field.name, field.role, field.kind, field.unit, field.formula, field.description, field.builtin],
    )
    bump_revision(con)


def evaluate_metric(name: str, fields: dict[str, Field], sums: dict[str, pd.Series]) -> pd.Series:
    """A metric's per-period values from the per-period sums of stored metrics (ratios of sums)."""
    field = require(fields, name, ("metric", "derived"))
    if field.role == "metric":
        return sums[name]
    formula = parse_formula(field.formula)
    return formula.evaluate({used: evaluate_metric(used, fields, sums) for used in formula.names})
