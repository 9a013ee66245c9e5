"""Tests of the counts form (mixlogit.likelihood.counts, MixedMultinomialLogit.from_counts).

Independent numbers only: the log-likelihood written out directly, finite
differences, the long form of the same data, and simulation truth.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp, softmax

import mixlogit as mx
from mixlogit.datasets.simulate import simulate_counts
from mixlogit.exceptions import DataError, SpecificationError
from mixlogit.likelihood import CountsLikelihood
from mixlogit.model import CountsMixedMultinomialLogit
from mixlogit.starts.moments import counts_fisher_information


def _direct_loglike(X, n, betas, shares):
    logS = X @ betas.T
    logS = logS - logsumexp(logS, axis=0)
    return float(n @ logsumexp(logS + np.log(shares), axis=1))


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(7)
    p, L, K = 40, 3, 3
    X = rng.standard_normal((p, L))
    B = rng.standard_normal((K, L))
    shares = np.array([0.5, 0.3, 0.2])
    n = rng.poisson(5.0, p).astype(float)
    n[:3] = 0.0  # candidates never chosen
    model = mx.MixedMultinomialLogit.from_counts(n, X, k_classes=K)
    theta = model.layout.pack(B, gamma=np.log(shares)[:, None])
    return model, X, n, B, shares, theta


def test_loglike_matches_direct_formula(small):
    model, X, n, B, shares, theta = small
    assert isinstance(model, CountsMixedMultinomialLogit)
    assert model.loglike(theta) == pytest.approx(_direct_loglike(X, n, B, shares), rel=1e-12)
    # loglikeobs: weighted per candidate, sums to loglike
    assert model.loglikeobs(theta).sum() == pytest.approx(model.loglike(theta), rel=1e-12)


def test_score_and_hessian_match_finite_differences(small):
    model, X, n, B, shares, theta = small
    f = model.loglike
    eps = 1e-6
    d = theta.size
    num_grad = np.array([(f(theta + eps * e) - f(theta - eps * e)) / (2 * eps) for e in np.eye(d)])
    np.testing.assert_allclose(model.score(theta), num_grad, rtol=1e-6, atol=1e-5)
    g = model.score
    num_hess = np.array([(g(theta + eps * e) - g(theta - eps * e)) / (2 * eps) for e in np.eye(d)])
    np.testing.assert_allclose(model.hessian(theta), num_hess, rtol=1e-5, atol=1e-4)
    # score_obs: weighted rows sum to the score
    np.testing.assert_allclose(model.score_obs(theta).sum(axis=0), model.score(theta), rtol=1e-10)


def test_expected_information_is_fisher_information(small):
    """E[-H] over multinomial counts equals N * counts_fisher_information (section 7)."""
    model, X, n, B, shares, theta = small
    pi = softmax(X @ B.T, axis=0) @ shares
    N = 1000.0
    expected = mx.MixedMultinomialLogit.from_counts(N * pi, X, k_classes=3)
    info = -expected.hessian(theta)
    np.testing.assert_allclose(info, N * counts_fisher_information(X, B, shares), rtol=1e-8,
                               atol=1e-8 * N)


def test_loglike_underflow_is_finite():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 2)) * 40.0
    n = np.ones(200)
    model = mx.MixedMultinomialLogit.from_counts(n, X, k_classes=2)
    theta = model.layout.pack(np.array([[30.0, 0.0], [-30.0, 0.0]]))
    assert np.isfinite(model.loglike(theta))
    direct = _direct_loglike(X, n, np.array([[30.0, 0.0], [-30.0, 0.0]]), np.array([0.5, 0.5]))
    assert model.loglike(theta) == pytest.approx(direct, rel=1e-10)


# ---------------------------------------------------------------- long-form equivalence
@pytest.fixture(scope="module")
def equivalent_pair():
    """p = 8 candidates, N = 600 decision makers each facing all 8 once."""
    rng = np.random.default_rng(11)
    p, L, N = 8, 2, 600
    X = rng.standard_normal((p, L))
    B = np.array([[1.5, -1.0], [-1.0, 1.0]])
    pi = softmax(X @ B.T, axis=0) @ np.array([0.6, 0.4])
    chosen = rng.choice(p, size=N, p=pi)
    counts = np.bincount(chosen, minlength=p).astype(float)
    long = pd.DataFrame({
        "id": np.repeat(np.arange(N), p),
        "alt": np.tile(np.arange(p), N),
        "x1": np.tile(X[:, 0], N),
        "x2": np.tile(X[:, 1], N),
    })
    long["choice"] = (long["alt"].to_numpy() == np.repeat(chosen, p)).astype(int)
    long_model = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x2 - 1", long,
                                                       groups="id", k_classes=2)
    counts_model = mx.MixedMultinomialLogit.from_counts(
        counts, pd.DataFrame(X, columns=["x1", "x2"]), k_classes=2)
    start = long_model.layout.pack(B * 0.8, gamma=np.array([[0.0], [-0.2]]))
    return long_model, counts_model, chosen, start


def test_same_likelihood_as_long_form(equivalent_pair):
    long_model, counts_model, _, start = equivalent_pair
    rng = np.random.default_rng(0)
    for _ in range(3):
        theta = start + 0.3 * rng.standard_normal(start.size)
        assert counts_model.loglike(theta) == pytest.approx(long_model.loglike(theta), rel=1e-12)
        np.testing.assert_allclose(counts_model.score(theta), long_model.score(theta), rtol=1e-9,
                                   atol=1e-9)
        np.testing.assert_allclose(counts_model.hessian(theta), long_model.hessian(theta),
                                   rtol=1e-9, atol=1e-8)


def test_same_fit_as_long_form(equivalent_pair):
    long_model, counts_model, chosen, start = equivalent_pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r_long = long_model.fit(start_params=start, seed=0)
        r_counts = counts_model.fit(start_params=start, seed=0)
    # both end where Newton's decrement is below 1e-9: parameters agree to ~1e-5
    assert r_counts.llf == pytest.approx(r_long.llf, rel=1e-10)
    np.testing.assert_allclose(r_counts.params.to_numpy(), r_long.params.to_numpy(), atol=5e-5)
    np.testing.assert_allclose(r_counts.bse.to_numpy(), r_long.bse.to_numpy(), rtol=1e-3)
    # at the same parameters, the same standard errors to rounding
    theta = r_long.params.to_numpy()
    np.testing.assert_allclose(counts_model.hessian(theta), long_model.hessian(theta), rtol=1e-9,
                               atol=1e-8)
    assert list(r_counts.params.index) == list(r_long.params.index)
    # posteriors: a decision maker who chose j has candidate j's posterior
    post_c = r_counts.posterior_probs().to_numpy()
    np.testing.assert_allclose(post_c[chosen], r_long.posterior_probs().to_numpy(), atol=1e-5)
    ev_c = counts_model.likelihood().evaluate(theta)
    ev_l = long_model.likelihood().evaluate(theta)
    np.testing.assert_allclose(ev_c.posteriors[chosen], ev_l.posteriors, atol=1e-12)
    # N of BIC: the draws
    assert r_counts.n_effective == r_long.n_effective == len(chosen)
    assert r_counts.bic == pytest.approx(r_long.bic, rel=1e-10)
    assert r_counts.llnull == pytest.approx(r_long.llnull, rel=1e-12)
    # predict: mixture probabilities per candidate equal the long form's for any situation
    pred_c = counts_model.predict(theta)
    pred_l = long_model.predict(theta).to_numpy()[:8]
    np.testing.assert_allclose(pred_c.to_numpy(), pred_l, atol=1e-12)
    np.testing.assert_allclose(r_counts.predict().to_numpy(), pred_l, atol=1e-5)
    assert pred_c.sum() == pytest.approx(1.0)
    by_class = r_counts.predict(kind="class")
    assert by_class.shape == (8, 2) and np.allclose(by_class.sum(axis=0), 1.0)


def test_em_is_monotone_and_recovers_truth():
    sim = simulate_counts(n_candidates=1500, n_draws=200_000, seed=4,
                          betas=np.array([[1.2, -0.6, 0.3], [-0.8, 0.9, 0.5]]),
                          shares=np.array([0.65, 0.35]))
    model = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features, k_classes=2)
    res = model.fit(n_starts=3, seed=1)
    for hist in res.llf_history:
        assert np.all(np.diff(hist) >= -1e-10 * np.abs(hist[1:]))
    est = res.params_by_class.to_numpy().T
    se = res.bse.to_numpy()[:6].reshape(2, 3)
    assert np.all(np.abs(est - sim.betas) < 4.5 * se)
    assert res.class_shares.to_numpy() == pytest.approx(sim.shares, abs=0.02)
    assert res.converged


def test_fixed_parameters_and_new_features():
    sim = simulate_counts(n_candidates=800, n_draws=50_000, seed=5,
                          betas=np.array([[1.0, -0.5], [-0.5, 1.0]]), shares=np.array([0.5, 0.5]))
    X = pd.DataFrame(sim.features, columns=["a", "b"])
    model = mx.MixedMultinomialLogit.from_counts(pd.Series(sim.counts, index=X.index), X,
                                                 k_classes=2)
    res = model.fit(fixed={"class1:a": 1.0}, n_starts=2, seed=0)
    assert res.params["class1:a"] == 1.0
    assert np.isnan(res.bse["class1:a"])
    assert res.converged
    new = pd.DataFrame({"b": [0.0, 1.0, -1.0], "a": [1.0, 0.0, 2.0]})
    pred = res.predict(new)
    assert pred.sum() == pytest.approx(1.0)
    manual = (softmax(new[["a", "b"]].to_numpy() @ res.params_by_class.to_numpy(), axis=0)
              @ res.class_shares.to_numpy())
    np.testing.assert_allclose(pred.to_numpy(), manual, rtol=1e-10)


def test_default_starts_by_form(equivalent_pair):
    long_model, counts_model, _, _ = equivalent_pair
    assert counts_model.likelihood().default_start == "mom"
    assert long_model.likelihood().default_start == "partition"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = counts_model.fit(n_starts=3, seed=0)
    assert res.starts["origin"].iloc[0].startswith("mom")
    assert len(res.starts) == 3


def test_bad_inputs():
    X = np.random.default_rng(0).standard_normal((20, 2))
    with pytest.raises(DataError, match="non-negative"):
        mx.MixedMultinomialLogit.from_counts(-np.ones(20), X, k_classes=2)
    with pytest.raises(DataError, match="one entry per candidate"):
        mx.MixedMultinomialLogit.from_counts(np.ones(19), X, k_classes=2)
    with pytest.raises(DataError, match="no draws"):
        mx.MixedMultinomialLogit.from_counts(np.zeros(20), X, k_classes=2)
    with pytest.raises(DataError, match="constant"):
        mx.MixedMultinomialLogit.from_counts(np.ones(20), np.c_[X, np.ones(20)], k_classes=2)
    with pytest.raises(SpecificationError, match="fewer classes"):
        mx.MixedMultinomialLogit.from_counts(np.ones(20), X, k_classes=7)
    with pytest.raises(DataError, match="index"):
        mx.MixedMultinomialLogit.from_counts(pd.Series(np.ones(20), index=range(1, 21)),
                                             pd.DataFrame(X), k_classes=2)


def test_likelihood_is_duck_typed(small):
    model = small[0]
    lik = model.likelihood()
    assert isinstance(lik, CountsLikelihood)
    for name in ("data", "layout", "fixed_mask", "fixed_values", "free", "apply_fixed",
                 "evaluate", "make_steps", "polish", "fit_classes"):
        assert hasattr(lik, name)


def test_same_loglikelihood_path_as_the_previous_code():
    """The (K, p) layout, the one gradient GEMM and the reused exponentials change no iterate:
    EM follows the path of the counts code of commit a514a90 (tests/regression)."""
    import json
    from pathlib import Path

    from mixlogit.em import run_em

    ref = json.loads((Path(__file__).resolve().parent / "regression" / "counts_em_path.json")
                     .read_text())
    sim = simulate_counts(**ref["simulate_counts"])
    model = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features,
                                                 k_classes=ref["k_classes"])
    estep, mstep = model.likelihood().make_steps(1)
    run = run_em(estep, mstep, np.array(ref["start"]), tol=0.0, maxiter=ref["em_iterations"])
    np.testing.assert_allclose(run.history, ref["llf_path"], rtol=1e-12)
