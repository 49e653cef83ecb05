"""Checks that the columns a model uses can be modeled: all problems are reported together."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from mediamix.data.messages import column_list, count, iso, join_words, number, quoted, suggestion
from mediamix.data.summary import SummaryData
from mediamix.errors import DataError

SCALE_GAP_ORDERS = 3  # a factor 1000x larger or smaller than typical spend gets a warning


class DataProblems(DataError):
    """Several data problems at once; `problems` holds each message."""

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems with the model's data:\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(message)


def check_model_columns(
    data: SummaryData,
    *,
    target: str,
    spend_columns: Sequence[str],
    volume_columns: Sequence[str] = (),
    factor_columns: Sequence[str] = (),
    start=None,
    end=None,
) -> list[str]:
    """Check the target, spend, volume and factor columns within the window [start, end].

    Returns warnings; raises DataProblems (a DataError) naming every problem found.
    """
    roles = {
        "target": [target],
        "spend": _names(spend_columns),
        "volume": _names(volume_columns),
        "factor": _names(factor_columns),
    }
    problems = _name_problems(data, roles)
    try:
        window = _window(data, start, end)
    except DataError as exc:  # without rows nothing else can be checked; report it with the rest
        raise DataProblems(problems + [str(exc)]) from None
    available = set(data.metric_columns)
    warnings: list[str] = []
    checks = _ColumnChecks(window, problems, warnings)
    if target in available:
        checks.target(target)
    for role in ("spend", "volume"):
        for column in dict.fromkeys(roles[role]):
            if column in available:
                checks.media(column, role)
    factors = [c for c in dict.fromkeys(roles["factor"]) if c in available]
    for column in factors:
        checks.missing(column, "factor")
    checks.constant_factors(factors)
    checks.factor_scale(factors, [c for c in roles["spend"] if c in available])
    if problems:
        raise DataProblems(problems)
    return warnings


def _names(columns) -> list[str]:
    # a lone string is one column, not a sequence of one-letter columns
    return [columns] if isinstance(columns, str) else list(columns)


def _name_problems(data: SummaryData, roles: dict[str, list[str]]) -> list[str]:
    problems = []
    available = data.metric_columns
    if not roles["spend"]:
        problems.append("no spend columns given; a model needs at least one touchpoint with spend")
    seen: dict[str, str] = {}
    for role, columns in roles.items():
        for column in columns:
            if column in seen:
                twice = f"listed twice as {role}" if seen[column] == role else f"used as both {seen[column]} and {role}"
                problems.append(f"column {quoted(column)} is {twice}; give each column one role")
                continue
            seen[column] = role
            if column not in available:
                problems.append(
                    f"{role} column {quoted(column)} is not in the data.{suggestion(column, available)} "
                    f"Available columns: {column_list(available)}"
                )
    return problems


def _window(data: SummaryData, start, end) -> SummaryData:
    bounds = []
    for label, value in (("start", start), ("end", end)):
        if value is None:
            bounds.append(None)
            continue
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError):
            stamp = pd.NaT
        if pd.isna(stamp):
            raise DataError(f"window {label} {quoted(value)} is not a date; write it as YYYY-MM-DD")
        bounds.append(stamp)
    window = data.between(*bounds)
    if window.frame.empty:
        first, last = data.dates[0], data.dates[-1]
        raise DataError(
            f"no rows between {iso(bounds[0]) if bounds[0] is not None else 'the start'} and "
            f"{iso(bounds[1]) if bounds[1] is not None else 'the end'}; the data covers "
            f"{iso(first)} to {iso(last)}: move the window"
        )
    return window


class _ColumnChecks:
    """Per-column rules over one window, appending to shared problem and warning lists."""

    def __init__(self, data: SummaryData, problems: list[str], warnings: list[str]):
        self.data = data
        self.frame = data.frame
        self.problems = problems
        self.warnings = warnings
        self.periods = len(data.dates)
        self.span = f"between {iso(data.dates[0])} and {iso(data.dates[-1])}"

    def _where(self, mask: np.ndarray) -> list[str]:
        """Labels of the rows in mask: '2022-03-07', or '2022-03-07 (south)' in a geo panel."""
        rows = self.frame[mask]
        labels = [iso(d) for d in rows["date"]]
        if self.data.geo_column_present:
            labels = [f"{label} ({geo})" for label, geo in zip(labels, rows["geo"])]
        return labels

    def _numeric(self, column: str, role: str) -> bool:
        if column in self.data.numeric_columns:
            return True
        example = self.frame[column].dropna()
        shown = f" (e.g. {quoted(example.iloc[0])})" if len(example) else ""
        self.problems.append(
            f"{role} column {quoted(column)} holds text, not numbers{shown}; choose a numeric column or "
            "fix the export"
        )
        return False

    def missing(self, column: str, role: str) -> bool:
        """Report NaN (or infinite) values; True when the column has none."""
        values = self.frame[column]
        infinite = np.zeros(len(values), dtype=bool)
        if column in self.data.numeric_columns:
            infinite = np.isinf(values.to_numpy(dtype=float))
        bad = values.isna().to_numpy() | infinite
        if not bad.any():
            return True
        kind = "missing or infinite" if infinite.any() else "missing"
        labels = self._where(bad)
        shown = ", ".join(labels[:5]) + (f" and {len(labels) - 5} more" if len(labels) > 5 else "")
        self.problems.append(
            f"{role} column {quoted(column)} has {count(len(labels), kind + ' value')} {self.span}: {shown}; fill "
            "them in the data (0 where nothing was spent) or move the training window"
        )
        return False

    def target(self, column: str) -> None:
        if not self._numeric(column, "target") or not self.missing(column, "target"):
            return
        values = self.frame[column]
        if (values == 0).all():
            self.problems.append(
                f"target {quoted(column)} is zero in all {self.periods} periods; choose the column that "
                "holds the conversions or revenue"
            )
        elif values.nunique() == 1:
            self.problems.append(
                f"target {quoted(column)} is {number(values.iloc[0])} in all {self.periods} periods; a "
                "constant outcome cannot be modeled: choose another conversion column"
            )

    def media(self, column: str, role: str) -> None:
        if not self._numeric(column, role):
            return
        self.missing(column, role)
        values = self.frame[column]
        negative = (values < 0).to_numpy()
        if negative.any():
            labels = self._where(negative)
            pairs = [f"{label} {number(v)}" for label, v in zip(labels, values[negative])]
            shown = ", ".join(pairs[:10]) + (f" and {len(pairs) - 10} more" if len(pairs) > 10 else "")
            self.problems.append(
                f"{column} has {count(len(pairs), 'negative value')}: {shown}; fix the export or model it as a "
                "signed factor"
            )
        present = values.dropna()
        if len(present) and (present == 0).all():
            if role == "spend":
                self.problems.append(
                    f"channel {quoted(column)} has zero spend in all {self.periods} periods; drop it or "
                    "supply data"
                )
            else:
                self.problems.append(
                    f"volume column {quoted(column)} is zero in all {self.periods} periods; drop it or "
                    "supply data"
                )
        elif role == "spend" and self.data.geo_column_present:
            totals = self.frame.groupby("geo", sort=True)[column].apply(lambda v: (v.fillna(0) == 0).all())
            for geo in totals[totals].index:
                self.warnings.append(
                    f"channel {quoted(column)} has zero spend in every period of geo {quoted(geo)}; its "
                    "effect there cannot be estimated from this data"
                )

    def constant_factors(self, factors: list[str]) -> None:
        keys = ["geo"] if self.data.geo_column_present else None
        constant = []
        for column in factors:
            values = self.frame[column]
            if values.isna().all():
                continue  # already reported as missing
            if keys:
                levels = self.frame.groupby(keys)[column].nunique(dropna=True)
                if (levels <= 1).all():
                    constant.append(column)
            elif values.nunique(dropna=True) <= 1:
                constant.append(column)
        if len(constant) == 1:
            self.problems.append(
                f"factor {quoted(constant[0])} does not vary over time; remove it from the model"
            )
        elif constant:
            names = join_words([quoted(c) for c in constant])
            self.problems.append(f"factors {names} do not vary over time; remove them from the model")

    def factor_scale(self, factors: list[str], spends: list[str]) -> None:
        spend_scale = _typical([self.frame[c] for c in spends if c in self.data.numeric_columns])
        if spend_scale is None:
            return
        far = []
        for column in factors:
            if column not in self.data.numeric_columns:
                continue
            values = self.frame[column].dropna()
            if values.isin([0.0, 1.0]).all():
                continue  # an indicator: its scale is fixed by meaning, not by units
            scale = _typical([values])
            if scale is None:
                continue
            orders = math.log10(scale / spend_scale)
            if abs(orders) >= SCALE_GAP_ORDERS:
                direction = "above" if orders > 0 else "below"
                far.append(
                    f"{quoted(column)} (typical {number(scale)}, about {abs(round(orders))} orders of "
                    f"magnitude {direction})"
                )
        if far:
            noun, verb = ("factor", "differs") if len(far) == 1 else ("factors", "differ")
            self.warnings.append(
                f"{noun} {join_words(far)} {verb} in scale from the spend columns (typical "
                f"{number(spend_scale)}); mediamix standardizes factors internally, so their raw units "
                "do not affect the fit"
            )


def _typical(columns: list[pd.Series]) -> float | None:
    """Median over columns of each column's mean absolute non-zero value."""
    scales = []
    for values in columns:
        magnitude = values.dropna().abs()
        magnitude = magnitude[(magnitude > 0) & np.isfinite(magnitude)]
        if len(magnitude):
            scales.append(float(magnitude.mean()))
    return float(np.median(scales)) if scales else None
