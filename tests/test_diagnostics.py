"""Identifiability report: flags what is not identified, passes what is."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mixlogit as mx
from mixlogit.datasets.simulate import simulate_panel
from mixlogit.diagnostics import entropy_r2

FORMULA = "choice ~ x1 + x2 + x3 - 1"
TWO_CLASSES = [[1.5, -1.0, 0.5], [-1.0, 1.0, -0.5]]


def _fit(data, k, formula=FORMULA, n_starts=4, maxiter=1000):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        return mx.MixedMultinomialLogit.from_formula(
            formula, data, groups="chid", panel="id", k_classes=k).fit(
            n_starts=n_starts, seed=0, maxiter=maxiter)


def _report(res):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        return res.identifiability()


@pytest.fixture(scope="module")
def two_class_sim():
    return simulate_panel(n_decision_makers=300, n_situations=8, n_alternatives=3,
                          betas=TWO_CLASSES, shares=[0.6, 0.4], seed=1)


def test_passes_on_well_identified_simulation(two_class_sim):
    rep = _report(_fit(two_class_sim.data, 2))
    assert rep.status == "pass", str(rep)
    frame = rep.to_frame()
    assert set(frame["status"]) == {"pass"}
    assert list(frame.columns) == ["status", "value", "threshold", "detail"]
    assert {"parameters vs data", "within-situation attributes", "observed information",
            "smallest class", "class separation", "class curvature", "panel length",
            "entropy R2", "restart stability"} <= set(frame.index)
    text = str(rep)
    assert "threshold:" in text and "PASS" in text


def test_flags_too_many_classes(two_class_sim):
    res = _fit(two_class_sim.data, 4, n_starts=2, maxiter=200)
    with pytest.warns(mx.IdentificationWarning):
        rep = res.identifiability()
    assert rep.status == "fail", str(rep)
    # duplicated or emptied classes are what gives it away
    assert {"class separation", "smallest class"} & set(rep.failed_items)


def test_flags_duplicated_classes(two_class_sim):
    res2 = _fit(two_class_sim.data, 2)
    model3 = mx.MixedMultinomialLogit.from_formula(FORMULA, two_class_sim.data, groups="chid",
                                                   panel="id", k_classes=3)
    u = res2.model.layout.unpack(res2.params.to_numpy())
    # class 2 duplicated: EM keeps the copies equal, a saddle point of the likelihood
    start = model3.layout.pack(np.vstack([u.betas, u.betas[1]]),
                               gamma=np.r_[u.gamma[:, 0], u.gamma[1, 0]][:, None])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        res3 = model3.fit(start_params=start)
    assert res3.llf == pytest.approx(res2.llf, abs=1e-6)
    rep = _report(res3)
    assert rep["class separation"].status == "fail", str(rep)
    assert rep.status == "fail"


def test_flags_attribute_constant_within_situations(two_class_sim):
    data = two_class_sim.data.copy()
    rng = np.random.default_rng(0)
    person = rng.standard_normal(data["id"].max() + 1)[data["id"].to_numpy()]
    # a trait of the decision maker, equal on all alternatives up to rounding noise
    data["x3"] = person + 1e-7 * rng.standard_normal(len(data))
    res = _fit(data, 2, n_starts=2)
    rep = _report(res)
    assert rep["within-situation attributes"].status == "fail", str(rep)
    assert rep.status == "fail"
    # an exactly constant attribute is refused when the model is built
    data["x3"] = person
    with pytest.raises(mx.SpecificationError):
        mx.MixedMultinomialLogit.from_formula(FORMULA, data, groups="chid", panel="id",
                                              k_classes=2)


def test_flags_collapsing_class():
    sim = simulate_panel(n_decision_makers=300, n_situations=8, n_alternatives=3,
                         betas=TWO_CLASSES + [[0.5, 0.5, -1.5]], shares=[0.6, 0.39, 0.01],
                         seed=2)
    res = _fit(sim.data, 3, n_starts=2, maxiter=200)
    assert res.class_shares.min() < 0.02
    rep = _report(res)
    assert rep["smallest class"].status == "fail", str(rep)
    assert rep.status == "fail"


def test_entropy_r2_by_hand():
    crisp = np.eye(3)[[0, 1, 2, 0]]
    assert entropy_r2(crisp) == pytest.approx(1.0)
    assert entropy_r2(np.full((5, 2), 0.5)) == pytest.approx(0.0)
    h = np.array([[0.9, 0.1], [0.2, 0.8]])
    ent = -(0.9 * np.log(0.9) + 0.1 * np.log(0.1) + 0.2 * np.log(0.2) + 0.8 * np.log(0.8))
    assert entropy_r2(h) == pytest.approx(1 - ent / (2 * np.log(2)))
    assert entropy_r2(h, np.array([2.0, 0.0])) == pytest.approx(
        1 - 2 * -(0.9 * np.log(0.9) + 0.1 * np.log(0.1)) / (2 * np.log(2)))


def test_single_start_and_one_class(two_class_sim):
    res = _fit(two_class_sim.data, 1)
    rep = _report(res)
    assert "class separation" not in rep.to_frame().index
    assert rep.status in ("pass", "warn")
    assert isinstance(rep.flat_directions, pd.DataFrame)
