"""The choice sets behind a mixture likelihood's class probabilities, for either data form.

The diagnostics (effective alternatives, within-situation variation, choice
degrees of freedom, panel length) and the elasticities need to know which rows
of ``likelihood.class_probabilities(params)`` form one choice set and which
units face it. That is the one thing the
:class:`~mixlogit.likelihood.MixtureLikelihood` interface does not say;
:func:`choice_sets` reads it from the data, keyed by ``likelihood.form``, in
this one place.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .exceptions import SpecificationError

__all__ = ["ChoiceSets", "choice_sets", "within_situation_check"]


@dataclass(frozen=True, eq=False)
class ChoiceSets:
    """The choice sets behind a likelihood's class probabilities, whatever the data form.

    Long form: one set per choice situation, faced by one decision maker.
    Counts form: one set (the ``p`` candidates) faced by every unit.

    Attributes
    ----------
    design : ndarray, shape (n_rows, L + Lv)
        Attributes of the rows of ``likelihood.class_probabilities``.
    set_start : ndarray of int, shape (S,)
        Offset of each set's first row (rows are grouped by set).
    unit_of_set : ndarray of int, shape (S,), or None
        The unit facing each set; None when every unit faces the one set.
    situations_per_unit : ndarray or None
        Choice situations of each unit; None where panel length has no meaning.
    choice_dof : int
        Free choice probabilities the data can identify, ``sum_s (J_s - 1)``.
    unit_label : str
        What a unit of weight 1 is (``"decision makers"`` or ``"draws"``).
    row_index : ndarray of int, shape (n_rows,)
        Position of each row in the model's input rows.
    n_input_rows : int
        Number of input rows (rows dropped on input have no position).
    row_labels : ndarray or None
        Alternative label of each row when the data define them (the candidate
        ids of the counts form), else None.
    """

    design: np.ndarray
    set_start: np.ndarray
    unit_of_set: np.ndarray | None
    situations_per_unit: np.ndarray | None
    choice_dof: int
    unit_label: str
    row_index: np.ndarray
    n_input_rows: int
    row_labels: np.ndarray | None = None

    @property
    def n_alternatives(self) -> np.ndarray:
        """Rows (alternatives) of each set."""
        return np.diff(np.append(self.set_start, self.design.shape[0]))

    @property
    def set_of_row(self) -> np.ndarray:
        """Set of each row."""
        return np.repeat(np.arange(self.set_start.shape[0]), self.n_alternatives)

    def prior_shares(self, weights: np.ndarray, log_shares: np.ndarray) -> np.ndarray:
        """Prior class probabilities of the units facing each set (weighted mean), (S, K)."""
        pi = np.exp(log_shares)
        if self.unit_of_set is not None:
            return pi[self.unit_of_set]
        return self.per_set(weights[:, None] * pi) / max(float(weights.sum()), 1e-300)

    def per_set(self, unit_values: np.ndarray) -> np.ndarray:
        """Sum of per-unit values (N, ...) over the units facing each set, (S, ...)."""
        if self.unit_of_set is None:
            return np.asarray(unit_values).sum(axis=0, keepdims=True)
        return np.asarray(unit_values)[self.unit_of_set]


def _long_sets(data) -> ChoiceSets:
    return ChoiceSets(design=data.design, set_start=data.situation_start,
                      unit_of_set=data.decision_maker_of_situation,
                      situations_per_unit=data.n_situations_per_decision_maker,
                      choice_dof=int((data.n_alternatives - 1).sum()),
                      unit_label="decision makers", row_index=data.row_index,
                      n_input_rows=int(data.n_input_rows))


def _counts_sets(data) -> ChoiceSets:
    return ChoiceSets(design=np.hstack([data.exog, data.exog_invariant]),
                      set_start=np.zeros(1, dtype=np.int64), unit_of_set=None,
                      situations_per_unit=None, choice_dof=int(data.n_candidates) - 1,
                      unit_label="draws", row_index=np.arange(data.n_candidates),
                      n_input_rows=int(data.n_candidates), row_labels=data.candidate_ids)


#: how each data form's choice sets are read (the one place that knows the forms apart)
_CHOICE_SETS = {"long": _long_sets, "counts": _counts_sets}


def choice_sets(likelihood) -> ChoiceSets:
    """The choice sets of a mixture likelihood's data (see :class:`ChoiceSets`).

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit.datasets.simulate import simulate_counts
    >>> from mixlogit.diagnostics import choice_sets
    >>> sim = simulate_counts(n_candidates=50, n_draws=1_000, seed=0)
    >>> lik = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features,
    ...                                            k_classes=2).likelihood()
    >>> sets = choice_sets(lik)
    >>> sets.n_alternatives.tolist(), sets.choice_dof
    ([50], 49)
    """
    try:
        build = _CHOICE_SETS[likelihood.form]
    except KeyError:
        raise SpecificationError(f"no choice-set view for the data form {likelihood.form!r}; "
                                 f"known forms: {sorted(_CHOICE_SETS)}") from None
    return build(likelihood.data)


def within_situation_check(sets: ChoiceSets, names: list[str]) -> dict:
    """Within-choice-set variation of the attributes.

    Parameters
    ----------
    sets : ChoiceSets
    names : list of str
        Names of the design columns.

    Returns
    -------
    dict
        ``share`` (per column, within-set sum of squares over total sum of
        squares about the mean), ``singular`` (singular values of the centred,
        column-normalised matrix, relative to the largest), ``names``.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.diagnostics import ChoiceSets, within_situation_check
    >>> X = np.array([[1.0, 0.0], [2.0, 0.0], [1.0, 1.0], [2.0, 1.0]])  # x2 constant per set
    >>> sets = ChoiceSets(X, np.array([0, 2]), np.array([0, 1]), None, 2, "decision makers",
    ...                   np.arange(4), 4)
    >>> within_situation_check(sets, ["x1", "x2"])["share"].tolist()
    [1.0, 0.0]
    """
    W = sets.design
    means = np.add.reduceat(W, sets.set_start, axis=0) / sets.n_alternatives[:, None]
    Wc = W - means[sets.set_of_row]
    within = (Wc ** 2).sum(axis=0)
    total = ((W - W.mean(axis=0)) ** 2).sum(axis=0)
    share = np.where(total > 0, within / np.where(total > 0, total, 1.0), 0.0)
    norm = np.sqrt(within)
    sv = np.linalg.svd(Wc / np.where(norm > 0, norm, 1.0), compute_uv=False)
    rel = sv / sv[0] if sv[0] > 0 else np.zeros_like(sv)
    return {"share": share, "singular": rel, "names": list(names)}
