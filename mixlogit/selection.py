"""Choosing the number of classes: fit K = 1..Kmax, tabulate information criteria.

:func:`select_classes` fits every K with fresh random-partition starts **and**
warm starts built from the K-1 solution by splitting one of its classes
(ALGORITHMS.md section 6), and returns a :class:`ClassSelection` whose table
holds, per K: the log-likelihood, the number of free parameters ``d``, AIC,
BIC and CAIC with ``N`` = decision makers (sum of frequency weights, as lclogit2
does), the sample-size adjusted BIC, ICL (BIC plus twice the classification
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
exact for small heterogeneity). Both halves get half of c's share.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from .exceptions import SpecificationError

__all__ = ["ClassSelection", "select_classes", "split_class_starts"]


def split_class_starts(results, *, n_classes_to_split: int = 2) -> list[tuple[str, np.ndarray]]:
    """Warm starts for K + 1 classes built from a K-class fit by splitting a class.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
        The K-class fit (without membership covariates other than the constant
        the membership coefficients of the new class copy the split class's).
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
    lik = results.fit_state.likelihood
    lay = lik.layout
    data = lik.data
    K = lay.k_classes
    L = lay.k_exog
    theta = results.params.to_numpy()
    u = lay.unpack(theta)
    h = results.fit_state.evaluation.posteriors
    w = data.weights
    shares = results.class_shares.to_numpy()
    from .diagnostics import class_probabilities
    from .params import ParamLayout

    new_lay = ParamLayout(K + 1, lay.exog_names, lay.invariant_names, lay.membership_names)
    P = class_probabilities(data, u.class_coefficients)
    X = data.design[:, :L]
    starts = []
    for c in np.argsort(-shares)[:n_classes_to_split]:
        c = int(c)
        wc = w * h[:, c]
        n_c = wc.sum()
        Pc = P[:, c]
        Xbar = np.add.reduceat(X * Pc[:, None], data.situation_start, axis=0)
        dev = X[data.chosen_row] - Xbar
        # per-decision-maker class scores
        S = np.add.reduceat(dev, data.decision_maker_start, axis=0)
        cs = wc[data.decision_maker_of_situation]
        info = (X * (cs[data.situation_of_row] * Pc)[:, None]).T @ X - (Xbar * cs[:, None]).T @ Xbar
        B = (S * wc[:, None]).T @ S
        step = _split_step(info, B, n_c)
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
    from scipy.linalg import eigh

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

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> sel = mx.select_classes("choice ~ x1 + x2 - 1", sim.data, groups="chid",
    ...                         panel="id", k_classes=[1, 2], n_starts=2, seed=0)
    >>> sel.table.index.tolist()
    [1, 2]
    """

    table: pd.DataFrame
    results: dict = field(repr=False)

    def best(self, criterion: str = "bic") -> int:
        """The K with the smallest criterion.

        Parameters
        ----------
        criterion : str
            ``"aic"``, ``"bic"``, ``"caic"``, ``"sabic"`` or ``"icl"``.

        Returns
        -------
        int

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> sel = mx.select_classes("choice ~ x1 + x2 - 1", sim.data, groups="chid",
        ...                         panel="id", k_classes=[1, 2], n_starts=2, seed=0)
        >>> sel.best("bic")
        2
        """
        if criterion not in ("aic", "bic", "caic", "sabic", "icl"):
            raise SpecificationError(f"criterion={criterion!r}; use aic, bic, caic, sabic or icl")
        return int(self.table[criterion].idxmin())

    def plot(self, criteria=("aic", "bic", "caic", "sabic"), *, ax=None):
        """Criteria against K; stars mark each minimum.

        Parameters
        ----------
        criteria : sequence of str
            Columns of :attr:`table` to draw.
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
        >>> sel = mx.select_classes("choice ~ x1 + x2 - 1", sim.data, groups="chid",
        ...                         panel="id", k_classes=[1, 2], n_starts=2, seed=0)
        >>> sel.plot().get_xlabel()
        'number of classes K'
        """
        from .results.plotting import plot_criteria

        return plot_criteria(self.table, criteria=criteria, ax=ax)

    def __str__(self) -> str:
        cols = ["llf", "n_params", "aic", "bic", "caic", "sabic", "icl", "entropy_r2",
                "smallest_share", "starts_at_best", "best_start"]
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            body = self.table[cols].round(4).to_string()
        return (f"{body}\nBest K: BIC {self.best('bic')}, CAIC {self.best('caic')}, "
                f"AIC {self.best('aic')}, SABIC {self.best('sabic')}, ICL {self.best('icl')}")

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return self.table._repr_html_()

    def __repr__(self) -> str:
        return f"<ClassSelection: K = {list(self.table.index)}, best by BIC {self.best('bic')}>"


def _fit_one(model, k: int, previous, *, n_starts: int, rng, warm_start: bool,
             n_split: int, fit_kwds: Mapping[str, Any]):
    from .likelihood import estimate
    from .results import MixedMultinomialLogitResults
    from .starts import make_starts

    lik = model.likelihood(fit_kwds.get("fixed"))
    starts = make_starts(lik, "partition", 1 if k == 1 else n_starts, rng)
    if warm_start and previous is not None and k > 1:
        starts = starts + split_class_starts(previous, n_classes_to_split=n_split)
    est_kwds = {key: fit_kwds[key] for key in ("tol", "maxiter", "n_jobs") if key in fit_kwds}
    est = estimate(lik, starts, progress=False, **est_kwds)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        res = MixedMultinomialLogitResults.from_estimate(
            model, lik, est, cov_type=fit_kwds.get("cov_type", "oim"), cov_kwds={}, method="em")
    caught = sorted({type(r.message).__name__ for r in record})
    return res, caught


def select_classes(formula, data: pd.DataFrame | None = None, *, groups: str | None = None,
                   panel: str | None = None, k_classes: Iterable[int] = range(1, 7),
                   invariant: str | None = None, membership: str | None = None,
                   weights: str | None = None, availability: str | None = None,
                   n_starts: int = 10, seed: int | np.random.Generator | None = None,
                   warm_start: bool = True, n_split: int = 2, progress: bool | None = None,
                   **fit_kwds) -> ClassSelection:
    """Fit latent-class logits over a range of K and tabulate the information criteria.

    Parameters
    ----------
    formula : str or callable
        The utility formula (as in ``MixedMultinomialLogit.from_formula``), or a
        callable ``k -> MixedMultinomialLogit`` building the K-class model (for
        array data).
    data : DataFrame, optional
        Long-format data (formula interface).
    groups, panel, invariant, membership, weights, availability : str, optional
        As in :meth:`MixedMultinomialLogit.from_formula`.
    k_classes : iterable of int
        The numbers of classes to fit, e.g. ``range(1, 7)``.
    n_starts : int
        Fresh random-partition starts per K (besides the split starts).
    seed : int or numpy.random.Generator, optional
        Seed of every random choice.
    warm_start : bool
        Add starts for K built by splitting classes of the K-1 fit (needs K-1 in
        ``k_classes``).
    n_split : int
        How many of the largest classes to split (one start each).
    progress : bool, optional
        Progress bar over K (default: when interactive).
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
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=150, n_situations=6, n_alternatives=3,
    ...     betas=[[2.0, -1.0], [-1.0, 1.5]], shares=[0.6, 0.4], seed=0)
    >>> sel = mx.select_classes("choice ~ x1 + x2 - 1", sim.data, groups="chid",
    ...                         panel="id", k_classes=range(1, 4), n_starts=2, seed=0)
    >>> sel.best("bic")
    2
    >>> list(sel.table.columns[:4])
    ['llf', 'n_params', 'aic', 'bic']
    """
    allowed = {"tol", "maxiter", "n_jobs", "fixed", "cov_type"}
    unknown = sorted(set(fit_kwds) - allowed)
    if unknown:
        raise SpecificationError(f"select_classes: unsupported fit options {unknown}; "
                                 f"allowed {sorted(allowed)}")
    ks = sorted({int(k) for k in k_classes})
    if not ks or ks[0] < 1:
        raise SpecificationError(f"k_classes must be whole numbers >= 1, got {list(k_classes)}")
    if callable(formula):
        build: Callable[[int], Any] = formula
    else:
        if data is None or groups is None:
            raise SpecificationError("select_classes with a formula needs data= and groups=")
        from .model import MixedMultinomialLogit  # deferred: selection never imports model eagerly

        def build(k):
            return MixedMultinomialLogit.from_formula(
                formula, data, groups=groups, panel=panel, k_classes=k, invariant=invariant,
                membership=membership, weights=weights, availability=availability)
    rng = np.random.default_rng(seed)
    from .em import _progress

    rows, fits = [], {}
    previous = None
    for k in _progress(ks, len(ks), progress, "K"):
        model = build(k)
        res, caught = _fit_one(model, k, previous if previous is not None and
                               previous.k_classes == k - 1 else None, n_starts=int(n_starts),
                               rng=rng, warm_start=warm_start, n_split=int(n_split),
                               fit_kwds=fit_kwds)
        fits[k] = res
        previous = res
        h = res.fit_state.evaluation.posteriors
        w = res.model.choice_data.weights
        with np.errstate(divide="ignore", invalid="ignore"):
            en = float(-(w[:, None] * np.where(h > 0, h * np.log(h), 0.0)).sum())
        report = res.start_report
        rows.append({
            "k_classes": k, "llf": res.llf, "n_params": res.df_modelwc, "aic": res.aic,
            "bic": res.bic, "caic": res.caic, "sabic": res.sabic, "icl": res.bic + 2 * en,
            "entropy_r2": res.entropy_r2 if k > 1 else np.nan,
            "smallest_share": float(res.class_shares.min()),
            "starts_at_best": report.share_reached_best,
            "best_start": report.table["origin"].iloc[report.best_index],
            "n_starts": report.n_starts, "converged": res.converged,
            "warnings": ", ".join(caught),
        })
    table = pd.DataFrame(rows).set_index("k_classes")
    return ClassSelection(table=table, results=fits)
