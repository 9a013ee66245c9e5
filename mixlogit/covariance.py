"""A registry of covariance estimators for the maximum-likelihood estimate.

Each estimator maps the pieces of the fit (observed information ``A = -H``,
per-decision-maker scores ``S`` and frequency weights ``w``, over the free
parameters) to a covariance matrix:

``"oim"``
    Inverse observed information, ``A^{-1}``.
``"opg"``
    Inverse outer product of gradients, ``(sum_n w_n s_n s_n')^{-1}``.
``"robust"``
    Sandwich ``A^{-1} B A^{-1}`` with ``B = sum_n w_n s_n s_n'``; scores are per
    decision maker, so this is already clustered by decision maker.
``"cluster"``
    Sandwich with scores summed within the clusters of ``cov_kwds["groups"]``
    (one label per decision maker) and the small-sample factor ``G / (G - 1)``.
``"bootstrap"``
    ``(R - 1)^{-1} sum_r (theta*_r - mean theta*)(theta*_r - mean theta*)'`` over the
    label-aligned replicates ``theta*_r`` that did not fail: decision makers (or
    the clusters of ``cov_kwds["cluster"]``) resampled with replacement, each
    replicate refitted from the estimate and its classes matched to the
    estimate's by the Hungarian assignment (see :mod:`mixlogit.bootstrap`).
    ``cov_kwds``: ``n_reps``, ``seed``, ``n_jobs``, ``cluster``, ``align``, or
    ``results=`` a precomputed :class:`~mixlogit.bootstrap.BootstrapResults`.

A results object says which estimator it carries in ``results.cov_type``;
``results.get_robustcov_results(cov_type, **cov_kwds)`` returns the same
estimates with another one, without refitting.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from .exceptions import HessianInversionWarning, SpecificationError, warn

__all__ = ["CovarianceInputs", "COVARIANCE_ESTIMATORS", "covariance", "safe_inverse"]


@dataclass(frozen=True)
class CovarianceInputs:
    """What the covariance estimators need, over the free parameters."""

    information: np.ndarray      # (d, d) minus the Hessian of the log-likelihood
    scores: np.ndarray           # (N, d) unweighted scores per decision maker
    weights: np.ndarray          # (N,) frequency weights


def safe_inverse(matrix: np.ndarray, what: str = "observed information") -> tuple[np.ndarray, bool]:
    """Inverse of a symmetric positive definite matrix, or a pseudo-inverse with a warning.

    Returns
    -------
    inverse : ndarray
    ok : bool
        False when the matrix was singular or not positive definite.
    """
    matrix = 0.5 * (matrix + matrix.T)
    try:
        chol = np.linalg.cholesky(matrix)
        inv_chol = np.linalg.inv(chol)
        inverse = inv_chol.T @ inv_chol
        eig = np.linalg.eigvalsh(matrix)
        if eig[0] > 1e-12 * max(eig[-1], 1e-300):
            return inverse, True
    except np.linalg.LinAlgError:
        pass
    eig = np.linalg.eigvalsh(matrix)
    warn(
        f"the {what} is singular or not positive definite (smallest eigenvalue "
        f"{eig[0]:.3g}, largest {eig[-1]:.3g}); standard errors use a pseudo-inverse and are "
        "unreliable: the model may not be identified (see results.identifiability())",
        HessianInversionWarning,
    )
    return np.linalg.pinv(matrix, hermitian=True), False


def _oim(inputs: CovarianceInputs, **_) -> np.ndarray:
    return safe_inverse(inputs.information)[0]


def _meat(inputs: CovarianceInputs) -> np.ndarray:
    S = inputs.scores
    return (S * inputs.weights[:, None]).T @ S


def _opg(inputs: CovarianceInputs, **_) -> np.ndarray:
    return safe_inverse(_meat(inputs), "outer product of the scores")[0]


def _robust(inputs: CovarianceInputs, **_) -> np.ndarray:
    bread = safe_inverse(inputs.information)[0]
    return bread @ _meat(inputs) @ bread


def _cluster(inputs: CovarianceInputs, *, groups=None, **_) -> np.ndarray:
    if groups is None:
        raise SpecificationError(
            'cov_type="cluster" needs cov_kwds={"groups": ...}: a column name (formula models) '
            "or one cluster label per decision maker"
        )
    codes, labels = pd.factorize(np.asarray(groups))
    if codes.shape[0] != inputs.scores.shape[0]:
        raise SpecificationError(
            f"cluster groups must have one label per decision maker ({inputs.scores.shape[0]})"
        )
    n_clusters = len(labels)
    if n_clusters < 2:
        raise SpecificationError("cluster groups must contain at least two clusters")
    summed = np.zeros((n_clusters, inputs.scores.shape[1]))
    np.add.at(summed, codes, inputs.scores * inputs.weights[:, None])
    meat = summed.T @ summed * n_clusters / (n_clusters - 1)
    bread = safe_inverse(inputs.information)[0]
    return bread @ meat @ bread


COVARIANCE_ESTIMATORS: dict[str, Callable[..., np.ndarray]] = {
    "oim": _oim,
    "opg": _opg,
    "robust": _robust,
    "cluster": _cluster,
}


def covariance(cov_type: str, inputs: CovarianceInputs, **cov_kwds) -> np.ndarray:
    """Covariance of the free parameters by the named estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.covariance import CovarianceInputs, covariance
    >>> scores = np.random.default_rng(0).normal(size=(400, 2))
    >>> inputs = CovarianceInputs(information=scores.T @ scores, scores=scores, weights=np.ones(400))
    >>> bool(np.allclose(covariance("robust", inputs), covariance("oim", inputs)))
    True
    """
    if cov_type not in COVARIANCE_ESTIMATORS:
        raise SpecificationError(
            f"cov_type={cov_type!r} is not known; choose one of "
            f"{sorted(COVARIANCE_ESTIMATORS) + ['bootstrap']}"
        )
    return COVARIANCE_ESTIMATORS[cov_type](inputs, **cov_kwds)
