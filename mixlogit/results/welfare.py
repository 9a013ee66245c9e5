"""Elasticities and consumer surplus on new data (scenarios).

Elasticities
------------
With ``P_rk`` from ``predict(newdata, kind="class")``, prior class
probabilities ``pi_nk`` and the coefficient ``c_ka`` of attribute a, the point
elasticity of the mixture probability ``P_j = sum_k pi_nk P_kj`` of
alternative j with respect to attribute a of alternative i in the same
situation is ``E_ji = x_ia / P_j sum_k pi_nk P_kj c_ka ([i = j] - P_ki)``.

Willingness to pay
------------------
Class values ``-c_ka / c_kp`` do not depend on the data; the population value on
new data weights them by the mean prior class probabilities of the new decision
makers, ``sbar_k = sum_n w_n pi_nk``.

Consumer surplus
----------------
Per situation s and class k, ``CS_sk = -LS_sk / c_kp`` with the logsum
``LS_sk = log sum_j exp(c_k'x_sj)`` over the available alternatives and
``c_kp`` the price coefficient (Small and Rosen). The population value mixes
classes by the prior, ``CS_s = sum_k pi_sk CS_sk``. Reported values are
weighted means over situations; the level carries an arbitrary constant, the
change between two scenarios does not. Delta-method intervals use the
analytic gradient ``dCS_sk / dc_k = -xbar_sk / c_kp + e_p LS_sk / c_kp^2``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _checks as ck
from ..exceptions import SpecificationError
from .postestimation import delta_method
from .scenario_design import class_probs, prior_shares, scenario_design

__all__ = ["elasticities_at", "consumer_surplus", "wtp_at"]


def _term(lay, name: str, what: str) -> int:
    names = list(lay.exog_names) + list(lay.invariant_names)
    if name not in names:
        raise SpecificationError(f"{what} {name!r} is not a utility term; terms are {names}")
    return names.index(name)


def elasticities_at(results, newdata, attribute: str, *, alternative: str | None = None
                    ) -> pd.DataFrame:
    """Own and cross point elasticities of the choice probabilities on new data.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    newdata : DataFrame or None
        Long scenario frame (None: the estimation data).
    attribute : str
        Utility term whose value changes (a column of the design).
    alternative : str, optional
        Column of alternative labels. Without it, the own elasticity of every
        row is returned; with it, the mean elasticity matrices.

    Returns
    -------
    DataFrame
        Without ``alternative``: indexed like the rows, one column per class
        and ``population`` (own elasticities). With it: index ``(class,
        changed)``, columns the responding alternatives, averaged over the
        situations offering both.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.welfare import elasticities_at
    >>> E = elasticities_at(res, sim.data.head(30), "x1", alternative="alt")
    >>> E.loc["population"].shape
    (3, 3)
    """
    D = scenario_design(results, newdata, "elasticities_at()", counts=True)
    lay = results.fit_state.likelihood.layout
    a = _term(lay, attribute, "attribute")
    theta = np.asarray(results.fit_state.params, float)
    P, _, C = class_probs(lay, theta, D)
    pi = prior_shares(lay, theta, D)[D.dm_of_row]
    ca, x = C[:, a], D.X[:, a]
    K = lay.k_classes
    if alternative is None:
        Pmix = (pi * P).sum(axis=1)
        own = np.column_stack([ca[None, :] * x[:, None] * (1 - P),
                               x * (pi * P * ca * (1 - P)).sum(axis=1) / Pmix])
        out = np.full((len(D.index), K + 1), np.nan)
        out[D.rows] = np.where(D.avail[:, None], own, np.nan)
        return pd.DataFrame(out, index=D.index, columns=lay.class_names + ["population"])
    if D.frame is None or alternative not in D.frame.columns:
        raise SpecificationError(f"alternative {alternative!r} is not a column of the data")
    alts, codes = np.unique(D.frame[alternative].to_numpy(), return_inverse=True)
    S, A = len(D.sit_start), len(alts)
    if np.any(np.bincount(D.sit_of_row * A + codes, minlength=S * A) > 1):
        raise SpecificationError("an alternative label appears twice in one choice situation")
    ok = D.avail
    Pd = np.full((S, A, K), np.nan)
    Pd[D.sit_of_row[ok], codes[ok]] = P[ok]
    Xd = np.full((S, A), np.nan)
    Xd[D.sit_of_row[ok], codes[ok]] = x[ok]
    pid = prior_shares(lay, theta, D)[D.dm_of_sit]
    eye = np.eye(A)
    E_class = [ca[k] * Xd[:, :, None] * (eye - Pd[:, :, k][:, :, None]) for k in range(K)]
    Pmix = np.einsum("sk,sak->sa", pid, Pd)
    E_mix = sum(pid[:, k, None, None] * Pd[:, None, :, k] * E_class[k] for k in range(K))
    E_mix = E_mix / Pmix[:, None, :]
    frames = []
    for E in E_class + [E_mix]:
        n_ok = np.isfinite(E).sum(axis=0)
        mean = np.where(n_ok > 0, np.nansum(E, axis=0) / np.maximum(n_ok, 1), np.nan)
        frames.append(pd.DataFrame(mean, index=pd.Index(alts, name="changed"),
                                   columns=pd.Index(alts, name="responding")))
    return pd.concat(frames, keys=lay.class_names + ["population"], names=["class", "changed"])


def _surplus(results, theta, D, p: int):
    """Weighted mean CS per class and population, and their Jacobian (K + 1, d)."""
    lay = results.fit_state.likelihood.layout
    P, lse, C = class_probs(lay, theta, D)
    pi = prior_shares(lay, theta, D)[D.dm_of_sit]
    w = D.situation_weights
    cp = C[:, p]
    K, d = lay.k_classes, lay.n_params
    with np.errstate(divide="ignore", invalid="ignore"):
        cs = -lse / cp                                     # (S, K)
    cs_mix = (pi * cs).sum(axis=1)
    values = np.r_[w @ cs, w @ cs_mix]
    J = np.zeros((K + 1, d))
    for k in range(K):
        xbar = np.add.reduceat(P[:, k:k + 1] * D.X, D.sit_start, axis=0)   # (S, Lj)
        grad = -xbar / cp[k]
        grad[:, p] += lse[:, k] / cp[k] ** 2
        pos = lay.class_design_index(k)
        J[k, pos] += w @ grad
        J[K, pos] += (w * pi[:, k]) @ grad
    Lz = D.Z.shape[1]
    Zs = D.Z[D.dm_of_sit]
    for j in range(1, K):
        block = slice(lay.membership_slice.start + (j - 1) * Lz,
                      lay.membership_slice.start + j * Lz)
        J[K, block] += (w * pi[:, j] * (cs[:, j] - cs_mix)) @ Zs
    J = results.fit_state.reduce_jacobian(J)
    return values, J


def consumer_surplus(results, newdata, *, base=None, price: str, alpha: float = 0.05
                     ) -> pd.DataFrame:
    """Expected consumer surplus (logsum / -price coefficient) of a scenario, or its change.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    newdata : DataFrame or None
        The scenario (None: the estimation data).
    base : DataFrame, optional
        The reference scenario; the result is then ``CS(newdata) - CS(base)``
        (each a weighted mean over its situations; give both the same situations
        for a per-situation change).
    price : str
        The price (cost) term; money per unit of utility is ``-1 / c_price``.
    alpha : float
        1 - confidence level.

    Returns
    -------
    DataFrame
        Rows ``class1..classK`` and ``population`` (prior-mixed); columns
        ``estimate``, ``bse``, ``z``, ``pvalue``, ``lower``, ``upper``
        (delta method). ``attrs["jacobian"]`` is the Jacobian.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.welfare import consumer_surplus
    >>> same = consumer_surplus(res, sim.data, base=sim.data, price="x1")
    >>> float(same.loc["population", "estimate"])
    0.0
    """
    alpha = ck.probability_level()(alpha, "alpha", "consumer_surplus()")
    lay = results.fit_state.likelihood.layout
    p = _term(lay, price, "price")
    theta = np.asarray(results.fit_state.params, float)
    values, J = _surplus(results, theta, scenario_design(results, newdata, "consumer_surplus()", counts=True), p)
    if base is not None:
        v0, J0 = _surplus(results, theta, scenario_design(results, base, "consumer_surplus()", counts=True), p)
        values, J = values - v0, J - J0
    index = pd.Index(lay.class_names + ["population"], name="class")
    out = delta_method(values, J, np.asarray(results.normalized_cov_params, float),
                       alpha=alpha, index=index)
    out.attrs["jacobian"] = pd.DataFrame(J, index=index, columns=lay.param_names)
    return out


def _mean_prior(lay, w: np.ndarray, pi: np.ndarray, Z: np.ndarray):
    """Weighted mean prior class probabilities (K,) and their Jacobian (K, d)."""
    K = lay.k_classes
    J = np.zeros((K, lay.n_params))
    Lz = Z.shape[1]
    for j in range(1, K):
        block = slice(lay.membership_slice.start + (j - 1) * Lz,
                      lay.membership_slice.start + j * Lz)
        for k in range(K):
            J[k, block] = (w * pi[:, k] * ((k == j) - pi[:, j])) @ Z
    return w @ pi, J


def wtp_at(results, newdata, price: str, attributes=None, *, alpha: float = 0.05
           ) -> pd.DataFrame:
    """Willingness to pay per class and for the population of ``newdata``'s decision makers.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    newdata : DataFrame or None
        Long frame of decision makers (None: the estimation sample); only
        their membership covariates (and weights) matter.
    price : str
        The price (cost) term.
    attributes : list of str, optional
        Terms to value (default every other utility term).
    alpha : float
        1 - confidence level.

    Returns
    -------
    DataFrame
        Index ``(class, attribute)``, classes then ``population`` (weighted
        by the mean prior class probabilities of the new decision makers);
        columns ``wtp``, ``bse``, ``z``, ``pvalue``, ``lower``, ``upper``.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.welfare import wtp_at
    >>> wtp_at(res, sim.data.head(30), "x1").index.tolist()
    [('class1', 'x2'), ('class2', 'x2'), ('population', 'x2')]
    """
    alpha = ck.probability_level()(alpha, "alpha", "wtp_at()")
    D = scenario_design(results, newdata, "wtp_at()")
    lay = results.fit_state.likelihood.layout
    names = list(lay.exog_names) + list(lay.invariant_names)
    p = _term(lay, price, "price")
    if attributes is None:
        attributes = [n for n in names if n != price]
    attributes = [attributes] if isinstance(attributes, str) else list(attributes)
    cols = [_term(lay, a, "attribute") for a in attributes]
    if p in cols or not cols:
        raise SpecificationError("attributes must name utility terms other than the price")
    theta = np.asarray(results.fit_state.params, float)
    C = lay.unpack(theta).class_coefficients
    K, d, A = lay.k_classes, lay.n_params, len(cols)
    w = D.weights / D.weights.sum()
    pi = prior_shares(lay, theta, D)
    sbar, Js = _mean_prior(lay, w, pi, D.Z)
    values = np.full((K, A), np.nan)
    J = np.zeros((K, A, d))
    for k in range(K):
        pos = lay.class_design_index(k)
        cp = C[k, p]
        if cp == 0:
            J[k] = np.nan
            continue
        values[k] = -C[k, cols] / cp
        J[k, np.arange(A), pos[cols]] = -1.0 / cp
        J[k, :, pos[p]] = C[k, cols] / cp ** 2
    pop = sbar @ values
    Jpop = np.einsum("k,kad->ad", sbar, J) + values.T @ Js
    allv = np.r_[values.ravel(), pop] if K > 1 else values.ravel()
    allJ = np.vstack([J.reshape(-1, d), Jpop]) if K > 1 else J.reshape(-1, d)
    allJ = results.fit_state.reduce_jacobian(allJ)
    index = [(c, a) for c in lay.class_names for a in attributes]
    index += [("population", a) for a in attributes] if K > 1 else []
    out = delta_method(allv, allJ, np.asarray(results.normalized_cov_params, float), alpha=alpha,
                       index=pd.MultiIndex.from_tuples(index, names=["class", "attribute"]))
    out = out.rename(columns={"estimate": "wtp"})
    out.attrs["jacobian"] = pd.DataFrame(allJ, index=out.index, columns=lay.param_names)
    return out
