"""The named construction steps of :meth:`mixlogit.data.ChoiceData.from_arrays`.

Private to :mod:`mixlogit.data` (public names so that :mod:`mixlogit.data.long`
may use them). Each step takes the inputs in input order (:class:`Raw`) and
the canonical id codes (:class:`Ids`) and returns what the next one needs;
the policies they implement are described in :mod:`mixlogit.data.long`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..exceptions import (
    DataError,
    DroppedObservationsWarning,
    DuplicateRowsWarning,
    SpecificationError,
    WeightsWarning,
    warn,
)
from ._values import as_ids, as_matrix, as_vector, canonical_codes, refuse_infinite

#: the kinds of weights ``ChoiceData.from_arrays`` accepts
WEIGHTS_KINDS = ("frequency", "sampling")

__all__ = ["WEIGHTS_KINDS", "Raw", "Ids", "Layout", "read_inputs", "code_ids", "missing_policy",
           "availability_policy", "check_choice_values", "canonical_order",
           "sort_within_situations", "situation_layout", "warn_identical_rows",
           "membership_matrix", "decision_maker_weights"]


class Raw(NamedTuple):
    """The inputs as float arrays in input order, with their names."""

    y: np.ndarray
    X: np.ndarray
    V: np.ndarray
    Z: np.ndarray
    g: np.ndarray
    p: np.ndarray | None
    w: np.ndarray | None
    av: np.ndarray | None
    alt: np.ndarray | None
    xnames: list[str]
    vnames: list[str]
    znames: list[str]
    n: int


class Ids(NamedTuple):
    """Canonical codes (sorted ids) of situations, decision makers and alternatives."""

    sit: np.ndarray
    sit_labels: np.ndarray
    dm: np.ndarray
    dm_labels: np.ndarray
    alt: np.ndarray | None
    alt_labels: np.ndarray | None


class Layout(NamedTuple):
    """Offsets and labels of the sorted rows."""

    y_sorted: np.ndarray
    sit_start: np.ndarray
    sit_of_row: np.ndarray
    sit_labels: np.ndarray
    dm_start: np.ndarray
    dm_of_sit: np.ndarray
    dm_labels: np.ndarray
    dm_row_start: np.ndarray


def read_inputs(endog, exog, groups, panel, exog_invariant, exog_membership, weights,
                 availability, alternatives, exog_names, invariant_names, membership_names,
                 names) -> Raw:
    """Every argument as an array of the right shape, with finite or missing values."""
    y = as_vector(endog, names["endog"])
    n = y.shape[0]
    if n == 0:
        raise DataError(
            f"no rows: '{names['endog']}' is empty; the data need at least one choice situation "
            "with two or more alternatives")
    X, xnames = as_matrix(exog, "exog", n, exog_names, prefix="x")
    V, vnames = as_matrix(exog_invariant, "invariant", n, invariant_names, prefix="v")
    Z, znames = as_matrix(exog_membership, "membership", n, membership_names, prefix="z")
    g = as_ids(groups, names["groups"], n)
    p = as_ids(panel, names["panel"], n) if panel is not None else None
    w = as_vector(weights, names["weights"], n) if weights is not None else None
    av = as_vector(availability, names["availability"], n) if availability is not None else None
    alt = as_ids(alternatives, names["alternatives"], n) if alternatives is not None else None
    for arr, cols in ((X, xnames), (V, vnames), (Z, znames)):
        refuse_infinite(arr, cols)
    for vec, label in ((y, names["endog"]), (w, names["weights"]), (av, names["availability"])):
        if vec is not None:
            refuse_infinite(vec[:, None], [label])
    if av is not None:
        bad = ~np.isnan(av) & (av != 0) & (av != 1)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"'{names['availability']}' must be 1 (available) or 0 (unavailable), found "
                f"{av[r]:g} in row {r} ({int(bad.sum())} such row(s)); recode the column")
    return Raw(y, X, V, Z, g, p, w, av, alt, xnames, vnames, znames, n)




def code_ids(raw: Raw, names) -> Ids:
    sit, sit_labels = canonical_codes(raw.g)
    if raw.p is None:
        dm, dm_labels = sit, sit_labels
    else:
        dm, dm_labels = canonical_codes(raw.p)
        first_dm = np.full(len(sit_labels), -1)
        first_dm[sit] = dm
        if np.any(first_dm[sit] != dm):
            bad = np.unique(sit[first_dm[sit] != dm])
            raise DataError(
                f"choice situations {sit_labels[bad[:5]].tolist()} belong to more than one "
                f"decision maker: every row of a situation ('{names['groups']}') must carry the "
                f"same '{names['panel']}' id"
            )
    alt = alt_labels = None
    if raw.alt is not None:
        alt, alt_labels = canonical_codes(raw.alt)
        key = np.sort(sit.astype(np.int64) * len(alt_labels) + alt)
        dup = key[1:][key[1:] == key[:-1]]
        if dup.size:
            s, a = divmod(int(dup[0]), len(alt_labels))
            n_sits = len(np.unique(dup // len(alt_labels)))
            raise DataError(
                f"alternative {label(alt_labels[a])!r} appears {int((key == dup[0]).sum())} "
                f"times in choice situation {label(sit_labels[s])!r} ('{names['groups']}'; "
                f"{n_sits} situation(s) "
                f"list an alternative more than once): each alternative ('{names['alternatives']}')"
                " may appear once per situation; remove the duplicated rows")
    return Ids(sit, sit_labels, dm, dm_labels, alt, alt_labels)


def missing_policy(raw: Raw, ids: Ids) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Rows kept after dropping situations and decision makers with missing values."""
    row_missing = np.isnan(raw.y) | np.isnan(raw.X).any(axis=1) | np.isnan(raw.V).any(axis=1)
    if raw.av is not None:
        row_missing |= np.isnan(raw.av)
    sit_missing = np.zeros(len(ids.sit_labels), dtype=bool)
    sit_missing[ids.sit[row_missing]] = True
    dm_row_missing = np.isnan(raw.Z).any(axis=1)
    if raw.w is not None:
        dm_row_missing |= np.isnan(raw.w)
    dm_missing = np.zeros(len(ids.dm_labels), dtype=bool)
    dm_missing[ids.dm[dm_row_missing]] = True
    n_sit, n_dm = int(sit_missing.sum()), int(dm_missing.sum())
    keep = ~(sit_missing[ids.sit] | dm_missing[ids.dm])
    n_rows = int((~keep).sum())
    if n_sit or n_dm:
        parts = []
        if n_sit:
            parts.append(f"{n_sit} choice situation(s) with missing values in the choices, "
                         "attributes or availability")
        if n_dm:
            further = dm_missing[ids.dm] & ~sit_missing[ids.sit]
            parts.append(f"{n_dm} decision maker(s) with missing membership covariates or "
                         f"weights ({len(np.unique(ids.sit[further]))} further situation(s))")
        warn("dropped " + " and ".join(parts) + f"; {n_rows} of {raw.n} rows removed",
             DroppedObservationsWarning)
        if not keep.any():
            raise DataError("no choice situation is left after dropping missing values")
    return keep, (n_sit, n_dm, n_rows)


def availability_policy(raw: Raw, ids: Ids, keep: np.ndarray, names) -> tuple[np.ndarray, int]:
    if raw.av is None:
        return keep, 0
    unavailable = keep & (raw.av == 0)
    if np.any(unavailable & (raw.y == 1)):
        bad = np.unique(ids.sit[unavailable & (raw.y == 1)])
        raise DataError(
            f"{len(bad)} situation(s) choose an alternative marked unavailable in "
            f"'{names['availability']}' (first: {ids.sit_labels[bad[:5]].tolist()}); correct the "
            "availability or the choice"
        )
    return keep & ~unavailable, int(unavailable.sum())


def check_choice_values(yk: np.ndarray, names) -> None:
    if not np.isin(yk, (0.0, 1.0)).all():
        raise DataError(
            f"'{names['endog']}' must be 1 for the chosen alternative and 0 otherwise "
            f"(found values {np.unique(yk[~np.isin(yk, (0.0, 1.0))])[:5].tolist()}); recode it, "
            f"for example ({names['endog']} == chosen_code)"
        )


def label(value):
    """An id as a plain Python value (numpy scalars print as np.int64(...) otherwise)."""
    return value.item() if isinstance(value, np.generic) else value


def canonical_order(raw: Raw, ids: Ids, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kept rows ordered by decision maker id, situation id, then alternative or content.

    Returns the order and, per sorted row, the key that ordered the rows within
    their situation (the alternative code, or a fixed linear combination of the
    attributes computed elementwise, so a row gets the same key wherever it
    stands; exact ties of distinct rows fall back to a column-by-column sort).
    """
    idx = np.flatnonzero(keep)
    sit_rank = np.empty(len(ids.sit_labels), dtype=np.int64)
    dm_of_sit = np.zeros(len(ids.sit_labels), dtype=np.int64)
    dm_of_sit[ids.sit] = ids.dm
    sit_rank[np.lexsort((np.arange(len(sit_rank)), dm_of_sit))] = np.arange(len(sit_rank))
    s = sit_rank[ids.sit[idx]]
    if ids.alt is not None:
        key = ids.alt[idx].astype(float)
        ties = None
    else:
        key_all = np.zeros(raw.n)
        columns = [raw.X[:, j] for j in range(raw.X.shape[1])] + \
                  [raw.V[:, j] for j in range(raw.V.shape[1])]
        weights = np.random.default_rng(20261201).uniform(0.5, 1.5, len(columns))
        for c, column in zip(weights, columns):
            key_all += c * column
        key, ties = key_all[idx], raw.y[idx]
    order = sort_within_situations(s, key, ties)
    if ids.alt is None:
        ks, ss = key[order], s[order]
        same = np.flatnonzero((ss[1:] == ss[:-1]) & (ks[1:] == ks[:-1]))
        if same.size:
            W = np.hstack([raw.X[idx[order[same]]], raw.V[idx[order[same]]]])
            W1 = np.hstack([raw.X[idx[order[same + 1]]], raw.V[idx[order[same + 1]]]])
            if (W != W1).any():  # distinct rows with equal keys: sort exactly, column by column
                Wk = np.hstack([raw.X[idx], raw.V[idx]])
                order = np.lexsort((ties,) + tuple(Wk.T[::-1]) + (s,))
    return idx[order], key[order]


def sort_within_situations(s: np.ndarray, key: np.ndarray, ties: np.ndarray | None) -> np.ndarray:
    """The order sorting by ``s``, then ``key``, then ``ties``: ``np.lexsort((ties, key, s))``.

    Sorting by the situation first (cheap on input grouped by situation) and
    then each block of equal-size situations as a small 2-D array is several
    times faster than one lexsort over all rows.
    """
    by_situation = np.argsort(s, kind="stable")
    ss = s[by_situation]
    start = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]])
    sizes = np.diff(np.append(start, len(ss)))
    k = key[by_situation]
    t = None if ties is None else ties[by_situation]
    perm = np.arange(len(ss))
    for m in np.unique(sizes):
        if m == 1:
            continue
        pos = start[sizes == m][:, None] + np.arange(m)
        keys = (k[pos],) if t is None else (t[pos], k[pos])
        sub = np.lexsort(keys, axis=-1)
        perm[pos] = np.take_along_axis(pos, sub, axis=1)
    return by_situation[perm]


def situation_layout(raw: Raw, ids: Ids, order: np.ndarray, names) -> Layout:
    s_sorted = ids.sit[order]
    new_sit = np.r_[True, s_sorted[1:] != s_sorted[:-1]]
    sit_start = np.flatnonzero(new_sit)
    sit_of_row = np.cumsum(new_sit) - 1
    sit_labels = ids.sit_labels[s_sorted[sit_start]]
    n_alts = np.diff(np.append(sit_start, len(order)))
    y_sorted = raw.y[order] == 1
    n_chosen = np.add.reduceat(y_sorted.astype(np.int64), sit_start)
    if np.any(n_chosen != 1):
        none, many = sit_labels[n_chosen == 0], sit_labels[n_chosen > 1]
        msg = []
        if len(none):
            msg.append(f"{len(none)} situation(s) with no chosen alternative "
                       f"(first: {none[:5].tolist()})")
        if len(many):
            msg.append(f"{len(many)} situation(s) with more than one chosen alternative "
                       f"(first: {many[:5].tolist()})")
        raise DataError(
            "every choice situation needs exactly one chosen alternative in "
            f"'{names['endog']}': " + "; ".join(msg)
            + f". Check the coding of '{names['endog']}' and the situation id '{names['groups']}'"
        )
    if np.any(n_alts < 2):
        single = sit_labels[n_alts < 2]
        extra = (f" after removing unavailable alternatives ('{names['availability']}')"
                 if raw.av is not None else "")
        raise DataError(
            f"{len(single)} situation(s) have a single alternative{extra} (first: "
            f"{single[:5].tolist()}); they carry no information about preferences: "
            "remove them from the data"
        )
    d_sorted = ids.dm[order][sit_start]
    new_dm = np.r_[True, d_sorted[1:] != d_sorted[:-1]]
    dm_start = np.flatnonzero(new_dm)
    return Layout(y_sorted, sit_start, sit_of_row, sit_labels, dm_start,
                   np.cumsum(new_dm) - 1, ids.dm_labels[d_sorted[dm_start]], sit_start[dm_start])


def warn_identical_rows(X: np.ndarray, V: np.ndarray, sit_start, sit_labels,
                         key: np.ndarray) -> None:
    """Warn when a situation looks like it holds copies of rows.

    Rows are sorted by ``key`` (a function of the attributes) within
    situations, so identical rows are adjacent with equal keys. Distinct
    alternatives may share the modelled attributes (a model with a few of the
    attributes, or an indicator that is zero on every unchosen alternative), so
    a situation is flagged only when its identical rows come with more rows than
    the most common situation size: a copied row adds an alternative.
    """
    if X.shape[0] < 2 or X.shape[1] + V.shape[1] == 0:
        return
    n_alts = np.diff(np.append(sit_start, X.shape[0]))
    sit_of_row = np.repeat(np.arange(len(sit_start)), n_alts)
    pairs = np.flatnonzero((sit_of_row[1:] == sit_of_row[:-1]) & (key[1:] == key[:-1]))
    if not pairs.size:
        return
    equal = (X[pairs] == X[pairs + 1]).all(axis=1) & (V[pairs] == V[pairs + 1]).all(axis=1)
    pairs = pairs[equal]
    if not pairs.size:
        return
    copies = np.bincount(sit_of_row[pairs], minlength=len(sit_start))
    typical = int(np.bincount(n_alts).argmax())
    flagged = np.flatnonzero((copies > 0) & (n_alts > typical))
    if flagged.size:
        warn(
            f"{flagged.size} choice situation(s) hold copies of rows (identical attributes; "
            f"first: situation {label(sit_labels[flagged[0]])!r}, {int(n_alts[flagged[0]])} "
            f"rows where most situations have {typical}): a copy counts as one more alternative "
            "and changes the estimates. Remove the copies; if these are distinct alternatives "
            "that share the modelled attributes, pass the alternative id (alternatives=), which "
            "checks duplicates exactly and silences this warning", DuplicateRowsWarning)


def membership_matrix(raw: Raw, order: np.ndarray, dm_row_start: np.ndarray, names) -> np.ndarray:
    Z = np.ones((len(dm_row_start), 1 + raw.Z.shape[1]))
    if raw.Z.shape[1]:
        Zs = raw.Z[order]
        varies = (np.maximum.reduceat(Zs, dm_row_start, axis=0)
                  != np.minimum.reduceat(Zs, dm_row_start, axis=0))
        if varies.any():
            cols = [raw.znames[j] for j in np.flatnonzero(varies.any(axis=0))]
            raise SpecificationError(
                f"membership covariates {cols} vary within decision makers "
                f"('{names['panel']}'); class membership is a trait of the decision maker, "
                "so use covariates constant within each decision maker (for example their "
                "first or mean value)"
            )
        Z[:, 1:] = Zs[dm_row_start]
    return Z


def decision_maker_weights(raw: Raw, order: np.ndarray, dm_row_start: np.ndarray,
                            weights_kind: str | None, names) -> tuple[np.ndarray, str]:
    """One weight per decision maker, and its kind (sampling weights rescaled to mean 1)."""
    label = names["weights"]
    if raw.w is None:
        return np.ones(len(dm_row_start)), "frequency"
    ws = raw.w[order]
    if np.any(np.maximum.reduceat(ws, dm_row_start) != np.minimum.reduceat(ws, dm_row_start)):
        raise DataError(
            f"'{label}' must be constant within each decision maker: they weight decision "
            "makers, not rows")
    wd = ws[dm_row_start]
    if np.any(wd < 0):
        raise DataError(f"'{label}' must be non-negative (found {wd.min():g})")
    if not np.any(wd > 0):
        raise DataError(f"'{label}' are all zero")
    whole = bool(np.all(wd == np.round(wd)))
    kind = weights_kind or ("frequency" if whole else "sampling")
    if weights_kind is None and not whole:
        warn(f"'{label}' are not all whole numbers, so they are read as sampling weights "
             "(weights_kind='sampling'): rescaled to mean 1 over the decision makers, the N of "
             "BIC is the number of decision makers, and robust standard errors are the default; "
             "pass weights_kind='frequency' if a decision maker of weight w stands for w "
             "identical ones, or weights_kind='sampling' to silence this warning", WeightsWarning)
    elif kind == "frequency" and not whole:
        warn(f"'{label}' are frequency weights (weights_kind='frequency') but not all whole "
             f"numbers (for example {wd[wd != np.round(wd)][0]:g}): the N of BIC is their sum "
             f"({wd.sum():g}); use weights_kind='sampling' for survey weights", WeightsWarning)
    if kind == "sampling":
        wd = wd * (np.count_nonzero(wd) / wd.sum())
    return wd, kind
