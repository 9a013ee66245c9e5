"""Vectorised numerical kernels of the latent-class logit.

Pure numpy on the arrays of :class:`~mixlogit.data.ChoiceData`: every function
works on all rows at once through ``ufunc.reduceat`` over the situation and
decision-maker offsets, in log space, with no Python loop over rows,
situations or decision makers (the only loops run over the K classes).

Notation: W is the joint design ``[exog, invariant]`` (n_rows x Lw); the class
coefficients ``C`` (K x Lw) hold each class's ``[beta_k, delta]``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

__all__ = [
    "ClassState",
    "class_state",
    "situation_softmax",
    "log_class_shares",
    "posteriors",
    "class_derivatives",
    "membership_derivatives",
]


def situation_softmax(U: np.ndarray, situation_start: np.ndarray, situation_of_row: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Row probabilities and per-situation log-sum-exp of utilities.

    Parameters
    ----------
    U : ndarray, shape (n_rows, K)
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
class ClassState:
    """Per-class quantities at given class coefficients."""

    P: np.ndarray             # (n_rows, K) choice probabilities of each class
    logp_situation: np.ndarray  # (n_situations, K) log-probability of the observed choice
    loglik: np.ndarray        # (n_decision_makers, K) log L_nk


def class_state(W: np.ndarray, C: np.ndarray, chosen_row: np.ndarray, situation_start: np.ndarray,
                situation_of_row: np.ndarray, decision_maker_start: np.ndarray) -> ClassState:
    """Choice probabilities and per-decision-maker class log-likelihoods.

    Parameters
    ----------
    W : ndarray, shape (n_rows, Lw)
    C : ndarray, shape (K, Lw)

    Returns
    -------
    ClassState
    """
    U = W @ C.T
    P, lse = situation_softmax(U, situation_start, situation_of_row)
    logp = U[chosen_row] - lse
    loglik = np.add.reduceat(logp, decision_maker_start, axis=0)
    return ClassState(P, logp, loglik)


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


def class_derivatives(W: np.ndarray, P: np.ndarray, chosen_row: np.ndarray,
                      situation_start: np.ndarray, situation_of_row: np.ndarray,
                      situation_weight: np.ndarray, *, decision_maker_start: np.ndarray | None = None,
                      need_information: bool = True):
    """Gradient and information of weighted conditional logits, one per class.

    For class k with situation weights c_sk the objective is
    sum_s c_sk log P_k(y_s); its gradient is sum_s c_sk (w_chosen - wbar_sk) and
    its information (minus the Hessian) is
    sum_s c_sk sum_j P_kj (w_j - wbar_sk)(w_j - wbar_sk)'.

    Parameters
    ----------
    W : ndarray, shape (n_rows, Lw)
    P : ndarray, shape (n_rows, K)
    situation_weight : ndarray, shape (n_situations, K)
    decision_maker_start : ndarray, optional
        When given, also return each decision maker's unweighted class score
        sum_t (w_chosen - wbar_k), shape (K, N, Lw).
    need_information : bool
        Skip the information matrices when False.

    Returns
    -------
    grad : ndarray, shape (K, Lw)
    info : ndarray, shape (K, Lw, Lw) or None
    dm_scores : ndarray, shape (K, N, Lw) or None
    """
    K = P.shape[1]
    Lw = W.shape[1]
    W_chosen = W[chosen_row]
    grad = np.empty((K, Lw))
    info = np.empty((K, Lw, Lw)) if need_information else None
    dm_scores = None
    if decision_maker_start is not None:
        dm_scores = np.empty((K, decision_maker_start.shape[0], Lw))
    for k in range(K):
        Pk = P[:, k]
        Wbar = np.add.reduceat(W * Pk[:, None], situation_start, axis=0)
        dev = W_chosen - Wbar
        ck = situation_weight[:, k]
        grad[k] = ck @ dev
        if need_information:
            r = ck[situation_of_row] * Pk
            info[k] = (W * r[:, None]).T @ W - (Wbar * ck[:, None]).T @ Wbar
        if dm_scores is not None:
            dm_scores[k] = np.add.reduceat(dev, decision_maker_start, axis=0)
    return grad, info, dm_scores


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
