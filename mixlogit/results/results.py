"""Results of a latent-class logit fit: labelled estimates, inference, post-estimation."""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from ..bootstrap import bootstrap as run_bootstrap
from ..covariance import get_covariance
from ..em import StartReport
from ..exceptions import (
    ConvergenceWarning,
    EmptyClassWarning,
    SpecificationError,
    StartsWarning,
    warn,
)
from ..likelihood import Estimate, MixtureLikelihood
from .analysis import AnalysisMixin
from .inference import InferenceMixin
from .persistence import PersistenceMixin
from .postestimation import delta_method
from .scenario_methods import ScenarioMixin
from .state import FitState
from .summary import build_summary, summary_frame
from .wrapper import MixedMultinomialLogitResultsWrapper

__all__ = ["MixedMultinomialLogitResults"]

#: shares below this, or fewer expected members than MIN_CLASS_SIZE, raise EmptyClassWarning
MIN_SHARE = 1e-3
MIN_CLASS_SIZE = 5.0


class MixedMultinomialLogitResults(PersistenceMixin, ScenarioMixin, AnalysisMixin, InferenceMixin):
    """Estimates of a :class:`~mixlogit.MixedMultinomialLogit` fit.

    Every estimate is a labelled pandas object: ``params`` is one vector with
    names ``class1:pf``, ``pf`` (invariant terms) and
    ``membership:class2:Intercept``. Classes are in canonical order (largest
    share first) unless fixed class-specific or membership terms tie them to
    their numbering.

    Construct through :meth:`MixedMultinomialLogit.fit`, which returns this
    object inside a :class:`~mixlogit.results.wrapper.MixedMultinomialLogitResultsWrapper`
    (as statsmodels' ``fit`` does): ``res.params``, ``res.bse``,
    ``res.tvalues``, ``res.pvalues``, ``res.conf_int()`` and
    ``res.cov_params()`` are labelled pandas objects, while the wrapped object
    (``res._results``) holds ndarrays, so statsmodels' inherited methods work.

    Hypothesis tests read the parameter names as written (``res.t_test("class1:pf
    = class2:pf")``) or their aliases (``class1__pf``; see
    :mod:`mixlogit.results.hypotheses`). ``df_model`` is the number of free
    parameters and ``df_resid`` the number of decision makers minus
    ``df_model``. ``cov_reasons`` names the parameters whose standard errors
    are NaN because the covariance estimator found them not identified (empty
    when all are); fixed parameters have NaN standard errors too. With
    ``cov_type="bootstrap"``, ``bootstrap_results`` holds the replicates
    (saved and pickled with the results); otherwise it is None.

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
    >>> type(res._results.params).__name__
    'ndarray'
    >>> bool(res.class_shares.sum().round(12) == 1.0)
    True
    """

    @classmethod
    def from_estimate(cls, model, likelihood: MixtureLikelihood, est: Estimate, *, cov_type: str,
                      cov_kwds: dict, method: str, seed=None,
                      options: dict | None = None) -> Any:
        """Results from an estimate (internal): canonical class order, covariance, warnings.

        Returns the results inside their labelling wrapper.
        """
        lay = model.layout
        ev = est.evaluation
        reordered = False
        if lay.k_classes > 1 and likelihood.classes_exchangeable:
            share = likelihood.weights @ np.exp(ev.log_shares)
            order = np.argsort(-share, kind="stable")
            if np.any(order != np.arange(lay.k_classes)):
                ev = likelihood.relabelled(ev, order)   # exact, without a pass over the data
                reordered = True
        state = FitState(likelihood=likelihood, estimate=est, evaluation=ev, reordered=reordered,
                         method=method, options=dict(options or {}))
        res = cls(model, state)
        res._set_covariance(cov_type, cov_kwds, seed=seed)
        res._emit_warnings()
        return res._labelled()

    def __init__(self, model, fit_state: FitState):
        self.fit_state = fit_state
        super().__init__(model, np.asarray(fit_state.params, float).copy(),
                         normalized_cov_params=None)
        self.param_names: list[str] = list(model.layout.param_names)
        self.fixed_mask: np.ndarray = np.asarray(fit_state.likelihood.fixed_mask, bool).copy()
        self.cov_reasons = pd.Series(dtype=object, name="reason")
        self._memo: dict[str, Any] = {}

    def _labelled(self) -> Any:
        """This object inside its labelling wrapper (what users and other modules receive)."""
        return MixedMultinomialLogitResultsWrapper(self)

    def _require_data(self, what: str) -> None:
        if self.fit_state.data_removed:
            raise SpecificationError(
                f"{what} needs the data, which remove_data() dropped; use a results object "
                "saved without remove_data, or refit")

    # -------------------------------------------------------------- covariance
    def _bootstrap_for_covariance(self, seed=None):
        """The callable the bootstrap covariance estimator runs: ``(n_reps=, seed=, **kw)``."""
        def run(n_reps: int = 200, seed=seed, **kw):
            return run_bootstrap(self._labelled(), int(n_reps), seed=seed, **kw)
        return run

    def _set_covariance(self, cov_type: str, cov_kwds: dict, seed=None) -> None:
        self._require_data("a covariance estimate")
        cov_kwds = dict(cov_kwds)
        if cov_type == "cluster" and isinstance(cov_kwds.get("groups"), str):
            cov_kwds["groups"] = self.decision_maker_column(cov_kwds["groups"])
        result = get_covariance(cov_type, self.fit_state.covariance_inputs,
                                bootstrap=self._bootstrap_for_covariance(seed), **cov_kwds)
        self.bootstrap_results = result.bootstrap
        cov_free = np.asarray(result.cov, float)
        reasons = dict(result.reasons)
        cov_kwds = dict(result.kwds)
        self._store_covariance(cov_free, reasons)
        self.cov_type = cov_type
        self.cov_kwds = cov_kwds

    def _store_covariance(self, cov_free: np.ndarray, reasons: dict[int, str]) -> None:
        """Full d x d covariance, NaN at fixed and unidentified positions; ``cov_reasons``."""
        free = self.fit_state.free
        free_pos = np.flatnonzero(free)
        var = np.diag(cov_free)
        reasons = dict(reasons)
        for flat in np.flatnonzero(~(np.isfinite(var) & (var > 0))):
            reasons.setdefault(int(flat), "the covariance estimate has no positive finite variance "
                                       "in this direction (not identified)")
        cov = np.full((len(free), len(free)), np.nan)
        cov[np.ix_(free, free)] = cov_free
        for j in reasons:
            cov[free_pos[j], :] = np.nan
            cov[:, free_pos[j]] = np.nan
        cov, held = self.fit_state.likelihood.expand_covariance(cov)
        self.normalized_cov_params = cov
        by_name = {self.param_names[free_pos[j]]: reasons[j] for j in sorted(reasons)}
        by_name.update({self.param_names[i]: held[i] for i in sorted(held)})
        self.cov_reasons = pd.Series(list(by_name.values()), index=list(by_name), dtype=object,
                                     name="reason")

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
                              ) -> Any:
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
        return new._labelled()

    # -------------------------------------------------------------- warnings
    def _emit_warnings(self) -> None:
        est = self.fit_state.estimate
        if not self.converged:
            problem = est.convergence_problem or "the stopping rule was not met"
            first = problem.split("; ")[0]
            if first.startswith(("classes", "saddle point")):
                hint = ("a stationary point, not a maximum: use other starts (more n_starts, "
                        "start='partition' or 'subspace')")
            elif first.startswith("flat direction"):
                hint = ("parameters not identified at the estimate (separation, a collapsed "
                        "class, collinear terms): see results.cov_reasons and "
                        "results.identifiability()")
            else:
                hint = "raise maxiter or check results.identifiability()"
            warn(f"the estimate is not a converged maximum ({problem}); {hint}",
                 ConvergenceWarning)
        report = self.fit_state.options.get("sample_report", est.report)
        if self.k_classes > 1 and report.should_warn:
            where = ("" if report is est.report else
                     f" (starts on a sample of {self.fit_state.options['start_sample']} "
                     "decision makers)")
            warn(report.warning_message + where, StartsWarning)
        if self.k_classes > 1:
            shares = self.class_shares
            size = shares * self.n_effective
            small = shares.index[(shares < MIN_SHARE) | (size < MIN_CLASS_SIZE)]
            if len(small):
                warn(
                    f"{list(small)} have shares {shares[small].round(5).tolist()} (expected "
                    f"{size[small].round(2).tolist()} decision makers): a class has (almost) "
                    "emptied; fewer classes are probably enough", EmptyClassWarning)

    # ------------------------------------------------------------ counts
    def _data_stat(self, name: str) -> Any:
        """A statistic of the data, computed once (and kept by ``remove_data``)."""
        if name not in self._memo:
            self._require_data(name)
            d = self.fit_state.likelihood.data
            if name == "llnull":  # every utility coefficient zero: alternatives equally likely
                lik = self.fit_state.likelihood
                value = float(lik.loglike(np.zeros(lik.layout.n_params)))
            elif name == "share_jacobian":
                value = self.fit_state.share_jacobian()
            else:
                value = {"n_effective": lambda: float(d.n_effective),
                         "nobs": lambda: int(d.n_rows),
                         "n_situations": lambda: int(d.n_situations),
                         "n_decision_makers": lambda: int(d.n_decision_makers)}[name]()
            self._memo[name] = value
        return self._memo[name]

    @property
    def k_classes(self) -> int:
        return self.model.k_classes

    @property
    def fixed(self) -> pd.Series:
        """Boolean flag of fixed parameters."""
        return pd.Series(self.fixed_mask, index=self.param_names, name="fixed")

    @property
    def df_modelwc(self) -> int:
        """Number of estimated (free) parameters."""
        return self.df_model

    @property
    def llf(self) -> float:
        return float(self.fit_state.evaluation.llf)

    @property
    def llnull(self) -> float:
        """Log-likelihood with all utility coefficients zero: every alternative equally likely."""
        return self._data_stat("llnull")

    @property
    def prsquared(self) -> float:
        """McFadden's pseudo R-squared, 1 - llf / llnull."""
        return float(1.0 - self.llf / self.llnull)

    @property
    def n_effective(self) -> float:
        """The N of BIC and CAIC: the sum of frequency weights (decision makers, or draws of
        the counts form), or the number of decision makers with sampling weights."""
        return self._data_stat("n_effective")

    @property
    def aic(self) -> float:
        return float(2 * self.df_modelwc - 2 * self.llf)

    @property
    def bic(self) -> float:
        """BIC with N = decision makers, as lclogit2 does."""
        return float(self.df_modelwc * np.log(self.n_effective) - 2 * self.llf)

    @property
    def caic(self) -> float:
        """Consistent AIC, d (log N + 1) - 2 llf, N = decision makers."""
        return float(self.df_modelwc * (np.log(self.n_effective) + 1) - 2 * self.llf)

    @property
    def sabic(self) -> float:
        """Sample-size adjusted BIC, d log((N + 2) / 24) - 2 llf."""
        return float(self.df_modelwc * np.log((self.n_effective + 2) / 24) - 2 * self.llf)

    @property
    def nobs(self) -> int:
        """Number of rows (available alternatives) used, as statsmodels' ConditionalLogit."""
        return self._data_stat("nobs")

    @property
    def n_situations(self) -> int:
        return self._data_stat("n_situations")

    @property
    def n_decision_makers(self) -> int:
        return self._data_stat("n_decision_makers")

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
    def mle_retvals(self) -> dict[str, Any]:
        """What the optimizer returned: converged, iterations (of the best start), the length
        of its log-likelihood history, starts, method, score norm, seconds; with EM also
        ``em_converged``, ``polish_iter`` and ``polish_converged``."""
        est = self.fit_state.estimate
        best = est.best_run
        out = {"converged": self.converged, "iterations": int(best.n_iter),
               "llf_history_length": int(len(best.history)), "n_starts": len(est.runs),
               "n_reached_best": int(est.report.n_reached_best), "method": self.method,
               "llf": self.llf, "score_norm": self.score_norm, "seconds": float(est.seconds)}
        if self.method == "em":
            out.update(em_converged=bool(est.em_converged), polish_iter=int(est.polish_iter),
                       polish_converged=est.polish_converged)
        return out

    @property
    def mle_settings(self) -> dict[str, Any]:
        """The settings of the fit: method, estimation options, covariance."""
        out: dict[str, Any] = {"optimizer": self.method, "method": self.method}
        out.update(dict(self.fit_state.options))
        out.update({"cov_type": self.cov_type, "cov_kwds": dict(self.cov_kwds)})
        return out

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
        return float(np.linalg.norm(self.fit_state.evaluation.score[~self.fixed_mask]))

    # ------------------------------------------------------------- classes
    @property
    def params_by_class(self) -> pd.DataFrame:
        """Utility coefficients, one column per class (invariant terms repeat)."""
        lay = self.model.layout
        u = lay.unpack(self.params)
        return pd.DataFrame(u.class_coefficients.T, index=list(lay.exog_names + lay.invariant_names),
                            columns=lay.class_names)

    @property
    def class_shares(self) -> pd.Series:
        """Population share of each class (mean membership probability)."""
        share, _ = self._data_stat("share_jacobian")
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
        share, J = self._data_stat("share_jacobian")
        out = delta_method(share, J, self.normalized_cov_params, alpha=alpha,
                           index=self.model.layout.class_names)
        return pd.DataFrame({"share": share, "bse": out["bse"].to_numpy(),
                             "lower": out["lower"].to_numpy(), "upper": out["upper"].to_numpy()},
                            index=self.model.layout.class_names)

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
        self._require_data("posterior_probs()")
        d = self.model.choice_data
        index = pd.Index(d.decision_maker_ids, name="decision_maker")
        return pd.DataFrame(self.fit_state.evaluation.posteriors, index=index,
                            columns=self.model.layout.class_names)

    def predict(self, exog=None, transform: bool = True, *, kind: str = "probability",
                **kwargs):
        """Choice probabilities; see :meth:`MixedMultinomialLogit.predict`.

        Parameters
        ----------
        exog : DataFrame or array, optional
            New data (a long DataFrame for formula models); default the
            estimation rows.
        transform : bool
            statsmodels' flag; must be True (new data always go through the
            model's formula, or are the design arrays themselves).
        kind : str
            ``"probability"`` (mixture) or ``"class"`` (per class).
        **kwargs
            ``groups``, ``exog_invariant``, ``exog_membership``,
            ``availability`` of new array data; see
            :meth:`MixedMultinomialLogit.predict`.

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
        if transform is not True:
            raise SpecificationError(
                "predict(transform=False) is not supported: pass new data as a DataFrame for a "
                "formula-built model (it goes through the formula) or as design arrays")
        unknown = sorted(set(kwargs) - {"groups", "exog_invariant", "exog_membership",
                                        "availability"})
        if unknown:
            raise SpecificationError(
                f"predict() got unknown options {unknown}; it accepts exog, kind, groups, "
                "exog_invariant, exog_membership and availability")
        if exog is None:
            self._require_data("predict() on the estimation data")
        return self.model.predict(self.params, exog, kind=kind, **kwargs)

    # ------------------------------------------------------------- summary
    def summary(self, alpha: float = 0.05, title: str | None = None, *,
                layout: str = "long"):
        """Regression tables: fit statistics, one coefficient table per class,
        the invariant coefficients, and the class shares or membership model.

        Parameters
        ----------
        alpha : float
            1 - confidence level of the intervals.
        title : str, optional
            Title of the first table.
        layout : {"long", "wide"}
            ``"long"``: one table per class; ``"wide"``: terms in rows, classes in
            columns, standard errors in parentheses under the estimates, shares
            and fit statistics at the bottom (as papers print them).

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
        return build_summary(self._labelled(), alpha=alpha, title=title, layout=layout)

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """One tidy table of every estimate: term, class, estimate, s.e., z, p, interval.

        Parameters
        ----------
        alpha : float
            1 - confidence level of the intervals.

        Returns
        -------
        DataFrame
            Columns ``term``, ``class`` (0 for class-invariant terms), ``kind``,
            ``estimate``, ``std_err``, ``z``, ``p_value``, ``ci_lower``,
            ``ci_upper``, ``fixed``.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> frame = model.fit(n_starts=2, seed=0).summary_frame()
        >>> frame[["term", "class"]].head(2).values.tolist()
        [['x1', 1], ['x2', 1]]
        """
        return summary_frame(self._labelled(), alpha=alpha)

    def __repr__(self) -> str:
        return (f"<MixedMultinomialLogitResults: {self.k_classes} classes, llf={self.llf:.4f}, "
                f"cov_type={self.cov_type!r}>")
