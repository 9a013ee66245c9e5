"""The method of moments for softmax mixtures: tensor and Prony estimates (ALGORITHMS.md
3.3); see :mod:`mixlogit.starts.moments`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import hermite_e
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp

from ...exceptions import DataError, IdentificationWarning, SpecificationError, warn
from .latent import M2_TINY, LatentMoments, Subspace, check_k

__all__ = ["MomentEstimate", "mom_estimate", "shares_to_logits", "logits_to_shares"]


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
    k = check_k(k)
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
    if k >= 2 and sub.eigenvalues[0] <= M2_TINY:
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
            and sub.eigenvalues[k - 1] <= M2_TINY * max(1.0, sub.eigenvalues[0])
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
    assert moments.m3 is not None, "the caller checks moments.m3 (tensor_ok)"
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


def _hankel_atoms(m: NDArray[np.float64], k: int) -> tuple[np.ndarray, bool]:
    """Atoms of a ``k``-atom 1-D measure from its moments ``m_0..m_{2k-1}``.

    The roots are real (float) or complex, as :func:`numpy.roots` returns them.
    """
    H = np.array([[m[i + l] for l in range(k)] for i in range(k)])
    rhs = -m[k : 2 * k]
    c = np.linalg.lstsq(H, rhs, rcond=None)[0]
    roots = np.roots(np.concatenate(([1.0], c[::-1])))
    return roots, bool(np.all(np.isfinite(roots)))


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

