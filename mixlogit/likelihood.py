"""The latent-class logit likelihood on one data set: evaluation, EM steps, polish.

:class:`Likelihood` binds a :class:`~mixlogit.data.ChoiceData`, a
:class:`~mixlogit.params.ParamLayout` and the fixed parameters. It computes
the log-likelihood, per-decision-maker scores and the analytic Hessian
(ALGORITHMS.md section 5), supplies the E- and M-steps to the generic loop of
:mod:`mixlogit.em`, and polishes an EM solution by Newton's method.
:func:`estimate` runs the whole check-free pipeline (starts, EM, polish) and is
what the model's ``fit`` and the bootstrap both call.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .data import ChoiceData
from .em import EMRun, StartReport, run_starts, summarize_starts
from .kernels import (ClassState, class_derivatives, class_state, log_class_shares,
                      membership_derivatives, posteriors)
from .params import ParamLayout

__all__ = ["Evaluation", "Likelihood", "Estimate", "estimate", "newton_direction"]

#: a class whose total posterior weight falls below this share is not updated
EMPTY_SHARE = 1e-10


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Log-likelihood and, on request, its derivatives at one parameter vector."""

    params: np.ndarray
    llf: float
    loglike_obs: np.ndarray          # (N,) unweighted log-likelihood per decision maker
    posteriors: np.ndarray           # (N, K)
    log_shares: np.ndarray           # (N, K)
    state: ClassState
    score: np.ndarray | None = None        # (d,)
    score_obs: np.ndarray | None = None    # (N, d) unweighted
    hessian: np.ndarray | None = None      # (d, d)


def newton_direction(gradient: np.ndarray, information: np.ndarray) -> np.ndarray:
    """Newton ascent direction, modified where the information is not positive definite.

    Solves ``information @ step = gradient``; when the information has
    non-positive or tiny eigenvalues, they are replaced by their absolute value
    floored at a small fraction of the largest one, so the step still ascends.
    """
    try:
        chol = np.linalg.cholesky(information)
        step = np.linalg.solve(chol.T, np.linalg.solve(chol, gradient))
        if np.all(np.isfinite(step)):
            return step
    except np.linalg.LinAlgError:
        pass
    eigval, eigvec = np.linalg.eigh(0.5 * (information + information.T))
    floor = 1e-8 * max(np.abs(eigval).max(), 1e-12)
    eigval = np.maximum(np.abs(eigval), floor)
    return eigvec @ ((eigvec.T @ gradient) / eigval)


class Likelihood:
    """The mixture log-likelihood of one data set and its EM machinery.

    Parameters
    ----------
    data : ChoiceData
    layout : ParamLayout
    fixed_mask : ndarray of bool, optional
        Positions held at ``fixed_values``.
    fixed_values : ndarray, optional
    """

    def __init__(self, data: ChoiceData, layout: ParamLayout, fixed_mask=None, fixed_values=None):
        self.data = data
        self.layout = layout
        d = layout.n_params
        self.fixed_mask = np.zeros(d, bool) if fixed_mask is None else np.asarray(fixed_mask, bool)
        self.fixed_values = np.zeros(d) if fixed_values is None else np.asarray(fixed_values, float)
        self.free = ~self.fixed_mask

    # ------------------------------------------------------------- pieces
    def apply_fixed(self, params: np.ndarray) -> np.ndarray:
        params = np.array(params, dtype=float)
        params[self.fixed_mask] = self.fixed_values[self.fixed_mask]
        return params

    def class_state(self, params: np.ndarray, keep_probabilities: bool = False) -> ClassState:
        d = self.data
        C = self.layout.unpack(params).class_coefficients
        return class_state(d.design_t, C, d.blocks, d.decision_maker_summer,
                           keep_probabilities=keep_probabilities)

    def log_shares(self, params: np.ndarray) -> np.ndarray:
        return log_class_shares(self.data.exog_membership, self.layout.unpack(params).gamma)

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

    def loglike(self, params) -> float:
        return self.evaluate(params).llf

    # ------------------------------------------------------------- M-step
    def _update_membership(self, params: np.ndarray, h: np.ndarray, log_pi: np.ndarray,
                           max_steps: int = 5) -> np.ndarray:
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
            t = 1.0
            for _ in range(30):
                trial = params.copy()
                trial[mem[free]] += t * step
                q_new, lp_new = objective(trial)
                if q_new >= q_old - 1e-12 * abs(q_old):
                    break
                t *= 0.5
            else:
                return params
            gain = q_new - q_old
            params, log_pi, q_old = trial, lp_new, q_new
            if gain <= 1e-10 * max(abs(q_old), 1.0):
                break
        return params

    def _newton_classes(self, params: np.ndarray, state: ClassState, wh: np.ndarray
                        ) -> tuple[np.ndarray, ClassState, float]:
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
        t = 1.0
        for _ in range(30):
            trial = params.copy()
            trial[np.flatnonzero(free)] += t * step
            new_state = self.class_state(trial, keep_probabilities=True)
            q_new = float(np.sum(c * new_state.logp_situation))
            if q_new >= q_old - 1e-12 * abs(q_old):
                return trial, new_state, q_new - q_old
            t *= 0.5
        return params, state, 0.0

    def fit_classes(self, params: np.ndarray, wh: np.ndarray, *, max_steps: int = 30,
                    tol: float = 1e-10) -> np.ndarray:
        """Maximise the class part for fixed posterior weights ``wh`` (N x K) by Newton."""
        params = self.apply_fixed(params)
        state = self.class_state(params)
        scale = max(float(wh.sum()), 1.0)
        for _ in range(max_steps):
            params, state, gain = self._newton_classes(params, state, wh)
            if gain <= tol * scale:
                break
        return params

    def _cached_estep(self, cache: dict):
        """E-step that reuses the class state the M-step left in ``cache`` for its params."""
        def estep(params):
            state = cache.pop(params.tobytes(), None)
            cache.clear()
            ev = self.evaluate(params, state=state)
            return ev.llf, ev

        return estep

    def make_steps(self, newton_steps: int = 1):
        """E- and M-step callables for :func:`mixlogit.em.run_em`, with a one-entry cache."""
        cache: dict[bytes, ClassState] = {}
        w = self.data.weights
        estep = self._cached_estep(cache)

        def mstep(params, ev: Evaluation):
            new = params
            if self.layout.k_classes > 1:
                new = self._update_membership(params, ev.posteriors, ev.log_shares)
            wh = w[:, None] * ev.posteriors
            state = ev.state
            for _ in range(newton_steps):
                new, state, gain = self._newton_classes(new, state, wh)
                if gain <= 0:
                    break
            cache[new.tobytes()] = state
            return new

        return estep, mstep

    # -------------------------------------------------------------- polish
    def polish(self, params: np.ndarray, *, maxiter: int = 100, tol: float = 1e-9,
               history: list | None = None) -> tuple[np.ndarray, Evaluation, int, bool]:
        """Newton's method on the full log-likelihood over the free parameters.

        Where the Hessian is not negative definite the step uses its absolute
        eigenvalues (still an ascent direction); step halving keeps every step
        from lowering the log-likelihood. Stops when the Newton decrement (the
        predicted gain ``g' A^{-1} g``) is below ``tol`` log-likelihood units.

        Parameters
        ----------
        history : list, optional
            The log-likelihood after each accepted step is appended to it.

        Returns
        -------
        params, evaluation (order 2, at params), iterations, converged
        """
        free = self.free
        ev = self.evaluate(params, order=2)
        for it in range(1, maxiter + 1):
            g = ev.score[free]
            A = -ev.hessian[np.ix_(free, free)]
            step = newton_direction(g, A)
            decrement = float(g @ step)
            if decrement <= tol:
                return ev.params, ev, it - 1, True
            t = 1.0
            for _ in range(40):
                trial = ev.params.copy()
                trial[free] += t * step
                llf = self.evaluate(trial).llf
                if np.isfinite(llf) and llf >= ev.llf - 1e-12 * abs(ev.llf):
                    break
                t *= 0.5
            else:
                return ev.params, ev, it, False
            ev = self.evaluate(trial, order=2)
            if history is not None:
                history.append(ev.llf)
        g = ev.score[free]
        decrement = float(g @ newton_direction(g, -ev.hessian[np.ix_(free, free)]))
        return ev.params, ev, maxiter, decrement <= tol


@dataclass
class Estimate:
    """What :func:`estimate` found."""

    params: np.ndarray
    evaluation: Evaluation
    runs: list[EMRun]
    report: StartReport
    em_converged: bool
    polish_iter: int
    polish_converged: bool | None
    seconds: float
    timings: dict = field(default_factory=dict)

    @property
    def llf(self) -> float:
        return self.evaluation.llf

    @property
    def converged(self) -> bool:
        if self.polish_converged is None:
            return self.em_converged
        return self.polish_converged

    @property
    def best_run(self) -> EMRun:
        return self.runs[self.report.best_index]


#: relative log-likelihood change at which each start hands over from EM to Newton
SWITCH_TOL = 1e-5
#: Newton iterations allowed to each start's finish
FINISH_MAXITER = 50


def estimate(likelihood: Likelihood, starts: Sequence[tuple[str, np.ndarray]], *,
             tol: float = 1e-8, maxiter: int = 1000, polish: bool = True, polish_tol: float = 1e-9,
             switch_tol: float = SWITCH_TOL, newton_steps: int = 1, n_jobs: int = 1,
             progress: bool | None = None) -> Estimate:
    """EM from every start, Newton to finish each, keep the best. No input checks.

    With ``polish``, each start runs EM until the relative change of the
    log-likelihood is below ``switch_tol`` (EM's fast phase) and Newton's
    method on the full likelihood then finishes it (EM's slow tail is
    skipped). Without it, EM runs to ``tol``.

    Returns
    -------
    Estimate
        At the best optimum, with the Hessian and scores evaluated there.
    """
    t0 = time.perf_counter()
    starts = [(origin, likelihood.apply_fixed(p)) for origin, p in starts]
    def newton_finish(params):
        history: list[float] = []
        params, _, _, ok = likelihood.polish(params, tol=polish_tol, maxiter=FINISH_MAXITER,
                                             history=history)
        return params, history, ok

    runs = run_starts(lambda: likelihood.make_steps(newton_steps), starts, tol=tol,
                      maxiter=maxiter, n_jobs=n_jobs, progress=progress,
                      finish=newton_finish if polish else None,
                      switch_tol=switch_tol)
    report = summarize_starts(runs)
    best = runs[report.best_index]
    t_em = time.perf_counter() - t0
    params = best.params
    ev = likelihood.evaluate(params, order=2)
    n_polish, polished = (best.n_finish, best.converged) if polish else (0, None)
    return Estimate(params=params, evaluation=ev, runs=runs, report=report,
                    em_converged=best.converged, polish_iter=n_polish, polish_converged=polished,
                    seconds=time.perf_counter() - t0,
                    timings={"em": t_em, "polish": time.perf_counter() - t0 - t_em})
