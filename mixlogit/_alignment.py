"""The one class alignment of the package: Hungarian matching of latent classes.

The bootstrap aligns every replicate's classes to the estimate's, and the
diagnostics align the solutions of different starts; both call
:func:`match_classes` (standardized squared distances between class vectors)
or :func:`assignment_costs` (best and second-best assignment of any cost
matrix); ``mixlogit.params.align_classes`` (one scale vector for every class)
is a thin layer over :func:`assignment_costs` too. :func:`match_classes` scales
each reference class by its own standard errors and also reports the
second-best assignment, which the bootstrap needs to flag doubtful alignments.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["assignment_costs", "ClassMatch", "match_classes"]


def assignment_costs(cost: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Best assignment of a K x K cost matrix, its cost and the second-best cost.

    ``order[k]`` is the candidate class matched with reference class k. The
    second-best assignment is exact: by enumeration for K <= 7, otherwise the
    best of the K problems that forbid one matched pair (Murty's first step).

    Returns
    -------
    order : ndarray of int
    best : float
    second : float
        ``inf`` when K is 1.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.bootstrap import assignment_costs
    >>> order, best, second = assignment_costs(np.array([[0.0, 5.0], [4.0, 1.0]]))
    >>> order.tolist(), best, second
    ([0, 1], 1.0, 9.0)
    """
    K = cost.shape[0]
    rows, cols = linear_sum_assignment(cost)
    order = np.empty(K, dtype=int)
    order[rows] = cols
    best = float(cost[rows, cols].sum())
    if K == 1:
        return order, best, np.inf
    if K <= 7:
        totals = sorted(float(cost[np.arange(K), list(p)].sum())
                        for p in itertools.permutations(range(K)))
        return order, best, totals[1]
    second = np.inf
    big = 1e300
    for k in range(K):
        c = cost.copy()
        c[k, order[k]] = big
        r, q = linear_sum_assignment(c)
        total = float(c[r, q].sum())
        if total < big:
            second = min(second, total)
    return order, best, second


@dataclass(frozen=True)
class ClassMatch:
    """The best matching of a candidate's classes to a reference's (see :func:`match_classes`).

    Attributes
    ----------
    order : ndarray of int
        ``candidate[order]`` is aligned with the reference.
    best, second : float
        Cost of the best and of the second-best assignment.
    cost : ndarray, shape (K, K)
        Cost of matching reference class k with candidate class m.
    """

    order: np.ndarray
    best: float
    second: float
    cost: np.ndarray


def match_classes(reference: np.ndarray, candidate: np.ndarray,
                  scale: np.ndarray | None = None) -> ClassMatch:
    """Hungarian matching of classes by squared standardized distance.

    Parameters
    ----------
    reference, candidate : ndarray, shape (K, m)
        One row per class (coefficients and share, posterior summaries...).
    scale : ndarray, shape (K, m) or (m,), optional
        Scale of each coordinate of each *reference* class (for example its
        standard errors); default 1. Entries that are not positive count as 1;
        an infinite entry drops that coordinate from the distance.

    Returns
    -------
    ClassMatch

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.bootstrap import match_classes
    >>> ref = np.array([[1.0, 0.6], [-1.0, 0.4]])
    >>> match_classes(ref, ref[::-1]).order.tolist()
    [1, 0]
    """
    a = np.asarray(reference, float)
    b = np.asarray(candidate, float)
    s = np.ones_like(a) if scale is None else np.broadcast_to(np.asarray(scale, float), a.shape)
    s = np.where(s > 0, s, 1.0)  # zero, negative or NaN scales count as 1 (inf ignores a coordinate)
    cost = (((a[:, None, :] - b[None, :, :]) / s[:, None, :]) ** 2).sum(axis=2)
    order, best, second = assignment_costs(cost)
    return ClassMatch(order=order, best=best, second=second, cost=cost)
