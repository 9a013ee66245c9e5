"""Label-aligned bootstrap: reproducibility, alignment, label switching, covariance path."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import mixlogit as mx
from mixlogit.bootstrap import assignment_costs, match_classes, resample_weights
from mixlogit.datasets.simulate import simulate_panel

FORMULA = "choice ~ x1 + x2 - 1"


def _fit(sim, k=2, n_starts=3, seed=0, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        return mx.MixedMultinomialLogit.from_formula(
            FORMULA, sim.data, groups="chid", panel="id", k_classes=k).fit(
            n_starts=n_starts, seed=seed, **kw)


@pytest.fixture(scope="module")
def equal_shares_fit():
    """Two classes of equal size: canonical (share) order flips between replicates."""
    sim = simulate_panel(n_decision_makers=300, n_situations=8, n_alternatives=3,
                         betas=[[1.2, -0.8], [-0.8, 1.2]], shares=[0.5, 0.5], seed=7)
    return _fit(sim)


@pytest.fixture(scope="module")
def boot(equal_shares_fit):
    return equal_shares_fit.bootstrap(150, seed=3)


def test_resample_weights_sum_and_clusters():
    rng = np.random.default_rng(0)
    c = resample_weights(np.ones(50), 20, rng)
    assert c.shape == (20, 50)
    assert np.all(c.sum(axis=1) == 50)
    codes = np.repeat(np.arange(10), 5)  # 10 clusters of 5 decision makers
    c = resample_weights(np.ones(50), 20, rng, codes)
    assert np.all(c.reshape(20, 10, 5).std(axis=2) == 0)  # constant within clusters
    assert np.all(c.reshape(20, 10, 5)[:, :, 0].sum(axis=1) == 10)


def test_resample_weights_draws_behind_whole_weights():
    """Whole weights: the W draws are resampled, so unit n's weight is Binomial(W, w_n / W)."""
    w = np.array([6.0, 0.0, 3.0, 1.0])
    c = resample_weights(w, 4000, np.random.default_rng(1))
    assert np.all(c.sum(axis=1) == 10) and np.all(c[:, 1] == 0)
    np.testing.assert_allclose(c.mean(axis=0), w, atol=0.1)
    np.testing.assert_allclose(c.var(axis=0), 10 * (w / 10) * (1 - w / 10), rtol=0.1, atol=1e-12)
    # the same seed gives the expanded data (one unit per draw) the same replicates
    expanded = resample_weights(np.ones(10), 3, np.random.default_rng(2))
    grouped = resample_weights(w, 3, np.random.default_rng(2))
    unit_of_draw = np.repeat(np.arange(4), w.astype(int))
    np.testing.assert_array_equal(
        np.stack([np.bincount(unit_of_draw, weights=e, minlength=4) for e in expanded]), grouped)
    # sampling (non-whole) weights: units are resampled and keep their weights
    s = resample_weights(np.array([0.5, 1.5, 2.0]), 50, np.random.default_rng(3))
    ratio = s / np.array([0.5, 1.5, 2.0])
    assert np.all(ratio == np.round(ratio)) and np.all(ratio.sum(axis=1) == 3)


def test_assignment_costs_second_best_by_hand():
    cost = np.array([[0.0, 5.0, 9.0], [4.0, 1.0, 8.0], [7.0, 6.0, 2.0]])
    order, best, second = assignment_costs(cost)
    assert list(order) == [0, 1, 2]
    assert best == 3.0
    # the 6 permutations: 3, 0+8+6=14, 5+4+2=11, 5+8+7=20, 9+4+6=19, 9+1+7=17
    assert second == 11.0
    order, best, second = assignment_costs(cost[:, [2, 0, 1]])
    assert list(order) == [1, 2, 0]


def test_match_classes_standardized_cost_by_hand():
    ref = np.array([[1.0, 0.6], [-1.0, 0.4]])
    cand = np.array([[-0.8, 0.5], [1.2, 0.5]])
    scale = np.array([[0.1, 0.05], [0.2, np.inf]])  # inf: class 2's share is ignored
    m = match_classes(ref, cand, scale)
    assert m.order.tolist() == [1, 0]
    assert m.cost[0, 1] == pytest.approx((0.2 / 0.1) ** 2 + (0.1 / 0.05) ** 2)
    assert m.cost[1, 0] == pytest.approx((0.2 / 0.2) ** 2)
    assert m.best == pytest.approx(8.0 + 1.0)
    assert m.second == pytest.approx((1.8 / 0.1) ** 2 + (0.1 / 0.05) ** 2 + (2.2 / 0.2) ** 2)


def test_labels_switch_without_alignment_and_aligned_errors_match_oim(equal_shares_fit, boot):
    res = equal_shares_fit
    assert boot.share_failed == 0.0
    betas = [n for n in res.params.index if not n.startswith("membership")]
    # the canonical order (largest share first) switches between replicates ...
    shares = boot.share_draws
    assert (shares["class1"] < shares["class2"]).mean() > 0.05
    # ... aligned standard errors agree with the observed information within 20%
    ratio = boot.bse[betas] / res.bse[betas]
    assert np.all(np.abs(ratio - 1) < 0.2), ratio
    # ... and the unaligned spread does not
    ratio_unaligned = boot.unaligned_bse[betas] / res.bse[betas]
    assert np.all(ratio_unaligned > 2.0), ratio_unaligned


def test_percentile_interval_and_summary(boot, equal_shares_fit):
    ci = boot.conf_int(0.05)
    est = equal_shares_fit.params
    assert np.all(ci["lower"] < est) and np.all(est < ci["upper"])
    draws = np.sort(boot.draws.dropna().to_numpy(), axis=0)
    R = draws.shape[0]
    # the (R + 1) p order statistic, interpolated: positions 3.775 and 147.225 of 150
    for col, p in ((0, 0.025), (1, 0.975)):
        h = (R + 1) * p
        lo, frac = int(np.floor(h)), h - np.floor(h)
        q = draws[lo - 1] + frac * (draws[lo] - draws[lo - 1])
        np.testing.assert_allclose(ci.iloc[:, col].to_numpy(), q)
    normal = boot.conf_int(0.05, method="normal")
    np.testing.assert_allclose((normal["upper"] - normal["lower"]) / (2 * 1.959963984540054),
                               boot.bse, rtol=1e-10)
    frame = boot.summary_frame()
    assert list(frame.columns) == ["estimate", "bse", "unaligned_bse", "lower", "upper"]
    assert "doubtful" in str(boot)
    assert boot.share_draws.shape == (150, 2)
    np.testing.assert_allclose(boot.share_draws.sum(axis=1), 1.0)


def test_reproducible_and_independent_of_n_jobs(equal_shares_fit):
    a = equal_shares_fit.bootstrap(6, seed=11)
    filters = list(warnings.filters)
    b = equal_shares_fit.bootstrap(6, seed=11, n_jobs=2, backend="threads")
    assert warnings.filters == filters  # worker threads leave the warning filters alone
    c = equal_shares_fit.bootstrap(6, seed=11, n_jobs=2, backend="processes")
    np.testing.assert_allclose(a.draws, b.draws, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.draws, c.draws, rtol=1e-8, atol=1e-10)
    d = equal_shares_fit.bootstrap(6, seed=12)
    assert not np.allclose(a.draws, d.draws)


def test_bootstrap_covariance_in_results(equal_shares_fit, boot):
    res_b = equal_shares_fit.get_robustcov_results("bootstrap", results=boot)
    assert res_b.cov_type == "bootstrap"
    np.testing.assert_allclose(res_b.bse, boot.bse)
    np.testing.assert_allclose(res_b.params, equal_shares_fit.params)
    assert equal_shares_fit.cov_type == "oim"  # the original is untouched
    assert "bootstrap" in str(res_b.summary())


def test_fit_with_bootstrap_cov_type():
    sim = simulate_panel(n_decision_makers=120, n_situations=6, n_alternatives=3,
                         betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=2)
    res = _fit(sim, cov_type="bootstrap", cov_kwds={"n_reps": 8, "seed": 5})
    assert res.cov_type == "bootstrap"
    again = res.bootstrap(8, seed=5)
    np.testing.assert_allclose(res.bse, again.bse)


def test_cluster_bootstrap_by_column():
    sim = simulate_panel(n_decision_makers=120, n_situations=6, n_alternatives=3,
                         betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=4)
    data = sim.data.assign(region=(sim.data["id"] - 1) // 10)  # 12 clusters of 10 people
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        res = mx.MixedMultinomialLogit.from_formula(
            FORMULA, data, groups="chid", panel="id", k_classes=2).fit(n_starts=2, seed=0)
        b = res.bootstrap(5, seed=0, cluster="region")
    assert b.n_clusters == 12
    with pytest.raises(mx.SpecificationError):
        res.bootstrap(5, seed=0, cluster="x1")  # varies within decision makers


def test_bad_arguments(equal_shares_fit):
    with pytest.raises(mx.SpecificationError):
        equal_shares_fit.bootstrap(1)
    with pytest.raises(mx.SpecificationError):
        equal_shares_fit.bootstrap(5, align="labels")
    with pytest.raises(mx.SpecificationError):
        equal_shares_fit.bootstrap(5, backend="mpi")
    with pytest.raises(mx.SpecificationError, match="n_jobs"):
        equal_shares_fit.bootstrap(5, n_jobs=0)
    with pytest.raises(mx.SpecificationError, match="extra_starts"):
        equal_shares_fit.bootstrap(5, extra_starts=-1)
    with pytest.raises(mx.SpecificationError, match="not both"):
        mx.bootstrap.bootstrap(equal_shares_fit, 5, extra_starts=1, n_starts=3)
    boot = equal_shares_fit.bootstrap(3, seed=0)
    for alpha in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(mx.SpecificationError, match="alpha"):
            boot.conf_int(alpha)
        with pytest.raises(mx.SpecificationError, match="alpha"):
            boot.share_conf_int(alpha)
