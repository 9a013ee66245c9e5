"""Moves after convergence: split-and-merge (Ueda et al. 2000) and a perturbation restart.

Ueda, Nakano, Ghahramani and Hinton (2000), *SMEM algorithm for mixture
models*, Neural Computation 12: from a converged solution, merge the two
classes whose posteriors overlap most (the largest cosine of the posterior
columns, their criterion ``J_merge``), split the loosest class, and re-run EM;
the move is kept only if the log-likelihood rises. Our split criterion is
the excess spread of the class's per-unit scores over their information
(:func:`~mixlogit.starts._common.class_spread`), the score-based analogue of
their local Kullback-Leibler criterion. The *perturbation restart* (our
choice) reassigns a random fifth of the units (drawn over the unit index) to
random classes in the best solution's posteriors, refits the class logits and
re-runs EM.

:func:`improve` applies the moves from the best solution until no move
improves it or the budget is spent; every move it tries is returned as an
:class:`~mixlogit.em.EMRun` whose origin starts with ``"move: "``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..em import EMRun
from ..exceptions import SpecificationError
from ..likelihood import MixtureLikelihood
from ..likelihood.estimate import estimate
from ._common import class_spread, cost, share_logits, short_runs, start_from_weights

__all__ = ["merge_split_moves", "perturbation_move", "improve", "IMPROVE_RTOL"]

#: a move is accepted when it raises the log-likelihood by more than this (relative)
IMPROVE_RTOL = 1e-7


def merge_split_moves(likelihood: MixtureLikelihood, params: np.ndarray, posteriors: np.ndarray,
                      *, n_moves: int = 4) -> list[tuple[str, np.ndarray]]:
    """Split-and-merge candidates from a K-class solution (K >= 2).

    Pairs ``(i, j)`` are ranked by the cosine of their weighted posterior
    columns (closest first), split classes by their excess score spread
    (loosest first); the candidates interleave the two rankings. A merged
    class takes the share-weighted mean of the two coefficient vectors and
    their joint share; a split class becomes ``beta -+ step`` with half its
    share each.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.starts.moves import merge_split_moves
    >>> sim = mx.datasets.simulate.simulate_panel(n_decision_makers=200, seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 + x3 + x4 + x5 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=3)
    >>> res = model.fit(n_starts=2, seed=0)
    >>> lik = res.fit_state.likelihood
    >>> moves = merge_split_moves(lik, res.fit_state.params, res.fit_state.evaluation.posteriors)
    >>> moves[0][0].startswith("move: merge")
    True
    """
    lay = likelihood.layout
    K = lay.k_classes
    if K < 2:
        return []
    u = lay.unpack(params)
    w = likelihood.weights
    H = np.sqrt(w)[:, None] * posteriors
    norms = np.maximum(np.linalg.norm(H, axis=0), 1e-300)
    cosine = (H.T @ H) / np.outer(norms, norms)
    pairs = sorted(((i, j) for i in range(K) for j in range(i + 1, K)),
                   key=lambda ij: -cosine[ij])
    spread = class_spread(likelihood, params, posteriors)
    loose = list(np.argsort([-s for s, _ in spread], kind="stable"))
    totals = (w[:, None] * posteriors).sum(axis=0)
    out: list[tuple[str, np.ndarray]] = []
    seen = set()
    for rank in range(K * K):
        i, j = pairs[rank % len(pairs)]
        options = [c for c in loose if c not in (i, j)] or [i]  # K = 2: re-split the merged class
        s = int(options[(rank // len(pairs)) % len(options)])
        if (i, j, s) in seen:
            continue
        seen.add((i, j, s))
        n_i, n_j = totals[i], totals[j]
        merged = (n_i * u.betas[i] + n_j * u.betas[j]) / max(n_i + n_j, 1e-300)
        keep = [c for c in range(K) if c not in (i, j, s)]
        step = spread[s][1]
        if s in (i, j):  # K = 2: split the merged class along the loosest direction
            betas = np.vstack([merged - step, merged + step])
            t = np.r_[n_i + n_j, n_i + n_j] / 2
        else:
            betas = np.vstack([u.betas[keep], merged, u.betas[s] - step, u.betas[s] + step])
            t = np.r_[totals[keep], n_i + n_j, totals[s] / 2, totals[s] / 2]
        label = f"move: merge {i + 1}+{j + 1}, split {s + 1}"
        out.append((label, likelihood.apply_fixed(lay.pack(betas, u.delta, share_logits(lay, t)))))
        if len(out) >= n_moves:
            break
    return out


def perturbation_move(likelihood: MixtureLikelihood, params: np.ndarray, posteriors: np.ndarray,
                      rng: np.random.Generator, *, fraction: float = 0.2
                      ) -> tuple[str, np.ndarray]:
    """Reassign a random ``fraction`` of the units to random classes and refit the classes.

    The draws run over the unit index only. Returns ``("move: perturb", params)``.
    """
    N, K = posteriors.shape
    h = posteriors.copy()
    chosen = np.asarray(rng.random(N) < fraction)  # (N,) bool; N from a shape is Any
    h[chosen] = 0.0
    h[np.flatnonzero(chosen), rng.integers(0, K, size=int(chosen.sum()))] = 1.0
    wh = likelihood.weights[:, None] * h
    return "move: perturb", start_from_weights(likelihood, wh, params0=params, max_steps=10)


def improve(likelihood: MixtureLikelihood, best: EMRun, posteriors: np.ndarray,
            rng: np.random.Generator, *, budget: float = np.inf, n_moves: int = 6,
            screen_iter: int = 10, n_continue: int = 1, tol: float = 1e-8,
            maxiter: int = 1000, n_jobs: int = 1, progress: bool | None = None,
            max_rounds: int = 10) -> tuple[list[EMRun], float]:
    """Split-and-merge and perturbation moves from ``best`` until none improves.

    Each round screens ``n_moves`` split-and-merge candidates and one
    perturbation by ``screen_iter`` EM iterations, runs the ``n_continue``
    best to convergence (:func:`~mixlogit.likelihood.estimate.estimate`), and
    accepts the best of them if it raises the log-likelihood by more than
    :data:`IMPROVE_RTOL` (relative); a round that does not improve ends the
    search, as does the budget (in EM-iteration equivalents: a round starts
    only if the last one's cost still fits).

    Returns
    -------
    (runs, spent)
        The completed move runs (origins ``"move: ..."``) and their cost.
    """
    runs: list[EMRun] = []
    spent = 0.0
    last_round = 0.0
    K = likelihood.layout.k_classes
    for _ in range(max_rounds):
        if K < 2 or spent + last_round > budget:
            break
        try:
            cands = merge_split_moves(likelihood, best.params, posteriors, n_moves=n_moves)
        except SpecificationError:  # a wrapper that cannot be rebuilt per class
            cands = []
        cands.append(perturbation_move(likelihood, best.params, posteriors, rng))
        screened = short_runs(likelihood, cands, screen_iter, n_jobs=n_jobs)
        order = _best_first(screened)[:n_continue]
        est = estimate(likelihood, [(screened[i].origin, screened[i].params) for i in order],
                       tol=tol, maxiter=maxiter, n_jobs=n_jobs, progress=progress)
        round_cost = cost(screened) + cost(est.runs)
        for i, run in zip(order, est.runs):  # report each move from its own start
            run.n_iter += screened[i].n_iter
            run.start_params = screened[i].start_params
        runs += est.runs
        spent += round_cost
        last_round = round_cost
        top = est.best_run
        if top.error is None and top.llf > best.llf + IMPROVE_RTOL * abs(best.llf):
            best, posteriors = top, est.evaluation.posteriors
        else:
            break
    return runs, spent


def _best_first(runs: Sequence[EMRun]) -> list[int]:
    llf = np.array([r.llf if r.error is None and np.isfinite(r.llf) else -np.inf for r in runs])
    return list(np.argsort(-llf, kind="stable"))
