"""Choosing K: the criteria table, the split warm start, and BIC's hit rate."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
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


# ------------------------------------------------------------ cross-validation
def _heldout_by_hand(df, params, ids):
    """log sum_k pi_k prod_t P_k(y_t) of each decision maker in ids, by explicit loops."""
    names = list(params.index)
    K = 1 + sum(n.startswith("membership:") for n in names)
    betas = np.array([[params[f"class{k + 1}:x1"], params[f"class{k + 1}:x2"]]
                      for k in range(K)])
    gam = np.r_[0.0, [params[f"membership:class{k + 1}:Intercept"] for k in range(1, K)]]
    pi = np.exp(gam) / np.exp(gam).sum()
    out = {}
    for i in ids:
        rows = df[df["id"] == i]
        like = np.ones(K)
        for _, sit in rows.groupby("chid"):
            X = sit[["x1", "x2"]].to_numpy()
            chosen = int(np.flatnonzero(sit["choice"].to_numpy() == 1)[0])
            for k in range(K):
                u = X @ betas[k]
                like[k] *= np.exp(u[chosen]) / np.exp(u).sum()
        out[i] = np.log(pi @ like)
    return pd.Series(out)


@pytest.fixture(scope="module")
def cv_selection():
    sim = simulate_panel(n_decision_makers=60, n_situations=4, n_alternatives=3,
                         betas=[[2.0, -1.0], [-1.0, 1.5]], shares=[0.6, 0.4], seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        sel = select_classes("choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
                             k_classes=[1, 2], n_starts=2, seed=4, cv=3, builder=BUILD)
    return sim.data, sel


def test_cv_loglike_is_the_brute_force_heldout_likelihood(cv_selection):
    df, sel = cv_selection
    folds = sel.cv_folds
    assert sorted(folds.index) == sorted(df["id"].unique())          # every DM in one fold
    assert sorted(folds.value_counts()) == [20, 20, 20]
    for k in (1, 2):
        total = 0.0
        for f in range(3):
            ids = folds.index[folds == f]
            params = sel.cv_params[(k, f)]
            by_hand = _heldout_by_hand(df, params, ids)
            np.testing.assert_allclose(sel.cv_loglike_obs.loc[ids, k], by_hand[ids],
                                       rtol=1e-10)
            total += by_hand.sum()
            # the training estimate is a stationary point of the training rows' likelihood
            train = BUILD("choice ~ x1 + x2 - 1", df[~df["id"].isin(ids)], groups="chid",
                          panel="id", k_classes=k)
            assert np.max(np.abs(train.score(params.to_numpy()))) < 1e-3
        np.testing.assert_allclose(sel.table.loc[k, "cv_loglike"], total, rtol=1e-10)
        contrib = sel.cv_loglike_obs[k].to_numpy()
        np.testing.assert_allclose(sel.table.loc[k, "cv_se"],
                                   np.sqrt(60) * np.std(contrib, ddof=1), rtol=1e-10)
        paired = contrib - sel.cv_loglike_obs[2].to_numpy()
        np.testing.assert_allclose(sel.table.loc[k, "cv_se_diff"],
                                   np.sqrt(60) * np.std(paired, ddof=1), atol=1e-10)
    # held-out fit is worse than in-sample; two well-separated classes win out of sample
    assert np.all(sel.table["cv_loglike"] < sel.table["llf"])
    assert sel.best("cv") == 2 and sel.best("cv", one_se=True) == 2
    assert "CV 2" in str(sel)


def test_cv_leaves_the_full_fits_alone_and_is_seeded(cv_selection):
    df, sel = cv_selection
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        plain = select_classes("choice ~ x1 + x2 - 1", df, groups="chid", panel="id",
                               k_classes=[1, 2], n_starts=2, seed=4, builder=BUILD)
        again = select_classes("choice ~ x1 + x2 - 1", df, groups="chid", panel="id",
                               k_classes=[1], n_starts=2, seed=4, cv=3, builder=BUILD)
    np.testing.assert_allclose(plain.table["llf"], sel.table["llf"], rtol=1e-12)
    assert "cv_loglike" not in plain.table.columns
    pd.testing.assert_series_equal(again.cv_folds, sel.cv_folds)
    assert again.table.loc[1, "cv_loglike"] == pytest.approx(sel.table.loc[1, "cv_loglike"])
    with pytest.raises(mx.SpecificationError, match="cv="):
        plain.best("cv")


def test_cv_bad_input():
    sim = simulate_panel(n_decision_makers=20, n_situations=3, n_alternatives=3,
                         betas=[[1.0, -1.0]], shares=[1.0], seed=5)
    for bad in (1, 0, 2.5, True, "5"):
        with pytest.raises(mx.SpecificationError, match="cv must be"):
            select_classes("choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
                           k_classes=[1], cv=bad, builder=BUILD)
    with pytest.raises(mx.SpecificationError, match="at most cv=20"):
        select_classes("choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
                       k_classes=[1], cv=21, builder=BUILD)

    def build(k):
        return BUILD("choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=k)

    with pytest.raises(mx.SpecificationError, match="formula string with data"):
        select_classes(build, k_classes=[1], cv=3)


def test_delta_plot_draws_differences_from_the_minimum(two_class_selection):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = two_class_selection.table
    ax = two_class_selection.plot(("aic", "bic"), kind="delta")
    lines = [ln for ln in ax.get_lines() if ln.get_label() in ("AIC", "BIC")]
    assert [ln.get_label() for ln in lines] == ["AIC", "BIC"]
    for ln, c in zip(lines, ("aic", "bic")):
        np.testing.assert_allclose(ln.get_xdata(), t.index.to_numpy())
        np.testing.assert_allclose(ln.get_ydata(), t[c] - t[c].min())
    assert ax.get_ylabel() == "difference from the minimum"
    plt.close("all")
    with pytest.raises(mx.SpecificationError, match="kind"):
        two_class_selection.plot(kind="ratio")
    with pytest.raises(mx.SpecificationError, match="no column"):
        two_class_selection.plot(("aic", "bick"))
    plt.close("all")


def test_cv_line_is_minus_twice_the_heldout_loglike(cv_selection):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, sel = cv_selection
    t = sel.table
    for kind, shift, se in (("level", 0.0, "cv_se"), ("delta", None, "cv_se_diff")):
        ax = sel.plot(("bic", "cv"), kind=kind)
        (line,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("CV")]
        dev = -2 * t["cv_loglike"].to_numpy()
        expect = dev - (dev.min() if shift is None else shift)
        np.testing.assert_allclose(line.get_ydata(), expect)
        (bars,) = [c for c in ax.containers if c.has_yerr]
        segs = np.array([seg[:, 1] for seg in bars.lines[2][0].get_segments()])
        np.testing.assert_allclose(segs[:, 1] - segs[:, 0], 4 * t[se].to_numpy(), atol=1e-9)
        plt.close("all")
