"""The mixture likelihood as a sum over partitions of whole decision makers.

Every quantity EM, the Newton polish and the covariance estimators need is a
sum over decision makers of per-class pieces. With every decision maker inside
one partition, an iteration is one map over the partitions plus one small
reduction: :class:`PartitionedLikelihood` implements
:class:`~mixlogit.likelihood.base.MixtureLikelihood` that way over a *map
backend*, an object with

* ``n_partitions``;
* ``map(fn, *args) -> list``: ``fn(part, *args)`` on every resident partition
  (a :class:`Partition`), results in partition order;
* ``gather_units(fn, *args) -> ndarray``: the per-unit arrays ``fn`` returns,
  concatenated in partition order;
* ``map_each(fn, per_partition)``: ``fn(part, per_partition[i])`` on partition ``i``;
* ``transform(fn, *args)`` and ``transform_each(fn, per_partition)``: a new
  backend of the same kind whose partitions are ``fn(part, *args)`` (or
  ``fn(part, per_partition[i])``), still resident.

:class:`LocalBackend` is the in-process loop (the local case is one or more
partitions in this process); :class:`mixlogit.distributed.DaskBackend` keeps
each partition resident on a Dask worker. The kernels are the long-form
likelihood's own: a partition is a :class:`LongLikelihood` on its rows.

EM step (the same generalized EM step as the single-process likelihood):

* E-step: each partition evaluates its log-likelihood and posteriors at the
  current parameters and keeps them; the reduction is the total
  log-likelihood and the class weights ``sum_n w_n h_nk``.
* Share step: closed form from the class weights without membership
  covariates; otherwise Newton on the weighted membership logit with the
  gradient and information summed over partitions and a line search whose
  objective is summed over partitions.
* Class step: one Newton step on the expected complete-data class part. By
  Fisher's identity the gradient of that part at the current parameters is the
  log-likelihood's own gradient, so its pieces are each partition's score; the
  metric is the summed class information; the line search sums each
  partition's class objective at the trial point.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.long import ChoiceData
from ..kernels import log_class_shares
from ..params import ParamLayout
from .base import (
    EMPTY_SHARE,
    Evaluation,
    MixtureLikelihood,
    backtrack,
    membership_step,
    newton_direction,
)
from .blocks import fused_pass
from .long import LongLikelihood
from .sampling import sample_mask, subset_decision_makers

__all__ = ["Partition", "LocalBackend", "PartitionedLikelihood", "PartitionedData"]


class Partition:
    """One resident partition: its likelihood and the posteriors of the last E-step.

    Parameters
    ----------
    likelihood : LongLikelihood
        The partition's likelihood (whole decision makers only).
    """

    def __init__(self, likelihood: LongLikelihood):
        self.likelihood = likelihood
        self._key: bytes | None = None
        self._wh: np.ndarray | None = None
        self._evaluation: Evaluation | None = None

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays this partition keeps resident (its data and kernel layout)."""
        data = self.likelihood.data
        arrays = [v for v in vars(data).values() if isinstance(v, np.ndarray)]
        layout = getattr(self.likelihood, "blocks", None)
        arrays += [v for v in vars(layout).values() if isinstance(v, np.ndarray)] \
            if layout is not None and hasattr(layout, "__dict__") else []
        for block in getattr(layout, "blocks", []) or []:
            arrays += [v for v in vars(block).values() if isinstance(v, np.ndarray)] \
                if hasattr(block, "__dict__") else []
        return int(sum(a.nbytes for a in arrays))

    # ---------------------------------------------------------------- E-step
    def estep(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """Evaluate at ``params`` and keep the posteriors; return (llf, sum_n w_n h_n)."""
        ev = self.likelihood.evaluate(params)
        self._key, self._evaluation = params.tobytes(), ev
        self._wh = self.likelihood.weights[:, None] * ev.posteriors
        return ev.llf, self._wh.sum(axis=0)

    def estep_with_pieces(self, params: np.ndarray) -> tuple[float, np.ndarray, tuple]:
        """The E-step and the class step's pieces in one fused pass over the blocks.

        Returns ``(llf, class weights, (class gradient, class informations,
        class objective))``; the gradient is of the class part at ``params``
        (the pass's own posteriors), laid out like the class-specific and
        invariant positions of the parameter vector.
        """
        lik = self.likelihood
        lay = lik.layout
        log_pi = lik.log_shares(params)
        res = fused_pass(lik.blocks, lay.unpack(params).class_coefficients, log_pi=log_pi,
                         weights=lik.weights, information=True, engine=lik.engine,
                         n_jobs=lik.n_jobs)
        assert res.ll_obs is not None and res.posteriors is not None
        assert res.grad is not None and res.info is not None
        wh = lik.weights[:, None] * res.posteriors
        llf = float(lik.weights @ res.ll_obs)
        self._key, self._wh = params.tobytes(), wh
        self._evaluation = Evaluation(params, llf, res.ll_obs, res.posteriors, log_pi, res)
        G = np.zeros(lay.membership_slice.start)
        for k in range(lay.k_classes):
            G[lay.class_design_index(k)] += res.grad[k]
        info = [res.info[k] for k in range(lay.k_classes)]
        return llf, wh.sum(axis=0), (G, info, float(np.sum(wh * res.loglik)))

    def _kept(self, params: np.ndarray) -> tuple[Evaluation, np.ndarray]:
        if self._key != params.tobytes() or self._evaluation is None or self._wh is None:
            self.estep(params)
        assert self._evaluation is not None and self._wh is not None
        return self._evaluation, self._wh

    # ----------------------------------------------------------- class part
    def class_pieces(self, params: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], float]:
        """Score (the class part's gradient, Fisher's identity), class informations, value."""
        _, wh = self._kept(params)
        lik = self.likelihood
        ev1 = lik.evaluate(params, order=1)
        info = lik.class_information(params, wh)
        value = float(np.sum(wh * lik.class_state(params).loglik))
        return np.asarray(ev1.score), info, value

    def class_objective(self, anchor: np.ndarray, trial: np.ndarray) -> float:
        """``sum_n sum_k w_n h_nk log L_nk(trial)`` with posteriors kept from ``anchor``."""
        _, wh = self._kept(anchor)
        return float(np.sum(wh * self.likelihood.class_state(trial).loglik))

    # ---------------------------------------------------------- evaluation
    def evaluate(self, params: np.ndarray, order: int) -> Evaluation:
        return self.likelihood.evaluate(params, order=order)


class LocalBackend:
    """Partitions held in this process; ``map`` is a loop.

    Parameters
    ----------
    partitions : sequence of Partition

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.likelihood.partitioned import LocalBackend, PartitionedLikelihood
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=60, n_situations=4, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.5, 0.5], seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
    >>> whole = model.likelihood()
    >>> parts = PartitionedLikelihood.split(whole, 3)
    >>> theta = np.array([0.5, -0.5, -0.5, 0.5, 0.2])
    >>> bool(np.isclose(parts.evaluate(theta).llf, whole.evaluate(theta).llf))
    True
    """

    def __init__(self, partitions: Sequence[Partition]):
        self.partitions = list(partitions)

    @property
    def n_partitions(self) -> int:
        return len(self.partitions)

    def map(self, fn: Callable, *args) -> list:
        return [fn(part, *args) for part in self.partitions]

    def gather_units(self, fn: Callable, *args) -> np.ndarray:
        return np.concatenate([np.asarray(fn(part, *args)) for part in self.partitions])

    def map_each(self, fn: Callable, per_partition: Sequence) -> list:
        return [fn(part, arg) for part, arg in zip(self.partitions, per_partition)]

    def transform(self, fn: Callable, *args) -> LocalBackend:
        return LocalBackend(self.map(fn, *args))

    def transform_each(self, fn: Callable, per_partition: Sequence) -> LocalBackend:
        return LocalBackend([fn(part, arg) for part, arg in zip(self.partitions, per_partition)])


@dataclass(frozen=True, eq=False)
class PartitionedData:
    """What the client knows of partitioned data: sizes, names and per-unit vectors.

    Attributes
    ----------
    backend : LocalBackend or DaskBackend
    exog_names, invariant_names, membership_names : tuple of str
    n_rows, n_situations : int
    weights : ndarray, shape (N,)
        Frequency weight per decision maker, in partition order.
    exog_membership : ndarray, shape (N, Lz)
    decision_maker_ids : ndarray, shape (N,)
    units_per_partition : ndarray of int
    """

    backend: Any
    exog_names: tuple[str, ...]
    invariant_names: tuple[str, ...]
    membership_names: tuple[str, ...]
    n_rows: int
    n_situations: int
    weights: np.ndarray
    exog_membership: np.ndarray
    decision_maker_ids: np.ndarray
    units_per_partition: np.ndarray
    has_panel: bool = True

    weights_kind: str = "frequency"

    @property
    def n_decision_makers(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_effective(self) -> float:
        """The N of BIC: sum of frequency weights, or decision makers with sampling weights."""
        if self.weights_kind == "sampling":
            return float(np.count_nonzero(self.weights > 0))
        return float(self.weights.sum())

    @property
    def n_partitions(self) -> int:
        return int(self.units_per_partition.shape[0])

    def with_weights(self, weights: np.ndarray) -> PartitionedData:
        raise NotImplementedError("reweight through PartitionedLikelihood.reweighted")


def _set_weights(part: Partition, weights: np.ndarray) -> Partition:
    return Partition(part.likelihood.reweighted(weights))


def _with_layout(part: Partition, layout: ParamLayout, mask: np.ndarray, values: np.ndarray
                 ) -> Partition:
    lik = part.likelihood
    return Partition(type(lik)(lik.data, layout, mask, values))


def _estep(part: Partition, params: np.ndarray):
    return part.estep(params)


def _estep_with_pieces(part: Partition, params: np.ndarray):
    """One pass: the E-step and the class step's pieces at the same parameters."""
    return part.estep_with_pieces(params)


def _class_pieces(part: Partition, params: np.ndarray):
    return part.class_pieces(params)


def _class_objective(part: Partition, anchor: np.ndarray, trial: np.ndarray):
    return part.class_objective(anchor, trial)


def _evaluate_part(part: Partition, params: np.ndarray, order: int) -> Evaluation:
    ev = part.evaluate(params, order)
    return Evaluation(ev.params, ev.llf, ev.loglike_obs, ev.posteriors, ev.log_shares, None,
                      ev.score, ev.score_obs, ev.hessian)


def _loglike_part(part: Partition, params: np.ndarray) -> float:
    return part.likelihood.evaluate(params).llf


def _posteriors_part(part: Partition, params: np.ndarray) -> np.ndarray:
    return part.likelihood.evaluate(params).posteriors


def _sample_part(part: Partition, seed: int, fraction: float) -> dict:
    """The rows of the sampled decision makers of one partition, as public arrays."""
    d = part.likelihood.data
    units = np.flatnonzero(sample_mask(d.decision_maker_ids, seed, fraction))
    dm_of_row = d.decision_maker_of_situation[d.situation_of_row]
    rows = np.flatnonzero(np.isin(dm_of_row, units))
    sit_ids = np.asarray(d.situation_ids)[d.situation_of_row[rows]]
    return {"chosen": d.chosen[rows].astype(float), "exog": d.exog_rows[rows],
            "exog_invariant": d.invariant_rows[rows],
            "exog_membership": d.exog_membership[dm_of_row[rows]][:, 1:],
            "groups": sit_ids, "panel": np.asarray(d.decision_maker_ids)[dm_of_row[rows]],
            "weights": np.asarray(d.weights)[dm_of_row[rows]]}


def _class_information(part: Partition, args: tuple[np.ndarray, np.ndarray]):
    params, wh = args
    return part.likelihood.class_information(params, wh)


def _class_probabilities(part: Partition, params: np.ndarray):
    return part.likelihood.class_probabilities(params)


def _class_probability_gaps(part: Partition, params: np.ndarray):
    return part.likelihood.class_probability_gaps(params)


class PartitionedLikelihood(MixtureLikelihood):
    """The long-form mixture likelihood summed over resident partitions.

    Parameters
    ----------
    data : PartitionedData
        Sizes, names, per-unit weights and the map backend holding the partitions.
    layout : ParamLayout
    fixed_mask, fixed_values : ndarray, optional

    Notes
    -----
    Per-unit outputs (``loglike_obs``, ``posteriors``, ``score_obs``) are
    gathered to this process in partition order; the EM iterations and the
    polish move only the additive pieces (a few hundred numbers per
    partition).
    """

    form = "long"
    supported_starts = ("partition", "subspace", "short")
    default_start = "partition"

    data: PartitionedData

    def __init__(self, data: PartitionedData, layout: ParamLayout, fixed_mask=None,
                 fixed_values=None):
        super().__init__(data, layout, fixed_mask, fixed_values)
        self.backend = data.backend.transform(_with_layout, layout, self.fixed_mask,
                                              self.fixed_values)

    # ----------------------------------------------------------- building
    @classmethod
    def split(cls, likelihood: LongLikelihood, n_partitions: int) -> PartitionedLikelihood:
        """A local partitioned copy of a long-form likelihood (decision makers in contiguous runs)."""
        d = likelihood.data
        N = d.n_decision_makers
        bounds = np.linspace(0, N, n_partitions + 1).round().astype(int)
        parts = [Partition(type(likelihood)(subset_decision_makers(d, np.arange(a, b)),
                                            likelihood.layout, likelihood.fixed_mask,
                                            likelihood.fixed_values))
                 for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        sizes = np.array([p.likelihood.n_units for p in parts])
        data = PartitionedData(
            backend=LocalBackend(parts), exog_names=tuple(d.exog_names),
            invariant_names=tuple(d.invariant_names), membership_names=tuple(d.membership_names),
            n_rows=d.n_rows, n_situations=d.n_situations, weights=np.asarray(d.weights),
            exog_membership=d.exog_membership, decision_maker_ids=d.decision_maker_ids,
            units_per_partition=sizes, has_panel=d.has_panel, weights_kind=d.weights_kind)
        return cls(data, likelihood.layout, likelihood.fixed_mask, likelihood.fixed_values)

    # ------------------------------------------------------------- pieces
    def class_state(self, params: np.ndarray) -> None:
        return None

    def log_shares(self, params: np.ndarray) -> np.ndarray:
        return log_class_shares(self.data.exog_membership, self.layout.unpack(params).gamma)

    def evaluate(self, params, order: int = 0, state: Any = None) -> Evaluation:
        params = np.asarray(params, dtype=float)
        evs = self.backend.map(_evaluate_part, params, order)
        llf = float(sum(ev.llf for ev in evs))
        ll_obs = np.concatenate([ev.loglike_obs for ev in evs])
        post = np.concatenate([ev.posteriors for ev in evs])
        log_pi = np.concatenate([ev.log_shares for ev in evs])
        if order == 0:
            return Evaluation(params, llf, ll_obs, post, log_pi, None)
        score = np.sum([ev.score for ev in evs], axis=0)
        score_obs = np.concatenate([ev.score_obs for ev in evs])
        if order == 1:
            return Evaluation(params, llf, ll_obs, post, log_pi, None, score, score_obs)
        hessian = np.sum([ev.hessian for ev in evs], axis=0)
        return Evaluation(params, llf, ll_obs, post, log_pi, None, score, score_obs, hessian)

    def loglike(self, params) -> float:
        return float(sum(self.backend.map(_loglike_part, np.asarray(params, dtype=float))))

    def polish_trial(self, params: np.ndarray, *, full_step: bool) -> Evaluation:
        """The full step to order 2 in one map; a shorter step by its log-likelihood alone."""
        if full_step:
            return self.evaluate(params, order=2)
        K = self.layout.k_classes
        return Evaluation(np.asarray(params, float), self.loglike(params), np.empty(0),
                          np.empty((0, K)), np.empty((0, K)), None)

    def reweighted(self, weights: np.ndarray) -> PartitionedLikelihood:
        weights = np.asarray(weights, dtype=float)
        new_parts = self.backend.transform_each(_set_weights, self._split_units(weights))
        data = PartitionedData(
            backend=new_parts, exog_names=self.data.exog_names,
            invariant_names=self.data.invariant_names,
            membership_names=self.data.membership_names, n_rows=self.data.n_rows,
            n_situations=self.data.n_situations, weights=weights,
            exog_membership=self.data.exog_membership,
            decision_maker_ids=self.data.decision_maker_ids,
            units_per_partition=self.data.units_per_partition, has_panel=self.data.has_panel,
            weights_kind=self.data.weights_kind)
        return PartitionedLikelihood(data, self.layout, self.fixed_mask, self.fixed_values)

    def class_information(self, params: np.ndarray, wh: np.ndarray) -> list[np.ndarray]:
        infos = self.backend.map_each(_class_information,
                                      [(params, w) for w in self._split_units(wh)])
        return [np.sum([info[k] for info in infos], axis=0) for k in range(self.layout.k_classes)]

    def class_probabilities(self, params: np.ndarray) -> np.ndarray:
        return self.backend.gather_units(_class_probabilities, params)

    def class_probability_gaps(self, params: np.ndarray) -> np.ndarray:
        """The largest class-probability differences of every partition, combined by max
        (no row-level array leaves the workers)."""
        return np.max(self.backend.map(_class_probability_gaps, params), axis=0)

    def start_likelihood(self, *, max_units: int | None = 200_000, seed: int = 0
                         ) -> MixtureLikelihood:
        """A local long-form likelihood on a deterministic sample of decision makers.

        A decision maker is in the sample when a hash of its id and ``seed``
        falls below ``max_units / N``, so the sample is the same whatever the
        partitioning or row order; with ``max_units=None`` or ``N <= max_units``
        every decision maker is taken.
        """
        N = self.data.n_decision_makers
        fraction = 1.0 if max_units is None or N <= max_units else max_units / N
        pieces = self.backend.map(_sample_part, int(seed), fraction)
        cat = {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}
        inv = cat["exog_invariant"]
        mem = cat["exog_membership"]
        data = ChoiceData.from_arrays(
            cat["chosen"], cat["exog"], groups=cat["groups"], panel=cat["panel"],
            exog_invariant=inv if inv.shape[1] else None,
            exog_membership=mem if mem.shape[1] else None, weights=cat["weights"],
            exog_names=list(self.data.exog_names), invariant_names=list(self.data.invariant_names),
            membership_names=list(self.data.membership_names[1:]))
        return LongLikelihood(data, self.layout, self.fixed_mask, self.fixed_values)

    def _split_units(self, values: np.ndarray) -> list[np.ndarray]:
        """Per-unit rows cut into the partitions' runs."""
        offsets = np.r_[0, np.cumsum(self.data.units_per_partition)]
        return [values[a:b] for a, b in zip(offsets[:-1], offsets[1:])]

    # -------------------------------------------------------------- EM steps
    def share_step(self, params: np.ndarray, evaluation: Evaluation | None = None, *,
                   class_weights: np.ndarray | None = None) -> np.ndarray:
        """Shares in closed form from the class weights, or Newton on the membership logit."""
        lay = self.layout
        mem = np.arange(lay.n_params)[lay.membership_slice]
        if not self.free[mem].any():
            return params
        if lay.k_membership > 1 or not self.free[mem].all():
            return self._membership_newton(params)
        if class_weights is None:
            class_weights = np.sum([r[1] for r in self.backend.map(_estep, params)], axis=0)
        share = np.maximum(class_weights / class_weights.sum(), 1e-300)
        params = params.copy()
        params[mem] = np.log(share[1:]) - np.log(share[0])
        return params

    def class_step(self, params: np.ndarray, state: Any, wh: np.ndarray | None,
                   context: dict) -> tuple[np.ndarray, Any, float]:
        """One Newton step on the class part, pieces summed over partitions.

        ``context["anchor"]`` holds the parameters of the last E-step (whose
        posteriors the partitions keep).
        """
        lay = self.layout
        anchor = context.get("anchor", params)
        pieces = context.pop("pieces", None)
        if pieces is None:
            pieces = self.backend.map(_class_pieces, anchor)
        n_u = lay.membership_slice.start
        G = np.sum([p[0] for p in pieces], axis=0)[:n_u]
        A = np.zeros((n_u, n_u))
        free = self.free[:n_u].copy()
        totals = context.get("class_weights")
        for k in range(lay.k_classes):
            idx = lay.class_design_index(k)
            A[np.ix_(idx, idx)] += np.sum([p[1][k] for p in pieces], axis=0)
            if totals is not None and totals[k] <= EMPTY_SHARE * totals.sum():
                free[lay.class_slice(k)] = False
        if not free.any():
            return params, None, 0.0
        q_old = float(sum(p[2] for p in pieces))
        step = newton_direction(G[free], A[np.ix_(free, free)])
        where = np.flatnonzero(free)

        def along(t):
            trial = params.copy()
            trial[where] += t * step
            return float(sum(self.backend.map(_class_objective, anchor, trial))), trial

        found = backtrack(along, q_old)
        if found is None:
            return params, None, 0.0
        _, q_new, trial = found
        return trial, None, q_new - q_old

    def make_steps(self, newton_steps: int = 1):
        """E- and M-steps for :func:`mixlogit.em.run_em` moving only additive pieces.

        One map per E-step returns the log-likelihood, the class weights and the
        class step's pieces; the M-step takes one Newton step on the class part
        (``newton_steps`` above 1 would need the class gradient away from the
        E-step's point, which Fisher's identity does not give), so an iteration
        costs two maps when the full step is accepted.
        """
        context: dict = {}

        def estep(params):
            results = self.backend.map(_estep_with_pieces, params)
            llf = float(sum(r[0] for r in results))
            context["anchor"] = params.copy()
            context["class_weights"] = np.sum([r[1] for r in results], axis=0)
            context["pieces"] = [r[2] for r in results]
            return llf, context["class_weights"]

        def mstep(params, class_weights):
            new = params
            if self.layout.k_classes > 1:
                new = self.share_step(params, class_weights=class_weights)
            new, _, _ = self.class_step(new, None, None, context)
            return new

        return estep, mstep

    def _membership_newton(self, params: np.ndarray) -> np.ndarray:
        """Newton on the membership logit, posteriors (N x K) gathered from the partitions."""
        h = self.backend.gather_units(_posteriors_part, params)
        return membership_step(params, self.layout, self.free, self.data.exog_membership,
                               self.data.weights, h)
