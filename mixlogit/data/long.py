"""Validated, immutable long-format choice data.

:class:`ChoiceData` holds one row per (choice situation, available alternative),
sorted by decision maker and situation, with integer codes and offsets that
let the kernels work with ``numpy.ufunc.reduceat`` instead of Python loops.
It also owns the missing-value policy: a missing value anywhere in a situation
drops the whole situation (a missing membership covariate or weight drops the
whole decision maker), and the count is reported in a
:class:`~mixlogit.exceptions.DroppedObservationsWarning`.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from ..exceptions import DataError, DroppedObservationsWarning, SpecificationError, warn
from ..kernels import make_blocks

__all__ = ["ChoiceData", "DropReport"]


@dataclass(frozen=True)
class DropReport:
    """What construction removed, and why."""

    situations_missing: int = 0
    decision_makers_missing: int = 0
    rows_unavailable: int = 0

    @property
    def any_dropped(self) -> bool:
        return bool(self.situations_missing or self.decision_makers_missing)


@dataclass(frozen=True, eq=False)
class ChoiceData:
    """Long-format choice data ready for the kernels.

    Rows are the available alternatives of every kept situation, sorted by
    decision maker, then situation (stable with respect to the input order).
    Construct with :meth:`from_arrays`; the fields are read-only arrays.

    Attributes
    ----------
    exog : ndarray, shape (n_rows, L)
        Attributes with class-specific coefficients.
    exog_invariant : ndarray, shape (n_rows, Lv)
        Attributes with a coefficient shared by all classes (Lv may be 0).
    exog_membership : ndarray, shape (n_decision_makers, Lz)
        Decision-maker covariates of class membership, first column the constant.
    chosen : ndarray of bool, shape (n_rows,)
    situation_of_row : ndarray of int, shape (n_rows,)
    situation_start : ndarray of int, shape (n_situations,)
        Offset of each situation's first row.
    chosen_row : ndarray of int, shape (n_situations,)
    decision_maker_of_situation : ndarray of int, shape (n_situations,)
    decision_maker_start : ndarray of int, shape (n_decision_makers,)
        Offset of each decision maker's first situation.
    weights : ndarray, shape (n_decision_makers,)
        Frequency weights per decision maker.
    row_index : ndarray of int, shape (n_rows,)
        Position of each row in the input.
    """

    exog: np.ndarray
    exog_invariant: np.ndarray
    exog_membership: np.ndarray
    chosen: np.ndarray
    situation_of_row: np.ndarray
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

    # ------------------------------------------------------------------ sizes
    @property
    def n_rows(self) -> int:
        return self.exog.shape[0]

    @property
    def n_situations(self) -> int:
        return self.situation_start.shape[0]

    @property
    def n_decision_makers(self) -> int:
        return self.decision_maker_start.shape[0]

    @property
    def n_alternatives(self) -> np.ndarray:
        """Number of available alternatives in each situation."""
        return np.diff(np.append(self.situation_start, self.n_rows))

    @property
    def n_situations_per_decision_maker(self) -> np.ndarray:
        return np.diff(np.append(self.decision_maker_start, self.n_situations))

    @cached_property
    def design(self) -> np.ndarray:
        """Class-specific and invariant attributes side by side, (n_rows, L + Lv)."""
        return np.ascontiguousarray(np.hstack([self.exog, self.exog_invariant]))

    @cached_property
    def design_t(self) -> np.ndarray:
        """The joint design transposed, (L + Lv, n_rows), C-contiguous (for the kernels)."""
        return np.ascontiguousarray(self.design.T)

    @cached_property
    def decision_maker_of_row(self) -> np.ndarray:
        return self.decision_maker_of_situation[self.situation_of_row]

    @cached_property
    def blocks(self) -> list:
        """Blocks of whole situations for the kernels (built once)."""
        return make_blocks(self.situation_start, self.chosen_row, self.n_rows)

    @cached_property
    def decision_maker_summer(self) -> sparse.csr_matrix:
        """Sparse (decision makers x situations) matrix of ones: per-person sums."""
        S, N = self.n_situations, self.n_decision_makers
        return sparse.csr_matrix((np.ones(S), np.arange(S), np.append(self.decision_maker_start, S)),
                                 shape=(N, S))

    def with_weights(self, weights: np.ndarray) -> "ChoiceData":
        """The same data with other frequency weights (used by the bootstrap)."""
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
        availability=None,
        exog_names: Sequence[str] | None = None,
        invariant_names: Sequence[str] | None = None,
        membership_names: Sequence[str] | None = None,
        argument_names: dict[str, str] | None = None,
    ) -> "ChoiceData":
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
            Frequency weight of each decision maker, repeated on its rows.
        availability : array_like, shape (n,), optional
            1 where the alternative is available; unavailable rows are removed
            from the choice set.
        exog_names, invariant_names, membership_names : sequence of str, optional
            Column names (taken from DataFrame columns when available).
        argument_names : dict, optional
            How to name the arguments in error messages (the formula interface
            passes the user's column names).

        Returns
        -------
        ChoiceData
        """
        names = {"endog": "endog", "groups": "groups", "panel": "panel",
                 "weights": "weights", "availability": "availability"}
        names.update(argument_names or {})

        y = _as_vector(endog, names["endog"])
        n = y.shape[0]
        X, xnames = _as_matrix(exog, "exog", n, exog_names, prefix="x")
        V, vnames = _as_matrix(exog_invariant, "invariant", n, invariant_names, prefix="v")
        Zraw, znames = _as_matrix(exog_membership, "membership", n, membership_names, prefix="z")
        g = _as_ids(groups, names["groups"], n)
        p = _as_ids(panel, names["panel"], n) if panel is not None else None
        w = _as_vector(weights, names["weights"], n) if weights is not None else None
        av = _as_vector(availability, names["availability"], n) if availability is not None else None

        for arr, label in ((X, "exog"), (V, "invariant attributes"), (Zraw, "membership covariates"),
                           (y, names["endog"]), (w, names["weights"]), (av, names["availability"])):
            if arr is not None and np.isinf(arr).any():
                raise DataError(
                    f"{label} contain infinite values; replace them with finite numbers "
                    "(or NaN to drop the affected situations)"
                )

        # ---- codes for situations and decision makers
        sit_codes, sit_labels = pd.factorize(g, sort=False)
        if p is None:
            dm_codes, dm_labels = sit_codes, sit_labels
        else:
            dm_codes, dm_labels = pd.factorize(p, sort=False)
            first_dm = np.full(len(sit_labels), -1)
            first_dm[sit_codes] = dm_codes
            if np.any(first_dm[sit_codes] != dm_codes):
                bad = np.unique(sit_labels[sit_codes[first_dm[sit_codes] != dm_codes]])
                raise DataError(
                    f"choice situations {bad[:5].tolist()} belong to more than one decision maker: "
                    f"every row of a situation ('{names['groups']}') must carry the same "
                    f"'{names['panel']}' id"
                )

        # ---- missing values: whole situations, or whole decision makers
        row_missing = np.isnan(y) | np.isnan(X).any(axis=1) | np.isnan(V).any(axis=1)
        if av is not None:
            row_missing |= np.isnan(av)
        sit_missing = np.zeros(len(sit_labels), dtype=bool)
        if row_missing.any():
            sit_missing[sit_codes[row_missing]] = True
        dm_missing = np.zeros(len(dm_labels), dtype=bool)
        dm_row_missing = np.isnan(Zraw).any(axis=1)
        if w is not None:
            dm_row_missing |= np.isnan(w)
        if dm_row_missing.any():
            dm_missing[dm_codes[dm_row_missing]] = True
        n_sit_missing = int(sit_missing.sum())
        dm_drop_sits = dm_missing[dm_codes] & ~sit_missing[sit_codes]
        n_dm_missing = int(dm_missing.sum())
        keep = ~(sit_missing[sit_codes] | dm_missing[dm_codes])
        if n_sit_missing or n_dm_missing:
            parts = []
            if n_sit_missing:
                parts.append(f"{n_sit_missing} choice situation(s) with missing values in the "
                             "choices or attributes")
            if n_dm_missing:
                n_extra = len(np.unique(sit_codes[dm_drop_sits]))
                parts.append(f"{n_dm_missing} decision maker(s) with missing membership "
                             f"covariates or weights ({n_extra} further situation(s))")
            warn("dropped " + " and ".join(parts) + f"; {int((~keep).sum())} of {n} rows removed",
                 DroppedObservationsWarning)
            if not keep.any():
                raise DataError("no choice situation is left after dropping missing values")

        # ---- availability
        n_unavailable = 0
        if av is not None:
            if not np.isin(av[keep], (0.0, 1.0)).all():
                raise DataError(f"'{names['availability']}' must be 0 or 1 (or boolean)")
            unavailable = keep & (av == 0)
            if np.any(unavailable & (y == 1)):
                bad = np.unique(sit_labels[sit_codes[unavailable & (y == 1)]])
                raise DataError(
                    f"{len(bad)} situation(s) choose an alternative marked unavailable in "
                    f"'{names['availability']}' (first: {bad[:5].tolist()}); correct the "
                    "availability or the choice"
                )
            n_unavailable = int(unavailable.sum())
            keep &= ~unavailable

        # ---- choices
        yk = y[keep]
        if not np.isin(yk, (0.0, 1.0)).all():
            raise DataError(
                f"'{names['endog']}' must be 1 for the chosen alternative and 0 otherwise "
                f"(found values {np.unique(yk[~np.isin(yk, (0.0, 1.0))])[:5].tolist()})"
            )
        # sort: decision makers in order of first appearance, then their situations in
        # order of first appearance, then rows as given
        idx = np.flatnonzero(keep)
        dm_first_pos = np.full(len(dm_labels), np.iinfo(np.int64).max)
        np.minimum.at(dm_first_pos, dm_codes[idx], idx)
        sit_first_pos = np.full(len(sit_labels), np.iinfo(np.int64).max)
        np.minimum.at(sit_first_pos, sit_codes[idx], idx)
        order = idx[np.lexsort((idx, sit_first_pos[sit_codes[idx]], dm_first_pos[dm_codes[idx]]))]

        s_sorted = sit_codes[order]
        new_sit = np.r_[True, s_sorted[1:] != s_sorted[:-1]]
        sit_start = np.flatnonzero(new_sit)
        sit_of_row = np.cumsum(new_sit) - 1
        sit_label_sorted = sit_labels[s_sorted[sit_start]]
        n_alts = np.diff(np.append(sit_start, len(order)))
        y_sorted = y[order] == 1
        n_chosen = np.add.reduceat(y_sorted.astype(np.int64), sit_start)
        if np.any(n_chosen != 1):
            none = sit_label_sorted[n_chosen == 0]
            many = sit_label_sorted[n_chosen > 1]
            msg = []
            if len(none):
                msg.append(f"{len(none)} situation(s) with no chosen alternative (first: {none[:5].tolist()})")
            if len(many):
                msg.append(f"{len(many)} situation(s) with more than one chosen alternative "
                           f"(first: {many[:5].tolist()})")
            raise DataError(
                "every choice situation needs exactly one chosen alternative in "
                f"'{names['endog']}': " + "; ".join(msg)
                + f". Check the coding of '{names['endog']}' and the situation id '{names['groups']}'"
            )
        if np.any(n_alts < 2):
            single = sit_label_sorted[n_alts < 2]
            extra = (f" after removing unavailable alternatives ('{names['availability']}')"
                     if av is not None else "")
            raise DataError(
                f"{len(single)} situation(s) have a single alternative{extra} (first: "
                f"{single[:5].tolist()}); they carry no information about preferences: "
                "remove them from the data"
            )
        chosen_row = np.flatnonzero(y_sorted)

        d_sorted = dm_codes[order][sit_start]
        new_dm = np.r_[True, d_sorted[1:] != d_sorted[:-1]]
        dm_start = np.flatnonzero(new_dm)
        dm_of_sit = np.cumsum(new_dm) - 1
        dm_label_sorted = dm_labels[d_sorted[dm_start]]
        dm_row_start = sit_start[dm_start]

        Xs = np.ascontiguousarray(X[order])
        Vs = np.ascontiguousarray(V[order])
        _check_within_situation_variation(Xs, Vs, xnames, vnames, sit_start, sit_of_row)

        # ---- membership covariates and weights, one value per decision maker
        Z = np.ones((len(dm_start), 1 + Zraw.shape[1]))
        if Zraw.shape[1]:
            Zs = Zraw[order]
            varies = np.maximum.reduceat(Zs, dm_row_start, axis=0) != np.minimum.reduceat(Zs, dm_row_start, axis=0)
            if varies.any():
                cols = [znames[j] for j in np.flatnonzero(varies.any(axis=0))]
                raise SpecificationError(
                    f"membership covariates {cols} vary within decision makers "
                    f"('{names['panel']}'); class membership is a trait of the decision maker, "
                    "so use covariates constant within each decision maker (for example their "
                    "first or mean value)"
                )
            Z[:, 1:] = Zs[dm_row_start]
        if w is None:
            wd = np.ones(len(dm_start))
        else:
            ws = w[order]
            if np.any(np.maximum.reduceat(ws, dm_row_start) != np.minimum.reduceat(ws, dm_row_start)):
                raise DataError(
                    f"'{names['weights']}' must be constant within each decision maker: they are "
                    "frequency weights of decision makers"
                )
            wd = ws[dm_row_start]
            if np.any(wd < 0):
                raise DataError(f"'{names['weights']}' must be non-negative")
            if not np.any(wd > 0):
                raise DataError(f"'{names['weights']}' are all zero")

        return cls(
            exog=Xs,
            exog_invariant=Vs,
            exog_membership=Z,
            chosen=y_sorted,
            situation_of_row=sit_of_row,
            situation_start=sit_start,
            chosen_row=chosen_row,
            decision_maker_of_situation=dm_of_sit,
            decision_maker_start=dm_start,
            weights=wd,
            row_index=order,
            situation_ids=np.asarray(sit_label_sorted),
            decision_maker_ids=np.asarray(dm_label_sorted),
            exog_names=tuple(xnames),
            invariant_names=tuple(vnames),
            membership_names=("Intercept",) + tuple(znames),
            has_panel=panel is not None,
            n_input_rows=n,
            dropped=DropReport(n_sit_missing, n_dm_missing, n_unavailable),
        )


# ------------------------------------------------------------------ helpers
def _numeric(values, label: str) -> np.ndarray:
    try:
        arr = np.asarray(values)
        if arr.dtype == bool:
            return arr.astype(float)
        if arr.dtype.kind not in "biuf":
            arr = pd.DataFrame(arr).apply(pd.to_numeric, errors="raise").to_numpy(float) \
                if arr.ndim == 2 else pd.to_numeric(pd.Series(arr), errors="raise").to_numpy(float)
        return np.asarray(arr, dtype=float)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"{label} must be numeric; convert text or categorical columns first "
            f"(with a formula, C(column) makes dummies): {exc}"
        ) from None


def _as_vector(values, label: str, n: int | None = None) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.DataFrame)):
        values = values.to_numpy()
    arr = _numeric(values, f"'{label}'")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"'{label}' must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise DataError(f"'{label}' has {arr.shape[0]} rows but endog has {n}")
    return arr


def _as_matrix(values, label: str, n: int, names, prefix: str) -> tuple[np.ndarray, list[str]]:
    if values is None:
        return np.empty((n, 0)), []
    if isinstance(values, pd.Series):
        values = values.to_frame()
    if isinstance(values, pd.DataFrame):
        if names is None:
            names = [str(c) for c in values.columns]
        values = values.to_numpy()
    arr = _numeric(values, label)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n:
        raise DataError(f"{label} must have shape ({n}, columns), got {arr.shape}")
    if names is None:
        names = [f"{prefix}{j + 1}" for j in range(arr.shape[1])]
    names = [str(s) for s in names]
    if len(names) != arr.shape[1]:
        raise SpecificationError(f"{label}: {len(names)} names for {arr.shape[1]} columns")
    if len(set(names)) != len(names):
        raise SpecificationError(f"{label}: column names must be unique, got {names}")
    return arr, names


def _as_ids(values, label: str, n: int) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise DataError(f"'{label}' must be one id per row ({n}), got shape {arr.shape}")
    if pd.isna(arr).any():
        raise DataError(f"'{label}' has missing ids; every row needs an id")
    return arr


def _check_within_situation_variation(X, V, xnames, vnames, sit_start, sit_of_row) -> None:
    """Raise if a column or a combination of columns is constant within every situation."""
    W = np.hstack([X, V])
    names = list(xnames) + list(vnames)
    if W.shape[1] == 0:
        raise SpecificationError("the model has no attributes: give at least one column in exog")
    counts = np.diff(np.append(sit_start, W.shape[0]))
    means = np.add.reduceat(W, sit_start, axis=0) / counts[:, None]
    Wc = W - means[sit_of_row]
    scale = np.sqrt(((W - W.mean(axis=0)) ** 2).sum(axis=0))
    within = np.sqrt((Wc ** 2).sum(axis=0))
    constant = within <= 1e-10 * np.maximum(scale, 1.0)
    if constant.any():
        cols = [names[j] for j in np.flatnonzero(constant)]
        raise SpecificationError(
            f"{cols} do not vary within any choice situation, so their coefficients are not "
            "identified (a term common to all alternatives cancels in the logit); remove them "
            "from the utility, or interact them with alternative-specific terms (for example "
            "income:C(alt)), or use them as membership covariates"
        )
    Wn = Wc / within
    gram = Wn.T @ Wn
    eigval, eigvec = np.linalg.eigh(gram)
    tol = 1e-10 * max(eigval[-1], 1.0) * W.shape[1]
    if eigval[0] <= tol:
        null = eigvec[:, eigval <= tol]
        involved = np.abs(null).max(axis=1) > 1e-6
        cols = [names[j] for j in np.flatnonzero(involved)]
        raise SpecificationError(
            f"a combination of {cols} is constant within every choice situation (the "
            "within-situation attribute matrix has rank "
            f"{int((eigval > tol).sum())} < {W.shape[1]}), so the coefficients are not "
            "identified; drop one of these columns, or use a reference alternative for "
            "alternative-specific constants"
        )
