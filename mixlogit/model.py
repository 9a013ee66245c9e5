"""The latent-class (mixed) multinomial logit model.

:class:`MixedMultinomialLogit` is a statsmodels likelihood model: construct it
from arrays or with :meth:`~MixedMultinomialLogit.from_formula`, call
:meth:`~MixedMultinomialLogit.fit`, and get a
:class:`~mixlogit.results.MixedMultinomialLogitResults`.
"""
from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from statsmodels.base.model import LikelihoodModel
from statsmodels.base.optimizer import Optimizer

from .data import ChoiceData, CountsData
from .em import EMRun, summarize_starts
from .exceptions import EstimationError, IdentificationWarning, SpecificationError, warn
from .formula import FormulaSpec, design_for, parse_formulas
from .kernels import column_softmax, log_class_shares, situation_softmax
from .likelihood import (CountsLikelihood, Estimate, LongLikelihood, MixtureLikelihood,
                         estimate)
from .params import ParamLayout
from .results import MixedMultinomialLogitResults
from .starts import make_starts

__all__ = ["MixedMultinomialLogit", "CountsMixedMultinomialLogit", "check_k_classes"]

#: statsmodels optimizers accepted by ``fit(method=...)`` besides ``"em"``
DIRECT_METHODS = ("newton", "bfgs", "lbfgs", "nm", "cg", "ncg", "powell")


def check_k_classes(k_classes) -> int:
    """``k_classes`` as an int, or a SpecificationError if it is not a whole number >= 1."""
    if isinstance(k_classes, (bool, np.bool_)) or not isinstance(k_classes, (int, np.integer)):
        raise SpecificationError(f"k_classes must be a whole number >= 1, got {k_classes!r}")
    if k_classes < 1:
        raise SpecificationError(f"k_classes must be at least 1, got {k_classes}")
    return int(k_classes)


class MixedMultinomialLogit(LikelihoodModel):
    """Finite mixture of conditional (multinomial) logits: the latent-class logit.

    A population holds ``k_classes`` unobserved classes; class k has taste
    vector beta_k, and a decision maker of class k chooses alternative j in
    situation t with probability ``exp(x_tj' beta_k) / sum_l exp(x_tl' beta_k)``.
    A decision maker keeps his class across his situations (``panel``).

    Parameters
    ----------
    endog : array_like, shape (n,)
        1 for the chosen alternative of each situation, 0 otherwise (long
        format: one row per situation and alternative).
    exog : array_like, shape (n, L)
        Alternative attributes with class-specific coefficients.
    groups : array_like, shape (n,)
        Choice-situation id of each row (as in statsmodels' ``ConditionalLogit``).
    panel : array_like, shape (n,), optional
        Decision-maker id; without it each situation is its own decision maker.
    k_classes : int
        Number of latent classes, at least 1.
    exog_invariant : array_like, shape (n, Lv), optional
        Attributes whose coefficient is shared by all classes.
    exog_membership : array_like, shape (n, Lz), optional
        Decision-maker covariates of class membership (constant within each
        decision maker); a constant is always included.
    weights : array_like, shape (n,), optional
        Frequency weight of each decision maker, repeated on its rows.
    availability : array_like, shape (n,), optional
        0 marks an alternative unavailable in its situation.

    Notes
    -----
    The log-likelihood is ``sum_n w_n log sum_k pi_nk prod_t P_k(y_nt)`` with
    ``pi_nk`` a multinomial logit in the membership covariates (plain shares
    without them). Rows are sorted internally by decision maker and situation;
    results map back to the input order. See ``ALGORITHMS.md`` for the
    estimation method.

    Examples
    --------
    >>> import mixlogit as mx
    >>> df = mx.datasets.electricity.load()
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ pf + cl + loc + wk + tod + seas - 1", df,
    ...     groups="chid", panel="id", k_classes=2)
    >>> res = model.fit(n_starts=2, seed=0)
    >>> res.k_classes
    2
    """

    def __init__(self, endog, exog, *, groups, panel=None, k_classes: int,
                 exog_invariant=None, exog_membership=None, weights=None, availability=None,
                 exog_names: Sequence[str] | None = None,
                 invariant_names: Sequence[str] | None = None,
                 membership_names: Sequence[str] | None = None,
                 formula_spec: FormulaSpec | None = None,
                 argument_names: dict[str, str] | None = None,
                 data_index: pd.Index | None = None):
        choice_data = ChoiceData.from_arrays(
            endog, exog, groups=groups, panel=panel, exog_invariant=exog_invariant,
            exog_membership=exog_membership, weights=weights, availability=availability,
            exog_names=exog_names, invariant_names=invariant_names,
            membership_names=membership_names, argument_names=argument_names)
        k_classes = check_k_classes(k_classes)
        if k_classes > choice_data.n_decision_makers:
            raise SpecificationError(
                f"k_classes={k_classes} exceeds the number of decision makers "
                f"({choice_data.n_decision_makers}); use fewer classes"
            )
        self._setup(choice_data, LongLikelihood, k_classes, endog=choice_data.chosen.astype(float),
                    exog=choice_data.exog, nobs=choice_data.n_rows, formula_spec=formula_spec,
                    data_index=data_index)

    def _setup(self, data, likelihood_class: type[MixtureLikelihood], k_classes: int, *,
               endog: np.ndarray, exog: np.ndarray, nobs: float,
               formula_spec: FormulaSpec | None, data_index: pd.Index | None) -> None:
        """The one constructor tail of every model class: layout, statsmodels base, sizes."""
        self.choice_data = data
        self.likelihood_class = likelihood_class
        self.k_classes = k_classes
        self.layout = ParamLayout(k_classes, data.exog_names, data.invariant_names,
                                  data.membership_names)
        self.formula_spec = formula_spec
        self.data_index = data_index
        # a conditional logit has no constant: skip statsmodels' rank checks of the design
        LikelihoodModel.__init__(self, endog, exog, missing="none", hasconst=False)
        self.data.param_names = list(self.layout.param_names)
        self.k_extra = 0
        self.df_model = self.layout.n_params
        self.nobs = nobs
        self.data_frame: pd.DataFrame | None = None

    # ------------------------------------------------------------- builders
    @classmethod
    def from_formula(cls, formula: str, data: pd.DataFrame, *, groups: str, panel: str | None = None,
                     k_classes: int, invariant: str | None = None, membership: str | None = None,
                     weights: str | None = None, availability: str | None = None,
                     subset=None, drop_cols=None, **kwargs) -> "MixedMultinomialLogit":
        """Build the model from patsy formulas over a long-format DataFrame.

        Parameters
        ----------
        formula : str
            ``"choice ~ terms"``: the 0/1 chosen column and the terms with
            class-specific coefficients. Patsy's intercept is removed (it is not
            identified); categorical terms such as ``C(alt)`` are coded against a
            reference level.
        data : DataFrame
            One row per (choice situation, alternative).
        groups : str
            Column with the choice-situation id.
        panel : str, optional
            Column with the decision-maker id.
        k_classes : int
            Number of latent classes.
        invariant : str, optional
            Right-hand-side formula of terms with a coefficient shared by all classes.
        membership : str, optional
            Right-hand-side formula of decision-maker covariates of class membership.
        weights : str, optional
            Column with frequency weights of decision makers.
        availability : str, optional
            Column with 1 for available alternatives and 0 otherwise.

        Returns
        -------
        MixedMultinomialLogit

        Examples
        --------
        >>> import mixlogit as mx
        >>> df = mx.datasets.electricity.load()
        >>> m = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ pf + cl - 1", df, groups="chid", panel="id", k_classes=2)
        >>> m.param_names[:2]
        ['class1:pf', 'class1:cl']
        """
        if subset is not None or drop_cols is not None or kwargs:
            unknown = sorted(kwargs) + (["subset"] if subset is not None else []) \
                + (["drop_cols"] if drop_cols is not None else [])
            raise SpecificationError(
                f"from_formula: unsupported arguments {unknown}; filter the DataFrame before "
                "passing it"
            )
        columns = {"groups": groups, "panel": panel, "weights": weights,
                   "availability": availability}
        endog, exog, inv, mem, spec = parse_formulas(formula, data, invariant=invariant,
                                                     membership=membership, columns=columns)
        argument_names = {"endog": spec.outcome, "groups": groups, "panel": panel or "panel",
                          "weights": weights or "weights", "availability": availability or "availability"}
        model = cls(endog, exog, groups=data[groups], panel=None if panel is None else data[panel],
                   k_classes=k_classes, exog_invariant=inv, exog_membership=mem,
                   weights=None if weights is None else data[weights],
                   availability=None if availability is None else data[availability],
                   formula_spec=spec, argument_names=argument_names, data_index=data.index)
        model.data_frame = data
        return model

    @classmethod
    def from_counts(cls, counts, features, *, k_classes: int,
                    feature_names: Sequence[str] | None = None) -> "MixedMultinomialLogit":
        """Softmax mixture over one shared candidate set, from choice counts.

        The setting of Bing, Bunea, Niles-Weed and Wegkamp (*Learning large
        softmax mixtures with warm start EM*): ``p`` candidates with features
        ``x_j``, and ``N`` independent draws from
        ``pi_j = sum_k alpha_k exp(x_j' beta_k) / sum_l exp(x_l' beta_k)``, of
        which only the counts ``n_j`` are kept. EM runs per candidate: an
        iteration costs ``O(p K L)`` whatever ``N`` is (plus an ``O(p K L^2)``
        class information every few iterations), and the ``p x p`` long form
        is never built. It gives the same fit as the long form in which each
        draw is a decision maker facing all ``p`` candidates once.

        Parameters
        ----------
        counts : array_like or Series, shape (p,)
            Number of draws that chose each candidate (non-negative; fractional
            values are accepted as weights).
        features : array_like or DataFrame, shape (p, L)
            Candidate features; a DataFrame's columns name the coefficients and
            its index labels the candidates.
        k_classes : int
            Number of mixture components.
        feature_names : sequence of str, optional
            Coefficient names when ``features`` is an array (default ``x1..xL``).

        Returns
        -------
        CountsMixedMultinomialLogit
            A :class:`MixedMultinomialLogit` whose ``fit`` uses the counts
            likelihood; its default start is ``"mom"`` (the method-of-moments
            estimate plus random subspace draws). Results are the usual
            :class:`~mixlogit.results.MixedMultinomialLogitResults`; per
            decision-maker outputs (``posterior_probs``, ``loglikeobs``) have
            one row per candidate (the draws that chose it), and the ``N`` of
            BIC is the number of draws.

        Raises
        ------
        DataError
            Invalid counts or features (negative or non-finite values,
            mismatched lengths, a constant or collinear feature).
        SpecificationError
            ``k_classes`` too large for the number of candidates
            (``K (L + 1) - 1 > p - 1``).

        Examples
        --------
        >>> import mixlogit as mx
        >>> from mixlogit.datasets.simulate import simulate_counts
        >>> sim = simulate_counts(n_candidates=500, n_draws=20_000, seed=0)
        >>> model = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features, k_classes=3)
        >>> res = model.fit(n_starts=3, seed=0)
        >>> res.params.shape
        (17,)
        """
        return CountsMixedMultinomialLogit(counts, features, k_classes=k_classes,
                                           feature_names=feature_names)

    # ------------------------------------------------------------ structure
    @property
    def param_names(self) -> list[str]:
        """Labels of the flat parameter vector (``class1:pf``, ...)."""
        return self.layout.param_names

    @property
    def exog_names(self) -> list[str]:
        return self.param_names

    @property
    def n_decision_makers(self) -> int:
        return self.choice_data.n_decision_makers

    @property
    def n_situations(self) -> int:
        return self.choice_data.n_situations

    def likelihood(self, fixed: Mapping[str, float] | None = None) -> MixtureLikelihood:
        """The model's mixture likelihood, with ``fixed`` parameters held at their values.

        Parameters
        ----------
        fixed : dict, optional
            ``{parameter name: value}``.

        Returns
        -------
        MixtureLikelihood
            A :class:`~mixlogit.likelihood.LongLikelihood` or
            :class:`~mixlogit.likelihood.CountsLikelihood`.

        Examples
        --------
        >>> import mixlogit as mx
        >>> df = mx.datasets.electricity.load()
        >>> m = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ pf + cl - 1", df, groups="chid", panel="id", k_classes=2)
        >>> m.likelihood().form
        'long'
        """
        mask, values = self.layout.fixed_mask(fixed)
        return self.likelihood_class(self.choice_data, self.layout, mask, values)

    # ----------------------------------------------------------- likelihood
    def loglike(self, params) -> float:
        """Log-likelihood ``sum_n w_n log sum_k pi_nk L_nk``.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> params = np.zeros(len(model.param_names))
        >>> bool(np.isclose(model.loglike(params), 500 * np.log(1 / 3)))  # every alternative equally likely
        True
        """
        return self.likelihood().evaluate(params).llf

    def loglikeobs(self, params) -> np.ndarray:
        """Weighted log-likelihood contribution of each decision maker, shape (N,).

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> params = np.zeros(len(model.param_names))
        >>> model.loglikeobs(params).shape
        (100,)
        """
        ev = self.likelihood().evaluate(params)
        return self.choice_data.weights * ev.loglike_obs

    def score(self, params) -> np.ndarray:
        """Analytic gradient of :meth:`loglike`.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> params = np.full(len(model.param_names), 0.3)
        >>> step = np.zeros_like(params)
        >>> step[0] = 1e-6
        >>> numeric = (model.loglike(params + step) - model.loglike(params - step)) / 2e-6
        >>> bool(np.isclose(model.score(params)[0], numeric, atol=1e-5))
        True
        """
        return self.likelihood().evaluate(params, order=1).score

    def score_obs(self, params) -> np.ndarray:
        """Weighted score of each decision maker, shape (N, n_params); sums to :meth:`score`.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> params = np.full(len(model.param_names), 0.3)
        >>> bool(np.allclose(model.score_obs(params).sum(axis=0), model.score(params)))
        True
        """
        ev = self.likelihood().evaluate(params, order=1)
        return ev.score_obs * self.choice_data.weights[:, None]

    def hessian(self, params) -> np.ndarray:
        """Analytic Hessian of :meth:`loglike`.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> H = model.hessian(np.full(len(model.param_names), 0.3))
        >>> H.shape, bool(np.allclose(H, H.T))
        ((5, 5), True)
        """
        return self.likelihood().evaluate(params, order=2).hessian

    def information(self, params) -> np.ndarray:
        """Observed information, minus the Hessian.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> params = np.full(len(model.param_names), 0.3)
        >>> bool(np.allclose(model.information(params), -model.hessian(params)))
        True
        """
        return -self.hessian(params)

    # ---------------------------------------------------------------- fit
    def fit(self, start_params=None, *, method: str = "em", start: Any = None,
            n_starts: int = 10, seed: int | np.random.Generator | None = None, tol: float = 1e-8,
            maxiter: int = 1000, polish: bool = True, fixed: Mapping[str, float] | None = None,
            cov_type: str = "oim", cov_kwds: Mapping[str, Any] | None = None, n_jobs: int = 1,
            progress: bool | None = None, disp: bool = False, **start_kwds):
        """Fit the model by EM from several starts, then polish by Newton.

        Parameters
        ----------
        start_params : array_like or dict, optional
            Start values; when given, they replace ``start``.
        method : str
            ``"em"`` (default): EM from every start, keep the best log-likelihood,
            then Newton on the full likelihood (``polish``). ``"newton"``,
            ``"bfgs"`` (and statsmodels' other optimizers) maximise the
            likelihood directly from each start with statsmodels' optimizers.
        start : str, array, dict or list, optional
            ``"partition"`` (random partitions of decision makers, one
            conditional logit per group), ``"subspace"`` (draws in an estimated
            subspace of the class coefficients), ``"mom"`` (counts form only:
            the method-of-moments estimate plus ``n_starts - 1`` subspace
            draws), or start values. The default depends on the data's form:
            ``"partition"`` for long-format data (the subspace of long data is
            estimated from the pooled logit's scores, see
            :func:`mixlogit.starts.subspace.score_subspace_starts`), ``"mom"`` for the
            counts form of :meth:`from_counts`, where the Gaussian-design moment
            identities give the estimate cheaply. ``"mom"`` on long-format data
            raises :class:`~mixlogit.exceptions.SpecificationError`.
        n_starts : int
            Number of starts (one when ``k_classes`` is 1: the likelihood
            is then concave).
        seed : int or numpy.random.Generator, optional
            Seed of every random choice; the same seed gives the same fit.
        tol : float
            EM stops when the relative change of the log-likelihood is below ``tol``.
        maxiter : int
            Maximum EM iterations (per start) or optimizer iterations.
        polish : bool
            Run Newton's method on the full likelihood after EM.
        fixed : dict, optional
            ``{parameter name: value}`` held fixed, e.g. ``{"class2:time": 0.0}``.
            With fixed class-specific or membership terms, classes keep their
            numbering (no canonical reordering).
        cov_type : str
            ``"oim"`` (observed information, default), ``"opg"``, ``"robust"``,
            ``"cluster"`` or ``"bootstrap"``; see :mod:`mixlogit.covariance`.
        cov_kwds : dict, optional
            Options of the covariance estimator (``groups`` for ``"cluster"``:
            a column name or one label per decision maker; ``n_reps`` and
            ``seed`` for ``"bootstrap"``).
        n_jobs : int
            Threads for running starts concurrently.
        progress : bool, optional
            Progress bar over starts (default: when interactive).
        disp : bool
            Print optimizer messages (direct methods).
        **start_kwds
            Options of the start strategy (for example ``scale`` of
            ``"subspace"``, ``method`` of ``"mom"``); an option the strategy
            does not take raises ``TypeError``.

        Returns
        -------
        MixedMultinomialLogitResults

        Warns
        -----
        ConvergenceWarning
            The final estimate did not meet the convergence criterion.
        StartsWarning
            Several starts were run and only one reached the best optimum.
        EmptyClassWarning
            A class's share collapsed (below 0.001 or under 5 expected members).

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> res = model.fit(n_starts=3, seed=0)
        >>> res.converged, len(res.starts)
        (True, 3)
        >>> fixed = model.fit(n_starts=2, seed=0, fixed={"class2:x1": -1.0})
        >>> float(fixed.params["class2:x1"])
        -1.0
        """
        if not isinstance(method, str) or (method != "em" and method not in DIRECT_METHODS):
            raise SpecificationError(f"method={method!r}; use 'em' or one of {list(DIRECT_METHODS)}")
        if not isinstance(n_starts, (int, np.integer)) or n_starts < 1:
            raise SpecificationError(f"n_starts must be a whole number >= 1, got {n_starts!r}")
        if not (isinstance(tol, (int, float)) and tol > 0):
            raise SpecificationError(f"tol must be a positive number, got {tol!r}")
        if not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
            raise SpecificationError(f"maxiter must be a whole number >= 1, got {maxiter!r}")
        rng = np.random.default_rng(seed)
        lik = self.likelihood(fixed)
        if start_params is not None:
            start = start_params
        elif start is None:
            start = lik.default_start
        if self.k_classes == 1 and isinstance(start, str):
            n_starts = 1
        starts = make_starts(lik, start, int(n_starts), rng, **start_kwds)
        if not starts:
            raise EstimationError("no start values were produced")

        if method == "em":
            est = estimate(lik, starts, tol=tol, maxiter=int(maxiter), polish=polish,
                           n_jobs=n_jobs, progress=progress)
        else:
            est = self._fit_direct(lik, starts, method=method, maxiter=int(maxiter), disp=disp)
        if not np.isfinite(est.llf):
            raise EstimationError("every start failed: the log-likelihood is not finite")
        return MixedMultinomialLogitResults.from_estimate(
            self, lik, est, cov_type=cov_type, cov_kwds=dict(cov_kwds or {}), method=method,
            seed=seed)

    def _fit_direct(self, lik: MixtureLikelihood, starts, *, method: str, maxiter: int, disp: bool
                    ) -> Estimate:
        """Maximise the likelihood with statsmodels' optimizers from each start."""
        free = lik.free
        scale = float(lik.data.weights.sum())

        def expand(x):
            theta = lik.fixed_values.copy()
            theta[free] = x
            return theta

        def f(x):
            return -lik.evaluate(expand(x)).llf / scale

        def grad(x):
            return -lik.evaluate(expand(x), order=1).score[free] / scale

        def hess(x):
            return -lik.evaluate(expand(x), order=2).hessian[np.ix_(free, free)] / scale

        runs = []
        for origin, theta0 in starts:
            t0 = time.perf_counter()
            xopt, retvals, _ = Optimizer()._fit(f, grad, theta0[free], (), {}, hessian=hess,
                                                method=method, maxiter=maxiter, full_output=True,
                                                disp=disp)
            theta = expand(np.asarray(xopt))
            llf = lik.evaluate(theta).llf
            conv = bool(retvals.get("converged", False)) if isinstance(retvals, dict) else False
            n_iter = int(retvals.get("iterations", 0) or 0) if isinstance(retvals, dict) else 0
            runs.append(EMRun(origin=origin, params=theta, llf=llf, history=np.array([llf]),
                              n_iter=n_iter, converged=conv, seconds=time.perf_counter() - t0,
                              start_params=theta0))
        report = summarize_starts(runs)
        best = runs[report.best_index]
        ev = lik.evaluate(best.params, order=2)
        return Estimate(params=best.params, evaluation=ev, runs=runs, report=report,
                        em_converged=best.converged, polish_iter=0, polish_converged=None,
                        seconds=sum(r.seconds for r in runs))

    # ------------------------------------------------------------- predict
    def predict(self, params, exog=None, *, groups=None, exog_invariant=None,
                exog_membership=None, availability=None, kind: str = "probability"):
        """Choice probabilities of each row.

        Parameters
        ----------
        params : array_like
            Parameter vector.
        exog : array_like or DataFrame, optional
            New data. For a formula-built model, a long DataFrame with the
            formula's columns and the ``groups`` column (and availability, if the
            model used it). For an array model, the exog matrix, with ``groups``
            (and ``exog_invariant``/``exog_membership`` when the model has them).
            Default: the estimation rows.
        groups : array_like, optional
            Situation id of each new row (array models).
        exog_invariant, exog_membership : array_like, optional
            Invariant attributes and membership covariates of the new rows
            (array models that have them).
        availability : array_like, optional
            0 marks a new row unavailable: its probability is 0.
        kind : str
            ``"probability"``: the unconditional mixture probability
            ``sum_k pi_nk P_k(j)``; ``"class"``: each class's probability
            (a DataFrame, one column per class).

        Returns
        -------
        Series or DataFrame
            Indexed like the input rows (rows dropped for missing values or
            unavailable alternatives get probability NaN / 0).

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
        >>> p = model.predict(res.params)
        >>> bool(np.allclose(p.groupby(sim.data["chid"]).sum(), 1.0))
        True
        >>> model.predict(res.params, kind="class").shape
        (1500, 2)
        """
        if kind not in ("probability", "class"):
            raise SpecificationError(f"kind={kind!r}; use 'probability' or 'class'")
        lay = self.layout
        u = lay.unpack(params)
        if exog is None:
            d = self.choice_data
            X, V, Zrow = d.exog, d.exog_invariant, d.exog_membership[d.decision_maker_of_row]
            sit_start, sit_of_row = d.situation_start, d.situation_of_row
            n_out, rows = d.n_input_rows, d.row_index
            index = self.data_index if self.data_index is not None else pd.RangeIndex(n_out)
            avail = np.ones(d.n_rows, bool)
        else:
            X, V, Zrow, g, avail, index = self._new_design(exog, groups, exog_invariant,
                                                           exog_membership, availability)
            codes, _ = pd.factorize(g)
            rows = np.argsort(codes, kind="stable")
            X, V, Zrow, avail = X[rows], V[rows], Zrow[rows], avail[rows]
            sc = codes[rows]
            new = np.r_[True, sc[1:] != sc[:-1]]
            sit_start = np.flatnonzero(new)
            sit_of_row = np.cumsum(new) - 1
            n_out = len(codes)
        C = u.class_coefficients
        U = np.hstack([X, V]) @ C.T
        U[~avail] = -np.inf
        with np.errstate(invalid="ignore"):
            P, _ = situation_softmax(U, sit_start, sit_of_row)
        P[~avail] = 0.0
        names = lay.class_names
        if kind == "class":
            out = np.full((n_out, lay.k_classes), np.nan)
            out[rows] = P
            return pd.DataFrame(out, index=index, columns=names)
        pi = np.exp(log_class_shares(Zrow, u.gamma))
        out = np.full(n_out, np.nan)
        out[rows] = (pi * P).sum(axis=1)
        return pd.Series(out, index=index, name="probability")

    def _new_design(self, exog, groups, exog_invariant, exog_membership, availability):
        lay = self.layout
        spec = self.formula_spec
        if spec is not None and isinstance(exog, pd.DataFrame):
            newdata = exog
            gcol = spec.columns["groups"]
            if gcol not in newdata.columns:
                raise SpecificationError(f"newdata needs the groups column {gcol!r}")
            X, V, Z = design_for(spec, newdata)
            g = newdata[gcol].to_numpy()
            acol = spec.columns.get("availability")
            avail = (newdata[acol].to_numpy() != 0) if acol and acol in newdata.columns \
                else np.ones(len(newdata), bool)
            index = newdata.index
        else:
            if groups is None:
                raise SpecificationError("predict on new arrays needs groups= (situation ids)")
            X = np.asarray(exog, dtype=float)
            X = X[:, None] if X.ndim == 1 else X
            V = None if exog_invariant is None else np.asarray(exog_invariant, float)
            Z = None if exog_membership is None else np.asarray(exog_membership, float)
            g = np.asarray(groups)
            avail = np.ones(len(X), bool) if availability is None else np.asarray(availability) != 0
            index = pd.RangeIndex(len(X))
        n = len(X)
        V = np.empty((n, 0)) if V is None else (V[:, None] if V.ndim == 1 else V)
        Z = np.empty((n, 0)) if Z is None else (Z[:, None] if Z.ndim == 1 else Z)
        if X.shape[1] != lay.k_exog or V.shape[1] != lay.k_invariant \
                or Z.shape[1] != lay.k_membership - 1:
            raise SpecificationError(
                f"new data have {X.shape[1]} class-specific, {V.shape[1]} invariant and "
                f"{Z.shape[1]} membership columns; the model has {lay.k_exog}, "
                f"{lay.k_invariant} and {lay.k_membership - 1}"
            )
        Zrow = np.hstack([np.ones((n, 1)), Z])
        return X, V, Zrow, g, avail, index


class CountsMixedMultinomialLogit(MixedMultinomialLogit):
    """A softmax mixture fitted from counts over one shared candidate set.

    Build it with :meth:`mixlogit.MixedMultinomialLogit.from_counts`; it has
    the methods of :class:`~mixlogit.MixedMultinomialLogit` (``fit``,
    ``loglike``, ``score``, ``hessian``, ``loglikeobs``, ``predict``), with the
    per-decision-maker arrays indexed by candidate (the draws that chose it).
    The default start of :meth:`fit` is ``"mom"``.

    Parameters
    ----------
    counts : array_like or Series, shape (p,)
        Number of draws that chose each candidate.
    features : array_like or DataFrame, shape (p, L)
        Candidate features; DataFrame columns name the coefficients.
    k_classes : int
        Number of mixture components.
    feature_names : sequence of str, optional
        Coefficient names when ``features`` is an array.

    Examples
    --------
    >>> import pandas as pd
    >>> import mixlogit as mx
    >>> from mixlogit.datasets.simulate import simulate_counts
    >>> sim = simulate_counts(n_candidates=400, n_draws=30_000, seed=1)
    >>> X = pd.DataFrame(sim.features, columns=["a", "b", "c", "d", "e"])
    >>> model = mx.MixedMultinomialLogit.from_counts(sim.counts, X, k_classes=3)
    >>> res = model.fit(n_starts=3, seed=0)
    >>> res.params.index[:2].tolist()
    ['class1:a', 'class1:b']
    >>> round(float(res.predict().sum()), 6)
    1.0
    >>> res.posterior_probs().shape
    (400, 3)
    """

    def __init__(self, counts, features, *, k_classes: int,
                 feature_names: Sequence[str] | None = None):
        data = CountsData.from_arrays(counts, features, feature_names=feature_names)
        k_classes = check_k_classes(k_classes)
        p, L = data.features.shape
        if k_classes * (L + 1) - 1 > p - 1:
            raise SpecificationError(
                f"k_classes={k_classes} with L={L} features has {k_classes * (L + 1) - 1} "
                f"parameters but {p} candidates give only {p - 1} free choice probabilities; "
                "use fewer classes or more candidates")
        if (data.counts > 0).sum() < k_classes:
            warn(f"only {(data.counts > 0).sum()} candidates were ever chosen, fewer than "
                 f"k_classes={k_classes}: the classes are hardly identified", IdentificationWarning)
        self._setup(data, CountsLikelihood, k_classes, endog=data.counts, exog=data.features,
                    nobs=data.n_draws, formula_spec=None,
                    data_index=pd.Index(data.candidate_ids, name="candidate"))

    @property
    def counts(self) -> np.ndarray:
        """Counts per candidate."""
        return self.choice_data.counts

    @property
    def features(self) -> np.ndarray:
        """Candidate features, (p, L)."""
        return self.choice_data.features

    @property
    def n_draws(self) -> float:
        """Number of draws ``N``."""
        return self.choice_data.n_draws

    def predict(self, params, exog=None, *, kind: str = "probability", **kwargs):
        """Choice probabilities of the candidates.

        Parameters
        ----------
        params : array_like
            Parameter vector.
        exog : array_like or DataFrame, shape (q, L), optional
            Features of a (new) candidate set; the softmax runs over its rows.
            Default: the estimation candidates.
        kind : str
            ``"probability"``: the mixture probability ``sum_k alpha_k
            sigma_j(beta_k)`` (a Series summing to one); ``"class"``: each
            class's ``sigma_j(beta_k)`` (a DataFrame, one column per class).

        Returns
        -------
        Series or DataFrame
            Indexed by candidate.
        """
        if kwargs:
            raise SpecificationError(f"predict: unsupported arguments {sorted(kwargs)} for the "
                                     "counts form")
        if kind not in ("probability", "class"):
            raise SpecificationError(f"kind={kind!r}; use 'probability' or 'class'")
        lay = self.layout
        if exog is None:
            X, index = self.choice_data.features, self.data_index
        else:
            index = exog.index if isinstance(exog, pd.DataFrame) else None
            if isinstance(exog, pd.DataFrame):
                missing = [c for c in lay.exog_names if c not in exog.columns]
                if not missing:
                    exog = exog[list(lay.exog_names)]
            X = np.asarray(exog, dtype=float)
            X = X[:, None] if X.ndim == 1 else X
            if X.ndim != 2 or X.shape[1] != lay.k_exog:
                raise SpecificationError(f"new features must have {lay.k_exog} columns "
                                         f"({list(lay.exog_names)}), got shape {X.shape}")
            index = pd.RangeIndex(X.shape[0], name="candidate") if index is None else index
        u = lay.unpack(params)
        sigma, _ = column_softmax(X @ u.betas.T)
        if kind == "class":
            return pd.DataFrame(sigma, index=index, columns=lay.class_names)
        g = u.gamma[:, 0]
        alpha = np.exp(g - g.max())
        alpha /= alpha.sum()
        return pd.Series(sigma @ alpha, index=index, name="probability")
