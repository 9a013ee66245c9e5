"""Export of fit results: one JSON document, or tables as CSV, TSV or Parquet.

Shared by the command line (``mixlogit fit --output FILE``) and usable from
Python. The file extension decides the format:

``.json``
    One document (see :func:`results_to_dict`): model, fit statistics,
    parameters, covariance matrix, class shares, posteriors, the start report,
    and WTP or bootstrap intervals when asked.
``.csv``, ``.tsv``, ``.parquet``
    One table per part: the parameters in ``FILE.ext`` and, with
    ``what="all"``, the class shares, posteriors, covariance matrix and start
    report beside it (``FILE.shares.ext``, ...). ``.tsv`` is tab-separated;
    ``.parquet`` needs pyarrow (or fastparquet).

Compressed text (``.csv.gz``, ``.json.gz``, ...) is not written; any other
extension is refused with a :class:`~mixlogit.exceptions.SpecificationError`.
The functions read only the public attributes of a results object.
"""
from __future__ import annotations

import json
import math
import os
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import SpecificationError

__all__ = ["FORMATS", "PARTS", "output_format", "results_to_dict", "write_results",
           "write_table"]

#: file extensions :func:`write_results` understands, and their formats
FORMATS = {".json": "json", ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet"}

#: the parts of a result, in the order they are written
PARTS = ("params", "shares", "posteriors", "covariance", "starts", "wtp", "bootstrap")


def _version() -> str:
    try:
        return metadata.version("mixlogit")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


def output_format(path: str, *, argument: str = "path") -> str:
    """The format a file name asks for, or a clear error.

    Parameters
    ----------
    path : str
        File name; its extension (case-insensitive) decides.
    argument : str
        How error messages name the argument (the CLI passes ``"--output"``).

    Returns
    -------
    str
        ``"json"``, ``"csv"``, ``"tsv"`` or ``"parquet"``.

    Raises
    ------
    SpecificationError
        Another extension, or ``.parquet`` without pyarrow or fastparquet.

    Examples
    --------
    >>> output_format("results.JSON"), output_format("table.tsv")
    ('json', 'tsv')
    >>> output_format("results.xlsx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mixlogit.exceptions.SpecificationError: path='results.xlsx': unknown extension '.xlsx'; ...
    """
    ext = os.path.splitext(str(path))[1].lower()
    fmt = FORMATS.get(ext)
    if fmt is None:
        shown = repr(ext) if ext else "none"
        raise SpecificationError(
            f"{argument}={str(path)!r}: unknown extension {shown}; use .json, .csv, .tsv or "
            ".parquet")
    if fmt == "parquet" and not _parquet_engine():
        raise SpecificationError(
            f"{argument}={str(path)!r}: writing .parquet needs pyarrow (pip install pyarrow) or "
            "fastparquet, and neither is installed; use .csv, .tsv or .json")
    return fmt


def _parquet_engine() -> str | None:
    for engine in ("pyarrow", "fastparquet"):
        try:
            __import__(engine)  # optional dependency
        except ImportError:
            continue
        return engine
    return None


def _clean(value: Any) -> Any:
    """Numbers and labels made JSON-safe (NaN and infinities become null)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if value is None or isinstance(value, (str, int)):
        return value
    return str(value)


def _tables(res, *, alpha: float, wtp_price: str | None, bootstrap) -> dict[str, pd.DataFrame]:
    """Every part of a result as a flat table (labelled columns, no index)."""
    ci = res.conf_int(alpha)
    fixed = res.fixed
    params = pd.DataFrame({
        "name": list(res.params.index), "coef": res.params.to_numpy(),
        "std_err": res.bse.to_numpy(), "z": res.tvalues.to_numpy(),
        "p_value": res.pvalues.to_numpy(), "lower": ci["lower"].to_numpy(),
        "upper": ci["upper"].to_numpy(), "fixed": fixed.reindex(res.params.index).to_numpy(bool)})
    shares = res.class_shares_table(alpha)
    shares = pd.DataFrame({"class": list(shares.index), "share": shares["share"].to_numpy(),
                           "std_err": shares["bse"].to_numpy(),
                           "lower": shares["lower"].to_numpy(),
                           "upper": shares["upper"].to_numpy()})
    post = res.posterior_probs()
    posteriors = post.rename_axis("decision_maker").reset_index()
    cov = res.cov_params()
    covariance = cov.rename_axis("name").reset_index()
    report = res.start_report
    starts = report.table.reset_index(drop=True).copy()
    starts.insert(0, "run", np.arange(len(starts)))
    out = {"params": params, "shares": shares, "posteriors": posteriors,
           "covariance": covariance, "starts": starts}
    if wtp_price is not None:
        out["wtp"] = res.wtp(wtp_price, alpha=alpha).reset_index()
    if bootstrap is not None:
        frame = bootstrap.summary_frame(alpha)
        out["bootstrap"] = pd.DataFrame({
            "name": list(frame.index), "lower": frame["lower"].to_numpy(),
            "upper": frame["upper"].to_numpy(),
            "unaligned_std_err": frame["unaligned_bse"].to_numpy()})
    return out


def _records(frame: pd.DataFrame) -> list[dict]:
    return [dict(zip(frame.columns, row)) for row in frame.itertuples(index=False, name=None)]


def results_to_dict(res, *, alpha: float = 0.05, bootstrap=None,
                    wtp_price: str | None = None) -> dict:
    """The results of a fit as a JSON-ready dictionary.

    Parameters
    ----------
    res : MixedMultinomialLogitResults
        A fitted model.
    alpha : float
        Level of the confidence intervals.
    bootstrap : BootstrapResults, optional
        A bootstrap of ``res`` (from ``res.bootstrap``): its percentile intervals are added.
    wtp_price : str, optional
        Name of the price attribute: adds willingness to pay (``res.wtp(wtp_price)``).

    Returns
    -------
    dict
        Keys ``mixlogit_version``, ``model`` (formula and options), ``fit``
        (log-likelihood, criteria, sizes, convergence), ``params`` (one record
        per parameter with ``coef``, ``std_err``, ``z``, ``p_value``,
        ``lower``, ``upper``, ``fixed``), ``covariance`` (``names`` and the
        ``matrix`` as a list of rows), ``class_shares``, ``posteriors`` (one
        record per decision maker), ``starts`` (counts, distinct optima and one
        record per run), and ``wtp`` / ``bootstrap`` when asked. Missing
        numbers are ``None``.

    Examples
    --------
    >>> import mixlogit as mx
    >>> df = mx.datasets.electricity.load()
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ pf + cl - 1", df, groups="chid", panel="id", k_classes=1).fit()
    >>> out = results_to_dict(res, wtp_price="pf")
    >>> sorted(out)  # doctest: +NORMALIZE_WHITESPACE
    ['class_shares', 'covariance', 'fit', 'mixlogit_version', 'model', 'params', 'posteriors',
     'starts', 'wtp']
    >>> out["params"][0]["name"], len(out["covariance"]["matrix"])
    ('class1:pf', 2)
    """
    tables = _tables(res, alpha=alpha, wtp_price=wtp_price, bootstrap=bootstrap)
    spec = getattr(res.model, "formula_spec", None)
    columns = dict(getattr(spec, "columns", {}) or {})
    report = res.start_report
    cov = res.cov_params()
    data = res.model.choice_data
    out = {
        "mixlogit_version": _version(),
        "model": {
            "formula": getattr(spec, "formula", None),
            "invariant": getattr(spec, "invariant", None),
            "membership": getattr(spec, "membership", None),
            **{key: columns.get(key) for key in ("groups", "panel", "availability", "weights")},
            "weights_kind": getattr(data, "weights_kind", None),
            "k_classes": res.k_classes,
        },
        "fit": {
            "llf": res.llf, "llnull": res.llnull, "prsquared": res.prsquared,
            "aic": res.aic, "bic": res.bic, "caic": res.caic, "sabic": res.sabic,
            "n_params": res.df_modelwc, "nobs": res.nobs, "n_situations": res.n_situations,
            "n_decision_makers": res.n_decision_makers,
            "n_effective": getattr(data, "n_effective", None), "converged": res.converged,
            "n_iter": res.n_iter, "cov_type": res.cov_type, "alpha": alpha,
            "method": res.method,
        },
        "params": _records(tables["params"]),
        "covariance": {"names": list(cov.index), "matrix": cov.to_numpy()},
        "class_shares": _records(tables["shares"]),
        "posteriors": _records(tables["posteriors"]),
        "starts": {"n_starts": report.n_starts, "n_reached_best": report.n_reached_best,
                   "optima": list(report.optima), "runs": _records(tables["starts"])},
    }
    if "wtp" in tables:
        out["wtp"] = {"price": wtp_price, "table": _records(tables["wtp"])}
    if "bootstrap" in tables:
        out["bootstrap"] = {
            "n_reps": bootstrap.n_reps, "n_used": bootstrap.n_used,
            "share_failed": bootstrap.share_failed, "share_doubtful": bootstrap.share_doubtful,
            "align": bootstrap.align, "percentile_intervals": _records(tables["bootstrap"])}
    return _clean(out)


def _sibling(path: str, part: str) -> str:
    stem, ext = os.path.splitext(path)
    return f"{stem}.{part}{ext}"


def write_table(frame: pd.DataFrame, path: str, *, argument: str = "path") -> str:
    """Write one table in the format its extension names (``.csv``, ``.tsv``, ``.parquet``).

    Parameters
    ----------
    frame : DataFrame
        The table; its index is written as a column when it is named.
    path : str
        Target file.
    argument : str
        How error messages name the argument.

    Returns
    -------
    str
        ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> path = os.path.join(tempfile.mkdtemp(), "t.tsv")
    >>> _ = write_table(pd.DataFrame({"a": [1, 2]}), path)
    >>> open(path).read().splitlines()
    ['a', '1', '2']
    """
    fmt = output_format(path, argument=argument)
    frame = frame.copy()
    frame.attrs = {}  # attributes are not table content (and need not serialise)
    frame.columns = [str(c) for c in frame.columns]
    if fmt == "json":
        frame = frame.reset_index() if frame.index.name is not None else frame
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(_clean(_records(frame)), fh, indent=2, allow_nan=False)
            fh.write("\n")
        return path
    index = any(name is not None for name in frame.index.names)
    if fmt == "parquet":
        if _parquet_engine() == "fastparquet":
            frame.to_parquet(path, engine="fastparquet", index=index)
        else:
            frame.to_parquet(path, engine="pyarrow", index=index)
    else:
        frame.to_csv(path, sep="\t" if fmt == "tsv" else ",", index=index)
    return path


def write_results(res, path: str, *, what: str = "all", alpha: float = 0.05, bootstrap=None,
                  wtp_price: str | None = None, argument: str = "path") -> list[str]:
    """Write fit results in the format the extension of ``path`` names.

    Parameters
    ----------
    res : MixedMultinomialLogitResults
        A fitted model.
    path : str
        ``*.json``: one document (see :func:`results_to_dict`). ``*.csv``,
        ``*.tsv``, ``*.parquet``: the table of ``what`` in ``path``; with
        ``what="all"`` the parameter table in ``path`` and the other parts
        beside it (``*.shares.csv``, ``*.posteriors.csv``,
        ``*.covariance.csv``, ``*.starts.csv``, and ``*.wtp.csv`` /
        ``*.bootstrap.csv`` when asked).
    what : str
        ``"all"`` or one part: ``"params"``, ``"shares"``, ``"posteriors"``,
        ``"covariance"``, ``"starts"``, ``"wtp"`` (needs ``wtp_price``) or
        ``"bootstrap"`` (needs ``bootstrap``).
    alpha : float
        Level of the confidence intervals.
    bootstrap : BootstrapResults, optional
        A bootstrap of ``res``: its percentile intervals are written too.
    wtp_price : str, optional
        Name of the price attribute: willingness to pay is written too.
    argument : str
        How error messages name ``path`` (the CLI passes ``"--output"``).

    Returns
    -------
    list of str
        The files written.

    Raises
    ------
    SpecificationError
        An unknown extension or part, ``.parquet`` without an engine, a part
        that was not computed.
    OSError
        The file cannot be written.

    Examples
    --------
    >>> import os, tempfile
    >>> import mixlogit as mx
    >>> df = mx.datasets.electricity.load()
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ pf + cl - 1", df, groups="chid", panel="id", k_classes=1).fit()
    >>> tmp = tempfile.mkdtemp()
    >>> files = write_results(res, os.path.join(tmp, "res.csv"))
    >>> [os.path.basename(f) for f in files]
    ['res.csv', 'res.shares.csv', 'res.posteriors.csv', 'res.covariance.csv', 'res.starts.csv']
    >>> write_results(res, os.path.join(tmp, "res.txt"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mixlogit.exceptions.SpecificationError: path='...res.txt': unknown extension '.txt'; ...
    """
    if what != "all" and what not in PARTS:
        raise SpecificationError(f"what={what!r}; use 'all' or one of {list(PARTS)}")
    if what == "wtp" and wtp_price is None:
        raise SpecificationError("what='wtp' needs wtp_price= (the price attribute)")
    if what == "bootstrap" and bootstrap is None:
        raise SpecificationError("what='bootstrap' needs bootstrap= (a BootstrapResults)")
    fmt = output_format(path, argument=argument)
    if fmt == "json":
        out = results_to_dict(res, alpha=alpha, bootstrap=bootstrap, wtp_price=wtp_price)
        if what != "all":
            key = {"shares": "class_shares"}.get(what, what)
            out = {"mixlogit_version": out["mixlogit_version"], key: out[key]}
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2, allow_nan=False)
            fh.write("\n")
        return [path]
    tables = _tables(res, alpha=alpha, wtp_price=wtp_price, bootstrap=bootstrap)
    if what != "all":
        return [write_table(tables[what], path, argument=argument)]
    files = []
    for part, frame in tables.items():
        target = path if part == "params" else _sibling(path, part)
        files.append(write_table(frame, target, argument=argument))
    return files
