"""Plots of latent-class logit results (matplotlib, an optional extra, imported lazily)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import SpecificationError

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
    lay = results.model.layout
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
    for k in range(K):
        labels = [f"class{k + 1}:{t}" for t in terms]
        b = results.params[labels].to_numpy()
        se = results.bse[labels].to_numpy()
        ax.errorbar(b, y + offset[k], xerr=q * se, fmt="o", capsize=3,
                    label=f"class{k + 1} ({results.class_shares.iloc[k]:.2f})")
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(terms)
    ax.invert_yaxis()
    ax.set_xlabel(f"coefficient ({100 * (1 - alpha):g}% interval, {results.cov_type})")
    ax.legend(title="class (share)")
    return ax


def plot_criteria(table: pd.DataFrame, *, criteria=("aic", "bic", "caic", "sabic"), ax=None):
    """Information criteria against the number of classes; the minimum of each is marked.

    Parameters
    ----------
    table : DataFrame
        Indexed by K with one column per criterion (as ``ClassSelection.table``).
    criteria : sequence of str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from mixlogit.results.plotting import plot_criteria
    >>> table = pd.DataFrame({"aic": [10.0, 8.0, 9.0], "bic": [11.0, 10.0, 12.0]}, index=[1, 2, 3])
    >>> ax = plot_criteria(table, criteria=("aic", "bic"))
    >>> ax.get_xlabel()
    'number of classes K'
    """
    ax = _axes(ax)
    ks = table.index.to_numpy()
    for i, c in enumerate(criteria):
        vals = table[c].to_numpy(float)
        ax.plot(ks, vals, marker="o", color=f"C{i}", label=c.upper())
        if np.isfinite(vals).any():
            j = int(np.nanargmin(vals))
            ax.plot(ks[j], vals[j], marker="*", ms=14, color=f"C{i}")
    ax.set_xticks(ks)
    ax.set_xlabel("number of classes K")
    ax.set_ylabel("criterion (smaller is better)")
    ax.legend()
    ax.set_title("Choosing the number of classes")
    return ax
