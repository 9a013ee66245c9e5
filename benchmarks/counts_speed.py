"""Time per EM iteration and memory of the counts form at p = 100,000, L = 50, K = 10.

The counts form (``MixedMultinomialLogit.from_counts``) costs O(p K L) per EM
iteration (E-step: utilities and softmax; M-step: one pass over the features for
the gradients, one for the Newton direction), plus the class informations
Sigma_k (O(p K L^2)) every ``refresh`` iterations (default 20). The long form of the same data would have p x N rows.

Reports: seconds per EM iteration (wall clock and CPU time; tracemalloc, which
counts every numpy allocation, slows the iterations slightly) (mean over ``--iters`` iterations, after one
warm-up iteration), the split into E- and M-step, the cost of one Sigma
refresh, and memory: the tracemalloc peak of numpy allocations during the EM
iterations (numpy reports its buffers to tracemalloc) and the process's peak
resident set size (``resource.getrusage``). Also the polish (Newton on the full
likelihood with the analytic Hessian, d = K L + K - 1 = 509) per iteration.

Run:  python benchmarks/counts_speed.py [--p 100000] [--L 50] [--K 10] [--iters 30]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc

import numpy as np
from scipy.special import softmax

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import mixlogit as mx  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, default=100_000)
    ap.add_argument("--L", type=int, default=50)
    ap.add_argument("--K", type=int, default=10)
    ap.add_argument("--N", type=int, default=1_000_000, help="draws")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--polish", action="store_true", help="also time polish iterations")
    args = ap.parse_args(argv)
    p, L, K = args.p, args.L, args.K
    rng = np.random.default_rng(args.seed)
    X = rng.standard_normal((p, L))
    B = rng.standard_normal((K, L))
    B *= 1.5 / np.linalg.norm(B, axis=1, keepdims=True)
    shares = rng.dirichlet(np.full(K, 5.0))
    pi = softmax(X @ B.T, axis=0) @ shares
    counts = rng.multinomial(args.N, pi / pi.sum()).astype(float)
    print(f"counts form: p={p}, L={L}, K={K}, N={args.N}, d={K * L + K - 1}; "
          f"numpy {np.__version__}, {os.cpu_count()} cores")

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model = mx.MixedMultinomialLogit.from_counts(counts, X, k_classes=K)
    lik = model.likelihood()
    from mixlogit.starts import moment_subspace_starts

    t0 = time.perf_counter()
    (_, theta0), = moment_subspace_starts(lik, 1, np.random.default_rng(1))
    t_start = time.perf_counter() - t0

    estep, mstep = lik.make_steps()
    llf, ev = estep(theta0)
    theta = mstep(theta0, ev)  # warm-up (computes Sigma once)

    t0 = time.perf_counter()
    lik.class_informations(ev.state)
    t_sigma = time.perf_counter() - t0

    tracemalloc.start()
    te = tm = 0.0
    cpu0 = time.process_time()
    llfs = []
    for _ in range(args.iters):
        a = time.perf_counter()
        llf, ev = estep(theta)
        b = time.perf_counter()
        theta = mstep(theta, ev)
        c = time.perf_counter()
        te += b - a
        tm += c - b
        llfs.append(llf)
    cpu = time.process_time() - cpu0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    it = args.iters
    per = (te + tm) / it
    print(f"\nstart values (latent moments M2 + subspace draw): {t_start:.2f} s")
    print(f"one refresh of Sigma_k (K x L x L, O(pKL^2)):      {t_sigma:.3f} s")
    print(f"\n{'':34s}{'seconds':>10s}")
    print(f"{'EM iteration (mean of ' + str(it) + ')':34s}{per:>10.4f}")
    print(f"{'  E-step':34s}{te / it:>10.4f}")
    print(f"{'  M-step (incl. Sigma refreshes)':34s}{tm / it:>10.4f}")
    print(f"{'CPU seconds per EM iteration':34s}{cpu / it:>10.4f}   (all threads; wall time above "
          f"is inflated when other processes share the cores: load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"log-likelihood non-decreasing over the iterations: "
          f"{bool(np.all(np.diff(llfs) >= -1e-10 * np.abs(llfs[1:])))}")
    print(f"\nmemory: tracemalloc peak during EM iterations {peak / 2**20:.1f} MiB "
          f"(features alone {X.nbytes / 2**20:.1f} MiB, one p x K array "
          f"{p * K * 8 / 2**20:.1f} MiB)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS {rss:.0f} MiB (before building the model: {rss0:.0f} MiB)")

    if args.polish:
        t0 = time.perf_counter()
        lik.evaluate(theta, order=2)
        t_h = time.perf_counter() - t0
        print(f"\none order-2 evaluation (score per candidate + analytic Hessian, d={theta.size}): "
              f"{t_h:.2f} s")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"process peak RSS after the Hessian {rss:.0f} MiB")


if __name__ == "__main__":
    main()
