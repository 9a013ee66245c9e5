"""Tests of the simulators in mixlogit.datasets.simulate."""
from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp

import mixlogit.datasets as ds
from mixlogit.datasets import simulate as simulate_module
from mixlogit.datasets.simulate import DEFAULT_BETAS, DEFAULT_SHARES, default_betas
from mixlogit.exceptions import SpecificationError


def _true_row_probabilities(sim):
    """Within-class logit probability of each row given the decision maker's true class."""
    d = sim.data
    b_dm = sim.betas[sim.classes]  # (N, L)
    rows_per_dm = len(d) // sim.n_decision_makers
    v = (d[list(sim.attribute_names)].to_numpy() * np.repeat(b_dm, rows_per_dm, axis=0)).sum(1)
    for name, coef in sim.invariant.items():
        v = v + coef * d[name].to_numpy()
    avail = d["available"].to_numpy() == 1
    v = np.where(avail, v, -np.inf)
    j = d["alt"].cat.categories.size
    v = v.reshape(-1, j)
    return np.exp(v - logsumexp(v, axis=1, keepdims=True)).reshape(-1)


def test_callable_module_and_exports():
    assert callable(ds.simulate)
    assert ds.simulate is simulate_module
    assert ds.simulate_panel is simulate_module.simulate_panel
    assert ds.simulate_counts is simulate_module.simulate_counts
    a = ds.simulate(n_decision_makers=20, n_situations=2, seed=5)
    b = ds.simulate_panel(n_decision_makers=20, n_situations=2, seed=5)
    pd.testing.assert_frame_equal(a.data, b.data)


def test_defaults_and_layout():
    sim = ds.simulate_panel(n_decision_makers=50, n_situations=3, n_alternatives=4, seed=0)
    d = sim.data
    assert d.shape == (50 * 3 * 4, 10)
    assert list(d.columns) == ["id", "chid", "alt", "choice", "available",
                               "x1", "x2", "x3", "x4", "x5"]
    np.testing.assert_array_equal(sim.betas, DEFAULT_BETAS)
    np.testing.assert_array_equal(sim.shares, DEFAULT_SHARES)
    assert sim.attribute_names == ("x1", "x2", "x3", "x4", "x5")
    assert sim.classes.shape == (50,) and sim.classes.dtype == np.int64
    assert d["id"].dtype == np.int64 and d["chid"].dtype == np.int64
    assert isinstance(d["alt"].dtype, pd.CategoricalDtype)
    assert list(d["alt"].cat.categories) == [1, 2, 3, 4]
    assert (d.groupby("chid")["choice"].sum() == 1).all()
    assert (d.groupby("chid").size() == 4).all()
    assert (d.groupby("id")["chid"].nunique() == 3).all()
    assert (d.groupby("chid")["id"].nunique() == 1).all()
    assert (d["available"] == 1).all()
    assert d["chid"].is_monotonic_increasing
    # results are read-only
    with pytest.raises(ValueError):
        sim.betas[0, 0] = 3.0
    assert "SimulatedPanel" in repr(sim)


def test_seeded_reproducibility():
    kw = dict(n_decision_makers=300, n_situations=4, n_alternatives=3, seed=123,
              invariant={"w": 0.5}, availability_rate=0.8,
              membership=(np.array([[0.0], [1.0], [-1.0]]), ["z"]))
    a, b = ds.simulate_panel(**kw), ds.simulate_panel(**kw)
    pd.testing.assert_frame_equal(a.data, b.data)
    np.testing.assert_array_equal(a.classes, b.classes)
    c = ds.simulate_panel(**{**kw, "seed": 124})
    assert not np.array_equal(a.data["x1"].to_numpy(), c.data["x1"].to_numpy())
    # a Generator is accepted and advanced
    rng = np.random.default_rng(7)
    d1 = ds.simulate_panel(n_decision_makers=10, seed=rng)
    d2 = ds.simulate_panel(n_decision_makers=10, seed=rng)
    assert not np.array_equal(d1.data["x1"].to_numpy(), d2.data["x1"].to_numpy())
    e1 = ds.simulate_panel(n_decision_makers=10, seed=np.random.default_rng(7))
    pd.testing.assert_frame_equal(d1.data, e1.data)


def test_class_shares_and_choice_frequencies():
    n = 20_000
    sim = ds.simulate_panel(n_decision_makers=n, n_situations=5, n_alternatives=4, seed=2024)
    counts = np.bincount(sim.classes, minlength=3)
    sd = np.sqrt(n * sim.shares * (1 - sim.shares))
    assert np.all(np.abs(counts - n * sim.shares) < 3 * sd)
    # calibration: choice frequencies match the true within-class logit probabilities
    p = _true_row_probabilities(sim)
    y = sim.data["choice"].to_numpy()
    bins = np.minimum((p * 10).astype(int), 9)
    for k in range(10):
        m = bins == k
        if m.sum() < 100:
            continue
        se = np.sqrt((p[m] * (1 - p[m])).sum())
        assert abs(y[m].sum() - p[m].sum()) < 4 * se, k
    # per-alternative totals
    j = 4
    for a in range(j):
        m = np.arange(len(y)) % j == a
        se = np.sqrt((p[m] * (1 - p[m])).sum())
        assert abs(y[m].sum() - p[m].sum()) < 4 * se
    # the truth fits far better than the wrong class assignment
    ll_true = np.log(p[y == 1]).sum()
    wrong = sim.betas[(sim.classes + 1) % 3]
    v = (sim.data[list(sim.attribute_names)].to_numpy() * np.repeat(wrong, 20, axis=0)).sum(1)
    v = v.reshape(-1, j)
    ll_wrong = (v - logsumexp(v, axis=1, keepdims=True)).reshape(-1)[y == 1].sum()
    assert ll_true > ll_wrong + 1000


def test_conditional_logit_recovers_one_class_truth():
    from statsmodels.discrete.conditional_models import ConditionalLogit

    beta = np.array([1.0, -0.5, 0.25])
    sim = ds.simulate_panel(n_decision_makers=1000, n_situations=5, n_alternatives=3,
                            betas=beta, invariant={"w": -0.75}, seed=11)
    assert sim.betas.shape == (1, 3)
    assert np.all(sim.classes == 0)
    d = sim.data
    names = [*sim.attribute_names, "w"]
    res = ConditionalLogit(d["choice"].to_numpy(), d[names].to_numpy(),
                           groups=d["chid"].to_numpy()).fit(disp=0)
    truth = np.r_[beta, -0.75]
    z = (np.asarray(res.params) - truth) / np.asarray(res.bse)
    assert np.all(np.abs(z) < 4), z


def test_availability():
    sim = ds.simulate_panel(n_decision_makers=2000, n_situations=5, n_alternatives=4,
                            availability_rate=0.6, seed=3)
    d = sim.data
    assert (d.loc[d["choice"] == 1, "available"] == 1).all()
    assert (d.groupby("chid")["choice"].sum() == 1).all()
    assert (d.groupby("chid")["available"].sum() >= 1).all()
    rate = d["available"].mean()
    # rate after forcing one available alternative in empty situations: 0.6 + 0.4**4 / 4
    expected = 0.6 + 0.4**4 / 4
    assert abs(rate - expected) < 4 * np.sqrt(expected * (1 - expected) / len(d))
    p = _true_row_probabilities(sim)
    assert np.all(p[d["available"].to_numpy() == 0] == 0)
    y = d["choice"].to_numpy()
    m = (p > 0) & (p < 1)
    assert abs(y[m].sum() - p[m].sum()) < 4 * np.sqrt((p[m] * (1 - p[m])).sum())


def test_membership_covariates():
    import statsmodels.api as sm

    gamma = np.array([[0.0, 0.0], [1.0, -0.5], [-0.8, 0.7]])
    shares = np.array([0.4, 0.35, 0.25])
    n = 20_000
    sim = ds.simulate_panel(n_decision_makers=n, n_situations=2, n_alternatives=2,
                            shares=shares, membership=(gamma, ["age", "income"]), seed=99)
    d = sim.data
    assert list(d.columns[-2:]) == ["age", "income"]
    assert (d.groupby("id")[["age", "income"]].nunique() == 1).all().all()
    assert sim.membership_names == ("age", "income")
    assert sim.class_probabilities.shape == (n, 3)
    np.testing.assert_allclose(sim.class_probabilities.sum(1), 1.0)
    # class frequencies match the mean membership probabilities
    expected = sim.class_probabilities.mean(0)
    counts = np.bincount(sim.classes, minlength=3)
    var = (sim.class_probabilities * (1 - sim.class_probabilities)).sum(0)
    assert np.all(np.abs(counts - n * expected) < 3 * np.sqrt(var))
    # a multinomial logit of the true classes on z recovers intercepts and gamma
    z = d.groupby("id")[["age", "income"]].first().to_numpy()
    res = sm.MNLogit(sim.classes, sm.add_constant(z)).fit(disp=0)
    truth = sim.true_params()["membership"].to_numpy()[1:].T  # (1 + M, K - 1)
    zstat = (np.asarray(res.params) - truth) / np.asarray(res.bse)
    assert np.all(np.abs(zstat) < 4), zstat
    tp = sim.true_params()
    assert list(tp["membership"].columns) == ["Intercept", "age", "income"]
    assert tp["membership"].iloc[1, 0] == pytest.approx(np.log(0.35 / 0.4))


def test_true_params():
    sim = ds.simulate_panel(n_decision_makers=10, betas=[[1.0, 2.0], [-1.0, 0.0]],
                            shares=[0.7, 0.3], invariant={"price": -1.5}, seed=0)
    tp = sim.true_params()
    assert tp["betas"].shape == (2, 2)
    assert list(tp["betas"].columns) == ["x1", "x2"]
    assert tp["shares"].tolist() == [0.7, 0.3]
    assert tp["invariant"].to_dict() == {"price": -1.5}
    assert tp["membership"] is None
    assert "price" in sim.data.columns


def test_default_betas_any_width():
    b = default_betas(12)
    assert b.shape == (3, 12)
    np.testing.assert_array_equal(b[:, :5], DEFAULT_BETAS)
    np.testing.assert_array_equal(b[:, 5:10], -DEFAULT_BETAS)
    sim = ds.simulate_panel(n_decision_makers=5, n_attributes=2, seed=0)
    assert sim.attribute_names == ("x1", "x2")
    np.testing.assert_array_equal(sim.betas, DEFAULT_BETAS[:, :2])


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_decision_makers=0),
        dict(n_situations=1.5),
        dict(betas=np.ones((2, 3)), shares=[0.5, 0.3, 0.2]),
        dict(betas=np.ones((2, 3)), shares=[0.6, 0.6]),
        dict(betas=np.ones((2, 3)), n_attributes=4),
        dict(availability_rate=0.0),
        dict(availability_rate=1.5),
        dict(membership=(np.ones((3, 1)), ["z"])),
        dict(membership=(np.zeros((2, 1)), ["z"])),
        dict(membership=(np.zeros((3, 2)), ["z"])),
        dict(membership=(np.zeros((3, 1)), ["x1"])),
        dict(invariant={"x2": 1.0}),
        dict(attribute_scale=0.0),
        dict(betas=[[np.nan, 1.0]]),
    ],
)
def test_invalid_arguments(kwargs):
    with pytest.raises(SpecificationError):
        ds.simulate_panel(**kwargs)


def test_attribute_scale():
    sim = ds.simulate_panel(n_decision_makers=2000, attribute_scale=2.0, seed=1)
    assert sim.data["x1"].std() == pytest.approx(2.0, rel=0.02)


def test_large_simulation_is_vectorised():
    """20,000 x 10 x 4 = 800,000 rows must take well under the time a row loop would."""
    import time

    t0 = time.perf_counter()
    sim = ds.simulate_panel(n_decision_makers=20_000, n_situations=10, n_alternatives=4, seed=0)
    elapsed = time.perf_counter() - t0
    assert len(sim.data) == 800_000
    assert elapsed < 5.0


# ----------------------------------------------------------------------------------- counts form


def test_simulate_counts_basic():
    sim = ds.simulate_counts(n_candidates=40, n_draws=200_000, seed=5)
    assert sim.features.shape == (40, 5)
    assert sim.counts.shape == (40,) and sim.counts.dtype == np.int64
    assert sim.counts.sum() == 200_000 and sim.n_draws == 200_000
    assert sim.probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    # probabilities equal the mixture of per-class softmaxes
    util = sim.features @ sim.betas.T
    soft = np.exp(util - util.max(0)) / np.exp(util - util.max(0)).sum(0)
    np.testing.assert_allclose(sim.probabilities, soft @ sim.shares, rtol=1e-12)
    # empirical frequencies close to pi
    pi = sim.probabilities
    se = np.sqrt(pi * (1 - pi) / 200_000)
    assert np.all(np.abs(sim.counts / 200_000 - pi) < 4.5 * se)
    chi2 = ((sim.counts - 200_000 * pi) ** 2 / (200_000 * pi)).sum()
    assert chi2 < 39 + 5 * np.sqrt(2 * 39)
    assert "SimulatedCounts" in repr(sim)


def test_simulate_counts_reproducible_and_options():
    a = ds.simulate_counts(n_candidates=10, n_draws=100, betas=[0.5, -1.0], seed=1)
    b = ds.simulate_counts(n_candidates=10, n_draws=100, betas=[0.5, -1.0], seed=1)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.features, b.features)
    assert a.betas.shape == (1, 2) and a.shares.tolist() == [1.0]
    # a zero share is allowed and gives the other class's softmax
    c = ds.simulate_counts(n_candidates=10, n_draws=0, betas=[[1.0], [-1.0]], shares=[1.0, 0.0],
                           seed=2)
    u = c.features[:, 0]
    np.testing.assert_allclose(c.probabilities, np.exp(u) / np.exp(u).sum())
    assert c.counts.sum() == 0
    with pytest.raises(SpecificationError):
        ds.simulate_counts(n_candidates=0, n_draws=10)
    with pytest.raises(SpecificationError):
        ds.simulate_counts(n_candidates=5, n_draws=-1)


def test_docstring_examples_run():
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in doctest.DocTestFinder().find(simulate_module) if t.examples]
    assert tests
    for test in tests:
        runner.run(test)
    assert runner.failures == 0
