"""The long-form kernels before the fused engine (mixlogit commit a514a90), for benchmarks/engine.py.

A verbatim copy of ``Block``, ``make_blocks``, ``_block_softmax``, ``ClassState``,
``class_state`` and ``class_derivatives`` of ``mixlogit/kernels.py`` at that commit
(row layout: one row per (situation, alternative), per-class probabilities over
rows, per-situation sums by sparse products), plus :func:`em_iteration`, the
generalized EM step of that commit's ``LongLikelihood`` (closed-form shares, one
Newton step with step halving on the class coefficients), so the benchmark
times the previous code on the same data in the same process.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

BLOCK_ROWS = 1 << 13
SINGLE_BLOCK_ROWS = 1 << 15


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


class PreviousEngine:
    """The previous code's data arrays and EM step for class-specific terms and plain shares."""

    def __init__(self, data):
        self.design_t = np.ascontiguousarray(np.hstack([data.exog, data.exog_invariant]).T)
        self.blocks = make_blocks(data.situation_start, data.chosen_row, data.n_rows)
        S, N = data.n_situations, data.n_decision_makers
        self.summer = sparse.csr_matrix(
            (np.ones(S), np.arange(S), np.append(data.decision_maker_start, S)), shape=(N, S))
        self.dm_of_situation = np.asarray(data.decision_maker_of_situation)
        self.weights = np.asarray(data.weights, float)

    @property
    def nbytes(self) -> int:
        return self.design_t.nbytes

    def state(self, C):
        return class_state(self.design_t, C, self.blocks, self.summer, keep_probabilities=True)

    def em_iteration(self, C, log_alpha, state):
        """One EM iteration (E-step, shares, one Newton step on each class): new C, shares, state, llf."""
        a = log_alpha + state.loglik
        peak = a.max(axis=1, keepdims=True)
        ll = (peak + np.log(np.exp(a - peak).sum(axis=1, keepdims=True)))[:, 0]
        h = np.exp(a - ll[:, None])
        wh = self.weights[:, None] * h
        total = wh.sum(axis=0)
        log_alpha = np.log(total / total.sum())
        c = wh[self.dm_of_situation]
        _, grad, info, _ = class_derivatives(self.design_t, C, self.blocks, c,
                                             probabilities=state.probabilities)
        step = np.stack([np.linalg.solve(info[k], grad[k]) for k in range(C.shape[0])])
        q_old = float(np.sum(c * state.logp_situation))
        t = 1.0
        for _ in range(40):
            new_state = self.state(C + t * step)
            if float(np.sum(c * new_state.logp_situation)) >= q_old - 1e-12 * abs(q_old):
                return C + t * step, log_alpha, new_state, float(self.weights @ ll)
            t *= 0.5
        return C, log_alpha, state, float(self.weights @ ll)
