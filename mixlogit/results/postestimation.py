"""Post-estimation: willingness to pay, elasticities, classification, individual tastes.

Willingness to pay
------------------
For class k with utility coefficients ``c_k`` on the joint design
``[exog, invariant]``, the willingness to pay for attribute a in units of the
price attribute p is ``WTP_ka = -c_ka / c_kp``. The population value is the
share-weighted mean over classes, ``sum_k s_k WTP_ka`` with ``s_k`` the
population class shares. Standard errors by the delta method,
``J V J'``, with the analytic Jacobian ``J`` of these functions with respect to
the parameter vector and ``V`` the results' covariance.

Elasticities
------------
Within class k the logit gives ``dP_kj / dx_ia = P_kj c_ka ([i = j] - P_ki)``.
The mixture probability of a decision maker is ``P_j = sum_k pi_nk P_kj`` (prior
shares ``pi_nk``), so the point elasticity of ``P_j`` with respect to attribute a
of alternative i is

    E_ji = x_ia / P_j * sum_k pi_nk P_kj c_ka ([i = j] - P_ki).

Own elasticities are ``E_jj``; cross elasticities ``E_ji``, ``i != j``. Unlike a
single logit, cross elasticities of the mixture differ across ``j``. Reported
values are averages over choice situations (unweighted sample means). In the
counts form there is one choice set, the candidates, and ``pi_nk`` are the
class shares: the elasticities are those of the mixture probabilities
``pi_j = sum_k alpha_k sigma_j(beta_k)``.

Delta method
------------
Every derived quantity with a standard error (WTP here, class shares in the
results) goes through :func:`delta_method`: ``se = sqrt(diag(J V J'))``.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .. import _checks as ck
from .._choice_sets import choice_sets
from ..diagnostics import entropy_r2
from ..exceptions import MixlogitWarning, SpecificationError, warn

__all__ = ["wtp", "elasticities", "classification_table", "individual_params", "delta_method"]

#: largest number of entries the dense elasticity matrices may hold (situations x A x A x K+1)
MAX_MATRIX_ENTRIES = 100_000_000


def delta_method(values, jacobian, cov, *, alpha: float = 0.05, index=None) -> pd.DataFrame:
    """Delta-method standard errors, z statistics and Wald intervals of derived quantities.

    Parameters
    ----------
    values : array_like, shape (m,)
        The derived quantities ``g(theta)``.
    jacobian : array_like, shape (m, d)
        ``dg / dtheta`` at the estimate.
    cov : array_like, shape (d, d)
        Covariance of the estimate.
    alpha : float
        1 - confidence level, in (0, 1).
    index : sequence or Index, optional
        Labels of the rows.

    Returns
    -------
    DataFrame
        Columns ``estimate``, ``bse``, ``z``, ``pvalue``, ``lower``, ``upper``;
        NaN values keep NaN statistics (no numpy warning).

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.results.postestimation import delta_method
    >>> out = delta_method([2.0], [[1.0, 1.0]], np.diag([0.09, 0.16]))
    >>> round(float(out["bse"].iloc[0]), 6)
    0.5
    """
    alpha = ck.probability_level()(alpha, "alpha", "delta_method()")
    vals = np.asarray(values, float)
    J = np.atleast_2d(np.asarray(jacobian, float))
    ok = np.isfinite(vals) & np.all(np.isfinite(J), axis=1)
    V = np.asarray(cov, float)
    se = np.full(vals.shape, np.nan)
    for m in np.flatnonzero(ok):  # only the parameters g depends on (fixed ones may be NaN)
        use = J[m] != 0
        se[m] = np.sqrt(max(float(J[m, use] @ V[np.ix_(use, use)] @ J[m, use]), 0.0)) \
            if use.any() else 0.0
    q = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, vals / np.where(se > 0, se, 1.0), np.nan)
    return pd.DataFrame({"estimate": vals, "bse": se, "z": z,
                         "pvalue": 2 * stats.norm.sf(np.abs(z)), "lower": vals - q * se,
                         "upper": vals + q * se}, index=index)


def _design_names(lay) -> list[str]:
    return list(lay.exog_names) + list(lay.invariant_names)


def _column(lay, name: str, what: str) -> int:
    names = _design_names(lay)
    if name not in names:
        raise SpecificationError(f"{what} {name!r} is not a utility term; terms are {names}")
    return names.index(name)


def wtp(results, price: str, attributes=None, *, alpha: float = 0.05) -> pd.DataFrame:
    """Willingness to pay per class and for the population, with delta-method errors.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    price : str
        Name of the price (cost) term.
    attributes : list of str, optional
        Terms to value; default every other utility term. An empty list is refused.
    alpha : float
        1 - confidence level of the intervals, in (0, 1).

    Returns
    -------
    DataFrame
        Index ``(class, attribute)`` with ``class`` in ``class1..classK`` and
        ``population`` (share-weighted mean); columns ``wtp``, ``bse``, ``z``,
        ``pvalue``, ``lower``, ``upper``. A class whose price coefficient is
        exactly 0 (for example fixed at 0) has no WTP: NaN, and the population
        value is NaN too.

    Warns
    -----
    MixlogitWarning
        A class's price coefficient is exactly zero (its WTP is undefined), or
        not significantly different from zero (its WTP is then poorly
        determined and its interval unreliable).

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.postestimation import wtp
    >>> w = wtp(res, price="x1")
    >>> w.index.tolist()
    [('class1', 'x2'), ('class2', 'x2'), ('population', 'x2')]
    """
    alpha = ck.probability_level()(alpha, "alpha", "wtp()")
    lay = results.fit_state.likelihood.layout
    p_col, a_cols, attributes = _wtp_columns(lay, price, attributes)
    theta = np.asarray(results.fit_state.params, float)
    C = lay.unpack(theta).class_coefficients
    cp = C[:, p_col]
    zero = cp == 0
    if zero.any():
        warn(f"the {price!r} coefficient is exactly 0 in {[lay.class_names[k] for k in np.flatnonzero(zero)]}"
             " (fixed at 0?): willingness to pay is undefined there and reported as NaN, and so "
             "is the population value", MixlogitWarning)
    values, jac = _wtp_values(lay, theta, p_col, a_cols, results.fit_state.share_jacobian())
    index = [(lay.class_names[k], a) for k in range(lay.k_classes) for a in attributes]
    if lay.k_classes > 1:
        index += [("population", a) for a in attributes]
    cov = np.asarray(results.normalized_cov_params, float)
    out = delta_method(values, jac, cov, alpha=alpha,
                       index=pd.MultiIndex.from_tuples(index, names=["class", "attribute"]))
    out = out.rename(columns={"estimate": "wtp"})
    _warn_weak_price(lay, cov, cp, p_col, price)
    out.attrs["jacobian"] = pd.DataFrame(jac, index=out.index, columns=lay.param_names)
    return out


def _wtp_columns(lay, price: str, attributes) -> tuple[int, list[int], list[str]]:
    names = _design_names(lay)
    p_col = _column(lay, price, "price")
    if attributes is None:
        attributes = [n for n in names if n != price]
    elif isinstance(attributes, str):
        attributes = [attributes]
    else:
        attributes = list(attributes)
    if not attributes:
        raise SpecificationError(f"wtp(): attributes is empty; name at least one utility term "
                                 f"to value, e.g. attributes={[n for n in names if n != price][:1]}"
                                 ", or omit it to value every term")
    a_cols = [_column(lay, a, "attribute") for a in attributes]
    if p_col in a_cols:
        raise SpecificationError("the price term cannot be valued against itself")
    return p_col, a_cols, attributes


def _wtp_values(lay, theta: np.ndarray, p_col: int, a_cols: list[int], share_jac
                ) -> tuple[np.ndarray, np.ndarray]:
    """WTP per class (and population) and their Jacobians; NaN where the price is 0."""
    K, d = lay.k_classes, lay.n_params
    C = lay.unpack(theta).class_coefficients
    shares, Jshare = share_jac
    per_class = np.full((K, len(a_cols)), np.nan)
    per_class_jac = np.full((K, len(a_cols), d), np.nan)
    for k in range(K):
        pos = lay.class_design_index(k)
        cp = C[k, p_col]
        if cp == 0:
            continue
        for j, a in enumerate(a_cols):
            g = np.zeros(d)
            g[pos[a]] += -1.0 / cp
            g[pos[p_col]] += C[k, a] / cp ** 2
            per_class[k, j] = -C[k, a] / cp
            per_class_jac[k, j] = g
    values = [per_class.ravel()]
    jac = [per_class_jac.reshape(-1, d)]
    if K > 1:
        values.append(shares @ per_class)
        jac.append(np.einsum("k,kjd->jd", shares, per_class_jac) + per_class.T @ Jshare)
    return np.concatenate(values), np.vstack(jac)


def _warn_weak_price(lay, cov: np.ndarray, cp: np.ndarray, p_col: int, price: str) -> None:
    weak = []
    for k in range(lay.k_classes):
        i = lay.class_design_index(k)[p_col]
        sd = np.sqrt(max(cov[i, i], 0.0))
        if cp[k] != 0 and sd > 0 and abs(cp[k]) < stats.norm.ppf(0.975) * sd:
            weak.append(lay.class_names[k])
    if weak:
        warn(f"the {price!r} coefficient of {weak} is not significantly different from zero: "
             "their willingness to pay is poorly determined (delta-method intervals are "
             "unreliable; consider the bootstrap)", MixlogitWarning)


def _probabilities(results):
    """Class probabilities per row (n_rows, K), prior shares per row, coefficients, sets."""
    state = results.fit_state
    lik = state.likelihood
    theta = np.asarray(state.params, float)
    sets = choice_sets(lik)
    P = lik.class_probabilities(theta)
    pi_set = sets.prior_shares(lik.weights, state.evaluation.log_shares)
    return P, pi_set[sets.set_of_row], lik.layout.unpack(theta).class_coefficients, sets


def _alternative_labels(results, alternative, sets) -> np.ndarray:
    if alternative is None:
        if sets.row_labels is None:
            raise SpecificationError('kind="matrix" needs alternative= (labels of the '
                                     "alternatives: a column name or one label per input row)")
        return np.asarray(sets.row_labels)
    if isinstance(alternative, str):
        frame = getattr(results.model, "data_frame", None)
        if frame is None or alternative not in frame.columns:
            raise SpecificationError(f"alternative {alternative!r} is not a column of the model's data")
        labels = frame[alternative].to_numpy()
    else:
        labels = np.asarray(alternative)
        if labels.shape[0] != sets.n_input_rows:
            raise SpecificationError(
                f"alternative labels need one entry per input row ({sets.n_input_rows})")
    return labels[sets.row_index]


def elasticities(results, attribute: str, *, alternative=None, kind: str = "matrix"
                 ) -> pd.DataFrame:
    """Own and cross elasticities of choice probabilities, per class and for the mixture.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    attribute : str
        Utility term whose (alternative-specific) value changes.
    alternative : str or array_like, optional
        Alternative label of every row (a column name of the model's data, or
        one label per input row). Needed for ``kind="matrix"`` in the long
        form; the counts form labels the candidates by their ids.
    kind : str
        ``"matrix"``: mean elasticity matrices, one per class and one for the
        mixture (``population``): entry ``(i, j)`` is the elasticity of the
        probability of alternative ``j`` with respect to the attribute of
        alternative ``i``, averaged over the situations offering both.
        ``"own"``: the own elasticity of every row (a DataFrame indexed like
        the input rows, or the candidates, one column per class and
        ``population``).

    Returns
    -------
    DataFrame
        For ``"matrix"``: index ``(class, changed)``, columns the responding
        alternatives. For ``"own"``: one row per estimation row.

    Notes
    -----
    Class elasticities are those of each class's logit: own
    ``c_ka x_ja (1 - P_kj)``, cross ``-c_ka x_ia P_ki`` (the same for every
    responding ``j``: IIA within a class). The mixture elasticity uses each
    decision maker's prior class shares; see the module notes.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.postestimation import elasticities
    >>> E = elasticities(res, "x1", alternative="alt")
    >>> E.loc["population"].shape
    (3, 3)
    """
    kind = ck.one_of("matrix", "own")(kind, "kind", "elasticities()")
    lay = results.fit_state.likelihood.layout
    a = _column(lay, attribute, "attribute")
    P, pi_row, C, sets = _probabilities(results)
    x = sets.design[:, a]
    if kind == "own":
        return _own_elasticities(results, P, pi_row, C[:, a], x, sets)
    labels = _alternative_labels(results, alternative, sets)
    return _elasticity_matrices(lay, P, pi_row, C[:, a], x, sets, labels)


def _own_elasticities(results, P, pi_row, ca, x, sets) -> pd.DataFrame:
    lay = results.fit_state.likelihood.layout
    P_mix = (pi_row * P).sum(axis=1)
    own_class = ca[None, :] * x[:, None] * (1 - P)
    with np.errstate(invalid="ignore", divide="ignore"):
        own_mix = x * (pi_row * P * ca[None, :] * (1 - P)).sum(axis=1) / P_mix
    out = np.full((sets.n_input_rows, lay.k_classes + 1), np.nan)
    out[sets.row_index] = np.column_stack([own_class, own_mix])
    index = results.model.data_index if results.model.data_index is not None \
        else pd.RangeIndex(sets.n_input_rows)
    return pd.DataFrame(out, index=index, columns=lay.class_names + ["population"])


def _elasticity_matrices(lay, P, pi_row, ca, x, sets, labels) -> pd.DataFrame:
    K = lay.k_classes
    alts, codes = np.unique(labels, return_inverse=True)
    A = len(alts)
    S = sets.set_start.shape[0]
    if S * A * A * (K + 1) > MAX_MATRIX_ENTRIES:
        raise SpecificationError(
            f'elasticities(kind="matrix") would build {K + 1} arrays of {S} x {A} x {A} '
            f'entries; use kind="own" (one value per row) or fewer alternatives')
    sit = sets.set_of_row
    if np.any(np.bincount(sit * A + codes, minlength=S * A) > 1):
        raise SpecificationError("an alternative label appears twice in one choice situation")
    # dense (S, A) arrays per situation and alternative; NaN where not offered
    Pd = np.full((S, A, K), np.nan)
    Pd[sit, codes] = P
    Xd = np.full((S, A), np.nan)
    Xd[sit, codes] = x
    pid = np.full((S, K), np.nan)
    pid[sit] = pi_row
    offered = ~np.isnan(Pd[:, :, 0])
    Pmixd = np.where(offered, np.nansum(pid[:, None, :] * Pd, axis=2), np.nan)
    both = offered[:, :, None] & offered[:, None, :]
    eye = np.eye(A)
    # E_k[s, i, j] = c_ka x_si ([i=j] - P_ksi)
    E_class = [ca[k] * Xd[:, :, None] * (eye[None, :, :] - Pd[:, :, k][:, :, None])
               for k in range(K)]
    # mixture: E[s, i, j] = sum_k pi_sk P_ksj E_k[s, i, j] / P_sj
    E_mix = sum(pid[:, k][:, None, None] * Pd[:, None, :, k] * E_class[k] for k in range(K))
    E_mix = E_mix / Pmixd[:, None, :]
    frames = []
    for E in E_class + [E_mix]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # pairs never offered together
            mean = np.nanmean(np.where(both, E, np.nan), axis=0)
        frames.append(pd.DataFrame(mean, index=pd.Index(alts, name="changed"),
                                   columns=pd.Index(alts, name="responding")))
    return pd.concat(frames, keys=lay.class_names + ["population"], names=["class", "changed"])


def classification_table(results) -> pd.DataFrame:
    """Modal class assignment against posterior class probabilities.

    Row ``k`` sums the posterior probabilities (frequency weighted) of the
    units (decision makers, or the draws behind each candidate) whose most
    probable class is ``k``; a perfectly separated model has all mass on the
    diagonal.

    Returns
    -------
    DataFrame
        Rows ``assigned class1..K`` and ``total``; columns ``class1..K``
        (posterior mass), ``n_assigned`` and ``avepp`` (average posterior
        probability of the assigned class). ``attrs["correct"]`` is the share of
        posterior mass on the diagonal (expected proportion correctly
        classified) and ``attrs["entropy_r2"]`` the entropy R^2.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.postestimation import classification_table
    >>> tab = classification_table(res)
    >>> 0 <= tab.attrs["correct"] <= 1
    True
    """
    lik = results.fit_state.likelihood
    lay = lik.layout
    h = results.fit_state.evaluation.posteriors
    w = lik.weights
    K = lay.k_classes
    onehot = np.eye(K)[np.argmax(h, axis=1)]
    table = (onehot * w[:, None]).T @ h
    n_assigned = (onehot * w[:, None]).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        avepp = np.diag(table) / n_assigned
    frame = pd.DataFrame(table, index=[f"assigned {c}" for c in lay.class_names],
                         columns=lay.class_names)
    frame["n_assigned"] = n_assigned
    frame["avepp"] = avepp
    total = pd.DataFrame([list(table.sum(axis=0)) + [n_assigned.sum(), np.nan]],
                         index=["total"], columns=frame.columns)
    frame = pd.concat([frame, total])
    frame.attrs["correct"] = float(np.trace(table) / w.sum())
    frame.attrs["entropy_r2"] = entropy_r2(h, w)
    return frame


def individual_params(results) -> pd.DataFrame:
    """Posterior-weighted (individual-level) coefficients of each unit.

    ``beta_n = sum_k h_nk c_k`` with ``h_nk`` the posterior probability that
    unit n (a decision maker, or a draw that chose candidate n) belongs to
    class k given its choices, and ``c_k`` class k's coefficients on every
    utility term (class-invariant terms repeat).

    Returns
    -------
    DataFrame
        One row per unit (indexed by its id), one column per term.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.postestimation import individual_params
    >>> individual_params(res).columns.tolist()
    ['x1', 'x2']
    """
    lik = results.fit_state.likelihood
    lay = lik.layout
    C = lay.unpack(np.asarray(results.fit_state.params, float)).class_coefficients
    beta = results.fit_state.evaluation.posteriors @ C
    name = "candidate" if lik.form == "counts" else "decision_maker"
    return pd.DataFrame(beta, index=pd.Index(lik.data.decision_maker_ids, name=name),
                        columns=_design_names(lay))
