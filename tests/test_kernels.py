"""The fused long-form pass against brute-force loops, the compiled kernel against numpy,
and the engine against the previous code's log-likelihood path on electricity."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import logsumexp

import mixlogit as mx
from mixlogit.data import ChoiceData
from mixlogit.em import run_em
from mixlogit.exceptions import SpecificationError
from mixlogit.likelihood import LongLikelihood
from mixlogit.likelihood import blocks as B
from mixlogit.params import ParamLayout

HERE = Path(__file__).resolve().parent
numba_missing = not B.numba_available()


def _rich_data(n_dm=40, seed=0, block_rows=None):
    """Unequal choice sets (availability), invariant and membership terms, weights."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in range(n_dm):
        for t in range(int(rng.integers(1, 5))):
            J = int(rng.integers(2, 6))
            avail = np.ones(J, int)
            if J > 2 and rng.random() < 0.5:
                avail[rng.integers(1, J)] = 0
            choice = int(rng.choice(np.flatnonzero(avail)))
            for j in range(J):
                rows.append((n, 100 * n + t, j == choice, avail[j]))
    ids, chid, y, av = map(np.array, zip(*rows))
    m = len(ids)
    X = rng.normal(size=(m, 3))
    V = rng.normal(size=(m, 2))
    z = rng.normal(size=n_dm)[ids][:, None]
    w = (ids % 3 + 1).astype(float)
    data = ChoiceData.from_arrays(y.astype(float), X, groups=chid, panel=ids, exog_invariant=V,
                                  exog_membership=z, weights=w, availability=av)
    return data


@pytest.fixture(scope="module")
def rich():
    data = _rich_data()
    layout = ParamLayout(3, data.exog_names, data.invariant_names, data.membership_names)
    return data, layout


def _brute(data, layout, params):
    """Loops over decision makers, classes and situations: log L_nk, its gradient and Hessian."""
    u = layout.unpack(params)
    K = layout.k_classes
    N, Lw = data.n_decision_makers, layout.k_exog + layout.k_invariant
    W = np.hstack([data.exog, data.exog_invariant])
    sit_end = np.append(data.situation_start[1:], data.n_rows)
    dm_end = np.append(data.decision_maker_start[1:], data.n_situations)
    loglik = np.zeros((N, K))
    grad = np.zeros((N, K, Lw))
    hess = np.zeros((N, K, Lw, Lw))
    for n in range(N):
        for k in range(K):
            coef = np.r_[u.betas[k], u.delta]
            for s in range(data.decision_maker_start[n], dm_end[n]):
                Ws = W[data.situation_start[s]:sit_end[s]]
                v = Ws @ coef
                p = np.exp(v - v.max())
                p /= p.sum()
                c = np.flatnonzero(data.chosen[data.situation_start[s]:sit_end[s]])[0]
                loglik[n, k] += v[c] - logsumexp(v)
                wbar = p @ Ws
                grad[n, k] += Ws[c] - wbar
                dev = Ws - wbar
                hess[n, k] -= (dev * p[:, None]).T @ dev
    eta = data.exog_membership @ u.gamma.T
    log_pi = eta - logsumexp(eta, axis=1, keepdims=True)
    a = log_pi + loglik
    ll = logsumexp(a, axis=1)
    h = np.exp(a - ll[:, None])
    return loglik, ll, h, grad, hess


def _brute_llf(data, layout, params):
    _, ll, _, _, _ = _brute(data, layout, params)
    return float(data.weights @ ll)


def test_layout_pads_unequal_choice_sets(rich):
    data, _ = rich
    lay = B.block_layout(data)
    assert lay is B.block_layout(data)  # cached per data object
    assert lay.max_width == data.n_alternatives.max()
    blk = lay.blocks[0]
    real = np.isfinite(blk.mask).sum(axis=0)
    np.testing.assert_array_equal(real, data.n_alternatives - 1)


@pytest.mark.parametrize("block_rows", [None, 16])
def test_fused_pass_matches_brute_force_loops(rich, block_rows):
    data, layout = rich
    lay = B.block_layout(data) if block_rows is None else B.build_layout(data, block_rows=16, single_block_rows=0)
    if block_rows is not None:
        assert len(lay.blocks) > 3
    params = np.random.default_rng(1).normal(scale=0.6, size=layout.n_params)
    loglik, ll, h, grad, hess = _brute(data, layout, params)
    lik = LongLikelihood(data, layout, engine="numpy")
    C = layout.unpack(params).class_coefficients
    log_pi = lik.log_shares(params)
    res = B.fused_pass(lay, C, log_pi=log_pi, weights=data.weights, information=True, scores=True)
    np.testing.assert_allclose(res.loglik, loglik, rtol=1e-12)
    np.testing.assert_allclose(res.ll_obs, ll, rtol=1e-12)
    np.testing.assert_allclose(res.posteriors, h, rtol=1e-10, atol=1e-14)
    wh = data.weights[:, None] * h
    np.testing.assert_allclose(res.grad, np.einsum("nk,nkl->kl", wh, grad), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.info, -np.einsum("nk,nkab->kab", wh, hess), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(res.scores.transpose(2, 0, 1), grad, rtol=1e-10, atol=1e-12)
    # other class weights (the M-step of a partition start): information of those
    other = np.random.default_rng(2).random(wh.shape)
    info = lik.class_information(params, other)
    np.testing.assert_allclose(np.stack(info), -np.einsum("nk,nkab->kab", other, hess),
                               rtol=1e-10, atol=1e-12)


def test_evaluate_matches_brute_force_and_finite_differences(rich):
    data, layout = rich
    mask = np.zeros(layout.n_params, bool)
    mask[[1, layout.invariant_slice.start]] = True
    values = np.where(mask, 0.3, 0.0)
    lik = LongLikelihood(data, layout, mask, values, engine="numpy")
    params = lik.apply_fixed(np.random.default_rng(3).normal(scale=0.5, size=layout.n_params))
    ev = lik.evaluate(params, order=2)
    assert ev.llf == pytest.approx(_brute_llf(data, layout, params), rel=1e-12)
    eps = 1e-6
    num = np.empty(layout.n_params)
    for i in range(layout.n_params):
        e = np.zeros(layout.n_params)
        e[i] = eps
        num[i] = (lik.evaluate(params + e).llf - lik.evaluate(params - e).llf) / (2 * eps)
    np.testing.assert_allclose(ev.score, num, rtol=1e-6, atol=1e-6)
    num_h = np.empty((layout.n_params, layout.n_params))
    for i in range(layout.n_params):
        e = np.zeros(layout.n_params)
        e[i] = eps
        num_h[i] = (lik.evaluate(params + e, order=1).score
                    - lik.evaluate(params - e, order=1).score) / (2 * eps)
    np.testing.assert_allclose(ev.hessian, num_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ev.score_obs.T @ data.weights, ev.score, atol=1e-10)


def test_overflow_fallback_keeps_the_loglikelihood_finite(rich):
    data, layout = rich
    lik = LongLikelihood(data, layout, engine="numpy")
    params = np.random.default_rng(4).normal(scale=0.5, size=layout.n_params)
    params[:layout.k_exog] *= 2000.0     # utility differences of thousands: exp overflows
    ev = lik.evaluate(params, order=2)
    assert np.isfinite(ev.llf) and np.all(np.isfinite(ev.hessian))
    assert ev.llf == pytest.approx(_brute_llf(data, layout, params), rel=1e-12)


def test_em_with_every_feature_never_lowers_the_loglikelihood(rich):
    data, layout = rich
    mask = np.zeros(layout.n_params, bool)
    mask[layout.invariant_slice.start] = True
    lik = LongLikelihood(data, layout, mask, np.where(mask, 0.2, 0.0), engine="numpy")
    for newton_steps in (1, 2):
        estep, mstep = lik.make_steps(newton_steps)
        theta0 = lik.apply_fixed(np.random.default_rng(5).normal(scale=0.5, size=layout.n_params))
        run = run_em(estep, mstep, theta0, tol=0.0, maxiter=60)
        hist = run.history
        assert np.all(np.diff(hist) >= -1e-12 * np.abs(hist[1:]))
        assert run.params[mask] == pytest.approx(0.2)
        assert hist[-1] == pytest.approx(_brute_llf(data, layout, run.params), rel=1e-12)


def test_bad_engine_is_refused(rich):
    data, layout = rich
    with pytest.raises(SpecificationError, match="engine"):
        LongLikelihood(data, layout, engine="fortran")


@pytest.mark.skipif(numba_missing, reason="numba not installed (optional: mixlogit[fast])")
@pytest.mark.parametrize("block_rows", [None, 16])
def test_compiled_kernel_equals_numpy(rich, block_rows):
    data, layout = rich
    lay = B.block_layout(data) if block_rows is None else B.build_layout(data, block_rows=16, single_block_rows=0)
    params = np.random.default_rng(6).normal(scale=0.6, size=layout.n_params)
    C = layout.unpack(params).class_coefficients
    log_pi = LongLikelihood(data, layout, engine="numpy").log_shares(params)
    opts = dict(log_pi=log_pi, weights=data.weights, information=True, scores=True)
    a = B.fused_pass(lay, C, engine="numpy", **opts)
    b = B.fused_pass(lay, C, engine="numba", **opts)
    for name in ("loglik", "ll_obs", "posteriors", "wh", "grad", "info", "scores"):
        x, y = getattr(a, name), getattr(b, name)
        np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-12 * np.abs(x).max(), err_msg=name)
    other = np.random.default_rng(7).random((data.n_decision_makers, 3))
    a = B.fused_pass(lay, C, class_weights=other, information=True, engine="numpy")
    b = B.fused_pass(lay, C, class_weights=other, information=True, engine="numba")
    np.testing.assert_allclose(b.info, a.info, rtol=1e-12, atol=1e-12 * np.abs(a.info).max())
    assert b.ll_obs is None and b.posteriors is None


@pytest.mark.skipif(numba_missing, reason="numba not installed (optional: mixlogit[fast])")
def test_compiled_engine_fits_like_numpy(rich):
    data, layout = rich
    theta0 = np.random.default_rng(8).normal(scale=0.5, size=layout.n_params)
    out = []
    for engine in ("numpy", "numba"):
        lik = LongLikelihood(data, layout, engine=engine)
        assert lik.engine == engine
        estep, mstep = lik.make_steps()
        out.append(run_em(estep, mstep, theta0, tol=0.0, maxiter=25).history)
    np.testing.assert_allclose(out[1], out[0], rtol=1e-12)


def test_auto_engine_uses_numpy_on_small_data(rich):
    data, layout = rich
    assert LongLikelihood(data, layout).engine == "numpy"
    assert B.resolve_engine("numpy", 10 ** 9) == "numpy"


def test_same_loglikelihood_path_as_the_previous_code_on_electricity():
    """EM from a fixed start follows the path the row-layout kernels of commit a514a90 took."""
    ref = json.loads((HERE / "regression" / "electricity_em_path.json").read_text())
    df = mx.datasets.electricity.load()
    model = mx.MixedMultinomialLogit.from_formula(ref["formula"], df, groups="chid", panel="id",
                                                  k_classes=ref["k_classes"])
    lik = model.likelihood()
    estep, mstep = lik.make_steps(1)
    run = run_em(estep, mstep, np.array(ref["start"]), tol=0.0, maxiter=ref["em_iterations"])
    np.testing.assert_allclose(run.history, ref["llf_path"], rtol=1e-12)
    params, ev, _, ok = lik.polish(run.params, tol=1e-13)
    assert ok
    assert ev.llf == pytest.approx(ref["polished_llf"], rel=1e-12)
    np.testing.assert_allclose(params, ref["polished_params"], rtol=1e-6, atol=1e-7)
