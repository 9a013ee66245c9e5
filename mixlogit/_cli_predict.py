"""The ``mixlogit predict`` subcommand: choice probabilities of a scenario file.

``mixlogit predict RESULTS.pkl SCENARIO.csv --output predictions.csv`` loads
results saved by ``res.save(path)`` (or ``mixlogit fit ... --save results.pkl``),
rebuilds the model's design for the scenario's rows through the formula, and
writes the scenario's rows with the predicted probabilities beside them: the
mixture probability ``probability`` (``--kind probability``, the default) or
one column per class (``--kind class``). The numbers are those of
``res.predict(scenario, kind=...)`` in Python.

Only the standard library at the top (the command line's start-up time).
"""
from __future__ import annotations

import argparse
import sys

from ._cli_io import CLIError, check_output, read_data, report_written, write_or_fail

__all__ = ["add_predict_parser", "cmd_predict"]

EPILOG_PREDICT = """\
examples:
  mixlogit fit electricity.csv --formula "choice ~ pf + cl + loc + wk + tod + seas - 1" \\
      --groups chid --panel id --classes 3 --save results.pkl
  mixlogit predict results.pkl scenario.csv --output predictions.csv
  mixlogit predict results.pkl scenario.csv --kind class --output by_class.csv

SCENARIO is a long-format table like the estimation data: one row per (choice
situation, alternative) with the formula's columns, the situation id (the
model's --groups column), the availability column if the model used one, and
the membership covariates if it has any; the choice column is not needed. For
a model fitted with MixedMultinomialLogit.from_counts, SCENARIO holds one row
per candidate with the feature columns.

The output holds the scenario's columns followed by the predictions; without
--output it is printed as CSV. Only load results files you trust (they are
Python pickles).
"""


def add_predict_parser(sub) -> argparse.ArgumentParser:
    """Add ``predict`` to the subcommands ``sub``; returns its parser."""
    p = sub.add_parser(
        "predict", help="predicted choice probabilities of a scenario file from saved results",
        description="Load results saved with 'mixlogit fit --save' (or res.save() in Python) "
                    "and write the predicted choice probabilities of every row of a scenario "
                    "file.",
        epilog=EPILOG_PREDICT, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", metavar="RESULTS",
                   help="results file written by 'mixlogit fit --save FILE' or res.save(FILE)")
    p.add_argument("scenario", metavar="SCENARIO",
                   help="scenario data file (.csv, .tsv, .parquet, .feather; .csv may be "
                        "compressed)")
    p.add_argument("--kind", choices=["probability", "class"], default="probability",
                   help="'probability': the mixture probability of each row (default); "
                        "'class': one column of probabilities per class")
    p.add_argument("--output", "-o", metavar="FILE",
                   help="write the predictions to FILE (.csv, .tsv, .json or .parquet); "
                        "default: CSV on standard output")
    p.add_argument("--sep", default=None, metavar="CHAR",
                   help="field separator of a text scenario file (default: ',' for .csv, tab "
                        "for .tsv)")
    return p


def _load_results(path: str):
    import os

    import mixlogit as mx

    if not os.path.exists(path):
        raise CLIError(f"cannot read {path!r}: no such file")
    if os.path.isdir(path):
        raise CLIError(f"cannot read {path!r}: it is a directory")
    try:
        return mx.MixedMultinomialLogitResults.load(path)
    except mx.DataError as exc:
        raise CLIError(f"RESULTS {path!r} is not a mixlogit results file: "
                       f"{' '.join(str(exc).split())}; write one with "
                       "'mixlogit fit ... --save FILE' or res.save(FILE)") from None
    except (AttributeError, ImportError, ModuleNotFoundError, TypeError) as exc:
        raise CLIError(f"RESULTS {path!r} cannot be loaded by this mixlogit ({exc}); refit and "
                       "save it with this version") from None


def _predictions(res, scenario, kind: str, path: str):
    """The predictions as a DataFrame aligned with the scenario's rows."""
    import pandas as pd

    from .exceptions import MixlogitError

    form = res.fit_state.likelihood.form
    if form == "counts":
        names = list(res.fit_state.likelihood.layout.exog_names)
        missing = [c for c in names if c not in scenario.columns]
        if missing:
            raise CLIError(f"SCENARIO lacks the feature columns {missing} of the counts model "
                           f"(it needs {names})")
        try:
            pred = res.predict(scenario[names].to_numpy(float), kind=kind)
        except (MixlogitError, ValueError) as exc:
            raise CLIError(f"SCENARIO {path!r}: {' '.join(str(exc).split())}") from None
    else:
        if getattr(res.model, "formula_spec", None) is None:
            raise CLIError("RESULTS were fitted from arrays (no formula), so a scenario file "
                           "cannot be turned into their design; fit with a formula "
                           "(mixlogit fit, or MixedMultinomialLogit.from_formula) and save that")
        try:
            pred = res.predict(scenario, kind=kind)
        except MixlogitError as exc:
            message = " ".join(str(exc).split()).removeprefix("newdata: ")
            raise CLIError(f"SCENARIO {path!r}: {message}") from None
    frame = pred.to_frame() if isinstance(pred, pd.Series) else pd.DataFrame(pred)
    if len(frame) != len(scenario):  # pragma: no cover - predict keeps every row
        raise CLIError(f"the model predicted {len(frame)} rows for {len(scenario)} scenario rows")
    frame.index = scenario.index
    return frame.rename(columns=lambda c: f"predicted_{c}" if c in scenario.columns else c)


def cmd_predict(args) -> int:
    """Run ``mixlogit predict``; exit status 0."""
    import pandas as pd

    from .io import write_table

    check_output(args.output)
    res = _load_results(args.results)
    scenario = read_data(args.scenario, args.sep).reset_index(drop=True)
    frame = _predictions(res, scenario, args.kind, args.scenario)
    table = pd.concat([scenario, frame], axis=1)
    if args.output:
        report_written(write_or_fail(
            lambda: [write_table(table, args.output, argument="--output")], args.output))
    else:
        table.to_csv(sys.stdout, index=False)
    return 0
