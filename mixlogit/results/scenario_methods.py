"""Scenario and population methods of the results (thin calls of
:mod:`mixlogit.results.scenarios`, :mod:`~mixlogit.results.welfare` and
:mod:`~mixlogit.results.population`)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from .population import PopulationMoments, individual_wtp, population_moments
from .scenarios import loglike_holdout, predict_shares, prior_probs, simulate
from .welfare import consumer_surplus, elasticities_at, wtp_at

__all__ = ["ScenarioMixin"]


class ScenarioMixin:
    """Market shares, scenarios, welfare and the implied taste distribution."""

    _labelled: Callable[[], Any]

    def predict_shares(self, newdata=None, *, by="alt", kind: str = "prior",
                       alpha: float = 0.05, method: str = "delta", bootstrap=None
                       ) -> pd.DataFrame:
        """Market shares per value of ``by`` with delta-method or bootstrap intervals.

        Parameters
        ----------
        newdata : DataFrame, optional
            Long scenario frame (default the estimation data).
        by : str or array_like
            Grouping column (normally the alternative) or one label per row.
        kind : {"prior", "posterior"}
            Mix classes by the membership model, or by the estimation sample's
            posteriors (lclogit's posterior prediction).
        alpha : float
            1 - confidence level.
        method : {"delta", "bootstrap"}
            Delta method (analytic Jacobian) or bootstrap percentiles.
        bootstrap : BootstrapResults, optional
            Replicates (default ``bootstrap_results``).

        Returns
        -------
        DataFrame
            See :func:`mixlogit.results.scenarios.predict_shares`.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> tab = res.predict_shares(by="alt")
        >>> tab.shape, round(float(tab["share"].sum()), 12)
        ((3, 6), 1.0)
        """
        return predict_shares(self._labelled(), newdata, by=by, kind=kind, alpha=alpha,
                              method=method, bootstrap=bootstrap)

    def prior_probs(self, newdata=None) -> pd.DataFrame:
        """Prior (membership-model) class probabilities of each decision maker (lclogitpr ``up``).

        Parameters
        ----------
        newdata : DataFrame, optional
            Long frame of decision makers (default the estimation sample).

        Returns
        -------
        DataFrame
            One row per decision maker, one column per class.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> res.prior_probs().shape
        (100, 2)
        """
        return prior_probs(self._labelled(), newdata)

    def elasticities_at(self, newdata, attribute: str, *, alternative: str | None = None
                        ) -> pd.DataFrame:
        """Own (or, with ``alternative``, own and cross) elasticities on new data.

        Parameters
        ----------
        newdata : DataFrame or None
            Long scenario frame (None: the estimation data).
        attribute : str
            Utility term that changes.
        alternative : str, optional
            Column of alternative labels: mean elasticity matrices.

        Returns
        -------
        DataFrame
            See :func:`mixlogit.results.welfare.elasticities_at`.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> list(res.elasticities_at(sim.data.head(6), "x1").columns)
        ['class1', 'class2', 'population']
        """
        return elasticities_at(self._labelled(), newdata, attribute, alternative=alternative)

    def wtp_at(self, newdata, price: str, attributes=None, *, alpha: float = 0.05
               ) -> pd.DataFrame:
        """Willingness to pay per class and for the population of new decision makers.

        Parameters
        ----------
        newdata : DataFrame or None
            Long frame of decision makers (None: the estimation sample).
        price : str
            The price (cost) term.
        attributes : list of str, optional
            Terms to value (default every other term).
        alpha : float
            1 - confidence level.

        Returns
        -------
        DataFrame
            See :func:`mixlogit.results.welfare.wtp_at`.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> list(res.wtp_at(sim.data.head(30), price="x1").columns[:2])
        ['wtp', 'bse']
        """
        return wtp_at(self._labelled(), newdata, price, attributes, alpha=alpha)

    def consumer_surplus(self, newdata=None, *, base=None, price: str,
                         alpha: float = 0.05) -> pd.DataFrame:
        """Consumer surplus (logsum over -price coefficient), or its change from ``base``.

        Parameters
        ----------
        newdata : DataFrame, optional
            The scenario (default the estimation data).
        base : DataFrame, optional
            Reference scenario; the result is the change ``CS(newdata) - CS(base)``.
        price : str
            The price (cost) term.
        alpha : float
            1 - confidence level.

        Returns
        -------
        DataFrame
            See :func:`mixlogit.results.welfare.consumer_surplus`.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> better = sim.data.assign(x2=sim.data["x2"] + 0.5)
        >>> cs = res.consumer_surplus(better, base=sim.data, price="x1")
        >>> list(cs.index)
        ['class1', 'class2', 'population']
        """
        return consumer_surplus(self._labelled(), newdata, base=base, price=price, alpha=alpha)

    def simulate(self, newdata=None, *, seed=None, kind: str | None = None) -> pd.DataFrame:
        """Simulated choices, reproducible with ``seed``.

        Parameters
        ----------
        newdata : DataFrame, optional
            Long scenario frame (default the estimation data).
        seed : int or numpy.random.Generator, optional
        kind : {"prior", "posterior"}, optional
            Draw classes from the prior or the posterior (default: posterior
            in sample, prior on new data).

        Returns
        -------
        DataFrame
            Columns ``choice`` (0/1) and ``class``; see
            :func:`mixlogit.results.scenarios.simulate`.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> int(res.simulate(seed=0)["choice"].sum())
        500
        """
        return simulate(self._labelled(), newdata, seed=seed, kind=kind)

    def population_moments(self, *, alpha: float = 0.05) -> PopulationMoments:
        """Implied population mean (delta-method errors) and covariance of the tastes (lclogitcov).

        Parameters
        ----------
        alpha : float
            1 - confidence level.

        Returns
        -------
        PopulationMoments
            ``mean``, ``cov``, ``sd``, ``corr``; see :mod:`mixlogit.results.population`.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> list(res.population_moments().mean.index)
        ['x1', 'x2']
        """
        return population_moments(self._labelled(), alpha=alpha)

    def individual_wtp(self, price: str, attributes=None) -> pd.DataFrame:
        """Posterior-mean willingness to pay of each decision maker.

        Parameters
        ----------
        price : str
            The price (cost) term.
        attributes : list of str, optional
            Terms to value (default every other term).

        Returns
        -------
        DataFrame
            One row per decision maker, one column per attribute.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> list(res.individual_wtp(price="x1").columns)
        ['x2']
        """
        return individual_wtp(self._labelled(), price, attributes)

    def loglike_holdout(self, newdata) -> float:
        """Out-of-sample log-likelihood of new decision makers' choices.

        Parameters
        ----------
        newdata : DataFrame
            Long frame with the outcome column.

        Returns
        -------
        float

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> bool(abs(res.loglike_holdout(sim.data) - res.llf) < 1e-8)
        True
        """
        return loglike_holdout(self._labelled(), newdata)
