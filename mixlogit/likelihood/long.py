"""The long-form mixture likelihood: one row per (situation, available alternative).

:class:`LongLikelihood` implements :class:`~mixlogit.likelihood.base.MixtureLikelihood`
over a :class:`~mixlogit.data.long.ChoiceData`: the analytic log-likelihood,
per-decision-maker scores and Hessian (ALGORITHMS.md section 5) for
class-specific, invariant and membership terms and fixed parameters, the
share step (closed-form shares without covariates, Newton on the weighted
membership logit with them) and one joint Newton step on (betas, delta).
"""
from __future__ import annotations

import numpy as np

from ..data.long import ChoiceData
from ..kernels import (ClassState, class_derivatives, class_state, log_class_shares,
                       membership_derivatives, posteriors, situation_softmax)
from ..params import ParamLayout
from .base import EMPTY_SHARE, Evaluation, MixtureLikelihood, backtrack, newton_direction

__all__ = ["LongLikelihood"]


class LongLikelihood(MixtureLikelihood):
    """The latent-class logit likelihood of long-format choice data.

    Parameters
    ----------
    data : ChoiceData
    layout : ParamLayout
    fixed_mask : ndarray of bool, optional
        Positions held at ``fixed_values``.
    fixed_values : ndarray, optional

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
    supported_starts = ("partition", "subspace")
    default_start = "partition"

    data: ChoiceData

    def __init__(self, data: ChoiceData, layout: ParamLayout, fixed_mask=None, fixed_values=None):
        super().__init__(data, layout, fixed_mask, fixed_values)

    # ------------------------------------------------------------- pieces
    def class_state(self, params: np.ndarray, keep_probabilities: bool = False) -> ClassState:
        d = self.data
        C = self.layout.unpack(params).class_coefficients
        return class_state(d.design_t, C, d.blocks, d.decision_maker_summer,
                           keep_probabilities=keep_probabilities)

    def log_shares(self, params: np.ndarray) -> np.ndarray:
        """Log prior class probabilities of each decision maker, (N, K)."""
        return log_class_shares(self.data.exog_membership, self.layout.unpack(params).gamma)

    def reweighted(self, weights: np.ndarray) -> "LongLikelihood":
        return LongLikelihood(self.data.with_weights(weights), self.layout, self.fixed_mask,
                              self.fixed_values)

    def class_probabilities(self, params: np.ndarray) -> np.ndarray:
        d = self.data
        U = d.design @ self.layout.unpack(params).class_coefficients.T
        P, _ = situation_softmax(U, d.situation_start, d.situation_of_row)
        return P

    def class_information(self, params: np.ndarray, wh: np.ndarray) -> list[np.ndarray]:
        d = self.data
        C = self.layout.unpack(params).class_coefficients
        _, _, info, _ = class_derivatives(d.design_t, C, d.blocks,
                                          wh[d.decision_maker_of_situation],
                                          need_information=True)
        return [info[k] for k in range(self.layout.k_classes)]

    # ------------------------------------------------------------ evaluate
    def evaluate(self, params, order: int = 0, state: ClassState | None = None) -> Evaluation:
        """Log-likelihood (order 0), plus scores (1), plus Hessian (2)."""
        params = np.asarray(params, dtype=float)
        data, lay = self.data, self.layout
        if state is None:
            state = self.class_state(params, keep_probabilities=order >= 1)
        log_pi = self.log_shares(params)
        ll_obs, h = posteriors(log_pi, state.loglik)
        w = data.weights
        llf = float(w @ ll_obs)
        if order == 0:
            return Evaluation(params, llf, ll_obs, h, log_pi, state)

        K, L = lay.k_classes, lay.k_exog
        N = data.n_decision_makers
        wh = w[:, None] * h
        C = lay.unpack(params).class_coefficients
        _, grad_c, info_c, dev = class_derivatives(
            data.design_t, C, data.blocks, wh[data.decision_maker_of_situation],
            need_information=order >= 2, need_deviations=True, probabilities=state.probabilities)
        Lw = C.shape[1]
        # per-decision-maker class scores sum_t (w_chosen - wbar_k), shape (K, N, Lw)
        G = (data.decision_maker_summer @ dev.reshape(dev.shape[0], -1)).reshape(N, K, Lw)
        G = G.transpose(1, 0, 2)
        S = np.zeros((N, lay.n_params))
        for k in range(K):
            S[:, lay.class_slice(k)] = h[:, k:k + 1] * G[k][:, :L]
        S[:, lay.invariant_slice] = np.einsum("nk,knl->nl", h, G[:, :, L:])
        pi = np.exp(log_pi)
        if K > 1:
            Z = data.exog_membership
            S[:, lay.membership_slice] = ((h - pi)[:, 1:, None] * Z[:, None, :]).reshape(N, -1)
        score = w @ S
        if order == 1:
            return Evaluation(params, llf, ll_obs, h, log_pi, state, score, S)

        # Hessian: sum_n w_n [sum_k h_nk (d2 a_nk + e_nk e_nk') - s_n s_n']
        H = -(S * w[:, None]).T @ S
        mem = np.arange(lay.n_params)[lay.membership_slice]
        for k in range(K):
            idx = lay.class_design_index(k)
            H[np.ix_(idx, idx)] -= info_c[k]
            if K > 1:
                onehot = np.zeros(K)
                onehot[k] = 1.0
                e_mem = ((onehot - pi)[:, 1:, None] * data.exog_membership[:, None, :]).reshape(N, -1)
                e = np.hstack([G[k], e_mem])
                full = np.r_[idx, mem]
            else:
                e, full = G[k], idx
            H[np.ix_(full, full)] += (e * wh[:, k:k + 1]).T @ e
        if K > 1:
            _, info_m = membership_derivatives(data.exog_membership, log_pi, h, w)
            H[np.ix_(mem, mem)] -= info_m
        return Evaluation(params, llf, ll_obs, h, log_pi, state, score, S, 0.5 * (H + H.T))


    # ------------------------------------------------------------- M-step
    def share_step(self, params: np.ndarray, evaluation: Evaluation, max_steps: int = 5
                   ) -> np.ndarray:
        """Shares in closed form, or Newton steps on the weighted membership logit."""
        h, log_pi = evaluation.posteriors, evaluation.log_shares
        lay = self.layout
        mem = np.arange(lay.n_params)[lay.membership_slice]
        w = self.data.weights
        free = self.free[mem]
        if not free.any():
            return params
        if lay.k_membership == 1 and free.all():
            total = (w[:, None] * h).sum(axis=0)
            share = np.maximum(total / total.sum(), 1e-300)
            params = params.copy()
            params[mem] = np.log(share[1:]) - np.log(share[0])
            return params
        Z = self.data.exog_membership

        def objective(theta):
            lp = log_class_shares(Z, lay.unpack(theta).gamma)
            return float(np.sum(w[:, None] * h * lp)), lp

        q_old = float(np.sum(w[:, None] * h * log_pi))
        for _ in range(max_steps):
            grad, info = membership_derivatives(Z, log_pi, h, w)
            step = newton_direction(grad[free], info[np.ix_(free, free)])

            def along(t, base=params, step=step):
                theta = base.copy()
                theta[mem[free]] += t * step
                q, lp = objective(theta)
                return q, (theta, lp)

            found = backtrack(along, q_old)
            if found is None:
                return params
            _, q_new, (params, log_pi) = found
            gain, q_old = q_new - q_old, q_new
            if gain <= 1e-10 * max(abs(q_old), 1.0):
                break
        return params

    def class_step(self, params: np.ndarray, state: ClassState, wh: np.ndarray,
                   context: dict | None = None) -> tuple[np.ndarray, ClassState, float]:
        """One Newton step (with step halving) on the expected complete-data class part.

        Returns the new parameters, the class state there, and the gain in the
        objective sum_k sum_s c_sk log P_k(y_s).
        """
        data, lay = self.data, self.layout
        c = wh[data.decision_maker_of_situation]
        C = lay.unpack(params).class_coefficients
        _, grad_c, info_c, _ = class_derivatives(data.design_t, C, data.blocks, c,
                                                 probabilities=state.probabilities)
        n_u = lay.membership_slice.start
        G = np.zeros(n_u)
        A = np.zeros((n_u, n_u))
        free = self.free[:n_u].copy()
        total = wh.sum(axis=0)
        for k in range(lay.k_classes):
            idx = lay.class_design_index(k)
            G[idx] += grad_c[k]
            A[np.ix_(idx, idx)] += info_c[k]
            if total[k] <= EMPTY_SHARE * total.sum():
                free[lay.class_slice(k)] = False
        q_old = float(np.sum(c * state.logp_situation))
        if not free.any():
            return params, state, 0.0
        step = newton_direction(G[free], A[np.ix_(free, free)])
        where = np.flatnonzero(free)

        def along(t):
            trial = params.copy()
            trial[where] += t * step
            new_state = self.class_state(trial, keep_probabilities=True)
            return float(np.sum(c * new_state.logp_situation)), (trial, new_state)

        found = backtrack(along, q_old)
        if found is None:
            return params, state, 0.0
        _, q_new, (trial, new_state) = found
        return trial, new_state, q_new - q_old

