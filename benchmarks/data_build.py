"""The long-format data build (``ChoiceData.from_arrays``): this code against a previous commit.

For each size, N decision makers x 10 situations x 4 alternatives x 5
attributes (the arrays of ``engine.simulate``, grouped by decision maker and
situation) are written once to ``.npy`` files; each measurement is a fresh
subprocess that loads them and times one ``from_arrays`` call, so that its peak
resident size is that of the inputs plus what the build adds. The previous
code is a ``git archive`` of the ``mixlogit`` package at ``--previous``
(default f1ee160, the commit before the lean build) imported via PYTHONPATH;
the two versions alternate, and the medians over ``--reps`` are printed.

Printed per version: CPU seconds of ``from_arrays`` (``time.process_time``:
user + system, so first-touch page faults of new memory count), the resident
size before the call (the inputs), the peak during it, and the difference.
Both versions' outputs are checked to be byte-identical (a digest of every
array field).

Run:  python benchmarks/data_build.py [--sizes 1e4 1e5] [--large] [--reps 3]
      [--previous f1ee160] [--shuffled]
``--large`` adds 1e6 decision makers (4e7 rows; the previous code needs ~10 GB).
``--shuffled`` also times the same rows in a random order (the general path).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, os.pardir))
FIELDS = ("exog", "exog_invariant", "exog_membership", "chosen", "situation_of_row",
          "situation_start", "chosen_row", "decision_maker_of_situation",
          "decision_maker_start", "weights", "row_index", "situation_ids",
          "decision_maker_ids")


def resident_mb() -> float:
    """Current resident set size in MB (from /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def digest(data) -> str:
    """A hash of every array field of a ChoiceData, with dtypes and shapes."""
    h = hashlib.sha256()
    for name in FIELDS:
        a = np.ascontiguousarray(getattr(data, name))
        h.update(f"{name}{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def child(folder: str) -> None:
    """Load the arrays of ``folder``, time one build, print a JSON line."""
    import mixlogit
    from mixlogit.data import ChoiceData
    arrays = {k: np.load(os.path.join(folder, f"{k}.npy")) for k in ("y", "X", "g", "p")}
    small = np.flatnonzero(arrays["g"] < 100)   # whole situations, also of shuffled rows
    ChoiceData.from_arrays(arrays["y"][small], arrays["X"][small], groups=arrays["g"][small],
                           panel=arrays["p"][small])   # imports and first calls out of the timing
    before = resident_mb()
    t0 = time.process_time()
    data = ChoiceData.from_arrays(arrays["y"], arrays["X"], groups=arrays["g"],
                                  panel=arrays["p"])
    cpu = time.process_time() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"cpu": cpu, "before": before, "peak": peak, "digest": digest(data),
                      "module": os.path.dirname(mixlogit.__file__)}))


def write_inputs(N: int, folder: str, shuffled: bool) -> int:
    """Simulate N decision makers into ``folder`` (rows shuffled if asked); the row count."""
    sys.path.insert(0, HERE)
    from engine import simulate
    y, X, g, p = simulate(N)
    if shuffled:
        perm = np.random.default_rng(7).permutation(len(y))
        y, X, g, p = y[perm], X[perm], g[perm], p[perm]
    for k, v in (("y", y), ("X", X), ("g", g), ("p", p)):
        np.save(os.path.join(folder, f"{k}.npy"), v)
    return len(y)


def run_child(folder: str, pythonpath: str) -> dict:
    env = dict(os.environ, PYTHONPATH=pythonpath)
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", folder],
                         env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"the build with PYTHONPATH={pythonpath} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def previous_tree(commit: str, where: str) -> str:
    """Extract the ``mixlogit`` package at ``commit`` into ``where`` (read-only git use)."""
    archive = subprocess.run(["git", "-C", ROOT, "archive", commit, "mixlogit"],
                             capture_output=True, check=True).stdout
    os.makedirs(where, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", where], input=archive, check=True)
    return where


def compare(N: int, args, prev: str, work: str, shuffled: bool) -> None:
    folder = tempfile.mkdtemp(dir=work)
    n = write_inputs(N, folder, shuffled)
    versions = {f"previous ({args.previous})": prev, "current": ROOT}
    runs: dict[str, list[dict]] = {v: [] for v in versions}
    for _ in range(args.reps):          # interleaved: a slow spell hits both versions
        for v, path in versions.items():
            runs[v].append(run_child(folder, path))
    order = "shuffled rows" if shuffled else "rows grouped by decision maker and situation"
    print(f"N = {N:.0e} decision makers, {n:.1e} rows ({order}), {args.reps} reps")
    for v, rs in runs.items():
        cpu = np.median([r["cpu"] for r in rs])
        before = np.median([r["before"] for r in rs])
        peak = np.median([r["peak"] for r in rs])
        each = ", ".join(f"{r['cpu']:.2f}" for r in rs)
        print(f"  {v:22s} from_arrays {cpu:6.2f} s CPU (runs {each}); "
              f"RSS inputs {before:7.0f} MB, peak {peak:7.0f} MB, added {peak - before:7.0f} MB"
              f"  [{rs[0]['module']}]")
    digests = {r["digest"] for rs in runs.values() for r in rs}
    print(f"  outputs byte-identical across versions: {len(digests) == 1}")
    for k in ("y", "X", "g", "p"):
        os.remove(os.path.join(folder, f"{k}.npy"))
    os.rmdir(folder)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", type=float, default=[1e4, 1e5])
    ap.add_argument("--large", action="store_true", help="add 1e6 decision makers (4e7 rows)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--previous", default="f1ee160")
    ap.add_argument("--shuffled", action="store_true", help="also time shuffled rows")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    sizes = [int(s) for s in args.sizes] + ([1_000_000] if args.large else [])
    with tempfile.TemporaryDirectory() as work:
        prev = previous_tree(args.previous, os.path.join(work, "previous"))
        for N in sizes:
            for shuffled in (False, True) if args.shuffled else (False,):
                compare(N, args, prev, work, shuffled)


if __name__ == "__main__":
    main()
