"""Start values for EM.

``"partition"``
    Split the decision makers at random into K groups, fit a conditional logit
    in each group, equal shares (the habit of lclogit).
``"subspace"``
    Draws in an estimated subspace of the class coefficients: for the counts
    form, the top eigenvectors of the latent second moment M2; for long-format
    data, the decision-maker score subspace of ALGORITHMS.md section 3.5.
``"mom"``
    The method-of-moments estimate (counts form only), plus random starts.
Given values
    An array of length ``n_params``, a ``{name: value}`` dict (missing names are
    0), or a list of those for several starts.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .exceptions import SpecificationError
from .likelihood import Likelihood

__all__ = ["START_STRATEGIES", "partition_starts", "given_starts", "make_starts"]


def partition_starts(likelihood: Likelihood, n_starts: int, rng: np.random.Generator
                     ) -> list[tuple[str, np.ndarray]]:
    """Random-partition starts: one conditional logit fit per group of decision makers."""
    lay = likelihood.layout
    K = lay.k_classes
    N = likelihood.data.n_decision_makers
    w = likelihood.data.weights
    out = []
    for r in range(n_starts):  # loop over starts; each fit is vectorised
        labels = rng.permutation(N) % K
        wh = np.zeros((N, K))
        wh[np.arange(N), labels] = w
        params = likelihood.fit_classes(np.zeros(lay.n_params), wh, max_steps=25, tol=1e-8)
        out.append((f"partition {r}", params))
    return out


def given_starts(likelihood: Likelihood, values) -> list[tuple[str, np.ndarray]]:
    """Starts from user values: an array, a dict of names, or a list of either."""
    lay = likelihood.layout
    if isinstance(values, Mapping) or (isinstance(values, np.ndarray) and values.ndim == 1):
        values = [values]
    elif not isinstance(values, Sequence) or isinstance(values, str):
        raise SpecificationError(
            "start values must be an array of length n_params, a dict {name: value}, or a list "
            "of those"
        )
    out = []
    for i, v in enumerate(values):
        if isinstance(v, Mapping):
            theta = lay.from_mapping(v)
        else:
            theta = np.asarray(v, dtype=float).ravel()
            if theta.shape != (lay.n_params,):
                raise SpecificationError(
                    f"start values must have {lay.n_params} entries in the order of "
                    f"model.param_names, got {theta.shape[0]}"
                )
        if not np.all(np.isfinite(theta)):
            raise SpecificationError("start values must be finite")
        out.append((f"given {i}", theta))
    return out


def _subspace(likelihood, n_starts, rng, **kwargs):
    from .subspace import score_subspace_starts

    return score_subspace_starts(likelihood, n_starts, rng, **kwargs)


START_STRATEGIES = {
    "partition": partition_starts,
    "subspace": _subspace,
}


def make_starts(likelihood: Likelihood, start, n_starts: int, rng: np.random.Generator,
                **kwargs) -> list[tuple[str, np.ndarray]]:
    """Dispatch on the start strategy (a name) or given values."""
    if isinstance(start, str):
        if start not in START_STRATEGIES:
            raise SpecificationError(
                f"start={start!r} is not known; use one of {sorted(START_STRATEGIES)} or give "
                "start values"
            )
        return START_STRATEGIES[start](likelihood, n_starts, rng, **kwargs)
    return given_starts(likelihood, start)
