"""Choice probabilities on the estimation data or on new data.

:func:`predict_long` serves :meth:`mixlogit.MixedMultinomialLogit.predict`
and :func:`predict_counts` the counts model's. New data follow the estimation
rules of :class:`~mixlogit.data.ChoiceData`:

* a missing situation id is refused (as in estimation), never its own situation;
* an infinite attribute raises; a missing (NaN) attribute or membership
  covariate leaves its whole situation unpredicted (NaN probabilities, with a
  :class:`~mixlogit.exceptions.DroppedObservationsWarning`), as estimation
  drops the situation;
* availability must be 0 or 1 (NaN and 2 raise), a situation needs at least
  one available alternative, and a model estimated with an availability column
  needs it in new data;
* an empty frame, a text or complex attribute (``"column pf holds text ('a' in
  row 3; ...)"``, the message of estimation) and arrays of mismatched lengths
  raise :class:`~mixlogit.exceptions.DataError` naming the column or the
  arrays; numbers written as text and booleans are read as numbers.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import _checks as ck
from .data.long import describe_non_numeric
from .exceptions import DataError, DroppedObservationsWarning, SpecificationError, warn
from .formula import design_for
from .kernels import column_softmax, log_class_shares, situation_softmax

__all__ = ["predict_long", "predict_counts"]

KIND = {"kind": ck.one_of("probability", "class")}


def predict_long(model, params, exog=None, *, groups=None, exog_invariant=None,
                 exog_membership=None, availability=None, kind: str = "probability"):
    """Mixture (or per-class) choice probabilities of the long-format rows; see the model's
    ``predict``."""
    kind = ck.check_params(KIND, {"kind": kind}, where="predict()")["kind"]
    lay = model.layout
    u = lay.unpack(params)
    if exog is None:
        d = model.choice_data
        X, V, Zrow = d.exog, d.exog_invariant, d.exog_membership[d.decision_maker_of_row]
        sit_start, sit_of_row = d.situation_start, d.situation_of_row
        n_out, rows = d.n_input_rows, d.row_index
        index = model.data_index if model.data_index is not None else pd.RangeIndex(n_out)
        avail = np.ones(d.n_rows, bool)
        lost = np.zeros(d.n_rows, bool)
    else:
        X, V, Zrow, g, avail, index = _new_design(model, exog, groups, exog_invariant,
                                                  exog_membership, availability)
        codes, _ = pd.factorize(g)
        rows = np.argsort(codes, kind="stable")
        X, V, Zrow, avail = X[rows], V[rows], Zrow[rows], avail[rows]
        sc = codes[rows]
        new = np.r_[True, sc[1:] != sc[:-1]]
        sit_start = np.flatnonzero(new)
        sit_of_row = np.cumsum(new) - 1
        n_out = len(codes)
        lost = _check_rows(lay, X, V, Zrow, avail, sit_start, sit_of_row)
        X, V, Zrow = (np.where(lost[:, None], 0.0, A) for A in (X, V, Zrow))
    U = np.hstack([X, V]) @ u.class_coefficients.T
    U[~avail] = -np.inf
    with np.errstate(invalid="ignore"):
        P, _ = situation_softmax(U, sit_start, sit_of_row)
    P[~avail] = 0.0
    P[lost] = np.nan
    if kind == "class":
        out = np.full((n_out, lay.k_classes), np.nan)
        out[rows] = P
        return pd.DataFrame(out, index=index, columns=lay.class_names)
    pi = np.exp(log_class_shares(Zrow, u.gamma))
    out = np.full(n_out, np.nan)
    out[rows] = (pi * P).sum(axis=1)
    return pd.Series(out, index=index, name="probability")


def _check_rows(lay, X, V, Zrow, avail, sit_start, sit_of_row) -> np.ndarray:
    """Rows of situations that cannot be predicted (missing values), after the hard checks."""
    names = [*lay.exog_names, *lay.invariant_names, *lay.membership_names]
    bad = np.isinf(np.hstack([X, V, Zrow])).any(axis=0)
    if bad.any():
        cols = [names[j] for j in np.flatnonzero(bad)]
        raise DataError(f"new data: {cols} contain infinite values; replace them with finite "
                        "numbers (or NaN to leave the affected situations unpredicted)")
    n_avail = np.add.reduceat(avail.astype(np.int64), sit_start)
    if np.any(n_avail == 0):
        raise DataError(f"{int((n_avail == 0).sum())} situation(s) of newdata have no available "
                        "alternative; mark at least one alternative of each situation available")
    row_missing = np.isnan(X).any(axis=1) | np.isnan(V).any(axis=1) | np.isnan(Zrow).any(axis=1)
    if not row_missing.any():
        return row_missing
    sit_missing = np.zeros(len(sit_start), bool)
    sit_missing[sit_of_row[row_missing]] = True
    warn(f"predict: {int(sit_missing.sum())} situation(s) of newdata have missing values; their "
         "probabilities are NaN (estimation drops such situations)", DroppedObservationsWarning)
    return sit_missing[sit_of_row]


def _numeric_names(spec) -> set[str]:
    """Names of the columns the formulas read as numbers (the formula spec lists them)."""
    return set(spec.numeric_columns)


def _numeric_columns(spec, newdata: pd.DataFrame) -> pd.DataFrame:
    """``newdata`` with the columns numerical terms read as floats; text or complex values
    raise DataError naming the column (the message of estimation)."""
    used = _numeric_names(spec)
    converted = {}
    for col in newdata.columns:
        if str(col) not in used or newdata[col].dtype.kind in "iuf":
            continue
        values = newdata[col]
        if values.dtype.kind == "c":
            raise DataError(f"column {col} holds complex numbers; pass real numbers")
        if values.dtype.kind == "b":
            converted[col] = values.astype(float)
            continue
        problem = describe_non_numeric(values, str(col))
        if problem is not None:
            raise DataError(f"newdata: {problem}; convert it to numbers (or use C({col}) in "
                            "the formula)")
        converted[col] = pd.to_numeric(values, errors="coerce").astype(float)
    return newdata.assign(**{str(c): v for c, v in converted.items()}) if converted else newdata


def _frame_design(model, newdata: pd.DataFrame):
    spec = model.formula_spec
    if newdata.shape[0] == 0:
        raise DataError("newdata has no rows; pass at least one choice situation")
    gcol = spec.columns["groups"]
    if gcol not in newdata.columns:
        raise SpecificationError(f"newdata needs the groups column {gcol!r}")
    acol = spec.columns.get("availability")
    if acol and acol not in newdata.columns:
        raise DataError(f"newdata lacks the availability column {acol!r} the model was estimated "
                        "with; add it (1 = available, 0 = not)")
    X, V, Z = design_for(spec, _numeric_columns(spec, newdata))
    avail = newdata[acol].to_numpy() if acol else None
    return X, V, Z, newdata[gcol].to_numpy(), avail, newdata.index, gcol, acol or "availability"


def _array_design(exog, groups, exog_invariant, exog_membership, availability):
    if groups is None:
        raise SpecificationError("predict on new arrays needs groups= (situation ids)")
    X = np.asarray(exog)
    arrays = {"exog": X, "groups": np.asarray(groups), "exog_invariant": exog_invariant,
              "exog_membership": exog_membership, "availability": availability}
    lengths = {k: len(v) for k, v in arrays.items() if v is not None and np.ndim(v) > 0}
    if len(set(lengths.values())) > 1:
        raise DataError("predict: the new arrays have different lengths ("
                        + ", ".join(f"{k}: {n}" for k, n in lengths.items())
                        + "); give one entry per row to each")
    out: list[np.ndarray | None] = []
    for name in ("exog", "exog_invariant", "exog_membership"):
        value = arrays[name]
        if value is None:
            out.append(None)
            continue
        arr = np.asarray(value)
        if arr.dtype.kind == "c":
            raise DataError(f"{name} holds complex numbers; pass real numbers")
        try:
            out.append(arr.astype(float))
        except (TypeError, ValueError):
            raise DataError(f"{name} must be numeric; convert text columns first") from None
    if len(X) == 0:
        raise DataError("predict: exog has no rows; pass at least one choice situation")
    return (*out, arrays["groups"], availability, pd.RangeIndex(len(X)), "groups", "availability")


def _new_design(model, exog, groups, exog_invariant, exog_membership, availability):
    lay = model.layout
    if model.formula_spec is not None and isinstance(exog, pd.DataFrame):
        X, V, Z, g, av, index, gname, aname = _frame_design(model, exog)
    else:
        X, V, Z, g, av, index, gname, aname = _array_design(exog, groups, exog_invariant,
                                                            exog_membership, availability)
    n = len(X)
    X = X[:, None] if X.ndim == 1 else X
    V = np.empty((n, 0)) if V is None else (V[:, None] if V.ndim == 1 else V)
    Z = np.empty((n, 0)) if Z is None else (Z[:, None] if Z.ndim == 1 else Z)
    if X.shape[1] != lay.k_exog or V.shape[1] != lay.k_invariant \
            or Z.shape[1] != lay.k_membership - 1:
        raise SpecificationError(
            f"new data have {X.shape[1]} class-specific, {V.shape[1]} invariant and "
            f"{Z.shape[1]} membership columns; the model has {lay.k_exog}, "
            f"{lay.k_invariant} and {lay.k_membership - 1}")
    if pd.isna(g).any():
        raise DataError(f"'{gname}' has missing ids; every row needs an id")
    return X, V, np.hstack([np.ones((n, 1)), Z]), g, _availability(av, n, aname), index


def _availability(av, n: int, name: str) -> np.ndarray:
    if av is None:
        return np.ones(n, bool)
    try:
        a = np.asarray(av, dtype=float).ravel()
    except (TypeError, ValueError):
        raise DataError(f"'{name}' must be 0 or 1 (or boolean)") from None
    if a.shape != (n,):
        raise DataError(f"'{name}' needs one entry per row ({n}), got shape {a.shape}")
    if not np.isin(a, (0.0, 1.0)).all():
        found = np.unique(a[~np.isin(a, (0.0, 1.0))])[:5].tolist()
        raise DataError(f"'{name}' must be 0 or 1 (or boolean) in new data, found {found}; "
                        "missing availability is not allowed")
    return a == 1


def predict_counts(model, params, exog=None, *, kind: str = "probability"):
    """Mixture (or per-class) probabilities of a candidate set; see the counts model's
    ``predict``."""
    kind = ck.check_params(KIND, {"kind": kind}, where="predict()")["kind"]
    lay = model.layout
    if exog is None:
        X, index = model.choice_data.features, model.data_index
    else:
        index = exog.index if isinstance(exog, pd.DataFrame) else None
        if isinstance(exog, pd.DataFrame):
            missing = [c for c in lay.exog_names if c not in exog.columns]
            if not missing:
                exog = exog[list(lay.exog_names)]
        try:
            X = np.asarray(exog, dtype=float)
        except (TypeError, ValueError):
            raise DataError("new features must be numeric; convert text columns first") from None
        X = X[:, None] if X.ndim == 1 else X
        if X.ndim != 2 or X.shape[1] != lay.k_exog or X.shape[0] == 0:
            raise SpecificationError(f"new features must have {lay.k_exog} columns "
                                     f"({list(lay.exog_names)}) and at least one row, got shape "
                                     f"{X.shape}")
        if not np.all(np.isfinite(X)):
            raise DataError("new features contain missing or infinite values; give finite numbers")
        index = pd.RangeIndex(X.shape[0], name="candidate") if index is None else index
    u = lay.unpack(params)
    sigma, _ = column_softmax(X @ u.betas.T)
    if kind == "class":
        return pd.DataFrame(sigma, index=index, columns=lay.class_names)
    g = u.gamma[:, 0]
    alpha = np.exp(g - g.max())
    alpha /= alpha.sum()
    return pd.Series(sigma @ alpha, index=index, name="probability")
