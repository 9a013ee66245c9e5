"""The parameter layout: labels, pack/unpack, permutations, fixed masks, class alignment.

Expected values are written out by hand or found by brute force over every
permutation of the classes.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from mixlogit.exceptions import SpecificationError
from mixlogit.params import ParamLayout, align_classes


@pytest.fixture
def layout():
    return ParamLayout(3, ("pf", "cl"), ("cost",), ("Intercept", "income"))


def test_labels_and_sizes(layout):
    assert layout.param_names == [
        "class1:pf", "class1:cl", "class2:pf", "class2:cl", "class3:pf", "class3:cl", "cost",
        "membership:class2:Intercept", "membership:class2:income",
        "membership:class3:Intercept", "membership:class3:income"]
    assert (layout.n_params, layout.n_class_params, layout.k_membership) == (11, 6, 2)
    assert layout.class_names == ["class1", "class2", "class3"]
    # class 2's coefficients on the joint design [pf, cl, cost]
    assert layout.class_design_index(1).tolist() == [2, 3, 6]


def test_pack_unpack_round_trip_normalises_membership_to_class_one(layout):
    betas = np.arange(6.0).reshape(3, 2)
    gamma = np.array([[1.0, 2.0], [3.0, 5.0], [0.0, -1.0]])
    theta = layout.pack(betas, [0.5], gamma)
    u = layout.unpack(theta)
    np.testing.assert_array_equal(u.betas, betas)
    np.testing.assert_array_equal(u.delta, [0.5])
    np.testing.assert_array_equal(u.gamma, gamma - gamma[0])        # class 1 is the reference
    np.testing.assert_array_equal(u.class_coefficients,
                                  [[0, 1, 0.5], [2, 3, 0.5], [4, 5, 0.5]])
    with pytest.raises(SpecificationError, match="params must have 11 entries"):
        layout.unpack(np.zeros(10))


def test_permute_moves_whole_classes(layout):
    betas = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    gamma = np.array([[0.0, 0.0], [1.0, 1.5], [2.0, 2.5]])
    theta = layout.pack(betas, [9.0], gamma)
    new = layout.unpack(layout.permute(theta, [2, 0, 1]))
    np.testing.assert_array_equal(new.betas, betas[[2, 0, 1]])
    np.testing.assert_array_equal(new.delta, [9.0])
    np.testing.assert_allclose(new.gamma, gamma[[2, 0, 1]] - gamma[2])


def test_fixed_mask_and_errors(layout):
    mask, values = layout.fixed_mask({"class2:cl": -1.0, "cost": 0.0})
    assert np.flatnonzero(mask).tolist() == [3, 6]
    assert values[3] == -1.0 and values[6] == 0.0
    assert not layout.classes_exchangeable(mask)                     # a class-specific term fixed
    assert layout.classes_exchangeable(layout.fixed_mask({"cost": 1.0})[0])
    with pytest.raises(SpecificationError, match="unknown parameter 'class4:pf'"):
        layout.fixed_mask({"class4:pf": 0.0})
    with pytest.raises(SpecificationError, match="must be finite"):
        layout.fixed_mask({"cost": np.inf})
    with pytest.raises(SpecificationError, match="every parameter is fixed"):
        layout.fixed_mask(dict.fromkeys(layout.param_names, 0.0))


def test_from_mapping(layout):
    theta = layout.from_mapping({"class3:cl": 2.0, "cost": -1.0})
    assert theta[5] == 2.0 and theta[6] == -1.0 and np.count_nonzero(theta) == 2
    with pytest.raises(SpecificationError, match="unknown parameter names"):
        layout.from_mapping({"nope": 1.0})


def test_align_classes_equals_brute_force_over_permutations():
    rng = np.random.default_rng(0)
    for _ in range(20):
        K = int(rng.integers(2, 6))
        ref = rng.normal(size=(K, 3))
        scale = rng.uniform(0.5, 2.0, size=3)
        cand = ref[rng.permutation(K)] + rng.normal(scale=0.3, size=(K, 3))
        order, cost = align_classes(ref, cand, scale)
        brute = min(itertools.permutations(range(K)),
                    key=lambda p: float((((ref - cand[list(p)]) / scale) ** 2).sum()))
        assert order.tolist() == list(brute)
        assert cost == pytest.approx(float((((ref - cand[order]) / scale) ** 2).sum()))
