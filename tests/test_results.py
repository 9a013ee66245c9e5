"""The results object: labels, hand-computed statistics, predictions, summary layout."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mixlogit as mx


@pytest.fixture(scope="module")
def fitted(small_panel):
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 + x3 - 1", small_panel.data, groups="chid", panel="id", k_classes=2,
        invariant="~ v1 - 1", membership="~ z1")
    return model.fit(n_starts=3, seed=0)


def test_labels_and_layout(fitted):
    names = ["class1:x1", "class1:x2", "class1:x3", "class2:x1", "class2:x2", "class2:x3", "v1",
             "membership:class2:Intercept", "membership:class2:z1"]
    assert list(fitted.params.index) == names
    assert list(fitted.bse.index) == names
    assert list(fitted.cov_params().columns) == names
    assert fitted.params_by_class.shape == (4, 2)
    np.testing.assert_allclose(fitted.params_by_class.loc["v1"], fitted.params["v1"])


def test_classes_in_canonical_order(fitted):
    shares = fitted.class_shares.to_numpy()
    assert np.all(np.diff(shares) <= 0)
    assert shares.sum() == pytest.approx(1.0)


def test_information_criteria_by_hand(fitted):
    d = fitted.df_modelwc
    n = fitted.n_decision_makers
    assert d == 9 and n == 150
    assert fitted.aic == pytest.approx(2 * d - 2 * fitted.llf)
    assert fitted.bic == pytest.approx(d * np.log(n) - 2 * fitted.llf)
    assert fitted.caic == pytest.approx(d * (np.log(n) + 1) - 2 * fitted.llf)
    assert fitted.sabic == pytest.approx(d * np.log((n + 2) / 24) - 2 * fitted.llf)
    # all alternatives equally likely: 750 situations of 3 alternatives
    assert fitted.llnull == pytest.approx(750 * np.log(1 / 3))
    assert fitted.nobs == 2250 and fitted.n_situations == 750


def test_wald_statistics(fitted):
    z = fitted.params / fitted.bse
    np.testing.assert_allclose(fitted.tvalues, z)
    np.testing.assert_allclose(fitted.pvalues, 2 * stats.norm.sf(np.abs(z)))
    ci = fitted.conf_int(0.1)
    np.testing.assert_allclose(ci["upper"] - fitted.params, stats.norm.ppf(0.95) * fitted.bse)
    np.testing.assert_allclose(np.sqrt(np.diag(fitted.cov_params())), fitted.bse)


def test_covariance_switch_keeps_estimates(fitted):
    robust = fitted.get_robustcov_results("robust")
    opg = fitted.get_robustcov_results("opg")
    assert (robust.cov_type, opg.cov_type, fitted.cov_type) == ("robust", "opg", "oim")
    np.testing.assert_array_equal(robust.params, fitted.params)
    assert not np.allclose(robust.bse, fitted.bse)
    # the sandwich with the OPG as both bread and meat is the OPG covariance
    inputs = fitted.fit_state.covariance_inputs
    S = inputs.scores * np.sqrt(inputs.weights)[:, None]
    np.testing.assert_allclose(opg.cov_params().to_numpy(), np.linalg.inv(S.T @ S), rtol=1e-8)


def test_posteriors_are_probabilities_and_bayes_rule(fitted):
    post = fitted.posterior_probs()
    assert post.shape == (150, 2)
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    # Bayes' rule by hand for the first decision maker
    model = fitted.model
    d = model.choice_data
    params = fitted.params.to_numpy()
    u = model.layout.unpack(params)
    rows = slice(0, d.situation_start[d.decision_maker_start[1]])
    probs = model.predict(params, kind="class").to_numpy()[d.row_index[rows]]
    lik = np.prod(np.where(d.chosen[rows][:, None], probs, 1.0), axis=0)
    eta = u.gamma @ d.exog_membership[0]
    prior = np.exp(eta) / np.exp(eta).sum()
    np.testing.assert_allclose(post.iloc[0], prior * lik / (prior @ lik), rtol=1e-10)


def test_predictions_sum_to_one_per_situation(fitted, small_panel):
    df = small_panel.data
    p = fitted.predict()
    np.testing.assert_allclose(p.groupby(df["chid"]).sum(), 1.0)
    per_class = fitted.predict(kind="class")
    np.testing.assert_allclose(per_class.groupby(df["chid"]).sum(), 1.0)


def test_predict_on_new_data_matches_in_sample(fitted, small_panel):
    df = small_panel.data
    subset = df[df["chid"].isin(df["chid"].unique()[:20])].iloc[::-1]
    new = fitted.predict(subset)
    np.testing.assert_allclose(new, fitted.predict().loc[subset.index], rtol=1e-12)


def test_summary_layout(fitted):
    text = fitted.summary().as_text()
    for title in ("Latent Class Multinomial Logit Results", "Class 1 (share", "Class 2 (share",
                  "Class-invariant coefficients", "Class membership", "Class shares"):
        assert title in text
    assert f"{fitted.llf:#.3f}" in text
    for name in ("x1", "x2", "x3", "v1"):
        assert name in text
    assert f"{fitted.params['v1']:.4f}" in text
    assert "Classes are ordered by share" in text


def test_start_report(fitted):
    report = fitted.start_report
    table = fitted.starts
    assert len(table) == 3 and report.n_starts == 3
    assert set(table.columns) >= {"origin", "llf", "n_iter", "seconds", "converged", "optimum"}
    best = table["llf"].max()
    assert report.n_reached_best == int((best - table["llf"] <= 1e-4 * abs(best)).sum())
    assert report.optima[0] == pytest.approx(best)
    assert len(fitted.llf_history) == 3


class _Replicates:
    """A stand-in BootstrapResults: known variances, one of them zero."""

    def __init__(self, names, variances):
        self.names, self.variances = names, np.asarray(variances, float)

    def cov_params(self):
        return pd.DataFrame(np.diag(self.variances), index=self.names, columns=self.names)


def test_bootstrap_covariance_and_reasons(fitted):
    names = list(fitted.params.index)
    variances = np.linspace(0.01, 0.09, len(names))
    variances[2] = 0.0
    with pytest.warns(mx.exceptions.HessianInversionWarning, match="class1:x3"):
        boot = fitted.get_robustcov_results("bootstrap", results=_Replicates(names, variances))
    assert boot.cov_type == "bootstrap"
    expected = np.sqrt(variances)
    expected[2] = np.nan
    np.testing.assert_allclose(boot.bse.to_numpy(), expected)
    assert list(boot.cov_reasons.index) == [names[2]]
    assert "not identified" in boot.cov_reasons.iloc[0]
    assert boot.cov_params()[names[2]].isna().all()
    # the original keeps its own covariance, with every direction identified
    assert fitted.cov_reasons.empty and np.isfinite(fitted.bse).all()
    assert isinstance(boot.params, pd.Series) and type(boot._results.params) is np.ndarray


def test_fit_with_bootstrap_covariance_keeps_the_replicates(small_panel):
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 - 1", small_panel.data, groups="chid", panel="id", k_classes=2)
    res = model.fit(n_starts=2, seed=0, cov_type="bootstrap", cov_kwds={"n_reps": 8})
    draws = res.bootstrap_results.draws
    np.testing.assert_allclose(res.bse.to_numpy(), np.nanstd(draws, axis=0, ddof=1), rtol=1e-10)
    assert res.mle_settings["cov_kwds"] == {"n_reps": 8}
