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
values are averages over choice situations (unweighted sample means).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..diagnostics import class_probabilities, entropy_r2
from ..exceptions import MixlogitWarning, SpecificationError, warn

__all__ = ["wtp", "elasticities", "classification_table", "individual_params"]


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
        Terms to value; default every other utility term.
    alpha : float
        1 - confidence level of the intervals.

    Returns
    -------
    DataFrame
        Index ``(class, attribute)`` with ``class`` in ``class1..classK`` and
        ``population`` (share-weighted mean); columns ``wtp``, ``bse``, ``z``,
        ``pvalue``, ``lower``, ``upper``.

    Warns
    -----
    MixlogitWarning
        A class's price coefficient is not significantly different from zero
        (its WTP is then poorly determined and its interval unreliable).

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
    lay = results.model.layout
    names = _design_names(lay)
    p_col = _column(lay, price, "price")
    if attributes is None:
        attributes = [n for n in names if n != price]
    elif isinstance(attributes, str):
        attributes = [attributes]
    a_cols = [_column(lay, a, "attribute") for a in attributes]
    if p_col in a_cols:
        raise SpecificationError("the price term cannot be valued against itself")
    theta = results.params.to_numpy()
    K = lay.k_classes
    d = lay.n_params
    C = lay.unpack(theta).class_coefficients
    shares, Jshare = results.fit_state.share_jacobian()
    values, jac, index = [], [], []
    per_class = np.zeros((K, len(a_cols)))
    per_class_jac = np.zeros((K, len(a_cols), d))
    for k in range(K):
        pos = lay.class_design_index(k)
        cp = C[k, p_col]
        for j, a in enumerate(a_cols):
            ca = C[k, a]
            val = -ca / cp
            g = np.zeros(d)
            g[pos[a]] += -1.0 / cp
            g[pos[p_col]] += ca / cp ** 2
            per_class[k, j] = val
            per_class_jac[k, j] = g
            values.append(val)
            jac.append(g)
            index.append((lay.class_names[k], attributes[j]))
    if K > 1:
        for j in range(len(a_cols)):
            val = float(shares @ per_class[:, j])
            g = shares @ per_class_jac[:, j, :] + per_class[:, j] @ Jshare
            values.append(val)
            jac.append(g)
            index.append(("population", attributes[j]))
    J = np.array(jac)
    cov = J @ results.normalized_cov_params @ J.T
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    vals = np.array(values)
    q = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = vals / se
    out = pd.DataFrame({"wtp": vals, "bse": se, "z": z, "pvalue": 2 * stats.norm.sf(np.abs(z)),
                        "lower": vals - q * se, "upper": vals + q * se},
                       index=pd.MultiIndex.from_tuples(index, names=["class", "attribute"]))
    # price coefficient significance per class
    cov_full = results.normalized_cov_params
    weak = []
    for k in range(K):
        i = lay.class_design_index(k)[p_col]
        sd = np.sqrt(max(cov_full[i, i], 0.0))
        if sd > 0 and abs(C[k, p_col]) < stats.norm.ppf(0.975) * sd:
            weak.append(lay.class_names[k])
    if weak:
        warn(f"the {price!r} coefficient of {weak} is not significantly different from zero: "
             "their willingness to pay is poorly determined (delta-method intervals are "
             "unreliable; consider the bootstrap)", MixlogitWarning)
    out.attrs["jacobian"] = pd.DataFrame(J, index=out.index, columns=lay.param_names)
    return out


def _probabilities(results):
    """Class probabilities per row (n_rows, K) and prior shares per row (n_rows, K)."""

    lay = results.model.layout
    data = results.model.choice_data
    u = lay.unpack(results.params.to_numpy())
    P = class_probabilities(data, u.class_coefficients)
    pi_dm = np.exp(results.fit_state.evaluation.log_shares)
    return P, pi_dm[data.decision_maker_of_row], u.class_coefficients


def _alternative_labels(results, alternative) -> np.ndarray:
    data = results.model.choice_data
    if isinstance(alternative, str):
        frame = getattr(results.model, "data_frame", None)
        if frame is None or alternative not in frame.columns:
            raise SpecificationError(f"alternative {alternative!r} is not a column of the model's data")
        labels = frame[alternative].to_numpy()
    else:
        labels = np.asarray(alternative)
        if labels.shape[0] != data.n_input_rows:
            raise SpecificationError(
                f"alternative labels need one entry per input row ({data.n_input_rows})")
    return labels[data.row_index]


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
        one label per input row). Needed for ``kind="matrix"``.
    kind : str
        ``"matrix"``: mean elasticity matrices, one per class and one for the
        mixture (``population``): entry ``(i, j)`` is the elasticity of the
        probability of alternative ``j`` with respect to the attribute of
        alternative ``i``, averaged over the situations offering both.
        ``"own"``: the own elasticity of every row (a DataFrame indexed like
        the input rows, one column per class and ``population``).

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
    if kind not in ("matrix", "own"):
        raise SpecificationError(f"kind={kind!r}; use 'matrix' or 'own'")
    lay = results.model.layout
    data = results.model.choice_data
    a = _column(lay, attribute, "attribute")
    P, pi_row, C = _probabilities(results)
    K = lay.k_classes
    x = data.design[:, a]
    ca = C[:, a]
    P_mix = (pi_row * P).sum(axis=1)
    if kind == "own":
        own_class = ca[None, :] * x[:, None] * (1 - P)
        own_mix = x * (pi_row * P * ca[None, :] * (1 - P)).sum(axis=1) / P_mix
        vals = np.column_stack([own_class, own_mix])
        out = np.full((data.n_input_rows, K + 1), np.nan)
        out[data.row_index] = vals
        index = results.model.data_index if results.model.data_index is not None \
            else pd.RangeIndex(data.n_input_rows)
        return pd.DataFrame(out, index=index, columns=lay.class_names + ["population"])

    if alternative is None:
        raise SpecificationError('kind="matrix" needs alternative= (labels of the alternatives)')
    labels = _alternative_labels(results, alternative)
    alts, codes = np.unique(labels, return_inverse=True)
    A = len(alts)
    S = data.n_situations
    sit = data.situation_of_row
    if np.any(np.bincount(sit * A + codes, minlength=S * A) > 1):
        raise SpecificationError("an alternative label appears twice in one choice situation")
    # dense (S, A) arrays per situation and alternative; NaN where not offered
    Pd = np.full((S, A, K), np.nan)
    Pd[sit, codes] = P
    Xd = np.full((S, A), np.nan)
    Xd[sit, codes] = x
    pid = np.full((S, K), np.nan)
    pid[sit] = pi_row
    Pmixd = np.nansum(pid[:, None, :] * Pd, axis=2)
    Pmixd[np.isnan(Pd[:, :, 0])] = np.nan
    frames = []
    eye = np.eye(A)
    offered = ~np.isnan(Pd[:, :, 0])
    both = offered[:, :, None] & offered[:, None, :]
    E_class = []
    for k in range(K):
        # E[s, i, j] = c_ka x_si ([i=j] - P_ksi)
        E_class.append(ca[k] * Xd[:, :, None] * (eye[None, :, :] - Pd[:, :, k][:, :, None]))
    # mixture: E[s, i, j] = sum_k pi_sk P_ksj E_k[s, i, j] / P_sj
    E_mix = sum(pid[:, k][:, None, None] * Pd[:, None, :, k] * E_class[k] for k in range(K))
    E_mix = E_mix / Pmixd[:, None, :]
    for k, E in enumerate(E_class + [E_mix]):
        E = np.where(both, E, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # pairs never offered together
            mean = np.nanmean(E, axis=0)
        frame = pd.DataFrame(mean, index=pd.Index(alts, name="changed"),
                             columns=pd.Index(alts, name="responding"))
        frames.append(frame)
    out = pd.concat(frames, keys=lay.class_names + ["population"], names=["class", "changed"])
    return out


def classification_table(results) -> pd.DataFrame:
    """Modal class assignment against posterior class probabilities.

    Row ``k`` sums the posterior probabilities (frequency weighted) of the
    decision makers whose most probable class is ``k``; a perfectly separated
    model has all mass on the diagonal.

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

    lay = results.model.layout
    h = results.fit_state.evaluation.posteriors
    w = results.model.choice_data.weights
    K = lay.k_classes
    modal = np.argmax(h, axis=1)
    onehot = np.eye(K)[modal]
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
    """Posterior-weighted (individual-level) coefficients of each decision maker.

    ``beta_n = sum_k h_nk c_k`` with ``h_nk`` the posterior probability that
    decision maker n belongs to class k given his choices, and ``c_k`` class k's
    coefficients on every utility term (class-invariant terms repeat).

    Returns
    -------
    DataFrame
        One row per decision maker (indexed by his id), one column per term.

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
    lay = results.model.layout
    data = results.model.choice_data
    C = lay.unpack(results.params.to_numpy()).class_coefficients
    beta = results.fit_state.evaluation.posteriors @ C
    return pd.DataFrame(beta, index=pd.Index(data.decision_maker_ids, name="decision_maker"),
                        columns=_design_names(lay))
