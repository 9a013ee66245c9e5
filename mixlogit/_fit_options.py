"""Option checks of the model's entry points: ``fit``, ``from_formula`` (private).

The tables (:data:`FIT_CHECKS`, :data:`FORMULA_CHECKS`) use the validators of
:mod:`mixlogit._checks`; the functions add what a table cannot say: options a
``method`` does not use (refused unless at their default), options of the
start strategies, and the ``fixed`` mapping.
"""
from __future__ import annotations

import inspect
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import _checks as ck
from ._direct import DIRECT_METHODS
from .exceptions import SpecificationError
from .likelihood import MixtureLikelihood
from .likelihood.estimate import SWITCH_TOL
from .starts import START_STRATEGIES, make_starts
from .starts.subspace import score_subspace_starts

__all__ = ["FIT_CHECKS", "FIT_DEFAULTS", "FORMULA_CHECKS", "check_fit_options", "check_k_classes",
           "uses_portfolio",
           "default_cov_type",
           "check_start_options", "make_checked_starts", "check_fixed"]

#: the validation table of ``fit``
FIT_CHECKS: dict[str, ck.Validator] = {
    "method": ck.one_of("em", *DIRECT_METHODS),
    "n_starts": ck.optional(ck.whole_number(low=1)),
    "budget": ck.optional(ck.whole_number(low=1)),
    "engine": ck.one_of("auto", "numpy", "numba"),
    "seed": ck.seed(),
    "tol": ck.positive_number(),
    "maxiter": ck.whole_number(low=1),
    "polish": ck.boolean(),
    "switch_tol": ck.positive_number(),
    "n_jobs": ck.n_jobs(),
    "progress": ck.optional(ck.boolean()),
    "disp": ck.boolean(),
}
#: defaults of the options only some methods use (a test checks them against ``fit``)
FIT_DEFAULTS: dict[str, Any] = {"tol": 1e-8, "polish": True, "switch_tol": SWITCH_TOL,
                                "n_jobs": 1, "disp": False}
#: the methods that use each of those options
_USED_BY = {"tol": ("em",), "polish": ("em",), "switch_tol": ("em",), "n_jobs": ("em",),
            "disp": DIRECT_METHODS}


def _text(what: str, example: str, *, required: bool = False) -> ck.Validator:
    """A str (a column name or a formula), or None unless ``required``."""
    def check(value: Any, name: str, where: str) -> str | None:
        if (value is None and not required) or isinstance(value, str):
            return value
        optional = "" if required else " or None"
        raise SpecificationError(f"{where}: {name} must be {what} (a str){optional}, got "
                                 f"{value!r}; pass for example {name}={example!r}")
    return check


#: the validation table of ``from_formula`` (the columns themselves are checked by the formula
#: step, which lists the available ones)
FORMULA_CHECKS: dict[str, ck.Validator] = {
    "formula": _text("a formula", "choice ~ price + time - 1", required=True),
    "groups": _text("the name of the situation-id column", "chid", required=True),
    "panel": _text("the name of the decision-maker id column", "id"),
    "weights": _text("the name of the weights column", "w"),
    "availability": _text("the name of the availability column", "available"),
    "alternatives": _text("the name of the alternative-id column", "alt"),
    "invariant": _text("a right-hand-side formula", "~ cost - 1"),
    "membership": _text("a right-hand-side formula", "~ income"),
}


def check_fit_options(given: dict[str, Any], start_kwds: Mapping[str, Any], *,
                      has_start_params: bool) -> dict[str, Any]:
    """``fit``'s options checked against :data:`FIT_CHECKS` and against the method."""
    known = sorted(key for key in start_kwds if key in _ALL_START_OPTIONS)
    if known and (has_start_params or not isinstance(given["start"], (str, type(None)))):
        raise SpecificationError(f"fit(): {known} are options of a named start "
                                 "strategy; they do not apply to given start values")
    opts = ck.check_params(FIT_CHECKS, given, where="fit()")
    method = opts["method"]
    for name, users in _USED_BY.items():
        if method not in users and opts[name] != FIT_DEFAULTS[name]:
            kind = "EM" if users == ("em",) else "the direct optimizers"
            raise SpecificationError(
                f"fit(): {name}={given[name]!r} has no effect with method={method!r} ({name} is "
                f"an option of {kind} only); remove it or use a method that takes it")
    portfolio = uses_portfolio(given, has_start_params=has_start_params)
    if opts["budget"] is not None and not portfolio:
        raise SpecificationError(
            f"fit(): budget={given['budget']!r} applies to the default start portfolio only "
            "(start=None and n_starts=None, method='em'); remove it or drop start/n_starts")
    if not opts["polish"] and opts["switch_tol"] != FIT_DEFAULTS["switch_tol"]:
        raise SpecificationError(
            f"fit(): switch_tol={given['switch_tol']!r} has no effect with polish=False (it is "
            "where EM hands over to the Newton polish); remove it or set polish=True")
    return opts


def uses_portfolio(given: Mapping[str, Any], *, has_start_params: bool) -> bool:
    """Whether ``fit`` runs the default start portfolio: no start, no n_starts, EM.

    Examples
    --------
    >>> from mixlogit._fit_options import uses_portfolio
    >>> uses_portfolio({"start": None, "n_starts": None, "method": "em"}, has_start_params=False)
    True
    >>> uses_portfolio({"start": None, "n_starts": 5, "method": "em"}, has_start_params=False)
    False
    """
    return (given["start"] is None and given["n_starts"] is None and not has_start_params
            and given["method"] == "em")


def _strategy_options(likelihood: MixtureLikelihood, start: str) -> tuple[list[str], bool]:
    """The keyword options of start strategy ``start`` on this likelihood, and whether it
    forwards further keywords (``**kwargs``) whose names its signature does not list."""
    fn = START_STRATEGIES[start]
    if start == "subspace" and likelihood.form == "long":
        fn = score_subspace_starts
    params = inspect.signature(fn).parameters.values()
    names = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


def check_start_options(likelihood: MixtureLikelihood, start: Any,
                        start_kwds: Mapping[str, Any], fit_keywords: Sequence[str]) -> None:
    """Refuse keywords that are neither ``fit``'s nor options of the chosen start strategy.

    A strategy that forwards ``**kwargs`` is checked by :func:`make_checked_starts` instead.
    """
    if not start_kwds:
        return
    named = isinstance(start, str) and start in START_STRATEGIES
    valid, is_open = _strategy_options(likelihood, start) if named else ([], False)
    if is_open:
        return
    bad = [key for key in start_kwds if key not in valid]
    if not bad:
        return
    elsewhere = [key for key in bad if key in _ALL_START_OPTIONS]
    if len(elsewhere) < len(bad) or not named:
        ck.check_keywords([key for key in bad if key not in elsewhere] or bad,
                          [*fit_keywords, *valid], where="fit()")
    raise SpecificationError(
        f"fit(): start={start!r} on {likelihood.form}-form data takes "
        f"{'the options ' + ', '.join(valid) if valid else 'no options'}, not {elsewhere}")


_UNEXPECTED = re.compile(r"unexpected keyword argument '(\w+)'")


def make_checked_starts(likelihood: MixtureLikelihood, start: Any, n_starts: int,
                        rng: np.random.Generator, start_kwds: Mapping[str, Any],
                        fit_keywords: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """:func:`~mixlogit.starts.make_starts` after :func:`check_start_options`; a keyword a
    forwarding strategy refuses becomes a SpecificationError naming the valid ones."""
    check_start_options(likelihood, start, start_kwds, fit_keywords)
    try:
        return make_starts(likelihood, start, n_starts, rng, **start_kwds)
    except TypeError as exc:
        match = _UNEXPECTED.search(str(exc))
        if match is None or match.group(1) not in start_kwds:
            raise
        valid = _strategy_options(likelihood, start)[0] if isinstance(start, str) else []
        ck.check_keywords([match.group(1)], [*fit_keywords, *valid], where="fit()")
        raise


#: every option of every start strategy
_ALL_START_OPTIONS = {
    p.name for fn in (*START_STRATEGIES.values(), score_subspace_starts)
    for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY}


def check_fixed(fixed: Any) -> dict[str, float] | None:
    """``fixed`` as ``{name: float}``; names are checked by the layout."""
    if fixed is None:
        return None
    if not isinstance(fixed, Mapping):
        raise SpecificationError(f"fit(): fixed must be a dict {{parameter name: value}}, got "
                                 f"{type(fixed).__name__}; pass for example "
                                 "fixed={'class2:x1': 0.0}")
    out = {}
    for name, value in fixed.items():
        ok = isinstance(value, (int, float, np.integer, np.floating)) \
            and not isinstance(value, (bool, np.bool_)) and np.isfinite(float(value))
        if not ok:
            raise SpecificationError(f"fit(): fixed[{name!r}] must be a finite number, got "
                                     f"{value!r}; pass for example fixed={{{name!r}: 0.0}}")
        out[name] = float(value)
    return out


_K_CLASSES = {"k_classes": ck.whole_number(low=1)}


def check_k_classes(k_classes, *, where: str = "") -> int:
    """``k_classes`` as an int, or a SpecificationError if it is not a whole number >= 1.

    Examples
    --------
    >>> from mixlogit._fit_options import check_k_classes
    >>> check_k_classes(3)
    3
    """
    return ck.check_params(_K_CLASSES, {"k_classes": k_classes}, where=where)["k_classes"]


def default_cov_type(data, cov_type: str | None) -> str:
    """The covariance of ``fit(cov_type=None)``: robust for sampling weights, else OIM.

    Sampling weights do not count decision makers, so the information matrix
    is not the covariance of the weighted estimator: the sandwich is.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from mixlogit._fit_options import default_cov_type
    >>> default_cov_type(SimpleNamespace(weights_kind="sampling"), None)
    'robust'
    >>> default_cov_type(SimpleNamespace(weights_kind="frequency"), "opg")
    'opg'
    """
    if cov_type is not None:
        return cov_type
    return "robust" if getattr(data, "weights_kind", "frequency") == "sampling" else "oim"
