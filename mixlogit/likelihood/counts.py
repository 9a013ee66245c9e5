"""The counts form: one shared candidate set, the number of times each candidate was chosen.

This is the setting of *Learning large softmax mixtures with warm start EM*
(Bing, Bunea, Niles-Weed and Wegkamp): ``p`` candidates with features
``x_1..x_p`` (``p x L``), shared by ``N`` independent draws from the mixture

    pi_j = sum_k alpha_k sigma_j(beta_k),
    sigma_j(beta) = exp(x_j' beta) / sum_l exp(x_l' beta),

of which only the counts ``n_j`` (how many draws chose candidate ``j``) are kept.
The log-likelihood is ``sum_j n_j log pi_j``.

It is the long form with ``p`` decision-maker *types*: type ``j`` is every draw
that chose candidate ``j``; it faces all ``p`` candidates once and has frequency
weight ``n_j``. The ``p x p`` long data are never built: every quantity below
costs ``O(p K L)`` (E-step, M-step gradient) or ``O(p K L^2)`` (class
information), whatever ``N`` is.

* :class:`CountsData` holds the candidates and counts, and exposes what the
  results object reads from a model's ``choice_data`` (types play the part of
  decision makers; ``weights`` are the counts).
* :class:`CountsLikelihood` implements
  :class:`~mixlogit.likelihood.base.MixtureLikelihood`, so the estimation
  pipeline, the bootstrap, the diagnostics and the results treat both forms
  alike.
* :class:`CountsMixedMultinomialLogit` is what
  :meth:`mixlogit.MixedMultinomialLogit.from_counts` returns.

Derivatives (ALGORITHMS.md sections 2, 5 and 7). With ``a_jk = log alpha_k +
log sigma_jk``, posteriors ``h_jk``, ``mu_k = sum_l sigma_lk x_l`` and
``Sigma_k = sum_l sigma_lk x_l x_l' - mu_k mu_k'``, the score of one draw that
chose ``j`` is ``s_j = sum_k h_jk e_jk`` with ``e_jk = (x_j - mu_k)`` in the
``beta_k`` block and ``(1[k=m] - alpha_m)_{m>=2}`` in the share logits; the
Hessian is

    H = sum_j n_j [sum_k h_jk (D_k + e_jk e_jk') - s_j s_j'],

where ``D_k`` (the Hessian of ``a_jk``) does not depend on ``j``: ``-Sigma_k`` in
the ``beta_k`` block and ``-(diag(alpha) - alpha alpha')`` in the logits. So
``sum_j n_j h_jk D_k = -(sum_j n_j h_jk) D_k``, and the whole Hessian costs
``O(p K L^2 + p_+ d^2)`` (``p_+`` candidates with a positive count), never a
``p x d x d`` array.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.counts import CountsData
from ..params import ParamLayout
from .base import EMPTY_SHARE, Evaluation, MixtureLikelihood, backtrack, newton_direction

__all__ = ["CountsState", "CountsLikelihood"]

#: a candidate whose mixture probability is below this is recomputed in log space
_TINY = 1e-280
#: bytes of the per-chunk copy of the scores when accumulating the Hessian
_CHUNK_BYTES = 64 * 2**20


@dataclass(frozen=True, eq=False)
class CountsState:
    """Per-class quantities at given class coefficients, stored class-major ``(K, p)``.

    Each class's softmax over the ``p`` candidates is then a reduction along a
    long contiguous row. ``eta``, ``sigma`` and ``log_sigma`` are the
    candidate-major ``(p, K)`` views of the same arrays.

    Attributes
    ----------
    eta_t : ndarray, shape (K, p)
        Utilities ``x_j' beta_k``.
    sigma_t : ndarray, shape (K, p)
        Class choice probabilities ``sigma_j(beta_k)``.
    log_sigma_t : ndarray, shape (K, p)
    """

    eta_t: np.ndarray
    sigma_t: np.ndarray
    log_sigma_t: np.ndarray

    @property
    def eta(self) -> np.ndarray:
        return self.eta_t.T

    @property
    def sigma(self) -> np.ndarray:
        return self.sigma_t.T

    @property
    def log_sigma(self) -> np.ndarray:
        return self.log_sigma_t.T

    @property
    def P(self) -> np.ndarray:
        return self.sigma

    @property
    def loglik(self) -> np.ndarray:
        """Class log-likelihood of each decision-maker type, ``log sigma_jk``, (p, K)."""
        return self.log_sigma

    @property
    def logp_situation(self) -> np.ndarray:
        return self.log_sigma

    @classmethod
    def from_utilities(cls, eta_t: np.ndarray) -> CountsState:
        """The state of class-major utilities ``eta_t`` (K, p)."""
        peak = eta_t.max(axis=1)
        ex = np.subtract(eta_t, peak[:, None])
        np.exp(ex, out=ex)
        return cls.from_exponentials(eta_t, ex, peak, ex.sum(axis=1))

    @classmethod
    def from_exponentials(cls, eta_t: np.ndarray, ex: np.ndarray, peak: np.ndarray,
                          total: np.ndarray) -> CountsState:
        """The state from a softmax already computed: ``ex = exp(eta_t - peak)`` (reused in place)."""
        ex /= total[:, None]
        log_sigma = eta_t - (peak + np.log(total))[:, None]
        return cls(eta_t, ex, log_sigma)


def _class_covariance(XT: np.ndarray, weights: np.ndarray, mean: np.ndarray,
                      buffer: np.ndarray | None = None) -> np.ndarray:
    """``sum_j w_j x_j x_j' - (sum w) mean mean'`` with one symmetric product (BLAS syrk).

    ``XT`` is the transposed features, ``L x p`` and C-contiguous: products with
    a long inner dimension run several times faster in that layout. ``buffer``
    (``L x p``) receives the scaled features (no fresh 8 L p bytes per call).
    """
    Xs = np.multiply(XT, np.sqrt(weights), out=buffer)
    G = Xs @ Xs.T
    return G - weights.sum() * np.outer(mean, mean)


# --------------------------------------------------------------- likelihood
class CountsLikelihood(MixtureLikelihood):
    """The counts-form mixture log-likelihood ``sum_j n_j log sum_k alpha_k sigma_j(beta_k)``.

    The candidates are the units: ``posteriors``, ``loglike_obs`` and
    ``score_obs`` have one row per candidate (the draws that chose it) and the
    unit weights are the counts.

    Parameters
    ----------
    data : CountsData
    layout : ParamLayout
        ``K`` classes over the features, no invariant terms, the constant as
        the only membership covariate (the share logits).
    fixed_mask, fixed_values : ndarray, optional
        Parameters held fixed.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.datasets.simulate import simulate_counts
    >>> sim = simulate_counts(n_candidates=300, n_draws=5_000, seed=0)
    >>> model = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features, k_classes=3)
    >>> lik = model.likelihood()
    >>> theta = model.layout.pack(sim.betas, gamma=np.log(sim.shares)[:, None])
    >>> ev = lik.evaluate(theta, order=2)
    >>> ev.posteriors.shape, ev.hessian.shape
    ((300, 3), (17, 17))
    """

    form = "counts"
    supported_starts = ("mom", "subspace", "partition", "short", "split")
    default_start = "mom"
    #: iterations over which EM reuses the class informations as its Newton metric
    METRIC_REFRESH = 20

    data: CountsData

    def __init__(self, data: CountsData, layout: ParamLayout, fixed_mask=None, fixed_values=None):
        super().__init__(data, layout, fixed_mask, fixed_values)
        self._positive = np.flatnonzero(data.counts > 0)
        self._XT = np.ascontiguousarray(data.features.T)  # L x p: fast BLAS layout

    def reweighted(self, weights: np.ndarray) -> CountsLikelihood:
        return CountsLikelihood(self.data.with_weights(weights), self.layout, self.fixed_mask,
                                self.fixed_values)

    def class_probabilities(self, params: np.ndarray) -> np.ndarray:
        return self.class_state(params).sigma

    def class_information(self, params: np.ndarray, wh: np.ndarray) -> list[np.ndarray]:
        Sigma = self.class_informations(self.class_state(params))
        total = wh.sum(axis=0)
        return [total[k] * Sigma[k] for k in range(self.layout.k_classes)]

    # ------------------------------------------------------------- pieces
    def class_state(self, params: np.ndarray) -> CountsState:
        """Utilities and class choice probabilities of every candidate, ``O(p K L)``."""
        betas = self.layout.unpack(params).betas
        return CountsState.from_utilities(betas @ self._XT)

    def log_alpha(self, params: np.ndarray) -> np.ndarray:
        """Log class shares, shape (K,)."""
        g = self.layout.unpack(params).gamma[:, 0]
        m = g.max()
        return g - (m + np.log(np.exp(g - m).sum()))

    def log_shares(self, params: np.ndarray) -> np.ndarray:
        """Log class shares broadcast to one row per type, shape (p, K) (a read-only view)."""
        return np.broadcast_to(self.log_alpha(params), (self.data.n_candidates,
                                                         self.layout.k_classes))

    def _mixture(self, log_alpha: np.ndarray, state: CountsState
                 ) -> tuple[np.ndarray, np.ndarray]:
        """log pi_j and posteriors h_jk (a (p, K) view of a class-major array), with a
        log-space pass only where pi_j underflows."""
        q = state.sigma_t * np.exp(log_alpha)[:, None]             # (K, p)
        pi = q.sum(axis=0)
        with np.errstate(divide="ignore"):
            log_pi = np.log(pi)
        tiny = pi < _TINY
        if tiny.any():
            a = state.log_sigma_t[:, tiny] + log_alpha[:, None]
            peak = a.max(axis=0)
            log_pi[tiny] = peak + np.log(np.exp(a - peak).sum(axis=0))
            pi[tiny] = 1.0
            q /= pi
            q[:, tiny] = np.exp(a - log_pi[tiny])
            return log_pi, q.T
        q /= pi
        return log_pi, q.T

    # ------------------------------------------------------------ evaluate
    def evaluate(self, params, order: int = 0, state: CountsState | None = None) -> Evaluation:
        """Log-likelihood (order 0), plus scores (1), plus Hessian (2).

        ``loglike_obs`` and ``posteriors`` have one row per candidate (the draws
        that chose it); ``score_obs`` is the score of one such draw, so
        ``score = counts @ score_obs``.
        """
        params = np.asarray(params, dtype=float)
        lay, X, n = self.layout, self.data.features, self.data.counts
        if state is None:
            state = self.class_state(params)
        log_alpha = self.log_alpha(params)
        ll_obs, h = self._mixture(log_alpha, state)
        llf = float(n @ ll_obs)
        log_pi = np.broadcast_to(log_alpha, h.shape)
        if order == 0:
            return Evaluation(params, llf, ll_obs, h, log_pi, state)

        K = lay.k_classes
        p = X.shape[0]
        alpha = np.exp(log_alpha)
        mu = state.sigma_t @ X                                      # (K, L)
        S = np.empty((p, lay.n_params))
        for k in range(K):  # loop over classes only
            np.multiply(h[:, k:k + 1], X - mu[k], out=S[:, lay.class_slice(k)])
        mem = np.arange(lay.n_params)[lay.membership_slice]
        if K > 1:
            S[:, mem] = h[:, 1:] - alpha[1:]
        score = n @ S
        if order == 1:
            return Evaluation(params, llf, ll_obs, h, log_pi, state, score, S)

        pos = self._positive
        npos = n[pos]
        H = np.zeros((lay.n_params, lay.n_params))
        step = max(1, _CHUNK_BYTES // (8 * lay.n_params))
        for start in range(0, pos.size, step):  # chunks of candidates bound the memory
            rows = pos[start:start + step]
            Sw = S[rows] * np.sqrt(n[rows])[:, None]
            H -= Sw.T @ Sw                                          # - sum_j n_j s_j s_j'
        c = npos[:, None] * h[pos]                                  # n_j h_jk, positive counts
        C = c.sum(axis=0)
        Xpos = X[pos]
        buffer = np.empty_like(self._XT)
        for k in range(K):
            idx = np.arange(lay.class_slice(k).start, lay.class_slice(k).stop)
            Sigma = _class_covariance(self._XT, state.sigma_t[k], mu[k], buffer)
            Xc = Xpos - mu[k]
            Xc *= np.sqrt(c[:, k])[:, None]
            H[np.ix_(idx, idx)] += Xc.T @ Xc - C[k] * Sigma
            if K > 1:
                v = -alpha[1:].copy()
                if k > 0:
                    v[k - 1] += 1.0
                g = c[:, k] @ (Xpos - mu[k])
                H[np.ix_(idx, mem)] += np.outer(g, v)
                H[np.ix_(mem, idx)] += np.outer(v, g)
                H[np.ix_(mem, mem)] += C[k] * np.outer(v, v)
        if K > 1:
            a1 = alpha[1:]
            H[np.ix_(mem, mem)] -= n.sum() * (np.diag(a1) - np.outer(a1, a1))
        return Evaluation(params, llf, ll_obs, h, log_pi, state, score, S, 0.5 * (H + H.T))

    # ------------------------------------------------------------- M-step
    def share_step(self, params: np.ndarray, evaluation: Evaluation, max_steps: int = 20
                   ) -> np.ndarray:
        """Maximise ``sum_k C_k log alpha_k`` over the free share logits (``C_k = sum_j n_j h_jk``)."""
        C = self.data.counts @ evaluation.posteriors
        lay = self.layout
        mem = np.arange(lay.n_params)[lay.membership_slice]
        free = self.free[mem]
        if not free.any():
            return params
        params = params.copy()
        total = C.sum()
        if free.all():
            share = np.maximum(C / total, 1e-300)
            params[mem] = np.log(share[1:]) - np.log(share[0])
            return params
        q_old = float(C @ self.log_alpha(params))
        for _ in range(max_steps):
            alpha = np.exp(self.log_alpha(params))
            a1 = alpha[1:]
            grad = (C - total * alpha)[1:]
            info = total * (np.diag(a1) - np.outer(a1, a1))
            step = newton_direction(grad[free], info[np.ix_(free, free)])

            def along(t, base=params, step=step):
                theta = base.copy()
                theta[mem[free]] += t * step
                return float(C @ self.log_alpha(theta)), theta

            found = backtrack(along, q_old)
            if found is None:
                break
            _, q_new, params = found
            gain, q_old = q_new - q_old, q_new
            if gain <= 1e-12 * max(abs(q_old), 1.0):
                break
        return params

    def class_informations(self, state: CountsState) -> np.ndarray:
        """``Sigma_k``, the covariance of the features under class k's softmax, (K, L, L).

        ``O(p K L^2)``: the expensive part of an M-step, so EM reuses it over
        several iterations (see :meth:`make_steps`).
        """
        mu = state.sigma_t @ self.data.features
        buffer = np.empty_like(self._XT)
        return np.stack([_class_covariance(self._XT, state.sigma_t[k], mu[k], buffer)
                         for k in range(self.layout.k_classes)])

    def class_step(self, params: np.ndarray, state: CountsState, wh: np.ndarray,
                   context: dict) -> tuple[np.ndarray, CountsState, float]:
        """One Newton step per class on ``sum_j c_jk log sigma_j(beta_k)``, with step halving.

        The metric is the class information ``Sigma_k`` (``O(p K L^2)``); within
        EM it is recomputed every :attr:`METRIC_REFRESH` iterations and reused in
        between (``context`` holds it), since step halving keeps the ascent
        whatever the metric is; ``context["exact"]`` asks for the exact one.
        """
        age = context.get("age", self.METRIC_REFRESH)
        if context.get("exact") or context.get("Sigma") is None or age >= self.METRIC_REFRESH:
            context["Sigma"], age = self.class_informations(state), 0
        context["age"] = age + 1
        new, new_state, gain, _ = self._metric_step(params, state, wh, context["Sigma"], context)
        return new, new_state, gain

    def _class_gradient(self, c_t: np.ndarray, state: CountsState, context: dict | None
                        ) -> tuple[np.ndarray, np.ndarray]:
        """``sum_j c_jk x_j - C_k mu_k`` (K, L) and ``C_k``, with one GEMM over the features."""
        K, p = c_t.shape
        stack = None if context is None else context.get("stack")
        if stack is None or stack.shape != (2 * K, p):
            stack = np.empty((2 * K, p))
            if context is not None:
                context["stack"] = stack  # per-run scratch (runs may go in parallel)
        stack[:K] = c_t
        stack[K:] = state.sigma_t
        M = stack @ self.data.features                              # (2K, L)
        C = c_t.sum(axis=1)
        return M[:K] - C[:, None] * M[K:], C

    def _metric_step(self, params: np.ndarray, state: CountsState, c: np.ndarray,
                     Sigma: np.ndarray, context: dict | None = None
                     ) -> tuple[np.ndarray, CountsState, float, bool]:
        """One Newton step per class on ``sum_j c_jk log sigma_j(beta_k)``, with step halving.

        ``Sigma`` (K, L, L) is the metric (exact or from an earlier iteration);
        step halving keeps the ascent whatever it is. The accepted trial's
        exponentials become the new state (no second softmax). Returns the new
        parameters, their state, the gain and whether any class needed halving.
        """
        lay, XT = self.layout, self._XT
        K, L = lay.k_classes, lay.k_exog
        c_t = np.ascontiguousarray(np.asarray(c, float).T)         # (K, p)
        grad, C = self._class_gradient(c_t, state, context)
        scale = C.sum()
        delta = np.zeros((K, L))
        for k in range(K):
            free = self.free[lay.class_slice(k)]
            if C[k] <= EMPTY_SHARE * scale or not free.any():
                continue
            delta[k, free] = newton_direction(grad[k, free], C[k] * Sigma[k][np.ix_(free, free)])
        active = np.flatnonzero(np.any(delta != 0, axis=1))
        if active.size == 0:
            return params, state, 0.0, False
        every = active.size == K
        D = delta[active] @ XT                                      # (K_active, p)
        eta = state.eta_t if every else state.eta_t[active]
        ca, Ca = (c_t, C) if every else (c_t[active], C[active])

        def objective(t):
            E = D * t[:, None]
            E += eta
            peak = E.max(axis=1)
            ex = np.subtract(E, peak[:, None])
            np.exp(ex, out=ex)
            total = ex.sum(axis=1)
            q = np.einsum("kp,kp->k", ca, E) - Ca * (peak + np.log(total))
            return q, (E, ex, peak, total)

        q_old = np.einsum("kp,kp->k", ca, eta) - Ca * _row_logsumexp(eta)
        t = np.ones(active.size)
        ok = np.zeros(active.size, bool)
        halved = False
        for _ in range(31):
            q_new, parts = objective(t)
            ok = q_new >= q_old - 1e-12 * np.abs(q_old)
            if ok.all():
                break
            halved = True
            t = np.where(ok, t, 0.5 * t)
        if not ok.any():
            return params, state, 0.0, True
        t = np.where(ok, t, 0.0)
        betas = lay.unpack(params).betas.copy()
        betas[active] += t[:, None] * delta[active]
        new = params.copy()
        new[:lay.n_class_params] = betas.ravel()
        trial = CountsState.from_exponentials(*parts)
        if every and ok.all():
            new_state = trial
        else:  # keep the old rows of classes not moved
            moved = active[ok]
            new_state = CountsState(state.eta_t.copy(), state.sigma_t.copy(),
                                    state.log_sigma_t.copy())
            for name in ("eta_t", "sigma_t", "log_sigma_t"):
                getattr(new_state, name)[moved] = getattr(trial, name)[ok]
        gain = float(np.sum(np.where(ok, q_new - q_old, 0.0)))
        return new, new_state, gain, halved


def _row_logsumexp(E: np.ndarray) -> np.ndarray:
    peak = E.max(axis=1)
    return peak + np.log(np.exp(E - peak[:, None]).sum(axis=1))
