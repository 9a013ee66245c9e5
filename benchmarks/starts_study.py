"""Start strategies compared: subspace draws against draws in all of R^L; partition against
subspace on real data.

Part 1 (counts form, ALGORITHMS.md 3.4). Gaussian design, p candidates, K atoms of
norm 1.5 in random directions, equal shares, N draws. For (K, L) in
(5, 20), (6, 24), (7, 27), (8, 30): R starts of each kind,

* ``subspace``: beta_k = U z_k in whitened coordinates, U the top K eigenvectors
  of M2, z_k ~ N(0, tr(M2)/K I_K) (``start="subspace"``);
* ``full``: beta_k ~ N(0, tr(M2)/L I_L) in whitened coordinates: the same
  expected norm, but spread over all L directions
  (:func:`mixlogit.starts.moments.full_space_starts`);
* ``naive``: beta_k ~ N(0, I_L) in whitened coordinates, draws in R^L that know
  nothing of the moments (expected norm sqrt(L)),

each followed by EM (tol 1e-9, at most 2000 iterations). The reference optimum
is EM started at the truth. A start *succeeds* when its EM run ends within 1
log-likelihood unit of the reference and its class-matched betas within 0.05 of
the reference's. Reported: success rate, draws needed per success (1/rate),
seconds per start (start construction + EM), EM iterations per start, and
seconds per success.

Part 2 (long form, ALGORITHMS.md 3.5): the electricity data (Train's
``Electricity``; 361 decision makers, 4308 situations), K = 3,
``choice ~ pf + cl + loc + wk + tod + seas - 1``: R starts with
``start="partition"`` and R with ``start="subspace"`` (EM, no polish). The best
log-likelihood over all runs is the reference; success: within 0.05 of it.

Part 3 (counts form, hard case): weakly separated atoms (norm 1.0), K = 8,
L = 30, p = 5,000, N = 50,000, Dirichlet(3) shares, where EM from the truth
itself needs over a thousand iterations: the log-likelihood gap to the
truth-started optimum after a fixed budget of 400 EM iterations, per kind.

Run:  python benchmarks/starts_study.py [--reps 20] [--seed 0] [--part 1|2|3]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
from scipy.special import softmax

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import mixlogit as mx  # noqa: E402
from mixlogit.em import run_starts  # noqa: E402
from mixlogit.starts.moments import full_space_starts  # noqa: E402
from mixlogit.params import align_classes  # noqa: E402
from mixlogit.starts import make_starts  # noqa: E402

CONFIGS = [(5, 20), (6, 24), (7, 27), (8, 30)]


def part1(reps: int, seed: int, p: int, n_draws: int) -> None:
    print(f"Part 1: counts form, Gaussian design, p={p:,}, N={n_draws:,}, |beta_k|=1.5, equal "
          f"shares, {reps} starts of each kind\n")
    header = (f"{'K':>2s} {'L':>3s} {'starts':>9s} {'success':>8s} {'draws/success':>14s} "
              f"{'s/start':>8s} {'iter/start':>11s} {'s/success':>10s} {'M2 gap':>7s}")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(seed)
    for K, L in CONFIGS:
        X = rng.standard_normal((p, L))
        B = rng.standard_normal((K, L))
        B = 1.5 * B / np.linalg.norm(B, axis=1, keepdims=True)
        shares = np.full(K, 1.0 / K)
        pi = softmax(X @ B.T, axis=0) @ shares
        counts = rng.multinomial(n_draws, pi / pi.sum()).astype(float)
        model = mx.MixedMultinomialLogit.from_counts(counts, X, k_classes=K)
        lik = model.likelihood()
        lay = model.layout

        def run(starts):
            return run_starts(lambda: lik.make_steps(), starts, tol=1e-9, maxiter=2000)

        truth = lay.pack(B, gamma=np.log(shares)[:, None])
        ref = run([("truth", truth)])[0]
        ref_b = lay.unpack(ref.params).betas
        t0 = time.perf_counter()
        mom = lik.latent_moments(order=2)
        t_mom = time.perf_counter() - t0
        sub_gap = mom.subspace(K).relative_gap
        kinds = {}
        t0 = time.perf_counter()
        sub = make_starts(lik, "subspace", reps, rng)
        kinds["subspace"] = (sub, t_mom + time.perf_counter() - t0)
        t0 = time.perf_counter()
        scale = min(K, L) * float(np.trace(mom.m2)) / K
        full = [(f"full {i}", lay.pack(b)) for i, b in enumerate(
            full_space_starts(L, K, reps, scale, seed=rng, whitening=mom.whitening))]
        kinds["full"] = (full, t_mom + time.perf_counter() - t0)
        t0 = time.perf_counter()
        naive = [(f"naive {i}", lay.pack(b)) for i, b in enumerate(
            full_space_starts(L, K, reps, float(L), seed=rng, whitening=mom.whitening))]
        kinds["naive"] = (naive, time.perf_counter() - t0)
        for kind, (starts, t_make) in kinds.items():
            runs = run(starts)
            ok = []
            for r in runs:
                b = lay.unpack(r.params).betas
                order, _ = align_classes(ref_b, b)
                ok.append(r.error is None and r.llf >= ref.llf - 1.0
                          and np.abs(b[order] - ref_b).max() < 0.05)
            rate = float(np.mean(ok))
            sec = t_make / reps + np.mean([r.seconds for r in runs])
            its = np.mean([r.n_iter for r in runs])
            per_success = f"{1 / rate:>14.1f}" if rate > 0 else f"{'inf':>14s}"
            sec_success = f"{sec / rate:>10.2f}" if rate > 0 else f"{'inf':>10s}"
            print(f"{K:>2d} {L:>3d} {kind:>9s} {rate:>8.2f} {per_success} {sec:>8.2f} {its:>11.0f} "
                  f"{sec_success} {sub_gap:>7.3f}", flush=True)
    print("\nM2 gap: lambda_{K+1} / lambda_K of the estimated M2 (small is a clear subspace)")


def part3(reps: int, seed: int, budget: int = 400) -> None:
    """Weakly separated atoms: where EM is slow, how far does a fixed budget get each kind?"""
    K, L, p, n_draws, norm = 8, 30, 5_000, 50_000, 1.0
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((p, L))
    B = rng.standard_normal((K, L))
    B = norm * B / np.linalg.norm(B, axis=1, keepdims=True)
    shares = rng.dirichlet(np.full(K, 3.0))
    pi = softmax(X @ B.T, axis=0) @ shares
    counts = rng.multinomial(n_draws, pi / pi.sum()).astype(float)
    model = mx.MixedMultinomialLogit.from_counts(counts, X, k_classes=K)
    lik = model.likelihood()
    lay = model.layout
    ref = run_starts(lambda: lik.make_steps(), [("truth", lay.pack(B, gamma=np.log(shares)[:, None]))],
                     tol=1e-10, maxiter=5000)[0]
    mom = lik.latent_moments(order=2)
    scale = min(K, L) * float(np.trace(mom.m2)) / K
    kinds = {
        "subspace": make_starts(lik, "subspace", reps, rng),
        "full": [(f"full {i}", lay.pack(b)) for i, b in enumerate(
            full_space_starts(L, K, reps, scale, seed=rng, whitening=mom.whitening))],
        "naive": [(f"naive {i}", lay.pack(b)) for i, b in enumerate(
            full_space_starts(L, K, reps, float(L), seed=rng, whitening=mom.whitening))],
    }
    print(f"\nPart 3: weakly separated atoms (|beta_k| = {norm}), K={K}, L={L}, p={p:,}, "
          f"N={n_draws:,}, Dirichlet(3) shares; EM from the truth needs {ref.n_iter} iterations. "
          f"Log-likelihood gap to that optimum after {budget} EM iterations, {reps} starts "
          f"of each kind:\n")
    header = f"{'starts':>9s} {'mean gap':>9s} {'median':>8s} {'worst':>8s} {'best':>8s} {'s/start':>8s}"
    print(header)
    print("-" * len(header))
    for kind, starts in kinds.items():
        runs = run_starts(lambda: lik.make_steps(), starts, tol=1e-10, maxiter=budget)
        gap = np.array([ref.llf - r.llf for r in runs])
        print(f"{kind:>9s} {gap.mean():>9.1f} {np.median(gap):>8.1f} {gap.max():>8.1f} "
              f"{gap.min():>8.1f} {np.mean([r.seconds for r in runs]):>8.2f}", flush=True)


def part2(reps: int, seed: int) -> None:
    df = mx.datasets.electricity.load()
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ pf + cl + loc + wk + tod + seas - 1", df, groups="chid", panel="id",
        k_classes=3)
    lik = model.likelihood()
    print(f"\nPart 2: electricity, K=3, {reps} starts of each kind (EM, tol 1e-8, no polish)\n")
    out = {}
    for kind in ("partition", "subspace"):
        rng = np.random.default_rng(seed)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            starts = make_starts(lik, kind, reps, rng)
        t_make = time.perf_counter() - t0
        runs = run_starts(lambda: lik.make_steps(), starts, tol=1e-8, maxiter=2000)
        out[kind] = (runs, t_make)
    best = max(r.llf for runs, _ in out.values() for r in runs)
    header = (f"{'start':>10s} {'reached best':>13s} {'share':>6s} {'s/start':>8s} "
              f"{'(make + EM)':>14s} {'iter/start':>11s} {'s/success':>10s} {'optima found':>30s}")
    print(f"best log-likelihood over all runs: {best:.4f}")
    print(header)
    print("-" * len(header))
    for kind, (runs, t_make) in out.items():
        llf = np.array([r.llf for r in runs])
        ok = llf >= best - 0.05
        sec = t_make / reps + np.mean([r.seconds for r in runs])
        its = np.mean([r.n_iter for r in runs])
        optima = np.unique(np.round(llf, 1))[::-1][:4]
        rate = ok.mean()
        print(f"{kind:>10s} {f'{ok.sum()}/{reps}':>13s} {rate:>6.2f} {sec:>8.3f} "
              f"{f'({t_make / reps:.3f} + {sec - t_make / reps:.3f})':>14s} {its:>11.0f} "
              f"{(sec / rate if rate else float('inf')):>10.2f} "
              f"{', '.join(f'{v:.1f}' for v in optima):>30s}", flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--p", type=int, default=10_000)
    ap.add_argument("--draws", type=int, default=1_000_000)
    ap.add_argument("--part", type=int, choices=(1, 2, 3), default=None)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.part in (None, 1):
        part1(args.reps, args.seed, args.p, args.draws)
    if args.part in (None, 2):
        part2(args.reps, args.seed)
    if args.part in (None, 3):
        part3(args.reps, args.seed)
    print(f"\nelapsed {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
