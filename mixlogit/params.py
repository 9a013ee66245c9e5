"""The parameter layout: one flat vector, its labels, and class permutations.

The flat vector is ordered

1. the class-specific coefficients, class by class: ``class1:pf, class1:cl, ...,
   class2:pf, ...``;
2. the class-invariant coefficients, labelled by their column name;
3. the membership coefficients of classes 2..K (class 1 is the reference):
   ``membership:class2:Intercept, membership:class2:income, ...``. Without
   membership covariates only the intercepts remain: they are the log-odds of
   each class's share against class 1.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ._alignment import assignment_costs
from .exceptions import SpecificationError

__all__ = ["ParamLayout", "Unpacked", "align_classes"]


@dataclass(frozen=True)
class Unpacked:
    """Structured view of a parameter vector."""

    betas: np.ndarray  # (K, L)
    delta: np.ndarray  # (Lv,)
    gamma: np.ndarray  # (K, Lz), first row zeros

    @property
    def class_coefficients(self) -> np.ndarray:
        """Per-class coefficients on the joint design ``[exog, invariant]``, (K, L + Lv)."""
        K = self.betas.shape[0]
        return np.hstack([self.betas, np.broadcast_to(self.delta, (K, self.delta.shape[0]))])


@dataclass(frozen=True)
class ParamLayout:
    """Positions and labels of the parameters of a K-class model."""

    k_classes: int
    exog_names: tuple[str, ...]
    invariant_names: tuple[str, ...]
    membership_names: tuple[str, ...]

    # -------------------------------------------------------------- sizes
    @property
    def k_exog(self) -> int:
        return len(self.exog_names)

    @property
    def k_invariant(self) -> int:
        return len(self.invariant_names)

    @property
    def k_membership(self) -> int:
        return len(self.membership_names)

    @property
    def n_class_params(self) -> int:
        return self.k_classes * self.k_exog

    @property
    def n_params(self) -> int:
        return self.n_class_params + self.k_invariant + (self.k_classes - 1) * self.k_membership

    @property
    def has_membership_covariates(self) -> bool:
        return self.k_membership > 1

    # --------------------------------------------------------- positions
    @property
    def invariant_slice(self) -> slice:
        start = self.n_class_params
        return slice(start, start + self.k_invariant)

    @property
    def membership_slice(self) -> slice:
        return slice(self.n_class_params + self.k_invariant, self.n_params)

    def class_slice(self, k: int) -> slice:
        return slice(k * self.k_exog, (k + 1) * self.k_exog)

    def class_design_index(self, k: int) -> np.ndarray:
        """Positions in the flat vector of class k's coefficients on ``[exog, invariant]``."""
        return np.r_[np.arange(k * self.k_exog, (k + 1) * self.k_exog),
                     np.arange(self.invariant_slice.start, self.invariant_slice.stop)]

    @property
    def utility_index(self) -> np.ndarray:
        """Positions of all utility coefficients (class-specific, then invariant)."""
        return np.arange(self.membership_slice.start)

    # ------------------------------------------------------------ labels
    @property
    def param_names(self) -> list[str]:
        names = [f"class{k + 1}:{x}" for k in range(self.k_classes) for x in self.exog_names]
        names += list(self.invariant_names)
        names += [f"membership:class{k + 1}:{z}" for k in range(1, self.k_classes)
                  for z in self.membership_names]
        return names

    @property
    def class_names(self) -> list[str]:
        return [f"class{k + 1}" for k in range(self.k_classes)]

    # ---------------------------------------------------- pack / unpack
    def unpack(self, params) -> Unpacked:
        theta = np.asarray(params, dtype=float)
        if theta.shape != (self.n_params,):
            raise SpecificationError(
                f"params must have {self.n_params} entries ({', '.join(self.param_names[:4])}, ...), "
                f"got shape {theta.shape}"
            )
        K, L, Lz = self.k_classes, self.k_exog, self.k_membership
        betas = theta[: K * L].reshape(K, L)
        delta = theta[self.invariant_slice]
        gamma = np.zeros((K, Lz))
        gamma[1:] = theta[self.membership_slice].reshape(K - 1, Lz)
        return Unpacked(betas, delta, gamma)

    def pack(self, betas, delta=None, gamma=None) -> np.ndarray:
        """Flat vector from structured parts; ``gamma`` is normalised to class 1."""
        K, L, Lz = self.k_classes, self.k_exog, self.k_membership
        betas = np.asarray(betas, dtype=float).reshape(K, L)
        delta = np.zeros(self.k_invariant) if delta is None else np.asarray(delta, float).ravel()
        gamma = np.zeros((K, Lz)) if gamma is None else np.asarray(gamma, float).reshape(K, Lz)
        gamma = gamma - gamma[0]
        return np.concatenate([betas.ravel(), delta, gamma[1:].ravel()])

    def permute(self, params, order) -> np.ndarray:
        """Reorder the classes: new class j is old class ``order[j]``."""
        u = self.unpack(params)
        order = np.asarray(order)
        return self.pack(u.betas[order], u.delta, u.gamma[order])

    # ------------------------------------------------------------ fixed
    def fixed_mask(self, fixed: Mapping[str, float] | None) -> tuple[np.ndarray, np.ndarray]:
        """Boolean mask of fixed positions and the vector of their values."""
        mask = np.zeros(self.n_params, dtype=bool)
        values = np.zeros(self.n_params)
        if not fixed:
            return mask, values
        if not isinstance(fixed, Mapping):
            raise SpecificationError("fixed must be a dict {parameter name: value}")
        index = {name: i for i, name in enumerate(self.param_names)}
        for name, value in fixed.items():
            if name not in index:
                raise SpecificationError(
                    f"fixed: unknown parameter {name!r}; parameter names are "
                    f"{self.param_names}"
                )
            value = float(value)
            if not np.isfinite(value):
                raise SpecificationError(f"fixed: value of {name!r} must be finite")
            mask[index[name]] = True
            values[index[name]] = value
        if mask.all():
            raise SpecificationError("fixed: every parameter is fixed; nothing to estimate")
        return mask, values

    def classes_exchangeable(self, fixed_mask: np.ndarray) -> bool:
        """Whether classes may be relabelled: no fixed class-specific or membership term."""
        return not (fixed_mask[: self.n_class_params].any() or fixed_mask[self.membership_slice].any())

    def from_mapping(self, values: Mapping[str, float], default: np.ndarray | None = None) -> np.ndarray:
        """Flat vector from a {name: value} mapping (missing names from ``default`` or 0)."""
        theta = np.zeros(self.n_params) if default is None else np.array(default, dtype=float)
        index = {name: i for i, name in enumerate(self.param_names)}
        unknown = [name for name in values if name not in index]
        if unknown:
            raise SpecificationError(f"unknown parameter names {unknown}; names are {self.param_names}")
        for name, value in values.items():
            theta[index[name]] = float(value)
        return theta


def align_classes(reference: np.ndarray, candidate: np.ndarray, scale: np.ndarray | None = None
                  ) -> tuple[np.ndarray, float]:
    """Permutation of the candidate's classes that best matches the reference.

    Parameters
    ----------
    reference, candidate : ndarray, shape (K, m)
        One row of parameters (or posterior summaries) per class.
    scale : ndarray, shape (m,), optional
        Divide each coordinate's difference by this scale (for example standard
        errors) before measuring distances.

    Returns
    -------
    order : ndarray of int, shape (K,)
        ``candidate[order]`` is aligned with ``reference``.
    cost : float
        Total squared distance after alignment.
    """
    reference = np.asarray(reference, float)
    candidate = np.asarray(candidate, float)
    scale = np.ones(reference.shape[1]) if scale is None else np.where(np.asarray(scale) > 0, scale, 1.0)
    diff = (reference[:, None, :] - candidate[None, :, :]) / scale
    order, best, _ = assignment_costs((diff ** 2).sum(axis=2))
    return order, best
