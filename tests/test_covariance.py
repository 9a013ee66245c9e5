"""The covariance registry against hand computations and numerical derivatives."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.discrete.conditional_models import ConditionalLogit
from statsmodels.tools.numdiff import approx_fprime

import mixlogit as mx
from mixlogit.datasets.simulate import simulate_panel


@pytest.fixture(scope="module")
def fit():
    sim = simulate_panel(n_decision_makers=150, n_situations=6, n_alternatives=3,
                         betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=21)
    data = sim.data.assign(region=(sim.data["id"] - 1) // 15)  # 10 clusters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        return mx.MixedMultinomialLogit.from_formula(
            "choice ~ x1 + x2 - 1", data, groups="chid", panel="id", k_classes=2).fit(
            n_starts=3, seed=0)


def _pieces(res):
    model = res.model
    theta = res.params.to_numpy()
    H_num = approx_fprime(theta, model.score, centered=True)  # numerical Hessian
    S = model.score_obs(theta)  # weighted scores per decision maker (weights are 1)
    return theta, 0.5 * (H_num + H_num.T), S


def test_oim_is_inverse_numerical_hessian(fit):
    _, H, _ = _pieces(fit)
    np.testing.assert_allclose(fit.cov_params().to_numpy(), np.linalg.inv(-H), rtol=1e-4,
                               atol=1e-8)
    assert fit.cov_type == "oim"


def test_opg_and_robust_by_hand(fit):
    _, H, S = _pieces(fit)
    B = S.T @ S
    opg = fit.get_robustcov_results("opg")
    np.testing.assert_allclose(opg.cov_params().to_numpy(), np.linalg.inv(B), rtol=1e-8)
    Ainv = np.linalg.inv(-H)
    rob = fit.get_robustcov_results("robust")
    np.testing.assert_allclose(rob.cov_params().to_numpy(), Ainv @ B @ Ainv, rtol=1e-4, atol=1e-9)
    assert (opg.cov_type, rob.cov_type) == ("opg", "robust")


def test_cluster_by_hand_and_by_column(fit):
    _, H, S = _pieces(fit)
    Ainv = np.linalg.inv(-H)
    N = S.shape[0]
    # every decision maker his own cluster: robust times G / (G - 1)
    own = fit.get_robustcov_results("cluster", groups=np.arange(N))
    rob = fit.get_robustcov_results("robust")
    np.testing.assert_allclose(own.cov_params(), rob.cov_params() * N / (N - 1), rtol=1e-10)
    # clusters of 15 decision makers, by column name
    cl = fit.get_robustcov_results("cluster", groups="region")
    labels = np.arange(N) // 15
    G = labels.max() + 1
    summed = np.zeros((G, S.shape[1]))
    np.add.at(summed, labels, S)
    expected = Ainv @ (summed.T @ summed) @ Ainv * G / (G - 1)
    np.testing.assert_allclose(cl.cov_params().to_numpy(), expected, rtol=1e-4, atol=1e-9)
    assert cl.cov_type == "cluster"


def test_switching_does_not_refit_or_mutate(fit):
    before = fit.bse.copy()
    rob = fit.get_robustcov_results("robust")
    np.testing.assert_array_equal(rob.params, fit.params)
    assert rob.llf == fit.llf
    np.testing.assert_array_equal(fit.bse, before)
    assert fit.cov_type == "oim"
    assert not np.allclose(rob.bse, fit.bse)
    back = rob.get_robustcov_results("oim")
    np.testing.assert_allclose(back.bse, fit.bse)


def test_unknown_cov_type(fit):
    with pytest.raises(mx.SpecificationError):
        fit.get_robustcov_results("sandwich-ish")
    with pytest.raises(mx.SpecificationError):
        fit.get_robustcov_results("cluster")


def test_one_class_oim_equals_statsmodels():
    sim = simulate_panel(n_decision_makers=100, n_situations=4, n_alternatives=3,
                         betas=[[1.0, -0.5]], shares=[1.0], seed=5)
    res = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=1).fit()
    ref = ConditionalLogit(sim.data["choice"].to_numpy(), sim.data[["x1", "x2"]].to_numpy(),
                           groups=sim.data["chid"].to_numpy()).fit(method="newton", disp=0,
                                                                  tol=1e-12)
    np.testing.assert_allclose(res.bse.to_numpy(), np.asarray(ref.bse), rtol=1e-6)


# ---------------------------------------------------------------------- the registry
from mixlogit.covariance import (  # noqa: E402
    COVARIANCE_ESTIMATORS,
    CovarianceInputs,
    get_covariance,
    honest_inverse,
    safe_inverse,
)


def _inputs(res):
    st = res.fit_state
    return CovarianceInputs.from_evaluation(st.likelihood, st.evaluation)


def test_registry_names_and_unknown_keywords(fit):
    assert list(COVARIANCE_ESTIMATORS) == ["oim", "opg", "robust", "cluster", "bootstrap"]
    inputs = _inputs(fit)
    with pytest.raises(mx.SpecificationError, match=r"\['group'\].*options are \['groups'\]"):
        get_covariance("cluster", inputs, group=np.arange(150))
    with pytest.raises(mx.SpecificationError, match=r"\['groups'\].*options are none"):
        get_covariance("oim", inputs, groups=np.arange(150))
    with pytest.raises(mx.SpecificationError, match="choose one of"):
        get_covariance("sandwich", inputs)
    with pytest.raises(mx.SpecificationError, match="one label per decision maker"):
        get_covariance("cluster", inputs, groups=np.arange(10))


def test_registry_matches_hand_computation(fit):
    _, H, S = _pieces(fit)
    inputs = _inputs(fit)
    Ainv, B = np.linalg.inv(-H), S.T @ S
    oim = get_covariance("oim", inputs)
    np.testing.assert_allclose(oim.cov, Ainv, rtol=1e-4, atol=1e-9)
    assert (oim.cov_type, oim.reasons) == ("oim", {})
    np.testing.assert_allclose(get_covariance("opg", inputs).cov, np.linalg.inv(B), rtol=1e-8)
    np.testing.assert_allclose(get_covariance("robust", inputs).cov, Ainv @ B @ Ainv, rtol=1e-4,
                               atol=1e-9)


def test_bootstrap_estimator_calls_the_callable_and_takes_the_free_block():
    names = ["a", "b", "c"]
    draws = np.random.default_rng(3).normal(size=(50, 3)) * [1.0, 0.0, 2.0]  # b fixed: no spread

    class Boot:
        def cov_params(self):
            return pd.DataFrame(np.cov(draws.T), index=names, columns=names)

    calls = []

    def run(**kw):
        calls.append(kw)
        return Boot()

    free = np.array([True, False, True])
    inputs = CovarianceInputs(np.eye(2), np.zeros((4, 2)), np.ones(4), free=free,
                              names=["a", "c"])
    out = get_covariance("bootstrap", inputs, bootstrap=run, n_reps=50, seed=7)
    assert calls == [{"n_reps": 50, "seed": 7}]
    np.testing.assert_allclose(out.cov, np.cov(draws[:, [0, 2]].T), rtol=1e-12)
    assert out.reasons == {} and isinstance(out.bootstrap, Boot)
    # a free parameter without spread is not reported as precise
    stuck = CovarianceInputs(np.eye(3), np.zeros((4, 3)), np.ones(4), free=np.ones(3, bool),
                             names=names)
    with pytest.warns(mx.HessianInversionWarning, match="b"):
        out = get_covariance("bootstrap", stuck, results=Boot())
    assert np.isnan(out.cov[1]).all() and list(out.reasons) == [1]
    assert np.isfinite(out.cov[np.ix_([0, 2], [0, 2])]).all()
    with pytest.raises(mx.SpecificationError, match="precomputed"):
        get_covariance("bootstrap", stuck, results=Boot(), n_reps=10)
    with pytest.raises(mx.SpecificationError, match="nreps"):
        get_covariance("bootstrap", stuck, bootstrap=run, nreps=10)


def test_honest_inverse_against_brute_force():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 4))
    X[:, 3] = X[:, 0] - 2 * X[:, 1]          # a flat direction spanned by 0, 1, 3
    X = X * [1e6, 1.0, 1e-7, 3.0]           # bad units must not matter
    A = X.T @ X
    A5 = np.zeros((5, 5))
    A5[:4, :4] = A
    A5[4, 4] = 2.0
    with pytest.warns(mx.HessianInversionWarning, match="parameter 0, parameter 1, parameter 3"):
        inv, reasons = honest_inverse(A5)
    assert sorted(reasons) == [0, 1, 3]
    assert "flat direction spanned by parameter 0, parameter 1, parameter 3" in reasons[0]
    assert np.isnan(inv[[0, 1, 3]]).all()
    # parameter 2 is orthogonal to the flat direction: its variance is that of the
    # identified reparametrisation (drop column 3, which is a combination of 0 and 1)
    keep = [0, 1, 2]
    np.testing.assert_allclose(inv[2, 2], np.linalg.inv(A[np.ix_(keep, keep)])[2, 2], rtol=1e-6)
    assert inv[4, 4] == pytest.approx(0.5)
    # safe_inverse keeps its signature: a finite matrix and a flag
    with pytest.warns(mx.HessianInversionWarning):
        finite, ok = safe_inverse(A5)
    assert not ok and np.isfinite(finite).all()


@pytest.mark.parametrize("factor", [1e-8, 1e6])
def test_units_change_only_their_own_standard_error(fit, factor):
    data = fit.model.data_frame
    with warnings.catch_warnings():
        warnings.simplefilter("error", mx.HessianInversionWarning)
        warnings.simplefilter("ignore", mx.StartsWarning)
        scaled = mx.MixedMultinomialLogit.from_formula(
            "choice ~ x1 + x2 - 1", data.assign(x1=data["x1"] * factor), groups="chid",
            panel="id", k_classes=2).fit(n_starts=3, seed=0)
    expected = fit.bse.copy()
    expected[["class1:x1", "class2:x1"]] /= factor
    np.testing.assert_allclose(scaled.bse.to_numpy(), expected.to_numpy(), rtol=1e-5)
    assert np.all(scaled.bse > 0)


def test_perfect_separation_gives_nan_and_a_reason(fit):
    data = fit.model.data_frame
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 + sep - 1", data.assign(sep=data["choice"].astype(float)),
        groups="chid", panel="id", k_classes=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        res = model.fit()
    with pytest.warns(mx.HessianInversionWarning, match="class1:sep"):
        out = get_covariance("oim", _inputs(res))
    assert np.isnan(np.diag(out.cov)).all()
    assert "flat in class1:sep" in out.reasons[2]
    assert not np.any(res.bse.to_numpy() == 0)  # never an s.e. of 0, whatever the path
    assert np.isnan(res.bse.to_numpy()).all()
    assert "flat in class1:sep" in res.cov_reasons["class1:sep"]


def test_membership_collinear_with_constant(fit):
    """Both membership terms NaN; the class terms as in the fit without the copy."""
    data = fit.model.data_frame.assign(c=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        res = mx.MixedMultinomialLogit.from_formula(
            "choice ~ x1 + x2 - 1", data, groups="chid", panel="id", k_classes=2,
            membership="~ c").fit(n_starts=3, seed=0)
    with pytest.warns(mx.HessianInversionWarning, match="membership:class2:Intercept, "
                                                        "membership:class2:c"):
        out = get_covariance("oim", _inputs(res))
    se = np.sqrt(np.diag(out.cov))
    assert np.isnan(se[4:]).all() and sorted(out.reasons) == [4, 5]
    np.testing.assert_allclose(se[:4], fit.bse.to_numpy()[:4], rtol=1e-4)
    np.testing.assert_allclose(res.params.to_numpy()[:4], fit.params.to_numpy()[:4], rtol=1e-5)
