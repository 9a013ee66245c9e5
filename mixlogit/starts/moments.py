"""Latent moments, method of moments and subspace starts for softmax mixtures.

This module implements sections 3.2-3.4 and the counts-form Fisher information of
section 7 of ``ALGORITHMS.md``. It works in the *counts form* of the model: one
shared candidate set of ``p`` candidates with features ``X`` (``p x L``) and
``counts`` (length ``p``), the number of times each candidate was chosen in
``N = counts.sum()`` independent draws from the mixture

.. math::

    \\pi_j = \\sum_k \\alpha_k \\sigma_j(\\beta_k), \\qquad
    \\sigma_j(\\beta) = \\frac{\\exp(x_j'\\beta)}{\\sum_l \\exp(x_l'\\beta)}.

Gaussian design identities
--------------------------
If the candidate features are draws from :math:`N(0, I_L)` and ``p`` is large,
:math:`\\sum_l \\exp(x_l'\\beta) \\approx p \\exp(|\\beta|^2/2)` and the Hermite
identity :math:`E[He_r(x) \\exp(x'\\beta - |\\beta|^2/2)] = \\beta^{\\otimes r}` give

* ``M1 = sum_j pihat_j z_j``            ~ ``sum_k alpha_k beta_k``
* ``M2 = sum_j pihat_j (z_j z_j' - I)`` ~ ``sum_k alpha_k beta_k beta_k'``
* ``M3 = sum_j pihat_j He3(z_j)``       ~ ``sum_k alpha_k beta_k^{(x)3}``

where the ``z_j`` are the whitened features and the ``beta_k`` the coefficients in
whitened coordinates. Errors: sampling ``O(N^{-1/2})`` and a finite-``p``
random-design error ``O(sqrt(exp(|beta|^2) / p))``. The identities are exact only
in the limit; they break down when the features are not Gaussian (skewed,
discrete, heavy tailed) or when ``|beta|`` is large relative to ``log p`` (the
softmax then concentrates on a few extreme candidates and the law of large
numbers behind the approximation of the denominator fails).

Everything is computed in whitened coordinates and mapped back to the original
feature coordinates with :class:`Whitening`. The mean shift of the whitening
only adds a constant to every utility, which a softmax ignores.

The module is a leaf: it imports nothing from mixlogit except the exceptions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

import numpy as np
from numpy.polynomial import hermite_e
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp

from ..data.whitening import Whitening, as_features as _as_features, whiten
from ..exceptions import DataError, IdentificationWarning, SpecificationError, warn

__all__ = [
    "Whitening",
    "whiten",
    "Subspace",
    "LatentMoments",
    "latent_moments",
    "MomentEstimate",
    "mom_estimate",
    "subspace_starts",
    "full_space_starts",
    "counts_fisher_information",
    "shares_to_logits",
    "logits_to_shares",
]


_M2_TINY = 1e-8


# --------------------------------------------------------------------------- #
# input validation
# --------------------------------------------------------------------------- #
def _as_counts(counts: ArrayLike, p: int) -> NDArray[np.float64]:
    """Validate non-negative (possibly fractional) counts of length ``p``."""
    try:
        n = np.asarray(counts, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"`counts` must be a numeric vector: {exc}") from None
    if n.ndim != 1:
        raise DataError(f"`counts` must be 1-D (one count per candidate), got shape {n.shape}")
    if n.shape[0] != p:
        raise DataError(f"`counts` has length {n.shape[0]} but `features` has {p} rows (candidates)")
    if not np.all(np.isfinite(n)):
        raise DataError("`counts` has non-finite values (NaN or inf)")
    if np.any(n < 0):
        bad = np.flatnonzero(n < 0)
        raise DataError(
            f"`counts` must be non-negative; {bad.size} negative value(s), first at position {bad[0]} "
            f"({n[bad[0]]:g})"
        )
    if n.sum() <= 0:
        raise DataError("`counts` sums to zero: there are no draws")
    return n


def _check_k(k: int, name: str = "k") -> int:
    """Validate a number of mixture components."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise SpecificationError(f"`{name}` must be a positive integer, got {k!r}")
    if k < 1:
        raise SpecificationError(f"`{name}` must be a positive integer, got {k}")
    return int(k)


# --------------------------------------------------------------------------- #
# latent moments
# --------------------------------------------------------------------------- #
class Subspace(NamedTuple):
    """Leading eigenvectors of ``M2``.

    Attributes
    ----------
    basis : ndarray, shape (L, k)
        Orthonormal eigenvectors of the ``k`` largest eigenvalues of ``M2``
        (whitened coordinates), in descending order of eigenvalue.
    eigenvalues : ndarray, shape (L,)
        All eigenvalues of ``M2``, descending (signed: ``M2`` is symmetric but
        estimated, so small eigenvalues may be negative).
    eigengap : float
        ``lambda_k - lambda_{k+1}`` (with ``lambda_{L+1} = 0`` when ``k = L``).
    """

    basis: NDArray[np.float64]
    eigenvalues: NDArray[np.float64]
    eigengap: float

    @property
    def k(self) -> int:
        """Dimension of the subspace."""
        return int(self.basis.shape[1])

    @property
    def relative_gap(self) -> float:
        """``lambda_{k+1} / lambda_k`` (small is good; ``nan`` if ``lambda_k <= 0``).

        With ``k = L`` it is 0 (``lambda_{L+1} = 0`` by convention).
        """
        k = self.k
        lk = float(self.eigenvalues[k - 1])
        nxt = float(self.eigenvalues[k]) if k < self.eigenvalues.shape[0] else 0.0
        if lk <= 0:
            return float("nan")
        return nxt / lk


@dataclass(frozen=True, eq=False)
class LatentMoments:
    """Latent moments of a softmax mixture under a Gaussian random design.

    Attributes
    ----------
    m1 : ndarray, shape (L,)
        ``sum_j pihat_j z_j`` ~ ``sum_k alpha_k beta_k``.
    m2 : ndarray, shape (L, L)
        ``sum_j pihat_j (z_j z_j' - I)`` ~ ``sum_k alpha_k beta_k beta_k'`` (symmetric).
    m3 : ndarray, shape (L, L, L) or None
        ``sum_j pihat_j He3(z_j)`` ~ ``sum_k alpha_k beta_k^{(x)3}`` (fully
        symmetric), ``None`` when computed with ``order=2``.
    whitening : Whitening or None
        The whitening used (``None`` if the features were used as given).
    n_draws : float
        ``N = counts.sum()`` (may be fractional if the counts are).
    n_candidates : int
        ``p``.
    z : ndarray, shape (p, L)
        The (whitened) features the moments were computed from. Kept for the
        method of moments (the Prony variant needs projected Hermite moments).
    pihat : ndarray, shape (p,)
        Empirical choice frequencies ``counts / N``.

    Notes
    -----
    All moments are in whitened coordinates; the ``beta_k`` they describe are
    the coefficients acting on whitened features (``gamma_k = C^{1/2} beta_k``
    for original coefficients ``beta_k``).
    """

    m1: NDArray[np.float64]
    m2: NDArray[np.float64]
    m3: NDArray[np.float64] | None
    whitening: Whitening | None
    n_draws: float
    n_candidates: int
    z: NDArray[np.float64] = field(repr=False)
    pihat: NDArray[np.float64] = field(repr=False)

    @property
    def n_features(self) -> int:
        """Number of features ``L``."""
        return int(self.m1.shape[0])

    def eigenvalues(self) -> NDArray[np.float64]:
        """Eigenvalues of ``M2`` in descending order.

        Returns
        -------
        ndarray, shape (L,)
        """
        return np.linalg.eigvalsh(self.m2)[::-1].copy()

    def subspace(self, k: int) -> Subspace:
        """Top-``k`` eigenvectors of ``M2``.

        ``M2`` is symmetric and (in the limit) positive semi-definite of rank
        ``min(K, L)``, so the eigenvectors of its ``k`` *largest* (signed, not
        absolute) eigenvalues span the atoms. Negative eigenvalues are noise.

        Parameters
        ----------
        k : int
            Dimension, ``1 <= k <= L``.

        Returns
        -------
        Subspace
            Named tuple ``(basis, eigenvalues, eigengap)``, unpackable as
            ``U, lam, gap = moments.subspace(k)``; ``.relative_gap`` gives
            ``lambda_{k+1} / lambda_k``.

        Raises
        ------
        SpecificationError
            If ``k`` is not in ``1..L``.
        """
        k = _check_k(k)
        L = self.n_features
        if k > L:
            raise SpecificationError(
                f"subspace dimension k={k} exceeds the number of features L={L}; "
                "M2 has only L eigenvectors"
            )
        d, V = np.linalg.eigh(self.m2)
        order = np.argsort(d)[::-1]
        d = d[order]
        V = V[:, order]
        # deterministic sign: largest-magnitude entry of each eigenvector positive
        idx = np.argmax(np.abs(V), axis=0)
        V = V * np.sign(V[idx, np.arange(L)])
        nxt = d[k] if k < L else 0.0
        return Subspace(basis=V[:, :k].copy(), eigenvalues=d, eigengap=float(d[k - 1] - nxt))

    def suggest_k(self, max_k: int | None = None) -> int:
        """Suggest a number of components from the eigen-gaps of ``M2`` (a hint only).

        Returns the ``k`` maximising ``lambda_k / max(lambda_{k+1}, floor)`` over
        ``k = 1..min(max_k, L - 1)``, where the noise floor is the magnitude of
        the smallest eigenvalue (``M2`` has rank ``min(K, L)`` in the limit, so
        when ``K < L`` its trailing eigenvalues are noise). Only ``k`` with a
        positive ``lambda_k`` above the floor are considered.

        Parameters
        ----------
        max_k : int, optional
            Largest ``k`` to consider (default ``L - 1``).

        Returns
        -------
        int
            The suggested ``k``. It cannot see more than ``L`` components
            (``M2`` has rank at most ``L``) and returns 1 when ``L == 1`` or no
            gap stands out. Always confirm with an information criterion.
        """
        lam = self.eigenvalues()
        L = lam.shape[0]
        if L == 1:
            return 1
        kmax = L - 1 if max_k is None else min(_check_k(max_k, "max_k"), L - 1)
        if kmax < 1:
            return 1
        if lam[0] <= _M2_TINY:
            return 1
        floor = max(abs(float(lam[-1])), _M2_TINY)
        best_k, best_ratio = 1, -np.inf
        for k in range(1, kmax + 1):
            if lam[k - 1] <= floor:
                break
            ratio = lam[k - 1] / max(lam[k], floor)
            if ratio > best_ratio:
                best_k, best_ratio = k, ratio
        return best_k


def latent_moments(
    counts: ArrayLike,
    features: ArrayLike,
    *,
    whiten: bool = True,
    order: int = 3,
) -> LatentMoments:
    """Compute the latent moments ``M1``, ``M2`` (and ``M3``) from counts.

    Parameters
    ----------
    counts : array_like, shape (p,)
        Non-negative number of times each candidate was chosen. Fractional
        values are accepted (for example ``N * pi`` for exact probabilities).
    features : array_like, shape (p, L)
        Candidate features.
    whiten : bool, default True
        Whiten the features first (``z = C^{-1/2}(x - mean)``). With ``False``
        the features are used as given, assumed already standard Gaussian.
    order : {2, 3}, default 3
        Highest moment computed; ``M3`` is ``None`` with ``order=2``.

    Returns
    -------
    LatentMoments

    Raises
    ------
    DataError
        Invalid counts (negative, wrong length, all zero) or features
        (non-finite, singular covariance when whitening).
    SpecificationError
        Invalid ``order``.

    Notes
    -----
    ``M3`` is accumulated by matrix products over chunks of candidates
    (``O(p L^3)`` time in BLAS, bounded memory: no ``p x L x L x L`` array), then corrected by the
    Hermite terms ``- (m1_a d_bc + m1_b d_ac + m1_c d_ab)``.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.datasets.simulate import simulate_counts
    >>> sim = simulate_counts(n_candidates=20_000, n_draws=200_000, betas=[[1.0, 0.0], [-1.0, 0.5]],
    ...                       shares=[0.6, 0.4], seed=0)
    >>> lm = mx.latent_moments(sim.counts, sim.features)
    >>> lm.m2.shape, lm.subspace(2).basis.shape
    ((2, 2), (2, 2))
    """
    X = _as_features(features)
    p, L = X.shape
    n = _as_counts(counts, p)
    if order not in (2, 3):
        raise SpecificationError(f"`order` must be 2 or 3, got {order!r}")
    if whiten:
        w = _whiten_features(X)
        Z = w.apply(X)
    else:
        w = None
        Z = X
    N = float(n.sum())
    pihat = n / N
    s = float(pihat.sum())  # 1 up to rounding
    m1 = pihat @ Z
    Zw = Z * pihat[:, None]
    m2 = Zw.T @ Z - s * np.eye(L)
    m2 = (m2 + m2.T) / 2.0
    m3 = None
    if order >= 3:
        S3 = _third_moment_sum(Zw, Z)
        I = np.eye(L)
        corr = (
            np.einsum("a,bc->abc", m1, I)
            + np.einsum("b,ac->abc", m1, I)
            + np.einsum("c,ab->abc", m1, I)
        )
        m3 = _symmetrize3(S3 - corr)
    return LatentMoments(
        m1=m1, m2=m2, m3=m3, whitening=w, n_draws=N, n_candidates=p, z=Z, pihat=pihat
    )


_whiten_features = whiten  # the keyword argument of latent_moments shadows the function

#: bytes of the per-chunk ``chunk x L^2`` intermediate in :func:`_third_moment_sum`
_M3_CHUNK_BYTES = 32 * 2**20


def _third_moment_sum(Zw: NDArray[np.float64], Z: NDArray[np.float64]) -> NDArray[np.float64]:
    """``sum_j Zw_ja Z_jb Z_jc`` as an ``L x L x L`` array, by BLAS over chunks of candidates.

    Each chunk forms the ``chunk x L^2`` products ``Zw_ja Z_jb`` and multiplies by
    ``Z`` (one matrix product), so memory stays at about ``_M3_CHUNK_BYTES`` and
    the ``O(p L^3)`` work runs in BLAS rather than in an ``einsum`` loop (at
    ``p = 100,000``, ``L = 50``: about 1 s instead of half a minute).
    """
    p, L = Z.shape
    chunk = max(1, int(_M3_CHUNK_BYTES // (8 * L * L)))
    S3 = np.zeros((L * L, L))
    for start in range(0, p, chunk):  # loop over chunks of candidates, not candidates
        a = Zw[start:start + chunk]
        b = Z[start:start + chunk]
        S3 += (a[:, :, None] * b[:, None, :]).reshape(a.shape[0], L * L).T @ b
    return S3.reshape(L, L, L)


def _symmetrize3(T: NDArray[np.float64]) -> NDArray[np.float64]:
    """Average a 3-way array over the six permutations of its axes."""
    return (
        T
        + T.transpose(0, 2, 1)
        + T.transpose(1, 0, 2)
        + T.transpose(1, 2, 0)
        + T.transpose(2, 0, 1)
        + T.transpose(2, 1, 0)
    ) / 6.0


# --------------------------------------------------------------------------- #
# method of moments
# --------------------------------------------------------------------------- #
@dataclass(eq=False)
class MomentEstimate:
    """Method-of-moments estimate of a softmax mixture.

    Attributes
    ----------
    betas : ndarray, shape (k, L)
        Component coefficients in the ORIGINAL feature coordinates (softmax of
        ``X @ betas[k]`` over the candidates reproduces component ``k``).
    shares : ndarray, shape (k,)
        Mixture shares, positive, summing to one.
    method : str
        Method used: ``"tensor"``, ``"prony"`` or ``"mean"`` (``k = 1``: the
        single atom is ``M1``).
    subspace : Subspace
        The ``M2`` subspace used (dimension ``min(k, L)``).
    whitened_betas : ndarray, shape (k, L)
        The same coefficients in whitened coordinates.
    """

    betas: NDArray[np.float64]
    shares: NDArray[np.float64]
    method: str
    subspace: Subspace
    whitened_betas: NDArray[np.float64]


def mom_estimate(
    moments: LatentMoments,
    k: int,
    *,
    method: str = "auto",
    seed: int | np.random.Generator | None = None,
    n_tries: int = 20,
) -> MomentEstimate:
    """Method-of-moments estimate of the atoms and shares (``ALGORITHMS.md`` 3.3).

    Parameters
    ----------
    moments : LatentMoments
        Output of :func:`latent_moments` (``order=3`` needed for ``"tensor"``).
    k : int
        Number of components.
    method : {"auto", "tensor", "prony"}, default "auto"
        ``"auto"`` computes ``"tensor"`` (when ``k <= L``, ``M3`` is available
        and the top ``k`` eigenvalues of ``M2`` are positive) and ``"prony"``,
        and keeps the one with the higher counts log-likelihood
        ``sum_j pihat_j log pi_j`` (cheap: ``O(p k L)``); with ``k > L`` it is
        Prony. ``"tensor"`` falls back to Prony, with a warning, when an
        eigenvalue among the top ``k`` is not positive. With ``k = 1`` the
        estimate is simply ``M1`` (method ``"mean"``) whatever is asked.
    seed : int, numpy.random.Generator or None
        Seed of the random contractions / directions.
    n_tries : int, default 20
        Number of random contractions (tensor) or directions (Prony) tried;
        the best conditioned / best separated is kept.

    Returns
    -------
    MomentEstimate
        Coefficients in the original feature coordinates, and shares.

    Raises
    ------
    SpecificationError
        Unknown method; ``"tensor"`` with ``k > L`` or without ``M3``.
    DataError
        If the Prony systems are singular along every direction tried (only
        when Prony is the sole method run).

    Warns
    -----
    IdentificationWarning
        When ``M2`` is numerically zero (no heterogeneity: ``k`` copies of
        ``M1`` with equal shares are returned, method ``"mean"``); when
        ``lambda_k`` is not above three times the largest trailing eigenvalue
        magnitude (``k < L``: a weak eigen-gap); when the top-``k`` eigenvalues
        of ``M2`` are not all clearly positive (the tensor method then falls
        back to Prony); or when the recovered atoms or weights are degenerate
        (complex roots, non-positive weights clipped).

    Notes
    -----
    Tensor (``k <= L``): with ``(U, lam)`` the top-``k`` eigenpairs of ``M2`` and
    ``W2 = U diag(lam)^{-1/2}``, ``W2' M2 W2 = I_k`` so the vectors
    ``mu_k = sqrt(alpha_k) W2' beta_k`` are orthonormal and
    ``T = M3(W2, W2, W2) = sum_k alpha_k^{-1/2} mu_k^{(x)3}``. Jennrich's
    simultaneous diagonalisation (eigenvectors ``v_k`` of
    ``T(.,.,a) T(.,.,b)^{-1}`` for random ``a, b``; the best-conditioned of
    ``n_tries`` pairs is kept) recovers the directions even when estimation
    noise makes them slightly non-orthogonal. Then, with unit ``v_k``, least
    squares give ``T ~ sum_k w_k v_k^{(x)3}`` and ``I_k ~ sum_k s_k v_k v_k'``
    (signs chosen so ``w_k > 0``); ``W2' beta_k = c_k v_k`` with
    ``c_k = w_k / s_k`` and ``alpha_k = s_k^3 / w_k^2``, so
    ``beta_k = c_k U diag(lam)^{1/2} v_k``. In the exact orthonormal case
    ``s_k = 1`` and ``w_k = lambda_k = T(mu_k, mu_k, mu_k) = alpha_k^{-1/2}``,
    i.e. ``alpha_k = 1 / lambda_k^2`` and ``beta_k = lambda_k U diag(lam)^{1/2} mu_k``.

    Prony (any ``k``, any ``L``): for a unit ``u`` in the span of the top
    ``min(k, L)`` eigenvectors, ``m_r = sum_j pihat_j He_r(u'z_j) ~ sum_k alpha_k t_k^r``
    (``t_k = u'beta_k``, ``r < 2k``). The ``t_k`` are the roots of the monic
    polynomial whose coefficients solve the Hankel system
    ``sum_l c_l m_{i+l} = -m_{i+k}``; the weights solve the Vandermonde system
    on ``m_0..m_{k-1}`` (clipped positive, renormalised). The orthogonal parts
    follow from the vector moments
    ``v_r = sum_j pihat_j He_r(u'z_j) (I - uu') z_j ~ sum_k alpha_k t_k^r (I - uu') beta_k``
    (exact for Gaussian ``z``: under the tilt ``exp(z'beta - |beta|^2/2)``,
    ``u'z ~ N(t, 1)`` and ``(I - uu')z ~ N((I - uu')beta, I - uu')`` are
    independent and ``E He_r(g + t) = t^r``), ``r = 0..k-1``, again a Vandermonde
    system; ``beta_k = t_k u + (I - uu') beta_k``. Among ``n_tries`` directions
    (the first is the top eigenvector) the one with the best separated atoms
    is kept: real roots and positive weights first, then the largest
    ``min_{i<j} |t_i - t_j| * min_k alpha_k`` (the lift divides by both; the
    weight factor rejects the spurious far-away atom of tiny weight that a
    nearly singular Hankel system produces when two atoms project close
    together).

    In our simulations (Gaussian design, exact probabilities, ``p = 200,000``,
    mean over designs of the largest absolute error in betas and shares)
    Prony is the more accurate at ``k = 2`` (``L = 4``, ``|beta| = 1``:
    0.016 against 0.095 for the tensor variant) and the tensor variant at
    ``k = 3`` (``L = 5``, ``|beta| = 1.5``: 0.12 against 0.47), hence the
    likelihood comparison in ``"auto"``.

    Quality falls quickly with ``k``: Prony uses Hermite moments up to order
    ``2k - 1`` whose variance grows factorially, and both variants need a
    clear eigen-gap of ``M2`` at ``k``. Use the estimate as a start for EM,
    together with random starts.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.datasets.simulate import simulate_counts
    >>> sim = simulate_counts(n_candidates=20_000, n_draws=200_000, betas=[[1.0, 0.0], [-1.0, 0.5]],
    ...                       shares=[0.6, 0.4], seed=0)
    >>> est = mx.mom_estimate(mx.latent_moments(sim.counts, sim.features), 2, seed=0)
    >>> est.betas.shape, bool(np.isclose(est.shares.sum(), 1.0))
    ((2, 2), True)
    """
    if not isinstance(moments, LatentMoments):
        raise SpecificationError("`moments` must be a LatentMoments (from latent_moments)")
    k = _check_k(k)
    if method not in ("auto", "tensor", "prony"):
        raise SpecificationError(f"`method` must be 'auto', 'tensor' or 'prony', got {method!r}")
    if not (isinstance(n_tries, (int, np.integer)) and n_tries >= 1):
        raise SpecificationError(f"`n_tries` must be a positive integer, got {n_tries!r}")
    L = moments.n_features
    rng = np.random.default_rng(seed)
    if method == "tensor":
        if k > L:
            raise SpecificationError(
                f"method='tensor' needs k <= L (number of features), got k={k} > L={L}; "
                "use method='prony' (or 'auto')"
            )
        if moments.m3 is None:
            raise SpecificationError("method='tensor' needs M3: compute the moments with order=3")
    sub = moments.subspace(min(k, L))
    if k >= 2 and sub.eigenvalues[0] <= _M2_TINY:
        warn(
            f"M2 is (numerically) zero or negative definite (largest eigenvalue "
            f"{sub.eigenvalues[0]:.3g}): no heterogeneity is detected; returning {k} copies of "
            "the one-component estimate M1 with equal shares",
            IdentificationWarning,
        )
        gam = np.repeat(moments.m1[None, :], k, axis=0)
        shares = np.full(k, 1.0 / k)
        used = "mean"
    elif k == 1:
        gam = moments.m1[None, :].copy()
        shares = np.ones(1)
        used = "mean"
    else:
        lam = sub.eigenvalues
        if k < L and lam[k - 1] <= 3.0 * np.abs(lam[k:]).max():
            warn(
                f"eigenvalue number {k} of M2 ({lam[k - 1]:.3g}) is not clearly above the "
                f"trailing ones (largest magnitude {np.abs(lam[k:]).max():.3g}): the moments "
                f"hardly support {k} distinct components (suggest_k() gives "
                f"{moments.suggest_k()}); the estimate may contain spurious components",
                IdentificationWarning,
            )
        tensor_ok = k <= L and moments.m3 is not None
        if (
            method in ("tensor", "auto")
            and tensor_ok
            and sub.eigenvalues[k - 1] <= _M2_TINY * max(1.0, sub.eigenvalues[0])
        ):
            warn(
                f"the {k} largest eigenvalues of M2 are not all (clearly) positive "
                f"(lambda_{k} = {sub.eigenvalues[k - 1]:.3g}): the data do not support {k} "
                "distinct components under the Gaussian design; using the Prony method only",
                IdentificationWarning,
            )
            tensor_ok = False
        candidates: list[tuple[str, NDArray[np.float64], NDArray[np.float64]]] = []
        if tensor_ok and method in ("tensor", "auto"):
            candidates.append(("tensor", *_tensor_mom(moments, sub, rng, n_tries)))
        if method == "prony" or not tensor_ok:
            candidates.append(("prony", *_prony_mom(moments, sub, k, rng, n_tries)))
        elif method == "auto":
            try:
                candidates.append(("prony", *_prony_mom(moments, sub, k, rng, n_tries)))
            except DataError:
                pass
        if len(candidates) > 1:
            ll = [_counts_loglik(moments.z, moments.pihat, g, a) for _, g, a in candidates]
            used, gam, shares = candidates[int(np.argmax(ll))]
        else:
            used, gam, shares = candidates[0]
    betas = moments.whitening.to_original(gam) if moments.whitening is not None else gam.copy()
    return MomentEstimate(betas=betas, shares=shares, method=used, subspace=sub, whitened_betas=gam)


def _counts_loglik(
    Z: NDArray[np.float64],
    pihat: NDArray[np.float64],
    gam: NDArray[np.float64],
    shares: NDArray[np.float64],
) -> float:
    """Per-draw counts log-likelihood ``sum_j pihat_j log pi_j`` (softmax: any coordinates)."""
    eta = Z @ gam.T
    logS = eta - logsumexp(eta, axis=0, keepdims=True)
    logpi = logsumexp(logS + np.log(shares), axis=1)
    keep = pihat > 0
    return float(pihat[keep] @ logpi[keep])


def _cond(A: NDArray[np.float64]) -> float:
    """2-norm condition number, ``inf`` for a singular matrix (no warning)."""
    sv = np.linalg.svd(A, compute_uv=False)
    return float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")


def _contract3(T: NDArray[np.float64], A: NDArray[np.float64]) -> NDArray[np.float64]:
    """Multilinear contraction ``T(A, A, A)``."""
    return np.einsum("abc,ai,bj,ck->ijk", T, A, A, A, optimize=True)


def _tensor_mom(
    moments: LatentMoments, sub: Subspace, rng: np.random.Generator, n_tries: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Jennrich decomposition of the M2-whitened third moment (whitened coordinates)."""
    U = sub.basis
    k = U.shape[1]
    lam = sub.eigenvalues[:k]
    W2 = U / np.sqrt(lam)
    T = _contract3(moments.m3, W2)
    best_V, best_score = None, -np.inf
    for _ in range(n_tries):
        a, b = rng.standard_normal(k), rng.standard_normal(k)
        Ta, Tb = T @ a, T @ b
        if _cond(Tb) > 1e12:
            continue
        ev, V = np.linalg.eig(np.linalg.solve(Tb.T, Ta.T).T)  # Ta Tb^{-1}
        imag = np.abs(ev.imag).max() / max(np.abs(ev).max(), 1e-300)
        V = V.real
        V = V / np.linalg.norm(V, axis=0)
        evr = ev.real
        gaps = np.abs(evr[:, None] - evr[None, :])[np.triu_indices(k, 1)]
        sep = gaps.min() / max(np.abs(evr).max(), 1e-300)
        cV = _cond(V)
        if not np.isfinite(cV):
            continue
        score = sep / cV - imag
        if score > best_score:
            best_V, best_score = V, score
    if best_V is None:  # every slice singular: fall back to the eigenvectors of one slice
        _, best_V = np.linalg.eigh(T @ rng.standard_normal(k))
    V = best_V
    # T ~ sum_k w_k v_k^{(x)3}, I ~ sum_k s_k v_k v_k' by least squares
    D3 = np.einsum("ai,bi,ci->abci", V, V, V).reshape(k**3, k)
    w = np.linalg.lstsq(D3, T.reshape(-1), rcond=None)[0]
    D2 = np.einsum("ai,bi->abi", V, V).reshape(k * k, k)
    s = np.linalg.lstsq(D2, np.eye(k).reshape(-1), rcond=None)[0]
    sign = np.where(w < 0, -1.0, 1.0)
    V = V * sign
    w = w * sign
    if np.any(s <= 0.05) or np.any(w <= 1e-8):
        warn(
            "tensor method of moments: degenerate components (non-positive weights clipped); "
            "the estimate is unreliable as anything but a start",
            IdentificationWarning,
        )
        s = np.maximum(s, 0.05)
        w = np.maximum(w, 1e-8)
    c = w / s
    alpha = s**3 / w**2
    shares = alpha / alpha.sum()
    gam = (c[:, None] * (V.T * np.sqrt(lam))) @ U.T  # rows: c_k U diag(lam)^{1/2} v_k
    return gam, shares


def _hankel_atoms(m: NDArray[np.float64], k: int) -> tuple[NDArray[np.complex128], bool]:
    """Atoms of a ``k``-atom 1-D measure from its moments ``m_0..m_{2k-1}``."""
    H = np.array([[m[i + l] for l in range(k)] for i in range(k)])
    rhs = -m[k : 2 * k]
    c = np.linalg.lstsq(H, rhs, rcond=None)[0]
    roots = np.roots(np.concatenate(([1.0], c[::-1])))
    return roots, np.all(np.isfinite(roots))


def _prony_mom(
    moments: LatentMoments, sub: Subspace, k: int, rng: np.random.Generator, n_tries: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Prony / Hankel method along the best of ``n_tries`` directions (whitened coordinates)."""
    U = sub.basis
    r = U.shape[1]
    Z, pihat = moments.z, moments.pihat
    best = None
    for i in range(n_tries):
        g = np.eye(r)[0] if i == 0 else rng.standard_normal(r)
        u = U @ g
        u = u / np.linalg.norm(u)
        y = Z @ u
        He = hermite_e.hermevander(y, 2 * k - 1)  # p x 2k: He_0..He_{2k-1}
        m = pihat @ He
        roots, ok = _hankel_atoms(m, k)
        if not ok:
            continue
        t = roots.real
        if np.unique(t).size < k:
            continue
        V = np.vander(t, k, increasing=True).T  # V[r, k] = t_k^r
        try:
            wts = np.linalg.solve(V, m[:k])
        except np.linalg.LinAlgError:
            continue
        real = np.abs(roots.imag).max() <= 1e-8 * (1.0 + np.abs(t).max())
        valid = bool(real and np.all(wts > 0))
        gap = np.abs(t[:, None] - t[None, :])[np.triu_indices(k, 1)].min()
        key = (valid, gap * np.abs(wts).min())
        if best is None or key > best[0]:
            best = (key, u, He, t, wts, V)
    if best is None:
        raise DataError(
            "Prony method of moments failed for every direction (singular Hankel or "
            "Vandermonde systems): the moments do not support k distinct atoms"
        )
    (valid, _), u, He, t, wts, V = best
    if not valid:
        warn(
            "Prony method of moments: complex atoms or non-positive weights along every "
            "direction tried; real parts taken and weights clipped",
            IdentificationWarning,
        )
    alpha = np.clip(wts, 1e-3 * max(np.abs(wts).max(), 1e-12), None)
    alpha = alpha / alpha.sum()
    Pz = Z - np.outer(Z @ u, u)
    vr = (He[:, :k] * pihat[:, None]).T @ Pz  # k x L: v_r
    A = np.linalg.solve(V, vr)  # rows: alpha_k (I - uu') beta_k
    wraw = np.where(np.abs(wts) > 1e-12, wts, 1e-12)
    perp = A / (wraw if valid else alpha)[:, None]
    perp = perp - np.outer(perp @ u, u)
    gam = t[:, None] * u[None, :] + perp
    return gam, alpha


# --------------------------------------------------------------------------- #
# subspace draws
# --------------------------------------------------------------------------- #
def subspace_starts(
    moments: LatentMoments,
    k: int,
    n_draws: int,
    *,
    seed: int | np.random.Generator | None = None,
) -> list[NDArray[np.float64]]:
    """Random starts drawn in the ``M2`` subspace (``ALGORITHMS.md`` 3.4).

    Parameters
    ----------
    moments : LatentMoments
        Latent moments (only ``M2`` and the whitening are used).
    k : int
        Number of components.
    n_draws : int
        Number of starts.
    seed : int, numpy.random.Generator or None
        Random seed.

    Returns
    -------
    list of ndarray, each shape (k, L)
        Starts in the ORIGINAL feature coordinates: in whitened coordinates
        ``beta_k = U z_k`` with ``U`` the top ``r = min(k, L)`` eigenvectors of
        ``M2`` and ``z_k ~ N(0, (tr M2 / k) I_r)``. Use equal shares ``1/k``.

    Warns
    -----
    IdentificationWarning
        If ``tr M2 <= 1e-8`` (no detectable heterogeneity); the sum of the
        positive eigenvalues, or 1 if that is also negligible, is then used for
        the total variance.

    Examples
    --------
    >>> import numpy as np
    >>> import mixlogit as mx
    >>> from mixlogit.datasets.simulate import simulate_counts
    >>> sim = simulate_counts(n_candidates=20_000, n_draws=200_000, betas=[[1.0, 0.0], [-1.0, 0.5]],
    ...                       shares=[0.6, 0.4], seed=0)
    >>> from mixlogit.starts.moments import subspace_starts
    >>> starts = subspace_starts(mx.latent_moments(sim.counts, sim.features), 2, 3, seed=0)
    >>> len(starts), starts[0].shape
    (3, (2, 2))
    """
    k = _check_k(k)
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 0:
        raise SpecificationError(f"`n_draws` must be a non-negative integer, got {n_draws!r}")
    rng = np.random.default_rng(seed)
    L = moments.n_features
    r = min(k, L)
    sub = moments.subspace(r)
    total = float(np.trace(moments.m2))
    if total <= _M2_TINY:
        pos = float(np.clip(sub.eigenvalues, 0.0, None).sum())
        total = pos if pos > _M2_TINY else 1.0
        warn(
            f"trace of M2 is not (clearly) positive: no heterogeneity detected; drawing with "
            f"total variance {total:.3g}",
            IdentificationWarning,
        )
    sd = np.sqrt(total / k)
    out = []
    for _ in range(int(n_draws)):
        gam = (sd * rng.standard_normal((k, r))) @ sub.basis.T
        out.append(moments.whitening.to_original(gam) if moments.whitening is not None else gam)
    return out


def full_space_starts(
    L: int,
    k: int,
    n_draws: int,
    scale: float,
    seed: int | np.random.Generator | None = None,
    *,
    whitening: Whitening | None = None,
) -> list[NDArray[np.float64]]:
    """Random starts drawn in all of ``R^L`` (the baseline for subspace draws).

    Parameters
    ----------
    L : int
        Number of features.
    k : int
        Number of components.
    n_draws : int
        Number of starts.
    scale : float
        Expected squared norm of each drawn ``beta_k`` (each coordinate has
        variance ``scale / L``). To match :func:`subspace_starts` pass
        ``min(k, L) * tr(M2) / k`` (equal to ``tr M2`` when ``k <= L``).
    seed : int, numpy.random.Generator or None
        Random seed.
    whitening : Whitening, optional
        If given, the draws are made in whitened coordinates and mapped back to
        the original ones.

    Returns
    -------
    list of ndarray, each shape (k, L)
    """
    L = _check_k(L, "L")
    k = _check_k(k)
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 0:
        raise SpecificationError(f"`n_draws` must be a non-negative integer, got {n_draws!r}")
    if not np.isfinite(scale) or scale < 0:
        raise SpecificationError(f"`scale` must be a non-negative number, got {scale!r}")
    rng = np.random.default_rng(seed)
    sd = np.sqrt(scale / L)
    out = []
    for _ in range(int(n_draws)):
        gam = sd * rng.standard_normal((k, L))
        out.append(whitening.to_original(gam) if whitening is not None else gam)
    return out


# --------------------------------------------------------------------------- #
# Fisher information of the counts form
# --------------------------------------------------------------------------- #
def shares_to_logits(shares: ArrayLike) -> NDArray[np.float64]:
    """Logits ``gamma_2..gamma_K`` of shares, with ``gamma_1 = 0``.

    Parameters
    ----------
    shares : array_like, shape (K,)
        Positive shares (normalised to sum to one).

    Returns
    -------
    ndarray, shape (K - 1,)
        ``log(alpha_m / alpha_1)``, ``m = 2..K``.
    """
    a = np.asarray(shares, dtype=float)
    if a.ndim != 1 or a.size < 1 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise SpecificationError("`shares` must be a 1-D vector of positive finite numbers")
    a = a / a.sum()
    return np.log(a[1:]) - np.log(a[0])


def logits_to_shares(logits: ArrayLike) -> NDArray[np.float64]:
    """Shares ``alpha = softmax(0, gamma)`` from the logits ``gamma_2..gamma_K``.

    Parameters
    ----------
    logits : array_like, shape (K - 1,)

    Returns
    -------
    ndarray, shape (K,)
    """
    g = np.concatenate(([0.0], np.asarray(logits, dtype=float).reshape(-1)))
    return np.exp(g - logsumexp(g))


def counts_fisher_information(
    features: ArrayLike, betas: ArrayLike, shares: ArrayLike
) -> NDArray[np.float64]:
    """Per-draw Fisher information of the counts model (``ALGORITHMS.md`` 7).

    Parameters
    ----------
    features : array_like, shape (p, L)
        Candidate features (original coordinates).
    betas : array_like, shape (K, L)
        Component coefficients.
    shares : array_like, shape (K,)
        Positive mixture shares summing to one.

    Returns
    -------
    ndarray, shape (K L + K - 1, K L + K - 1)
        ``I(theta) = sum_j grad pi_j grad pi_j' / pi_j``, the information of ONE
        draw (multiply by ``N`` for ``N`` draws), symmetric positive
        semi-definite. Parameter order: ``theta = (beta_1, ..., beta_K,
        gamma_2, ..., gamma_K)`` (``beta_k`` blocks of length ``L`` in
        component order, then the share logits with ``alpha = softmax(0, gamma)``;
        see :func:`shares_to_logits`).

    Notes
    -----
    With ``pi_j = sum_k alpha_k sigma_j(beta_k)``:
    ``d pi_j / d beta_k = alpha_k sigma_j(beta_k) (x_j - mu_k)``,
    ``mu_k = sum_l sigma_l(beta_k) x_l``, and since
    ``d alpha_k / d gamma_m = alpha_k (1[k=m] - alpha_m)``,
    ``d pi_j / d gamma_m = alpha_m (sigma_j(beta_m) - pi_j)``. The softmax is
    computed with log-sum-exp and the rows ``grad pi_j / sqrt(pi_j)`` in log
    space, so no probability underflows to a division by zero. The matrix is
    singular when the softmax shift is not identified (a constant feature) or
    when components coincide.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit.starts.moments import counts_fisher_information
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> info = counts_fisher_information(X, np.array([[1.0, 0.0], [-1.0, 0.5]]), np.array([0.6, 0.4]))
    >>> info.shape, bool(np.allclose(info, info.T))
    ((5, 5), True)
    """
    X = _as_features(features)
    p, L = X.shape
    B = np.asarray(betas, dtype=float)
    if B.ndim == 1:
        B = B[None, :]
    if B.ndim != 2 or B.shape[1] != L or not np.all(np.isfinite(B)):
        raise SpecificationError(f"`betas` must be a finite K x L array with L={L}, got shape {B.shape}")
    K = B.shape[0]
    a = np.asarray(shares, dtype=float).reshape(-1)
    if a.shape[0] != K or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise SpecificationError(f"`shares` must be {K} positive numbers (one per row of `betas`)")
    if abs(a.sum() - 1.0) > 1e-8:
        raise SpecificationError(f"`shares` must sum to one, got {a.sum():.10g}")
    eta = X @ B.T  # p x K
    logS = eta - logsumexp(eta, axis=0, keepdims=True)  # log sigma_j(beta_k)
    S = np.exp(logS)
    mu = S.T @ X  # K x L
    logA = np.log(a)
    logpi = logsumexp(logS + logA, axis=1)  # p
    pi = np.exp(logpi)
    # rows of grad pi_j / sqrt(pi_j), computed in log space where possible
    q = np.exp(logS + logA - 0.5 * logpi[:, None])  # alpha_k sigma_jk / sqrt(pi_j)
    Gb = q[:, :, None] * (X[:, None, :] - mu[None, :, :])  # p x K x L
    Gg = q[:, 1:] - a[1:] * np.sqrt(pi)[:, None]  # alpha_m (sigma_jm - pi_j) / sqrt(pi_j)
    G = np.concatenate([Gb.reshape(p, K * L), Gg], axis=1)
    info = G.T @ G
    return (info + info.T) / 2.0
