"""Inference of the results: Wald statistics, hypothesis tests by name, LR tests, fit counts.

:class:`InferenceMixin` is the statsmodels side of
:class:`~mixlogit.MixedMultinomialLogitResults`: it keeps ``params``,
``bse``, ``tvalues``, ``pvalues``, ``cov_params()`` and ``conf_int()`` as
ndarrays (the results wrapper labels them), lets statsmodels' ``t_test``,
``wald_test`` and ``f_test`` read our parameter names (see
:mod:`mixlogit.results.hypotheses` for the aliases), and adds
``test_equal`` and ``lr_test``.

Degrees of freedom: ``df_model`` is the number of free (estimated)
parameters; ``df_resid`` is the number of decision makers (the sum of the
frequency weights, the N of BIC) minus ``df_model``; the Wald tests use the
normal / chi-squared distributions (``use_t`` is False), so ``df_resid``
only enters ``f_test``'s F reference distribution.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats
from statsmodels.base.model import LikelihoodModelResults
from statsmodels.stats.contrast import ContrastResults

from ..exceptions import SpecificationError
from .hypotheses import (
    LRTestResult,
    equality_constraint,
    linear_constraint,
    nested_lr_test,
    parameter_aliases,
)

__all__ = ["InferenceMixin"]

_EXAMPLE_FIT = """
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> res = model.fit(n_starts=2, seed=0)"""


def _doc(text: str) -> Any:
    """Put the shared example fit in front of a docstring's own example lines."""
    def deco(func):
        func.__doc__ = text.replace("        >>> FIT", _EXAMPLE_FIT.strip("\n"))
        return func
    return deco


class InferenceMixin(LikelihoodModelResults):
    """Wald statistics and tests over ndarray parameters (mixed into the results class)."""

    params: np.ndarray
    normalized_cov_params: np.ndarray
    param_names: list[str]
    fixed_mask: np.ndarray

    # -------------------------------------------------------------- Wald
    @property
    def bse(self) -> np.ndarray:
        """Standard errors; NaN for fixed and for unidentified parameters (never 0)."""
        var = np.diag(np.asarray(self.normalized_cov_params, float)).copy()
        with np.errstate(invalid="ignore"):
            se = np.where(np.isfinite(var) & (var > 0), np.sqrt(np.abs(var)), np.nan)
        se[self.fixed_mask] = np.nan
        return se

    @property
    def tvalues(self) -> np.ndarray:
        """z statistics (NaN for fixed parameters)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.params / self.bse

    @property
    def pvalues(self) -> np.ndarray:
        """Two-sided p-values of the z statistics."""
        return 2 * stats.norm.sf(np.abs(self.tvalues))

    @_doc("""Covariance of the estimates (labelled d x d when called without arguments).

        NaN rows and columns mark fixed and unidentified parameters (see
        ``cov_reasons``). With arguments it is statsmodels' ``cov_params``.

        Parameters
        ----------
        r_matrix, column, scale, cov_p, other
            As in :meth:`statsmodels.base.model.LikelihoodModelResults.cov_params`.

        Returns
        -------
        DataFrame or ndarray

        Examples
        --------
        >>> FIT
        >>> import numpy as np
        >>> cov = res.cov_params()
        >>> cov.shape, bool(np.allclose(np.sqrt(np.diag(cov)), res.bse))
        ((5, 5), True)
        """)
    def cov_params(self, r_matrix=None, column=None, scale=None, cov_p=None, other=None):
        if r_matrix is None and column is None and other is None and cov_p is None:
            return np.asarray(self.normalized_cov_params, float).copy()
        return super().cov_params(r_matrix=r_matrix, column=column, scale=scale, cov_p=cov_p,
                                  other=other)

    @_doc("""Wald confidence intervals: columns ``lower`` and ``upper``.

        Parameters
        ----------
        alpha : float
            1 - confidence level.
        cols : None
            Accepted for statsmodels compatibility; must be None.

        Returns
        -------
        DataFrame

        Examples
        --------
        >>> FIT
        >>> ci = res.conf_int(alpha=0.1)
        >>> list(ci.columns), bool((ci["lower"] < res.params).all())
        (['lower', 'upper'], True)
        """)
    def conf_int(self, alpha: float = 0.05, cols=None) -> np.ndarray:
        if cols is not None:
            raise SpecificationError("conf_int(cols=...) is not supported; select rows of the frame")
        if not 0 < alpha < 1:
            raise SpecificationError(f"alpha must be in (0, 1), got {alpha!r}")
        q = stats.norm.ppf(1 - alpha / 2)
        return np.column_stack([self.params - q * self.bse, self.params + q * self.bse])

    # -------------------------------------------------------------- tests
    @property
    def param_aliases(self) -> dict[str, str]:
        """Parameter name -> the alias that constraint strings may use (``class1__pf``)."""
        return parameter_aliases(self.param_names)

    @_doc("""t (z) tests of linear constraints; names as written or their aliases.

        Parameters
        ----------
        r_matrix : str, list of str, array_like or tuple
            ``"class1:x1 = class2:x1"``, ``"class1__x1 = 0, class2__x1 = 0"``,
            a list of such strings, an R matrix or ``(R, q)``.
        cov_p : ndarray, optional
            Another covariance of the estimates.
        use_t : bool, optional
            Use the t distribution (default False: normal).

        Returns
        -------
        statsmodels.stats.contrast.ContrastResults

        Examples
        --------
        >>> FIT
        >>> t = res.t_test("class1:x1 = class2:x1")
        >>> bool(abs(t.effect[0] - (res.params["class1:x1"] - res.params["class2:x1"])) < 1e-12)
        True
        """)
    def t_test(self, r_matrix, cov_p=None, use_t=None) -> ContrastResults:
        return super().t_test(linear_constraint(r_matrix, self.param_names), cov_p=cov_p,
                              use_t=use_t)

    @_doc("""Joint Wald (chi-squared or F) test of linear constraints.

        Parameters
        ----------
        r_matrix : str, list of str, array_like or tuple
            As in :meth:`t_test`.
        cov_p, invcov, use_f, df_constraints
            As in :meth:`statsmodels.base.model.LikelihoodModelResults.wald_test`.
        scalar : bool
            Return the statistic as a scalar (default True).

        Returns
        -------
        statsmodels.stats.contrast.ContrastResults

        Examples
        --------
        >>> FIT
        >>> w = res.wald_test("class1:x1 = 0, class2:x1 = 0")
        >>> int(w.df_denom), bool(w.pvalue < 0.05)
        (2, True)
        """)
    def wald_test(self, r_matrix, cov_p=None, invcov=None, use_f=None, df_constraints=None,
                  scalar: bool = True) -> ContrastResults:
        return super().wald_test(linear_constraint(r_matrix, self.param_names), cov_p=cov_p,
                                 invcov=invcov, use_f=use_f, df_constraints=df_constraints,
                                 scalar=scalar)

    @_doc("""F test of linear constraints (the Wald statistic over its degrees of freedom).

        Parameters
        ----------
        r_matrix : str, list of str, array_like or tuple
            As in :meth:`t_test`.
        cov_p, invcov
            As in :meth:`statsmodels.base.model.LikelihoodModelResults.f_test`.

        Returns
        -------
        statsmodels.stats.contrast.ContrastResults

        Examples
        --------
        >>> FIT
        >>> f = res.f_test("class1:x2 = class2:x2")
        >>> int(f.df_num), int(f.df_denom) == res.df_resid
        (1, True)
        """)
    def f_test(self, r_matrix, cov_p=None, invcov=None) -> ContrastResults:
        return super().f_test(linear_constraint(r_matrix, self.param_names), cov_p=cov_p,
                              invcov=invcov)

    @_doc("""Wald test that a class-specific coefficient is equal across all classes.

        Parameters
        ----------
        term : str
            A class-specific utility term (``"pf"``).

        Returns
        -------
        statsmodels.stats.contrast.ContrastResults
            Chi-squared statistic with K - 1 degrees of freedom.

        Examples
        --------
        >>> FIT
        >>> test = res.test_equal("x1")
        >>> int(test.df_denom), bool(test.pvalue < 0.05)
        (1, True)
        """)
    def test_equal(self, term: str) -> ContrastResults:
        R = equality_constraint(self.model.layout, term)
        return self.wald_test((R, np.zeros(len(R))), scalar=True)

    @_doc("""Likelihood-ratio test against a nested fit of the same data.

        One fit must be nested in the other: the same data and number of
        classes, the smaller one's parameters a subset of the larger one's,
        dropped terms and fixed values being the restrictions. Either order
        is accepted.

        Parameters
        ----------
        other : MixedMultinomialLogitResults
            The other fit.

        Returns
        -------
        LRTestResult
            ``statistic = 2 (llf_large - llf_small)``, ``df``, ``pvalue``
            (chi-squared); unpacks as ``(statistic, pvalue, df)`` like
            statsmodels' ``compare_lr_test``.

        Raises
        ------
        SpecificationError
            Same number of free parameters, different data or numbers of
            classes (the LR statistic for K is not chi-squared), or not nested.

        Examples
        --------
        >>> FIT
        >>> small = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 - 1", sim.data, groups="chid", panel="id",
        ...     k_classes=2).fit(n_starts=2, seed=0)
        >>> lr = res.lr_test(small)
        >>> lr.df, bool(abs(lr.statistic - 2 * (res.llf - small.llf)) < 1e-9)
        (2, True)
        """)
    def lr_test(self, other) -> LRTestResult:
        return nested_lr_test(self, other)

    def t_test_pairwise(self, term_name, method="hs", alpha=0.05, factor_labels=None):
        """Not available: statsmodels' version compares levels of a categorical design term.

        For a utility term across classes use :meth:`test_equal` (joint) or
        :meth:`t_test` with ``"class1:pf = class2:pf"`` (one pair).

        Raises
        ------
        NotImplementedError
        """
        raise NotImplementedError(
            "t_test_pairwise compares the levels of a categorical term of a single-equation "
            f"design; to compare {term_name!r} across classes use test_equal({term_name!r}) or "
            f"t_test('class1:{term_name} = class2:{term_name}')")

    # ----------------------------------------------------------- fit counts
    @property
    def df_model(self) -> int:
        """Number of free (estimated) parameters."""
        return int((~np.asarray(self.fixed_mask)).sum()) - self.fit_state.likelihood.n_restrictions

    @property
    def df_resid(self) -> float:
        """Decision makers (sum of frequency weights) minus free parameters."""
        return float(self.n_effective - self.df_model)

    @property
    def llr(self) -> float:
        """Likelihood-ratio statistic against the equal-probability null, 2 (llf - llnull)."""
        return 2.0 * (self.llf - self.llnull)

    @property
    def llr_pvalue(self) -> float:
        """chi2(df_model) upper tail of ``llr`` (approximate: the null is on the boundary
        of the mixture, where the membership parameters are not identified)."""
        return float(stats.chi2.sf(self.llr, self.df_model))
