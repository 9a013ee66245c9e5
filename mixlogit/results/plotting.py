"""Plots of latent-class logit results (matplotlib, an optional extra, imported lazily).

``plot_criteria`` (information criteria against K) lives with class selection in
:mod:`mixlogit.selection` and is re-exported here.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from .. import _checks as ck
from ..exceptions import SpecificationError
from ..selection import plot_criteria

__all__ = ["plot_class_shares", "plot_coefficients", "plot_criteria"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'mixlogit[plot]'") from exc
    return plt


def _axes(ax):
    if ax is None:
        _, ax = _pyplot().subplots()
    return ax


def plot_class_shares(results, *, alpha: float = 0.05, ax=None, bootstrap=None):
    """Bar chart of the class shares with confidence intervals.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    alpha : float
        1 - confidence level.
    ax : matplotlib Axes, optional
    bootstrap : BootstrapResults, optional
        Use its percentile intervals of the shares instead of the delta method.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import mixlogit as mx
    >>> df = mx.datasets.electricity.load()
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ pf + cl + loc - 1", df, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> ax = res.plot_class_shares()
    >>> len(ax.patches)
    2
    """
    alpha = ck.probability_level()(alpha, "alpha", "plot_class_shares()")
    table = results.class_shares_table(alpha)
    if bootstrap is not None:
        ci = bootstrap.share_conf_int(alpha)
        lower, upper = ci["lower"].to_numpy(), ci["upper"].to_numpy()
        how = "bootstrap percentile"
    else:
        lower, upper = table["lower"].to_numpy(), table["upper"].to_numpy()
        how = "delta method"
    share = table["share"].to_numpy()
    ax = _axes(ax)
    x = np.arange(len(share))
    err = np.vstack([share - lower, upper - share]).clip(min=0)
    ax.bar(x, share, yerr=err, capsize=4, color="C0", alpha=0.8)
    ax.set_xticks(x)
    ax.set_xticklabels(list(table.index))
    ax.set_ylabel("class share")
    ax.set_ylim(0, max(1.0, float(np.nanmax(upper)) * 1.05) if len(upper) else 1.0)
    ax.set_title(f"Class shares, {100 * (1 - alpha):g}% intervals ({how})")
    return ax


def plot_coefficients(results, *, alpha: float = 0.05, terms=None, ax=None):
    """Coefficients by class with Wald intervals: one row per term, one marker per class.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    alpha : float
        1 - confidence level.
    terms : list of str, optional
        Class-specific terms to show (default all).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> from mixlogit.results.plotting import plot_coefficients
    >>> len(plot_coefficients(res).get_yticklabels())
    2
    """
    alpha = ck.probability_level()(alpha, "alpha", "plot_coefficients()")
    lay = results.fit_state.likelihood.layout
    names = list(lay.exog_names)
    terms = names if terms is None else list(terms)
    unknown = [t for t in terms if t not in names]
    if unknown:
        raise SpecificationError(f"unknown class-specific terms {unknown}; terms are {names}")
    q = stats.norm.ppf(1 - alpha / 2)
    ax = _axes(ax)
    K = lay.k_classes
    y = np.arange(len(terms))
    offset = (np.arange(K) - (K - 1) / 2) * (0.6 / max(K, 1))
    theta = np.asarray(results.fit_state.params, float)
    se_all = np.sqrt(np.clip(np.diag(np.asarray(results.normalized_cov_params, float)), 0, None))
    shares = results.fit_state.share_jacobian()[0]
    cols = [names.index(t) for t in terms]
    for k in range(K):
        pos = np.arange(lay.class_slice(k).start, lay.class_slice(k).stop)[cols]
        ax.errorbar(theta[pos], y + offset[k], xerr=q * se_all[pos], fmt="o", capsize=3,
                    label=f"class{k + 1} ({shares[k]:.2f})")
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(terms)
    ax.invert_yaxis()
    ax.set_xlabel(f"coefficient ({100 * (1 - alpha):g}% interval, {results.cov_type})")
    ax.legend(title="class (share)")
    return ax
