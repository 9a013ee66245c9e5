"""Validated candidates and counts of the counts form (one shared candidate set).

The ``p`` candidates with features ``x_1..x_p`` are shared by ``N`` independent
draws from a softmax mixture; only the counts ``n_j`` are kept. The candidates
double as decision-maker *types* of the long form (type ``j``: the draws that
chose candidate ``j``), which is how the likelihood layer treats them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import DataError, SpecificationError
from .whitening import whiten

__all__ = ["CountsData"]


# --------------------------------------------------------------------------- data
@dataclass(frozen=True, eq=False)
class CountsData:
    """Candidates and counts of the counts form, read-only.

    The ``p`` candidates double as the decision-maker *types* of the long form
    (type ``j``: the draws that chose candidate ``j``), so the attributes the
    results object reads from a long-format :class:`~mixlogit.data.ChoiceData`
    exist here with that meaning: ``n_rows``, ``n_situations`` and
    ``n_decision_makers`` are all ``p``, ``weights`` are the counts, and
    ``n_alternatives`` is ``p`` for every type. The number of draws
    ``N = counts.sum()`` is :attr:`n_draws`; it is the ``N`` of BIC and CAIC
    (``results.n_effective``).

    Attributes
    ----------
    features : ndarray, shape (p, L)
        Candidate features.
    counts : ndarray, shape (p,)
        Number of draws that chose each candidate (non-negative, may be fractional).
    exog_names : tuple of str
        Feature (coefficient) names.
    candidate_ids : ndarray, shape (p,)
        Labels of the candidates (the index of a features DataFrame, else 0..p-1).
    """

    features: np.ndarray
    counts: np.ndarray
    exog_names: tuple[str, ...]
    candidate_ids: np.ndarray
    invariant_names: tuple[str, ...] = ()
    membership_names: tuple[str, ...] = ("Intercept",)
    has_panel: bool = False
    weights: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", self.counts)
        for arr in (self.features, self.counts):
            arr.setflags(write=False)

    # ---------------------------------------------------------------- sizes
    @property
    def n_candidates(self) -> int:
        """Number of candidates ``p``."""
        return int(self.features.shape[0])

    @property
    def n_features(self) -> int:
        """Number of features ``L``."""
        return int(self.features.shape[1])

    @property
    def n_draws(self) -> float:
        """Number of draws ``N = counts.sum()``."""
        return float(self.counts.sum())

    @property
    def n_effective(self) -> float:
        """The N of BIC: the number of draws (counts are frequency weights)."""
        return self.n_draws

    #: counts are frequency weights: a candidate's count is how many draws chose it
    weights_kind = "frequency"

    @property
    def n_rows(self) -> int:
        """``p``: one row per candidate (the ``p x p`` long form is never built)."""
        return self.n_candidates

    @property
    def n_situations(self) -> int:
        """``p``: one choice situation per decision-maker type."""
        return self.n_candidates

    @property
    def n_decision_makers(self) -> int:
        """``p`` decision-maker types (weighted by the counts; ``N`` is :attr:`n_draws`)."""
        return self.n_candidates

    @property
    def n_alternatives(self) -> np.ndarray:
        """Every type chooses among all ``p`` candidates."""
        return np.full(self.n_candidates, self.n_candidates)

    @property
    def n_situations_per_decision_maker(self) -> np.ndarray:
        return np.ones(self.n_candidates, dtype=np.int64)

    @property
    def decision_maker_of_situation(self) -> np.ndarray:
        return np.arange(self.n_candidates)

    @property
    def decision_maker_ids(self) -> np.ndarray:
        return self.candidate_ids

    @property
    def situation_ids(self) -> np.ndarray:
        return self.candidate_ids

    @property
    def exog(self) -> np.ndarray:
        return self.features

    @property
    def exog_invariant(self) -> np.ndarray:
        return np.empty((self.n_candidates, 0))

    @property
    def exog_membership(self) -> np.ndarray:
        """The constant, one row per type (no membership covariates in the counts form)."""
        return np.ones((self.n_candidates, 1))

    def with_weights(self, weights: np.ndarray) -> CountsData:
        """The same candidates with other counts (for example a bootstrap replicate)."""
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (self.n_candidates,):
            raise DataError(f"weights must have one entry per candidate ({self.n_candidates}), "
                            f"got shape {weights.shape}")
        return CountsData(self.features, weights.copy(), self.exog_names, self.candidate_ids)

    # ---------------------------------------------------------- construction
    @classmethod
    def from_arrays(cls, counts, features, *, feature_names: Sequence[str] | None = None
                    ) -> CountsData:
        """Validate counts and features.

        Parameters
        ----------
        counts : array_like or Series, shape (p,)
            Non-negative counts; a Series is aligned on the features' index when
            both carry one.
        features : array_like or DataFrame, shape (p, L)
            Candidate features; a DataFrame's columns name the coefficients and
            its index labels the candidates.
        feature_names : sequence of str, optional
            Names of the features (default: DataFrame columns, else ``x1..xL``).

        Returns
        -------
        CountsData

        Raises
        ------
        DataError
            Non-numeric, non-finite or negative values, mismatched lengths or
            labels, no draws, or features whose covariance over the candidates
            is singular (a constant column, or collinear columns: their
            coefficients are not identified in a softmax).
        """
        ids = None
        if isinstance(features, pd.DataFrame):
            if feature_names is None:
                feature_names = [str(c) for c in features.columns]
            ids = features.index
            features = features.to_numpy()
        try:
            X = np.array(features, dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataError(f"features must be a numeric p x L array: {exc}") from None
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[0] < 2:
            raise DataError(f"features must be a p x L array with p >= 2 candidates, got shape "
                            f"{X.shape}")
        p, L = X.shape
        if isinstance(counts, pd.Series):
            if ids is not None and not counts.index.equals(ids):
                if len(counts) == p and counts.index.is_unique and set(counts.index) == set(ids):
                    counts = counts.reindex(ids)
                else:
                    raise DataError("the index of counts does not match the index of features; "
                                    "give counts for exactly the feature rows")
            elif ids is None:
                ids = counts.index
            counts = counts.to_numpy()
        try:
            n = np.array(counts, dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataError(f"counts must be numeric: {exc}") from None
        if n.ndim != 1 or n.shape[0] != p:
            raise DataError(f"counts must have one entry per candidate ({p}), got shape {n.shape}")
        if not np.all(np.isfinite(n)) or np.any(n < 0):
            raise DataError("counts must be finite and non-negative")
        if n.sum() <= 0:
            raise DataError("counts sum to zero: there are no draws")
        if not np.all(np.isfinite(X)):
            bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
            raise DataError(f"features have non-finite values in {bad.size} row(s), first at "
                            f"row {bad[0]}; drop those candidates or fill the values")
        if feature_names is None:
            feature_names = [f"x{j + 1}" for j in range(L)]
        names = tuple(str(s) for s in feature_names)
        if len(names) != L:
            raise SpecificationError(f"{len(names)} feature names for {L} columns")
        if len(set(names)) != L:
            raise SpecificationError(f"feature names must be unique, got {list(names)}")
        whiten(X, names=names)  # raises DataError on a singular feature covariance
        ids_arr = np.arange(p) if ids is None else np.asarray(ids)
        return cls(features=X, counts=n, exog_names=names, candidate_ids=ids_arr)


