"""Summary tables of latent-class logit results: statsmodels style, side by side, tidy.

* :func:`build_summary` (``res.summary()``): a table of fit statistics, one
  coefficient table per class, the class-invariant and membership
  coefficients, the class shares, and notes (covariance type, standard errors
  that are not reported and why, convergence problems). ``layout="wide"``
  gives :func:`build_wide_summary` instead.
* :func:`build_wide_summary` (``res.summary(layout="wide")``): terms in rows,
  classes in columns, standard errors in parentheses under each estimate,
  shares and fit statistics at the bottom, as papers print it.
* :func:`summary_frame` (``res.summary_frame()``): one tidy DataFrame, a row
  per parameter: term, class, estimate, s.e., z, p and the interval.

With ``cov_type="bootstrap"`` the intervals are the bootstrap's percentile
intervals; otherwise Wald intervals from the covariance named in the table.
Standard errors that are not identified print as ``nan`` with a footnote from
``res.cov_reasons``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from statsmodels.iolib.summary import Summary, summary_params
from statsmodels.iolib.table import SimpleTable
from statsmodels.iolib.tableformatting import fmt_params

from ..exceptions import SpecificationError

__all__ = ["build_summary", "build_wide_summary", "summary_frame", "MixlogitSummary"]

_COV_NAMES = {
    "oim": "observed information",
    "opg": "outer product of gradients",
    "robust": "robust (sandwich, by decision maker)",
    "cluster": "cluster-robust",
    "bootstrap": "bootstrap (label-aligned)",
}
_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#", "$": r"\$"}


def _fmt(value: Any, digits: int = 3) -> str:
    value = float(value)
    return f"{value:#.{digits}f}" if np.isfinite(value) else "nan"


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


class MixlogitSummary(Summary):
    """A statsmodels ``Summary`` whose LaTeX keeps every table and its title.

    statsmodels' ``as_latex`` merges all tables into one tabular and drops
    their titles; here each table is its own tabular, headed by its title.

    Examples
    --------
    >>> from statsmodels.iolib.table import SimpleTable

from ..exceptions import SpecificationError
    >>> from mixlogit.results.summary import MixlogitSummary
    >>> smry = MixlogitSummary()
    >>> smry.tables.append(SimpleTable([["1.0"]], headers=["coef"], stubs=["x"],
    ...                                title="Class 1 (share 0.600)"))
    >>> "Class 1 (share 0.600)" in smry.as_latex()
    True
    """

    def as_latex(self) -> str:
        """Every table as a LaTeX tabular headed by its title, then the notes."""
        parts = []
        for table in self.tables:
            tex = table.as_latex_tabular()
            title = getattr(table, "title", None)
            if title:
                spec = tex.split(r"\begin{tabular}{", 1)[1].split("}", 1)[0]
                head = (f"\\multicolumn{{{len(spec)}}}{{c}}"
                        f"{{\\textbf{{{_latex_escape(str(title))}}}}} \\\\\n\\midrule\n")
                tex = tex.replace("\\toprule\n", "\\toprule\n" + head, 1)
                tex = tex.replace(f"%\\caption{{{title}}}\n", "")
            parts.append(tex)
        latex = "\n".join(parts)
        if self.extra_txt is not None:
            latex = latex + "\n\n" + _latex_escape(self.extra_txt).replace("\n", " \\newline\n ")
        return latex


# ---------------------------------------------------------------------- pieces
def _reasons(res) -> pd.Series:
    reasons = getattr(res, "cov_reasons", None)
    if reasons is None:
        return pd.Series(dtype=object)
    return pd.Series(reasons, dtype=object)


def _bootstrap(res):
    if getattr(res, "cov_type", None) != "bootstrap":
        return None
    return getattr(res, "bootstrap_results", None)


def _intervals(res, alpha: float) -> pd.DataFrame:
    """Interval of every parameter: percentile (bootstrap covariance) or Wald."""
    boot = _bootstrap(res)
    wald = pd.DataFrame(np.asarray(res.conf_int(alpha)), index=res.params.index,
                        columns=["lower", "upper"])
    if boot is None:
        return wald
    perc = pd.DataFrame(np.asarray(boot.conf_int(alpha, method="percentile")),
                        index=res.params.index, columns=["lower", "upper"])
    perc[~np.isfinite(np.asarray(res.bse, float))] = np.nan
    return perc


def _convergence(res) -> tuple[str, str | None]:
    """The table entry ("Yes" / "No (saddle point)") and the full problem text."""
    if bool(res.converged):
        return "Yes", None
    est = res.fit_state.estimate
    problem = getattr(est, "convergence_problem", None) or "stopping rule not met"
    return f"No ({problem.split(':')[0].split(';')[0]})", problem


def _param_table(res, positions, names, alpha, title, ci):
    params = np.asarray(res.params, float)[positions]
    bse = np.asarray(res.bse, float)[positions]
    tvalues = np.asarray(res.tvalues, float)[positions]
    pvalues = np.asarray(res.pvalues, float)[positions]
    return summary_params((res, params, bse, tvalues, pvalues, ci.to_numpy()[positions]),
                          yname=None, xname=list(names), alpha=alpha, use_t=False, title=title)


def _stat_columns(res, model, lay) -> tuple[list, list, str]:
    spec = getattr(model, "formula_spec", None)
    report = res.start_report
    counts_form = res.fit_state.likelihood.form == "counts"
    dep = spec.outcome if spec is not None else ("counts" if counts_form else "endog")
    est = res.fit_state.estimate
    method = ("EM + Newton" if res.method == "em" and est.polish_converged is not None
              else res.method)
    left = [
        ("Dep. Variable:", [dep]),
        ("Model:", ["MixedMultinomialLogit"]),
        ("Method:", [method]),
        ("No. Classes:", [str(lay.k_classes)]),
        ("Covariance:", [res.cov_type]),
        ("Converged:", [_convergence(res)[0]]),
        ("Starts at best:", [f"{report.n_reached_best} of {report.n_starts}"]),
        ("EM iterations:", [str(res.n_iter)]),
    ]
    if not counts_form:
        sizes = [("No. Rows:", [str(res.nobs)]),
                 ("No. Situations:", [str(res.n_situations)]),
                 ("No. Decision makers:", [str(res.n_decision_makers)])]
    else:  # counts form: one shared candidate set
        sizes = [("No. Candidates:", [str(res.n_decision_makers)]),
                 ("No. Draws:", [f"{res.n_effective:g}"]),
                 ("Model form:", ["counts"])]
    right = sizes + [
        ("Log-Likelihood:", [_fmt(res.llf)]),
        ("LL-Null:", [_fmt(res.llnull)]),
        ("Pseudo R-squ.:", [_fmt(res.prsquared, 4)]),
        ("AIC:", [_fmt(res.aic, 2)]),
        ("BIC / CAIC:", [f"{res.bic:.2f} / {res.caic:.2f}"]),
    ]
    return left, right, dep


def _share_rows(res, alpha) -> tuple[pd.DataFrame, str]:
    shares = res.class_shares_table(alpha)
    boot = _bootstrap(res)
    if boot is None:
        return shares, f"Class shares (delta method, {res.cov_type} covariance)"
    perc = boot.share_conf_int(alpha)
    shares = shares.copy()
    shares[["lower", "upper"]] = perc[["lower", "upper"]].to_numpy()
    return shares, "Class shares (bootstrap covariance, percentile intervals)"


def _notes(res, lay, alpha) -> list[str]:
    report = res.start_report
    cov = _COV_NAMES.get(res.cov_type, res.cov_type)
    notes = [f"Standard errors: {cov}."]
    if _bootstrap(res) is not None:
        notes.append(f"Intervals: bootstrap percentile ({100 * (1 - alpha):g}%).")
    fixed = res.fixed
    if fixed.any():
        notes.append("Fixed (not estimated): " + ", ".join(
            f"{name} = {res.params[name]:g}" for name in fixed.index[fixed]) + ".")
    reasons = _reasons(res)
    if len(reasons):
        notes.append("Standard errors shown as nan are not identified:")
        notes.extend(f"  {name}: {str(text).removeprefix('not identified: ')}"
                     for name, text in reasons.items())
    problem = _convergence(res)[1]
    if problem is not None:
        notes.append(f"Not converged: {problem}.")
    if lay.k_classes > 1:
        if res.fit_state.reordered or res.fit_state.likelihood.classes_exchangeable:
            notes.append("Classes are ordered by share, largest first.")
        else:
            why = ("constraints or bounds on class-specific terms"
                   if res.fit_state.likelihood.n_restrictions or
                   not res.fit_state.likelihood.fixed_mask.any()
                   else "fixed class-specific terms")
            notes.append(f"Classes keep their numbering ({why}).")
    if report.n_starts > 1 and lay.k_classes > 1:
        notes.append(f"{len(report.optima)} distinct optima among {report.n_starts} starts.")
    sample = res.fit_state.options.get("start_sample")
    if sample is not None and sample < res.n_decision_makers:
        notes.append(f"Starts were fitted on a hashed sample of {sample} decision makers; its "
                     "distinct optima were run on all of them.")
    return notes


# ---------------------------------------------------------------------- layouts
def build_summary(res, alpha: float = 0.05, title: str | None = None, *,
                  layout: str = "long") -> Summary:
    """Summary of a :class:`~mixlogit.results.MixedMultinomialLogitResults`.

    Parameters
    ----------
    res : MixedMultinomialLogitResults
    alpha : float
        1 - confidence level of the intervals.
    title : str, optional
        Title of the first table.
    layout : {"long", "wide"}
        ``"long"``: one table of fit statistics, one coefficient table per
        class, a table of class-invariant coefficients (when present), the
        membership coefficients or the class shares, and notes. ``"wide"``:
        :func:`build_wide_summary`.

    Returns
    -------
    MixlogitSummary

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.results.summary import build_summary
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2
    ...     ).fit(n_starts=2, seed=0)
    >>> text = build_summary(res).as_text()
    >>> "Class 2 (share" in text and "Converged:" in text
    True
    """
    if layout == "wide":
        return build_wide_summary(res, alpha=alpha, title=title)
    if layout != "long":
        raise SpecificationError(f"layout={layout!r}; use 'long' (one table per class) or 'wide' "
                          "(classes side by side)")
    model = res.model
    lay = model.layout
    left, right, dep = _stat_columns(res, model, lay)
    smry = MixlogitSummary()
    smry.add_table_2cols(res, gleft=left, gright=right, yname=dep, xname=[],
                         title=title or "Latent Class Multinomial Logit Results")
    ci = _intervals(res, alpha)
    shares, share_title = _share_rows(res, alpha)
    for k in range(lay.k_classes):
        pos = np.arange(lay.class_slice(k).start, lay.class_slice(k).stop)
        if len(pos) == 0:
            continue
        share = shares["share"].iloc[k]
        smry.tables.append(_param_table(res, pos, lay.exog_names, alpha,
                                        f"Class {k + 1} (share {share:.3f})", ci))
    if lay.k_invariant:
        pos = np.arange(lay.invariant_slice.start, lay.invariant_slice.stop)
        smry.tables.append(_param_table(res, pos, lay.invariant_names, alpha,
                                        "Class-invariant coefficients", ci))
    if lay.k_classes > 1 and lay.has_membership_covariates:
        pos = np.arange(lay.membership_slice.start, lay.membership_slice.stop)
        names = [n.removeprefix("membership:") for n in np.asarray(lay.param_names)[pos]]
        smry.tables.append(_param_table(res, pos, names, alpha,
                                        "Class membership (multinomial logit, class 1 = reference)",
                                        ci))
    if lay.k_classes > 1:
        data = [[_fmt(r.share), _fmt(r.bse), _fmt(r.lower), _fmt(r.upper)]
                for r in shares.itertuples()]
        low, high = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"    # as the coefficient tables
        smry.tables.append(SimpleTable(data, headers=["share", "std err", low, high],
                                       stubs=list(shares.index), title=share_title,
                                       txt_fmt=fmt_params))
    smry.add_extra_txt(_notes(res, lay, alpha))
    return smry


def _wide_rows(res, lay) -> tuple[list[str], list[list[str]]]:
    """Stubs and cells of the coefficient block: estimate rows, s.e. rows in parentheses."""
    K = lay.k_classes
    params = np.asarray(res.params, float)
    bse = np.asarray(res.bse, float)
    names = list(lay.param_names)
    stubs: list[str] = []
    rows: list[list[str]] = []

    def add(label: str, positions: list[int | None]):
        stubs.extend([label, ""])
        rows.append([_fmt(params[p], 4) if p is not None else "" for p in positions])
        rows.append([f"({_fmt(bse[p])})" if p is not None else "" for p in positions])

    for j, term in enumerate(lay.exog_names):
        add(term, [lay.class_slice(k).start + j for k in range(K)])
    for j, term in enumerate(lay.invariant_names):
        add(term, [lay.invariant_slice.start + j] * 1 + [None] * (K - 1))
    if K > 1 and lay.has_membership_covariates:
        m = lay.membership_slice
        Lz = lay.k_membership
        for a in range(Lz):
            term = names[m.start + a].split(":", 2)[-1]
            add(f"membership: {term}", [None] + [m.start + (k - 1) * Lz + a for k in range(1, K)])
    return stubs, rows


def build_wide_summary(res, alpha: float = 0.05, title: str | None = None) -> Summary:
    """Classes side by side: terms in rows, one column per class, s.e. in parentheses.

    Class-invariant coefficients appear once, in the first class's column;
    membership coefficients (class 1 is the reference) in the columns of
    classes 2..K. Class shares and fit statistics close the table.

    Parameters
    ----------
    res : MixedMultinomialLogitResults
    alpha : float
        Used for the share intervals of the notes (1 - confidence level).
    title : str, optional

    Returns
    -------
    MixlogitSummary

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.results.summary import build_wide_summary
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2
    ...     ).fit(n_starts=2, seed=0)
    >>> lines = build_wide_summary(res).as_text().splitlines()
    >>> lines[2].split()
    ['Class', '1', 'Class', '2']
    """
    lay = res.model.layout
    K = lay.k_classes
    stubs, rows = _wide_rows(res, lay)
    shares, _ = _share_rows(res, alpha)
    stubs += ["Share", ""]
    rows.append([_fmt(s) for s in shares["share"]])
    rows.append([f"({_fmt(s)})" for s in shares["bse"]])
    stats = [("Log-likelihood", _fmt(res.llf)), ("AIC", _fmt(res.aic, 2)),
             ("BIC", _fmt(res.bic, 2)), ("Decision makers", str(res.n_decision_makers)),
             ("Converged", _convergence(res)[0])]
    for label, value in stats:
        stubs.append(label)
        rows.append([value] + [""] * (K - 1))
    smry = MixlogitSummary()
    table = SimpleTable(rows, headers=[f"Class {k + 1}" for k in range(K)], stubs=stubs,
                        title=title or "Latent Class Multinomial Logit Results",
                        txt_fmt={"data_aligns": "r", "colsep": "  ", "header_align": "r"})
    smry.tables.append(table)
    notes = [f"Standard errors ({_COV_NAMES.get(res.cov_type, res.cov_type)}) in parentheses."]
    notes += [n for n in _notes(res, lay, alpha)[1:] if not n.startswith("Intervals:")]
    smry.add_extra_txt(notes)
    return smry


def summary_frame(res, alpha: float = 0.05) -> pd.DataFrame:
    """One tidy DataFrame of every parameter: term, class, estimate, s.e., z, p, interval.

    Parameters
    ----------
    res : MixedMultinomialLogitResults
    alpha : float
        1 - confidence level (percentile intervals with the bootstrap covariance).

    Returns
    -------
    DataFrame
        Indexed by parameter name, columns ``term``, ``class`` (1..K; 0 for a
        class-invariant term), ``kind``
        (``"class"``, ``"invariant"``, ``"membership"``), ``estimate``,
        ``std_err``, ``z``, ``p_value``, ``ci_lower``, ``ci_upper``, ``fixed``.

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.results.summary import summary_frame
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2
    ...     ).fit(n_starts=2, seed=0)
    >>> frame = summary_frame(res)
    >>> frame.loc["class2:x1", "term"], int(frame.loc["class2:x1", "class"])
    ('x1', 2)
    """
    lay = res.model.layout
    names = list(lay.param_names)
    rows: list[tuple[str, int, str]] = []  # (kind, class, term)
    for k in range(lay.k_classes):
        rows.extend(("class", k + 1, t) for t in lay.exog_names)
    rows.extend(("invariant", 0, t) for t in lay.invariant_names)
    m = lay.membership_slice
    for p in range(m.start, m.stop):
        _, klass, t = names[p].split(":", 2)
        rows.append(("membership", int(klass.removeprefix("class")), t))
    kind, cls, term = ([r[i] for r in rows] for i in range(3))
    ci = _intervals(res, alpha)
    frame = pd.DataFrame({
        "term": term, "class": cls, "kind": kind,
        "estimate": np.asarray(res.params, float), "std_err": np.asarray(res.bse, float),
        "z": np.asarray(res.tvalues, float), "p_value": np.asarray(res.pvalues, float),
        "ci_lower": ci["lower"].to_numpy(), "ci_upper": ci["upper"].to_numpy(),
        "fixed": np.asarray(res.fixed, bool),
    }, index=pd.Index(names, name="parameter"))
    return frame
