"""Formulas to matrices: the only module that imports patsy.

Three formulas describe a model:

* the utility formula ``"choice ~ pf + cl + C(alt)"``: the left side is the
  0/1 chosen indicator, the right side the terms with class-specific
  coefficients;
* ``invariant``: terms whose coefficient is shared by all classes;
* ``membership``: decision-maker covariates of the class shares.

A constant has no identified coefficient in a logit (it shifts every
alternative's utility alike), so the utility and invariant formulas are
always coded *as if* they had patsy's intercept, which is then dropped:
categorical main effects are coded against a reference level whether the
formula says ``C(alt)``, ``C(alt) - 1`` or ``0 + C(alt)``. That is what
alternative-specific constants need. The membership formula always keeps its
constant.

Choice-model terms, available in every formula without an import:

* :func:`asc` - alternative-specific constants against a chosen reference,
  ``asc(alt, ref="gc")`` (the same design as ``C(alt, Treatment("gc"))``,
  with the columns named ``alt[gr]``, ...);
* :func:`alt_specific` - alternative-specific effects of a decision-maker
  covariate, ``alt_specific(income, alt, ref="gc")``: one column
  ``income:alt[gr]``, ... per non-reference alternative.

For alternative-specific coefficients of an *alternative attribute* (one that
varies within a situation), patsy's own ``ic:C(alt)`` already gives one column
per alternative.

The :class:`FormulaSpec` returned with the matrices pickles: it stores the
formula strings and the learned state (categorical levels, the state of
stateful transforms such as ``center`` or ``standardize``, the levels of
:func:`asc` and :func:`alt_specific`) and rebuilds patsy's design information
from them when it is needed again, so a model or a result unpickled in another
session predicts on new data exactly as the original.
"""
from __future__ import annotations

import ast
import copy
import pickle
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import patsy
from patsy import builtins as _patsy_builtins
from patsy import mgcv_cubic_splines as _patsy_mgcv
from patsy import splines as _patsy_splines
from patsy import state as _patsy_state
from patsy.design_info import FactorInfo, SubtermInfo

from ._choice_terms import AlternativeLevels, AltSpecificTransform, ASCTransform, alt_specific, asc
from .data.long import describe_non_numeric
from .exceptions import DataError, SpecificationError

__all__ = ["FormulaSpec", "parse_formulas", "design_for", "asc", "alt_specific"]

_KEEP_NA = patsy.NAAction(NA_types=[])


#: names every formula can use besides the data's columns and patsy's builtins
_NAMESPACE: dict[str, Any] = {"np": np, "numpy": np, "asc": asc, "alt_specific": alt_specific}
_BUILTINS = {name: getattr(_patsy_builtins, name) for name in _patsy_builtins.__all__}
_OUR_TERMS = {"asc": ASCTransform, "alt_specific": AltSpecificTransform}

#: stateful transforms whose state a FormulaSpec can store (class and instance attributes)
_TRANSFORMS = {f"{cls.__module__}.{cls.__qualname__}": cls for cls in (
    _patsy_state.Center, _patsy_state.Standardize, _patsy_splines.BS, _patsy_mgcv.CR,
    _patsy_mgcv.CC, _patsy_mgcv.TE, ASCTransform, AltSpecificTransform)}


def _eval_env() -> patsy.EvalEnvironment:
    return patsy.EvalEnvironment([dict(_NAMESPACE), dict(_BUILTINS)])


# ---------------------------------------------------------------- pickle-safe design state
class _NotStorable(Exception):
    """A design whose state a FormulaSpec cannot store (the reason is the message)."""


def _dump_transform(obj) -> tuple[str, dict]:
    key = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if key not in _TRANSFORMS:
        raise _NotStorable(f"the stateful transform {key} has no storable state")
    state = copy.deepcopy(vars(obj))
    try:
        pickle.dumps(state)
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot be stored"
        raise _NotStorable(f"the state of the stateful transform {key} does not pickle "
                           f"({exc})") from None
    return key, state


def _load_transform(key: str, state: dict):
    obj = _TRANSFORMS[key].__new__(_TRANSFORMS[key])
    obj.__dict__.update(copy.deepcopy(state))
    return obj


def _dump_design(info) -> dict:
    """Plain (picklable) description of a patsy DesignInfo."""
    factors = []
    for factor, fi in info.factor_infos.items():
        if not isinstance(factor, patsy.EvalFactor):
            raise _NotStorable(f"the factor {factor!r} is not a formula expression")
        st = fi.state
        factors.append({
            "code": factor.code, "type": fi.type, "num_columns": fi.num_columns,
            "categories": None if fi.categories is None else tuple(fi.categories),
            "eval_code": st["eval_code"], "memorize_code": dict(st["memorize_code"]),
            "pass_bins": [set(b) for b in st["pass_bins"]],
            "transforms": {name: _dump_transform(obj) for name, obj in st["transforms"].items()},
        })
    terms = []
    for term, subterms in info.term_codings.items():
        coded = [([f.code for f in s.factors],
                  {f.code: (np.asarray(cm.matrix), list(cm.column_suffixes))
                   for f, cm in s.contrast_matrices.items()},
                  s.num_columns) for s in subterms]
        terms.append(([f.code for f in term.factors], coded))
    return {"column_names": list(info.column_names), "factors": factors, "terms": terms}


def _load_design(stored: dict):
    """Rebuild the patsy DesignInfo described by :func:`_dump_design`."""
    env = _eval_env()
    factor_of: dict[str, patsy.EvalFactor] = {}
    factor_infos = {}
    for f in stored["factors"]:
        factor = patsy.EvalFactor(f["code"])
        factor_of[f["code"]] = factor
        state = {"eval_env": env, "eval_code": f["eval_code"],
                 "memorize_code": dict(f["memorize_code"]),
                 "pass_bins": [set(b) for b in f["pass_bins"]],
                 "transforms": {name: _load_transform(*dumped)
                                for name, dumped in f["transforms"].items()}}
        factor_infos[factor] = FactorInfo(factor, f["type"], state,
                                          num_columns=f["num_columns"],
                                          categories=f["categories"])
    term_codings: OrderedDict = OrderedDict()
    for codes, subterms in stored["terms"]:
        term = patsy.Term([factor_of[c] for c in codes])
        term_codings[term] = [
            SubtermInfo([factor_of[c] for c in sub_codes],
                        {factor_of[c]: patsy.ContrastMatrix(m, suffixes)
                         for c, (m, suffixes) in contrasts.items()}, n)
            for sub_codes, contrasts, n in subterms]
    return patsy.DesignInfo(stored["column_names"], factor_infos=factor_infos,
                            term_codings=term_codings)


@dataclass(frozen=True)
class FormulaSpec:
    """The validated formulas and the state learned from the estimation data.

    Keeping it lets ``predict(newdata)`` rebuild exactly the same columns (same
    categorical levels, same transform state, same alternatives in
    :func:`asc` / :func:`alt_specific`) on other data. It pickles: patsy's
    design information (which does not) is dropped and rebuilt from the stored
    state after unpickling.

    Attributes
    ----------
    formula, invariant, membership : str or None
        The formulas as given.
    outcome : str
        The left side of ``formula``.
    columns : dict
        Column-name arguments of the model (``{"groups": "chid", ...}``).
    exog_names, invariant_names, membership_names : tuple of str or None
        The column names of the three designs (membership without its constant).
    """

    formula: str
    invariant: str | None
    membership: str | None
    outcome: str
    columns: dict
    exog_names: tuple[str, ...]
    invariant_names: tuple[str, ...] | None
    membership_names: tuple[str, ...] | None
    _stored: tuple = field(repr=False, compare=False)
    _not_storable: str | None = field(default=None, repr=False, compare=False)
    _live: tuple | None = field(default=None, repr=False, compare=False)

    @cached_property
    def design_infos(self) -> tuple:
        """patsy ``DesignInfo`` of the utility, invariant and membership designs (or None)."""
        if self._live is not None:
            return self._live
        return tuple(None if s is None else _load_design(s) for s in self._stored)

    @cached_property
    def numeric_columns(self) -> frozenset[str]:
        """Names that numerical terms read as numbers (candidates for columns of the data).

        The alternatives' column given to :func:`asc` or :func:`alt_specific` and the
        columns inside ``C(...)`` are left out: they may hold text.
        """
        names: set[str] = set()
        for info in self.design_infos:
            if info is None:
                continue
            for factor, fi in info.factor_infos.items():
                if fi.type == "numerical":
                    names |= _numeric_names(factor.code)
        return frozenset(names)

    @property
    def exog_info(self):
        return self.design_infos[0]

    @property
    def invariant_info(self):
        return self.design_infos[1]

    @property
    def membership_info(self):
        return self.design_infos[2]

    def __getstate__(self) -> dict:
        if self._not_storable is not None:
            raise pickle.PicklingError(
                f"this formula-built model cannot be pickled: {self._not_storable}; "
                "transform the column before building the model instead"
            )
        state = dict(self.__dict__)
        state.pop("design_infos", None)
        state.pop("numeric_columns", None)
        state["_live"] = None
        return state


# ---------------------------------------------------------------- building designs
def _rhs(text: str) -> str:
    text = text.strip()
    return text[1:].strip() if text.startswith("~") else text


def _check_columns(data: pd.DataFrame, columns: dict) -> None:
    for argument, column in columns.items():
        if column is None:
            continue
        if not isinstance(column, str):
            raise SpecificationError(
                f"{argument} must be the name of a column of data, got {type(column).__name__}"
            )
        if column not in data.columns:
            raise SpecificationError(
                f"{argument}={column!r} is not a column of data; available columns: "
                f"{list(map(str, data.columns))}"
            )


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
#: columns a formula reads as categories: C(x...), asc(x...), alt_specific(..., x...)
_CATEGORICAL_USE = re.compile(r"(?:\bC|\basc)\(\s*([A-Za-z_][A-Za-z0-9_.]*)|"
                              r"\balt_specific\([^,()]+,\s*([A-Za-z_][A-Za-z0-9_.]*)")


def _check_value_types(data: pd.DataFrame, formulas: list[str | None]) -> None:
    """Refuse, before patsy sees them, columns the formulas read that hold the wrong values.

    A complex-valued column, and a column of numbers with a few stray text
    values (which patsy would silently turn into one dummy per distinct value),
    raise :class:`~mixlogit.exceptions.DataError` naming the column and the
    first offending row.
    """
    texts = [text for text in formulas if text]
    names = {tok for text in texts for tok in _IDENTIFIER.findall(text)}
    categorical = {name for text in texts for pair in _CATEGORICAL_USE.findall(text)
                   for name in pair if name}
    for name in sorted((names - categorical) & set(map(str, data.columns))):
        column = data[name]
        if pd.api.types.is_complex_dtype(column.dtype):
            raise DataError(f"column {name} holds complex numbers; a utility attribute must be "
                            "real (take .real or .abs() first)")
        if column.dtype != object and not pd.api.types.is_string_dtype(column.dtype):
            continue
        present = column.dropna()
        if len(present) and pd.to_numeric(present, errors="coerce").notna().mean() > 0.5:
            message = describe_non_numeric(column, name)
            if message is not None:
                raise DataError(f"{message}; fix or drop those rows, or convert the column "
                                "with pd.to_numeric(..., errors='coerce') to treat them as missing")


def _patsy_failure(exc: patsy.PatsyError, where: str) -> SpecificationError:
    cause = exc.__cause__
    if isinstance(cause, SpecificationError):
        return SpecificationError(f"{where}: {cause}")
    return SpecificationError(f"{where} ({exc.message.splitlines()[0]})")


def _display_names(info) -> list[str]:
    """patsy's column names with asc()/alt_specific() columns renamed ``alt[gr]``, ``x:alt[gr]``."""
    names = list(info.column_names)
    for factor, fi in info.factor_infos.items():
        call = _our_call(factor.code)
        if call is None:
            continue
        ours = [t for t in fi.state["transforms"].values() if isinstance(t, AlternativeLevels)]
        if len(ours) != 1:
            continue
        kept = ours[0].kept
        args = [ast.get_source_segment(factor.code, a) or ast.unparse(a) for a in call.args]
        is_alt_specific = isinstance(call.func, ast.Name) and call.func.id == "alt_specific"
        prefix = f"{args[0]}:" if is_alt_specific and len(args) == 2 else ""
        alt_text = args[-1] if args else "alt"
        new = [f"{prefix}{alt_text}[{level}]" for level in kept]
        old = [factor.name()] if fi.num_columns == 1 else \
            [f"{factor.name()}[{i}]" for i in range(fi.num_columns)]
        for o, n in zip(old, new):
            names = [name.replace(o, n) for name in names]
    return names


def _numeric_names(code: str) -> set[str]:
    """Variable names of a factor's code that are read as numbers."""
    try:
        tree = ast.parse(code, mode="eval").body
    except SyntaxError:
        return set()
    names: set[str] = set()

    def visit(node) -> None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("C", "asc"):
                return
            args = node.args[:1] if node.func.id == "alt_specific" else node.args
            for arg in list(args) + [k.value for k in node.keywords]:
                visit(arg)
            return
        if isinstance(node, ast.Name):
            names.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def _our_call(code: str) -> ast.Call | None:
    try:
        node = ast.parse(code, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in _OUR_TERMS:
        return node
    return None


def _dmatrix(rhs: str, data: pd.DataFrame, argument: str, *, keep_intercept: bool):
    try:
        desc = patsy.ModelDesc.from_formula(rhs)
    except patsy.PatsyError as exc:
        raise SpecificationError(f"{argument}: cannot parse {rhs!r} "
                                 f"({exc.message.splitlines()[0]})") from None
    if desc.lhs_termlist:
        raise SpecificationError(f"{argument}: give only a right-hand side, got {rhs!r}")
    has_intercept = patsy.INTERCEPT in desc.rhs_termlist
    if keep_intercept and not has_intercept:
        raise SpecificationError(
            f"{argument}: the membership model always has a constant; remove '- 1' or "
            "'+ 0' from the formula"
        )
    if not has_intercept:
        # code categorical main effects against a reference level, as with a constant
        desc = patsy.ModelDesc([], [patsy.INTERCEPT] + list(desc.rhs_termlist))
    plain = _plain_numeric_columns(desc, data)
    try:
        if plain is None:
            frame = patsy.dmatrix(desc, data, eval_env=_eval_env(), NA_action=_KEEP_NA,
                                  return_type="dataframe")
        else:  # numeric columns only: patsy learns the design from a few rows, numpy copies
            head = patsy.dmatrix(desc, data.iloc[:8], eval_env=_eval_env(), NA_action=_KEEP_NA,
                                 return_type="dataframe")
            values = np.column_stack([np.ones(len(data))] + [
                data[c].to_numpy(dtype=float, na_value=np.nan) for c in plain])
            frame = pd.DataFrame(values, index=data.index, columns=head.columns)
            frame.design_info = head.design_info
    except patsy.PatsyError as exc:
        err = _patsy_failure(exc, f"{argument}: cannot build {rhs!r} from data")
        raise SpecificationError(f"{err}; available columns: "
                                 f"{list(map(str, data.columns))}") from None
    info = frame.design_info
    frame.columns = _display_names(info)
    frame = frame.drop(columns="Intercept")
    duplicated = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if duplicated:
        raise SpecificationError(f"{argument}: the terms give the columns {duplicated} twice; "
                                 "write each term once")
    return frame, info


def _plain_numeric_columns(desc, data: pd.DataFrame) -> list[str] | None:
    """The column names, when every term (besides the constant) is one numeric column.

    Such a design needs no patsy evaluation row by row: its columns are the
    data's own (``x1 + x2`` is ``data[["x1", "x2"]]``), which saves patsy's
    per-row work on large data. Booleans and text are categorical to patsy, so
    they take the general path, as does anything else (transforms, interactions).
    """
    names: list[str] = []
    for term in desc.rhs_termlist:
        if term == patsy.INTERCEPT:
            continue
        if len(term.factors) != 1:
            return None
        code = getattr(term.factors[0], "code", None)
        if not isinstance(code, str) or code not in data.columns:
            return None
        dtype = data[code].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            return None
        names.append(code)
    return names if len(data) > 8 else None


def _outcome(lhs: str, data: pd.DataFrame) -> np.ndarray:
    if lhs in data.columns:
        return data[lhs].to_numpy()
    try:
        frame = patsy.dmatrix(lhs + " - 1", data, eval_env=_eval_env(), NA_action=_KEEP_NA,
                              return_type="dataframe")
    except patsy.PatsyError as exc:
        raise SpecificationError(
            f"formula: cannot evaluate the outcome {lhs!r} ({exc.message.splitlines()[0]}); "
            f"available columns: {list(map(str, data.columns))}"
        ) from None
    if frame.shape[1] == 2 and frame.columns[1].endswith("[True]"):
        return frame.iloc[:, 1].to_numpy()
    if frame.shape[1] != 1:
        raise SpecificationError(
            f"formula: the outcome {lhs!r} must be one 0/1 column, got {list(frame.columns)}"
        )
    return frame.iloc[:, 0].to_numpy()


def _store(infos: tuple) -> tuple[tuple, str | None]:
    try:
        return tuple(None if i is None else _dump_design(i) for i in infos), None
    except _NotStorable as exc:
        return (None, None, None), str(exc)


def parse_formulas(formula: str, data: pd.DataFrame, *, invariant: str | None = None,
                   membership: str | None = None, columns: dict | None = None):
    """Build the model matrices from formulas.

    Parameters
    ----------
    formula : str
        ``"outcome ~ terms"``; the terms get class-specific coefficients.
    data : DataFrame
        Long format, one row per (situation, alternative).
    invariant, membership : str, optional
        Right-hand-side formulas (a leading ``~`` is optional).
    columns : dict
        Column-name arguments to check (``{"groups": "chid", ...}``).

    Returns
    -------
    endog : ndarray
    exog, exog_invariant, exog_membership : DataFrame or None
    spec : FormulaSpec

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.formula import parse_formulas
    >>> df = mx.datasets.heating.load()
    >>> endog, exog, inv, mem, spec = parse_formulas("choice ~ ic + C(alt) - 1", df)
    >>> list(exog.columns)
    ['C(alt)[T.gr]', 'C(alt)[T.ec]', 'C(alt)[T.er]', 'C(alt)[T.hp]', 'ic']
    """
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError("data must be a pandas DataFrame when a formula is used")
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise SpecificationError(
            f"formula must look like 'choice ~ price + time', got {formula!r}"
        )
    columns = dict(columns or {})
    _check_columns(data, columns)
    _check_value_types(data, [formula, invariant, membership])
    lhs, rhs = (part.strip() for part in formula.split("~"))
    if not lhs:
        raise SpecificationError("formula: the left side must name the 0/1 chosen-alternative column")
    endog = _outcome(lhs, data)
    exog, exog_info = _dmatrix(rhs, data, "formula", keep_intercept=False)
    inv = inv_info = None
    if invariant is not None:
        inv, inv_info = _dmatrix(_rhs(invariant), data, "invariant", keep_intercept=False)
        clash = set(inv.columns) & set(exog.columns)
        if clash:
            raise SpecificationError(
                f"invariant: {sorted(clash)} are already class-specific terms of the formula; "
                "a term is either class-specific or invariant"
            )
    mem = mem_info = None
    if membership is not None:
        mem, mem_info = _dmatrix(_rhs(membership), data, "membership", keep_intercept=True)
    if exog.shape[1] == 0 and (inv is None or inv.shape[1] == 0):
        raise SpecificationError("formula: no attribute terms on the right side")
    infos = (exog_info, inv_info, mem_info)
    stored, reason = _store(infos)
    spec = FormulaSpec(
        formula=formula, invariant=invariant, membership=membership, outcome=lhs,
        columns=columns, exog_names=tuple(exog.columns),
        invariant_names=None if inv is None else tuple(inv.columns),
        membership_names=None if mem is None else tuple(mem.columns),
        _stored=stored, _not_storable=reason, _live=infos)
    return endog, exog, inv, mem, spec


def design_for(spec: FormulaSpec, newdata: pd.DataFrame):
    """Rebuild the exog, invariant and membership matrices on new data.

    Parameters
    ----------
    spec : FormulaSpec
        From :func:`parse_formulas` (possibly unpickled).
    newdata : DataFrame
        Long format, with the columns the formulas use.

    Returns
    -------
    exog, exog_invariant, exog_membership : ndarray (the last two may be None)

    Examples
    --------
    >>> import pickle
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.formula import design_for, parse_formulas
    >>> df = mx.datasets.heating.load()
    >>> *_, spec = parse_formulas("choice ~ center(ic) + asc(alt) - 1", df)
    >>> X, _, _ = design_for(spec, df.head(5))
    >>> X2, _, _ = design_for(pickle.loads(pickle.dumps(spec)), df.head(5))
    >>> X.shape, bool(np.array_equal(X, X2))
    ((5, 5), True)
    """
    if not isinstance(newdata, pd.DataFrame):
        raise SpecificationError("newdata must be a pandas DataFrame for a formula-based model")
    out: list[np.ndarray | None] = []
    for info, argument in zip(spec.design_infos, ("formula", "invariant", "membership")):
        if info is None:
            out.append(None)
            continue
        try:
            (frame,) = patsy.build_design_matrices([info], newdata, NA_action=_KEEP_NA,
                                                   return_type="dataframe")
        except patsy.PatsyError as exc:
            raise _patsy_failure(exc, f"newdata: cannot rebuild the {argument} terms") from None
        if "Intercept" in frame.columns:
            frame = frame.drop(columns="Intercept")
        out.append(frame.to_numpy(float))
    return tuple(out)
