"""Shared behaviour on both data forms: a counts data set and its long expansion.

The long expansion has one decision maker per draw, facing all p candidates
once, and choosing the candidate the draw chose. Decision makers are numbered
in the order of the candidate they chose, so the draws of the counts form and
the decision makers of the long form line up one to one: the same seed then
resamples the same draws in the bootstrap. Everything the long form computes
(an independent implementation over p x N rows) is the reference for the
counts form, and the required figure checks the counts bootstrap against the
observed information on a large simulated design.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import softmax

import mixlogit as mx
from mixlogit.bootstrap import resample_weights
from mixlogit.datasets.simulate import simulate_counts
from mixlogit.selection import select_classes, split_class_starts

FORMULA = "choice ~ x1 + x2 - 1"


@pytest.fixture(scope="module")
def pair():
    """p = 8 candidates, N = 600 draws; the long form sorted by the chosen candidate."""
    rng = np.random.default_rng(11)
    p, N = 8, 600
    X = rng.standard_normal((p, 2))
    B = np.array([[1.5, -1.0], [-1.0, 1.0]])
    pi = softmax(X @ B.T, axis=0) @ np.array([0.6, 0.4])
    chosen = np.sort(rng.choice(p, size=N, p=pi))
    counts = np.bincount(chosen, minlength=p).astype(float)
    long = pd.DataFrame({"id": np.repeat(np.arange(N), p), "alt": np.tile(np.arange(p), N),
                         "x1": np.tile(X[:, 0], N), "x2": np.tile(X[:, 1], N)})
    long["choice"] = (long["alt"].to_numpy() == np.repeat(chosen, p)).astype(int)
    models = {
        "long": mx.MixedMultinomialLogit.from_formula(FORMULA, long, groups="id", k_classes=2),
        "counts": mx.MixedMultinomialLogit.from_counts(
            counts, pd.DataFrame(X, columns=["x1", "x2"]), k_classes=2),
    }
    start = models["long"].layout.pack(B * 0.8, gamma=np.array([[0.0], [-0.2]]))
    starts = [start, models["long"].layout.pack(B[::-1] * 0.9, gamma=np.array([[0.0], [0.3]]))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = {form: m.fit(start_params=starts, seed=0) for form, m in models.items()}
    return {"models": models, "fits": fits, "chosen": chosen, "start": start, "long": long,
            "counts": counts, "X": X}


@pytest.fixture(scope="module", params=["long", "counts"])
def form(request):
    return request.param


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ------------------------------------------------------------------ likelihood and fit
def test_same_likelihood_scores_and_hessian(pair):
    lik_l = pair["models"]["long"].likelihood()
    lik_c = pair["models"]["counts"].likelihood()
    rng = np.random.default_rng(0)
    for _ in range(3):
        theta = pair["start"] + 0.3 * rng.standard_normal(pair["start"].size)
        ev_l, ev_c = lik_l.evaluate(theta, order=2), lik_c.evaluate(theta, order=2)
        assert ev_c.llf == pytest.approx(ev_l.llf, rel=1e-12)
        np.testing.assert_allclose(ev_c.score, ev_l.score, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(ev_c.hessian, ev_l.hessian, rtol=1e-9, atol=1e-8)
        # a decision maker's unweighted score and posteriors are his candidate's
        np.testing.assert_allclose(ev_c.score_obs[pair["chosen"]], ev_l.score_obs, atol=1e-10)
        np.testing.assert_allclose(ev_c.posteriors[pair["chosen"]], ev_l.posteriors, atol=1e-12)


def test_same_fit_and_standard_errors(pair):
    r_l, r_c = pair["fits"]["long"], pair["fits"]["counts"]
    assert r_c.llf == pytest.approx(r_l.llf, rel=1e-10)
    np.testing.assert_allclose(r_c.params, r_l.params, atol=5e-5)
    np.testing.assert_allclose(r_c.bse, r_l.bse, rtol=1e-3)
    np.testing.assert_allclose(r_c.class_shares, r_l.class_shares, atol=1e-5)


# ------------------------------------------------------------------ bootstrap
def test_same_replicate_weights_for_the_same_seed(pair):
    w_l = resample_weights(np.ones(len(pair["chosen"])), 5, np.random.default_rng(4))
    w_c = resample_weights(pair["counts"], 5, np.random.default_rng(4))
    grouped = np.stack([np.bincount(pair["chosen"], weights=r, minlength=8) for r in w_l])
    np.testing.assert_array_equal(grouped, w_c)


def test_same_bootstrap_with_the_same_seed(pair):
    b_l = _quiet(pair["fits"]["long"].bootstrap, 8, seed=5)
    b_c = _quiet(pair["fits"]["counts"].bootstrap, 8, seed=5)
    assert b_l.share_failed == b_c.share_failed == 0.0
    # the same replicates, refitted by two implementations to Newton's tolerance
    np.testing.assert_allclose(b_c.draws, b_l.draws, atol=2e-4)
    np.testing.assert_allclose(b_c.bse, b_l.bse, rtol=0.02)
    np.testing.assert_allclose(b_c.replicates["llf"], b_l.replicates["llf"], rtol=1e-8)


def test_bootstrap_covariance_type_on_both_forms(pair, form):
    res = pair["fits"][form]
    via_fit = _quiet(pair["models"][form].fit, start_params=[pair["start"]], seed=0,
                     cov_type="bootstrap", cov_kwds={"n_reps": 6, "seed": 2})
    direct = _quiet(via_fit.bootstrap, 6, seed=2)
    assert np.all(np.isfinite(via_fit.bse)) and np.all(via_fit.bse > 0)
    np.testing.assert_allclose(via_fit.bse, direct.bse)
    assert res.cov_type == "oim"


def test_bootstrap_options_agree_across_forms(pair):
    """Extra random starts and posterior alignment: the same replicates on both forms."""
    boots = {form: _quiet(pair["fits"][form].bootstrap, 4, seed=1, extra_starts=1,
                          align="posteriors") for form in ("long", "counts")}
    assert boots["long"].n_clusters == 600 and boots["counts"].n_clusters == 8
    for boot in boots.values():
        assert boot.share_failed == 0.0 and (boot.replicates["order"] != "").all()
    np.testing.assert_allclose(boots["counts"].replicates["llf"], boots["long"].replicates["llf"],
                               rtol=1e-8)
    np.testing.assert_allclose(boots["counts"].draws, boots["long"].draws, atol=2e-4)


def test_cluster_does_not_apply_to_counts(pair):
    with pytest.raises(mx.SpecificationError, match="counts form"):
        pair["fits"]["counts"].bootstrap(3, cluster=np.arange(8) % 2)


def test_counts_bootstrap_matches_observed_information():
    """Required figure: 50 replicates, p = 2000, N = 1e5, K = 2; within 25% of the OIM SEs."""
    sim = simulate_counts(n_candidates=2000, n_draws=100_000, seed=0,
                          betas=np.array([[1.0, -0.5, 0.5], [-0.8, 0.8, 0.3]]),
                          shares=np.array([0.6, 0.4]))
    res = _quiet(mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features,
                                                      k_classes=2).fit, seed=0)
    boot = _quiet(res.bootstrap, 50, seed=0)
    ratio = boot.bse / res.bse
    print("bootstrap / OIM standard errors:", ratio.round(3).to_dict())
    assert boot.share_failed == 0.0
    assert np.all(np.isfinite(boot.bse))
    assert np.all(np.abs(ratio - 1) < 0.25), ratio


# ------------------------------------------------------------------ diagnostics
def test_same_diagnostics(pair):
    rep_l = _quiet(pair["fits"]["long"].identifiability)
    rep_c = _quiet(pair["fits"]["counts"].identifiability)
    np.testing.assert_allclose(rep_c.information_eigenvalues, rep_l.information_eigenvalues,
                               rtol=1e-4)
    np.testing.assert_allclose(rep_c.class_table.to_numpy(), rep_l.class_table.to_numpy(),
                               rtol=1e-4)
    np.testing.assert_allclose(rep_c.pair_table["wald"], rep_l.pair_table["wald"], rtol=1e-3)
    for item in ("within-situation attributes", "observed information", "smallest class",
                 "class separation", "class curvature", "effective alternatives", "entropy R2",
                 "restart stability"):
        assert rep_c[item].status == rep_l[item].status, item
    # effective alternatives by hand: exp(entropy) of each class's softmax over the candidates
    lik = pair["fits"]["counts"].fit_state.likelihood
    P = lik.class_probabilities(pair["fits"]["counts"].params.to_numpy())
    np.testing.assert_allclose(rep_c.class_table["effective_alternatives"],
                               np.exp(-(P * np.log(P)).sum(axis=0)), rtol=1e-10)
    # panel length has no meaning for counts: not applicable, not a failure
    assert rep_c["panel length"].status == "n/a"
    assert rep_l["panel length"].status == "warn"  # one choice per decision maker
    # the counts form identifies at most p - 1 choice probabilities
    assert "7 choice degrees of freedom" in rep_c["parameters vs data"].value
    assert "N = 600 draws" in rep_c["parameters vs data"].value
    assert "n/a" in rep_c.to_frame()["status"].tolist() and rep_c.status != "fail"
    assert "[N/A ] panel length" in str(rep_c)
    with pytest.raises(mx.SpecificationError, match="check_restarts"):
        pair["fits"]["counts"].identifiability(check_restarts="no")


# ------------------------------------------------------------------ post-estimation
def test_same_post_estimation(pair):
    r_l, r_c = pair["fits"]["long"], pair["fits"]["counts"]
    chosen = pair["chosen"]
    w_l, w_c = _quiet(r_l.wtp, "x1"), _quiet(r_c.wtp, "x1")
    np.testing.assert_allclose(w_c.to_numpy(), w_l.to_numpy(), rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(r_c.classification_table().to_numpy(),
                               r_l.classification_table().to_numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(r_c.individual_params().to_numpy()[chosen],
                               r_l.individual_params().to_numpy(), atol=1e-4)
    np.testing.assert_allclose(r_c.posterior_probs().to_numpy()[chosen],
                               r_l.posterior_probs().to_numpy(), atol=1e-5)
    # own elasticities: the counts candidates are any one situation of the long form
    own_c = r_c.elasticities("x1", kind="own")
    own_l = r_l.elasticities("x1", kind="own")
    assert own_c.shape == (8, 3)
    np.testing.assert_allclose(own_c.to_numpy(), own_l.to_numpy()[:8], rtol=1e-4, atol=1e-6)
    # elasticity matrices: counts labels its candidates itself
    E_c = r_c.elasticities("x1")
    E_l = r_l.elasticities("x1", alternative="alt")
    np.testing.assert_allclose(E_c.to_numpy(), E_l.to_numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(r_c.predict().to_numpy(), r_l.predict().to_numpy()[:8],
                               atol=1e-5)


def test_mixture_elasticity_by_finite_differences_on_counts(pair):
    res = pair["fits"]["counts"]
    theta = res.params.to_numpy()
    model = pair["models"]["counts"]
    X = pair["X"].copy()
    j, eps = 3, 1e-6
    P0 = model.predict(theta).to_numpy()
    X[j, 0] *= 1 + eps
    P1 = model.predict(theta, pd.DataFrame(X, columns=["x1", "x2"])).to_numpy()
    numeric = (np.log(P1) - np.log(P0)) / np.log1p(eps)
    E = res.elasticities("x1").loc["population"]
    np.testing.assert_allclose(E.loc[j].to_numpy(), numeric, rtol=1e-4, atol=1e-6)


def test_wtp_bad_inputs_on_both_forms(pair, form):
    res = pair["fits"][form]
    with pytest.raises(mx.SpecificationError, match="attributes is empty"):
        res.wtp("x1", attributes=[])
    for alpha in (0.0, 1.0, 2.0):
        with pytest.raises(mx.SpecificationError, match="alpha"):
            res.wtp("x1", alpha=alpha)


def test_wtp_with_price_fixed_at_zero_is_nan_with_a_warning(pair, form):
    res = _quiet(pair["models"][form].fit, start_params=[pair["start"]], seed=0,
                 fixed={"class2:x1": 0.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy divide warning
        with pytest.warns(mx.MixlogitWarning, match="exactly 0"):
            w = res.wtp("x1")
    assert np.isnan(w.loc[("class2", "x2"), "wtp"]) and np.isnan(w.loc[("class2", "x2"), "bse"])
    assert np.isnan(w.loc[("population", "x2"), "wtp"])
    c1 = res.params["class1:x2"] / res.params["class1:x1"]
    assert w.loc[("class1", "x2"), "wtp"] == pytest.approx(-c1, rel=1e-12)
    assert np.isfinite(w.loc[("class1", "x2"), "bse"])


# ------------------------------------------------------------------ selection
def test_select_classes_over_counts_models(pair):
    counts, X = pair["counts"], pd.DataFrame(pair["X"], columns=["x1", "x2"])
    models = [mx.MixedMultinomialLogit.from_counts(counts, X, k_classes=k) for k in (1, 2)]
    sel_c = _quiet(select_classes, models, n_starts=3, seed=0)
    sel_l = _quiet(select_classes, FORMULA, pair["long"], groups="id", k_classes=[1, 2],
                   n_starts=3, seed=0, builder=mx.MixedMultinomialLogit.from_formula)
    assert list(sel_c.table.index) == [1, 2]
    np.testing.assert_allclose(sel_c.table["llf"], sel_l.table["llf"], rtol=1e-8)
    np.testing.assert_allclose(sel_c.table["bic"], sel_l.table["bic"], rtol=1e-8)
    # BIC with N = draws, by hand
    ll, d = sel_c.table["llf"].to_numpy(), sel_c.table["n_params"].to_numpy()
    np.testing.assert_allclose(sel_c.table["bic"], d * np.log(600) - 2 * ll)
    # a callable k -> counts model works too, and so do split starts from K - 1
    def build(k):
        return mx.MixedMultinomialLogit.from_counts(counts, X, k_classes=k)

    sel = _quiet(select_classes, build, k_classes=[1, 2], n_starts=2, seed=0)
    assert sel.table.loc[2, "llf"] == pytest.approx(sel_l.table.loc[2, "llf"], rel=1e-8)
    assert sel.table.loc[2, "n_starts"] == 2
    # the split start of the counts K = 1 fit alone reaches the long form's K = 2 optimum
    (origin, start), = split_class_starts(sel.results[1], n_classes_to_split=1)
    assert origin == "split class1"
    res2 = _quiet(build(2).fit, start_params=start)
    assert res2.llf == pytest.approx(sel_l.table.loc[2, "llf"], rel=1e-8)
