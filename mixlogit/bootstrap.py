"""Label-aligned nonparametric bootstrap of a latent-class logit fit, on either data form.

Resampling
----------
Each replicate resamples the independent observations with replacement and
refits. The units of a :class:`~mixlogit.likelihood.MixtureLikelihood` carry
frequency weights: decision makers (weight 1, or how many identical decision
makers a row stands for) in the long form, candidates weighted by their counts
in the counts form. One function, :func:`resample_weights`, serves both:

* whole-number weights (the usual case of both forms): the ``W = sum_n w_n``
  draws (decision makers, or the draws behind the counts) are resampled, W
  draws with replacement, and unit n gets the replicate weight "how many of
  its draws were drawn" (``Multinomial(W, w / W)`` over the units). With unit weights this is
  resampling decision makers; for counts it is multinomial counts over the
  candidates with N = total draws. A counts data set and its long expansion
  (draws ordered by the candidate they chose) get the same replicates from the
  same seed.
* other weights (sampling weights): units are resampled with equal
  probability and keep their weights, ``w_n c_n`` with
  ``c ~ Multinomial(N, 1/N)``.
* ``cluster=``: clusters are resampled with equal probability and every unit
  inherits its cluster's count times its weight.

The data are never copied: a replicate is ``likelihood.reweighted(weights)``.
Every replicate is refitted by EM + Newton warm-started at the full-sample
estimate (plus, on request, ``extra_starts`` random-partition starts), and its
classes are then **aligned** to the estimate's classes by the Hungarian
assignment before anything is averaged. Without alignment, class labels that
switch between replicates mix the draws of different classes and inflate the
standard errors (the ``unaligned_bse`` of :class:`BootstrapResults` shows by
how much).

Alignment
---------
Each class is summarised by the vector ``(beta_k, share_k)``. The cost of
matching estimate class k with replicate class m is
``sum_l ((a_kl - b_ml) / se_kl)^2``, the squared distance in units of the
estimate's standard errors of class k (``align="params"``), or
``sum_n w_n (h_nk - h*_nm)^2 / sum_n w_n`` with ``h`` the estimate's posteriors
and ``h*`` the replicate's posteriors on the original data
(``align="posteriors"``). The best assignment minimises the total cost
(:func:`match_classes`, the one class alignment of the bootstrap and the
diagnostics).

A replicate's alignment is flagged **doubtful** when the second-best
assignment is almost as good (its extra cost is below the 99% quantile of a
chi-square with as many degrees of freedom as the class vector has entries:
the two labellings cannot be told apart at the estimate's precision; with
``align="posteriors"`` a margin below 0.05), or when a matched replicate class
is not clearly closer to its own estimate class than to another one (its cost
exceeds half its cost against some other estimate class).

What counts as **failed**: the refit raised, gave a non-finite log-likelihood,
or did not meet its convergence criterion. Failed replicates are excluded from
every summary and counted in ``share_failed``.

The unaligned draws are what a naive bootstrap that refits each replicate and
keeps the package's canonical class order (largest share first) would average.
"""
from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import _checks as ck
from ._alignment import ClassMatch, assignment_costs, match_classes
from ._bootstrap_results import BootstrapResults
from ._parallel import parallel_map
from .covariance import safe_inverse
from .exceptions import MixlogitWarning, SpecificationError, warn
from .likelihood import MixtureLikelihood, estimate
from .starts import partition_starts

__all__ = ["BootstrapResults", "bootstrap", "resample_weights", "assignment_costs",
           "match_classes", "ClassMatch"]

#: whole-number weights up to this many draws are resampled draw by draw (8 bytes a draw);
#: above it the per-unit multinomial ``Multinomial(W, w / W)`` (the same distribution) is used
MAX_DRAWS = 20_000_000


# ---------------------------------------------------------------------- resampling
def _whole(weights: np.ndarray) -> bool:
    return bool(np.all(weights == np.round(weights)))


def _canonical_resample(likelihood: MixtureLikelihood, n_reps: int, rng: np.random.Generator,
                        codes: np.ndarray | None) -> np.ndarray:
    """:func:`resample_weights` over the units in the order of their ids, mapped back.

    The units of a likelihood come in its own order (partition order for
    partitioned data); drawing in the order of the ids makes the replicates of
    a seed the same whatever the partitioning or row order.
    """
    try:
        order = np.argsort(np.asarray(likelihood.data.decision_maker_ids), kind="stable")
    except TypeError:  # ids of mixed types: keep the likelihood's order
        order = np.arange(likelihood.n_units)
    drawn = resample_weights(np.asarray(likelihood.weights)[order], n_reps, rng,
                             None if codes is None else np.asarray(codes)[order])
    out = np.empty_like(drawn)
    out[:, order] = drawn
    return out


def resample_weights(weights, n_reps: int, rng: np.random.Generator,
                     cluster_codes: np.ndarray | None = None) -> np.ndarray:
    """Replicate weights of the units for ``n_reps`` bootstrap replicates, (n_reps, N).

    Parameters
    ----------
    weights : array_like, shape (N,)
        Frequency weights of the units (decision makers, or candidates with
        their counts).
    n_reps : int
        Number of replicates.
    rng : numpy.random.Generator
    cluster_codes : ndarray of int, shape (N,), optional
        Cluster code 0..G-1 of each unit: clusters are drawn with replacement
        and every unit gets its cluster's count times its weight.

    Returns
    -------
    ndarray of float, shape (n_reps, N)
        Whole-number weights: the number of times each unit's draws were drawn
        when the ``W = sum(weights)`` draws are resampled (each row sums to W).
        Otherwise ``weights * c`` with ``c`` the counts of the resampled units.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.bootstrap import resample_weights
    >>> rw = resample_weights([3, 0, 1], 4, np.random.default_rng(0))
    >>> rw.sum(axis=1)
    array([4., 4., 4., 4.])
    >>> bool(np.all(rw[:, 1] == 0))
    True
    """
    w = np.asarray(weights, dtype=float)
    n = w.shape[0]
    if cluster_codes is not None:
        n_clusters = int(cluster_codes.max()) + 1
        counts = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=n_reps)
        return counts[:, cluster_codes] * w
    if not _whole(w):
        return rng.multinomial(n, np.full(n, 1.0 / n), size=n_reps) * w
    total = int(round(w.sum()))
    if total > MAX_DRAWS:
        return rng.multinomial(total, w / w.sum(), size=n_reps).astype(float)
    unit_of_draw = np.repeat(np.arange(n), w.astype(np.int64))
    out = np.empty((n_reps, n))
    for r in range(n_reps):  # W draws with replacement per replicate, counted per unit
        out[r] = np.bincount(unit_of_draw[rng.integers(0, total, size=total)], minlength=n)
    return out


# ---------------------------------------------------------------------- alignment
def _class_summary(likelihood: MixtureLikelihood, params: np.ndarray, weights: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Class vectors ``(beta_k, share_k)`` (K x (L+1)) and posteriors on the given weights."""
    ev = likelihood.evaluate(params)
    share = weights @ np.exp(ev.log_shares) / weights.sum()
    betas = likelihood.layout.unpack(params).betas
    return np.column_stack([betas, share]), ev.posteriors


# ---------------------------------------------------------------------- workers
_WORKER_STATE: dict[str, Any] = {}

#: a matched replicate class whose cost exceeds this fraction of its cost against another
#: estimate class is ambiguous (it is less than sqrt(2) times closer to its own class)
AMBIGUITY_RATIO = 0.5


def _init_worker(state: dict[str, Any]) -> None:
    _WORKER_STATE.clear()
    _WORKER_STATE.update(state)
    warnings.simplefilter("ignore")  # a worker process reports failures, not warnings


def _refit_in_worker(task: tuple[int, np.ndarray, int]) -> dict[str, Any]:
    """Process-pool entry: the state was installed by :func:`_init_worker`."""
    return _refit(_WORKER_STATE, task)


def _refit(s: dict[str, Any], task: tuple[int, np.ndarray, int]) -> dict[str, Any]:
    """Refit one replicate: ``task = (index, replicate weights, seed)``."""
    index, weights, seed = task
    t0 = time.perf_counter()
    out: dict[str, Any] = {"index": index, "params": None, "llf": np.nan, "converged": False,
                           "error": None, "n_iter": 0, "seconds": 0.0}
    try:
        lik_b = s["likelihood"].reweighted(weights)
        starts = [("estimate", s["params"].copy())]
        if s["extra_starts"] > 0:
            starts += partition_starts(lik_b, s["extra_starts"], np.random.default_rng(seed))
        # warnings are silenced by the driver (warning filters are process-global, so they
        # must not be changed from worker threads)
        with np.errstate(all="ignore"):
            est = estimate(lik_b, starts, tol=s["tol"], maxiter=s["maxiter"], n_jobs=1,
                           progress=False)
        out.update(params=np.asarray(est.params, float), llf=float(est.llf),
                   converged=bool(est.converged), n_iter=int(est.best_run.n_iter))
        if not np.isfinite(est.llf) or not np.all(np.isfinite(est.params)):
            out["error"] = "non-finite log-likelihood or parameters"
        elif not est.converged:
            out["error"] = "not converged"
    except Exception as exc:  # a replicate may fail in any way; it is counted, not raised
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["seconds"] = time.perf_counter() - t0
    return out


# ---------------------------------------------------------------------- driver
def _oim_covariance(results) -> np.ndarray:
    """Inverse observed information over all parameters (zeros for fixed ones), quietly."""
    free = results.fit_state.likelihood.free
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inv, _ = safe_inverse(results.fit_state.covariance_inputs.information)
    cov = np.zeros((len(free), len(free)))
    cov[np.ix_(free, free)] = inv
    return cov


def _cluster_codes(results, cluster) -> np.ndarray | None:
    if cluster is None:
        return None
    lik = results.fit_state.likelihood
    if lik.form == "counts":
        raise SpecificationError(
            "cluster= does not apply to the counts form: its units are candidates, and the "
            "independent draws behind the counts carry no cluster labels; omit cluster=")
    labels = results.decision_maker_column(cluster) if isinstance(cluster, str) \
        else np.asarray(cluster)
    N = lik.n_units
    if labels.shape != (N,):
        raise SpecificationError(
            f"cluster must be a column name or one label per decision maker ({N}), got shape "
            f"{labels.shape}")
    codes, uniques = pd.factorize(labels)
    if len(uniques) < 2:
        raise SpecificationError("cluster must define at least two clusters")
    return codes


_OPTIONS = {"n_reps": ck.whole_number(low=2), "seed": ck.seed(), "n_jobs": ck.n_jobs(),
            "align": ck.one_of("params", "posteriors"), "extra_starts": ck.whole_number(low=0),
            "n_starts": ck.optional(ck.whole_number(low=0)), "tol": ck.positive_number(),
            "maxiter": ck.whole_number(low=1), "backend": ck.one_of("threads", "processes"),
            "progress": ck.optional(ck.boolean())}


def _run_replicates(state: dict[str, Any], tasks: list, *, n_jobs: int, backend: str,
                    progress: bool | None) -> list[dict[str, Any]]:
    """Refit every replicate, in order, on ``n_jobs`` threads or processes, quietly."""
    if n_jobs == 1 or backend == "threads":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return parallel_map(functools.partial(_refit, state), tasks, n_jobs=n_jobs,
                                backend="threads", progress=progress, desc="bootstrap")
    return parallel_map(_refit_in_worker, tasks, n_jobs=n_jobs, backend="processes",
                        progress=progress, desc="bootstrap", initializer=_init_worker,
                        initargs=(state,))


def _alignment_scale(results, ref_vec: np.ndarray) -> np.ndarray:
    """Standard errors of each estimate class's ``(beta_k, share_k)``, (K, L + 1)."""
    lay = results.fit_state.likelihood.layout
    K = lay.k_classes
    cov = _oim_covariance(results)
    se_full = np.sqrt(np.clip(np.diag(cov), 0, None))
    se_beta = np.array([se_full[lay.class_slice(k)] for k in range(K)]).reshape(K, lay.k_exog)
    _, J = results.fit_state.share_jacobian()
    se_share = np.sqrt(np.clip(np.diag(J @ cov @ J.T), 0, None))[:, None]
    scale = np.hstack([se_beta, se_share])
    bad = ~np.isfinite(scale) | (scale <= 0)
    if bad.any():  # fixed or undefined standard errors: fall back to the spread across classes
        spread = np.nanstd(ref_vec, axis=0)
        fallback = np.where(spread > 0, spread, 1.0)
        scale = np.where(bad, np.broadcast_to(fallback, scale.shape), scale)
    return scale


def _align_one(ctx: dict[str, Any], theta: np.ndarray, weights_r: np.ndarray, row: dict
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Aligned and canonical parameters and aligned shares of one replicate; fills ``row``."""
    lik, lay, w = ctx["likelihood"], ctx["likelihood"].layout, ctx["weights"]
    K = lay.k_classes
    vec, post = _class_summary(lik, theta, weights_r if ctx["align"] == "params" else w)
    if not ctx["exchangeable"]:
        return theta, theta, vec[:, -1]
    if ctx["align"] == "params":
        match = match_classes(ctx["ref_vec"], vec, ctx["scale"])
    else:
        cost = (((ctx["ref_post"][:, :, None] - post[:, None, :]) ** 2) * w[:, None, None]
                ).sum(0) / w.sum()
        order, best, second = assignment_costs(cost)
        match = ClassMatch(order, best, second, cost)
    order = match.order
    per_class = match.cost[np.arange(K), order]
    others = match.cost[:, order].copy()  # matched replicate classes against the others
    np.fill_diagonal(others, np.inf)
    ambiguous = per_class > AMBIGUITY_RATIO * others.min(axis=0)
    row.update(cost=match.best, second_cost=match.second,
               doubtful=bool(match.second - match.best < ctx["margin"] or ambiguous.any()),
               order=" ".join(str(o + 1) for o in order))
    canon = lay.permute(theta, np.argsort(-vec[:, -1], kind="stable"))
    return lay.permute(theta, order), canon, vec[order, -1]


def _align_all(results, outs: list[dict[str, Any]], replicate_weights: np.ndarray,
               align: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Align every successful replicate to the estimate: draws, unaligned, shares, table."""
    lik = results.fit_state.likelihood
    lay = lik.layout
    K, d, R = lay.k_classes, lay.n_params, len(outs)
    w = lik.weights
    ref_vec, ref_post = _class_summary(lik, results.fit_state.params, w)
    ctx = {"likelihood": lik, "weights": w, "align": align, "ref_vec": ref_vec,
           "ref_post": ref_post, "exchangeable": K > 1 and lik.classes_exchangeable}
    if align == "params":
        ctx["scale"] = _alignment_scale(results, ref_vec)
        ctx["margin"] = stats.chi2.ppf(0.99, ctx["scale"].shape[1])
    else:
        ctx["margin"] = 0.05
    draws, unaligned = np.full((R, d), np.nan), np.full((R, d), np.nan)
    share_draws = np.full((R, K), np.nan)
    rows = []
    for out in outs:
        r = out["index"]
        row = {"llf": out["llf"], "converged": out["converged"],
               "failed": out["error"] is not None, "error": out["error"], "doubtful": False,
               "cost": np.nan, "second_cost": np.nan, "order": "", "n_iter": out["n_iter"],
               "seconds": out["seconds"]}
        if not row["failed"]:
            draws[r], unaligned[r], share_draws[r] = _align_one(ctx, out["params"],
                                                                replicate_weights[r], row)
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.RangeIndex(R, name="replicate"))
    return draws, unaligned, share_draws, table


def _warn_quality(boot: BootstrapResults) -> None:
    if boot.share_failed > 0.05:
        warn(f"{100 * boot.share_failed:.1f}% of the bootstrap replicates failed or did not "
             "converge; they are excluded. Many failures suggest a weakly identified model "
             "(see results.identifiability())", MixlogitWarning)
    if np.isfinite(boot.share_doubtful) and boot.share_doubtful > 0.05:
        warn(f"{100 * boot.share_doubtful:.1f}% of the bootstrap replicates have a doubtful "
             "class alignment (classes hard to tell apart); standard errors may be inflated. "
             "Compare cov_params(include_doubtful=False) and see results.identifiability()",
             MixlogitWarning)


def bootstrap(results, n_reps: int = 200, *, seed: int | np.random.Generator | None = None,
              n_jobs: int = 1, cluster: str | Sequence | None = None, align: str = "params",
              extra_starts: int = 0, tol: float = 1e-6, maxiter: int = 500,
              backend: str = "processes", progress: bool | None = None,
              n_starts: int | None = None) -> BootstrapResults:
    """Label-aligned nonparametric bootstrap of a fitted latent-class logit (either form).

    Parameters
    ----------
    results : MixedMultinomialLogitResults
        The fit to bootstrap (long form or counts form).
    n_reps : int
        Number of replicates, at least 2.
    seed : int or numpy.random.Generator, optional
        Seed of the resampling (and of extra starts); the same seed gives the
        same draws whatever ``n_jobs`` is, and the same replicates for a counts
        data set and its long expansion.
    n_jobs : int
        Parallel workers (``-1``: every core).
    cluster : str or array_like, optional
        Resample clusters instead of decision makers: a column of the model's
        data constant within decision makers, or one label per decision maker
        (long form only).
    align : str
        ``"params"`` (class coefficients and shares in units of their standard
        errors) or ``"posteriors"`` (posterior class probabilities on the
        original data).
    extra_starts : int
        Random-partition starts per replicate besides the warm start at the
        estimate: each replicate runs ``1 + extra_starts`` starts (default 1).
    tol, maxiter : float, int
        EM stopping rule of each refit; the Newton polish that follows EM
        converges to the usual criterion, so a looser EM tolerance than the
        fit's only saves EM iterations.
    backend : str
        With ``n_jobs > 1``: ``"processes"`` (default) or ``"threads"``.
        Measured on the electricity data (K = 3, 2 cores): 0.16 s per replicate
        with one job, 0.12 s with two processes, 0.15 s with two threads.
    progress : bool, optional
        Progress bar (default: when standard error is a terminal and tqdm is
        installed).
    n_starts : int, optional
        The total number of starts per replicate, ``1 + extra_starts`` (the
        package-wide meaning of ``n_starts``); give it or ``extra_starts``, not
        both. 0 is read as 1 (the estimate alone).

    Returns
    -------
    BootstrapResults

    Warns
    -----
    MixlogitWarning
        More than 5% of the replicates failed, or more than 5% have a doubtful
        class alignment.

    Notes
    -----
    Replicate weights come from :func:`resample_weights` (draws resampled for
    whole-number weights, units otherwise); each replicate refits
    ``likelihood.reweighted(weights)`` from the estimate and aligns its classes
    to the estimate's. Standard errors are the standard deviations of the
    aligned draws; percentile intervals their quantiles.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=120, n_situations=6, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> boot = res.bootstrap(20, seed=1)
    >>> boot.draws.shape
    (20, 5)
    >>> bool((boot.bse > 0).all())
    True
    """
    opts = ck.check_params(_OPTIONS, {
        "n_reps": n_reps, "seed": seed, "n_jobs": n_jobs, "align": align,
        "extra_starts": extra_starts, "n_starts": n_starts, "tol": tol, "maxiter": maxiter,
        "backend": backend, "progress": progress}, where="bootstrap()")
    if opts["n_starts"] is not None:
        if opts["extra_starts"]:
            raise SpecificationError("bootstrap(): give extra_starts or n_starts (their total "
                                     "with the estimate), not both")
        opts["extra_starts"] = max(opts["n_starts"] - 1, 0)
    t0 = time.perf_counter()
    lik: MixtureLikelihood = results.fit_state.likelihood
    names = list(lik.layout.param_names)
    params_hat = np.asarray(results.fit_state.params, float).copy()
    rng = np.random.default_rng(seed)
    codes = _cluster_codes(results, cluster)
    R = opts["n_reps"]
    replicate_weights = _canonical_resample(lik, R, rng, codes)
    seeds = rng.integers(0, 2**63 - 1, size=R)
    state = {"likelihood": lik, "params": params_hat, "extra_starts": opts["extra_starts"],
             "tol": opts["tol"], "maxiter": opts["maxiter"]}
    tasks = [(r, replicate_weights[r], int(seeds[r])) for r in range(R)]
    outs = _run_replicates(state, tasks, n_jobs=opts["n_jobs"], backend=backend,
                           progress=progress)
    draws, unaligned, share_draws, replicates = _align_all(results, outs, replicate_weights,
                                                           align)
    index = replicates.index
    boot = BootstrapResults(
        estimate=pd.Series(params_hat, index=names, name="estimate"),
        draws=pd.DataFrame(draws, columns=names, index=index),
        unaligned_draws=pd.DataFrame(unaligned, columns=names, index=index),
        share_draws=pd.DataFrame(share_draws, columns=lik.layout.class_names, index=index),
        replicates=replicates, fixed=lik.fixed_mask.copy(), n_reps=R,
        n_clusters=lik.n_units if codes is None else int(codes.max()) + 1, align=align,
        seed=seed, seconds=time.perf_counter() - t0)
    _warn_quality(boot)
    return boot
