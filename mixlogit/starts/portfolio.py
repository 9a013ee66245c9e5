"""The default start portfolio: mixed candidates, short-EM screening, moves after convergence.

:func:`run_portfolio` is what ``fit(start=None)`` runs. No single start
strategy wins on every data set (issue 11: k-means of individual logits is
best on the electricity panel and fails on Swissmetro, where split-and-merge
moves are best; short EM fails on weakly separated classes), so the
portfolio mixes them and lets the likelihood choose:

1. **Candidates.** Both forms: one split of each class of the (K-1)-class
   solution reached by the split path (:func:`~mixlogit.starts.search.split_path`),
   K - 1 candidates (at most half of them). Long form, the rest: k-means of individual logits (when the panels
   are long enough: the median decision maker has at least
   :data:`KMEANS_MIN_SITUATIONS` situations; shrinkages 0.1, 1 and 3 in turn),
   score-subspace draws and random partitions, in equal parts. Counts form:
   the method-of-moments estimates when ``K <= MOM_MAX_K`` (3) and draws of the
   estimated norm in the M2 subspace (ALGORITHMS.md 3.4).
2. **Screening** (Biernacki, Celeux and Govaert 2003): each candidate runs
   ``screen_iter`` EM iterations; ``n_continue`` of them run to convergence
   (EM, then Newton): the :data:`SPLITS_CONTINUED` (2) best splits first
   (each split class is its own hypothesis, and a short run ranks them
   poorly: on the weak five-class panel the split that leads to the best
   optimum screens second), then the best of each other kind of candidate
   (the kinds find different optima, and the screening favours k-means),
   then the next best, distinct by log-likelihood.
3. **Moves** (Ueda et al. 2000): split-and-merge and perturbation moves from
   the best solution, kept only when they raise the log-likelihood, until a
   round does not improve or the budget is spent
   (:func:`mixlogit.starts.moves.improve`).

The budget
----------
``budget`` counts *EM-iteration equivalents*: one EM iteration (E-step and
M-step) is 1, one Newton iteration of a start's finish is
:data:`~mixlogit.starts._common.NEWTON_COST` (3), one class step of a
candidate's conditional logit fits is 1 (3 per partition candidate), and the
split path's fits count by the same rule. A third of the budget goes to
screening (``n_candidates = budget / 3 / (screen_iter + 3)``, at least
``2 * n_continue``), the rest to the ``n_continue = max(3, budget // 150)``
continued starts and the moves: a move round starts only while the cost so
far plus the last round's cost fits in the budget. The continued starts run
to convergence whatever they cost, so the total can exceed the budget by
their overrun and one move round (measured: 466-560 at the default).
The default :data:`DEFAULT_BUDGET` (450) is about the cost of ten partition
starts on the electricity panel at K = 3 (their 237 EM and 29 Newton
iterations plus their conditional logit fits); in CPU time the default
portfolio costs 0.7-1.2 times ten partition starts on the data sets of
``benchmarks/starts_study.py``. A larger budget buys more candidates and
more continued starts: it is the fix the start report's warning names.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..em import summarize_starts
from ..exceptions import SpecificationError
from ..likelihood import MixtureLikelihood
from ..likelihood.estimate import Estimate, estimate
from . import kmeans_starts, make_starts
from ._common import cost, short_runs
from .moves import improve
from .search import split_candidates, split_path

__all__ = ["run_portfolio", "portfolio_candidates", "DEFAULT_BUDGET", "MOM_MAX_K",
           "KMEANS_MIN_SITUATIONS"]

#: default budget in EM-iteration equivalents
DEFAULT_BUDGET = 450.0
#: counts form: the method-of-moments estimates join the candidates up to this K
#: (benchmarks/starts_study.py part 2, |beta_k| = 1.5, L = 2K, p = 1e4, N = 1e5: the
#: largest atom error of the estimate is 0.10 at K = 2 and 0.56 at K = 3, then 4 to 170
#: at K = 5..10, where a moment start reaches the optimum only through its norm cap,
#: no better than a draw of the estimated norm)
MOM_MAX_K = 3
#: split candidates continued first (each split class is its own hypothesis)
SPLITS_CONTINUED = 2
#: long form: k-means candidates need a median of this many situations per decision maker
KMEANS_MIN_SITUATIONS = 5


def portfolio_candidates(likelihood: MixtureLikelihood, n: int, rng: np.random.Generator
                         ) -> tuple[list[tuple[str, np.ndarray]], float]:
    """The portfolio's ``n`` candidates (see the module notes for the mix) and the
    EM-iteration equivalents spent making them (the split path's fits).

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.starts.portfolio import portfolio_candidates
    >>> sim = mx.datasets.simulate.simulate_panel(n_decision_makers=200, seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 + x3 + x4 + x5 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=3)
    >>> cands, spent = portfolio_candidates(model.likelihood(), 8, np.random.default_rng(0))
    >>> sorted({origin.split()[0] for origin, _ in cands})
    ['kmeans', 'partition', 'split', 'subspace']
    """
    K = likelihood.layout.k_classes
    out: list[tuple[str, np.ndarray]] = []
    spent = 0.0
    try:  # the split path: K candidates, one split of each class of the K-1 solution
        lik, theta, post, spent = split_path(likelihood)
        out += split_candidates(lik, theta, post, min(K - 1, n // 2), rng)
    except SpecificationError:  # fixed class-specific parameters: no path
        pass
    if likelihood.form == "counts":
        out += make_starts(likelihood, "mom", min(2, n - len(out)), rng) if K <= MOM_MAX_K else []
        return out + make_starts(likelihood, "subspace", n - len(out), rng), spent
    per_person = getattr(likelihood.data, "n_situations_per_decision_maker", None)
    long_panels = per_person is not None and float(np.median(per_person)) >= KMEANS_MIN_SITUATIONS
    n_km = (n - len(out)) // 3 if long_panels else 0
    for i in range(n_km):
        try:
            out += [(f"kmeans {i}", p) for _, p in kmeans_starts(
                likelihood, 1, rng, shrinkage=(0.1, 1.0, 3.0)[i % 3])]
        except SpecificationError:  # too few decision makers with enough situations
            break
    try:
        out += make_starts(likelihood, "subspace", (n - len(out)) // 2, rng)
    except SpecificationError:  # a wrapper (constraints) that cannot be refitted pooled
        pass
    return out + make_starts(likelihood, "partition", n - len(out), rng), spent


def _distinct_best(runs, n: int) -> list[int]:
    """Indices of ``n`` screened runs to continue: the best splits, the best of each kind of
    candidate (the first word of the origin) in turn, then the next best, skipping runs
    within 1e-7 (relative) of a chosen one (most likely the same basin)."""
    llf = np.array([r.llf if r.error is None and np.isfinite(r.llf) else -np.inf for r in runs])
    kinds = [r.origin.split()[0] for r in runs]
    order = [int(i) for i in np.argsort(-llf, kind="stable") if np.isfinite(llf[i])]
    firsts = [i for k, i in enumerate(order) if kinds[i] not in {kinds[j] for j in order[:k]}]
    splits = [i for i in order if kinds[i] == "split"][:SPLITS_CONTINUED]
    chosen: list[int] = []
    for i in splits + firsts + order:
        if len(chosen) == n:
            break
        if i not in chosen and all(abs(llf[i] - llf[j]) > 1e-7 * abs(llf[j]) for j in chosen):
            chosen.append(i)
    return chosen or [int(np.argmax(llf))]


def run_portfolio(likelihood: MixtureLikelihood, *, rng, budget: float | None = None,
                  n_jobs: int = 1, progress: bool | None = None, tol: float = 1e-8,
                  maxiter: int = 1000, screen_iter: int = 10,
                  n_continue: int | None = None) -> Estimate:
    """Fit from the default start portfolio: mixed candidates, screening, moves.

    Parameters
    ----------
    likelihood : MixtureLikelihood
    rng : numpy.random.Generator or int, keyword-only
        Random source (a seed is accepted). Draws run over the unit index only.
    budget : float, keyword-only
        Cost bound in EM-iteration equivalents (module notes); default
        :data:`DEFAULT_BUDGET`.
    n_jobs, progress, tol, maxiter
        As in :func:`mixlogit.likelihood.estimate.estimate`.
    screen_iter : int, keyword-only
        EM iterations of each screening run.
    n_continue : int, keyword-only
        Screened candidates run to convergence (default ``max(3, budget // 150)``:
        a larger budget buys both more candidates and more continued starts).

    Returns
    -------
    Estimate
        At the best optimum found; its report lists the continued starts and
        the moves (``kind`` column), ``n_screened`` and ``cost``.

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.starts.portfolio import run_portfolio
    >>> sim = mx.datasets.simulate.simulate_panel(n_decision_makers=200, seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 + x3 + x4 + x5 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=3)
    >>> est = run_portfolio(model.likelihood(), rng=0, budget=200)
    >>> est.report.n_screened >= 6, est.report.cost <= 200 * 1.5
    (True, True)
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(rng)
    budget = DEFAULT_BUDGET if budget is None else float(budget)
    if not (np.isfinite(budget) and budget > 0):
        raise SpecificationError(f"budget must be a positive number of EM iterations, got "
                                 f"{budget!r}")
    if likelihood.layout.k_classes == 1:
        return estimate(likelihood, make_starts(likelihood, "partition", 1, rng), tol=tol,
                        maxiter=maxiter)
    if n_continue is None:
        n_continue = max(3, int(budget // 150))
    n_cand = max(int(budget / 3 / (screen_iter + 3)), 2 * n_continue)
    cands, spent = portfolio_candidates(likelihood, n_cand, rng)
    screened = short_runs(likelihood, cands, screen_iter, n_jobs=n_jobs)
    spent += cost(screened) + 3.0 * len(cands)
    keep = _distinct_best(screened, n_continue)
    est = estimate(likelihood, [(screened[i].origin, screened[i].params) for i in keep], tol=tol,
                   maxiter=maxiter, n_jobs=n_jobs, progress=progress)
    spent += cost(est.runs)
    for i, run in zip(keep, est.runs):  # each continued start reported from its candidate
        run.n_iter += screened[i].n_iter
        run.start_params = screened[i].start_params
    moves, move_cost = improve(likelihood, est.best_run, est.evaluation.posteriors, rng,
                               budget=budget - spent, screen_iter=screen_iter, tol=tol,
                               maxiter=maxiter, n_jobs=n_jobs, progress=progress)
    spent += move_cost
    runs = est.runs + moves
    report = summarize_starts(runs, layout=likelihood.layout, n_screened=len(cands), cost=spent)
    best = runs[report.best_index]
    final = est
    if best is not est.best_run:  # a move improved: the estimate (and its checks) there
        final = estimate(likelihood, [(best.origin, best.params)], tol=tol, maxiter=maxiter)
    return dataclasses.replace(final, runs=runs, report=report,
                               seconds=time.perf_counter() - t0)
