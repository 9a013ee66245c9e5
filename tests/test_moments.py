"""Tests of mixlogit.starts.moments: latent moments, method of moments, subspace starts, Fisher information."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.polynomial import hermite_e
from scipy.linalg import subspace_angles
from scipy.special import logsumexp, softmax

from mixlogit.exceptions import DataError, SpecificationError
from mixlogit.starts.moments import (
    LatentMoments,
    MomentEstimate,
    Whitening,
    counts_fisher_information,
    full_space_starts,
    latent_moments,
    logits_to_shares,
    mom_estimate,
    shares_to_logits,
    subspace_starts,
    whiten,
)

P_BIG = 200_000
L = 4
SHARES = np.array([0.6, 0.4])
# mixing matrix of the (non-isotropic) Gaussian design and its mean
A_MIX = np.array(
    [[1.0, 0.3, 0.0, 0.0], [0.0, 2.0, 0.5, 0.0], [0.0, 0.0, 0.7, 0.0], [0.2, 0.0, 0.0, 1.5]]
)
MEAN = np.array([3.0, -1.0, 0.5, 2.0])


def _sym_tensor_norm(T: np.ndarray, rng: np.random.Generator, n_starts: int = 30) -> float:
    """Spectral norm max_{|u|=1} |T(u, u, u)| of a symmetric 3-tensor (power iteration)."""
    best = 0.0
    for _ in range(n_starts):
        u = rng.standard_normal(T.shape[0])
        u /= np.linalg.norm(u)
        for _ in range(100):
            v = np.einsum("abc,b,c->a", T, u, u)
            nv = np.linalg.norm(v)
            if nv == 0:
                break
            u = v / nv
        best = max(best, abs(np.einsum("abc,a,b,c->", T, u, u, u)))
    return best


@pytest.fixture(scope="module")
def design():
    """Non-isotropic Gaussian design, two atoms of whitened norm 1, exact probabilities."""
    rng = np.random.default_rng(20240901)
    X = MEAN + rng.standard_normal((P_BIG, L)) @ A_MIX.T
    # atoms given in original coordinates, scaled so that their whitened norm is 1
    B = np.array([[0.8, -0.4, 0.3, 0.2], [-0.5, 0.3, -0.6, 0.4]])
    B = B / np.linalg.norm(B @ A_MIX, axis=1)[:, None]
    pi = softmax(X @ B.T, axis=0) @ SHARES
    return X, B, pi


@pytest.fixture(scope="module")
def exact_moments(design):
    X, _, pi = design
    return latent_moments(1e6 * pi, X)  # fractional counts = N * pi


def _truth_whitened(w: Whitening, B: np.ndarray):
    G = w.to_whitened(B)
    m1 = SHARES @ G
    m2 = (G.T * SHARES) @ G
    m3 = np.einsum("k,ka,kb,kc->abc", SHARES, G, G, G)
    return G, m1, m2, m3


def _match_error(betas, shares, B, alpha):
    """Max abs error after the best permutation of the components."""
    K = B.shape[0]
    best = np.inf
    for perm in itertools.permutations(range(K)):
        o = list(perm)
        err = max(np.abs(betas[o] - B).max(), np.abs(shares[o] - alpha).max())
        best = min(best, err)
    return best


# --------------------------------------------------------------------------- #
# whitening
# --------------------------------------------------------------------------- #
def test_whitening_roundtrip(design):
    X, B, _ = design
    w = whiten(X[:5000])
    Z = w.apply(X[:5000])
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(Z.T @ Z / Z.shape[0], np.eye(L), atol=1e-10)
    np.testing.assert_allclose(w.transform @ w.inverse, np.eye(L), atol=1e-10)
    np.testing.assert_allclose(w.transform, w.transform.T)
    # utilities agree up to a constant: x'beta = z'gamma + const
    G = w.to_whitened(B)
    np.testing.assert_allclose(w.to_original(G), B, atol=1e-12)
    diff = X[:5000] @ B.T - Z @ G.T
    np.testing.assert_allclose(diff - diff[0], 0.0, atol=1e-9)


def test_whiten_singular_constant_column():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 3))
    X[:, 1] = 2.5
    with pytest.raises(DataError, match="x1.*constant"):
        whiten(X)


def test_whiten_singular_collinear_columns():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((100, 4))
    X[:, 3] = X[:, 0] - 2 * X[:, 2] + 1
    with pytest.raises(DataError, match=r"collinear") as info:
        whiten(X, names=["a", "b", "c", "d"])
    msg = str(info.value)
    assert "a" in msg and "c" in msg and "d" in msg and "b" not in msg.split("columns")[1].split("are")[0]


# --------------------------------------------------------------------------- #
# moments
# --------------------------------------------------------------------------- #
def test_m3_matches_bruteforce():
    rng = np.random.default_rng(3)
    p, LL = 50, 3
    X = rng.standard_normal((p, LL))
    n = rng.integers(0, 5, size=p).astype(float)
    mom = latent_moments(n, X)
    Z, pih = mom.z, n / n.sum()
    I = np.eye(LL)
    he3 = (
        np.einsum("ja,jb,jc->jabc", Z, Z, Z)
        - np.einsum("ja,bc->jabc", Z, I)
        - np.einsum("jb,ac->jabc", Z, I)
        - np.einsum("jc,ab->jabc", Z, I)
    )
    np.testing.assert_allclose(mom.m3, np.einsum("j,jabc->abc", pih, he3), atol=1e-12)
    np.testing.assert_allclose(mom.m2, np.einsum("j,ja,jb->ab", pih, Z, Z) - I, atol=1e-12)
    np.testing.assert_allclose(mom.m1, pih @ Z, atol=1e-12)
    assert mom.n_draws == n.sum() and mom.n_candidates == p
    assert latent_moments(n, X, order=2).m3 is None


def test_moment_identities_exact_probabilities(design, exact_moments):
    _, B, _ = design
    mom = exact_moments
    assert isinstance(mom, LatentMoments) and mom.whitening is not None
    G, m1, m2, m3 = _truth_whitened(mom.whitening, B)
    np.testing.assert_allclose(np.linalg.norm(G, axis=1), 1.0, atol=0.01)
    # finite-p error O(sqrt(exp(|beta|^2)/p)) ~ 0.004 times moment-dependent constants;
    # over 10 design seeds the largest errors were 0.006 (M1), 0.032 (M2), 0.11 (M3)
    assert np.linalg.norm(mom.m1 - m1) < 0.015
    assert np.linalg.norm(mom.m2 - m2, 2) < 0.05
    assert _sym_tensor_norm(mom.m3 - m3, np.random.default_rng(0)) < 0.15
    # the symmetric truth has no larger error in any direction than its own size
    assert np.linalg.norm(mom.m2 - m2, 2) < 0.1 * np.linalg.norm(m2, 2)


def test_moment_identities_without_whitening():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((P_BIG, 3))
    B = np.array([[1.0, 0.0, 0.0], [0.0, -0.8, 0.6]])
    pi = softmax(X @ B.T, axis=0) @ SHARES
    mom = latent_moments(pi, X, whiten=False)
    assert mom.whitening is None
    np.testing.assert_allclose(mom.m2, (B.T * SHARES) @ B, atol=0.04)
    np.testing.assert_allclose(mom.m1, SHARES @ B, atol=0.02)


def test_subspace_recovery(design, exact_moments):
    _, B, _ = design
    mom = exact_moments
    G = mom.whitening.to_whitened(B)
    U, lam, gap = mom.subspace(2)
    assert U.shape == (L, 2) and lam.shape == (L,)
    assert np.all(np.diff(lam) <= 0)
    np.testing.assert_allclose(U.T @ U, np.eye(2), atol=1e-12)
    angles = subspace_angles(U, G.T)
    assert np.max(angles) < 0.1  # largest over 10 design seeds: 0.046 rad
    sub = mom.subspace(2)
    assert gap == sub.eigengap > 0
    assert abs(sub.relative_gap) < 0.1  # lambda_3 is noise and may be negative
    assert mom.suggest_k() == 2
    with pytest.raises(SpecificationError, match="exceeds"):
        mom.subspace(L + 1)


# --------------------------------------------------------------------------- #
# method of moments
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("method", ["tensor", "prony", "auto"])
def test_mom_exact_probabilities(design, exact_moments, method):
    _, B, _ = design
    est = mom_estimate(exact_moments, 2, method=method, seed=0)
    assert isinstance(est, MomentEstimate)
    assert est.betas.shape == (2, L) and est.shares.shape == (2,)
    assert np.all(est.shares > 0) and est.shares.sum() == pytest.approx(1.0)
    if method != "auto":
        assert est.method == method
    # tensor is noisier than Prony at K = 2 (it rests on M3); largest errors over 10 design
    # seeds: 0.10 (tensor), 0.045 (prony), 0.041 (auto)
    tol = 0.15 if method == "tensor" else 0.08
    assert _match_error(est.betas, est.shares, B, SHARES) < tol
    np.testing.assert_allclose(est.whitened_betas @ exact_moments.whitening.transform, est.betas)


def test_mom_reproduces_components(design, exact_moments):
    """The returned betas act on the ORIGINAL features: softmax(X beta) reproduces the mixture."""
    X, _, pi = design
    est = mom_estimate(exact_moments, 2, method="prony", seed=0)
    pi_hat = softmax(X @ est.betas.T, axis=0) @ est.shares
    # total variation distance between fitted and true choice distributions
    assert 0.5 * np.abs(pi_hat - pi).sum() < 0.03


@pytest.mark.parametrize("method", ["tensor", "prony"])
def test_mom_sampled_counts(design, method):
    X, B, pi = design
    counts = np.random.default_rng(5).multinomial(1_000_000, pi)
    mom = latent_moments(counts, X)
    est = mom_estimate(mom, 2, method=method, seed=1)
    tol = 0.2 if method == "tensor" else 0.1
    assert _match_error(est.betas, est.shares, B, SHARES) < tol


def test_mom_k1_is_mean(exact_moments):
    est = mom_estimate(exact_moments, 1)
    assert est.method == "mean"
    np.testing.assert_allclose(est.whitened_betas[0], exact_moments.m1)
    np.testing.assert_allclose(est.shares, [1.0])


def test_mom_prony_k_larger_than_L():
    rng = np.random.default_rng(6)
    X = 1.0 + 2.0 * rng.standard_normal((200_000, 1))
    t = np.array([-0.8, 0.9])  # whitened-scale atoms (sd of X is about 2)
    alpha = np.array([0.4, 0.6])
    pi = softmax(X @ (t / 2.0)[None, :], axis=0) @ alpha
    mom = latent_moments(pi, X)
    est = mom_estimate(mom, 2, seed=0)  # auto -> prony since k > L
    assert est.method == "prony"
    o = np.argsort(est.betas[:, 0])
    np.testing.assert_allclose(est.betas[o, 0], t / 2.0, atol=0.05)
    np.testing.assert_allclose(est.shares[o], alpha, atol=0.05)


def test_prony_vector_moment_identity():
    """E[He_r(u'z)(I - uu')z exp(z'b - |b|^2/2)] = (u'b)^r (I - uu') b for Gaussian z."""
    rng = np.random.default_rng(7)
    p, LL = 400_000, 3
    Z = rng.standard_normal((p, LL))
    b = np.array([0.6, -0.3, 0.5])
    u = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    w = np.exp(Z @ b - b @ b / 2) / p
    He = hermite_e.hermevander(Z @ u, 3)
    Pz = Z - np.outer(Z @ u, u)
    lhs = (He * w[:, None]).T @ Pz
    Pb = b - (u @ b) * u
    rhs = np.array([(u @ b) ** r * Pb for r in range(4)])
    np.testing.assert_allclose(lhs, rhs, atol=0.03)


# --------------------------------------------------------------------------- #
# starts
# --------------------------------------------------------------------------- #
def test_subspace_starts(design, exact_moments):
    mom = exact_moments
    starts = subspace_starts(mom, 2, 200, seed=3)
    assert len(starts) == 200 and all(s.shape == (2, L) for s in starts)
    U = mom.subspace(2).basis
    G = np.concatenate([mom.whitening.to_whitened(s) for s in starts])
    # in whitened coordinates the draws lie in span(U)
    np.testing.assert_allclose(G - G @ U @ U.T, 0.0, atol=1e-10)
    # variance tr(M2) / k per coordinate of z_k, so E|beta_k|^2 = tr(M2)
    assert np.mean(np.sum(G**2, axis=1)) == pytest.approx(np.trace(mom.m2), rel=0.15)
    again = subspace_starts(mom, 2, 200, seed=3)
    np.testing.assert_array_equal(starts[5], again[5])
    gen = np.random.default_rng(3)
    np.testing.assert_array_equal(subspace_starts(mom, 2, 1, seed=gen)[0], starts[0])


def test_full_space_starts(exact_moments):
    total = float(np.trace(exact_moments.m2))
    starts = full_space_starts(L, 2, 500, total, seed=1)
    G = np.concatenate(starts)
    assert G.shape == (1000, L)
    assert np.mean(np.sum(G**2, axis=1)) == pytest.approx(total, rel=0.1)
    mapped = full_space_starts(L, 2, 3, total, 1, whitening=exact_moments.whitening)
    np.testing.assert_allclose(mapped[0], exact_moments.whitening.to_original(starts[0]))


# --------------------------------------------------------------------------- #
# Fisher information
# --------------------------------------------------------------------------- #
def _log_pi(theta, X, K):
    p, LL = X.shape
    B = theta[: K * LL].reshape(K, LL)
    alpha = logits_to_shares(theta[K * LL :])
    eta = X @ B.T
    logS = eta - logsumexp(eta, axis=0, keepdims=True)
    return logsumexp(logS + np.log(alpha), axis=1)


@pytest.mark.parametrize("K", [2, 3])
def test_counts_fisher_information_finite_differences(K):
    rng = np.random.default_rng(8 + K)
    p, LL = 300, 3
    X = rng.standard_normal((p, LL))
    B = rng.standard_normal((K, LL))
    alpha = rng.dirichlet(np.full(K, 3.0))
    info = counts_fisher_information(X, B, alpha)
    d = K * LL + K - 1
    assert info.shape == (d, d)
    theta = np.concatenate([B.ravel(), shares_to_logits(alpha)])
    h = 1e-6
    J = np.empty((p, d))
    for i in range(d):
        e = np.zeros(d)
        e[i] = h
        J[:, i] = (_log_pi(theta + e, X, K) - _log_pi(theta - e, X, K)) / (2 * h)
    pi = np.exp(_log_pi(theta, X, K))
    ref = (J * pi[:, None]).T @ J  # E[grad log pi_J grad log pi_J']
    np.testing.assert_allclose(info, ref, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(info, info.T)
    assert np.linalg.eigvalsh(info).min() > -1e-10


def test_shares_logits_roundtrip():
    a = np.array([0.2, 0.5, 0.3])
    np.testing.assert_allclose(logits_to_shares(shares_to_logits(a)), a)
    assert shares_to_logits(a)[0] == pytest.approx(np.log(2.5))


# --------------------------------------------------------------------------- #
# errors
# --------------------------------------------------------------------------- #
def test_singular_features_error():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((200, 3))
    X[:, 2] = 2 * X[:, 0]
    with pytest.raises(DataError, match="singular"):
        latent_moments(np.ones(200), X)


def test_tensor_k_larger_than_L(exact_moments):
    with pytest.raises(SpecificationError, match=r"k <= L.*k=5 > L=4"):
        mom_estimate(exact_moments, L + 1, method="tensor")


def test_negative_counts_error():
    X = np.random.default_rng(10).standard_normal((20, 2))
    n = np.ones(20)
    n[3] = -1
    with pytest.raises(DataError, match="`counts`"):
        latent_moments(n, X)
    with pytest.raises(DataError, match="`counts`"):
        latent_moments(np.ones(19), X)
    with pytest.raises(DataError, match="`counts`"):
        latent_moments(np.zeros(20), X)


def test_bad_arguments(exact_moments):
    with pytest.raises(SpecificationError):
        mom_estimate(exact_moments, 2, method="magic")
    with pytest.raises(SpecificationError):
        mom_estimate(exact_moments, 0)
    with pytest.raises(SpecificationError):
        latent_moments(np.ones(20), np.random.default_rng(0).standard_normal((20, 2)), order=4)
    with pytest.raises(SpecificationError):
        counts_fisher_information(np.eye(3), np.zeros((2, 3)), [0.5, 0.6])


def test_warnings_without_heterogeneity():
    from mixlogit.exceptions import IdentificationWarning

    rng = np.random.default_rng(11)
    X = rng.standard_normal((50_000, 3))
    # one atom, two components asked: weak eigen-gap
    mom = latent_moments(softmax(X @ np.array([1.0, 0.0, 0.0])), X)
    assert mom.suggest_k() == 1
    with pytest.warns(IdentificationWarning, match="eigenvalue number 2"):
        est = mom_estimate(mom, 2, seed=0)
    assert np.all(np.isfinite(est.betas))
    # uniform choices: M2 is zero
    mom0 = latent_moments(np.ones(50_000), X)
    with pytest.warns(IdentificationWarning, match="no heterogeneity"):
        est0 = mom_estimate(mom0, 2, method="tensor")
    assert est0.method == "mean"
    np.testing.assert_allclose(est0.shares, [0.5, 0.5])
    with pytest.warns(IdentificationWarning, match="no heterogeneity"):
        starts = subspace_starts(mom0, 2, 3, seed=0)
    assert np.all(np.isfinite(starts[0])) and np.abs(starts[0]).max() > 0


def test_third_moment_by_chunks_matches_einsum(monkeypatch):
    """The chunked BLAS accumulation of M3 equals the direct einsum (several chunks)."""
    import mixlogit.starts.moments.latent as mm

    rng = np.random.default_rng(5)
    Z = rng.standard_normal((1001, 4))
    w = rng.random(1001)
    monkeypatch.setattr(mm, "_M3_CHUNK_BYTES", 8 * 16 * 100)  # 100 rows per chunk
    direct = np.einsum("ja,jb,jc->abc", Z * w[:, None], Z, Z)
    np.testing.assert_allclose(mm._third_moment_sum(Z * w[:, None], Z), direct, rtol=1e-12,
                               atol=1e-12)


def test_latent_moments_exported_at_top_level():
    import mixlogit as mx

    assert mx.latent_moments is latent_moments
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 3))
    mom = mx.latent_moments(np.ones(500), X)
    U, lam, gap = mom.subspace(2)
    assert U.shape == (3, 2) and gap == pytest.approx(lam[1] - lam[2])
