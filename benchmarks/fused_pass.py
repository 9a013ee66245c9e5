"""Micro-benchmark of one fused long-form pass (mixlogit.likelihood.blocks.fused_pass).

N decision makers x 10 situations x 4 alternatives x 5 attributes, K = 3 (the
data of ``engine.py``), equal log shares. For each engine (numpy, the reference,
and numba) and each kind of pass (order 0: log-likelihoods and posteriors;
``information``: the EM iteration's pass; ``scores+information``: order-1/2
evaluations) it prints the CPU time (``time.process_time``, median over
interleaved repetitions, BLAS pinned to one thread as in the pass), the ratio to
the data-movement floor of an EM iteration (the attributes once plus one
rows x K array written and read, at this machine's read bandwidth; see
``engine.py``) and the ratio to the numpy engine in the same run.

Run:  python benchmarks/fused_pass.py [--sizes 1e4 1e5] [--reps 7] [--block-rows 8192]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine import K_CLASSES, L_ATTR, bandwidth, simulate, start_params  # noqa: E402

from mixlogit.data import ChoiceData  # noqa: E402
from mixlogit.likelihood import blocks as B  # noqa: E402
from mixlogit.params import ParamLayout  # noqa: E402

KINDS = {"order 0": {}, "information": {"information": True},
         "scores+information": {"information": True, "scores": True}}


def setup(N: int, block_rows: int):
    """The layout, class coefficients, log shares and weights of the benchmark data."""
    y, X, groups, panel = simulate(N)
    data = ChoiceData.from_arrays(y, X, groups=groups, panel=panel)
    lay = B.build_layout(data, block_rows=block_rows)
    layout = ParamLayout(K_CLASSES, data.exog_names, data.invariant_names, data.membership_names)
    C = layout.unpack(start_params(layout)).class_coefficients
    log_pi = np.log(np.full((data.n_decision_makers, K_CLASSES), 1.0 / K_CLASSES))
    return lay, C, log_pi, np.ones(data.n_decision_makers)


def run(N: int, reps: int, block_rows: int, engines: list[str], bw: float) -> None:
    lay, C, log_pi, w = setup(N, block_rows)
    floor = (lay.n_rows * L_ATTR * 8 + 2 * lay.n_rows * K_CLASSES * 8) / bw
    cases = [(e, k) for e in engines for k in KINDS]
    times: dict[tuple[str, str], list[float]] = {c: [] for c in cases}
    with B.single_thread_blas():
        for e, k in cases:    # warm-up (and compile or load the compiled kernel)
            B.fused_pass(lay, C, log_pi=log_pi, weights=w, engine=e, **KINDS[k])
        for _ in range(reps):
            for e, k in cases:
                t = time.process_time()
                B.fused_pass(lay, C, log_pi=log_pi, weights=w, engine=e, **KINDS[k])
                times[e, k].append(time.process_time() - t)
    print(f"\nN = {N:.0e} decision makers, {lay.n_rows:.1e} rows, {len(lay.blocks)} blocks "
          f"of {block_rows} rows; floor {floor * 1e3:.1f} ms")
    print(f"{'engine':8s} {'pass':20s} {'CPU ms':>8s} {'/floor':>7s} {'/numpy':>7s}")
    for e, k in cases:
        t = float(np.median(times[e, k]))
        ref = float(np.median(times["numpy", k])) if "numpy" in engines else float("nan")
        print(f"{e:8s} {k:20s} {t * 1e3:8.1f} {t / floor:7.2f} {t / ref:7.2f}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["1e4", "1e5"])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--block-rows", type=int, default=B.BLOCK_ROWS)
    ap.add_argument("--engines", nargs="+", default=["numpy", "numba"])
    args = ap.parse_args(argv)
    engines = [e for e in args.engines if e != "numba" or B.numba_available()]
    bw = bandwidth()
    print(f"read bandwidth {bw / 1e9:.1f} GB/s (CPU time)")
    for n in args.sizes:
        run(int(float(n)), args.reps, args.block_rows, engines, bw)


if __name__ == "__main__":
    main()
