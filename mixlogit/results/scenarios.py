"""Scenarios: market shares, prior class probabilities, elasticities, consumer surplus,
simulated choices and out-of-sample fit, on the estimation data or on new data.

Every function takes the (labelled) results of a long-format fit (market shares,
elasticities and consumer surplus also a counts-form fit, whose candidate set, or
new candidate features, is one situation of one decision maker) and, where it
says so, a long DataFrame ``newdata`` with the columns of the model's formulas,
its ``groups`` column (situations), its ``panel`` column (decision makers; without
it each situation is its own decision maker) and, when the model has them, its
``availability`` and ``weights`` columns. Unavailable rows may hold missing
attributes; any other missing value raises :class:`~mixlogit.exceptions.DataError`.

Notation: class k has coefficients ``c_k`` on the joint design ``x`` (class
terms and invariant terms), ``P_rk`` is class k's logit probability of row r
within its situation, ``pi_nk`` the prior (membership-model) class probability
of decision maker n and ``h_nk`` his posterior given his estimation-sample
choices. ``w_s`` is the weight of situation s's decision maker, normalised to
sum to one over the situations.

Market shares
-------------
``S_v = sum_r w_s(r) [by_r = v] sum_k m_rk P_rk`` with mixing weights
``m = pi`` (``kind="prior"``) or ``m = h`` (``kind="posterior"``). The
Jacobian is analytic: ``dP_rk / dc_k = P_rk (x_r - xbar_sk)`` with ``xbar_sk``
the class-k probability-weighted mean design of the situation,
``dpi_nk / dgamma_m = pi_nk ([k = m] - pi_nm) z_n`` and ``dh_nk = h_nk (s_nk -
sum_m h_nm s_nm)`` with ``s_nk`` the derivative of ``log pi_nk + log L_nk``
(``d log L_nk / dc_k = sum_r (y_r - P_rk) x_r`` over his estimation rows).

Consumer surplus
----------------
``CS_sk = -log sum_j exp(c_k'x_sj) / c_kp`` (the expected maximum utility in
money, up to a constant that cancels in a change), mixed by ``pi``; its
gradient is ``-xbar_sk / c_kp + e_p LS_sk / c_kp^2``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse, stats

from .. import _checks as ck
from ..exceptions import DataError, SpecificationError
from ..kernels import log_class_shares, logsumexp, situation_softmax
from .postestimation import delta_method
from .scenario_design import (
    ScenarioDesign,
    class_probs,
    posterior_shares,
    prior_shares,
    sample_positions,
    scenario_design,
)
from .welfare import consumer_surplus, elasticities_at, wtp_at

__all__ = ["predict_shares", "prior_probs", "simulate", "loglike_holdout", "share_jacobian",
           "elasticities_at", "consumer_surplus", "wtp_at"]


def _by_codes(results, D: ScenarioDesign, by) -> tuple[np.ndarray, pd.Index]:
    if results.fit_state.likelihood.form != "long":   # counts form: one share per candidate
        return np.arange(len(D.rows)), pd.Index(D.index, name=D.index.name or "candidate")
    if isinstance(by, str):
        if D.frame is None or by not in D.frame.columns:
            raise SpecificationError(f"by={by!r} is not a column of the data; name the column "
                                     "of alternative labels (or another grouping column)")
        labels = D.frame[by].to_numpy()
    else:
        labels = np.asarray(by)
        if labels.shape[0] != len(D.index):
            raise SpecificationError(f"by needs one label per row ({len(D.index)})")
        labels = labels[D.rows]
    codes, uniques = pd.factorize(labels, sort=True)
    if np.any(codes < 0):
        raise DataError("the by column has missing values; label every row")
    return codes, pd.Index(uniques, name=by if isinstance(by, str) else "by")


def share_jacobian(results, theta, D: ScenarioDesign, codes, n_groups: int, kind: str,
                   *, jacobian: bool = True):
    """Market shares at ``theta`` and (optionally) their analytic Jacobian (n_groups, d)."""
    lay = results.fit_state.likelihood.layout
    P, _, _ = class_probs(lay, theta, D)
    m_dm = prior_shares(lay, theta, D) if kind == "prior" else posterior_shares(results, theta, D)
    m = m_dm[D.dm_of_row]
    wr = D.situation_weights[D.sit_of_row]
    Pmix = (m * P).sum(axis=1)
    shares = np.bincount(codes, weights=wr * Pmix, minlength=n_groups)
    if not jacobian:
        return shares, None
    n = len(codes)
    B = sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_groups, n))
    J = np.zeros((n_groups, lay.n_params))
    K = lay.k_classes
    for k in range(K):
        xbar = np.add.reduceat(P[:, k:k + 1] * D.X, D.sit_start, axis=0)
        M = (wr * m[:, k] * P[:, k])[:, None] * (D.X - xbar[D.sit_of_row])
        J[:, lay.class_design_index(k)] += B @ M
    if kind == "prior":
        Zr = D.Z[D.dm_of_row]
        Lz = D.Z.shape[1]
        for j in range(1, K):
            block = slice(lay.membership_slice.start + (j - 1) * Lz,
                          lay.membership_slice.start + j * Lz)
            J[:, block] += B @ ((wr * m[:, j] * (P[:, j] - Pmix))[:, None] * Zr)
    else:
        J += _posterior_term(results, theta, D, P, wr, codes, n_groups, m_dm)
    J = results.fit_state.reduce_jacobian(J)
    return shares, J


def _posterior_term(results, theta, D, P, wr, codes, n_groups, h):
    """``sum_r w_r [v] sum_k P_rk dh_nk``: the posteriors' part of the share Jacobian."""
    lik = results.fit_state.likelihood
    lay = lik.layout
    d = lik.data
    K, N = lay.k_classes, len(D.dm_ids)
    pos = sample_positions(results, D)
    Pe = lik.class_probabilities(np.asarray(theta, float))
    Xe = np.hstack([d.exog, d.exog_invariant])
    y = np.asarray(d.chosen, float)
    S = np.zeros((d.n_decision_makers, K, lay.n_params))
    Sdm = sparse.csr_matrix((np.ones(d.n_rows), (d.decision_maker_of_row, np.arange(d.n_rows))),
                            shape=(d.n_decision_makers, d.n_rows))
    for k in range(K):
        S[:, k, lay.class_design_index(k)] += Sdm @ ((y - Pe[:, k])[:, None] * Xe)
    pi = np.exp(lik.evaluate(np.asarray(theta, float), order=0).log_shares)
    Z = d.exog_membership
    Lz = Z.shape[1]
    for j in range(1, K):
        block = slice(lay.membership_slice.start + (j - 1) * Lz,
                      lay.membership_slice.start + j * Lz)
        for k in range(K):
            S[:, k, block] += ((k == j) - pi[:, j])[:, None] * Z
    S = S[pos]
    sbar = np.einsum("nk,nkd->nd", h, S)
    A = np.zeros((N * n_groups, K))
    np.add.at(A, D.dm_of_row * n_groups + codes, wr[:, None] * P)
    A = A.reshape(N, n_groups, K)
    return np.einsum("nvk,nk,nkd->vd", A, h, S - sbar[:, None, :], optimize=True)


def predict_shares(results, newdata=None, *, by="alt", kind: str = "prior",
                   alpha: float = 0.05, method: str = "delta", bootstrap=None) -> pd.DataFrame:
    """Market shares (weighted mean predicted probabilities per value of ``by``) with intervals.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    newdata : DataFrame, optional
        A long scenario frame (default: the estimation data). For a counts-form
        model: new candidate features (one share per candidate, ``by`` unused).
    by : str or array_like
        Column (or one label per row) grouping the rows, normally the alternative.
    kind : {"prior", "posterior"}
        Mix the classes with the membership model's prior probabilities, or
        with the posterior probabilities of the estimation sample's decision
        makers (lclogit's posterior prediction; ``newdata`` may then only hold
        estimation-sample decision makers, matched by the panel id).
    alpha : float
        1 - confidence level.
    method : {"delta", "bootstrap"}
        Delta-method Wald intervals (analytic Jacobian and the results'
        covariance), or percentile intervals of the shares recomputed at every
        bootstrap replicate's aligned parameters.
    bootstrap : BootstrapResults, optional
        The replicates for ``method="bootstrap"`` (default ``results.bootstrap_results``).

    Returns
    -------
    DataFrame
        One row per value of ``by``; columns ``share``, ``bse``, ``z``,
        ``pvalue``, ``lower``, ``upper``. ``attrs["jacobian"]`` holds the
        Jacobian (delta method).

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.scenarios import predict_shares
    >>> tab = predict_shares(res, by="alt")
    >>> round(float(tab["share"].sum()), 12), list(tab.columns[:2])
    (1.0, ['share', 'bse'])
    """
    kind = ck.one_of("prior", "posterior")(kind, "kind", "predict_shares()")
    method = ck.one_of("delta", "bootstrap")(method, "method", "predict_shares()")
    alpha = ck.probability_level()(alpha, "alpha", "predict_shares()")
    if kind == "posterior" and results.fit_state.likelihood.form != "long":
        raise SpecificationError('kind="posterior" needs a long-format model')
    D = scenario_design(results, newdata, "predict_shares()", counts=True)
    codes, groups = _by_codes(results, D, by)
    theta = np.asarray(results.fit_state.params, float)
    if method == "delta":
        shares, J = share_jacobian(results, theta, D, codes, len(groups), kind)
        out = delta_method(shares, J, np.asarray(results.normalized_cov_params, float),
                           alpha=alpha, index=groups).rename(columns={"estimate": "share"})
        out.attrs["jacobian"] = pd.DataFrame(J, index=groups, columns=results.model.layout.param_names)
        return out
    boot = bootstrap if bootstrap is not None else getattr(results, "bootstrap_results", None)
    if boot is None:
        raise SpecificationError('method="bootstrap" needs replicates: pass bootstrap='
                                 "res.bootstrap(...) or fit with cov_type='bootstrap'")
    shares, _ = share_jacobian(results, theta, D, codes, len(groups), kind, jacobian=False)
    draws = np.asarray(boot.draws, float)
    draws = draws[np.isfinite(draws).all(axis=1)]
    if len(draws) < 2:
        raise SpecificationError("the bootstrap has fewer than 2 usable replicates")
    reps = np.array([share_jacobian(results, t, D, codes, len(groups), kind, jacobian=False)[0]
                     for t in draws])
    se = reps.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, shares / se, np.nan)
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2], axis=0)
    out = pd.DataFrame({"share": shares, "bse": se, "z": z, "pvalue": 2 * stats.norm.sf(np.abs(z)),
                        "lower": lo, "upper": hi}, index=groups)
    out.attrs["replicates"] = pd.DataFrame(reps, columns=groups)
    return out


def prior_probs(results, newdata=None) -> pd.DataFrame:
    """Prior class probabilities of each decision maker, from the membership model.

    lclogitpr's ``up``: ``pi_nk = exp(z_n'gamma_k) / sum_m exp(z_n'gamma_m)``,
    before his choices are seen (compare :meth:`posterior_probs`).

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    newdata : DataFrame, optional
        Long frame of (new) decision makers; default the estimation sample.

    Returns
    -------
    DataFrame
        One row per decision maker (indexed by his panel id), one column per class.

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
    >>> from mixlogit.results.scenarios import prior_probs
    >>> up = prior_probs(res)
    >>> up.shape, bool(np.allclose(up.iloc[0], res.class_shares))
    ((100, 2), True)
    """
    D = scenario_design(results, newdata, "prior_probs()")
    lay = results.fit_state.likelihood.layout
    pi = prior_shares(lay, np.asarray(results.fit_state.params, float), D)
    return pd.DataFrame(pi, index=pd.Index(D.dm_ids, name="decision_maker"),
                        columns=lay.class_names)


def simulate(results, newdata=None, *, seed=None, kind: str | None = None) -> pd.DataFrame:
    """Simulated choices: one class per decision maker, then one choice per situation.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    newdata : DataFrame, optional
        Long scenario frame; default the estimation data.
    seed : int or numpy.random.Generator, optional
        The same seed gives the same choices.
    kind : {"prior", "posterior"}, optional
        Where each decision maker's class is drawn from. Default: the
        posterior given his observed choices for the estimation data
        (``newdata=None``), the prior (membership model) for new data.
        ``"posterior"`` needs estimation-sample decision makers.

    Returns
    -------
    DataFrame
        Indexed like the input rows: ``choice`` (1 for the simulated choice of
        each situation, 0 otherwise; missing for rows estimation dropped) and
        ``class`` (the drawn class of the row's decision maker).

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.scenarios import simulate
    >>> out = simulate(res, sim.data, seed=1)
    >>> int(out["choice"].sum()), out.equals(simulate(res, sim.data, seed=1))
    (500, True)
    """
    D = scenario_design(results, newdata, "simulate()")
    kind = ("posterior" if D.in_sample else "prior") if kind is None else \
        ck.one_of("prior", "posterior")(kind, "kind", "simulate()")
    rng = np.random.default_rng(seed)
    lay = results.fit_state.likelihood.layout
    theta = np.asarray(results.fit_state.params, float)
    m = prior_shares(lay, theta, D) if kind == "prior" else posterior_shares(results, theta, D)
    cum = np.cumsum(m, axis=1)
    u = rng.random(len(D.dm_ids))
    cls = np.minimum((u[:, None] > cum).sum(axis=1), lay.k_classes - 1)
    P, _, _ = class_probs(lay, theta, D)
    cls_row = cls[D.dm_of_row]
    p_row = P[np.arange(len(cls_row)), cls_row]
    # one uniform per situation, inverse cdf within the situation
    v = rng.random(len(D.sit_start))
    csum = np.cumsum(p_row)
    before = np.r_[0.0, csum][D.sit_start]
    c_in = csum - before[D.sit_of_row]
    total = c_in[np.r_[D.sit_start[1:] - 1, len(c_in) - 1]]
    target = v * total
    below = np.r_[0.0, c_in[:-1]]
    below[D.sit_start] = 0.0
    pick = (below <= target[D.sit_of_row]) & (target[D.sit_of_row] < c_in) & D.avail
    choice = pd.array(np.full(len(D.index), pd.NA), dtype="Int64")
    choice[D.rows] = pick.astype(int)
    klass = np.full(len(D.index), None, dtype=object)
    klass[D.rows] = np.asarray(lay.class_names, dtype=object)[cls_row]
    return pd.DataFrame({"choice": choice, "class": klass}, index=D.index)


def loglike_holdout(results, newdata) -> float:
    """Out-of-sample log-likelihood of new decision makers' observed choices.

    ``sum_n w_n log sum_k pi_nk prod_t P_k(y_nt)``, with the estimated
    parameters, prior class probabilities from the membership model and the
    chosen alternatives in the formula's outcome column.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    newdata : DataFrame
        Long frame with the outcome column (1 = chosen, one per situation).

    Returns
    -------
    float

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=200, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> train = sim.data[sim.data["id"] <= 150]
    >>> test = sim.data[sim.data["id"] > 150]
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", train, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.scenarios import loglike_holdout
    >>> loglike_holdout(res, test) < 0
    True
    """
    if not isinstance(newdata, pd.DataFrame):
        raise SpecificationError("loglike_holdout() needs newdata, a long DataFrame with the "
                                 "outcome column")
    D = scenario_design(results, newdata, "loglike_holdout()")
    outcome = results.model.formula_spec.outcome
    frame = newdata.iloc[D.rows]
    if outcome not in frame.columns:
        raise DataError(f"newdata lacks the outcome column {outcome!r}")
    y = np.asarray(pd.to_numeric(frame[outcome], errors="coerce"), dtype=float)
    if not np.isin(y, (0.0, 1.0)).all():
        raise DataError(f"outcome {outcome!r} of newdata must be 0 or 1")
    y = (y == 1) & D.avail
    if np.any(np.add.reduceat(y.astype(int), D.sit_start) != 1):
        raise DataError(f"every situation of newdata needs exactly one chosen (available) row "
                        f"in {outcome!r}")
    lay = results.fit_state.likelihood.layout
    theta = np.asarray(results.fit_state.params, float)
    C = lay.unpack(theta).class_coefficients
    U = D.X @ C.T
    U[~D.avail] = -np.inf
    _, lse = situation_softmax(U, D.sit_start, D.sit_of_row)
    log_p = U[y] - lse                      # (S, K): chosen rows, one per situation, in order
    log_l = np.zeros((len(D.dm_ids), lay.k_classes))
    np.add.at(log_l, D.dm_of_sit, log_p)
    ll = logsumexp(log_class_shares(D.Z, lay.unpack(theta).gamma) + log_l, axis=1)
    return float(D.weights @ ll)
