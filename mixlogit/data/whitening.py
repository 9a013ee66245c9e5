"""Whitening of candidate features (counts form): centre, and scale to identity covariance.

The feature covariance over the candidates must be non-singular for the class
coefficients of a softmax to be identified; :func:`whiten` checks it and
names the constant or collinear columns when it fails.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import DataError, SpecificationError

__all__ = ["Whitening", "whiten", "as_features"]

#: Relative tolerance below which an eigenvalue of the feature covariance counts as zero.
_SINGULAR_RTOL = 1e-10


def as_features(features: ArrayLike, name: str = "features") -> NDArray[np.float64]:
    """Validate a ``p x L`` feature matrix and return it as a float array."""
    try:
        X = np.asarray(features, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"`{name}` must be a numeric p x L array: {exc}") from None
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise DataError(f"`{name}` must be a 2-D array (p candidates x L features), got shape {X.shape}")
    if X.shape[0] < 2 or X.shape[1] < 1:
        raise DataError(f"`{name}` needs at least 2 candidates and 1 feature, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        bad = np.flatnonzero(~np.all(np.isfinite(X), axis=1))
        raise DataError(
            f"`{name}` has non-finite values (NaN or inf) in {bad.size} row(s), first at row {bad[0]}"
        )
    return X



def _sym_sqrt(C: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``(C^{-1/2}, C^{1/2})`` of a symmetric positive definite matrix."""
    d, V = np.linalg.eigh(C)
    inv = (V / np.sqrt(d)) @ V.T
    sq = (V * np.sqrt(d)) @ V.T
    return (inv + inv.T) / 2.0, (sq + sq.T) / 2.0



# whitening
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, eq=False)
class Whitening:
    """An affine whitening ``z = W (x - mean)`` of candidate features.

    Attributes
    ----------
    mean : ndarray, shape (L,)
        Mean of the features over the candidates.
    transform : ndarray, shape (L, L)
        ``W = C^{-1/2}``, the symmetric inverse square root of the feature
        covariance ``C`` (over candidates, divisor ``p``).
    inverse : ndarray, shape (L, L)
        ``C^{1/2} = W^{-1}``.

    Notes
    -----
    Since ``W`` is symmetric, ``x'beta = z'gamma + const`` with ``gamma = C^{1/2} beta``,
    so a coefficient ``gamma`` estimated in whitened space maps back to ``beta = W gamma``
    in the original coordinates (:meth:`to_original`); the constant is irrelevant
    for a softmax.
    """

    mean: NDArray[np.float64]
    transform: NDArray[np.float64]
    inverse: NDArray[np.float64]

    @property
    def n_features(self) -> int:
        """Number of features ``L``."""
        return int(self.mean.shape[0])

    def apply(self, features: ArrayLike) -> NDArray[np.float64]:
        """Whiten feature rows.

        Parameters
        ----------
        features : array_like, shape (p, L)
            Candidate features in the original coordinates.

        Returns
        -------
        ndarray, shape (p, L)
            ``(X - mean) @ W``, the whitened rows ``z_j = W (x_j - mean)``.
        """
        X = np.asarray(features, dtype=float)
        return (X - self.mean) @ self.transform

    def to_original(self, gamma: ArrayLike) -> NDArray[np.float64]:
        """Map coefficients from whitened to original coordinates.

        Parameters
        ----------
        gamma : array_like, shape (L,) or (K, L)
            Coefficient vector(s) acting on whitened features (one per row).

        Returns
        -------
        ndarray, same shape as ``gamma``
            ``beta = W gamma`` (row-wise ``gamma @ W``), acting on the original features.
        """
        return np.asarray(gamma, dtype=float) @ self.transform

    def to_whitened(self, beta: ArrayLike) -> NDArray[np.float64]:
        """Map coefficients from original to whitened coordinates.

        Parameters
        ----------
        beta : array_like, shape (L,) or (K, L)
            Coefficient vector(s) acting on the original features (one per row).

        Returns
        -------
        ndarray, same shape as ``beta``
            ``gamma = C^{1/2} beta`` (row-wise ``beta @ C^{1/2}``).
        """
        return np.asarray(beta, dtype=float) @ self.inverse


def whiten(features: ArrayLike, *, names: Sequence[str] | None = None) -> Whitening:
    """Compute the whitening of candidate features.

    Parameters
    ----------
    features : array_like, shape (p, L)
        Candidate features, one row per candidate.
    names : sequence of str, optional
        Feature names, used only in error messages (default ``x0, x1, ...``).

    Returns
    -------
    Whitening
        Mean, ``C^{-1/2}`` and ``C^{1/2}`` of the feature covariance ``C`` computed
        over candidates with divisor ``p`` (so the whitened candidates have mean
        exactly zero and covariance exactly ``I``).

    Raises
    ------
    DataError
        If the features are not finite, or if their covariance is singular: the
        message names the constant columns or the columns involved in a
        (near-)exact linear dependence.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.data.whitening import whiten
    >>> X = np.random.default_rng(0).normal(size=(5000, 3)) * [1.0, 2.0, 0.5] + 4.0
    >>> Z = whiten(X).apply(X)
    >>> bool(np.allclose(np.cov(Z, rowvar=False, bias=True), np.eye(3), atol=1e-8))
    True
    """
    X = as_features(features)
    p, L = X.shape
    if names is None:
        names = [f"x{i}" for i in range(L)]
    names = list(names)
    if len(names) != L:
        raise SpecificationError(f"`names` has {len(names)} entries but there are {L} features")
    mean = X.mean(axis=0)
    Xc = X - mean
    C = (Xc.T @ Xc) / p
    C = (C + C.T) / 2.0
    sd = np.sqrt(np.clip(np.diag(C), 0.0, None))
    scale = np.maximum(np.abs(mean), 1.0)
    const = sd <= 1e-12 * scale
    if np.any(const):
        cols = ", ".join(names[i] for i in np.flatnonzero(const))
        raise DataError(
            f"feature covariance is singular: column(s) {cols} are constant over the candidates "
            "(a constant feature has no identified coefficient in a softmax)"
        )
    R = C / np.outer(sd, sd)
    d, V = np.linalg.eigh(R)
    if d[0] <= _SINGULAR_RTOL * max(d[-1], 1.0):
        groups = []
        for i in np.flatnonzero(d <= _SINGULAR_RTOL * max(d[-1], 1.0)):
            v = V[:, i]
            involved = np.flatnonzero(np.abs(v) > 1e-6 * np.abs(v).max())
            groups.append("{" + ", ".join(names[j] for j in involved) + "}")
        raise DataError(
            "feature covariance is singular: the columns "
            + " and ".join(groups)
            + " are collinear (an exact linear combination of them is constant over the candidates)"
        )
    W, Winv = _sym_sqrt(C)
    return Whitening(mean=mean, transform=W, inverse=Winv)


