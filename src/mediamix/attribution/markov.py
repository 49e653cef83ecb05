"""Markov-chain removal-effect attribution, computed exactly from the absorbing chain.

States are the last `order` channels of a path (shorter at a path's start), plus (start) and the
absorbing (conversion) and (null). With Q the transient-to-transient probabilities and r the
transient-to-conversion probabilities, absorption probabilities are x = (I - Q)^-1 r, found by
solving the linear system (never by powering the matrix). Removing a channel sends every
transition into a state that contains it to (null): the same system restricted to the other states.

Value attribution uses the same chain with r replaced by the value absorbed from each state per
visit, so a path table whose value is k x conversions gives exactly k x the conversion credits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from mediamix.attribution.paths import PathTable, as_path_table
from mediamix.errors import DataError

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
_DENSE_LIMIT = 300  # states; beyond this the sparse LU is faster and smaller


@dataclass(frozen=True, eq=False)
class AbsorbingChain:
    """Transient states with start distribution, transitions and absorption rates."""

    labels: tuple[str, ...]          # "a" or "a > b" (oldest first)
    contains: np.ndarray             # bool (channels, states): state mentions the channel
    start: np.ndarray                # probability of entering each state first
    q: sp.csr_matrix                 # state -> state probabilities
    to_conversion: np.ndarray
    to_null: np.ndarray
    value_rate: np.ndarray           # value absorbed per visit

    def absorption(self, keep: np.ndarray | None = None) -> tuple[float, float]:
        """P(conversion) and expected value per journey, using only the `keep` states."""
        if keep is None:
            keep = np.ones(len(self.labels), dtype=bool)
        if not keep.any():
            return 0.0, 0.0
        q = self.q[keep][:, keep]
        rhs = np.column_stack([self.to_conversion[keep], self.value_rate[keep]])
        x = _solve_identity_minus(q, rhs)
        p = self.start[keep] @ x
        return float(p[0]), float(p[1])

    def transition_matrix(self) -> pd.DataFrame:
        """Rows (start) and the states; columns the states, (conversion), (null)."""
        body = np.vstack([self.start, self.q.toarray()])
        frame = pd.DataFrame(body, index=[START, *self.labels], columns=list(self.labels))
        frame[CONVERSION] = np.r_[0.0, self.to_conversion]
        frame[NULL] = np.r_[0.0, self.to_null]
        return frame


@dataclass(frozen=True, eq=False)
class MarkovResult:
    attribution: pd.DataFrame        # channel, conversions, value, removal_effect, value_removal_effect
    p_conversion: float
    value_per_journey: float
    order: int
    chain: AbsorbingChain

    def transition_matrix(self) -> pd.DataFrame:
        return self.chain.transition_matrix()


def markov(data, order: int = 1, collapse_repeats: bool = False) -> MarkovResult:
    """Removal-effect attribution of conversions and value over a PathTable or Journeys.

    Paths with nulls are part of the chain; a path table without nulls gives P(conversion) = 1,
    which is why PathTable warns when the column is missing.
    """
    if int(order) != order or order < 1:
        raise DataError(f"Markov order must be a whole number >= 1, got {order}")
    paths = as_path_table(data)
    if collapse_repeats:
        paths = paths.collapse_repeats()
    weight = paths.conversions + paths.nulls
    paths = paths.select_paths((paths.lengths > 0) & (weight > 0))
    if paths.total_conversions <= 0:
        raise DataError("the path table has no conversions, so there is nothing to attribute; "
                        "check the conversions column")
    chain = build_chain(paths, int(order))
    p, v = chain.absorption()
    n = len(paths.channels)
    p_without, v_without = np.empty(n), np.empty(n)
    for c in range(n):
        p_without[c], v_without[c] = chain.absorption(~chain.contains[c])
    effect = np.clip(1.0 - p_without / p, 0.0, None)  # clip: solver round-off can give -1e-16
    credit = effect / effect.sum() * paths.total_conversions
    if paths.has_value and v > 0:
        value_effect = np.clip(1.0 - v_without / v, 0.0, None)
        value = value_effect / value_effect.sum() * paths.total_value
    else:
        value_effect = np.full(n, np.nan)
        value = np.zeros(n) if paths.has_value else np.full(n, np.nan)
    frame = pd.DataFrame({"channel": list(paths.channels), "conversions": credit, "value": value,
                          "removal_effect": effect, "value_removal_effect": value_effect})
    return MarkovResult(frame, p, v, int(order), chain)


def build_chain(paths: PathTable, order: int) -> AbsorbingChain:
    """Transition counts weighted by each path's journeys (conversions + nulls), then normalised."""
    keys, labels, contains = _states(paths, order)
    _, state = np.unique(keys, return_inverse=True)
    n_states = len(labels)
    row = paths.path_index()
    weight = (paths.conversions + paths.nulls)[row]
    first, last = paths.offsets[:-1], paths.offsets[1:] - 1
    moves = np.ones(len(state), dtype=bool)
    moves[last] = False
    counts = sp.coo_matrix((weight[moves], (state[moves], state[1:][moves[:-1]])),
                           shape=(n_states, n_states)).tocsr()
    counts.sum_duplicates()
    conv = np.bincount(state[last], paths.conversions, n_states)
    null = np.bincount(state[last], paths.nulls, n_states)
    value = np.bincount(state[last], paths.value, n_states)
    start = np.bincount(state[first], paths.conversions + paths.nulls, n_states)
    out = np.asarray(counts.sum(axis=1)).ravel() + conv + null  # every visit leaves once
    scale = sp.diags(1.0 / out)
    return AbsorbingChain(labels, contains, start / start.sum(), (scale @ counts).tocsr(),
                          conv / out, null / out, value / out)


def _states(paths: PathTable, order: int):
    """Integer key per touch: digit j (base channels+1) is the channel j steps back, 0 if none."""
    base = len(paths.channels) + 1
    if order * np.log2(base) >= 62:
        raise DataError(f"Markov order {order} with {base - 1} channels has too many possible states; "
                        "use a lower order or group channels")
    digits = paths.codes.astype(np.int64) + 1
    pos = paths.positions()
    keys = digits.copy()
    for j in range(1, order):
        back = np.zeros_like(digits)
        back[j:] = digits[:-j]
        keys += np.where(pos >= j, back, 0) * base ** j
    uniq = np.unique(keys)
    # Decode the unique keys: labels oldest -> newest, and which channels each state mentions.
    table = np.stack([(uniq // base ** j) % base for j in range(order)])  # (order, states)
    contains = np.zeros((base - 1, len(uniq)), dtype=bool)
    for j in range(order):
        has = table[j] > 0
        contains[table[j][has] - 1, np.flatnonzero(has)] = True
    names = np.asarray(paths.channels, dtype=object)
    labels = tuple(" > ".join(names[d - 1] for d in reversed(table[:, s]) if d > 0) for s in range(len(uniq)))
    return keys, labels, contains


def _solve_identity_minus(q: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
    n = q.shape[0]
    if n <= _DENSE_LIMIT:
        return np.linalg.solve(np.eye(n) - q.toarray(), rhs)
    lu = spla.splu((sp.identity(n, format="csc") - q).tocsc())
    return lu.solve(rhs)
