"""WTP, elasticities, classification table, individual coefficients, plots:
against hand computations and finite differences."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.special import softmax
from statsmodels.tools.numdiff import approx_fprime

import mixlogit as mx
from mixlogit.datasets.simulate import simulate_panel


@pytest.fixture(scope="module")
def fit2():
    sim = simulate_panel(n_decision_makers=200, n_situations=6, n_alternatives=3,
                         betas=[[1.5, -1.0, 0.5], [-1.0, 1.0, -0.5]], shares=[0.6, 0.4], seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        return mx.MixedMultinomialLogit.from_formula(
            "choice ~ x1 + x2 + x3 - 1", sim.data, groups="chid", panel="id",
            k_classes=2).fit(n_starts=3, seed=0)


@pytest.fixture(scope="module")
def fit_membership(small_panel):
    """Invariant price-like term v1 and a membership covariate z1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        return mx.MixedMultinomialLogit.from_formula(
            "choice ~ x1 + x2 + x3 - 1", small_panel.data, groups="chid", panel="id",
            k_classes=2, invariant="~ v1 - 1", membership="~ z1").fit(n_starts=3, seed=0)


def _wtp_by_hand(theta, K, L, price, attrs):
    betas = theta[:K * L].reshape(K, L)
    shares = softmax(np.r_[0.0, theta[K * L:]])
    per = np.array([[-betas[k, a] / betas[k, price] for a in attrs] for k in range(K)])
    return np.r_[per.ravel(), shares @ per]


def test_wtp_values_and_delta_method_against_finite_differences(fit2):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        w = fit2.wtp(price="x1")
    theta = fit2.params.to_numpy()
    f = lambda t: _wtp_by_hand(t, 2, 3, 0, [1, 2])  # noqa: E731
    np.testing.assert_allclose(w["wtp"].to_numpy(), f(theta), rtol=1e-12)
    J = approx_fprime(theta, f, centered=True)
    se = np.sqrt(np.diag(J @ fit2.cov_params().to_numpy() @ J.T))
    np.testing.assert_allclose(w["bse"].to_numpy(), se, rtol=1e-6)
    assert list(w.index.get_level_values("class").unique()) == ["class1", "class2", "population"]
    assert w.loc[("class1", "x2"), "wtp"] == pytest.approx(
        -fit2.params["class1:x2"] / fit2.params["class1:x1"])


def test_wtp_with_invariant_price_and_membership(fit_membership):
    res = fit_membership
    lay = res.model.layout
    Z = res.model.choice_data.exog_membership  # the decision makers' covariates (data)
    theta = res.params.to_numpy()

    def f(t):
        u = lay.unpack(t)
        C = u.class_coefficients  # columns x1, x2, x3, v1
        eta = Z @ np.vstack([np.zeros(Z.shape[1]), t[lay.membership_slice]]).T
        shares = softmax(eta, axis=1).mean(axis=0)
        per = -C[:, :3] / C[:, 3:4]
        return np.r_[per.ravel(), shares @ per]

    w = res.wtp(price="v1")
    np.testing.assert_allclose(w["wtp"].to_numpy(), f(theta), rtol=1e-12)
    J = approx_fprime(theta, f, centered=True)
    se = np.sqrt(np.diag(J @ res.cov_params().to_numpy() @ J.T))
    np.testing.assert_allclose(w["bse"].to_numpy(), se, rtol=1e-5)


def test_wtp_bad_names(fit2):
    with pytest.raises(mx.SpecificationError):
        fit2.wtp(price="cost")
    with pytest.raises(mx.SpecificationError):
        fit2.wtp(price="x1", attributes=["x1"])


def _perturbed_probs(res, data, attr, alt, eps, kind="probability"):
    new = data.copy()
    rows = new["alt"].to_numpy() == alt
    new.loc[rows, attr] = new.loc[rows, attr] * (1 + eps)
    return res.predict(new, kind=kind)


def test_elasticities_match_finite_differences(fit2):
    res = fit2
    data = res.model.data_frame
    E = res.elasticities("x2", alternative="alt")
    P0 = res.predict()
    P0c = res.predict(kind="class")
    alts = sorted(data["alt"].unique())
    sit = data["chid"].to_numpy()
    for i in alts:
        eps = 1e-5
        up = _perturbed_probs(res, data, "x2", i, eps)
        dn = _perturbed_probs(res, data, "x2", i, -eps)
        el = (up - dn) / (2 * eps) / P0  # elasticity of each row's probability
        upc = _perturbed_probs(res, data, "x2", i, eps, "class")
        dnc = _perturbed_probs(res, data, "x2", i, -eps, "class")
        elc = (upc - dnc) / (2 * eps) / P0c
        for j in alts:
            rows = data["alt"].to_numpy() == j
            # one row per situation for responding alternative j: average over situations
            fd = el[rows].groupby(sit[rows]).mean().mean()
            assert E.loc[("population", i), j] == pytest.approx(fd, rel=1e-5, abs=1e-8)
            for k in ("class1", "class2"):
                fdk = elc.loc[rows, k].mean()
                assert E.loc[(k, i), j] == pytest.approx(fdk, rel=1e-5, abs=1e-8)


def test_own_elasticities_by_hand(fit2):
    res = fit2
    data = res.model.data_frame
    own = res.elasticities("x1", kind="own")
    Pc = res.predict(kind="class")
    x = data["x1"]
    for k in (1, 2):
        b = res.params[f"class{k}:x1"]
        np.testing.assert_allclose(own[f"class{k}"], b * x * (1 - Pc[f"class{k}"]), rtol=1e-10)
    # cross elasticities of one logit class do not depend on the responding alternative
    E = res.elasticities("x1", alternative="alt").loc["class1"]
    off = E.to_numpy()[~np.eye(3, dtype=bool)].reshape(3, 2)
    np.testing.assert_allclose(off[:, 0], off[:, 1], rtol=1e-12)
    with pytest.raises(mx.SpecificationError):
        res.elasticities("x1")  # the matrix needs the alternative labels


def test_classification_table_and_individual_params_by_hand(fit2):
    res = fit2
    h = res.posterior_probs().to_numpy()
    tab = res.classification_table()
    modal = h.argmax(axis=1)
    for k in range(2):
        np.testing.assert_allclose(tab.iloc[k, :2].to_numpy(), h[modal == k].sum(axis=0))
        assert tab.iloc[k]["n_assigned"] == (modal == k).sum()
        assert tab.iloc[k]["avepp"] == pytest.approx(h[modal == k, k].mean())
    np.testing.assert_allclose(tab.loc["total", ["class1", "class2"]].to_numpy(), h.sum(axis=0))
    assert tab.attrs["correct"] == pytest.approx(h[np.arange(len(h)), modal].sum() / len(h))
    ind = res.individual_params()
    C = res.params_by_class.to_numpy().T  # (K, terms)
    np.testing.assert_allclose(ind.to_numpy(), h @ C)
    assert list(ind.columns) == ["x1", "x2", "x3"]
    assert len(ind) == 200


def test_plots_return_axes(fit2):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = fit2.plot_class_shares()
    assert len(ax.patches) == 2
    ax2 = fit2.plot_coefficients()
    assert [t.get_text() for t in ax2.get_yticklabels()] == ["x1", "x2", "x3"]
    plt.close("all")


def test_plot_coefficients_draws_the_wald_intervals(fit2):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mixlogit.results.plotting import plot_coefficients

    ax = plot_coefficients(fit2, alpha=0.1, terms=["x2"])
    points = np.concatenate([line.get_xdata() for line in ax.get_lines()
                             if line.get_marker() == "o"])
    np.testing.assert_allclose(points, [fit2.params["class1:x2"], fit2.params["class2:x2"]])
    for bad in (0.0, 1.0):
        with pytest.raises(mx.SpecificationError, match="alpha"):
            plot_coefficients(fit2, alpha=bad)
        with pytest.raises(mx.SpecificationError, match="alpha"):
            fit2.plot_class_shares(alpha=bad)
    plt.close("all")


def test_delta_method_identities():
    from mixlogit.results.postestimation import delta_method

    V = np.array([[0.04, 0.01, np.nan], [0.01, 0.09, np.nan], [np.nan, np.nan, np.nan]])
    J = np.array([[1.0, 1.0, 0.0], [2.0, 0.0, 0.0], [np.nan, 0.0, 0.0], [0.0, 0.0, 0.0]])
    out = delta_method([1.0, 2.0, np.nan, 3.0], J, V, alpha=0.1, index=list("abcd"))
    # var(x + y) = vx + vy + 2 cov; var(2x) = 4 vx; a NaN parameter column is never touched
    np.testing.assert_allclose(out["bse"].to_numpy()[:2], [np.sqrt(0.15), 0.4])
    assert np.isnan(out.loc["c", "bse"]) and out.loc["d", "bse"] == 0.0
    assert np.isnan(out.loc["d", "z"])  # no division by a zero standard error
    q = 1.6448536269514722
    assert out.loc["b", "upper"] == pytest.approx(2.0 + q * 0.4)
    with pytest.raises(mx.SpecificationError, match="alpha"):
        delta_method([1.0], [[1.0]], [[1.0]], alpha=1.0)
