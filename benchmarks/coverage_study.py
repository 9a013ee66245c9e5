"""Coverage of 95% intervals for latent-class logit parameters (seeded simulation study).

For each setting (K = 2 and K = 3, known truth, small panels) the script draws
``--reps`` independent data sets, fits each one (EM from the truth plus two
random-partition starts, the best log-likelihood wins; classes are then matched
to the true classes by the Hungarian assignment on the coefficients), and
records whether the 95% intervals of

* ``oim``: Wald, inverse observed information,
* ``robust``: Wald, sandwich by decision maker,
* ``boot``: label-aligned bootstrap percentile interval (``--boot-reps``
  replicates resampling decision makers),
* ``boot_normal``: estimate -/+ 1.96 bootstrap standard errors (same replicates),

cover each true parameter (class coefficients and membership log-odds). It
prints, per setting and interval, the coverage of every parameter, their mean,
min and max, and the Monte Carlo standard error ``sqrt(0.95 * 0.05 / reps)``.

Usage::

    PYTHONPATH=. python benchmarks/coverage_study.py --reps 200 --boot-reps 99 --n-jobs 2

Replications run in parallel processes (``--n-jobs``); each bootstrap runs in
its own process on one core. The same arguments give the same table.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

import mixlogit as mx
import mixlogit.bootstrap  # noqa: F401  (imported before the workers fork)
import mixlogit.starts  # noqa: F401
from mixlogit.datasets.simulate import simulate_panel

SETTINGS = {
    "K2": dict(betas=[[1.5, -1.0, 0.5], [-1.0, 1.0, -0.5]], shares=[0.6, 0.4],
               n_decision_makers=300, n_situations=8, n_alternatives=3),
    "K3": dict(betas=[[1.0, -1.0, 0.5], [-1.0, 1.0, 0.0], [0.5, 0.5, -1.5]],
               shares=[0.5, 0.3, 0.2], n_decision_makers=500, n_situations=8, n_alternatives=3),
}
FORMULA = "choice ~ x1 + x2 + x3 - 1"
Z95 = 1.959963984540054


def one_replication(args) -> dict:
    setting, rep, boot_reps, base_seed = args
    cfg = SETTINGS[setting]
    seed = np.random.SeedSequence([base_seed, int(setting[1:]), rep])
    s_data, s_fit, s_boot = seed.spawn(3)
    sim = simulate_panel(seed=np.random.default_rng(s_data), **cfg)
    betas = np.asarray(cfg["betas"], float)
    shares = np.asarray(cfg["shares"], float)
    K = len(shares)
    model = mx.MixedMultinomialLogit.from_formula(FORMULA, sim.data, groups="chid", panel="id",
                                                  k_classes=K)
    lay = model.layout
    truth = lay.pack(betas, gamma=np.log(shares)[:, None])
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lik = model.likelihood()
        from mixlogit.starts import partition_starts

        starts = [truth] + [p for _, p in partition_starts(lik, 2, np.random.default_rng(s_fit))]
        res = model.fit(start=starts, seed=np.random.default_rng(s_fit))
    t_fit = time.perf_counter() - t0
    # match estimated classes to the true classes
    est_b = lay.unpack(res.params.to_numpy()).betas
    cost = ((betas[:, None, :] - est_b[None, :, :]) ** 2).sum(axis=2)
    r, c = linear_sum_assignment(cost)
    order = np.empty(K, int)
    order[r] = c
    out = {"setting": setting, "rep": rep, "converged": res.converged, "fit_seconds": t_fit}

    def record(tag, params, lower, upper):
        # put everything in the truth's class order
        p_al = lay.permute(params, order)
        lo_al = _permute_bounds(lay, lower, upper, params, order)
        for name, t, (lo, hi) in zip(lay.param_names, truth, lo_al):
            out[f"{tag}|{name}"] = np.nan if np.isnan(lo) else float(lo <= t <= hi)
        return p_al

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rob = res.get_robustcov_results("robust")
    for tag, rr in (("oim", res), ("robust", rob)):
        ci = rr.conf_int(0.05)
        record(tag, res.params.to_numpy(), ci["lower"].to_numpy(), ci["upper"].to_numpy())
    if boot_reps:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            boot = res.bootstrap(boot_reps, seed=np.random.default_rng(s_boot), progress=False)
        out["boot_seconds"] = time.perf_counter() - t0
        out["boot_failed"] = boot.share_failed
        out["boot_doubtful"] = boot.share_doubtful
        ci = boot.conf_int(0.05)
        record("boot", res.params.to_numpy(), ci["lower"].to_numpy(), ci["upper"].to_numpy())
        ci = boot.conf_int(0.05, method="normal")
        record("boot_normal", res.params.to_numpy(), ci["lower"].to_numpy(),
               ci["upper"].to_numpy())
    return out


def _permute_bounds(lay, lower, upper, params, order):
    """Interval bounds per parameter, reordered to the truth's class order.

    Class coefficients move with their class. Membership log-odds are relative to
    class 1, so when the class order changes they are re-expressed: the interval
    of log(pi_k / pi_1) is only available in the estimate's own parametrisation,
    so when the estimate's class 1 is not the true class 1 the record is NaN (left
    out of that parameter's coverage).
    """
    K = lay.k_classes
    L = lay.k_exog
    lower, upper = np.asarray(lower), np.asarray(upper)
    bounds = []
    for k in range(K):
        src = order[k]
        for l in range(L):
            i = src * L + l
            bounds.append((lower[i], upper[i]))
    mem = lay.membership_slice.start
    for k in range(1, K):
        src = order[k]
        if order[0] != 0 or src == 0:
            bounds.append((np.nan, np.nan))  # reference class changed: not comparable
        else:
            i = mem + (src - 1)
            bounds.append((lower[i], upper[i]))
    return bounds


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for setting, sub in frame.groupby("setting"):
        for tag in ("oim", "robust", "boot", "boot_normal"):
            cols = [c for c in sub.columns if c.startswith(tag + "|")]
            if not cols:
                continue
            cov = sub[cols].astype(float).mean()
            n = int(sub[cols].notna().any(axis=1).sum())
            row = {"setting": setting, "interval": tag, "reps": n}
            row.update({c.split("|", 1)[1]: v for c, v in cov.items()})
            row.update(mean=cov.mean(), min=cov.min(), max=cov.max())
            rows.append(row)
    return pd.DataFrame(rows).set_index(["setting", "interval"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--boot-reps", type=int, default=99)
    parser.add_argument("--boot-every", type=int, default=1,
                        help="bootstrap only every n-th replication (time budget)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--settings", default="K2,K3")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--out", default=None, help="CSV file for the per-replication records")
    a = parser.parse_args(argv)
    tasks = [(s, r, a.boot_reps if r % a.boot_every == 0 else 0, a.seed)
             for s in a.settings.split(",") for r in range(a.reps)]
    t0 = time.perf_counter()
    records = []
    with ProcessPoolExecutor(max_workers=a.n_jobs) as pool:
        for i, rec in enumerate(pool.map(one_replication, tasks, chunksize=1)):
            records.append(rec)
            if (i + 1) % 20 == 0:
                print(f"{i + 1}/{len(tasks)} replications, {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr, flush=True)
    frame = pd.DataFrame(records)
    if a.out:
        frame.to_csv(a.out, index=False)
    table = summarize(frame)
    with pd.option_context("display.width", 250, "display.max_columns", 50):
        print(table.round(3).to_string())
    for n in sorted(set(table["reps"])):
        print(f"Monte Carlo standard error of a coverage of 0.95 with {n} replications: "
              f"{np.sqrt(0.95 * 0.05 / n):.3f}")
    for setting, sub in frame.groupby("setting"):
        extra = ""
        if "boot_seconds" in sub:
            b = sub.dropna(subset=["boot_seconds"])
            extra = (f", bootstrap {len(b)} replications x {a.boot_reps} replicates: "
                     f"{b['boot_seconds'].mean():.1f} s each, failed {b['boot_failed'].mean():.4f}, "
                     f"doubtful {b['boot_doubtful'].mean():.4f}")
        print(f"{setting}: converged {sub['converged'].mean():.3f}, fit "
              f"{sub['fit_seconds'].mean():.2f} s{extra}")
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
