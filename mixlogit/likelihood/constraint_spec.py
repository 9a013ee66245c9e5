"""The ``constraints=`` and ``bounds=`` options of ``fit``, read into parameter positions.

:func:`parse_constraints` turns equalities between class coefficients
(``{"pf": [1, 2]}``, ``"class1:pf = class2:pf"``, lists of such) into groups
of tied positions; :func:`parse_bounds` turns ``{"class1:pf": (None, 0)}`` into
lower and upper bound vectors. Every refusal names the option and the fix;
:class:`~mixlogit.likelihood.constrained.ConstrainedLikelihood` then holds
them.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..exceptions import SpecificationError

__all__ = ["parse_constraints", "parse_bounds"]

_CLASS_TERM = re.compile(r"^class(\d+):(.+)$")


def _utility_positions(layout: Any) -> int:
    return int(layout.membership_slice.start)


def parse_constraints(constraints: Any, layout: Any) -> list[list[int]]:
    """Tied groups of positions from ``fit(constraints=...)``.

    Parameters
    ----------
    constraints : dict or sequence of str
        ``{term: [class, class, ...]}`` (1-based classes sharing the
        class-specific coefficient of ``term``), or strings
        ``"class1:pf = class2:pf"`` (two or more names joined by ``=``).
    layout : ParamLayout

    Returns
    -------
    list of list of int
        Disjoint groups of flat positions (sorted), each of two or more.

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.likelihood.constrained import parse_constraints
    >>> df = mx.datasets.electricity.load()
    >>> lay = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ pf + cl - 1", df, groups="chid", panel="id", k_classes=3).layout
    >>> parse_constraints({"pf": [1, 3]}, lay), parse_constraints(["class1:cl = class2:cl"], lay)
    ([[0, 4]], [[1, 3]])
    """
    names = list(layout.param_names)
    index = {n: i for i, n in enumerate(names)}
    n_u = _utility_positions(layout)
    pairs: list[list[int]] = []
    if isinstance(constraints, Mapping):
        for term, classes in constraints.items():
            if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence):
                raise SpecificationError(
                    f"fit(): constraints[{term!r}] must be a list of 1-based classes, got "
                    f"{classes!r}; pass for example constraints={{{term!r}: [1, 2]}}")
            ks = list(classes)
            bad = [k for k in ks if isinstance(k, bool) or not isinstance(k, (int, np.integer))
                   or not 1 <= int(k) <= layout.k_classes]
            if bad or len(set(int(k) for k in ks)) < 2:
                raise SpecificationError(
                    f"fit(): constraints[{term!r}] must list two or more distinct classes "
                    f"among 1..{layout.k_classes}, got {classes!r}")
            group = []
            for k in ks:
                name = f"class{int(k)}:{term}"
                if name not in index:
                    terms = sorted({m.group(2) for m in map(_CLASS_TERM.match, names) if m})
                    raise SpecificationError(
                        f"fit(): constraints names {term!r}, which is not a class-specific term; "
                        f"the terms are {terms}")
                group.append(index[name])
            pairs.append(group)
    elif isinstance(constraints, Sequence) and not isinstance(constraints, (str, bytes)):
        for text in constraints:
            sides = [s.strip() for s in str(text).split("=")] if isinstance(text, str) else []
            if len(sides) < 2 or any(s not in index for s in sides):
                unknown = [s for s in sides if s not in index]
                raise SpecificationError(
                    f"fit(): constraint {text!r} must be parameter names joined by '=', e.g. "
                    f"'class1:pf = class2:pf'{'; unknown names ' + str(unknown) if unknown else ''}"
                    f"; names are {names}")
            pairs.append([index[s] for s in sides])
    else:
        raise SpecificationError(
            f"fit(): constraints must be a dict {{term: [classes]}} or a list of "
            f"'class1:x = class2:x' strings, got {type(constraints).__name__}")
    for group in pairs:
        outside = [names[i] for i in group if i >= n_u]
        if outside:
            raise SpecificationError(
                f"fit(): constraints tie only utility coefficients (class-specific or "
                f"invariant), not membership terms {outside}")
    return _merge(pairs)


def _merge(pairs: list[list[int]]) -> list[list[int]]:
    """Union of overlapping groups."""
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.setdefault(i, i) != i:
            i = parent[i]
        return i

    for group in pairs:
        for j in group[1:]:
            parent[root(j)] = root(group[0])
    out: dict[int, list[int]] = {}
    for i in list(parent):
        out.setdefault(root(i), []).append(i)
    return sorted(sorted(g) for g in out.values() if len(g) > 1)


def parse_bounds(bounds: Any, layout: Any) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bound vectors from ``fit(bounds={name: (low, high)})``.

    ``None`` on either side means unbounded.

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.likelihood.constrained import parse_bounds
    >>> df = mx.datasets.electricity.load()
    >>> lay = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ pf + cl - 1", df, groups="chid", panel="id", k_classes=2).layout
    >>> lo, hi = parse_bounds({"class1:pf": (None, 0)}, lay)
    >>> lo.tolist(), hi.tolist()
    ([-inf, -inf, -inf, -inf, -inf], [0.0, inf, inf, inf, inf])
    """
    d = layout.n_params
    lower, upper = np.full(d, -np.inf), np.full(d, np.inf)
    if not isinstance(bounds, Mapping):
        raise SpecificationError(
            f"fit(): bounds must be a dict {{parameter name: (low, high)}}, got "
            f"{type(bounds).__name__}; pass for example bounds={{'class1:pf': (None, 0)}}")
    index = {n: i for i, n in enumerate(layout.param_names)}
    for name, pair in bounds.items():
        if name not in index:
            raise SpecificationError(f"fit(): bounds names unknown parameter {name!r}; names "
                                     f"are {list(layout.param_names)}")
        if index[name] >= _utility_positions(layout):
            raise SpecificationError(f"fit(): bounds apply to utility coefficients only, not "
                                     f"to the membership term {name!r}")
        ok = isinstance(pair, (tuple, list)) and len(pair) == 2 and all(
            v is None or (isinstance(v, (int, float, np.integer, np.floating))
                          and not isinstance(v, bool) and not np.isnan(v)) for v in pair)
        lo = -np.inf if not ok or pair[0] is None else float(pair[0])
        hi = np.inf if not ok or pair[1] is None else float(pair[1])
        if not ok or not lo < hi:
            raise SpecificationError(
                f"fit(): bounds[{name!r}] must be (low, high) with low < high (None for no "
                f"bound), got {pair!r}; pass for example bounds={{{name!r}: (None, 0.0)}}")
        lower[index[name]], upper[index[name]] = lo, hi
    return lower, upper
