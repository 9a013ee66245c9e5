"""The fused long-form pass against brute-force loops, the compiled kernel against numpy,
and the engine against the previous code's log-likelihood path on electricity."""
from __future__ import annotations

import json
import os
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


def _rich_data(n_dm=40, seed=0, block_rows=None, *, max_situations=4, max_alternatives=5,
               n_exog=3, huge_dm=None):
    """Unequal choice sets (availability), invariant and membership terms, weights.

    ``max_situations=1`` gives one situation per decision maker; ``huge_dm``
    multiplies that decision maker's first attribute by 30 (with a coefficient
    of 30 its utility differences reach several hundred and overflow ``exp``;
    larger attributes would make the information ill-conditioned, ``d d'``
    of 1e8 cancelling to near 0, and no two formulas would agree to 1e-12).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for n in range(n_dm):
        for t in range(int(rng.integers(1, max_situations + 1))):
            J = int(rng.integers(2, max_alternatives + 1))
            avail = np.ones(J, int)
            if J > 2 and rng.random() < 0.5:
                avail[rng.integers(1, J)] = 0
            choice = int(rng.choice(np.flatnonzero(avail)))
            for j in range(J):
                rows.append((n, 100 * n + t, j == choice, avail[j]))
    ids, chid, y, av = map(np.array, zip(*rows))
    m = len(ids)
    X = rng.normal(size=(m, n_exog))
    if huge_dm is not None:
        X[ids == huge_dm, 0] *= 30.0
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


# ------------------------------------------------------------------ the fused pass, by case
#: data sets of the engine comparisons: (keyword arguments of _rich_data, block_rows)
CASES = {
    "padded": (dict(), None),
    "padded, blocks of few rows": (dict(), 16),
    "one situation each": (dict(n_dm=60, max_situations=1), None),
    "one situation each, blocks": (dict(n_dm=60, max_situations=1), 16),
    # 9 columns, up to 7 non-chosen alternatives: the generic (not unrolled) compiled loops,
    # with > 128 situations so decision makers straddle the chunks of those loops
    "wide design": (dict(n_dm=90, max_situations=6, max_alternatives=8, n_exog=7), None),
    "one overflowing decision maker": (dict(huge_dm=5), 16),
}


def _case(name, k=3, scale=0.6, seed=6):
    kw, block_rows = CASES[name]
    data = _rich_data(**kw)
    layout = ParamLayout(k, data.exog_names, data.invariant_names, data.membership_names)
    lay = (B.block_layout(data) if block_rows is None
           else B.build_layout(data, block_rows=block_rows, single_block_rows=0))
    params = np.random.default_rng(seed).normal(scale=scale, size=layout.n_params)
    if kw.get("huge_dm") is not None:
        params[layout.class_slice(0).start] = 30.0   # class 1's first coefficient
    return data, layout, lay, params


def _assert_same(b, a, names):
    for name in names:
        x, y = getattr(a, name), getattr(b, name)
        np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-12 * np.abs(x).max(), err_msg=name)


@pytest.mark.parametrize("name", CASES)
def test_numpy_pass_matches_brute_force_in_every_case(name):
    data, layout, lay, params = _case(name)
    loglik, ll, h, grad, hess = _brute(data, layout, params)
    C = layout.unpack(params).class_coefficients
    log_pi = LongLikelihood(data, layout, engine="numpy").log_shares(params)
    res = B.fused_pass(lay, C, log_pi=log_pi, weights=data.weights, information=True,
                       scores=True)
    # log(1 + sum_j exp(v_j)) of a near-certain choice is accurate in absolute terms only
    np.testing.assert_allclose(res.loglik, loglik, rtol=1e-12, atol=1e-14 * np.abs(loglik).max())
    np.testing.assert_allclose(res.ll_obs, ll, rtol=1e-12)
    wh = data.weights[:, None] * h
    scale = np.abs(np.einsum("nk,nkab->kab", wh, hess)).max()
    np.testing.assert_allclose(res.info, -np.einsum("nk,nkab->kab", wh, hess), rtol=1e-10,
                               atol=1e-12 * scale)
    np.testing.assert_allclose(res.grad, np.einsum("nk,nkl->kl", wh, grad), rtol=1e-10,
                               atol=1e-12 * scale)
    np.testing.assert_allclose(res.scores.transpose(2, 0, 1), grad, rtol=1e-10,
                               atol=1e-12 * np.abs(grad).max())


@pytest.mark.skipif(numba_missing, reason="numba not installed (optional: mixlogit[fast])")
@pytest.mark.parametrize("name", CASES)
def test_compiled_pass_equals_numpy_in_every_case(name):
    data, layout, lay, params = _case(name)
    C = layout.unpack(params).class_coefficients
    log_pi = LongLikelihood(data, layout, engine="numpy").log_shares(params)
    every = ("loglik", "ll_obs", "posteriors", "wh", "grad", "info", "scores")
    option_sets = [
        (dict(), ("loglik", "ll_obs", "posteriors")),
        (dict(derivatives=True), ("loglik", "ll_obs", "posteriors", "wh", "grad")),
        (dict(information=True), every[:-1]),
        (dict(scores=True), every[:5] + ("scores",)),
        (dict(information=True, scores=True), every),
    ]
    for options, names in option_sets:
        a = B.fused_pass(lay, C, log_pi=log_pi, weights=data.weights, engine="numpy", **options)
        b = B.fused_pass(lay, C, log_pi=log_pi, weights=data.weights, engine="numba", **options)
        _assert_same(b, a, names)
    other = np.random.default_rng(7).random((data.n_decision_makers, 3))
    opts = dict(class_weights=other, information=True, scores=True)
    a = B.fused_pass(lay, C, engine="numpy", **opts)
    b = B.fused_pass(lay, C, engine="numba", **opts)
    _assert_same(b, a, ("loglik", "grad", "info", "scores"))
    np.testing.assert_array_equal(b.wh, other)
    a = B.fused_pass(lay, C, engine="numpy")     # class log-likelihoods only
    b = B.fused_pass(lay, C, engine="numba")
    _assert_same(b, a, ("loglik",))


def test_overflow_case_overflows_in_one_block_only():
    """The overflow case of CASES really takes the fallback, in one block of several."""
    data, layout, lay, params = _case("one overflowing decision maker")
    C = layout.unpack(params).class_coefficients
    big = [blk for blk in lay.blocks
           if (C @ blk.D.reshape(blk.D.shape[0], -1)).max() > 710]   # exp overflows
    assert len(big) == 1 and len(lay.blocks) > 3


@pytest.mark.skipif(numba_missing, reason="numba not installed (optional: mixlogit[fast])")
def test_unrolled_kernels_cover_small_designs_only():
    from mixlogit import _numba_kernels as NK

    assert NK.unrolled_kernels(5, 3) is not None
    assert NK.unrolled_kernels(NK.UNROLL_MAX_COLUMNS + 1, 3) is None
    assert NK.unrolled_kernels(5, NK.UNROLL_MAX_OTHERS + 1) is None
    data, *_ = _case("wide design")
    lay = B.block_layout(data)
    Lw, J1, _ = lay.blocks[0].D.shape
    assert NK.unrolled_kernels(Lw, J1) is None and lay.blocks[0].D.shape[2] > NK.CHUNK
    compile(NK.unrolled_source(3, 2), "unrolled", "exec")   # the generated text is Python


@pytest.mark.skipif(numba_missing, reason="numba not installed (optional: mixlogit[fast])")
def test_unrolled_kernels_without_a_writable_directory(monkeypatch):
    """Nowhere to write the generated module: it runs uncached, with the same results as
    the closed forms of one attribute and one non-chosen alternative."""
    from mixlogit import _numba_kernels as NK
    from mixlogit import _numba_unrolled as NU

    monkeypatch.setattr(NU, "_source_dirs", lambda: [os.devnull + "/nowhere"])
    monkeypatch.setattr(NU, "_UNROLLED", {})
    kernels = NK.unrolled_kernels(1, 1)
    rng = np.random.default_rng(0)
    K, S = 2, 7
    E = rng.random((K, 1, S))
    D = rng.normal(size=(1, 1, S))
    T = 1.0 + E[:, 0]
    c = rng.random((K, S))
    dm_start, n_sit = np.array([0, 3]), np.array([3, 4])
    grad, info, G = np.empty((K, 1)), np.empty((K, 1, 1)), np.empty((K, 1, 2))
    kernels["information"](E, D, T, c, dm_start, n_sit, grad, info)
    kernels["scores"](E, D, T, dm_start, n_sit, G)
    P, d = E[:, 0] / T, D[0, 0]
    np.testing.assert_allclose(grad[:, 0], -(c * P * d).sum(axis=1), rtol=1e-13)
    np.testing.assert_allclose(info[:, 0, 0], (c * P * (1 - P) * d ** 2).sum(axis=1), rtol=1e-13)
    np.testing.assert_allclose(G[:, 0], -np.add.reduceat(P * d, dm_start, axis=1), rtol=1e-13)


@pytest.mark.skipif(numba_missing, reason="numba not installed (optional: mixlogit[fast])")
def test_compiled_front_with_huge_products_and_vanishing_shares():
    """The products of situation totals overflow without any total overflowing, and a share
    underflows: those decision makers take the sums of logs and the log-domain mixture,
    the others the products; all against the log-sum-exp closed forms."""
    from mixlogit import _numba_kernels as NK

    rng = np.random.default_rng(11)
    K, J1, n_sit = 3, 2, np.array([3, 4, 5, 2])
    dm_start = np.append(0, np.cumsum(n_sit)[:-1])
    S, N = int(n_sit.sum()), n_sit.shape[0]
    V = rng.normal(size=(K, J1, S))
    V[0, :, 3:7] += 300.0    # decision maker 1, class 1: prod T ~ e^1200 (each T ~ e^300)
    V[1, :, 7:12] += 80.0    # decision maker 2, class 2: prod T ~ e^400 > the flush point
    E = np.exp(V)
    log_pi = np.log(rng.dirichlet(np.ones(K), size=N))
    log_pi[2, 2] = -800.0    # a share exp(-800) = 0 in double precision
    log_pi[3] = np.log([0.2, 0.3, 0.5])
    w = rng.random(N) + 0.5
    blk = B.DiffBlock(rng.normal(size=(2, J1, S)), None, slice(0, N), slice(0, S), dm_start,
                      n_sit)
    loglik, ll, h, wh, *_ = NK.block_pass(blk, E, log_pi, w, None, True, False, False)
    logT = np.log1p(E.sum(axis=1))                         # (K, S)
    ref = -np.add.reduceat(logT, dm_start, axis=1).T       # (N, K)
    a = log_pi + ref
    ref_ll = np.logaddexp.reduce(a, axis=1)
    np.testing.assert_allclose(loglik, ref, rtol=1e-13)
    np.testing.assert_allclose(ll, ref_ll, rtol=1e-13)
    np.testing.assert_allclose(h, np.exp(a - ref_ll[:, None]), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(wh, w[:, None] * h, rtol=1e-15)
    assert h[1, 0] < 1e-300 and h[2, 2] < 1e-300 and 0 < h[2, 1]
