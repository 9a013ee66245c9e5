"""The per-block differenced layout of long-format data and the fused pass over it.

The long-form engine works on blocks of whole decision makers, so the E-step
finishes inside a block. In each block the attributes of the joint design
``W = [exog, invariant]`` are stored differenced against the chosen
alternative of their situation,

    D[:, j, s] = w_{s, j} - w_{s, chosen}      (the j-th non-chosen alternative of s),

as one C-contiguous array of shape ``(Lw, J - 1, S_b)`` (``J`` the widest
choice set of the block; narrower situations are padded with masked entries,
``-inf`` added to their utilities). With that layout

* the utility differences of all classes are one GEMM, ``C @ D.reshape(Lw, -1)``;
* the log-probability of the choice is ``-log(1 + sum_j exp(v_j))``: no gather
  of the chosen utility and one exp fewer per situation; the sum over
  alternatives is ``J - 1`` contiguous vector adds, not a short-axis reduction;
* the class score of a situation is ``-dbar = -sum_j P_j d_j`` and its
  information ``sum_j P_j d_j d_j' - dbar dbar'`` (a softmax is shift
  invariant): gradient, information and per-decision-maker scores from ``D``
  alone.

One pass over the blocks (:func:`fused_pass`) returns the class
log-likelihoods, the posteriors (given the log class shares), and on request
the per-class weighted gradient and information of the M-step and the
per-decision-maker class scores. A utility difference that overflows switches
the block to a max-shifted softmax.

The layout is built once per :class:`~mixlogit.data.long.ChoiceData` object
(:func:`block_layout`, cached on the data object) from its public fields.
Engines: ``"numpy"`` (the reference), ``"numba"`` (the optional compiled kernel
of :mod:`mixlogit._numba_kernels`, ``pip install mixlogit[fast]``) and
``"auto"``: numba when it is installed and the data have at least
:data:`NUMBA_MIN_ROWS` rows, numpy otherwise.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import SpecificationError

__all__ = ["DiffBlock", "BlockLayout", "PassResult", "block_layout", "fused_pass",
           "resolve_engine", "BLOCK_ROWS", "NUMBA_MIN_ROWS", "ENGINES", "single_thread_blas"]

#: rows (situation x alternative) per block of whole decision makers (cache-sized; of
#: 2**11..2**16 at 4e6 rows, 2**12-2**13 were fastest for both engines; measured again
#: with the fused compiled kernel (benchmarks/fused_pass.py --block-rows): the compiled
#: passes within 5% over 2**13..2**15, numpy's information pass 5% slower at 2**14 and
#: 15% at 2**15, its order-0 pass 5-8% faster there: the EM pass decides)
BLOCK_ROWS = 1 << 13
#: data up to this many rows form one block (per-call overhead dominates there)
SINGLE_BLOCK_ROWS = 1 << 15
#: ``engine="auto"`` uses the compiled kernel from this many rows on. The cache load
#: (~0.4 s per process; the first compile in an environment ~4 s per design shape) is
#: repaid from about here: the whole 5-start fit at 4e5 rows took 1.1 s CPU compiled
#: against 2.1 s with numpy (benchmarks/engine.py), the EM pass is 3x faster
NUMBA_MIN_ROWS = 200_000
#: engine names accepted by ``engine=``
ENGINES = ("auto", "numpy", "numba")

_LAYOUTS: weakref.WeakKeyDictionary[Any, BlockLayout] = weakref.WeakKeyDictionary()
_CONTROLLER: list = []
_PIN_LOCK = threading.Lock()
_PINNED: list = [0]   # [number of active users, the active limiter]


# ------------------------------------------------------------------ threads
def _controller():
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # optional: without it BLAS keeps its own threads
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


@contextmanager
def single_thread_blas() -> Iterator[None]:
    """Pin BLAS to one thread inside the hot kernels (a no-op without threadpoolctl).

    OpenBLAS with several threads on the tall-skinny products of the kernels
    is slower than one thread, and far slower on a loaded machine; the kernels
    parallelise over blocks instead (``n_jobs``).

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.likelihood.blocks import single_thread_blas
    >>> with single_thread_blas():
    ...     float(np.ones((3, 4)) @ np.ones(4) @ np.ones(3))
    12.0
    """
    ctl = _controller()
    if ctl is None:
        yield
        return
    with _PIN_LOCK:  # nested and concurrent users share one limit; the last one restores
        if _PINNED[0] == 0:
            _PINNED.append(ctl.limit(limits=1, user_api="blas"))
        _PINNED[0] += 1
    try:
        yield
    finally:
        with _PIN_LOCK:
            _PINNED[0] -= 1
            if _PINNED[0] == 0:
                _PINNED.pop().restore_original_limits()


# ------------------------------------------------------------------ layout
@dataclass(frozen=True, eq=False)
class DiffBlock:
    """One block of whole decision makers in the differenced layout.

    Attributes
    ----------
    D : ndarray, shape (Lw, J1, S_b)
        Attributes minus the chosen alternative's, non-chosen alternatives only.
    mask : ndarray, shape (J1, S_b), or None
        ``0`` on real entries and ``-inf`` on padding (None without padding).
    decision_makers, situations : slice
        The block's decision makers and situations.
    dm_start : ndarray of int
        Offset of each decision maker's first situation inside the block.
    n_situations : ndarray of int
        Situations of each decision maker of the block.
    """

    D: np.ndarray
    mask: np.ndarray | None
    decision_makers: slice
    situations: slice
    dm_start: np.ndarray
    n_situations: np.ndarray

    @property
    def one_situation_each(self) -> bool:
        return self.dm_start.shape[0] == self.D.shape[2]


@dataclass(frozen=True, eq=False)
class BlockLayout:
    """The differenced blocks of one data set."""

    blocks: tuple
    n_decision_makers: int
    n_situations: int
    n_rows: int
    n_columns: int

    @property
    def nbytes(self) -> int:
        """Memory held by the layout."""
        return int(sum(b.D.nbytes + (0 if b.mask is None else b.mask.nbytes) for b in self.blocks))

    @property
    def max_width(self) -> int:
        return 1 + max(b.D.shape[1] for b in self.blocks)


def _block_bounds(dm_row_start: np.ndarray, n_rows: int, block_rows: int,
                  single_block_rows: int) -> np.ndarray:
    N = dm_row_start.shape[0]
    if n_rows <= single_block_rows:
        return np.array([0, N])
    bounds = np.searchsorted(dm_row_start, np.arange(0, n_rows, block_rows))
    return np.unique(np.append(bounds, N))


def _make_block(W: np.ndarray, start: np.ndarray, n_alt: np.ndarray, chosen: np.ndarray,
                dms: slice, situations: slice, dm_start: np.ndarray) -> DiffBlock:
    """Difference one block's rows ``W`` (rows_b, Lw) against each situation's chosen row."""
    S_b, Lw = start.shape[0], W.shape[1]
    J1 = int(n_alt.max()) - 1
    n_sit = np.diff(np.append(dm_start, S_b))
    if np.all(n_alt == J1 + 1):  # equal choice sets: a (S_b, J, Lw) view, no scatter
        W3 = W.reshape(S_b, J1 + 1, Lw)
        cpos = chosen - start
        Wt = W3.transpose(2, 1, 0)                       # (Lw, J, S_b) view
        chosen_rows = W3[np.arange(S_b), cpos].T         # (Lw, S_b)
        D = np.empty((Lw, J1, S_b))
        for j in range(J1):  # slot j holds alternative j before the chosen one, j + 1 after
            np.subtract(np.where(j < cpos, Wt[:, j, :], Wt[:, j + 1, :]), chosen_rows,
                        out=D[:, j, :])
        return DiffBlock(D, None, dms, situations, dm_start, n_sit)
    sit = np.repeat(np.arange(S_b), n_alt)
    pos = np.arange(W.shape[0]) - start[sit]
    cpos = (chosen - start)[sit]
    other = pos != cpos
    slot = (pos - (pos > cpos))[other]
    sit_o = sit[other]
    D = np.zeros((Lw, J1, S_b))
    D[:, slot, sit_o] = (W[other] - W[chosen[sit_o]]).T
    mask = None
    if np.any(n_alt != J1 + 1):
        mask = np.full((J1, S_b), -np.inf)
        mask[slot, sit_o] = 0.0
    return DiffBlock(D, mask, dms, situations, dm_start, n_sit)


def build_layout(data, *, block_rows: int = BLOCK_ROWS,
                 single_block_rows: int = SINGLE_BLOCK_ROWS) -> BlockLayout:
    """Build the differenced blocks of a :class:`~mixlogit.data.long.ChoiceData` (uncached).

    Blocks hold whole decision makers and about ``block_rows`` rows; data of
    at most ``single_block_rows`` rows form one block. Reads only the public fields ``exog_rows``, ``invariant_rows`` (gathered per block, so
    no sorted copy of the attributes is made),
    ``situation_start``, ``chosen_row`` and ``decision_maker_start``; the
    Python loop runs over blocks, never over rows.
    """
    n, S, N = data.n_rows, data.n_situations, data.n_decision_makers
    sit_start = np.asarray(data.situation_start)
    dm_start = np.asarray(data.decision_maker_start)
    sit_end = np.append(sit_start[1:], n)
    n_alt = sit_end - sit_start
    chosen_row = np.asarray(data.chosen_row)
    X, V = data.exog_rows, data.invariant_rows   # rows gathered block by block
    dm_sit_end = np.append(dm_start[1:], S)
    bounds = _block_bounds(sit_start[dm_start], n, block_rows, single_block_rows)
    blocks = []
    for n0, n1 in zip(bounds[:-1], bounds[1:]):
        s0, s1 = int(dm_start[n0]), int(dm_sit_end[n1 - 1])
        r0, r1 = int(sit_start[s0]), int(sit_end[s1 - 1])
        W = np.hstack([X[r0:r1], V[r0:r1]]) if V.shape[1] else np.asarray(X[r0:r1])
        blocks.append(_make_block(np.asarray(W, float), sit_start[s0:s1] - r0, n_alt[s0:s1],
                                  chosen_row[s0:s1] - r0, slice(int(n0), int(n1)),
                                  slice(s0, s1), dm_start[n0:n1] - s0))
    return BlockLayout(tuple(blocks), N, S, n, X.shape[1] + V.shape[1])


def block_layout(data) -> BlockLayout:
    """The differenced blocks of ``data``, built once per data object.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.data import ChoiceData
    >>> from mixlogit.likelihood.blocks import block_layout
    >>> data = ChoiceData.from_arrays([0, 1, 0, 1, 0], np.arange(5.0)[:, None],
    ...                               groups=[1, 1, 1, 2, 2])
    >>> lay = block_layout(data)
    >>> lay.blocks[0].D[0]      # x_j - x_chosen of the non-chosen alternatives, (J - 1, S)
    array([[-1.,  1.],
           [ 1.,  0.]])
    >>> lay.blocks[0].mask      # the second situation has one alternative fewer
    array([[  0.,   0.],
           [  0., -inf]])
    """
    try:
        lay = _LAYOUTS.get(data)
    except TypeError:  # a data object without hash or weak reference: no cache
        return build_layout(data)
    if lay is None:
        lay = build_layout(data)
        _LAYOUTS[data] = lay
    return lay


def share_layout(layout: BlockLayout, target) -> None:
    """Let ``target`` (the same rows with other weights) reuse ``layout``."""
    try:
        _LAYOUTS[target] = layout
    except TypeError:  # not cacheable: block_layout(target) builds it again
        pass


# ------------------------------------------------------------------ engines
def numba_available() -> bool:
    """Whether the optional compiled kernel can be used (numba importable)."""
    try:
        from .. import _numba_kernels
    except ImportError:
        return False
    return _numba_kernels.AVAILABLE


def resolve_engine(engine: str, n_rows: int) -> str:
    """The engine ``"numpy"`` or ``"numba"`` that ``engine`` means for ``n_rows`` rows.

    Examples
    --------
    >>> from mixlogit.likelihood.blocks import resolve_engine
    >>> resolve_engine("auto", 1000)
    'numpy'
    """
    if engine not in ENGINES:
        raise SpecificationError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "numba" and not numba_available():
        raise SpecificationError(
            "engine='numba' needs numba: pip install mixlogit[fast] (or numba), "
            "or use engine='numpy'")
    if engine == "auto":
        return "numba" if n_rows >= NUMBA_MIN_ROWS and numba_available() else "numpy"
    return engine


# ------------------------------------------------------------------ the pass
@dataclass(frozen=True, eq=False)
class PassResult:
    """What one pass over the blocks returns.

    Attributes
    ----------
    C : ndarray, shape (K, Lw)
        The class coefficients the pass used.
    loglik : ndarray, shape (N, K)
        ``log L_nk``.
    ll_obs, posteriors : ndarray or None
        ``log sum_k pi_nk L_nk`` (N,) and ``h_nk`` (N, K), when log shares were given.
    log_shares : ndarray or None
    wh : ndarray, shape (N, K), or None
        The decision-maker weights of the class objectives the derivatives are for.
    grad : ndarray, shape (K, Lw), or None
        ``sum_n wh_nk g_nk``, g_nk the gradient of ``log L_nk``.
    info : ndarray, shape (K, Lw, Lw), or None
        ``-sum_n wh_nk d2 log L_nk``.
    scores : ndarray, shape (K, Lw, N), or None
        Per-decision-maker class scores ``g_nk``.
    own_weights : bool
        The derivatives are for ``wh = weights * posteriors`` of this pass.
    """

    C: np.ndarray
    loglik: np.ndarray
    ll_obs: np.ndarray | None = None
    posteriors: np.ndarray | None = None
    log_shares: np.ndarray | None = None
    wh: np.ndarray | None = None
    grad: np.ndarray | None = None
    info: np.ndarray | None = None
    scores: np.ndarray | None = None
    own_weights: bool = False

    @property
    def has_derivatives(self) -> bool:
        return self.grad is not None


def _utilities(blk: DiffBlock, C: np.ndarray) -> np.ndarray:
    """The utility differences ``v_j - v_chosen`` of all classes (K, J1, S), padding ``-inf``."""
    Lw, J1, S = blk.D.shape
    V = (C @ blk.D.reshape(Lw, J1 * S)).reshape(C.shape[0], J1, S)
    if blk.mask is not None:
        V += blk.mask
    return V


def _exp_utilities(blk: DiffBlock, C: np.ndarray) -> np.ndarray:
    """``exp`` of the utility differences, computed in place (an overflow gives inf)."""
    V = _utilities(blk, C)
    with np.errstate(over="ignore"):
        return np.exp(V, out=V)


def _shifted_softmax(blk: DiffBlock, C: np.ndarray):
    """The max-shifted softmax of a block whose utilities overflow ``exp`` (rare).

    Returns ``E = exp(V - peak)`` (K, J1, S), ``peak`` (K, S) and ``exp(-peak)``
    (the chosen alternative's term), ``peak = max(0, max_j v_j)``.
    """
    V = _utilities(blk, C)
    peak = np.maximum(V.max(axis=1, initial=0.0), 0.0)
    V -= peak[:, None, :]
    return np.exp(V, out=V), peak, np.exp(-peak)


def _dm_sums(blk: DiffBlock, X: np.ndarray) -> np.ndarray:
    """Sums of ``X`` (..., S) over each decision maker's situations (..., N_b)."""
    return X if blk.one_situation_each else np.add.reduceat(X, blk.dm_start, axis=-1)


def _block_softmax(blk: DiffBlock, C: np.ndarray):
    """exp of the utility differences (K, J1, S), their totals ``T = 1 + sum_j exp(v_j)``
    (K, S) and the class log-likelihoods ``-sum_s log T`` (K, N_b)."""
    E = _exp_utilities(blk, C)
    T = np.add.reduce(E, axis=1, initial=1.0)
    loglik = _dm_sums(blk, np.log(T))
    # checked on the decision makers' sums, not on T: T >= 1, so only an inf or NaN in
    # T makes them non-finite
    if np.isfinite(loglik.sum()):
        return E, T, np.negative(loglik, out=loglik)
    # a utility far above the chosen one: shift by the maximum instead
    E, peak, base = _shifted_softmax(blk, C)
    T = E.sum(axis=1)
    T += base
    logT = np.log(T)
    logT += peak
    return E, T, -_dm_sums(blk, logT)


def _posteriors(log_pi: np.ndarray, loglik: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log sum_k exp(a_kn)`` (N,) and ``h_kn`` (K, N) for ``a = log_pi.T + loglik``.

    Classes along the first axis: the reductions over the few classes are then
    elementwise operations on rows of N (a reduction over a length-K last axis is
    several times slower).
    """
    a = log_pi.T + loglik
    peak = np.maximum.reduce(a, axis=0)
    a -= peak
    np.exp(a, out=a)
    total = np.add.reduce(a, axis=0)
    a /= total
    return peak + np.log(total), a


def _block_numpy(blk: DiffBlock, C: np.ndarray, log_pi: np.ndarray | None, w: np.ndarray,
                 class_weights: np.ndarray | None, derivatives: bool, information: bool,
                 scores: bool) -> tuple:
    """The fused pass over one block with numpy (the reference path)."""
    E, T, loglik = _block_softmax(blk, C)   # class-major (K, N_b) until the end: see _posteriors
    ll = h = None
    if log_pi is not None:
        ll, h = _posteriors(log_pi, loglik)
    if not derivatives:
        return loglik.T, ll, None if h is None else h.T, None, None, None, None
    assert h is not None or class_weights is not None  # fused_pass checks it
    whT = class_weights.T if class_weights is not None else h * w
    c = whT if blk.one_situation_each else np.repeat(whT, blk.n_situations, axis=1)
    grad, info, G = _numpy_derivatives(blk.D, E, T, c, information, scores)
    if scores:
        G /= T[:, None, :]
        G = _dm_sums(blk, G)
        np.negative(G, out=G)
    return (loglik.T, ll, None if h is None else h.T, whT.T, grad, info,
            G if scores else None)


def _numpy_derivatives(D: np.ndarray, E: np.ndarray, T: np.ndarray, c: np.ndarray,
                       information: bool, scores: bool) -> tuple:
    """Class gradients and informations of one block from ``E``, ``T`` and the situation
    weights ``c`` (K, S); also ``T dbar`` (K, Lw, S) for the scores.

    ``P_j = E_j / T`` is never formed: the weighted probabilities ``c P_j = E_j
    (c / T)`` (written over ``E``) give the gradient ``-sum c P_j d_j`` and the
    first information term ``sum c P_j d_j d_j'`` as GEMMs over ``(j, s)``, and
    ``T dbar = sum_j E_j d_j`` the second, ``sum (c / T^2) (T dbar)(T dbar)'``.
    """
    Lw, J1, S = D.shape
    K = E.shape[0]
    D2 = D.reshape(Lw, J1 * S)
    Tdbar = np.einsum("kjs,ljs->kls", E, D) if information or scores else None  # (K, Lw, S)
    r = c / T
    RP = np.multiply(E, r[:, None, :], out=E)           # c P_j (K, J1, S), E not needed again
    grad = -(RP.reshape(K, J1 * S) @ D2.T)
    info = None
    if information:
        assert Tdbar is not None  # computed with information
        RD = np.multiply(RP.reshape(K, 1, J1 * S), D2[None])
        info = (RD.reshape(K * Lw, J1 * S) @ D2.T).reshape(K, Lw, Lw)
        r /= T
        info -= np.matmul(Tdbar * r[:, None, :], Tdbar.transpose(0, 2, 1))
    return grad, info, Tdbar


def _block_numba(blk: DiffBlock, C: np.ndarray, log_pi: np.ndarray | None, w: np.ndarray,
                 class_weights: np.ndarray | None, derivatives: bool, information: bool,
                 scores: bool, shares: np.ndarray | None = None) -> tuple:
    """The fused pass over one block: numpy GEMM and exp, then one compiled call
    (``shares = exp(log_pi)``, computed once for all blocks by :func:`fused_pass`)."""
    from .. import _numba_kernels  # optional dependency, imported on first use

    options = (log_pi, w, class_weights, derivatives, information, scores)
    out = _numba_kernels.block_pass(blk, _exp_utilities(blk, C), *options, shares=shares)
    if out is None:  # a situation total overflowed: the max-shifted softmax instead
        E, peak, base = _shifted_softmax(blk, C)
        out = _numba_kernels.block_pass(blk, E, *options, shift=(peak, base))
    return out


def _kernel(engine: str):
    return _block_numba if engine == "numba" else _block_numpy


def fused_pass(layout: BlockLayout, C: np.ndarray, *, log_pi: np.ndarray | None = None,
               weights: np.ndarray | None = None, class_weights: np.ndarray | None = None,
               derivatives: bool = False, information: bool = False, scores: bool = False,
               engine: str = "numpy", n_jobs: int = 1) -> PassResult:
    """One pass over the blocks: class log-likelihoods, posteriors and derivatives.

    Parameters
    ----------
    layout : BlockLayout
    C : ndarray, shape (K, Lw)
        Class coefficients on the joint design ``[exog, invariant]``.
    log_pi : ndarray, shape (N, K), optional
        Log prior class shares; with them the pass returns the posteriors.
    weights : ndarray, shape (N,), optional
        Decision-maker frequency weights (needed with ``log_pi``).
    class_weights : ndarray, shape (N, K), optional
        Weights of the class objectives the derivatives are for; default
        ``weights * posteriors`` (the M-step at the pass's own posteriors).
    derivatives, information, scores : bool
        Return the class gradients; also the informations; also the
        per-decision-maker class scores.
    engine : {"numpy", "numba"}
    n_jobs : int
        Threads over blocks.

    Returns
    -------
    PassResult

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.data import ChoiceData
    >>> from mixlogit.likelihood.blocks import block_layout, fused_pass
    >>> data = ChoiceData.from_arrays([0, 1, 0, 1, 0], np.arange(5.0)[:, None],
    ...                               groups=[1, 1, 1, 2, 2])
    >>> res = fused_pass(block_layout(data), np.array([[0.0], [1.0]]),
    ...                  log_pi=np.log(np.full((2, 2), 0.5)), information=True)
    >>> bool(np.isclose(res.loglik[0, 0], np.log(1 / 3)))     # class 1: all utilities 0
    True
    >>> res.posteriors.shape, res.info.shape
    ((2, 2), (2, 1, 1))
    """
    C = np.ascontiguousarray(C, dtype=float)
    K, Lw = C.shape
    N = layout.n_decision_makers
    derivatives = derivatives or information or scores
    if derivatives and class_weights is None and log_pi is None:
        raise ValueError("derivatives need class_weights or log_pi")
    if log_pi is not None and weights is None:
        weights = np.ones(N)
    if engine == "numba":  # one compiled specialisation: C-contiguous float arrays only
        log_pi, weights, class_weights = (None if a is None else np.ascontiguousarray(a, float)
                                          for a in (log_pi, weights, class_weights))
    kernel = _kernel(engine)
    # the compiled kernel's posteriors are pi_k L_k / sum_j pi_j L_j: the shares' exp
    # vectorised once here, not one scalar exp per decision maker and class in each block
    shares = np.exp(log_pi) if engine == "numba" and log_pi is not None else None
    loglik = np.empty((N, K))
    ll_obs = np.empty(N) if log_pi is not None else None
    post = np.empty((N, K)) if log_pi is not None else None
    wh = np.empty((N, K)) if derivatives else None
    G = np.empty((K, Lw, N)) if scores else None

    def one(blk):
        sl = blk.decision_makers
        args = (blk, C, None if log_pi is None else log_pi[sl],
                None if weights is None else weights[sl],
                None if class_weights is None else class_weights[sl],
                derivatives, information, scores)
        return kernel(*args) if shares is None else kernel(*args, shares=shares[sl])

    blocks = layout.blocks
    parts: Iterable[tuple]
    with single_thread_blas() if layout.n_rows > SINGLE_BLOCK_ROWS else nullcontext():
        if n_jobs > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                parts = list(pool.map(one, blocks))
        else:
            parts = map(one, blocks)
        grad = np.zeros((K, Lw)) if derivatives else None
        info = np.zeros((K, Lw, Lw)) if information else None
        for blk, (ll_b, lo_b, h_b, wh_b, g_b, i_b, G_b) in zip(blocks, parts):
            sl = blk.decision_makers
            loglik[sl] = ll_b
            if ll_obs is not None and post is not None:  # both set when log_pi is given
                ll_obs[sl] = lo_b
                post[sl] = h_b
            if derivatives:
                assert wh is not None and grad is not None  # allocated when derivatives
                wh[sl] = wh_b
                grad += g_b
                if information:
                    assert info is not None
                    info += i_b
                if scores:
                    assert G is not None
                    G[:, :, sl] = G_b
    if derivatives and class_weights is not None:
        wh = class_weights
    own = derivatives and class_weights is None
    return PassResult(C, loglik, ll_obs, post, log_pi, wh, grad, info, G, own)
