"""The generic EM loop: one start to convergence, many starts, the start report.

Knows nothing about logits: it receives an E-step ``estep(params) -> (llf,
stats)`` and an M-step ``mstep(params, stats) -> params``. The stopping rule is
the relative change of the log-likelihood, ``llf - llf_prev <= tol * |llf_prev|``.
A generalized EM step never lowers the log-likelihood; every start records
its whole history and whether it stayed monotone (up to rounding).
"""
from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

__all__ = ["EMRun", "StartReport", "run_em", "run_starts", "summarize_starts"]

EStep = Callable[[np.ndarray], tuple[float, object]]
MStep = Callable[[np.ndarray, object], np.ndarray]
Finish = Callable[[np.ndarray], tuple[np.ndarray, list, bool]]

#: relative slack allowed for a log-likelihood decrease caused by rounding
MONOTONE_SLACK = 1e-10


@dataclass
class EMRun:
    """One EM run from one start."""

    origin: str
    params: np.ndarray
    llf: float
    history: np.ndarray
    n_iter: int
    converged: bool
    seconds: float
    start_params: np.ndarray
    max_decrease: float = 0.0
    error: str | None = None
    n_finish: int = 0

    @property
    def monotone(self) -> bool:
        return self.max_decrease <= MONOTONE_SLACK * max(1.0, abs(self.llf))


def run_em(estep: EStep, mstep: MStep, params0: np.ndarray, *, tol: float = 1e-8,
           maxiter: int = 1000, origin: str = "given", finish: Finish | None = None,
           switch_tol: float | None = None) -> EMRun:
    """Run EM from ``params0`` until the relative log-likelihood change is below ``tol``.

    Parameters
    ----------
    estep : callable
        ``estep(params) -> (llf, stats)``.
    mstep : callable
        ``mstep(params, stats) -> new params``.
    params0 : ndarray
        Start values.
    tol : float
        Relative change of the log-likelihood that ends the run.
    maxiter : int
        Maximum number of EM iterations.
    origin : str
        Label of the start (reported).
    finish : callable, optional
        ``finish(params) -> (params, llf_history, converged)``: a faster local
        method (Newton's) that takes over once EM's relative change is below
        ``switch_tol``; its log-likelihoods are appended to the history and its
        verdict replaces EM's. It must never lower the log-likelihood.
    switch_tol : float, optional
        Relative change at which ``finish`` takes over (default ``tol``).

    Returns
    -------
    EMRun
    """
    t0 = time.perf_counter()
    params = np.array(params0, dtype=float)
    history = []
    converged = False
    max_decrease = 0.0
    llf, stats = estep(params)
    history.append(llf)
    n_iter = n_finish = 0
    error = None
    switch = tol if switch_tol is None or finish is None else max(switch_tol, tol)
    for n_iter in range(1, maxiter + 1):
        try:
            new_params = mstep(params, stats)
            new_llf, new_stats = estep(new_params)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            break
        if not np.isfinite(new_llf):
            error = "log-likelihood became non-finite"
            break
        history.append(new_llf)
        change = new_llf - llf
        max_decrease = max(max_decrease, -change)
        params, llf, stats = new_params, new_llf, new_stats
        if abs(change) <= switch * max(abs(llf), 1e-300):
            converged = True
            break
    if finish is not None and error is None:
        try:
            params, extra, converged = finish(params)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        else:
            n_finish = len(extra)
            for value in extra:
                max_decrease = max(max_decrease, history[-1] - value)
                history.append(value)
            llf = history[-1]
    return EMRun(origin=origin, params=params, llf=float(llf), history=np.asarray(history),
                 n_iter=n_iter, converged=converged, seconds=time.perf_counter() - t0,
                 start_params=np.array(params0, dtype=float), max_decrease=max_decrease, error=error,
                 n_finish=n_finish)


def _progress(iterable, total: int, show: bool | None, desc: str):
    if show is None:
        show = sys.stderr.isatty()
    if not show:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # progress bars are optional
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)


def run_starts(make_steps: Callable[[], tuple[EStep, MStep]],
               starts: Sequence[tuple[str, np.ndarray]], *,
               tol: float = 1e-8, maxiter: int = 1000, n_jobs: int = 1,
               progress: bool | None = None, finish: Finish | None = None,
               switch_tol: float | None = None) -> list[EMRun]:
    """Run EM from every start.

    Parameters
    ----------
    make_steps : callable
        ``make_steps() -> (estep, mstep)``; called once per start so that steps
        may keep per-run caches (and runs may go in parallel).
    starts : sequence of (origin, params0)
    n_jobs : int
        Threads used to run starts concurrently (numpy releases the GIL in the
        heavy kernels); ``-1`` uses every core.
    progress : bool or None
        Show a progress bar; None shows one when standard error is a terminal.
    finish, switch_tol
        Passed to :func:`run_em`.

    Returns
    -------
    list of EMRun, in the order of ``starts``.
    """
    def one(item):
        origin, params0 = item
        estep, mstep = make_steps()
        return run_em(estep, mstep, params0, tol=tol, maxiter=maxiter, origin=origin,
                      finish=finish, switch_tol=switch_tol)

    if n_jobs == -1:
        import os
        n_jobs = os.cpu_count() or 1
    if n_jobs > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            return list(_progress(pool.map(one, starts), len(starts), progress, "EM starts"))
    return [one(item) for item in _progress(starts, len(starts), progress, "EM starts")]


@dataclass(frozen=True)
class StartReport:
    """What the starts found.

    Attributes
    ----------
    table : DataFrame
        One row per start: origin, final log-likelihood, EM iterations, Newton
        iterations that finished the start, seconds, converged, optimum (index of the distinct optimum it reached, 0 = best).
    n_reached_best : int
        Starts whose log-likelihood is within ``rtol`` of the best.
    optima : ndarray
        Distinct final log-likelihoods, best first.
    rtol : float
    """

    table: pd.DataFrame
    n_reached_best: int
    optima: np.ndarray
    rtol: float = 1e-4
    best_index: int = 0
    histories: list = field(default_factory=list, repr=False)

    @property
    def n_starts(self) -> int:
        return len(self.table)

    @property
    def share_reached_best(self) -> float:
        return self.n_reached_best / max(self.n_starts, 1)


def summarize_starts(runs: Sequence[EMRun], *, rtol: float = 1e-4) -> StartReport:
    """Group final log-likelihoods into distinct optima and count the best's hits."""
    llf = np.array([r.llf if r.error is None and np.isfinite(r.llf) else -np.inf for r in runs])
    best_index = int(np.argmax(llf))
    best = llf[best_index]
    finite = np.sort(llf[np.isfinite(llf)])[::-1]
    optima: list[float] = []
    for value in finite:  # loop over starts (few), not data
        if not optima or optima[-1] - value > rtol * abs(optima[-1]):
            optima.append(value)
    optima_arr = np.asarray(optima)
    label = np.full(len(runs), -1)
    for i, value in enumerate(llf):
        if np.isfinite(value):
            label[i] = int(np.argmin(np.abs(optima_arr - value)))
    table = pd.DataFrame({
        "origin": [r.origin for r in runs],
        "llf": llf,
        "n_iter": [r.n_iter for r in runs],
        "newton_iter": [r.n_finish for r in runs],
        "seconds": [r.seconds for r in runs],
        "converged": [r.converged for r in runs],
        "optimum": label,
        "error": [r.error for r in runs],
    })
    table.index.name = "start"
    n_best = int(np.sum(best - llf <= rtol * abs(best)))
    return StartReport(table=table, n_reached_best=n_best, optima=optima_arr, rtol=rtol,
                       best_index=best_index, histories=[r.history for r in runs])
