"""Tests of the start strategies: partition, subspace (counts and long form), mom; the start report."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.linalg import subspace_angles
from scipy.optimize import minimize

import mixlogit as mx
from mixlogit.datasets.simulate import simulate_counts, simulate_panel
from mixlogit.em import EMRun, summarize_starts
from mixlogit.exceptions import SpecificationError, StartsWarning
from mixlogit.likelihood.estimate import estimate
from mixlogit.params import align_classes
from mixlogit.starts import START_STRATEGIES, _common, make_starts
from mixlogit.starts.moves import improve, merge_split_moves, perturbation_move
from mixlogit.starts.portfolio import run_portfolio
from mixlogit.starts.search import individual_logits, kmeans
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


def test_mom_starts_total_is_n_starts(counts_k2):
    """n_starts is the total: the moment estimates first (tensor, then Prony), then draws."""
    _, model = counts_k2
    lik = model.likelihood()
    origins = [o for o, _ in make_starts(lik, "mom", 1, np.random.default_rng(0))]
    assert len(origins) == 1 and origins[0].startswith("mom (tensor")
    origins = [o for o, _ in make_starts(lik, "mom", 2, np.random.default_rng(0))]
    assert len(origins) == 2 and all(o.startswith("mom") for o in origins)
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


# ------------------------------------------------------------ literature strategies

LONG_STRATEGIES = ("partition", "subspace", "short", "kmeans", "split")
COUNTS_STRATEGIES = ("partition", "subspace", "mom", "short", "split")


@pytest.fixture(scope="module")
def panel_k3():
    """Three well separated classes, T = 8: the truth's optimum is the global one."""
    betas = np.array([[2.0, -1.0, 0.0], [-1.5, 1.5, 0.5], [0.0, 0.0, -2.0]])
    sim = simulate_panel(n_decision_makers=300, n_situations=8, n_alternatives=3, betas=betas,
                         shares=np.array([0.4, 0.35, 0.25]), seed=7)
    model = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x2 + x3 - 1", sim.data,
                                                  groups="chid", panel="id", k_classes=3)
    return sim, model


def test_registry_has_literature_strategies():
    assert set(LONG_STRATEGIES) | set(COUNTS_STRATEGIES) <= set(START_STRATEGIES)


@pytest.mark.parametrize("kind", LONG_STRATEGIES)
def test_long_strategy_reproducible_and_total(panel_k3, kind):
    _, model = panel_k3
    lik = model.likelihood()
    a = make_starts(lik, kind, 3, np.random.default_rng(5))
    b = make_starts(lik, kind, 3, np.random.default_rng(5))
    assert len(a) == 3  # n_starts is the total
    for (oa, pa), (ob, pb) in zip(a, b):
        assert oa == ob
        np.testing.assert_array_equal(pa, pb)
        assert pa.shape == (model.layout.n_params,) and np.all(np.isfinite(pa))


@pytest.mark.parametrize("kind", COUNTS_STRATEGIES)
def test_counts_strategy_reproducible_and_total(counts_k2, kind):
    _, model = counts_k2
    lik = model.likelihood()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = make_starts(lik, kind, 3, np.random.default_rng(5))
        b = make_starts(lik, kind, 3, np.random.default_rng(5))
    assert len(a) == 3
    for (oa, pa), (ob, pb) in zip(a, b):
        assert oa == ob
        np.testing.assert_array_equal(pa, pb)


@pytest.mark.parametrize("kind", LONG_STRATEGIES)
def test_long_strategy_independent_of_row_order(panel_k3, kind):
    """The same data with the rows shuffled give the same starts (draws over units only)."""
    sim, model = panel_k3
    df = sim.data.sample(frac=1.0, random_state=3)
    shuffled = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x2 + x3 - 1", df,
                                                     groups="chid", panel="id", k_classes=3)
    a = make_starts(model.likelihood(), kind, 2, np.random.default_rng(1))
    b = make_starts(shuffled.likelihood(), kind, 2, np.random.default_rng(1))
    for (_, pa), (_, pb) in zip(a, b):
        np.testing.assert_allclose(pa, pb, rtol=1e-8, atol=1e-10)


def test_inapplicable_strategies_raise(panel_k2, counts_k2):
    with pytest.raises(SpecificationError, match="long-format panel"):
        make_starts(counts_k2[1].likelihood(), "kmeans", 2, np.random.default_rng(0))
    sim, _ = panel_k2
    no_panel = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x2 + x3 + x4 - 1", sim.data,
                                                     groups="chid", k_classes=2)
    with pytest.raises(SpecificationError, match="min_situations"):
        make_starts(no_panel.likelihood(), "kmeans", 2, np.random.default_rng(0))
    with pytest.raises(SpecificationError, match="generator"):
        make_starts(no_panel.likelihood(), "short", 2, np.random.default_rng(0),
                    generator="short")
    fixed = panel_k2[1].likelihood(fixed={"class1:x1": 0.0})
    with pytest.raises(SpecificationError, match="class-invariant"):
        make_starts(fixed, "split", 2, np.random.default_rng(0))


def test_individual_logits_maximise_penalised_likelihood(panel_k3):
    """Brute force: scipy's optimum of one person's penalised logit likelihood."""
    sim, model = panel_k3
    lik = model.likelihood()
    B, beta_bar, A_bar = individual_logits(lik, shrinkage=0.5, n_steps=20)
    d = lik.data
    n = 17
    rows = d.decision_maker_of_row == n
    X, chosen, sit = d.exog[rows], d.chosen[rows], d.situation_of_row[rows]

    def negll(b):
        u = X @ b
        val = 0.0
        for s in np.unique(sit):
            m = sit == s
            val += u[m][chosen[m]].sum() - np.log(np.exp(u[m]).sum())
        return -(val - 0.25 * (b - beta_bar) @ A_bar @ (b - beta_bar))

    ref = minimize(negll, beta_bar, method="BFGS", options={"gtol": 1e-9}).x
    np.testing.assert_allclose(B[n], ref, atol=1e-5)
    # the pooled estimate is the one-class maximum likelihood estimate
    one = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x2 + x3 - 1", sim.data,
                                                groups="chid", panel="id", k_classes=1).fit()
    np.testing.assert_allclose(beta_bar, one.params.to_numpy(), atol=1e-6)


def test_kmeans_separates_clusters():
    rng = np.random.default_rng(0)
    pts = np.r_[rng.normal(0, 0.1, (30, 2)), rng.normal(5, 0.1, (20, 2)),
                rng.normal([0, 5], 0.1, (10, 2))]
    labels, wss = kmeans(pts, np.ones(60), 3, np.random.default_rng(1), n_init=5)
    truth = np.repeat([0, 1, 2], [30, 20, 10])
    for g in range(3):  # each true group is one cluster
        assert len(set(labels[truth == g])) == 1
    centres = [pts[truth == g].mean(axis=0) for g in range(3)]
    assert wss == pytest.approx(sum(((pts[truth == g] - centres[g]) ** 2).sum()
                                    for g in range(3)))


def test_split_direction_analytic():
    """spread = n diag(5, 1), info = n I: lambda = 5, half-step sqrt(5 - 1) along e1."""
    n = 100.0
    step = _common.split_direction(n * np.eye(2), n * np.diag([5.0, 1.0]), n)
    np.testing.assert_allclose(step, [2.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("kind", ["kmeans", "short", "split"])
def test_strategy_reaches_truth_optimum(panel_k3, kind):
    sim, model = panel_k3
    lik = model.likelihood()
    truth = estimate(lik, [("truth", model.layout.pack(sim.betas,
                                                       gamma=np.log(sim.shares)[:, None]))])
    est = estimate(lik, make_starts(lik, kind, 3, np.random.default_rng(0)))
    assert est.llf == pytest.approx(truth.llf, abs=1e-6 * abs(truth.llf))


# ------------------------------------------------------------------------ moves
def _bad_fit(model):
    """A two-class solution of three-class data, split into three badly: a local optimum."""
    lik = model.likelihood()
    runs = estimate(lik, make_starts(lik, "partition", 4, np.random.default_rng(2)))
    return lik, runs


def test_moves_never_lower_the_loglikelihood(panel_k3):
    _, model = panel_k3
    lik = model.likelihood()
    est = estimate(lik, make_starts(lik, "partition", 1, np.random.default_rng(4)), maxiter=8,
                   polish=False)
    start = est.best_run
    runs, spent = improve(lik, start, est.evaluation.posteriors, np.random.default_rng(0),
                          screen_iter=5)
    assert runs and spent > 0
    for run in runs:
        assert run.monotone  # every EM/Newton step of every move ascends
        assert run.llf == pytest.approx(lik.loglike(run.params), rel=1e-12)
    # a round is accepted only when it improves: the sequence of accepted bests rises
    assert max(r.llf for r in runs) >= start.llf - 1e-9 * abs(start.llf)


def test_merge_split_candidates_shapes_and_shares(panel_k3):
    _, model = panel_k3
    lik = model.likelihood()
    est = estimate(lik, make_starts(lik, "kmeans", 1, np.random.default_rng(0)))
    h = est.evaluation.posteriors
    moves = merge_split_moves(lik, est.params, h, n_moves=3)
    assert len(moves) == 3 and all(o.startswith("move: merge") for o, _ in moves)
    totals = (lik.weights[:, None] * h).sum(axis=0)
    for _, theta in moves:  # shares: merged pair together, split class halved
        u = model.layout.unpack(theta)
        share = np.exp(u.gamma[:, 0]) / np.exp(u.gamma[:, 0]).sum()
        assert share.sum() == pytest.approx(1.0)
        assert np.sort(share)[-1] <= (np.sort(totals)[-1] + np.sort(totals)[-2]) / totals.sum() + 1e-9
    label, theta = perturbation_move(lik, est.params, h, np.random.default_rng(0))
    assert label == "move: perturb" and np.all(np.isfinite(theta))


# -------------------------------------------------------------------- portfolio
def test_portfolio_reaches_truth_within_budget(panel_k3):
    sim, model = panel_k3
    lik = model.likelihood()
    truth = estimate(lik, [("truth", model.layout.pack(sim.betas,
                                                       gamma=np.log(sim.shares)[:, None]))])
    a = run_portfolio(lik, rng=3, budget=300)
    b = run_portfolio(lik, rng=3, budget=300)
    assert a.llf == pytest.approx(truth.llf, abs=1e-6 * abs(truth.llf))
    np.testing.assert_array_equal(a.params, b.params)  # reproducible with a seed
    rep = a.report
    # the cost is bounded: the last move round may overrun by at most one round
    assert rep.cost <= 1.5 * 300
    assert rep.n_screened >= 6 and rep.n_starts == len(a.runs)
    assert a.llf >= max(r.llf for r in a.runs if r.origin.startswith("move") is False) - 1e-9


def test_portfolio_counts_form(counts_k2):
    sim, model = counts_k2
    lik = model.likelihood()
    truth = estimate(lik, [("truth", model.layout.pack(sim.betas,
                                                       gamma=np.log(sim.shares)[:, None]))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = run_portfolio(lik, rng=0, budget=150)
    assert est.llf == pytest.approx(truth.llf, abs=1e-6 * abs(truth.llf))


def test_portfolio_rejects_bad_budget(panel_k3):
    with pytest.raises(SpecificationError, match="budget"):
        run_portfolio(panel_k3[1].likelihood(), rng=0, budget=-1)


# --------------------------------------------------------------- honest report
def test_report_counts_add_up_and_good_turing():
    llfs = [(-10.0, "a"), (-10.0, "b"), (-12.0, "c"), (-13.0, "d"), (-13.0, "e"),
            (-14.0, "f"), (-10.0, "move: merge 1+2, split 3"), (-12.0, "move: perturb")]
    rep = summarize_starts([_run(v, o) for v, o in llfs])
    tab = rep.table
    assert rep.n_starts == 8 and rep.n_moves == 2
    assert rep.n_reached_best == rep.n_starts_reached_best + rep.n_moves_reached_best == 3
    assert rep.n_distinct == 4
    # every finished run is counted once over the optima
    assert tab["optimum"].value_counts().sum() == rep.n_starts
    # Good-Turing by hand over the six starts: optima -12 and -14 seen once -> 2/6
    assert rep.missed_chance == pytest.approx(2 / 6)
    assert not rep.should_warn
    singles = summarize_starts([_run(-10.0), _run(-11.0), _run(-12.0)])
    assert singles.missed_chance == 1.0 and singles.should_warn
    assert "budget=" in singles.warning_message and "Good-Turing" in singles.warning_message


def test_report_distinct_by_parameters():
    """Equal log-likelihoods but different (aligned) parameters count apart; permuted
    classes do not."""
    lay = mx.params.ParamLayout(2, ("x1", "x2"), (), ("const",))
    a = lay.pack(np.array([[1.0, 0.0], [0.0, 1.0]]), gamma=np.array([[0.0], [0.3]]))
    perm = lay.permute(a, [1, 0])
    other = lay.pack(np.array([[2.0, 0.0], [0.0, 1.0]]), gamma=np.array([[0.0], [0.3]]))
    runs = [EMRun(origin=o, params=p, llf=-5.0, history=np.array([-5.0]), n_iter=1,
                  converged=True, seconds=0.0, start_params=p)
            for o, p in [("a", a), ("perm", perm), ("other", other)]]
    rep = summarize_starts(runs, layout=lay)
    assert rep.n_distinct == 1 and rep.n_distinct_params == 2
    assert rep.table["distance"].iloc[1] == pytest.approx(0.0, abs=1e-12)
    assert rep.table["distance"].iloc[2] == pytest.approx(1.0 / 2.0)


def test_short_keeps_the_best_screened_candidates(panel_k3):
    """Brute force: screen the same candidates by hand, keep the top two."""
    from mixlogit.starts.search import _partition_candidates

    _, model = panel_k3
    lik = model.likelihood()
    got = make_starts(lik, "short", 2, np.random.default_rng(9), n_candidates=8, n_iter=4)
    cands = _partition_candidates(lik, 8, np.random.default_rng(9))
    finals = []
    for origin, theta in cands:  # EM by hand: 4 generalized EM steps each
        estep, mstep = lik.make_steps()
        llf, ev = estep(theta)
        for _ in range(4):
            theta = mstep(theta, ev)
            llf, ev = estep(theta)
        finals.append((llf, origin, theta))
    finals.sort(key=lambda t: -t[0])
    assert [o for o, _ in got] == [f"short: {o}" for _, o, _ in finals[:2]]
    np.testing.assert_allclose(got[0][1], finals[0][2], rtol=1e-12, atol=1e-12)


def test_moves_from_the_global_optimum_are_rejected(panel_k3):
    """From the truth-started optimum no move can improve: one round, best unchanged."""
    sim, model = panel_k3
    lik = model.likelihood()
    est = estimate(lik, [("truth", model.layout.pack(sim.betas,
                                                     gamma=np.log(sim.shares)[:, None]))])
    runs, _ = improve(lik, est.best_run, est.evaluation.posteriors, np.random.default_rng(0))
    assert len(runs) == 1  # the round did not improve, so the search stopped
    assert runs[0].llf <= est.llf + 1e-7 * abs(est.llf)


def test_portfolio_on_a_constrained_likelihood_keeps_the_ties(panel_k3):
    """A wrapper that cannot be refitted per class: partitions and perturbations only, and the
    tie holds; the optimum is at least the one EM reaches from the same partitions alone."""
    from mixlogit.likelihood.constrained import ConstrainedLikelihood

    _, model = panel_k3
    names = model.layout.param_names
    i, j = names.index("class1:x3"), names.index("class2:x3")
    lik = ConstrainedLikelihood(model.likelihood(), ties=[[i, j]])
    est = run_portfolio(lik, rng=0, budget=200)
    assert est.params[i] == est.params[j]
    assert {o.split()[0] for o in est.report.table["origin"]} <= {"partition", "move:"}
    assert est.llf == pytest.approx(lik.loglike(est.params), rel=1e-12)
    plain = estimate(lik, make_starts(lik, "partition", 3, np.random.default_rng(0)))
    assert est.llf >= plain.llf - 1e-6 * abs(plain.llf)
