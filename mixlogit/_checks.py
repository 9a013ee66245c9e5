"""Argument validation: one table of checks per public entry point.

Every public entry point (``fit``, ``from_formula``, ``from_counts``,
``predict``, ...) declares a table ``{argument name: validator}`` and calls
:func:`check_params` once, before any work; the check-free internals after it
trust their inputs. A failed check raises
:class:`~mixlogit.exceptions.SpecificationError` whose message names the entry
point, the argument, the value given and the fix.

The API (small on purpose):

``Validator``
    The protocol: ``validator(value, name, where) -> value`` returns the
    normalised value (``np.int64(3)`` becomes ``3``) or raises.
``whole_number(low=None, high=None)``
    An ``int`` or numpy integer within ``[low, high]``; bools, floats (even
    ``2.0``) and strings are refused.
``positive_number(high=None, allow_zero=False)``
    A real number > 0 (>= 0 with ``allow_zero``), numpy scalars included
    (``np.float32(1e-6)``), finite, optionally at most ``high``; returns a
    ``float``.
``n_jobs()``
    A whole number >= 1, or -1 for every core (0, -2, 2.5, ``"2"`` refused).
``seed()``
    None, a non-negative whole number or a ``numpy.random.Generator``.
``probability_level()``
    A float strictly between 0 and 1 (``alpha`` of confidence intervals).
``boolean()``
    ``True`` or ``False`` (numpy bools accepted; ``"no"``, 0, 1 refused).
``one_of(*choices)``
    One of the given values (strings compared exactly); the message lists them.
``optional(validator)``
    None, or what ``validator`` accepts.
``check_params(table, values, *, where)``
    Validate the dict ``values`` against ``table``; returns the normalised dict.
``check_keywords(given, valid, *, where)``
    Refuse keywords not in ``valid``: ``"fit() got an unexpected keyword
    'n_start'; did you mean 'n_starts'?"``, listing the valid ones.

Examples
--------
>>> from mixlogit import _checks as ck
>>> table = {"n_starts": ck.whole_number(low=1), "tol": ck.positive_number()}
>>> ck.check_params(table, {"n_starts": 5, "tol": 1e-8}, where="fit()")
{'n_starts': 5, 'tol': 1e-08}
>>> ck.check_params(table, {"n_starts": 2.5, "tol": 1e-8}, where="fit()")
Traceback (most recent call last):
...
mixlogit.exceptions.SpecificationError: fit(): n_starts must be a whole number >= 1, got 2.5; pass for example n_starts=1
"""
from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import numpy as np

from .exceptions import SpecificationError

__all__ = ["Validator", "whole_number", "positive_number", "n_jobs", "seed",
           "probability_level", "boolean", "one_of", "optional", "check_params",
           "check_keywords"]


class Validator(Protocol):
    """``validator(value, name, where) -> normalised value``; raises SpecificationError."""

    def __call__(self, value: Any, name: str, where: str) -> Any: ...


def _fail(where: str, name: str, value: Any, must: str, fix: str) -> SpecificationError:
    prefix = f"{where}: " if where else ""
    return SpecificationError(f"{prefix}{name} must be {must}, got {value!r}; {fix}")


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def whole_number(low: int | None = None, high: int | None = None) -> Validator:
    """A whole number (``int`` or numpy integer) within ``[low, high]``.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit._checks import whole_number
    >>> whole_number(low=1)(np.int64(3), "n_starts", "fit()")
    3
    """
    bounds = []
    if low is not None:
        bounds.append(f">= {low}")
    if high is not None:
        bounds.append(f"<= {high}")
    must = "a whole number" + (" " + " and ".join(bounds) if bounds else "")
    example = low if low is not None else (high if high is not None else 1)

    def check(value: Any, name: str, where: str) -> int:
        if not _is_int(value) or (low is not None and value < low) \
                or (high is not None and value > high):
            raise _fail(where, name, value, must, f"pass for example {name}={example}")
        return int(value)

    return check


def positive_number(high: float | None = None, allow_zero: bool = False) -> Validator:
    """A finite real number > 0 (or >= 0), numpy scalars included; returned as float.

    Examples
    --------
    >>> import numpy as np
    >>> from mixlogit._checks import positive_number
    >>> positive_number()(np.float32(0.5), "tol", "fit()")
    0.5
    """
    must = ("a non-negative" if allow_zero else "a positive") + " finite number"
    if high is not None:
        must += f" <= {high}"

    def check(value: Any, name: str, where: str) -> float:
        ok = _is_real(value) and np.isfinite(float(value))
        if ok:
            x = float(value)
            ok = (x >= 0 if allow_zero else x > 0) and (high is None or x <= high)
        if not ok:
            raise _fail(where, name, value, must, f"pass for example {name}=1e-8"
                        if high is None or high < 1 else f"pass for example {name}=1.0")
        return float(value)

    return check


def n_jobs() -> Validator:
    """A whole number >= 1 of parallel workers, or -1 for every core.

    Examples
    --------
    >>> from mixlogit._checks import n_jobs
    >>> n_jobs()(-1, "n_jobs", "fit()")
    -1
    """
    def check(value: Any, name: str, where: str) -> int:
        if not _is_int(value) or not (value >= 1 or value == -1):
            raise _fail(where, name, value, "a whole number >= 1, or -1 for every core",
                        f"pass for example {name}=2 or {name}=-1")
        return int(value)

    return check


def seed() -> Validator:
    """None, a non-negative whole number, or a ``numpy.random.Generator``.

    Examples
    --------
    >>> from mixlogit._checks import seed
    >>> seed()(0, "seed", "fit()")
    0
    """
    def check(value: Any, name: str, where: str) -> Any:
        if value is None or isinstance(value, np.random.Generator):
            return value
        if not _is_int(value) or value < 0:
            raise _fail(where, name, value,
                        "None, a non-negative whole number or a numpy.random.Generator",
                        f"pass for example {name}=0")
        return int(value)

    return check


def probability_level() -> Validator:
    """A number strictly between 0 and 1 (``alpha``); returned as float.

    Examples
    --------
    >>> from mixlogit._checks import probability_level
    >>> probability_level()(0.05, "alpha", "conf_int()")
    0.05
    """
    def check(value: Any, name: str, where: str) -> float:
        if not _is_real(value) or not 0.0 < float(value) < 1.0:
            raise _fail(where, name, value, "a number strictly between 0 and 1",
                        f"pass for example {name}=0.05")
        return float(value)

    return check


def boolean() -> Validator:
    """``True`` or ``False`` (numpy bools accepted); returned as bool.

    Examples
    --------
    >>> from mixlogit._checks import boolean
    >>> boolean()(True, "polish", "fit()")
    True
    """
    def check(value: Any, name: str, where: str) -> bool:
        if not isinstance(value, (bool, np.bool_)):
            raise _fail(where, name, value, "True or False", f"pass {name}=True or {name}=False")
        return bool(value)

    return check


def one_of(*choices: Any) -> Validator:
    """One of ``choices``.

    Examples
    --------
    >>> from mixlogit._checks import one_of
    >>> one_of("probability", "class")("class", "kind", "predict()")
    'class'
    """
    listed = ", ".join(repr(c) for c in choices)

    def check(value: Any, name: str, where: str) -> Any:
        try:
            ok = any((type(value) is type(c) or isinstance(c, str) and isinstance(value, str))
                     and value == c for c in choices)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            hint = ""
            if isinstance(value, str):
                close = difflib.get_close_matches(value, [str(c) for c in choices], n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _fail(where, name, value, f"one of {listed}", f"choose one of them{hint}")
        return value

    return check


def optional(validator: Validator) -> Validator:
    """None, or a value ``validator`` accepts.

    Examples
    --------
    >>> from mixlogit._checks import optional, boolean
    >>> optional(boolean())(None, "progress", "fit()") is None
    True
    """
    def check(value: Any, name: str, where: str) -> Any:
        if value is None:
            return None
        try:
            return validator(value, name, where)
        except SpecificationError as exc:
            raise SpecificationError(str(exc).replace(" must be ", " must be None or ", 1)) \
                from None

    return check


def check_params(table: Mapping[str, Validator | Callable[..., Any]], values: Mapping[str, Any],
                 *, where: str) -> dict[str, Any]:
    """Validate ``values`` against ``table`` once, at the entry point ``where``.

    Parameters
    ----------
    table : dict
        ``{argument name: validator}``; names missing from ``values`` are skipped.
    values : dict
        ``{argument name: value}``; names missing from ``table`` pass unchanged.
    where : str
        The entry point, for the messages (``"fit()"``).

    Returns
    -------
    dict
        ``values`` with each checked value normalised (numpy integers to int,
        numpy floats to float).

    Examples
    --------
    >>> from mixlogit import _checks as ck
    >>> ck.check_params({"n_jobs": ck.n_jobs()}, {"n_jobs": 2}, where="fit()")
    {'n_jobs': 2}
    """
    out = dict(values)
    for name, validator in table.items():
        if name in out:
            out[name] = validator(out[name], name, where)
    return out


def check_keywords(given: Iterable[str], valid: Iterable[str], *, where: str) -> None:
    """Refuse keywords that are not in ``valid``, suggesting the closest valid one.

    Examples
    --------
    >>> from mixlogit._checks import check_keywords
    >>> check_keywords(["n_start"], ["n_starts", "seed"], where="fit()")
    Traceback (most recent call last):
    ...
    mixlogit.exceptions.SpecificationError: fit() got an unexpected keyword 'n_start'; did you mean 'n_starts'? Valid keywords: n_starts, seed
    """
    valid = list(valid)
    for name in given:
        if name not in valid:
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "."
            raise SpecificationError(f"{where} got an unexpected keyword {name!r}{hint} "
                                     f"Valid keywords: {', '.join(sorted(valid))}")
