"""The mixture likelihood: one abstract interface, one implementation per data form.

* :mod:`~mixlogit.likelihood.base`: :class:`MixtureLikelihood`, the shared
  polish, line search and EM step template;
* :mod:`~mixlogit.likelihood.long`: :class:`LongLikelihood` (long-format panels);
* :mod:`~mixlogit.likelihood.counts`: :class:`CountsLikelihood` (one shared
  candidate set, counts);
* :mod:`~mixlogit.likelihood.estimate`: :func:`estimate`, the check-free pipeline.
"""
from .base import Evaluation, MixtureLikelihood, backtrack, newton_direction, relabel_evaluation
from .counts import CountsLikelihood
from .estimate import Estimate, estimate
from .long import LongLikelihood

__all__ = ["Evaluation", "MixtureLikelihood", "LongLikelihood", "CountsLikelihood",
           "Estimate", "estimate", "backtrack", "newton_direction", "relabel_evaluation"]
