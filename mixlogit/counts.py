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
* :class:`CountsLikelihood` duck-types :class:`mixlogit.likelihood.Likelihood`
  (``evaluate``, ``make_steps``, ``fit_classes``, ``polish``), so
  :func:`mixlogit.likelihood.estimate`, :func:`mixlogit.em.run_starts` and
  :class:`mixlogit.results.MixedMultinomialLogitResults` work unchanged.
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

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from statsmodels.base.model import LikelihoodModel

from .exceptions import DataError, IdentificationWarning, SpecificationError, warn
from .likelihood import EMPTY_SHARE, Evaluation, Likelihood, newton_direction
from .model import MixedMultinomialLogit, check_k_classes
from .params import ParamLayout

__all__ = ["CountsData", "CountsState", "CountsLikelihood", "CountsMixedMultinomialLogit",
           "column_softmax"]

#: a candidate whose mixture probability is below this is recomputed in log space
_TINY = 1e-280
#: bytes of the per-chunk copy of the scores when accumulating the Hessian
_CHUNK_BYTES = 64 * 2**20


# --------------------------------------------------------------------------- data
@dataclass(frozen=True, eq=False)
class CountsData:
    """Candidates and counts of the counts form, read-only.

    The ``p`` candidates double as the decision-maker *types* of the long form
    (type ``j``: the draws that chose candidate ``j``), so the attributes the
    results object reads from a long-format :class:`~mixlogit.data.ChoiceData`
    exist here with that meaning: ``n_rows``, ``n_situations`` and
    ``n_decision_makers`` are all ``p``, ``weights`` are the counts, and
    ``n_alternatives`` is ``p`` for every type. The number of draws
    ``N = counts.sum()`` is :attr:`n_draws`; it is the ``N`` of BIC and CAIC
    (``results.n_effective``).

    Attributes
    ----------
    features : ndarray, shape (p, L)
        Candidate features.
    counts : ndarray, shape (p,)
        Number of draws that chose each candidate (non-negative, may be fractional).
    exog_names : tuple of str
        Feature (coefficient) names.
    candidate_ids : ndarray, shape (p,)
        Labels of the candidates (the index of a features DataFrame, else 0..p-1).
    """

    features: np.ndarray
    counts: np.ndarray
    exog_names: tuple[str, ...]
    candidate_ids: np.ndarray
    invariant_names: tuple[str, ...] = ()
    membership_names: tuple[str, ...] = ("Intercept",)
    has_panel: bool = False
    weights: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", self.counts)
        for arr in (self.features, self.counts):
            arr.setflags(write=False)

    # ---------------------------------------------------------------- sizes
    @property
    def n_candidates(self) -> int:
        """Number of candidates ``p``."""
        return int(self.features.shape[0])

    @property
    def n_features(self) -> int:
        """Number of features ``L``."""
        return int(self.features.shape[1])

    @property
    def n_draws(self) -> float:
        """Number of draws ``N = counts.sum()``."""
        return float(self.counts.sum())

    @property
    def n_rows(self) -> int:
        """``p``: one row per candidate (the ``p x p`` long form is never built)."""
        return self.n_candidates

    @property
    def n_situations(self) -> int:
        """``p``: one choice situation per decision-maker type."""
        return self.n_candidates

    @property
    def n_decision_makers(self) -> int:
        """``p`` decision-maker types (weighted by the counts; ``N`` is :attr:`n_draws`)."""
        return self.n_candidates

    @property
    def n_alternatives(self) -> np.ndarray:
        """Every type chooses among all ``p`` candidates."""
        return np.full(self.n_candidates, self.n_candidates)

    @property
    def n_situations_per_decision_maker(self) -> np.ndarray:
        return np.ones(self.n_candidates, dtype=np.int64)

    @property
    def decision_maker_of_situation(self) -> np.ndarray:
        return np.arange(self.n_candidates)

    @property
    def decision_maker_ids(self) -> np.ndarray:
        return self.candidate_ids

    @property
    def situation_ids(self) -> np.ndarray:
        return self.candidate_ids

    @property
    def exog(self) -> np.ndarray:
        return self.features

    @property
    def exog_invariant(self) -> np.ndarray:
        return np.empty((self.n_candidates, 0))

    @property
    def exog_membership(self) -> np.ndarray:
        """The constant, one row per type (no membership covariates in the counts form)."""
        return np.ones((self.n_candidates, 1))

    def with_weights(self, weights: np.ndarray) -> "CountsData":
        """The same candidates with other counts (for example a bootstrap replicate)."""
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (self.n_candidates,):
            raise DataError(f"weights must have one entry per candidate ({self.n_candidates}), "
                            f"got shape {weights.shape}")
        return CountsData(self.features, weights.copy(), self.exog_names, self.candidate_ids)

    # ---------------------------------------------------------- construction
    @classmethod
    def from_arrays(cls, counts, features, *, feature_names: Sequence[str] | None = None
                    ) -> "CountsData":
        """Validate counts and features.

        Parameters
        ----------
        counts : array_like or Series, shape (p,)
            Non-negative counts; a Series is aligned on the features' index when
            both carry one.
        features : array_like or DataFrame, shape (p, L)
            Candidate features; a DataFrame's columns name the coefficients and
            its index labels the candidates.
        feature_names : sequence of str, optional
            Names of the features (default: DataFrame columns, else ``x1..xL``).

        Returns
        -------
        CountsData

        Raises
        ------
        DataError
            Non-numeric, non-finite or negative values, mismatched lengths or
            labels, no draws, or features whose covariance over the candidates
            is singular (a constant column, or collinear columns: their
            coefficients are not identified in a softmax).
        """
        ids = None
        if isinstance(features, pd.DataFrame):
            if feature_names is None:
                feature_names = [str(c) for c in features.columns]
            ids = features.index
            features = features.to_numpy()
        try:
            X = np.array(features, dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataError(f"features must be a numeric p x L array: {exc}") from None
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[0] < 2:
            raise DataError(f"features must be a p x L array with p >= 2 candidates, got shape "
                            f"{X.shape}")
        p, L = X.shape
        if isinstance(counts, pd.Series):
            if ids is not None and not counts.index.equals(ids):
                if len(counts) == p and counts.index.is_unique and set(counts.index) == set(ids):
                    counts = counts.reindex(ids)
                else:
                    raise DataError("the index of counts does not match the index of features; "
                                    "give counts for exactly the feature rows")
            elif ids is None:
                ids = counts.index
            counts = counts.to_numpy()
        try:
            n = np.array(counts, dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataError(f"counts must be numeric: {exc}") from None
        if n.ndim != 1 or n.shape[0] != p:
            raise DataError(f"counts must have one entry per candidate ({p}), got shape {n.shape}")
        if not np.all(np.isfinite(n)) or np.any(n < 0):
            raise DataError("counts must be finite and non-negative")
        if n.sum() <= 0:
            raise DataError("counts sum to zero: there are no draws")
        if not np.all(np.isfinite(X)):
            bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
            raise DataError(f"features have non-finite values in {bad.size} row(s), first at "
                            f"row {bad[0]}; drop those candidates or fill the values")
        if feature_names is None:
            feature_names = [f"x{j + 1}" for j in range(L)]
        names = tuple(str(s) for s in feature_names)
        if len(names) != L:
            raise SpecificationError(f"{len(names)} feature names for {L} columns")
        if len(set(names)) != L:
            raise SpecificationError(f"feature names must be unique, got {list(names)}")
        from .moments import whiten

        whiten(X, names=names)  # raises DataError on a singular feature covariance
        ids_arr = np.arange(p) if ids is None else np.asarray(ids)
        return cls(features=X, counts=n, exog_names=names, candidate_ids=ids_arr)


# ------------------------------------------------------------------ kernels
def column_softmax(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Softmax over the candidates (rows) of each column of utilities.

    Parameters
    ----------
    eta : ndarray, shape (p, K)

    Returns
    -------
    sigma : ndarray, shape (p, K)
        ``exp(eta_jk) / sum_l exp(eta_lk)``.
    log_sigma : ndarray, shape (p, K)

    Examples
    --------
    >>> import numpy as np
    >>> sigma, log_sigma = column_softmax(np.array([[0.0, 1000.0], [0.0, 0.0]]))
    >>> sigma
    array([[0.5, 1. ],
           [0.5, 0. ]])
    """
    peak = eta.max(axis=0)
    E = np.exp(eta - peak)
    total = E.sum(axis=0)
    E /= total
    return E, eta - (peak + np.log(total))


@dataclass(frozen=True, eq=False)
class CountsState:
    """Per-class quantities at given class coefficients (the counts analogue of ``ClassState``).

    Attributes
    ----------
    eta : ndarray, shape (p, K)
        Utilities ``x_j' beta_k``.
    sigma : ndarray, shape (p, K)
        Class choice probabilities ``sigma_j(beta_k)``.
    log_sigma : ndarray, shape (p, K)
    """

    eta: np.ndarray
    sigma: np.ndarray
    log_sigma: np.ndarray

    @property
    def P(self) -> np.ndarray:
        return self.sigma

    @property
    def loglik(self) -> np.ndarray:
        """Class log-likelihood of each decision-maker type, ``log sigma_jk``."""
        return self.log_sigma

    @property
    def logp_situation(self) -> np.ndarray:
        return self.log_sigma

    @classmethod
    def from_utilities(cls, eta: np.ndarray) -> "CountsState":
        sigma, log_sigma = column_softmax(eta)
        return cls(eta, sigma, log_sigma)


def _class_covariance(XT: np.ndarray, weights: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``sum_j w_j x_j x_j' - (sum w) mean mean'`` with one symmetric product (BLAS syrk).

    ``XT`` is the transposed features, ``L x p`` and C-contiguous: products with
    a long inner dimension run several times faster in that layout.
    """
    Xs = XT * np.sqrt(weights)
    G = Xs @ Xs.T
    return G - weights.sum() * np.outer(mean, mean)


# --------------------------------------------------------------- likelihood
class CountsLikelihood(Likelihood):
    """The counts-form mixture log-likelihood ``sum_j n_j log sum_k alpha_k sigma_j(beta_k)``.

    Duck-types :class:`mixlogit.likelihood.Likelihood`: the same attributes
    (``data``, ``layout``, ``fixed_mask``, ``fixed_values``, ``free``) and
    methods (``apply_fixed``, ``evaluate``, ``make_steps``, ``fit_classes``,
    ``polish``), with per-candidate (per decision-maker type) arrays of length
    ``p`` where the long form has one entry per decision maker. ``polish`` is
    inherited: it only calls :meth:`evaluate`.

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
    >>> lik = model._likelihood()
    >>> theta = model.layout.pack(sim.betas, gamma=np.log(sim.shares)[:, None])
    >>> ev = lik.evaluate(theta, order=2)
    >>> ev.posteriors.shape, ev.hessian.shape
    ((300, 3), (17, 17))
    """

    def __init__(self, data: CountsData, layout: ParamLayout, fixed_mask=None, fixed_values=None):
        # no call to Likelihood.__init__: it may prepare long-format structures
        self.data = data
        self.layout = layout
        d = layout.n_params
        self.fixed_mask = np.zeros(d, bool) if fixed_mask is None else np.asarray(fixed_mask, bool)
        self.fixed_values = np.zeros(d) if fixed_values is None else np.asarray(fixed_values, float)
        self.free = ~self.fixed_mask
        self._positive = np.flatnonzero(data.counts > 0)
        self._XT = np.ascontiguousarray(data.features.T)  # L x p: fast BLAS layout

    # ------------------------------------------------------------- pieces
    def class_state(self, params: np.ndarray) -> CountsState:
        """Utilities and class choice probabilities of every candidate, ``O(p K L)``."""
        betas = self.layout.unpack(params).betas
        return CountsState.from_utilities(np.ascontiguousarray((betas @ self._XT).T))

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
        """log pi_j and posteriors h_jk, with a log-space pass only where pi_j underflows."""
        q = state.sigma * np.exp(log_alpha)
        pi = q.sum(axis=1)
        with np.errstate(divide="ignore"):
            log_pi = np.log(pi)
        h = q
        tiny = pi < _TINY
        if tiny.any():
            a = state.log_sigma[tiny] + log_alpha
            peak = a.max(axis=1, keepdims=True)
            tot = np.exp(a - peak).sum(axis=1, keepdims=True)
            log_pi[tiny] = (peak + np.log(tot))[:, 0]
            pi = np.where(tiny, 1.0, pi)
            h = q / pi[:, None]
            h[tiny] = np.exp(a - log_pi[tiny][:, None])
            return log_pi, h
        h /= pi[:, None]
        return log_pi, h

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
        mu = (self._XT @ state.sigma).T                             # (K, L)
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
        for k in range(K):
            idx = np.arange(lay.class_slice(k).start, lay.class_slice(k).stop)
            Sigma = _class_covariance(self._XT, state.sigma[:, k], mu[k])
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
    def _update_shares(self, params: np.ndarray, C: np.ndarray, max_steps: int = 20) -> np.ndarray:
        """Maximise ``sum_k C_k log alpha_k`` over the free share logits."""
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
            t = 1.0
            for _ in range(30):
                trial = params.copy()
                trial[mem[free]] += t * step
                q_new = float(C @ self.log_alpha(trial))
                if q_new >= q_old - 1e-12 * abs(q_old):
                    break
                t *= 0.5
            else:
                break
            gain, params, q_old = q_new - q_old, trial, q_new
            if gain <= 1e-12 * max(abs(q_old), 1.0):
                break
        return params

    def class_informations(self, state: CountsState) -> np.ndarray:
        """``Sigma_k``, the covariance of the features under class k's softmax, (K, L, L).

        ``O(p K L^2)``: the expensive part of an M-step, so EM reuses it over
        several iterations (see :meth:`make_steps`).
        """
        mu = (self._XT @ state.sigma).T
        return np.stack([_class_covariance(self._XT, state.sigma[:, k], mu[k])
                         for k in range(self.layout.k_classes)])

    def _class_step(self, params: np.ndarray, state: CountsState, c: np.ndarray,
                    Sigma: np.ndarray) -> tuple[np.ndarray, CountsState, float, bool]:
        """One Newton step per class on ``sum_j c_jk log sigma_j(beta_k)``, with step halving.

        ``Sigma`` (K, L, L) is the metric (exact or from an earlier iteration);
        step halving keeps the ascent whatever it is. Returns the new parameters,
        their state, the gain and whether any class needed halving.
        """
        lay, XT = self.layout, self._XT
        K, L = lay.k_classes, lay.k_exog
        C = c.sum(axis=0)
        grad = (XT @ c).T - C[:, None] * (XT @ state.sigma).T       # sum c x - C mu, (K, L)
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
        D = np.ascontiguousarray((delta[active] @ XT).T)            # (p, K_active)
        eta = state.eta[:, active]
        ca, Ca = c[:, active], C[active]

        def objective(E):
            peak = E.max(axis=0)
            lse = peak + np.log(np.exp(E - peak).sum(axis=0))
            return np.einsum("pk,pk->k", ca, E) - Ca * lse

        q_old = objective(eta)
        t = np.ones(active.size)
        ok = np.zeros(active.size, bool)
        halved = False
        for _ in range(31):
            q_new = objective(eta + t * D)
            ok = q_new >= q_old - 1e-12 * np.abs(q_old)
            if ok.all():
                break
            halved = True
            t = np.where(ok, t, 0.5 * t)
        t = np.where(ok, t, 0.0)
        if not np.any(t > 0):
            return params, state, 0.0, True
        betas = lay.unpack(params).betas.copy()
        betas[active] += t[:, None] * delta[active]
        new = params.copy()
        new[:lay.n_class_params] = betas.ravel()
        new_eta = state.eta.copy()
        new_eta[:, active] = eta + t * D
        gain = float(np.sum(np.where(ok, q_new - q_old, 0.0)))
        return new, CountsState.from_utilities(new_eta), gain, halved

    def fit_classes(self, params: np.ndarray, wh: np.ndarray, *, max_steps: int = 30,
                    tol: float = 1e-10) -> np.ndarray:
        """Maximise the class part for fixed weights ``wh`` (p x K, count times posterior).

        Newton with the exact information at every step.
        """
        params = self.apply_fixed(params)
        state = self.class_state(params)
        scale = max(float(wh.sum()), 1.0)
        for _ in range(max_steps):
            params, state, gain, _ = self._class_step(params, state, wh,
                                                      self.class_informations(state))
            if gain <= tol * scale:
                break
        return params

    def make_steps(self, newton_steps: int = 1, refresh: int = 20):
        """E- and M-step callables for :func:`mixlogit.em.run_em`.

        Parameters
        ----------
        newton_steps : int
            Newton steps on the class coefficients per EM iteration (one gives
            a generalized EM, which keeps the ascent).
        refresh : int
            The class informations ``Sigma_k`` (``O(p K L^2)``) are recomputed
            every ``refresh`` iterations; in between the last ones serve as the
            Newton metric. Step halving keeps every iteration an ascent, so this
            trades a slightly less exact inner step for an ``O(p K L)``
            iteration.

        Returns
        -------
        estep, mstep : callable
        """
        cache: dict[bytes, CountsState] = {}
        metric: dict[str, Any] = {"Sigma": None, "age": 0}
        n = self.data.counts

        estep = self._cached_estep(cache)

        def mstep(params, ev: Evaluation):
            c = n[:, None] * ev.posteriors
            new = params
            if self.layout.k_classes > 1:
                new = self._update_shares(params, c.sum(axis=0))
            state = ev.state
            for _ in range(newton_steps):
                if metric["Sigma"] is None or metric["age"] >= refresh:
                    metric["Sigma"], metric["age"] = self.class_informations(state), 0
                new, state, gain, _ = self._class_step(new, state, c, metric["Sigma"])
                metric["age"] += 1
                if gain <= 0:
                    break
            cache[new.tobytes()] = state
            return new

        return estep, mstep

    # ------------------------------------------------------------ moments
    def latent_moments(self, order: int = 2):
        """Latent moments of the counts (see :func:`mixlogit.moments.latent_moments`)."""
        from .moments import latent_moments

        return latent_moments(self.data.counts, self.data.features, order=order)


# -------------------------------------------------------------------- model
class CountsMixedMultinomialLogit(MixedMultinomialLogit):
    """A softmax mixture fitted from counts over one shared candidate set.

    Build it with :meth:`mixlogit.MixedMultinomialLogit.from_counts`; it has
    the methods of :class:`~mixlogit.MixedMultinomialLogit` (``fit``,
    ``loglike``, ``score``, ``hessian``, ``loglikeobs``, ``predict``), with the
    per-decision-maker arrays indexed by candidate (the draws that chose it).
    The default start of :meth:`fit` is ``"mom"``.

    Parameters
    ----------
    counts : array_like or Series, shape (p,)
        Number of draws that chose each candidate.
    features : array_like or DataFrame, shape (p, L)
        Candidate features; DataFrame columns name the coefficients.
    k_classes : int
        Number of mixture components.
    feature_names : sequence of str, optional
        Coefficient names when ``features`` is an array.

    Examples
    --------
    >>> import pandas as pd
    >>> import mixlogit as mx
    >>> from mixlogit.datasets.simulate import simulate_counts
    >>> sim = simulate_counts(n_candidates=400, n_draws=30_000, seed=1)
    >>> X = pd.DataFrame(sim.features, columns=["a", "b", "c", "d", "e"])
    >>> model = mx.MixedMultinomialLogit.from_counts(sim.counts, X, k_classes=3)
    >>> res = model.fit(n_starts=3, seed=0)
    >>> res.params.index[:2].tolist()
    ['class1:a', 'class1:b']
    >>> round(float(res.predict().sum()), 6)
    1.0
    >>> res.posterior_probs().shape
    (400, 3)
    """

    _default_start = "mom"

    def __init__(self, counts, features, *, k_classes: int,
                 feature_names: Sequence[str] | None = None):
        data = CountsData.from_arrays(counts, features, feature_names=feature_names)
        k_classes = check_k_classes(k_classes)
        p, L = data.features.shape
        if k_classes * (L + 1) - 1 > p - 1:
            raise SpecificationError(
                f"k_classes={k_classes} with L={L} features has {k_classes * (L + 1) - 1} "
                f"parameters but {p} candidates give only {p - 1} free choice probabilities; "
                "use fewer classes or more candidates")
        if (data.counts > 0).sum() < k_classes:
            warn(f"only {(data.counts > 0).sum()} candidates were ever chosen, fewer than "
                 f"k_classes={k_classes}: the classes are hardly identified", IdentificationWarning)
        self.choice_data = data
        self.k_classes = k_classes
        self.layout = ParamLayout(k_classes, data.exog_names, (), ("Intercept",))
        self.formula_spec = None
        self.data_index = pd.Index(data.candidate_ids, name="candidate")
        LikelihoodModel.__init__(self, data.counts, data.features, missing="none")
        self.k_extra = 0
        self.df_model = self.layout.n_params
        self.nobs = data.n_draws
        self.data_frame = None

    @property
    def counts(self) -> np.ndarray:
        """Counts per candidate."""
        return self.choice_data.counts

    @property
    def features(self) -> np.ndarray:
        """Candidate features, (p, L)."""
        return self.choice_data.features

    @property
    def n_draws(self) -> float:
        """Number of draws ``N``."""
        return self.choice_data.n_draws

    def _likelihood(self, fixed: Mapping[str, float] | None = None) -> CountsLikelihood:
        mask, values = self.layout.fixed_mask(fixed)
        return CountsLikelihood(self.choice_data, self.layout, mask, values)

    def predict(self, params, exog=None, *, kind: str = "probability", **kwargs):
        """Choice probabilities of the candidates.

        Parameters
        ----------
        params : array_like
            Parameter vector.
        exog : array_like or DataFrame, shape (q, L), optional
            Features of a (new) candidate set; the softmax runs over its rows.
            Default: the estimation candidates.
        kind : str
            ``"probability"``: the mixture probability ``sum_k alpha_k
            sigma_j(beta_k)`` (a Series summing to one); ``"class"``: each
            class's ``sigma_j(beta_k)`` (a DataFrame, one column per class).

        Returns
        -------
        Series or DataFrame
            Indexed by candidate.
        """
        if kwargs:
            raise SpecificationError(f"predict: unsupported arguments {sorted(kwargs)} for the "
                                     "counts form")
        if kind not in ("probability", "class"):
            raise SpecificationError(f"kind={kind!r}; use 'probability' or 'class'")
        lay = self.layout
        if exog is None:
            X, index = self.choice_data.features, self.data_index
        else:
            index = exog.index if isinstance(exog, pd.DataFrame) else None
            if isinstance(exog, pd.DataFrame):
                missing = [c for c in lay.exog_names if c not in exog.columns]
                if not missing:
                    exog = exog[list(lay.exog_names)]
            X = np.asarray(exog, dtype=float)
            X = X[:, None] if X.ndim == 1 else X
            if X.ndim != 2 or X.shape[1] != lay.k_exog:
                raise SpecificationError(f"new features must have {lay.k_exog} columns "
                                         f"({list(lay.exog_names)}), got shape {X.shape}")
            index = pd.RangeIndex(X.shape[0], name="candidate") if index is None else index
        u = lay.unpack(params)
        sigma, _ = column_softmax(X @ u.betas.T)
        if kind == "class":
            return pd.DataFrame(sigma, index=index, columns=lay.class_names)
        g = u.gamma[:, 0]
        alpha = np.exp(g - g.max())
        alpha /= alpha.sum()
        return pd.Series(sigma @ alpha, index=index, name="probability")
