"""Results of a fit: the results class, its public fit state, tables, post-estimation, plots."""
from .results import MixedMultinomialLogitResults
from .state import FitState

__all__ = ["MixedMultinomialLogitResults", "FitState"]
