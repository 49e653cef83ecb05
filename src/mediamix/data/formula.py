"""Formulas of derived metrics: names, numbers, + - * / and parentheses, parsed by hand (no eval).

    f = parse_formula("(revenue - spend) / spend")
    f.names                      -> ('revenue', 'spend')
    f.to_sql(lambda n: f'"{n}"') -> '(("revenue" - "spend") / NULLIF("spend", 0))'
    f.evaluate({"revenue": r, "spend": s})

Division by zero gives a missing value, never infinity: a ratio over a period with no spend is
undefined, not huge.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mediamix.errors import DataError

MAX_LENGTH = 500
MAX_DEPTH = 40
_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/()])|(?P<other>\S))"
)


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Negate:
    operand: object


@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Formula:
    text: str
    tree: object

    @property
    def names(self) -> tuple[str, ...]:
        found: list[str] = []
        _walk_names(self.tree, found)
        return tuple(dict.fromkeys(found))

    def to_sql(self, resolve: Callable[[str], str]) -> str:
        """SQL for the formula, each name replaced by resolve(name); x / 0 is NULL."""
        return _sql(self.tree, resolve)

    def evaluate(self, values: Mapping[str, object]):
        """The formula over Series or numbers; x / 0 is NaN."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return _evaluate(self.tree, values)


def parse_formula(text: str) -> Formula:
    if not isinstance(text, str) or not text.strip():
        raise DataError("a formula is empty; write one such as 'spend / clicks'")
    if len(text) > MAX_LENGTH:
        raise DataError(f"the formula is {len(text)} characters long; keep it under {MAX_LENGTH}")
    parser = _Parser(text)
    tree = parser.expression(0)
    if parser.peek() is not None:
        kind, value, position = parser.peek()
        what = "a closing parenthesis without its opening one" if value == ")" else f"{value!r}"
        raise DataError(_at(text, position, f"unexpected {what}; put an operator (+ - * /) between terms"))
    return Formula(text.strip(), tree)


def _at(text: str, position: int, problem: str) -> str:
    return f"formula {text.strip()!r}, at character {position + 1}: {problem}"


class _Parser:
    """Recursive descent: expression = term (+|- term)*, term = factor (*|/ factor)*, factor = -factor | atom."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = self._tokens(text)
        self.position = 0

    @staticmethod
    def _tokens(text: str) -> list[tuple[str, str, int]]:
        tokens = []
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup
            if kind is None:
                continue
            value = match.group(kind)
            start = match.start(kind)
            if kind == "other":
                hint = " (powers are not supported: multiply instead)" if value == "^" else ""
                raise DataError(_at(text, start, f"{value!r} is not allowed; use names, numbers, + - * / "
                                                 f"and parentheses{hint}"))
            tokens.append((kind, value, start))
        return tokens

    def peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self):
        token = self.peek()
        self.position += 1
        return token

    def expression(self, depth: int):
        node = self.term(depth)
        while (token := self.peek()) is not None and token[1] in "+-" and token[0] == "op":
            self.take()
            node = Binary(token[1], node, self.term(depth))
        return node

    def term(self, depth: int):
        node = self.factor(depth)
        while (token := self.peek()) is not None and token[1] in "*/" and token[0] == "op":
            self.take()
            if (following := self.peek()) is not None and following[1] == "*" and token[1] == "*":
                raise DataError(_at(self.text, following[2], "'**' is not allowed (powers are not supported: "
                                                             "multiply instead)"))
            node = Binary(token[1], node, self.factor(depth))
        return node

    def factor(self, depth: int):
        if depth > MAX_DEPTH:
            raise DataError(f"formula {self.text.strip()!r} nests more than {MAX_DEPTH} levels; simplify it")
        token = self.take()
        if token is None:
            raise DataError(_at(self.text, len(self.text.rstrip()), "the formula ends where a name or number "
                                                                    "is expected"))
        kind, value, position = token
        if kind == "number":
            return Number(float(value))
        if kind == "name":
            if (following := self.peek()) is not None and following[1] == "(":
                raise DataError(_at(self.text, following[2], f"{value}(...) looks like a function call; "
                                                             "formulas have no functions"))
            return Name(value)
        if value == "-":
            return Negate(self.factor(depth + 1))
        if value == "+":
            return self.factor(depth + 1)
        if value == "(":
            inner = self.expression(depth + 1)
            closing = self.take()
            if closing is None or closing[1] != ")":
                where = closing[2] if closing else len(self.text.rstrip())
                raise DataError(_at(self.text, where, "a parenthesis is opened but not closed"))
            return inner
        raise DataError(_at(self.text, position, f"{value!r} where a name or number is expected"))


def _walk_names(node, found: list[str]) -> None:
    if isinstance(node, Name):
        found.append(node.name)
    elif isinstance(node, Negate):
        _walk_names(node.operand, found)
    elif isinstance(node, Binary):
        _walk_names(node.left, found)
        _walk_names(node.right, found)


def _sql(node, resolve) -> str:
    if isinstance(node, Number):
        return repr(node.value)
    if isinstance(node, Name):
        return resolve(node.name)
    if isinstance(node, Negate):
        return f"(-{_sql(node.operand, resolve)})"
    left, right = _sql(node.left, resolve), _sql(node.right, resolve)
    if node.op == "/":
        return f"({left} / NULLIF({right}, 0))"
    return f"({left} {node.op} {right})"


def _evaluate(node, values):
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Name):
        if node.name not in values:
            raise DataError(f"the formula needs {node.name!r}, which has no values here")
        return values[node.name]
    if isinstance(node, Negate):
        return -_evaluate(node.operand, values)
    left, right = _evaluate(node.left, values), _evaluate(node.right, values)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    if isinstance(right, pd.Series):
        right = right.where(right != 0)
    elif right == 0:
        right = np.nan
    return left / right
