"""Choice-model formula terms: alternative-specific constants and covariate effects.

:func:`asc` and :func:`alt_specific` are patsy stateful transforms (plain numpy
and pandas here; :mod:`mixlogit.formula`, the only importer of patsy, puts them
in every formula's namespace). Their state is the set of alternatives seen in
the estimation data and the reference alternative, so that new data get the
same columns and the state pickles.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .exceptions import SpecificationError

__all__ = ["asc", "alt_specific", "AlternativeLevels", "ASCTransform", "AltSpecificTransform"]


class AlternativeLevels:
    """Stateful part shared by :func:`asc` and :func:`alt_specific`: the alternatives seen."""

    _name = "asc"

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._categories: list | None = None
        self.levels: tuple | None = None
        self.ref: Any = None

    def _memorize_alt(self, alt, ref) -> None:
        if isinstance(getattr(alt, "dtype", None), pd.CategoricalDtype):
            self._categories = list(alt.cat.categories)
        values = pd.Series(np.asarray(alt, dtype=object).ravel())
        self._chunks.append(values[values.notna()].unique())
        self.ref = ref

    def memorize_finish(self) -> None:
        seen = pd.unique(np.concatenate(self._chunks)) if self._chunks else np.array([])
        if self._categories is not None:
            present = set(seen.tolist())
            levels = [c for c in self._categories if c in present]
        else:
            try:
                levels = sorted(seen.tolist())
            except TypeError:
                levels = list(seen.tolist())
        self._chunks = []
        if len(levels) < 2:
            raise SpecificationError(
                f"{self._name}: the alternatives' column has {len(levels)} distinct value(s) "
                f"{levels}; alternative-specific terms need at least two alternatives"
            )
        self.levels = tuple(levels)
        self.ref = self._resolve_ref(self.ref)

    def _resolve_ref(self, ref):
        assert self.levels is not None
        if ref is None:
            return self.levels[0]
        if ref in self.levels:
            return self.levels[self.levels.index(ref)]
        as_text = [str(level) for level in self.levels]
        if str(ref) in as_text:
            return self.levels[as_text.index(str(ref))]
        raise SpecificationError(
            f"{self._name}: ref={ref!r} is not one of the alternatives "
            f"{list(self.levels)}; give ref= one of them (default: the first)"
        )

    @property
    def kept(self) -> list:
        """The non-reference alternatives, one column each, in level order."""
        assert self.levels is not None
        return [level for level in self.levels if level != self.ref]

    def _indicators(self, alt) -> tuple[np.ndarray, np.ndarray]:
        """(n, J-1) 0/1 matrix of the non-reference alternatives, and the missing mask."""
        values = np.asarray(alt, dtype=object).ravel()
        missing = pd.isna(values)
        codes = pd.Index(list(self.kept) + [self.ref], dtype=object).get_indexer(values)
        unknown = (codes < 0) & ~missing
        if unknown.any():
            bad = sorted({str(v) for v in values[unknown]})[:5]
            raise SpecificationError(
                f"{self._name}: alternatives {bad} were not seen when the model was built "
                f"(known: {list(self.levels or ())}); predict only on known alternatives"
            )
        out = (codes[:, None] == np.arange(len(self.kept))[None, :]).astype(float)
        return out, missing


class ASCTransform(AlternativeLevels):
    """The patsy stateful transform behind :func:`asc`."""

    _name = "asc"

    def memorize_chunk(self, alt, *, ref=None) -> None:
        self._memorize_alt(alt, ref)

    def transform(self, alt, *, ref=None) -> np.ndarray:
        out, missing = self._indicators(alt)
        out[missing] = np.nan
        return out


class AltSpecificTransform(AlternativeLevels):
    """The patsy stateful transform behind :func:`alt_specific`."""

    _name = "alt_specific"

    def memorize_chunk(self, x, alt, *, ref=None) -> None:
        self._memorize_alt(alt, ref)

    def transform(self, x, alt, *, ref=None) -> np.ndarray:
        try:
            xv = np.asarray(x, dtype=float).ravel()
        except (TypeError, ValueError):
            raise SpecificationError(
                "alt_specific: the covariate must be numeric; code a categorical covariate as "
                "0/1 columns first (one alt_specific term per column)"
            ) from None
        dummies, missing = self._indicators(alt)
        if len(xv) != len(dummies):
            raise SpecificationError(
                f"alt_specific: the covariate has {len(xv)} values and the alternatives "
                f"{len(dummies)}; give two columns of the same data"
            )
        out = xv[:, None] * dummies
        out[missing] = np.nan
        return out


def asc(alt, *, ref=None) -> np.ndarray:
    """Alternative-specific constants: one 0/1 column per non-reference alternative.

    In a formula (no import needed) the alternatives seen in the estimation data
    are remembered, so prediction on new data gives the same columns; the
    columns are named ``alt[gr]``, ``alt[ec]``, ... after the alternatives'
    column. ``asc(alt, ref="gc")`` is the same design as
    ``C(alt, Treatment("gc"))``.

    Parameters
    ----------
    alt : array_like
        The alternatives' labels, one per row (a pandas categorical keeps its
        order of categories; other values are sorted).
    ref : scalar, optional
        The reference alternative, whose constant is 0 (default: the first).

    Returns
    -------
    ndarray, shape (n, J - 1)

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.formula import asc
    >>> asc(["bus", "car", "train", "bus"], ref="car")
    array([[1., 0.],
           [0., 0.],
           [0., 1.],
           [1., 0.]])
    >>> df = mx.datasets.heating.load()
    >>> m = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ ic + oc + asc(alt, ref='gc') - 1", df, groups="chid", k_classes=1)
    >>> m.param_names
    ['class1:ic', 'class1:oc', 'class1:alt[gr]', 'class1:alt[ec]', 'class1:alt[er]', 'class1:alt[hp]']
    """
    transform = ASCTransform()
    transform.memorize_chunk(alt, ref=ref)
    transform.memorize_finish()
    return transform.transform(alt, ref=ref)


def alt_specific(x, alt, *, ref=None) -> np.ndarray:
    """Alternative-specific effects of a decision-maker covariate.

    A covariate constant within a choice situation (income, age) cancels in a
    logit; its effect is identified per alternative against a reference:
    column ``j`` is ``x * (alt == j)`` for each non-reference alternative
    ``j``. In a formula (no import needed) the columns are named
    ``income:alt[gr]``, ... and the alternatives are remembered for new data.

    Parameters
    ----------
    x : array_like
        Numeric covariate, one value per row.
    alt : array_like
        The alternatives' labels, one per row.
    ref : scalar, optional
        The reference alternative, whose column is left out (default: the
        first alternative).

    Returns
    -------
    ndarray, shape (n, J - 1)

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.formula import alt_specific
    >>> alt_specific([10.0, 10.0, 20.0, 20.0], ["a", "b", "a", "b"])
    array([[ 0.],
           [10.],
           [ 0.],
           [20.]])
    >>> df = mx.datasets.heating.load()
    >>> m = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ ic + oc + asc(alt) + alt_specific(income, alt) - 1", df,
    ...     groups="chid", k_classes=1)
    >>> m.param_names[-2:]
    ['class1:income:alt[er]', 'class1:income:alt[hp]']
    """
    transform = AltSpecificTransform()
    transform.memorize_chunk(x, alt, ref=ref)
    transform.memorize_finish()
    return transform.transform(x, alt, ref=ref)


# patsy's stateful-transform protocol: an attribute set on the function object
asc.__patsy_stateful_transform__ = ASCTransform  # type: ignore[attr-defined]
alt_specific.__patsy_stateful_transform__ = AltSpecificTransform  # type: ignore[attr-defined]

