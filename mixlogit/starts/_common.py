"""Pieces the start strategies, the moves and the portfolio share (private).

* :func:`with_classes`: the same likelihood with another number of classes.
* :func:`start_from_weights`: a start from unit-by-class weights (a partition
  or soft posteriors): one conditional logit fit per class, shares from the
  weights.
* :func:`class_scores`: per-unit scores and the information of one class's
  conditional logit at its coefficients.
* :func:`short_runs`: EM for a few iterations from each start (no Newton).
* :func:`cost`: the cost of EM runs in EM-iteration equivalents.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..em import EMRun, run_starts
from ..exceptions import SpecificationError
from ..likelihood import MixtureLikelihood
from ..params import ParamLayout

#: cost of one Newton (polish) iteration in EM-iteration equivalents: an order-2
#: evaluation (per-unit scores and the full Hessian) and its line search, measured at
#: 2.5-4 times one EM iteration on the electricity and Swissmetro panels
NEWTON_COST = 3.0
#: cost of one class step of a start's conditional logit fits, in EM iterations
CLASS_STEP_COST = 1.0


def rebuild(likelihood: MixtureLikelihood, layout: ParamLayout, mask=None, values=None
            ) -> MixtureLikelihood:
    """The likelihood's own class on the same data with another layout.

    Raises
    ------
    SpecificationError
        For a wrapper whose constructor takes more than data and layout (a
        constrained likelihood): the strategies that change the number of
        classes do not apply to it.
    """
    try:
        return type(likelihood)(likelihood.data, layout, mask, values)
    except TypeError as exc:
        raise SpecificationError(
            f"this start strategy refits the data with another number of classes, which a "
            f"{type(likelihood).__name__} cannot be rebuilt for; use start='partition' or "
            "start='short'") from exc


def with_classes(likelihood: MixtureLikelihood, k_classes: int) -> MixtureLikelihood:
    """The same data and class-invariant fixed values with ``k_classes`` classes.

    Raises
    ------
    SpecificationError
        When class-specific or membership parameters are fixed: they have no
        counterpart with another number of classes.
    """
    lay = likelihood.layout
    inv = np.arange(lay.invariant_slice.start, lay.invariant_slice.stop)
    others = np.ones(lay.n_params, bool)
    others[inv] = False
    if likelihood.fixed_mask[others].any():
        raise SpecificationError(
            "this start strategy changes the number of classes, which needs every fixed "
            "parameter to be class-invariant; fix only invariant terms, or use "
            "start='partition' or start='short'"
        )
    new = ParamLayout(int(k_classes), lay.exog_names, lay.invariant_names, lay.membership_names)
    mask = np.zeros(new.n_params, bool)
    values = np.zeros(new.n_params)
    new_inv = np.arange(new.invariant_slice.start, new.invariant_slice.stop)
    mask[new_inv] = likelihood.fixed_mask[inv]
    values[new_inv] = likelihood.fixed_values[inv]
    return rebuild(likelihood, new, mask, values)


def share_logits(layout: ParamLayout, totals: np.ndarray) -> np.ndarray:
    """Membership coefficients (K, Lz) giving the shares ``totals / totals.sum()``
    (constant column only; class 1 the reference)."""
    K = layout.k_classes
    share = np.maximum(np.asarray(totals, float), 1e-12)
    share = share / share.sum()
    gamma = np.zeros((K, layout.k_membership))
    gamma[:, 0] = np.log(share) - np.log(share[0])
    return gamma


def start_from_weights(likelihood: MixtureLikelihood, wh: np.ndarray, *,
                       params0: np.ndarray | None = None, max_steps: int = 25,
                       equal_shares: bool = False) -> np.ndarray:
    """A start from unit-by-class weights ``wh`` (N x K): class logits fitted to them.

    ``params0`` (default zeros) is where the class fits begin; the shares are
    the column totals of ``wh`` unless ``equal_shares``.
    """
    lay = likelihood.layout
    theta = np.zeros(lay.n_params) if params0 is None else np.array(params0, float)
    theta = likelihood.fit_classes(theta, wh, max_steps=max_steps, tol=1e-8)
    if lay.k_classes > 1:
        u = lay.unpack(theta)
        gamma = np.zeros_like(u.gamma) if equal_shares else share_logits(lay, wh.sum(axis=0))
        theta = lay.pack(u.betas, u.delta, gamma)
    return likelihood.apply_fixed(theta)


def class_scores(likelihood: MixtureLikelihood, params: np.ndarray, k: int,
                 weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit scores (N, L) and information (L, L) of class ``k``'s conditional logit.

    Only the class-specific coefficients count (the invariant ones are held
    at their values); ``weights`` (N,) weight the units in the information.
    """
    lay = likelihood.layout
    u = lay.unpack(params)
    one = ParamLayout(1, lay.exog_names, lay.invariant_names, lay.membership_names)
    lik1 = rebuild(likelihood, one)
    theta = one.pack(u.betas[k:k + 1], u.delta)
    ev = lik1.evaluate(theta, order=1)
    L = lay.k_exog
    info = lik1.class_information(theta, weights[:, None])[0][:L, :L]
    assert ev.score_obs is not None  # order=1
    return ev.score_obs[:, :L], info


def split_direction(info: np.ndarray, spread: np.ndarray, n_c: float) -> np.ndarray:
    """The direction along which a class's scores spread most beyond their information.

    Solves ``spread v = lambda info v`` (``spread = sum_n w_n s_n s_n'``); the
    leading ``v``, normalised to one unit's information (``v' info v / n_c =
    1``) and multiplied by ``sqrt(max(lambda - 1, 1/4))`` (the excess spread in
    units of the noise), is the half-distance of the two halves. This is the
    idea of :func:`mixlogit.selection.split_class_starts`.
    """
    L = info.shape[0]
    if L == 0 or n_c <= 0:
        return np.zeros(L)
    A = 0.5 * (info + info.T)
    ridge = 1e-8 * max(np.trace(A) / L, 1e-12)
    try:
        chol = np.linalg.cholesky(A + ridge * np.eye(L))
    except np.linalg.LinAlgError:
        return np.zeros(L)
    ci = np.linalg.inv(chol)
    lam, vec = np.linalg.eigh(ci @ (0.5 * (spread + spread.T)) @ ci.T)
    v = ci.T @ vec[:, -1]
    norm = float(v @ (A / n_c) @ v)
    if not norm > 0:
        return np.zeros(L)
    v = v / np.sqrt(norm)
    idx = int(np.argmax(np.abs(v)))
    v = v * np.sign(v[idx])  # a sign convention: the same data give the same direction
    return np.sqrt(max(float(lam[-1]) - 1.0, 0.25)) * v


def class_spread(likelihood: MixtureLikelihood, params: np.ndarray, posteriors: np.ndarray
                 ) -> list[tuple[float, np.ndarray]]:
    """For each class: (excess spread ``lambda - 1``, split half-step) of its scores."""
    w = likelihood.weights
    out = []
    for k in range(likelihood.layout.k_classes):
        wk = w * posteriors[:, k]
        n_k = float(wk.sum())
        if n_k <= 0:
            out.append((0.0, np.zeros(likelihood.layout.k_exog)))
            continue
        S, info = class_scores(likelihood, params, k, wk)
        B = (S * wk[:, None]).T @ S
        step = split_direction(info, B, n_k)
        A = info / n_k
        excess = float(step @ A @ step)  # = max(lambda - 1, 1/4)
        out.append((excess * n_k, step))
    return out


def short_runs(likelihood: MixtureLikelihood, starts: Sequence[tuple[str, np.ndarray]],
               n_iter: int, *, n_jobs: int = 1, progress: bool | None = None) -> list[EMRun]:
    """EM for at most ``n_iter`` iterations from every start, no Newton finish."""
    starts = [(origin, likelihood.apply_fixed(p)) for origin, p in starts]
    return run_starts(lambda: likelihood.make_steps(), starts, tol=0.0, maxiter=int(n_iter),
                      n_jobs=n_jobs, progress=progress)


def cost(runs: Sequence[EMRun]) -> float:
    """EM-iteration equivalents spent by ``runs``: EM iterations plus
    :data:`NEWTON_COST` per Newton iteration."""
    return float(sum(r.n_iter + NEWTON_COST * r.n_finish for r in runs))


def check_count(value, name: str, minimum: int = 1) -> int:
    """A whole number of at least ``minimum`` or a SpecificationError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise SpecificationError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)
