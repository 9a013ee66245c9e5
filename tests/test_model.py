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
from conftest import ELECTRICITY_FORMULA
from statsmodels.discrete.conditional_models import ConditionalLogit

import mixlogit as mx

RESULTS = pathlib.Path(__file__).parent / "results"


def _conditional_logit(endog, exog, groups):
    return ConditionalLogit(endog, exog, groups=groups).fit(method="newton", disp=0, tol=1e-12,
                                                            maxiter=100)


def _assert_matches(res, ref):
    np.testing.assert_allclose(res.params.to_numpy(), np.asarray(ref.params), rtol=1e-6)
    np.testing.assert_allclose(res.bse.to_numpy(), np.asarray(ref.bse), rtol=1e-6)
    np.testing.assert_allclose(res.llf, ref.llf, rtol=1e-6)


def test_one_class_equals_conditional_logit_on_electricity(electricity):
    # stored statsmodels reference: tests/results/make_conditional_logit_reference.py
    ref = json.loads((RESULTS / "electricity_conditional_logit.json").read_text())
    res = mx.MixedMultinomialLogit.from_formula(
        ELECTRICITY_FORMULA, electricity, groups="chid", panel="id", k_classes=1).fit()
    np.testing.assert_allclose(res.params.to_numpy(), ref["params"], rtol=1e-6)
    np.testing.assert_allclose(res.bse.to_numpy(), ref["bse"], rtol=1e-5)
    assert res.llf == pytest.approx(ref["llf"], rel=1e-8)
    assert list(res.params.index) == [f"class1:{c}" for c in ref["names"]]


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


# ------------------------------------------------------------- fit options
@pytest.fixture(scope="module")
def small_model(small_panel):
    return mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 + x3 - 1", small_panel.data, groups="chid", panel="id", k_classes=2)


@pytest.mark.parametrize("options, pattern", [
    (dict(n_start=5), r"^fit\(\) got an unexpected keyword 'n_start'; did you mean 'n_starts'\?"),
    (dict(seed=-1), r"fit\(\): seed must be None, a non-negative whole number.*got -1"),
    (dict(seed="abc"), r"fit\(\): seed must be .*got 'abc'"),
    (dict(n_jobs="2"), r"n_jobs must be a whole number >= 1, or -1 for every core, got '2'"),
    (dict(n_jobs=0), r"n_jobs must be .* got 0"),
    (dict(n_jobs=-2), r"n_jobs must be .* got -2"),
    (dict(n_jobs=2.5), r"n_jobs must be .* got 2.5"),
    (dict(polish="no"), r"polish must be True or False, got 'no'"),
    (dict(n_starts=2.5), r"n_starts must be None or a whole number >= 1, got 2.5"),
    (dict(tol=-1.0), r"tol must be a positive finite number"),
    (dict(maxiter=0), r"maxiter must be a whole number >= 1"),
    (dict(method="bgfs"), r"method must be one of .*did you mean 'bfgs'"),
    (dict(fixed={"class2:x1": "a"}), r"fixed\['class2:x1'\] must be a finite number, got 'a'"),
    (dict(method="bfgs", polish=False), r"polish=False has no effect with method='bfgs'"),
    (dict(method="bfgs", n_jobs=2), r"n_jobs=2 has no effect with method='bfgs'"),
    (dict(method="bfgs", tol=1e-6), r"tol=1e-06 has no effect with method='bfgs'"),
    (dict(method="newton", switch_tol=1e-3), r"switch_tol=0.001 has no effect with method='newton'"),
    (dict(polish=False, switch_tol=1e-3), r"switch_tol=0.001 has no effect with polish=False"),
    (dict(disp=True), r"disp=True has no effect with method='em'"),
    (dict(start="partition", scale=2.0), r"start='partition' on long-form data takes no options"),
    (dict(scale=2.0), r"unexpected keyword 'scale'"),
    (dict(start="subspace", scal=2.0), r"unexpected keyword 'scal'; did you mean 'scale'"),
    (dict(start_params=np.zeros(8), scale=1.0), r"options of a named start strategy"),
])
def test_bad_fit_options_raise_naming_the_option(small_model, options, pattern):
    with pytest.raises(mx.SpecificationError, match=pattern):
        small_model.fit(**options)


def test_fit_defaults_table_matches_the_signature():
    import inspect

    from mixlogit.model import FIT_DEFAULTS
    sig = inspect.signature(mx.MixedMultinomialLogit.fit).parameters
    for name, value in FIT_DEFAULTS.items():
        assert sig[name].default == value, name


def test_numpy_scalar_options_equal_python_ones(small_model):
    a = small_model.fit(n_starts=2, seed=3, tol=1e-6)
    b = small_model.fit(n_starts=np.int64(2), seed=np.int64(3), tol=np.float32(1e-6),
                        maxiter=np.int32(1000), n_jobs=np.int64(1), polish=np.bool_(True))
    assert a.llf == b.llf
    np.testing.assert_array_equal(a.params, b.params)


def test_a_default_valued_option_is_accepted_by_every_method(small_model):
    # the defaults of EM-only options do not count as "given" for a direct method
    res = small_model.fit(method="bfgs", n_starts=1, seed=0, tol=1e-8, polish=True, n_jobs=1)
    assert res.fit_state.method == "bfgs"


@pytest.mark.parametrize("start", ["partition", "subspace"])
@pytest.mark.parametrize("n_starts", [1, 4])
def test_n_starts_is_the_total_number_of_starts(small_model, start, n_starts):
    res = small_model.fit(start=start, n_starts=n_starts, seed=0)
    assert len(res.starts) == n_starts


def test_electricity_newton_reaches_the_em_optimum(electricity):
    model = mx.MixedMultinomialLogit.from_formula(
        ELECTRICITY_FORMULA, electricity, groups="chid", panel="id", k_classes=2)
    em = model.fit(n_starts=3, seed=0)
    one_class = json.loads((RESULTS / "electricity_conditional_logit.json").read_text())["llf"]
    assert em.llf > one_class + 100          # far above the one-class optimum (statsmodels)
    for method in ("newton", "bfgs"):
        direct = model.fit(method=method, n_starts=3, seed=0, maxiter=500)
        assert direct.llf == pytest.approx(em.llf, rel=1e-6), method
        assert direct.converged
        assert direct.starts["llf"].max() > one_class + 100


def test_direct_method_leaves_a_class_symmetric_start(electricity):
    model = mx.MixedMultinomialLogit.from_formula(
        ELECTRICITY_FORMULA, electricity, groups="chid", panel="id", k_classes=2)
    one = mx.MixedMultinomialLogit.from_formula(
        ELECTRICITY_FORMULA, electricity, groups="chid", panel="id", k_classes=1).fit()
    symmetric = np.r_[one.params.to_numpy(), one.params.to_numpy(), 0.0]   # a stationary point
    assert np.abs(model.score(symmetric)).max() < 1e-6
    em = model.fit(n_starts=3, seed=0)
    res = model.fit(start_params=symmetric, method="newton", seed=0)
    assert res.llf == pytest.approx(em.llf, rel=1e-6)


def test_model_builders_check_their_arguments(electricity):
    build = mx.MixedMultinomialLogit.from_formula
    for k in (2.5, "2", True, 0):
        with pytest.raises(mx.SpecificationError, match=r"from_formula\(\): k_classes must be"):
            build("choice ~ pf - 1", electricity, groups="chid", k_classes=k)
    with pytest.raises(mx.SpecificationError, match=r"groups must be the name of the situation"):
        build("choice ~ pf - 1", electricity, groups=["chid"], k_classes=2)
    with pytest.raises(mx.SpecificationError, match=r"unexpected keyword 'invarant'; did you mean"):
        build("choice ~ pf - 1", electricity, groups="chid", k_classes=2, invarant="~ cl - 1")
    with pytest.raises(mx.DataError, match="data has no rows"):
        build("choice ~ pf - 1", electricity.head(0), groups="chid", k_classes=2)
    with pytest.raises(mx.SpecificationError, match=r"from_counts\(\): k_classes must be"):
        mx.MixedMultinomialLogit.from_counts(np.ones(20), np.eye(20)[:, :2], k_classes=1.5)


# ------------------------------------------------------------------ predict
@pytest.fixture(scope="module")
def swissmetro_fit():
    df = mx.datasets.swissmetro.load()
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ time - 1", df, groups="chid", k_classes=2,
        invariant="~ asc_train + asc_car + cost - 1", availability="available")
    return df, model.fit(n_starts=2, seed=1)


def _brute_force_probabilities(res, frame):
    """sum_k pi_k exp(u_jk) / sum_{available l} exp(u_lk), one situation at a time."""
    shares = res.class_shares.to_numpy()
    out = []
    for _, sit in frame.groupby("chid", sort=False):
        avail = sit["available"].to_numpy() == 1
        p = np.zeros(len(sit))
        for k in range(2):
            u = (res.params[f"class{k + 1}:time"] * sit["time"] + res.params["asc_train"]
                 * sit["asc_train"] + res.params["asc_car"] * sit["asc_car"]
                 + res.params["cost"] * sit["cost"]).to_numpy()
            e = np.where(avail, np.exp(u - u[avail].max()), 0.0)
            p += shares[k] * e / e.sum()
        out.append(pd.Series(p, index=sit.index))
    return pd.concat(out).loc[frame.index]


def test_predict_new_data_equals_a_brute_force_loop(swissmetro_fit):
    df, res = swissmetro_fit
    new = df.head(30).copy()
    new.loc[new.index[0], "available"] = 0          # a really unavailable alternative
    assert new.loc[new.index[0], "choice"] == 0
    p = res.predict(new)
    assert p.iloc[0] == 0.0
    np.testing.assert_allclose(p.to_numpy(), _brute_force_probabilities(res, new), rtol=1e-10)
    np.testing.assert_allclose(p.groupby(new["chid"]).sum(), 1.0)


def test_predict_missing_attribute_leaves_its_situation_unpredicted(swissmetro_fit):
    df, res = swissmetro_fit
    new = df.head(9).copy()
    new.loc[new.index[1], "time"] = np.nan
    with pytest.warns(mx.DroppedObservationsWarning, match="1 situation"):
        p = res.predict(new)
    first = new["chid"] == new["chid"].iloc[0]
    assert p[first].isna().all()
    np.testing.assert_allclose(p[~first].to_numpy(),
                               _brute_force_probabilities(res, new[~first]), rtol=1e-10)


@pytest.mark.parametrize("edit, error, pattern", [
    (lambda d: d.assign(chid=d["chid"].where(d.index != d.index[1])), mx.DataError,
     "'chid' has missing ids"),
    (lambda d: d.assign(time=d["time"].where(d.index != d.index[1], np.inf)), mx.DataError,
     r"\['time'\] contain infinite values"),
    (lambda d: d.assign(available=np.where(d["chid"] == d["chid"].iloc[0], 0, d["available"])),
     mx.DataError, "no available alternative"),
    (lambda d: d.assign(available=d["available"].where(d.index != d.index[1], np.nan)),
     mx.DataError, r"'available' must be 0 or 1 .*found \[nan\]"),
    (lambda d: d.assign(available=d["available"].where(d.index != d.index[1], 2)),
     mx.DataError, r"'available' must be 0 or 1 .*found \[2.0\]"),
    (lambda d: d.drop(columns="available"), mx.DataError,
     "lacks the availability column 'available'"),
    (lambda d: d.head(0), mx.DataError, "newdata has no rows"),
    (lambda d: d.assign(time=d["time"].astype(object).where(d.index != d.index[4], "a")),
     mx.DataError, r"column time holds text \('a' in row 4"),
])
def test_predict_bad_new_data_raises_like_estimation(swissmetro_fit, edit, error, pattern):
    df, res = swissmetro_fit
    with pytest.raises(error, match=pattern):
        res.predict(edit(df.head(9).copy()))


def test_array_predict_checks_lengths_and_matches_the_formula_model(small_panel):
    df = small_panel.data
    cols = ["x1", "x2", "x3"]
    arrays = mx.MixedMultinomialLogit(df["choice"], df[cols], groups=df["chid"], panel=df["id"],
                                      k_classes=2)
    params = np.array([1.0, -1.0, 0.5, -0.5, 1.0, 1.5, 0.3])
    X = df[cols].to_numpy()[:12]
    p = arrays.predict(params, X, groups=df["chid"].to_numpy()[:12])
    by_hand = []
    shares = np.exp([0.0, 0.3]) / np.exp([0.0, 0.3]).sum()
    for rows in np.split(np.arange(12), 4):
        e = np.exp(X[rows] @ params[:6].reshape(2, 3).T)
        by_hand.append((e / e.sum(axis=0)) @ shares)
    np.testing.assert_allclose(p.to_numpy(), np.concatenate(by_hand), rtol=1e-12)
    with pytest.raises(mx.DataError, match=r"different lengths \(exog: 12, groups: 11\)"):
        arrays.predict(params, X, groups=df["chid"].to_numpy()[:11])
    with pytest.raises(mx.SpecificationError, match="kind must be one of"):
        arrays.predict(params, kind="classes")


def test_direct_method_stopped_early_is_not_converged(small_model):
    with pytest.warns(mx.ConvergenceWarning):
        res = small_model.fit(method="newton", n_starts=1, seed=0, maxiter=1)
    assert not res.converged
    assert res.fit_state.estimate.convergence_problem


@pytest.mark.parametrize("n_starts", [1, 2, 4])
def test_n_starts_is_the_total_for_the_moment_start(n_starts):
    from mixlogit.datasets.simulate import simulate_counts
    sim = simulate_counts(n_candidates=300, n_draws=10_000, seed=0)
    model = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features, k_classes=2)
    with warnings.catch_warnings():   # only the number of starts matters here
        warnings.simplefilter("ignore")
        res = model.fit(start="mom", n_starts=n_starts, seed=0)
    assert len(res.starts) == n_starts
    assert res.starts["origin"].iloc[0].startswith("mom")


def test_forwarded_start_options_are_checked_too(small_model):
    with pytest.raises(mx.SpecificationError, match="unexpected keyword 'n_start'; did you mean"):
        small_model.fit(start="short", n_start=3)


def test_switch_tol_is_where_em_hands_over_to_newton(small_model):
    early = small_model.fit(n_starts=3, seed=0, switch_tol=1e-2)
    late = small_model.fit(n_starts=3, seed=0, switch_tol=1e-7)
    assert (early.starts["n_iter"] <= late.starts["n_iter"]).all()
    assert early.starts["n_iter"].sum() < late.starts["n_iter"].sum()
    assert early.llf == pytest.approx(late.llf, rel=1e-8)
    assert early.fit_state.options["switch_tol"] == 1e-2


def test_predict_reads_booleans_and_numbers_written_as_text_as_numbers(swissmetro_fit):
    df, res = swissmetro_fit
    new = df.head(9).copy()
    expected = _brute_force_probabilities(res, new)
    as_text = new.assign(time=new["time"].astype(str).astype(object))
    np.testing.assert_allclose(res.predict(as_text).to_numpy(), expected, rtol=1e-10)
    flags = new.assign(asc_car=new["asc_car"].astype(bool))
    np.testing.assert_allclose(res.predict(flags).to_numpy(), expected, rtol=1e-10)
    with pytest.raises(mx.DataError, match="column time holds complex numbers"):
        res.predict(new.assign(time=new["time"] + 1j))


def test_array_predict_refuses_complex_values(small_panel):
    df = small_panel.data
    model = mx.MixedMultinomialLogit(df["choice"], df[["x1", "x2"]], groups=df["chid"],
                                     k_classes=1)
    with pytest.raises(mx.DataError, match="exog holds complex numbers"):
        model.predict(np.zeros(2), np.ones((3, 2)) + 1j, groups=[1, 1, 1])


# ------------------------------------------------------------ start portfolio, engines
def test_default_fit_runs_the_portfolio_and_reaches_the_partition_optimum(electricity):
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ pf + cl + loc + wk + tod + seas - 1", electricity, groups="chid", panel="id",
        k_classes=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.StartsWarning)
        default = model.fit(seed=0)
        partition = model.fit(start="partition", n_starts=10, seed=0)
    assert default.fit_state.options["start"] == "portfolio"
    assert default.converged
    # never worse than ten partition starts (an independent search of the same likelihood)
    assert default.llf >= partition.llf - 1e-6 * abs(partition.llf)


def test_budget_applies_to_the_portfolio_only(small_model):
    with pytest.raises(mx.SpecificationError, match="budget=50 applies to the default start"):
        small_model.fit(n_starts=2, budget=50)
    with pytest.raises(mx.SpecificationError, match="budget must be None or a whole number"):
        small_model.fit(budget=0)
    with pytest.raises(mx.SpecificationError, match="polish=False does not apply to the start"):
        small_model.fit(polish=False)


def test_engine_option(small_model):
    with pytest.raises(mx.SpecificationError, match="engine must be one of"):
        small_model.fit(n_starts=1, engine="fortran")
    counts = mx.datasets.simulate.simulate_counts(n_candidates=200, n_draws=5000, seed=0)
    cmodel = mx.MixedMultinomialLogit.from_counts(counts.counts, counts.features, k_classes=2)
    with pytest.raises(mx.SpecificationError, match="engine='numpy' does not apply"):
        cmodel.fit(n_starts=1, engine="numpy")
    pytest.importorskip("numba")
    a = small_model.fit(n_starts=2, seed=0, engine="numpy")
    b = small_model.fit(n_starts=2, seed=0, engine="numba")
    assert b.llf == pytest.approx(a.llf, rel=1e-12)
    np.testing.assert_allclose(b.params, a.params, rtol=1e-9, atol=1e-10)
