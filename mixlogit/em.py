"""The generic EM loop: one start to convergence, many starts, the start report.

Knows nothing about logits: it receives an E-step ``estep(params) -> (llf,
stats)`` and an M-step ``mstep(params, stats) -> params``. The stopping rule is
the relative change of the log-likelihood, ``llf - llf_prev <= tol * |llf_prev|``.
A generalized EM step never lowers the log-likelihood; every start records
its whole history and whether it stayed monotone (up to rounding).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._parallel import parallel_map, progress
from .params import align_classes

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
    for n_iter in range(1, maxiter + 1):  # noqa: B007 (n_iter is reported after the loop)
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
    """The old private helper's signature, kept until its callers use
    :func:`mixlogit._parallel.progress`."""
    return progress(iterable, total=total, show=show, desc=desc)


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

    return parallel_map(one, starts, n_jobs=n_jobs, backend="threads", progress=progress,
                        desc="EM starts")


#: Good-Turing chance of an unseen optimum above which the report advises a larger budget
MISSED_WARN = 0.5
#: relative parameter distance (after class alignment) beyond which two runs of equal
#: log-likelihood count as distinct optima
PARAM_RTOL = 0.05


@dataclass(frozen=True)
class StartReport:
    """What the starts (and the moves after convergence) found.

    Attributes
    ----------
    table : DataFrame
        One row per run: origin, final log-likelihood, EM iterations, Newton
        iterations that finished it, seconds, converged, optimum (index of the
        distinct log-likelihood it reached, 0 = best), kind (``"start"`` or
        ``"move"``: a split-and-merge or perturbation move after convergence,
        origin ``"move: ..."``), distance (relative distance of its parameters
        to the best run's after class alignment; NaN without a layout) and
        error.
    n_reached_best : int
        Runs (starts and moves) whose log-likelihood is within ``rtol`` of the best.
    optima : ndarray
        Distinct final log-likelihoods, best first.
    rtol : float
        Relative log-likelihood tolerance that makes two optima the same.
    best_index : int
        Row of the best run.
    histories : list of ndarray
        Each run's log-likelihood path.
    n_distinct_params : int or None
        Distinct optima when runs of equal log-likelihood whose aligned
        parameters differ by more than :data:`PARAM_RTOL` also count apart
        (None without a layout).
    n_screened : int
        Candidates that only ran a short EM screening (not in the table).
    cost : float or None
        EM-iteration equivalents spent (the portfolio's budget unit).

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.em import EMRun, summarize_starts
    >>> runs = [EMRun(origin=f"s{i}", params=np.zeros(2), llf=v, history=np.array([v]),
    ...               n_iter=5, converged=True, seconds=0.0, start_params=np.zeros(2))
    ...         for i, v in enumerate([-10.0, -10.0, -12.0, -13.0])]
    >>> rep = summarize_starts(runs)
    >>> rep.n_reached_best, len(rep.optima), rep.missed_chance
    (2, 3, 0.5)
    """

    table: pd.DataFrame
    n_reached_best: int
    optima: np.ndarray
    rtol: float = 1e-4
    best_index: int = 0
    histories: list = field(default_factory=list, repr=False)
    n_distinct_params: int | None = None
    n_screened: int = 0
    cost: float | None = None

    @property
    def n_starts(self) -> int:
        """Runs in the table (starts and moves)."""
        return len(self.table)

    @property
    def share_reached_best(self) -> float:
        return self.n_reached_best / max(self.n_starts, 1)

    @property
    def n_distinct(self) -> int:
        """Distinct optima by log-likelihood."""
        return len(self.optima)

    def _kind(self, kind: str) -> pd.DataFrame:
        tab = self.table
        if "kind" not in tab:
            return tab if kind == "start" else tab.iloc[:0]
        return tab[tab["kind"] == kind]

    @property
    def n_moves(self) -> int:
        """Moves after convergence that were run."""
        return len(self._kind("move"))

    @property
    def n_moves_reached_best(self) -> int:
        return int((self._kind("move")["optimum"] == 0).sum())

    @property
    def n_starts_reached_best(self) -> int:
        """Starts (not moves) that reached the best optimum."""
        return int((self._kind("start")["optimum"] == 0).sum())

    @property
    def missed_chance(self) -> float:
        """Good-Turing estimate of the chance that one more start ends at an unseen optimum.

        ``f1 / n``: the share of the ``n`` finished starts (moves excluded: they
        are not independent draws) whose optimum no other start reached. An
        unseen optimum may be better than the best; this is the chance to
        weigh against the cost of more starts. It sees only what the finished
        starts found: an optimum whose basin draws a share ``q`` of the starts
        is missed by all ``n`` with probability ``(1 - q)^n``, and when every
        start agrees the estimate is 0 whatever ``q`` is (the default portfolio
        continues three starts, so basins below ~1/3 of the screened
        candidates' can go unseen; ``budget=`` raises ``n``).
        """
        starts = self._kind("start")
        starts = starts[starts["optimum"] >= 0]
        n = len(starts)
        if n == 0:
            return 1.0
        hits = starts["optimum"].value_counts()
        return float((hits == 1).sum() / n)

    @property
    def should_warn(self) -> bool:
        """Several runs, and the best was reached once or :attr:`missed_chance` is high."""
        finished = int((self.table["optimum"] >= 0).sum())
        return finished >= 2 and (self.n_reached_best == 1 or self.missed_chance >= MISSED_WARN)

    @property
    def warning_message(self) -> str:
        """The text of the :class:`~mixlogit.exceptions.StartsWarning` to emit."""
        n_starts = len(self._kind("start"))
        return (
            f"{self.n_reached_best} of {self.n_starts} runs ({n_starts} starts, "
            f"{self.n_moves} moves) reached the best log-likelihood ({self.optima[0]:.4f}); "
            f"{self.n_distinct} distinct optima; an estimated {self.missed_chance:.0%} chance "
            "(Good-Turing: share of starts whose optimum no other start found) that a further "
            "start finds an optimum not seen yet, possibly a better one: raise budget= (or "
            "n_starts=) to search more"
        )


def _param_distance(layout, a: np.ndarray, b: np.ndarray) -> float:
    """Relative max distance of two parameter vectors after aligning b's classes to a's."""
    ua, ub = layout.unpack(a), layout.unpack(b)
    # membership logits centred over the classes: free of the reference class
    ra = np.hstack([ua.betas, ua.gamma - ua.gamma.mean(axis=0)])
    rb = np.hstack([ub.betas, ub.gamma - ub.gamma.mean(axis=0)])
    order, _ = align_classes(ra, rb)
    pa = np.r_[ra.ravel(), ua.delta]
    pb = np.r_[rb[order].ravel(), ub.delta]
    return float(np.max(np.abs(pa - pb), initial=0.0) / (1.0 + np.max(np.abs(pa), initial=0.0)))


def summarize_starts(runs: Sequence[EMRun], *, rtol: float = 1e-4, layout=None,
                     n_screened: int = 0, cost: float | None = None) -> StartReport:
    """Group final log-likelihoods into distinct optima and count the best's hits.

    Parameters
    ----------
    runs : sequence of EMRun
        Starts and moves (a move's origin starts with ``"move: "``).
    rtol : float
        Relative log-likelihood tolerance of "the same optimum".
    layout : ParamLayout, optional
        When given, parameters are compared after class alignment
        (``distance`` column, ``n_distinct_params``).
    n_screened, cost
        Recorded in the report (see :class:`StartReport`).

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.em import EMRun, summarize_starts
    >>> runs = [EMRun(origin="a", params=np.zeros(1), llf=-5.0, history=np.array([-5.0]),
    ...               n_iter=3, converged=True, seconds=0.0, start_params=np.zeros(1))]
    >>> summarize_starts(runs).table["optimum"].tolist()
    [0]
    """
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
    distance = np.full(len(runs), np.nan)
    n_distinct_params = None
    if layout is not None:
        reps: list[int] = []  # one representative run per distinct optimum
        for i in np.argsort(-llf, kind="stable"):
            if label[i] < 0:
                continue
            distance[i] = _param_distance(layout, runs[best_index].params, runs[i].params)
            if not any(label[j] == label[i] and
                       _param_distance(layout, runs[j].params, runs[i].params) <= PARAM_RTOL
                       for j in reps):
                reps.append(int(i))
        n_distinct_params = len(reps)
    table = pd.DataFrame({
        "origin": [r.origin for r in runs],
        "llf": llf,
        "n_iter": [r.n_iter for r in runs],
        "newton_iter": [r.n_finish for r in runs],
        "seconds": [r.seconds for r in runs],
        "converged": [r.converged for r in runs],
        "optimum": label,
        "kind": ["move" if r.origin.startswith("move: ") else "start" for r in runs],
        "distance": distance,
        "error": [r.error for r in runs],
    })
    table.index.name = "start"
    n_best = int(np.sum(best - llf <= rtol * abs(best)))
    return StartReport(table=table, n_reached_best=n_best, optima=optima_arr, rtol=rtol,
                       best_index=best_index, histories=[r.history for r in runs],
                       n_distinct_params=n_distinct_params, n_screened=int(n_screened),
                       cost=cost)
