"""The named construction steps of :meth:`mixlogit.data.ChoiceData.from_arrays`.

Private to :mod:`mixlogit.data` (public names so that :mod:`mixlogit.data.long`
may use them). Each step takes the inputs in input order (:class:`Raw`) and
the canonical id codes (:class:`Ids`) and returns what the next one needs;
the policies they implement are described in :mod:`mixlogit.data.long`.
"""
from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np

from ..exceptions import (
    DataError,
    DroppedObservationsWarning,
    DuplicateRowsWarning,
    SpecificationError,
    WeightsWarning,
    warn,
)
from ._values import (
    CHUNK_ELEMENTS,
    as_ids,
    as_matrix,
    as_vector,
    canonical_codes,
    nan_rows,
    refuse_infinite,
    row_chunks,
    take_rows,
)

#: the kinds of weights ``ChoiceData.from_arrays`` accepts
WEIGHTS_KINDS = ("frequency", "sampling")

__all__ = ["WEIGHTS_KINDS", "Raw", "Ids", "Layout", "read_inputs", "code_ids", "missing_policy",
           "availability_policy", "check_choice_values", "canonical_order", "lexsort_order",
           "content_key", "sort_within_situations", "situation_layout",
           "warn_identical_rows", "membership_matrix", "decision_maker_weights"]


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
    dm_of_sit: np.ndarray


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
    """Canonical codes of the ids; refuses split situations and repeated alternatives."""
    sit, sit_labels = canonical_codes(raw.g)
    if raw.p is None:
        dm, dm_labels = sit, sit_labels
        first_dm = np.arange(len(sit_labels))
    else:
        dm, dm_labels = canonical_codes(raw.p)
        first_dm = _decision_maker_of_situation(sit, dm, len(sit_labels))
        if first_dm is None:   # rows not grouped by situation, or an error to name
            first_dm = np.full(len(sit_labels), -1)
            first_dm[sit] = dm
            if np.any(first_dm[sit] != dm):
                bad = np.unique(sit[first_dm[sit] != dm])
                raise DataError(
                    f"choice situations {sit_labels[bad[:5]].tolist()} belong to more than one "
                    f"decision maker: every row of a situation ('{names['groups']}') must carry "
                    f"the same '{names['panel']}' id"
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
    return Ids(sit, sit_labels, dm, dm_labels, alt, alt_labels, first_dm)


def _decision_maker_of_situation(sit: np.ndarray, dm: np.ndarray, n_sit: int):
    """The decision maker code of each situation, or ``None`` if that needs the slow check.

    Rows grouped by situation (codes non-decreasing) belong to one decision
    maker per situation when the decision maker changes only where the
    situation does; ``None`` when the rows are not grouped or the check fails
    (the caller then finds and names the offending situations).
    """
    same_sit = sit[1:] == sit[:-1]
    if np.any(sit[1:] < sit[:-1]) or np.any(same_sit & (dm[1:] != dm[:-1])):
        return None
    first = np.flatnonzero(np.concatenate([[True], ~same_sit]))
    if len(first) != n_sit:
        return None
    return dm[first]


def missing_policy(raw: Raw, ids: Ids) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Rows kept after dropping situations and decision makers with missing values."""
    row_missing = np.isnan(raw.y) | nan_rows(raw.X) | nan_rows(raw.V)
    if raw.av is not None:
        row_missing |= np.isnan(raw.av)
    dm_row_missing = nan_rows(raw.Z)
    if raw.w is not None:
        dm_row_missing |= np.isnan(raw.w)
    if not row_missing.any() and not dm_row_missing.any():
        return np.ones(raw.n, dtype=bool), (0, 0, 0)   # nothing to drop: no gathers by id
    sit_missing = np.zeros(len(ids.sit_labels), dtype=bool)
    sit_missing[ids.sit[row_missing]] = True
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
    """Refuse choices other than 0 and 1 (``yk``: the choices of the kept rows)."""
    if not ((yk == 0.0) | (yk == 1.0)).all():
        raise DataError(
            f"'{names['endog']}' must be 1 for the chosen alternative and 0 otherwise "
            f"(found values {np.unique(yk[~np.isin(yk, (0.0, 1.0))])[:5].tolist()}); recode it, "
            f"for example ({names['endog']} == chosen_code)"
        )


def label(value):
    """An id as a plain Python value (numpy scalars print as np.int64(...) otherwise)."""
    return value.item() if isinstance(value, np.generic) else value


def canonical_order(raw: Raw, ids: Ids, keep: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kept rows ordered by decision maker id, situation id, then alternative or content.

    Within a situation rows are ordered by the alternative code, or by a key,
    a fixed linear combination of the attributes computed elementwise (so a
    row gets the same key wherever it stands), then the choice; if distinct
    rows of a situation share a key, all rows are instead sorted column by
    column. The result is that of :func:`lexsort_order`, computed without
    sorting all rows: input grouped by situation needs no global sort, and
    the rows of situations of equal size are sorted as small 2-D arrays.

    Returns
    -------
    order : ndarray of int, shape (n_kept,)
        Input positions of the sorted rows.
    pairs : ndarray of int
        Positions ``p`` of sorted rows in one situation with the same key as
        row ``p + 1`` (where identical rows may be; empty with alternatives).
    s_sorted : ndarray of int, shape (n_kept,)
        The situation rank of each sorted row (non-decreasing; consecutive
        integers from 0 unless situations were dropped).
    """
    idx, s, key, ties = _sort_keys(raw, ids, keep)
    order, pairs, s_sorted = sort_within_situations(s, key, ties)
    if ids.alt is not None:
        return (order if idx is None else idx[order]), np.empty(0, dtype=np.intp), s_sorted
    if pairs.size:
        rows = order if idx is None else idx[order]
        if _rows_differ(raw, rows[pairs], rows[pairs + 1]):
            order = _column_order(raw, idx, s, ties)
            pairs = _equal_key_pairs(key[order], s_sorted)
    return (order if idx is None else idx[order]), pairs, s_sorted


def lexsort_order(raw: Raw, ids: Ids, keep: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The result of :func:`canonical_order` by plain lexsorts of all rows (the reference).

    Slow (a lexsort of every row by situation, key and choice), kept as the
    definition the fast path must reproduce exactly.
    """
    idx, s, key, ties = _sort_keys(raw, ids, keep)
    order = np.lexsort((key, s)) if ties is None else np.lexsort((ties, key, s))
    if ids.alt is not None:
        return (order if idx is None else idx[order]), np.empty(0, dtype=np.intp), s[order]
    same = _equal_key_pairs(key[order], s[order])
    rows = order if idx is None else idx[order]
    if same.size and _rows_differ(raw, rows[same], rows[same + 1]):
        order = _column_order(raw, idx, s, ties)
        same = _equal_key_pairs(key[order], s[order])
    return (order if idx is None else idx[order]), same, s[order]


def _equal_key_pairs(key_sorted: np.ndarray, s_sorted: np.ndarray) -> np.ndarray:
    """Positions ``p`` where sorted rows ``p`` and ``p + 1`` share situation and key."""
    return np.flatnonzero((s_sorted[1:] == s_sorted[:-1]) & (key_sorted[1:] == key_sorted[:-1]))


def _sort_keys(raw: Raw, ids: Ids, keep: np.ndarray):
    """The kept rows (``None``: all of them) and their situation rank, key and tie-breaker."""
    idx = None if keep.all() else np.flatnonzero(keep)
    sit = ids.sit if idx is None else ids.sit[idx]
    s = _situation_rank(ids)[sit] if _needs_rank(ids) else sit
    if ids.alt is not None:
        key = (ids.alt if idx is None else ids.alt[idx]).astype(float)
        return idx, s, key, None
    key = content_key(raw)
    if idx is None:
        return idx, s, key, raw.y
    return idx, s, key[idx], raw.y[idx]


def _needs_rank(ids: Ids) -> bool:
    """Whether situation codes are not already in (decision maker, situation) order."""
    d = ids.dm_of_sit
    return ids.dm is not ids.sit and bool(np.any(d[1:] < d[:-1]))


def _situation_rank(ids: Ids) -> np.ndarray:
    """Rank of each situation code when ordered by decision maker code, then situation code."""
    n_sit = len(ids.sit_labels)
    rank = np.empty(n_sit, dtype=np.int64)
    rank[np.lexsort((np.arange(n_sit), ids.dm_of_sit))] = np.arange(n_sit)
    return rank


def content_key(raw: Raw) -> np.ndarray:
    """Per input row, a fixed linear combination of the attributes (X, then V columns).

    Each row's key is accumulated column by column from zero in the same
    elementwise operations wherever the row stands, so equal rows get equal
    keys bit for bit; the chunks keep the products in cache.
    """
    columns = [(raw.X, j) for j in range(raw.X.shape[1])] + \
              [(raw.V, j) for j in range(raw.V.shape[1])]
    weights = np.random.default_rng(20261201).uniform(0.5, 1.5, len(columns))
    key = np.zeros(raw.n)
    for sl in row_chunks(raw.n, max(len(columns), 1)):
        acc = key[sl]
        term = np.empty(acc.shape[0])
        for c, (arr, j) in zip(weights, columns):
            np.multiply(arr[sl, j], c, out=term)
            acc += term
    return key


def _rows_differ(raw: Raw, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether any input row ``a[i]`` differs from ``b[i]`` in an attribute (X or V)."""
    return bool((raw.X[a] != raw.X[b]).any() or (raw.V[a] != raw.V[b]).any())


def _column_order(raw: Raw, idx: np.ndarray | None, s: np.ndarray, ties: np.ndarray):
    """Kept rows by situation, then column by column (X, V), then choice: the exact fallback."""
    rows = slice(None) if idx is None else idx
    Wk = np.hstack([raw.X[rows], raw.V[rows]])
    return np.lexsort((ties,) + tuple(Wk.T[::-1]) + (s,))


def sort_within_situations(s: np.ndarray, key: np.ndarray, ties: np.ndarray | None
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The order ``np.lexsort((ties, key, s))`` (``ties`` may be ``None``), and more.

    Rows are grouped by situation (no sort when they already are), then the
    rows of all situations of one size are sorted together as a 2-D array by
    ``key`` alone (consecutive equal-size situations chunk by chunk); only
    situations where the sorted keys are not strictly increasing (exact ties,
    which are rare) are sorted again by key and ``ties``.

    Returns
    -------
    order : ndarray of intp, shape (n,)
    pairs : ndarray of intp
        Positions ``p`` in the sorted rows where rows ``p`` and ``p + 1`` are in
        one situation and have equal keys, in increasing order.
    s_sorted : ndarray
        ``s[order]`` (``s`` itself when the rows are grouped already).
    """
    grouped = s.shape[0] < 2 or not np.any(s[1:] < s[:-1])
    by_situation = None if grouped else np.argsort(s, kind="stable")
    ss = s if by_situation is None else s[by_situation]
    k = key if by_situation is None else key[by_situation]
    t = ties if ties is None or by_situation is None else ties[by_situation]
    start = np.flatnonzero(np.concatenate([[True], ss[1:] != ss[:-1]]))
    sizes = np.diff(np.append(start, len(ss)))
    if sizes.size and np.all(sizes == sizes[0]):   # equal sizes: the blocks are a 2-D view
        perm, pairs = _sort_equal_blocks(k, t, int(sizes[0]))
    else:
        perm, pairs = _sort_blocks_by_size(k, t, start, sizes)
    if by_situation is None:
        return perm, pairs, ss
    return by_situation[perm], pairs, ss


def _sort_equal_blocks(k: np.ndarray, t: np.ndarray | None, m: int):
    """:func:`sort_within_situations` for consecutive situations of ``m`` rows each.

    Chunks of situations keep the sorting temporaries small and in cache.
    """
    perm = np.arange(len(k))
    if m == 1:
        return perm, np.empty(0, dtype=np.intp)
    kb, pb = k.reshape(-1, m), perm.reshape(-1, m)
    tb = None if t is None else t.reshape(-1, m)
    step = max(1, CHUNK_ELEMENTS // m)
    found = []
    for a in range(0, kb.shape[0], step):
        b = min(a + step, kb.shape[0])
        sub, pairs = _sort_block(kb[a:b], None if tb is None else tb[a:b])
        if sub is not None:
            sub += pb[a:b, :1]
            pb[a:b] = sub
        if pairs.size:
            found.append(pairs + a * m)
    return perm, (np.concatenate(found) if found else np.empty(0, dtype=np.intp))


def _sort_blocks_by_size(k: np.ndarray, t: np.ndarray | None, start: np.ndarray,
                         sizes: np.ndarray):
    """:func:`sort_within_situations` for grouped situations of unequal sizes."""
    perm = np.arange(len(k))
    found = []
    for m in np.unique(sizes):
        if m == 1:
            continue
        pos = start[sizes == m][:, None] + np.arange(m)
        sub, pairs = _sort_block(k[pos], None if t is None else t[pos])
        if pairs.size:
            found.append(pos.reshape(-1)[pairs])
        if sub is not None:
            perm[pos] = np.take_along_axis(pos, sub, axis=1)
    pairs = np.sort(np.concatenate(found)) if found else np.empty(0, dtype=np.intp)
    return perm, pairs


def _sort_block(kb: np.ndarray, tb: np.ndarray | None):
    """Sort each row of ``kb`` by key, then ``tb``, then position (a stable sort).

    Returns the within-row order (``None`` if every row is already strictly
    increasing) and the flat positions ``p`` (in the flattened sorted block)
    whose key equals the next one in the same row.
    """
    m = kb.shape[1]
    none = np.empty(0, dtype=np.intp)
    if np.all(kb[:, 1:] > kb[:, :-1]):   # already in strict key order: nothing to sort
        return None, none
    sub = np.argsort(kb, axis=1, kind="stable")
    sk = np.take_along_axis(kb, sub, axis=1)
    # not strictly increasing: equal keys (or NaN keys, which sort last), where the
    # tie-breaker decides; such situations are sorted again with it, exactly
    tied = np.flatnonzero(~(sk[:, 1:] > sk[:, :-1]).all(axis=1))
    if not tied.size:
        return sub, none
    if tb is not None:
        sub[tied] = np.lexsort((tb[tied], kb[tied]), axis=-1)
        sk[tied] = np.take_along_axis(kb[tied], sub[tied], axis=1)
    r, c = np.nonzero(sk[tied, 1:] == sk[tied, :-1])
    return sub, tied[r] * m + c


def situation_layout(raw: Raw, ids: Ids, order: np.ndarray, s_sorted: np.ndarray,
                     names) -> Layout:
    """Offsets and labels of situations and decision makers in the sorted rows.

    ``s_sorted`` is the situation rank of each sorted row (from
    :func:`canonical_order`); when no situation was dropped it already is the
    situation number of each row, and is used as it is.
    """
    new_sit = np.empty(len(order), dtype=bool)
    new_sit[0] = True
    np.not_equal(s_sorted[1:], s_sorted[:-1], out=new_sit[1:])
    sit_start = np.flatnonzero(new_sit)
    if s_sorted[0] == 0 and s_sorted[-1] == len(sit_start) - 1:   # ranks 0, 1, ... in order
        sit_of_row = np.asarray(s_sorted, dtype=np.int64)
    else:
        sit_of_row = np.cumsum(new_sit, dtype=np.int64)
        sit_of_row -= 1
    del new_sit
    sit_labels = ids.sit_labels[ids.sit[order[sit_start]]]
    n_alts = np.diff(np.append(sit_start, len(order)))
    y_sorted = np.take(raw.y, order) == 1
    # chosen rows per situation, counted from the (one per situation) chosen rows
    n_chosen = np.bincount(sit_of_row[y_sorted], minlength=len(sit_start))
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
    d_sorted = ids.dm[order[sit_start]]
    new_dm = np.r_[True, d_sorted[1:] != d_sorted[:-1]]
    dm_start = np.flatnonzero(new_dm)
    return Layout(y_sorted, sit_start, sit_of_row, sit_labels, dm_start,
                   np.cumsum(new_dm) - 1, ids.dm_labels[d_sorted[dm_start]], sit_start[dm_start])


class Rows(Protocol):
    """Row access to attributes: an array, or :class:`~mixlogit.data.long.SortedRows`."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    def __getitem__(self, key) -> np.ndarray: ...


def warn_identical_rows(X: Rows, V: Rows, sit_start, sit_labels,
                        pairs: np.ndarray, sit_of_row: np.ndarray) -> None:
    """Warn when a situation looks like it holds copies of rows.

    Rows are sorted by a key (a function of the attributes) within
    situations, so identical rows are adjacent with equal keys: ``pairs`` are
    the positions ``p`` where rows ``p`` and ``p + 1`` of one situation share
    the key (from :func:`canonical_order`). Distinct alternatives may share the
    modelled attributes (a model with a few of the attributes, or an indicator
    that is zero on every unchosen alternative), so a situation is flagged only
    when its identical rows come with more rows than the most common situation
    size: a copied row adds an alternative.
    """
    if X.shape[0] < 2 or X.shape[1] + V.shape[1] == 0:
        return
    n_alts = np.diff(np.append(sit_start, X.shape[0]))
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
        Zs = take_rows(raw.Z, order)
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
