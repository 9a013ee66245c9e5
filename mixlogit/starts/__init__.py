"""Start values for EM.

``"partition"``
    Split the decision makers at random into K groups, fit a conditional logit
    in each group, equal shares (the habit of lclogit).
``"subspace"``
    Draws in an estimated subspace of the class coefficients: for the counts
    form, the top eigenvectors of the latent second moment M2; for long-format
    data, the decision-maker score subspace of ALGORITHMS.md section 3.5.
``"mom"``
    The method-of-moments estimate (counts form only; the tensor and the
    Prony estimates when ``2 <= K <= L``), then subspace draws, ``n_starts``
    in all; on long-format data it raises
    :class:`~mixlogit.exceptions.SpecificationError`.
``"short"``
    Short EM runs (Biernacki, Celeux and Govaert 2003): many cheap candidates
    run a few EM iterations, the best ``n_starts`` continue
    (:func:`mixlogit.starts.search.short_starts`).
``"kmeans"``
    k-means of information-scaled, shrunk individual logits (long-form panels;
    :func:`mixlogit.starts.search.kmeans_starts`).
``"split"``
    Splits of the (K-1)-class solution along the direction where the class
    scores spread most (:func:`mixlogit.starts.search.split_starts`).

:func:`mixlogit.starts.portfolio.run_portfolio` combines them with the
split-and-merge moves of :mod:`mixlogit.starts.moves` (Ueda et al. 2000).
Every strategy returns exactly ``n_starts`` starts and draws at random only
over the unit index (decision makers or candidates).

Every strategy is ``strategy(likelihood, n_starts, rng, **options) -> [(origin,
params), ...]``; class-invariant and membership parts are zero (equal shares)
unless the strategy estimates them (the pooled invariant coefficients of the
score subspace, the shares of the method of moments).
Given values
    An array of length ``n_params``, a ``{name: value}`` dict (missing names are
    0), or a list of those for several starts.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..exceptions import DataError, IdentificationWarning, SpecificationError, warn
from ..likelihood import MixtureLikelihood
from .moments import latent_moments, mom_estimate, shares_to_logits
from .moments import subspace_starts as moment_subspace_draws
from .search import kmeans_starts, short_starts, split_starts
from .subspace import score_subspace_starts

__all__ = ["START_STRATEGIES", "partition_starts", "given_starts", "make_starts",
           "subspace_starts", "mom_starts", "moment_subspace_starts", "short_starts",
           "kmeans_starts", "split_starts"]


def partition_starts(likelihood: MixtureLikelihood, n_starts: int, rng: np.random.Generator
                     ) -> list[tuple[str, np.ndarray]]:
    """Random-partition starts: one conditional logit fit per group of decision makers."""
    lay = likelihood.layout
    K = lay.k_classes
    N = likelihood.data.n_decision_makers
    w = likelihood.data.weights
    out = []
    for r in range(n_starts):  # loop over starts; each fit is vectorised
        labels = rng.permutation(N) % K
        wh = np.zeros((N, K))
        wh[np.arange(N), labels] = w
        params = likelihood.fit_classes(np.zeros(lay.n_params), wh, max_steps=25, tol=1e-8)
        out.append((f"partition {r}", params))
    return out


def given_starts(likelihood: MixtureLikelihood, values) -> list[tuple[str, np.ndarray]]:
    """Starts from user values: an array, a dict of names, or a list of either."""
    lay = likelihood.layout
    if isinstance(values, Mapping) or (isinstance(values, np.ndarray) and values.ndim == 1):
        values = [values]
    elif not isinstance(values, Sequence) or isinstance(values, str):
        raise SpecificationError(
            "start values must be an array of length n_params, a dict {name: value}, or a list "
            "of those"
        )
    out = []
    for i, v in enumerate(values):
        if isinstance(v, Mapping):
            theta = lay.from_mapping(v)
        else:
            theta = np.asarray(v, dtype=float).ravel()
            if theta.shape != (lay.n_params,):
                raise SpecificationError(
                    f"start values must have {lay.n_params} entries in the order of "
                    f"model.param_names, got {theta.shape[0]}"
                )
        if not np.all(np.isfinite(theta)):
            raise SpecificationError("start values must be finite")
        out.append((f"given {i}", theta))
    return out


def _is_counts(likelihood) -> bool:
    return likelihood.form == "counts"


def _counts_moments(likelihood, order: int):
    d = likelihood.data
    return latent_moments(d.counts, d.features, order=order)


def moment_subspace_starts(likelihood, n_starts: int, rng: np.random.Generator, *,
                           moments=None) -> list[tuple[str, np.ndarray]]:
    """Counts form: draws in the span of the top eigenvectors of the latent moment M2.

    ALGORITHMS.md 3.4: in whitened coordinates ``beta_k = U z_k`` with ``U`` the
    top ``min(K, L)`` eigenvectors of ``M2`` and ``z_k ~ N(0, tr(M2) / K I)``,
    mapped back to the feature coordinates; equal shares. See
    :func:`mixlogit.starts.moments.subspace_starts`.
    """
    lay = likelihood.layout
    if moments is None:
        moments = _counts_moments(likelihood, order=2)
    draws = moment_subspace_draws(moments, lay.k_classes, int(n_starts), seed=rng)
    return [(f"subspace {i}", lay.pack(b)) for i, b in enumerate(draws)]


def mom_starts(likelihood, n_starts: int, rng: np.random.Generator, *, method: str = "auto",
               n_tries: int = 20) -> list[tuple[str, np.ndarray]]:
    """Counts form: the method-of-moments estimate(s), then subspace draws, ``n_starts`` in all.

    The estimate is :func:`mixlogit.starts.moments.mom_estimate` (``method``: ``"auto"``
    runs the third-moment tensor decomposition when ``K <= L`` and the 1-D
    Prony problem). With ``method="auto"`` and ``2 <= K <= L`` both estimates
    (tensor first, then Prony) become starts; the rest of the ``n_starts`` are
    random subspace draws, and EM keeps the best log-likelihood (with
    ``n_starts=1`` only the first moment estimate is run). Two safeguards, our choices: atoms whose (whitened) norm
    exceeds ``sqrt(2 log p)`` are shrunk to that norm (beyond it the
    Gaussian-design identities fail, and such atoms are the spurious far-away
    solutions of a nearly singular moment problem, whose softmax sits on a
    handful of candidates), and shares are floored at ``1 / (4K)`` (a class that
    starts with a vanishing share is emptied by EM).
    When the moment problem cannot be solved, a warning is issued and only the
    draws remain. The warnings of :func:`~mixlogit.starts.moments.mom_estimate` about
    the quality of the moments (weak eigen-gap, complex atoms) are not repeated:
    the start's origin reads ``"mom (<method>, weak)"`` instead, and the
    likelihood decides among the starts; call :func:`mixlogit.mom_estimate`
    directly to see them.

    Raises
    ------
    SpecificationError
        On long-format data: the moment identities need one shared candidate
        set with (roughly) Gaussian features.
    """
    if not _is_counts(likelihood):
        raise SpecificationError(
            "start='mom' needs the counts form (MixedMultinomialLogit.from_counts): the "
            "method of moments rests on Gaussian-design identities for one candidate set "
            "shared by all draws, which long-format data with situation-specific "
            "alternatives do not satisfy; use start='subspace' (decision-maker score "
            "subspace) or start='partition'"
        )

    lay = likelihood.layout
    K, L = lay.k_classes, lay.k_exog
    moments = _counts_moments(likelihood, order=3 if 2 <= K <= L else 2)
    methods = [method]
    if method == "auto" and 2 <= K <= L:
        methods = ["tensor", "prony"]  # both: EM, not the moment fit, decides between them
    methods = methods[:int(n_starts)]
    cap = np.sqrt(2.0 * np.log(likelihood.data.n_candidates))
    out: list[tuple[str, np.ndarray]] = []
    for meth in methods:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", IdentificationWarning)
                est = mom_estimate(moments, K, method=meth, seed=rng, n_tries=n_tries)
        except (DataError, np.linalg.LinAlgError) as exc:
            warn(f"the method of moments ({meth}) failed ({exc}); using the other starts",
                 IdentificationWarning)
            continue
        for w in caught:  # pass on anything that is not about the moment problem's quality
            if not issubclass(w.category, IdentificationWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        weak = ", weak" if any(issubclass(w.category, IdentificationWarning) for w in caught) \
            else ""
        gam = est.whitened_betas
        norm = np.linalg.norm(gam, axis=1)
        gam = gam * np.minimum(1.0, cap / np.maximum(norm, 1e-300))[:, None]
        betas = moments.whitening.to_original(gam) if moments.whitening is not None else gam
        shares = np.maximum(est.shares, 1.0 / (4 * K))
        gamma = np.r_[0.0, shares_to_logits(shares / shares.sum())][:, None]
        out.append((f"mom ({est.method}{weak})", lay.pack(betas, gamma=gamma)))
    out = out[:int(n_starts)]
    n_random = int(n_starts) - len(out)
    if n_random > 0:
        out += moment_subspace_starts(likelihood, n_random, rng, moments=moments)
    return out


def subspace_starts(likelihood, n_starts: int, rng: np.random.Generator, **kwargs
                    ) -> list[tuple[str, np.ndarray]]:
    """``start="subspace"``: M2 subspace draws (counts form) or score subspace draws (long form).

    Keyword arguments go to :func:`mixlogit.starts.subspace.score_subspace_starts`
    (long form: ``scale``); the counts form takes none.
    """
    if _is_counts(likelihood):
        if kwargs:
            raise SpecificationError(f"start='subspace' on counts takes no options, got "
                                     f"{sorted(kwargs)}")
        return moment_subspace_starts(likelihood, n_starts, rng)

    return score_subspace_starts(likelihood, n_starts, rng, **kwargs)


def _short(likelihood, n_starts: int, rng: np.random.Generator, *, generator: str | None = None,
           n_candidates: int | None = None, n_iter: int = 5) -> list[tuple[str, np.ndarray]]:
    """``start="short"``: :func:`~mixlogit.starts.search.short_starts`, the candidates named by
    ``generator`` (a registry name; default: cheap partitions on the long form, draws of the
    estimated norm on the counts form)."""
    gen: Callable[..., list] | None
    if generator is None:
        gen = moment_subspace_starts if _is_counts(likelihood) else None
    elif generator in START_STRATEGIES and generator != "short":
        gen = START_STRATEGIES[generator]
    else:
        raise SpecificationError(
            f"generator={generator!r} is not a start strategy to screen; use one of "
            f"{sorted(set(START_STRATEGIES) - {'short'})}")
    return short_starts(likelihood, n_starts, rng, generator=gen, n_candidates=n_candidates,
                        n_iter=n_iter)


START_STRATEGIES = {
    "partition": partition_starts,
    "subspace": subspace_starts,
    "mom": mom_starts,
    "short": _short,
    "kmeans": kmeans_starts,
    "split": split_starts,
}


def make_starts(likelihood: MixtureLikelihood, start, n_starts: int, rng: np.random.Generator,
                **kwargs) -> list[tuple[str, np.ndarray]]:
    """Dispatch on the start strategy (a name) or given values."""
    if isinstance(start, str):
        if start not in START_STRATEGIES:
            raise SpecificationError(
                f"start={start!r} is not known; use one of {sorted(START_STRATEGIES)} or give "
                "start values"
            )
        return START_STRATEGIES[start](likelihood, n_starts, rng, **kwargs)
    return given_starts(likelihood, start)
