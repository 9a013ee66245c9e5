"""The ``mixlogit`` command line.

Three subcommands, each with ``--help``:

``mixlogit demo``
    Fit three latent classes to the bundled electricity data and print the summary.
``mixlogit fit DATA.csv --formula ... --groups ... --classes K``
    Fit a latent-class logit to a long-format CSV file, print the summary, and
    optionally write the results (parameters, standard errors, class shares,
    posterior class probabilities) to ``.json`` or ``.csv``.
``mixlogit select DATA.csv --formula ... --groups ... --classes 1-5``
    Fit a range of class counts and print the information-criteria table.
``mixlogit datasets [NAME --output FILE]``
    List the bundled data sets, or write one to a CSV file.

Bad input (a missing file or column, a malformed CSV, a situation without a
chosen alternative, ``--classes 0``) ends with one line on standard error,
``mixlogit: error: <message>``, and exit status 2; never a traceback.
Warnings of the estimator are printed after the summary as
``mixlogit: warning: <message>``.

The same entry point is callable from Python, which is how the tests drive it:

>>> from mixlogit.cli import main
>>> main(["datasets"])  # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
electricity  Stated-preference choice among four electricity suppliers: ...
...
0
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from typing import Any, Sequence

__all__ = ["main", "build_parser", "parse_classes", "results_to_dict", "write_results",
           "CLIError"]

PROG = "mixlogit"

#: the demo's model: the README's example
DEMO_FORMULA = "choice ~ pf + cl + loc + wk + tod + seas - 1"

EPILOG_FIT = """\
examples:
  mixlogit datasets electricity --output electricity.csv
  mixlogit fit electricity.csv --formula "choice ~ pf + cl + loc + wk + tod + seas - 1" \\
      --groups chid --panel id --classes 3 --starts 10 --seed 0 --output results.json

DATA is a long-format table: one row per (choice situation, alternative), a 0/1
column marking the chosen alternative (the formula's left side), a situation id
(--groups) and, for panel data, a decision-maker id (--panel).

--output FILE.json writes everything (fit statistics, parameters, standard
errors, class shares, posteriors) as one JSON document; --output FILE.csv writes
the parameter table to FILE.csv, the class shares to FILE.shares.csv and the
posterior class probabilities to FILE.posteriors.csv.
"""

EPILOG_SELECT = """\
examples:
  mixlogit select electricity.csv --formula "choice ~ pf + cl + loc + wk + tod + seas - 1" \\
      --groups chid --panel id --classes 1-5 --starts 5 --seed 0

--classes takes a range (1-5), a list (1,2,4) or one number N meaning 1..N.
"""


class CLIError(Exception):
    """A user error reported as one line, ``mixlogit: error: <message>``, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line (and exit status 2)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        hint = f" (see '{self.prog} --help')"
        raise CLIError(message + hint)


# ----------------------------------------------------------------- argument types
def _number(convert, accept, requirement: str):
    """An argparse type: ``convert`` the text, then require ``accept(value)``."""
    def parse(text: str):
        try:
            value = convert(text)
        except (TypeError, ValueError):
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}")
        return value
    return parse


_positive_int = _number(int, lambda v: v >= 1, "a whole number >= 1")
_nonnegative_int = _number(int, lambda v: v >= 0, "a whole number >= 0")
_positive_float = _number(float, lambda v: v > 0, "a positive number")


def parse_classes(text: str) -> list[int]:
    """Parse the ``--classes`` argument of ``mixlogit select``.

    Parameters
    ----------
    text : str
        ``"N"`` (meaning 1..N), a range ``"A-B"`` or ``"A:B"`` (both ends
        included), or a comma-separated list ``"1,2,4"``.

    Returns
    -------
    list of int
        Sorted distinct class counts, each at least 1.

    Raises
    ------
    argparse.ArgumentTypeError
        The text is none of these forms, or a count is below 1.

    Examples
    --------
    >>> parse_classes("4")
    [1, 2, 3, 4]
    >>> parse_classes("2-4")
    [2, 3, 4]
    >>> parse_classes("1,3,5")
    [1, 3, 5]
    """
    s = str(text).strip()
    bad = argparse.ArgumentTypeError(
        f"must be N (for 1..N), a range A-B or a list like 1,2,4 of whole numbers >= 1, "
        f"got {text!r}")
    try:
        if "," in s:
            values = [int(part) for part in s.split(",") if part.strip()]
        elif "-" in s[1:] or ":" in s:
            sep = ":" if ":" in s else "-"
            lo, hi = (int(part) for part in s.split(sep, 1))
            if hi < lo:
                raise bad
            values = list(range(lo, hi + 1))
        else:
            values = list(range(1, int(s) + 1))
    except ValueError:
        raise bad from None
    if not values or min(values) < 1:
        raise bad
    return sorted(set(values))


def _fixed_value(text: str) -> tuple[str, float]:
    name, sep, value = text.rpartition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"must look like NAME=VALUE (class2:time=0), got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"value of {name.strip()!r} is not a number: {value!r}") \
            from None


# ------------------------------------------------------------------ the parser
def _add_model_arguments(p: argparse.ArgumentParser, *, classes_help: str,
                         classes_type) -> None:
    p.add_argument("data", metavar="DATA",
                   help="long-format data file: .csv (optionally .gz/.bz2/.zip/.xz compressed), "
                        ".tsv, .parquet or .feather")
    p.add_argument("--formula", "-f", required=True,
                   help="patsy formula 'chosen ~ class-specific terms', e.g. "
                        "'choice ~ price + time - 1'")
    p.add_argument("--groups", "-g", required=True, metavar="COLUMN",
                   help="column with the choice-situation id")
    p.add_argument("--panel", "-p", metavar="COLUMN",
                   help="column with the decision-maker id (a decision maker keeps his class "
                        "across his situations); omit for cross-section data")
    p.add_argument("--classes", "-k", required=True, type=classes_type, metavar="K",
                   help=classes_help)
    p.add_argument("--invariant", metavar="FORMULA",
                   help="right-hand-side formula of terms with one coefficient shared by all "
                        "classes, e.g. '~ asc_train + cost - 1'")
    p.add_argument("--membership", metavar="FORMULA",
                   help="right-hand-side formula of decision-maker covariates of class "
                        "membership, e.g. '~ income + age'")
    p.add_argument("--availability", metavar="COLUMN",
                   help="column with 1 for available alternatives and 0 otherwise")
    p.add_argument("--weights", metavar="COLUMN",
                   help="column with frequency weights of decision makers")
    p.add_argument("--starts", type=_positive_int, default=10, metavar="N",
                   help="number of EM starts (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--maxiter", type=_positive_int, default=1000, metavar="N",
                   help="maximum EM iterations per start (default 1000)")
    p.add_argument("--tol", type=_positive_float, default=1e-8,
                   help="relative log-likelihood change that stops EM (default 1e-8)")
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="threads for running starts (and bootstrap replicates) in parallel; "
                        "-1 = every core (default 1)")
    p.add_argument("--progress", action="store_true",
                   help="show progress bars on standard error (needs tqdm)")
    p.add_argument("--sep", default=None, metavar="CHAR",
                   help="field separator of a text file (default: ',' for .csv, tab for .tsv)")


def build_parser() -> argparse.ArgumentParser:
    """The ``mixlogit`` argument parser with its subcommands.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> parser = build_parser()
    >>> args = parser.parse_args(["fit", "data.csv", "--formula", "choice ~ price - 1",
    ...                           "--groups", "chid", "--classes", "2"])
    >>> args.command, args.classes, args.starts
    ('fit', 2, 10)
    """
    from . import __version__

    parser = _Parser(
        prog=PROG,
        description="Latent-class (finite mixture) conditional logit models fitted by EM from "
                    "warm starts and polished by Newton's method.",
        epilog="Run 'mixlogit COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"mixlogit {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="on an error, show the Python traceback instead of one line "
                             "(for bug reports)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser(
        "demo", help="fit latent classes to the bundled electricity data and print the summary",
        description="Fit a latent-class logit to the bundled electricity data "
                    f"(Huber & Train 2001): formula '{DEMO_FORMULA}', groups 'chid', panel 'id'.")
    demo.add_argument("--classes", "-k", type=_positive_int, default=3, metavar="K",
                      help="number of classes (default 3)")
    demo.add_argument("--starts", type=_positive_int, default=10, metavar="N",
                      help="number of EM starts (default 10)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--output", "-o", metavar="FILE",
                      help="also write the results to FILE (.json or .csv)")

    fit = sub.add_parser(
        "fit", help="fit a latent-class logit to a long-format data file",
        description="Fit a latent-class conditional logit to a long-format data file and print "
                    "the summary.",
        epilog=EPILOG_FIT, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_model_arguments(fit, classes_help="number of latent classes", classes_type=_positive_int)
    fit.add_argument("--start", default="partition", metavar="STRATEGY",
                     help="start strategy: 'partition' (random partitions of decision makers, "
                          "the default) or 'subspace' (draws in the decision makers' score "
                          "subspace)")
    fit.add_argument("--fixed", action="append", type=_fixed_value, default=[], metavar="NAME=VALUE",
                     help="hold a parameter at a value, e.g. 'class2:time=0' (repeatable)")
    fit.add_argument("--cov-type", default="oim", choices=["oim", "opg", "robust", "cluster"],
                     help="standard errors: observed information (default), outer product of "
                          "gradients, robust (sandwich by decision maker) or cluster")
    fit.add_argument("--cluster", metavar="COLUMN",
                     help="column of clusters (nesting decision makers) for --cov-type cluster")
    fit.add_argument("--bootstrap", type=_nonnegative_int, default=0, metavar="N",
                     help="bootstrap standard errors from N replicates resampling decision "
                          "makers (label-aligned); 0 = off (default)")
    fit.add_argument("--output", "-o", metavar="FILE",
                     help="write the results to FILE.json or FILE.csv (see below)")
    fit.add_argument("--quiet", "-q", action="store_true",
                     help="do not print the summary (only errors and warnings)")

    sel = sub.add_parser(
        "select", help="fit a range of class counts and print the information-criteria table",
        description="Fit the model for each number of classes and print log-likelihood, "
                    "AIC, BIC, CAIC and related criteria for choosing K.",
        epilog=EPILOG_SELECT, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_model_arguments(sel, classes_help="class counts to compare: N (1..N), A-B or a list "
                                           "1,2,4", classes_type=parse_classes)
    sel.add_argument("--output", "-o", metavar="FILE",
                     help="write the table to FILE.csv or FILE.json")

    ds = sub.add_parser(
        "datasets", help="list the bundled data sets, or write one to a file",
        description="Without NAME, list the bundled data sets. With NAME, print its description "
                    "and citation, or write it (long format) to --output.")
    ds.add_argument("name", nargs="?", metavar="NAME", help="a bundled data set")
    ds.add_argument("--output", "-o", metavar="FILE", help="write the data set to FILE (.csv)")
    return parser


# ---------------------------------------------------------------------- helpers
def _read_data(path: str, sep: str | None = None):
    import pandas as pd

    if not os.path.exists(path):
        raise CLIError(f"cannot read {path!r}: no such file")
    if os.path.isdir(path):
        raise CLIError(f"cannot read {path!r}: it is a directory")
    lower = path.lower()
    for suffix in (".gz", ".bz2", ".zip", ".xz", ".zst"):
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    try:
        if lower.endswith(".parquet"):
            return pd.read_parquet(path)
        if lower.endswith(".feather"):
            return pd.read_feather(path)
        if sep is None:
            sep = "\t" if lower.endswith((".tsv", ".tab")) else ","
        return pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise CLIError(f"cannot read {path!r}: the file is empty") from None
    except pd.errors.ParserError as exc:
        raise CLIError(f"cannot parse {path!r}: {_first_line(exc)}") from None
    except UnicodeDecodeError as exc:
        raise CLIError(f"cannot read {path!r}: not a text file ({exc.reason})") from None
    except ImportError as exc:
        raise CLIError(f"cannot read {path!r}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()


def _check_columns(df, args) -> None:
    """Name a missing id column plainly before the model does."""
    for option in ("groups", "panel", "availability", "weights", "cluster"):
        column = getattr(args, option, None)
        if column is not None and column not in df.columns:
            shown = ", ".join(map(str, list(df.columns)[:20]))
            more = ", ..." if df.shape[1] > 20 else ""
            raise CLIError(f"--{option}: no column {column!r} in the data (columns: {shown}{more})")


def _check_choices(df, args) -> None:
    """Each situation must have exactly one chosen alternative."""
    lhs = args.formula.split("~", 1)[0].strip() if "~" in args.formula else ""
    if not lhs or lhs not in df.columns:
        return  # let the formula parser report it
    y = df[lhs]
    try:
        chosen = y.astype(float)
    except (TypeError, ValueError):
        return
    if args.availability is not None:
        chosen = chosen.where(df[args.availability].astype(float) != 0, 0.0)
    per_situation = chosen.groupby(df[args.groups], sort=False).sum(min_count=1)
    per_situation = per_situation.dropna()
    none = per_situation.index[per_situation == 0]
    if len(none):
        raise CLIError(
            f"{len(none)} choice situation(s) have no chosen alternative ({lhs!r} is 0 on every "
            f"row; first {args.groups} = {list(none[:3])}); each situation needs exactly one "
            f"{lhs} = 1")
    many = per_situation.index[per_situation > 1]
    if len(many):
        raise CLIError(
            f"{len(many)} choice situation(s) have more than one chosen alternative (first "
            f"{args.groups} = {list(many[:3])}); each situation needs exactly one {lhs} = 1")


def _build_model(df, args, k_classes: int):
    import mixlogit as mx

    return mx.MixedMultinomialLogit.from_formula(
        args.formula, df, groups=args.groups, panel=args.panel, k_classes=k_classes,
        invariant=args.invariant, membership=args.membership, weights=args.weights,
        availability=args.availability)


def _clean(value: Any) -> Any:
    """Numbers and labels made JSON-safe (NaN and infinities become null)."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if value is None or isinstance(value, (str, int)):
        return value
    return str(value)


def results_to_dict(res, *, alpha: float = 0.05, bootstrap=None) -> dict:
    """The results of a fit as a JSON-ready dictionary.

    Parameters
    ----------
    res : MixedMultinomialLogitResults
        A fitted model.
    alpha : float
        Level of the confidence intervals.
    bootstrap : BootstrapResults, optional
        A bootstrap of ``res`` (from ``res.bootstrap``): its percentile intervals are added.

    Returns
    -------
    dict
        Keys ``model`` (formula and options), ``fit`` (log-likelihood, criteria,
        sizes, convergence), ``params`` (one record per parameter with
        ``coef``, ``std_err``, ``z``, ``p_value``, ``lower``, ``upper``,
        ``fixed``), ``class_shares`` (one record per class), ``posteriors``
        (one record per decision maker), ``starts``, and ``bootstrap``
        (percentile intervals) after a bootstrap. Missing numbers are ``None``.

    Examples
    --------
    >>> import mixlogit as mx
    >>> df = mx.datasets.electricity.load()
    >>> res = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ pf + cl - 1", df, groups="chid", panel="id", k_classes=1).fit()
    >>> out = results_to_dict(res)
    >>> sorted(out)
    ['class_shares', 'fit', 'mixlogit_version', 'model', 'params', 'posteriors', 'starts']
    >>> out["params"][0]["name"]
    'class1:pf'
    """
    from . import __version__

    model = res.model
    spec = getattr(model, "formula_spec", None)
    columns = dict(getattr(spec, "columns", {}) or {})
    ci = res.conf_int(alpha)
    fixed = res.fixed
    params = [
        {"name": name, "coef": res.params[name], "std_err": res.bse[name], "z": res.tvalues[name],
         "p_value": res.pvalues[name], "lower": ci.loc[name, "lower"],
         "upper": ci.loc[name, "upper"], "fixed": bool(fixed[name])}
        for name in res.params.index
    ]
    shares = res.class_shares_table(alpha)
    class_shares = [{"class": name, "share": row["share"], "std_err": row["bse"],
                     "lower": row["lower"], "upper": row["upper"]}
                    for name, row in shares.iterrows()]
    post = res.posterior_probs()
    posteriors = [{"decision_maker": _clean(idx), **{c: post.at[idx, c] for c in post.columns}}
                  for idx in post.index]
    report = res.start_report
    out = {
        "mixlogit_version": __version__,
        "model": {
            "formula": getattr(spec, "formula", None),
            "invariant": getattr(spec, "invariant", None),
            "membership": getattr(spec, "membership", None),
            "groups": columns.get("groups"),
            "panel": columns.get("panel"),
            "availability": columns.get("availability"),
            "weights": columns.get("weights"),
            "k_classes": res.k_classes,
        },
        "fit": {
            "llf": res.llf, "llnull": res.llnull, "prsquared": res.prsquared,
            "aic": res.aic, "bic": res.bic, "caic": res.caic, "sabic": res.sabic,
            "n_params": res.df_modelwc, "nobs": res.nobs, "n_situations": res.n_situations,
            "n_decision_makers": res.n_decision_makers, "converged": res.converged,
            "n_iter": res.n_iter, "cov_type": res.cov_type, "alpha": alpha,
            "method": res.method,
        },
        "starts": {"n_starts": report.n_starts, "n_reached_best": report.n_reached_best,
                   "optima": list(report.optima)},
        "params": params,
        "class_shares": class_shares,
        "posteriors": posteriors,
    }
    boot = bootstrap
    if boot is not None:
        frame = boot.summary_frame(alpha)
        out["bootstrap"] = {
            "n_reps": boot.n_reps, "n_used": boot.n_used, "share_failed": boot.share_failed,
            "share_doubtful": boot.share_doubtful, "align": boot.align,
            "percentile_intervals": [
                {"name": name, "lower": row["lower"], "upper": row["upper"],
                 "unaligned_std_err": row["unaligned_bse"]}
                for name, row in frame.iterrows()],
        }
    return _clean(out)


def _output_kind(path: str) -> str:
    lower = path.lower()
    if lower.endswith(".json"):
        return "json"
    if lower.endswith(".csv"):
        return "csv"
    raise CLIError(f"--output {path!r}: use a file name ending in .json or .csv")


def _sibling(path: str, part: str) -> str:
    stem = path[: -len(".csv")]
    return f"{stem}.{part}.csv"


def write_results(res, path: str, *, alpha: float = 0.05, bootstrap=None) -> list[str]:
    """Write fit results to ``path`` (``.json`` or ``.csv``).

    Parameters
    ----------
    res : MixedMultinomialLogitResults
        A fitted model.
    path : str
        ``*.json``: one document (see :func:`results_to_dict`). ``*.csv``: the
        parameter table in ``path``, the class shares in ``*.shares.csv`` and the
        posterior class probabilities in ``*.posteriors.csv``.
    alpha : float
        Level of the confidence intervals.
    bootstrap : BootstrapResults, optional
        A bootstrap of ``res``: its percentile intervals go into the JSON document.

    Returns
    -------
    list of str
        The files written.

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
    ['res.csv', 'res.shares.csv', 'res.posteriors.csv']
    """
    import pandas as pd

    kind = _output_kind(path)
    out = results_to_dict(res, alpha=alpha, bootstrap=bootstrap)
    try:
        if kind == "json":
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(out, fh, indent=2, allow_nan=False)
                fh.write("\n")
            return [path]
        files = [path, _sibling(path, "shares"), _sibling(path, "posteriors")]
        pd.DataFrame(out["params"]).to_csv(files[0], index=False)
        pd.DataFrame(out["class_shares"]).to_csv(files[1], index=False)
        pd.DataFrame(out["posteriors"]).to_csv(files[2], index=False)
        return files
    except OSError as exc:
        raise CLIError(f"cannot write {path!r}: {exc.strerror or _first_line(exc)}") from None


def _report_warnings(caught) -> None:
    seen = set()
    for w in caught:
        text = " ".join(str(w.message).split())
        if text in seen:
            continue
        seen.add(text)
        print(f"{PROG}: warning: {text} ({w.category.__name__})", file=sys.stderr)


# --------------------------------------------------------------------- commands
def _fit(df, args, k_classes: int):
    """Fit as the ``fit`` command's options say; returns (results, bootstrap or None)."""
    fixed = dict(args.fixed) if args.fixed else None
    cov_type = args.cov_type
    cov_kwds = {}
    if cov_type == "cluster":
        if not args.cluster:
            raise CLIError("--cov-type cluster needs --cluster COLUMN")
        cov_kwds["groups"] = args.cluster
    elif args.cluster:
        raise CLIError("--cluster is only used with --cov-type cluster")
    model = _build_model(df, args, k_classes)
    res = model.fit(n_starts=args.starts, seed=args.seed,
                    start=args.start, fixed=fixed,
                    maxiter=args.maxiter, tol=args.tol, cov_type=cov_type,
                    cov_kwds=cov_kwds or None, n_jobs=_jobs(args.jobs),
                    progress=args.progress)
    boot = None
    if args.bootstrap:
        if args.bootstrap < 2:
            raise CLIError(f"--bootstrap needs at least 2 replicates, got {args.bootstrap}")
        boot = res.bootstrap(args.bootstrap, seed=args.seed, n_jobs=args.jobs,
                             progress=args.progress)
        res = res.get_robustcov_results("bootstrap", results=boot)
    return res, boot


def _jobs(n_jobs: int) -> int:
    if n_jobs == -1:
        return os.cpu_count() or 1
    if n_jobs < 1:
        raise CLIError(f"--jobs must be -1 or a whole number >= 1, got {n_jobs}")
    return n_jobs


def _cmd_demo(args) -> int:
    import mixlogit as mx

    df = mx.datasets.electricity.load()
    model = mx.MixedMultinomialLogit.from_formula(DEMO_FORMULA, df, groups="chid", panel="id",
                                                  k_classes=args.classes)
    res = model.fit(n_starts=args.starts, seed=args.seed, progress=False)
    print(res.summary())
    if args.output:
        _output_kind(args.output)
        for path in write_results(res, args.output):
            print(f"{PROG}: wrote {path}", file=sys.stderr)
    return 0


def _cmd_fit(args) -> int:
    if args.output:
        _output_kind(args.output)  # fail before a long fit, not after
    df = _read_data(args.data, args.sep)
    _check_columns(df, args)
    _check_choices(df, args)
    res, boot = _fit(df, args, args.classes)
    if not args.quiet:
        print(res.summary())
        if boot is not None:
            print()
            print(boot)
    if args.output:
        for path in write_results(res, args.output, bootstrap=boot):
            print(f"{PROG}: wrote {path}", file=sys.stderr)
    return 0


def _cmd_select(args) -> int:
    import pandas as pd

    import mixlogit as mx

    if args.output:
        _output_kind(args.output)
    df = _read_data(args.data, args.sep)
    _check_columns(df, args)
    _check_choices(df, args)
    selection = mx.select_classes(
        args.formula, df, groups=args.groups, panel=args.panel, k_classes=args.classes,
        n_starts=args.starts, seed=args.seed, invariant=args.invariant,
        membership=args.membership, weights=args.weights, availability=args.availability,
        progress=args.progress, n_jobs=_jobs(args.jobs), tol=args.tol, maxiter=args.maxiter)
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(selection)
    if args.output:
        table = selection.table
        try:
            if _output_kind(args.output) == "json":
                with open(args.output, "w", encoding="utf-8") as fh:
                    records = table.reset_index().to_dict(orient="records")
                    json.dump(_clean(records), fh, indent=2, allow_nan=False)
                    fh.write("\n")
            else:
                table.to_csv(args.output)
        except OSError as exc:
            raise CLIError(f"cannot write {args.output!r}: {exc.strerror}") from None
        print(f"{PROG}: wrote {args.output}", file=sys.stderr)
    return 0


def _cmd_datasets(args) -> int:
    import mixlogit.datasets as ds

    names = ds.list_datasets()
    if args.name is None:
        if args.output:
            raise CLIError("--output needs a data set NAME")
        width = max(map(len, names))
        for name in names:
            print(f"{name:<{width}}  {getattr(ds, name).DESCRIPTION}")
        return 0
    if args.name not in names:
        raise CLIError(f"no bundled data set {args.name!r}; choose from {names}")
    module = getattr(ds, args.name)
    if not args.output:
        print(module.DESCRIPTION)
        print()
        print("Columns:")
        for col, text in module.COLUMNS.items():
            print(f"  {col:<10} {text}")
        print()
        print("Citation:", module.CITATION)
        return 0
    df = module.load()
    try:
        df.to_csv(args.output, index=False)
    except OSError as exc:
        raise CLIError(f"cannot write {args.output!r}: {exc.strerror}") from None
    print(f"{PROG}: wrote {args.output} ({len(df)} rows)", file=sys.stderr)
    return 0


COMMANDS = {"demo": _cmd_demo, "fit": _cmd_fit, "select": _cmd_select,
            "datasets": _cmd_datasets}


def _error(message: str) -> int:
    print(f"{PROG}: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mixlogit`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a usage or input error (reported as
        one line ``mixlogit: error: ...`` on standard error).

    Examples
    --------
    >>> main(["fit", "no-such-file.csv", "--formula", "choice ~ price - 1",
    ...       "--groups", "chid", "--classes", "2"])
    2
    """
    import pandas as pd

    from .exceptions import MixlogitError, MixlogitWarning

    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except CLIError as exc:
        return _error(str(exc))
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    caught: list = []
    if args.traceback:
        return COMMANDS[args.command](args)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", MixlogitWarning)
            warnings.simplefilter("always", UserWarning)
            status = COMMANDS[args.command](args)
    except BrokenPipeError:  # e.g. `mixlogit demo | head`: the reader left; stop quietly
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except CLIError as exc:
        _report_warnings(caught)
        return _error(str(exc))
    except (MixlogitError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        _report_warnings(caught)
        return _error(_first_line(exc))
    except (KeyError, ValueError, TypeError, OSError) as exc:
        # anything else from bad input: still one line, never a traceback
        _report_warnings(caught)
        kind = type(exc).__name__
        return _error(f"{_first_line(exc)} ({kind})")
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130

    _report_warnings(caught)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
