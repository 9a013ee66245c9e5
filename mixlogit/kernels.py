"""Vectorised numerical kernels of the latent-class logit.

Pure numpy, in log space, with no Python loop over rows, situations or
decision makers: the softmax family (per situation of long rows, per column of
a candidate set), log class shares from membership covariates, posteriors, and
the derivatives of the membership logit. The long form's hot loop, one fused
pass per EM iteration over a differenced block layout, lives in
:mod:`mixlogit.likelihood.blocks` (with the optional compiled kernel of
:mod:`mixlogit._numba_kernels`).

Notation: W is the joint design ``[exog, invariant]`` (n_rows x Lw); the class
coefficients ``C`` (K x Lw) hold each class's ``[beta_k, delta]``.
"""
from __future__ import annotations

import numpy as np


def logsumexp(a: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """Log-sum-exp along an axis (max-shifted), for small dense arrays."""
    peak = np.max(a, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    out = np.log(np.sum(np.exp(a - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axis)

__all__ = [
    "logsumexp",
    "situation_softmax",
    "column_softmax",
    "log_class_shares",
    "posteriors",
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
