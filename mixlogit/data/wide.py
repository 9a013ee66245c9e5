"""Wide choice data (one row per choice situation) to the long format.

Survey files usually come wide: one row per choice situation, one column per
(attribute, alternative) such as ``TRAIN_TT, SM_TT, CAR_TT``, a column with the
code of the chosen alternative and availability flags. The models take the
long format (one row per situation and alternative); :func:`long_from_wide`
reshapes one into the other without a Python loop over rows.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError, SpecificationError

__all__ = ["long_from_wide"]

_RESERVED = ("alt", "choice", "available")


def _as_list(value, argument: str) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    raise SpecificationError(f"{argument} must be a column name or a list of column names, "
                             f"got {type(value).__name__}")


def _check_known(df: pd.DataFrame, names: list, argument: str) -> None:
    unknown = [name for name in names if name is not None and name not in df.columns]
    if unknown:
        raise SpecificationError(
            f"{argument}: {unknown} {'is not a column' if len(unknown) == 1 else 'are not columns'}"
            f" of df; available columns: {list(map(str, df.columns))}"
        )


def _per_alternative(value, alternatives: list, argument: str) -> list:
    """One source column (or None) per alternative, from a list or a mapping."""
    if isinstance(value, Mapping):
        extra = [key for key in value if key not in alternatives]
        if extra:
            raise SpecificationError(f"{argument}: {extra} are not among the alternatives "
                                     f"{alternatives}")
        return [value.get(alt) for alt in alternatives]
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise SpecificationError(
            f"{argument} must list one column (or None) per alternative, in the order of "
            f"alternatives {alternatives}, or map alternatives to columns; got {value!r}"
        )
    if len(value) != len(alternatives):
        raise SpecificationError(
            f"{argument} lists {len(value)} columns for {len(alternatives)} alternatives "
            f"{alternatives}; give one column per alternative (None where one lacks it)"
        )
    return list(value)


def _choice_positions(codes: pd.Series, alternatives: list, choice_codes, argument: str):
    """Position (0..J-1) of the chosen alternative in each row."""
    if choice_codes is None:
        values = set(codes.dropna().unique().tolist())
        if values <= set(alternatives):
            mapping = {alt: j for j, alt in enumerate(alternatives)}
        else:
            mapping = {j + 1: j for j in range(len(alternatives))}
        hint = ("the codes must be the alternatives' names or their positions 1.."
                f"{len(alternatives)}; otherwise give choice_codes={{code: alternative}}")
    else:
        if not isinstance(choice_codes, Mapping):
            raise SpecificationError("choice_codes must map each code of the choice column to "
                                     f"an alternative, got {type(choice_codes).__name__}")
        bad = sorted({str(v) for v in choice_codes.values() if v not in alternatives})
        if bad:
            raise SpecificationError(f"choice_codes: {bad} are not among the alternatives "
                                     f"{alternatives}")
        mapping = {code: alternatives.index(alt) for code, alt in choice_codes.items()}
        hint = "add them to choice_codes, or drop those rows before reshaping"
    position = codes.map(mapping)
    missing = position.isna().to_numpy()
    if missing.any():
        seen = codes[missing]
        shown = sorted({repr(v) for v in seen.unique().tolist()})[:5]
        raise DataError(
            f"choice: {int(missing.sum())} rows of column {argument!r} have codes "
            f"{', '.join(shown)} that name no alternative; {hint}"
        )
    return position.to_numpy(dtype=np.int64)


def _availability(df: pd.DataFrame, availability, alternatives: list, n: int) -> np.ndarray:
    """(n, J) boolean availability matrix."""
    if availability is None:
        return np.ones((n, len(alternatives)), dtype=bool)
    sources = _per_alternative(availability, alternatives, "availability")
    _check_known(df, sources, "availability")
    avail = np.ones((n, len(alternatives)), dtype=bool)
    for j, col in enumerate(sources):
        if col is None:
            continue
        values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        if not np.isin(values, (0.0, 1.0)).all():
            raise DataError(f"availability: column {col!r} must hold 0/1 (or True/False) "
                            "in every row")
        avail[:, j] = values == 1.0
    return avail


def _attribute_matrix(df: pd.DataFrame, sources: list, avail: np.ndarray) -> np.ndarray:
    """(n, J) values of one attribute; 0 where an alternative lacks it or is unavailable and NaN."""
    n = len(df)
    columns = []
    for col in sources:
        columns.append(np.zeros(n) if col is None else df[col].to_numpy())
    values = np.column_stack(columns) if columns else np.zeros((n, 0))
    if values.dtype.kind in "fc" or values.dtype == object:
        blank = ~avail & pd.isna(values)
        if blank.any():
            values = values.copy()
            values[blank] = 0
    return values


def long_from_wide(df: pd.DataFrame, *, alternatives: Sequence[Any],
                   attributes: Mapping[str, Any], choice: str,
                   choice_codes: Mapping[Any, Any] | None = None,
                   availability: Mapping[Any, str | None] | Sequence[str | None] | None = None,
                   situation: str | None = None, panel: str | None = None,
                   keep: str | Sequence[str] | None = None,
                   drop_unavailable: bool = False) -> pd.DataFrame:
    """Reshape wide choice data (one row per situation) to the long format.

    Parameters
    ----------
    df : DataFrame
        One row per choice situation.
    alternatives : sequence
        The alternatives' labels, in the order used by ``attributes`` and
        ``availability`` lists (and by the default choice codes 1..J).
    attributes : dict
        ``{name: [column of alternative 1, ..., column of alternative J]}``;
        ``None`` where an alternative lacks the attribute (filled with 0). A
        mapping ``{alternative: column}`` is also accepted (alternatives left
        out get 0).
    choice : str
        Column with the code of the chosen alternative.
    choice_codes : dict, optional
        ``{code: alternative}``. By default the codes are the alternatives'
        names, or else their positions 1..J.
    availability : dict or list, optional
        ``{alternative: column}`` (or one column or None per alternative) of
        0/1 availability flags; alternatives without a column are always
        available.
    situation : str, optional
        Column with the situation id (kept under its name). By default a column
        ``chid`` numbers the rows of ``df`` from 1.
    panel : str, optional
        Column with the decision-maker id, repeated on every row (kept under
        its name).
    keep : str or list of str, optional
        Further columns (decision-maker covariates) repeated on every row.
    drop_unavailable : bool, default False
        Drop the rows of unavailable alternatives instead of keeping them with
        ``available == 0``.

    Returns
    -------
    DataFrame
        ``J`` rows per situation (alternatives in the given order), situations
        in the order of ``df``, with the columns: the situation id, the panel
        id (when given), ``alt`` (an ordered categorical of ``alternatives``),
        ``choice`` (0/1), ``available`` (0/1), one column per attribute, then
        the ``keep`` columns. Missing attribute values of an unavailable
        alternative are set to 0, so they do not cost the situation; missing
        values of available alternatives stay missing.

    Raises
    ------
    SpecificationError
        A column that is not in ``df``, an attribute list whose length is not
        the number of alternatives, a clash of output column names.
    DataError
        A choice code that names no alternative, a chosen alternative that is
        unavailable, availability flags other than 0/1.

    Examples
    --------
    Swissmetro from its raw wide file to Biogeme's latent-class example b07
    (log-likelihood -5208.498) in seven lines:

    >>> import mixlogit as mx
    >>> from mixlogit.data.wide import long_from_wide
    >>> raw = mx.datasets.swissmetro.load_raw().query("PURPOSE in (1, 3) and CHOICE != 0")
    >>> raw = raw.assign(TRAIN_AV=raw.TRAIN_AV * (raw.SP != 0), CAR_AV=raw.CAR_AV * (raw.SP != 0),
    ...                  TRAIN_CO=raw.TRAIN_CO * (raw.GA == 0), SM_CO=raw.SM_CO * (raw.GA == 0))
    >>> df = long_from_wide(raw, alternatives=["train", "sm", "car"], choice="CHOICE",
    ...     attributes={"time": ["TRAIN_TT", "SM_TT", "CAR_TT"], "cost": ["TRAIN_CO", "SM_CO", "CAR_CO"]},
    ...     availability={"train": "TRAIN_AV", "sm": "SM_AV", "car": "CAR_AV"})
    >>> df[["time", "cost"]] /= 100
    >>> res = mx.MixedMultinomialLogit.from_formula("choice ~ time - 1", df, groups="chid",
    ...     k_classes=2, availability="available", invariant="asc(alt, ref='sm') + cost - 1",
    ...     ).fit(n_starts=3, seed=1, fixed={"class2:time": 0.0})
    >>> round(res.llf, 3), list(res.params.index)
    (-5208.498, ['class1:time', 'class2:time', 'alt[train]', 'alt[car]', 'cost', 'membership:class2:Intercept'])
    """
    if not isinstance(df, pd.DataFrame):
        raise SpecificationError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    alternatives = list(alternatives) if not isinstance(alternatives, str) else [alternatives]
    if len(alternatives) < 2 or len(set(map(str, alternatives))) != len(alternatives):
        raise SpecificationError(f"alternatives must list at least two distinct labels, got "
                                 f"{alternatives}")
    if not isinstance(attributes, Mapping):
        raise SpecificationError("attributes must map each attribute name to its columns, e.g. "
                                 "{'time': ['TRAIN_TT', 'SM_TT', 'CAR_TT']}")
    sources = {name: _per_alternative(cols, alternatives, f"attributes[{name!r}]")
               for name, cols in attributes.items()}
    for name, cols in sources.items():
        _check_known(df, cols, f"attributes[{name!r}]")
    keep_cols = _as_list(keep, "keep")
    for argument, col in (("choice", choice), ("situation", situation), ("panel", panel)):
        if col is not None and not isinstance(col, str):
            raise SpecificationError(f"{argument} must be a column name, got {col!r}")
        _check_known(df, [col], argument)
    _check_known(df, keep_cols, "keep")
    sit_name = situation if situation is not None else "chid"
    out_names = [sit_name] + ([panel] if panel else []) + list(_RESERVED) + list(sources) \
        + keep_cols
    clash = sorted({name for name in out_names if out_names.count(name) > 1})
    if clash:
        raise SpecificationError(
            f"the output would have the columns {clash} twice (the situation and panel ids, "
            f"{list(_RESERVED)}, the attributes and keep share one namespace); rename them"
        )

    if situation is not None and df[situation].duplicated().any():
        dup = df[situation][df[situation].duplicated()].tolist()[0]
        raise DataError(f"situation: the id {dup!r} of column {situation!r} is on more than one "
                        "row; in wide data each row is one choice situation")
    n, n_alt = len(df), len(alternatives)
    chosen = _choice_positions(df[choice], alternatives, choice_codes, choice)
    avail = _availability(df, availability, alternatives, n)
    is_chosen = chosen[:, None] == np.arange(n_alt)[None, :]
    bad = is_chosen & ~avail
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise DataError(
            f"availability: in {len(rows)} situations the chosen alternative is unavailable "
            f"(first at row {df.index[rows[:1]].tolist()[0]!r}: {alternatives[chosen[rows[0]]]!r}); fix the "
            "availability columns or drop those situations"
        )

    repeat = np.repeat(np.arange(n), n_alt)
    columns: dict[str, Any] = {}
    if situation is None:
        columns["chid"] = np.repeat(np.arange(1, n + 1, dtype=np.int64), n_alt)
    else:
        columns[sit_name] = df[situation].iloc[repeat].to_numpy()
    if panel:
        columns[panel] = df[panel].iloc[repeat].to_numpy()
    columns["alt"] = pd.Categorical.from_codes(np.tile(np.arange(n_alt), n),
                                               categories=pd.Index(alternatives), ordered=True)
    columns["choice"] = is_chosen.ravel().astype(np.int64)
    columns["available"] = avail.ravel().astype(np.int64)
    for name, cols in sources.items():
        columns[name] = _attribute_matrix(df, cols, avail).ravel()
    out = pd.DataFrame(columns, copy=False)   # the arrays are new: no consolidating copy
    for col in keep_cols:
        out[col] = df[col].iloc[repeat].reset_index(drop=True)
    if drop_unavailable:
        out = out.loc[out["available"].to_numpy() == 1].reset_index(drop=True)
    return out
