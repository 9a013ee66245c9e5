"""MixedMultinomialLogit against independent references: statsmodels' ConditionalLogit
(K = 1), Biogeme's Swissmetro latent class model, and seeded simulations."""
from __future__ import annotations

import json
import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.discrete.conditional_models import ConditionalLogit

import mixlogit as mx
from conftest import ELECTRICITY_FORMULA

RESULTS = pathlib.Path(__file__).parent / "results"


def _conditional_logit(endog, exog, groups):
    return ConditionalLogit(endog, exog, groups=groups).fit(method="newton", disp=0, tol=1e-12,
                                                            maxiter=100)


def _assert_matches(res, ref):
    np.testing.assert_allclose(res.params.to_numpy(), np.asarray(ref.params), rtol=1e-6)
    np.testing.assert_allclose(res.bse.to_numpy(), np.asarray(ref.bse), rtol=1e-6)
    np.testing.assert_allclose(res.llf, ref.llf, rtol=1e-6)


def test_one_class_equals_conditional_logit_on_electricity(electricity):
    res = mx.MixedMultinomialLogit.from_formula(
        ELECTRICITY_FORMULA, electricity, groups="chid", panel="id", k_classes=1).fit()
    cols = ["pf", "cl", "loc", "wk", "tod", "seas"]
    ref = _conditional_logit(electricity["choice"].to_numpy(), electricity[cols].to_numpy(float),
                             electricity["chid"].to_numpy())
    _assert_matches(res, ref)
    assert list(res.params.index) == [f"class1:{c}" for c in cols]


def test_one_class_equals_conditional_logit_on_modechoice():
    data = sm.datasets.modechoice.load_pandas().data
    res = mx.MixedMultinomialLogit.from_formula(
        "choice ~ ttme + invc + invt + gc + C(mode)", data, groups="individual",
        k_classes=1).fit()
    dummies = pd.get_dummies(data["mode"].astype(int), prefix="mode", dtype=float)
    exog = pd.concat([dummies[["mode_2", "mode_3", "mode_4"]],
                      data[["ttme", "invc", "invt", "gc"]]], axis=1)
    ref = _conditional_logit(data["choice"].to_numpy(), exog.to_numpy(float),
                             data["individual"].to_numpy())
    _assert_matches(res, ref)


def test_swissmetro_reproduces_biogeme_b07():
    ref = json.loads((RESULTS / "swissmetro_biogeme_b07.json").read_text())
    df = mx.datasets.swissmetro.load()
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ time - 1", df, groups="chid", k_classes=2,
        invariant="~ asc_train + asc_car + cost - 1", availability="available")
    res = model.fit(n_starts=3, seed=1, fixed={"class2:time": 0.0})
    est = ref["estimates"]
    assert res.llf == pytest.approx(ref["loglike"], abs=1e-6 * abs(ref["loglike"]))
    assert res.llnull == pytest.approx(ref["loglike_zero"], abs=1e-6)
    got = {"ASC_TRAIN": res.params["asc_train"], "ASC_CAR": res.params["asc_car"],
           "B_TIME": res.params["class1:time"], "B_COST": res.params["cost"],
           "share_no_time_class": res.class_shares["class2"]}
    for name, value in got.items():
        assert value == pytest.approx(est[name], abs=1e-4), name
    assert res.bse["cost"] == pytest.approx(ref["classical_se"]["B_COST"], abs=5e-4)
    robust = res.get_robustcov_results("robust")
    rse = ref["robust_se"]
    assert robust.cov_type == "robust"
    assert robust.bse["asc_train"] == pytest.approx(rse["ASC_TRAIN"], abs=5e-4)
    assert robust.bse["asc_car"] == pytest.approx(rse["ASC_CAR"], abs=5e-4)
    assert robust.bse["cost"] == pytest.approx(rse["B_COST"], abs=5e-4)
    assert robust.bse["class1:time"] == pytest.approx(rse["B_TIME"], abs=5e-4)
    assert robust.class_shares_table()["bse"]["class2"] == pytest.approx(
        rse["share_no_time_class"], abs=5e-4)


@pytest.fixture(scope="module")
def recovery_fit():
    truth_betas = np.array([[1.0, -1.0, 0.5, 0.0, 0.8],
                            [-1.0, 0.5, 1.0, 1.0, -0.5],
                            [0.3, 1.2, -1.0, -0.8, 0.2]])
    shares = np.array([0.5, 0.3, 0.2])
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=2000, n_situations=10, n_alternatives=4, betas=truth_betas,
        shares=shares, seed=2024)
    formula = "choice ~ " + " + ".join(sim.attribute_names) + " - 1"
    model = mx.MixedMultinomialLogit.from_formula(formula, sim.data, groups="chid", panel="id",
                                                  k_classes=3)
    return sim, model.fit(n_starts=4, seed=0)


def test_simulation_recovers_classes_within_three_standard_errors(recovery_fit):
    sim, res = recovery_fit
    est = res.params_by_class.to_numpy().T          # (K, L), canonical order: largest share first
    se = res.bse.to_numpy()[: est.size].reshape(est.shape)
    # the truth is already ordered by share; canonical order must match it
    z = (est - sim.betas) / se
    assert np.abs(z).max() < 3.0, z
    table = res.class_shares_table()
    zs = (table["share"].to_numpy() - np.asarray(sim.shares)) / table["bse"].to_numpy()
    assert np.abs(zs).max() < 3.0, zs
    assert res.converged


def test_em_never_lowers_the_loglikelihood(recovery_fit):
    _, res = recovery_fit
    for history in res.llf_history:
        steps = np.diff(history)
        assert np.all(steps >= -1e-10 * np.abs(history[1:])), steps.min()
    assert res.starts["converged"].all()


def test_polish_reaches_a_stationary_point(recovery_fit):
    _, res = recovery_fit
    assert res.score_norm < 1e-3
    eig = np.linalg.eigvalsh(res.model.hessian(res.params.to_numpy()))
    assert eig.max() < 0


def test_fixed_parameters_are_held_and_reported(small_panel):
    df = small_panel.data
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 + x3 - 1", df, groups="chid", panel="id", k_classes=2)
    res = model.fit(n_starts=2, seed=0, fixed={"class2:x1": 0.25})
    assert res.params["class2:x1"] == 0.25
    assert np.isnan(res.bse["class2:x1"])
    assert res.fixed["class2:x1"] and res.fixed.sum() == 1
    assert res.df_modelwc == model.layout.n_params - 1
    assert "class2:x1 = 0.25" in res.summary().as_text()


def test_direct_statsmodels_optimizers_reach_the_em_optimum(small_panel):
    df = small_panel.data
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 + x3 - 1", df, groups="chid", panel="id", k_classes=2,
        invariant="~ v1 - 1", membership="~ z1")
    em = model.fit(n_starts=4, seed=3)
    start = em.params.to_numpy() + 0.05
    for method in ("newton", "bfgs"):
        direct = model.fit(start_params=start, method=method, maxiter=500)
        assert direct.llf == pytest.approx(em.llf, abs=1e-5)
        np.testing.assert_allclose(direct.params, em.params, atol=1e-3)


def test_same_seed_same_fit(small_panel):
    df = small_panel.data
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 + x3 - 1", df, groups="chid", panel="id", k_classes=2)
    a = model.fit(n_starts=3, seed=42)
    b = model.fit(n_starts=3, seed=np.random.default_rng(42))
    np.testing.assert_array_equal(a.starts["llf"], b.starts["llf"])
    np.testing.assert_array_equal(a.params, b.params)


def test_input_row_order_does_not_matter(small_panel):
    df = small_panel.data
    shuffled = df.sample(frac=1.0, random_state=5)
    fits = []
    for frame in (df, shuffled):
        model = mx.MixedMultinomialLogit.from_formula(
            "choice ~ x1 + x2 + x3 - 1", frame, groups="chid", panel="id", k_classes=2)
        fits.append(model.fit(n_starts=3, seed=1))
    assert fits[0].llf == pytest.approx(fits[1].llf, abs=1e-8)
    np.testing.assert_allclose(fits[0].params, fits[1].params, atol=1e-5)
    # predictions follow the rows of each frame
    p0 = fits[0].predict()
    p1 = fits[1].predict()
    np.testing.assert_allclose(p0.loc[shuffled.index].to_numpy(), p1.to_numpy(), atol=1e-6)


def test_frequency_weights_equal_replicated_decision_makers(small_panel):
    df = small_panel.data
    ids = np.sort(df["id"].unique())
    rng = np.random.default_rng(0)
    reps = dict(zip(ids, rng.integers(1, 4, size=len(ids))))
    weighted = df.assign(w=df["id"].map(reps))
    # replicate each decision maker reps[id] times with new ids and situation ids
    parts = []
    for r in range(1, 4):
        part = df[df["id"].map(reps) >= r].copy()
        part["id"] = part["id"] * 10 + r
        part["chid"] = part["chid"] * 10 + r
        parts.append(part)
    replicated = pd.concat(parts, ignore_index=True)
    formula = "choice ~ x1 + x2 + x3 - 1"
    start = np.array([1.0, -1.0, 0.5, -0.5, 1.0, 1.5, -0.4])
    a = mx.MixedMultinomialLogit.from_formula(formula, weighted, groups="chid", panel="id",
                                              k_classes=2, weights="w").fit(start_params=start)
    b = mx.MixedMultinomialLogit.from_formula(formula, replicated, groups="chid", panel="id",
                                              k_classes=2).fit(start_params=start)
    assert a.llf == pytest.approx(b.llf, rel=1e-10)
    np.testing.assert_allclose(a.params, b.params, atol=1e-6)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-6)


def test_one_convergence_warning_when_the_best_start_does_not_converge(small_panel):
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 + x3 - 1", small_panel.data, groups="chid", panel="id", k_classes=2)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        res = model.fit(n_starts=3, seed=0, maxiter=2, polish=False)
    conv = [w for w in record if issubclass(w.category, mx.ConvergenceWarning)]
    assert len(conv) == 1 and not res.converged
    assert not res.starts["converged"].any()
    with warnings.catch_warnings():
        warnings.simplefilter("error", mx.ConvergenceWarning)
        assert model.fit(n_starts=3, seed=0, maxiter=2, polish=True).converged


def test_k_equal_one_runs_a_single_start(electricity):
    model = mx.MixedMultinomialLogit.from_formula(
        ELECTRICITY_FORMULA, electricity, groups="chid", panel="id", k_classes=1)
    res = model.fit(n_starts=10, seed=0)
    assert len(res.starts) == 1
    assert "Class shares" not in res.summary().as_text()
