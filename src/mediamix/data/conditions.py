"""Conditions over columns (in rules) or harmonized fields (in touchpoints and populations).

A leaf tests one column or field: equals (one value or any of a list), contains, starts_with,
ends_with, exists; optionally ignoring case. Leaves combine with any_of, all_of and not:

    {"column": "Campaign", "contains": "brand", "ignore_case": true}
    {"any_of": [{"field": "channel", "equals": ["search", "shopping"]}, {"not": {"field": "geo", "exists": true}}]}

Compiled to SQL with every value a quoted literal. A missing value reads as empty text, so every
condition is true or false (never unknown) and `not` always means the opposite.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mediamix.data.messages import one_of, quoted, show
from mediamix.data.sql import literal
from mediamix.errors import DataError

OPS = ("equals", "contains", "starts_with", "ends_with", "exists")
COMBINERS = ("any_of", "all_of", "not")


@dataclass(frozen=True)
class Leaf:
    subject: str
    op: str
    value: object = None  # text, a number, a tuple of those (equals any), or True/False for exists
    ignore_case: bool = False


@dataclass(frozen=True)
class AnyOf:
    parts: tuple


@dataclass(frozen=True)
class AllOf:
    parts: tuple


@dataclass(frozen=True)
class Not:
    part: object


Condition = Leaf | AnyOf | AllOf | Not


def parse_condition(raw, *, key: str = "column", where: str = "condition") -> Condition:
    """A condition from its dict form; `key` is 'column' (rules) or 'field' (definitions)."""
    if isinstance(raw, (Leaf, AnyOf, AllOf, Not)):
        return raw
    if not isinstance(raw, dict) or not raw:
        raise DataError(f"{where}: a condition is a mapping such as {{{key}: channel, equals: search}}, got {raw!r}")
    combiners = [k for k in raw if k in COMBINERS]
    if combiners:
        if len(raw) != 1:
            raise DataError(f"{where}: {quoted(combiners[0])} stands alone in its mapping; nest the other keys inside it")
        name = combiners[0]
        inner = raw[name]
        if name == "not":
            return Not(parse_condition(inner, key=key, where=where))
        if not isinstance(inner, (list, tuple)) or not inner:
            raise DataError(f"{where}: {quoted(name)} needs a non-empty list of conditions")
        parts = tuple(parse_condition(p, key=key, where=where) for p in inner)
        return AnyOf(parts) if name == "any_of" else AllOf(parts)
    return _leaf(raw, key, where)


def _leaf(raw: dict, key: str, where: str) -> Leaf:
    other = "field" if key == "column" else "column"
    if key not in raw:
        hint = f" (conditions here test {key}s, not {other}s)" if other in raw else ""
        raise DataError(f"{where}: a condition names the {key} it tests, e.g. {{{key}: channel, equals: search}}{hint}")
    subject = raw[key]
    if not isinstance(subject, str) or not subject:
        raise DataError(f"{where}: {key} must be a name, got {subject!r}")
    rest = {k: v for k, v in raw.items() if k not in (key, "ignore_case")}
    if "op" in rest:  # the long form {column, op, value}
        rest = {rest.pop("op"): rest.pop("value", True), **rest}
    ops = [k for k in rest if k in OPS]
    unknown = [k for k in rest if k not in OPS]
    if unknown:
        raise DataError(f"{where}: {quoted(unknown[0])} is not a test; tests are {one_of(OPS)} "
                        f"(combine with {one_of(COMBINERS)})")
    if len(ops) != 1:
        raise DataError(f"{where}: give exactly one test for {key} {quoted(subject)}, one of {one_of(OPS)}")
    op = ops[0]
    value = rest[op]
    ignore_case = raw.get("ignore_case", False)
    if not isinstance(ignore_case, bool):
        raise DataError(f"{where}: ignore_case is true or false, got {ignore_case!r}")
    if op == "exists":
        if not isinstance(value, bool):
            raise DataError(f"{where}: exists is true or false, got {show(value)}")
        return Leaf(subject, op, value, ignore_case)
    if op == "equals" and isinstance(value, (list, tuple)):
        if not value:
            raise DataError(f"{where}: equals needs at least one value")
        for v in value:
            _check_value(v, op, subject, where)
        return Leaf(subject, op, tuple(value), ignore_case)
    _check_value(value, op, subject, where)
    if op != "equals" and not isinstance(value, str):
        value = str(value)
    return Leaf(subject, op, value, ignore_case)


def _check_value(value, op: str, subject: str, where: str) -> None:
    if isinstance(value, bool) or value is None or not isinstance(value, (str, int, float)):
        raise DataError(f"{where}: {op} for {quoted(subject)} needs text or a number, got {show(value)}")


def to_dict(condition: Condition, *, key: str = "column") -> dict:
    if isinstance(condition, Leaf):
        out = {key: condition.subject, condition.op: list(condition.value) if isinstance(condition.value, tuple)
               else condition.value}
        if condition.ignore_case:
            out["ignore_case"] = True
        return out
    if isinstance(condition, Not):
        return {"not": to_dict(condition.part, key=key)}
    name = "any_of" if isinstance(condition, AnyOf) else "all_of"
    return {name: [to_dict(p, key=key) for p in condition.parts]}


def subjects(condition: Condition) -> tuple[str, ...]:
    """Every column or field the condition tests, in order of appearance."""
    if isinstance(condition, Leaf):
        return (condition.subject,)
    if isinstance(condition, Not):
        return subjects(condition.part)
    found: list[str] = []
    for part in condition.parts:
        found += subjects(part)
    return tuple(dict.fromkeys(found))


def to_sql(condition: Condition, resolve: Callable[[str], str], is_numeric: Callable[[str], bool] = lambda s: False) -> str:
    """SQL that is TRUE or FALSE for each row; resolve(subject) gives the column expression."""
    if isinstance(condition, Not):
        return f"(NOT {to_sql(condition.part, resolve, is_numeric)})"
    if isinstance(condition, (AnyOf, AllOf)):
        joiner = " OR " if isinstance(condition, AnyOf) else " AND "
        return "(" + joiner.join(to_sql(p, resolve, is_numeric) for p in condition.parts) + ")"
    column = resolve(condition.subject)
    text = f"coalesce(CAST({column} AS VARCHAR), '')"
    if condition.op == "exists":
        present = f"({column} IS NOT NULL AND trim(CAST({column} AS VARCHAR)) <> '')"
        return present if condition.value else f"(NOT {present})"
    if condition.ignore_case:
        text = f"lower({text})"
    if condition.op == "equals":
        values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
        tests = [_equals(column, text, v, condition.ignore_case, is_numeric(condition.subject)) for v in values]
        return "(" + " OR ".join(tests) + ")"
    value = condition.value.lower() if condition.ignore_case else condition.value
    function = {"contains": "contains", "starts_with": "starts_with", "ends_with": "ends_with"}[condition.op]
    return f"{function}({text}, {literal(value)})"


def _equals(column: str, text: str, value, ignore_case: bool, numeric_column: bool) -> str:
    number = _as_number(value)
    if numeric_column and number is not None:
        # a number column equals 101 whether the rule says 101 or '101' (and 101.0 never reads as text)
        return f"coalesce(TRY_CAST({column} AS DOUBLE) = {literal(number)}, FALSE)"
    value = str(value)
    return f"({text} = {literal(value.lower() if ignore_case else value)})"


def _as_number(value) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None
