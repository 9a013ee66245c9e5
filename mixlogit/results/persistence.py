"""Saving, loading and slimming results: atomic pickles and ``remove_data``.

``save`` pickles to a temporary file in the destination folder and renames it
into place with :func:`os.replace`, so an interrupted or failed save never
leaves a truncated file where the previous one was. ``load`` reads it back.

``remove_data`` drops what grows with the data (see
:meth:`mixlogit.MixedMultinomialLogitResults.remove_data` for what keeps
working afterwards).
"""
from __future__ import annotations

import dataclasses
import os
import pickle
import tempfile
from collections.abc import Callable
from typing import IO, Any, cast

from ..exceptions import DataError
from .wrapper import unwrap

__all__ = ["PersistenceMixin", "save_atomic", "load_pickle", "strip_model", "strip_evaluation"]

#: model attributes that hold the data (all of them grow with the number of rows)
MODEL_DATA_ATTRS = ("choice_data", "data_frame", "data_index", "endog", "exog", "wexog",
                    "wendog")


def save_atomic(obj: Any, fname: str | os.PathLike | IO[bytes]) -> None:
    """Pickle ``obj`` to ``fname`` through a temporary file renamed into place."""
    if hasattr(fname, "write"):
        pickle.dump(obj, cast(IO[bytes], fname), protocol=pickle.HIGHEST_PROTOCOL)
        return
    path = os.path.abspath(os.fspath(cast("str | os.PathLike", fname)))
    folder, base = os.path.split(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{base}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_pickle(fname: str | os.PathLike | IO[bytes]) -> Any:
    """Unpickle a saved results file (only ever load files you trust)."""
    try:
        if hasattr(fname, "read"):
            return pickle.load(cast(IO[bytes], fname))
        with open(os.fspath(cast("str | os.PathLike", fname)), "rb") as fh:
            return pickle.load(fh)
    except (pickle.UnpicklingError, EOFError) as exc:
        raise DataError(f"{fname!r} is not a readable saved results file: {exc}") from None


def strip_model(model: Any) -> None:
    """Set the model's data attributes to None (statsmodels' ``data`` arrays included)."""
    for name in MODEL_DATA_ATTRS:
        if hasattr(model, name):
            setattr(model, name, None)
    data = getattr(model, "data", None)
    for name in ("endog", "exog", "orig_endog", "orig_exog", "frame"):
        if data is not None and hasattr(data, name):
            try:
                setattr(data, name, None)
            except AttributeError:  # a read-only property
                pass


def strip_evaluation(evaluation: Any) -> Any:
    """The evaluation without its per-unit arrays and class state (llf, score, Hessian kept)."""
    return dataclasses.replace(evaluation, loglike_obs=None, posteriors=None, log_shares=None,
                               state=None, score_obs=None)


class PersistenceMixin:
    """``save``, ``load``, ``remove_data`` and pickling (mixed into the results class)."""

    _memo: dict[str, Any]
    _cache: dict[str, Any]
    fit_state: Any
    model: Any
    entropy_r2: float
    _labelled: Callable[[], Any]
    _data_stat: Callable[[str], Any]

    # --------------------------------------------------------- persistence
    def save(self, fname: str | os.PathLike | IO[bytes], remove_data: bool = False) -> None:
        """Pickle the results to a file, atomically.

        The pickle goes to a temporary file in the destination folder, renamed
        into place (:func:`os.replace`) once complete: a failed save never
        leaves a truncated file (an existing file stays as it was).

        Parameters
        ----------
        fname : str, path or binary file
            Destination (an open binary file is written directly).
        remove_data : bool
            Call :meth:`remove_data` first (a much smaller file).

        Examples
        --------
        >>> import os, tempfile
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit(
        ...     sim.data["choice"], sim.data[["x1", "x2"]], groups=sim.data["chid"],
        ...     panel=sim.data["id"], k_classes=2)
        >>> res = model.fit(n_starts=2, seed=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "fit.pickle")
        >>> res.save(path)
        >>> back = mx.MixedMultinomialLogitResults.load(path)
        >>> bool((back.params == res.params).all())
        True
        """
        if remove_data:
            self.remove_data()
        save_atomic(self._labelled(), fname)

    @classmethod
    def load(cls, fname: str | os.PathLike | IO[bytes]) -> Any:
        """Load results saved by :meth:`save` (or pickled); only load files you trust.

        Parameters
        ----------
        fname : str, path or binary file

        Returns
        -------
        MixedMultinomialLogitResults
            Inside its labelling wrapper, as ``fit`` returns it.

        Examples
        --------
        >>> import io
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit(
        ...     sim.data["choice"], sim.data[["x1", "x2"]], groups=sim.data["chid"],
        ...     panel=sim.data["id"], k_classes=2)
        >>> res = model.fit(n_starts=2, seed=0)
        >>> buffer = io.BytesIO()
        >>> res.save(buffer)
        >>> _ = buffer.seek(0)
        >>> round(mx.MixedMultinomialLogitResults.load(buffer).llf - res.llf, 12)
        0.0
        """
        obj = load_pickle(fname)
        inner = unwrap(obj)
        if not isinstance(inner, cls):
            raise DataError(f"{fname!r} holds a {type(inner).__name__}, not {cls.__name__}")
        return inner._labelled()

    def remove_data(self) -> None:
        """Drop the data: the model's arrays and the per-decision-maker posteriors and scores.

        What keeps working: ``params``, ``bse``, ``tvalues``, ``pvalues``,
        ``conf_int()``, ``cov_params()``, ``cov_reasons``, ``t_test``,
        ``wald_test``, ``f_test``, ``test_equal``, ``lr_test``, ``llf``,
        ``llnull``, ``llr``, the information criteria, ``df_model``,
        ``df_resid``, ``class_shares`` and ``class_shares_table()``,
        ``params_by_class``, ``entropy_r2``, ``starts``, ``mle_retvals``,
        ``summary()`` (the same text), ``plot_coefficients()``,
        ``plot_class_shares()``, pickling and ``save``, and ``predict(newdata)``
        (exactly as before). What raises a
        ``SpecificationError`` naming ``remove_data``: anything that needs the
        estimation data (``predict()`` without new data,
        ``posterior_probs()``, ``bootstrap()``, ``identifiability()``,
        ``get_robustcov_results()``, ``wtp()``, ``elasticities()``,
        ``classification_table()``, ``individual_params()``).

        Examples
        --------
        >>> import pickle
        >>> import mixlogit as mx
        >>> sim = mx.datasets.simulate.simulate_panel(
        ...     n_decision_makers=100, n_situations=5, n_alternatives=3,
        ...     betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
        >>> model = mx.MixedMultinomialLogit(
        ...     sim.data["choice"], sim.data[["x1", "x2"]], groups=sim.data["chid"],
        ...     panel=sim.data["id"], k_classes=2)
        >>> res = model.fit(n_starts=2, seed=0)
        >>> size = len(pickle.dumps(res))
        >>> bic = res.bic
        >>> res.remove_data()
        >>> len(pickle.dumps(res)) < size / 5, res.bic == bic
        (True, True)
        """
        if self.fit_state.data_removed:
            return
        for name in ("llnull", "n_effective", "nobs", "n_situations", "n_decision_makers",
                     "share_jacobian"):
            self._data_stat(name)
        _ = self.entropy_r2
        self.fit_state = self.fit_state.without_data()
        strip_model(self.model)
        self._cache = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_cache"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
