"""Model names: what a valid one looks like, and helpful messages when one is wrong."""
from __future__ import annotations

import difflib
from collections.abc import Iterable

from mediamix.errors import NotFoundError, SpecError
from mediamix.registry.tables import RUN_FREQUENCIES

MAX_NAME_LENGTH = 200


def check_model_name(name: object) -> str:
    """Return `name` if it can name a model, else raise SpecError saying what is wrong."""
    if not isinstance(name, str) or not name.strip():
        raise SpecError(f"model name {name!r} is empty; give the model a name such as 'brand-mmm'")
    if name != name.strip():
        raise SpecError(f"model name {name!r} starts or ends with spaces; remove them")
    if len(name) > MAX_NAME_LENGTH:
        raise SpecError(
            f"model name '{name[:40]}...' is {len(name)} characters long; "
            f"use at most {MAX_NAME_LENGTH}"
        )
    # Names appear in paths, shells and URLs; separators and control characters break those.
    bad = sorted({c for c in name if c in "/\\" or not c.isprintable()})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise SpecError(f"model name {name!r} contains {shown}; use letters, digits, spaces, '-', '_' or '.'")
    return name


def check_run_frequency(value: object) -> str:
    text = str(value).strip().lower() if value is not None else ""
    if text in RUN_FREQUENCIES:
        return text
    allowed = ", ".join(f"'{f}'" for f in RUN_FREQUENCIES)
    raise SpecError(f"run_frequency {value!r} is not one of {allowed}; pick one of those")


def close_matches(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Names a user probably meant: same name in another case first, then similar spellings."""
    candidates = list(candidates)
    same_case = [c for c in candidates if c.lower() == name.lower() and c != name]
    lowered = {c.lower(): c for c in candidates}
    similar = [lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=limit, cutoff=0.6)]
    ordered: list[str] = []
    for c in same_case + similar:
        if c not in ordered and c != name:
            ordered.append(c)
    return ordered[:limit]


def model_not_found(name: str, candidates: Iterable[str]) -> NotFoundError:
    candidates = list(candidates)
    if not candidates:
        return NotFoundError(f"no model named '{name}': the registry has no models yet; create one first")
    matches = close_matches(name, candidates)
    if matches:
        shown = ", ".join(f"'{m}'" for m in matches)
        return NotFoundError(f"no model named '{name}'; did you mean {shown}? Run `mediamix models` to list them")
    return NotFoundError(f"no model named '{name}'; run `mediamix models` to see the models there are")
