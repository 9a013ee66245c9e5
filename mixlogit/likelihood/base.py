"""The abstract mixture likelihood and the machinery every data form shares.

A finite mixture of softmax (conditional logit) classes has the log-likelihood

    l(theta) = sum_n w_n log sum_k pi_nk(gamma) L_nk(beta_k),

where ``n`` runs over *units* (decision makers of the long form, candidates of
the counts form), ``w_n`` are their frequency weights, ``pi_nk`` the class
shares (a multinomial logit in membership covariates, or plain shares) and
``L_nk`` the probability of the unit's choices under class ``k``.

:class:`MixtureLikelihood` is the one interface the rest of the package talks
to. An implementation (:class:`~mixlogit.likelihood.long.LongLikelihood`,
:class:`~mixlogit.likelihood.counts.CountsLikelihood`) supplies the
data-specific pieces:

* :meth:`~MixtureLikelihood.evaluate` to order 0, 1 or 2 (log-likelihood,
  per-unit scores, Hessian);
* the two halves of a generalized EM step: :meth:`~MixtureLikelihood.share_step`
  (class shares or membership logit for fixed posteriors) and
  :meth:`~MixtureLikelihood.class_step` (one ascent step on the class
  coefficients for fixed posterior weights);
* :meth:`~MixtureLikelihood.class_information` (per-class information of the
  weighted conditional logits), :meth:`~MixtureLikelihood.class_probabilities`
  and :meth:`~MixtureLikelihood.reweighted` (the same likelihood with other
  unit weights, for the bootstrap);
* :attr:`~MixtureLikelihood.supported_starts`, the start strategies that apply.

The base class owns what is common: fixed parameters, the one backtracking
line search (:func:`backtrack`), the Newton direction, the EM step template
(:meth:`~MixtureLikelihood.make_steps`), the M-step to convergence
(:meth:`~MixtureLikelihood.fit_classes`) and the Newton polish
(:meth:`~MixtureLikelihood.polish`).
"""
from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..kernels import log_class_shares, membership_derivatives
from ..params import ParamLayout

__all__ = ["Evaluation", "MixtureLikelihood", "relabel_evaluation", "newton_direction", "backtrack", "membership_step",
           "EMPTY_SHARE"]

#: a class whose total posterior weight falls below this share is not updated
EMPTY_SHARE = 1e-10
#: relative slack of the ascent test of every line search (rounding of a sum of many terms)
ASCENT_SLACK = 1e-12
#: step halvings before a line search gives up
MAX_HALVINGS = 40


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Log-likelihood and, on request, its derivatives at one parameter vector.

    Attributes
    ----------
    params : ndarray, shape (d,)
    llf : float
        Weighted log-likelihood.
    loglike_obs : ndarray, shape (N,)
        Unweighted log-likelihood of each unit.
    posteriors : ndarray, shape (N, K)
        Posterior class probabilities of each unit.
    log_shares : ndarray, shape (N, K)
        Log prior class probabilities of each unit.
    state : object
        The implementation's class state (utilities, class probabilities) at
        ``params``, reused by the next EM step.
    score : ndarray, shape (d,), optional
        Weighted gradient (order >= 1).
    score_obs : ndarray, shape (N, d), optional
        Unweighted gradient of each unit (order >= 1).
    hessian : ndarray, shape (d, d), optional
        Weighted Hessian (order 2).
    """

    params: np.ndarray
    llf: float
    loglike_obs: np.ndarray
    posteriors: np.ndarray
    log_shares: np.ndarray
    state: Any
    score: np.ndarray | None = None
    score_obs: np.ndarray | None = None
    hessian: np.ndarray | None = None


def relabel_evaluation(evaluation: Evaluation, layout: ParamLayout, order) -> Evaluation:
    """The evaluation at the parameters with classes relabelled (new class j = old ``order[j]``).

    Relabelling is a linear map of the parameters, ``theta' = M theta`` (the
    membership coefficients are re-normalised to the new first class), so the
    log-likelihood is unchanged and the derivatives transform exactly:
    ``score' = M^-T score``, ``H' = M^-T H M^-1``, per-unit scores ``S M^-1``;
    posteriors and log shares swap columns. No data are read; the
    implementation's ``state`` is not carried over (None).

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.likelihood.base import relabel_evaluation
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=30, n_situations=3, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.5, 0.5], seed=0)
    >>> lik = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2
    ...     ).likelihood()
    >>> ev = lik.evaluate(np.array([1.0, -1.0, -1.0, 1.0, 0.3]), order=2)
    >>> new = relabel_evaluation(ev, lik.layout, [1, 0])
    >>> direct = lik.evaluate(new.params, order=2)
    >>> bool(np.allclose(new.hessian, direct.hessian)), new.params.tolist()
    (True, [-1.0, 1.0, 1.0, -1.0, -0.3])
    """
    order = np.asarray(order)
    inverse = np.argsort(order)
    eye = np.eye(layout.n_params)
    M_inv = np.column_stack([layout.permute(e, inverse) for e in eye])   # theta = M_inv theta'
    params = layout.permute(evaluation.params, order)

    def cols(a):
        return None if a is None else np.asarray(a)[:, order]

    score = None if evaluation.score is None else M_inv.T @ evaluation.score
    score_obs = None if evaluation.score_obs is None else evaluation.score_obs @ M_inv
    hessian = None if evaluation.hessian is None else M_inv.T @ evaluation.hessian @ M_inv
    return Evaluation(params, evaluation.llf, evaluation.loglike_obs, cols(evaluation.posteriors),
                      cols(evaluation.log_shares), None, score, score_obs, hessian)


def newton_direction(gradient: np.ndarray, information: np.ndarray) -> np.ndarray:
    """Newton ascent direction, modified where the information is not positive definite.

    Solves ``information @ step = gradient``; when the information has
    non-positive or tiny eigenvalues, they are replaced by their absolute value
    floored at a small fraction of the largest one, so the step still ascends.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.likelihood.base import newton_direction
    >>> newton_direction(np.array([1.0, -2.0]), np.diag([2.0, 4.0]))
    array([ 0.5, -0.5])
    >>> bool(np.array([1.0, 1.0]) @ newton_direction(np.ones(2), np.diag([1.0, -1.0])) > 0)
    True
    """
    try:
        chol = np.linalg.cholesky(information)
        step = np.linalg.solve(chol.T, np.linalg.solve(chol, gradient))
        if np.all(np.isfinite(step)):
            return step
    except np.linalg.LinAlgError:
        pass
    eigval, eigvec = np.linalg.eigh(0.5 * (information + information.T))
    floor = 1e-8 * max(np.abs(eigval).max(), 1e-12)
    eigval = np.maximum(np.abs(eigval), floor)
    return eigvec @ ((eigvec.T @ gradient) / eigval)


def backtrack(objective: Callable[[float], tuple[float, Any]], current: float, *,
              max_halvings: int = MAX_HALVINGS) -> tuple[float, float, Any] | None:
    """The one step-halving line search of the package.

    Tries step lengths ``1, 1/2, 1/4, ...`` until ``objective(t)`` does not fall
    below ``current`` (up to a relative rounding slack).

    Parameters
    ----------
    objective : callable
        ``objective(t) -> (value, payload)`` at step length ``t``; a non-finite
        value counts as a failure.
    current : float
        The objective at ``t = 0``.
    max_halvings : int
        Halvings before giving up.

    Returns
    -------
    (t, value, payload) or None
        The accepted step, or None when no step length was an ascent.

    Examples
    --------
    >>> from mixlogit.likelihood.base import backtrack
    >>> t, value, _ = backtrack(lambda t: (-(t - 0.3) ** 2, None), -0.09)
    >>> t, round(value, 4)
    (0.5, -0.04)
    """
    t = 1.0
    slack = ASCENT_SLACK * abs(current)
    for _ in range(max_halvings + 1):
        value, payload = objective(t)
        if np.isfinite(value) and value >= current - slack:
            return t, float(value), payload
        t *= 0.5
    return None


def membership_step(params: np.ndarray, layout: ParamLayout, free: np.ndarray, Z: np.ndarray,
                    weights: np.ndarray, posteriors: np.ndarray, *, max_steps: int = 5
                    ) -> np.ndarray:
    """The share half of a generalized EM step: maximise ``sum_n w_n sum_k h_nk log pi_nk``.

    Closed form without membership covariates (free shares); otherwise Newton
    steps on the weighted membership logit, each kept an ascent by
    :func:`backtrack`. Shared by every implementation that holds its units'
    membership covariates and posteriors in this process.

    Parameters
    ----------
    params : ndarray
    layout : ParamLayout
    free : ndarray of bool
        Free positions of the whole parameter vector.
    Z : ndarray, shape (N, Lz)
        Membership covariates (first column the constant).
    weights : ndarray, shape (N,)
    posteriors : ndarray, shape (N, K)

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.params import ParamLayout
    >>> from mixlogit.likelihood.base import membership_step
    >>> lay = ParamLayout(2, ("x",), (), ("Intercept",))
    >>> h = np.array([[0.9, 0.1], [0.7, 0.3]])
    >>> theta = membership_step(np.zeros(3), lay, np.ones(3, bool), np.ones((2, 1)), np.ones(2), h)
    >>> round(float(theta[2]), 6) == round(float(np.log(0.2 / 0.8)), 6)   # log(share2 / share1)
    True
    """
    mem = np.arange(layout.n_params)[layout.membership_slice]
    free_mem = free[mem]
    if not free_mem.any():
        return params
    wh = weights[:, None] * posteriors
    if layout.k_membership == 1 and free_mem.all():
        total = wh.sum(axis=0)
        share = np.maximum(total / total.sum(), 1e-300)
        params = params.copy()
        params[mem] = np.log(share[1:]) - np.log(share[0])
        return params
    log_pi = log_class_shares(Z, layout.unpack(params).gamma)
    q_old = float(np.sum(wh * log_pi))
    for _ in range(max_steps):
        grad, info = membership_derivatives(Z, log_pi, posteriors, weights)
        step = newton_direction(grad[free_mem], info[np.ix_(free_mem, free_mem)])

        def along(t, base=params, step=step):
            theta = base.copy()
            theta[mem[free_mem]] += t * step
            lp = log_class_shares(Z, layout.unpack(theta).gamma)
            return float(np.sum(wh * lp)), (theta, lp)

        found = backtrack(along, q_old)
        if found is None:
            return params
        _, q_new, (params, log_pi) = found
        gain, q_old = q_new - q_old, q_new
        if gain <= 1e-10 * max(abs(q_old), 1.0):
            break
    return params


class MixtureLikelihood(abc.ABC):
    """A finite-mixture log-likelihood over one data set, and its EM machinery.

    Parameters
    ----------
    data : ChoiceData or CountsData
        Validated data of the implementation's form.
    layout : ParamLayout
        The parameter layout (classes, invariant and membership terms).
    fixed_mask : ndarray of bool, optional
        Positions held at ``fixed_values``.
    fixed_values : ndarray, optional
        Values of the fixed positions.

    Attributes
    ----------
    form : str
        ``"long"`` or ``"counts"``.
    supported_starts : tuple of str
        Start strategies of :mod:`mixlogit.starts` that apply to this form.
    default_start : str
        The start strategy of ``fit(start=None)`` when ``n_starts`` is given
        (without it, ``fit`` runs the start portfolio of
        :func:`mixlogit.starts.portfolio.run_portfolio`).
    engines : tuple of str
        The kernels ``engine=`` may choose; empty when there is one.
    """

    form: ClassVar[str]
    supported_starts: ClassVar[tuple[str, ...]]
    default_start: ClassVar[str]
    #: the kernels ``engine=`` may choose (empty: one engine only)
    engines: ClassVar[tuple[str, ...]] = ()

    def __init__(self, data: Any, layout: ParamLayout, fixed_mask=None, fixed_values=None):
        self.data = data
        self.layout = layout
        d = layout.n_params
        self.fixed_mask = np.zeros(d, bool) if fixed_mask is None else np.asarray(fixed_mask, bool)
        self.fixed_values = np.zeros(d) if fixed_values is None else np.asarray(fixed_values, float)
        self.free = ~self.fixed_mask

    # ------------------------------------------------------------------ units
    @property
    def weights(self) -> np.ndarray:
        """Frequency weight of each unit (decision maker or candidate), shape (N,)."""
        return self.data.weights

    @property
    def n_units(self) -> int:
        """Number of units N (rows of ``posteriors`` and ``score_obs``)."""
        return int(self.data.weights.shape[0])

    @property
    def classes_exchangeable(self) -> bool:
        """Whether the classes may be relabelled (canonical order): no fixed class-specific or
        membership term (a constrained likelihood adds its ties and bounds)."""
        return self.layout.classes_exchangeable(self.fixed_mask)

    @property
    def tied_to(self) -> np.ndarray:
        """The position whose value each position copies (itself: no equality constraints)."""
        return np.arange(self.layout.n_params)

    @property
    def n_restrictions(self) -> int:
        """Equality restrictions besides the fixed parameters (0: none)."""
        return 0

    def expand_covariance(self, cov: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
        """The covariance over all positions from the one over the free coordinates (NaN
        elsewhere), and reasons of positions left NaN: unchanged here, no reasons."""
        return cov, {}

    def apply_fixed(self, params: np.ndarray) -> np.ndarray:
        """A copy of ``params`` with the fixed positions set to their values."""
        params = np.array(params, dtype=float)
        params[self.fixed_mask] = self.fixed_values[self.fixed_mask]
        return params

    # --------------------------------------------------------- the interface
    @abc.abstractmethod
    def class_state(self, params: np.ndarray) -> Any:
        """Per-class quantities at ``params`` (utilities, class log-likelihoods)."""

    @abc.abstractmethod
    def evaluate(self, params, order: int = 0, state: Any = None) -> Evaluation:
        """Log-likelihood (order 0), plus scores (1), plus Hessian (2)."""

    @abc.abstractmethod
    def share_step(self, params: np.ndarray, evaluation: Evaluation) -> np.ndarray:
        """Maximise the share part ``sum_n w_n sum_k h_nk log pi_nk`` for fixed posteriors."""

    @abc.abstractmethod
    def class_step(self, params: np.ndarray, state: Any, wh: np.ndarray,
                   context: dict) -> tuple[np.ndarray, Any, float]:
        """One ascent step on the class part for fixed weights ``wh`` (N x K).

        Parameters
        ----------
        params : ndarray
        state : object
            The class state at ``params``.
        wh : ndarray, shape (N, K)
            Unit weight times posterior.
        context : dict
            Per-run scratch space the implementation may use (for example a
            metric kept over several iterations).

        Returns
        -------
        (params, state, gain)
            The new parameters, their class state, and the gain of the class
            objective (0 when no step was taken).
        """

    @abc.abstractmethod
    def class_information(self, params: np.ndarray, wh: np.ndarray) -> list[np.ndarray]:
        """Information of each class's weighted conditional logit (a list of square matrices
        over that class's coefficients, class-specific then invariant)."""

    @abc.abstractmethod
    def class_probabilities(self, params: np.ndarray) -> np.ndarray:
        """Each class's choice probability of every row (long) or candidate (counts), (n, K)."""

    @abc.abstractmethod
    def reweighted(self, weights: np.ndarray) -> MixtureLikelihood:
        """The same likelihood with other unit weights (a bootstrap replicate)."""

    # ------------------------------------------------------------- shared
    def relabelled(self, evaluation: Evaluation, order) -> Evaluation:
        """``evaluation`` with the classes relabelled (new class j = old ``order[j]``).

        By default the exact linear transformation of :func:`relabel_evaluation`
        (no pass over the data); a likelihood whose evaluations are not those of
        the plain parameters (a constrained one) evaluates anew.
        """
        return relabel_evaluation(evaluation, self.layout, order)

    def class_probability_gaps(self, params: np.ndarray) -> np.ndarray:
        """The largest difference of two classes' choice probabilities over all rows, (K, K).

        Entry ``[k, m]`` is ``max_i |P_ik - P_im|`` over the rows (long form) or
        candidates (counts form) of :meth:`class_probabilities`. The default
        computes it from that (n, K) array; implementations over large data
        override it with a pass that holds no (n, K) array.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=20, n_situations=3, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.5, 0.5], seed=0)
        >>> lik = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2
        ...     ).likelihood()
        >>> float(lik.class_probability_gaps(np.array([0.5, 0.2, 0.5, 0.2, 0.0]))[0, 1])
        0.0
        """
        P = np.asarray(self.class_probabilities(params))
        K = P.shape[1]
        gaps = np.zeros((K, K))
        for k in range(K):   # pair by pair: no (n, K, K) temporary
            for m in range(k + 1, K):
                gaps[k, m] = gaps[m, k] = np.abs(P[:, k] - P[:, m]).max(initial=0.0)
        return gaps

    def loglike(self, params) -> float:
        """The weighted log-likelihood at ``params``."""
        return self.evaluate(params).llf

    @classmethod
    def default_start_sample(cls, data: Any) -> int | None:
        """The default ``model.start_sample`` for ``data``: None, every unit (no sampling)."""
        return None

    def start_likelihood(self, *, max_units: int | None = None, seed: int = 0
                         ) -> MixtureLikelihood:
        """The likelihood start strategies run on: this one, or a sample of its units.

        Implementations over very large or distributed data return the
        likelihood of a deterministic sample of at most about ``max_units``
        units (the same sample for the same ``seed`` whatever the data's
        order or partitioning); the default is the likelihood itself.
        """
        return self

    def fit_classes(self, params: np.ndarray, wh: np.ndarray, *, max_steps: int = 30,
                    tol: float = 1e-10) -> np.ndarray:
        """Maximise the class part for fixed posterior weights ``wh`` (N x K)."""
        params = self.apply_fixed(params)
        state = self.class_state(params)
        scale = max(float(wh.sum()), 1.0)
        context: dict = {"exact": True}
        for _ in range(max_steps):
            params, state, gain = self.class_step(params, state, wh, context)
            if gain <= tol * scale:
                break
        return params

    def make_steps(self, newton_steps: int = 1):
        """E- and M-step callables for :func:`mixlogit.em.run_em`.

        The E-step evaluates the log-likelihood and posteriors; the M-step
        updates the shares (:meth:`share_step`) and takes ``newton_steps``
        ascent steps on the class coefficients (:meth:`class_step`), which
        makes it a generalized EM step: the log-likelihood never falls. The
        class state the M-step leaves is reused by the next E-step.
        """
        cache: dict[bytes, Any] = {}
        context: dict = {}
        w = self.weights

        def estep(params):
            state = cache.pop(params.tobytes(), None)
            cache.clear()
            ev = self.evaluate(params, state=state)
            return ev.llf, ev

        def mstep(params, ev: Evaluation):
            new = params
            if self.layout.k_classes > 1:
                new = self.share_step(params, ev)
            wh = w[:, None] * ev.posteriors
            state = ev.state
            for _ in range(newton_steps):
                new, state, gain = self.class_step(new, state, wh, context)
                if gain <= 0:
                    break
            cache[new.tobytes()] = state
            return new

        return estep, mstep

    def polish_trial(self, params: np.ndarray, *, full_step: bool) -> Evaluation:
        """The evaluation of one trial point of the polish's line search.

        Order 0 by default (only the log-likelihood decides); an implementation
        whose order-2 pass costs about as much as its order-0 pass returns order 2
        for the full Newton step, which near an optimum is accepted and so needs
        no second pass.
        """
        return self.evaluate(params)

    def polish(self, params: np.ndarray, *, maxiter: int = 100, tol: float = 1e-13,
               history: list | None = None) -> tuple[np.ndarray, Evaluation, int, bool]:
        """Newton's method on the full log-likelihood over the free parameters.

        Where the Hessian is not negative definite the step uses its absolute
        eigenvalues (still an ascent direction); :func:`backtrack` keeps every
        step from lowering the log-likelihood. Stops when the Newton decrement
        (the predicted gain ``g' A^{-1} g``) is below ``tol`` times
        ``max(1, |llf|)``: a relative criterion, so rescaling the weights does
        not change where it stops.

        Parameters
        ----------
        history : list, optional
            The log-likelihood after each accepted step is appended to it.

        Returns
        -------
        params, evaluation (order 2, at params), iterations, converged
        """
        free = self.free
        ev = self.evaluate(params, order=2)
        for it in range(1, maxiter + 1):
            assert ev.score is not None and ev.hessian is not None  # order=2 evaluations
            g = ev.score[free]
            step = newton_direction(g, -ev.hessian[np.ix_(free, free)])
            if float(g @ step) <= tol * max(1.0, abs(ev.llf)):
                return ev.params, ev, it - 1, True
            base = ev.params

            def trial(t, base=base, step=step):
                theta = base.copy()
                theta[free] += t * step
                new = self.polish_trial(theta, full_step=t == 1.0)
                return new.llf, new

            found = backtrack(trial, ev.llf)
            if found is None:
                return ev.params, ev, it, False
            ev = found[2] if found[2].hessian is not None else self.evaluate(found[2].params,
                                                                              order=2)
            if history is not None:
                history.append(ev.llf)
        assert ev.score is not None and ev.hessian is not None  # order=2 evaluations
        g = ev.score[free]
        decrement = float(g @ newton_direction(g, -ev.hessian[np.ix_(free, free)]))
        return ev.params, ev, maxiter, decrement <= tol * max(1.0, abs(ev.llf))
