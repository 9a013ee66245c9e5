"""statsmodels ``Summary`` tables for latent-class logit results."""
from __future__ import annotations

import numpy as np
from statsmodels.iolib.summary import Summary, summary_params
from statsmodels.iolib.table import SimpleTable

__all__ = ["build_summary"]

_COV_NAMES = {
    "oim": "observed information",
    "opg": "outer product of gradients",
    "robust": "robust (sandwich, by decision maker)",
    "cluster": "cluster-robust",
    "bootstrap": "bootstrap (label-aligned)",
}


def _fmt(value: float, digits: int = 3) -> str:
    return f"{value:#.{digits}f}" if np.isfinite(value) else "nan"


def _param_table(res, positions, names, alpha, title):
    params = res.params.to_numpy()[positions]
    bse = res.bse.to_numpy()[positions]
    tvalues = res.tvalues.to_numpy()[positions]
    pvalues = res.pvalues.to_numpy()[positions]
    ci = res.conf_int(alpha).to_numpy()[positions]
    return summary_params((res, params, bse, tvalues, pvalues, ci), yname=None, xname=list(names),
                          alpha=alpha, use_t=False, title=title)


def build_summary(res, alpha: float = 0.05, title: str | None = None) -> Summary:
    """Summary of a :class:`~mixlogit.results.MixedMultinomialLogitResults`.

    One table of fit statistics, one coefficient table per class, a table of
    class-invariant coefficients (when present), and the class shares with
    delta-method standard errors or the membership coefficients.
    """
    model = res.model
    lay = model.layout
    spec = model.formula_spec
    report = res.start_report
    dep = spec.outcome if spec is not None else (
        "counts" if hasattr(model.choice_data, "n_draws") else "endog")
    method = "EM + Newton" if res.method == "em" and res.polish_iter >= 0 and \
        res.fit_state.estimate.polish_converged is not None else res.method
    left = [
        ("Dep. Variable:", [dep]),
        ("Model:", ["MixedMultinomialLogit"]),
        ("Method:", [method]),
        ("No. Classes:", [str(lay.k_classes)]),
        ("Covariance:", [res.cov_type]),
        ("Converged:", [str(res.converged)]),
        ("Starts at best:", [f"{report.n_reached_best} of {report.n_starts}"]),
        ("EM iterations:", [str(res.n_iter)]),
    ]
    n_draws = getattr(model.choice_data, "n_draws", None)
    if n_draws is None:
        sizes = [("No. Rows:", [str(res.nobs)]),
                 ("No. Situations:", [str(res.n_situations)]),
                 ("No. Decision makers:", [str(res.n_decision_makers)])]
    else:  # counts form: one shared candidate set
        sizes = [("No. Candidates:", [str(res.n_decision_makers)]),
                 ("No. Draws:", [f"{n_draws:g}"]),
                 ("Model form:", ["counts"])]
    right = sizes + [
        ("Log-Likelihood:", [_fmt(res.llf)]),
        ("LL-Null:", [_fmt(res.llnull)]),
        ("Pseudo R-squ.:", [_fmt(res.prsquared, 4)]),
        ("AIC:", [_fmt(res.aic, 2)]),
        ("BIC / CAIC:", [f"{res.bic:.2f} / {res.caic:.2f}"]),
    ]
    smry = Summary()
    smry.add_table_2cols(res, gleft=left, gright=right, yname=dep, xname=[],
                         title=title or "Latent Class Multinomial Logit Results")
    shares = res.class_shares_table(alpha)
    for k in range(lay.k_classes):
        pos = np.arange(lay.class_slice(k).start, lay.class_slice(k).stop)
        if len(pos) == 0:
            continue
        share = shares["share"].iloc[k]
        smry.tables.append(_param_table(res, pos, lay.exog_names, alpha,
                                        f"Class {k + 1} (share {share:.3f})"))
    if lay.k_invariant:
        pos = np.arange(lay.invariant_slice.start, lay.invariant_slice.stop)
        smry.tables.append(_param_table(res, pos, lay.invariant_names, alpha,
                                        "Class-invariant coefficients"))
    if lay.k_classes > 1 and lay.has_membership_covariates:
        pos = np.arange(lay.membership_slice.start, lay.membership_slice.stop)
        names = [n.removeprefix("membership:") for n in np.asarray(lay.param_names)[pos]]
        smry.tables.append(_param_table(res, pos, names, alpha,
                                        "Class membership (multinomial logit, class 1 = reference)"))
    if lay.k_classes > 1:
        q = f"{100 * (1 - alpha):g}% Conf. Int."
        data = [[_fmt(r.share), _fmt(r.bse), _fmt(r.lower), _fmt(r.upper)]
                for r in shares.itertuples()]
        smry.tables.append(SimpleTable(data, headers=["share", "std err", q + " lower", "upper"],
                                       stubs=list(shares.index),
                                       title=f"Class shares (delta method, {res.cov_type} covariance)"))
    notes = [f"Standard errors: {_COV_NAMES.get(res.cov_type, res.cov_type)}."]
    fixed = res.fixed
    if fixed.any():
        notes.append("Fixed (not estimated): " + ", ".join(
            f"{name} = {res.params[name]:g}" for name in fixed.index[fixed]) + ".")
    if lay.k_classes > 1:
        if res.fit_state.reordered or lay.classes_exchangeable(res.fit_state.likelihood.fixed_mask):
            notes.append("Classes are ordered by share, largest first.")
        else:
            notes.append("Classes keep their numbering (fixed class-specific terms).")
    if report.n_starts > 1 and lay.k_classes > 1:
        notes.append(f"{len(report.optima)} distinct optima among {report.n_starts} starts.")
    smry.add_extra_txt(notes)
    return smry
