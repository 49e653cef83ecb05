"""Named definitions over harmonized fields, which models select by name.

A touchpoint is a condition over dimensions with a spend metric and, optionally, a volume metric
(channel = search and campaign contains brand; spend, clicks). A conversion is an optional
condition with a conversion metric and, optionally, a revenue metric. An eligible population
is a set of containers of field conditions (each container and/or), themselves joined and/or;
it restricts the rows a model reads. Definitions apply when series are read, so changing one
needs no sync.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd

from mediamix.data.conditions import AllOf, AnyOf, Condition, parse_condition, subjects, to_dict
from mediamix.data.fields import load_catalogue, require
from mediamix.data.messages import column_list, one_of, quoted
from mediamix.data.schema import has_table
from mediamix.errors import DataError, NotFoundError

KINDS = ("touchpoint", "conversion", "population")
COMBINE = ("and", "or")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Touchpoint:
    name: str
    where: Condition
    spend: str
    volume: str | None = None
    description: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "where": to_dict(self.where, key="field"), "spend": self.spend,
                "volume": self.volume, "description": self.description}

    @property
    def metrics(self) -> tuple[str, ...]:
        return (self.spend,) + ((self.volume,) if self.volume else ())


@dataclass(frozen=True)
class Conversion:
    name: str
    conversion: str
    revenue: str | None = None
    where: Condition | None = None
    description: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "where": None if self.where is None else to_dict(self.where, key="field"),
                "conversion": self.conversion, "revenue": self.revenue, "description": self.description}

    @property
    def metrics(self) -> tuple[str, ...]:
        return (self.conversion,) + ((self.revenue,) if self.revenue else ())


@dataclass(frozen=True)
class Population:
    """containers: ((combine, (conditions...)), ...); `combine` joins the containers."""

    name: str
    containers: tuple
    combine: str = "and"
    description: str = ""

    @property
    def condition(self) -> Condition:
        parts = tuple((AllOf if how == "and" else AnyOf)(tuple(conditions)) for how, conditions in self.containers)
        return AllOf(parts) if self.combine == "and" else AnyOf(parts)

    def to_dict(self) -> dict:
        return {"name": self.name, "combine": self.combine, "description": self.description,
                "containers": [{"combine": how, "conditions": [to_dict(c, key="field") for c in conditions]}
                               for how, conditions in self.containers]}


def _check_name(name, kind: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise DataError(
            f"{kind} name {name!r} is not allowed; use letters, digits and '_', starting with a letter "
            "(it becomes a column name such as NAME_spend)"
        )
    return name


def _where(raw, kind: str, name: str, fields: dict) -> Condition:
    condition = parse_condition(raw, key="field", where=f"{kind} {quoted(name)}")
    for field in subjects(condition):
        require(fields, field, "dimension", used_as=f"(in the condition of {kind} {quoted(name)})")
    return condition


def define_touchpoint(store, name: str, *, where, spend: str, volume: str | None = None, description: str = "",
                      replace: bool = False) -> Touchpoint:
    name = _check_name(name, "touchpoint")
    with store.transaction() as con:
        fields = load_catalogue(con)
        condition = _where(where, "touchpoint", name, fields)
        money = require(fields, spend, ("metric", "derived"), used_as=f"(the spend of touchpoint {quoted(name)})")
        if money.kind != "money":
            raise DataError(f"touchpoint {quoted(name)}: spend metric {quoted(spend)} is a {money.kind} metric; "
                            "the spend of a touchpoint is a money metric (spend, or one you add with kind money)")
        if volume is not None:
            require(fields, volume, ("metric", "derived"), used_as=f"(the volume of touchpoint {quoted(name)})")
            if volume == spend:
                raise DataError(f"touchpoint {quoted(name)}: volume and spend are both {quoted(spend)}; choose a "
                                "volume metric such as impressions or clicks")
        definition = Touchpoint(name, condition, spend, volume, description)
        _write(con, "touchpoint", definition, replace)
    return definition


def define_conversion(store, name: str, *, conversion: str, revenue: str | None = None, where=None,
                      description: str = "", replace: bool = False) -> Conversion:
    name = _check_name(name, "conversion")
    with store.transaction() as con:
        fields = load_catalogue(con)
        condition = None if where is None else _where(where, "conversion", name, fields)
        require(fields, conversion, ("metric", "derived"), used_as=f"(the conversion metric of {quoted(name)})")
        if revenue is not None:
            money = require(fields, revenue, ("metric", "derived"), used_as=f"(the revenue of conversion {quoted(name)})")
            if money.kind != "money":
                raise DataError(f"conversion {quoted(name)}: revenue metric {quoted(revenue)} is a {money.kind} "
                                "metric; revenue is a money metric")
        definition = Conversion(name, conversion, revenue, condition, description)
        _write(con, "conversion", definition, replace)
    return definition


def define_population(store, name: str, containers, *, combine: str = "and", description: str = "",
                      replace: bool = False) -> Population:
    """containers: [{"combine": "or", "conditions": [{field: geo, equals: US}, ...]}, ...]."""
    name = _check_name(name, "population")
    if combine not in COMBINE:
        raise DataError(f"population {quoted(name)}: combine {quoted(combine)} is not one of {one_of(COMBINE)}")
    if not isinstance(containers, (list, tuple)) or not containers:
        raise DataError(f"population {quoted(name)} needs at least one container of conditions")
    with store.transaction() as con:
        fields = load_catalogue(con)
        parsed = []
        for i, container in enumerate(containers):
            where = f"population {quoted(name)}, container {i + 1}"
            if not isinstance(container, dict) or "conditions" not in container or set(container) - {"conditions", "combine"}:
                raise DataError(f"{where}: write {{combine: and|or, conditions: [...]}}, got {container!r}")
            how = container.get("combine", "and")
            if how not in COMBINE:
                raise DataError(f"{where}: combine {quoted(how)} is not one of {one_of(COMBINE)}")
            conditions = container["conditions"]
            if not isinstance(conditions, list) or not conditions:
                raise DataError(f"{where}: needs a non-empty list of conditions")
            parsed.append((how, tuple(_where(c, "population", name, fields) for c in conditions)))
        definition = Population(name, tuple(parsed), combine, description)
        _write(con, "population", definition, replace)
    return definition


def load_definitions(con, kind: str) -> dict:
    if kind not in KINDS:
        raise DataError(f"definition kind {quoted(kind)} is not one of {one_of(KINDS)}")
    if not has_table(con, "definitions"):
        return {}
    rows = con.execute("SELECT name, spec FROM definitions WHERE kind = ? ORDER BY name", [kind]).fetchall()
    return {name: _from_dict(kind, json.loads(spec)) for name, spec in rows}


def definitions(store, kind: str) -> dict:
    with store.reading() as con:
        return load_definitions(con, kind) if con is not None else {}


def definitions_table(store, kind: str) -> pd.DataFrame:
    found = definitions(store, kind)
    rows = []
    for name, d in found.items():
        spec = d.to_dict()
        row = {"name": name}
        if kind == "population":
            row["containers"] = json.dumps(spec["containers"])
            row["combine"] = spec["combine"]
        else:
            row["where"] = "" if spec["where"] is None else json.dumps(spec["where"])
            row.update({k: v for k, v in spec.items() if k in ("spend", "volume", "conversion", "revenue")})
        row["description"] = d.description
        rows.append(row)
    columns = {"touchpoint": ["name", "where", "spend", "volume", "description"],
               "conversion": ["name", "where", "conversion", "revenue", "description"],
               "population": ["name", "containers", "combine", "description"]}[kind]
    return pd.DataFrame(rows, columns=columns)


def remove_definition(store, kind: str, name: str) -> None:
    with store.transaction() as con:
        found = load_definitions(con, kind)
        if name not in found:
            raise NotFoundError(missing(kind, name, found))
        con.execute("DELETE FROM definitions WHERE kind = ? AND name = ?", [kind, name])


def pick(found: dict, kind: str, name: str):
    if name not in found:
        raise NotFoundError(missing(kind, name, found))
    return found[name]


def missing(kind: str, name: str, found: dict) -> str:
    from mediamix.data.messages import suggestion

    available = column_list(found) if found else "none yet"
    return (f"no {kind} named {quoted(name)}.{suggestion(name, found)} Defined: {available}; define one with "
            f"`mediamix data {kind}s define`")


def _write(con, kind: str, definition, replace: bool) -> None:
    exists = con.execute("SELECT count(*) FROM definitions WHERE kind = ? AND name = ?", [kind, definition.name]).fetchall()[0][0]
    if exists and not replace:
        raise DataError(f"a {kind} named {quoted(definition.name)} already exists; pass replace to change it")
    con.execute("DELETE FROM definitions WHERE kind = ? AND name = ?", [kind, definition.name])
    con.execute("INSERT INTO definitions VALUES (?, ?, ?, ?)",
                [kind, definition.name, json.dumps(definition.to_dict()),
                 datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)])


def _from_dict(kind: str, spec: dict):
    where = spec.get("where")
    if kind == "touchpoint":
        return Touchpoint(spec["name"], parse_condition(where, key="field"), spec["spend"], spec.get("volume"),
                          spec.get("description", ""))
    if kind == "conversion":
        return Conversion(spec["name"], spec["conversion"], spec.get("revenue"),
                          None if where is None else parse_condition(where, key="field"), spec.get("description", ""))
    containers = tuple((c["combine"], tuple(parse_condition(x, key="field") for x in c["conditions"]))
                       for c in spec["containers"])
    return Population(spec["name"], containers, spec.get("combine", "and"), spec.get("description", ""))
