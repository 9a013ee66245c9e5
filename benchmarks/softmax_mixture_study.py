"""Simulation study of EM on the counts form: error against N, Fisher information, standard errors.

ALGORITHMS.md section 7. Design (fixed across replications): p = 2000 candidates
with features x_j ~ N(0, I_5) drawn once, K = 3 atoms of norm 1.5 (random
directions, drawn once), shares (0.5, 0.3, 0.2). For every N on the grid
1e3 .. 1e6 and every replication, fresh counts ~ Multinomial(N, pi) are fitted
with ``MixedMultinomialLogit.from_counts`` by EM + Newton polish from several
starts: the truth, the method-of-moments estimate and two subspace draws (the
best log-likelihood wins; starting at the truth as well makes sure the study
measures the maximum-likelihood estimator, not a start's failure).

Error: the estimate's classes are matched to the truth's (Hungarian assignment
on the betas), the share logits are re-referenced to the matched class 1, and
the error is the Euclidean norm of theta_hat - theta over
theta = (beta_1, beta_2, beta_3, log(a2/a1), log(a3/a1)).

Printed:

1. per N: mean error, RMSE, MSE / (trace(I^-1) / N) with I the per-draw Fisher
   information of ``mixlogit.starts.moments.counts_fisher_information`` (section 7;
   target: within 25%), and the fitted log-log slope of the RMSE against N
   (target -0.5 within 0.1);
2. standard errors: mean reported (observed-information) standard error against
   the standard deviation of the estimates over replications, per parameter
   (ratio; 1 is perfect), and against the Fisher standard errors;
3. MoM against truth: how often EM from the MoM starts (the tensor and the
   Prony estimates, best of the two; no random start) ended at the optimum of
   the run started at the truth (same log-likelihood within 1e-6 relative, and
   for K = 2 and the p = 20,000 design same parameters within 1e-4), at K = 3
   (the main design, every fit), K = 2 (first two atoms, shares (0.6, 0.4),
   N = 1e5) and K = 3 with p = 20,000 candidates (N = 1e6).

Run:  python benchmarks/softmax_mixture_study.py [--reps 25] [--seed 0]
      (about 5-10 minutes on 2 cores; --quick for a 2-minute version)
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
from mixlogit.params import align_classes  # noqa: E402
from mixlogit.starts import make_starts  # noqa: E402
from mixlogit.starts.moments import counts_fisher_information  # noqa: E402

P, L, K, NORM = 2000, 5, 3, 1.5
SHARES = np.array([0.5, 0.3, 0.2])
N_GRID = [1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000]


def design(seed: int = 2024, k: int = K) -> tuple[np.ndarray, np.ndarray]:
    """Fixed features (p x L) and atoms (K x L, norm 1.5)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((P, L))
    B = rng.standard_normal((K, L))
    B = NORM * B / np.linalg.norm(B, axis=1, keepdims=True)
    return X, B[:k]


def aligned(layout, theta: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parameters with classes matched to the truth, and the Jacobian of that (linear) map."""
    betas = layout.unpack(theta).betas
    order, _ = align_classes(B, betas)
    J = np.column_stack([layout.permute(e, order) for e in np.eye(theta.size)])
    return layout.permute(theta, order), J


def fit_one(model, truth: np.ndarray, rng: np.random.Generator):
    """Fit from the truth, the MoM estimate and two subspace draws; returns results and runs."""
    lik = model.likelihood()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        extra = make_starts(lik, "mom", 3, rng)
        starts = [truth] + [theta for _, theta in extra]
        res = model.fit(start_params=starts, tol=1e-10, maxiter=5000)
    origins = ["truth"] + [o for o, _ in extra]
    return res, origins


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="N up to 1e5, 10 reps")
    args = ap.parse_args(argv)
    grid = N_GRID[:5] if args.quick else N_GRID
    reps = 10 if args.quick else args.reps
    X, B = design()
    rng = np.random.default_rng(args.seed)
    gam = np.log(SHARES[1:] / SHARES[0])
    theta_true = np.r_[B.ravel(), gam]
    info = counts_fisher_information(X, B, SHARES)
    info_inv = np.linalg.inv(info)
    tr = float(np.trace(info_inv))
    pi = softmax(X @ B.T, axis=0) @ SHARES
    pi /= pi.sum()
    t0 = time.perf_counter()
    print(f"softmax mixture study: p={P}, L={L}, K={K}, |beta_k|={NORM}, shares={SHARES.tolist()}, "
          f"{reps} replications per N")
    print(f"per-draw Fisher information: trace(I^-1) = {tr:.2f}, condition number "
          f"{np.linalg.cond(info):.1f}\n")
    rows = []
    names = None
    mom_hits = mom_total = 0
    se_table = {}
    for N in grid:
        errs, ests, ses, t_fit = [], [], [], []
        hits_n = 0
        for _ in range(reps):
            counts = rng.multinomial(N, pi).astype(float)
            model = mx.MixedMultinomialLogit.from_counts(counts, X, k_classes=K)
            names = model.param_names
            truth = model.layout.pack(B, gamma=np.r_[0.0, gam][:, None])
            a = time.perf_counter()
            res, origins = fit_one(model, truth, rng)
            t_fit.append(time.perf_counter() - a)
            theta, J = aligned(model.layout, res.params.to_numpy(), B)
            cov = J @ res.cov_params().to_numpy() @ J.T
            errs.append(theta - theta_true)
            ests.append(theta)
            ses.append(np.sqrt(np.clip(np.diag(cov), 0, None)))
            table = res.starts
            i_mom = [i for i, o in enumerate(origins) if o.startswith("mom")]
            if i_mom:
                mom_total += 1
                gap = table["llf"].iloc[0] - table["llf"].iloc[i_mom].max()
                hit = int(gap <= 1e-6 * abs(table["llf"].iloc[0]))
                mom_hits += hit
                hits_n += hit
        E = np.array(errs)
        sq = (E ** 2).sum(axis=1)
        rows.append((N, np.sqrt(sq).mean(), np.sqrt(sq.mean()), sq.mean() / (tr / N),
                     float(np.mean(t_fit)), hits_n, float(np.median(np.sqrt(sq)))))
        se_table[N] = (np.array(ests).std(axis=0, ddof=1), np.array(ses).mean(axis=0))
        print(f"  N={N:>9,d} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)

    print(f"{'N':>9s} {'mean |err|':>11s} {'median':>9s} {'RMSE':>9s} {'MSE/(tr I^-1/N)':>16s} "
          f"{'s/fit':>7s} {'MoM run at truth optimum':>25s}")
    for N, me, rmse, ratio, tf, hn, md in rows:
        print(f"{N:>9,d} {me:>11.4f} {md:>9.4f} {rmse:>9.4f} {ratio:>16.3f} {tf:>7.2f} "
              f"{f'{hn}/{reps}':>25s}")
    Ns = np.array([r[0] for r in rows], float)
    rmse = np.array([r[2] for r in rows])
    me = np.array([r[1] for r in rows])
    slope = np.polyfit(np.log(Ns), np.log(rmse), 1)[0]
    slope_mean = np.polyfit(np.log(Ns), np.log(me), 1)[0]
    big = Ns >= 10_000
    slope_big = np.polyfit(np.log(Ns[big]), np.log(rmse[big]), 1)[0]
    med = np.array([r[6] for r in rows])
    slope_med = np.polyfit(np.log(Ns), np.log(med), 1)[0]
    print(f"\nlog-log slope of RMSE on N: {slope:+.3f} (all N), {slope_big:+.3f} (N >= 1e4); "
          f"of the mean error: {slope_mean:+.3f}; of the median error: {slope_med:+.3f} "
          f"(all N)   (theory -0.5)")
    ratios = np.array([r[3] for r in rows])
    print(f"MSE / (trace(I^-1)/N): {', '.join(f'{r:.2f}' for r in ratios)} "
          f"(within 25% of 1 for N >= 1e4: {bool(np.all(np.abs(ratios[big] - 1) <= 0.25))})")

    print("\nstandard errors: mean reported SE / SD over replications (1 is perfect), "
          "and Fisher SE sqrt(diag(I^-1)/N) / SD")
    fisher_se = np.sqrt(np.diag(info_inv))
    header = f"{'parameter':>24s}" + "".join(f"{'N=' + format(N, ','):>22s}" for N in se_table)
    print(header)
    for i, name in enumerate(names):
        label = name if not name.startswith("membership") else \
            name.replace("membership:", "log share ").replace(":Intercept", "/class1")
        cells = "".join(f"{se[i] / sd[i]:>10.2f} {fisher_se[i] / np.sqrt(N) / sd[i]:>11.2f}"
                        for N, (sd, se) in se_table.items())
        print(f"{label:>24s}{cells}")
    med_se = {N: np.median(se / sd) for N, (sd, se) in se_table.items()}
    print("median over parameters of SE/SD: "
          + ", ".join(f"N={N:,}: {v:.2f}" for N, v in med_se.items()))

    print(f"\nMoM vs truth, K=3: the MoM-started run reached the truth-started optimum in "
          f"{mom_hits} of {mom_total} fits")
    # K = 2: first two atoms
    B2 = B[:2]
    s2 = np.array([0.6, 0.4])
    pi2 = softmax(X @ B2.T, axis=0) @ s2
    pi2 /= pi2.sum()
    hits = 0
    n2 = 10 if args.quick else 20
    for _ in range(n2):
        counts = rng.multinomial(100_000, pi2).astype(float)
        model = mx.MixedMultinomialLogit.from_counts(counts, X, k_classes=2)
        truth = model.layout.pack(B2, gamma=np.log(s2)[:, None])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r_truth = model.fit(start_params=truth, tol=1e-10)
            mom = [s[1] for s in make_starts(model.likelihood(), "mom", 1, rng)
                   if s[0].startswith("mom")]
            r_mom = model.fit(start_params=mom, tol=1e-10)
        same = (abs(r_truth.llf - r_mom.llf) <= 1e-6 * abs(r_truth.llf)
                and np.abs(r_truth.params.to_numpy() - r_mom.params.to_numpy()).max() < 1e-4)
        hits += int(same)
    print(f"MoM vs truth, K=2 (N=1e5): EM from the MoM starts alone reached the truth-started optimum in "
          f"{hits} of {n2} data sets")
    # K = 3 with more candidates: the finite-p error of the moments shrinks like p^-1/2
    p_big = 20_000
    rng_d = np.random.default_rng(77)
    Xb = rng_d.standard_normal((p_big, L))
    pib = softmax(Xb @ B.T, axis=0) @ SHARES
    pib /= pib.sum()
    hits = 0
    n3 = 5 if args.quick else 10
    for _ in range(n3):
        counts = rng.multinomial(1_000_000, pib).astype(float)
        model = mx.MixedMultinomialLogit.from_counts(counts, Xb, k_classes=3)
        truth = model.layout.pack(B, gamma=np.r_[0.0, gam][:, None])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r_truth = model.fit(start_params=truth, tol=1e-10)
            mom = [s[1] for s in make_starts(model.likelihood(), "mom", 1, rng)
                   if s[0].startswith("mom")]
            r_mom = model.fit(start_params=mom, tol=1e-10)
        same = (abs(r_truth.llf - r_mom.llf) <= 1e-6 * abs(r_truth.llf)
                and np.abs(r_truth.params.to_numpy() - r_mom.params.to_numpy()).max() < 1e-4)
        hits += int(same)
    print(f"MoM vs truth, K=3, p={p_big:,} (N=1e6): EM from the MoM starts alone reached the truth-started "
          f"optimum in {hits} of {n3} data sets")
    print(f"\nelapsed {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
