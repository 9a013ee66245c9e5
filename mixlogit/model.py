"""The latent-class (mixed) multinomial logit model.

:class:`MixedMultinomialLogit` is a statsmodels likelihood model: construct it
from arrays or with :meth:`~MixedMultinomialLogit.from_formula`, call
:meth:`~MixedMultinomialLogit.fit`, and get a
:class:`~mixlogit.results.MixedMultinomialLogitResults`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.base.model import LikelihoodModel

from . import selection
from ._direct import DIRECT_METHODS
from ._fit import run_fit
from ._fit_options import (
    FIT_CHECKS,
    FIT_DEFAULTS,
    FORMULA_CHECKS,
    check_k_classes,
)
from ._model_builders import ModelBuilders
from ._model_likelihood import LikelihoodMethods
from .data import ChoiceData, CountsData
from .exceptions import IdentificationWarning, SpecificationError, warn
from .formula import FormulaSpec
from .likelihood import CountsLikelihood, LongLikelihood, MixtureLikelihood
from .likelihood.estimate import SWITCH_TOL
from .likelihood.partitioned import PartitionedData, PartitionedLikelihood
from .params import ParamLayout
from .prediction import predict_counts, predict_long
from .results import MixedMultinomialLogitResults

__all__ = ["MixedMultinomialLogit", "CountsMixedMultinomialLogit",
           "DistributedMixedMultinomialLogit", "select_classes", "check_k_classes",
           "DIRECT_METHODS", "FIT_CHECKS", "FIT_DEFAULTS", "FORMULA_CHECKS"]

class MixedMultinomialLogit(ModelBuilders, LikelihoodMethods, LikelihoodModel):
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
    weights_kind : {"frequency", "sampling"}, optional
        What ``weights`` are; see :class:`~mixlogit.data.ChoiceData`.
    alternatives : array_like, shape (n,), optional
        Alternative id of each row: a situation listing one twice is refused.

    Notes
    -----
    The log-likelihood is ``sum_n w_n log sum_k pi_nk prod_t P_k(y_nt)`` with
    ``pi_nk`` a multinomial logit in the membership covariates (plain shares
    without them). Rows are sorted internally by decision maker and situation;
    results map back to the input order. See ``ALGORITHMS.md`` for the
    estimation method.

    Like a statsmodels model, the model keeps a reference to a float64
    ``exog`` array rather than a copy (``model.exog`` is that array when no row
    was dropped; ``model.endog`` the chosen flags, both in input order): do not
    modify it in place after building the model.

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
                 weights_kind: str | None = None, alternatives=None,
                 exog_names: Sequence[str] | None = None,
                 invariant_names: Sequence[str] | None = None,
                 membership_names: Sequence[str] | None = None,
                 formula_spec: FormulaSpec | None = None,
                 argument_names: dict[str, str] | None = None,
                 data_index: pd.Index | None = None):
        k_classes = check_k_classes(k_classes, where="MixedMultinomialLogit()")
        choice_data = ChoiceData.from_arrays(
            endog, exog, groups=groups, panel=panel, exog_invariant=exog_invariant,
            exog_membership=exog_membership, weights=weights, availability=availability,
            weights_kind=weights_kind, alternatives=alternatives, exog_names=exog_names,
            invariant_names=invariant_names, membership_names=membership_names,
            argument_names=argument_names)
        if k_classes > choice_data.n_decision_makers:
            raise SpecificationError(
                f"k_classes={k_classes} exceeds the number of decision makers "
                f"({choice_data.n_decision_makers}); use fewer classes"
            )
        # statsmodels' endog and exog: the estimation rows in the order given (the caller's
        # attribute array itself when no row was dropped), not a sorted copy
        endog_in, exog_in = choice_data.input_order_design()
        self._setup(choice_data, LongLikelihood, k_classes, endog=endog_in, exog=exog_in,
                    nobs=choice_data.n_rows, formula_spec=formula_spec, data_index=data_index)

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
        #: decision makers the starts are fitted on when the data hold more (a hashed sample,
        #: see :meth:`MixtureLikelihood.start_likelihood`); None fits the starts on all
        self.start_sample: int | None = likelihood_class.default_start_sample(data)

    @classmethod
    def _counts_model(cls) -> type[MixedMultinomialLogit]:
        return CountsMixedMultinomialLogit

    @classmethod
    def _distributed_model(cls) -> type[MixedMultinomialLogit]:
        return DistributedMixedMultinomialLogit

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

    def likelihood(self, fixed: Mapping[str, float] | None = None, *,
                   engine: str = "auto") -> MixtureLikelihood:
        """The model's mixture likelihood, with ``fixed`` parameters held at their values.

        Parameters
        ----------
        fixed : dict, optional
            ``{parameter name: value}``.
        engine : {"auto", "numpy", "numba"}
            The kernel of the long form (``"auto"``: the compiled one when numba
            is installed and the data are large, see
            :data:`mixlogit.likelihood.blocks.NUMBA_MIN_ROWS`); the other forms
            have one engine and refuse any other value than ``"auto"``.

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
        if engine == "auto":
            return self.likelihood_class(self.choice_data, self.layout, mask, values)
        if engine not in self.likelihood_class.engines:
            raise SpecificationError(
                f"engine={engine!r} does not apply to {self.likelihood_class.__name__}, which "
                "has one engine; leave engine='auto'")
        build: Any = self.likelihood_class
        return build(self.choice_data, self.layout, mask, values, engine=engine)

    # ---------------------------------------------------------------- fit
    def fit(self, start_params=None, *, method: str = "em", start: Any = None,
            n_starts: int | None = None, budget: int | None = None, engine: str = "auto",
            seed: int | np.random.Generator | None = None, tol: float = 1e-8,
            maxiter: int = 1000, polish: bool = True, switch_tol: float = SWITCH_TOL,
            fixed: Mapping[str, float] | None = None, cov_type: str | None = None,
            cov_kwds: Mapping[str, Any] | None = None, n_jobs: int = 1,
            progress: bool | None = None, disp: bool = False,
            constraints: Mapping[str, Sequence[int]] | Sequence[str] | None = None,
            bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
            **start_kwds: Any) -> MixedMultinomialLogitResults:
        """Fit the model by EM from several starts, then polish by Newton.

        Parameters
        ----------
        start_params : array_like or dict, optional
            Start values; when given, they replace ``start``.
        method : str
            ``"em"`` (default): EM from every start, each start handed over to
            Newton's method on the full likelihood (``polish``), keep the best.
            ``"newton"``, ``"bfgs"``, ``"lbfgs"``, ``"nm"``, ``"cg"``, ``"ncg"``,
            ``"powell"``: statsmodels' optimizers maximise the likelihood
            directly. A class-symmetric point is a stationary point they cannot
            leave, so each start whose classes coincide is perturbed (seeded by
            ``seed``), and every start first runs a short EM (relative change
            1e-6, at most 200 iterations; see :mod:`mixlogit._direct`). A direct
            fit is converged when the optimizer says so and the Hessian is
            negative definite at its end.
        start : str, array, dict or list, optional
            A start strategy of :mod:`mixlogit.starts` (``"partition"``:
            random partitions of decision makers, one conditional logit per
            group; ``"subspace"``: draws in an estimated subspace of the class
            coefficients; ``"mom"``, counts form only: the method-of-moments
            estimates, then subspace draws; ``"short"``, ``"kmeans"``,
            ``"split"``), or start values. Default: ``"partition"`` for
            long-format data, ``"mom"`` for the counts form of
            :meth:`from_counts`.
        n_starts : int
            Total number of starts, whatever the strategy (``"mom"`` included:
            its moment estimates count). With ``k_classes=1`` and a named
            strategy one start is run (the likelihood is then concave).
        seed : int or numpy.random.Generator, optional
            Seed of every random choice; the same seed gives the same fit.
        tol : float
            EM criterion: a start stops when the relative change of the
            log-likelihood is below ``tol`` (``method="em"`` only).
        maxiter : int
            Maximum EM iterations (per start) or optimizer iterations.
        polish : bool
            Hand each EM start over to Newton's method on the full likelihood
            once EM's relative change falls below ``switch_tol``
            (``method="em"`` only).
        switch_tol : float
            Advanced: the relative log-likelihood change at which a start hands
            over from EM to Newton (``method="em"`` with ``polish=True`` only).
        fixed : dict, optional
            ``{parameter name: value}`` held fixed, e.g. ``{"class2:time": 0.0}``.
            With fixed class-specific or membership terms, classes keep their
            numbering (no canonical reordering).
        cov_type : str, optional
            ``"oim"`` (observed information), ``"opg"``, ``"robust"``,
            ``"cluster"`` or ``"bootstrap"``; see :mod:`mixlogit.covariance`.
            Default: ``"oim"``, or ``"robust"`` when the weights are sampling
            weights (:attr:`~mixlogit.data.ChoiceData.weights_kind`).
        cov_kwds : dict, optional
            Options of the covariance estimator (``groups`` for ``"cluster"``:
            a column name or one label per decision maker; ``n_reps`` and
            ``seed`` for ``"bootstrap"``).
        n_jobs : int
            Threads running EM starts concurrently; -1 uses every core
            (``method="em"`` only).
        progress : bool, optional
            Progress bar over starts (default: when interactive).
        disp : bool
            Print optimizer messages (direct methods only).
        constraints : dict or list of str, optional
            Equality of coefficients (``method="em"`` only):
            ``{"pf": [1, 2]}`` makes classes 1 and 2 share the coefficient of
            ``pf``; or strings ``"class1:pf = class2:pf"``. EM and the polish
            run in the reduced coordinates; the tied parameters get the same
            standard error (``A cov(phi) A'``) and ``df_model`` counts each
            group once. Constrained classes keep their numbering.
        bounds : dict, optional
            ``{parameter name: (low, high)}`` (``None`` for no bound), e.g.
            ``{"class1:pf": (None, 0.0)}`` for a non-positive price
            coefficient (``method="em"`` only). Every EM and Newton step stays
            feasible; a parameter at an active bound has a NaN standard error
            with the reason "at its bound" in ``cov_reasons``.
        **start_kwds
            Options of the start strategy (``scale`` of ``"subspace"`` on
            long-format data, ``n_tries`` of ``"mom"``); any other keyword
            raises :class:`~mixlogit.exceptions.SpecificationError` naming the
            valid ones.

        Returns
        -------
        MixedMultinomialLogitResults

        Raises
        ------
        SpecificationError
            An invalid option, an unknown keyword, or an option the ``method``
            does not use set away from its default (``method="bfgs"`` with
            ``polish=False``, ``tol``, ``switch_tol`` or ``n_jobs``).

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
        >>> tied = model.fit(n_starts=2, seed=0, constraints=["class1:x2 = class2:x2"])
        >>> bool(tied.params["class1:x2"] == tied.params["class2:x2"])
        True
        """
        given = dict(method=method, start=start, n_starts=n_starts, budget=budget,
                     engine=engine, seed=seed, tol=tol,
                     maxiter=maxiter, polish=polish, switch_tol=switch_tol, fixed=fixed,
                     cov_type=cov_type, cov_kwds=cov_kwds, n_jobs=n_jobs, progress=progress,
                     disp=disp, constraints=constraints, bounds=bounds)
        return run_fit(self, given, start_params=start_params, start_kwds=start_kwds)

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
            Indexed like the input rows. On new data, unavailable alternatives
            get 0 and the rows of a situation with a missing value NaN; on the
            estimation rows, rows estimation did not use (unavailable or
            dropped) get NaN.

        Raises
        ------
        DataError
            New data break an estimation rule (see :mod:`mixlogit.prediction`):
            a missing situation id, an infinite or text attribute, availability
            other than 0/1 or missing when the model used it, a situation with
            nothing available, an empty frame, arrays of different lengths.

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
        return predict_long(self, params, exog, groups=groups, exog_invariant=exog_invariant,
                            exog_membership=exog_membership, availability=availability, kind=kind)


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
        k_classes = check_k_classes(k_classes, where="from_counts()")
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
            raise SpecificationError(
                f"predict() on the counts form takes no {sorted(kwargs)}: the candidates share one "
                "choice set, so there are no situations, invariant attributes or availability; "
                "pass params, exog (features) and kind")
        return predict_counts(self, params, exog, kind=kind)


class DistributedMixedMultinomialLogit(MixedMultinomialLogit):
    """The latent-class logit on partitioned data resident on Dask workers.

    Built by :meth:`MixedMultinomialLogit.from_formula` when ``data`` is a dask
    DataFrame. ``fit`` takes the same options; its starts are fitted on a
    deterministic sample of at most :attr:`start_sample` decision makers
    (a hash of the id and the seed, so the same whatever the partitioning),
    and the distinct optima found there are run to convergence on all the
    data. EM, the polish and the covariance move only additive pieces between
    the workers and this process (see :mod:`mixlogit.likelihood.partitioned`).

    Parameters
    ----------
    data : PartitionedData
        From :func:`mixlogit.distributed.partitioned_data_from_dask`.
    k_classes : int
    start_sample : int or None
        Decision makers the starts are fitted on (``None``: all).

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.likelihood.partitioned import PartitionedLikelihood
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=80, n_situations=4, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.5, 0.5], seed=0)
    >>> local = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
    >>> parts = PartitionedLikelihood.split(local.likelihood(), 2).data  # two local partitions
    >>> model = DistributedMixedMultinomialLogit(parts, k_classes=2)
    >>> res = model.fit(n_starts=2, seed=0)
    >>> bool(abs(res.llf - local.fit(n_starts=2, seed=0).llf) < 1e-6)
    True
    """

    def __init__(self, data: PartitionedData, *, k_classes: int,
                 start_sample: int | None = 200_000):
        k_classes = check_k_classes(k_classes, where="from_formula()")
        if k_classes > data.n_decision_makers:
            raise SpecificationError(
                f"k_classes={k_classes} exceeds the number of decision makers "
                f"({data.n_decision_makers}); use fewer classes")
        L = len(data.exog_names)
        self._setup(data, PartitionedLikelihood, k_classes, endog=np.zeros(1),
                    exog=np.zeros((1, L)), nobs=data.n_rows, formula_spec=None, data_index=None)
        self.start_sample = start_sample

    def predict(self, params, exog=None, **kwargs):
        """Not available in-sample for partitioned data: predict on a pandas frame of new data
        with a model built from it, or gather the rows you need."""
        raise SpecificationError(
            "predict on partitioned data is not available; build a local model on the rows "
            "to predict (mx.MixedMultinomialLogit.from_formula(formula, frame, ...)) and pass "
            "these estimates: model.predict(res.params)")


def select_classes(formula, data=None, **kwds):
    """Fit K = 1, 2, ... classes and compare them; see :func:`mixlogit.selection.select_classes`.

    With a formula, the models are built by :meth:`MixedMultinomialLogit.from_formula`.

    Examples
    --------
    >>> import mixlogit as mx
    >>> df = mx.datasets.electricity.load()
    >>> sel = mx.select_classes("choice ~ pf + cl - 1", df, groups="chid", panel="id",
    ...                         k_classes=[1, 2], n_starts=2, seed=0)
    >>> list(sel.table.index)
    [1, 2]
    """
    if isinstance(formula, str):
        kwds.setdefault("builder", MixedMultinomialLogit.from_formula)
    return selection.select_classes(formula, data, **kwds)
