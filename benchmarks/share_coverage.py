"""Coverage of the delta-method market-share intervals of ``res.predict_shares()``.

Each replication simulates a K = 2 panel with :func:`mixlogit.datasets.simulate.simulate_panel`
(known truth), fits it from the truth plus one random-partition start, aligns the classes
to the truth, and asks whether the 95% interval of every alternative's market share covers
the true share: the same formula evaluated at the true parameters on the replication's own
design (``mixlogit.results.scenarios.share_jacobian``). Market shares do not depend on the
class labels; the alignment is kept for the reported coefficient error.

Usage::

    python benchmarks/share_coverage.py --reps 200        # the study (a few minutes, 1 core)
    python benchmarks/share_coverage.py --reps 20         # a quick look

Prints the coverage per alternative and overall, with its binomial standard error and
the seconds taken. Target: 92-98% for 95% intervals.
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import mixlogit as mx
from mixlogit.params import align_classes
from mixlogit.results.scenario_design import scenario_design
from mixlogit.results.scenarios import share_jacobian

BETAS = np.array([[1.5, -1.0], [-1.0, 1.0]])
SHARES = np.array([0.6, 0.4])


def one_replication(seed: int, *, n_dm: int, n_sit: int, n_alt: int, alpha: float):
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=n_dm, n_situations=n_sit, n_alternatives=n_alt,
        betas=BETAS, shares=SHARES, seed=seed)
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
    lay = model.layout
    truth = lay.pack(BETAS, gamma=np.log(SHARES / SHARES[0])[:, None])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = [model.fit(start=truth, n_starts=1, seed=seed),
                model.fit(start="partition", n_starts=1, seed=seed)]
        res = max(fits, key=lambda r: r.llf)
        tab = res.predict_shares(by="alt", alpha=alpha)
    order, _ = align_classes(BETAS, res.params_by_class.to_numpy().T)
    aligned = res.params_by_class.to_numpy().T[order]
    D = scenario_design(res, None, "coverage")
    codes = sim.data["alt"].to_numpy()[D.rows]
    uniq, codes = np.unique(codes, return_inverse=True)
    true_share, _ = share_jacobian(res, truth, D, codes, len(uniq), "prior", jacobian=False)
    covered = (tab["lower"].to_numpy() <= true_share) & (true_share <= tab["upper"].to_numpy())
    return covered, np.abs(aligned - BETAS).max()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--decision-makers", type=int, default=300)
    parser.add_argument("--situations", type=int, default=8)
    parser.add_argument("--alternatives", type=int, default=3)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    hits, errors = [], []
    for r in range(args.reps):
        covered, err = one_replication(args.seed + r, n_dm=args.decision_makers,
                                       n_sit=args.situations, n_alt=args.alternatives,
                                       alpha=args.alpha)
        hits.append(covered)
        errors.append(err)
    hits = np.array(hits, float)
    n = hits.size
    rate = hits.mean()
    print(f"{args.reps} replications, {args.decision_makers} decision makers x "
          f"{args.situations} situations x {args.alternatives} alternatives, K = 2")
    for j in range(hits.shape[1]):
        print(f"  alternative {j + 1}: coverage {hits[:, j].mean():.3f}")
    print(f"overall coverage of the {1 - args.alpha:.0%} intervals: {rate:.3f} "
          f"(binomial s.e. {np.sqrt(rate * (1 - rate) / n):.3f}, {n} intervals); target 0.92-0.98")
    print(f"median max |estimate - truth| of the coefficients: {np.median(errors):.3f}")
    print(f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
