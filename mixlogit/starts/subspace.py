"""Subspace start values for long-format data: the decision-maker score subspace.

ALGORITHMS.md section 3.5 (our extension). When the alternatives are not one
shared Gaussian design, the latent moments of section 3.2 do not apply, but
the heterogeneity of tastes still leaves a trace in the pooled (one-class)
conditional logit: at the pooled estimate ``beta_bar`` a decision maker whose
taste is ``beta_bar + delta_n`` has, to first order, the score
``s_n ~ A_n delta_n + e_n``, with ``A_n`` his information and ``e_n`` a noise of
covariance ``A_n``. Hence, with ``A = sum_n w_n A_n`` (minus the Hessian) and
``B = sum_n w_n s_n s_n'``,

    B - A ~ sum_n w_n A_n delta_n delta_n' A_n ~ N A_bar Cov(delta) A_bar,

and ``Sigma_between = N (A^{-1} B A^{-1} - A^{-1})`` estimates the covariance of
the tastes across decision makers (``N = sum_n w_n``): the robust sandwich
minus the model-based covariance, rescaled. With K classes it has rank
``K - 1``; its leading ``K - 1`` eigenvectors ``U`` span the directions along
which the classes differ and its eigenvalues ``lambda`` give the spread along
each. Starts are ``beta_k = beta_bar + U z_k`` with
``z_k ~ N(0, scale * diag(lambda))``, equal shares and the pooled class-invariant
coefficients.

Two choices of ours, to be read against the paper's Gaussian-design version
(section 3.4): (i) ALGORITHMS.md writes the subspace of ``A^{-1} B A^{-1}``;
subtracting ``A^{-1}`` removes the part the choice noise alone would produce,
so the eigenvectors follow the heterogeneity, not the precision of the design;
(ii) the scale of the draws is the estimated between-class spread per
direction, so no tuning constant is needed. The first-order approximation
understates the spread when classes are far apart (probabilities saturate);
``scale`` widens the draws.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..exceptions import IdentificationWarning, SpecificationError, warn
from ..likelihood import MixtureLikelihood
from ..params import ParamLayout
from ._common import rebuild

__all__ = ["ScoreSubspace", "score_subspace", "score_subspace_starts"]


class ScoreSubspace(NamedTuple):
    """The heterogeneity subspace of long-format data.

    Attributes
    ----------
    pooled : ndarray, shape (L + Lv,)
        Pooled one-class conditional logit estimate (class-specific terms,
        then class-invariant ones).
    basis : ndarray, shape (L, r)
        Orthonormal leading eigenvectors of the between-class covariance of the
        class-specific coefficients, ``r = min(K - 1, L)``.
    eigenvalues : ndarray, shape (L,)
        All its eigenvalues, descending (signed: it is a difference of two
        estimates, so trailing ones may be negative).
    covariance : ndarray, shape (L, L)
        ``N (A^{-1} B A^{-1} - A^{-1})`` restricted to the class-specific terms.
    sandwich : ndarray, shape (L, L)
        ``N A^{-1} B A^{-1}`` restricted to the class-specific terms.
    """

    pooled: np.ndarray
    basis: np.ndarray
    eigenvalues: np.ndarray
    covariance: np.ndarray
    sandwich: np.ndarray


def _inverse(A: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric information matrix, a pseudo-inverse when it is singular
    (the starts only need its leading directions; the results warn about singularity)."""
    A = 0.5 * (A + A.T)
    try:
        ci = np.linalg.inv(np.linalg.cholesky(A))
        return ci.T @ ci
    except np.linalg.LinAlgError:
        return np.linalg.pinv(A, hermitian=True)


def score_subspace(likelihood: MixtureLikelihood, dim: int) -> ScoreSubspace:
    """Estimate the decision-maker score subspace of dimension ``dim``.

    Parameters
    ----------
    likelihood : Likelihood
        Long-format likelihood (any number of classes: only its data, layout
        and fixed class-invariant values are used).
    dim : int
        Number of directions, at least 1 (the starts use ``K - 1``).

    Returns
    -------
    ScoreSubspace

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.starts.subspace import score_subspace
    >>> sim = mx.datasets.simulate.simulate_panel(n_decision_makers=300, seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 + x3 + x4 + x5 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=3)
    >>> sub = score_subspace(model.likelihood(), 2)
    >>> sub.basis.shape
    (5, 2)
    """
    data, lay = likelihood.data, likelihood.layout
    L, Lv = lay.k_exog, lay.k_invariant
    if not (isinstance(dim, (int, np.integer)) and 1 <= dim):
        raise SpecificationError(f"dim must be a positive integer, got {dim!r}")
    dim = min(int(dim), L)
    pooled_layout = ParamLayout(1, lay.exog_names, lay.invariant_names, lay.membership_names)
    mask = np.zeros(pooled_layout.n_params, bool)
    values = np.zeros(pooled_layout.n_params)
    inv = np.arange(lay.invariant_slice.start, lay.invariant_slice.stop)
    mask[L:L + Lv] = likelihood.fixed_mask[inv]
    values[L:L + Lv] = likelihood.fixed_values[inv]
    pooled_lik = rebuild(likelihood, pooled_layout, mask, values)
    theta, ev, _, _ = pooled_lik.polish(pooled_lik.apply_fixed(np.zeros(pooled_layout.n_params)),
                                        maxiter=100, tol=1e-13)
    free = ~mask
    w = data.weights
    assert ev.score_obs is not None and ev.hessian is not None  # polish evaluates to order 2
    S = ev.score_obs[:, free]
    B = (S * w[:, None]).T @ S
    A = -ev.hessian[np.ix_(free, free)]
    Ainv = _inverse(A)
    n_total = float(w.sum())
    robust = n_total * (Ainv @ B @ Ainv)
    between = robust - n_total * Ainv
    cov = 0.5 * (between[:L, :L] + between[:L, :L].T)
    sandwich = 0.5 * (robust[:L, :L] + robust[:L, :L].T)
    eigval, eigvec = np.linalg.eigh(cov)
    order = np.argsort(eigval)[::-1]
    eigval, eigvec = eigval[order], eigvec[:, order]
    idx = np.argmax(np.abs(eigvec), axis=0)
    eigvec = eigvec * np.sign(eigvec[idx, np.arange(L)])
    return ScoreSubspace(pooled=theta, basis=eigvec[:, :dim].copy(), eigenvalues=eigval,
                         covariance=cov, sandwich=sandwich)


def score_subspace_starts(likelihood: MixtureLikelihood, n_starts: int, rng: np.random.Generator, *,
                          scale: float = 1.0) -> list[tuple[str, np.ndarray]]:
    """Starts drawn in the decision-maker score subspace (``start="subspace"``, long form).

    Parameters
    ----------
    likelihood : Likelihood
        Long-format likelihood of the K-class model.
    n_starts : int
        Number of starts.
    rng : numpy.random.Generator
    scale : float, keyword-only
        Multiplies the variance of the draws (default 1: the estimated
        between-class spread along each direction).

    Returns
    -------
    list of (origin, params)
        ``beta_k = beta_bar + U z_k`` with ``z_k ~ N(0, scale * diag(lambda))``
        over the leading ``K - 1`` eigenpairs, the pooled class-invariant
        coefficients, and equal shares (zero membership coefficients).

    Warns
    -----
    IdentificationWarning
        When no direction shows excess score variance (every eigenvalue of the
        between-class covariance is non-positive): the data show no
        heterogeneity at the pooled estimate, and the draws then use the
        leading eigenpairs of ``N A^{-1} B A^{-1}`` instead.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(n_decision_makers=300, seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 + x3 + x4 + x5 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=3)
    >>> res = model.fit(start="subspace", n_starts=4, seed=0)
    >>> res.starts["origin"].tolist()
    ['subspace 0', 'subspace 1', 'subspace 2', 'subspace 3']
    """
    if not (np.isfinite(scale) and scale > 0):
        raise SpecificationError(f"scale must be a positive number, got {scale!r}")
    lay = likelihood.layout
    K, L = lay.k_classes, lay.k_exog
    sub = score_subspace(likelihood, max(K - 1, 1))
    beta_bar, delta = sub.pooled[:L], sub.pooled[L:]
    if K == 1:
        return [("pooled", lay.pack(beta_bar[None, :], delta))]
    r = sub.basis.shape[1]
    lam = sub.eigenvalues[:r]
    U = sub.basis
    if lam[0] <= 0:
        warn("the score subspace shows no excess score variance at the pooled estimate (no "
             "detectable taste heterogeneity): drawing along the robust covariance instead",
             IdentificationWarning)
        ev_val, ev_vec = np.linalg.eigh(sub.sandwich)
        lam = np.abs(ev_val[::-1][:r]) + 1e-12
        U = ev_vec[:, ::-1][:, :r]
    lam = np.maximum(lam, 1e-3 * lam[0])
    sd = np.sqrt(scale * lam)
    out = []
    for i in range(int(n_starts)):  # loop over starts only
        z = rng.standard_normal((K, r)) * sd
        betas = beta_bar + z @ U.T
        out.append((f"subspace {i}", lay.pack(betas, delta)))
    return out
