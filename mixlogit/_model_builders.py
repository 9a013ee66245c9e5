"""The model builders: from a formula over long (or dask) data, from wide data, from counts.

A mixin of :class:`mixlogit.MixedMultinomialLogit`; the model classes of the
other data forms are reached through the hooks ``_counts_model()`` and
``_distributed_model()``, which the model module defines.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from . import _checks as ck
from ._fit_options import FORMULA_CHECKS, check_k_classes
from .data.wide import long_from_wide
from .distributed import is_dask_frame, partitioned_data_from_dask
from .exceptions import DataError, SpecificationError
from .formula import parse_formulas

__all__ = ["ModelBuilders"]


class ModelBuilders:
    """Alternative constructors of the mixture model (a mixin)."""

    @classmethod
    def _counts_model(cls) -> Any:
        """The model class of the counts form (defined by the model module)."""
        raise NotImplementedError

    @classmethod
    def _distributed_model(cls) -> Any:
        """The model class of partitioned data (defined by the model module)."""
        raise NotImplementedError

    @classmethod
    def from_formula(cls, formula: str, data: pd.DataFrame, *, groups: str, panel: str | None = None,
                     k_classes: int, invariant: str | None = None, membership: str | None = None,
                     weights: str | None = None, availability: str | None = None,
                     weights_kind: str | None = None, alternatives: str | None = None,
                     subset=None, drop_cols=None, **kwargs) -> Any:
        """Build the model from patsy formulas over a long-format DataFrame.

        Parameters
        ----------
        formula : str
            ``"choice ~ terms"``: the 0/1 chosen column and the terms with
            class-specific coefficients. Patsy's intercept is removed (it is not
            identified); categorical terms such as ``C(alt)`` are coded against a
            reference level.
        data : DataFrame or dask.dataframe.DataFrame
            One row per (choice situation, alternative). A dask DataFrame (every
            decision maker inside one partition, a ``distributed.Client``
            running) gives a :class:`DistributedMixedMultinomialLogit` whose
            partitions stay on the workers; see :mod:`mixlogit.distributed`.
        groups : str
            Column with the choice-situation id.
        panel : str, optional
            Column with the decision-maker id.
        k_classes : int
            Number of latent classes.
        invariant : str, optional
            Right-hand-side formula of terms with a coefficient shared by all classes.
        membership : str, optional
            Right-hand-side formula of decision-maker covariates of class membership.
        weights : str, optional
            Column with frequency weights of decision makers.
        availability : str, optional
            Column with 1 for available alternatives and 0 otherwise.
        weights_kind : {"frequency", "sampling"}, optional
            What ``weights`` are; see :class:`~mixlogit.data.ChoiceData`.
        alternatives : str, optional
            Column with the alternative id: a situation listing one twice is refused.

        Returns
        -------
        MixedMultinomialLogit

        Examples
        --------
        >>> import mixlogit as mx
        >>> df = mx.datasets.electricity.load()
        >>> m = mx.MixedMultinomialLogit.from_formula(
        ...     "choice ~ pf + cl - 1", df, groups="chid", panel="id", k_classes=2)
        >>> m.param_names[:2]
        ['class1:pf', 'class1:cl']
        """
        if kwargs:
            ck.check_keywords(kwargs, ["formula", "data", "groups", "panel", "k_classes",
                                       "invariant", "membership", "weights", "availability",
                                       "weights_kind", "alternatives"],
                              where="from_formula()")
        if subset is not None or drop_cols is not None:
            raise SpecificationError("from_formula(): subset and drop_cols are not supported; "
                                     "filter the DataFrame before passing it")
        check_k_classes(k_classes, where="from_formula()")
        ck.check_params(FORMULA_CHECKS, {"formula": formula, "groups": groups, "panel": panel,
                                         "invariant": invariant,
                                         "membership": membership, "weights": weights,
                                         "availability": availability,
                                         "alternatives": alternatives}, where="from_formula()")
        if is_dask_frame(data):
            pdata = partitioned_data_from_dask(
                formula, data, groups=groups, panel=panel, invariant=invariant,
                membership=membership, weights=weights, availability=availability)
            return cls._distributed_model()(pdata, k_classes=k_classes)
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError(f"from_formula(): data must be a pandas DataFrame, got "
                                     f"{type(data).__name__}; build one with pd.DataFrame(...)")
        if data.shape[0] == 0:
            raise DataError("from_formula(): data has no rows; pass the long-format choice data")
        columns = {"groups": groups, "panel": panel, "weights": weights,
                   "availability": availability, "alternatives": alternatives}
        endog, exog, inv, mem, spec = parse_formulas(formula, data, invariant=invariant,
                                                     membership=membership, columns=columns)
        argument_names = {"endog": spec.outcome, "groups": groups, "panel": panel or "panel",
                          "weights": weights or "weights",
                          "availability": availability or "availability",
                          "alternatives": alternatives or "alternatives"}
        build: Any = cls
        model = build(endog, exog, groups=data[groups], panel=None if panel is None else data[panel],
                   k_classes=k_classes, exog_invariant=inv, exog_membership=mem,
                   weights=None if weights is None else data[weights],
                   availability=None if availability is None else data[availability],
                   weights_kind=weights_kind,
                   alternatives=None if alternatives is None else data[alternatives],
                   formula_spec=spec, argument_names=argument_names, data_index=data.index)
        model.data_frame = data
        return model

    @classmethod
    def from_counts(cls, counts, features, *, k_classes: int,
                    feature_names: Sequence[str] | None = None) -> Any:
        """Softmax mixture over one shared candidate set, from choice counts.

        The setting of Bing, Bunea, Niles-Weed and Wegkamp (*Learning large
        softmax mixtures with warm start EM*): ``p`` candidates with features
        ``x_j``, and ``N`` independent draws from
        ``pi_j = sum_k alpha_k exp(x_j' beta_k) / sum_l exp(x_l' beta_k)``, of
        which only the counts ``n_j`` are kept. EM runs per candidate: an
        iteration costs ``O(p K L)`` whatever ``N`` is (plus an ``O(p K L^2)``
        class information every few iterations), and the ``p x p`` long form
        is never built. It gives the same fit as the long form in which each
        draw is a decision maker facing all ``p`` candidates once.

        Parameters
        ----------
        counts : array_like or Series, shape (p,)
            Number of draws that chose each candidate (non-negative; fractional
            values are accepted as weights).
        features : array_like or DataFrame, shape (p, L)
            Candidate features; a DataFrame's columns name the coefficients and
            its index labels the candidates.
        k_classes : int
            Number of mixture components.
        feature_names : sequence of str, optional
            Coefficient names when ``features`` is an array (default ``x1..xL``).

        Returns
        -------
        CountsMixedMultinomialLogit
            A :class:`MixedMultinomialLogit` whose ``fit`` uses the counts
            likelihood; its default start is ``"mom"`` (the method-of-moments
            estimate plus random subspace draws). Results are the usual
            :class:`~mixlogit.results.MixedMultinomialLogitResults`; per
            decision-maker outputs (``posterior_probs``, ``loglikeobs``) have
            one row per candidate (the draws that chose it), and the ``N`` of
            BIC is the number of draws.

        Raises
        ------
        DataError
            Invalid counts or features (negative or non-finite values,
            mismatched lengths, a constant or collinear feature).
        SpecificationError
            ``k_classes`` too large for the number of candidates
            (``K (L + 1) - 1 > p - 1``).

        Examples
        --------
        >>> import mixlogit as mx
        >>> from mixlogit.datasets.simulate import simulate_counts
        >>> sim = simulate_counts(n_candidates=500, n_draws=20_000, seed=0)
        >>> model = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features, k_classes=3)
        >>> res = model.fit(n_starts=3, seed=0)
        >>> res.params.shape
        (17,)
        """
        check_k_classes(k_classes, where="from_counts()")
        return cls._counts_model()(counts, features, k_classes=k_classes,
                                           feature_names=feature_names)

    @classmethod
    def from_wide(cls, formula: str, data: pd.DataFrame, *, alternatives, attributes,
                  choice: str, k_classes: int, choice_codes=None, availability=None,
                  situation: str | None = None, panel: str | None = None, keep=None,
                  invariant: str | None = None, membership: str | None = None,
                  weights: str | None = None):
        """Build the model from wide data (one row per choice situation).

        :func:`mixlogit.data.wide.long_from_wide` reshapes the data, then
        :meth:`from_formula` builds the model on the long frame (situation id
        ``situation`` or ``chid``, alternative ``alt``, chosen ``choice``,
        availability ``available``).

        Parameters
        ----------
        formula : str
            Utility formula on the long frame; its left side is ``choice``.
        data : DataFrame
            Wide data.
        alternatives, attributes, choice, choice_codes, availability, situation, panel, keep
            As in :func:`~mixlogit.data.wide.long_from_wide`; membership covariates and
            weights must be listed in ``keep`` (``weights`` is added to it).
        k_classes : int
        invariant, membership : str, optional
            Formulas as in :meth:`from_formula`.
        weights : str, optional
            Column of frequency weights.

        Returns
        -------
        MixedMultinomialLogit

        Examples
        --------
        >>> import mixlogit as mx
        >>> raw = mx.datasets.swissmetro.load_raw()
        >>> raw = raw[raw["PURPOSE"].isin([1, 3]) & (raw["CHOICE"] != 0)]
        >>> model = mx.MixedMultinomialLogit.from_wide(
        ...     "choice ~ time - 1", raw, alternatives=["train", "sm", "car"],
        ...     attributes={"time": ["TRAIN_TT", "SM_TT", "CAR_TT"]}, choice="CHOICE",
        ...     availability={"train": "TRAIN_AV", "sm": "SM_AV", "car": "CAR_AV"},
        ...     panel="ID", k_classes=1)
        >>> model.param_names
        ['class1:time']
        """
        long = long_from_wide(data, alternatives=alternatives, attributes=attributes,
                              choice=choice, choice_codes=choice_codes,
                              availability=availability, situation=situation, panel=panel,
                              keep=([keep] if isinstance(keep, str) else list(keep or []))
                              + ([weights] if weights else []))
        return cls.from_formula(formula, long, groups=situation or "chid", panel=panel,
                                k_classes=k_classes, invariant=invariant, membership=membership,
                                weights=weights, availability="available")

    @classmethod
    def from_parquet(cls, path: str, formula: str, *, groups: str, k_classes: int,
                     panel: str | None = None, invariant: str | None = None,
                     membership: str | None = None, weights: str | None = None,
                     availability: str | None = None, columns: Sequence[str] | None = None):
        """Build a model on a Dask cluster from long-format parquet files.

        A thin wrapper: ``dask.dataframe.read_parquet(path, columns=columns)``
        then :meth:`from_formula` on the dask frame (a running
        ``distributed.Client`` is needed; every decision maker must sit in one
        file or row group, as when the files are written partitioned by the
        decision-maker id). Needs the ``mixlogit[dask]`` extra.

        Parameters
        ----------
        path : str
            A parquet file, folder or glob.
        formula, groups, k_classes, panel, invariant, membership, weights, availability
            As in :meth:`from_formula`.
        columns : sequence of str, optional
            Read only these columns.

        Returns
        -------
        DistributedMixedMultinomialLogit

        Examples
        --------
        >>> import mixlogit as mx
        >>> mx.MixedMultinomialLogit.from_parquet  # doctest: +ELLIPSIS
        <bound method ModelBuilders.from_parquet of <class 'mixlogit.model.MixedMultinomialLogit'>>
        """
        try:
            import dask.dataframe as dd
        except ImportError:  # pragma: no cover - the optional extra is missing
            raise SpecificationError("from_parquet needs dask: pip install 'mixlogit[dask]'"
                                     ) from None
        frame = dd.read_parquet(path, columns=None if columns is None else list(columns))
        return cls.from_formula(formula, frame, groups=groups, panel=panel, k_classes=k_classes,
                                invariant=invariant, membership=membership, weights=weights,
                                availability=availability)
