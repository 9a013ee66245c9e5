"""Formulas to matrices: the only module that imports patsy.

Three formulas describe a model:

* the utility formula ``"choice ~ pf + cl + C(alt)"``: the left side is the
  0/1 chosen indicator, the right side the terms with class-specific
  coefficients;
* ``invariant``: terms whose coefficient is shared by all classes;
* ``membership``: decision-maker covariates of the class shares.

A constant has no identified coefficient in a logit (it shifts every
alternative's utility alike), so the utility and invariant formulas drop
patsy's intercept after coding: categorical terms are then coded against a
reference level, which is what alternative-specific constants need. The
membership formula always keeps its constant.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import patsy

from .exceptions import SpecificationError

__all__ = ["FormulaSpec", "parse_formulas", "design_for"]

_KEEP_NA = patsy.NAAction(NA_types=[])


@dataclass(frozen=True)
class FormulaSpec:
    """The validated formulas and the patsy design information they produced.

    Keeping the design information lets ``predict(newdata)`` rebuild exactly the
    same columns (same categorical levels, same transforms) on other data.
    """

    formula: str
    invariant: str | None
    membership: str | None
    outcome: str
    exog_info: Any
    invariant_info: Any
    membership_info: Any
    columns: dict


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


def _dmatrix(rhs: str, data: pd.DataFrame, argument: str, *, keep_intercept: bool):
    try:
        frame = patsy.dmatrix(rhs, data, NA_action=_KEEP_NA, return_type="dataframe")
    except patsy.PatsyError as exc:
        raise SpecificationError(
            f"{argument}: cannot build {rhs!r} from data ({exc.message.splitlines()[0]}); "
            f"available columns: {list(map(str, data.columns))}"
        ) from None
    info = frame.design_info
    has_intercept = "Intercept" in frame.columns
    if keep_intercept:
        if not has_intercept:
            raise SpecificationError(
                f"{argument}: the membership model always has a constant; remove '- 1' or "
                "'+ 0' from the formula"
            )
    if has_intercept:
        frame = frame.drop(columns="Intercept")
    return frame, info


def _outcome(lhs: str, data: pd.DataFrame) -> np.ndarray:
    if lhs in data.columns:
        return data[lhs].to_numpy()
    try:
        frame = patsy.dmatrix(lhs + " - 1", data, NA_action=_KEEP_NA, return_type="dataframe")
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
    """
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError("data must be a pandas DataFrame when a formula is used")
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise SpecificationError(
            f"formula must look like 'choice ~ price + time', got {formula!r}"
        )
    columns = dict(columns or {})
    _check_columns(data, columns)
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
    spec = FormulaSpec(formula=formula, invariant=invariant, membership=membership, outcome=lhs,
                       exog_info=exog_info, invariant_info=inv_info, membership_info=mem_info,
                       columns=columns)
    return endog, exog, inv, mem, spec


def design_for(spec: FormulaSpec, newdata: pd.DataFrame):
    """Rebuild the exog, invariant and membership matrices on new data.

    Returns
    -------
    exog, exog_invariant, exog_membership : ndarray (the last two may be None)
    """
    if not isinstance(newdata, pd.DataFrame):
        raise SpecificationError("newdata must be a pandas DataFrame for a formula-based model")
    out = []
    for info, argument in ((spec.exog_info, "formula"), (spec.invariant_info, "invariant"),
                           (spec.membership_info, "membership")):
        if info is None:
            out.append(None)
            continue
        try:
            (frame,) = patsy.build_design_matrices([info], newdata, NA_action=_KEEP_NA,
                                                   return_type="dataframe")
        except patsy.PatsyError as exc:
            raise SpecificationError(
                f"newdata: cannot rebuild the {argument} terms ({exc.message.splitlines()[0]})"
            ) from None
        if "Intercept" in frame.columns:
            frame = frame.drop(columns="Intercept")
        out.append(frame.to_numpy(float))
    return tuple(out)
