"""Progress bars and an ordered parallel map: the one home of both.

``progress(iterable, *, total, show=None, desc="")``
    Wraps ``iterable`` in a tqdm bar when tqdm is installed and ``show`` is
    True, or ``show`` is None and standard error is a terminal; otherwise
    returns it unchanged.
``parallel_map(fn, items, *, n_jobs=1, backend="threads", progress=None, desc="",
initializer=None, initargs=())``
    ``[fn(item) for item in items]``, in the order of ``items``, run by
    ``n_jobs`` threads or processes (``-1``: every core) with a progress bar.
``resolve_n_jobs(n_jobs)``
    The number of workers ``n_jobs`` stands for (``-1``: ``os.cpu_count()``).

Threads suit numpy-heavy work (the kernels release the GIL); processes need a
picklable ``fn`` (a module-level function) and may set up per-worker state with
``initializer(*initargs)``. Validation of ``n_jobs`` belongs to the entry
point (:func:`mixlogit._checks.n_jobs`).

Examples
--------
>>> from mixlogit._parallel import parallel_map
>>> parallel_map(abs, [-3, 1, -2], n_jobs=2, progress=False)
[3, 1, 2]
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["progress", "parallel_map", "resolve_n_jobs"]

T = TypeVar("T")
R = TypeVar("R")


def resolve_n_jobs(n_jobs: int) -> int:
    """Number of workers: ``n_jobs``, or every core for -1.

    Examples
    --------
    >>> from mixlogit._parallel import resolve_n_jobs
    >>> resolve_n_jobs(3)
    3
    >>> resolve_n_jobs(-1) >= 1
    True
    """
    return (os.cpu_count() or 1) if n_jobs == -1 else max(int(n_jobs), 1)


def progress(iterable: Iterable[T], *, total: int | None, show: bool | None = None,
             desc: str = "") -> Iterable[T]:
    """``iterable`` with a progress bar when asked for (or interactive) and tqdm is installed.

    Parameters
    ----------
    iterable : iterable
    total : int or None
        Number of items (for the bar).
    show : bool or None
        True shows a bar, False never; None shows one when standard error is a
        terminal.
    desc : str
        Label of the bar.

    Examples
    --------
    >>> from mixlogit._parallel import progress
    >>> list(progress(range(3), total=3, show=False))
    [0, 1, 2]
    """
    if show is None:
        show = bool(getattr(sys.stderr, "isatty", lambda: False)())
    if not show:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # progress bars are optional
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)


#: the bar function under a name the ``progress`` argument of parallel_map does not shadow
_progress_bar = progress


def parallel_map(fn: Callable[[T], R], items: Sequence[T], *, n_jobs: int = 1,
                 backend: str = "threads", progress: bool | None = None, desc: str = "",
                 initializer: Callable[..., Any] | None = None,
                 initargs: tuple = ()) -> list[R]:
    """``[fn(item) for item in items]`` on ``n_jobs`` workers, results in order.

    Parameters
    ----------
    fn : callable
        Applied to each item; with ``backend="processes"`` it must pickle.
    items : sequence
    n_jobs : int
        Workers; 1 runs in the calling thread, -1 uses every core.
    backend : {"threads", "processes"}
    progress : bool or None
        Progress bar (see :func:`progress`).
    desc : str
        Label of the bar.
    initializer : callable, optional
        Run once in every worker (``initializer(*initargs)``); with one job it
        runs once in the calling thread.
    initargs : tuple

    Returns
    -------
    list
        One result per item, in the order of ``items``.

    Examples
    --------
    >>> from mixlogit._parallel import parallel_map
    >>> parallel_map(lambda x: x * x, [1, 2, 3], n_jobs=2)
    [1, 4, 9]
    """
    if backend not in ("threads", "processes"):
        raise ValueError(f"backend={backend!r}; use 'threads' or 'processes'")
    items = list(items)
    workers = min(resolve_n_jobs(n_jobs), max(len(items), 1))
    bar = _progress_bar
    if workers <= 1:
        if initializer is not None:
            initializer(*initargs)
        return [fn(item) for item in bar(items, total=len(items), show=progress, desc=desc)]
    pool: Executor
    if backend == "threads":
        pool = ThreadPoolExecutor(max_workers=workers, initializer=initializer,
                                  initargs=initargs)
    else:
        pool = ProcessPoolExecutor(max_workers=workers, initializer=initializer,
                                   initargs=initargs)
    with pool:
        chunk = 1 if backend == "threads" else max(1, len(items) // (4 * workers))
        return list(bar(pool.map(fn, items, chunksize=chunk), total=len(items), show=progress,
                        desc=desc))
