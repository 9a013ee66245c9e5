"""Hypothesis tests on latent-class results: constraints by name, equality across classes, LR.

statsmodels parses constraint strings (``t_test``, ``wald_test``, ``f_test``)
with patsy, whose parser reads Python-like names only: ``class1:pf`` would be
read as an interaction. Constraint strings are therefore rewritten before they
are parsed: every parameter name written as it is (``class1:pf``,
``membership:class2:Intercept``) is replaced by its *alias*, and the aliases
themselves are accepted too. The alias of a name replaces ``:`` by ``__`` and
every other character that is not a letter, a digit or ``_`` by ``_``:

======================================  ======================================
name                                    alias
======================================  ======================================
``class1:pf``                           ``class1__pf``
``pf`` (class-invariant)                ``pf``
``membership:class2:Intercept``         ``membership__class2__Intercept``
``class1:C(tod)[T.1]``                  ``class1__C_tod__T_1_``
======================================  ======================================

(a collision between two aliases is resolved by appending ``_2``, ``_3``...;
``res.param_aliases`` lists them all).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from patsy import DesignInfo, PatsyError
from scipy import stats

from ..exceptions import SpecificationError
from ..likelihood.constrained import ConstrainedLikelihood
from .wrapper import unwrap

__all__ = ["LRTestResult", "parameter_aliases", "translate_constraint", "linear_constraint",
           "equality_constraint", "nested_lr_test"]


def parameter_aliases(names: Sequence[str]) -> dict[str, str]:
    """Parameter name -> constraint-safe alias (see the module documentation)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        alias = re.sub(r"\W", "_", name.replace(":", "__"))
        if alias[:1].isdigit():
            alias = "_" + alias
        base, i = alias, 1
        while alias in used:
            i += 1
            alias = f"{base}_{i}"
        used.add(alias)
        out[name] = alias
    return out


def translate_constraint(text: str, aliases: dict[str, str]) -> str:
    """Replace every parameter name in a constraint string by its alias (one pass)."""
    names = sorted((n for n in aliases if n != aliases[n]), key=len, reverse=True)
    if not names:
        return text
    pattern = re.compile(r"(?<![\w:.\]])(" + "|".join(map(re.escape, names)) + r")(?![\w:\[(])")
    return pattern.sub(lambda m: aliases[m.group(1)], text)


def linear_constraint(constraint: Any, names: Sequence[str]) -> Any:
    """``(R, q)`` of a constraint string or list of strings; anything else is returned as is."""
    if isinstance(constraint, str):
        texts = [constraint]
    elif isinstance(constraint, (list, tuple)) and constraint \
            and all(isinstance(c, str) for c in constraint):
        texts = list(constraint)
    else:
        return constraint
    aliases = parameter_aliases(names)
    translated = [translate_constraint(t, aliases) for t in texts]
    try:
        lc = DesignInfo(list(aliases.values())).linear_constraint(translated)
    except PatsyError as exc:
        raise SpecificationError(
            f"cannot read the constraint {constraint!r}: {exc.message}. Write parameters by "
            "name (class1:pf) or alias (class1__pf); res.param_aliases lists them") from None
    return np.asarray(lc.coefs, float), np.asarray(lc.constants, float).ravel()


def equality_constraint(layout: Any, term: str) -> np.ndarray:
    """Rows ``b_1 - b_k = 0``, k = 2..K, for a class-specific term."""
    if layout.k_classes < 2:
        raise SpecificationError("test_equal needs a model with at least two classes")
    if term not in layout.exog_names:
        where = ("class-invariant" if term in layout.invariant_names else "not a utility term")
        raise SpecificationError(
            f"test_equal({term!r}): the term is {where}; name one of the class-specific terms "
            f"{list(layout.exog_names)}")
    names = list(layout.param_names)
    first = names.index(f"{layout.class_names[0]}:{term}")
    R = np.zeros((layout.k_classes - 1, layout.n_params))
    for row, cname in enumerate(layout.class_names[1:]):
        R[row, first] = 1.0
        R[row, names.index(f"{cname}:{term}")] = -1.0
    return R


@dataclass(frozen=True)
class LRTestResult:
    """Likelihood-ratio test of a restricted fit against a larger one.

    Attributes
    ----------
    statistic : float
        ``2 (llf_full - llf_restricted)``.
    df : int
        Number of restrictions (difference in free parameters).
    pvalue : float
        Upper tail of the chi-squared distribution with ``df`` degrees of freedom.
    """

    statistic: float
    df: int
    pvalue: float

    def __iter__(self):
        return iter((self.statistic, self.pvalue, self.df))


def _free_values(res: Any) -> dict[str, tuple[bool, float]]:
    names = res.param_names
    fixed = np.asarray(res.fixed_mask)
    params = np.asarray(res.params, float)
    return {n: (bool(fixed[i]), float(params[i])) for i, n in enumerate(names)}


def _nested(small: Any, big: Any) -> str | None:
    """Why ``small`` is not nested in ``big`` (None when it is)."""
    if small.k_classes != big.k_classes:
        return ("the fits have different numbers of classes: the LR statistic for the number of "
                "classes is not chi-squared (a boundary problem); compare them with "
                "bic/caic or select_classes")
    if not (np.isclose(small.n_effective, big.n_effective) and small.nobs == big.nobs
            and np.isclose(small.llnull, big.llnull)):
        return "the fits use different data (decision makers, rows or alternatives differ)"
    s, b = _free_values(small), _free_values(big)
    extra = sorted(set(s) - set(b))
    if extra:
        return f"the smaller fit has parameters the larger lacks: {extra}"
    for name, (fixed, value) in s.items():
        b_fixed, b_value = b[name]
        if b_fixed and not fixed:
            return f"{name} is fixed in the larger fit but free in the smaller one"
        if b_fixed and fixed and not np.isclose(value, b_value):
            return f"{name} is fixed at different values ({value} and {b_value})"
    return None


def _n_estimated(res: Any) -> int:
    """Estimated parameters: not fixed, each group of tied parameters counted once."""
    lik = res.fit_state.likelihood
    ties = lik.n_restrictions if isinstance(lik, ConstrainedLikelihood) else 0
    return int((~np.asarray(res.fixed_mask, bool)).sum()) - int(ties)


def nested_lr_test(res: Any, other: Any) -> LRTestResult:
    """LR test between two results objects, either order; see ``lr_test`` on the results.

    The degrees of freedom are the difference in estimated parameters: fixed
    parameters are not estimated and a group of parameters tied by
    ``fit(constraints=...)`` is estimated once.
    """
    other = unwrap(other)
    n_res, n_other = _n_estimated(res), _n_estimated(other)
    if n_res == n_other:
        raise SpecificationError(
            f"both fits have {n_res} free parameters: an LR test needs one fit nested in "
            "the other with fewer free parameters")
    small, big = (res, other) if n_res < n_other else (other, res)
    why = _nested(small, big)
    if why is not None:
        raise SpecificationError(f"lr_test: the fits are not nested: {why}")
    stat = 2.0 * (big.llf - small.llf)
    df = abs(n_res - n_other)
    return LRTestResult(statistic=float(stat), df=df, pvalue=float(stats.chi2.sf(stat, df)))
