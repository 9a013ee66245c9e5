"""Results of a latent-class logit fit: labelled estimates, inference, post-estimation."""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.base.model import LikelihoodModelResults

from ..covariance import covariance
from ..em import StartReport
from ..exceptions import ConvergenceWarning, EmptyClassWarning, SpecificationError, StartsWarning, warn
from ..likelihood import Estimate, MixtureLikelihood
from ..bootstrap import bootstrap as run_bootstrap
from ..diagnostics import entropy_r2, identifiability
from .plotting import plot_class_shares, plot_coefficients
from .postestimation import classification_table, elasticities, individual_params, wtp
from .state import FitState
from .summary import build_summary

__all__ = ["MixedMultinomialLogitResults"]

#: shares below this, or fewer expected members than MIN_CLASS_SIZE, raise EmptyClassWarning
MIN_SHARE = 1e-3
MIN_CLASS_SIZE = 5.0


class MixedMultinomialLogitResults(LikelihoodModelResults):
    """Estimates of a :class:`~mixlogit.MixedMultinomialLogit` fit.

    Every estimate is a labelled pandas object: ``params`` is one vector with
    names ``class1:pf``, ``pf`` (invariant terms) and
    ``membership:class2:Intercept``. Classes are in canonical order (largest
    share first) unless fixed class-specific or membership terms tie them to
    their numbering.

    Construct through :meth:`MixedMultinomialLogit.fit`.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
    >>> res = model.fit(n_starts=2, seed=0)
    >>> list(res.params.index[:3])
    ['class1:x1', 'class1:x2', 'class2:x1']
    >>> bool(res.class_shares.sum().round(12) == 1.0)
    True
    """

    @classmethod
    def from_estimate(cls, model, likelihood: MixtureLikelihood, est: Estimate, *, cov_type: str,
                      cov_kwds: dict, method: str, seed=None,
                      options: dict | None = None) -> "MixedMultinomialLogitResults":
        """Results from an estimate (internal): canonical class order, covariance, warnings."""
        lay = model.layout
        params = est.params
        ev = est.evaluation
        reordered = False
        if lay.k_classes > 1 and lay.classes_exchangeable(likelihood.fixed_mask):
            share = likelihood.weights @ np.exp(ev.log_shares)
            order = np.argsort(-share, kind="stable")
            if np.any(order != np.arange(lay.k_classes)):
                params = lay.permute(params, order)
                ev = likelihood.evaluate(params, order=2)
                reordered = True
        state = FitState(likelihood=likelihood, estimate=est, evaluation=ev, reordered=reordered,
                         method=method, options=dict(options or {}))
        res = cls(model, state)
        res._set_covariance(cov_type, cov_kwds, seed=seed)
        res._emit_warnings()
        return res

    def __init__(self, model, fit_state: FitState):
        self.fit_state = fit_state
        params = fit_state.params
        super().__init__(model, np.asarray(params, float), normalized_cov_params=None)
        self._names = model.layout.param_names
        self.params = pd.Series(np.asarray(params, float), index=self._names, name="params")

    # -------------------------------------------------------------- covariance
    def _set_covariance(self, cov_type: str, cov_kwds: dict, seed=None) -> None:
        free = self.fit_state.likelihood.free
        cov_kwds = dict(cov_kwds)
        if cov_type == "bootstrap":
            boot = cov_kwds.pop("results", None)
            if boot is None:
                boot = run_bootstrap(self, n_reps=int(cov_kwds.pop("n_reps", 200)),
                                     seed=cov_kwds.pop("seed", seed), **cov_kwds)
            elif cov_kwds:
                raise SpecificationError(
                    f"cov_kwds {sorted(cov_kwds)} cannot be combined with a precomputed "
                    "bootstrap (results=)")
            cov_free = boot.cov_params().to_numpy()[np.ix_(free, free)]
            self._bootstrap = boot
        else:
            if cov_type == "cluster" and isinstance(cov_kwds.get("groups"), str):
                cov_kwds["groups"] = self.decision_maker_column(cov_kwds["groups"])
            cov_free = covariance(cov_type, self.fit_state.covariance_inputs, **cov_kwds)
        d = len(free)
        cov = np.zeros((d, d))
        cov[np.ix_(free, free)] = cov_free
        self.normalized_cov_params = cov
        self.cov_type = cov_type
        self.cov_kwds = cov_kwds
        for name in ("bse", "tvalues", "pvalues"):
            self.__dict__.pop(name, None)

    def decision_maker_column(self, column: str) -> np.ndarray:
        """One value per decision maker of a data column constant within decision makers.

        Parameters
        ----------
        column : str
            A column of the formula-built model's DataFrame.

        Returns
        -------
        ndarray, shape (n_decision_makers,)

        Examples
        --------
        >>> import mixlogit as mx
        >>> df = mx.datasets.electricity.load()
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ pf + cl - 1", df, groups="chid", panel="id", k_classes=1)
        >>> model.fit().decision_maker_column("id")[:3]
        array([1, 2, 3])
        """
        frame = getattr(self.model, "data_frame", None)
        if frame is None or column not in frame.columns:
            raise SpecificationError(
                f"cluster groups {column!r} is not a column of the model's data; pass one label "
                "per decision maker instead"
            )
        d = self.model.choice_data
        first_row = d.row_index[d.situation_start[d.decision_maker_start]]
        values = frame[column].to_numpy()
        labels = values[first_row]
        rows_dm = d.decision_maker_of_row
        if np.any(values[d.row_index] != labels[rows_dm]):
            raise SpecificationError(
                f"cluster groups {column!r} vary within decision makers; clusters must nest them"
            )
        return labels

    def get_robustcov_results(self, cov_type: str = "robust", **cov_kwds
                              ) -> "MixedMultinomialLogitResults":
        """The same estimates with another covariance estimator, without refitting.

        Parameters
        ----------
        cov_type : str
            ``"oim"``, ``"opg"``, ``"robust"``, ``"cluster"`` or ``"bootstrap"``.
        **cov_kwds
            Options of the estimator (``groups=`` for ``"cluster"``).

        Returns
        -------
        MixedMultinomialLogitResults

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> res = model.fit(n_starts=2, seed=0)
        >>> robust = res.get_robustcov_results("robust")
        >>> robust.cov_type, bool((robust.params == res.params).all())
        ('robust', True)
        """
        new = copy.copy(self)
        new.__dict__ = dict(self.__dict__)
        new._cache = {}
        new._set_covariance(cov_type, dict(cov_kwds))
        return new

    # -------------------------------------------------------------- bootstrap
    def bootstrap(self, n_reps: int = 200, *, seed: int | np.random.Generator | None = None,
                  n_jobs: int = 1, cluster=None, align: str = "params", n_starts: int = 0,
                  backend: str = "processes", progress: bool | None = None):
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
        n_starts : int
            Extra random-partition starts per replicate (besides the estimate).
        backend : str
            ``"processes"`` (default) or ``"threads"``, used when ``n_jobs > 1``.
        progress : bool, optional
            Progress bar (default: when interactive).

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
        return run_bootstrap(self, n_reps, seed=seed, n_jobs=n_jobs, cluster=cluster, align=align,
                             n_starts=n_starts, backend=backend, progress=progress)

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
        return identifiability(self, n_flat=n_flat, check_restarts=check_restarts,
                               emit_warning=emit_warning)

    @property
    def entropy_r2(self) -> float:
        """Entropy R^2 of the posterior class probabilities (NaN for one class)."""

        return entropy_r2(self.fit_state.evaluation.posteriors, self.model.choice_data.weights)

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
        return wtp(self, price, attributes, alpha=alpha)

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
        return elasticities(self, attribute, alternative=alternative, kind=kind)

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
        return classification_table(self)

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
        return individual_params(self)

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
        return plot_class_shares(self, alpha=alpha, ax=ax, bootstrap=bootstrap)

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
        return plot_coefficients(self, alpha=alpha, terms=terms, ax=ax)

    # -------------------------------------------------------------- warnings
    def _emit_warnings(self) -> None:
        est = self.fit_state.estimate
        if not self.converged:
            warn(
                "the estimate did not converge (EM reached maxiter and the Newton polish did "
                "not meet its criterion); raise maxiter, try other starts, or check "
                "results.identifiability()", ConvergenceWarning)
        if self.k_classes > 1 and est.report.n_starts > 1 and est.report.n_reached_best == 1:
            warn(
                f"only 1 of {est.report.n_starts} starts reached the best log-likelihood "
                f"({est.report.optima[0]:.4f}); it may not be the global maximum: use more "
                "starts (n_starts) or another start strategy", StartsWarning)
        if self.k_classes > 1:
            shares = self.class_shares
            size = shares * self.model.choice_data.weights.sum()
            small = shares.index[(shares < MIN_SHARE) | (size < MIN_CLASS_SIZE)]
            if len(small):
                warn(
                    f"{list(small)} have shares {shares[small].round(5).tolist()} (expected "
                    f"{size[small].round(2).tolist()} decision makers): a class has (almost) "
                    "emptied; fewer classes are probably enough", EmptyClassWarning)

    # ------------------------------------------------------------ inference
    @property
    def k_classes(self) -> int:
        return self.model.k_classes

    @property
    def fixed(self) -> pd.Series:
        """Boolean flag of fixed parameters."""
        return pd.Series(self.fit_state.likelihood.fixed_mask, index=self._names, name="fixed")

    @property
    def df_modelwc(self) -> int:
        """Number of estimated (free) parameters."""
        return int(self.fit_state.likelihood.free.sum())

    def cov_params(self, r_matrix=None, column=None, scale=None, cov_p=None, other=None):
        """Covariance of the estimates (a labelled DataFrame when called without arguments).

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> res = model.fit(n_starts=2, seed=0)
        >>> cov = res.cov_params()
        >>> cov.shape, bool(np.allclose(np.sqrt(np.diag(cov)), res.bse))
        ((5, 5), True)
        """
        if r_matrix is None and column is None and other is None and cov_p is None:
            return pd.DataFrame(self.normalized_cov_params, index=self._names, columns=self._names)
        return super().cov_params(r_matrix=r_matrix, column=column, scale=scale, cov_p=cov_p,
                                  other=other)

    @property
    def bse(self) -> pd.Series:
        """Standard errors; NaN for fixed parameters."""
        se = np.sqrt(np.clip(np.diag(self.normalized_cov_params), 0, None))
        se[self.fit_state.likelihood.fixed_mask] = np.nan
        return pd.Series(se, index=self._names, name="bse")

    @property
    def tvalues(self) -> pd.Series:
        """z statistics (NaN for fixed parameters)."""
        return (self.params / self.bse).rename("z")

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of the z statistics."""
        return pd.Series(2 * stats.norm.sf(np.abs(self.tvalues.to_numpy())), index=self._names,
                         name="pvalues")

    def conf_int(self, alpha: float = 0.05, cols=None) -> pd.DataFrame:
        """Wald confidence intervals, a DataFrame with columns ``lower`` and ``upper``.

        Parameters
        ----------
        alpha : float
            1 - confidence level.
        cols : None
            Accepted for statsmodels compatibility; must be None.

        Returns
        -------
        DataFrame

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> res = model.fit(n_starts=2, seed=0)
        >>> ci = res.conf_int(alpha=0.1)
        >>> list(ci.columns), bool((ci["lower"] < res.params).all())
        (['lower', 'upper'], True)
        """
        if cols is not None:
            raise SpecificationError("conf_int(cols=...) is not supported; select rows of the frame")
        q = stats.norm.ppf(1 - alpha / 2)
        return pd.DataFrame({"lower": self.params - q * self.bse, "upper": self.params + q * self.bse})

    # ---------------------------------------------------------------- fit
    @property
    def llf(self) -> float:
        return self.fit_state.evaluation.llf

    @property
    def llnull(self) -> float:
        """Log-likelihood with all utility coefficients zero: every alternative equally likely."""
        d = self.model.choice_data
        return float(d.weights[d.decision_maker_of_situation] @ -np.log(d.n_alternatives))

    @property
    def prsquared(self) -> float:
        """McFadden's pseudo R-squared, 1 - llf / llnull."""
        return 1.0 - self.llf / self.llnull

    @property
    def n_effective(self) -> float:
        """Number of decision makers (sum of frequency weights): the N of BIC and CAIC."""
        return float(self.model.choice_data.weights.sum())

    @property
    def aic(self) -> float:
        return 2 * self.df_modelwc - 2 * self.llf

    @property
    def bic(self) -> float:
        """BIC with N = decision makers, as lclogit2 does."""
        return self.df_modelwc * np.log(self.n_effective) - 2 * self.llf

    @property
    def caic(self) -> float:
        """Consistent AIC, d (log N + 1) - 2 llf, N = decision makers."""
        return self.df_modelwc * (np.log(self.n_effective) + 1) - 2 * self.llf

    @property
    def sabic(self) -> float:
        """Sample-size adjusted BIC, d log((N + 2) / 24) - 2 llf."""
        return self.df_modelwc * np.log((self.n_effective + 2) / 24) - 2 * self.llf

    @property
    def nobs(self) -> int:
        """Number of rows (available alternatives) used, as statsmodels' ConditionalLogit."""
        return self.model.choice_data.n_rows

    @property
    def n_situations(self) -> int:
        return self.model.choice_data.n_situations

    @property
    def n_decision_makers(self) -> int:
        return self.model.choice_data.n_decision_makers

    @property
    def converged(self) -> bool:
        return bool(self.fit_state.estimate.converged)

    @property
    def n_iter(self) -> int:
        """EM iterations of the best start."""
        return int(self.fit_state.estimate.best_run.n_iter)

    @property
    def polish_iter(self) -> int:
        return int(self.fit_state.estimate.polish_iter)

    @property
    def method(self) -> str:
        return self.fit_state.method

    @property
    def start_report(self) -> StartReport:
        """The starts: origins, final log-likelihoods, iterations, distinct optima."""
        return self.fit_state.estimate.report

    @property
    def starts(self) -> pd.DataFrame:
        """One row per start (origin, llf, n_iter, seconds, converged, optimum)."""
        return self.fit_state.estimate.report.table

    @property
    def llf_history(self) -> list[np.ndarray]:
        """EM log-likelihood after every iteration, for every start."""
        return [r.history for r in self.fit_state.estimate.runs]

    @property
    def fit_seconds(self) -> float:
        return float(self.fit_state.estimate.seconds)

    @property
    def score_norm(self) -> float:
        """Euclidean norm of the score over the free parameters at the estimate."""
        return float(np.linalg.norm(self.fit_state.evaluation.score[self.fit_state.likelihood.free]))

    # ------------------------------------------------------------- classes
    @property
    def params_by_class(self) -> pd.DataFrame:
        """Utility coefficients, one column per class (invariant terms repeat)."""
        lay = self.model.layout
        u = lay.unpack(self.params.to_numpy())
        return pd.DataFrame(u.class_coefficients.T, index=list(lay.exog_names + lay.invariant_names),
                            columns=lay.class_names)

    @property
    def class_shares(self) -> pd.Series:
        """Population share of each class (mean membership probability)."""
        share, _ = self.fit_state.share_jacobian()
        return pd.Series(share, index=self.model.layout.class_names, name="share")

    def class_shares_table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Class shares with delta-method standard errors and confidence intervals.

        Parameters
        ----------
        alpha : float
            1 - confidence level.

        Returns
        -------
        DataFrame
            Columns ``share``, ``bse``, ``lower``, ``upper``, one row per class.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> res = model.fit(n_starts=2, seed=0)
        >>> table = res.class_shares_table()
        >>> list(table.columns)
        ['share', 'bse', 'lower', 'upper']
        """
        share, J = self.fit_state.share_jacobian()
        cov = J @ self.normalized_cov_params @ J.T
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        q = stats.norm.ppf(1 - alpha / 2)
        return pd.DataFrame({"share": share, "bse": se, "lower": share - q * se,
                             "upper": share + q * se}, index=self.model.layout.class_names)

    def posterior_probs(self) -> pd.DataFrame:
        """Posterior class probabilities of each decision maker given his choices.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> res = model.fit(n_starts=2, seed=0)
        >>> post = res.posterior_probs()
        >>> post.shape, bool(np.allclose(post.sum(axis=1), 1.0))
        ((100, 2), True)
        """
        d = self.model.choice_data
        index = pd.Index(d.decision_maker_ids, name="decision_maker")
        return pd.DataFrame(self.fit_state.evaluation.posteriors, index=index,
                            columns=self.model.layout.class_names)

    def predict(self, exog=None, *, kind: str = "probability", **kwargs):
        """Choice probabilities; see :meth:`MixedMultinomialLogit.predict`.

        Parameters
        ----------
        exog : DataFrame or array, optional
            New data (a long DataFrame for formula models); default the
            estimation rows.
        kind : str
            ``"probability"`` (mixture) or ``"class"`` (per class).

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> res = model.fit(n_starts=2, seed=0)
        >>> first = sim.data[sim.data["chid"] == sim.data["chid"].iloc[0]]
        >>> round(float(res.predict(first).sum()), 12)
        1.0
        """
        return self.model.predict(self.params.to_numpy(), exog, kind=kind, **kwargs)

    # ------------------------------------------------------------- summary
    def summary(self, alpha: float = 0.05, title: str | None = None):
        """Regression tables: fit statistics, one coefficient table per class,
        the invariant coefficients, and the class shares or membership model.

        Parameters
        ----------
        alpha : float
            1 - confidence level of the intervals.
        title : str, optional
            Title of the first table.

        Returns
        -------
        statsmodels.iolib.summary.Summary

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> res = model.fit(n_starts=2, seed=0)
        >>> text = res.summary().as_text()
        >>> "Class 1 (share" in text and "Class shares" in text
        True
        """
        return build_summary(self, alpha=alpha, title=title)

    def __repr__(self) -> str:
        return (f"<MixedMultinomialLogitResults: {self.k_classes} classes, llf={self.llf:.4f}, "
                f"cov_type={self.cov_type!r}>")
