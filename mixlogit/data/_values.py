"""Value checks of long-format input: numbers, ids, identification.

Private to :mod:`mixlogit.data` (the functions are public names so that
:mod:`mixlogit.data.long` may use them). Every refusal is a
:class:`~mixlogit.exceptions.DataError` or
:class:`~mixlogit.exceptions.SpecificationError` naming the column and, for a
bad value, its first row (0-based position in the input).
"""
from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataError, SpecificationError

#: values that are times, not numbers (pandas' Timestamp and Timedelta derive from these)
_TIME_TYPES = (datetime.date, datetime.time, datetime.timedelta, np.datetime64, np.timedelta64)

#: elements of a rows x columns array that one step of a chunked pass touches (a few MB,
#: so that the temporaries of a pass stay in cache and never grow with the rows)
CHUNK_ELEMENTS = 1 << 18

__all__ = ["describe_non_numeric", "to_float", "as_vector", "as_matrix", "as_ids",
           "refuse_infinite", "canonical_codes", "check_within_situation_variation",
           "WithinStatistics", "within_situation_statistics", "judge_within_situation",
           "CHUNK_ELEMENTS", "row_chunks", "nan_rows", "sorted_integer_codes", "take_rows"]


def describe_non_numeric(values, name: str) -> str | None:
    """Say which value of a column is not a number, or ``None`` if all are.

    Missing values (``None``, NaN) and numbers written as text (``"1.5"``)
    count as numeric; anything else is text. The formula interface calls it on
    object columns that are mostly numbers, to report a stray text value
    instead of turning the column into one dummy per distinct value.

    Parameters
    ----------
    values : array_like or Series, shape (n,)
        One column.
    name : str
        The column's name, as the message shows it.

    Returns
    -------
    str or None
        ``"column x1 holds text ('a' in row 17; 1 of 300 values is not a
        number)"`` (rows are 0-based positions), or ``None``.

    Examples
    --------
    >>> from mixlogit.data.long import describe_non_numeric
    >>> describe_non_numeric([1.0, "2", None, "a", 3], "x1")
    "column x1 holds text ('a' in row 3; 1 of 5 values is not a number)"
    >>> describe_non_numeric([1, 2.5, float("nan")], "x1") is None
    True
    """
    arr = np.asarray(values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else values,
                     dtype=object).reshape(-1)
    series = pd.Series(arr, dtype=object)
    missing = series.isna().to_numpy()
    numeric = pd.to_numeric(series, errors="coerce").notna().to_numpy()
    bad = ~missing & ~numeric
    if not bad.any():
        return None
    r = int(np.flatnonzero(bad)[0])
    count = int(bad.sum())
    verb = "is not a number" if count == 1 else "are not numbers"
    return f"column {name} holds text ({arr[r]!r} in row {r}; {count} of {len(arr)} values {verb})"


def to_float(arr: np.ndarray, cols: Sequence[str], *, attributes: bool = True) -> np.ndarray:
    """A 2-D array as floats; text, complex or date values are errors naming the column.

    ``attributes=False`` (choices, weights, availability) leaves out the hint
    that a categorical attribute belongs in ``C(...)``.
    """
    kind = arr.dtype.kind
    if kind in "biuf":
        return np.asarray(arr, dtype=float)   # float64 input is used as it is, not copied
    if kind == "c":
        bad = [cols[int(j)] for j in np.flatnonzero((arr.imag != 0).any(axis=0))] or list(cols)
        raise DataError(
            f"column(s) {', '.join(bad)} hold complex numbers; pass real numbers (the real part, "
            ".real, if the imaginary part is zero)")
    if kind in "mM":
        raise DataError(f"column(s) {', '.join(cols)} hold dates or durations; convert them to "
                        "numbers first (for example days since a reference date)")
    out = np.empty(arr.shape, dtype=float)
    for j, name in enumerate(cols):
        column = arr[:, j]
        if any(isinstance(v, complex) for v in column):
            raise DataError(f"column {name} holds complex numbers; pass real numbers")
        if any(isinstance(v, _TIME_TYPES) for v in column):
            raise DataError(f"column(s) {name} hold dates or durations; convert them to "
                            "numbers first (for example days since a reference date)")
        message = describe_non_numeric(column, name)
        if message is not None:
            hint = f", or, for a categorical column, use C({name}) in a formula" if attributes \
                else ""
            raise DataError(
                f"{message}; the data must be numeric: fix or remove these values (NaN marks a "
                f"missing value){hint}")
        out[:, j] = pd.to_numeric(pd.Series(column, dtype=object), errors="coerce").to_numpy(float)
    return out


def as_vector(values, label: str, n: int | None = None) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.DataFrame, pd.Index)):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"'{label}' must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise DataError(f"'{label}' has {arr.shape[0]} rows but endog has {n}")
    return to_float(arr[:, None], [label], attributes=False)[:, 0]


def as_matrix(values, label: str, n: int, names, prefix: str) -> tuple[np.ndarray, list[str]]:
    if values is None:
        return np.empty((n, 0)), []
    if isinstance(values, pd.Series):
        values = values.to_frame()
    if isinstance(values, pd.DataFrame):
        if names is None:
            names = [str(c) for c in values.columns]
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n:
        raise DataError(f"{label} must have shape ({n}, columns), got {arr.shape}")
    if names is None:
        names = [f"{prefix}{j + 1}" for j in range(arr.shape[1])]
    names = [str(s) for s in names]
    if len(names) != arr.shape[1]:
        raise SpecificationError(f"{label}: {len(names)} names for {arr.shape[1]} columns")
    if len(set(names)) != len(names):
        raise SpecificationError(f"{label}: column names must be unique, got {names}")
    return to_float(arr, names), names


def as_ids(values, label: str, n: int) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise DataError(f"'{label}' must be one id per row ({n}), got shape {arr.shape}")
    missing = np.asarray(pd.isna(arr))
    if missing.any():
        raise DataError(
            f"'{label}' has {int(missing.sum())} missing id(s) (first in row "
            f"{int(np.flatnonzero(missing)[0])}); every row needs an id")
    return arr


@dataclass(frozen=True)
class WithinStatistics:
    """Additive statistics of the within-situation identification check.

    Sums over rows of the attributes and their squares, and the Gram matrix of
    the attributes centred within their situation; adding the statistics of
    disjoint sets of whole situations gives those of their union, so partitioned
    data check identification once, globally (:func:`judge_within_situation`).
    """

    n: int
    total: np.ndarray
    squares: np.ndarray
    gram: np.ndarray

    def __add__(self, other: WithinStatistics) -> WithinStatistics:
        return WithinStatistics(self.n + other.n, self.total + other.total,
                                self.squares + other.squares, self.gram + other.gram)


def within_situation_statistics(X, V, sit_start) -> WithinStatistics:
    """The additive statistics of :func:`check_within_situation_variation` for some situations.

    The rows are visited in chunks of whole situations, so the centred
    attributes never exist as one rows x columns temporary.

    Parameters
    ----------
    X, V : ndarray, shape (n, L) and (n, Lv)
        Attributes of the rows, grouped by situation (``Lv`` may be 0).
    sit_start : ndarray of int, shape (S,)
        Offset of each situation's first row.

    Returns
    -------
    WithinStatistics

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.data._values import within_situation_statistics
    >>> s = within_situation_statistics(np.array([[1.0], [3.0], [2.0], [2.0]]),
    ...                                 np.empty((4, 0)), np.array([0, 2]))
    >>> s.n, float(s.gram[0, 0])       # centred within (1, 3) and (2, 2): 1 + 1 + 0 + 0
    (4, 2.0)
    """
    n, width = X.shape[0], X.shape[1] + V.shape[1]
    total, squares, gram = np.zeros(width), np.zeros(width), np.zeros((width, width))
    sit_start = np.asarray(sit_start, dtype=np.int64)
    for a, b in _situation_chunks(sit_start, n, width):
        r0 = int(sit_start[a])
        r1 = int(sit_start[b]) if b < len(sit_start) else n
        W = np.hstack([X[r0:r1], V[r0:r1]]) if V.shape[1] else np.asarray(X[r0:r1])
        total += np.ones(W.shape[0]) @ W   # a matrix-vector product: faster than sum(axis=0)
        squares += np.einsum("ij,ij->j", W, W)
        Wc = _centred(W, sit_start[a:b] - r0)
        gram += Wc.T @ Wc
    return WithinStatistics(int(n), total, squares, gram)


def _situation_chunks(sit_start: np.ndarray, n: int, width: int):
    """Ranges ``[a, b)`` of situations, together about :data:`CHUNK_ELEMENTS` values each."""
    if n == 0 or len(sit_start) == 0:
        return []
    rows = max(1, CHUNK_ELEMENTS // max(width, 1))
    cuts = np.searchsorted(sit_start, np.arange(rows, n, rows), side="left")
    bounds = np.unique(np.concatenate([[0], cuts, [len(sit_start)]]))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def _centred(W: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Rows of ``W`` minus the mean of their situation (situations start at ``start``)."""
    counts = np.diff(np.append(start, W.shape[0]))
    if np.all(counts == counts[0]):   # equal choice sets: a 3-D view, no gathers
        m = int(counts[0])
        blocks = W.reshape(len(counts), m, W.shape[1])
        mean = blocks[:, 0].copy()
        for j in range(1, m):   # m small slices add faster than a reduction over axis 1
            mean += blocks[:, j]
        mean /= m
        return (blocks - mean[:, None, :]).reshape(W.shape)
    means = np.add.reduceat(W, start, axis=0) / counts[:, None]
    return W - np.repeat(means, counts, axis=0)


def judge_within_situation(stats: WithinStatistics, names: Sequence[str]) -> None:
    """Raise if a column or a combination of columns is constant within every situation."""
    names = list(names)
    if stats.gram.shape[0] == 0:
        raise SpecificationError("the model has no attributes: give at least one column in exog")
    mean = stats.total / max(stats.n, 1)
    # spread of each column (a threshold only: the one-pass formula is precise enough)
    scale = np.sqrt(np.maximum(stats.squares - stats.n * mean ** 2, 0.0))
    within = np.sqrt(np.maximum(np.diag(stats.gram), 0.0))
    constant = within <= 1e-10 * np.maximum(scale, 1.0)
    if constant.any():
        cols = [names[j] for j in np.flatnonzero(constant)]
        raise SpecificationError(
            f"{cols} do not vary within any choice situation, so their coefficients are not "
            "identified (a term common to all alternatives cancels in the logit); remove them "
            "from the utility, give them alternative-specific coefficients with the formula "
            f"term alt_specific({cols[0]}, alt, ref=...) (alt: the alternative column, ref: "
            "its reference level), or use them as membership covariates"
        )
    gram = stats.gram / np.outer(within, within)
    eigval, eigvec = np.linalg.eigh(gram)
    tol = 1e-10 * max(eigval[-1], 1.0) * gram.shape[0]
    if eigval[0] <= tol:
        null = eigvec[:, eigval <= tol]
        involved = np.abs(null).max(axis=1) > 1e-6
        cols = [names[j] for j in np.flatnonzero(involved)]
        raise SpecificationError(
            f"a combination of {cols} is constant within every choice situation (the "
            "within-situation attribute matrix has rank "
            f"{int((eigval > tol).sum())} < {gram.shape[0]}), so the coefficients are not "
            "identified; drop one of these columns, or use a reference alternative for "
            "alternative-specific constants"
        )


def check_within_situation_variation(X, V, xnames, vnames, sit_start, sit_of_row) -> None:
    """Raise if a column or a combination of columns is constant within every situation."""
    judge_within_situation(within_situation_statistics(X, V, sit_start),
                           list(xnames) + list(vnames))


def row_chunks(n: int, width: int):
    """Slices of ``range(n)`` covering about :data:`CHUNK_ELEMENTS` values of ``width`` columns."""
    rows = max(1, CHUNK_ELEMENTS // max(width, 1))
    return [slice(r, min(r + rows, n)) for r in range(0, n, rows)]


def nan_rows(arr: np.ndarray) -> np.ndarray:
    """Which rows of a 2-D array hold a NaN, computed chunk by chunk (no rows x columns mask)."""
    out = np.zeros(arr.shape[0], dtype=bool)
    if arr.shape[1] == 0:
        return out
    for sl in row_chunks(arr.shape[0], arr.shape[1]):
        chunk = np.isnan(arr[sl])
        if chunk.any():   # the flat test is cheap; rows are found only where there is a NaN
            chunk.any(axis=1, out=out[sl])
    return out


def refuse_infinite(arr: np.ndarray, cols: Sequence[str]) -> None:
    """Raise naming the first column holding an infinite value, and its first such row."""
    if arr.size == 0:
        return
    if not any(np.isinf(arr[sl]).any() for sl in row_chunks(arr.shape[0], arr.shape[1])):
        return
    bad = np.isinf(arr)   # only on the way to the error: the full mask names column and row
    j = int(np.flatnonzero(bad.any(axis=0))[0])
    r = int(np.flatnonzero(bad[:, j])[0])
    raise DataError(
        f"column {cols[j]} holds an infinite value ({arr[r, j]} in row {r}; "
        f"{int(bad[:, j].sum())} in this column); replace it with a finite number, or with "
        "NaN to drop it as a missing value")


def canonical_codes(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..m-1 numbering the distinct ids in sorted order (row order does not matter)."""
    grouped = sorted_integer_codes(ids)
    if grouped is not None:
        return grouped
    try:
        codes, labels = pd.factorize(ids, sort=True)
        return codes, np.asarray(labels)
    except TypeError:  # ids of types that do not compare: sort by (type name, text)
        codes, labels = pd.factorize(ids, sort=False)
        labels = np.asarray(labels, dtype=object)
        keys = [(type(v).__name__, str(v)) for v in labels]
        perm = np.array(sorted(range(len(labels)), key=keys.__getitem__), dtype=np.int64)
        rank = np.empty_like(perm)
        rank[perm] = np.arange(len(perm))
        return rank[codes], labels[perm]


def sorted_integer_codes(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The codes and labels of ``pandas.factorize(ids, sort=True)`` for sorted integer ids.

    Rows usually arrive grouped by id; for integer (or boolean) ids in
    non-decreasing order the codes count the changes of id, which is an order
    of magnitude cheaper than hashing. Returns ``None`` for any other input.
    Labels keep the dtype of ``ids`` and codes are ``intp``, as pandas gives them.
    """
    if ids.ndim != 1 or ids.dtype.kind not in "biu" or ids.shape[0] == 0:
        return None
    if not np.all(ids[1:] >= ids[:-1]):
        return None
    change = ids[1:] != ids[:-1]
    codes = np.empty(ids.shape[0], dtype=np.intp)
    codes[0] = 0
    np.cumsum(change, out=codes[1:])
    return codes, ids[np.concatenate([[True], change])]


def take_rows(source: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``source[positions]`` (rows of a 2-D array) as a new C-contiguous array.

    A column-major source (what patsy and pandas often return) is gathered
    along its contiguous axis, column by column: gathering its rows directly
    costs a cache miss per value (about 50x slower at 4e6 rows).

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.data._values import take_rows
    >>> a = np.asfortranarray(np.arange(6.0).reshape(3, 2))
    >>> take_rows(a, np.array([2, 0])).tolist()
    [[4.0, 5.0], [0.0, 1.0]]
    """
    if source.flags.f_contiguous and not source.flags.c_contiguous:
        return np.ascontiguousarray(np.take(source.T, positions, axis=1).T)
    return np.ascontiguousarray(np.take(source, positions, axis=0))
