"""The per-draw Fisher information of the counts model (ALGORITHMS.md 7); see
:mod:`mixlogit.starts.moments`."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp

from ...data.whitening import as_features as _as_features
from ...exceptions import SpecificationError

__all__ = ["counts_fisher_information"]


def counts_fisher_information(
    features: ArrayLike, betas: ArrayLike, shares: ArrayLike
) -> NDArray[np.float64]:
    """Per-draw Fisher information of the counts model (``ALGORITHMS.md`` 7).

    Parameters
    ----------
    features : array_like, shape (p, L)
        Candidate features (original coordinates).
    betas : array_like, shape (K, L)
        Component coefficients.
    shares : array_like, shape (K,)
        Positive mixture shares summing to one.

    Returns
    -------
    ndarray, shape (K L + K - 1, K L + K - 1)
        ``I(theta) = sum_j grad pi_j grad pi_j' / pi_j``, the information of ONE
        draw (multiply by ``N`` for ``N`` draws), symmetric positive
        semi-definite. Parameter order: ``theta = (beta_1, ..., beta_K,
        gamma_2, ..., gamma_K)`` (``beta_k`` blocks of length ``L`` in
        component order, then the share logits with ``alpha = softmax(0, gamma)``;
        see :func:`shares_to_logits`).

    Notes
    -----
    With ``pi_j = sum_k alpha_k sigma_j(beta_k)``:
    ``d pi_j / d beta_k = alpha_k sigma_j(beta_k) (x_j - mu_k)``,
    ``mu_k = sum_l sigma_l(beta_k) x_l``, and since
    ``d alpha_k / d gamma_m = alpha_k (1[k=m] - alpha_m)``,
    ``d pi_j / d gamma_m = alpha_m (sigma_j(beta_m) - pi_j)``. The softmax is
    computed with log-sum-exp and the rows ``grad pi_j / sqrt(pi_j)`` in log
    space, so no probability underflows to a division by zero. The matrix is
    singular when the softmax shift is not identified (a constant feature) or
    when components coincide.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.starts.moments import counts_fisher_information
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> info = counts_fisher_information(X, np.array([[1.0, 0.0], [-1.0, 0.5]]), np.array([0.6, 0.4]))
    >>> info.shape, bool(np.allclose(info, info.T))
    ((5, 5), True)
    """
    X = _as_features(features)
    p, L = X.shape
    B = np.asarray(betas, dtype=float)
    if B.ndim == 1:
        B = B[None, :]
    if B.ndim != 2 or B.shape[1] != L or not np.all(np.isfinite(B)):
        raise SpecificationError(f"`betas` must be a finite K x L array with L={L}, got shape {B.shape}")
    K = B.shape[0]
    a = np.asarray(shares, dtype=float).reshape(-1)
    if a.shape[0] != K or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise SpecificationError(f"`shares` must be {K} positive numbers (one per row of `betas`)")
    if abs(a.sum() - 1.0) > 1e-8:
        raise SpecificationError(f"`shares` must sum to one, got {a.sum():.10g}")
    eta = X @ B.T  # p x K
    logS = eta - logsumexp(eta, axis=0, keepdims=True)  # log sigma_j(beta_k)
    S = np.exp(logS)
    mu = S.T @ X  # K x L
    logA = np.log(a)
    logpi = logsumexp(logS + logA, axis=1)  # p
    pi = np.exp(logpi)
    # rows of grad pi_j / sqrt(pi_j), computed in log space where possible
    q = np.exp(logS + logA - 0.5 * logpi[:, None])  # alpha_k sigma_jk / sqrt(pi_j)
    Gb = q[:, :, None] * (X[:, None, :] - mu[None, :, :])  # p x K x L
    Gg = q[:, 1:] - a[1:] * np.sqrt(pi)[:, None]  # alpha_m (sigma_jm - pi_j) / sqrt(pi_j)
    G = np.concatenate([Gb.reshape(p, K * L), Gg], axis=1)
    info = G.T @ G
    return (info + info.T) / 2.0
