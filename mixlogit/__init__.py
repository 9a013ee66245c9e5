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
"""
from . import datasets
from .data import long_from_wide
from .exceptions import (ConvergenceWarning, DataError, DroppedObservationsWarning,
                         EmptyClassWarning, EstimationError, HessianInversionWarning,
                         IdentificationWarning, MixlogitError, MixlogitWarning, SpecificationError,
                         StartsWarning)
from .model import MixedMultinomialLogit, select_classes
from .starts.moments import latent_moments, mom_estimate
from .results import MixedMultinomialLogitResults
from .bootstrap import BootstrapResults
from .diagnostics import IdentifiabilityReport
from .selection import ClassSelection

__version__ = "0.1.0"

__all__ = [
    "MixedMultinomialLogit",
    "MixedMultinomialLogitResults",
    "select_classes",
    "ClassSelection",
    "BootstrapResults",
    "IdentifiabilityReport",
    "latent_moments",
    "mom_estimate",
    "datasets",
    "long_from_wide",
    "MixlogitError",
    "SpecificationError",
    "DataError",
    "EstimationError",
    "MixlogitWarning",
    "ConvergenceWarning",
    "HessianInversionWarning",
    "EmptyClassWarning",
    "DroppedObservationsWarning",
    "StartsWarning",
    "IdentificationWarning",
]
