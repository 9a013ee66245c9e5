"""Equality and bound constraints on the utility coefficients of any mixture likelihood.

:class:`ConstrainedLikelihood` wraps an inner
:class:`~mixlogit.likelihood.base.MixtureLikelihood` (long, counts or
partitioned) and maximises it subject to

* **equalities** between coefficients (lclogit2's ``constraints()``: the same
  coefficient in a chosen subset of classes). They are a linear
  reparametrisation ``theta = A phi (+ fixed values)``: every tied group has one
  *representative* (its first position), the other members copy it. The free
  coordinates of the wrapper are the representatives and the untied free
  positions, so its score is ``A'g``, its Hessian ``A'HA`` and its per-unit
  scores ``S A`` (reported on the representatives' positions; the positions of
  the copies carry zeros and are not free);
* **bounds** (Biogeme's lower/upper): every step stays feasible. The line
  search caps a step at the nearest bound; a coordinate at its bound whose
  gradient points outward is held there (the active set) and released as soon
  as the gradient turns inward. EM's class step and the Newton polish both
  work this way.

EM class step (generic, from the public interface only): by Fisher's identity
the gradient of the class part at the E-step's point is the log-likelihood's
score there (reduced by ``A'``); the metric is ``A'MA`` with ``M`` the summed
:meth:`~MixtureLikelihood.class_information`; the line search evaluates
``sum(wh * class_state(trial).loglik)`` (or the log-likelihood itself when the
inner likelihood keeps no class state, as the partitioned one). The share
step is the inner likelihood's own (shares and membership terms cannot be
constrained).

Standard errors on the constrained space: :meth:`ConstrainedLikelihood.expand_covariance`
maps the covariance of the free coordinates (``cov(phi)``) to
``A cov(phi) A'``, and gives a parameter at an active bound a NaN with the
reason ``"at its bound"``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..exceptions import SpecificationError
from .base import Evaluation, MixtureLikelihood, backtrack, newton_direction
from .constraint_spec import parse_bounds, parse_constraints
from .estimate import Estimate, check_optimum

__all__ = ["ConstrainedLikelihood", "constrain", "AT_BOUND"]

#: the covariance reason of a parameter at an active bound
AT_BOUND = "at its bound: the estimate lies on the constraint, so no standard error is reported"
#: relative distance to a bound under which a coordinate counts as on it
BOUND_TOL = 1e-10


class ConstrainedLikelihood(MixtureLikelihood):
    """An inner mixture likelihood under equality ties and bounds of its utility coefficients.

    Parameters
    ----------
    inner : MixtureLikelihood
        The unconstrained likelihood (its fixed parameters stay fixed).
    ties : sequence of sequence of int, optional
        Disjoint groups of flat positions sharing one value (see
        :func:`parse_constraints`); the first of each group is its representative.
    lower, upper : ndarray, optional
        Bounds of every position (``-inf``/``inf`` for none); a tied group
        gets the intersection of its members' bounds.
    held : ndarray of bool, optional
        Positions held at an active bound (set by :meth:`at_estimate` for the
        covariance; not free).

    Attributes
    ----------
    tied_to : ndarray of int, shape (d,)
        The representative of each position (itself when untied).
    free : ndarray of bool
        The free coordinates ``phi``: untied free positions and representatives.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.likelihood.constrained import ConstrainedLikelihood
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=60, n_situations=4, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, -1.0]], shares=[0.5, 0.5], seed=0)
    >>> inner = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2).likelihood()
    >>> lik = ConstrainedLikelihood(inner, ties=[[1, 3]])      # class1:x2 = class2:x2
    >>> theta = lik.apply_fixed(np.array([0.5, -0.7, -0.5, 9.0, 0.1]))
    >>> theta.tolist()
    [0.5, -0.7, -0.5, -0.7, 0.1]
    >>> bool(np.isclose(lik.evaluate(theta, order=1).score[1],
    ...                 inner.evaluate(theta, order=1).score[[1, 3]].sum()))
    True
    """

    def __init__(self, inner: MixtureLikelihood, *, ties: Sequence[Sequence[int]] = (),
                 lower: np.ndarray | None = None, upper: np.ndarray | None = None,
                 held: np.ndarray | None = None):
        super().__init__(inner.data, inner.layout, inner.fixed_mask, inner.fixed_values)
        self.inner = inner
        # the wrapper takes the class-level constants of the likelihood it wraps, per instance
        self.form = inner.form  # type: ignore[misc]
        self.supported_starts = inner.supported_starts  # type: ignore[misc]
        self.default_start = inner.default_start  # type: ignore[misc]
        d = self.layout.n_params
        self.ties = [sorted(int(i) for i in g) for g in ties]
        tied_to = np.arange(d)
        lo = np.full(d, -np.inf) if lower is None else np.asarray(lower, float).copy()
        hi = np.full(d, np.inf) if upper is None else np.asarray(upper, float).copy()
        for group in self.ties:
            fixed = [i for i in group if self.fixed_mask[i]]
            if fixed:
                names = [self.layout.param_names[i] for i in group]
                raise SpecificationError(f"fit(): constraint {' = '.join(names)} ties a fixed "
                                         "parameter; fix all of them or none")
            tied_to[group] = group[0]
            lo[group[0]], hi[group[0]] = lo[group].max(), hi[group].min()
            if not lo[group[0]] < hi[group[0]]:
                names = [self.layout.param_names[i] for i in group]
                raise SpecificationError(f"fit(): the bounds of the tied {names} do not overlap")
        self.lower, self.upper = lo, hi
        self.held = np.zeros(d, bool) if held is None else np.asarray(held, bool).copy()
        self._tied_to = tied_to
        self.free = (~self.fixed_mask) & (tied_to == np.arange(d)) & ~self.held
        self._A = np.zeros((d, d))
        self._A[np.arange(d), tied_to] = 1.0

    @property
    def tied_to(self) -> np.ndarray:
        """The representative of each position (itself when untied), shape (d,)."""
        return self._tied_to

    # ------------------------------------------------------------ mapping
    @property
    def n_restrictions(self) -> int:
        """Number of equality restrictions (tied positions beyond the representatives)."""
        return int(sum(len(g) - 1 for g in self.ties))

    @property
    def classes_exchangeable(self) -> bool:
        """Whether the classes may be relabelled: the inner likelihood's may, no class-specific
        coefficient is bounded, and every tie joins one term across all classes."""
        lay = self.layout
        n_c = lay.n_class_params
        if not lay.classes_exchangeable(self.fixed_mask):
            return False
        if np.isfinite(self.lower[:n_c]).any() or np.isfinite(self.upper[:n_c]).any():
            return False
        for group in self.ties:
            if all(i >= n_c for i in group):
                continue
            terms = {i % lay.k_exog if i < n_c else -1 for i in group}
            if len(terms) != 1 or len(group) != lay.k_classes:
                return False
        return True

    def apply_fixed(self, params: np.ndarray) -> np.ndarray:
        """``params`` with fixed values set, copies tied to their representative, and clipped
        into the bounds (the feasible point nearest on every coordinate)."""
        theta = self.inner.apply_fixed(params)
        theta = np.clip(theta, self.lower, self.upper)
        theta = theta[self.tied_to]
        return self.inner.apply_fixed(theta)

    def reduce(self, ev: Evaluation) -> Evaluation:
        """An inner evaluation with derivatives with respect to the free coordinates."""
        if ev.score is None:
            return ev
        A = self._A
        score_obs = None if ev.score_obs is None else ev.score_obs @ A
        hessian = None if ev.hessian is None else A.T @ ev.hessian @ A
        return Evaluation(ev.params, ev.llf, ev.loglike_obs, ev.posteriors, ev.log_shares,
                          ev.state, A.T @ ev.score, score_obs, hessian)

    # ----------------------------------------------------- the interface
    def class_state(self, params: np.ndarray) -> Any:
        return self.inner.class_state(params)

    def evaluate(self, params, order: int = 0, state: Any = None) -> Evaluation:
        params = np.asarray(params, dtype=float)
        return self.reduce(self.inner.evaluate(params, order=order, state=state))

    def loglike(self, params) -> float:
        return self.inner.loglike(params)

    def share_step(self, params: np.ndarray, evaluation: Evaluation) -> np.ndarray:
        return self.inner.share_step(params, evaluation)

    def class_information(self, params: np.ndarray, wh: np.ndarray) -> list[np.ndarray]:
        return self.inner.class_information(params, wh)

    def class_probabilities(self, params: np.ndarray) -> np.ndarray:
        return self.inner.class_probabilities(params)

    def class_probability_gaps(self, params: np.ndarray) -> np.ndarray:
        return self.inner.class_probability_gaps(params)

    def relabelled(self, evaluation: Evaluation, order) -> Evaluation:
        """Evaluated anew: the derivatives are reduced to the tied coordinates."""
        degree = 2 if evaluation.hessian is not None else int(evaluation.score is not None)
        return self.evaluate(self.layout.permute(evaluation.params, order), order=degree)

    def reweighted(self, weights: np.ndarray) -> ConstrainedLikelihood:
        return ConstrainedLikelihood(self.inner.reweighted(weights), ties=self.ties,
                                     lower=self.lower, upper=self.upper)

    def start_likelihood(self, *, max_units: int | None = None, seed: int = 0
                         ) -> MixtureLikelihood:
        """The inner likelihood's start likelihood (starts are made feasible by
        :meth:`apply_fixed`)."""
        return self.inner.start_likelihood(max_units=max_units, seed=seed)

    # ------------------------------------------------------- active set
    def _released(self, theta: np.ndarray, grad: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Which of the coordinates ``idx`` may move: not at a bound with the gradient outward."""
        x, lo, hi = theta[idx], self.lower[idx], self.upper[idx]
        scale = BOUND_TOL * np.maximum(1.0, np.abs(x))
        at_lo = np.isfinite(lo) & (x <= lo + scale) & (grad <= 0)
        at_hi = np.isfinite(hi) & (x >= hi - scale) & (grad >= 0)
        return ~(at_lo | at_hi)

    def _cap(self, theta: np.ndarray, idx: np.ndarray, step: np.ndarray) -> float:
        """The largest step length in (0, 1] that keeps ``theta[idx] + t step`` feasible."""
        x, lo, hi = theta[idx], self.lower[idx], self.upper[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            t_lo = np.where(step < 0, (lo - x) / step, np.inf)
            t_hi = np.where(step > 0, (hi - x) / step, np.inf)
        t = float(np.min(np.r_[t_lo, t_hi, 1.0]))
        return max(t, 0.0)

    def _move(self, base: np.ndarray, idx: np.ndarray, step: np.ndarray, t: float) -> np.ndarray:
        theta = base.copy()
        theta[idx] = np.clip(base[idx] + t * step, self.lower[idx], self.upper[idx])
        return theta[self.tied_to]

    def projected_step(self, theta: np.ndarray, grad: np.ndarray, metric: np.ndarray,
                       idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
        """Newton step on the released coordinates of ``idx`` for an ascent ``grad``.

        Returns the released positions, the step over them, its cap (the step
        length at which the first bound is reached, at most 1) and the
        predicted gain ``g' step``.
        """
        move = self._released(theta, grad, idx)
        while True:  # a coordinate on its bound whose step points outward is held too
            where = idx[move]
            if where.size == 0:
                return where, np.zeros(0), 0.0, 0.0
            sub = np.flatnonzero(move)
            step = newton_direction(grad[sub], metric[np.ix_(sub, sub)])
            blocked = ~self._released(theta, step, where)
            if not blocked.any():
                return where, step, self._cap(theta, where, step), float(grad[sub] @ step)
            move[sub[blocked]] = False

    # ----------------------------------------------------------- EM steps
    def class_step(self, params: np.ndarray, state: Any, wh: np.ndarray,
                   context: dict) -> tuple[np.ndarray, Any, float]:
        """One feasible Newton step on the class part in the free coordinates.

        ``context["score"]`` is the reduced score at the E-step's point
        (Fisher's identity: the class part's gradient there); without it the
        score is evaluated at ``params``.
        """
        lay = self.layout
        n_u = lay.membership_slice.start
        score = context.pop("score", None)
        if score is None:
            score = self.evaluate(params, order=1).score
        infos = self.inner.class_information(params, wh)
        M = np.zeros((n_u, n_u))
        totals = wh.sum(axis=0)
        free = self.free[:n_u].copy()
        for k in range(lay.k_classes):
            idx = lay.class_design_index(k)
            M[np.ix_(idx, idx)] += infos[k]
            if totals[k] <= 1e-10 * totals.sum():
                free[lay.class_slice(k)] = False
        A = self._A[:n_u, :n_u]
        metric = A.T @ M @ A
        idx = np.flatnonzero(free)
        where, step, cap, gain = self.projected_step(params, score[idx], metric[np.ix_(idx, idx)],
                                                     idx)
        if where.size == 0 or cap <= 0 or gain <= 0:
            return params, state, 0.0
        if state is None or getattr(state, "loglik", None) is None:
            def along(t):
                trial = self._move(params, where, step, t * cap)
                return self.inner.loglike(trial), (trial, None)
            current = self.inner.loglike(params)
        else:
            def along(t):
                trial = self._move(params, where, step, t * cap)
                new_state = self.inner.class_state(trial)
                return float(np.sum(wh * new_state.loglik)), (trial, new_state)
            current = float(np.sum(wh * state.loglik))
        found = backtrack(along, current)
        if found is None:
            return params, state, 0.0
        _, value, (trial, new_state) = found
        return trial, new_state, value - current

    def make_steps(self, newton_steps: int = 1):
        """E- and M-steps for :func:`mixlogit.em.run_em` under the constraints.

        The E-step evaluates to order 1 (the reduced score is the class part's
        gradient at the E-step's point); the M-step is the inner share step
        and one feasible class step, so the log-likelihood never falls.
        """
        cache: dict[bytes, Any] = {}
        context: dict = {}
        w = self.weights

        def estep(params):
            state = cache.pop(params.tobytes(), None)
            cache.clear()
            ev = self.evaluate(params, order=1, state=state)
            return ev.llf, ev

        def mstep(params, ev: Evaluation):
            new = params
            if self.layout.k_classes > 1:
                new = self.apply_fixed(self.share_step(params, ev))
            wh = w[:, None] * ev.posteriors
            state = ev.state if np.array_equal(new[: self.layout.membership_slice.start],
                                               params[: self.layout.membership_slice.start]) \
                else None
            context["score"] = ev.score
            new, state, _ = self.class_step(new, state, wh, context)
            if state is not None:
                cache[new.tobytes()] = state
            return new

        return estep, mstep

    def polish(self, params: np.ndarray, *, maxiter: int = 100, tol: float = 1e-13,
               history: list | None = None) -> tuple[np.ndarray, Evaluation, int, bool]:
        """Newton's method over the free coordinates, feasible at every step (active set).

        Stops when the Newton decrement over the released coordinates is below
        ``tol * max(1, |llf|)``.
        """
        idx = np.flatnonzero(self.free)
        ev = self.evaluate(self.apply_fixed(params), order=2)
        for it in range(1, maxiter + 1):
            where, step, cap, gain = self._newton(ev, idx)
            if where.size == 0 or gain <= tol * max(1.0, abs(ev.llf)):
                return ev.params, ev, it - 1, True
            base = ev.params

            def trial(t, base=base, where=where, step=step, cap=cap):
                theta = self._move(base, where, step, t * cap)
                return self.inner.loglike(theta), theta

            found = backtrack(trial, ev.llf) if cap > 0 else None
            if found is None:
                return ev.params, ev, it, False
            ev = self.evaluate(found[2], order=2)
            if history is not None:
                history.append(ev.llf)
        where, step, cap, gain = self._newton(ev, idx)
        return ev.params, ev, maxiter, gain <= tol * max(1.0, abs(ev.llf))

    def _newton(self, ev: Evaluation, idx: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, float, float]:
        """:meth:`projected_step` with the score and observed information of ``ev``."""
        assert ev.score is not None and ev.hessian is not None
        return self.projected_step(ev.params, ev.score[idx], -ev.hessian[np.ix_(idx, idx)], idx)

    # --------------------------------------------------------- inference
    def active_bounds(self, params: np.ndarray) -> np.ndarray:
        """Free coordinates at a bound with the score pushing outward at ``params``, (d,)."""
        idx = np.flatnonzero(self.free)
        score = self.evaluate(params, order=1).score
        assert score is not None
        out = np.zeros(self.layout.n_params, bool)
        out[idx] = ~self._released(np.asarray(params, float), score[idx], idx)
        return out

    def at_estimate(self, params: np.ndarray) -> ConstrainedLikelihood:
        """The same likelihood with the active bounds at ``params`` held (not free), so the
        covariance is over the coordinates inside their bounds."""
        held = self.active_bounds(params) | self.held
        for group in self.ties:
            held[group] = held[group[0]]
        return ConstrainedLikelihood(self.inner, ties=self.ties, lower=self.lower,
                                     upper=self.upper, held=held)

    def finish(self, est: Estimate) -> tuple[ConstrainedLikelihood, Estimate]:
        """The likelihood with the active bounds held (:meth:`at_estimate`) and the estimate
        with its optimum checked on the released coordinates only.

        At a constrained maximum the second-order condition holds on the
        coordinates inside their bounds; the curvature across an active bound
        may have either sign, so it is left out of the check.
        """
        held = self.at_estimate(est.params)
        if not held.held.any() or est.evaluation.hessian is None:
            return held, est
        kept = [p for p in (est.convergence_problem or "").split("; ")
                if p.startswith("not converged")]
        trouble = check_optimum(held, est.evaluation) if np.isfinite(est.llf) else None
        problems = kept + ([trouble] if trouble else [])
        return held, dataclasses.replace(est, convergence_problem="; ".join(problems) or None)

    def expand_covariance(self, cov: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
        """``A cov(phi) A'`` from the covariance over all positions (NaN where not free).

        Parameters
        ----------
        cov : ndarray, shape (d, d)
            Covariance of the free coordinates at their positions (other rows NaN).

        Returns
        -------
        cov : ndarray, shape (d, d)
            Every tied position gets its representative's row and column; held
            positions stay NaN.
        reasons : dict
            Position -> :data:`AT_BOUND` for the parameters held at an active bound.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> from mixlogit.likelihood.constrained import ConstrainedLikelihood
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=30, n_situations=3, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, -1.0]], shares=[0.5, 0.5], seed=0)
        >>> inner = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2
        ...     ).likelihood()
        >>> lik = ConstrainedLikelihood(inner, ties=[[1, 3]])
        >>> cov = np.diag([1.0, 2.0, 3.0, np.nan, 5.0])
        >>> np.diag(lik.expand_covariance(cov)[0]).tolist()
        [1.0, 2.0, 3.0, 2.0, 5.0]
        """
        cov = np.asarray(cov, float)[np.ix_(self.tied_to, self.tied_to)]
        held = np.flatnonzero(self.held)
        cov[held, :] = np.nan
        cov[:, held] = np.nan
        return cov, {int(i): AT_BOUND for i in held}


def constrain(likelihood: MixtureLikelihood, *, constraints: Any = None, bounds: Any = None
              ) -> MixtureLikelihood:
    """``likelihood`` under ``fit``'s ``constraints`` and ``bounds`` (itself when both are None).

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.likelihood.constrained import constrain
    >>> df = mx.datasets.electricity.load()
    >>> lik = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ pf + cl - 1", df, groups="chid", panel="id", k_classes=2).likelihood()
    >>> c = constrain(lik, constraints={"pf": [1, 2]}, bounds={"class1:cl": (0, None)})
    >>> c.free.tolist(), c.n_restrictions
    ([True, True, False, True, True], 1)
    """
    if constraints is None and bounds is None:
        return likelihood
    lay = likelihood.layout
    ties = [] if constraints is None else parse_constraints(constraints, lay)
    lower = upper = None
    if bounds is not None:
        lower, upper = parse_bounds(bounds, lay)
        fixed = [lay.param_names[i] for i in np.flatnonzero(likelihood.fixed_mask
                                                            & (np.isfinite(lower)
                                                               | np.isfinite(upper)))]
        if fixed:
            raise SpecificationError(f"fit(): {fixed} are both fixed and bounded; give each "
                                     "parameter a fixed value or bounds, not both")
    return ConstrainedLikelihood(likelihood, ties=ties, lower=lower, upper=upper)
