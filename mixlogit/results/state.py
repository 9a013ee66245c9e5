"""The public, frozen state of a fit: what every post-estimation module reads.

:class:`FitState` is built once by the model's ``fit`` and stored on the
results as ``res.fit_state``. The bootstrap, the diagnostics, class selection,
the summary and the post-estimation functions read it instead of the results
object's private attributes: the likelihood the estimate maximises (with its
fixed parameters), the estimation record (every start, the start report), the
order-2 evaluation at the reported estimate, and whether the classes were put
in canonical order.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..covariance import CovarianceInputs
from ..exceptions import SpecificationError
from ..likelihood import Estimate, Evaluation, MixtureLikelihood
from .persistence import strip_evaluation

__all__ = ["FitState", "DetachedLikelihood"]


class DetachedLikelihood:
    """What is left of a likelihood after ``remove_data()``: its layout and fixed parameters.

    ``layout``, ``fixed_mask``, ``fixed_values``, ``free`` and ``form`` are
    kept; anything else (the data, evaluations, weights) raises a
    :class:`~mixlogit.exceptions.SpecificationError` naming ``remove_data``.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=50, n_situations=3, n_alternatives=3,
    ...     betas=[[1.0, -1.0]], shares=[1.0], seed=0)
    >>> lik = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=1
    ...     ).likelihood()
    >>> detached = DetachedLikelihood(lik)
    >>> detached.free.tolist(), detached.form
    ([True, True], 'long')
    """

    KEPT = ("layout", "fixed_mask", "fixed_values", "free", "form", "classes_exchangeable",
            "n_restrictions", "tied_to")

    def __init__(self, likelihood: MixtureLikelihood):
        for name in self.KEPT:
            value = getattr(likelihood, name)
            setattr(self, name, value.copy() if isinstance(value, np.ndarray) else value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise SpecificationError(
            f"likelihood.{name} needs the data, which remove_data() dropped; use a results "
            "object saved without remove_data, or refit")


@dataclass(frozen=True, eq=False)
class FitState:
    """Everything a fit produced, read-only.

    Attributes
    ----------
    likelihood : MixtureLikelihood
        The likelihood that was maximised (data, layout, fixed parameters); a
        :class:`DetachedLikelihood` after ``remove_data()`` (see :meth:`without_data`).
    estimate : Estimate
        The estimation record: every start's run, the start report, timings.
    evaluation : Evaluation
        Log-likelihood, posteriors, per-unit scores and Hessian at the reported
        (canonically ordered) estimate.
    reordered : bool
        Whether the classes were permuted into canonical order (largest share first).
    method : str
        The ``fit`` method (``"em"`` or a direct optimizer).
    options : mapping
        The estimation options of ``fit`` (``tol``, ``maxiter``, ``polish``,
        ``n_starts``, ``start``...), so a refit (bootstrap, selection) can repeat them.
    kept_shares : tuple of ndarray, optional
        ``share_jacobian()`` saved by :meth:`without_data` (None otherwise).

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
    >>> state = model.fit(n_starts=2, seed=0).fit_state
    >>> state.likelihood.form, state.evaluation.posteriors.shape
    ('long', (100, 2))
    """

    likelihood: MixtureLikelihood
    estimate: Estimate
    evaluation: Evaluation
    reordered: bool = False
    method: str = "em"
    options: Mapping[str, Any] = field(default_factory=dict)
    kept_shares: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def data_removed(self) -> bool:
        """Whether ``remove_data()`` dropped the data and the per-unit arrays."""
        return isinstance(self.likelihood, DetachedLikelihood)

    def without_data(self) -> FitState:
        """A copy without the data: a detached likelihood, evaluations without per-unit arrays.

        The estimate, the log-likelihood, the score and the Hessian at the
        estimate, the class shares and their Jacobian (``share_jacobian()``),
        the layout and fixed parameters (:class:`DetachedLikelihood`), the
        start report and the options are kept.

        Returns
        -------
        FitState

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> state = model.fit(n_starts=2, seed=0).fit_state.without_data()
        >>> state.data_removed, state.evaluation.posteriors is None, state.params.shape
        (True, True, (5,))
        """
        ev = strip_evaluation(self.evaluation)
        est = dataclasses.replace(self.estimate, evaluation=strip_evaluation(self.estimate.evaluation))
        shares = self.share_jacobian()
        return dataclasses.replace(self, likelihood=DetachedLikelihood(self.likelihood),  # type: ignore[arg-type]  # a duck-typed stand-in without data
                                   estimate=est, evaluation=ev, kept_shares=shares)

    @property
    def params(self) -> np.ndarray:
        """The estimate as a flat array."""
        return self.evaluation.params

    @property
    def free(self) -> np.ndarray:
        """Mask of the estimated (not fixed) parameters."""
        return self.likelihood.free

    @property
    def covariance_inputs(self) -> CovarianceInputs:
        """Information, per-unit scores and weights over the free parameters (with their
        names and reference curvature: :meth:`CovarianceInputs.from_evaluation`)."""
        return CovarianceInputs.from_evaluation(self.likelihood, self.evaluation)

    def reduce_jacobian(self, jacobian: np.ndarray) -> np.ndarray:
        """A Jacobian ``dg/dtheta`` (m, d) as the derivative with respect to the free
        coordinates, at their positions: the columns of tied copies are added to their
        representative (``J A``), the other non-free columns are zero."""
        J = np.asarray(jacobian, float)
        out = np.zeros_like(J)
        np.add.at(out.T, np.asarray(self.likelihood.tied_to), J.T)
        out[:, ~self.free] = 0.0
        return out

    def share_jacobian(self) -> tuple[np.ndarray, np.ndarray]:
        """Average class shares and their Jacobian with respect to the full parameter vector."""
        if self.kept_shares is not None:
            return self.kept_shares
        lay = self.likelihood.layout
        weights = self.likelihood.weights
        w = weights / weights.sum()
        pi = np.exp(self.evaluation.log_shares)
        share = w @ pi
        K = lay.k_classes
        J = np.zeros((K, lay.n_params))
        if K > 1:
            Z = self.likelihood.data.exog_membership
            # d pi_nk / d gamma_ma = pi_nk ([k = m] - pi_nm) z_na, m = 2..K
            jac = np.einsum("n,nk,nm,na->kma", w, pi, -pi[:, 1:], Z, optimize=True)
            jac[np.arange(1, K), np.arange(K - 1)] += np.einsum("n,nm,na->ma", w, pi[:, 1:], Z)
            J[:, lay.membership_slice] = jac.reshape(K, -1)
        return share, J
