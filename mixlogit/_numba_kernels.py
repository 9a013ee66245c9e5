"""The optional compiled kernel of the fused long-form pass (numba).

Install with ``pip install mixlogit[fast]`` (or ``pip install numba``); without
numba this module imports and :data:`AVAILABLE` is False. It computes, per
block of the differenced layout of :mod:`mixlogit.likelihood.blocks`, exactly
what the numpy reference ``_block_numpy`` computes (the tests compare them to
1e-12) after the softmax: the class log-likelihoods and posteriors of the
block's decision makers, and on request the weighted class gradients,
informations and per-decision-maker scores. The softmax itself (one GEMM and
numpy's SIMD ``exp``) stays in numpy: numba's scalar ``exp`` is several times
slower.

The loops run over the situations of a block innermost (the layout stores them
contiguously), so the compiler vectorises them; temporaries are per block and
stay in cache. Compiled with ``cache=True`` (the first call in a new
environment compiles, ~1-3 s; later processes load the cache), ``error_model=
"numpy"`` (no checked division) and only the ``reassoc``/``contract`` fast-math
flags (so sums over situations vectorise; infinities and NaNs keep their IEEE
meaning, which the masked padding needs).
"""
from __future__ import annotations

import numpy as np

try:
    import numba
except ImportError:  # the compiled kernel is optional
    numba = None  # type: ignore[assignment]  # the optional-import idiom: None marks "absent"

__all__ = ["AVAILABLE", "block_derivatives"]

#: whether numba is installed
AVAILABLE = numba is not None

_FLAGS = {"reassoc", "contract"}


def _jit(func):
    if numba is None:
        return func
    return numba.njit(cache=True, error_model="numpy", fastmath=_FLAGS, nogil=True)(func)


@_jit
def _posteriors(logp, dm_start, n_sit, log_pi, w, cw, has_shares, has_cw):  # pragma: no cover
    """Class log-likelihoods (N_b, K), log-likelihood, posteriors and class weights per situation."""
    K, S = logp.shape
    Nb = dm_start.shape[0]
    loglik = np.zeros((Nb, K))
    ll = np.zeros(Nb)
    h = np.zeros((Nb, K))
    wh = np.zeros((Nb, K))
    c = np.zeros((K, S))
    for n in range(Nb):
        s0 = dm_start[n]
        for k in range(K):
            acc = 0.0
            for s in range(s0, s0 + n_sit[n]):
                acc += logp[k, s]
            loglik[n, k] = acc
        if has_shares:
            peak = -np.inf
            for k in range(K):
                a = log_pi[n, k] + loglik[n, k]
                if a > peak:
                    peak = a
            tot = 0.0
            for k in range(K):
                h[n, k] = np.exp(log_pi[n, k] + loglik[n, k] - peak)
                tot += h[n, k]
            ll[n] = peak + np.log(tot)
            for k in range(K):
                h[n, k] /= tot
        for k in range(K):
            wh[n, k] = cw[n, k] if has_cw else w[n] * h[n, k]
            for s in range(s0, s0 + n_sit[n]):
                c[k, s] = wh[n, k]
    return loglik, ll, h, wh, c


@_jit
def _derivatives(D, P, c, dm_start, n_sit, information, scores):  # pragma: no cover - compiled
    """Weighted class gradients (K, Lw), informations (K, Lw, Lw) and class scores (K, Lw, N_b).

    ``dbar = sum_j P_j d_j`` per class and situation; the information is
    ``sum_s c_s [sum_j P_j d_j d_j' - dbar dbar']``, the products ``d_a d_b``
    formed once for all classes.
    """
    Lw, J1, S = D.shape
    K = P.shape[0]
    Nb = dm_start.shape[0]
    grad = np.zeros((K, Lw))
    info = np.zeros((K, Lw, Lw))
    G = np.zeros((K, Lw, Nb if scores else 0))
    dbar = np.zeros((K, Lw, S))
    for k in range(K):
        for l in range(Lw):
            for j in range(J1):
                for s in range(S):
                    dbar[k, l, s] += P[k, j, s] * D[l, j, s]
            acc = 0.0
            for s in range(S):
                acc += c[k, s] * dbar[k, l, s]
            grad[k, l] = -acc
    if information:
        R = np.empty((K, S))
        prod = np.empty(S)
        for j in range(J1):
            for k in range(K):
                for s in range(S):
                    R[k, s] = c[k, s] * P[k, j, s]
            for a in range(Lw):
                for b in range(a + 1):
                    for s in range(S):
                        prod[s] = D[a, j, s] * D[b, j, s]
                    for k in range(K):
                        acc = 0.0
                        for s in range(S):
                            acc += R[k, s] * prod[s]
                        info[k, a, b] += acc
        cd = np.empty(S)
        for k in range(K):
            for a in range(Lw):
                for s in range(S):
                    cd[s] = c[k, s] * dbar[k, a, s]
                for b in range(a + 1):
                    acc = 0.0
                    for s in range(S):
                        acc += cd[s] * dbar[k, b, s]
                    info[k, a, b] -= acc
                    info[k, b, a] = info[k, a, b]
    if scores:
        for k in range(K):
            for n in range(Nb):
                s0 = dm_start[n]
                for l in range(Lw):
                    acc = 0.0
                    for s in range(s0, s0 + n_sit[n]):
                        acc += dbar[k, l, s]
                    G[k, l, n] = -acc
    return grad, info, G


def block_derivatives(blk, P, logp, log_pi, w, class_weights, derivatives, information, scores):
    """Posteriors and derivatives of one block from its softmax (``P``, ``logp``).

    The same contract as the numpy reference ``blocks._block_numpy`` after its
    softmax: returns ``(loglik, ll, h, wh, grad, info, G)``.
    """
    if numba is None:
        raise ImportError("the compiled kernel needs numba: pip install mixlogit[fast]")
    has_shares = log_pi is not None
    has_cw = class_weights is not None
    K = logp.shape[0]
    loglik, ll, h, wh, c = _posteriors(
        logp, blk.dm_start, blk.n_situations,
        log_pi if has_shares else np.zeros((1, K)),
        w if w is not None else np.ones(blk.dm_start.shape[0]),
        class_weights if has_cw else np.zeros((1, K)),
        has_shares, has_cw)
    if not has_shares:
        ll = h = None
    if not derivatives:
        return loglik, ll, h, None, None, None, None
    grad, info, G = _derivatives(blk.D, P, c, blk.dm_start, blk.n_situations,
                                 information, scores)
    return (loglik, ll, h, wh, grad, info if information else None, G if scores else None)
