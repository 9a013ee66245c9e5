"""The check-free estimation pipeline shared by fit, the bootstrap and class selection.

:func:`estimate` runs EM from every start, hands each start over to Newton's
method once EM's relative change falls below ``switch_tol``, keeps the best
optimum, and then checks that the optimum is one: a point whose Hessian is
not negative definite (a saddle, or a flat direction) or whose classes
coincide is reported as not converged, with the reason in
:attr:`Estimate.convergence_problem`. It does no input checks: the model's
``fit`` validates once and then calls it, and the bootstrap's refits call it
directly.

Stopping rules
--------------
``tol`` is EM's criterion: a start's EM phase ends when the relative change of
the log-likelihood, ``|l_t - l_{t-1}| / |l_t|``, is below ``tol``. With
``polish`` (the default), EM hands over to Newton earlier, at the relative
change ``switch_tol`` (:data:`SWITCH_TOL`, 1e-5) when that is larger than
``tol``: EM's slow tail is skipped. Newton's method then stops when its
decrement ``g' A^{-1} g`` (twice the predicted remaining gain) is below
``tol**2 * max(1, |l|)``: Newton converges quadratically, so this is about one
Newton step past the point where EM would stop at ``tol``, and a smaller
``tol`` always gives a tighter estimate (the default ``tol=1e-8`` gives
1e-16). Both rules are relative, and the estimation runs on the unit weights
rescaled to mean one, so multiplying every frequency weight by a constant
gives the same estimate.

Checks at the optimum
---------------------
* The Hessian over the free parameters, equilibrated (``D^{-1/2} H D^{-1/2}``
  with ``D = |diag H|``), must have every eigenvalue below
  ``-IDENTIFICATION_TOL``; a zero (or positive) diagonal entry fails too, and
  so does a curvature below ``FLAT_TOL`` times its :func:`reference_curvature`
  (its value at zero coefficients, which scales with the data the same way):
  the log-likelihood is flat there (perfect separation, a collapsed class).
  ``convergence_problem`` then starts with ``"saddle point: "`` (some
  eigenvalue is clearly positive) or ``"flat direction: "`` (the non-negative
  eigenvalues are zero within the threshold: parameters not identified).
* No two classes may coincide: two classes whose choice probabilities differ
  by less than :data:`COINCIDE_TOL` on every row (candidate) give
  ``"classes i and j coincide"``.
* A best start that did not meet its stopping rule (EM's iteration limit,
  or Newton's finish stopping early) gives ``"not converged: ..."``.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..em import EMRun, StartReport, run_starts, summarize_starts
from .base import Evaluation, MixtureLikelihood
from .blocks import single_thread_blas

__all__ = ["Estimate", "estimate", "sample_optima", "optima_starts", "SWITCH_TOL", "SAMPLE_SWITCH_TOL",
           "SAMPLE_POLISH_TOL", "FINISH_MAXITER", "IDENTIFICATION_TOL",
           "COINCIDE_TOL", "FLAT_TOL", "reference_curvature", "equilibrated_eigenvalues",
           "hessian_problem", "classes_coincide", "check_optimum"]

#: relative log-likelihood change at which each start hands over from EM to Newton
SWITCH_TOL = 1e-5
#: the hand-over of full-data runs that start at a sample's optima: they start within
#: sampling error of the full-data optimum, inside Newton's region of fast convergence
SAMPLE_SWITCH_TOL = 1e-4
#: Newton's relative decrement criterion on a sample: its optima only serve as starts, and
#: 1e-10 places their log-likelihoods far more precisely than the start report's grouping needs
SAMPLE_POLISH_TOL = 1e-10
#: Newton iterations allowed to each start's finish
FINISH_MAXITER = 50
#: an eigenvalue of the equilibrated information (unit diagonal) at or below this counts as zero
IDENTIFICATION_TOL = 1e-10
#: a diagonal of the information below this fraction of its reference curvature counts as zero
FLAT_TOL = 1e-8
#: two classes whose choice probabilities differ by less than this everywhere coincide
COINCIDE_TOL = 1e-6


@dataclass
class Estimate:
    """What :func:`estimate` found.

    Attributes
    ----------
    params : ndarray
        The best optimum.
    evaluation : Evaluation
        Order-2 evaluation at ``params`` (with the caller's weights).
    runs : list of EMRun
        Every start's run.
    report : StartReport
    em_converged : bool
        The best start met its stopping rule (EM's, or Newton's after the hand-over).
    polish_iter : int
        Newton iterations of the best start.
    polish_converged : bool or None
        Newton's verdict (None without polish).
    convergence_problem : str or None
        Why the optimum is not a converged maximum (see the module notes), or None.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.likelihood import estimate
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> lik = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2).likelihood()
    >>> est = estimate(lik, [("given", np.array([1.0, -0.5, -0.5, 0.5, 0.0]))])
    >>> est.converged, est.convergence_problem
    (True, None)
    """

    params: np.ndarray
    evaluation: Evaluation
    runs: list[EMRun]
    report: StartReport
    em_converged: bool
    polish_iter: int
    polish_converged: bool | None
    seconds: float
    timings: dict = field(default_factory=dict)
    convergence_problem: str | None = None

    @property
    def llf(self) -> float:
        return self.evaluation.llf

    @property
    def criterion_met(self) -> bool:
        """Whether the best start met its stopping rule (whatever the checks at the optimum say)."""
        if self.polish_converged is None:
            return bool(self.em_converged)
        return bool(self.polish_converged)

    @property
    def converged(self) -> bool:
        """The stopping rule was met and the optimum passed every check."""
        return self.criterion_met and self.convergence_problem is None

    @property
    def best_run(self) -> EMRun:
        return self.runs[self.report.best_index]


def equilibrated_eigenvalues(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigen-decomposition of a symmetric matrix scaled to unit diagonal.

    Parameters
    ----------
    matrix : ndarray, shape (m, m)
        Symmetric (it is symmetrised first), for example an information matrix.

    Returns
    -------
    eigenvalues : ndarray, shape (m_ok,)
        Ascending eigenvalues of ``D^{-1/2} A D^{-1/2}``, ``D = diag(A)``, over
        the positions with a positive finite diagonal.
    eigenvectors : ndarray, shape (m_ok, m_ok)
    positive_diagonal : ndarray of bool, shape (m,)
        The positions kept (the others have a zero, negative or non-finite diagonal).

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.likelihood.estimate import equilibrated_eigenvalues
    >>> A = np.array([[4e12, 0.0], [0.0, 1e-12]])   # badly scaled but well conditioned
    >>> eig, _, ok = equilibrated_eigenvalues(A)
    >>> eig.tolist(), ok.tolist()
    ([1.0, 1.0], [True, True])
    """
    A = 0.5 * (matrix + matrix.T)
    diag = np.diag(A)
    ok = np.isfinite(diag) & (diag > 0)
    if not np.all(np.isfinite(A[np.ix_(ok, ok)])):
        ok = np.zeros_like(ok)
    s = 1.0 / np.sqrt(diag[ok])
    R = A[np.ix_(ok, ok)] * s[:, None] * s[None, :]
    if R.size == 0:
        return np.zeros(0), np.zeros((0, 0)), ok
    eig, vec = np.linalg.eigh(R)
    return eig, vec, ok


def reference_curvature(likelihood: MixtureLikelihood) -> np.ndarray:
    """The curvature scale of every parameter at zero coefficients, shape (n_params,).

    Class-specific and invariant coefficients: the diagonal of the class
    information at all coefficients zero (uniform choice probabilities) with
    the full unit weights; membership coefficients: ``sum_n w_n z_na^2 (K-1)/K^2``,
    the information of a membership logit at equal shares. It scales with the
    data exactly as the observed information does, so the ratio of the two is
    free of units.

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.likelihood.estimate import reference_curvature
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=50, n_situations=3, n_alternatives=3,
    ...     betas=[[1.0, -1.0]], shares=[1.0], seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=1)
    >>> bool((reference_curvature(model.likelihood()) > 0).all())
    True
    """
    lay = likelihood.layout
    K = lay.k_classes
    w = likelihood.weights
    ref = np.zeros(lay.n_params)
    wh = np.repeat(w[:, None], K, axis=1)
    infos = likelihood.class_information(np.zeros(lay.n_params), wh)
    for k in range(K):
        ref[lay.class_design_index(k)] = np.diag(infos[k])
    if K > 1:
        Z = np.asarray(likelihood.data.exog_membership, dtype=float)
        gram = (w @ (Z * Z)) * (K - 1) / K ** 2
        ref[lay.membership_slice] = np.tile(gram, K - 1)
    return ref


def hessian_problem(hessian: np.ndarray, *, tol: float = IDENTIFICATION_TOL,
                    reference: np.ndarray | None = None) -> str | None:
    """Why a Hessian is not negative definite (tested on the equilibrated matrix), or None.

    Parameters
    ----------
    hessian : ndarray, shape (d, d)
        Hessian of the log-likelihood over the free parameters.
    tol : float
        Eigenvalues of the equilibrated information ``-H`` (unit diagonal) at or
        below ``tol`` count as non-positive.
    reference : ndarray, shape (d,), optional
        :func:`reference_curvature` over the same parameters: a diagonal of
        ``-H`` below ``FLAT_TOL`` times it counts as zero (a flat direction:
        separation, a collapsed class).

    Returns
    -------
    str or None
        ``"saddle point: Hessian has k non-negative eigenvalues"`` (with how many
        are clearly positive), ``"flat direction: Hessian has k zero eigenvalues
        ..."``, or None when it is negative definite.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.likelihood.estimate import hessian_problem
    >>> hessian_problem(-np.diag([1e8, 1e-8])) is None
    True
    >>> hessian_problem(np.array([[-1.0, 2.0], [2.0, -1.0]]))
    'saddle point: Hessian has 1 non-negative eigenvalues (1 positive)'
    """
    if hessian.size == 0:
        return None
    if not np.all(np.isfinite(hessian)):
        return "flat direction: the Hessian is not finite"
    A = -0.5 * (hessian + hessian.T)
    diag = np.abs(np.diag(A))
    flat = diag == 0
    if reference is not None:
        flat |= diag < FLAT_TOL * reference
    keep = ~flat
    s = 1.0 / np.sqrt(diag[keep])
    # congruent to A (Sylvester's law of inertia): the same count of signs, on a unit scale
    eig = np.linalg.eigvalsh(A[np.ix_(keep, keep)] * s[:, None] * s[None, :])
    n_positive = int(np.sum(eig < -tol))
    n_nonneg = int(np.sum(flat) + np.sum(eig <= tol))
    if n_nonneg == 0:
        return None
    if n_positive:
        return (f"saddle point: Hessian has {n_nonneg} non-negative eigenvalues "
                f"({n_positive} positive)")
    return (f"flat direction: Hessian has {n_nonneg} zero eigenvalues (parameters not "
            "identified at the estimate)")


def classes_coincide(likelihood: MixtureLikelihood, params: np.ndarray, *,
                     tol: float = COINCIDE_TOL) -> tuple[int, int] | None:
    """The first pair of classes (1-based) whose choice probabilities coincide, or None.

    Two classes coincide when their choice probabilities differ by at most
    ``tol`` on every row (long form) or candidate (counts form): a criterion in
    probability units, so it does not depend on the scale of the attributes.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=50, n_situations=3, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.5, 0.5], seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
    >>> from mixlogit.likelihood.estimate import classes_coincide
    >>> classes_coincide(model.likelihood(), np.array([0.5, 0.2, 0.5, 0.2, 0.0]))
    (1, 2)
    >>> classes_coincide(model.likelihood(), np.array([1.0, -1.0, -1.0, 1.0, 0.0])) is None
    True
    """
    K = likelihood.layout.k_classes
    if K < 2:
        return None
    gaps = likelihood.class_probability_gaps(params)
    for k in range(K):
        for m in range(k + 1, K):
            if gaps[k, m] <= tol:
                return k + 1, m + 1
    return None


def check_optimum(likelihood: MixtureLikelihood, evaluation: Evaluation) -> str | None:
    """Why ``evaluation`` (order 2) is not a converged maximum, or None.

    Coinciding classes first, then the definiteness of the Hessian over the
    free parameters (with the :func:`reference_curvature` test of flat
    directions); several problems are joined by ``"; "``.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.likelihood.estimate import check_optimum
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=50, n_situations=3, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.5, 0.5], seed=0)
    >>> lik = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2).likelihood()
    >>> check_optimum(lik, lik.evaluate(np.zeros(5), order=2)).split(";")[0]
    'classes 1 and 2 coincide'
    """
    problems = []
    pair = classes_coincide(likelihood, evaluation.params)
    if pair is not None:
        problems.append(f"classes {pair[0]} and {pair[1]} coincide")
    free = likelihood.free
    if evaluation.hessian is None:
        raise ValueError("check_optimum needs an order-2 evaluation")
    trouble = hessian_problem(evaluation.hessian[np.ix_(free, free)],
                              reference=reference_curvature(likelihood)[free])
    if trouble is not None:
        problems.append(trouble)
    return "; ".join(problems) if problems else None


def _rescaled(evaluation: Evaluation, factor: float) -> Evaluation:
    """The evaluation with every unit weight multiplied by ``factor`` (exact: the
    log-likelihood and its derivatives are linear in the weights; per-unit pieces unchanged;
    the implementation's state, which belongs to the other weights, is dropped)."""
    if factor == 1.0:
        return evaluation
    ev = evaluation
    assert ev.score is not None and ev.hessian is not None  # order-2 evaluations only
    return Evaluation(ev.params, ev.llf * factor, ev.loglike_obs, ev.posteriors, ev.log_shares,
                      None, ev.score * factor, ev.score_obs, ev.hessian * factor)


def _normalised(likelihood: MixtureLikelihood) -> tuple[MixtureLikelihood, float]:
    """The likelihood with unit weights rescaled to mean one, and the factor removed."""
    w = likelihood.weights
    mean = float(np.mean(w)) if w.size else 1.0
    if mean == 1.0 or not np.isfinite(mean) or mean <= 0:
        return likelihood, 1.0
    return likelihood.reweighted(w / mean), mean


def estimate(likelihood: MixtureLikelihood, starts: Sequence[tuple[str, np.ndarray]], *,
             tol: float = 1e-8, maxiter: int = 1000, polish: bool = True,
             polish_tol: float | None = None, switch_tol: float = SWITCH_TOL,
             newton_steps: int = 1, n_jobs: int = 1, progress: bool | None = None,
             check: bool = True) -> Estimate:
    """EM from every start, Newton to finish each, keep the best, check it. No input checks.

    Parameters
    ----------
    likelihood : MixtureLikelihood
    starts : sequence of (origin, params)
    tol : float
        EM's criterion: relative change of the log-likelihood. With ``polish``
        it also sets Newton's: decrement below ``tol**2 * max(1, |llf|)``.
    maxiter : int
        EM iterations per start.
    polish : bool
        Finish every start by Newton's method on the full likelihood.
    polish_tol : float, optional
        Newton's relative decrement criterion (default ``tol**2``).
    switch_tol : float
        Relative change at which EM hands over to Newton (when larger than ``tol``).
    newton_steps : int
        Class ascent steps per EM iteration.
    n_jobs : int
        Threads over starts.
    progress : bool, optional
        Progress bar over starts.
    check : bool
        Check the optimum (:func:`check_optimum`); a search on a sample, whose
        optima only serve as starts, skips it.

    Returns
    -------
    Estimate
        At the best optimum, with the Hessian and scores evaluated there (with
        the likelihood's own weights), and ``convergence_problem`` set when
        the optimum fails a check.

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.likelihood import estimate
    >>> from mixlogit.starts import make_starts
    >>> import numpy as np
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> lik = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2).likelihood()
    >>> est = estimate(lik, [("zeros", np.zeros(5))])   # EM's class-symmetric fixed point
    >>> est.converged, est.convergence_problem.split(";")[0]
    (False, 'classes 1 and 2 coincide')
    """
    with single_thread_blas():  # per-unit arrays are tall and skinny: one BLAS thread
        return _estimate(likelihood, starts, tol=tol, maxiter=maxiter, polish=polish,
                         polish_tol=polish_tol, switch_tol=switch_tol, newton_steps=newton_steps,
                         n_jobs=n_jobs, progress=progress, check=check)


def _estimate(likelihood: MixtureLikelihood, starts: Sequence[tuple[str, np.ndarray]], *,
              tol: float, maxiter: int, polish: bool, polish_tol: float | None,
              switch_tol: float, newton_steps: int, n_jobs: int, progress: bool | None,
              check: bool) -> Estimate:
    t0 = time.perf_counter()
    work, factor = _normalised(likelihood)
    starts = [(origin, work.apply_fixed(p)) for origin, p in starts]
    newton_tol = tol ** 2 if polish_tol is None else polish_tol

    kept: list[Evaluation] = []   # the best finish's order-2 evaluation, reused below
    lock = threading.Lock()

    def newton_finish(params):
        history: list[float] = []
        params, final, _, ok = work.polish(params, tol=newton_tol, maxiter=FINISH_MAXITER,
                                           history=history)
        with lock:
            if not kept or final.llf > kept[0].llf:
                kept[:] = [final]
        return params, history, ok

    runs = run_starts(lambda: work.make_steps(newton_steps), starts, tol=tol,
                      maxiter=maxiter, n_jobs=n_jobs, progress=progress,
                      finish=newton_finish if polish else None,
                      switch_tol=switch_tol)
    if factor != 1.0:  # report log-likelihoods with the caller's weights
        for run in runs:
            run.llf *= factor
            run.history = run.history * factor
            run.max_decrease *= factor
    report = summarize_starts(runs, layout=likelihood.layout)
    best = runs[report.best_index]
    t_em = time.perf_counter() - t0
    params = best.params
    if kept and np.array_equal(kept[0].params, params):
        ev = _rescaled(kept[0], factor)
    else:
        ev = likelihood.evaluate(params, order=2)
    n_polish, polished = (best.n_finish, best.converged) if polish else (0, None)
    problem = check_optimum(likelihood, ev) if check and np.isfinite(ev.llf) else None
    if not best.converged:
        limit = ("not converged: Newton's finish stopped before its criterion" if polish else
                 f"not converged: EM stopped after {best.n_iter} iterations")
        problem = limit if problem is None else f"{limit}; {problem}"
    return Estimate(params=params, evaluation=ev, runs=runs, report=report,
                    em_converged=best.converged, polish_iter=n_polish, polish_converged=polished,
                    seconds=time.perf_counter() - t0,
                    timings={"em": t_em, "polish": time.perf_counter() - t0 - t_em},
                    convergence_problem=problem)


def sample_optima(likelihood: MixtureLikelihood, starts: Sequence[tuple[str, np.ndarray]], *,
                  tol: float = 1e-8, maxiter: int = 1000, max_optima: int = 3
                  ) -> list[tuple[str, np.ndarray]]:
    """Run the starts on a sample's likelihood; its best distinct optima become the starts.

    Used when starts are fitted on a sample of decision makers (very large or
    partitioned data): the full-data EM then runs only from the best
    ``max_optima`` distinct optima found on the sample.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.likelihood.estimate import sample_optima
    >>> from mixlogit.starts import make_starts
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> lik = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2).likelihood()
    >>> out = sample_optima(lik, make_starts(lik, "partition", 4, np.random.default_rng(0)))
    >>> 1 <= len(out) <= 3 and out[0][0].startswith("sample optimum 0")
    True
    """
    est = estimate(likelihood, starts, tol=tol, maxiter=maxiter, polish_tol=SAMPLE_POLISH_TOL,
                   check=False)
    return optima_starts(est, max_optima=max_optima, prefix="sample optimum")


def optima_starts(est: Estimate, *, max_optima: int = 3, prefix: str = "sample optimum"
                  ) -> list[tuple[str, np.ndarray]]:
    """The first run at each of the best ``max_optima`` distinct optima of an estimate, as starts.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.likelihood.estimate import estimate, optima_starts
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> lik = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2).likelihood()
    >>> est = estimate(lik, [("a", np.array([1.0, -1.0, -1.0, 1.0, 0.0]))])
    >>> [origin for origin, _ in optima_starts(est)]
    ['sample optimum 0 (a)']
    """
    table = est.report.table
    optimum = table["optimum"].to_numpy()
    picked: list[tuple[str, np.ndarray]] = []
    for value in sorted({int(o) for o in optimum if o >= 0})[:max_optima]:
        run = est.runs[int(np.flatnonzero(optimum == value)[0])]
        picked.append((f"{prefix} {value} ({run.origin})", run.params))
    return picked or [("best", est.params)]
