"""The fast long-format build gives the rows of a brute-force lexsort, whatever the input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mixlogit.data import ChoiceData
from mixlogit.data import _build as build
from mixlogit.data import _values as values
from mixlogit.data._build import sort_within_situations
from mixlogit.data._values import (
    canonical_codes,
    nan_rows,
    refuse_infinite,
    within_situation_statistics,
)
from mixlogit.exceptions import DataError, DroppedObservationsWarning


# ------------------------------------------------------------------ brute-force oracle
def oracle_order(y, X, g, p=None, alt=None) -> np.ndarray:
    """Input rows in canonical order, by np.lexsort and a Python check of exact key ties.

    Decision makers by id, their situations by id, then the alternative id, or
    the documented content key (attributes times fixed weights drawn with seed
    20261201, accumulated column by column), then the choice, then input
    position; if distinct rows of one situation share a key, every situation
    is sorted column by column instead. Every row is kept (no missing values).
    """
    _, sit = np.unique(g, return_inverse=True)
    dm = sit if p is None else np.unique(p, return_inverse=True)[1]
    dm_of_sit = np.zeros(sit.max() + 1, dtype=np.int64)
    dm_of_sit[sit] = dm
    rank = np.empty_like(dm_of_sit)
    rank[np.lexsort((np.arange(len(rank)), dm_of_sit))] = np.arange(len(rank))
    s = rank[sit]
    if alt is not None:
        return np.lexsort((np.unique(alt, return_inverse=True)[1], s))
    c = np.random.default_rng(20261201).uniform(0.5, 1.5, X.shape[1])
    key = np.zeros(len(y))
    for j in range(X.shape[1]):
        key += c[j] * X[:, j]
    rows_by_key: dict[tuple, set] = {}
    for r in range(len(y)):
        rows_by_key.setdefault((int(s[r]), float(key[r])), set()).add(tuple(X[r].tolist()))
    if any(len(v) > 1 for v in rows_by_key.values()):
        return np.lexsort((y,) + tuple(X.T[::-1]) + (s,))
    return np.lexsort((y, key, s))


def random_panel(rng, n_dm=30, sizes=(2, 3, 4), levels=None, L=3):
    """Rows of a panel, grouped; attributes from ``levels`` values (many ties) or normal."""
    y, X, g, p = [], [], [], []
    sid = 0
    for d in range(n_dm):
        for _ in range(rng.integers(1, 4)):
            m = int(rng.choice(sizes))
            x = rng.integers(0, levels, (m, L)).astype(float) if levels else rng.normal(size=(m, L))
            yy = np.zeros(m)
            yy[rng.integers(m)] = 1.0
            y.append(yy)
            X.append(x)
            g += [1000 - 7 * sid] * m      # situation ids not in the order of decision makers
            p += [d * 13 % 31] * m
            sid += 1
    return np.concatenate(y), np.vstack(X), np.array(g), np.array(p)


def shuffle(rng, *arrays):
    perm = rng.permutation(len(arrays[0]))
    return [a[perm] for a in arrays]


# ------------------------------------------------------------------ the order
@pytest.mark.filterwarnings("ignore::mixlogit.exceptions.DuplicateRowsWarning")
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("levels", [None, 2, 3])
@pytest.mark.parametrize("sizes", [(4,), (2, 3, 5)])
def test_row_order_is_the_brute_force_lexsort(seed, levels, sizes):
    rng = np.random.default_rng(seed)
    y, X, g, p = random_panel(rng, sizes=sizes, levels=levels)
    for arrays in ((y, X, g, p), shuffle(rng, y, X, g, p)):
        yy, XX, gg, pp = arrays
        d = ChoiceData.from_arrays(yy, XX, groups=gg, panel=pp, check_identification=False)
        expected = oracle_order(yy, XX, gg, pp)
        np.testing.assert_array_equal(d.row_index, expected)
        assert d.row_index.dtype == np.int64
        np.testing.assert_array_equal(d.exog, XX[expected])
        check_layout(d, gg[expected])


def check_layout(d, g_sorted):
    """Situation numbers, offsets and ids of the sorted rows, by brute force."""
    new = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
    np.testing.assert_array_equal(d.situation_of_row, np.cumsum(new) - 1)
    assert d.situation_of_row.dtype == np.int64
    np.testing.assert_array_equal(d.situation_start, np.flatnonzero(new))
    np.testing.assert_array_equal(d.situation_ids, g_sorted[new])


def test_distinct_rows_with_equal_keys_use_the_column_order():
    """Keys that overflow to inf tie for distinct rows: the column-by-column sort decides."""
    X = np.array([[1e308, 1e308], [1.5e308, 1e308], [0.0, 1.0],
                  [2.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 0.0])
    g = np.array([1, 1, 1, 2, 2, 2])
    with np.errstate(over="ignore"):   # the keys overflow (as they did before the fast path)
        d = ChoiceData.from_arrays(y, X, groups=g, check_identification=False)
        np.testing.assert_array_equal(d.row_index, oracle_order(y, X, g))
    np.testing.assert_array_equal(d.row_index, [2, 0, 1, 4, 3, 5])   # columns ascending


@pytest.mark.parametrize("seed", range(4))
def test_alternative_ids_order_the_rows(seed):
    rng = np.random.default_rng(seed)
    y, X, g, p = random_panel(rng, sizes=(3, 4), levels=2)
    alt = np.concatenate([rng.permutation(["a", "b", "c", "d"])[:m]
                          for m in np.unique(g, return_counts=True)[1][np.argsort(
                              np.unique(g, return_index=True)[1])]])
    y, X, g, p, alt = shuffle(rng, y, X, g, p, alt)
    d = ChoiceData.from_arrays(y, X, groups=g, panel=p, alternatives=alt,
                               check_identification=False)
    np.testing.assert_array_equal(d.row_index, oracle_order(y, X, g, p, alt))


def test_missing_values_drop_the_rows_of_the_brute_force_order():
    rng = np.random.default_rng(11)
    y, X, g, p = random_panel(rng, sizes=(3, 4), levels=3)
    X[[0, 10, 11]] = np.nan
    y, X, g, p = shuffle(rng, y, X, g, p)
    with pytest.warns(DroppedObservationsWarning):
        d = ChoiceData.from_arrays(y, X, groups=g, panel=p, check_identification=False)
    bad = np.isin(g, g[np.isnan(X).any(axis=1)])
    kept = np.flatnonzero(~bad)
    expected = kept[oracle_order(y[kept], X[kept], g[kept], p[kept])]
    np.testing.assert_array_equal(d.row_index, expected)
    check_layout(d, g[expected])


@pytest.mark.parametrize("grouped", [True, False])
def test_sort_within_situations_is_np_lexsort(grouped):
    """Keys with many ties and NaNs, choices as tie-breaker, situations of unequal size."""
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 6, 400)
    s = np.repeat(np.arange(400), sizes)
    key = rng.integers(0, 3, len(s)).astype(float)
    key[rng.random(len(s)) < 0.1] = np.nan
    ties = rng.integers(0, 2, len(s)).astype(float)
    if not grouped:
        s, key, ties = shuffle(rng, s, key, ties)
    for t in (ties, None):
        order, pairs, s_sorted = sort_within_situations(s, key, t)
        expected = np.lexsort((key, s)) if t is None else np.lexsort((t, key, s))
        np.testing.assert_array_equal(order, expected)
        np.testing.assert_array_equal(s_sorted, s[expected])
        ks, ss = key[expected], s[expected]
        np.testing.assert_array_equal(
            pairs, np.flatnonzero((ss[1:] == ss[:-1]) & (ks[1:] == ks[:-1])))


@pytest.mark.parametrize("chunk", [8, 1 << 18])
@pytest.mark.parametrize("grouped", [True, False])
def test_equal_size_situations_by_chunks_are_np_lexsort(monkeypatch, chunk, grouped):
    monkeypatch.setattr(build, "CHUNK_ELEMENTS", chunk)
    rng = np.random.default_rng(5)
    s = np.repeat(np.arange(300), 4)
    key = rng.integers(0, 4, len(s)).astype(float)
    key[rng.random(len(s)) < 0.05] = np.nan
    key[:40] = np.sort(rng.normal(size=40))     # a first chunk already in order
    ties = rng.integers(0, 2, len(s)).astype(float)
    if not grouped:
        s, key, ties = shuffle(rng, s, key, ties)
    order, pairs, _ = sort_within_situations(s, key, ties)
    expected = np.lexsort((ties, key, s))
    np.testing.assert_array_equal(order, expected)
    ks, ss = key[expected], s[expected]
    np.testing.assert_array_equal(
        pairs, np.flatnonzero((ss[1:] == ss[:-1]) & (ks[1:] == ks[:-1])))


def test_equal_sizes_already_sorted_and_all_tied():
    s = np.repeat(np.arange(5), 3)
    for key in (np.arange(15.0), np.zeros(15), np.tile([2.0, 1.0, 0.0], 5)):
        ties = np.tile([1.0, 0.0, 0.0], 5)
        order = sort_within_situations(s, key, ties)[0]
        np.testing.assert_array_equal(order, np.lexsort((ties, key, s)))


# ------------------------------------------------------------------ outputs and copies
def test_output_does_not_share_memory_with_float64_input():
    rng = np.random.default_rng(0)
    y, X, g, p = random_panel(rng, sizes=(3,))
    d = ChoiceData.from_arrays(y, X, groups=g, panel=p)
    before = d.exog.copy()
    X[:] = 0.0
    y[:] = 0.0
    np.testing.assert_array_equal(d.exog, before)
    assert d.chosen.sum() == d.n_situations


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint16", "uint64", "bool"])
def test_sorted_integer_ids_code_like_pandas(dtype):
    ids = np.sort(np.random.default_rng(1).integers(0, 2 if dtype == "bool" else 50, 300)
                  ).astype(dtype)
    codes, labels = canonical_codes(ids)
    ref_codes, ref_labels = pd.factorize(ids, sort=True)
    assert codes.dtype == ref_codes.dtype and labels.dtype == np.asarray(ref_labels).dtype
    np.testing.assert_array_equal(codes, ref_codes)
    np.testing.assert_array_equal(labels, ref_labels)


# ------------------------------------------------------------------ chunked passes
def brute_within(W, start):
    """The within-situation Gram matrix by a loop over situations."""
    stops = np.append(start[1:], len(W))
    gram = np.zeros((W.shape[1], W.shape[1]))
    for a, b in zip(start, stops):
        c = W[a:b] - W[a:b].mean(axis=0)
        gram += c.T @ c
    return gram


@pytest.mark.parametrize("chunk", [7, 64, 1 << 18])
@pytest.mark.parametrize("equal", [True, False])
def test_within_statistics_by_chunks_are_the_brute_force_sums(monkeypatch, chunk, equal):
    monkeypatch.setattr(values, "CHUNK_ELEMENTS", chunk)
    rng = np.random.default_rng(4)
    sizes = np.full(50, 3) if equal else rng.integers(1, 6, 50)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    X, V = rng.normal(size=(sizes.sum(), 3)), rng.normal(size=(sizes.sum(), 2))
    W = np.hstack([X, V])
    st = within_situation_statistics(X, V, start)
    assert st.n == len(W)
    np.testing.assert_allclose(st.total, W.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(st.squares, (W ** 2).sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(st.gram, brute_within(W, start), rtol=1e-10, atol=1e-12)
    # additive over disjoint sets of whole situations
    cut = int(start[20])
    parts = (within_situation_statistics(X[:cut], V[:cut], start[:20])
             + within_situation_statistics(X[cut:], V[cut:], start[20:] - cut))
    np.testing.assert_allclose(parts.gram, st.gram, rtol=1e-10, atol=1e-12)
    assert parts.n == st.n


def test_within_statistics_of_no_rows():
    st = within_situation_statistics(np.empty((0, 2)), np.empty((0, 0)), np.empty(0, int))
    assert st.n == 0 and st.gram.shape == (2, 2) and not st.gram.any()


def test_chunked_nan_and_inf_checks_match_the_whole_array(monkeypatch):
    monkeypatch.setattr(values, "CHUNK_ELEMENTS", 8)
    X = np.arange(60.0).reshape(20, 3)
    X[[3, 17], [1, 2]] = np.nan
    np.testing.assert_array_equal(nan_rows(X), np.isnan(X).any(axis=1))
    X[15, 2] = np.inf
    X[18, 0] = -np.inf
    with pytest.raises(DataError, match=r"column a holds an infinite value \(-inf in row 18; 1 in"):
        refuse_infinite(X, ["a", "b", "c"])


NAMES = {"endog": "endog", "groups": "groups", "panel": "panel", "weights": "weights",
         "availability": "availability", "alternatives": "alternatives"}


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("with_alternatives", [False, True])
def test_fast_order_equals_the_lexsort_reference(seed, with_alternatives):
    """canonical_order against lexsort_order (the previous implementation) after dropping rows."""
    rng = np.random.default_rng(seed)
    y, X, g, p = random_panel(rng, sizes=(2, 3, 4), levels=2)
    sizes = np.unique(g, return_counts=True)[1][np.argsort(np.unique(g, return_index=True)[1])]
    alt = np.concatenate([rng.permutation(5)[:m] for m in sizes])
    V = rng.integers(0, 2, (len(y), 1)).astype(float)
    X[rng.random(len(y)) < 0.05, 0] = np.nan
    y, X, V, g, p, alt = shuffle(rng, y, X, V, g, p, alt)
    raw = build.read_inputs(y, X, g, p, V, None, None, None,
                            alt if with_alternatives else None, None, None, None, NAMES)
    ids = build.code_ids(raw, NAMES)
    with pytest.warns(DroppedObservationsWarning):
        keep, _ = build.missing_policy(raw, ids)
    fast = build.canonical_order(raw, ids, keep)
    reference = build.lexsort_order(raw, ids, keep)
    for a, b in zip(fast, reference):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_column_major_input_gives_the_same_data_as_row_major():
    """Attributes, invariant terms and membership covariates as Fortran-ordered arrays (what
    patsy and pandas often return): byte-identical data, and the same rows gathered."""
    rng = np.random.default_rng(11)
    S, J = 300, 3
    n = S * J
    y = np.zeros((S, J))
    y[np.arange(S), rng.integers(0, J, S)] = 1.0
    X = rng.normal(size=(n, 4))
    V = rng.normal(size=(n, 2))
    Z = np.repeat(rng.normal(size=(S // 3, 2)), 3 * J, axis=0)
    groups, panel = np.repeat(np.arange(S), J), np.repeat(np.arange(S) // 3, J)
    perm = rng.permutation(n)                    # shuffled rows: a real gather
    y, X, V, Z, groups, panel = y.ravel()[perm], X[perm], V[perm], Z[perm], groups[perm], \
        panel[perm]
    c = ChoiceData.from_arrays(y, X, exog_invariant=V, exog_membership=Z, groups=groups,
                               panel=panel)
    f = ChoiceData.from_arrays(y, np.asfortranarray(X), exog_invariant=np.asfortranarray(V),
                               exog_membership=np.asfortranarray(Z), groups=groups, panel=panel)
    assert not f.exog_rows.source.flags.c_contiguous
    for name in ("exog", "exog_invariant", "exog_membership", "situation_of_row", "row_index"):
        a, b = getattr(c, name), getattr(f, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    rows = np.array([5, 0, 17, 899])
    np.testing.assert_array_equal(f.exog_rows[rows], X[f.row_index[rows]])
    np.testing.assert_array_equal(f.exog_rows[10:20], c.exog[10:20])
