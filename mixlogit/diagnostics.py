"""Identifiability and fit diagnostics of a latent-class logit estimate.

:func:`identifiability` runs the checks of ALGORITHMS.md section 4 on a fitted
model and returns an :class:`IdentifiabilityReport`: it prints as a readable
report, converts to a DataFrame (:meth:`IdentifiabilityReport.to_frame`), and
each item states ``pass``, ``warn`` or ``fail`` together with the threshold
used. The overall status is the worst item's.

Items and thresholds
--------------------
``parameters vs data``
    Free parameters ``d`` against the choice degrees of freedom
    ``sum_t (J_t - 1)`` and the number of decision makers ``N``.
    Fail if ``d >= dof``; warn if ``N / d < 5``.
``within-situation attributes``
    The attributes centred within each situation (only within-situation
    variation identifies a logit coefficient). Fail if a column has a
    within-situation share of its variation below ``1e-8``, or the
    column-normalised matrix has a relative singular value below ``1e-8``
    (a combination constant within situations); warn below ``1e-4`` (share) or a
    condition number above ``1e4``.
``observed information``
    Eigenvalues of the equilibrated observed information
    ``D^{-1/2} A D^{-1/2}`` (``D = diag(A)``, so the numbers do not depend on the
    units of the attributes). Fail if ``A`` is not positive definite or the
    condition number exceeds ``1e8``; warn above ``1e4``. The eigenvectors of
    the smallest eigenvalues are the nearly flat directions
    (:attr:`IdentifiabilityReport.flat_directions`).
``smallest class``
    Smallest population share and expected class size ``share x sum_n w_n``.
    Fail if the size is below 5 or the share below 0.01; warn below 20 or 0.05.
``class separation``
    For every pair of classes, the Wald statistic of equal class-specific
    coefficients, ``(b_k - b_m)' V^{-1} (b_k - b_m)`` with ``V`` from the
    results' covariance; its p-value against a chi-square with ``L`` degrees
    of freedom. Fail if the largest p-value exceeds 0.05 (two classes cannot be
    told apart); warn above 0.001.
``class curvature``
    Per class, the Fisher information of its posterior-weighted conditional
    logit (its M-step problem), equilibrated; fail if its smallest relative
    eigenvalue is below ``1e-8``, warn below ``1e-4``.
``effective alternatives``
    Per class, ``exp`` of the entropy of its choice probabilities, averaged over
    situations with the class's posterior weights: close to 1 means the class
    chooses (almost) deterministically, and its coefficients may drift to
    infinity. Warn below 1.05.
``panel length``
    Situations per decision maker; with ``K > 1``, warn if the median is 1
    (latent classes are weakly identified from single choices).
``entropy R2``
    ``1 - sum_n w_n sum_k (-h_nk log h_nk) / (sum_n w_n log K)``; warn below 0.4.
``restart stability``
    Share of starts that reached the best log-likelihood, and the largest
    difference (in standard errors, classes aligned) between the polished
    solutions of those starts. Fail if the difference exceeds 1 (the same
    likelihood at different parameters: a ridge); warn if it exceeds 0.1, if
    a single start was run, or if only one of several starts reached the best.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .exceptions import IdentificationWarning, warn

__all__ = ["DiagnosticItem", "IdentifiabilityReport", "identifiability", "entropy_r2",
           "class_probabilities", "within_situation_check"]

PASS, WARN, FAIL = "pass", "warn", "fail"
_RANK = {PASS: 0, WARN: 1, FAIL: 2}


@dataclass(frozen=True)
class DiagnosticItem:
    """One check: its value, the verdict and the threshold used."""

    name: str
    status: str
    value: str
    threshold: str
    detail: str = ""


@dataclass(eq=False)
class IdentifiabilityReport:
    """Identifiability diagnostics of a latent-class logit fit.

    Attributes
    ----------
    items : list of DiagnosticItem
    information_eigenvalues : Series
        Eigenvalues of the equilibrated observed information, smallest first.
    flat_directions : DataFrame
        Eigenvectors (columns) of the smallest equilibrated eigenvalues, one row
        per free parameter.
    class_table : DataFrame
        Per class: share, expected size, relative curvature, effective
        alternatives.
    pair_table : DataFrame
        Per pair of classes: Wald statistic of equal coefficients, its p-value,
        the largest standardized difference.
    panel_lengths : Series
        Distribution (describe()) of situations per decision maker.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> report = res.identifiability()
    >>> report.status in ("pass", "warn", "fail")
    True
    >>> print(report)  # doctest: +ELLIPSIS
    Identifiability report: 2 class(es), overall ...
    """

    items: list[DiagnosticItem]
    information_eigenvalues: pd.Series
    flat_directions: pd.DataFrame
    class_table: pd.DataFrame
    pair_table: pd.DataFrame
    panel_lengths: pd.Series
    k_classes: int = 1
    extra: dict = field(default_factory=dict, repr=False)

    @property
    def status(self) -> str:
        """Worst status over the items: ``"pass"``, ``"warn"`` or ``"fail"``."""
        return max((i.status for i in self.items), key=_RANK.__getitem__, default=PASS)

    @property
    def passed(self) -> bool:
        """True when no item failed."""
        return self.status != FAIL

    @property
    def failed_items(self) -> list[str]:
        return [i.name for i in self.items if i.status == FAIL]

    @property
    def warned_items(self) -> list[str]:
        return [i.name for i in self.items if i.status == WARN]

    def __getitem__(self, name: str) -> DiagnosticItem:
        for item in self.items:
            if item.name == name:
                return item
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """One row per item: status, value, threshold, detail.

        Returns
        -------
        DataFrame
            Indexed by the check's name.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> list(res.identifiability().to_frame().columns)
        ['status', 'value', 'threshold', 'detail']
        """
        return pd.DataFrame([{"status": i.status, "value": i.value, "threshold": i.threshold,
                              "detail": i.detail} for i in self.items],
                            index=pd.Index([i.name for i in self.items], name="check"))

    def __str__(self) -> str:
        lines = [f"Identifiability report: {self.k_classes} class(es), overall "
                 f"{self.status.upper()}", "=" * 78]
        width = max(len(i.name) for i in self.items)
        for i in self.items:
            lines.append(f"[{i.status.upper():4s}] {i.name:<{width}}  {i.value}")
            lines.append(f"       {'':<{width}}  threshold: {i.threshold}")
            if i.detail:
                lines.append(f"       {'':<{width}}  {i.detail}")
        if len(self.flat_directions.columns):
            lines.append("-" * 78)
            lines.append("Flattest direction of the (equilibrated) information, largest loadings:")
            v = self.flat_directions.iloc[:, 0]
            top = v.abs().sort_values(ascending=False).index[:5]
            lines.append("  " + ", ".join(f"{n} {v[n]:+.2f}" for n in top)
                         + f"  (eigenvalue {self.information_eigenvalues.iloc[0]:.3g})")
        if len(self.class_table):
            lines.append("-" * 78)
            with pd.option_context("display.width", 100):
                lines.append(self.class_table.round(4).to_string())
        return "\n".join(lines)

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return self.to_frame()._repr_html_()

    def __repr__(self) -> str:
        return (f"<IdentifiabilityReport: {self.status}, failed={self.failed_items}, "
                f"warned={self.warned_items}>")


# ------------------------------------------------------------------ helpers
def class_probabilities(data, class_coefficients: np.ndarray) -> np.ndarray:
    """Choice probabilities of each class on every row, shape (n_rows, K)."""
    U = data.design @ np.asarray(class_coefficients, float).T
    peak = np.maximum.reduceat(U, data.situation_start, axis=0)
    E = np.exp(U - peak[data.situation_of_row])
    total = np.add.reduceat(E, data.situation_start, axis=0)
    return E / total[data.situation_of_row]


def entropy_r2(posteriors: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Entropy R^2 of posterior class probabilities (1: crisp, 0: uninformative).

    Parameters
    ----------
    posteriors : ndarray, shape (N, K)
    weights : ndarray, shape (N,), optional

    Returns
    -------
    float
        ``1 - sum_n w_n sum_k (-h log h) / (sum_n w_n log K)``; NaN for K = 1.
    """
    h = np.asarray(posteriors, float)
    K = h.shape[1]
    if K < 2:
        return float("nan")
    w = np.ones(h.shape[0]) if weights is None else np.asarray(weights, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(h > 0, h * np.log(h), 0.0).sum(axis=1)
    return float(1.0 - (w @ ent) / (w.sum() * np.log(K)))


def within_situation_check(data) -> dict:
    """Within-situation variation of the attributes.

    Returns
    -------
    dict
        ``share`` (per column, within-situation sum of squares over total sum of
        squares about the mean), ``singular`` (singular values of the centred,
        column-normalised matrix, relative to the largest), ``names``.
    """
    W = data.design
    counts = np.diff(np.append(data.situation_start, W.shape[0]))
    means = np.add.reduceat(W, data.situation_start, axis=0) / counts[:, None]
    Wc = W - means[data.situation_of_row]
    within = (Wc ** 2).sum(axis=0)
    total = ((W - W.mean(axis=0)) ** 2).sum(axis=0)
    share = np.where(total > 0, within / np.where(total > 0, total, 1.0), 0.0)
    norm = np.sqrt(within)
    Wn = Wc / np.where(norm > 0, norm, 1.0)
    sv = np.linalg.svd(Wn, compute_uv=False)
    rel = sv / sv[0] if sv[0] > 0 else np.zeros_like(sv)
    return {"share": share, "singular": rel,
            "names": list(data.exog_names) + list(data.invariant_names)}


def _equilibrate(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.diag(A).copy()
    scale = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)
    return A * scale[:, None] * scale[None, :], d


def _worst(*statuses: str) -> str:
    return max(statuses, key=_RANK.__getitem__)


# ------------------------------------------------------------------ main
def identifiability(results, *, n_flat: int = 3, check_restarts: bool = True,
                    emit_warning: bool = True) -> IdentifiabilityReport:
    """Identifiability diagnostics of a fitted latent-class logit.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    n_flat : int
        Number of flattest information directions to keep.
    check_restarts : bool
        Polish the solutions of every start that reached the best
        log-likelihood and compare them (restart stability).
    emit_warning : bool
        Issue an :class:`~mixlogit.exceptions.IdentificationWarning` when an
        item fails.

    Returns
    -------
    IdentifiabilityReport

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=200, n_situations=8, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=3, seed=0)
    >>> report = res.identifiability()
    >>> report.status
    'pass'
    >>> report.to_frame().loc["smallest class", "status"]
    'pass'
    """
    lik = results.fit_state.likelihood
    lay = lik.layout
    data = lik.data
    K = lay.k_classes
    L = lay.k_exog
    free = lik.free
    names = np.asarray(lay.param_names)
    free_names = list(names[free])
    w = data.weights
    n_w = float(w.sum())
    items: list[DiagnosticItem] = []
    params = results.params.to_numpy()
    ev = results.fit_state.evaluation
    h = ev.posteriors
    cov = np.asarray(results.normalized_cov_params, float)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))

    # ---- parameters vs data
    d = int(free.sum())
    dof = int((data.n_alternatives - 1).sum())
    per = n_w / d
    status = FAIL if d >= dof else (WARN if per < 5 else PASS)
    items.append(DiagnosticItem(
        "parameters vs data", status,
        f"d = {d} free parameters; {dof} choice degrees of freedom; N = {n_w:g} decision makers "
        f"(N/d = {per:.1f})", "fail if d >= dof; warn if N/d < 5"))

    # ---- within-situation attributes
    chk = within_situation_check(data)
    share_min = float(chk["share"].min())
    worst_col = chk["names"][int(np.argmin(chk["share"]))]
    smin = float(chk["singular"][-1])
    cond = np.inf if smin <= 0 else 1.0 / smin
    status = FAIL if (share_min < 1e-8 or smin < 1e-8) else (
        WARN if (share_min < 1e-4 or cond > 1e4) else PASS)
    rank = min(int((chk["singular"] > 1e-8).sum()), int((chk["share"] >= 1e-8).sum()))
    items.append(DiagnosticItem(
        "within-situation attributes", status,
        f"numerical rank {rank} of {len(chk['names'])}; condition number "
        f"{cond:.3g}; smallest within-situation share of variation {share_min:.3g} ({worst_col})",
        "fail if share < 1e-8 or relative singular value < 1e-8; warn if share < 1e-4 or "
        "condition number > 1e4",
        "only variation within a situation identifies a coefficient" if status != PASS else ""))

    # ---- observed information
    A = results.fit_state.covariance_inputs.information
    E, diag = _equilibrate(A)
    eigval, eigvec = np.linalg.eigh(0.5 * (E + E.T))
    raw_min = float(np.linalg.eigvalsh(0.5 * (A + A.T))[0])
    pd_ok = raw_min > 0 and np.all(diag > 0) and eigval[0] > 0
    cond_i = float(eigval[-1] / eigval[0]) if eigval[0] > 0 else np.inf
    status = FAIL if (not pd_ok or cond_i > 1e8) else (WARN if cond_i > 1e4 else PASS)
    flat_cols = [f"direction{j + 1}" for j in range(min(n_flat, len(eigval)))]
    flat = pd.DataFrame(eigvec[:, :len(flat_cols)], index=free_names, columns=flat_cols)
    v = flat.iloc[:, 0]
    top = v.abs().sort_values(ascending=False).index[:3]
    items.append(DiagnosticItem(
        "observed information", status,
        f"equilibrated eigenvalues {eigval[0]:.3g} .. {eigval[-1]:.3g}, condition number "
        f"{cond_i:.3g}; smallest raw eigenvalue {raw_min:.3g}",
        "fail if not positive definite or condition number > 1e8; warn if > 1e4",
        "flattest direction: " + ", ".join(f"{n} {v[n]:+.2f}" for n in top)))
    eig_series = pd.Series(eigval, index=pd.RangeIndex(len(eigval), name="order"),
                           name="eigenvalue")

    # ---- per class
    class_rows = []
    pair_rows = []
    if K > 1:
        shares = results.class_shares.to_numpy()
        size = shares * n_w
        k_min = int(np.argmin(shares))
        status = FAIL if (size[k_min] < 5 or shares[k_min] < 0.01) else (
            WARN if (size[k_min] < 20 or shares[k_min] < 0.05) else PASS)
        items.append(DiagnosticItem(
            "smallest class", status,
            f"class{k_min + 1}: share {shares[k_min]:.4f}, expected size {size[k_min]:.1f}",
            "fail if expected size < 5 or share < 0.01; warn if < 20 or < 0.05"))

        # separation: Wald test of equal class-specific coefficients for each pair
        worst_p, worst_pair, worst_stat = -1.0, None, None
        for k in range(K):
            for m in range(k + 1, K):
                ik = np.arange(lay.class_slice(k).start, lay.class_slice(k).stop)
                im = np.arange(lay.class_slice(m).start, lay.class_slice(m).stop)
                keep = free[ik] | free[im]
                diff = (params[ik] - params[im])[keep]
                V = (cov[np.ix_(ik, ik)] + cov[np.ix_(im, im)] - cov[np.ix_(ik, im)]
                     - cov[np.ix_(im, ik)])[np.ix_(keep, keep)]
                if diff.size == 0:
                    continue
                stat = max(float(diff @ np.linalg.pinv(V, hermitian=True) @ diff), 0.0)
                dfree = int(np.linalg.matrix_rank(V)) or diff.size
                p = float(stats.chi2.sf(stat, dfree))
                sd = np.sqrt(np.clip(np.diag(V), 0, None))
                zmax = float(np.max(np.abs(diff) / np.where(sd > 0, sd, np.inf)))
                pair_rows.append({"pair": f"class{k + 1}-class{m + 1}", "wald": stat, "df": dfree,
                                  "pvalue": p, "max_abs_z": zmax})
                if p > worst_p:
                    worst_p, worst_pair, worst_stat = p, (k, m), (stat, zmax)
        if worst_pair is not None:
            status = FAIL if worst_p > 0.05 else (WARN if worst_p > 0.001 else PASS)
            k, m = worst_pair
            items.append(DiagnosticItem(
                "class separation", status,
                f"closest pair class{k + 1}/class{m + 1}: Wald {worst_stat[0]:.3g} "
                f"(p = {worst_p:.3g}), largest |difference| / se {worst_stat[1]:.2f}",
                "fail if p > 0.05 (classes not distinguishable); warn if p > 0.001"))

        # curvature and effective alternatives
        C = lay.unpack(params).class_coefficients
        P = class_probabilities(data, C)
        c = (w[:, None] * h)[data.decision_maker_of_situation]  # (S, K)
        X = data.design[:, :L]
        with np.errstate(divide="ignore", invalid="ignore"):
            ent_rows = -np.where(P > 0, P * np.log(P), 0.0)
        ent_sit = np.add.reduceat(ent_rows, data.situation_start, axis=0)
        rel_curv = np.full(K, np.nan)
        eff_alt = np.full(K, np.nan)
        for k in range(K):
            ck = c[:, k]
            if L:
                Xbar = np.add.reduceat(X * P[:, k:k + 1], data.situation_start, axis=0)
                info = (X * (ck[data.situation_of_row] * P[:, k])[:, None]).T @ X \
                    - (Xbar * ck[:, None]).T @ Xbar
                fk = free[lay.class_slice(k)]
                if fk.any():
                    Ek, dk = _equilibrate(info[np.ix_(fk, fk)])
                    ev_k = np.linalg.eigvalsh(0.5 * (Ek + Ek.T))
                    rel_curv[k] = ev_k[0] / ev_k[-1] if ev_k[-1] > 0 and np.all(dk > 0) else 0.0
            if ck.sum() > 0:
                eff_alt[k] = float(np.exp(ent_sit[:, k]) @ ck / ck.sum())
        finite = np.isfinite(rel_curv)
        if finite.any():
            kc = int(np.nanargmin(rel_curv))
            status = FAIL if rel_curv[kc] < 1e-8 else (WARN if rel_curv[kc] < 1e-4 else PASS)
            items.append(DiagnosticItem(
                "class curvature", status,
                f"smallest relative eigenvalue of a class's information: {rel_curv[kc]:.3g} "
                f"(class{kc + 1})", "fail if < 1e-8; warn if < 1e-4"))
        ke = int(np.nanargmin(eff_alt))
        status = WARN if eff_alt[ke] < 1.05 else PASS
        items.append(DiagnosticItem(
            "effective alternatives", status,
            f"smallest: class{ke + 1} spreads its choices over {eff_alt[ke]:.3f} alternatives "
            f"(mean choice set {data.n_alternatives.mean():.2f})",
            "warn if < 1.05 (near-deterministic class: coefficients may diverge)"))
        class_rows = {"share": shares, "expected_size": size, "relative_curvature": rel_curv,
                      "effective_alternatives": eff_alt}

    # ---- panel length
    T = data.n_situations_per_decision_maker
    desc = pd.Series(T).describe()
    status = WARN if (K > 1 and np.median(T) < 2) else PASS
    items.append(DiagnosticItem(
        "panel length", status,
        f"situations per decision maker: min {T.min()}, median {np.median(T):g}, max {T.max()}",
        "warn if K > 1 and the median is 1 (classes weakly identified from single choices)"))

    # ---- entropy
    if K > 1:
        er2 = entropy_r2(h, w)
        status = WARN if er2 < 0.4 else PASS
        items.append(DiagnosticItem("entropy R2", status, f"{er2:.3f}",
                                    "warn if < 0.4 (classes poorly separated by the data)"))

    # ---- restart stability
    report = results.start_report
    n_starts, n_best = report.n_starts, report.n_reached_best
    spread = np.nan
    if check_restarts and n_best > 1 and K >= 1:
        spread = _restart_spread(results, se)
    if n_starts < 2:
        status, why = WARN, "a single start: stability not assessed"
    elif np.isfinite(spread) and spread > 1:
        status, why = FAIL, "starts reach the same likelihood at different parameters (a ridge)"
    elif n_best < 2:
        status, why = WARN, "only one start reached the best optimum"
    elif np.isfinite(spread) and spread > 0.1:
        status, why = WARN, "solutions at the best likelihood differ noticeably"
    else:
        status, why = PASS, ""
    items.append(DiagnosticItem(
        "restart stability", status,
        f"{n_best} of {n_starts} starts reached the best log-likelihood; largest difference "
        f"between their solutions {spread:.3g} standard errors",
        "fail if difference > 1 se; warn if > 0.1 se, a single start, or a single hit", why))

    class_table = pd.DataFrame(class_rows, index=lay.class_names) if K > 1 else pd.DataFrame()
    pair_table = pd.DataFrame(pair_rows).set_index("pair") if pair_rows else pd.DataFrame()
    out = IdentifiabilityReport(items=items, information_eigenvalues=eig_series,
                                flat_directions=flat, class_table=class_table,
                                pair_table=pair_table, panel_lengths=desc, k_classes=K)
    if emit_warning and out.status == FAIL:
        warn(f"the model may not be identified: {', '.join(out.failed_items)} failed (see "
             "results.identifiability())", IdentificationWarning)
    return out


def _restart_spread(results, se: np.ndarray, max_starts: int = 10) -> float:
    """Largest aligned difference (in se) between polished solutions at the best optimum."""
    from scipy.optimize import linear_sum_assignment

    lik = results.fit_state.likelihood
    lay = lik.layout
    est = results.fit_state.estimate
    report = est.report
    best = report.optima[0]
    idx = [i for i, r in enumerate(est.runs)
           if r.error is None and best - r.llf <= report.rtol * abs(best)][:max_starts]
    ref = results.params.to_numpy()
    scale = np.where(np.isfinite(se) & (se > 0), se, np.inf)
    exch = lay.k_classes > 1 and lay.classes_exchangeable(lik.fixed_mask)
    spread = 0.0
    for i in idx:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                theta, _, _, _ = lik.polish(est.runs[i].params)
            except Exception:  # a start that cannot be polished is not evidence either way
                continue
        if exch:
            a = lay.unpack(ref).betas
            b = lay.unpack(theta).betas
            s = np.array([scale[lay.class_slice(k)] for k in range(lay.k_classes)])
            cost = (((a[:, None, :] - b[None, :, :]) / s[:, None, :]) ** 2).sum(2)
            r, c = linear_sum_assignment(cost)
            order = np.empty(lay.k_classes, int)
            order[r] = c
            theta = lay.permute(theta, order)
        diff = np.abs(theta - ref) / scale
        spread = max(spread, float(np.max(diff[lik.free])))
    return spread
