"""Plots of latent-class logit results (matplotlib, an optional extra, imported lazily).

Paper figures, each labelled with the model's parameter and class names:

- :func:`plot_coefficient_panels`: one panel per term, the classes on the y
  axis, point estimates with ``conf_int`` intervals; ``standardize="se"``
  draws z-values, ``standardize="sd"`` the coefficients of the standardized
  attributes. Estimates without a standard error are drawn as open markers
  without an interval and marked ``no s.e.``.
- :func:`plot_wtp`: willingness to pay per class and for the population, one
  panel per attribute, with the intervals of ``res.wtp(price)``.
- :func:`plot_posteriors`: the distribution of the largest posterior class
  probability per decision maker (coloured by the assigned class), or one
  histogram of the posterior probabilities per class.
- :func:`plot_coefficients` (every term on one axis) and
  :func:`plot_class_shares`.

``plot_criteria`` (information criteria against K, as levels or as
differences from the minimum) lives with class selection in
:mod:`mixlogit.selection` and is re-exported here.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from .. import _checks as ck
from ..exceptions import SpecificationError
from ..selection import plot_criteria

__all__ = ["plot_class_shares", "plot_coefficients", "plot_coefficient_panels", "plot_wtp",
           "plot_posteriors", "plot_criteria"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'mixlogit[plot]'") from exc
    return plt


def _axes(ax, figsize=None):
    if ax is None:
        _, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
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
    ax.bar(x, share, yerr=err, capsize=4, color=[f"C{k}" for k in range(len(share))],
           alpha=0.85)
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
    ax.legend(title="class (share)", loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.set_title("Coefficients by class")
    return ax


# ------------------------------------------------------------------ faceted plots
def _panel_grid(n_panels: int, n_rows_each: int, ncols, figsize, fig):
    """A figure with one Axes per panel (unused cells removed), and the grid's shape."""
    plt = _pyplot()
    if ncols is None:
        ncols = min(n_panels, 3)
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise SpecificationError(f"ncols must be a whole number >= 1, got {ncols!r}")
    ncols = min(int(ncols), n_panels)
    nrows = -(-n_panels // ncols)
    if figsize is None:
        figsize = (3.3 * ncols + 0.9, nrows * (0.38 * n_rows_each + 1.25) + 0.5)
    if fig is None:
        fig = plt.figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for extra in axes.flat[n_panels:]:
        extra.remove()
    return fig, list(axes.flat[:n_panels]), ncols


def _draw_intervals(ax, y, est, lower, upper, colors, markers) -> int:
    """Points with horizontal intervals at heights ``y``; returns how many lack an interval."""
    missing = 0
    for i in range(len(y)):
        e, lo, hi = float(est[i]), float(lower[i]), float(upper[i])
        if not np.isfinite(e):
            ax.text(0.5, y[i], "no s.e.", transform=ax.get_yaxis_transform(),
                    ha="center", va="center", fontsize=8, color=colors[i],
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
            missing += 1
        elif np.isfinite(lo) and np.isfinite(hi):
            ax.errorbar([e], [y[i]], xerr=[[e - lo], [hi - e]], fmt=markers[i], ms=6,
                        color=colors[i], capsize=3, lw=1.4)
        else:
            ax.plot([e], [y[i]], marker=markers[i], ms=7, ls="none", mfc="white",
                    mec=colors[i], mew=1.5)
            ax.annotate("no s.e.", (e, y[i]), xytext=(0, 7), textcoords="offset points",
                        ha="center", fontsize=7, color=colors[i])
            missing += 1
    ax.axvline(0, color="grey", lw=0.8, zorder=0)
    ax.margins(x=0.08)
    ax.grid(axis="x", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)
    return missing


def _row_labels(ax, y, labels, n_rows: int, show: bool) -> None:
    ax.set_yticks(y)
    ax.set_yticklabels(labels if show else [""] * len(labels))
    ax.set_ylim(n_rows - 0.5, -0.5)


def _standardizer(results, how, names: list[str]):
    """Per-term multiplier and the axis wording for ``standardize``."""
    if how is False or how is None:
        return None, "coefficient"
    if how is True or how == "se":
        return "se", "z = coefficient / s.e."
    if how == "sd":
        if results.fit_state.data_removed:
            raise SpecificationError("standardize='sd' needs the estimation data (the "
                                     "attributes' SDs); the results had remove_data()")
        lay = results.fit_state.likelihood.layout
        X = np.asarray(results.model.exog, float)
        sd = dict(zip(lay.exog_names, X.std(axis=0, ddof=1)))
        inv = getattr(getattr(results.model, "choice_data", None), "exog_invariant", None)
        if inv is not None and len(lay.invariant_names):
            sd.update(zip(lay.invariant_names, np.asarray(inv, float).std(axis=0, ddof=1)))
        return {n: sd[n] for n in names}, "coefficient x SD of the attribute"
    raise SpecificationError(f"standardize={how!r}; use False, 'se' (coefficient / s.e.) or "
                             "'sd' (coefficient of the attribute divided by its SD)")


def plot_coefficient_panels(results, *, alpha: float = 0.05, terms=None, standardize=False,
                            ncols: int | None = None, figsize=None, fig=None):
    """Faceted coefficient plot: one panel per term, the classes on the y axis.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    alpha : float
        1 - confidence level; the intervals are ``results.conf_int(alpha)``
        (Wald intervals with the results' covariance type).
    terms : list of str, optional
        Utility terms to show, class-specific or invariant (default: all, the
        invariant ones drawn on one row, ``all classes``).
    standardize : {False, "se", "sd"} or True
        ``"se"`` (or True): the z-values ``coefficient / s.e.`` with dashed
        lines at the critical values; ``"sd"``: the coefficient of the
        attribute divided by its standard deviation over the estimation rows,
        i.e. ``coefficient * SD`` (the utility change of one SD), with its
        interval scaled alike.
    ncols : int, optional
        Panels per row (default up to 3).
    figsize : tuple, optional
    fig : matplotlib Figure, optional
        An empty figure to draw into.

    Returns
    -------
    matplotlib.figure.Figure
        Its axes (``fig.axes``) follow ``terms``; row ``k`` of a class-specific
        panel is class ``k + 1``. An estimate without a standard error is an
        open marker labelled ``no s.e.``, without an interval.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import mixlogit as mx
    >>> from mixlogit.results.plotting import plot_coefficient_panels
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> fig = plot_coefficient_panels(res)
    >>> [ax.get_title() for ax in fig.axes]
    ['x1', 'x2']
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['class1 (0.51)', 'class2 (0.49)']
    """
    alpha = ck.probability_level()(alpha, "alpha", "plot_coefficient_panels()")
    lay = results.fit_state.likelihood.layout
    names, shared = list(lay.exog_names), list(lay.invariant_names)
    terms = names + shared if terms is None else [terms] if isinstance(terms, str) \
        else list(terms)
    unknown = [t for t in terms if t not in names + shared]
    if not terms or unknown:
        raise SpecificationError(f"unknown terms {unknown}; the utility terms are "
                                 f"{names + shared}")
    scale, xlabel = _standardizer(results, standardize, terms)
    params = np.asarray(results.params, float)
    ci = np.asarray(results.conf_int(alpha), float)
    bse = np.asarray(results.bse, float)
    labels = list(lay.param_names)
    shares = results.fit_state.share_jacobian()[0]
    K = lay.k_classes
    class_labels = [f"{c} ({s:.2f})" for c, s in zip(lay.class_names, shares)]
    fig, axes, ncols = _panel_grid(len(terms), K, ncols, figsize, fig)
    q = stats.norm.ppf(1 - alpha / 2)
    missing = 0
    for i, (ax, term) in enumerate(zip(axes, terms)):
        specific = term in names
        if specific:
            pos = [labels.index(f"{c}:{term}") for c in lay.class_names]
            y, rows = np.arange(K), class_labels
            colors, markers = [f"C{k}" for k in range(K)], ["o"] * K
        else:
            pos = [labels.index(term)]
            y, rows = np.array([(K - 1) / 2]), ["all classes"]
            colors, markers = ["0.2"], ["s"]
        est, lo, hi = params[pos], ci[pos, 0], ci[pos, 1]
        if scale == "se":
            with np.errstate(divide="ignore", invalid="ignore"):
                est = est / bse[pos]
            lo, hi = est - q, est + q
            for v in (-q, q):
                ax.axvline(v, color="grey", lw=0.8, ls="--", zorder=0)
        elif scale is not None:
            est, lo, hi = est * scale[term], lo * scale[term], hi * scale[term]
        missing += _draw_intervals(ax, y, est, lo, hi, colors, markers)
        # class labels once per row of panels; an invariant panel names its own row
        left_specific = terms[i - i % ncols] in names
        _row_labels(ax, y, rows, K, show=i % ncols == 0 or not specific or not left_specific)
        ax.set_title(term, fontsize=10)
    note = "\nno s.e.: standard error not available (see res.cov_reasons)" if missing else ""
    fig.supxlabel(xlabel + note, fontsize=10)
    fig.supylabel("class (share)", fontsize=9)
    how = f"{100 * (1 - alpha):g}% intervals ({results.cov_type})"
    if scale is None:
        title = f"Coefficients by class, {how}"
    elif isinstance(scale, str):
        title = f"Coefficients by class as z-values ({results.cov_type}), +/- {q:.2f} dashed"
    else:
        title = f"Standardized coefficients by class, {how}"
    fig.suptitle(title, fontsize=11)
    return fig


def plot_wtp(results, price: str, *, attributes=None, alpha: float = 0.05,
             ncols: int | None = None, figsize=None, fig=None):
    """Willingness to pay with intervals: one panel per attribute, classes and population.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    price : str
        The price term; the values are ``results.wtp(price, attributes,
        alpha=alpha)`` (``-c_a / c_price`` with delta-method intervals).
    attributes : list of str, optional
        Terms to value (default every other utility term).
    alpha : float
        1 - confidence level.
    ncols : int, optional
        Panels per row (default up to 3).
    figsize : tuple, optional
    fig : matplotlib Figure, optional
        An empty figure to draw into.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per attribute; rows are the classes (coloured as in
        :func:`plot_coefficient_panels`) and, last, the share-weighted
        ``population`` value (black diamond).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import mixlogit as mx
    >>> from mixlogit.results.plotting import plot_wtp
    >>> df = mx.datasets.electricity.load()
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ pf + cl + loc - 1", df, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> fig = plot_wtp(res, "pf")
    >>> [ax.get_title() for ax in fig.axes]
    ['cl', 'loc']
    """
    alpha = ck.probability_level()(alpha, "alpha", "plot_wtp()")
    table = results.wtp(price, attributes, alpha=alpha)
    groups = list(dict.fromkeys(table.index.get_level_values(0)))
    attrs = list(dict.fromkeys(table.index.get_level_values(1)))
    fig, axes, ncols = _panel_grid(len(attrs), len(groups), ncols, figsize, fig)
    colors = [f"C{k}" if g != "population" else "black" for k, g in enumerate(groups)]
    markers = ["o" if g != "population" else "D" for g in groups]
    missing = 0
    for i, (ax, attr) in enumerate(zip(axes, attrs)):
        rows = table.xs(attr, level=1).reindex(groups)
        y = np.arange(len(groups))
        missing += _draw_intervals(ax, y, rows["wtp"].to_numpy(float),
                                   rows["lower"].to_numpy(float),
                                   rows["upper"].to_numpy(float), colors, markers)
        if "population" in groups and len(groups) > 1:
            ax.axhline(len(groups) - 1.5, color="0.6", lw=0.6)
        _row_labels(ax, y, groups, len(groups), show=i % ncols == 0)
        ax.set_title(attr, fontsize=10)
    note = "\nno s.e.: standard error not available" if missing else ""
    fig.supxlabel(f"willingness to pay (units of {price}){note}", fontsize=10)
    fig.suptitle(f"Willingness to pay, price {price}: {100 * (1 - alpha):g}% delta-method "
                 f"intervals ({results.cov_type})", fontsize=11)
    return fig


def plot_posteriors(results, *, kind: str = "max", bins: int = 20, ax=None, fig=None,
                    figsize=None):
    """Posterior class membership: how clearly the decision makers are classified.

    Parameters
    ----------
    results : MixedMultinomialLogitResults
    kind : {"max", "class"}
        ``"max"``: a histogram of each decision maker's largest posterior
        probability, stacked by the class he is assigned to (the modal class),
        with the weighted mean (the average of the largest posteriors) and
        ``1/K`` (no information) marked; ``"class"``: one panel per class, the
        histogram of the posterior probabilities of that class, its share
        marked.
    bins : int
        Number of equal-width bins on [0, 1] (``"class"``) or [1/K, 1] (``"max"``).
    ax : matplotlib Axes, optional
        For ``kind="max"``.
    fig : matplotlib Figure, optional
        An empty figure, for ``kind="class"``.
    figsize : tuple, optional

    Returns
    -------
    matplotlib.axes.Axes or matplotlib.figure.Figure
        The Axes for ``"max"``, the Figure (one axes per class) for ``"class"``.
        Bar heights are the (weighted) numbers of decision makers; the
        weights are those of the fit (draws for the counts form).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import mixlogit as mx
    >>> from mixlogit.results.plotting import plot_posteriors
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> ax = plot_posteriors(res, bins=10)
    >>> round(sum(p.get_height() for p in ax.patches))
    100
    >>> len(plot_posteriors(res, kind="class").axes)
    2
    """
    if kind not in ("max", "class"):
        raise SpecificationError(f"plot_posteriors(): kind={kind!r}; use 'max' or 'class'")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise SpecificationError(f"plot_posteriors(): bins must be a whole number >= 1, got "
                                 f"{bins!r}")
    state = results.fit_state
    if state.data_removed:
        raise SpecificationError("plot_posteriors() needs the posteriors, which remove_data() "
                                 "dropped; plot before removing the data")
    h = np.asarray(state.evaluation.posteriors, float)
    w = np.asarray(state.likelihood.weights, float)
    names = list(state.likelihood.layout.class_names)
    K = h.shape[1]
    if kind == "max":
        return _plot_max_posterior(h, w, names, bins, ax, figsize)
    fig, axes, ncols = _panel_grid(K, 6, None if K > 3 else K, figsize, fig)
    edges = np.linspace(0, 1, int(bins) + 1)
    shares = state.share_jacobian()[0]
    for k, ax in enumerate(axes):
        ax.hist(h[:, k], bins=edges, weights=w, color=f"C{k}", alpha=0.85, edgecolor="white")
        ax.axvline(shares[k], color="black", lw=1, ls="--", label=f"share {shares[k]:.2f}")
        ax.set_title(names[k], fontsize=10)
        ax.set_xlim(0, 1)
        ax.legend(fontsize=8, frameon=False, loc="upper center")
        if k % ncols == 0:
            ax.set_ylabel("decision makers")
    fig.supxlabel("posterior probability of the class", fontsize=10)
    fig.suptitle("Posterior class membership", fontsize=11)
    return fig


def _plot_max_posterior(h, w, names, bins, ax, figsize):
    K = h.shape[1]
    if ax is None:
        _, ax = _pyplot().subplots(figsize=figsize or (6, 4), layout="constrained")
    top = h.max(axis=1)
    modal = h.argmax(axis=1)
    lo = 1.0 / K if K > 1 else 0.0
    edges = np.linspace(lo, 1, int(bins) + 1)
    ax.hist([top[modal == k] for k in range(K)], bins=edges,
            weights=[w[modal == k] for k in range(K)], stacked=True,
            color=[f"C{k}" for k in range(K)], label=names, edgecolor="white", lw=0.5)
    mean = float(w @ top / w.sum())
    ax.axvline(mean, color="black", lw=1, ls="--", label=f"mean {mean:.2f}")
    ax.set_xlim(lo - 0.02 * (1 - lo), 1 + 0.02 * (1 - lo))
    ax.set_xlabel("largest posterior class probability")
    ax.set_ylabel("decision makers")
    ax.legend(title="assigned class", fontsize=8, title_fontsize=8,
              loc="upper left" if mean > 0.6 else "upper right", frameon=False)
    ax.set_title(f"Classification certainty ({K} classes; 1/K = {1 / K:.2f} is no "
                 "information)", fontsize=10)
    return ax
