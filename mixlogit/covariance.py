"""A registry of covariance estimators for the maximum-likelihood estimate.

Each estimator is a small class in :data:`COVARIANCE_ESTIMATORS`, built from
the pieces of the fit (:class:`CovarianceInputs`: observed information
``A = -H``, per-unit scores ``S`` and frequency weights ``w``, over the free
parameters) and its options as explicit keyword arguments;
:func:`get_covariance` looks one up, refuses unknown options, and returns a
:class:`CovarianceResult`:

``"oim"``
    Inverse observed information, ``A^{-1}``.
``"opg"``
    Inverse outer product of gradients, ``(sum_n w_n s_n s_n')^{-1}``.
``"robust"``
    Sandwich ``A^{-1} B A^{-1}`` with ``B = sum_n w_n s_n s_n'``; scores are per
    decision maker, so this is already clustered by decision maker.
``"cluster"``
    Sandwich with scores summed within the clusters of ``groups`` (one label
    per decision maker) and the small-sample factor ``G / (G - 1)``.
``"bootstrap"``
    ``(R - 1)^{-1} sum_r (theta*_r - mean theta*)(theta*_r - mean theta*)'`` over the
    label-aligned replicates ``theta*_r`` that did not fail (see
    :mod:`mixlogit.bootstrap`): options ``n_reps``, ``seed``, ``n_jobs``,
    ``cluster``, ``align``, ``extra_starts``, ``tol``, ``maxiter``, ``backend``,
    ``progress``, or
    ``results=`` a precomputed :class:`~mixlogit.bootstrap.BootstrapResults`.

Inversion
---------
Every matrix is inverted on its *equilibrated* form ``R = D^{-1/2} A D^{-1/2}``
with ``D = diag(A)`` (unit diagonal), so a change of units of an attribute
changes its standard error by exactly the inverse factor and nothing else. A
direction is **not identified** when

* its diagonal entry is zero, negative or not finite, or (when the inputs
  carry the reference curvature of :func:`reference_curvature`) smaller than
  :data:`FLAT_TOL` times it: the log-likelihood is flat in that parameter at
  the estimate, compared with its curvature at zero coefficients (perfect
  separation, a collapsed class, a term without variation);
* or an eigenvalue of ``R`` is at or below :data:`IDENTIFICATION_TOL`
  (collinear parameters, a negative curvature): the parameters that load on
  its eigenvector by at least :data:`LOADING_TOL` span the flat direction.

Those parameters get NaN rows and columns, with the reason in
:attr:`CovarianceResult.reasons` and a
:class:`~mixlogit.exceptions.HessianInversionWarning` naming them; the other
parameters get the inverse on the identified subspace. No pseudo-inverse number
is ever reported as a standard error, and no standard error is ever 0.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .exceptions import HessianInversionWarning, SpecificationError, warn
from .likelihood import Evaluation, MixtureLikelihood
from .likelihood.estimate import (
    FLAT_TOL,
    IDENTIFICATION_TOL,
    equilibrated_eigenvalues,
    reference_curvature,
)

__all__ = ["CovarianceInputs", "CovarianceResult", "COVARIANCE_ESTIMATORS", "get_covariance",
           "safe_inverse", "honest_inverse", "reference_curvature",
           "OIMCovariance", "OPGCovariance", "RobustCovariance", "ClusterCovariance",
           "BootstrapCovariance", "FLAT_TOL", "LOADING_TOL", "IDENTIFICATION_TOL"]

#: a parameter whose loading on a flat eigenvector reaches this spans the flat direction
LOADING_TOL = 1e-2


@dataclass(frozen=True)
class CovarianceInputs:
    """What the covariance estimators need, over the free parameters.

    Attributes
    ----------
    information : ndarray, shape (d, d)
        Minus the Hessian of the log-likelihood.
    scores : ndarray, shape (N, d)
        Unweighted scores per unit (decision maker or candidate).
    weights : ndarray, shape (N,)
        Frequency weights.
    free : ndarray of bool, shape (n_params,), optional
        Which of all parameters are free (needed by the bootstrap estimator).
    names : sequence of str, optional
        Names of the free parameters (for the reasons and warnings).
    reference : ndarray, shape (d,), optional
        :func:`reference_curvature` over the free parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.covariance import CovarianceInputs
    >>> inputs = CovarianceInputs(np.eye(2), np.zeros((5, 2)), np.ones(5), names=["a", "b"])
    >>> inputs.name(1)
    'b'
    """

    information: np.ndarray
    scores: np.ndarray
    weights: np.ndarray
    free: np.ndarray | None = None
    names: Sequence[str] | None = None
    reference: np.ndarray | None = None

    @classmethod
    def from_evaluation(cls, likelihood: MixtureLikelihood, evaluation: Evaluation
                        ) -> CovarianceInputs:
        """The inputs at an order-2 evaluation, with names and reference curvature.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> from mixlogit.covariance import CovarianceInputs
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=50, n_situations=3, n_alternatives=3,
        ...     betas=[[1.0, -1.0]], shares=[1.0], seed=0)
        >>> lik = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=1
        ...     ).likelihood()
        >>> inputs = CovarianceInputs.from_evaluation(lik, lik.evaluate(np.zeros(2), order=2))
        >>> list(inputs.names), inputs.information.shape
        (['class1:x1', 'class1:x2'], (2, 2))
        """
        free = np.asarray(likelihood.free, bool)
        if evaluation.hessian is None or evaluation.score_obs is None:
            raise ValueError("covariance inputs need an order-2 evaluation")
        names = [str(n) for n in np.asarray(likelihood.layout.param_names, dtype=object)[free]]
        return cls(information=-evaluation.hessian[np.ix_(free, free)],
                   scores=evaluation.score_obs[:, free], weights=likelihood.weights,
                   free=free, names=names, reference=reference_curvature(likelihood)[free])

    def name(self, i: int | np.integer) -> str:
        """Name of free position ``i``."""
        return str(self.names[int(i)]) if self.names is not None else f"parameter {i}"


@dataclass(frozen=True)
class CovarianceResult:
    """A covariance estimate over the free parameters.

    Attributes
    ----------
    cov : ndarray, shape (d, d)
        NaN rows and columns for the directions that are not identified.
    reasons : dict
        Free position -> why its row is NaN.
    cov_type : str
    kwds : dict
        The options used.
    bootstrap : BootstrapResults or None
        The replicates behind a ``"bootstrap"`` covariance.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.covariance import CovarianceInputs, get_covariance
    >>> out = get_covariance("oim", CovarianceInputs(np.diag([4.0, 1.0]), np.zeros((3, 2)),
    ...                                              np.ones(3)))
    >>> out.cov.tolist(), out.reasons, out.cov_type
    ([[0.25, 0.0], [0.0, 1.0]], {}, 'oim')
    """

    cov: np.ndarray
    reasons: dict
    cov_type: str
    kwds: dict = field(default_factory=dict)
    bootstrap: Any = None


def _flat_reasons(A: np.ndarray, inputs: CovarianceInputs | None, what: str,
                  tol: float) -> tuple[np.ndarray, np.ndarray, dict]:
    """Inverse on the identified subspace (finite, zero elsewhere), mask of the flat, reasons."""
    d = A.shape[0]
    name = inputs.name if inputs is not None else (lambda i: f"parameter {i}")
    A = 0.5 * (A + A.T)
    diag = np.diag(A).copy()
    reasons: dict[int, str] = {}
    eig, vec, ok = equilibrated_eigenvalues(A)
    ref = inputs.reference if inputs is not None else None
    if ref is not None:
        tiny = ok & (diag < FLAT_TOL * np.asarray(ref, float))
        for i in np.flatnonzero(tiny):
            reasons[int(i)] = (f"not identified: the {what} is flat in {name(i)} (curvature "
                               f"{diag[i] / ref[i]:.2g} of its value at zero coefficients: "
                               "separation, a collapsed class or a term without variation)")
        if tiny.any():
            eig, vec, ok2 = equilibrated_eigenvalues(np.where(np.outer(~tiny, ~tiny), A, 0.0))
            ok = ok2 & ~tiny
    for i in np.flatnonzero(~ok):
        if int(i) in reasons:
            continue
        kind = "negative" if diag[i] < 0 else "zero" if diag[i] == 0 else "non-finite"
        reasons[int(i)] = f"not identified: the {what} has {kind} curvature in {name(i)}"
    idx = np.flatnonzero(ok)
    inverse = np.zeros((d, d))
    if idx.size:
        flat = eig <= tol
        loads = np.abs(vec[:, flat]) >= LOADING_TOL
        for j in np.flatnonzero(flat):
            members = idx[loads[:, list(np.flatnonzero(flat)).index(j)]]
            span = ", ".join(name(i) for i in members)
            kind = "negative curvature (not a maximum)" if eig[j] < -tol else "a flat direction"
            for i in members:
                reasons.setdefault(int(i), f"not identified: the {what} has {kind} spanned by "
                                           f"{span} (equilibrated eigenvalue {eig[j]:.2g})")
        keep = ~flat
        s = 1.0 / np.sqrt(diag[idx])
        inv_R = (vec[:, keep] / eig[keep]) @ vec[:, keep].T
        inverse[np.ix_(idx, idx)] = inv_R * s[:, None] * s[None, :]
    bad = np.zeros(d, bool)
    bad[list(reasons)] = True
    return inverse, bad, reasons


def honest_inverse(matrix: np.ndarray, inputs: CovarianceInputs | None = None, *,
                   what: str = "observed information", tol: float = IDENTIFICATION_TOL,
                   emit: bool = True) -> tuple[np.ndarray, dict]:
    """Inverse of an information matrix with NaN for the directions that are not identified.

    Parameters
    ----------
    matrix : ndarray, shape (d, d)
        Symmetric information matrix.
    inputs : CovarianceInputs, optional
        Supplies parameter names and the reference curvature.
    what : str
        What the matrix is, for the reasons.
    tol : float
        Threshold on the eigenvalues of the equilibrated matrix.
    emit : bool
        Issue a :class:`~mixlogit.exceptions.HessianInversionWarning` naming
        the parameters that are not identified.

    Returns
    -------
    inverse : ndarray, shape (d, d)
        NaN rows and columns for the non-identified parameters.
    reasons : dict
        Position -> reason.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.covariance import honest_inverse
    >>> inv, reasons = honest_inverse(np.diag([4e12, 4e-12]))
    >>> np.sqrt(np.diag(inv)).tolist(), reasons
    ([5e-07, 500000.0], {})
    >>> inv, reasons = honest_inverse(np.array([[1.0, 1.0, 0], [1.0, 1.0, 0], [0, 0, 4.0]]),
    ...                               emit=False)
    >>> np.sqrt(np.diag(inv)).tolist(), sorted(reasons)
    ([nan, nan, 0.5], [0, 1])
    """
    inverse, bad, reasons = _flat_reasons(np.asarray(matrix, float), inputs, what, tol)
    inverse[bad, :] = np.nan
    inverse[:, bad] = np.nan
    if reasons and emit:
        _warn_reasons(reasons, inputs)
    return inverse, reasons


def _warn_reasons(reasons: dict, inputs: CovarianceInputs | None) -> None:
    name = inputs.name if inputs is not None else (lambda i: f"parameter {i}")
    first = next(iter(reasons.values()))
    warn(f"standard errors of {', '.join(name(i) for i in sorted(reasons))} are not reported "
         f"(NaN): {first}; see results.cov_reasons and results.identifiability()",
         HessianInversionWarning)


def safe_inverse(matrix: np.ndarray, what: str = "observed information") -> tuple[np.ndarray, bool]:
    """A finite inverse of a symmetric information matrix, and whether it is fully identified.

    Inverts on the equilibrated matrix; the directions that are not identified
    (see the module notes) are left out of the inverse (zero there), with a
    :class:`~mixlogit.exceptions.HessianInversionWarning`. For standard
    errors use :func:`honest_inverse`, which marks them NaN instead.

    Returns
    -------
    inverse : ndarray
    ok : bool
        False when some direction is not identified.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.covariance import safe_inverse
    >>> inv, ok = safe_inverse(np.diag([4.0, 1e-14]))
    >>> inv.tolist(), ok
    ([[0.25, 0.0], [0.0, 100000000000000.0]], True)
    """
    inverse, bad, reasons = _flat_reasons(np.asarray(matrix, float), None, what,
                                          IDENTIFICATION_TOL)
    if reasons:
        warn(f"the {what} is not positive definite on the equilibrated scale: "
             f"{next(iter(reasons.values()))}; the flat directions are left out of its inverse",
             HessianInversionWarning)
    return inverse, not reasons


# ---------------------------------------------------------------------- estimators
class CovarianceEstimator:
    """Base of the registry's estimators: ``Estimator(inputs, **options).result()``."""

    name: ClassVar[str]

    def __init__(self, inputs: CovarianceInputs):
        self.inputs = inputs

    def result(self) -> CovarianceResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def _bread(self) -> tuple[np.ndarray, dict]:
        """Finite inverse on the identified subspace of ``A`` and the reasons of the others."""
        inverse, _, reasons = _flat_reasons(np.asarray(self.inputs.information, float),
                                            self.inputs, "observed information",
                                            IDENTIFICATION_TOL)
        return inverse, reasons

    def _finish(self, cov: np.ndarray, reasons: dict, kwds: dict | None = None,
                bootstrap: Any = None) -> CovarianceResult:
        cov = 0.5 * (cov + cov.T)
        var = np.diag(cov)
        for i in np.flatnonzero(~(var > 0) & ~np.isnan(var)):
            reasons.setdefault(int(i), f"not identified: the {self.name} variance of "
                                       f"{self.inputs.name(i)} is {var[i]:.3g}")
        bad = np.zeros(cov.shape[0], bool)
        bad[list(reasons)] = True
        bad |= np.isnan(var)
        for i in np.flatnonzero(bad):
            reasons.setdefault(int(i), "not identified: variance not available")
        cov = cov.copy()
        cov[bad, :] = np.nan
        cov[:, bad] = np.nan
        if reasons:
            _warn_reasons(reasons, self.inputs)
        return CovarianceResult(cov=cov, reasons=dict(sorted(reasons.items())),
                                cov_type=self.name, kwds=dict(kwds or {}), bootstrap=bootstrap)

    def _meat(self) -> np.ndarray:
        S = self.inputs.scores
        return (S * self.inputs.weights[:, None]).T @ S

    def _sandwich(self, meat: np.ndarray, kwds: dict | None = None) -> CovarianceResult:
        bread, reasons = self._bread()
        return self._finish(bread @ meat @ bread, reasons, kwds)


class OIMCovariance(CovarianceEstimator):
    """Inverse observed information ``A^{-1}``.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.covariance import CovarianceInputs, OIMCovariance
    >>> inputs = CovarianceInputs(np.diag([4.0, 25.0]), np.zeros((3, 2)), np.ones(3))
    >>> np.sqrt(np.diag(OIMCovariance(inputs).result().cov)).tolist()
    [0.5, 0.2]
    """

    name = "oim"

    def result(self) -> CovarianceResult:
        inverse, reasons = self._bread()
        return self._finish(inverse, reasons)


class OPGCovariance(CovarianceEstimator):
    """Inverse outer product of the scores ``(sum_n w_n s_n s_n')^{-1}``.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.covariance import CovarianceInputs, OPGCovariance
    >>> S = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0]])
    >>> inputs = CovarianceInputs(np.eye(2), S, np.ones(3))
    >>> OPGCovariance(inputs).result().cov.tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """

    name = "opg"

    def result(self) -> CovarianceResult:
        inverse, reasons = honest_inverse(self._meat(), self.inputs,
                                          what="outer product of the scores", emit=False)
        return self._finish(inverse, reasons)


class RobustCovariance(CovarianceEstimator):
    """Sandwich ``A^{-1} B A^{-1}``, ``B`` the weighted outer product of the unit scores.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.covariance import CovarianceInputs, RobustCovariance
    >>> S = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0]])
    >>> inputs = CovarianceInputs(np.diag([2.0, 2.0]), S, np.ones(3))
    >>> RobustCovariance(inputs).result().cov.tolist()
    [[0.5, 0.0], [0.0, 1.0]]
    """

    name = "robust"

    def result(self) -> CovarianceResult:
        return self._sandwich(self._meat())


class ClusterCovariance(CovarianceEstimator):
    """Sandwich with scores summed within clusters, times ``G / (G - 1)``.

    Parameters
    ----------
    inputs : CovarianceInputs
    groups : array_like
        One cluster label per unit (decision maker).

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.covariance import CovarianceInputs, ClusterCovariance
    >>> S = np.array([[1.0], [1.0], [-2.0], [0.0]])
    >>> inputs = CovarianceInputs(np.eye(1), S, np.ones(4))
    >>> ClusterCovariance(inputs, groups=[0, 0, 1, 1]).result().cov.tolist()
    [[16.0]]
    """

    name = "cluster"

    def __init__(self, inputs: CovarianceInputs, *, groups: Any = None):
        super().__init__(inputs)
        if groups is None:
            raise SpecificationError(
                'cov_type="cluster" needs cov_kwds={"groups": ...}: a column name (formula models) '
                "or one cluster label per decision maker")
        codes, labels = pd.factorize(np.asarray(groups))
        if codes.shape[0] != inputs.scores.shape[0]:
            raise SpecificationError(
                f"cluster groups must have one label per decision maker ({inputs.scores.shape[0]}), "
                f"got {codes.shape[0]}")
        if np.any(codes < 0):
            raise SpecificationError("cluster groups hold missing labels; give every decision "
                                     "maker a cluster")
        if len(labels) < 2:
            raise SpecificationError("cluster groups must contain at least two clusters")
        self.groups = np.asarray(groups)
        self.codes, self.n_clusters = codes, len(labels)

    def result(self) -> CovarianceResult:
        G = self.n_clusters
        summed = np.zeros((G, self.inputs.scores.shape[1]))
        np.add.at(summed, self.codes, self.inputs.scores * self.inputs.weights[:, None])
        return self._sandwich(summed.T @ summed * G / (G - 1), {"groups": self.groups})


class BootstrapCovariance(CovarianceEstimator):
    """Covariance of the label-aligned bootstrap replicates, over the free parameters.

    Parameters
    ----------
    inputs : CovarianceInputs
        Must carry ``free`` when some parameters are fixed.
    bootstrap : callable, optional
        ``bootstrap(n_reps=..., seed=..., **options) -> BootstrapResults``,
        supplied by the results object.
    results : BootstrapResults, optional
        Precomputed replicates (then no other option may be given).
    n_reps : int
        Replicates (default 200).
    seed, n_jobs, cluster, align, extra_starts, tol, maxiter, backend, progress
        Passed to ``bootstrap`` when given (see :func:`mixlogit.bootstrap.bootstrap`).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from mixlogit.covariance import CovarianceInputs, BootstrapCovariance
    >>> class Replicates:
    ...     def cov_params(self):
    ...         return pd.DataFrame(np.diag([0.04, 0.0]), index=["a", "b"], columns=["a", "b"])
    >>> inputs = CovarianceInputs(np.eye(1), np.zeros((2, 1)), np.ones(2),
    ...                           free=np.array([True, False]))
    >>> BootstrapCovariance(inputs, results=Replicates()).result().cov.tolist()
    [[0.04]]
    """

    name = "bootstrap"

    def __init__(self, inputs: CovarianceInputs, *, bootstrap: Callable[..., Any] | None = None,
                 results: Any = None, n_reps: int | None = None, seed: Any = None,
                 n_jobs: int | None = None, cluster: Any = None, align: str | None = None,
                 extra_starts: int | None = None, tol: float | None = None,
                 maxiter: int | None = None, backend: str | None = None,
                 progress: bool | None = None):
        super().__init__(inputs)
        given = {k: v for k, v in dict(seed=seed, n_jobs=n_jobs, cluster=cluster, align=align,
                                       extra_starts=extra_starts, tol=tol, maxiter=maxiter,
                                       backend=backend, progress=progress).items()
                 if v is not None}
        if results is not None and (given or n_reps is not None):
            raise SpecificationError(
                f"cov_kwds {sorted(given) + (['n_reps'] if n_reps is not None else [])} cannot be "
                "combined with a precomputed bootstrap (results=)")
        if results is None and bootstrap is None:
            raise SpecificationError('cov_type="bootstrap" needs results= (a BootstrapResults) '
                                     "when no bootstrap callable is supplied")
        self.bootstrap, self.results = bootstrap, results
        self.n_reps = 200 if n_reps is None else n_reps
        self.options = given

    def result(self) -> CovarianceResult:
        boot = self.results
        kwds: dict = {"results": boot} if boot is not None else {"n_reps": self.n_reps,
                                                                 **self.options}
        if boot is None:
            assert self.bootstrap is not None  # checked in __init__
            boot = self.bootstrap(n_reps=self.n_reps, **self.options)
        full = np.asarray(boot.cov_params(), dtype=float)
        free = self.inputs.free
        cov = full if free is None else full[np.ix_(free, free)]
        reasons: dict[int, str] = {}
        for i in np.flatnonzero(~(np.diag(cov) > 0)):
            reasons[int(i)] = (f"not identified: {self.inputs.name(i)} does not vary across the "
                               "bootstrap replicates that succeeded (or none succeeded)")
        return self._finish(cov, reasons, kwds, bootstrap=boot)


COVARIANCE_ESTIMATORS: dict[str, type[CovarianceEstimator]] = {
    "oim": OIMCovariance,
    "opg": OPGCovariance,
    "robust": RobustCovariance,
    "cluster": ClusterCovariance,
    "bootstrap": BootstrapCovariance,
}


def _options(cls: type[CovarianceEstimator]) -> list[str]:
    params = inspect.signature(cls.__init__).parameters.values()
    return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY
            and p.name != "bootstrap"]


def get_covariance(cov_type: str, inputs: CovarianceInputs, *,
                   bootstrap: Callable[..., Any] | None = None, **cov_kwds: Any
                   ) -> CovarianceResult:
    """Covariance of the free parameters by the named estimator of the registry.

    Parameters
    ----------
    cov_type : str
        ``"oim"``, ``"opg"``, ``"robust"``, ``"cluster"`` or ``"bootstrap"``.
    inputs : CovarianceInputs
    bootstrap : callable, optional
        ``bootstrap(n_reps=..., seed=..., **options) -> BootstrapResults``, used by
        ``"bootstrap"`` (ignored by the others).
    **cov_kwds
        The estimator's options; unknown ones raise.

    Returns
    -------
    CovarianceResult

    Raises
    ------
    SpecificationError
        Unknown ``cov_type`` or option (the message lists the valid ones).

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.covariance import CovarianceInputs, get_covariance
    >>> scores = np.random.default_rng(0).normal(size=(400, 2))
    >>> inputs = CovarianceInputs(information=scores.T @ scores, scores=scores,
    ...                           weights=np.ones(400))
    >>> robust = get_covariance("robust", inputs)
    >>> bool(np.allclose(robust.cov, get_covariance("oim", inputs).cov)), robust.reasons
    (True, {})
    """
    if not isinstance(cov_type, str) or cov_type not in COVARIANCE_ESTIMATORS:
        raise SpecificationError(f"cov_type={cov_type!r} is not known; choose one of "
                                 f"{list(COVARIANCE_ESTIMATORS)}")
    cls = COVARIANCE_ESTIMATORS[cov_type]
    valid = _options(cls)
    unknown = sorted(set(cov_kwds) - set(valid))
    if unknown:
        raise SpecificationError(
            f"cov_kwds {unknown} are not options of cov_type={cov_type!r}; its options are "
            f"{valid or 'none'}")
    if cls is BootstrapCovariance:
        return BootstrapCovariance(inputs, bootstrap=bootstrap, **cov_kwds).result()
    return cls(inputs, **cov_kwds).result()
