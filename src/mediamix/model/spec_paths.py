"""One field of a model spec by its path, as `mediamix model edit NAME --set PATH=VALUE` names it:
`lookback_weeks`, `sampler.draws`, `touchpoints[3].saturation` (an entry by position) or
`touchpoints[search].adstock.lag` (by name). `ModelSpec.edited` applies paths to the spec's
dict form and validates the result as a new spec."""
from __future__ import annotations

import difflib
import re
from typing import Any

from mediamix.data.messages import show
from mediamix.errors import SpecError

# ---- one field by its path (`mediamix model edit NAME --set PATH=VALUE`) -----------------------
# Lists whose entries a path may pick by name: the field that names an entry, and how to say it.
ENTRY_NAMES = {"touchpoints": ("name", "touchpoint named"), "priors": ("touchpoint", "prior for touchpoint"),
               "factors": ("column", "factor on column")}
# The spec file's conversion: {column, kind, currency} is stored as three top-level fields.
_CONVERSION_PARTS = {"column": "conversion", "kind": "conversion_kind", "currency": "currency"}
PATH_EXAMPLES = "lookback_weeks, sampler.draws, touchpoints[3].saturation or touchpoints[search].adstock.lag"


def parse_path(path: str) -> list[tuple[str, Any]]:
    """'touchpoints[search].adstock.lag' -> [("key", "touchpoints"), ("name", "search"),
    ("key", "adstock"), ("key", "lag")]; a selector of digits is a position: ("index", 3)."""
    text = str(path).strip()

    def bad(problem: str) -> SpecError:
        return SpecError(f"{text or show(path)}: {problem}; a field path reads like {PATH_EXAMPLES}")

    steps: list[tuple[str, Any]] = []
    pos, want_key = 0, True
    if not text:
        raise bad("no field name")
    while pos < len(text):
        ch = text[pos]
        if ch == ".":
            if want_key:
                raise bad(f"a '.' with no field name before it (character {pos + 1})")
            want_key, pos = True, pos + 1
        elif ch == "[":
            close = text.find("]", pos)
            if want_key:
                raise bad(f"'[' (character {pos + 1}) must follow the name of a list, e.g. touchpoints[0]")
            if close < 0 or "[" in text[pos + 1:close]:
                raise bad(f"the '[' at character {pos + 1} is not closed by ']'")
            inner = text[pos + 1:close].strip()
            if not inner:
                raise bad("an empty [ ]: give a position or a name, e.g. touchpoints[0] or touchpoints[tv]")
            if re.fullmatch(r"[+-]?\d+", inner):
                steps.append(("index", int(inner)))
            elif len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                steps.append(("name", inner[1:-1]))     # touchpoints['3']: a name made of digits
            else:
                steps.append(("name", inner))
            pos = close + 1
        elif ch == "]":
            raise bad(f"a ']' (character {pos + 1}) without its '['")
        else:
            if not want_key:
                raise bad(f"write a '.' before the field at character {pos + 1}, e.g. touchpoints[0].saturation")
            end = pos
            while end < len(text) and text[end] not in ".[]":
                end += 1
            key = text[pos:end].strip()
            if not key:
                raise bad("an empty field name")
            steps.append(("key", key))
            want_key, pos = False, end
    if want_key:
        raise bad("it ends with '.'")
    return steps


def as_lists(value):
    """to_dict leaves some lists as tuples (factors): lists everywhere, so a path can set an entry."""
    if isinstance(value, dict):
        return {k: as_lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_lists(v) for v in value]
    return value


def _entries(n: int) -> str:
    return "no entries" if n == 0 else "1 entry (0)" if n == 1 else f"{n} entries (0-{n - 1})"


def _pick(items: list, kind: str, sel, list_name: str, shown: str, path: str) -> int:
    """The position of the entry a selector picks, or a SpecError saying what there is."""
    if kind == "index":
        if not 0 <= sel < len(items):
            raise SpecError(f"{path}: {shown} has {_entries(len(items))}, so there is no {shown}[{sel}]; to add an "
                            f"entry, set the whole list ({shown}=[...])")
        return sel
    if not items:
        raise SpecError(f"{path}: {shown} has no entries; to add one, set the whole list ({shown}=[...])")
    if list_name not in ENTRY_NAMES:
        raise SpecError(f"{path}: entries of {shown} are picked by position, not by name; it has "
                        f"{_entries(len(items))}, e.g. {shown}[0]")
    field, phrase = ENTRY_NAMES[list_name]
    names = [str(e.get(field)) if isinstance(e, dict) else str(e) for e in items]
    if sel in names:
        return names.index(sel)
    close = difflib.get_close_matches(sel, names, n=1)
    hint = f" Did you mean {shown}[{close[0]}]?" if close else ""
    raise SpecError(f"{path}: no {phrase} '{sel}'; {list_name} are {', '.join(names)} (or pick one by "
                    f"position: {_entries(len(items))}).{hint}")


def set_path(raw: dict, path: str, value: Any) -> None:
    """Set one field of a spec dict (ModelSpec.to_dict form) in place, by its path (parse_path).
    A missing field on the way is created, so the spec's validation then names an unknown one."""
    steps = parse_path(path)
    path = str(path).strip()
    if (len(steps) == 2 and steps[0] == ("key", "conversion") and steps[1][0] == "key"
            and steps[1][1] in _CONVERSION_PARTS and not isinstance(raw.get("conversion"), dict)):
        steps = [("key", _CONVERSION_PARTS[steps[1][1]])]            # conversion.kind=count
    if steps == [("key", "conversion")] and isinstance(value, dict) and isinstance(raw.get("conversion"), str):
        # conversion={column: sales, kind: count}: its kind and currency replace the stored ones
        # (from_dict only fills them in when absent); the column stays unless given.
        value = {"column": raw["conversion"], **value}
        for part, field in _CONVERSION_PARTS.items():
            if part != "column" and part in value:
                raw[field] = value[part]
    node: Any = raw
    shown, list_name = "", ""
    for n, (kind, sel) in enumerate(steps):
        last = n == len(steps) - 1
        if kind == "key":
            if isinstance(node, list):
                raise SpecError(f"{path}: {shown} is a list ({_entries(len(node))}); pick an entry first, e.g. "
                                f"{shown}[0].{sel}")
            if not isinstance(node, dict):
                raise SpecError(f"{path}: {shown} is {show(node)}, a single value without fields; set it "
                                f"whole ({shown}=VALUE)")
            here = f"{shown}.{sel}" if shown else sel
            if last:
                node[sel] = value
                return
            child = node.get(sel)
            if child is None and steps[n + 1][0] != "key":
                raise SpecError(f"{path}: {here} is not set, so [{steps[n + 1][1]}] picks nothing; set it whole "
                                f"({here}=[...])")
            if child is None or (here == "training" and child == "auto"):   # training.start on an auto window
                child = node[sel] = {}
            node, shown, list_name = child, here, here    # list_name: only a top-level list has named entries
        else:
            if not isinstance(node, list):
                what = "a mapping of fields" if isinstance(node, dict) else f"{show(node)}, a single value"
                write = f"; write {shown}.{sel}" if isinstance(node, dict) and kind == "name" else ""
                raise SpecError(f"{path}: {shown} is {what}, not a list, so [{sel}] picks nothing{write}")
            i = _pick(node, kind, sel, list_name, shown, path)
            here = f"{shown}[{sel}]"
            if last:
                node[i] = value
                return
            node, shown, list_name = node[i], here, ""
