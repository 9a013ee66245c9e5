"""Files in and out for the command line: reading data files, checking and writing outputs.

Only the standard library at the top (the command line's start-up time); pandas
and :mod:`mixlogit.io` are imported inside the functions. Shared by
:mod:`mixlogit.cli` and :mod:`mixlogit._cli_predict`.
"""
from __future__ import annotations

import os
import sys
import warnings

__all__ = ["PROG", "CLIError", "read_data", "first_line", "check_output", "write_or_fail",
           "report_written"]

PROG = "mixlogit"


class CLIError(Exception):
    """A user error reported as one line, ``mixlogit: error: <message>``, exit status 2."""



def read_data(path: str, sep: str | None = None):
    """The data file as a DataFrame; unreadable files and malformed rows are CLIErrors."""
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
            df = pd.read_parquet(path)
        elif lower.endswith(".feather"):
            df = pd.read_feather(path)
        else:
            if sep is None:
                sep = "\t" if lower.endswith((".tsv", ".tab")) else ","
            with warnings.catch_warnings():
                # a row with more fields than the header: an error, never a shifted table
                warnings.simplefilter("error", pd.errors.ParserWarning)
                df = pd.read_csv(path, sep=sep, index_col=False, on_bad_lines="error")
    except pd.errors.EmptyDataError:
        raise CLIError(f"cannot read {path!r}: the file is empty") from None
    except (pd.errors.ParserWarning, pd.errors.ParserError) as exc:
        where = _extra_fields(path, sep) if sep else None
        raise CLIError(f"cannot parse {path!r}: {where or first_line(exc)}") from None
    except UnicodeDecodeError as exc:
        raise CLIError(f"cannot read {path!r}: not a text file ({exc.reason})") from None
    except ImportError as exc:
        raise CLIError(f"cannot read {path!r}: {first_line(exc)}") from None
    if len(df) == 0:
        raise CLIError(f"{path!r} has no rows (only a header with columns "
                       f"{', '.join(map(str, df.columns[:10]))})")
    return df


def _extra_fields(path: str, sep: str) -> str | None:
    """Where a row has more fields than the header (for the error message), if one does."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = csv.reader(fh, delimiter=sep)
            width = len(next(rows))
            for line, row in enumerate(rows, start=2):
                if len(row) > width:
                    return (f"line {line} has {len(row)} fields but the header has {width}; "
                            "fix the row (a stray separator?) or quote the field")
    except (OSError, UnicodeDecodeError, csv.Error, StopIteration):
        pass
    return None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()


def check_output(path: str | None) -> None:
    """Refuse an output format before a long fit, not after it."""
    if path:
        from .io import output_format

        output_format(path, argument="--output")


def write_or_fail(writer, path: str) -> list[str]:
    try:
        return writer()
    except OSError as exc:
        raise CLIError(f"cannot write {path!r}: {exc.strerror or first_line(exc)}") from None


def report_written(files: list[str]) -> None:
    for path in files:
        print(f"{PROG}: wrote {path}", file=sys.stderr)
