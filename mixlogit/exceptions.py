"""Errors and warnings raised by mixlogit.

Every error derives from :class:`MixlogitError` and every warning from
:class:`MixlogitWarning`, so a user can catch or filter everything the package
raises with one class. :class:`ConvergenceWarning` and
:class:`HessianInversionWarning` also derive from statsmodels' classes of the
same name, so statsmodels filters catch them too.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import warnings
from types import FrameType

from statsmodels.tools import sm_exceptions as _sm

__all__ = [
    "MixlogitError",
    "SpecificationError",
    "DataError",
    "EstimationError",
    "MixlogitWarning",
    "DroppedObservationsWarning",
    "ConvergenceWarning",
    "HessianInversionWarning",
    "EmptyClassWarning",
    "StartsWarning",
    "IdentificationWarning",
    "WeightsWarning",
    "DuplicateRowsWarning",
    "warn",
    "collected_warnings",
]


class MixlogitError(Exception):
    """Root of every error raised by mixlogit."""


class SpecificationError(MixlogitError, ValueError):
    """The model specification (formula, options, parameters) is invalid."""


class DataError(MixlogitError, ValueError):
    """The data cannot be used as given (choices, ids, values)."""


class EstimationError(MixlogitError, RuntimeError):
    """Estimation could not proceed (for example every start failed)."""


class MixlogitWarning(UserWarning):
    """Root of every warning issued by mixlogit."""


class DroppedObservationsWarning(MixlogitWarning):
    """Whole choice situations or decision makers were dropped (missing values)."""


class ConvergenceWarning(MixlogitWarning, _sm.ConvergenceWarning):
    """The estimator stopped before meeting its convergence criterion."""


class HessianInversionWarning(MixlogitWarning, _sm.HessianInversionWarning):
    """The observed information is singular or not positive definite."""


class EmptyClassWarning(MixlogitWarning):
    """A latent class lost (almost) all its members during estimation."""


class StartsWarning(MixlogitWarning):
    """The best optimum was reached by a single start only: it may not be global."""


class IdentificationWarning(MixlogitWarning):
    """A diagnostic suggests the model is weakly or not identified."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _external_stacklevel() -> int:
    """Stack level of the first frame outside the mixlogit package."""
    import sys

    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


#: where :func:`warn` sends warnings instead of emitting them (see :func:`collected_warnings`)
_COLLECTOR: contextvars.ContextVar[list | None] = contextvars.ContextVar("mixlogit_collector",
                                                                         default=None)


def warn(message: str, category: type[Warning] = MixlogitWarning) -> None:
    """Issue ``message`` pointing at the user's line, not at mixlogit's internals.

    Inside :func:`collected_warnings` the warning is recorded instead.
    """
    collector = _COLLECTOR.get()
    if collector is not None:
        collector.append((message, category))
        return
    warnings.warn(message, category, stacklevel=_external_stacklevel())


@contextlib.contextmanager
def collected_warnings():
    """Record mixlogit's warnings as ``(message, category)`` pairs instead of emitting them.

    Unlike :class:`warnings.catch_warnings` it changes no process-global state:
    the record is per thread (a context variable), so work running in worker
    threads (a Dask worker, a thread pool) can collect its warnings and hand them
    to the caller, who re-emits them once.

    Examples
    --------
    >>> from mixlogit.exceptions import collected_warnings, warn
    >>> with collected_warnings() as record:
    ...     warn("something to report")
    >>> record[0][0]
    'something to report'
    """
    record: list = []
    token = _COLLECTOR.set(record)
    try:
        yield record
    finally:
        _COLLECTOR.reset(token)


class WeightsWarning(MixlogitWarning):
    """The weights were read as another kind than given, or do not fit the kind given.

    Non-integer weights without ``weights_kind`` are taken as sampling weights
    (rescaled to mean 1 over the decision makers, robust standard errors by
    default); ``weights_kind="frequency"`` with non-integer values is kept but
    warned about.
    """


class DuplicateRowsWarning(MixlogitWarning):
    """A choice situation holds identical rows (no alternative id to tell them apart)."""
