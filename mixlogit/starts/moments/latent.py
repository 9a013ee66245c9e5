"""Latent moments M1, M2, M3 of the counts form and the start draws in their subspace
(ALGORITHMS.md 3.2 and 3.4); see :mod:`mixlogit.starts.moments`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...data.whitening import Whitening, whiten
from ...data.whitening import as_features as _as_features
from ...exceptions import DataError, IdentificationWarning, SpecificationError, warn

__all__ = ["Subspace", "LatentMoments", "latent_moments", "subspace_starts", "full_space_starts"]


#: Eigenvalues of ``M2`` at or below this are treated as zero (shared with ``mom.py``).
M2_TINY = 1e-8


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


def check_k(k: int, name: str = "k") -> int:
    """Validate a number of mixture components.

    Parameters
    ----------
    k : int
        The number to check; booleans and non-integers are refused.
    name : str, default "k"
        The argument's name, used in the error message.

    Returns
    -------
    int
        ``k`` as a Python ``int``.

    Raises
    ------
    SpecificationError
        If ``k`` is not a positive integer.

    Examples
    --------
    >>> from mixlogit.starts.moments.latent import check_k
    >>> check_k(3)
    3
    """
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
        k = check_k(k)
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
        kmax = L - 1 if max_k is None else min(check_k(max_k, "max_k"), L - 1)
        if kmax < 1:
            return 1
        if lam[0] <= M2_TINY:
            return 1
        floor = max(abs(float(lam[-1])), M2_TINY)
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
    k = check_k(k)
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 0:
        raise SpecificationError(f"`n_draws` must be a non-negative integer, got {n_draws!r}")
    rng = np.random.default_rng(seed)
    L = moments.n_features
    r = min(k, L)
    sub = moments.subspace(r)
    total = float(np.trace(moments.m2))
    if total <= M2_TINY:
        pos = float(np.clip(sub.eigenvalues, 0.0, None).sum())
        total = pos if pos > M2_TINY else 1.0
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
    L = check_k(L, "L")
    k = check_k(k)
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
