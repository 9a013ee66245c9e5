"""Scaling of the long-format fit: simulated panels of 1e3, 1e4 and 1e5 decision makers.

Columns: EM and Newton iterations summed over starts, seconds of one EM
iteration (E-step + M-step, timed alone), seconds in the starts' EM + Newton
runs, seconds of the final evaluation (Hessian, scores), total fit time.

Each size runs in its own process so that peak memory is measured per size:
10 situations x 4 alternatives per decision maker, 5 attributes, K = 3 classes
(shares 0.5 / 0.3 / 0.2). Prints, per size: rows, time per EM iteration, EM
and polish time, total fit time, peak resident memory of the process (data
included), the final log-likelihood against the log-likelihood at the true
parameters, and the largest coefficient error in standard errors.

Also times the electricity data (K = 3, 10 starts, polish and standard errors).

Run: ``python benchmarks/em_scaling.py [--sizes 1000 10000 100000] [--starts 3]``.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

TRUE_BETAS = np.array([[1.0, -1.0, 0.5, 0.0, 0.8],
                       [-1.0, 0.5, 1.0, 1.0, -0.5],
                       [0.3, 1.2, -1.0, -0.8, 0.2]])
TRUE_SHARES = np.array([0.5, 0.3, 0.2])


def one_size(n_dm: int, n_starts: int, seed: int) -> dict:
    import mixlogit as mx

    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=n_dm, n_situations=10, n_alternatives=4, betas=TRUE_BETAS,
        shares=TRUE_SHARES, seed=seed)
    model = mx.MixedMultinomialLogit(
        sim.data["choice"].to_numpy(), sim.data[list(sim.attribute_names)].to_numpy(),
        groups=sim.data["chid"].to_numpy(), panel=sim.data["id"].to_numpy(), k_classes=3,
        exog_names=list(sim.attribute_names))
    del sim
    true_params = model.layout.pack(TRUE_BETAS, None,
                                    np.log(TRUE_SHARES / TRUE_SHARES[0])[:, None])
    t0 = time.perf_counter()
    res = model.fit(n_starts=n_starts, seed=seed)
    total = time.perf_counter() - t0
    est = res.fit_state.estimate
    n_iter = int(res.starts["n_iter"].sum())
    # one E-step + M-step, timed alone at the estimate (median of 5)
    estep, mstep = res.fit_state.likelihood.make_steps()
    params = res.params.to_numpy()
    times = []
    for _ in range(5):
        t1 = time.perf_counter()
        params = mstep(params, estep(params)[1])
        times.append(time.perf_counter() - t1)
    z = (res.params.to_numpy()[:15] - TRUE_BETAS.ravel()) / res.bse.to_numpy()[:15]
    return {
        "decision_makers": n_dm, "rows": model.choice_data.n_rows, "starts": n_starts,
        "em_iterations": n_iter, "newton_iterations": int(res.starts["newton_iter"].sum()),
        "seconds_per_em_iteration": float(np.median(times)),
        "em_seconds": est.timings["em"], "polish_seconds": est.timings["polish"],
        "polish_iterations": res.polish_iter, "fit_seconds": total,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2,
        "llf": res.llf, "llf_true": model.loglike(true_params),
        "max_abs_z": float(np.abs(z).max()), "starts_at_best": res.start_report.n_reached_best,
    }


def electricity(n_starts: int = 10) -> dict:
    import mixlogit as mx

    df = mx.datasets.electricity.load()
    t0 = time.perf_counter()
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ pf + cl + loc + wk + tod + seas - 1", df, groups="chid", panel="id",
        k_classes=3)
    res = model.fit(n_starts=n_starts, seed=0)
    _ = res.bse, res.summary()
    return {"fit_seconds": time.perf_counter() - t0, "llf": res.llf,
            "em_iterations": int(res.starts["n_iter"].sum()),
            "starts_at_best": res.start_report.n_reached_best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--electricity", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one, args.starts, args.seed)))
        return
    if args.electricity:
        print(json.dumps(electricity()))
        return
    header = (f"{'N':>8} {'rows':>9} {'EM it':>6} {'Nt it':>6} {'s/EM it':>8} {'starts s':>8} {'final s':>8} "
              f"{'fit s':>7} {'peak GB':>8} {'llf':>14} {'llf(true)':>14} {'max|z|':>7}")
    print(header)
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--starts",
                              str(args.starts), "--seed", str(args.seed)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['decision_makers']:>8} {r['rows']:>9} {r['em_iterations']:>6} {r['newton_iterations']:>6} "
              f"{r['seconds_per_em_iteration']:>8.4f} {r['em_seconds']:>8.2f} "
              f"{r['polish_seconds']:>8.2f} {r['fit_seconds']:>7.2f} {r['peak_rss_gb']:>8.2f} "
              f"{r['llf']:>14.3f} {r['llf_true']:>14.3f} {r['max_abs_z']:>7.2f}", flush=True)
    out = subprocess.run([sys.executable, __file__, "--electricity"], capture_output=True,
                         text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\nelectricity, K=3, 10 starts, polish + standard errors + summary: "
          f"{r['fit_seconds']:.2f} s ({r['em_iterations']} EM iterations, "
          f"{r['starts_at_best']} of 10 starts at the best llf {r['llf']:.4f})")


if __name__ == "__main__":
    main()
