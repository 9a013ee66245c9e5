"""Labels for the results object, the way statsmodels' results wrappers attach them.

statsmodels keeps plain ndarrays in a results object and hands labelled pandas
objects to the user through a *results wrapper*:
:class:`statsmodels.base.model.LikelihoodResultsWrapper` looks every attribute
up on the wrapped object and labels the ones it lists. Its labels come from
``model.data``, which for our long-format models is a plain ``ModelData`` (the
design rows are not the parameters), so
:class:`MixedMultinomialLogitResultsWrapper` labels with the results' own
parameter names instead. The unwrapped object (``res._results``) holds
ndarrays, so statsmodels' inherited methods (``t_test``, ``wald_test``,
``f_test``, ``remove_data``...) run on it unchanged.

``normalized_cov_params`` stays an ndarray (post-estimation code computes
with it); the labelled covariance is ``res.cov_params()``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.base.model import LikelihoodResultsWrapper

__all__ = ["MixedMultinomialLogitResultsWrapper", "label", "unwrap"]


def label(obj: Any, how: str, names: list[str], name: str | None = None) -> Any:
    """Attach parameter names to an ndarray whose shape matches them (else return it as is).

    ``how`` is ``"columns"`` (a vector: Series; a matrix with one row per
    parameter: DataFrame), ``"cov"`` (a d x d matrix, both ways) or ``"ci"``
    (d x 2: columns ``lower`` and ``upper``).
    """
    if not isinstance(obj, np.ndarray):
        return obj
    d = len(names)
    if how == "cov" and obj.shape == (d, d):
        return pd.DataFrame(obj, index=names, columns=names)
    if how == "ci" and obj.shape == (d, 2):
        return pd.DataFrame(obj, index=names, columns=["lower", "upper"])
    if how == "columns" and obj.ndim == 1 and len(obj) == d:
        return pd.Series(obj, index=names, name=name)
    if how == "columns" and obj.ndim == 2 and obj.shape[0] == d:
        return pd.DataFrame(obj, index=names)
    return obj


def unwrap(results: Any) -> Any:
    """The results object inside a wrapper (or ``results`` itself when it is not wrapped)."""
    if isinstance(results, MixedMultinomialLogitResultsWrapper):
        return object.__getattribute__(results, "_results")
    return results


def _labelled_method(method: str, how: str) -> Callable:
    def call(self, *args, **kwargs):
        results = object.__getattribute__(self, "_results")
        return label(getattr(results, method)(*args, **kwargs), how, results.param_names)

    call.__name__ = method
    call.__doc__ = (f"Labelled :meth:`MixedMultinomialLogitResults.{method}` (see the wrapped "
                    "results' documentation).")
    return call


class MixedMultinomialLogitResultsWrapper(LikelihoodResultsWrapper):
    """What ``fit`` returns: the results object, with its estimates labelled.

    Attribute access goes to the wrapped
    :class:`~mixlogit.results.MixedMultinomialLogitResults` (``_results``);
    ``params``, ``bse``, ``tvalues``, ``pvalues``, ``cov_params()`` and
    ``conf_int()`` come back as pandas objects indexed by the parameter names.
    """

    _wrap_attrs = {"params": "columns", "bse": "columns", "tvalues": "columns",
                   "pvalues": "columns"}
    _wrap_methods = {"cov_params": "cov", "conf_int": "ci"}

    def __getattribute__(self, attr: str) -> Any:
        get = object.__getattribute__
        try:
            return get(self, attr)
        except AttributeError:
            pass
        results = get(self, "_results")
        obj = getattr(results, attr)
        how = get(self, "_wrap_attrs").get(attr)
        if how:
            obj = label(obj, how, results.param_names, name=attr)
        return obj

    def __repr__(self) -> str:
        return repr(object.__getattribute__(self, "_results"))

    def save(self, fname, remove_data: bool = False) -> None:
        """Save the results; see :meth:`MixedMultinomialLogitResults.save`."""
        object.__getattribute__(self, "_results").save(fname, remove_data=remove_data)

    def remove_data(self) -> None:
        """Drop the data; see :meth:`MixedMultinomialLogitResults.remove_data`."""
        object.__getattribute__(self, "_results").remove_data()

    def __reduce__(self):
        return (type(self), (object.__getattribute__(self, "_results"),))


for _method, _how in MixedMultinomialLogitResultsWrapper._wrap_methods.items():
    setattr(MixedMultinomialLogitResultsWrapper, _method, _labelled_method(_method, _how))

