"""Choosing the number of classes: fit K = 1..Kmax, tabulate information criteria.

:func:`select_classes` fits every K with fresh starts (the likelihood's
default strategy: random partitions for long data, the method of moments for
counts) **and** warm starts built from the K-1 solution by splitting one of
its classes (ALGORITHMS.md section 6), and returns a :class:`ClassSelection`
whose table
holds, per K: the log-likelihood, the number of free parameters ``d``, AIC,
BIC and CAIC with ``N`` = decision makers (sum of frequency weights, as lclogit2
does; draws for the counts form), the sample-size adjusted BIC, ICL (BIC plus twice the classification
entropy), the entropy R^2, the smallest class share, the share of starts that
reached the best optimum (restart stability), which start won (fresh or split),
whether the fit converged, and the warnings the fit raised.

Splitting a class
-----------------
For class c of the K-1 solution, with posterior weights ``w_n h_nc``, the
per-decision-maker class scores ``s_n`` and the class information ``I_c``, the
direction of largest excess dispersion solves the generalized eigenproblem
``B u = lambda I_c u`` with ``B = sum_n w_n h_nc s_n s_n'``: a homogeneous class
has ``B ~ I_c`` (lambda near 1); heterogeneity inside the class raises
lambda along the directions in which tastes differ. With ``u`` normalised so
that ``u' (I_c / n_c) u = 1``, a two-point split ``beta_c -/+ sqrt(lambda - 1) u``
matches the excess variance along ``u`` (our derivation; in one dimension it is
exact for small heterogeneity). Both halves get half of c's share. The class
scores are read from the per-unit scores of the fit (``s_n = score_nc / h_nc``)
and ``I_c`` from ``likelihood.class_information``, so both data forms work.

This module never imports :mod:`mixlogit.model`: models come from the caller,
as a ``builder`` (``builder(formula, data, k_classes=k, **model_kwds)``, which
``mixlogit.select_classes`` sets to ``MixedMultinomialLogit.from_formula``), a
callable ``k -> model``, or a list of models.
"""
from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import eigh

from ._criteria_plot import plot_criteria
from ._cross_validation import cross_validate, plan_folds
from ._parallel import progress as progress_bar
from .exceptions import SpecificationError
from .params import ParamLayout
from .starts import make_starts

__all__ = ["ClassSelection", "select_classes", "split_class_starts", "plot_criteria"]


def split_class_starts(results, *, n_classes_to_split: int = 2) -> list[tuple[str, np.ndarray]]:
    """Warm starts for K + 1 classes built from a K-class fit by splitting a class.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
        The K-class fit, long or counts form (the membership coefficients of
        the new class copy the split class's).
    n_classes_to_split : int
        Split each of the largest classes in turn (one start per class).

    Returns
    -------
    list of (origin, params)
        Parameter vectors for the K + 1 layout, in the order
        ``(classes of the K fit with c replaced by its two halves)``.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=1).fit()
    >>> from mixlogit.selection import split_class_starts
    >>> [(origin, start.shape) for origin, start in split_class_starts(res)]
    [('split class1', (5,))]
    """
    state = results.fit_state
    lik = state.likelihood
    lay = lik.layout
    K, L = lay.k_classes, lay.k_exog
    theta = np.asarray(state.params, float)
    u = lay.unpack(theta)
    ev = state.evaluation if state.evaluation.score_obs is not None \
        else lik.evaluate(theta, order=1)
    h, w = ev.posteriors, lik.weights
    wh = w[:, None] * h
    infos = lik.class_information(theta, wh)
    new_lay = ParamLayout(K + 1, lay.exog_names, lay.invariant_names, lay.membership_names)
    starts = []
    for c in np.argsort(-wh.sum(axis=0), kind="stable")[:n_classes_to_split]:
        c = int(c)
        S = ev.score_obs[:, lay.class_slice(c)]             # h_nc s_n: per-unit class scores
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_h = np.where(h[:, c] > 0, 1.0 / h[:, c], 0.0)
        B = (S * (w * inv_h)[:, None]).T @ S                # sum_n w_n h_nc s_n s_n'
        step = _split_step(np.asarray(infos[c])[:L, :L], B, float(wh[:, c].sum()))
        betas = np.delete(u.betas, c, axis=0)
        gam = np.delete(u.gamma, c, axis=0)
        half_gamma = u.gamma[c] + np.r_[np.log(0.5), np.zeros(u.gamma.shape[1] - 1)]
        new_betas = np.vstack([betas, u.betas[c] - step, u.betas[c] + step])
        new_gamma = np.vstack([gam, half_gamma, half_gamma])
        starts.append((f"split class{c + 1}", new_lay.pack(new_betas, u.delta, new_gamma)))
    return starts


def _split_step(info: np.ndarray, B: np.ndarray, n_c: float) -> np.ndarray:
    L = info.shape[0]
    if L == 0 or n_c <= 0:
        return np.zeros(L)
    ridge = 1e-8 * max(np.trace(info) / L, 1e-12)
    try:
        lam, vec = eigh(0.5 * (B + B.T), 0.5 * (info + info.T) + ridge * np.eye(L))
    except np.linalg.LinAlgError:
        return np.zeros(L)
    u = vec[:, -1]
    # normalise to one decision maker's information
    norm = float(u @ (info / n_c) @ u)
    if norm <= 0:
        return np.zeros(L)
    u = u / np.sqrt(norm)
    excess = max(float(lam[-1]) - 1.0, 0.25)
    return np.sqrt(excess) * u


@dataclass(eq=False)
class ClassSelection:
    """Fits over a range of K and their information criteria.

    Attributes
    ----------
    table : DataFrame
        One row per K; see :mod:`mixlogit.selection` for the columns.
    results : dict
        K -> MixedMultinomialLogitResults.
    cv_folds : Series or None
        With ``cv=``: the fold (0, 1, ...) of each decision maker.
    cv_loglike_obs : DataFrame or None
        With ``cv=``: the held-out log-likelihood of each decision maker
        (rows) for each K (columns), at the estimate fitted without his fold.
    cv_params : dict or None
        With ``cv=``: ``(K, fold) -> params`` of the training fits.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> from mixlogit.selection import select_classes
    >>> sel = select_classes("choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...                      k_classes=[1, 2], n_starts=2, seed=0,
    ...                      builder=mx.MixedMultinomialLogit.from_formula)
    >>> sel.table.index.tolist()
    [1, 2]
    """

    table: pd.DataFrame
    results: dict = field(repr=False)
    cv_folds: pd.Series | None = field(default=None, repr=False)
    cv_loglike_obs: pd.DataFrame | None = field(default=None, repr=False)
    cv_params: dict | None = field(default=None, repr=False)

    def best(self, criterion: str = "bic", *, one_se: bool = False) -> int:
        """The K with the smallest criterion, or the largest cross-validated log-likelihood.

        Parameters
        ----------
        criterion : str
            ``"aic"``, ``"bic"``, ``"caic"``, ``"sabic"``, ``"icl"``, or ``"cv"``
            (needs ``select_classes(..., cv=...)``).
        one_se : bool
            With ``"cv"``: the smallest K whose ``cv_loglike`` is within one
            standard error of the largest (the one-standard-error rule, with
            the paired ``cv_se_diff`` of each K's difference from the best).

        Returns
        -------
        int

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> from mixlogit.selection import select_classes
        >>> sel = select_classes("choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...                      k_classes=[1, 2], n_starts=2, seed=0,
        ...                      builder=mx.MixedMultinomialLogit.from_formula)
        >>> sel.best("bic")
        2
        """
        ks = self.table.index.to_numpy()
        if criterion == "cv":
            if "cv_loglike" not in self.table.columns:
                raise SpecificationError("best('cv') needs the cross-validated log-likelihood: "
                                         "run select_classes(..., cv=5)")
            ll = self.table["cv_loglike"].to_numpy(float)
            j = int(np.nanargmax(ll))
            if not one_se:
                return int(ks[j])
            se = self.table["cv_se_diff"].to_numpy(float)
            within = np.flatnonzero(ll >= ll[j] - np.nan_to_num(se))
            return int(ks[within.min()])
        if criterion not in ("aic", "bic", "caic", "sabic", "icl"):
            raise SpecificationError(f"criterion={criterion!r}; use aic, bic, caic, sabic, icl "
                                     "or cv")
        if one_se:
            raise SpecificationError("one_se=True applies to best('cv') only")
        values = self.table[criterion].to_numpy(float)
        return int(ks[int(np.nanargmin(values))])

    def plot(self, criteria=("aic", "bic", "caic", "sabic"), *, kind: str = "level", ax=None):
        """Criteria against K; stars mark each minimum.

        Parameters
        ----------
        criteria : sequence of str
            Columns of :attr:`table` to draw.
        kind : {"level", "delta"}
            ``"level"``: the criteria themselves; ``"delta"``: each minus its
            minimum over K (zero at the chosen K), on one readable scale.
        ax : matplotlib Axes, optional

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> from mixlogit.selection import select_classes
        >>> sel = select_classes("choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...                      k_classes=[1, 2], n_starts=2, seed=0,
        ...                      builder=mx.MixedMultinomialLogit.from_formula)
        >>> sel.plot().get_xlabel()
        'number of classes K'
        >>> sel.plot(kind="delta").get_ylabel()
        'difference from the minimum'
        """
        return plot_criteria(self.table, criteria=criteria, kind=kind, ax=ax)

    def __str__(self) -> str:
        cols = ["llf", "n_params", "aic", "bic", "caic", "sabic", "icl", "entropy_r2",
                "smallest_share", "starts_at_best", "best_start"]
        cols += [c for c in ("cv_loglike", "cv_se", "cv_se_diff") if c in self.table.columns]
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            body = self.table[cols].round(4).to_string()
        cv = f", CV {self.best('cv')}" if "cv_loglike" in self.table.columns else ""
        return (f"{body}\nBest K: BIC {self.best('bic')}, CAIC {self.best('caic')}, "
                f"AIC {self.best('aic')}, SABIC {self.best('sabic')}, ICL {self.best('icl')}"
                f"{cv}")

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return self.table.to_html()

    def __repr__(self) -> str:
        return f"<ClassSelection: K = {list(self.table.index)}, best by BIC {self.best('bic')}>"


# ------------------------------------------------------------------ inputs
def _check_k_list(k_classes) -> list[int]:
    """``k_classes`` as a sorted list of distinct whole numbers >= 1, or a clear error."""
    if isinstance(k_classes, (numbers.Integral, np.integer)) and not isinstance(k_classes, bool):
        raise SpecificationError(
            f"select_classes(): k_classes={k_classes} is a single number, but select_classes "
            f"compares several K; pass range(1, {int(k_classes) + 1}) for K = 1..{int(k_classes)}"
            f", or [{int(k_classes)}] to fit K = {int(k_classes)} alone")
    if isinstance(k_classes, (str, bytes)) or not isinstance(k_classes, Iterable):
        raise SpecificationError(
            f"select_classes(): k_classes must be an iterable of whole numbers >= 1 such as "
            f"range(1, 7), got {k_classes!r}")
    values = list(k_classes)
    bad = [k for k in values if isinstance(k, (bool, np.bool_))
           or not isinstance(k, (numbers.Integral, np.integer)) or k < 1]
    if bad or not values:
        raise SpecificationError(
            f"select_classes(): k_classes must hold whole numbers >= 1 (for example "
            f"range(1, 7)), got {values!r}" + (f"; {bad[0]!r} is not one" if bad else ""))
    return sorted({int(k) for k in values})


def _model_source(formula, data, builder, model_kwds: dict) -> tuple[Callable[[int], Any], list | None]:
    """A callable ``k -> model`` from the accepted inputs, and the K of given models."""
    if isinstance(formula, (list, tuple)):
        if not formula or builder is not None:
            raise SpecificationError("select_classes(): give a non-empty list of models, without "
                                     "builder=")
        by_k = {}
        for m in formula:
            _check_model(m, getattr(m, "k_classes", None), "the list of models")
            by_k[int(m.k_classes)] = m

        def given(k: int):
            if k not in by_k:
                raise SpecificationError(f"select_classes(): k_classes asks for K = {k}, but the "
                                         f"list of models has K = {sorted(by_k)}")
            return by_k[k]

        return given, sorted(by_k)
    if callable(formula):
        if builder is not None:
            raise SpecificationError("select_classes(): formula is already a callable k -> model;"
                                     " omit builder=")
        return formula, None
    if not isinstance(formula, str):
        raise SpecificationError(
            "select_classes(): formula must be a formula string (with builder=), a callable "
            f"k -> model, or a list of models; got {type(formula).__name__}")
    if builder is None:
        raise SpecificationError(
            "select_classes(): a formula needs a model builder: call mixlogit.select_classes "
            "(it passes MixedMultinomialLogit.from_formula), pass builder="
            "MixedMultinomialLogit.from_formula, or pass a callable k -> model instead of the "
            "formula")
    if not callable(builder):
        raise SpecificationError(f"select_classes(): builder must be callable "
                                 f"builder(formula, data, k_classes=k, **model_kwds), got "
                                 f"{builder!r}")
    if data is None or model_kwds.get("groups") is None:
        raise SpecificationError("select_classes(): a formula needs data= and groups=")
    return (lambda k: builder(formula, data, k_classes=k, **model_kwds)), None


def _check_model(model, k: int | None, source: str) -> None:
    if model is None or not (hasattr(model, "fit") and hasattr(model, "likelihood")):
        raise SpecificationError(
            f"select_classes(): {source} returned {model!r} for k_classes={k}; it must return a "
            "mixlogit model, e.g. MixedMultinomialLogit.from_formula(..., k_classes=k)")
    if k is not None and getattr(model, "k_classes", k) != k:
        raise SpecificationError(f"select_classes(): {source} returned a model with "
                                 f"k_classes={model.k_classes} when asked for {k}")


# ------------------------------------------------------------------ fitting
def _starts_for(model, k: int, previous, *, n_starts: int, rng, warm_start: bool,
                n_split: int, fixed) -> list[tuple[str, np.ndarray]]:
    """``n_starts`` starts in all (one for K = 1): split starts of the K-1 fit, then fresh ones."""
    lik = model.likelihood(fixed)
    total = 1 if k == 1 else n_starts
    split = []
    if warm_start and previous is not None and k > 1:
        split = split_class_starts(previous, n_classes_to_split=min(n_split, total - 1))
    fresh = make_starts(lik, lik.default_start, total - len(split), rng) if total > len(split) \
        else []
    return (fresh + split)[:total]


def _fit_one(model, starts, fit_kwds: Mapping[str, Any]):
    """Fit from the given starts; the results and the warning classes raised."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        res = model.fit(start_params=[p for _, p in starts], n_starts=len(starts),
                        progress=False, **fit_kwds)
    return res, sorted({type(r.message).__name__ for r in record})


def _table_row(k: int, res, origins: list[str], caught: list[str]) -> dict:
    h = res.fit_state.evaluation.posteriors
    w = res.fit_state.likelihood.weights
    with np.errstate(divide="ignore", invalid="ignore"):
        en = float(-(w[:, None] * np.where(h > 0, h * np.log(h), 0.0)).sum())
    report = res.start_report
    return {
        "k_classes": k, "llf": res.llf, "n_params": res.df_modelwc, "aic": res.aic,
        "bic": res.bic, "caic": res.caic, "sabic": res.sabic, "icl": res.bic + 2 * en,
        "entropy_r2": res.entropy_r2 if k > 1 else np.nan,
        "smallest_share": float(np.min(res.fit_state.share_jacobian()[0])),
        "starts_at_best": report.share_reached_best,
        "best_start": origins[report.best_index],
        "n_starts": report.n_starts, "converged": res.converged,
        "warnings": ", ".join(caught),
    }


def select_classes(formula, data: pd.DataFrame | None = None, *, groups: str | None = None,
                   panel: str | None = None, k_classes: Iterable[int] = range(1, 7),
                   invariant: str | None = None, membership: str | None = None,
                   weights: str | None = None, availability: str | None = None,
                   n_starts: int = 10, seed: int | np.random.Generator | None = None,
                   warm_start: bool = True, n_split: int = 2, progress: bool | None = None,
                   builder: Callable[..., Any] | None = None, cv: int | None = None,
                   **fit_kwds) -> ClassSelection:
    """Fit latent-class logits over a range of K and tabulate the information criteria.

    Parameters
    ----------
    formula : str, callable or list of models
        The utility formula (as in ``MixedMultinomialLogit.from_formula``;
        needs ``builder``), or a callable ``k -> model`` building the K-class
        model (array data, counts via ``MixedMultinomialLogit.from_counts``),
        or a list of models with different ``k_classes`` (``k_classes`` is then
        taken from them).
    data : DataFrame, optional
        Long-format data (formula interface).
    groups, panel, invariant, membership, weights, availability : str, optional
        As in :meth:`MixedMultinomialLogit.from_formula`.
    k_classes : iterable of int
        The numbers of classes to fit, e.g. ``range(1, 7)``. A bare number is
        refused (``k_classes=3``: pass ``range(1, 4)``, or ``[3]``).
    n_starts : int
        Total starts per K > 1: up to ``n_split`` split starts of the K-1 fit
        (at most ``n_starts - 1``), the rest fresh starts of the likelihood's
        default strategy. K = 1 uses one start (its likelihood is concave).
    seed : int or numpy.random.Generator, optional
        Seed of every random choice.
    warm_start : bool
        Use split starts from the K-1 fit (needs K-1 in ``k_classes``).
    n_split : int
        How many of the largest classes to split (one start each).
    progress : bool, optional
        Progress bar over K (default: when interactive).
    builder : callable, optional
        ``builder(formula, data, k_classes=k, groups=..., panel=..., invariant=...,
        membership=..., weights=..., availability=...) -> model``, for a formula;
        ``mixlogit.select_classes`` passes ``MixedMultinomialLogit.from_formula``.
    cv : int, optional
        Also choose K by ``cv``-fold cross-validation over whole decision
        makers (``panel``, else ``groups``), dealt into folds by ``seed``: each
        K is refitted on ``cv - 1`` folds (the same start sequence as the full
        fits) and scored by the log-likelihood of the left-out fold's choices.
        Adds the columns ``cv_loglike`` (sum over all decision makers, each
        held out once), ``cv_se`` (its standard error, ``sqrt(N)`` times the
        standard deviation of the per-decision-maker contributions) and
        ``cv_se_diff`` (the standard error of ``cv_loglike`` minus that of the
        best K, paired over decision makers); use ``best("cv")``. Needs a formula
        with ``data``: the training and held-out models are built on the
        folds' rows by ``builder``, so a formula term whose coding depends on
        the rows (patsy's ``center()``/``standardize()``, sampling weights
        rescaled to mean 1) is recomputed on each subset. Costs ``cv`` more
        selections. The fits on all rows are the same with or without ``cv``.
    **fit_kwds
        ``tol``, ``maxiter``, ``n_jobs``, ``fixed``, ``cov_type`` for every fit.

    Returns
    -------
    ClassSelection
        ``.table`` (one row per K), ``.results`` (K -> results), ``.best()``,
        ``.plot()``.

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.selection import select_classes
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=150, n_situations=6, n_alternatives=3,
    ...     betas=[[2.0, -1.0], [-1.0, 1.5]], shares=[0.6, 0.4], seed=0)
    >>> sel = select_classes("choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...                      k_classes=range(1, 4), n_starts=2, seed=0,
    ...                      builder=mx.MixedMultinomialLogit.from_formula)
    >>> sel.best("bic")
    2
    >>> list(sel.table.columns[:4])
    ['llf', 'n_params', 'aic', 'bic']

    Cross-validated choice of K:

    >>> sel = select_classes("choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...                      k_classes=[1, 2], n_starts=2, seed=0, cv=3,
    ...                      builder=mx.MixedMultinomialLogit.from_formula)
    >>> sel.best("cv")
    2
    """
    allowed = {"tol", "maxiter", "n_jobs", "fixed", "cov_type"}
    unknown = sorted(set(fit_kwds) - allowed)
    if unknown:
        raise SpecificationError(f"select_classes(): unsupported fit options {unknown}; "
                                 f"allowed {sorted(allowed)}")
    if isinstance(n_starts, bool) or not isinstance(n_starts, (numbers.Integral, np.integer)) \
            or n_starts < 1:
        raise SpecificationError(f"select_classes(): n_starts must be a whole number >= 1, got "
                                 f"{n_starts!r}")
    model_kwds = {"groups": groups, "panel": panel, "invariant": invariant,
                  "membership": membership, "weights": weights, "availability": availability}
    build, given_ks = _model_source(formula, data, builder, model_kwds)
    ks = given_ks if given_ks is not None and k_classes == range(1, 7) else _check_k_list(k_classes)
    rng = np.random.default_rng(seed)
    cv_plan = None
    if cv is not None:
        # the folds draw from a spawned stream: the fits on all rows are those without cv=
        cv_plan = plan_folds(formula, data, builder, model_kwds, cv, rng.spawn(1)[0])
    fits, rows = _fit_path(build, ks, rng, n_starts=int(n_starts), warm_start=warm_start,
                           n_split=int(n_split), fit_kwds=fit_kwds, progress=progress,
                           source="builder" if builder is not None else "the model source")
    table = pd.DataFrame(rows).set_index("k_classes")
    if cv_plan is None:
        return ClassSelection(table=table, results=fits)

    def path(build_k, fold_rng):
        return _fit_path(build_k, ks, fold_rng, n_starts=int(n_starts), warm_start=warm_start,
                         n_split=int(n_split), fit_kwds=fit_kwds, progress=False,
                         source="builder")[0]

    cv_out = cross_validate(cv_plan, ks, path, progress=progress)
    table["cv_loglike"] = cv_out.loglike.reindex(table.index)
    table["cv_se"] = cv_out.se.reindex(table.index)
    table["cv_se_diff"] = cv_out.se_diff.reindex(table.index)
    return ClassSelection(table=table, results=fits, cv_folds=cv_out.folds,
                          cv_loglike_obs=cv_out.loglike_obs, cv_params=cv_out.params)


def _fit_path(build: Callable[[int], Any], ks: list[int], rng, *, n_starts: int,
              warm_start: bool, n_split: int, fit_kwds: Mapping[str, Any],
              progress: bool | None, source: str) -> tuple[dict, list[dict]]:
    """Fit every K in turn (split starts from the K-1 fit); the fits and the table rows."""
    rows, fits = [], {}
    previous = None
    for k in progress_bar(ks, total=len(ks), show=progress, desc="K"):
        model = build(k)
        _check_model(model, k, source)
        starts = _starts_for(model, k, previous if previous is not None
                             and previous.k_classes == k - 1 else None, n_starts=n_starts,
                             rng=rng, warm_start=warm_start, n_split=n_split,
                             fixed=fit_kwds.get("fixed"))
        res, caught = _fit_one(model, starts, fit_kwds)
        fits[k] = previous = res
        rows.append(_table_row(k, res, [origin for origin, _ in starts], caught))
    return fits, rows
