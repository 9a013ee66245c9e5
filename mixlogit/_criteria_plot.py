"""Information criteria against the number of classes (a matplotlib figure).

Used by :meth:`mixlogit.selection.ClassSelection.plot` and re-exported by
:mod:`mixlogit.selection` and :mod:`mixlogit.results.plotting`; matplotlib (an
optional extra) is imported inside the function.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .exceptions import SpecificationError

__all__ = ["plot_criteria"]


def plot_criteria(table: pd.DataFrame, *, criteria=("aic", "bic", "caic", "sabic"),
                  kind: str = "level", ax=None):
    """Information criteria against the number of classes; the minimum of each is marked.

    Parameters
    ----------
    table : DataFrame
        Indexed by K with one column per criterion (as ``ClassSelection.table``).
    criteria : sequence of str
        Columns to draw, one line each; ``"cv"`` draws ``-2 * cv_loglike``
        (from ``select_classes(..., cv=...)``, on the scale of AIC and BIC)
        with bars of twice its standard error (``cv_se``; with
        ``kind="delta"`` the paired ``cv_se_diff`` of the difference from the
        best K).
    kind : {"level", "delta"}
        ``"level"``: the criteria; ``"delta"``: each criterion minus its minimum
        over K, so that every line touches zero at the K it chooses and the
        differences (about 2 or more for AIC, 6 or more for BIC are usually
        read as clear) are on one scale.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from mixlogit.selection import plot_criteria
    >>> table = pd.DataFrame({"aic": [10.0, 8.0, 9.0], "bic": [11.0, 10.0, 12.0]}, index=[1, 2, 3])
    >>> ax = plot_criteria(table, criteria=("aic", "bic"))
    >>> ax.get_xlabel()
    'number of classes K'
    >>> ax = plot_criteria(table, criteria=("aic", "bic"), kind="delta")
    >>> [float(v) for v in ax.get_lines()[0].get_ydata()]
    [2.0, 0.0, 1.0]
    """
    if kind not in ("level", "delta"):
        raise SpecificationError(f"plot_criteria(): kind={kind!r}; use 'level' or 'delta'")
    criteria = [criteria] if isinstance(criteria, str) else list(criteria)
    table = table.copy()
    if "cv" in criteria and "cv_loglike" in table.columns:
        table["cv"] = -2 * table["cv_loglike"]      # on the deviance scale of the criteria
    missing = [c for c in criteria if c not in table.columns]
    if missing:
        raise SpecificationError(f"plot_criteria(): no column {missing} in the table; it has "
                                 f"{list(table.columns)}")
    if ax is None:
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("plotting needs matplotlib: pip install 'mixlogit[plot]'") from exc
        _, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    ks = table.index.to_numpy()
    markers = "osD^vP"
    for i, c in enumerate(criteria):
        vals = table[c].to_numpy(float)
        finite = np.isfinite(vals).any()
        if kind == "delta" and finite:
            vals = vals - np.nanmin(vals)
        label = "CV (-2 held-out llf)" if c == "cv" else c.upper()
        ax.plot(ks, vals, marker=markers[i % len(markers)], color=f"C{i}", label=label)
        se_col = "cv_se_diff" if kind == "delta" else "cv_se"
        if c == "cv" and se_col in table.columns:
            ax.errorbar(ks, vals, yerr=2 * table[se_col].to_numpy(float), fmt="none",
                        ecolor=f"C{i}", capsize=3, lw=0.8)
        if finite:
            j = int(np.nanargmin(vals))
            ax.plot(ks[j], vals[j], marker="*", ms=14, color=f"C{i}", ls="none")
    ax.set_xticks(ks)
    ax.set_xlabel("number of classes K")
    if kind == "delta":
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_ylabel("difference from the minimum")
        ax.set_title("Information criteria relative to their minimum (star: chosen K)")
    else:
        ax.set_ylabel("criterion (smaller is better)")
        ax.set_title("Choosing the number of classes (star: chosen K)")
    ax.legend(title="criterion")
    return ax
