"""The long-form engine against the data-movement floor, the previous code and itself compiled.

Sections (each runs in its own subprocess, so each reports its own peak RSS):

``floor``
    Read bandwidth of this machine: the sum of a 512 MB array (best of 5, CPU
    time). The floor of one EM iteration is the bytes it must move, the
    attributes once (``rows x L x 8``) plus one ``rows x K`` array written and
    read, divided by that bandwidth (DESIGN.md section 4).
``long N``
    N decision makers x 10 situations x 4 alternatives x 5 attributes, K = 3,
    drawn from a 3-class mixture. CPU seconds (``time.process_time``) of one EM
    iteration, median over interleaved repetitions, of: the previous code (the
    row-layout kernels of commit a514a90, copied in ``engine_previous.py``),
    the fused numpy pass and the fused pass with the compiled (numba) kernel;
    each against the floor. Also the data build, the layout build, the memory
    each layout holds, the compile/cache-load time of the compiled kernel, and
    the log-likelihood paths of old and new code side by side.
``fit N``
    The whole fit at N decision makers (data + ``--n-starts`` partition starts,
    on a hashed sample above ``model.start_sample`` decision makers, + polish +
    standard errors), numpy and compiled engine; the package import is timed
    apart. Also the resident memory with the inputs and the peak.
``counts``
    The counts form at p = 1e5 candidates, L = 50, K = 10: CPU seconds per EM
    iteration (20 iterations, so one refresh of the class informations).
``electricity``
    Electricity, K = 3, 10 starts, polish and standard errors: CPU seconds,
    numpy and compiled engine.

``--previous-tree PATH`` (a checkout of the previous code, e.g. ``git archive
a514a90 | tar -x -C PATH``) also runs the ``fit``, ``counts`` and
``electricity`` sections with that code, in the same run.

Run:  python benchmarks/engine.py [--sizes 1e4 1e5] [--large] [--reps 5]
      [--previous-tree PATH]
``--large`` adds 1e6 decision makers (4e7 rows; ~2.5 GB).
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, os.pardir)

T_SIT, J_ALT, L_ATTR, K_CLASSES = 10, 4, 5, 3
BETAS = np.array([[1.0, -1.0, 0.5, 0.0, 0.3],
                  [-0.5, 1.0, 0.0, 0.8, -0.3],
                  [0.2, 0.3, -1.0, 0.4, 0.6]])
SHARES = np.array([0.5, 0.3, 0.2])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    """Resident memory now (Linux /proc; NaN elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def bandwidth() -> float:
    """Read bandwidth in bytes per CPU second: the sum of a 512 MB array."""
    a = np.ones(1 << 26)
    a.sum()
    best = np.inf
    for _ in range(5):
        t = time.process_time()
        a.sum()
        best = min(best, time.process_time() - t)
    return a.nbytes / best


def simulate(N: int, seed: int = 0):
    """Arrays of a K = 3 latent-class panel, grouped by decision maker and situation."""
    rng = np.random.default_rng(seed)
    S = N * T_SIT
    n = S * J_ALT
    X = rng.normal(size=(n, L_ATTR))
    cls = rng.choice(K_CLASSES, size=N, p=SHARES)
    U = np.einsum("sjl,sl->sj", X.reshape(S, J_ALT, L_ATTR), BETAS[np.repeat(cls, T_SIT)])
    U += rng.gumbel(size=U.shape)
    y = np.zeros((S, J_ALT))
    y[np.arange(S), U.argmax(axis=1)] = 1.0
    groups = np.repeat(np.arange(S), J_ALT)
    panel = np.repeat(np.arange(N), T_SIT * J_ALT)
    return y.ravel(), X, groups, panel


def start_params(layout) -> np.ndarray:
    rng = np.random.default_rng(1)
    return layout.pack(BETAS + rng.normal(scale=0.4, size=BETAS.shape))


def cpu(f) -> float:
    t = time.process_time()
    f()
    return time.process_time() - t


# ---------------------------------------------------------------- sections
def section_floor(args) -> None:
    bw = bandwidth()
    print(f"read bandwidth: {bw / 1e9:.1f} GB/s (sum of a 512 MB array, CPU time)")


def section_long(args) -> None:
    import mixlogit as mx  # noqa: F401
    from mixlogit.data import ChoiceData
    from mixlogit.em import run_em
    from mixlogit.likelihood import LongLikelihood
    from mixlogit.likelihood import blocks as B
    from mixlogit.params import ParamLayout
    sys.path.insert(0, HERE)
    from engine_previous import PreviousEngine

    N = int(float(args.n))
    bw = bandwidth()
    y, X, groups, panel = simulate(N)
    t_data = cpu(lambda: None)
    t0 = time.process_time()
    data = ChoiceData.from_arrays(y, X, groups=groups, panel=panel)
    t_data = time.process_time() - t0
    del y, X, groups, panel
    n = data.n_rows
    t_layout = cpu(lambda: B.block_layout(data))
    lay = B.block_layout(data)
    layout = ParamLayout(K_CLASSES, data.exog_names, data.invariant_names, data.membership_names)
    theta0 = start_params(layout)
    floor_bytes = n * L_ATTR * 8 + 2 * n * K_CLASSES * 8
    floor = floor_bytes / bw
    print(f"N = {N:.0e} decision makers, {n:.1e} rows, K = {K_CLASSES}, L = {L_ATTR}")
    print(f"  floor: {floor_bytes / 1e6:.0f} MB at {bw / 1e9:.1f} GB/s = {floor * 1e3:.1f} ms "
          f"per EM iteration")
    print(f"  data build (ChoiceData.from_arrays) {t_data:.2f} s CPU; differenced layout "
          f"{t_layout:.2f} s CPU, {len(lay.blocks)} blocks, {lay.nbytes / 1e6:.0f} MB")

    prev = PreviousEngine(data)
    C0 = layout.unpack(theta0).class_coefficients
    la0 = np.log(np.full(K_CLASSES, 1.0 / K_CLASSES))
    print(f"  previous code's design_t {prev.nbytes / 1e6:.0f} MB (plus exog and design "
          f"copies in its ChoiceData)")

    def previous(iters):
        C, la, st = C0, la0, prev.state(C0)
        path = []
        for _ in range(iters):
            C, la, st, llf = prev.em_iteration(C, la, st)
            path.append(llf)
        return path

    liks = {"numpy": LongLikelihood(data, layout, engine="numpy")}
    if B.numba_available():
        t = time.perf_counter()
        liks["numba"] = LongLikelihood(data, layout, engine="numba")
        liks["numba"].evaluate(theta0, order=2)
        print(f"  compiled kernel: first call (compile or cache load) "
              f"{time.perf_counter() - t:.2f} s wall")

    def fused(lik, iters):
        estep, mstep = lik.make_steps(1)
        return list(run_em(estep, mstep, theta0, tol=0.0, maxiter=iters).history[:iters])

    iters = args.iters
    variants = {"previous": lambda: previous(iters)}
    for name, lik in liks.items():
        variants[name] = lambda lik=lik: fused(lik, iters)
    paths = {name: f() for name, f in variants.items()}  # warm-up, and the paths
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.reps):  # interleaved repetitions
        for name, f in variants.items():
            times[name].append(cpu(f) / iters)
    base = np.median(times["previous"])
    print(f"  CPU s per EM iteration (median of {args.reps} interleaved runs of {iters}):")
    for name in variants:
        med = np.median(times[name])
        print(f"    {name:9s} {med:8.4f} s  {med / floor:5.1f} x floor  "
              f"{base / med:5.1f} x faster than previous")
    ref = np.asarray(paths["previous"])
    for name in liks:
        rel = np.max(np.abs(np.asarray(paths[name]) - ref) / np.abs(ref))
        print(f"    log-likelihood path, {name} vs previous: max relative difference {rel:.1e}")
    pol = {}
    for name, lik in liks.items():
        lik._memo = None
        t = time.process_time()
        lik.evaluate(theta0 + 1e-9, order=2)
        pol[name] = time.process_time() - t
    print("  order-2 evaluation (one Newton step): "
          + ", ".join(f"{k} {v:.3f} s" for k, v in pol.items()))
    print(f"  peak RSS {peak_rss_mb():.0f} MB")


def _force_engine(engine: str) -> None:
    try:
        from mixlogit.likelihood import blocks as B
    except ImportError:  # the previous code has no engines
        return
    B.NUMBA_MIN_ROWS = 0 if engine == "numba" else 10 ** 18


def section_fit(args) -> None:
    t_import = time.process_time()
    import mixlogit as mx
    model_class = mx.MixedMultinomialLogit  # the lazy import of the package, outside the timing
    t_import = time.process_time() - t_import
    _force_engine(args.engine)
    N = int(float(args.n))
    y, X, groups, panel = simulate(N)
    rss_inputs = current_rss_mb()
    t0 = time.process_time()
    model = model_class(y, X, groups=groups, panel=panel, k_classes=K_CLASSES)
    t1 = time.process_time()
    res = model.fit(n_starts=args.n_starts, start="partition", seed=0)
    t2 = time.process_time()
    bse = np.asarray(res.bse)
    t3 = time.process_time()
    sample = getattr(res, "fit_state", None)
    sample = sample.options.get("start_sample") if sample is not None else None
    print(f"fit N = {N:.0e} [{args.label}], {args.n_starts} partition starts (on {sample} "
          f"decision makers): data {t1 - t0:.2f} s, fit {t2 - t1:.2f} s, SEs {t3 - t2:.2f} s, "
          f"total {t3 - t0:.2f} s CPU (package import {t_import:.2f} s, not included); llf "
          f"{res.llf:.6f}; max SE {np.nanmax(bse):.4f}; RSS with the inputs "
          f"{rss_inputs:.0f} MB, peak {peak_rss_mb():.0f} MB")


def section_counts(args) -> None:
    import mixlogit as mx
    from mixlogit.em import run_em
    p, L, K = 100_000, 50, 10
    rng = np.random.default_rng(0)
    X = rng.normal(size=(p, L))
    counts = rng.poisson(2.0, size=p).astype(float)
    model = mx.MixedMultinomialLogit.from_counts(counts, X, k_classes=K)
    lik = model.likelihood()
    theta0 = model.layout.pack(rng.normal(scale=0.3, size=(K, L)))
    out = []

    def run():
        estep, mstep = lik.make_steps(1)
        out.append(run_em(estep, mstep, theta0, tol=0.0, maxiter=20).history[-1])

    run()
    times = [cpu(run) / 20 for _ in range(args.reps)]
    print(f"counts p = 1e5, L = 50, K = 10 [{args.label}]: {np.median(times):.4f} s CPU per EM "
          f"iteration (median of {args.reps} runs of 20); llf after 20: {out[-1]:.6f}; "
          f"peak RSS {peak_rss_mb():.0f} MB")


def section_electricity(args) -> None:
    import mixlogit as mx
    _force_engine(args.engine)
    df = mx.datasets.electricity.load()
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ pf + cl + loc + wk + tod + seas - 1", df, groups="chid", panel="id",
        k_classes=3)

    def run():
        res = model.fit(n_starts=10, seed=0)
        np.asarray(res.bse)
        return res

    res = run()
    times = [cpu(run) for _ in range(args.reps)]
    print(f"electricity K = 3, 10 starts + polish + SEs [{args.label}]: "
          f"{np.median(times):.3f} s CPU (median of {args.reps}); llf {res.llf:.6f}")


SECTIONS = {"floor": section_floor, "long": section_long, "fit": section_fit,
            "counts": section_counts, "electricity": section_electricity}


def _run(section: str, *extra: str, tree: str | None = None, label: str = "new") -> None:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    env["PYTHONPATH"] = os.path.abspath(tree or ROOT)
    cmd = [sys.executable, os.path.abspath(__file__), "--section", section, "--label", label,
           *extra]
    subprocess.run(cmd, env=env, check=False)
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["1e4", "1e5"])
    ap.add_argument("--large", action="store_true", help="add 1e6 decision makers (4e7 rows)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--previous-tree", default=None)
    ap.add_argument("--n-starts", type=int, default=5, help="partition starts of the fit section")
    ap.add_argument("--only", nargs="+", default=list(SECTIONS), choices=list(SECTIONS))
    ap.add_argument("--section", choices=list(SECTIONS), help=argparse.SUPPRESS)
    ap.add_argument("--n", default="1e5", help=argparse.SUPPRESS)
    ap.add_argument("--engine", default="numpy", help=argparse.SUPPRESS)
    ap.add_argument("--label", default="new", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.section:
        SECTIONS[args.section](args)
        return
    sizes = list(args.sizes) + (["1e6"] if args.large else [])
    common = ["--reps", str(args.reps), "--iters", str(args.iters)]
    prev = args.previous_tree
    if "floor" in args.only:
        _run("floor")
    if "long" in args.only:
        for n in sizes:
            _run("long", "--n", n, *common)
    if "fit" in args.only:
        for n in sizes:
            starts = ["--n-starts", str(args.n_starts)]
            if prev:
                _run("fit", "--n", n, *starts, tree=prev, label="previous")
            for engine in ("numpy", "numba"):
                _run("fit", "--n", n, "--engine", engine, *starts, label=engine)
    if "counts" in args.only:
        if prev:
            _run("counts", *common, tree=prev, label="previous")
        _run("counts", *common)
    if "electricity" in args.only:
        if prev:
            _run("electricity", *common, tree=prev, label="previous")
        for engine in ("numpy", "numba"):
            _run("electricity", "--engine", engine, *common, label=engine)


if __name__ == "__main__":
    main()
