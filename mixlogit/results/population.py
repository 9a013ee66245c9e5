"""The distribution of tastes a latent-class fit implies (lclogitcov, lclogitwtp).

With class shares ``s_k`` (the mean prior class probabilities) and class
coefficients ``c_k`` on the joint design, the implied population mean is
``mu = sum_k s_k c_k`` and the covariance ``Sigma = sum_k s_k (c_k - mu)(c_k -
mu)'`` (the between-class covariance of a discrete distribution; class-invariant
terms have variance 0). The mean's delta-method Jacobian is ``s_k`` on class k's
coefficients plus ``sum_k c_k ds_k / dtheta`` on the membership parameters.

Individual willingness to pay is the posterior mean of the class values,
``sum_k h_nk (-c_ka / c_kp)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _checks as ck
from ..exceptions import SpecificationError
from .postestimation import delta_method

__all__ = ["PopulationMoments", "population_moments", "individual_wtp"]


@dataclass(frozen=True)
class PopulationMoments:
    """Implied population mean and covariance of the utility coefficients.

    Attributes
    ----------
    mean : DataFrame
        One row per utility term: ``estimate``, ``bse``, ``z``, ``pvalue``,
        ``lower``, ``upper`` (delta method).
    cov : DataFrame
        Between-class covariance of the coefficients.
    sd : Series
        Standard deviations, the square roots of ``cov``'s diagonal.
    corr : DataFrame
        Correlations (NaN for a term without variance).

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.population import population_moments
    >>> population_moments(res).cov.shape
    (2, 2)
    """

    mean: pd.DataFrame
    cov: pd.DataFrame
    sd: pd.Series
    corr: pd.DataFrame


def population_moments(results, *, alpha: float = 0.05) -> PopulationMoments:
    """Implied population mean (with delta-method errors) and covariance of the tastes.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    alpha : float
        1 - confidence level of the mean's intervals.

    Returns
    -------
    PopulationMoments

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.population import population_moments
    >>> m = population_moments(res)
    >>> bool(np.allclose(m.mean["estimate"], res.params_by_class @ res.class_shares))
    True
    """
    alpha = ck.probability_level()(alpha, "alpha", "population_moments()")
    state = results.fit_state
    lay = state.likelihood.layout
    theta = np.asarray(state.params, float)
    C = lay.unpack(theta).class_coefficients            # (K, Lj)
    s, Js = state.share_jacobian()                       # (K,), (K, d)
    mu = s @ C
    dev = C - mu
    Sigma = np.einsum("k,ka,kb->ab", s, dev, dev)
    J = C.T @ Js                                         # (Lj, d): through the shares
    for k in range(lay.k_classes):
        J[np.arange(C.shape[1]), lay.class_design_index(k)] += s[k]
    J = state.reduce_jacobian(J)
    names = list(lay.exog_names) + list(lay.invariant_names)
    index = pd.Index(names, name="term")
    mean = delta_method(mu, J, np.asarray(results.normalized_cov_params, float),
                        alpha=alpha, index=index)
    mean.attrs["jacobian"] = pd.DataFrame(J, index=index, columns=lay.param_names)
    sd = np.sqrt(np.clip(np.diag(Sigma), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.where(np.outer(sd, sd) > 0, Sigma / np.outer(sd, sd), np.nan)
    return PopulationMoments(mean=mean, cov=pd.DataFrame(Sigma, index=index, columns=names),
                             sd=pd.Series(sd, index=index, name="sd"),
                             corr=pd.DataFrame(corr, index=index, columns=names))


def individual_wtp(results, price: str, attributes=None) -> pd.DataFrame:
    """Posterior-mean willingness to pay of each decision maker.

    ``WTP_na = sum_k h_nk (-c_ka / c_kp)`` with ``h_nk`` his posterior class
    probabilities given his choices.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    price : str
        The price (cost) term.
    attributes : list of str, optional
        Terms to value (default every other utility term).

    Returns
    -------
    DataFrame
        One row per decision maker (or candidate, counts form), one column per attribute.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.population import individual_wtp
    >>> individual_wtp(res, price="x1").shape
    (100, 1)
    """
    state = results.fit_state
    if state.data_removed:
        raise SpecificationError("individual_wtp() needs the posteriors, which remove_data() "
                                 "dropped; refit")
    lik = state.likelihood
    lay = lik.layout
    names = list(lay.exog_names) + list(lay.invariant_names)
    if price not in names:
        raise SpecificationError(f"price {price!r} is not a utility term; terms are {names}")
    if attributes is None:
        attributes = [n for n in names if n != price]
    attributes = [attributes] if isinstance(attributes, str) else list(attributes)
    unknown = [a for a in attributes if a not in names or a == price]
    if unknown or not attributes:
        raise SpecificationError(f"attributes {unknown or attributes} must be utility terms other "
                                 f"than the price; terms are {names}")
    C = lay.unpack(np.asarray(state.params, float)).class_coefficients
    cp = C[:, names.index(price)]
    cols = [names.index(a) for a in attributes]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.where(cp[:, None] != 0, -C[:, cols] / cp[:, None], np.nan)
    values = state.evaluation.posteriors @ per_class
    name = "candidate" if lik.form == "counts" else "decision_maker"
    return pd.DataFrame(values, index=pd.Index(lik.data.decision_maker_ids, name=name),
                        columns=attributes)
