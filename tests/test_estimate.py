"""The estimation pipeline: honest convergence, scale-free stopping, ``tol`` that tightens."""
from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import mixlogit as mx
from mixlogit.datasets.simulate import simulate_panel
from mixlogit.likelihood.estimate import (
    SWITCH_TOL,
    check_optimum,
    classes_coincide,
    estimate,
    hessian_problem,
)

RESULTS = Path(__file__).parent / "results"
ELECTRICITY = "choice ~ pf + cl + loc + wk + tod + seas - 1"


@pytest.fixture(scope="module")
def sim():
    return simulate_panel(n_decision_makers=150, n_situations=6, n_alternatives=3,
                          betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=21)


def _model(data, formula="choice ~ x1 + x2 - 1", k=2, **kw):
    return mx.MixedMultinomialLogit.from_formula(formula, data, groups="chid", panel="id",
                                                 k_classes=k, **kw)


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        yield


@pytest.fixture(scope="module")
def electricity():
    return mx.datasets.electricity.load()


def test_electricity_zero_start_is_not_converged(electricity):
    """EM's class-symmetric fixed point: the one-class optimum, classes equal, a saddle."""
    model = _model(electricity, ELECTRICITY)
    lik = model.likelihood()
    est = estimate(lik, [("zeros", np.zeros(len(model.param_names)))])
    # the one-class optimum: statsmodels' conditional logit, stored with its provenance
    ref = json.loads((RESULTS / "electricity_conditional_logit.json").read_text())
    assert est.llf == pytest.approx(ref["llf"], rel=1e-9)
    np.testing.assert_allclose(est.params[:6], ref["params"], rtol=1e-6)
    np.testing.assert_allclose(est.params[6:12], ref["params"], rtol=1e-6)
    assert est.criterion_met and not est.converged
    problems = est.convergence_problem.split("; ")
    assert problems[0] == "classes 1 and 2 coincide"
    assert problems[1].startswith("saddle point: Hessian has ")
    # a real start finds the K=2 optimum and passes every check
    spread = 0.5 * np.abs(est.params[:6]) + 0.1
    good = estimate(lik, [("given", est.params + np.r_[spread, -spread, 0.0])])
    assert good.llf > ref["llf"] + 100      # two separated classes, far above the one-class optimum
    assert good.converged and good.convergence_problem is None


def test_electricity_fit_from_zeros_reports_it(electricity):
    model = _model(electricity, ELECTRICITY)
    with _quiet():
        res = model.fit(start_params=np.zeros(len(model.param_names)))
    assert res.converged is False or res.converged == np.False_
    assert res.fit_state.estimate.convergence_problem.startswith("classes 1 and 2 coincide")


def test_hessian_problem_counts_signs_on_any_scale():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    H = Q @ np.diag([-3.0, -1.0, -0.5, 2.0]) @ Q.T
    scale = np.diag([1e6, 1.0, 1e-6, 1.0])
    assert hessian_problem(scale @ H @ scale) == (
        "saddle point: Hessian has 1 non-negative eigenvalues (1 positive)")
    negdef = Q @ np.diag([-3.0, -1.0, -0.5, -1e-3]) @ Q.T
    assert hessian_problem(scale @ negdef @ scale) is None
    singular = Q @ np.diag([-3.0, -1.0, -0.5, 0.0]) @ Q.T
    assert hessian_problem(singular).startswith("flat direction: Hessian has 1 zero")


def test_classes_coincide_in_probability_units(sim):
    lik = _model(sim.data).likelihood()
    assert classes_coincide(lik, np.array([1.0, -1.0, 1.0, -1.0, 0.3])) == (1, 2)
    assert classes_coincide(lik, np.array([1.0, -1.0, 1.0 + 1e-3, -1.0, 0.3])) is None
    # scale-free: attributes x 1e6 and coefficients / 1e6 give the same verdict
    big = _model(sim.data.assign(x1=sim.data.x1 * 1e6, x2=sim.data.x2 * 1e6)).likelihood()
    assert classes_coincide(big, np.array([1e-6, -1e-6, 1.001e-6, -1e-6, 0.3])) is None
    ev = lik.evaluate(np.array([1.0, -1.0, 1.0, -1.0, 0.3]), order=2)
    assert check_optimum(lik, ev).startswith("classes 1 and 2 coincide")


def test_separation_is_not_converged(sim):
    """An attribute equal to the choice: the coefficient diverges, every curvature vanishes."""
    model = _model(sim.data.assign(sep=sim.data["choice"].astype(float)),
                   "choice ~ x1 + x2 + sep - 1", k=1)
    with _quiet():
        res = model.fit()
    assert res.params["class1:sep"] > 20  # diverging
    assert not res.fit_state.estimate.converged
    assert res.fit_state.estimate.convergence_problem.startswith("flat direction")


def test_weights_scale_free(sim):
    """Multiplying every frequency weight by 1e-6 gives the same estimate (1e-8 relative)."""
    lik = _model(sim.data).likelihood()
    start = [("given", np.array([1.0, -0.5, -0.5, 0.5, 0.0]))]
    est = estimate(lik, start)
    tiny = lik.reweighted(lik.weights * 1e-6)
    est_tiny = estimate(tiny, start)
    np.testing.assert_allclose(est_tiny.params, est.params, rtol=1e-8, atol=1e-10)
    assert est_tiny.llf == pytest.approx(est.llf * 1e-6, rel=1e-10)
    assert est_tiny.converged and est.converged
    # the start report is in the caller's units
    assert est_tiny.report.table["llf"].iloc[0] == pytest.approx(est.llf * 1e-6, rel=1e-10)
    # and without the Newton polish, EM's relative rule alone
    em = estimate(lik, start, polish=False, tol=1e-10)
    em_tiny = estimate(tiny, start, polish=False, tol=1e-10)
    np.testing.assert_allclose(em_tiny.params, em.params, rtol=1e-8, atol=1e-10)


def test_smaller_tol_tightens_with_polish(sim):
    lik = _model(sim.data).likelihood()
    start = [("given", np.array([1.0, -0.5, -0.5, 0.5, 0.0]))]
    norms = {}
    for tol in (1e-3, 1e-12):
        est = estimate(lik, start, tol=tol)
        assert est.converged
        norms[tol] = np.linalg.norm(est.evaluation.score)
    assert norms[1e-12] < norms[1e-3]
    assert norms[1e-12] < 1e-8
    # tol sets EM's criterion even below the hand-over: without polish it tightens too
    loose = estimate(lik, start, polish=False, tol=1e-6)
    tight = estimate(lik, start, polish=False, tol=1e-12)
    assert tight.best_run.n_iter > loose.best_run.n_iter
    assert np.linalg.norm(tight.evaluation.score) < np.linalg.norm(loose.evaluation.score)
    assert SWITCH_TOL == 1e-5


def test_tol_below_switch_tightens_the_fit(sim):
    """fit(tol=...) has an effect below the hand-over (it used to be ignored with polish)."""
    model = _model(sim.data)
    with _quiet():
        a = model.fit(n_starts=1, seed=0, tol=1e-6)
        b = model.fit(n_starts=1, seed=0, tol=1e-12)
    assert np.linalg.norm(b.fit_state.evaluation.score) < np.linalg.norm(
        a.fit_state.evaluation.score)


def test_counts_form_coinciding_moment_start_is_not_converged():
    """Counts form: a start whose classes coincide ends at the one-class optimum, flagged."""
    from mixlogit.datasets.simulate import simulate_counts
    sim = simulate_counts(n_candidates=300, n_draws=10_000, seed=0)
    model = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features, k_classes=2)
    lik = model.likelihood()
    one = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features, k_classes=1)
    with _quiet():
        ref = one.fit()
    L = len(ref.params)
    beta = ref.params.to_numpy()
    est = estimate(lik, [("coincide", np.r_[beta, beta, 0.7])])
    # equal classes: the mixture likelihood is the one-class likelihood, whatever the shares
    assert est.llf == pytest.approx(ref.llf, rel=1e-10)
    assert est.convergence_problem.startswith("classes 1 and 2 coincide")
    assert not est.converged
    # weights (counts) times 1e-6: the same estimate from a separated start
    start = [("given", np.r_[beta + 0.5, beta - 0.5, 0.0])]
    a = estimate(lik, start)
    b = estimate(lik.reweighted(lik.weights * 1e-6), start)
    assert a.converged and b.converged
    np.testing.assert_allclose(b.params, a.params, rtol=1e-8, atol=1e-10)
    assert L == sim.features.shape[1]


def test_starts_on_a_sample_reach_the_full_data_optimum(sim):
    """Starts fitted on a hashed sample of 60 of 150 decision makers, then Newton from the
    sample's optima on all the data: the optimum of the same starts run on all the data
    (a first-order condition at the end, and the same log-likelihood)."""
    full = _model(sim.data)
    sampled = _model(sim.data)
    sampled.start_sample = 60
    with _quiet():
        a = full.fit(start="partition", n_starts=4, seed=3)
        b = sampled.fit(start="partition", n_starts=4, seed=3)
    assert a.fit_state.options["start_sample"] == 150
    assert b.fit_state.options["start_sample"] < 150
    assert b.converged and a.converged
    assert b.llf == pytest.approx(a.llf, rel=1e-12)
    np.testing.assert_allclose(b.params, a.params, atol=1e-6)
    score = sampled.likelihood().evaluate(b.params.to_numpy(), order=1).score
    assert np.max(np.abs(score)) < 1e-6


def test_the_estimate_evaluation_equals_a_fresh_one_with_unnormalised_weights(sim):
    """Weights of mean 2.5: the runs use them rescaled to mean 1 and the kept final evaluation
    is scaled back; it must equal an evaluation with the caller's weights."""
    df = sim.data.assign(w=np.where(sim.data["id"] % 2 == 0, 2, 3))
    lik = _model(df, weights="w").likelihood()
    with _quiet():
        est = estimate(lik, [("a", np.array([1.0, -0.8, -0.8, 0.8, 0.3])),
                             ("b", np.array([-1.0, 1.0, 1.5, -1.0, -0.3]))])
    lik._memo = None
    fresh = lik.evaluate(est.params, order=2)
    assert est.evaluation.llf == pytest.approx(fresh.llf, rel=1e-13)
    np.testing.assert_allclose(est.evaluation.hessian, fresh.hessian, rtol=1e-10)
    np.testing.assert_allclose(est.evaluation.score, fresh.score, atol=1e-8)
    np.testing.assert_allclose(est.evaluation.score_obs, fresh.score_obs, atol=1e-12)
