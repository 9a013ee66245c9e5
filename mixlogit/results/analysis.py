"""Analyses of a fit, as results methods: bootstrap, diagnostics, post-estimation, plots.

:class:`AnalysisMixin` gives :class:`~mixlogit.MixedMultinomialLogitResults`
its methods that hand the (labelled) results to
:mod:`mixlogit.bootstrap`, :mod:`mixlogit.diagnostics`,
:mod:`mixlogit.results.postestimation` and :mod:`mixlogit.results.plotting`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..bootstrap import bootstrap as run_bootstrap
from ..diagnostics import entropy_r2, identifiability
from .plotting import (
    plot_class_shares,
    plot_coefficient_panels,
    plot_coefficients,
    plot_posteriors,
    plot_wtp,
)
from .postestimation import classification_table, elasticities, individual_params, wtp
from .state import FitState

__all__ = ["AnalysisMixin"]


class AnalysisMixin:
    """Methods that run an analysis module on the labelled results (mixed into the results)."""

    fit_state: FitState
    _memo: dict[str, Any]
    _labelled: Callable[[], Any]
    _require_data: Callable[[str], None]

    # -------------------------------------------------------------- bootstrap
    def bootstrap(self, n_reps: int = 200, *, seed: int | np.random.Generator | None = None,
                  n_jobs: int = 1, cluster=None, align: str = "params", extra_starts: int = 0,
                  backend: str = "processes", progress: bool | None = None,
                  n_starts: int | None = None):
        """Label-aligned bootstrap: resample decision makers, refit, align classes.

        Parameters
        ----------
        n_reps : int
            Number of replicates.
        seed : int or numpy.random.Generator, optional
            Seed of the resampling; the same seed gives the same draws.
        n_jobs : int
            Parallel workers (``-1``: every core).
        cluster : str or array_like, optional
            Resample clusters (a column constant within decision makers, or one
            label per decision maker) instead of decision makers.
        align : str
            ``"params"`` or ``"posteriors"``; see :mod:`mixlogit.bootstrap`.
        extra_starts : int
            Random-partition starts per replicate besides the warm start at the
            estimate.
        backend : str
            ``"processes"`` (default) or ``"threads"``, used when ``n_jobs > 1``.
        progress : bool, optional
            Progress bar (default: when interactive).
        n_starts : int, optional
            The total number of starts per replicate, ``1 + extra_starts``;
            give it or ``extra_starts``, not both.

        Returns
        -------
        mixlogit.bootstrap.BootstrapResults
            Aligned and unaligned draws, standard errors, percentile intervals,
            the share of failed and doubtfully aligned replicates. Use
            ``get_robustcov_results("bootstrap", results=boot)`` to carry its
            covariance in a results object without refitting again.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> boot = res.bootstrap(10, seed=0)
        >>> boot.share_failed
        0.0
        """
        self._require_data("bootstrap()")
        return run_bootstrap(self._labelled(), n_reps, seed=seed, n_jobs=n_jobs, cluster=cluster, align=align,
                             extra_starts=extra_starts, backend=backend, progress=progress,
                             n_starts=n_starts)

    # ------------------------------------------------------------ diagnostics
    def identifiability(self, *, n_flat: int = 3, check_restarts: bool = True,
                        emit_warning: bool = True):
        """Identifiability diagnostics: a report that prints and converts to a frame.

        Parameters
        ----------
        n_flat : int
            Number of flattest information directions to keep.
        check_restarts : bool
            Polish and compare the solutions of the starts that reached the best
            log-likelihood.
        emit_warning : bool
            Issue an IdentificationWarning when an item fails.

        Returns
        -------
        mixlogit.diagnostics.IdentifiabilityReport
            Items with ``pass`` / ``warn`` / ``fail`` and their thresholds; see
            :mod:`mixlogit.diagnostics` for every check.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=200, n_situations=8, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=3, seed=0)
        >>> res.identifiability().passed
        True
        """
        self._require_data("identifiability()")
        return identifiability(self._labelled(), n_flat=n_flat, check_restarts=check_restarts,
                               emit_warning=emit_warning)

    @property
    def entropy_r2(self) -> float:
        """Entropy R^2 of the posterior class probabilities (NaN for one class)."""

        if "entropy_r2" not in self._memo:
            self._memo["entropy_r2"] = entropy_r2(self.fit_state.evaluation.posteriors,
                                                  self.fit_state.likelihood.weights)
        return self._memo["entropy_r2"]

    # -------------------------------------------------------- post-estimation
    def wtp(self, price: str, attributes=None, *, alpha: float = 0.05) -> pd.DataFrame:
        """Willingness to pay per class and for the population (delta-method errors).

        Parameters
        ----------
        price : str
            The price (cost) term; WTP for attribute a is ``-c_a / c_price``.
        attributes : list of str, optional
            Terms to value (default: every other utility term).
        alpha : float
            1 - confidence level.

        Returns
        -------
        DataFrame
            Index ``(class, attribute)`` with ``population`` the share-weighted
            mean of the class values; columns ``wtp``, ``bse``, ``z``,
            ``pvalue``, ``lower``, ``upper``. See :mod:`mixlogit.results.postestimation`.

        Examples
        --------
        >>> import mixlogit as mx
        >>> df = mx.datasets.electricity.load()
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ pf + cl + loc - 1", df, groups="chid", panel="id",
        ...     k_classes=1).fit()
        >>> w = res.wtp(price="pf")
        >>> bool(abs(w.loc[("class1", "loc"), "wtp"]
        ...          + res.params["class1:loc"] / res.params["class1:pf"]) < 1e-12)
        True
        """
        self._require_data("wtp()")
        return wtp(self._labelled(), price, attributes, alpha=alpha)

    def elasticities(self, attribute: str, *, alternative=None, kind: str = "matrix"
                     ) -> pd.DataFrame:
        """Own and cross elasticities of the choice probabilities, per class and mixture.

        Parameters
        ----------
        attribute : str
            Utility term that changes.
        alternative : str or array_like, optional
            Alternative label per row (column name or array); needed for
            ``kind="matrix"``.
        kind : str
            ``"matrix"`` (mean elasticity matrices indexed ``(class, changed)``,
            columns the responding alternatives) or ``"own"`` (own elasticity of
            every row).

        Returns
        -------
        DataFrame
            See :func:`mixlogit.results.postestimation.elasticities`.

        Examples
        --------
        >>> import mixlogit as mx
        >>> df = mx.datasets.electricity.load()
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ pf + cl + loc - 1", df, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> df["alt"] = df.groupby("chid").cumcount() + 1
        >>> E = res.elasticities("pf", alternative="alt")
        >>> E.loc["population"].shape
        (4, 4)
        """
        self._require_data("elasticities()")
        return elasticities(self._labelled(), attribute, alternative=alternative, kind=kind)

    def classification_table(self) -> pd.DataFrame:
        """Modal class assignment against posterior probabilities (with AvePP).

        Returns
        -------
        DataFrame
            See :func:`mixlogit.results.postestimation.classification_table`.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> tab = res.classification_table()
        >>> list(tab.columns)
        ['class1', 'class2', 'n_assigned', 'avepp']
        >>> float(tab.loc["total", "n_assigned"])
        100.0
        """
        self._require_data("classification_table()")
        return classification_table(self._labelled())

    def individual_params(self) -> pd.DataFrame:
        """Posterior-weighted coefficients of each decision maker, ``sum_k h_nk c_k``.

        Returns
        -------
        DataFrame
            One row per decision maker, one column per utility term.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> res.individual_params().shape
        (100, 2)
        """
        self._require_data("individual_params()")
        return individual_params(self._labelled())

    def plot_class_shares(self, *, alpha: float = 0.05, ax=None, bootstrap=None):
        """Bar chart of the class shares with confidence intervals.

        Parameters
        ----------
        alpha : float
            1 - confidence level (delta method, or bootstrap percentiles).
        ax : matplotlib Axes, optional
        bootstrap : BootstrapResults, optional
            Use its percentile intervals instead of the delta method.

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
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> ax = res.plot_class_shares()
        >>> len(ax.patches)
        2
        """
        return plot_class_shares(self._labelled(), alpha=alpha, ax=ax, bootstrap=bootstrap)

    def plot_coefficients(self, *, alpha: float = 0.05, terms=None, ax=None):
        """Coefficients by class with confidence intervals, one marker per class.

        Parameters
        ----------
        alpha : float
            1 - confidence level.
        terms : list of str, optional
            Utility terms to show (default all).
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
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> ax = res.plot_coefficients()
        >>> [t.get_text() for t in ax.get_yticklabels()]
        ['x1', 'x2']
        """
        return plot_coefficients(self._labelled(), alpha=alpha, terms=terms, ax=ax)

    def plot_coefficient_panels(self, *, alpha: float = 0.05, terms=None, standardize=False,
                                ncols: int | None = None, figsize=None, fig=None):
        """Faceted coefficient plot, one panel per term; see
        :func:`mixlogit.results.plotting.plot_coefficient_panels`.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> [ax.get_title() for ax in res.plot_coefficient_panels(standardize="se").axes]
        ['x1', 'x2']
        """
        return plot_coefficient_panels(self._labelled(), alpha=alpha, terms=terms,
                                       standardize=standardize, ncols=ncols, figsize=figsize,
                                       fig=fig)

    def plot_wtp(self, price: str, *, attributes=None, alpha: float = 0.05,
                 ncols: int | None = None, figsize=None, fig=None):
        """Willingness to pay per class and for the population, with intervals; see
        :func:`mixlogit.results.plotting.plot_wtp`.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import mixlogit as mx
        >>> df = mx.datasets.electricity.load()
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ pf + cl + loc - 1", df, groups="chid", panel="id",
        ...     k_classes=1).fit()
        >>> [ax.get_title() for ax in res.plot_wtp("pf").axes]
        ['cl', 'loc']
        """
        return plot_wtp(self._labelled(), price, attributes=attributes, alpha=alpha,
                        ncols=ncols, figsize=figsize, fig=fig)

    def plot_posteriors(self, *, kind: str = "max", bins: int = 20, ax=None, fig=None,
                        figsize=None):
        """Histograms of the posterior class probabilities; see
        :func:`mixlogit.results.plotting.plot_posteriors`.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> res.plot_posteriors().get_xlabel()
        'largest posterior class probability'
        """
        return plot_posteriors(self._labelled(), kind=kind, bins=bins, ax=ax, fig=fig,
                               figsize=figsize)
