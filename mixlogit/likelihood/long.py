"""The long-form mixture likelihood: one row per (situation, available alternative).

:class:`LongLikelihood` implements :class:`~mixlogit.likelihood.base.MixtureLikelihood`
over a :class:`~mixlogit.data.long.ChoiceData`: the analytic log-likelihood,
per-decision-maker scores and Hessian (ALGORITHMS.md section 5) for
class-specific, invariant and membership terms and fixed parameters, the
share step (closed-form shares without covariates, Newton on the weighted
membership logit with them) and one joint Newton step on (betas, delta).

All data-sized work is one fused pass over blocks of whole decision makers in
the differenced layout of :mod:`mixlogit.likelihood.blocks`: an EM iteration
(E-step, the M-step's gradient and information) and a Newton step of the
polish each read the attributes once when the full step is accepted.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..data.long import ChoiceData
from ..kernels import log_class_shares, membership_derivatives, situation_softmax
from ..params import ParamLayout
from .base import (
    EMPTY_SHARE,
    Evaluation,
    MixtureLikelihood,
    backtrack,
    membership_step,
    newton_direction,
)
from .blocks import PassResult, block_layout, fused_pass, resolve_engine, share_layout
from .sampling import sample_mask, subset_decision_makers

__all__ = ["LongLikelihood", "HESSIAN_CHUNK", "START_SITUATIONS", "START_SAMPLE_MIN"]

#: the starts of large data run on a hashed sample of decision makers holding about this
#: many choice situations (model.start_sample; their distinct optima go on to all the data)
START_SITUATIONS = 100_000
#: ... and at least this many decision makers
START_SAMPLE_MIN = 10_000

#: decision makers per chunk of the Hessian's sums of per-decision-maker products
HESSIAN_CHUNK = 1 << 15


class LongLikelihood(MixtureLikelihood):
    """The latent-class logit likelihood of long-format choice data.

    Parameters
    ----------
    data : ChoiceData
    layout : ParamLayout
    fixed_mask : ndarray of bool, optional
        Positions held at ``fixed_values``.
    fixed_values : ndarray, optional
    engine : {"auto", "numpy", "numba"}
        The kernel of the fused pass: ``"numpy"`` (the reference), ``"numba"``
        (compiled; needs ``pip install mixlogit[fast]``) or ``"auto"`` (numba
        when installed and the data have at least
        :data:`~mixlogit.likelihood.blocks.NUMBA_MIN_ROWS` rows).
    n_jobs : int
        Threads over blocks in each pass (BLAS itself runs on one thread).

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=50, n_situations=4, n_alternatives=3,
    ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.5, 0.5], seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
    >>> lik = model.likelihood()
    >>> ev = lik.evaluate(np.zeros(lik.layout.n_params), order=2)
    >>> bool(np.isclose(ev.llf, 200 * np.log(1 / 3))), ev.hessian.shape
    (True, (5, 5))
    """

    form = "long"
    supported_starts = ("partition", "subspace", "short", "kmeans", "split")
    engines = ("numpy", "numba")
    default_start = "partition"

    data: ChoiceData

    def __init__(self, data: ChoiceData, layout: ParamLayout, fixed_mask=None, fixed_values=None,
                 *, engine: str = "auto", n_jobs: int = 1):
        super().__init__(data, layout, fixed_mask, fixed_values)
        self.blocks = block_layout(data)
        self.engine_option = engine
        self.engine = resolve_engine(engine, data.n_rows)
        self.n_jobs = int(n_jobs)
        self._design_index = [layout.class_design_index(k) for k in range(layout.k_classes)]
        self._memo: tuple[bytes, Evaluation] | None = None
        Z = data.exog_membership
        self._same_shares = bool(Z.shape[1] == 1 and np.all(Z == Z[:1]))

    # ------------------------------------------------------------- pieces
    def _pass(self, params: np.ndarray, *, shares: bool = True, **options) -> PassResult:
        C = self.layout.unpack(params).class_coefficients
        log_pi = self.log_shares(params) if shares else None
        return fused_pass(self.blocks, C, log_pi=log_pi, weights=self.data.weights,
                          engine=self.engine, n_jobs=self.n_jobs, **options)

    def class_state(self, params: np.ndarray) -> PassResult:
        """Class log-likelihoods ``log L_nk`` of every decision maker at ``params``."""
        return self._pass(params, shares=False)

    def log_shares(self, params: np.ndarray) -> np.ndarray:
        """Log prior class probabilities of each decision maker, (N, K).

        Without membership covariates every row is the same: a read-only
        broadcast view of one row.
        """
        Z = self.data.exog_membership
        gamma = self.layout.unpack(params).gamma
        if self._same_shares:
            row = log_class_shares(Z[:1], gamma)[0]
            return np.broadcast_to(row, (Z.shape[0], row.shape[0]))
        return log_class_shares(Z, gamma)

    @classmethod
    def default_start_sample(cls, data: ChoiceData) -> int:
        """Decision makers of the starts' sample: about :data:`START_SITUATIONS` choice
        situations, and at least :data:`START_SAMPLE_MIN` decision makers.

        What the starts need to see is choices: a panel of ten situations per person
        reaches 100,000 situations with 10,000 persons, a cross-section needs 100,000.

        Examples
        --------
        >>> import mixlogit as mx
        >>> from mixlogit.likelihood import LongLikelihood
        >>> d = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ pf + cl - 1", mx.datasets.electricity.load(), groups="chid",
        ...     panel="id", k_classes=2).choice_data      # 12 situations per person
        >>> LongLikelihood.default_start_sample(d)
        10000
        """
        per_person = data.n_situations / max(data.n_decision_makers, 1)
        return max(START_SAMPLE_MIN, int(np.ceil(START_SITUATIONS / per_person)))

    def start_likelihood(self, *, max_units: int | None = None, seed: int = 0
                         ) -> LongLikelihood:
        """This likelihood, or one on a hashed sample of about ``max_units`` decision makers.

        See :func:`mixlogit.likelihood.sampling.sample_mask`: the sample is the
        same for a seed whatever the row order, and the same one a partitioned
        fit of the same data uses.
        """
        N = self.n_units
        if max_units is None or N <= max_units:
            return self
        units = np.flatnonzero(sample_mask(self.data.decision_maker_ids, seed, max_units / N))
        # the resolved engine: a sample of data large enough for the compiled kernel keeps it
        return LongLikelihood(subset_decision_makers(self.data, units), self.layout,
                              self.fixed_mask, self.fixed_values, engine=self.engine,
                              n_jobs=self.n_jobs)

    def reweighted(self, weights: np.ndarray) -> LongLikelihood:
        data = self.data.with_weights(weights)
        share_layout(self.blocks, data)
        return LongLikelihood(data, self.layout, self.fixed_mask, self.fixed_values,
                              engine=self.engine_option, n_jobs=self.n_jobs)

    def class_probabilities(self, params: np.ndarray) -> np.ndarray:
        d = self.data
        u = self.layout.unpack(params)
        U = d.exog @ u.betas.T
        if d.exog_invariant.shape[1]:
            U += (d.exog_invariant @ u.delta)[:, None]
        P, _ = situation_softmax(U, d.situation_start, d.situation_of_row)
        return P

    def class_probability_gaps(self, params: np.ndarray) -> np.ndarray:
        """``max |P_k - P_m|`` over all rows, block by block (no (rows, K) array is held).

        Per block the probabilities follow from the differenced layout: the
        chosen alternative's is ``exp(-c) / T`` and the others' ``exp(v_j - c) /
        T``, with ``v`` the utility differences, ``c = max(0, max_j v_j)`` and
        ``T = exp(-c) + sum_j exp(v_j - c)``; padded entries are 0 in every class.
        """
        C = self.layout.unpack(params).class_coefficients
        K = C.shape[0]
        gaps = np.zeros((K, K))
        with np.errstate(over="ignore", invalid="ignore"):
            for blk in self.blocks.blocks:
                Lw, J1, S = blk.D.shape
                V = (C @ blk.D.reshape(Lw, J1 * S)).reshape(K, J1, S)
                if blk.mask is not None:
                    V += blk.mask
                peak = np.maximum(V.max(axis=1), 0.0)
                np.exp(V - peak[:, None, :], out=V)
                first = np.exp(-peak)
                total = first + V.sum(axis=1)
                V /= total[:, None, :]
                first /= total
                for k in range(K):
                    for m in range(k + 1, K):
                        gap = max(float(np.abs(V[k] - V[m]).max(initial=0.0)),
                                  float(np.abs(first[k] - first[m]).max(initial=0.0)))
                        gaps[k, m] = gaps[m, k] = max(gaps[k, m], gap)
        return gaps

    def class_information(self, params: np.ndarray, wh: np.ndarray) -> list[np.ndarray]:
        res = self._pass(params, shares=False, class_weights=np.asarray(wh, float),
                         information=True)
        assert res.info is not None  # information=True
        return [res.info[k] for k in range(self.layout.k_classes)]

    # ------------------------------------------------------------ evaluate
    def _fresh(self, state, params: np.ndarray, log_pi: np.ndarray, order: int) -> bool:
        """Whether ``state`` holds what an evaluation of this order needs at ``params``."""
        if not isinstance(state, PassResult):
            return False
        C = self.layout.unpack(params).class_coefficients
        if not np.array_equal(state.C, C):
            return False
        if order == 0:
            return True
        return (state.own_weights and state.log_shares is not None
                and np.array_equal(state.log_shares, log_pi)
                and (order < 2 or state.info is not None) and state.scores is not None)

    def evaluate(self, params, order: int = 0, state: PassResult | None = None) -> Evaluation:
        """Log-likelihood (order 0), plus scores (1), plus Hessian (2)."""
        params = np.array(params, dtype=float)  # a copy: the evaluation may be memoised
        memo = self._memo
        if memo is not None and memo[0] == params.tobytes():
            return memo[1]
        log_pi = self.log_shares(params)
        if not self._fresh(state, params, log_pi, order):
            state = self._pass(params, information=order >= 2, scores=order >= 1)
        assert state is not None  # _fresh(None, ...) is False
        if (state.ll_obs is not None and state.posteriors is not None  # set with log_shares
                and state.log_shares is not None and np.array_equal(state.log_shares, log_pi)):
            ll_obs, h = state.ll_obs, state.posteriors
        else:
            a = log_pi + state.loglik
            peak = a.max(axis=1, keepdims=True)
            ll_obs = (peak + np.log(np.exp(a - peak).sum(axis=1, keepdims=True)))[:, 0]
            h = np.exp(a - ll_obs[:, None])
        w = self.data.weights
        llf = float(w @ ll_obs)
        if order == 0:
            return Evaluation(params, llf, ll_obs, h, log_pi, state)
        assert state.scores is not None  # a pass with scores=True, or _fresh checked them
        S = self._scores(h, log_pi, state.scores)
        score = w @ S
        if order == 1:
            return Evaluation(params, llf, ll_obs, h, log_pi, replace(state, scores=None), score,
                              S)
        H = self._hessian(S, h, log_pi, state)
        # the per-decision-maker class scores (K x Lw x N) live on in S: not kept twice
        ev = Evaluation(params, llf, ll_obs, h, log_pi, replace(state, scores=None), score, S, H)
        self._memo = (params.tobytes(), ev)
        return ev

    def _scores(self, h: np.ndarray, log_pi: np.ndarray, G: np.ndarray) -> np.ndarray:
        """Per-decision-maker scores (N, d) from the class scores G (K, Lw, N)."""
        lay = self.layout
        K, L = lay.k_classes, lay.k_exog
        N = h.shape[0]
        S = np.zeros((N, lay.n_params))
        for k in range(K):  # loop over classes only
            S[:, lay.class_slice(k)] = h[:, k:k + 1] * G[k, :L].T
        if lay.k_invariant:
            S[:, lay.invariant_slice] = np.einsum("nk,kln->nl", h, G[:, L:])
        if K > 1:
            Z = self.data.exog_membership
            pi = np.exp(log_pi)
            S[:, lay.membership_slice] = ((h - pi)[:, 1:, None] * Z[:, None, :]).reshape(N, -1)
        return S

    def _hessian(self, S: np.ndarray, h: np.ndarray, log_pi: np.ndarray,
                 state: PassResult) -> np.ndarray:
        """sum_n w_n [sum_k h_nk (d2 a_nk + e_nk e_nk') - s_n s_n'] (ALGORITHMS.md section 5).

        The per-decision-maker products are summed over chunks of decision makers, so the
        temporaries stay small whatever N.
        """
        lay, data = self.layout, self.data
        K = lay.k_classes
        w = data.weights
        wh = state.wh
        assert wh is not None and state.info is not None and state.scores is not None  # order 2
        d = lay.n_params
        H = np.zeros((d, d))
        mem = np.arange(d)[lay.membership_slice]
        Z = data.exog_membership
        fulls = [np.r_[self._design_index[k], mem] if K > 1 else self._design_index[k]
                 for k in range(K)]
        for start in range(0, S.shape[0], HESSIAN_CHUNK):
            sl = slice(start, start + HESSIAN_CHUNK)
            Sc = S[sl]
            H -= (Sc * w[sl, None]).T @ Sc
            pi = np.exp(log_pi[sl]) if K > 1 else None
            for k in range(K):
                Gk = state.scores[k][:, sl].T
                if pi is not None:
                    dev = -pi[:, 1:]
                    if k:
                        dev[:, k - 1] += 1.0
                    e = np.hstack([Gk, (dev[:, :, None] * Z[sl, None, :]).reshape(len(Gk), -1)])
                else:
                    e = Gk
                H[np.ix_(fulls[k], fulls[k])] += (e * wh[sl, k:k + 1]).T @ e
        for k in range(K):
            idx = self._design_index[k]
            H[np.ix_(idx, idx)] -= state.info[k]
        if K > 1:
            _, info_m = membership_derivatives(Z, log_pi, h, w)
            H[np.ix_(mem, mem)] -= info_m
        return 0.5 * (H + H.T)

    # ------------------------------------------------------------- M-step
    def share_step(self, params: np.ndarray, evaluation: Evaluation, max_steps: int = 5
                   ) -> np.ndarray:
        """Shares in closed form, or Newton steps on the weighted membership logit."""
        return membership_step(params, self.layout, self.free, self.data.exog_membership,
                               self.data.weights, evaluation.posteriors, max_steps=max_steps)

    def class_step(self, params: np.ndarray, state: PassResult, wh: np.ndarray,
                   context: dict | None = None) -> tuple[np.ndarray, PassResult, float]:
        """One Newton step (with step halving) on the expected complete-data class part.

        The objective is ``sum_n sum_k wh_nk log L_nk``. Returns the new
        parameters, the class state there, and the gain. The full step's pass
        also computes the derivatives at the trial: with ``context["fuse"]``
        the posteriors there and the next M-step's derivatives (the state then
        serves the next E-step without another pass), otherwise those for the
        same weights ``wh`` (the next step of :meth:`fit_classes`).
        """
        lay = self.layout
        C = lay.unpack(params).class_coefficients
        if not (isinstance(state, PassResult) and state.wh is wh and state.info is not None
                and np.array_equal(state.C, C)):
            state = self._pass(params, shares=False, class_weights=wh, information=True)
        assert state.grad is not None and state.info is not None  # information=True
        n_u = lay.membership_slice.start
        G = np.zeros(n_u)
        A = np.zeros((n_u, n_u))
        free = self.free[:n_u].copy()
        total = wh.sum(axis=0)
        for k in range(lay.k_classes):
            idx = self._design_index[k]
            G[idx] += state.grad[k]
            A[np.ix_(idx, idx)] += state.info[k]
            if total[k] <= EMPTY_SHARE * total.sum():
                free[lay.class_slice(k)] = False
        q_old = float(np.sum(wh * state.loglik))
        if not free.any():
            return params, state, 0.0
        step = newton_direction(G[free], A[np.ix_(free, free)])
        where = np.flatnonzero(free)
        fuse = bool(context and context.get("fuse"))

        def along(t):
            trial = params.copy()
            trial[where] += t * step
            if t != 1.0:
                new_state = self._pass(trial, shares=False)
            elif fuse:  # the next E-step and M-step at the trial, in the same pass
                new_state = self._pass(trial, information=True)
            else:  # the next class step with the same weights, in the same pass
                new_state = self._pass(trial, shares=False, class_weights=wh, information=True)
            return float(np.sum(wh * new_state.loglik)), (trial, new_state)

        found = backtrack(along, q_old)
        if found is None:
            return params, state, 0.0
        _, q_new, (trial, new_state) = found
        return trial, new_state, q_new - q_old

    def make_steps(self, newton_steps: int = 1):
        """E- and M-step callables for :func:`mixlogit.em.run_em`, one fused pass per iteration.

        The same generalized EM step as
        :meth:`~mixlogit.likelihood.base.MixtureLikelihood.make_steps` (shares,
        then ``newton_steps`` ascent steps on the class coefficients, so the
        log-likelihood never falls), except that the pass that tests the full
        class step also computes the posteriors and the M-step derivatives at
        the new parameters: when the step is accepted the next E-step and
        M-step read no data.
        """
        pending: dict[bytes, PassResult] = {}
        context: dict = {}

        def estep(params):
            state = pending.pop(params.tobytes(), None)
            pending.clear()
            log_pi = self.log_shares(params)
            if not (isinstance(state, PassResult) and state.own_weights and state.info is not None
                    and state.log_shares is not None and np.array_equal(state.log_shares, log_pi)
                    and np.array_equal(state.C, self.layout.unpack(params).class_coefficients)):
                state = self._pass(params, information=True)
            assert state.ll_obs is not None and state.posteriors is not None  # log_pi given
            assert state.log_shares is not None
            ev = Evaluation(params, float(self.data.weights @ state.ll_obs), state.ll_obs,
                            state.posteriors, state.log_shares, state)
            return ev.llf, ev

        def mstep(params, ev: Evaluation):
            new = params
            if self.layout.k_classes > 1:
                new = self.share_step(params, ev)
            state = ev.state
            wh = state.wh
            for i in range(newton_steps):
                context["fuse"] = i == newton_steps - 1
                new, state, gain = self.class_step(new, state, wh, context)
                if gain <= 0:
                    break
            pending[new.tobytes()] = state
            return new

        return estep, mstep

    def polish_trial(self, params: np.ndarray, *, full_step: bool) -> Evaluation:
        """The full Newton step's trial to order 2 (one fused pass serves the next step too)."""
        return self.evaluate(params, order=2 if full_step else 0)
