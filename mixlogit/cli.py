"""The ``mixlogit`` command line.

Five subcommands, each with ``--help``:

``mixlogit demo``
    Fit three latent classes to the bundled electricity data and print the summary.
``mixlogit fit DATA.csv --formula ... --groups ... --classes K``
    Fit a latent-class logit to a long-format data file, print the summary, and
    optionally write the results (``--output``: ``.json``, ``.csv``, ``.tsv`` or
    ``.parquet``, see :mod:`mixlogit.io`), with willingness to pay (``--wtp PRICE``),
    and save the results object for ``predict`` (``--save results.pkl``).
``mixlogit select DATA.csv --formula ... --groups ... --classes 1-5``
    Fit a range of class counts and print the information-criteria table.
``mixlogit predict RESULTS.pkl SCENARIO.csv --output predictions.csv``
    Predicted choice probabilities (``--kind class``: per class) of every row
    of a scenario file, from results saved by ``mixlogit fit ... --save
    results.pkl`` or ``res.save(path)`` (see :mod:`mixlogit._cli_predict`).
``mixlogit datasets [NAME --output FILE]``
    List the bundled data sets, or write one to a file.

The command line parses options and reads files; everything about the data and
the model is checked by the library, whose errors (a missing column, a
situation without a chosen alternative, a choice coded 1/2, ``--classes`` above
the number of decision makers) end with one line on standard error,
``mixlogit: error: <message>``, and exit status 2; never a traceback. Warnings
of the estimator are printed after the summary as ``mixlogit: warning: <message>``.

Imports: this module imports only the standard library at the top; numpy,
pandas and the rest of mixlogit are imported inside the command functions.
That is for start-up time (``mixlogit --help`` must not load the numerical
stack), not to dodge an import cycle. :func:`results_to_dict` and
:func:`write_results` live in :mod:`mixlogit.io` and are re-exported here
lazily.

The same entry point is callable from Python, which is how the tests drive it:

>>> from mixlogit.cli import main
>>> main(["datasets"])  # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
electricity  Stated-preference choice among four electricity suppliers: ...
...
0
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._cli_io import (
    PROG,
    CLIError,
    check_output,
    first_line,
    read_data,
    report_written,
    write_or_fail,
)
from ._cli_predict import add_predict_parser, cmd_predict

if TYPE_CHECKING:  # imported lazily by the module __getattr__ below
    from .io import results_to_dict, write_results

__all__ = ["main", "build_parser", "parse_classes", "results_to_dict", "write_results",
           "CLIError"]

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
errors, covariance matrix, class shares, posteriors, the start report, and WTP
with --wtp PRICE) as one JSON document; --output FILE.csv (or .tsv, or .parquet
when pyarrow is installed) writes the parameter table to FILE.csv and the other
tables beside it: FILE.shares.csv, FILE.posteriors.csv, FILE.covariance.csv,
FILE.starts.csv and FILE.wtp.csv.
"""

EPILOG_SELECT = """\
examples:
  mixlogit select electricity.csv --formula "choice ~ pf + cl + loc + wk + tod + seas - 1" \\
      --groups chid --panel id --classes 1-5 --starts 5 --seed 0
  mixlogit select electricity.csv --formula "choice ~ pf + cl + loc + wk + tod + seas - 1" \\
      --groups chid --panel id --classes 1-4 --cv 5 --output selection.csv

--classes takes a range (1-5), a list (1,2,4) or one number N meaning 1..N.
"""


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
_replicates = _number(int, lambda v: v == 0 or v >= 2, "0 (off) or a whole number >= 2")
_cv_folds = _number(int, lambda v: v >= 2, "a whole number of folds >= 2")
_jobs = _number(int, lambda v: v == -1 or v >= 1, "-1 (every core) or a whole number >= 1")


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
                   help="column with weights of decision makers (see --weights-kind)")
    p.add_argument("--weights-kind", choices=["frequency", "sampling"], default=None,
                   help="what --weights are: 'frequency' (whole numbers, a decision maker "
                        "counted w times) or 'sampling' (survey weights, rescaled to mean 1); "
                        "default: frequency if all are whole numbers, else sampling")
    p.add_argument("--alternatives", metavar="COLUMN",
                   help="column with the alternative id: a situation that lists an "
                        "alternative twice is refused (without it, copied rows only warn)")
    p.add_argument("--starts", type=_positive_int, default=10, metavar="N",
                   help="number of EM starts (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--maxiter", type=_positive_int, default=1000, metavar="N",
                   help="maximum EM iterations per start (default 1000)")
    p.add_argument("--tol", type=_positive_float, default=1e-8,
                   help="relative log-likelihood change that stops EM (default 1e-8)")
    p.add_argument("--jobs", "-j", type=_jobs, default=1, metavar="N",
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

    _add_demo_parser(sub)
    _add_fit_parser(sub)
    _add_select_parser(sub)
    add_predict_parser(sub)
    _add_datasets_parser(sub)
    return parser


def _add_demo_parser(sub) -> None:
    """The ``demo`` subcommand."""
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
                      help="also write the results to FILE (.json, .csv, .tsv or .parquet)")
    demo.add_argument("--save", metavar="FILE",
                      help="save the results object to FILE for 'mixlogit predict'")


def _add_fit_parser(sub) -> None:
    """The ``fit`` subcommand."""
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
    fit.add_argument("--fixed", action="append", type=_fixed_value, default=[],
                     metavar="NAME=VALUE",
                     help="hold a parameter at a value, e.g. 'class2:time=0' (repeatable)")
    fit.add_argument("--cov-type", default="oim", choices=["oim", "opg", "robust", "cluster"],
                     help="standard errors: observed information (default), outer product of "
                          "gradients, robust (sandwich by decision maker) or cluster")
    fit.add_argument("--cluster", metavar="COLUMN",
                     help="column of clusters (nesting decision makers) for --cov-type cluster")
    fit.add_argument("--bootstrap", type=_replicates, default=0, metavar="N",
                     help="bootstrap standard errors from N replicates resampling decision "
                          "makers (label-aligned); 0 = off (default)")
    fit.add_argument("--output", "-o", metavar="FILE",
                     help="write the results to FILE.json, FILE.csv, FILE.tsv or FILE.parquet "
                          "(see below)")
    fit.add_argument("--wtp", metavar="PRICE",
                     help="willingness to pay with PRICE as the price attribute: printed after "
                          "the summary and written to --output")
    fit.add_argument("--save", metavar="FILE",
                     help="save the results object to FILE (a Python pickle, as res.save()) "
                          "for 'mixlogit predict FILE SCENARIO.csv' or "
                          "MixedMultinomialLogitResults.load(FILE)")
    fit.add_argument("--quiet", "-q", action="store_true",
                     help="do not print the summary (only errors and warnings)")


def _add_select_parser(sub) -> None:
    """The ``select`` subcommand."""
    sel = sub.add_parser(
        "select", help="fit a range of class counts and print the information-criteria table",
        description="Fit the model for each number of classes and print log-likelihood, "
                    "AIC, BIC, CAIC and related criteria for choosing K.",
        epilog=EPILOG_SELECT, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_model_arguments(sel, classes_help="class counts to compare: N (1..N), A-B or a list "
                                           "1,2,4", classes_type=parse_classes)
    sel.add_argument("--output", "-o", metavar="FILE",
                     help="write the table to FILE.csv, .tsv, .json or .parquet")
    sel.add_argument("--cv", type=_cv_folds, default=None, metavar="FOLDS",
                     help="also choose K by FOLDS-fold cross-validation over decision makers "
                          "(adds the columns cv_loglike and cv_se; costs FOLDS more fits per K)")


def _add_datasets_parser(sub) -> None:
    """The ``datasets`` subcommand."""
    ds = sub.add_parser(
        "datasets", help="list the bundled data sets, or write one to a file",
        description="Without NAME, list the bundled data sets. With NAME, print its description "
                    "and citation, or write it (long format) to --output.")
    ds.add_argument("name", nargs="?", metavar="NAME", help="a bundled data set")
    ds.add_argument("--output", "-o", metavar="FILE",
                    help="write the data set to FILE (.csv, .tsv, .json or .parquet)")


def __getattr__(name: str):
    """``results_to_dict`` and ``write_results`` of :mod:`mixlogit.io`, imported on first use."""
    if name in ("results_to_dict", "write_results"):
        from . import io

        return getattr(io, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _data_options(args) -> dict:
    """The data keywords of ``from_formula`` that the user set (--alternatives, --weights-kind)."""
    return {key: getattr(args, key) for key in ("alternatives", "weights_kind")
            if getattr(args, key, None) is not None}


def _build_model(df, args, k_classes: int):
    import mixlogit as mx

    extra = _data_options(args)
    return mx.MixedMultinomialLogit.from_formula(
        args.formula, df, groups=args.groups, panel=args.panel, k_classes=k_classes,
        invariant=args.invariant, membership=args.membership, weights=args.weights,
        availability=args.availability, **extra)


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
    cov_kwds = {"groups": args.cluster} if args.cov_type == "cluster" else None
    model = _build_model(df, args, k_classes)
    res = model.fit(n_starts=args.starts, seed=args.seed, start=args.start, fixed=fixed,
                    maxiter=args.maxiter, tol=args.tol, cov_type=args.cov_type,
                    cov_kwds=cov_kwds, n_jobs=args.jobs, progress=args.progress)
    boot = None
    if args.bootstrap:
        boot = res.bootstrap(args.bootstrap, seed=args.seed, n_jobs=args.jobs,
                             progress=args.progress)
        res = res.get_robustcov_results("bootstrap", results=boot)
    return res, boot


def _cmd_demo(args) -> int:
    import mixlogit as mx

    from .io import write_results

    check_output(args.output)
    _check_save(args.save)
    df = mx.datasets.electricity.load()
    model = mx.MixedMultinomialLogit.from_formula(DEMO_FORMULA, df, groups="chid", panel="id",
                                                  k_classes=args.classes)
    res = model.fit(n_starts=args.starts, seed=args.seed, progress=False)
    print(res.summary())
    if args.output:
        report_written(write_or_fail(
            lambda: write_results(res, args.output, argument="--output"), args.output))
    _save(res, args.save)
    return 0


def _cmd_fit(args) -> int:
    import pandas as pd

    from .io import write_results

    check_output(args.output)
    _check_save(args.save)
    if args.cov_type == "cluster" and not args.cluster:
        raise CLIError("--cov-type cluster needs --cluster COLUMN")
    if args.cluster and args.cov_type != "cluster":
        raise CLIError("--cluster is only used with --cov-type cluster")
    df = read_data(args.data, args.sep)
    res, boot = _fit(df, args, args.classes)
    wtp = res.wtp(args.wtp) if args.wtp else None
    if not args.quiet:
        print(res.summary())
        if boot is not None:
            print()
            print(boot)
        if wtp is not None:
            print()
            print(f"Willingness to pay (price: {args.wtp})")
            with pd.option_context("display.width", 200, "display.max_columns", 20,
                                   "display.float_format", "{:.4f}".format):
                print(wtp)
    if args.output:
        report_written(write_or_fail(lambda: write_results(
            res, args.output, bootstrap=boot, wtp_price=args.wtp, argument="--output"),
            args.output))
    _save(res, args.save)
    return 0


def _save(res, path: str | None) -> None:
    """``res.save(path)`` for --save (the pickle ``mixlogit predict`` reads)."""
    if not path:
        return

    def write() -> list[str]:
        res.save(path)
        return [path]

    report_written(write_or_fail(write, path))


def _check_save(path: str | None) -> None:
    """Refuse a --save file whose folder is missing, before a long fit."""
    if path:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise CLIError(f"cannot write --save {path!r}: no folder {folder!r}")
        if os.path.isdir(path):
            raise CLIError(f"cannot write --save {path!r}: it is a directory")


def _cmd_select(args) -> int:
    import functools

    import pandas as pd

    import mixlogit as mx

    from .io import write_table

    check_output(args.output)
    df = read_data(args.data, args.sep)
    selection = mx.select_classes(
        args.formula, df, groups=args.groups, panel=args.panel, k_classes=args.classes,
        n_starts=args.starts, seed=args.seed, invariant=args.invariant,
        membership=args.membership, weights=args.weights, availability=args.availability,
        progress=args.progress, n_jobs=args.jobs, tol=args.tol, maxiter=args.maxiter, cv=args.cv,
        builder=functools.partial(mx.MixedMultinomialLogit.from_formula, **_data_options(args)))
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(selection)
    if args.output:
        table = selection.table.reset_index()
        report_written(write_or_fail(lambda: [write_table(table, args.output, argument="--output")],
                               args.output))
    return 0


def _cmd_datasets(args) -> int:
    import mixlogit.datasets as ds

    from .io import write_table

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
    check_output(args.output)
    df = module.load()
    write_or_fail(lambda: write_table(df, args.output, argument="--output"), args.output)
    print(f"{PROG}: wrote {args.output} ({len(df)} rows)", file=sys.stderr)
    return 0


COMMANDS = {"demo": _cmd_demo, "fit": _cmd_fit, "select": _cmd_select,
            "predict": cmd_predict, "datasets": _cmd_datasets}


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
    import pandas as pd  # after parsing: --help and --version stay fast

    from .exceptions import MixlogitError, MixlogitWarning

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
        return _error(first_line(exc))
    except (KeyError, ValueError, TypeError, OSError) as exc:
        # anything else from bad input: still one line, never a traceback
        _report_warnings(caught)
        kind = type(exc).__name__
        return _error(f"{first_line(exc)} ({kind})")
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130

    _report_warnings(caught)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
