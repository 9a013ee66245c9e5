"""The result of :func:`mixlogit.bootstrap.bootstrap`: aligned draws and their summaries."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import _checks as ck
from .exceptions import SpecificationError

__all__ = ["BootstrapResults"]


@dataclass(eq=False)
class BootstrapResults:
    """Label-aligned bootstrap replicates of a latent-class logit estimate.

    Attributes
    ----------
    estimate : Series
        The full-sample estimate the replicates were aligned to.
    draws : DataFrame, shape (n_reps, n_params)
        Aligned replicate estimates; rows of failed replicates are NaN.
    unaligned_draws : DataFrame, shape (n_reps, n_params)
        The same replicates in canonical class order (largest share first), as
        a bootstrap without alignment would keep them.
    share_draws : DataFrame, shape (n_reps, K)
        Aligned class shares of every replicate.
    replicates : DataFrame
        One row per replicate: ``llf``, ``converged``, ``failed``, ``error``,
        ``doubtful``, ``cost`` (of the chosen assignment), ``second_cost``,
        ``order`` (replicate class matched with each estimate class),
        ``n_iter``, ``seconds``.
    fixed : ndarray of bool
        Fixed parameters (their draws are constant, their standard errors NaN).
    n_reps : int
    n_clusters : int
        Number of units (decision makers, candidates or clusters).
    align : str
        ``"params"`` or ``"posteriors"``.
    seed : object
        The seed the replicates were drawn with.
    seconds : float
        Wall time of the whole bootstrap.

    Examples
    --------
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
    ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
    ...     k_classes=2).fit(n_starts=2, seed=0)
    >>> boot = res.bootstrap(10, seed=0)
    >>> boot.draws.shape, boot.n_used
    ((10, 5), 10)
    """

    estimate: pd.Series
    draws: pd.DataFrame
    unaligned_draws: pd.DataFrame
    share_draws: pd.DataFrame
    replicates: pd.DataFrame
    fixed: np.ndarray
    n_reps: int
    n_clusters: int
    align: str
    seed: Any = None
    seconds: float = 0.0
    _doubtful_warned: bool = field(default=False, repr=False)

    # ------------------------------------------------------------- selection
    def _used(self, include_doubtful: bool) -> np.ndarray:
        ok = ~self.replicates["failed"].to_numpy()
        if not include_doubtful:
            ok &= ~self.replicates["doubtful"].to_numpy()
        return ok

    @property
    def n_used(self) -> int:
        """Replicates that did not fail."""
        return int(self._used(True).sum())

    @property
    def share_failed(self) -> float:
        """Share of replicates whose refit failed or did not converge."""
        return float(self.replicates["failed"].mean())

    @property
    def share_doubtful(self) -> float:
        """Share of successful replicates whose class alignment is doubtful."""
        ok = ~self.replicates["failed"]
        return float(self.replicates.loc[ok, "doubtful"].mean()) if ok.any() else np.nan

    # ------------------------------------------------------------- inference
    def cov_params(self, *, include_doubtful: bool = True) -> pd.DataFrame:
        """Covariance of the aligned replicates (fixed parameters: zero rows and columns).

        Parameters
        ----------
        include_doubtful : bool
            Keep replicates with a doubtful alignment (default). Dropping them
            conditions on the replicates where labels were clear, which can
            understate the uncertainty; compare both.

        Returns
        -------
        DataFrame

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> boot = res.bootstrap(10, seed=0)
        >>> boot.cov_params().shape
        (5, 5)
        """
        X = self.draws.to_numpy()[self._used(include_doubtful)]
        names = self.draws.columns
        if X.shape[0] < 2:
            cov = np.full((X.shape[1], X.shape[1]), np.nan)
        else:
            cov = np.cov(X, rowvar=False, ddof=1)
        cov[self.fixed, :] = 0.0
        cov[:, self.fixed] = 0.0
        return pd.DataFrame(cov, index=names, columns=names)

    def _std(self, X: np.ndarray) -> pd.Series:
        se = X.std(axis=0, ddof=1) if X.shape[0] >= 2 else np.full(X.shape[1], np.nan)
        se[self.fixed] = np.nan
        return pd.Series(se, index=self.draws.columns, name="bse")

    @property
    def bse(self) -> pd.Series:
        """Bootstrap standard errors of the aligned replicates."""
        return self._std(self.draws.to_numpy()[self._used(True)])

    @property
    def unaligned_bse(self) -> pd.Series:
        """Standard deviation of the replicates without alignment (canonical order)."""
        return self._std(self.unaligned_draws.to_numpy()[self._used(True)]).rename("unaligned_bse")

    def conf_int(self, alpha: float = 0.05, *, method: str = "percentile",
                 include_doubtful: bool = True) -> pd.DataFrame:
        """Bootstrap confidence intervals.

        Parameters
        ----------
        alpha : float
            1 - coverage.
        method : str
            ``"percentile"``: the alpha/2 and 1 - alpha/2 quantiles of the aligned
            draws, by the ``(R + 1) p`` order-statistic rule (numpy's
            ``method="weibull"``; with R = 199 and alpha = 0.05, the 5th and
            195th ordered draws), which does not shrink the interval the way
            the default linear interpolation ``1 + (R - 1) p`` does;
            ``"normal"``: estimate -/+ z * bootstrap standard error;
            ``"basic"``: 2 * estimate minus the percentile bounds.
        include_doubtful : bool
            Keep replicates with a doubtful alignment.

        Returns
        -------
        DataFrame
            Columns ``lower`` and ``upper``.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> boot = res.bootstrap(10, seed=0)
        >>> ci = boot.conf_int(0.1)
        >>> bool((ci["lower"] <= ci["upper"]).all())
        True
        """
        alpha = ck.probability_level()(alpha, "alpha", "BootstrapResults.conf_int()")
        X = self.draws.to_numpy()[self._used(include_doubtful)]
        est = self.estimate.to_numpy()
        if method in ("percentile", "basic"):
            if X.shape[0] == 0:
                lo = hi = np.full(X.shape[1], np.nan)
            else:
                lo, hi = np.quantile(X, [alpha / 2, 1 - alpha / 2], axis=0, method="weibull")
            if method == "basic":
                lo, hi = 2 * est - hi, 2 * est - lo
        elif method == "normal":
            se = np.sqrt(np.diag(self.cov_params(include_doubtful=include_doubtful).to_numpy()))
            q = stats.norm.ppf(1 - alpha / 2)
            lo, hi = est - q * se, est + q * se
        else:
            raise SpecificationError(f"method={method!r}; use 'percentile', 'normal' or 'basic'")
        out = pd.DataFrame({"lower": lo, "upper": hi}, index=self.draws.columns)
        out.loc[self.fixed] = np.nan
        return out

    def share_conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Percentile intervals of the class shares.

        Parameters
        ----------
        alpha : float
            1 - coverage.

        Returns
        -------
        DataFrame
            Columns ``lower`` and ``upper``, one row per class.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> res.bootstrap(10, seed=0).share_conf_int().shape
        (2, 2)
        """
        alpha = ck.probability_level()(alpha, "alpha", "BootstrapResults.share_conf_int()")
        X = self.share_draws.to_numpy()[self._used(True)]
        lo, hi = np.quantile(X, [alpha / 2, 1 - alpha / 2], axis=0, method="weibull")
        return pd.DataFrame({"lower": lo, "upper": hi}, index=self.share_draws.columns)

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Estimate, aligned and unaligned standard errors, percentile interval.

        Parameters
        ----------
        alpha : float
            1 - coverage of the percentile interval.

        Returns
        -------
        DataFrame
            Columns ``estimate``, ``bse``, ``unaligned_bse``, ``lower``, ``upper``.

        Examples
        --------
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=6, n_alternatives=3,
        ...     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> res = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> list(res.bootstrap(10, seed=0).summary_frame().columns)
        ['estimate', 'bse', 'unaligned_bse', 'lower', 'upper']
        """
        ci = self.conf_int(alpha)
        return pd.DataFrame({"estimate": self.estimate, "bse": self.bse,
                             "unaligned_bse": self.unaligned_bse,
                             "lower": ci["lower"], "upper": ci["upper"]})

    def __str__(self) -> str:
        head = (f"Bootstrap ({self.n_reps} replicates resampling {self.n_clusters} units, "
                f"align={self.align!r}): {self.n_used} used, "
                f"{100 * self.share_failed:.1f}% failed, "
                f"{100 * (self.share_doubtful if np.isfinite(self.share_doubtful) else 0):.1f}% "
                f"doubtful alignment, {self.seconds:.1f} s")
        with pd.option_context("display.width", 120, "display.max_rows", 200):
            return head + "\n" + self.summary_frame().round(4).to_string()

    def __repr__(self) -> str:
        return (f"<BootstrapResults: {self.n_reps} replicates, {self.n_used} used, "
                f"share_failed={self.share_failed:.3f}, share_doubtful={self.share_doubtful:.3f}>")
