"""The check-free estimation pipeline shared by fit, the bootstrap and class selection.

:func:`estimate` runs EM from every start, hands each start over to Newton's
method once EM's relative change falls below ``switch_tol``, and keeps the
best optimum. It does no input checks: the model's ``fit`` validates once and
then calls it, and the bootstrap's refits call it directly.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..em import EMRun, StartReport, run_starts, summarize_starts
from .base import Evaluation, MixtureLikelihood

__all__ = ["Estimate", "estimate", "SWITCH_TOL", "FINISH_MAXITER"]

@dataclass
class Estimate:
    """What :func:`estimate` found."""

    params: np.ndarray
    evaluation: Evaluation
    runs: list[EMRun]
    report: StartReport
    em_converged: bool
    polish_iter: int
    polish_converged: bool | None
    seconds: float
    timings: dict = field(default_factory=dict)

    @property
    def llf(self) -> float:
        return self.evaluation.llf

    @property
    def converged(self) -> bool:
        if self.polish_converged is None:
            return self.em_converged
        return self.polish_converged

    @property
    def best_run(self) -> EMRun:
        return self.runs[self.report.best_index]


#: relative log-likelihood change at which each start hands over from EM to Newton
SWITCH_TOL = 1e-5
#: Newton iterations allowed to each start's finish
FINISH_MAXITER = 50


def estimate(likelihood: MixtureLikelihood, starts: Sequence[tuple[str, np.ndarray]], *,
             tol: float = 1e-8, maxiter: int = 1000, polish: bool = True, polish_tol: float = 1e-13,
             switch_tol: float = SWITCH_TOL, newton_steps: int = 1, n_jobs: int = 1,
             progress: bool | None = None) -> Estimate:
    """EM from every start, Newton to finish each, keep the best. No input checks.

    With ``polish``, each start runs EM until the relative change of the
    log-likelihood is below ``switch_tol`` (EM's fast phase) and Newton's
    method on the full likelihood then finishes it (EM's slow tail is
    skipped). Without it, EM runs to ``tol``.

    Returns
    -------
    Estimate
        At the best optimum, with the Hessian and scores evaluated there.
    """
    t0 = time.perf_counter()
    starts = [(origin, likelihood.apply_fixed(p)) for origin, p in starts]
    def newton_finish(params):
        history: list[float] = []
        params, _, _, ok = likelihood.polish(params, tol=polish_tol, maxiter=FINISH_MAXITER,
                                             history=history)
        return params, history, ok

    runs = run_starts(lambda: likelihood.make_steps(newton_steps), starts, tol=tol,
                      maxiter=maxiter, n_jobs=n_jobs, progress=progress,
                      finish=newton_finish if polish else None,
                      switch_tol=switch_tol)
    report = summarize_starts(runs)
    best = runs[report.best_index]
    t_em = time.perf_counter() - t0
    params = best.params
    ev = likelihood.evaluate(params, order=2)
    n_polish, polished = (best.n_finish, best.converged) if polish else (0, None)
    return Estimate(params=params, evaluation=ev, runs=runs, report=report,
                    em_converged=best.converged, polish_iter=n_polish, polish_converged=polished,
                    seconds=time.perf_counter() - t0,
                    timings={"em": t_em, "polish": time.perf_counter() - t0 - t_em})
