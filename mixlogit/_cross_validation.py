"""Cross-validated choice of the number of classes (``select_classes(..., cv=5)``).

Decision makers (the ``panel`` column, or the situations when there is none)
are dealt at random (seeded) into ``cv`` folds of nearly equal size. For each
fold, every K is fitted on the rows of the other folds, by the same sequence of
fresh and split starts as the fits on all rows, and the held-out
log-likelihood of each left-out decision maker,

    ll_n = w_n log sum_k pi_nk prod_t P_k(y_nt),

is the ``loglikeobs`` of a model built on the fold's rows through the same
builder, at the training estimate. The table gets ``cv_loglike = sum_n ll_n``
(every decision maker is held out once) and ``cv_se = sqrt(N) sd(ll_n)``, the
standard error of that sum when the contributions are treated as independent;
``cv_se_diff`` is the standard error of the difference ``cv_loglike(K) -
cv_loglike(best K)``, paired over decision makers (much smaller than either
``cv_se``, as the same people are scored under both K).

This module knows nothing of the model classes: models come from the caller's
``builder(formula, data, k_classes=k, **model_kwds)``.
"""
from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._parallel import progress as progress_bar
from .exceptions import SpecificationError

__all__ = ["FoldPlan", "CrossValidation", "plan_folds", "cross_validate"]


@dataclass(frozen=True)
class FoldPlan:
    """The folds and what builds a model on any subset of the rows."""

    formula: str
    data: pd.DataFrame
    builder: Callable[..., Any]
    model_kwds: Mapping[str, Any]
    unit_of_row: np.ndarray        # decision-maker id of every row of ``data``
    folds: pd.Series               # decision-maker id -> fold number 0..cv-1
    rng: np.random.Generator

    def build(self, rows: np.ndarray, k: int):
        """The K-class model on the rows where ``rows`` is True."""
        return self.builder(self.formula, self.data.loc[rows], k_classes=k, **self.model_kwds)


@dataclass(frozen=True)
class CrossValidation:
    """Held-out log-likelihoods: per decision maker and K, their sums and standard errors."""

    loglike_obs: pd.DataFrame      # decision maker x K
    loglike: pd.Series             # K -> sum over decision makers
    se: pd.Series                  # K -> sqrt(N) * sd
    se_diff: pd.Series             # K -> sqrt(N) * sd of the difference from the best K
    folds: pd.Series
    params: dict                   # (K, fold) -> training estimate (Series)


def _build_on(plan: FoldPlan, rows: np.ndarray, k: int):
    return plan.build(rows, k)


def plan_folds(formula, data, builder, model_kwds: Mapping[str, Any], cv,
               rng: np.random.Generator) -> FoldPlan:
    """Check ``cv`` and deal the decision makers into folds."""
    if isinstance(cv, bool) or not isinstance(cv, (numbers.Integral, np.integer)) or cv < 2:
        raise SpecificationError(f"select_classes(): cv must be a whole number of folds >= 2 "
                                 f"(e.g. cv=5), got {cv!r}")
    if not isinstance(formula, str) or builder is None or not isinstance(data, pd.DataFrame):
        raise SpecificationError(
            "select_classes(): cv= builds models on the rows of each fold, so it needs a formula "
            "string with data= (a DataFrame) and a builder (mixlogit.select_classes passes "
            "MixedMultinomialLogit.from_formula); a callable k -> model or a list of models "
            "cannot be refitted on part of the data")
    cv = int(cv)
    unit = model_kwds.get("panel") or model_kwds.get("groups")
    if unit not in data.columns:
        raise SpecificationError(f"select_classes(): cv= needs the decision-maker column "
                                 f"{unit!r} in data")
    unit_of_row = data[unit].to_numpy()
    ids = pd.unique(unit_of_row)
    if cv > len(ids):
        raise SpecificationError(f"select_classes(): cv={cv} folds but only {len(ids)} decision "
                                 f"makers ({unit!r}); use at most cv={len(ids)}")
    order = rng.permutation(len(ids))
    fold = np.empty(len(ids), dtype=int)
    fold[order] = np.arange(len(ids)) % cv
    folds = pd.Series(fold, index=pd.Index(ids, name=unit), name="fold")
    return FoldPlan(formula, data, builder, dict(model_kwds), unit_of_row, folds, rng)


def cross_validate(plan: FoldPlan, ks: list[int],
                   path: Callable[[Callable[[int], Any], np.random.Generator], dict], *,
                   progress: bool | None = None) -> CrossValidation:
    """Fit every K on each training set by ``path`` and score the held-out fold.

    ``path(build_k, rng)`` fits K in ``ks`` on the models ``build_k(k)`` and
    returns ``{k: results}``.
    """
    n_folds = int(plan.folds.max()) + 1
    fold_of_row = plan.folds.reindex(plan.unit_of_row).to_numpy()
    pieces, params = [], {}
    rngs = plan.rng.spawn(n_folds)
    for f in progress_bar(range(n_folds), total=n_folds, show=progress, desc="fold"):
        held = fold_of_row == f
        fits = path(functools.partial(_build_on, plan, ~held), rngs[f])
        column = {}
        for k in ks:
            res = fits[k]
            test = plan.build(held, k)
            names = list(getattr(test, "param_names", []))
            trained = list(res.params.index)
            if names != trained:
                raise SpecificationError(
                    f"select_classes(): the model built on the held-out rows of fold {f + 1} "
                    f"has parameters {names}, the training fit {trained}; a level of a "
                    "categorical term is missing from a fold (code it with asc(alt, ref=...) "
                    "or use fewer folds)")
            ll = np.asarray(test.loglikeobs(np.asarray(res.params, float)), float)
            column[k] = pd.Series(ll, index=np.asarray(test.choice_data.decision_maker_ids))
            params[(k, f)] = res.params.copy()
        pieces.append(pd.DataFrame(column))
    obs = pd.concat(pieces).reindex(plan.folds.index)
    obs.index.name, obs.columns.name = plan.folds.index.name, "k_classes"
    n = obs.notna().sum()
    loglike = obs.sum(min_count=1)
    se = np.sqrt(n) * obs.std(ddof=1)
    # paired over decision makers: the standard error of each K's difference from the best K
    diff = obs.sub(obs[loglike.idxmax()], axis=0)
    se_diff = np.sqrt(n) * diff.std(ddof=1)
    return CrossValidation(obs, loglike, se, se_diff, plan.folds, params)
