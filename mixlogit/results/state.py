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

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..covariance import CovarianceInputs
from ..likelihood import Estimate, Evaluation, MixtureLikelihood

__all__ = ["FitState"]


@dataclass(frozen=True, eq=False)
class FitState:
    """Everything a fit produced, read-only.

    Attributes
    ----------
    likelihood : MixtureLikelihood
        The likelihood that was maximised (data, layout, fixed parameters).
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
        """Information, per-unit scores and weights over the free parameters."""
        free = self.likelihood.free
        ev = self.evaluation
        return CovarianceInputs(information=-ev.hessian[np.ix_(free, free)],
                                scores=ev.score_obs[:, free], weights=self.likelihood.weights)

    def share_jacobian(self) -> tuple[np.ndarray, np.ndarray]:
        """Average class shares and their Jacobian with respect to the full parameter vector."""
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
