"""Deterministic samples of decision makers, for starts on large data.

A decision maker is in the sample when a hash of its id and the seed falls
below the sampling fraction: the same sample whatever the row order or the
partitioning of the data, so a seeded fit on partitioned data starts where the
same fit on one machine starts.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.long import ChoiceData

__all__ = ["sample_mask", "subset_decision_makers"]

#: 2**64 / golden ratio: spreads the seeds over the 64-bit range before hashing
_GOLDEN = 0x9E3779B97F4A7C15


def sample_mask(ids: np.ndarray, seed: int, fraction: float) -> np.ndarray:
    """Deterministic sample of ids: a hash of (id, seed) below ``fraction`` of its range.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.likelihood.sampling import sample_mask
    >>> ids = np.arange(1000)
    >>> m = sample_mask(ids, 0, 0.3)
    >>> bool(0.2 < m.mean() < 0.4), bool(np.array_equal(sample_mask(ids[::-1], 0, 0.3), m[::-1]))
    (True, True)
    """
    if fraction >= 1.0:
        return np.ones(len(ids), bool)
    values = np.asarray(ids)
    if values.dtype.kind in "iu":  # integer ids: hashed as numbers (fast), the seed mixed in
        offset = np.uint64((int(seed) * _GOLDEN) % 2 ** 64)
        with np.errstate(over="ignore"):
            hashed = pd.util.hash_array(values.astype(np.int64).view(np.uint64) + offset)
    else:  # any other ids by their text
        key = f"{seed:016x}"[-16:]
        hashed = pd.util.hash_array(np.asarray(values, dtype=object).astype(str), hash_key=key)
    return (hashed >> np.uint64(11)).astype(float) * 2.0 ** -53 < fraction


def subset_decision_makers(data: ChoiceData, units: np.ndarray) -> ChoiceData:
    """The same data restricted to the decision makers at positions ``units``.

    Built through :meth:`ChoiceData.from_arrays` from the public arrays, so the
    subset is validated like any data set. Works from the situations, so its
    temporaries are of the subset's size, not of the data's.
    """
    units = np.asarray(units)
    sits = np.flatnonzero(np.isin(data.decision_maker_of_situation, units))
    first = np.asarray(data.situation_start)[sits]
    n_alt = data.n_alternatives[sits]
    offset = np.repeat(np.cumsum(n_alt) - n_alt, n_alt)
    rows = np.arange(int(n_alt.sum())) - offset + np.repeat(first, n_alt)
    dm_of_row = np.repeat(np.asarray(data.decision_maker_of_situation)[sits], n_alt)
    membership = data.exog_membership[dm_of_row][:, 1:]
    return ChoiceData.from_arrays(
        data.chosen[rows].astype(float), data.exog_rows[rows],
        groups=np.repeat(sits, n_alt), panel=data.decision_maker_ids[dm_of_row],
        exog_invariant=data.invariant_rows[rows] if data.invariant_rows.shape[1] else None,
        exog_membership=membership if membership.shape[1] else None,
        weights=np.asarray(data.weights)[dm_of_row],
        exog_names=list(data.exog_names), invariant_names=list(data.invariant_names),
        membership_names=list(data.membership_names[1:]))
