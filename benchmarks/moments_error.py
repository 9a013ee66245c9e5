"""Error of the latent second moment M2 as the number of candidates p grows.

ALGORITHMS.md section 7: at fixed atoms, the operator-norm error of

    M2 = sum_j pihat_j (z_j z_j' - I)    against    sum_k alpha_k gamma_k gamma_k'

(whitened coordinates, gamma_k = C^{1/2} beta_k with C the feature covariance of the
candidates) should fall like p^{-1/2}.

Two columns:

* ``exact``   -- pihat = the exact mixture probabilities pi_j. The only error is the
  finite-p random-design error, O(sqrt(exp(|beta|^2) / p)): the candidates are a
  Gaussian sample, so sums over them only approximate the Gaussian integrals.
* ``sampled`` -- pihat = counts / N with counts ~ Multinomial(N, pi), N = 10 p. The
  sampling error is O(N^{-1/2}) = O((10 p)^{-1/2}), so it also scales like p^{-1/2}
  and the slope is unchanged; with a fixed N (say 1e7) the curve would flatten once
  p exceeds about N / 10 (the sampling floor).

Design: K = 3 atoms, L = 5 features x ~ N(0, I_5), |beta_k| = 1.5, shares 0.5/0.3/0.2,
p from 500 to 500,000, ``--reps`` replications (fresh design and counts) per p.
Prints a table of mean (and spread of) errors and the fitted log-log slopes (over the
whole grid, and over p >= 16,000 only). Runs in about 15 s with the defaults.

At small p the error is sub-asymptotic: exp(x'beta) with |beta| = 1.5 is log-normal
with a heavy right tail, so a few candidates dominate the softmax and the errors are
skewed (occasional large replications); the whole-grid slope is therefore a little
flatter than -0.5 (-0.44 to -0.46 over seeds), while the slope over p >= 16,000 is close to -0.5.
Sampled counts with N = 10 p add little: the design error dominates.

Run:  python benchmarks/moments_error.py [--reps 20] [--seed 0]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from scipy.special import softmax

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from mixlogit.starts.moments import latent_moments  # noqa: E402

K, L, NORM = 3, 5, 1.5
SHARES = np.array([0.5, 0.3, 0.2])
P_GRID = [500, 1_600, 5_000, 16_000, 50_000, 160_000, 500_000]


def atoms(seed: int = 12345) -> np.ndarray:
    """Fixed atoms: K random directions in R^L scaled to norm NORM."""
    B = np.random.default_rng(seed).standard_normal((K, L))
    return NORM * B / np.linalg.norm(B, axis=1, keepdims=True)


def m2_errors(p: int, B: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """Operator-norm error of M2 from exact probabilities and from N = 10 p sampled draws."""
    X = rng.standard_normal((p, L))
    pi = softmax(X @ B.T, axis=0) @ SHARES
    pi = pi / pi.sum()
    out = []
    for counts in (pi, rng.multinomial(10 * p, pi)):
        mom = latent_moments(counts, X, order=2)
        G = mom.whitening.to_whitened(B)
        truth = (G.T * SHARES) @ G
        out.append(float(np.linalg.norm(mom.m2 - truth, 2)))
    return out[0], out[1]


def slope(p: np.ndarray, err: np.ndarray) -> float:
    """Least-squares slope of log(err) on log(p)."""
    return float(np.polyfit(np.log(p), np.log(err), 1)[0])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=20, help="replications per p (default 20)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = ap.parse_args(argv)

    B = atoms()
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    print(f"M2 operator-norm error, K={K}, L={L}, |beta|={NORM}, shares={SHARES.tolist()}, "
          f"{args.reps} reps per p")
    print("reference scale sqrt(exp(|beta|^2)/p); sampled counts use N = 10 p\n")
    header = (f"{'p':>8} {'exact mean':>11} {'(min-max)':>17} {'sampled mean':>13} "
              f"{'(min-max)':>17} {'sqrt(e^|b|^2/p)':>16}")
    print(header)
    print("-" * len(header))
    means_e, means_s = [], []
    all_p, all_e, all_s = [], [], []
    for p in P_GRID:
        errs = np.array([m2_errors(p, B, rng) for _ in range(args.reps)])
        e, s = errs[:, 0], errs[:, 1]
        means_e.append(e.mean())
        means_s.append(s.mean())
        all_p += [p] * args.reps
        all_e += list(e)
        all_s += list(s)
        ref = np.sqrt(np.exp(NORM**2) / p)
        print(f"{p:>8d} {e.mean():>11.4f} {f'({e.min():.4f}-{e.max():.4f})':>17} "
              f"{s.mean():>13.4f} {f'({s.min():.4f}-{s.max():.4f})':>17} {ref:>16.4f}")
    pg = np.array(P_GRID, dtype=float)
    print()
    print(f"log-log slope of the mean error:   exact {slope(pg, np.array(means_e)):+.3f}   "
          f"sampled {slope(pg, np.array(means_s)):+.3f}   (theory -0.5)")
    print(f"log-log slope, all replications:   exact {slope(np.array(all_p, float), np.array(all_e)):+.3f}   "
          f"sampled {slope(np.array(all_p, float), np.array(all_s)):+.3f}")
    big = pg >= 16_000
    print(f"log-log slope of the mean, p >= 16000: exact {slope(pg[big], np.array(means_e)[big]):+.3f}   "
          f"sampled {slope(pg[big], np.array(means_s)[big]):+.3f}")
    print(f"\nelapsed {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
