"""Fit a latent-class logit on a Dask LocalCluster and against the single-process fit.

Simulates a panel (decision makers x situations x alternatives x attributes),
writes it as parquet partitioned by decision maker, loads it with
``dask.dataframe.read_parquet``, builds the resident partitions, and runs the
same EM + Newton path from the same start in one process and on the cluster.
Prints: load time, EM iterations, seconds per EM iteration on both, the
scheduler overhead per iteration (the time of a no-op map over the
partitions, times the maps an iteration makes), peak memory per worker and the
final log-likelihoods.

    python benchmarks/distributed_fit.py --decision-makers 100000 --partitions 8
    python benchmarks/distributed_fit.py --decision-makers 1000000 --partitions 16  # 4e7 rows

CPU time (``time.process_time``) is quoted for the single-process fit; the
cluster's work runs in its workers, so its figures are wall-clock seconds.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings

import numpy as np
import pandas as pd


def simulate(n_dm: int, n_sit: int, n_alt: int, n_attr: int, k: int, seed: int) -> pd.DataFrame:
    """A latent-class panel with known truth, built vectorised (no loop over people)."""
    rng = np.random.default_rng(seed)
    betas = rng.normal(scale=1.0, size=(k, n_attr))
    shares = np.full(k, 1.0 / k)
    cls = rng.choice(k, size=n_dm, p=shares)
    S = n_dm * n_sit
    X = rng.normal(size=(S, n_alt, n_attr))
    U = np.einsum("sal,sl->sa", X, betas[np.repeat(cls, n_sit)])
    U += rng.gumbel(size=U.shape)
    chosen = U.argmax(axis=1)
    frame = pd.DataFrame(X.reshape(S * n_alt, n_attr), columns=[f"x{i + 1}" for i in range(n_attr)])
    frame.insert(0, "id", np.repeat(np.arange(n_dm), n_sit * n_alt))
    frame.insert(1, "chid", np.repeat(np.arange(S), n_alt))
    frame.insert(2, "choice", (np.tile(np.arange(n_alt), S) == np.repeat(chosen, n_alt)).astype(int))
    return frame


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--decision-makers", type=int, default=20_000)
    ap.add_argument("--situations", type=int, default=10)
    ap.add_argument("--alternatives", type=int, default=4)
    ap.add_argument("--attributes", type=int, default=5)
    ap.add_argument("--classes", type=int, default=3)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import mixlogit as mx
    from mixlogit.distributed import partitioned_data_from_dask
    from mixlogit.likelihood.estimate import estimate
    from mixlogit.likelihood.partitioned import PartitionedLikelihood
    from mixlogit.starts import make_starts

    formula = "choice ~ " + " + ".join(f"x{i + 1}" for i in range(args.attributes)) + " - 1"
    frame = simulate(args.decision_makers, args.situations, args.alternatives, args.attributes,
                     args.classes, args.seed)
    print(f"rows {len(frame):,}; decision makers {args.decision_makers:,}; "
          f"partitions {args.partitions}; workers {args.workers}")
    folder = tempfile.mkdtemp(prefix="mixlogit_parquet_")
    bounds = np.linspace(0, args.decision_makers, args.partitions + 1).astype(int)
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        part = frame[(frame["id"] >= a) & (frame["id"] < b)]
        part.to_parquet(os.path.join(folder, f"part{i:04d}.parquet"), index=False)

    cpu0 = time.process_time()
    model = mx.MixedMultinomialLogit.from_formula(formula, frame, groups="chid", panel="id",
                                                  k_classes=args.classes)
    lik = model.likelihood()
    starts = make_starts(lik, "partition", 1, np.random.default_rng(args.seed))
    cpu_build = time.process_time() - cpu0
    cpu0 = time.process_time()
    local = estimate(lik, starts)
    cpu_local = time.process_time() - cpu0
    n_local = local.runs[0].n_iter
    layout, local_llf = lik.layout, local.llf
    local_finish = local.runs[0].n_finish
    del frame, model, lik, local          # free the single-process data before the cluster run

    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0",
                           env={"MALLOC_TRIM_THRESHOLD_": "1000000000"})
    with Client(cluster) as client:
        t0 = time.perf_counter()
        ddf = dd.read_parquet(folder)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pdata = partitioned_data_from_dask(formula, ddf, groups="chid", panel="id")
        t_load = time.perf_counter() - t0
        plik = PartitionedLikelihood(pdata, layout)
        t0 = time.perf_counter()
        for _ in range(10):
            plik.backend.map(lambda part: None)
        overhead = (time.perf_counter() - t0) / 10
        t0 = time.perf_counter()
        dist = estimate(plik, starts)
        t_dist = time.perf_counter() - t0
        peaks = client.run(lambda: __import__("resource").getrusage(
            __import__("resource").RUSAGE_SELF).ru_maxrss / 2**20)
    cluster.close()
    n_dist = dist.runs[0].n_iter
    print(f"single process: data build {cpu_build:.2f} s CPU, fit {cpu_local:.2f} s CPU, "
          f"{n_local} EM iterations + {local_finish} Newton")
    print(f"cluster: load + build {t_load:.2f} s, fit {t_dist:.2f} s wall, {n_dist} EM "
          f"iterations + {dist.runs[0].n_finish} Newton")
    print(f"per EM-iteration-equivalent: single {cpu_local / max(n_local, 1):.3f} s, "
          f"cluster {t_dist / max(n_dist, 1):.3f} s; no-op map over the partitions "
          f"{overhead * 1e3:.1f} ms (an EM iteration makes 3-4 maps)")
    print("peak RSS per worker (GB): " + ", ".join(f"{v:.2f}" for v in peaks.values()))
    print(f"final llf: single {local_llf:.6f}, cluster {dist.llf:.6f}, relative difference "
          f"{abs(dist.llf - local_llf) / abs(local_llf):.2e}")


if __name__ == "__main__":
    main()
