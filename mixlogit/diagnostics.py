"""Identifiability and fit diagnostics of a latent-class logit estimate, on either data form.

Every check reads the public fit state (``results.fit_state``) and the
:class:`~mixlogit.likelihood.MixtureLikelihood` interface; the one
form-specific piece is :func:`choice_sets`, the choice sets behind the class
probabilities (one per situation in the long form; the shared candidate set,
faced by every draw, in the counts form).

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
    (latent classes are weakly identified from single choices). ``n/a`` on
    the counts form (every unit is a single draw).
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
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import _checks as ck
from ._alignment import match_classes
from ._choice_sets import ChoiceSets, choice_sets, within_situation_check
from .exceptions import IdentificationWarning, warn

__all__ = ["DiagnosticItem", "IdentifiabilityReport", "identifiability", "entropy_r2",
           "ChoiceSets", "choice_sets", "within_situation_check"]

PASS, WARN, FAIL, NA = "pass", "warn", "fail", "n/a"
_RANK = {NA: 0, PASS: 0, WARN: 1, FAIL: 2}


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
        return self.to_frame().to_html()

    def __repr__(self) -> str:
        return (f"<IdentifiabilityReport: {self.status}, failed={self.failed_items}, "
                f"warned={self.warned_items}>")


# ------------------------------------------------------------------ helpers
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

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.diagnostics import entropy_r2
    >>> entropy_r2(np.array([[1.0, 0.0], [0.5, 0.5]]))
    0.5
    """
    h = np.asarray(posteriors, float)
    K = h.shape[1]
    if K < 2:
        return float("nan")
    w = np.ones(h.shape[0]) if weights is None else np.asarray(weights, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(h > 0, h * np.log(h), 0.0).sum(axis=1)
    return float(1.0 - (w @ ent) / (w.sum() * np.log(K)))


def _equilibrate(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.diag(A).copy()
    scale = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)
    return A * scale[:, None] * scale[None, :], d


# ------------------------------------------------------------------ items
@dataclass(frozen=True, eq=False)
class _Context:
    """What every check reads, computed once from the public fit state."""

    results: Any
    likelihood: Any
    sets: ChoiceSets
    params: np.ndarray
    posteriors: np.ndarray
    weights: np.ndarray
    cov: np.ndarray
    se: np.ndarray

    @property
    def layout(self):
        return self.likelihood.layout


def _context(results) -> _Context:
    state = results.fit_state
    lik = state.likelihood
    cov = np.asarray(results.normalized_cov_params, float)
    return _Context(results=results, likelihood=lik, sets=choice_sets(lik),
                    params=np.asarray(state.params, float), posteriors=state.evaluation.posteriors,
                    weights=lik.weights, cov=cov, se=np.sqrt(np.clip(np.diag(cov), 0, None)))


def _item_parameters(c: _Context) -> DiagnosticItem:
    d = int(c.likelihood.free.sum())
    dof = c.sets.choice_dof
    n_w = float(c.weights.sum())
    per = n_w / d
    status = FAIL if d >= dof else (WARN if per < 5 else PASS)
    return DiagnosticItem(
        "parameters vs data", status,
        f"d = {d} free parameters; {dof} choice degrees of freedom; N = {n_w:g} "
        f"{c.sets.unit_label} (N/d = {per:.1f})", "fail if d >= dof; warn if N/d < 5")


def _item_within(c: _Context) -> DiagnosticItem:
    lay = c.layout
    chk = within_situation_check(c.sets, list(lay.exog_names) + list(lay.invariant_names))
    share_min = float(chk["share"].min())
    worst_col = chk["names"][int(np.argmin(chk["share"]))]
    smin = float(chk["singular"][-1])
    cond = np.inf if smin <= 0 else 1.0 / smin
    status = FAIL if (share_min < 1e-8 or smin < 1e-8) else (
        WARN if (share_min < 1e-4 or cond > 1e4) else PASS)
    rank = min(int((chk["singular"] > 1e-8).sum()), int((chk["share"] >= 1e-8).sum()))
    return DiagnosticItem(
        "within-situation attributes", status,
        f"numerical rank {rank} of {len(chk['names'])}; condition number "
        f"{cond:.3g}; smallest within-situation share of variation {share_min:.3g} ({worst_col})",
        "fail if share < 1e-8 or relative singular value < 1e-8; warn if share < 1e-4 or "
        "condition number > 1e4",
        "only variation within a situation identifies a coefficient" if status != PASS else "")


def _item_information(c: _Context, n_flat: int) -> tuple[DiagnosticItem, pd.Series, pd.DataFrame]:
    A = c.results.fit_state.covariance_inputs.information
    E, diag = _equilibrate(A)
    eigval, eigvec = np.linalg.eigh(0.5 * (E + E.T))
    raw_min = float(np.linalg.eigvalsh(0.5 * (A + A.T))[0])
    pd_ok = raw_min > 0 and np.all(diag > 0) and eigval[0] > 0
    cond_i = float(eigval[-1] / eigval[0]) if eigval[0] > 0 else np.inf
    status = FAIL if (not pd_ok or cond_i > 1e8) else (WARN if cond_i > 1e4 else PASS)
    free_names = list(np.asarray(c.layout.param_names)[c.likelihood.free])
    flat_cols = [f"direction{j + 1}" for j in range(min(n_flat, len(eigval)))]
    flat = pd.DataFrame(eigvec[:, :len(flat_cols)], index=free_names, columns=flat_cols)
    v = flat.iloc[:, 0] if flat_cols else pd.Series(dtype=float)
    top = v.abs().sort_values(ascending=False).index[:3]
    item = DiagnosticItem(
        "observed information", status,
        f"equilibrated eigenvalues {eigval[0]:.3g} .. {eigval[-1]:.3g}, condition number "
        f"{cond_i:.3g}; smallest raw eigenvalue {raw_min:.3g}",
        "fail if not positive definite or condition number > 1e8; warn if > 1e4",
        "flattest direction: " + ", ".join(f"{n} {v[n]:+.2f}" for n in top))
    eig = pd.Series(eigval, index=pd.RangeIndex(len(eigval), name="order"), name="eigenvalue")
    return item, eig, flat


def _item_smallest(c: _Context, shares: np.ndarray) -> DiagnosticItem:
    size = shares * float(c.weights.sum())
    k = int(np.argmin(shares))
    status = FAIL if (size[k] < 5 or shares[k] < 0.01) else (
        WARN if (size[k] < 20 or shares[k] < 0.05) else PASS)
    return DiagnosticItem(
        "smallest class", status,
        f"class{k + 1}: share {shares[k]:.4f}, expected size {size[k]:.1f}",
        "fail if expected size < 5 or share < 0.01; warn if < 20 or < 0.05")


def _pair_wald(c: _Context, k: int, m: int) -> dict | None:
    """Wald test of equal class-specific coefficients of classes k and m."""
    lay, free, cov = c.layout, c.likelihood.free, c.cov
    ik = np.arange(lay.class_slice(k).start, lay.class_slice(k).stop)
    im = np.arange(lay.class_slice(m).start, lay.class_slice(m).stop)
    keep = free[ik] | free[im]
    diff = (c.params[ik] - c.params[im])[keep]
    if diff.size == 0:
        return None
    V = (cov[np.ix_(ik, ik)] + cov[np.ix_(im, im)] - cov[np.ix_(ik, im)]
         - cov[np.ix_(im, ik)])[np.ix_(keep, keep)]
    known = np.all(np.isfinite(V), axis=0)  # NaN: directions the covariance cannot identify
    if not known.any():
        return {"pair": f"class{k + 1}-class{m + 1}", "wald": 0.0, "df": diff.size,
                "pvalue": 1.0, "max_abs_z": 0.0}
    diff, V = diff[known], V[np.ix_(known, known)]
    stat = max(float(diff @ np.linalg.pinv(V, hermitian=True) @ diff), 0.0)
    dfree = int(np.linalg.matrix_rank(V)) or diff.size
    sd = np.sqrt(np.clip(np.diag(V), 0, None))
    zmax = float(np.max(np.abs(diff) / np.where(sd > 0, sd, np.inf)))
    return {"pair": f"class{k + 1}-class{m + 1}", "wald": stat, "df": dfree,
            "pvalue": float(stats.chi2.sf(stat, dfree)), "max_abs_z": zmax}


def _item_separation(c: _Context) -> tuple[DiagnosticItem | None, list[dict]]:
    K = c.layout.k_classes
    rows = [r for k in range(K) for m in range(k + 1, K) if (r := _pair_wald(c, k, m))]
    if not rows:
        return None, rows
    worst = max(rows, key=lambda r: r["pvalue"])
    p = worst["pvalue"]
    status = FAIL if p > 0.05 else (WARN if p > 0.001 else PASS)
    k, m = worst["pair"].replace("class", "").split("-")
    return DiagnosticItem(
        "class separation", status,
        f"closest pair class{k}/class{m}: Wald {worst['wald']:.3g} (p = {p:.3g}), largest "
        f"|difference| / se {worst['max_abs_z']:.2f}",
        "fail if p > 0.05 (classes not distinguishable); warn if p > 0.001"), rows


def _class_curvature(c: _Context) -> np.ndarray:
    """Smallest over largest eigenvalue of each class's equilibrated information."""
    lay, L, K = c.layout, c.layout.k_exog, c.layout.k_classes
    wh = c.weights[:, None] * c.posteriors
    infos = c.likelihood.class_information(c.params, wh)
    rel = np.full(K, np.nan)
    for k in range(K):
        fk = c.likelihood.free[lay.class_slice(k)]
        if L and fk.any():
            Ek, dk = _equilibrate(np.asarray(infos[k])[:L, :L][np.ix_(fk, fk)])
            ev = np.linalg.eigvalsh(0.5 * (Ek + Ek.T))
            rel[k] = ev[0] / ev[-1] if ev[-1] > 0 and np.all(dk > 0) else 0.0
    return rel


def _effective_alternatives(c: _Context) -> np.ndarray:
    """Per class: exp(entropy of its choice probabilities), averaged over its sets."""
    P = c.likelihood.class_probabilities(c.params)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent_rows = -np.where(P > 0, P * np.log(P), 0.0)
    ent_set = np.add.reduceat(ent_rows, c.sets.set_start, axis=0)      # (S, K)
    mass = c.sets.per_set(c.weights[:, None] * c.posteriors)            # (S, K)
    total = mass.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (np.exp(ent_set) * mass).sum(axis=0) / total, np.nan)


def _class_items(c: _Context) -> tuple[list[DiagnosticItem], dict]:
    rel_curv = _class_curvature(c)
    eff_alt = _effective_alternatives(c)
    items = []
    if np.isfinite(rel_curv).any():
        kc = int(np.nanargmin(rel_curv))
        status = FAIL if rel_curv[kc] < 1e-8 else (WARN if rel_curv[kc] < 1e-4 else PASS)
        items.append(DiagnosticItem(
            "class curvature", status,
            f"smallest relative eigenvalue of a class's information: {rel_curv[kc]:.3g} "
            f"(class{kc + 1})", "fail if < 1e-8; warn if < 1e-4"))
    if np.isfinite(eff_alt).any():
        ke = int(np.nanargmin(eff_alt))
        items.append(DiagnosticItem(
            "effective alternatives", WARN if eff_alt[ke] < 1.05 else PASS,
            f"smallest: class{ke + 1} spreads its choices over {eff_alt[ke]:.3f} alternatives "
            f"(mean choice set {c.sets.n_alternatives.mean():.2f})",
            "warn if < 1.05 (near-deterministic class: coefficients may diverge)"))
    return items, {"relative_curvature": rel_curv, "effective_alternatives": eff_alt}


def _item_panel(c: _Context) -> tuple[DiagnosticItem, pd.Series]:
    T = c.sets.situations_per_unit
    if T is None:
        return DiagnosticItem(
            "panel length", NA, f"not applicable to the {c.likelihood.form} form",
            "warn if K > 1 and the median is 1",
            "each unit is one draw from the shared candidate set: there are no panels"), \
            pd.Series(dtype=float)
    status = WARN if (c.layout.k_classes > 1 and np.median(T) < 2) else PASS
    return DiagnosticItem(
        "panel length", status,
        f"situations per decision maker: min {T.min()}, median {np.median(T):g}, max {T.max()}",
        "warn if K > 1 and the median is 1 (classes weakly identified from single choices)"), \
        pd.Series(T).describe()


def _item_restarts(c: _Context, check_restarts: bool) -> DiagnosticItem:
    report = c.results.fit_state.estimate.report
    n_starts, n_best = report.n_starts, report.n_reached_best
    spread = _restart_spread(c) if check_restarts and n_best > 1 else np.nan
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
    return DiagnosticItem(
        "restart stability", status,
        f"{n_best} of {n_starts} starts reached the best log-likelihood; largest difference "
        f"between their solutions {spread:.3g} standard errors",
        "fail if difference > 1 se; warn if > 0.1 se, a single start, or a single hit", why)


def _restart_spread(c: _Context, max_starts: int = 10) -> float:
    """Largest aligned difference (in se) between polished solutions at the best optimum."""
    lik, lay = c.likelihood, c.layout
    est = c.results.fit_state.estimate
    report = est.report
    best = report.optima[0]
    idx = [i for i, r in enumerate(est.runs)
           if r.error is None and best - r.llf <= report.rtol * abs(best)][:max_starts]
    scale = np.where(np.isfinite(c.se) & (c.se > 0), c.se, np.inf)
    exch = lay.k_classes > 1 and lik.classes_exchangeable
    class_scale = np.array([scale[lay.class_slice(k)] for k in range(lay.k_classes)])
    spread = 0.0
    for i in idx:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                theta, _, _, _ = lik.polish(est.runs[i].params)
            except Exception:  # a start that cannot be polished is not evidence either way
                continue
        if exch:
            order = match_classes(lay.unpack(c.params).betas, lay.unpack(theta).betas,
                                  class_scale).order
            theta = lay.permute(theta, order)
        diff = np.abs(theta - c.params) / scale
        spread = max(spread, float(np.max(diff[lik.free])))
    return spread


# ------------------------------------------------------------------ main
def identifiability(results, *, n_flat: int = 3, check_restarts: bool = True,
                    emit_warning: bool = True) -> IdentifiabilityReport:
    """Identifiability diagnostics of a fitted latent-class logit (long or counts form).

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
        On the counts form the choice set is the shared candidate set, ``N``
        counts draws, and ``panel length`` is marked ``n/a``.

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
    opts = ck.check_params({"n_flat": ck.whole_number(low=0), "check_restarts": ck.boolean(),
                            "emit_warning": ck.boolean()},
                           {"n_flat": n_flat, "check_restarts": check_restarts,
                            "emit_warning": emit_warning}, where="identifiability()")
    n_flat, check_restarts, emit_warning = (opts["n_flat"], opts["check_restarts"],
                                            opts["emit_warning"])
    c = _context(results)
    K = c.layout.k_classes
    info_item, eig_series, flat = _item_information(c, n_flat)
    items = [_item_parameters(c), _item_within(c), info_item]
    class_rows: dict = {}
    pair_rows: list[dict] = []
    if K > 1:
        shares = np.asarray(results.fit_state.share_jacobian()[0], float)
        items.append(_item_smallest(c, shares))
        separation, pair_rows = _item_separation(c)
        items += [separation] if separation is not None else []
        class_items, per_class = _class_items(c)
        items += class_items
        class_rows = {"share": shares, "expected_size": shares * float(c.weights.sum()),
                      **per_class}
    panel_item, panel_lengths = _item_panel(c)
    items.append(panel_item)
    if K > 1:
        er2 = entropy_r2(c.posteriors, c.weights)
        items.append(DiagnosticItem("entropy R2", WARN if er2 < 0.4 else PASS, f"{er2:.3f}",
                                    "warn if < 0.4 (classes poorly separated by the data)"))
    items.append(_item_restarts(c, check_restarts))
    out = IdentifiabilityReport(
        items=items, information_eigenvalues=eig_series, flat_directions=flat,
        class_table=pd.DataFrame(class_rows, index=c.layout.class_names) if K > 1
        else pd.DataFrame(),
        pair_table=pd.DataFrame(pair_rows).set_index("pair") if pair_rows else pd.DataFrame(),
        panel_lengths=panel_lengths, k_classes=K)
    if emit_warning and out.status == FAIL:
        warn(f"the model may not be identified: {', '.join(out.failed_items)} failed (see "
             "results.identifiability())", IdentificationWarning)
    return out
