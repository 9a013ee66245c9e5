"""Starts that find the global optimum (issue 11): the default portfolio against ten partitions.

Part 1 (long form). Settings: electricity K=3 and K=4 (``choice ~ pf + cl + loc + wk +
tod + seas - 1``, groups ``chid``, panel ``id``), Swissmetro panel K=3 (asc_train,
asc_car, time, cost class-specific, availability), the train panel K=3 (price, time,
change, comfort), and a simulated panel of five weakly separated classes (shares
0.46-0.06). For each: the best-known optimum from ``--ref`` starts of every kind
(partition, subspace, short, kmeans, split; EM + Newton); then for seeds 0..S-1
the default portfolio (:func:`mixlogit.starts.portfolio.run_portfolio`) and today's
``start="partition", n_starts=10`` in the same run: whether each reaches the
best-known optimum (within 1e-6 relative), and their CPU seconds.

Part 2 (counts form). Gaussian design, K atoms of norm 1.5 in random directions, equal
shares, p candidates, N draws, L = max(5, 2K): for K in 2, 3, 5, 8, 10, 15, the
whitened-beta error of the method-of-moments estimate (after class alignment) and
the share of EM runs that reach the truth-started optimum (within 1 log-likelihood
unit) from each kind of start: ``mom``, draws of the estimated norm (``subspace``),
and naive N(0, I) draws.

Run:  python benchmarks/starts_study.py [--seeds 10] [--ref 100] [--part 1|2]

Measured (2026-12-01, ``--seeds 10 --ref 200 --reps 6``, shared 2-core machine, ~12 min CPU)::

    setting               best known  ref,at best  portfolio  10 partitions /start  CPU ratio  warned
    electricity K=3       -4298.0275    200  40%     10/10        10/10      44%     1.10       0
    electricity K=4       -4138.6366    200  56%     10/10        10/10      34%     0.60       0
    swissmetro K=3        -3979.0030    200  43%     10/10        10/10      32%     0.94       0
    train K=3             -1465.8068    200  77%     10/10        10/10      53%     1.11       0
    simulated K=5 (weak)  -1961.2024    200   6%     10/10         3/10       3%     0.77       8

    K   L  MoM err  mom  norm draws  naive N(0,I)
    2   5    0.101  2/2     6/6        6/6
    3   6    0.563  2/2     6/6        6/6
    5  10  166.780  2/2     6/6        6/6
    8  16   68.379  1/2     6/6        6/6
   10  20    3.910  1/2     6/6        6/6
   15  30   44.487  1/2     6/6        5/6

The simulated K=5 best has a 3% class with coefficients near 4 in absolute value (the
truth's smallest class has 6%); 3% of partition starts reach it, and the portfolio reaches
it through the second-best split of the 4-class solution (its report warns in 8 of 10 fits
because only that one continued start reached it).
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
from mixlogit.em import StartReport  # noqa: E402
from mixlogit.likelihood.estimate import estimate  # noqa: E402
from mixlogit.params import align_classes  # noqa: E402
from mixlogit.starts import make_starts  # noqa: E402
from mixlogit.starts.moments import mom_estimate  # noqa: E402
from mixlogit.starts.portfolio import run_portfolio  # noqa: E402


def settings():
    e = mx.datasets.electricity.load()
    f = "choice ~ pf + cl + loc + wk + tod + seas - 1"
    yield "electricity K=3", mx.MixedMultinomialLogit.from_formula(
        f, e, groups="chid", panel="id", k_classes=3)
    yield "electricity K=4", mx.MixedMultinomialLogit.from_formula(
        f, e, groups="chid", panel="id", k_classes=4)
    s = mx.datasets.swissmetro.load()
    yield "swissmetro K=3", mx.MixedMultinomialLogit.from_formula(
        "choice ~ asc_train + asc_car + time + cost - 1", s, groups="chid", panel="id",
        k_classes=3, availability="available")
    t = mx.datasets.train.load()
    yield "train K=3", mx.MixedMultinomialLogit.from_formula(
        "choice ~ price + time + change + comfort - 1", t, groups="chid", panel="id",
        k_classes=3)
    betas = np.array([[0.6, -0.4, 0.3, 0.0], [-0.3, 0.5, 0.2, 0.3], [0.2, 0.2, -0.5, 0.1],
                      [0.0, -0.3, 0.0, -0.6], [0.7, 0.4, 0.3, 0.3]])
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=400, n_situations=5, n_alternatives=3, betas=1.5 * betas,
        shares=np.array([0.46, 0.2, 0.16, 0.12, 0.06]), seed=11)
    yield "simulated K=5 (weak)", mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 + x3 + x4 - 1", sim.data, groups="chid", panel="id", k_classes=5)


def reference(lik, n_ref: int) -> tuple[float, StartReport]:
    rng = np.random.default_rng(12345)
    per = max(n_ref // 5, 1)
    starts = []
    for kind in ("partition", "subspace", "short", "kmeans", "split"):
        try:
            starts += make_starts(lik, kind, per, rng)
        except mx.exceptions.SpecificationError:
            starts += make_starts(lik, "partition", per, rng)
    est = estimate(lik, starts)
    return est.llf, est.report


def part1(n_seeds: int, n_ref: int) -> None:
    print(f"Part 1: default portfolio vs start='partition', n_starts=10; seeds 0..{n_seeds - 1}\n")
    head = (f"{'setting':22s} {'best known':>12s} {'ref, at best':>10s} {'portfolio':>10s} "
            f"{'10 partitions':>14s} {'/start':>5s} {'CPU ratio':>9s} {'port s':>7s} "
            f"{'part s':>7s} {'warned':>6s}")
    print(head)
    print("-" * len(head))
    for name, model in settings():
        lik = model.likelihood()
        t = time.process_time()
        best, ref = reference(lik, n_ref)
        t_ref = time.process_time() - t
        hit_p = hit_10 = warned = 0
        per_start = []
        cpu_p = cpu_10 = 0.0
        for seed in range(n_seeds):
            t = time.process_time()
            est = run_portfolio(lik, rng=seed)
            cpu_p += time.process_time() - t
            t = time.process_time()
            ten = estimate(lik, make_starts(lik, "partition", 10, np.random.default_rng(seed)))
            cpu_10 += time.process_time() - t
            best = max(best, est.llf, ten.llf)
            hit_p += est.llf >= best - 1e-6 * abs(best)
            hit_10 += ten.llf >= best - 1e-6 * abs(best)
            warned += est.report.should_warn
            per_start.append(ten.report.table["llf"].to_numpy())
        per_start = np.concatenate(per_start)
        share_10 = float(np.mean(per_start >= best - 1e-6 * abs(best)))
        share_ref = float(np.mean(ref.table["llf"].to_numpy() >= best - 1e-6 * abs(best)))
        print(f"{name:22s} {best:12.4f} {ref.n_starts:5d} {share_ref:4.0%} {hit_p:>7d}/{n_seeds:<2d} "
              f"{hit_10:>11d}/{n_seeds:<2d} {share_10:5.0%} {cpu_p / cpu_10:9.2f} "
              f"{cpu_p / n_seeds:7.2f} {cpu_10 / n_seeds:7.2f} {warned:6d}   "
              f"(reference {t_ref:.0f} s)", flush=True)
        if hit_p < n_seeds:  # the fix the report advises: a larger budget
            for budget in (1000, 2000):
                hits, cpu = 0, 0.0
                for seed in range(n_seeds):
                    t = time.process_time()
                    est = run_portfolio(lik, rng=seed, budget=budget)
                    cpu += time.process_time() - t
                    hits += est.llf >= best - 1e-6 * abs(best)
                print(f"{'  ... budget=' + str(budget):22s} {'':12s} {'':10s} {hits:>7d}/{n_seeds:<2d} "
                      f"{'':14s} {'':5s} {cpu / cpu_10:9.2f} {cpu / n_seeds:7.2f}", flush=True)
    print("\nA fit reaches the best when its log-likelihood is within 1e-6 (relative) of the best "
          "known (the best of the reference and of every fit of the table). 'ref, at best': "
          "reference starts and their share at the best; '/start': share of the partition "
          "starts at the best; 'warned': portfolio fits whose report asks for a larger "
          "budget.\n")


def part2(reps: int, p: int, n_draws: int) -> None:
    print(f"Part 2: counts form, p={p:,}, N={n_draws:,}, |beta_k|=1.5, equal shares, "
          f"{reps} draws of each kind\n")
    head = (f"{'K':>3s} {'L':>3s} {'MoM err':>8s} {'mom':>6s} {'norm draws':>11s} "
            f"{'naive N(0,I)':>13s}")
    print(head)
    print("-" * len(head))
    rng = np.random.default_rng(0)
    for K in (2, 3, 5, 8, 10, 15):
        L = max(5, 2 * K)
        X = rng.standard_normal((p, L))
        B = rng.standard_normal((K, L))
        B = 1.5 * B / np.linalg.norm(B, axis=1, keepdims=True)
        shares = np.full(K, 1.0 / K)
        pi = softmax(X @ B.T, axis=0) @ shares
        counts = rng.multinomial(n_draws, pi / pi.sum()).astype(float)
        model = mx.MixedMultinomialLogit.from_counts(counts, X, k_classes=K)
        lik = model.likelihood()
        lay = model.layout
        ref = estimate(lik, [("truth", lay.pack(B, gamma=np.log(shares)[:, None]))]).llf
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mom = mom_estimate(mx.latent_moments(counts, X, order=3 if K <= L else 2), K, seed=0)
        gam = mom.whitened_betas
        order, _ = align_classes(B, gam)
        err = float(np.max(np.linalg.norm(gam[order] - B, axis=1)))  # Gaussian design: whitened ~ raw
        cells = []
        for kind in ("mom", "subspace", "naive"):
            if kind == "naive":
                starts = [(f"naive {i}", lay.pack(rng.standard_normal((K, L)))) for i in range(reps)]
            else:
                starts = make_starts(lik, kind, reps, np.random.default_rng(1))
                if kind == "mom":
                    starts = starts[:min(2, reps)]
            est = estimate(lik, starts, maxiter=500)
            ok = sum(r.llf >= ref - 1.0 for r in est.runs)
            cells.append(f"{ok}/{len(est.runs)}")
        print(f"{K:3d} {L:3d} {err:8.3f} {cells[0]:>6s} {cells[1]:>11s} {cells[2]:>13s}",
              flush=True)
    print("\nMoM err: largest distance of an aligned MoM atom to the truth (whitened units); "
          "a start succeeds when EM (+ Newton) ends within 1 log-likelihood unit of the "
          "truth-started optimum.\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--ref", type=int, default=100)
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--p", type=int, default=10_000)
    ap.add_argument("--draws", type=int, default=100_000)
    ap.add_argument("--part", type=int, choices=(1, 2))
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if args.part in (None, 1):
        part1(args.seeds, args.ref)
    if args.part in (None, 2):
        part2(args.reps, args.p, args.draws)


if __name__ == "__main__":
    main()
