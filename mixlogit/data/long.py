"""Validated, immutable long-format choice data.

:class:`ChoiceData` holds one row per (choice situation, available alternative),
in a canonical order (decision makers by id, their situations by id, the rows
of a situation by alternative id or by content), with integer codes and
offsets that let the kernels work with ``numpy.ufunc.reduceat`` instead of
Python loops. The same data in any row order give identical arrays, so a
seeded fit does not depend on how the rows were sorted; ``row_index`` maps the
rows back to the input.

Policies owned here:

* **missing values**: a missing value anywhere in a situation (choice,
  attribute, availability) drops the whole situation; a missing membership
  covariate or weight drops the whole decision maker. The count is reported in
  one :class:`~mixlogit.exceptions.DroppedObservationsWarning`.
* **weights** (one per decision maker): *frequency* weights are whole numbers,
  a decision maker counted ``w`` times (N of BIC = the sum of the weights);
  *sampling* weights (inverse selection probabilities, normalised weights) are
  rescaled to mean 1 over the decision makers with positive weight (N of BIC =
  their number) and call for robust standard errors. Without ``weights_kind``
  whole numbers are frequency weights and anything else sampling weights, with
  a :class:`~mixlogit.exceptions.WeightsWarning`.
* **duplicated rows**: with ``alternatives=`` an alternative listed twice in a
  situation is a :class:`~mixlogit.exceptions.DataError`; without it, rows
  with identical attributes in one situation raise a
  :class:`~mixlogit.exceptions.DuplicateRowsWarning`.
* **bad values** are :class:`~mixlogit.exceptions.DataError` naming the column
  and the first row: empty input, text, complex or infinite values,
  availability other than 0/1.
"""
from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..exceptions import DataError, SpecificationError
from ._build import (
    WEIGHTS_KINDS,
    availability_policy,
    canonical_order,
    check_choice_values,
    code_ids,
    decision_maker_weights,
    membership_matrix,
    missing_policy,
    read_inputs,
    situation_layout,
    warn_identical_rows,
)
from ._values import (
    WithinStatistics,
    check_within_situation_variation,
    describe_non_numeric,
    take_rows,
    within_situation_statistics,
)

__all__ = ["ChoiceData", "SortedRows", "DropReport", "describe_non_numeric", "WEIGHTS_KINDS"]

@dataclass(frozen=True)
class DropReport:
    """What construction removed, and why.

    Attributes
    ----------
    situations_missing : int
        Situations dropped for a missing choice, attribute or availability.
    decision_makers_missing : int
        Decision makers dropped for a missing membership covariate or weight.
    rows_unavailable : int
        Rows of kept situations removed as unavailable alternatives.
    rows_missing : int
        Rows removed with the dropped situations and decision makers, so that
        ``n_rows + rows_missing + rows_unavailable == n_input_rows``.
    """

    situations_missing: int = 0
    decision_makers_missing: int = 0
    rows_unavailable: int = 0
    rows_missing: int = 0

    @property
    def any_dropped(self) -> bool:
        return bool(self.situations_missing or self.decision_makers_missing)


@dataclass(frozen=True, eq=False)
class SortedRows:
    """The rows of an input-order array in the canonical order, gathered when read.

    ``rows[key]`` (a slice or an integer array of sorted-row positions) is
    ``source[index[key]]``: a new array of those rows only. The data hold this
    instead of a sorted copy of the attributes, so a fit on large data keeps
    one copy of them besides the caller's (the engine's differenced layout,
    built block by block from here). ``source`` is the input as read: the
    caller's array itself when it was float64 already (as a statsmodels model
    keeps a reference to its ``exog``; do not modify it in place afterwards).

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.data.long import SortedRows
    >>> rows = SortedRows(np.array([[1.0], [2.0], [3.0]]), np.array([2, 0, 1]))
    >>> rows.shape, rows[1:].ravel().tolist(), rows.materialize().ravel().tolist()
    ((3, 1), [1.0, 2.0], [3.0, 1.0, 2.0])
    """

    source: np.ndarray
    index: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.index.shape[0]), int(self.source.shape[1]))

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def __getitem__(self, key) -> np.ndarray:
        return self._take(self.index[key])

    def materialize(self) -> np.ndarray:
        """All rows in the canonical order, as one new C-contiguous array."""
        return self._take(self.index)

    def _take(self, positions: np.ndarray) -> np.ndarray:
        return take_rows(self.source, positions)


@dataclass(frozen=True, eq=False)
class ChoiceData:
    """Long-format choice data ready for the kernels.

    Rows are the available alternatives of every kept situation in canonical
    order: decision makers sorted by id, their situations sorted by id, and
    the rows of a situation sorted by alternative id (``alternatives=``) or
    else by their values. Construct with :meth:`from_arrays`; the fields are
    read-only arrays.

    Attributes
    ----------
    exog_rows, invariant_rows : SortedRows
        The attributes with class-specific coefficients (L columns) and those
        with a coefficient shared by all classes (Lv columns, maybe 0), read in
        canonical order without a sorted copy; :attr:`exog` and
        :attr:`exog_invariant` are the sorted arrays, built on first use.
    exog_membership : ndarray, shape (n_decision_makers, Lz)
        Decision-maker covariates of class membership, first column the constant.
    chosen : ndarray of bool, shape (n_rows,)
    situation_of_row : ndarray of int, shape (n_rows,)
        The situation of each row (built on first use from ``situation_start``).
    situation_start : ndarray of int, shape (n_situations,)
        Offset of each situation's first row.
    chosen_row : ndarray of int, shape (n_situations,)
    decision_maker_of_situation : ndarray of int, shape (n_situations,)
    decision_maker_start : ndarray of int, shape (n_decision_makers,)
        Offset of each decision maker's first situation.
    weights : ndarray, shape (n_decision_makers,)
        Weight of each decision maker (sampling weights rescaled to mean 1).
    row_index : ndarray of int, shape (n_rows,)
        Position of each row in the input.
    weights_kind : {"frequency", "sampling"}
        How the weights are read (``"frequency"`` without weights).
    alternative_ids : ndarray or None, shape (n_rows,)
        Alternative id of each row when ``alternatives=`` was given.
    """

    exog_rows: SortedRows
    invariant_rows: SortedRows
    exog_membership: np.ndarray
    chosen: np.ndarray
    situation_start: np.ndarray
    chosen_row: np.ndarray
    decision_maker_of_situation: np.ndarray
    decision_maker_start: np.ndarray
    weights: np.ndarray
    row_index: np.ndarray
    situation_ids: np.ndarray
    decision_maker_ids: np.ndarray
    exog_names: tuple[str, ...]
    invariant_names: tuple[str, ...]
    membership_names: tuple[str, ...]
    has_panel: bool
    n_input_rows: int
    dropped: DropReport = field(default_factory=DropReport)
    weights_kind: str = "frequency"
    alternative_ids: np.ndarray | None = None

    # ------------------------------------------------------------ attributes
    @cached_property
    def exog(self) -> np.ndarray:
        """Attributes with class-specific coefficients in canonical row order, (n_rows, L).

        Gathered on first use (post-estimation, the k-means start); the fit
        itself reads :attr:`exog_rows` block by block and never builds it.
        """
        return self.exog_rows.materialize()

    @cached_property
    def exog_invariant(self) -> np.ndarray:
        """Attributes with a coefficient shared by all classes, (n_rows, Lv)."""
        return self.invariant_rows.materialize()

    def input_order_design(self) -> tuple[np.ndarray, np.ndarray]:
        """The chosen flags and ``exog`` of the estimation rows in the order of the input.

        What the model hands to statsmodels as ``endog`` and ``exog``: the
        caller's attribute array itself when no row was dropped (no copy).
        """
        chosen = np.zeros(self.n_input_rows, dtype=bool)
        chosen[self.row_index] = self.chosen
        source = self.exog_rows.source
        if self.n_rows == self.n_input_rows:
            return chosen, source
        positions = np.sort(self.row_index)
        return chosen[positions], take_rows(source, positions)

    # ------------------------------------------------------------------ sizes
    @property
    def n_rows(self) -> int:
        return int(self.row_index.shape[0])

    @property
    def n_situations(self) -> int:
        return self.situation_start.shape[0]

    @property
    def n_decision_makers(self) -> int:
        return self.decision_maker_start.shape[0]

    @property
    def n_effective(self) -> float:
        """The N of information criteria and class sizes.

        The sum of the weights for frequency weights (a decision maker with
        weight 3 counts three times); the number of decision makers with a
        positive weight for sampling weights.
        """
        if self.weights_kind == "sampling":
            return float(np.count_nonzero(self.weights > 0))
        return float(self.weights.sum())

    @property
    def n_alternatives(self) -> np.ndarray:
        """Number of available alternatives in each situation."""
        return np.diff(np.append(self.situation_start, self.n_rows))

    @property
    def n_situations_per_decision_maker(self) -> np.ndarray:
        return np.diff(np.append(self.decision_maker_start, self.n_situations))

    @cached_property
    def design(self) -> np.ndarray:
        """Class-specific and invariant attributes side by side, (n_rows, L + Lv).

        Built on first use by the post-estimation code only (the likelihood's
        kernels keep their own differenced layout, see
        :mod:`mixlogit.likelihood.blocks`), so a fit holds one copy of the design.
        """
        return np.ascontiguousarray(np.hstack([self.exog, self.exog_invariant]))

    @cached_property
    def situation_of_row(self) -> np.ndarray:
        """The situation of each row, (n_rows,): built on first use (the fit needs none)."""
        return np.repeat(np.arange(self.n_situations, dtype=np.int64), self.n_alternatives)

    @cached_property
    def decision_maker_of_row(self) -> np.ndarray:
        return self.decision_maker_of_situation[self.situation_of_row]

    def within_statistics(self) -> WithinStatistics:
        """The additive statistics of the within-situation identification check.

        Examples
        --------
        >>> import mixlogit as mx
        >>> from mixlogit.data._values import judge_within_situation
        >>> df = mx.datasets.electricity.load()
        >>> d = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ pf + cl - 1", df, groups="chid", panel="id", k_classes=1).choice_data
        >>> judge_within_situation(d.within_statistics(), d.exog_names)   # identified: no error
        """
        return within_situation_statistics(self.exog_rows, self.invariant_rows,
                                           self.situation_start)

    def with_weights(self, weights: np.ndarray) -> ChoiceData:
        """The same data with other weights of the same kind (used by the bootstrap)."""
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (self.n_decision_makers,):
            raise DataError(
                f"weights must have one entry per decision maker ({self.n_decision_makers}), "
                f"got shape {weights.shape}"
            )
        new = copy.copy(self)
        object.__setattr__(new, "weights", weights)
        return new

    # ---------------------------------------------------------- construction
    @classmethod
    def from_arrays(
        cls,
        endog,
        exog,
        *,
        groups,
        panel=None,
        exog_invariant=None,
        exog_membership=None,
        weights=None,
        weights_kind: str | None = None,
        availability=None,
        alternatives=None,
        exog_names: Sequence[str] | None = None,
        invariant_names: Sequence[str] | None = None,
        membership_names: Sequence[str] | None = None,
        argument_names: dict[str, str] | None = None,
        check_identification: bool = True,
    ) -> ChoiceData:
        """Validate long-format arrays and build the sorted, coded data.

        Parameters
        ----------
        endog : array_like, shape (n,)
            1 for the chosen alternative of each situation, 0 otherwise.
        exog : array_like, shape (n, L)
            Attributes with class-specific coefficients.
        groups : array_like, shape (n,)
            Choice-situation id of each row.
        panel : array_like, shape (n,), optional
            Decision-maker id of each row; without it every situation is its own
            decision maker.
        exog_invariant : array_like, shape (n, Lv), optional
            Attributes whose coefficient is shared by all classes.
        exog_membership : array_like, shape (n, Lz), optional
            Decision-maker covariates of class membership (constant within a
            decision maker); the constant is added as the first column.
        weights : array_like, shape (n,), optional
            Weight of each decision maker, repeated on its rows.
        weights_kind : {"frequency", "sampling"}, optional
            ``"frequency"``: whole numbers, a decision maker counted ``w``
            times. ``"sampling"``: survey weights, rescaled to mean 1 over the
            decision makers with positive weight (robust standard errors are
            then the model's default). Default: frequency if every weight is a
            whole number, else sampling with a
            :class:`~mixlogit.exceptions.WeightsWarning`.
        availability : array_like, shape (n,), optional
            1 where the alternative is available, 0 where it is not (removed
            from the choice set); a missing value drops the situation.
        alternatives : array_like, shape (n,), optional
            Alternative id of each row: an alternative listed twice in one
            situation is an error, and rows are ordered by it.
        exog_names, invariant_names, membership_names : sequence of str, optional
            Column names (taken from DataFrame columns when available).
        argument_names : dict, optional
            How to name the arguments in error messages (the formula interface
            passes the user's column names).
        check_identification : bool
            Check that the attributes vary within situations (rank of the
            within-situation design). Partitioned data switch it off and check
            once on the sum of every partition's
            :meth:`within_statistics` instead, so a partition without variation
            is not a false alarm.

        Returns
        -------
        ChoiceData

        Raises
        ------
        DataError
            Empty input, text, complex or infinite values, missing ids, an
            availability other than 0/1, a situation without exactly one
            chosen alternative, an alternative listed twice, bad weights.
        SpecificationError
            Attributes not identified, membership covariates varying within a
            decision maker, an unknown ``weights_kind``.

        Examples
        --------
        >>> import numpy as np
        >>> from mixlogit.data import ChoiceData
        >>> d = ChoiceData.from_arrays(
        ...     [0, 1, 1, 0], np.array([[1.0], [2.0], [0.5], [3.0]]),
        ...     groups=[7, 7, 3, 3], alternatives=["a", "b", "a", "b"])
        >>> d.situation_ids.tolist(), d.row_index.tolist()
        ([3, 7], [2, 3, 0, 1])
        >>> d.weights_kind, d.n_effective
        ('frequency', 2.0)
        """
        names = {"endog": "endog", "groups": "groups", "panel": "panel", "weights": "weights",
                 "availability": "availability", "alternatives": "alternatives"}
        names.update({k: v for k, v in (argument_names or {}).items() if v is not None})
        if weights_kind is not None and weights_kind not in WEIGHTS_KINDS:
            raise SpecificationError(
                f"weights_kind={weights_kind!r}; use 'frequency' (whole numbers: a decision "
                "maker counted w times), 'sampling' (survey weights) or None (inferred)")
        if weights_kind is not None and weights is None:
            raise SpecificationError(f"weights_kind={weights_kind!r} needs weights")
        raw = read_inputs(endog, exog, groups, panel, exog_invariant, exog_membership, weights,
                           availability, alternatives, exog_names, invariant_names,
                           membership_names, names)
        ids = code_ids(raw, names)
        keep, report = missing_policy(raw, ids)
        keep, n_unavailable = availability_policy(raw, ids, keep, names)
        check_choice_values(raw.y if keep.all() else raw.y[keep], names)
        order, pairs, s_sorted = canonical_order(raw, ids, keep)
        lay = situation_layout(raw, ids, order, s_sorted, names)
        alternative_ids = (None if ids.alt is None or ids.alt_labels is None
                           else ids.alt_labels[ids.alt[order]])
        del s_sorted, ids, keep   # the codes are not needed any more: free them before the checks
        Xs, Vs = SortedRows(raw.X, order), SortedRows(raw.V, order)
        if alternative_ids is None:
            warn_identical_rows(Xs, Vs, lay.sit_start, lay.sit_labels, pairs, lay.sit_of_row)
        if check_identification:
            check_within_situation_variation(Xs, Vs, raw.xnames, raw.vnames, lay.sit_start,
                                             lay.sit_of_row)
        Z = membership_matrix(raw, order, lay.dm_row_start, names)
        wd, kind = decision_maker_weights(raw, order, lay.dm_row_start, weights_kind, names)
        return cls(
            exog_rows=Xs, invariant_rows=Vs, exog_membership=Z, chosen=lay.y_sorted,
            situation_start=lay.sit_start,
            chosen_row=np.flatnonzero(lay.y_sorted), decision_maker_of_situation=lay.dm_of_sit,
            decision_maker_start=lay.dm_start, weights=wd, row_index=order,
            situation_ids=np.asarray(lay.sit_labels), decision_maker_ids=np.asarray(lay.dm_labels),
            exog_names=tuple(raw.xnames), invariant_names=tuple(raw.vnames),
            membership_names=("Intercept",) + tuple(raw.znames), has_panel=raw.p is not None,
            n_input_rows=raw.n,
            dropped=DropReport(report[0], report[1], n_unavailable, report[2]),
            weights_kind=kind,
            alternative_ids=alternative_ids,
        )

