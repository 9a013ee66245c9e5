"""Direct maximisation of the mixture likelihood with statsmodels' optimizers.

``fit(method="newton" | "bfgs" | ...)`` lands here. A class-symmetric point
(every class equal) is a stationary point of the mixture likelihood (a saddle,
or the one-class optimum): gradient-based optimizers started near it stay
there. So each start is first moved away from it:

1. a start whose classes coincide
   (:func:`mixlogit.likelihood.estimate.classes_coincide`) is perturbed with
   seeded noise;
2. a short EM run (:data:`WARMUP_TOL`, at most :data:`WARMUP_MAXITER`
   iterations, without the Newton finish) separates the classes, as EM does
   from such starts;
3. the optimizer then runs from there.

A start is converged when the optimizer says so *and* its end passes
:func:`mixlogit.likelihood.estimate.check_optimum` (a negative definite
equilibrated Hessian, distinct classes); the estimate's
``convergence_problem`` says why not.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from statsmodels.base.optimizer import Optimizer

from ._parallel import progress as show_progress
from .em import EMRun, run_em, summarize_starts
from .likelihood import Estimate, MixtureLikelihood
from .likelihood.estimate import check_optimum, classes_coincide

__all__ = ["fit_direct", "DIRECT_METHODS", "WARMUP_TOL", "WARMUP_MAXITER"]

#: statsmodels optimizers accepted by ``fit(method=...)`` besides ``"em"``
DIRECT_METHODS = ("newton", "bfgs", "lbfgs", "nm", "cg", "ncg", "powell")
#: relative log-likelihood change that ends the EM warm-up of a direct method
WARMUP_TOL = 1e-6
#: EM iterations allowed to the warm-up of a direct method
WARMUP_MAXITER = 200


def _perturb(likelihood: MixtureLikelihood, params: np.ndarray, rng: np.random.Generator
             ) -> np.ndarray:
    """Spread coinciding classes apart: noise on the free class-specific coefficients."""
    lay = likelihood.layout
    theta = params.copy()
    n_cls = lay.n_class_params
    scale = 0.1 * (1.0 + np.abs(theta[:n_cls]))
    noise = rng.normal(size=n_cls) * scale
    theta[:n_cls] += np.where(likelihood.free[:n_cls], noise, 0.0)
    return theta


def _one_start(likelihood: MixtureLikelihood, origin: str, theta0: np.ndarray, *, method: str,
               maxiter: int, disp: bool, rng: np.random.Generator) -> EMRun:
    t0 = time.perf_counter()
    free = likelihood.free
    scale = max(float(likelihood.weights.sum()), 1e-300)

    def expand(x):
        theta = likelihood.fixed_values.copy()
        theta[free] = x
        return theta

    def f(x):
        return -likelihood.evaluate(expand(x)).llf / scale

    def grad(x):
        score = likelihood.evaluate(expand(x), order=1).score
        assert score is not None  # order 1 always computes it
        return -score[free] / scale

    def hess(x):
        hessian = likelihood.evaluate(expand(x), order=2).hessian
        assert hessian is not None  # order 2 always computes it
        return -hessian[np.ix_(free, free)] / scale

    theta = likelihood.apply_fixed(theta0)
    if classes_coincide(likelihood, theta) is not None:
        theta = likelihood.apply_fixed(_perturb(likelihood, theta, rng))
    estep, mstep = likelihood.make_steps()
    warm = run_em(estep, mstep, theta, tol=WARMUP_TOL, maxiter=WARMUP_MAXITER, origin=origin)
    if warm.error is None and np.all(np.isfinite(warm.params)):
        theta = warm.params
    xopt, retvals, _ = Optimizer()._fit(f, grad, theta[free], (), {}, hessian=hess,
                                        method=method, maxiter=maxiter, full_output=True,
                                        disp=disp)
    theta = expand(np.asarray(xopt, dtype=float))
    ev = likelihood.evaluate(theta, order=2)
    retvals = retvals if isinstance(retvals, dict) else {}
    converged = bool(retvals.get("converged", False)) and check_optimum(likelihood, ev) is None
    history = np.r_[warm.history, ev.llf]
    return EMRun(origin=origin, params=theta, llf=float(ev.llf), history=history,
                 n_iter=int(retvals.get("iterations", 0) or 0), converged=converged,
                 seconds=time.perf_counter() - t0, start_params=np.array(theta0, dtype=float),
                 max_decrease=warm.max_decrease)


def fit_direct(likelihood: MixtureLikelihood, starts: Sequence[tuple[str, np.ndarray]], *,
               method: str, maxiter: int, disp: bool, rng: np.random.Generator,
               progress: bool | None = None) -> Estimate:
    """Maximise the likelihood with a statsmodels optimizer from each (warmed-up) start.

    Returns
    -------
    Estimate
        At the best start's end; ``em_converged`` holds the optimizer's verdict
        combined with the definiteness check.
    """
    t0 = time.perf_counter()
    runs = [_one_start(likelihood, origin, theta0, method=method, maxiter=maxiter, disp=disp,
                       rng=rng)
            for origin, theta0 in show_progress(starts, total=len(starts), show=progress,
                                                desc=f"{method} starts")]
    report = summarize_starts(runs)
    best = runs[report.best_index]
    ev = likelihood.evaluate(best.params, order=2)
    problem = check_optimum(likelihood, ev) if np.isfinite(ev.llf) else None
    if not bool(best.converged) and problem is None:
        problem = f"not converged: the {method} optimizer stopped before its criterion"
    return Estimate(params=best.params, evaluation=ev, runs=runs, report=report,
                    em_converged=best.converged, polish_iter=0, polish_converged=None,
                    seconds=time.perf_counter() - t0, convergence_problem=problem)
