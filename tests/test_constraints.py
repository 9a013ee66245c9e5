"""Equality and bound constraints in EM and the polish (mixlogit.likelihood.constrained).

Every check compares with an independent computation: scipy.optimize over the
reduced parameters from several starts, the ``fixed=`` path of ``fit``, finite
differences of the log-likelihood, the LR statistic from the two llfs.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import optimize

import mixlogit as mx
from mixlogit.exceptions import SpecificationError
from mixlogit.likelihood import estimate
from mixlogit.likelihood.constrained import AT_BOUND, ConstrainedLikelihood, constrain
from mixlogit.starts import make_starts


@pytest.fixture(scope="module")
def model2():
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=300, n_situations=6, n_alternatives=3,
        betas=[[1.0, -1.0], [-1.0, -0.3]], shares=[0.6, 0.4], seed=1)
    return mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)


@pytest.fixture(scope="module")
def model1():
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=200, n_situations=5, n_alternatives=3,
        betas=[[1.0, -0.8]], shares=[1.0], seed=3)
    return mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=1)


def _fit(model, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(n_starts=4, seed=0, **kw)


def _by_x1(params: np.ndarray) -> np.ndarray:
    """K=2 params [c1 x1, c1 x2, c2 x1, c2 x2, gamma] in an order free of labels."""
    p = np.asarray(params, float)
    if p[0] < p[2]:
        return np.r_[p[2:4], p[0:2], -p[4]]
    return p


def _bruteforce(inner, expand, n_phi, rng, n_starts=6):
    """Best of scipy BFGS over phi from several starts (the log-likelihood only)."""
    best = None
    for _ in range(n_starts):
        x0 = rng.normal(scale=1.0, size=n_phi)
        out = optimize.minimize(lambda phi: -inner.loglike(expand(phi)), x0, method="BFGS",
                                options={"gtol": 1e-8, "maxiter": 2000})
        if best is None or out.fun < best.fun:
            best = out
    return best


def test_tie_matches_bruteforce_optimum(model2):
    unc = _fit(model2)
    assert abs(unc.params["class1:x2"] - unc.params["class2:x2"]) > 0.3  # the tie binds
    res = _fit(model2, constraints=["class1:x2 = class2:x2"])
    inner = model2.likelihood()

    def expand(phi):  # phi = (c1 x1, shared x2, c2 x1, gamma)
        return np.array([phi[0], phi[1], phi[2], phi[1], phi[3]])

    best = _bruteforce(inner, expand, 4, np.random.default_rng(5))
    assert res.llf == pytest.approx(-best.fun, abs=1e-6)
    assert res.llf >= -best.fun - 1e-8
    np.testing.assert_allclose(_by_x1(res.params.to_numpy()), _by_x1(expand(best.x)), atol=2e-4)
    assert res.params["class1:x2"] == res.params["class2:x2"]
    assert res.converged
    assert unc.llf > res.llf


def test_dict_form_ties_the_same_parameters(model2):
    a = _fit(model2, constraints={"x2": [1, 2]})
    b = _fit(model2, constraints=["class2:x2 = class1:x2"])
    assert a.llf == pytest.approx(b.llf, abs=1e-8)


def test_standard_errors_on_the_constrained_space(model2):
    res = _fit(model2, constraints=["class1:x2 = class2:x2"])
    lik = res.fit_state.likelihood
    inner = model2.likelihood()
    theta = res.params.to_numpy()
    rep = np.array([0, 1, 2, 4])  # free coordinates phi

    def f(phi):
        t = theta.copy()
        t[rep] = phi
        return inner.loglike(t[lik.tied_to])

    phi0, h = theta[rep], 1e-4
    H = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * h, np.eye(4)[j] * h
            H[i, j] = (f(phi0 + ei + ej) - f(phi0 + ei - ej) - f(phi0 - ei + ej)
                       + f(phi0 - ei - ej)) / (4 * h * h)
    cov_phi = np.linalg.inv(-H)
    A = np.zeros((5, 4))
    A[[0, 1, 2, 3, 4], [0, 1, 2, 1, 3]] = 1.0
    cov_theta = A @ cov_phi @ A.T
    np.testing.assert_allclose(res.bse.to_numpy()[rep], np.sqrt(np.diag(cov_phi)), rtol=1e-4)
    full = np.asarray(res.cov_params(), float)
    expanded, reasons = lik.expand_covariance(full)
    np.testing.assert_allclose(expanded, cov_theta, rtol=1e-4, atol=1e-10)
    assert reasons == {}
    # the tied coefficient is far better determined than either unconstrained one
    unc = _fit(model2)
    assert np.sqrt(cov_theta[1, 1]) < unc.bse["class1:x2"]


def test_inactive_bounds_change_nothing(model2):
    unc = _fit(model2)
    wide = {name: (-5.0, 5.0) for name in ["class1:x1", "class1:x2", "class2:x1", "class2:x2"]}
    res = _fit(model2, bounds=wide)
    assert res.llf == pytest.approx(unc.llf, abs=1e-8)
    np.testing.assert_allclose(_by_x1(res.params.to_numpy()), _by_x1(unc.params.to_numpy()),
                               atol=1e-6)
    np.testing.assert_allclose(np.sort(res.bse.to_numpy()), np.sort(unc.bse.to_numpy()),
                               rtol=1e-5)


def test_active_bound_equals_fixing_at_the_bound_one_class(model1):
    unc = _fit(model1)
    assert unc.params["class1:x2"] < -0.6
    res = _fit(model1, bounds={"class1:x2": (-0.5, None)})
    fixed = _fit(model1, fixed={"class1:x2": -0.5})
    assert res.params["class1:x2"] == -0.5
    assert res.llf == pytest.approx(fixed.llf, abs=1e-9)
    np.testing.assert_allclose(res.params.to_numpy(), fixed.params.to_numpy(), atol=1e-7)
    assert res.converged
    assert np.isnan(res.bse["class1:x2"])
    assert res.bse["class1:x1"] == pytest.approx(fixed.bse["class1:x1"], rel=1e-6)
    _, reasons = res.fit_state.likelihood.expand_covariance(np.asarray(res.cov_params(), float))
    assert reasons == {1: AT_BOUND}


def test_active_bound_equals_fixing_two_classes(model2):
    bounds = {"class1:x2": (-0.5, None), "class2:x2": (-0.5, None)}
    res = _fit(model2, bounds=bounds)
    p = res.params
    at = [name for name in ("class1:x2", "class2:x2") if p[name] == -0.5]
    assert len(at) == 1
    assert res.converged  # the optimum is checked on the coordinates inside their bounds
    assert (p[["class1:x2", "class2:x2"]] >= -0.5).all()
    # the fixed path from the bounded optimum stays there (it is the fixed problem's maximum
    # on the feasible side) ...
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixed = model2.fit(start_params=p.to_numpy(), fixed={at[0]: -0.5})
    assert res.llf == pytest.approx(fixed.llf, abs=1e-7)
    np.testing.assert_allclose(p.to_numpy(), fixed.params.to_numpy(), atol=1e-5)
    # ... and the log-likelihood pushes outward at the bound (Kuhn-Tucker multiplier sign)
    j = model2.param_names.index(at[0])
    assert model2.likelihood().evaluate(p.to_numpy(), order=1).score[j] < 0


def test_bound_across_tied_group_and_em_monotone(model2):
    inner = model2.likelihood()
    lik = constrain(inner, constraints={"x2": [1, 2]}, bounds={"class1:x2": (None, -0.7)})
    assert isinstance(lik, ConstrainedLikelihood)
    starts = make_starts(inner, "partition", 3, np.random.default_rng(1))
    est = estimate(lik, starts, polish=False, maxiter=300)
    for run in est.runs:
        assert run.max_decrease <= 1e-9 * abs(run.llf)
        assert np.all(np.diff(run.history) >= -1e-9 * abs(run.llf))
    p = est.params
    assert p[1] == p[3] <= -0.7
    # with the polish: the same optimum as fixing the shared coefficient at the bound
    polished = estimate(lik, starts)
    fixed_lik = model2.likelihood({"class1:x2": -0.7, "class2:x2": -0.7})
    fixed = estimate(fixed_lik, starts)
    assert polished.params[1] == -0.7
    assert polished.llf == pytest.approx(fixed.llf, abs=1e-7)


def test_lr_test_of_the_constraint(model2):
    unc = _fit(model2)
    con = _fit(model2, constraints=["class1:x2 = class2:x2"])
    lr = unc.lr_test(con)
    assert lr.statistic == pytest.approx(2 * (unc.llf - con.llf), rel=1e-12)
    assert lr.df == 1
    from scipy import stats
    assert lr.pvalue == pytest.approx(stats.chi2.sf(2 * (unc.llf - con.llf), 1))
    assert con.lr_test(unc).df == 1


def test_counts_form_tie_matches_bruteforce():
    rng = np.random.default_rng(2)
    features = rng.normal(size=(40, 2))
    betas = np.array([[1.5, -1.0], [-1.0, 0.5]])
    u = features @ betas.T
    p = np.exp(u - u.max(0))
    p /= p.sum(0)
    counts = rng.multinomial(3000, 0.6 * p[:, 0] + 0.4 * p[:, 1])
    model = mx.MixedMultinomialLogit.from_counts(counts, features, k_classes=2)
    res = _fit(model, constraints={"x2": [1, 2]} if "class1:x2" in model.param_names else
               [f"{model.param_names[1]} = {model.param_names[3]}"])
    inner = model.likelihood()

    def expand(phi):
        return np.array([phi[0], phi[1], phi[2], phi[1], phi[3]])

    best = _bruteforce(inner, expand, 4, np.random.default_rng(0))
    assert res.llf == pytest.approx(-best.fun, abs=1e-5)
    assert res.params.iloc[1] == res.params.iloc[3]


def test_bad_constraints_are_refused(model2):
    with pytest.raises(SpecificationError, match="not a class-specific term"):
        model2.fit(constraints={"price": [1, 2]})
    with pytest.raises(SpecificationError, match="two or more distinct classes"):
        model2.fit(constraints={"x1": [1, 3]})
    with pytest.raises(SpecificationError, match="joined by '='"):
        model2.fit(constraints=["class1:x1 == class9:x1"])
    with pytest.raises(SpecificationError, match="low < high"):
        model2.fit(bounds={"class1:x1": (1.0, 0.0)})
    with pytest.raises(SpecificationError, match="membership"):
        model2.fit(bounds={model2.param_names[-1]: (0.0, None)})
    with pytest.raises(SpecificationError, match="method='em'"):
        model2.fit(method="bfgs", constraints={"x1": [1, 2]})
    with pytest.raises(SpecificationError, match="fixed and bounded"):
        model2.fit(fixed={"class1:x1": 0.0}, bounds={"class1:x1": (None, 1.0)})


def test_exchangeability():
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=30, n_situations=3, n_alternatives=3,
        betas=[[1.0, -1.0]] * 3, shares=[1 / 3] * 3, seed=0)
    inner = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=3).likelihood()
    assert constrain(inner, constraints={"x2": [1, 2, 3]}).classes_exchangeable
    assert not constrain(inner, constraints={"x2": [1, 2]}).classes_exchangeable
    assert not constrain(inner, bounds={"class3:x1": (0, None)}).classes_exchangeable


def test_constrained_classes_keep_their_numbering(model2):
    # class 2 is the larger class here, so canonical ordering would swap the labels
    res = _fit(model2, bounds={"class2:x1": (0.0, None), "class1:x1": (None, 0.0)})
    assert res.params["class2:x1"] >= 0 and res.params["class1:x1"] <= 0
    assert res.class_shares.iloc[1] > res.class_shares.iloc[0]


def test_results_report_the_tied_standard_error(model2):
    res = _fit(model2, constraints=["class1:x2 = class2:x2"])
    assert res.bse["class2:x2"] == pytest.approx(res.bse["class1:x2"])
    assert res.df_model == 4


def test_results_name_the_bound_in_cov_reasons(model1):
    res = _fit(model1, bounds={"class1:x2": (-0.5, None)})
    assert res.cov_reasons["class1:x2"] == AT_BOUND


def test_partitioned_inner_gives_the_same_constrained_optimum(model2):
    from mixlogit.likelihood.partitioned import PartitionedLikelihood
    inner = model2.likelihood()
    starts = make_starts(inner, "partition", 2, np.random.default_rng(0))
    opts = dict(constraints={"x2": [1, 2]}, bounds={"class2:x1": (None, 0.5)})
    whole = estimate(constrain(inner, **opts), starts)
    parts = estimate(constrain(PartitionedLikelihood.split(inner, 3), **opts), starts)
    assert parts.llf == pytest.approx(whole.llf, abs=1e-8)
    np.testing.assert_allclose(parts.params, whole.params, atol=1e-6)
    # brute force over (c1 x1, shared x2, c2 x1 <= 0.5, gamma) with L-BFGS-B
    def f(phi):
        return -inner.loglike(np.array([phi[0], phi[1], phi[2], phi[1], phi[3]]))
    best = min((optimize.minimize(f, x0, method="L-BFGS-B",
                                  bounds=[(None, None), (None, None), (None, 0.5), (None, None)])
                for x0 in np.random.default_rng(1).normal(size=(4, 4))), key=lambda o: o.fun)
    assert whole.llf == pytest.approx(-best.fun, abs=1e-5)
    assert whole.llf >= -best.fun - 1e-8


def test_electricity_sign_constraints_equal_fixing_at_zero():
    """cl (contract length) is disliked in every class: cl >= 0 binds everywhere, so the
    bounded fit is the fit with every cl fixed at 0 (an independent path)."""
    df = mx.datasets.electricity.load()
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ pf + cl + loc + wk - 1", df, groups="chid", panel="id", k_classes=2)
    res = _fit(model, bounds={"class1:cl": (0.0, None), "class2:cl": (0.0, None)})
    fixed = _fit(model, fixed={"class1:cl": 0.0, "class2:cl": 0.0})
    assert res.converged
    assert res.llf == pytest.approx(fixed.llf, abs=1e-7)
    a, b = res.params.to_numpy(), fixed.params.to_numpy()
    if abs(a[0] - b[0]) > abs(a[0] - b[4]):  # the two fits may label the classes differently
        b = model.layout.permute(b, [1, 0])
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert res.params[["class1:cl", "class2:cl"]].tolist() == [0.0, 0.0]
    assert np.isnan(res.bse[["class1:cl", "class2:cl"]]).all()
    assert np.isfinite(res.bse.drop(["class1:cl", "class2:cl"])).all()


def test_delta_method_through_a_tie(model2):
    """With x2 tied across both classes its population mean is the tied coefficient itself
    (the shares sum to one), so its delta-method s.e. is that coefficient's s.e."""
    from mixlogit.results.population import population_moments
    res = _fit(model2, constraints={"x2": [1, 2]})
    mean = population_moments(res).mean
    assert mean.loc["x2", "estimate"] == pytest.approx(res.params["class1:x2"], rel=1e-12)
    assert mean.loc["x2", "bse"] == pytest.approx(res.bse["class1:x2"], rel=1e-8)
