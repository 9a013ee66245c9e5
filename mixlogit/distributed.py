"""Fitting on a Dask cluster: partitioned long-format data resident on the workers.

A ``dask.dataframe`` in long format becomes one resident partition per
non-empty dataframe partition, each a long-form likelihood of whole decision
makers held on the worker that built it. EM, the Newton polish and the
covariance then move only additive pieces (see
:mod:`mixlogit.likelihood.partitioned`); the kernels are the single-process
ones, so the distributed fit follows the local fit's path.

Requirements and rules:

* a running ``distributed.Client`` (``Client()`` starts a local cluster); a dask
  frame without one raises with that advice, or to ``.compute()`` a small frame;
* no decision maker (``panel`` id, or situation id without a panel) may
  straddle two partitions: this is checked from the ids every partition
  reports, and the error names a straddling id and the fix
  (``ddf.set_index(panel)`` or ``ddf.shuffle(panel)``);
* categorical columns are given the same categories in every partition (one
  ``unique()`` pass over the object and categorical columns on the client), so
  every partition builds the same design columns;
* the missing-value policy runs in each partition; the counts are added up and
  reported as one :class:`~mixlogit.exceptions.DroppedObservationsWarning`;
* the within-situation identification check runs once, on the sum of every
  partition's additive statistics (never a per-partition false alarm).

Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers, which makes
numpy's temporaries expensive; a cluster started for mixlogit should unset it
(``LocalCluster(env={"MALLOC_TRIM_THRESHOLD_": None})`` is not honoured by
every version: start workers with the variable set to a large value, e.g.
``MALLOC_TRIM_THRESHOLD_=1000000000``). Resident partitions should stay well
below the workers' spill threshold: a spilled partition loses its cached
state.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .data._values import judge_within_situation
from .data.long import ChoiceData
from .exceptions import (
    DroppedObservationsWarning,
    MixlogitWarning,
    SpecificationError,
    collected_warnings,
    warn,
)
from .formula import parse_formulas
from .likelihood.long import LongLikelihood
from .likelihood.partitioned import Partition, PartitionedData
from .params import ParamLayout

__all__ = ["DaskBackend", "is_dask_frame", "partitioned_data_from_dask", "counts_from_events",
           "posterior_frame", "predict_frame", "SPILL_HEADROOM"]


def is_dask_frame(data: Any) -> bool:
    """Whether ``data`` is a dask DataFrame (checked without importing dask)."""
    return type(data).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(
        data, "npartitions")


def _wait(futures) -> None:
    from distributed import wait

    wait(futures)


def _client(client=None):
    try:
        from distributed import get_client
    except ImportError:  # pragma: no cover - the extra is missing
        raise SpecificationError(
            "data is a dask DataFrame but dask.distributed is not installed; install "
            "mixlogit[dask], or pass data.compute() for a frame that fits in memory") from None
    if client is not None:
        return client
    try:
        return get_client()
    except ValueError:
        raise SpecificationError(
            "data is a dask DataFrame but no distributed.Client is running; start one "
            "(from distributed import Client; client = Client()) or pass data.compute() "
            "for a frame that fits in memory") from None


class DaskBackend:
    """Partitions resident on Dask workers; every task runs where its partition lives.

    Parameters
    ----------
    client : distributed.Client
    futures : list of distributed.Future
        One future per partition (a :class:`~mixlogit.likelihood.partitioned.Partition`).
    """

    def __init__(self, client, futures: Sequence):
        self.client = client
        self.futures = list(futures)
        where = client.who_has(self.futures)
        self.workers = [list(where[f.key])[:1] or None for f in self.futures]

    @property
    def n_partitions(self) -> int:
        return len(self.futures)

    def _submit(self, fn: Callable, per_partition_args: Sequence[tuple]) -> list:
        return [self.client.submit(fn, fut, *args, workers=w, allow_other_workers=False,
                                   pure=False)
                for fut, w, args in zip(self.futures, self.workers, per_partition_args)]

    def map(self, fn: Callable, *args) -> list:
        return self.client.gather(self._submit(fn, [args] * self.n_partitions))

    def gather_units(self, fn: Callable, *args) -> np.ndarray:
        return np.concatenate([np.asarray(r) for r in self.map(fn, *args)])

    def map_each(self, fn: Callable, per_partition: Sequence) -> list:
        return self.client.gather(self._submit(fn, [(arg,) for arg in per_partition]))

    def transform(self, fn: Callable, *args) -> DaskBackend:
        futures = self._submit(fn, [args] * self.n_partitions)
        _wait(futures)
        return DaskBackend(self.client, futures)

    def transform_each(self, fn: Callable, per_partition: Sequence) -> DaskBackend:
        futures = self._submit(fn, [(arg,) for arg in per_partition])
        _wait(futures)
        return DaskBackend(self.client, futures)

    def object_sizes(self) -> list[int]:
        """Bytes each resident partition occupies on its worker (as Dask measures it)."""
        return [int(v) for v in self.client.run_on_scheduler(
            lambda dask_scheduler, keys: [dask_scheduler.tasks[k].nbytes for k in keys],
            keys=[f.key for f in self.futures])]


def _categories(ddf, columns: Sequence[str]) -> dict[str, list]:
    """Global sorted levels of the object and categorical columns, in one pass."""
    import dask

    cols = [c for c in columns if str(ddf[c].dtype) in ("object", "category", "string", "str")
            or pd.api.types.is_string_dtype(ddf[c].dtype)]
    if not cols:
        return {}
    uniques = dask.compute(*[ddf[c].dropna().unique() for c in cols])
    return {c: sorted(pd.unique(np.asarray(u)).tolist()) for c, u in zip(cols, uniques)}


def _build_partition(frame: pd.DataFrame, args: dict) -> dict:
    """Worker side: the partition's data, likelihood and what the client must know."""
    frame = frame.copy()
    for column, levels in args["categories"].items():
        frame[column] = pd.Categorical(frame[column], categories=levels)
    if len(frame) == 0:
        return {"empty": True}
    with collected_warnings() as caught:
        endog, exog, inv, mem, _ = parse_formulas(
            args["formula"], frame, invariant=args["invariant"], membership=args["membership"],
            columns=args["columns"])
        col = args["columns"]
        data = ChoiceData.from_arrays(
            endog, exog, groups=frame[col["groups"]],
            panel=None if col["panel"] is None else frame[col["panel"]],
            exog_invariant=inv, exog_membership=mem,
            weights=None if col["weights"] is None else frame[col["weights"]],
            availability=None if col["availability"] is None else frame[col["availability"]],
            check_identification=False)
    others = [(m, c) for m, c in caught if not issubclass(c, DroppedObservationsWarning)]
    layout = ParamLayout(1, data.exog_names, data.invariant_names, data.membership_names)
    return {"empty": False, "partition": Partition(LongLikelihood(data, layout)),
            "dropped": data.dropped, "n_rows": data.n_rows, "n_situations": data.n_situations,
            "weights": np.asarray(data.weights), "exog_membership": data.exog_membership,
            "ids": data.decision_maker_ids, "names": (data.exog_names, data.invariant_names,
                                                       data.membership_names),
            "has_panel": data.has_panel, "weights_kind": data.weights_kind,
            "within": data.within_statistics(), "warnings": others}


def _partition_of(built: dict) -> Partition:
    return built["partition"]


def _meta_of(built: dict) -> dict:
    return {k: v for k, v in built.items() if k != "partition"}


def _ids_per_partition(ddf, column: str) -> list[np.ndarray]:
    """The distinct ids of ``column`` in each partition (one pass)."""
    import dask

    return list(dask.compute(*[dask.delayed(pd.unique)(part) for part in
                               ddf[column].to_delayed()]))


def _check_straddling(ids: list[np.ndarray], label: str) -> None:
    all_ids = np.concatenate([np.asarray(i) for i in ids])
    owner = np.repeat(np.arange(len(ids)), [len(i) for i in ids])
    known = np.asarray(pd.notna(all_ids))
    all_ids, owner = all_ids[known], owner[known]
    order = np.argsort(all_ids, kind="stable")
    sorted_ids = all_ids[order]
    same = sorted_ids[1:] == sorted_ids[:-1]
    if same.any():
        at = int(np.flatnonzero(same)[0])
        a, b = owner[order[at]], owner[order[at + 1]]
        raise SpecificationError(
            f"decision maker {sorted_ids[at]!r} ({label}) appears in partitions {a} and {b}; "
            f"every decision maker must sit in one partition: repartition by it first "
            f"(ddf = ddf.set_index({label!r}, sorted=False) or ddf.shuffle({label!r}))")


def partitioned_data_from_dask(formula: str, ddf, *, groups: str, panel: str | None = None,
                               invariant: str | None = None, membership: str | None = None,
                               weights: str | None = None, availability: str | None = None,
                               client=None) -> PartitionedData:
    """Build resident partitions from a long-format dask DataFrame.

    Parameters
    ----------
    formula, groups, panel, invariant, membership, weights, availability
        As in :meth:`mixlogit.MixedMultinomialLogit.from_formula`.
    ddf : dask.dataframe.DataFrame
        Long format, every decision maker inside one partition.
    client : distributed.Client, optional
        Default: the running client.

    Returns
    -------
    PartitionedData

    Raises
    ------
    SpecificationError
        No running client, a missing column, or a decision maker that straddles
        partitions.
    """
    client = _client(client)
    _register_sizeof()
    columns = {"groups": groups, "panel": panel, "weights": weights, "availability": availability}
    missing = [c for c in columns.values() if c is not None and c not in ddf.columns]
    if missing:
        raise SpecificationError(f"columns {missing} are not in the dask DataFrame; its columns "
                                 f"are {list(ddf.columns)}")
    _check_straddling(_ids_per_partition(ddf, panel or groups), panel or groups)
    ids = {groups, panel, weights, availability} - {None}
    categories = _categories(ddf, [c for c in ddf.columns if c not in ids])
    args = {"formula": formula, "invariant": invariant, "membership": membership,
            "columns": columns, "categories": categories}
    built = [client.submit(_build_partition, part, args, pure=False)
             for part in client.compute(ddf.to_delayed())]
    metas = client.gather([client.submit(_meta_of, b, pure=False) for b in built])
    keep = [i for i, m in enumerate(metas) if not m["empty"]]
    if not keep:
        raise SpecificationError("the dask DataFrame has no rows")
    metas = [metas[i] for i in keep]
    names = metas[0]["names"]
    for m in metas[1:]:
        if m["names"] != names:
            raise SpecificationError(
                f"partitions built different design columns ({list(names[0])} vs "
                f"{list(m['names'][0])}); give categorical columns known categories")
    within = metas[0]["within"]
    for m in metas[1:]:
        within = within + m["within"]
    judge_within_situation(within, list(names[0]) + list(names[1]))  # once, on the whole data
    parts = [client.submit(_partition_of, built[i], pure=False) for i in keep]
    _wait(parts)
    _report_drops(metas)
    backend = DaskBackend(client, parts)
    _check_memory_headroom(client, backend)
    return PartitionedData(
        backend=backend, exog_names=tuple(names[0]),
        invariant_names=tuple(names[1]), membership_names=tuple(names[2]),
        n_rows=int(sum(m["n_rows"] for m in metas)),
        n_situations=int(sum(m["n_situations"] for m in metas)),
        weights=np.concatenate([m["weights"] for m in metas]),
        exog_membership=np.concatenate([m["exog_membership"] for m in metas]),
        decision_maker_ids=np.concatenate([m["ids"] for m in metas]),
        units_per_partition=np.array([len(m["ids"]) for m in metas]),
        has_panel=bool(metas[0]["has_panel"]), weights_kind=str(metas[0]["weights_kind"]))


#: resident partitions above this share of a worker's spill threshold get a warning
SPILL_HEADROOM = 0.5


def _register_sizeof() -> None:
    """Tell Dask the real size of a resident partition (its arrays), not the Python object's."""
    from dask.sizeof import sizeof

    if Partition not in sizeof._lookup:
        sizeof.register(Partition)(lambda part: part.nbytes)


def _worker_limits(dask_worker) -> tuple[float | None, float | None]:
    manager = getattr(dask_worker, "memory_manager", None)
    if manager is None:
        return None, None
    return manager.memory_limit, manager.memory_spill_fraction


def _check_memory_headroom(client, backend: DaskBackend) -> None:
    """Warn when the partitions resident on a worker approach its spill threshold.

    A spilled partition loses nothing but time: it is read back from disk at
    every map, which made an iteration cost seconds instead of milliseconds.
    """
    totals: dict[str, int] = {}
    for workers, size in zip(backend.workers, backend.object_sizes()):
        if workers:
            totals[workers[0]] = totals.get(workers[0], 0) + size
    limits = client.run(_worker_limits)
    for address, total in totals.items():
        limit, spill = limits.get(address, (None, None))
        if limit and spill and total > SPILL_HEADROOM * spill * limit:
            warn(f"the partitions resident on worker {address} take {total / 2**30:.2f} GB, more "
                 f"than {SPILL_HEADROOM:.0%} of its spill threshold ({spill * limit / 2**30:.2f} "
                 "GB): EM's temporaries may push them to disk, and every iteration then reads "
                 "them back; use more workers or a larger memory_limit, or turn spilling off "
                 "(dask.config.set({'distributed.worker.memory.spill': False}))", MixlogitWarning)


def _report_drops(metas: list[dict]) -> None:
    situations = sum(m["dropped"].situations_missing for m in metas)
    people = sum(m["dropped"].decision_makers_missing for m in metas)
    if situations or people:
        warn(f"dropped {situations} situation(s) and {people} decision maker(s) with missing "
             "values (summed over partitions)", DroppedObservationsWarning)
    seen = set()
    for m in metas:
        for message, category in m["warnings"]:
            if message not in seen:
                seen.add(message)
                warn(message, category)


def counts_from_events(events, candidate_column: str, features) -> tuple[pd.Series, pd.DataFrame]:
    """Counts of the counts form from a (dask or pandas) frame of events.

    Parameters
    ----------
    events : DataFrame or dask DataFrame
        One row per draw; ``candidate_column`` names the chosen candidate.
    candidate_column : str
    features : DataFrame
        Candidate features indexed by candidate.

    Returns
    -------
    counts : Series
        Draws per candidate, aligned on ``features.index`` (0 where never chosen).
    features : DataFrame
        The features, unchanged.

    Examples
    --------
    >>> import pandas as pd
    >>> from mixlogit.distributed import counts_from_events
    >>> events = pd.DataFrame({"item": ["a", "b", "a", "a"]})
    >>> features = pd.DataFrame({"x": [0.0, 1.0, 2.0]}, index=["a", "b", "c"])
    >>> counts, _ = counts_from_events(events, "item", features)
    >>> counts.tolist()
    [3, 1, 0]
    """
    if candidate_column not in events.columns:
        raise SpecificationError(f"candidate_column {candidate_column!r} is not a column of "
                                 f"events; columns are {list(events.columns)}")
    sizes = events.groupby(candidate_column).size()
    if hasattr(sizes, "compute"):
        sizes = sizes.compute()
    unknown = sizes.index.difference(features.index)
    if len(unknown):
        raise SpecificationError(f"{len(unknown)} chosen candidate(s) have no features, e.g. "
                                 f"{unknown[0]!r}; add them to features")
    counts = sizes.reindex(features.index, fill_value=0).astype(int)
    counts.name = "count"
    return counts, features


def _posteriors_of(part: Partition, params: np.ndarray, columns: list[str]) -> pd.DataFrame:
    lik = part.likelihood
    post = lik.evaluate(params).posteriors
    return pd.DataFrame(post, index=pd.Index(lik.data.decision_maker_ids, name="decision_maker"),
                        columns=columns)


def posterior_frame(results):
    """Posterior class probabilities of a distributed fit as a dask DataFrame.

    One partition per resident partition of the data, computed where it lives
    (nothing is gathered to the client until the frame is computed).

    Parameters
    ----------
    results : MixedMultinomialLogitResults
        A fit of a :class:`~mixlogit.model.DistributedMixedMultinomialLogit`.

    Returns
    -------
    dask.dataframe.DataFrame
        Indexed by decision maker, one column per class.

    Raises
    ------
    SpecificationError
        The fit is not on Dask-resident data.
    """
    import dask
    import dask.dataframe as dd

    backend = getattr(results.fit_state.likelihood, "backend", None)  # the model layout's parts
    if not isinstance(backend, DaskBackend):
        raise SpecificationError("posterior_frame needs a fit of Dask-resident data; for a local "
                                 "fit use results.posterior_probs()")
    params = np.asarray(results.fit_state.params, float)
    columns = list(results.model.layout.class_names)
    meta = pd.DataFrame({c: pd.Series(dtype=float) for c in columns},
                        index=pd.Index([], name="decision_maker"))
    parts = [dask.delayed(_posteriors_of)(fut, params, columns) for fut in backend.futures]
    return dd.from_delayed(parts, meta=meta)


def _predictions_of(part: Partition, params: np.ndarray, kind: str, columns: list[str]
                    ) -> pd.DataFrame:
    lik = part.likelihood
    d = lik.data
    P = lik.class_probabilities(params)
    dm_of_row = d.decision_maker_of_situation[d.situation_of_row]
    keys = {"decision_maker": np.asarray(d.decision_maker_ids)[dm_of_row],
            "situation": np.asarray(d.situation_ids)[d.situation_of_row],
            "row": d.row_index}
    if kind == "class":
        values = {c: P[:, k] for k, c in enumerate(columns)}
    else:
        pi = np.exp(np.asarray(lik.log_shares(params)))[dm_of_row]
        values = {"probability": (pi * P).sum(axis=1)}
    return pd.DataFrame({**keys, **values})


def predict_frame(results, *, kind: str = "probability"):
    """Choice probabilities of every estimation row of a distributed fit, as a dask DataFrame.

    Computed where the partitions live. Each row carries its decision maker,
    situation and its position among its partition's input rows (``row``:
    the input order within the dataframe partition it came from).

    Parameters
    ----------
    results : MixedMultinomialLogitResults
        A fit of a :class:`~mixlogit.model.DistributedMixedMultinomialLogit`.
    kind : {"probability", "class"}
        The mixture probability, or one column per class.

    Returns
    -------
    dask.dataframe.DataFrame
    """
    import dask
    import dask.dataframe as dd

    if kind not in ("probability", "class"):
        raise SpecificationError(f"kind={kind!r}; use 'probability' or 'class'")
    backend = getattr(results.fit_state.likelihood, "backend", None)
    if not isinstance(backend, DaskBackend):
        raise SpecificationError("predict_frame needs a fit of Dask-resident data; for a local "
                                 "fit use results.predict()")
    params = np.asarray(results.fit_state.params, float)
    columns = list(results.model.layout.class_names)
    values = columns if kind == "class" else ["probability"]
    meta = pd.DataFrame({"decision_maker": pd.Series(dtype=object),
                         "situation": pd.Series(dtype=object), "row": pd.Series(dtype=np.int64),
                         **{c: pd.Series(dtype=float) for c in values}})
    parts = [dask.delayed(_predictions_of)(fut, params, kind, columns) for fut in backend.futures]
    return dd.from_delayed(parts, meta=meta, verify_meta=False)
