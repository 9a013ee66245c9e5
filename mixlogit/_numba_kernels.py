"""The optional compiled kernel of the fused long-form pass (numba).

Install with ``pip install mixlogit[fast]`` (or ``pip install numba``); without
numba this module imports and :data:`AVAILABLE` is False. It computes, per
block of the differenced layout of :mod:`mixlogit.likelihood.blocks`, exactly
what the numpy reference ``_block_numpy`` computes (the tests compare them to
1e-12) from the exponentiated utility differences ``E``: the class
log-likelihoods and posteriors of the block's decision makers, and on request
the weighted class gradients, informations and per-decision-maker scores. The
GEMM and the ``exp`` stay in numpy (numpy's SIMD ``exp`` is about five times
faster than numba's scalar one); everything after them is one compiled call
per block:

1. ``T = 1 + sum_j E_j`` per class and situation (a non-finite total sends the
   block back to numpy's max-shifted softmax);
2. ``log L_nk = -log prod_s T_ks``: one ``log`` per decision maker and class,
   not per situation (numba's scalar ``log`` costs as much as the rest of the
   pass); the products run with the classes innermost (independent multiply
   chains) and without a test per factor; a product above :data:`_FLUSH` is
   recomputed as a sum of logs, flushed before it could overflow;
3. the posteriors ``h_k = (pi_k / prod_k) / sum_j (pi_j / prod_j)`` from the
   shares ``pi = exp(log_pi)`` (vectorised by numpy once per pass): one ``log``
   per decision maker for the observed log-likelihood and no scalar ``exp``
   (a decision maker with a term below :data:`_TINY` takes the max-shifted
   log-domain formula instead), and the class weights ``wh``;
4. the derivatives, never storing ``P_j = E_j / T`` or ``dbar = sum_j P_j d_j``
   for the whole block: for designs of up to :data:`UNROLL_MAX_COLUMNS` columns
   and :data:`UNROLL_MAX_OTHERS` non-chosen alternatives by kernels generated for
   the shape (:func:`unrolled_source`: one loop over situations, every column,
   pair and alternative a scalar), otherwise by generic loops over chunks of
   :data:`CHUNK` situations whose temporaries stay in L1.

The loops run over situations innermost (the layout stores them contiguously),
so the compiler vectorises them; they index through 1-d views or unsigned
indices (an index ``s0 + s`` that might be negative, as far as the compiler
knows, stops vectorisation). Compiled with ``cache=True`` (the first call in a
new environment compiles, ~4 s; later processes load the cache, ~0.35 s), the
generated modules written where numba can cache them (:func:`unrolled_kernels`),
``error_model="numpy"`` (no checked division) and only the ``reassoc``/
``contract`` fast-math flags (so sums over situations vectorise; infinities
and NaNs keep their IEEE meaning, which the masked padding (``exp(-inf) = 0``)
and the overflow check need).
"""
from __future__ import annotations

import numpy as np

try:
    import numba
except ImportError:  # the compiled kernel is optional
    numba = None  # type: ignore[assignment]  # the optional-import idiom: None marks "absent"

from ._numba_unrolled import (  # re-exported: the generated kernels are part of this engine
    UNROLL_MAX_COLUMNS,
    UNROLL_MAX_OTHERS,
    unrolled_kernels,
    unrolled_source,
)

__all__ = ["AVAILABLE", "CHUNK", "block_pass", "unrolled_kernels", "unrolled_source",
           "UNROLL_MAX_COLUMNS", "UNROLL_MAX_OTHERS"]

#: whether numba is installed
AVAILABLE = numba is not None

#: situations per chunk of the generic derivative loops: the chunk's ``D``, ``P``,
#: ``dbar`` and weighted copies (~0.3 kB per situation at Lw = 5, J1 = 3, K = 3) stay
#: in L1; of 64..2048 at 4e6 rows, 128-512 were fastest (within 5%; 64 and 2048 10%
#: slower)
CHUNK = 128

_FLAGS = {"reassoc", "contract"}
#: a running product of situation totals is flushed into the sum of logs above this
#: (two factors below it cannot overflow)
_FLUSH = 1e150
#: below this a share over a product of totals (or the sum of such terms) may have lost
#: relative precision or underflowed: the decision maker takes the log-domain mixture
_TINY = 1e-280
_DUMMY_2D = np.zeros((1, 1))
_DUMMY_1D = np.zeros(1)
_DUMMY_3D = np.zeros((1, 1, 1))


def _jit(func):
    if numba is None:
        return func
    return numba.njit(cache=True, error_model="numpy", fastmath=_FLAGS, nogil=True)(func)


@_jit
def _totals(E, base, has_shift, T):  # pragma: no cover - compiled
    """``T = base + sum_j E_j`` (K, S), base 1 or the shifted softmax's ``exp(-peak)``;
    returns the sum of all ``T`` (finite exactly when every ``T`` is: all are >= 1).
    Through 1-d views: the loops vectorise."""
    K, J1, S = E.shape
    total = 0.0
    for k in range(K):
        Tk = T[k]
        if has_shift:
            bk = base[k]
            for s in range(S):
                Tk[s] = bk[s]
        else:
            for s in range(S):
                Tk[s] = 1.0
        for j in range(J1):
            Ej = E[k, j]
            for s in range(S):
                Tk[s] += Ej[s]
        for s in range(S):
            total += Tk[s]
    return total


@_jit
def _log_product(T, k, s0, s1):  # pragma: no cover - compiled
    """``sum_s log T[k, s]`` over ``s0 <= s < s1`` with one ``log`` per overflow-safe product."""
    acc = 1.0
    lg = 0.0
    for s in range(s0, s1):
        t = T[k, s]
        if acc > _FLUSH or t > _FLUSH:
            lg += np.log(acc)
            acc = t
        else:
            acc *= t
    return lg + np.log(acc)


@_jit
def _class_loglik(T, peak, has_shift, dm_start, n_sit, loglik):  # pragma: no cover
    """``log L_nk = -sum_s (peak_ks + log T_ks)`` over each decision maker's situations."""
    K = T.shape[0]
    for n in range(dm_start.shape[0]):
        s0 = dm_start[n]
        s1 = s0 + n_sit[n]
        for k in range(K):
            lg = _log_product(T, k, s0, s1)
            if has_shift:
                for s in range(s0, s1):
                    lg += peak[k, s]
            loglik[n, k] = -lg


@_jit
def _mixture_one(loglik, log_pi, n, ll, h):  # pragma: no cover - compiled
    """The max-shifted log-domain mixture of decision maker ``n``."""
    K = loglik.shape[1]
    peak = -np.inf
    for k in range(K):
        peak = max(peak, log_pi[n, k] + loglik[n, k])
    tot = 0.0
    for k in range(K):
        h[n, k] = np.exp(log_pi[n, k] + loglik[n, k] - peak)
        tot += h[n, k]
    ll[n] = peak + np.log(tot)
    for k in range(K):
        h[n, k] /= tot


@_jit
def _spread(wh, dm_start, n_sit, cc):  # pragma: no cover - compiled
    """``cc[k, s] = wh[n, k]`` over the situations ``s`` of every decision maker ``n``."""
    Nb, K = wh.shape
    for n in range(Nb):
        # unsigned: the compiler knows the index is not negative (no wraparound check)
        s0 = np.uint64(dm_start[n])
        s1 = s0 + np.uint64(n_sit[n])
        for k in range(K):
            v = wh[n, k]
            for s in range(s0, s1):
                cc[k, s] = v


@_jit
def _first_dm(dm_start, n_sit, n, s0):  # pragma: no cover - compiled
    """The decision maker of situation ``s0``, searching on from decision maker ``n``."""
    while dm_start[n] + n_sit[n] <= s0:
        n += 1
    return n


@_jit
def _chunk_weights(wh, dm_start, n_sit, n, s0, s1, cc):  # pragma: no cover - compiled
    """``cc[k, s - s0] = wh[dm(s), k]`` for the chunk's situations (decision makers may
    straddle chunk boundaries)."""
    K = wh.shape[1]
    Nb = dm_start.shape[0]
    while n < Nb and dm_start[n] < s1:
        a = max(dm_start[n], s0)
        b = min(dm_start[n] + n_sit[n], s1)
        for k in range(K):
            for s in range(a, b):
                cc[k, s - s0] = wh[n, k]
        n += 1


@_jit
def _chunk_scores(dbar, dm_start, n_sit, n, s0, s1, G, k):  # pragma: no cover - compiled
    """``G[k, :, dm] -= sum_s dbar[:, s]`` over the chunk's part of each decision maker."""
    Lw = dbar.shape[0]
    Nb = dm_start.shape[0]
    while n < Nb and dm_start[n] < s1:
        a = max(dm_start[n], s0) - s0
        b = min(dm_start[n] + n_sit[n], s1) - s0
        for l in range(Lw):
            acc = 0.0
            for s in range(a, b):
                acc += dbar[l, s]
            G[k, l, n] -= acc
        n += 1


@_jit
def _chunk_class(E, D, T, cc, k, s0, s1, inv, q, dbar, r, grad, info,
                 information):  # pragma: no cover - compiled
    """One class on one chunk: ``P``, ``dbar``, the gradient and the ``dbar dbar'`` part of
    the information; stores ``r = c P`` for the ``sum_j P_j d_j d_j'`` part.

    The chunk's data are read through 1-d slices: an index ``s0 + s`` (which
    might be negative, as far as the compiler knows) would stop vectorisation.
    """
    Lw, J1, _ = D.shape
    m = s1 - s0
    Tk = T[k, s0:s1]
    ck = cc[k]
    for s in range(m):
        inv[s] = 1.0 / Tk[s]
    for j in range(J1):
        Ej = E[k, j, s0:s1]
        qj = q[j]
        for s in range(m):
            qj[s] = Ej[s] * inv[s]
    for l in range(Lw):
        dl = dbar[l]
        D0 = D[l, 0, s0:s1]
        q0 = q[0]
        for s in range(m):
            dl[s] = q0[s] * D0[s]
        for j in range(1, J1):
            Dj = D[l, j, s0:s1]
            qj = q[j]
            for s in range(m):
                dl[s] += qj[s] * Dj[s]
        acc = 0.0
        for s in range(m):
            acc += ck[s] * dl[s]
        grad[k, l] -= acc
    if information:
        for j in range(J1):
            rj = r[k, j]
            qj = q[j]
            for s in range(m):
                rj[s] = ck[s] * qj[s]
        for a in range(Lw):
            da = dbar[a]
            for b in range(a + 1):
                db = dbar[b]
                acc = 0.0
                for s in range(m):
                    acc += ck[s] * da[s] * db[s]
                info[k, a, b] -= acc


@_jit
def _chunk_products(D, r, s0, s1, prod, info):  # pragma: no cover - compiled
    """``info_k += sum_s sum_j r_kj d_j d_j'`` on one chunk, ``d_a d_b`` formed once for all
    classes."""
    Lw, J1, _ = D.shape
    K = r.shape[0]
    m = s1 - s0
    for j in range(J1):
        for a in range(Lw):
            Da = D[a, j, s0:s1]
            for b in range(a + 1):
                Db = D[b, j, s0:s1]
                for s in range(m):
                    prod[s] = Da[s] * Db[s]
                for k in range(K):
                    rk = r[k, j]
                    acc = 0.0
                    for s in range(m):
                        acc += rk[s] * prod[s]
                    info[k, a, b] += acc


@_jit
def _derivatives(E, D, T, wh, dm_start, n_sit, information, scores, grad, info, G):  # pragma: no cover
    """Weighted class gradients, informations (lower triangle) and scores, chunk by chunk."""
    Lw, J1, S = D.shape
    K = E.shape[0]
    B = min(CHUNK, S)
    q = np.empty((J1, B))
    dbar = np.empty((Lw, B))
    r = np.empty((K, J1, B))
    cc = np.empty((K, B))
    prod = np.empty(B)
    inv = np.empty(B)
    n = 0
    for s0 in range(0, S, B):
        m = min(B, S - s0)
        n = _first_dm(dm_start, n_sit, n, s0)
        _chunk_weights(wh, dm_start, n_sit, n, s0, s0 + m, cc)
        for k in range(K):
            _chunk_class(E, D, T, cc, k, s0, s0 + m, inv, q, dbar, r, grad, info, information)
            if scores:
                _chunk_scores(dbar, dm_start, n_sit, n, s0, s0 + m, G, k)
        if information:
            _chunk_products(D, r, s0, s0 + m, prod, info)


@_jit
def _symmetrise(info):  # pragma: no cover - compiled
    K, Lw, _ = info.shape
    for k in range(K):
        for a in range(Lw):
            for b in range(a):
                info[k, b, a] = info[k, a, b]


@_jit
def _dm_products(T, dm_start, n_sit, prod):  # pragma: no cover - compiled
    """``prod[n, k] = prod_s T[k, s]`` over each decision maker's situations.

    Classes innermost: their products are independent chains the processor
    overlaps (one chain per class in turn waits on every multiply's latency).
    Only valid where no product overflows (:func:`_dm_logliks` checks).
    """
    K = T.shape[0]
    for n in range(dm_start.shape[0]):
        s0 = np.uint64(dm_start[n])
        for k in range(K):
            prod[n, k] = 1.0
        for s in range(s0, s0 + np.uint64(n_sit[n])):
            for k in range(K):
                prod[n, k] *= T[k, s]


@_jit
def _dm_logliks(T, prod, dm_start, n_sit, loglik):  # pragma: no cover - compiled
    """``log L_nk = -log prod[n, k]``, or the flushed sum of logs where the product is
    too big to trust (:func:`_log_product`); returns whether every product was exact."""
    Nb, K = prod.shape
    exact = True
    for n in range(Nb):
        for k in range(K):
            a = prod[n, k]
            if a < _FLUSH:
                loglik[n, k] = -np.log(a)
            else:
                s0 = dm_start[n]
                loglik[n, k] = -_log_product(T, k, s0, s0 + n_sit[n])
                prod[n, k] = np.inf   # marks the decision maker for the log-domain mixture
                exact = False
    return exact


@_jit
def _product_mixture(prod, pi, loglik, log_pi, w, cw, has_cw, ll, h, wh):  # pragma: no cover
    """Observed log-likelihoods, posteriors and class weights from ``pi_k / prod_k``
    (``L_nk = 1 / prod_k``): one ``log`` per decision maker, no ``exp``.

    A decision maker whose terms are not all normal numbers (a product marked
    inf, a share or likelihood below :data:`_TINY`) takes the log-domain formula
    of :func:`_mixture`, so every posterior keeps its relative precision.
    """
    Nb, K = prod.shape
    for n in range(Nb):
        tot = 0.0
        low = np.inf
        for k in range(K):
            t = pi[n, k] / prod[n, k]
            h[n, k] = t
            tot += t
            low = min(low, t)
        if low > _TINY:
            ll[n] = np.log(tot)
            r = 1.0 / tot
            for k in range(K):
                h[n, k] *= r
        else:
            _mixture_one(loglik, log_pi, n, ll, h)
        for k in range(K):
            wh[n, k] = cw[n, k] if has_cw else w[n] * h[n, k]


@_jit
def _front(E, peak, base, has_shift, dm_start, n_sit, pi, log_pi, w, cw, has_shares, has_cw,
           derivatives):  # pragma: no cover - compiled
    """Situation totals, class log-likelihoods, posteriors and class weights of a block.

    Returns ``ok`` (False, and nothing meaningful else, when a total overflowed),
    ``T`` (K, S), ``loglik``, ``ll``, ``h``, ``wh`` and, with ``derivatives``,
    the class weight of every situation ``cc`` (K, S). Without a shift the
    likelihoods come from products of totals (:func:`_dm_products`) and the
    posteriors from the shares ``pi`` (:func:`_product_mixture`): one ``log``
    per decision maker and class plus one per decision maker, no ``exp``.
    """
    K, J1, S = E.shape
    Nb = dm_start.shape[0]
    T = np.empty((K, S))
    loglik = np.empty((Nb, K))
    ll = np.empty(Nb if has_shares else 0)
    h = np.zeros((Nb, K))
    wh = np.empty((Nb, K))
    cc = np.empty((K, S if derivatives else 0))
    prod = np.empty((Nb, K))
    if has_shift:
        _totals(E, base, True, T)
        _class_loglik(T, peak, True, dm_start, n_sit, loglik)
        for n in range(Nb):   # no products: every decision maker takes the log domain
            for k in range(K):
                prod[n, k] = np.inf
    else:
        if not _totals(E, base, False, T) < np.inf:   # an overflow (or NaN): numpy shifts
            return False, T, loglik, ll, h, wh, cc
        _dm_products(T, dm_start, n_sit, prod)
        _dm_logliks(T, prod, dm_start, n_sit, loglik)
    if has_shares:
        _product_mixture(prod, pi, loglik, log_pi, w, cw, has_cw, ll, h, wh)
    elif has_cw:
        for n in range(Nb):   # a loop: slice assignment costs seconds of compile time
            for k in range(K):
                wh[n, k] = cw[n, k]
    if derivatives:
        _spread(wh, dm_start, n_sit, cc)
    return True, T, loglik, ll, h, wh, cc


@_jit
def _generic_derivatives(E, D, T, wh, dm_start, n_sit, information, scores):  # pragma: no cover
    """The derivatives with loops over the design's shape (designs too big to unroll)."""
    K, Lw = E.shape[0], D.shape[0]
    grad = np.zeros((K, Lw))
    info = np.zeros((K, Lw, Lw) if information else (0, 0, 0))
    G = np.zeros((K, Lw, dm_start.shape[0] if scores else 0))
    _derivatives(E, D, T, wh, dm_start, n_sit, information, scores, grad, info, G)
    if information:
        _symmetrise(info)
    return grad, info, G


def block_pass(blk, E, log_pi, w, class_weights, derivatives, information, scores,
               shift=None, shares=None):
    """Posteriors and derivatives of one block from ``E = exp(V)`` (K, J1, S_b).

    Parameters
    ----------
    blk : DiffBlock
    E : ndarray, shape (K, J1, S_b)
        Exponentiated utility differences (masked entries 0), C-contiguous.
    log_pi, w, class_weights : ndarray or None
        The block's rows of the log shares, weights and class weights (C-contiguous).
    derivatives, information, scores : bool
    shift : tuple of ndarray, optional
        ``(peak, exp(-peak))``, each (K, S_b), when ``E`` is the max-shifted softmax.
    shares : ndarray, optional
        ``exp(log_pi)`` (C-contiguous), computed from ``log_pi`` when not given (the
        caller computes it once for all blocks: numpy's vectorised ``exp``).

    Returns
    -------
    tuple or None
        ``(loglik, ll, h, wh, grad, info, G)`` as ``blocks._block_numpy``; None when
        a situation total overflowed (retry with ``shift``).
    """
    if numba is None:
        raise ImportError("the compiled kernel needs numba: pip install mixlogit[fast]")
    has_shares = log_pi is not None
    has_cw = class_weights is not None
    peak, base = shift if shift is not None else (_DUMMY_2D, _DUMMY_2D)
    if has_shares and shares is None:
        shares = np.exp(log_pi)
    ok, T, loglik, ll, h, wh, cc = _front(
        E, peak, base, shift is not None, blk.dm_start, blk.n_situations,
        shares if has_shares else _DUMMY_2D, log_pi if has_shares else _DUMMY_2D, w if w is not None else _DUMMY_1D,
        class_weights if has_cw else _DUMMY_2D, has_shares, has_cw, derivatives)
    if not ok:
        return None
    if not has_shares:
        ll = h = None
    if not derivatives:
        return loglik, ll, h, None, None, None, None
    grad, info, G = _block_derivatives(blk, E, T, wh, cc, information, scores)
    return loglik, ll, h, wh, grad, info if information else None, G if scores else None


def _block_derivatives(blk, E, T, wh, cc, information, scores):
    """Gradient, information and scores: the unrolled kernel of the block's shape if any."""
    Lw, J1, _ = blk.D.shape
    kernels = unrolled_kernels(Lw, J1)
    if kernels is None:
        return _generic_derivatives(E, blk.D, T, wh, blk.dm_start, blk.n_situations,
                                    information, scores)
    K = E.shape[0]
    grad = np.empty((K, Lw))
    info = np.empty((K, Lw, Lw)) if information else _DUMMY_3D
    kernels["information" if information else "gradient"](
        E, blk.D, T, cc, blk.dm_start, blk.n_situations, grad, info)
    G = None
    if scores:
        G = np.empty((K, Lw, blk.dm_start.shape[0]))
        kernels["scores"](E, blk.D, T, blk.dm_start, blk.n_situations, G)
    return grad, info, G
