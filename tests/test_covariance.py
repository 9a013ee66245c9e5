"""The covariance registry against hand computations and numerical derivatives."""
from __future__ import annotations

import warnings

import numpy as np
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
