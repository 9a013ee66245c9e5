"""Choosing K: the criteria table, the split warm start, and BIC's hit rate."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import mixlogit as mx
from mixlogit.datasets.simulate import simulate_panel
from mixlogit.selection import select_classes, split_class_starts

BUILD = mx.MixedMultinomialLogit.from_formula

FORMULA = "choice ~ x1 + x2 + x3 - 1"
THREE = [[1.0, -1.0, 0.5], [-1.0, 1.0, 0.0], [0.5, 0.5, -1.5]]


@pytest.fixture(scope="module")
def two_class_selection():
    sim = simulate_panel(n_decision_makers=200, n_situations=6, n_alternatives=3,
                         betas=[[1.5, -1.0, 0.5], [-1.0, 1.0, -0.5]], shares=[0.6, 0.4], seed=8)
    return select_classes(FORMULA, sim.data, groups="chid", panel="id", k_classes=range(1, 4),
                          n_starts=3, seed=0, maxiter=300, builder=BUILD)


def test_table_and_criteria_by_hand(two_class_selection):
    sel = two_class_selection
    t = sel.table
    assert list(t.index) == [1, 2, 3]
    N = 200
    d = np.array([3, 7, 11])
    np.testing.assert_array_equal(t["n_params"], d)
    ll = t["llf"].to_numpy()
    np.testing.assert_allclose(t["aic"], 2 * d - 2 * ll)
    np.testing.assert_allclose(t["bic"], d * np.log(N) - 2 * ll)
    np.testing.assert_allclose(t["caic"], d * (np.log(N) + 1) - 2 * ll)
    np.testing.assert_allclose(t["sabic"], d * np.log((N + 2) / 24) - 2 * ll)
    assert np.all(t["icl"] >= t["bic"] - 1e-9)
    assert np.isnan(t.loc[1, "entropy_r2"]) and 0 < t.loc[2, "entropy_r2"] <= 1
    for col in ("smallest_share", "starts_at_best", "best_start", "converged", "warnings"):
        assert col in t.columns
    assert sel.best("bic") == 2
    assert np.all(np.diff(ll) >= -1e-6)  # more classes never fit worse (warm starts)
    assert sel.results[2].k_classes == 2
    assert "Best K: BIC 2" in str(sel)


def test_plot_returns_axes(two_class_selection):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = two_class_selection.plot()
    assert ax.get_xlabel() == "number of classes K"
    assert len(ax.get_lines()) >= 4
    plt.close("all")


def test_split_direction_points_at_the_missing_heterogeneity():
    betas = np.array([[1.5, -1.0, 0.5], [-1.0, 1.0, -0.5]])
    sim = simulate_panel(n_decision_makers=300, n_situations=8, n_alternatives=3, betas=betas,
                         shares=[0.5, 0.5], seed=9)
    res1 = mx.MixedMultinomialLogit.from_formula(FORMULA, sim.data, groups="chid", panel="id",
                                                 k_classes=1).fit()
    (origin, start), = split_class_starts(res1, n_classes_to_split=1)
    assert origin == "split class1"
    lay = mx.MixedMultinomialLogit.from_formula(FORMULA, sim.data, groups="chid", panel="id",
                                                k_classes=2).layout
    u = lay.unpack(start)
    step = u.betas[1] - u.betas[0]
    truth = betas[1] - betas[0]
    cosine = abs(step @ truth) / np.linalg.norm(step) / np.linalg.norm(truth)
    assert cosine > 0.9
    np.testing.assert_allclose(np.exp(u.gamma[:, 0]) / np.exp(u.gamma[:, 0]).sum(), [0.5, 0.5])


def test_callable_builder_and_bad_options():
    sim = simulate_panel(n_decision_makers=100, n_situations=5, n_alternatives=3,
                         betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.5, 0.5], seed=10)

    def build(k):
        return mx.MixedMultinomialLogit(sim.data["choice"], sim.data[["x1", "x2"]],
                                        groups=sim.data["chid"], panel=sim.data["id"],
                                        k_classes=k)

    sel = select_classes(build, k_classes=[1, 2], n_starts=2, seed=1)
    assert list(sel.table.index) == [1, 2]
    assert sel.table.loc[2, "n_starts"] == 2  # n_starts is the total per K
    with pytest.raises(mx.SpecificationError):
        select_classes(build, k_classes=[1, 2], start="mom")
    with pytest.raises(mx.SpecificationError, match="groups"):
        select_classes(FORMULA, sim.data, k_classes=[1, 2], builder=BUILD)  # groups missing
    with pytest.raises(mx.SpecificationError, match="builder"):
        select_classes(FORMULA, sim.data, groups="chid", k_classes=[1, 2])
    for bad, what in (("12", "iterable"), ([1.5], "1.5"), (3, r"range\(1, 4\)"), ([], "whole"),
                      ([0, 1], "0"), ([True], "True")):
        with pytest.raises(mx.SpecificationError, match=what):
            select_classes(build, k_classes=bad)
    with pytest.raises(mx.SpecificationError, match="builder returned None"):
        select_classes(FORMULA, sim.data, groups="chid", k_classes=[1],
                       builder=lambda *a, **k: None)
    with pytest.raises(mx.SpecificationError, match="k_classes=1 when asked for 2"):
        select_classes(lambda k: build(1), k_classes=[2])
    with pytest.raises(mx.SpecificationError, match="n_starts"):
        select_classes(build, k_classes=[1, 2], n_starts=0)


@pytest.mark.slow
def test_bic_picks_three_classes_in_nine_of_ten_datasets():
    hits = []
    for s in range(10):
        sim = simulate_panel(n_decision_makers=300, n_situations=8, n_alternatives=3,
                             betas=THREE, shares=[0.5, 0.3, 0.2], seed=1000 + s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mx.MixlogitWarning)
            sel = select_classes(FORMULA, sim.data, groups="chid", panel="id",
                                 k_classes=range(1, 6), n_starts=5, seed=s, maxiter=300,
                                 builder=BUILD)
        hits.append(sel.best("bic"))
    print(f"BIC choices over 10 datasets (truth 3): {hits}")
    assert sum(k == 3 for k in hits) >= 9, hits
