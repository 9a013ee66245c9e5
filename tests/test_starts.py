"""Tests of the start strategies: partition, subspace (counts and long form), mom; the start report."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.linalg import subspace_angles

import mixlogit as mx
from mixlogit.datasets.simulate import simulate_counts, simulate_panel
from mixlogit.em import EMRun, summarize_starts
from mixlogit.exceptions import SpecificationError, StartsWarning
from mixlogit.params import align_classes
from mixlogit.starts import START_STRATEGIES, make_starts
from mixlogit.starts.subspace import score_subspace, score_subspace_starts


@pytest.fixture(scope="module")
def panel_k2():
    """Two classes differing along (1, -1, 0, 0) only; T = 15 situations per person."""
    betas = np.array([[1.5, -1.0, 0.5, 0.3], [-0.5, 1.0, 0.5, 0.3]])
    sim = simulate_panel(n_decision_makers=800, n_situations=15, n_alternatives=3, betas=betas,
                         shares=np.array([0.5, 0.5]), seed=3)
    model = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x2 + x3 + x4 - 1", sim.data,
                                                  groups="chid", panel="id", k_classes=2)
    return sim, model


def test_registry():
    assert {"partition", "subspace", "mom"} <= set(START_STRATEGIES)


def test_score_subspace_recovers_direction(panel_k2):
    sim, model = panel_k2
    sub = score_subspace(model.likelihood(), 1)
    truth = (sim.betas[0] - sim.betas[1])[:, None]
    angle = subspace_angles(sub.basis, truth)[0]
    assert angle < 0.15  # radians
    # the between-class variance along it: alpha(1-alpha)|b1-b2|^2 = 0.25 * 5 = 1.25
    assert 0.5 < sub.eigenvalues[0] < 2.5
    assert sub.eigenvalues[0] > 5 * abs(sub.eigenvalues[1])
    # the pooled estimate is the one-class fit (zero score)
    m1 = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x2 + x3 + x4 - 1", sim.data,
                                               groups="chid", panel="id", k_classes=1)
    assert np.linalg.norm(m1.score(sub.pooled)) < 1e-2


def test_score_subspace_starts_lie_in_subspace(panel_k2):
    _, model = panel_k2
    lik = model.likelihood()
    starts = score_subspace_starts(lik, 5, np.random.default_rng(0))
    sub = score_subspace(lik, 1)
    assert [o for o, _ in starts] == [f"subspace {i}" for i in range(5)]
    for _, theta in starts:
        u = model.layout.unpack(theta)
        dev = u.betas - sub.pooled[:4]
        resid = dev - (dev @ sub.basis) @ sub.basis.T
        assert np.abs(resid).max() < 1e-10
        assert np.all(u.gamma == 0)  # equal shares
    again = score_subspace_starts(lik, 5, np.random.default_rng(0))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(starts, again))


def test_subspace_fit_recovers_truth_long(panel_k2):
    sim, model = panel_k2
    res = model.fit(start="subspace", n_starts=4, seed=0)
    order, _ = align_classes(sim.betas, res.params_by_class.to_numpy().T)
    est = res.params_by_class.to_numpy().T[order]
    assert np.abs(est - sim.betas).max() < 0.25
    assert res.starts["origin"].str.startswith("subspace").all()


def test_mom_on_long_form_raises(panel_k2):
    _, model = panel_k2
    with pytest.raises(SpecificationError, match="from_counts") as err:
        model.fit(start="mom", n_starts=2, seed=0)
    assert "subspace" in str(err.value) and "partition" in str(err.value)


def test_unknown_start_raises(panel_k2):
    _, model = panel_k2
    with pytest.raises(SpecificationError, match="not known"):
        model.fit(start="nonsense", seed=0)


# ----------------------------------------------------------------------- counts form
@pytest.fixture(scope="module")
def counts_k2():
    betas = np.array([[1.0, -0.6, 0.4, 0.2], [-0.4, 0.8, 0.6, -0.5]])
    sim = simulate_counts(n_candidates=20_000, n_draws=400_000, betas=betas,
                          shares=np.array([0.6, 0.4]), seed=8)
    model = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features, k_classes=2)
    return sim, model


def test_counts_subspace_draws_in_m2_span(counts_k2):
    sim, model = counts_k2
    lik = model.likelihood()
    starts = make_starts(lik, "subspace", 4, np.random.default_rng(0))
    mom = mx.latent_moments(sim.counts, sim.features)
    U = mom.subspace(2).basis
    for _, theta in starts:
        gam = mom.whitening.to_whitened(model.layout.unpack(theta).betas)  # whitened coords
        resid = gam - (gam @ U) @ U.T
        assert np.abs(resid).max() < 1e-10
    # the M2 subspace is close to the span of the (whitened) atoms
    G = mom.whitening.to_whitened(sim.betas)
    assert subspace_angles(U, G.T).max() < 0.2


def test_mom_at_k2_reaches_truth_optimum(counts_k2):
    sim, model = counts_k2
    truth = model.layout.pack(sim.betas, gamma=np.log(sim.shares)[:, None])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r_mom = model.fit(start="mom", n_starts=2, seed=0)
        r_truth = model.fit(start_params=truth)
    assert r_mom.starts["origin"].iloc[0].startswith("mom")
    assert r_mom.llf == pytest.approx(r_truth.llf, abs=1e-6)
    np.testing.assert_allclose(r_mom.params.to_numpy(), r_truth.params.to_numpy(), atol=1e-4)
    # the MoM start alone (no random start) already reaches it
    mom_run = r_mom.starts.iloc[0]
    assert r_truth.llf - mom_run["llf"] < 1e-4 * abs(r_truth.llf)
    # and it is close to the truth before any EM
    lik = model.likelihood()
    moms = [s for s in make_starts(lik, "mom", 2, np.random.default_rng(0))
            if s[0].startswith("mom")]
    errors = []
    for _, theta0 in moms:
        b0 = model.layout.unpack(theta0).betas
        order, _ = align_classes(sim.betas, b0)
        errors.append(np.abs(b0[order] - sim.betas).max())
    assert min(errors) < 0.3


def test_mom_start_is_accompanied_by_random_starts(counts_k2):
    _, model = counts_k2
    lik = model.likelihood()
    starts = make_starts(lik, "mom", 1, np.random.default_rng(0))
    origins = [o for o, _ in starts]
    # K = 2 <= L = 4: the tensor and the Prony estimates, then one random draw at least
    assert len(starts) == 3
    assert origins[0].startswith("mom") and origins[1].startswith("mom")
    assert origins[2].startswith("subspace")
    starts = make_starts(lik, "mom", 6, np.random.default_rng(0))
    assert len(starts) == 6 and sum(o.startswith("subspace") for o, _ in starts) == 4


# ----------------------------------------------------------------------- start report
def _run(llf, origin="x"):
    return EMRun(origin=origin, params=np.zeros(2), llf=llf, history=np.array([llf]), n_iter=5,
                 converged=True, seconds=0.1, start_params=np.zeros(2))


def test_start_report_counts_optima():
    runs = [_run(-100.0), _run(-100.000001), _run(-105.0), _run(-100.0000005), _run(-120.0)]
    rep = summarize_starts(runs)
    assert rep.n_reached_best == 3
    assert len(rep.optima) == 3
    assert rep.table["optimum"].tolist() == [0, 0, 1, 0, 2]
    assert set(rep.table.columns) >= {"origin", "llf", "n_iter", "seconds", "optimum"}


def test_starts_warning_when_best_reached_once():
    """Starts that each end at their own optimum: only one reaches the best."""
    betas = np.array([[1.0, -0.6, 0.4], [-0.4, 0.8, 0.6], [0.2, 0.2, -1.0]])
    sim = simulate_counts(n_candidates=300, n_draws=3_000, betas=betas, seed=2)
    model = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features, k_classes=3)
    starts = [model.layout.pack(betas), model.layout.pack(-betas), model.layout.pack(3 * betas)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit(start_params=starts, maxiter=3, polish=False)
    rep = res.start_report
    assert rep.n_reached_best == 1 and len(rep.optima) == 3
    assert any(issubclass(w.category, StartsWarning) for w in caught)
    assert len(res.starts) == 3 and res.starts["n_iter"].le(3).all()
    assert res.starts["origin"].tolist() == ["given 0", "given 1", "given 2"]
