"""Vectorised numerical kernels of the latent-class logit.

Pure numpy on the arrays of :class:`~mixlogit.data.ChoiceData`: every function
works on all rows at once through ``ufunc.reduceat`` over the situation and
decision-maker offsets, in log space, with no Python loop over rows,
situations or decision makers (the only loops run over the K classes).

Large data are processed in blocks of whole situations (:func:`make_blocks`),
which bounds the memory of per-row temporaries and keeps them in cache; the
per-situation sums are sparse matrix products, and the softmax is shifted by
the chosen alternative's utility (the log-probability of the choice is then
minus the log of one sum), falling back to the maximum when that overflows.

Notation: W is the joint design ``[exog, invariant]`` (n_rows x Lw); the class
coefficients ``C`` (K x Lw) hold each class's ``[beta_k, delta]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import sparse

#: rows per block of whole situations in the blocked kernels (cache-sized; measured best
#: of 2**13..2**16 at 4e5 rows)
BLOCK_ROWS = 1 << 13
#: data up to this many rows form one block (per-call overhead dominates there)
SINGLE_BLOCK_ROWS = 1 << 15


def logsumexp(a: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """Log-sum-exp along an axis (max-shifted), for small dense arrays."""
    peak = np.max(a, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    out = np.log(np.sum(np.exp(a - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axis)

__all__ = [
    "Block",
    "make_blocks",
    "logsumexp",
    "ClassState",
    "class_state",
    "situation_softmax",
    "column_softmax",
    "log_class_shares",
    "posteriors",
    "class_derivatives",
    "membership_derivatives",
]


def column_softmax(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Softmax over the candidates (rows) of each column of utilities.

    Parameters
    ----------
    eta : ndarray, shape (p, K)

    Returns
    -------
    sigma : ndarray, shape (p, K)
        ``exp(eta_jk) / sum_l exp(eta_lk)``.
    log_sigma : ndarray, shape (p, K)

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.kernels import column_softmax
    >>> sigma, log_sigma = column_softmax(np.array([[0.0, 1000.0], [0.0, 0.0]]))
    >>> sigma
    array([[0.5, 1. ],
           [0.5, 0. ]])
    """
    peak = eta.max(axis=0)
    E = np.exp(eta - peak)
    total = E.sum(axis=0)
    E /= total
    return E, eta - (peak + np.log(total))


def situation_softmax(U: np.ndarray, situation_start: np.ndarray, situation_of_row: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Row probabilities and per-situation log-sum-exp of utilities (max-shifted).

    Parameters
    ----------
    U : ndarray, shape (n_rows, K)
        Utilities; ``-inf`` marks an unavailable row.
    situation_start, situation_of_row : ndarray of int

    Returns
    -------
    P : ndarray, shape (n_rows, K)
        Softmax of U within each situation, column by column.
    lse : ndarray, shape (n_situations, K)
    """
    peak = np.maximum.reduceat(U, situation_start, axis=0)
    E = np.exp(U - peak[situation_of_row])
    total = np.add.reduceat(E, situation_start, axis=0)
    E /= total[situation_of_row]
    return E, peak + np.log(total)


@dataclass(frozen=True, eq=False)
class Block:
    """A run of whole situations: rows ``rows``, situations ``situations``."""

    rows: slice
    situations: slice
    start: np.ndarray           # local offsets of the situations' first rows
    n_alternatives: np.ndarray  # rows per situation
    chosen: np.ndarray          # local index of each situation's chosen row
    summer: sparse.csr_matrix   # (situations, rows) of ones: per-situation sums
    width: int | None           # the common number of alternatives, if all equal

    def situation_sums(self, Xt: np.ndarray) -> np.ndarray:
        """Sums over each situation's rows along the last axis: (..., rows) -> (..., situations)."""
        lead = Xt.shape[:-1]
        n_sit = self.start.shape[0]
        if self.width is not None:  # a matrix-vector product beats a short-axis sum
            return (Xt.reshape(-1, self.width) @ np.ones(self.width)).reshape(*lead, n_sit)
        flat = Xt.reshape(-1, Xt.shape[-1])
        return (self.summer @ flat.T).T.reshape(*lead, n_sit)

    def expand(self, Yt: np.ndarray) -> np.ndarray:
        """Repeat per-situation values on the situation's rows along the last axis."""
        if self.width is not None:
            return np.repeat(Yt, self.width, axis=-1)
        return np.repeat(Yt, self.n_alternatives, axis=-1)


def make_blocks(situation_start: np.ndarray, chosen_row: np.ndarray, n_rows: int,
                block_rows: int = BLOCK_ROWS) -> list[Block]:
    """Cut the rows into blocks of whole situations of about ``block_rows`` rows.

    Blocks bound the memory of the per-row temporaries (K x Lw x rows) and keep
    them in cache; the Python loop runs over blocks, never over rows.
    """
    S = situation_start.shape[0]
    if n_rows <= SINGLE_BLOCK_ROWS:
        block_rows = max(block_rows, n_rows)
    bounds = np.searchsorted(situation_start, np.arange(0, n_rows, block_rows))
    bounds = np.unique(np.append(bounds, S))
    ends = np.append(situation_start[1:], n_rows)
    blocks = []
    for s0, s1 in zip(bounds[:-1], bounds[1:]):
        r0, r1 = situation_start[s0], ends[s1 - 1]
        start = situation_start[s0:s1] - r0
        n_alt = ends[s0:s1] - situation_start[s0:s1]
        summer = sparse.csr_matrix((np.ones(r1 - r0), np.arange(r1 - r0), np.append(start, r1 - r0)),
                                   shape=(s1 - s0, r1 - r0))
        width = int(n_alt[0]) if np.all(n_alt == n_alt[0]) else None
        blocks.append(Block(slice(r0, r1), slice(s0, s1), start, n_alt,
                            chosen_row[s0:s1] - r0, summer, width))
    return blocks


def _block_softmax(Wt: np.ndarray, C: np.ndarray, block: Block):
    """Choice probabilities (K, rows) and log-probability of the choice (K, situations)."""
    U = C @ Wt
    shift = U[:, block.chosen]
    with np.errstate(over="ignore", invalid="ignore"):
        E = np.exp(U - block.expand(shift))
        total = block.situation_sums(E)
    if np.all(np.isfinite(total)):
        logp = -np.log(total)
    else:  # a utility far above the chosen one: shift by the maximum instead
        peak = np.maximum.reduceat(U, block.start, axis=1)
        E = np.exp(U - block.expand(peak))
        total = block.situation_sums(E)
        logp = shift - peak - np.log(total)
    E /= block.expand(total)
    return E, logp


@dataclass(frozen=True, eq=False)
class ClassState:
    """Per-class log-likelihood pieces at given class coefficients."""

    logp_situation: np.ndarray  # (n_situations, K) log-probability of the observed choice
    loglik: np.ndarray          # (n_decision_makers, K) log L_nk
    probabilities: np.ndarray | None = None  # (K, n_rows) when kept


def class_state(Wt: np.ndarray, C: np.ndarray, blocks: Sequence[Block],
                decision_maker_summer: sparse.csr_matrix, *,
                keep_probabilities: bool = False) -> ClassState:
    """Per-situation and per-decision-maker class log-likelihoods.

    Parameters
    ----------
    Wt : ndarray, shape (Lw, n_rows)
        The joint design, transposed (attributes by rows).
    C : ndarray, shape (K, Lw)
    blocks : list of Block
    decision_maker_summer : sparse matrix, shape (N, n_situations)
    keep_probabilities : bool
        Keep the choice probabilities (K x n_rows) for a following
        :func:`class_derivatives` at the same coefficients.

    Returns
    -------
    ClassState
    """
    logp = np.empty((blocks[-1].situations.stop, C.shape[0]))
    P = np.empty((C.shape[0], Wt.shape[1])) if keep_probabilities else None
    for b in blocks:
        Pb, lp = _block_softmax(Wt[:, b.rows], C, b)
        logp[b.situations] = lp.T
        if P is not None:
            P[:, b.rows] = Pb
    return ClassState(logp, decision_maker_summer @ logp, P)


def class_derivatives(Wt: np.ndarray, C: np.ndarray, blocks: Sequence[Block],
                      situation_weight: np.ndarray, *, need_information: bool = True,
                      need_deviations: bool = False, probabilities: np.ndarray | None = None):
    """Gradient and information of weighted conditional logits, one per class.

    For class k with situation weights c_sk the objective is
    sum_s c_sk log P_k(y_s); its gradient is sum_s c_sk (w_chosen - wbar_sk) and
    its information (minus the Hessian) is
    sum_s c_sk sum_j P_kj (w_j - wbar_sk)(w_j - wbar_sk)'.

    Parameters
    ----------
    Wt : ndarray, shape (Lw, n_rows)
        The joint design, transposed.
    C : ndarray, shape (K, Lw)
    blocks : list of Block
    situation_weight : ndarray, shape (n_situations, K)
    need_information : bool
        Compute the information matrices.
    need_deviations : bool
        Also return ``w_chosen - wbar_sk`` per situation, shape (S, K, Lw)
        (summed per decision maker they are the class scores).
    probabilities : ndarray, shape (K, n_rows), optional
        Choice probabilities at ``C`` already computed (``ClassState``); the
        softmax is then skipped and ``logp`` is not returned (None).

    Returns
    -------
    logp : ndarray, shape (S, K) or None
    grad : ndarray, shape (K, Lw)
    info : ndarray, shape (K, Lw, Lw) or None
    deviations : ndarray, shape (S, K, Lw) or None
    """
    K, Lw = C.shape
    S = blocks[-1].situations.stop
    logp = np.empty((S, K)) if probabilities is None else None
    grad = np.zeros((K, Lw))
    info = np.zeros((K, Lw, Lw)) if need_information else None
    deviations = np.empty((S, K, Lw)) if need_deviations else None
    for b in blocks:
        Wb = Wt[:, b.rows]
        if probabilities is None:
            P, lp = _block_softmax(Wb, C, b)
            logp[b.situations] = lp.T
        else:
            P = probabilities[:, b.rows]
        PW = P[:, None, :] * Wb[None, :, :]                  # (K, Lw, rows)
        Wbar = b.situation_sums(PW)                          # (K, Lw, situations)
        dev = Wb[:, b.chosen][None, :, :] - Wbar             # (K, Lw, situations)
        c = situation_weight[b.situations].T                 # (K, situations)
        grad += np.einsum("kls,ks->kl", dev, c)
        if need_information:
            PW *= b.expand(c)[:, None, :]
            first = np.matmul(PW, Wb.T)                      # (K, Lw, Lw)
            second = np.matmul(Wbar * c[:, None, :], Wbar.transpose(0, 2, 1))
            info += first - second
        if need_deviations:
            deviations[b.situations] = dev.transpose(2, 0, 1)
    return logp, grad, info, deviations


def log_class_shares(Z: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """log pi_nk = z_n' gamma_k - logsumexp_m z_n' gamma_m, shape (N, K)."""
    eta = Z @ gamma.T
    return eta - logsumexp(eta, axis=1, keepdims=True)


def posteriors(log_pi: np.ndarray, loglik: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-decision-maker log-likelihood and class posteriors.

    Returns
    -------
    ll : ndarray, shape (N,)
        log sum_k pi_nk L_nk.
    h : ndarray, shape (N, K)
        Posterior class probabilities.
    """
    a = log_pi + loglik
    ll = logsumexp(a, axis=1)
    h = np.exp(a - ll[:, None])
    return ll, h


def membership_derivatives(Z: np.ndarray, log_pi: np.ndarray, h: np.ndarray, weights: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and information of the weighted multinomial logit of posteriors on Z.

    The objective is sum_n w_n sum_k h_nk log pi_nk(gamma) over the free
    membership coefficients gamma_2..gamma_K (class 1 is the reference).

    Returns
    -------
    grad : ndarray, shape ((K-1) * Lz,)
    info : ndarray, shape ((K-1) * Lz, (K-1) * Lz)
    """
    pi = np.exp(log_pi[:, 1:])
    K1 = pi.shape[1]
    Lz = Z.shape[1]
    grad = ((weights[:, None] * (h[:, 1:] - pi)).T @ Z).ravel()
    wz = Z * weights[:, None]
    # info[(m,a),(m',b)] = sum_n w_n (pi_m [m=m'] - pi_m pi_m') z_a z_b
    cross = np.einsum("nm,nM,na,nb->mMab", pi, pi, wz, Z, optimize=True)
    diag = np.einsum("nm,na,nb->mab", pi, wz, Z, optimize=True)
    info = -cross
    info[np.arange(K1), np.arange(K1)] += diag
    return grad, info.transpose(0, 2, 1, 3).reshape(K1 * Lz, K1 * Lz)
