"""Analytic identities of the likelihood: derivatives against finite differences,
EM ascent, per-decision-maker pieces adding up."""
from __future__ import annotations

import numpy as np
import pytest

import mixlogit as mx


@pytest.fixture(scope="module")
def rich_model():
    betas = np.array([[1.0, -1.0], [-0.5, 1.0], [0.2, 0.3]])
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=60, n_situations=4, n_alternatives=3, betas=betas,
        shares=[0.4, 0.35, 0.25], invariant={"v1": 0.7, "v2": -0.3},
        membership=(np.array([[0.0], [0.8], [-0.5]]), ["z1"]), seed=5)
    df = sim.data.assign(w=sim.data["id"] % 3 + 1)
    return mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 - 1", df, groups="chid", panel="id", k_classes=3,
        invariant="~ v1 + v2 - 1", membership="~ z1", weights="w")


def _central_gradient(f, x, h=1e-6):
    g = np.empty_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_score_and_hessian_match_finite_differences(rich_model, seed):
    model = rich_model
    params = np.random.default_rng(seed).normal(scale=0.7, size=model.layout.n_params)
    score = model.score(params)
    numeric = _central_gradient(model.loglike, params)
    np.testing.assert_allclose(score, numeric, rtol=1e-6, atol=1e-6)
    hess = model.hessian(params)
    numeric_h = np.array([_central_gradient(lambda p, i=i: model.score(p)[i], params)
                          for i in range(len(params))])
    np.testing.assert_allclose(hess, numeric_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(hess, hess.T, atol=1e-12)


def test_per_decision_maker_pieces_add_up(rich_model):
    params = np.random.default_rng(3).normal(scale=0.5, size=rich_model.layout.n_params)
    assert rich_model.loglikeobs(params).sum() == pytest.approx(rich_model.loglike(params))
    np.testing.assert_allclose(rich_model.score_obs(params).sum(axis=0), rich_model.score(params),
                               atol=1e-10)
    assert rich_model.loglikeobs(params).shape == (rich_model.n_decision_makers,)


def test_em_ascends_at_every_iteration_with_invariant_and_membership_terms(rich_model):
    res = rich_model.fit(n_starts=4, seed=0, tol=1e-10, polish=False)
    for history in res.llf_history:
        assert len(history) > 2
        assert np.all(np.diff(history) >= -1e-10 * np.abs(history[1:]))


def test_loglike_by_brute_force(rich_model):
    """Log-likelihood recomputed with plain loops over decision makers, situations and classes."""
    model = rich_model
    params = np.random.default_rng(4).normal(scale=0.5, size=model.layout.n_params)
    d = model.choice_data
    u = model.layout.unpack(params)
    total = 0.0
    sit_end = np.append(d.situation_start[1:], d.n_rows)
    dm_end = np.append(d.decision_maker_start[1:], d.n_situations)
    for n in range(d.n_decision_makers):
        z = d.exog_membership[n]
        eta = u.gamma @ z
        pi = np.exp(eta) / np.exp(eta).sum()
        lik = np.zeros(model.k_classes)
        for k in range(model.k_classes):
            prod = 1.0
            for s in range(d.decision_maker_start[n], dm_end[n]):
                rows = slice(d.situation_start[s], sit_end[s])
                v = d.exog[rows] @ u.betas[k] + d.exog_invariant[rows] @ u.delta
                p = np.exp(v) / np.exp(v).sum()
                prod *= p[d.chosen[rows]][0]
            lik[k] = prod
        total += d.weights[n] * np.log(pi @ lik)
    assert model.loglike(params) == pytest.approx(total, rel=1e-12)


def test_reweighted_likelihood_shares_the_layout_and_weights_the_units(rich_model):
    """A bootstrap replicate reuses the differenced layout; its log-likelihood is the
    reweighted sum of the per-decision-maker terms."""
    lik = rich_model.likelihood()
    params = np.random.default_rng(6).normal(scale=0.5, size=rich_model.layout.n_params)
    w2 = np.random.default_rng(7).integers(0, 3, size=lik.n_units).astype(float)
    rep = lik.reweighted(w2)
    assert rep.blocks is lik.blocks
    ll_obs = lik.evaluate(params).loglike_obs
    assert rep.evaluate(params).llf == pytest.approx(float(w2 @ ll_obs), rel=1e-12)
    np.testing.assert_allclose(rep.evaluate(params, order=1).score,
                               w2 @ lik.evaluate(params, order=1).score_obs, atol=1e-9)


def test_threads_over_blocks_change_nothing(rich_model):
    from mixlogit.likelihood import LongLikelihood
    from mixlogit.likelihood import blocks as B

    data = rich_model.choice_data
    params = np.random.default_rng(8).normal(scale=0.5, size=rich_model.layout.n_params)
    one = LongLikelihood(data, rich_model.layout, engine="numpy")
    lay = B.build_layout(data, block_rows=64, single_block_rows=0)
    C = rich_model.layout.unpack(params).class_coefficients
    log_pi = one.log_shares(params)
    a = B.fused_pass(lay, C, log_pi=log_pi, weights=data.weights, information=True, scores=True)
    b = B.fused_pass(lay, C, log_pi=log_pi, weights=data.weights, information=True, scores=True,
                     n_jobs=2)
    for name in ("loglik", "posteriors", "grad", "info", "scores"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    # blocks of a few decision makers give the one-block numbers
    ev = one.evaluate(params, order=2)
    np.testing.assert_allclose(a.ll_obs, ev.loglike_obs, rtol=1e-13)


def _brute_force_gaps(data, params, layout):
    """max |P_k - P_m| over rows, from a per-situation loop over the sorted rows."""
    u = layout.unpack(params)
    K = layout.k_classes
    starts = list(data.situation_start) + [data.n_rows]
    gaps = np.zeros((K, K))
    for s0, s1 in zip(starts[:-1], starts[1:]):
        U = data.exog[s0:s1] @ u.betas.T + (data.exog_invariant[s0:s1] @ u.delta)[:, None]
        P = np.exp(U - U.max(axis=0))
        P /= P.sum(axis=0)
        gaps = np.maximum(gaps, np.abs(P[:, :, None] - P[:, None, :]).max(axis=0))
    return gaps


@pytest.mark.parametrize("scale", [0.3, 3.0, 300.0])
def test_class_probability_gaps_match_a_loop_over_situations(scale):
    """Unequal choice sets (availability), invariant terms, blocks of a few decision makers, and
    utilities large enough to overflow an unshifted exp."""
    from mixlogit.data import ChoiceData
    from mixlogit.likelihood import LongLikelihood
    from mixlogit.likelihood import blocks as B
    from mixlogit.params import ParamLayout

    rng = np.random.default_rng(3)
    S, J = 40, 4
    n = S * J
    y = np.zeros((S, J))
    y[np.arange(S), rng.integers(0, 2, S)] = 1.0
    avail = np.ones((S, J))
    avail[rng.random(S) < 0.5, 3] = 0.0          # the last alternative missing in about half
    data = ChoiceData.from_arrays(y.ravel(), rng.normal(size=(n, 2)),
                                  exog_invariant=rng.normal(size=(n, 1)),
                                  groups=np.repeat(np.arange(S), J),
                                  panel=np.repeat(np.arange(S) // 4, J),
                                  availability=avail.ravel())
    layout = ParamLayout(3, data.exog_names, data.invariant_names, data.membership_names)
    lik = LongLikelihood(data, layout, engine="numpy")
    object.__setattr__(lik, "blocks", B.build_layout(data, block_rows=24, single_block_rows=0))
    params = rng.normal(scale=scale, size=layout.n_params)
    np.testing.assert_allclose(lik.class_probability_gaps(params),
                               _brute_force_gaps(data, params, layout), atol=1e-14)


def test_class_probability_gaps_of_tied_classes_are_zero(rich_model):
    lik = rich_model.likelihood()
    lay = rich_model.layout
    u = lay.unpack(np.zeros(lay.n_params))
    betas = np.tile([0.4, -0.7], (3, 1))
    params = lay.pack(betas, delta=u.delta + 0.2, gamma=u.gamma)
    gaps = lik.class_probability_gaps(params)
    np.testing.assert_array_equal(gaps, np.zeros((3, 3)))


@pytest.mark.parametrize("order", [[1, 0, 2], [2, 0, 1], [2, 1, 0]])
def test_relabelled_evaluation_equals_evaluating_the_relabelled_parameters(rich_model, order):
    """Membership terms (re-normalised to the new first class), invariant terms, weights."""
    from mixlogit.likelihood.base import relabel_evaluation

    lik = rich_model.likelihood()
    lay = rich_model.layout
    params = np.random.default_rng(4).normal(scale=0.5, size=lay.n_params)
    new = relabel_evaluation(lik.evaluate(params, order=2), lay, order)
    direct = lik.evaluate(lay.permute(params, order), order=2)
    np.testing.assert_array_equal(new.params, direct.params)
    assert new.llf == pytest.approx(direct.llf, rel=1e-13)
    for name in ("score", "score_obs", "hessian", "posteriors", "log_shares"):
        np.testing.assert_allclose(getattr(new, name), getattr(direct, name), rtol=1e-10,
                                   atol=1e-10, err_msg=name)


def test_hessian_summed_in_chunks_of_decision_makers_is_the_same(rich_model, monkeypatch):
    from mixlogit.likelihood import long as long_module

    lik = rich_model.likelihood()
    params = np.random.default_rng(6).normal(scale=0.5, size=rich_model.layout.n_params)
    whole = lik.evaluate(params, order=2).hessian
    monkeypatch.setattr(long_module, "HESSIAN_CHUNK", 7)   # 60 decision makers: 9 chunks
    lik._memo = None
    np.testing.assert_allclose(lik.evaluate(params, order=2).hessian, whole, rtol=1e-12,
                               atol=1e-12 * np.abs(whole).max())


def test_counts_class_probability_gaps_are_the_largest_pairwise_differences():
    """The shared default over class_probabilities, on the counts form: against the
    softmax of each class over the candidates computed here."""
    rng = np.random.default_rng(9)
    X = rng.normal(size=(40, 3))
    model = mx.MixedMultinomialLogit.from_counts(rng.poisson(3.0, 40).astype(float), X,
                                                 k_classes=3)
    lik = model.likelihood()
    betas = rng.normal(size=(3, 3))
    params = model.layout.pack(betas)
    U = X @ betas.T
    P = np.exp(U - U.max(axis=0))
    P /= P.sum(axis=0)
    expected = np.array([[np.abs(P[:, k] - P[:, m]).max() for m in range(3)]
                         for k in range(3)])
    np.testing.assert_allclose(lik.class_probability_gaps(params), expected, atol=1e-14)
