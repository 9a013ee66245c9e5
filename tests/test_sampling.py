"""Deterministic samples of decision makers (mixlogit.likelihood.sampling)."""
from __future__ import annotations

import numpy as np
import pytest

from mixlogit.data import ChoiceData
from mixlogit.likelihood.sampling import sample_mask, subset_decision_makers


@pytest.mark.parametrize("ids", [np.arange(200_000), np.arange(200_000).astype(str),
                                 np.arange(200_000) * 7919 - 10**9])
def test_sample_fraction_and_independence_across_seeds(ids):
    """The share sampled is the fraction within binomial error (sd 0.00067 here); two seeds
    overlap as independent draws would (0.1 * 0.1)."""
    a, b = sample_mask(ids, 0, 0.1), sample_mask(ids, 1, 0.1)
    assert abs(a.mean() - 0.1) < 0.004 and abs(b.mean() - 0.1) < 0.004
    assert abs((a & b).mean() - 0.01) < 0.0015
    perm = np.random.default_rng(0).permutation(len(ids))
    np.testing.assert_array_equal(sample_mask(ids[perm], 0, 0.1), a[perm])


def test_integer_ids_of_any_width_give_one_sample():
    ids = np.arange(5000)
    ref = sample_mask(ids, 4, 0.3)
    for dtype in (np.int32, np.uint32, np.int16):
        np.testing.assert_array_equal(sample_mask(ids.astype(dtype), 4, 0.3), ref)


def test_subset_holds_exactly_the_rows_of_the_chosen_decision_makers():
    rng = np.random.default_rng(2)
    n_alt = rng.integers(2, 5, 60)                 # unequal choice sets
    n = int(n_alt.sum())
    sit = np.repeat(np.arange(60), n_alt)
    y = np.zeros(n)
    y[np.cumsum(n_alt) - n_alt] = 1.0
    X = rng.normal(size=(n, 2))
    data = ChoiceData.from_arrays(y, X, groups=sit, panel=sit // 3)
    units = np.array([0, 4, 5, 19])
    sub = subset_decision_makers(data, units)
    keep = np.isin(data.decision_maker_of_situation[data.situation_of_row], units)
    np.testing.assert_array_equal(sub.exog, data.exog[keep])
    np.testing.assert_array_equal(sub.chosen, data.chosen[keep])
    np.testing.assert_array_equal(sub.decision_maker_ids, data.decision_maker_ids[units])
    assert sub.n_situations == int(np.isin(data.decision_maker_of_situation, units).sum())


@pytest.mark.parametrize("per_person, expected", [(1, 100_000), (4, 25_000), (10, 10_000),
                                                  (40, 10_000)])
def test_default_start_sample_holds_about_100000_situations(per_person, expected):
    from mixlogit.likelihood import LongLikelihood

    n_dm = 50
    sit = np.arange(n_dm * per_person)
    rows = np.repeat(sit, 2)
    y = np.tile([1.0, 0.0], len(sit))
    x = np.random.default_rng(0).normal(size=(len(rows), 1))
    data = ChoiceData.from_arrays(y, x, groups=rows, panel=np.repeat(sit // per_person, 2))
    assert data.n_decision_makers == n_dm
    assert LongLikelihood.default_start_sample(data) == expected
