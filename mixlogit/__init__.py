"""mixlogit: latent-class (finite mixture) multinomial logit models.

Fit finite mixtures of conditional logits by EM from warm starts, with
statsmodels-style results, standard errors, diagnostics and the bootstrap.

>>> import mixlogit as mx
>>> df = mx.datasets.electricity.load()
>>> model = mx.MixedMultinomialLogit.from_formula(
...     "choice ~ pf + cl + loc + wk + tod + seas - 1", df,
...     groups="chid", panel="id", k_classes=2)
>>> res = model.fit(n_starts=3, seed=0)
>>> print(res.summary())  # doctest: +SKIP

The public names load on first use (PEP 562 module ``__getattr__``), so that
``mixlogit --help`` and ``import mixlogit.exceptions`` stay fast; for type
checkers they are imported normally.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: public name -> the module that defines it (None: the name is a subpackage)
_EXPORTS: dict[str, str | None] = {
    "MixedMultinomialLogit": ".model",
    "MixedMultinomialLogitResults": ".results",
    "select_classes": ".model",
    "ClassSelection": ".selection",
    "BootstrapResults": ".bootstrap",
    "IdentifiabilityReport": ".diagnostics",
    "latent_moments": ".starts.moments",
    "mom_estimate": ".starts.moments",
    "long_from_wide": ".data",
    "datasets": None,
    **{name: ".exceptions" for name in (
        "MixlogitError", "SpecificationError", "DataError", "EstimationError",
        "MixlogitWarning", "ConvergenceWarning", "HessianInversionWarning",
        "EmptyClassWarning", "DroppedObservationsWarning", "StartsWarning",
        "IdentificationWarning", "WeightsWarning", "DuplicateRowsWarning")},
}

__all__ = list(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - what the lazy names are, for type checkers
    from . import datasets
    from .bootstrap import BootstrapResults
    from .data import long_from_wide
    from .diagnostics import IdentifiabilityReport
    from .exceptions import (
        ConvergenceWarning,
        DataError,
        DroppedObservationsWarning,
        DuplicateRowsWarning,
        EmptyClassWarning,
        EstimationError,
        HessianInversionWarning,
        IdentificationWarning,
        MixlogitError,
        MixlogitWarning,
        SpecificationError,
        StartsWarning,
        WeightsWarning,
    )
    from .model import MixedMultinomialLogit, select_classes
    from .results import MixedMultinomialLogitResults
    from .selection import ClassSelection
    from .starts.moments import latent_moments, mom_estimate


def __getattr__(name: str):
    """Import a public name on first use (start-up time, not an import cycle)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mixlogit' has no attribute {name!r}")
    where = _EXPORTS[name]
    module = importlib.import_module(f".{name}" if where is None else where, __name__)
    value = module if where is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
