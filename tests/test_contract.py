"""The statsmodels results contract, on a formula-built long fit and on a counts fit.

Every public method and attribute that ``LikelihoodModelResults`` defines is called on both
fits: it works (and its numbers are checked against hand computations: Wald statistics
``(Rb - q)' (R V R')^-1 (Rb - q)``, chi-squared and F tails from scipy), or it raises a
clear ``SpecificationError`` / ``NotImplementedError``.
"""
from __future__ import annotations

import os
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.base.model import LikelihoodModelResults
from statsmodels.discrete.conditional_models import ConditionalLogit
from statsmodels.stats.contrast import ContrastResults

import mixlogit as mx
from mixlogit.exceptions import DataError, SpecificationError
from mixlogit.results import hypotheses, persistence

FORMULA = "choice ~ pf + cl + loc + wk + tod + seas - 1"


@pytest.fixture(scope="module")
def electricity():
    return mx.datasets.electricity.load()


@pytest.fixture(scope="module")
def long_fit(electricity):
    model = mx.MixedMultinomialLogit.from_formula(FORMULA, electricity, groups="chid", panel="id",
                                                  k_classes=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(n_starts=2, seed=0)


@pytest.fixture(scope="module")
def counts_fit():
    sim = mx.datasets.simulate.simulate_counts(n_candidates=500, n_draws=20_000, seed=0)
    model = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features, k_classes=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(seed=0)


@pytest.fixture(params=["long", "counts"])
def fit(request, long_fit, counts_fit):
    return long_fit if request.param == "long" else counts_fit


def hand_wald(res, R, q):
    b = res.params.to_numpy()
    V = res.cov_params().to_numpy()
    r = R @ b - q
    W = float(r @ np.linalg.solve(R @ V @ R.T, r))
    return W, stats.chi2.sf(W, R.shape[0])


def row(res, *pairs):
    names = list(res.params.index)
    out = np.zeros(len(names))
    for name, coef in pairs:
        out[names.index(name)] = coef
    return out


# ------------------------------------------------------------------ labels
def test_labelled_outside_ndarray_inside(fit):
    names = list(fit.model.layout.param_names)
    inner = fit._results
    for attr in ("params", "bse", "tvalues", "pvalues"):
        assert isinstance(getattr(inner, attr), np.ndarray)
        outer = getattr(fit, attr)
        assert isinstance(outer, pd.Series) and list(outer.index) == names
        np.testing.assert_array_equal(outer.to_numpy(), getattr(inner, attr))
    cov, ci = fit.cov_params(), fit.conf_int(0.1)
    assert list(cov.index) == names and list(cov.columns) == names
    assert list(ci.columns) == ["lower", "upper"] and list(ci.index) == names
    assert isinstance(inner.cov_params(), np.ndarray) and inner.conf_int().shape == (len(names), 2)
    # Wald quantities by hand from the labelled covariance
    se = np.sqrt(np.diag(cov.to_numpy()))
    np.testing.assert_allclose(fit.bse, se)
    np.testing.assert_allclose(fit.pvalues, 2 * stats.norm.sf(np.abs(fit.params / se)))
    np.testing.assert_allclose(ci["upper"] - fit.params, stats.norm.ppf(0.95) * se)
    assert fit.class_shares.index.tolist() == fit.model.layout.class_names
    assert list(fit.params_by_class.columns) == fit.model.layout.class_names


# ------------------------------------------------------------------- tests
def test_t_test_by_name_and_alias(fit):
    R = row(fit, ("class1:x1" if "class1:x1" in fit.params else "class1:pf", 1.0),
            ("class2:x1" if "class2:x1" in fit.params else "class2:pf", -1.0))
    term = "x1" if "class1:x1" in fit.params else "pf"
    t = fit.t_test(f"class1:{term} = class2:{term}")
    effect = R @ fit.params.to_numpy()
    sd = np.sqrt(R @ fit.cov_params().to_numpy() @ R)
    assert t.effect[0] == pytest.approx(effect, rel=1e-12)
    assert float(np.squeeze(t.sd)) == pytest.approx(sd, rel=1e-10)
    assert float(np.squeeze(t.pvalue)) == pytest.approx(2 * stats.norm.sf(abs(effect / sd)),
                                                        rel=1e-8)
    alias = fit.t_test(f"class1__{term} - class2__{term} = 0")
    assert alias.effect[0] == pytest.approx(effect, rel=1e-12)
    assert fit.param_aliases[f"class1:{term}"] == f"class1__{term}"


def test_wald_and_f_tests_by_hand(fit):
    term = "x1" if "class1:x1" in fit.params else "pf"
    R = np.vstack([row(fit, (f"class1:{term}", 1.0)), row(fit, (f"class2:{term}", 1.0))])
    q = np.array([0.5, 0.0])
    W, p = hand_wald(fit, R, q)
    w = fit.wald_test(f"class1:{term} = 0.5, class2:{term} = 0")
    assert float(w.statistic) == pytest.approx(W, rel=1e-9)
    assert float(w.pvalue) == pytest.approx(p, rel=1e-6, abs=1e-300)
    listed = fit.wald_test([f"class1:{term} = 0.5", f"class2:{term} = 0"])
    assert float(listed.statistic) == pytest.approx(W, rel=1e-9)
    f = fit.f_test(f"class1:{term} = 0.5, class2:{term} = 0")
    assert float(np.squeeze(f.fvalue)) == pytest.approx(W / 2, rel=1e-9)
    assert float(f.pvalue) == pytest.approx(stats.f.sf(W / 2, 2, fit.df_resid), rel=1e-6,
                                            abs=1e-300)
    with pytest.raises(SpecificationError, match="param_aliases"):
        fit.wald_test("class9:nothing = 0")


def test_test_equal_by_hand(fit):
    term = "x1" if "class1:x1" in fit.params else "pf"
    K = fit.k_classes
    R = np.vstack([row(fit, (f"class1:{term}", 1.0), (f"class{k}:{term}", -1.0))
                   for k in range(2, K + 1)])
    W, p = hand_wald(fit, R, np.zeros(K - 1))
    test = fit.test_equal(term)
    assert isinstance(test, ContrastResults)
    assert float(test.statistic) == pytest.approx(W, rel=1e-9)
    assert int(test.df_denom) == K - 1
    assert float(test.pvalue) == pytest.approx(p, rel=1e-6, abs=1e-300)
    with pytest.raises(SpecificationError, match="class-specific"):
        fit.test_equal("no_such_term")


def test_lr_test_nested_and_refusals(long_fit, electricity):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = mx.MixedMultinomialLogit.from_formula(
            "choice ~ pf + cl + loc + wk - 1", electricity, groups="chid", panel="id",
            k_classes=2).fit(n_starts=2, seed=0)
        k1 = mx.MixedMultinomialLogit.from_formula(
            FORMULA, electricity, groups="chid", panel="id", k_classes=1).fit()
        other_data = mx.MixedMultinomialLogit.from_formula(
            "choice ~ pf + cl + loc + wk - 1", electricity[electricity["id"] != 1],
            groups="chid", panel="id", k_classes=2).fit(n_starts=2, seed=0)
    lr = long_fit.lr_test(small)
    stat = 2 * (long_fit.llf - small.llf)
    assert lr.df == 4 and lr.statistic == pytest.approx(stat, rel=1e-12)
    assert lr.pvalue == pytest.approx(stats.chi2.sf(stat, 4), rel=1e-8, abs=1e-300)
    assert small.lr_test(long_fit) == lr  # either order
    with pytest.raises(SpecificationError, match="free parameters"):
        long_fit.lr_test(long_fit)
    with pytest.raises(SpecificationError, match="numbers of classes"):
        long_fit.lr_test(k1)
    with pytest.raises(SpecificationError, match="different data"):
        long_fit.lr_test(other_data)


# -------------------------------------------------------------- fit counts
def test_degrees_of_freedom_and_llr(fit):
    d = int(fit.fit_state.likelihood.free.sum())
    assert fit.df_model == d == len(fit.params)
    assert fit.df_resid == pytest.approx(fit.fit_state.likelihood.weights.sum() - d)
    assert fit.llr == pytest.approx(2 * (fit.llf - fit.llnull))
    assert fit.llr_pvalue == pytest.approx(stats.chi2.sf(fit.llr, d))
    assert fit.llr > 0


def test_mle_retvals_and_settings(fit):
    rv = fit.mle_retvals
    best = fit.starts["llf"].idxmax()
    assert rv["converged"] is fit.converged
    assert rv["iterations"] == fit.starts.loc[best, "n_iter"]
    assert rv["llf_history_length"] == len(fit.llf_history[best])
    assert rv["n_starts"] == len(fit.starts) and rv["method"] == "em"
    assert rv["llf"] == fit.llf
    settings = fit.mle_settings
    assert settings["optimizer"] == "em" and settings["cov_type"] == "oim"


def test_fixed_parameters_give_nan_not_zero(electricity):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mx.MixedMultinomialLogit.from_formula(
            "choice ~ pf + cl - 1", electricity, groups="chid", panel="id",
            k_classes=2).fit(n_starts=2, seed=0, fixed={"class1:cl": -0.2})
    cov = res.cov_params()
    assert np.isnan(res.bse["class1:cl"]) and cov["class1:cl"].isna().all()
    assert (res.bse.drop("class1:cl") > 0).all()
    assert res.cov_reasons.empty
    assert res.df_model == 4
    # the delta method of the shares ignores the fixed direction
    assert np.isfinite(res.class_shares_table()["bse"]).all()


# ------------------------------------------------------------- persistence
def test_pickle_and_save_load_predict_exactly(long_fit, electricity, tmp_path):
    new = electricity[electricity["id"] <= 5].copy()
    new["pf"] = new["pf"] * 1.1
    expected = long_fit.predict(new)
    back = pickle.loads(pickle.dumps(long_fit))
    pd.testing.assert_series_equal(back.predict(new), expected, rtol=0, atol=0)
    path = tmp_path / "fit.pickle"
    long_fit.save(path)
    loaded = mx.MixedMultinomialLogitResults.load(path)
    pd.testing.assert_series_equal(loaded.params, long_fit.params)
    pd.testing.assert_series_equal(loaded.predict(new), expected, rtol=0, atol=0)
    assert loaded.summary().as_text() == long_fit.summary().as_text()
    assert os.listdir(tmp_path) == ["fit.pickle"]


def test_failed_save_leaves_the_old_file(long_fit, tmp_path, monkeypatch):
    path = tmp_path / "fit.pickle"
    path.write_bytes(b"previous")

    def broken(obj, fh, protocol=None):
        fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(persistence.pickle, "dump", broken)
    with pytest.raises(OSError, match="disk full"):
        long_fit.save(path)
    assert path.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["fit.pickle"]


def test_load_refuses_a_truncated_file(long_fit, tmp_path):
    path = tmp_path / "fit.pickle"
    long_fit.save(path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match="not a readable"):
        mx.MixedMultinomialLogitResults.load(path)


def test_remove_data(electricity):
    model = mx.MixedMultinomialLogit.from_formula(FORMULA, electricity, groups="chid",
                                                  panel="id", k_classes=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(n_starts=2, seed=0)
    new = electricity[electricity["id"] <= 3]
    before = {"predict": res.predict(new), "bic": res.bic, "llnull": res.llnull,
              "shares": res.class_shares_table(), "bse": res.bse, "size": len(pickle.dumps(res)),
              "wald": float(res.wald_test("class1:pf = class2:pf").statistic),
              "summary": res.summary().as_text()}
    res.remove_data()
    assert res.summary().as_text() == before["summary"]
    assert res.model.choice_data is None and res.fit_state.evaluation.posteriors is None
    assert len(pickle.dumps(res)) < before["size"] / 5
    pd.testing.assert_series_equal(res.predict(new), before["predict"], rtol=0, atol=0)
    assert res.bic == before["bic"] and res.llnull == before["llnull"]
    pd.testing.assert_frame_equal(res.class_shares_table(), before["shares"])
    pd.testing.assert_series_equal(res.bse, before["bse"])
    assert float(res.wald_test("class1:pf = class2:pf").statistic) == before["wald"]
    for call in (res.posterior_probs, res.predict, res.bootstrap, res.identifiability,
                 lambda: res.get_robustcov_results("robust")):
        with pytest.raises(SpecificationError, match="remove_data"):
            call()
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_series_equal(back.predict(new), before["predict"], rtol=0, atol=0)


def test_counts_fit_pickles(counts_fit):
    back = pickle.loads(pickle.dumps(counts_fit))
    pd.testing.assert_series_equal(back.params, counts_fit.params)
    pd.testing.assert_frame_equal(back.predict(kind="class"), counts_fit.predict(kind="class"))


# ------------------------------------------------ every inherited statsmodels name
INHERITED = sorted(n for n in dir(LikelihoodModelResults) if not n.startswith("_"))


def test_the_list_of_inherited_names_is_complete():
    assert INHERITED == ["bse", "conf_int", "cov_params", "f_test", "initialize", "llf", "load",
                         "normalized_cov_params", "predict", "pvalues", "remove_data", "save",
                         "summary", "t_test", "t_test_pairwise", "tvalues", "use_t",
                         "wald_test", "wald_test_terms"]


def call_inherited(res, name, tmp_path):
    """Call one inherited name the way a statsmodels user would; return what it gave."""
    term = "x1" if "class1:x1" in res.params else "pf"
    calls = {
        "bse": lambda: res.bse, "pvalues": lambda: res.pvalues, "tvalues": lambda: res.tvalues,
        "llf": lambda: res.llf, "use_t": lambda: res.use_t,
        "normalized_cov_params": lambda: res.normalized_cov_params,
        "conf_int": lambda: res.conf_int(), "cov_params": lambda: res.cov_params(),
        "f_test": lambda: res.f_test(f"class1:{term} = class2:{term}"),
        "t_test": lambda: res.t_test(f"class1:{term} = 0"),
        "wald_test": lambda: res.wald_test(f"class1:{term} = 0"),
        "wald_test_terms": lambda: res.wald_test_terms(),
        "t_test_pairwise": lambda: res.t_test_pairwise(term),
        "initialize": lambda: pickle.loads(pickle.dumps(res))._results.initialize(
            res.model, res._results.params),
        "predict": lambda: res.predict(),
        "summary": lambda: res.summary(),
        "save": lambda: res.save(tmp_path / "res.pickle"),
        "load": lambda: (res.save(tmp_path / "res.pickle"),
                         type(res._results).load(tmp_path / "res.pickle"))[1],
        "remove_data": lambda: pickle.loads(pickle.dumps(res)).remove_data(),
    }
    return calls[name]()


@pytest.mark.parametrize("name", INHERITED)
def test_every_inherited_name(fit, name, tmp_path):
    if name == "t_test_pairwise":
        with pytest.raises(NotImplementedError, match="test_equal"):
            call_inherited(fit, name, tmp_path)
        return
    out = call_inherited(fit, name, tmp_path)
    d = len(fit.params)
    if name in ("bse", "pvalues", "tvalues"):
        assert isinstance(out, pd.Series) and np.isfinite(out).all()
    elif name == "llf":
        assert out == pytest.approx(fit.fit_state.likelihood.evaluate(
            fit.params.to_numpy()).llf, rel=1e-12)
    elif name == "use_t":
        assert out is False
    elif name == "normalized_cov_params":
        np.testing.assert_array_equal(out, fit.cov_params().to_numpy())
    elif name == "wald_test_terms":
        table = out.table
        np.testing.assert_allclose(table["statistic"], (fit.params / fit.bse) ** 2, rtol=1e-8)
    elif name == "predict":
        per_unit = fit.predict(kind="class")
        assert out.shape[0] == per_unit.shape[0]
        with pytest.raises(SpecificationError, match="transform"):
            fit.predict(transform=False)
        with pytest.raises(SpecificationError, match="unknown options"):
            fit.predict(which="mean")
    elif name == "load":
        pd.testing.assert_series_equal(out.params, fit.params)
    elif name in ("t_test", "f_test", "wald_test"):
        assert isinstance(out, ContrastResults)
    elif name == "conf_int":
        assert out.shape == (d, 2)
    elif name == "cov_params":
        assert out.shape == (d, d)


def test_one_class_tests_equal_statsmodels_conditional_logit():
    """K = 1 is statsmodels' ConditionalLogit: its own t, Wald and F tests are the reference
    (ConditionalResults lacks df_resid, which its f_test needs: it is set to N - k here)."""
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=150, n_situations=4, n_alternatives=3, betas=[[1.0, -0.5, 0.3]],
        shares=[1.0], seed=3)
    df = sim.data
    ref = ConditionalLogit(df["choice"], df[["x1", "x2", "x3"]], groups=df["chid"]).fit(
        method="newton", disp=0, tol=1e-12)
    ref._results.df_resid = 150 - 3
    res = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 + x3 - 1", df, groups="chid", panel="id", k_classes=1).fit()
    assert res.df_resid == 150 - 3
    a, b = ref.t_test("x1 = -2 * x2"), res.t_test("class1:x1 = -2 * class1:x2")
    np.testing.assert_allclose([a.effect[0], float(np.squeeze(a.sd)), float(a.pvalue)],
                               [b.effect[0], float(np.squeeze(b.sd)), float(b.pvalue)], rtol=1e-6)
    a = ref.wald_test("x1 = 1, x2 = x3", scalar=True)
    b = res.wald_test("class1:x1 = 1, class1__x2 = class1:x3")
    np.testing.assert_allclose([a.statistic, a.pvalue], [b.statistic, b.pvalue], rtol=1e-6)
    a, b = ref.f_test("x1 = 1, x2 = x3"), res.f_test("class1:x1 = 1, class1:x2 = class1:x3")
    np.testing.assert_allclose([float(np.squeeze(a.fvalue)), float(a.pvalue)],
                               [float(np.squeeze(b.fvalue)), float(b.pvalue)], rtol=1e-6)
    assert a.df_denom == b.df_denom and a.df_num == b.df_num


def test_aliases_and_constraint_translation_by_brute_force():
    names = ["class1:x", "class1:x2", "class1:C(alt)[T.b]", "x", "class2:x",
             "membership:class2:Intercept", "membership:class2:np.log(z)"]
    aliases = hypotheses.parameter_aliases(names)
    assert aliases["class1:C(alt)[T.b]"] == "class1__C_alt__T_b_"
    assert aliases["membership:class2:np.log(z)"] == "membership__class2__np_log_z_"
    assert aliases["x"] == "x" and len(set(aliases.values())) == len(names)
    R, q = hypotheses.linear_constraint(
        "class1:x + 2 * x = class2:x, class1:C(alt)[T.b] - membership__class2__Intercept = 1, "
        "membership:class2:np.log(z) = 3 * class1:x2", names)
    expected = np.zeros((3, len(names)))
    expected[0, [0, 3, 4]] = [1, 2, -1]
    expected[1, [2, 5]] = [1, -1]
    expected[2, [6, 1]] = [1, -3]
    np.testing.assert_array_equal(R, expected)
    np.testing.assert_array_equal(q, [0, 1, 0])
    # colliding aliases stay distinct
    assert hypotheses.parameter_aliases(["a:b", "a__b"]) == {"a:b": "a__b", "a__b": "a__b_2"}
    # matrices and (R, q) pass through untouched
    M = np.eye(2)
    assert hypotheses.linear_constraint(M, ["a", "b"]) is M


def test_counts_remove_data_keeps_new_candidate_predictions():
    sim = mx.datasets.simulate.simulate_counts(n_candidates=300, n_draws=5_000, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features, k_classes=2).fit(
            seed=0)
    new = np.asarray(sim.features, float)[:40] * 1.1
    expected, size, bic = res.predict(new), len(pickle.dumps(res)), res.bic
    # the mixture over a new candidate set by hand: sum_k share_k softmax(X beta_k)
    B = res.params_by_class.to_numpy()
    U = new @ B
    P = np.exp(U - U.max(axis=0)) / np.exp(U - U.max(axis=0)).sum(axis=0)
    np.testing.assert_allclose(expected.to_numpy(), P @ res.class_shares.to_numpy(), rtol=1e-10)
    res.remove_data()
    assert len(pickle.dumps(res)) < size / 5 and res.bic == bic
    back = pickle.loads(pickle.dumps(res))
    np.testing.assert_array_equal(back.predict(new).to_numpy(), expected.to_numpy())
    with pytest.raises(SpecificationError, match="remove_data"):
        back.posterior_probs()
