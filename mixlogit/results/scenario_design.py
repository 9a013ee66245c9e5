"""The rows of a scenario: new (or estimation) data sorted by decision maker and situation.

:func:`scenario_design` turns a long DataFrame into the arrays the scenario,
welfare and population functions share: the joint design, the membership
design per decision maker, availability, situation and decision-maker
positions, weights and the map back to the input rows. Unavailable rows may
hold missing attributes (they are set to 0 and never used); any other missing
or infinite value raises :class:`~mixlogit.exceptions.DataError`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataError, SpecificationError
from ..formula import design_for
from ..kernels import log_class_shares, situation_softmax

__all__ = ["ScenarioDesign", "scenario_design", "class_probs", "prior_shares",
           "posterior_shares", "sample_positions"]


@dataclass(frozen=True, eq=False)
class ScenarioDesign:
    """Rows sorted by decision maker and situation, with what the scenario functions need."""

    X: np.ndarray            # (n, L + Lv) joint design, 0 in unavailable rows
    Z: np.ndarray            # (N, Lz) membership design per decision maker (with constant)
    avail: np.ndarray        # (n,) bool
    sit_start: np.ndarray
    sit_of_row: np.ndarray
    dm_of_row: np.ndarray
    dm_of_sit: np.ndarray
    weights: np.ndarray      # (N,) decision-maker weights
    dm_ids: np.ndarray
    rows: np.ndarray         # output position of every sorted row
    index: pd.Index          # output index
    frame: pd.DataFrame | None   # the sorted input rows (None in sample without a frame)
    in_sample: bool

    @property
    def situation_weights(self) -> np.ndarray:
        w = self.weights[self.dm_of_sit]
        return w / w.sum()


def scenario_design(results, newdata, what: str, *, counts: bool = False) -> ScenarioDesign:
    """The scenario rows of ``newdata`` (None: the estimation data), checked for ``what``.

    ``counts=True`` lets a counts-form model through: its one candidate set (or
    new candidate features in ``newdata``) is one situation of one decision maker.
    """
    state = results.fit_state
    model = results.model
    if state.likelihood.form != "long" and not counts:
        raise SpecificationError(f"{what} needs a long-format model; the counts form has one "
                                 "candidate set: use predict_shares(features) or "
                                 "predict(features) for its probabilities")
    if newdata is None and state.data_removed:
        raise SpecificationError(f"{what} on the estimation data needs the data, which "
                                 "remove_data() dropped; pass newdata or refit")
    if state.likelihood.form != "long":
        return _counts_design(model, newdata)
    if newdata is None:
        d = model.choice_data
        frame = getattr(model, "data_frame", None)
        index = model.data_index if model.data_index is not None \
            else pd.RangeIndex(d.n_input_rows)
        return ScenarioDesign(np.hstack([d.exog, d.exog_invariant]), d.exog_membership,
                              np.ones(d.n_rows, bool), d.situation_start, d.situation_of_row,
                              d.decision_maker_of_row, d.decision_maker_of_situation, d.weights,
                              np.asarray(d.decision_maker_ids), np.asarray(d.row_index), index,
                              None if frame is None else frame.iloc[d.row_index], True)
    return _new_design(model, newdata)


def _counts_design(model, newdata) -> ScenarioDesign:
    """A candidate set (the estimation one, or new features) as one situation."""
    lay = model.layout
    if newdata is None:
        X = np.asarray(model.choice_data.features, float)
        index = model.data_index if model.data_index is not None \
            else pd.RangeIndex(X.shape[0], name="candidate")
    else:
        frame = newdata
        if isinstance(newdata, pd.DataFrame) and all(c in newdata.columns for c in lay.exog_names):
            frame = newdata[list(lay.exog_names)]
        try:
            X = np.asarray(frame, dtype=float)
        except (TypeError, ValueError):
            raise DataError("new candidate features must be numeric") from None
        X = X[:, None] if X.ndim == 1 else X
        if X.ndim != 2 or X.shape[1] != lay.k_exog or X.shape[0] == 0:
            raise SpecificationError(f"new candidate features need {lay.k_exog} columns "
                                     f"({list(lay.exog_names)}), got shape {X.shape}")
        if not np.isfinite(X).all():
            raise DataError("new candidate features have missing or infinite values")
        index = newdata.index if isinstance(newdata, pd.DataFrame) \
            else pd.RangeIndex(X.shape[0], name="candidate")
    n = X.shape[0]
    zeros = np.zeros(n, dtype=np.intp)
    return ScenarioDesign(X, np.ones((1, 1)), np.ones(n, bool), np.zeros(1, dtype=np.intp), zeros,
                          zeros, np.zeros(1, dtype=np.intp), np.ones(1), np.array([0]),
                          np.arange(n), pd.Index(index), None, newdata is None)


def _new_design(model, newdata) -> ScenarioDesign:
    spec = model.formula_spec
    if spec is None or not isinstance(newdata, pd.DataFrame):
        raise SpecificationError("newdata must be a long DataFrame of a formula-built model "
                                 "(from_formula); array models take predict(exog, groups=...)")
    if newdata.shape[0] == 0:
        raise DataError("newdata has no rows; pass at least one choice situation")
    cols = spec.columns
    for role in ("groups", "panel", "availability"):
        if cols.get(role) and cols[role] not in newdata.columns:
            raise DataError(f"newdata lacks the {role} column {cols[role]!r} of the model")
    g = newdata[cols["groups"]].to_numpy()
    p = newdata[cols["panel"]].to_numpy() if cols.get("panel") else g
    if pd.isna(g).any() or pd.isna(p).any():
        raise DataError("newdata has missing situation or decision-maker ids; give every row one")
    pc, p_ids = pd.factorize(p)
    gc, _ = pd.factorize(g)
    order = np.lexsort((gc, pc))
    frame = newdata.iloc[order]
    X, V, Z = design_for(spec, frame)
    n = len(frame)
    X = np.hstack([X.reshape(n, -1), np.empty((n, 0)) if V is None else V.reshape(n, -1)])
    Z = np.hstack([np.ones((n, 1)), np.empty((n, 0)) if Z is None else Z.reshape(n, -1)])
    lay = model.layout
    if X.shape[1] != lay.k_exog + lay.k_invariant or Z.shape[1] != lay.k_membership:
        raise SpecificationError("newdata's design does not match the model's columns")
    avail = np.ones(n, bool)
    if cols.get("availability"):
        a = pd.to_numeric(frame[cols["availability"]], errors="coerce").to_numpy(float)
        if not np.isin(a, (0.0, 1.0)).all():
            raise DataError(f"availability column {cols['availability']!r} must be 0 or 1")
        avail = a == 1
    X = np.where(avail[:, None], X, 0.0)
    bad = ~np.isfinite(X).all(axis=0) | ~np.isfinite(Z).all(axis=0)
    if bad.any():
        names = [*lay.exog_names, *lay.invariant_names, *lay.membership_names]
        raise DataError(f"newdata has missing or infinite values in {[names[j] for j in np.flatnonzero(bad[:len(names)])]}"
                        " of available rows; fill them or drop those situations")
    sc, pcs = gc[order], pc[order]
    new_sit = np.r_[True, (sc[1:] != sc[:-1]) | (pcs[1:] != pcs[:-1])]
    sit_start = np.flatnonzero(new_sit)
    dm_of_sit = pcs[sit_start]
    if np.any(np.add.reduceat(avail.astype(int), sit_start) == 0):
        raise DataError("a situation of newdata has no available alternative")
    if len(np.unique(sc[sit_start])) != len(sit_start):
        raise DataError(f"a situation id of {cols['groups']!r} appears under two decision makers")
    first = np.r_[0, np.flatnonzero(np.diff(pcs)) + 1]
    if np.any(np.abs(Z - Z[first][pcs]) > 1e-12):
        raise DataError("membership covariates vary within a decision maker of newdata; "
                        "they must be constant per decision maker")
    wcol = cols.get("weights")
    weights = np.ones(len(p_ids))
    if wcol and wcol in frame.columns:
        weights = pd.to_numeric(frame[wcol], errors="coerce").to_numpy(float)[first]
    return ScenarioDesign(X, Z[first], avail, sit_start, np.cumsum(new_sit) - 1, pcs, dm_of_sit,
                   weights, np.asarray(p_ids), order, newdata.index, frame, False)


def class_probs(lay, theta, D: ScenarioDesign):
    """Per-class row probabilities (n, K) and situation log-sums (S, K)."""
    C = lay.unpack(theta).class_coefficients
    U = D.X @ C.T
    U[~D.avail] = -np.inf
    P, lse = situation_softmax(U, D.sit_start, D.sit_of_row)
    P[~D.avail] = 0.0
    return P, lse, C


def prior_shares(lay, theta, D: ScenarioDesign) -> np.ndarray:
    """Prior class probabilities (N, K) of the design's decision makers."""
    return np.exp(log_class_shares(D.Z, lay.unpack(theta).gamma))


def posterior_shares(results, theta, D: ScenarioDesign) -> np.ndarray:
    """Posterior class probabilities of the design's decision makers (estimation choices)."""
    lik = results.fit_state.likelihood
    h = lik.evaluate(np.asarray(theta, float), order=0).posteriors
    return h[sample_positions(results, D)]


def sample_positions(results, D: ScenarioDesign) -> np.ndarray:
    """Positions of the design's decision makers in the estimation sample (or an error)."""
    if D.in_sample:
        return np.arange(len(D.dm_ids))
    ids = pd.Index(results.model.choice_data.decision_maker_ids)
    pos = ids.get_indexer(D.dm_ids)
    if np.any(pos < 0):
        missing = D.dm_ids[pos < 0][:3].tolist()
        raise SpecificationError(
            f'kind="posterior" needs decision makers of the estimation sample; {missing} are '
            'not (use kind="prior" for new decision makers)')
    return pos
