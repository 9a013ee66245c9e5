"""The statsmodels likelihood methods of the mixture models (private).

:class:`LikelihoodMethods` gives :class:`~mixlogit.MixedMultinomialLogit`
(and so the counts model) statsmodels' ``loglike``, ``loglikeobs``,
``score``, ``score_obs``, ``hessian`` and ``information``, each a thin call of
the model's :meth:`~mixlogit.MixedMultinomialLogit.likelihood`; it lives here
to keep ``model.py`` about construction and fitting.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .likelihood import MixtureLikelihood

__all__ = ["LikelihoodMethods"]


def _present(value: np.ndarray | None) -> np.ndarray:
    """A derivative the requested order always computes."""
    assert value is not None
    return value


class LikelihoodMethods:
    """Mixin: the statsmodels likelihood interface over ``self.likelihood()``."""

    #: provided by the model class
    choice_data: Any
    likelihood: Callable[..., MixtureLikelihood]

    def loglike(self, params) -> float:
        """Log-likelihood ``sum_n w_n log sum_k pi_nk L_nk``.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> params = np.zeros(len(model.param_names))
        >>> bool(np.isclose(model.loglike(params), 500 * np.log(1 / 3)))  # every alternative equally likely
        True
        """
        return self.likelihood().evaluate(params).llf

    def loglikeobs(self, params) -> np.ndarray:
        """Weighted log-likelihood contribution of each decision maker, shape (N,).

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> params = np.zeros(len(model.param_names))
        >>> model.loglikeobs(params).shape
        (100,)
        """
        ev = self.likelihood().evaluate(params)
        return self.choice_data.weights * ev.loglike_obs

    def score(self, params) -> np.ndarray:
        """Analytic gradient of :meth:`loglike`.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> params = np.full(len(model.param_names), 0.3)
        >>> step = np.zeros_like(params)
        >>> step[0] = 1e-6
        >>> numeric = (model.loglike(params + step) - model.loglike(params - step)) / 2e-6
        >>> bool(np.isclose(model.score(params)[0], numeric, atol=1e-5))
        True
        """
        return _present(self.likelihood().evaluate(params, order=1).score)

    def score_obs(self, params) -> np.ndarray:
        """Weighted score of each decision maker, shape (N, n_params); sums to :meth:`score`.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> params = np.full(len(model.param_names), 0.3)
        >>> bool(np.allclose(model.score_obs(params).sum(axis=0), model.score(params)))
        True
        """
        ev = self.likelihood().evaluate(params, order=1)
        return _present(ev.score_obs) * self.choice_data.weights[:, None]

    def hessian(self, params) -> np.ndarray:
        """Analytic Hessian of :meth:`loglike`.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> H = model.hessian(np.full(len(model.param_names), 0.3))
        >>> H.shape, bool(np.allclose(H, H.T))
        ((5, 5), True)
        """
        return _present(self.likelihood().evaluate(params, order=2).hessian)

    def information(self, params) -> np.ndarray:
        """Observed information, minus the Hessian.

        Examples
        --------
        >>> import numpy as np
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2)
        >>> params = np.full(len(model.param_names), 0.3)
        >>> bool(np.allclose(model.information(params), -model.hessian(params)))
        True
        """
        return -self.hessian(params)
