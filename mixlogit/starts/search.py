"""Start strategies from the mixture literature: short EM, k-means of individual logits, splits.

``"short"`` (Biernacki, Celeux and Govaert 2003, *Choosing starting values for
the EM algorithm*, CSDA 41: the "short runs of EM" strategy)
    Many cheap starts (random partitions with a few class steps on the long
    form, draws of the estimated norm on the counts form) each run a few EM
    iterations; the ``n_starts`` with the highest log-likelihood are returned
    and run to convergence.
``"kmeans"`` (long form with panels; the classification view of latent-class
models, e.g. the k-means initialisation of mixture EM in McLachlan and Peel
2000, section 2.12, on individual-level estimates)
    Each decision maker's conditional logit, shrunk towards the pooled
    estimate (a ridge penalty ``shrinkage * A_bar``, ``A_bar`` one decision
    maker's average information) and measured in the metric of ``A_bar``, is
    clustered by k-means (k-means++ seeding, ``n_init`` seedings per start,
    the tightest kept); one conditional logit per cluster is the start.
    Decision makers with fewer than ``min_situations`` situations carry no
    individual estimate and fall back to the pooled one: they weigh equally
    on every class.
``"split"`` (the divisive path of e.g. Ueda et al. 2000 and of
:func:`mixlogit.selection.split_class_starts`)
    From the one-class fit upwards: each K-1 solution is split, class by class,
    along the direction where that class's per-unit scores spread most beyond
    their information (:func:`~mixlogit.starts._common.split_direction`); the
    best split is refitted, up to K-1 classes; the K-class starts are the
    splits of the loosest classes of the K-1 fit.

Every random choice draws over the unit index (decision makers or
candidates), never over rows, so the same data and seed give the same starts
whatever the row order.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data import ChoiceData
from ..exceptions import SpecificationError
from ..kernels import situation_softmax
from ..likelihood import MixtureLikelihood
from ..likelihood.estimate import estimate
from ._common import (
    NEWTON_COST,
    check_count,
    class_spread,
    cost,
    share_logits,
    short_runs,
    start_from_weights,
    with_classes,
)

Generator = Callable[[MixtureLikelihood, int, np.random.Generator], list]

__all__ = ["short_starts", "kmeans_starts", "split_starts", "split_path", "split_candidates",
           "individual_logits", "kmeans"]


def _partition_candidates(likelihood: MixtureLikelihood, n: int, rng: np.random.Generator
                          ) -> list[tuple[str, np.ndarray]]:
    """Random partitions of the units with 3 class steps each: cheap candidates to screen."""
    K, N = likelihood.layout.k_classes, likelihood.n_units
    w = likelihood.weights
    out = []
    for r in range(n):
        wh = np.zeros((N, K))
        wh[np.arange(N), rng.permutation(N) % K] = w
        out.append((f"partition {r}", start_from_weights(likelihood, wh, max_steps=3,
                                                         equal_shares=True)))
    return out


def short_starts(likelihood: MixtureLikelihood, n_starts: int, rng: np.random.Generator, *,
                 n_candidates: int | None = None, n_iter: int = 5,
                 generator: Generator | None = None) -> list[tuple[str, np.ndarray]]:
    """``start="short"``: screen many cheap starts by a few EM iterations, keep the best.

    Parameters
    ----------
    likelihood : MixtureLikelihood
    n_starts : int
        Starts returned (the best of the screened candidates).
    rng : numpy.random.Generator
    n_candidates : int, keyword-only
        Candidates screened (default ``max(20, 4 * n_starts)``).
    n_iter : int, keyword-only
        EM iterations of each candidate's short run (default 5).
    generator : callable, keyword-only
        ``generator(likelihood, n, rng) -> [(origin, params), ...]`` makes the
        candidates; default: random partitions of the units with 3 class
        steps each. (:func:`mixlogit.starts.make_starts` takes a registry
        name here and uses draws of the estimated norm on the counts form.)

    Returns
    -------
    list of (origin, params)
        The short runs' end points, best first; the origin names the candidate
        (``"short: partition 7"``).

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.starts import make_starts
    >>> sim = mx.datasets.simulate.simulate_panel(n_decision_makers=200, seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 + x3 + x4 + x5 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=3)
    >>> starts = make_starts(model.likelihood(), "short", 2, np.random.default_rng(0))
    >>> len(starts), starts[0][0].startswith("short: ")
    (2, True)
    """
    n_starts = check_count(n_starts, "n_starts")
    n_iter = check_count(n_iter, "n_iter")
    n_cand = max(20, 4 * n_starts) if n_candidates is None else check_count(
        n_candidates, "n_candidates")
    n_cand = max(n_cand, n_starts)
    cands = (generator or _partition_candidates)(likelihood, n_cand, rng)
    runs = short_runs(likelihood, cands, n_iter)
    llf = np.array([r.llf if r.error is None and np.isfinite(r.llf) else -np.inf for r in runs])
    order = np.argsort(-llf, kind="stable")[:n_starts]
    return [(f"short: {runs[i].origin}", runs[i].params) for i in order]


# ------------------------------------------------------------------ k-means
def individual_logits(likelihood: MixtureLikelihood, *, shrinkage: float = 1.0,
                      n_steps: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each decision maker's conditional logit, shrunk to the pooled estimate.

    Maximises ``l_n(beta) - shrinkage / 2 (beta - beta_bar)' A_bar (beta - beta_bar)``
    by ``n_steps`` Newton steps for all decision makers at once (class-specific
    terms; the invariant ones stay at their pooled values).

    Returns
    -------
    betas : ndarray, shape (N, L)
    pooled : ndarray, shape (L,)
    A_bar : ndarray, shape (L, L)
        One decision maker's average information at the pooled estimate.
    """
    if likelihood.form != "long":
        raise SpecificationError(
            "start='kmeans' needs long-format panel data: it clusters each decision maker's "
            "own conditional logit, and the counts form has one choice per unit; use "
            "start='short' or start='subspace'")
    if not isinstance(likelihood.data, ChoiceData):
        raise SpecificationError(
            "start='kmeans' needs the rows in this process (ChoiceData); partitioned data "
            "keep them on their workers: use start='short' or start='partition'")
    data, lay = likelihood.data, likelihood.layout
    L = lay.k_exog
    pooled_lik = with_classes(likelihood, 1)
    theta, ev, _, _ = pooled_lik.polish(pooled_lik.apply_fixed(np.zeros(pooled_lik.layout.n_params)),
                                        maxiter=100, tol=1e-12)
    u = pooled_lik.layout.unpack(theta)
    beta_bar, delta = u.betas[0], u.delta
    w = data.weights
    N = data.n_decision_makers
    assert ev.hessian is not None  # polish evaluates to order 2
    A_bar = -ev.hessian[:L, :L] / max(float(w.sum()), 1.0)
    A_bar = 0.5 * (A_bar + A_bar.T) + 1e-8 * np.trace(A_bar) / max(L, 1) * np.eye(L)
    X = data.exog
    offset = data.exog_invariant @ delta
    dm_row = data.decision_maker_of_row
    dm_row_start = data.situation_start[data.decision_maker_start]
    penalty = shrinkage * A_bar
    B = np.tile(beta_bar, (N, 1))
    for _ in range(n_steps):
        U = np.einsum("rl,rl->r", X, B[dm_row]) + offset
        P, _ = situation_softmax(U[:, None], data.situation_start, data.situation_of_row)
        P = P[:, 0]
        xbar = np.add.reduceat(X * P[:, None], data.situation_start, axis=0)
        dev = X - xbar[data.situation_of_row]
        grad = np.add.reduceat(X[data.chosen_row] - xbar, data.decision_maker_start, axis=0)
        info = np.add.reduceat(np.einsum("r,rl,rm->rlm", P, dev, dev), dm_row_start, axis=0)
        g = grad - (B - beta_bar) @ penalty
        step = np.linalg.solve(info + penalty, g[:, :, None])[:, :, 0]
        size = np.sqrt(np.maximum(np.einsum("nl,lm,nm->n", step, A_bar, step), 0.0))
        step *= np.minimum(1.0, 3.0 / np.maximum(size, 1e-300))[:, None]  # at most 3 noise sd
        B = B + step
    return B, beta_bar, A_bar


def kmeans(points: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator, *,
           n_init: int = 3, max_iter: int = 100) -> tuple[np.ndarray, float]:
    """Weighted k-means (Lloyd) with k-means++ seeding; the tightest of ``n_init`` runs.

    Returns the labels (n,) and the weighted within-cluster sum of squares.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.starts.search import kmeans
    >>> pts = np.r_[np.zeros((5, 2)), np.ones((5, 2)) * 10]
    >>> labels, wss = kmeans(pts, np.ones(10), 2, np.random.default_rng(0))
    >>> len(set(labels[:5])), len(set(labels[5:])), bool(labels[0] != labels[5]), wss
    (1, 1, True, 0.0)
    """
    n = points.shape[0]
    best_labels, best_wss = np.zeros(n, int), np.inf
    p_w = weights / weights.sum()
    for _ in range(n_init):
        centres = [points[rng.choice(n, p=p_w)]]
        for _ in range(1, k):  # k-means++ seeding, over the unit index
            d2 = np.min(((points[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
            prob = weights * d2
            prob = p_w if prob.sum() <= 0 else prob / prob.sum()
            centres.append(points[rng.choice(n, p=prob)])
        C = np.array(centres)
        labels = np.full(n, -1)
        for _ in range(max_iter):
            d2 = ((points[:, None, :] - C[None]) ** 2).sum(-1)
            new = np.argmin(d2, axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            for j in range(k):
                m = labels == j
                if weights[m].sum() > 0:
                    C[j] = weights[m] @ points[m] / weights[m].sum()
        wss = float(weights @ d2[np.arange(n), labels])
        if wss < best_wss:
            best_labels, best_wss = labels, wss
    return best_labels, best_wss


def kmeans_starts(likelihood: MixtureLikelihood, n_starts: int, rng: np.random.Generator, *,
                  shrinkage: float = 1.0, min_situations: int = 3, n_init: int = 3
                  ) -> list[tuple[str, np.ndarray]]:
    """``start="kmeans"``: k-means of information-scaled, shrunk individual logits.

    Parameters
    ----------
    likelihood : MixtureLikelihood
        Long-format panel likelihood.
    n_starts : int
        Starts (one k-means clustering each).
    rng : numpy.random.Generator
    shrinkage : float, keyword-only
        Ridge weight of the pooled estimate, in units of one decision maker's
        average information (default 1: as much as one more decision maker).
    min_situations : int, keyword-only
        Decision makers with fewer situations fall back to the pooled estimate
        (equal weight on every class); default 3.
    n_init : int, keyword-only
        k-means++ seedings per start; the tightest clustering is kept.

    Raises
    ------
    SpecificationError
        On the counts form, or when fewer than K decision makers have
        ``min_situations`` situations.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.starts import make_starts
    >>> sim = mx.datasets.simulate.simulate_panel(n_decision_makers=200, seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 + x3 + x4 + x5 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=3)
    >>> [o for o, _ in make_starts(model.likelihood(), "kmeans", 2, np.random.default_rng(0))]
    ['kmeans 0', 'kmeans 1']
    """
    n_starts = check_count(n_starts, "n_starts")
    if not (np.isfinite(shrinkage) and shrinkage > 0):
        raise SpecificationError(f"shrinkage must be a positive number, got {shrinkage!r}")
    min_situations = check_count(min_situations, "min_situations")
    lay = likelihood.layout
    K = lay.k_classes
    B, beta_bar, A_bar = individual_logits(likelihood, shrinkage=shrinkage)
    data = likelihood.data
    w = data.weights
    enough = (data.n_situations_per_decision_maker >= min_situations) & (w > 0)
    if enough.sum() < K:
        raise SpecificationError(
            f"start='kmeans' needs at least k_classes={K} decision makers with "
            f"min_situations={min_situations} or more situations, found {int(enough.sum())}; "
            "lower min_situations or use start='short'")
    chol = np.linalg.cholesky(A_bar)
    Z = (B[enough] - beta_bar) @ chol  # distances in the metric of one person's information
    out = []
    for r in range(n_starts):
        labels, _ = kmeans(Z, w[enough], K, rng, n_init=n_init)
        wh = np.tile(w[:, None] / K, (1, K))
        wh[enough] = 0.0
        wh[np.flatnonzero(enough), labels] = w[enough]
        params0 = lay.pack(np.tile(beta_bar, (K, 1)))
        out.append((f"kmeans {r}", start_from_weights(likelihood, wh, params0=params0)))
    return out


# ------------------------------------------------------------------- splits
def split_candidates(likelihood: MixtureLikelihood, params: np.ndarray, posteriors: np.ndarray,
                     n: int, rng: np.random.Generator | None = None
                     ) -> list[tuple[str, np.ndarray]]:
    """Starts for ``K + 1`` classes from a K-class solution: split its loosest classes.

    Class ``c`` becomes ``beta_c - step`` and ``beta_c + step`` (half its share
    each), ``step`` from :func:`~mixlogit.starts._common.split_direction`.
    Classes are taken loosest first; beyond K candidates the steps are drawn
    again with a random length factor in [0.5, 2] (needs ``rng``).
    """
    lay = likelihood.layout
    K = lay.k_classes
    u = lay.unpack(params)
    big = with_classes(likelihood, K + 1)
    spread = class_spread(likelihood, params, posteriors)
    order = np.argsort([-s for s, _ in spread], kind="stable")
    totals = (likelihood.weights[:, None] * posteriors).sum(axis=0)
    out = []
    for i in range(n):
        c = int(order[i % K])
        step = spread[c][1]
        factor = 1.0 if i < K or rng is None else float(np.exp(rng.uniform(np.log(0.5), np.log(2))))
        betas = np.vstack([np.delete(u.betas, c, axis=0), u.betas[c] - factor * step,
                           u.betas[c] + factor * step])
        t = np.r_[np.delete(totals, c), totals[c] / 2, totals[c] / 2]
        label = f"split class{c + 1}" + (f" x{factor:.2f}" if factor != 1.0 else "")
        out.append((label, big.apply_fixed(big.layout.pack(betas, u.delta,
                                                           share_logits(big.layout, t)))))
    return out


def split_path(likelihood: MixtureLikelihood, *, n_path: int = 2, tol: float = 1e-8
               ) -> tuple[MixtureLikelihood, np.ndarray, np.ndarray, float]:
    """The split path up to K - 1 classes.

    Fits one class, then repeatedly splits: at each number of classes
    ``k < K - 1`` the ``min(n_path, k)`` splits of the loosest classes run to
    convergence and the best is kept.

    Returns
    -------
    (likelihood, params, posteriors, cost)
        The (K-1)-class likelihood, its solution and posteriors, and the
        EM-iteration equivalents spent (:func:`~mixlogit.starts._common.cost`).
    """
    n_path = check_count(n_path, "n_path")
    K = likelihood.layout.k_classes
    lik = with_classes(likelihood, 1)
    theta, ev, n_newton, _ = lik.polish(lik.apply_fixed(np.zeros(lik.layout.n_params)),
                                        maxiter=100, tol=1e-12)
    spent = NEWTON_COST * n_newton
    for k in range(1, K - 1):
        cands = split_candidates(lik, theta, ev.posteriors, min(n_path, k))
        lik = with_classes(likelihood, k + 1)
        est = estimate(lik, cands, tol=tol)
        theta, ev = est.params, est.evaluation
        spent += cost(est.runs)
    return lik, theta, ev.posteriors, spent


def split_starts(likelihood: MixtureLikelihood, n_starts: int, rng: np.random.Generator, *,
                 n_path: int = 2, tol: float = 1e-8) -> list[tuple[str, np.ndarray]]:
    """``start="split"``: the splits of the (K-1)-class solution reached by the split path.

    The path (:func:`split_path`) fits one class, then splits its way up to
    K - 1 classes; the ``n_starts`` K-class starts are
    :func:`split_candidates` of the (K-1)-class solution: each class split in
    turn, loosest first, then again with random step lengths.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.starts import make_starts
    >>> sim = mx.datasets.simulate.simulate_panel(n_decision_makers=200, seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 + x3 + x4 + x5 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=3)
    >>> [o[:11] for o, _ in make_starts(model.likelihood(), "split", 2, np.random.default_rng(0))]
    ['split class', 'split class']
    """
    n_starts = check_count(n_starts, "n_starts")
    if likelihood.layout.k_classes == 1:
        lik = with_classes(likelihood, 1)
        theta = lik.polish(lik.apply_fixed(np.zeros(lik.layout.n_params)), maxiter=100,
                           tol=1e-12)[0]
        return [("pooled", theta)] * n_starts
    lik, theta, post, _ = split_path(likelihood, n_path=n_path, tol=tol)
    return split_candidates(lik, theta, post, n_starts, rng)
