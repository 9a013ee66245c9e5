"""Derivative kernels of the compiled pass generated for the design's shape (numba).

For designs of at most :data:`UNROLL_MAX_COLUMNS` columns and
:data:`UNROLL_MAX_OTHERS` non-chosen alternatives, :func:`unrolled_source`
writes the gradient, information and scores kernels of
:mod:`mixlogit._numba_kernels` as one loop over situations with every column,
pair and alternative held in a scalar, which the compiler vectorises;
:func:`unrolled_kernels` imports them from a file (so numba can cache their
code: under ``$NUMBA_CACHE_DIR/mixlogit_unrolled``, else the package's
``__pycache__/unrolled``, else ``~/.cache/mixlogit/unrolled``) or, with no
writable place, runs them uncached. Without numba :func:`unrolled_kernels`
returns None.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading

try:
    import numba
except ImportError:  # the compiled kernel is optional
    numba = None  # type: ignore[assignment]  # the optional-import idiom: None marks "absent"

__all__ = ["UNROLL_MAX_COLUMNS", "UNROLL_MAX_OTHERS", "unrolled_source", "unrolled_kernels"]


#: designs of at most this many columns and non-chosen alternatives get kernels
#: generated for their shape: one loop over situations with every column, pair
#: and alternative unrolled into scalars, which the compiler vectorises. Measured
#: (information kernel vs the generic loops; its one-off compile): 2.7x faster at
#: (Lw, J1) = (5, 3), 0.6 s; 1.7x at (8, 6), 2.8 s; 1.9x at (10, 6), 4.0 s; 1.3x
#: at (16, 3), 9.5 s: beyond these limits the compile time outgrows the gain
UNROLL_MAX_COLUMNS = 10
UNROLL_MAX_OTHERS = 6

_UNROLLED: dict = {}
_UNROLL_LOCK = threading.Lock()
_DECORATOR = ('@numba.njit(cache={cache}, error_model="numpy", fastmath={{"reassoc", "contract"}}, '
              'nogil=True)')


def _header(name, args, Lw, J1, cache):
    """Decorator, signature and the 1-d views ``D{l}_{j}`` of a generated kernel."""
    out = [_DECORATOR.format(cache=cache), f"def {name}({args}):",
           "    K = E.shape[0]", "    S = E.shape[2]", "    Nb = dm_start.shape[0]"]
    out += [f"    D{lo}_{j} = D[{lo}, {j}]" for lo in range(Lw) for j in range(J1)]
    return out + ["    for k in range(K):", "        Tk = T[k]"] + [
        f"        E{j} = E[k, {j}]" for j in range(J1)]


def _situation_terms(Lw, J1, indent):
    """``P_j`` and ``m_l = dbar_l`` of situation ``s`` (and ``u_lj = P_j d_lj``)."""
    out = ["inv = 1.0 / Tk[s]"] + [f"p{j} = E{j}[s] * inv" for j in range(J1)]
    for lo in range(Lw):
        for j in range(J1):
            out += [f"d{lo}_{j} = D{lo}_{j}[s]", f"u{lo}_{j} = p{j} * d{lo}_{j}"]
        out.append(f"m{lo} = " + " + ".join(f"u{lo}_{j}" for j in range(J1)))
    return [indent + line for line in out]


def _flat_kernel(Lw, J1, information, cache):
    """Source of the kernel of the class gradients (and informations): one loop over the
    block's situations, every column, pair and alternative a scalar."""
    pairs = [(a, b) for a in range(Lw) for b in range(a + 1)]
    accumulators = [f"g{lo}" for lo in range(Lw)]
    accumulators += [f"i{a}_{b}" for a, b in pairs] if information else []
    out = _header("information" if information else "gradient",
                  "E, D, T, cc, dm_start, n_sit, grad, info", Lw, J1, cache)
    out += ["        ck = cc[k]", "        " + " = ".join(accumulators) + " = 0.0",
            "        for s in range(S):", "            c = ck[s]"]
    out += _situation_terms(Lw, J1, " " * 12)
    out += [f"            g{lo} += c * m{lo}" for lo in range(Lw)]
    if information:
        out += [f"            i{a}_{b} += c * ("
                + " + ".join(f"u{a}_{j} * d{b}_{j}" for j in range(J1)) + f" - m{a} * m{b})"
                for a, b in pairs]
    out += [f"        grad[k, {lo}] = -g{lo}" for lo in range(Lw)]
    for a, b in pairs if information else []:
        out.append(f"        info[k, {a}, {b}] = " + (f"info[k, {b}, {a}] = " if a != b else "")
                   + f"i{a}_{b}")
    return "\n".join(out) + "\n"


def _scores_kernel(Lw, J1, cache):
    """Source of the kernel of the class scores ``G[k, :, n] = -sum_s dbar``: decision maker
    by decision maker, the sums in scalars (a separate pass: stores of ``dbar`` inside the
    flat loop stop its vectorisation)."""
    out = _header("scores", "E, D, T, dm_start, n_sit, G", Lw, J1, cache)
    # unsigned bounds: the compiler then knows the index is not negative and vectorises
    out += ["        for n in range(Nb):", "            s0 = np.uint64(dm_start[n])",
            "            " + " = ".join(f"b{lo}" for lo in range(Lw)) + " = 0.0",
            "            for s in range(s0, s0 + np.uint64(n_sit[n])):"]
    out += _situation_terms(Lw, J1, " " * 16)
    out += [f"                b{lo} += m{lo}" for lo in range(Lw)]
    out += [f"            G[k, {lo}, n] = -b{lo}" for lo in range(Lw)]
    return "\n".join(out) + "\n"


def unrolled_source(Lw: int, J1: int, cache: bool = True) -> str:
    """Source of the module of unrolled kernels for designs of shape ``(Lw, J1, .)``:
    ``gradient`` and ``information`` ``(E, D, T, cc, dm_start, n_sit, grad, info)`` and
    ``scores`` ``(E, D, T, dm_start, n_sit, G)``."""
    return "\n".join([
        '"""Kernels unrolled for one design shape, generated by mixlogit._numba_kernels."""',
        "import numba", "import numpy as np", "", "",
        _flat_kernel(Lw, J1, False, cache), "", _flat_kernel(Lw, J1, True, cache), "",
        _scores_kernel(Lw, J1, cache)])


def _source_dirs():
    """Writable places for the generated modules, so that numba can cache their code."""
    dirs = []
    if os.environ.get("NUMBA_CACHE_DIR"):
        dirs.append(os.path.join(os.environ["NUMBA_CACHE_DIR"], "mixlogit_unrolled"))
    dirs.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__",
                             "unrolled"))
    dirs.append(os.path.join(os.path.expanduser("~"), ".cache", "mixlogit", "unrolled"))
    return dirs


def _import_source(name, src):
    """Import ``src`` as module ``name`` from a file (numba caches its code), or, where no
    directory is writable, execute an uncached variant."""
    for d in _source_dirs():
        path = os.path.join(d, name + ".py")
        try:
            if not os.path.exists(path):
                os.makedirs(d, exist_ok=True)
                tmp = f"{path}.{os.getpid()}.{threading.get_ident()}"
                with open(tmp, "w") as fh:
                    fh.write(src)
                os.replace(tmp, path)   # atomic: concurrent processes write the same text
        except OSError:
            continue
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module   # numba's cache finds the module of a cached function here
        spec.loader.exec_module(module)
        return vars(module)
    namespace: dict = {}
    exec(compile(src.replace("cache=True", "cache=False"), name, "exec"), namespace)
    return namespace


def unrolled_kernels(Lw: int, J1: int):
    """The unrolled kernels for ``(Lw, J1)`` (a dict by name, see :func:`unrolled_source`),
    or None for designs too big to unroll (or without numba)."""
    if numba is None or Lw > UNROLL_MAX_COLUMNS or not 1 <= J1 <= UNROLL_MAX_OTHERS:
        return None
    key = (Lw, J1)
    found = _UNROLLED.get(key)   # a dict read is atomic: the lock only guards the import
    if found is not None:
        return found
    with _UNROLL_LOCK:
        if key not in _UNROLLED:
            src = unrolled_source(Lw, J1)
            digest = hashlib.sha1(src.encode()).hexdigest()[:12]
            ns = _import_source(f"mixlogit_unrolled_{Lw}x{J1}_{digest}", src)
            _UNROLLED[key] = {name: ns[name] for name in ("gradient", "information", "scores")}
        return _UNROLLED[key]
