"""The generic EM loop on a problem with a closed form: a two-component Gaussian mixture."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from mixlogit.em import EMRun, run_em, run_starts, summarize_starts

rng = np.random.default_rng(0)
X = np.r_[rng.normal(-1.0, 1.0, 300), rng.normal(2.0, 1.0, 200)]


def loglike(theta):
    w = 1 / (1 + np.exp(-theta[2]))
    return np.log(w * stats.norm.pdf(X, theta[0]) + (1 - w) * stats.norm.pdf(X, theta[1])).sum()


def estep(theta):
    w = 1 / (1 + np.exp(-theta[2]))
    a = w * stats.norm.pdf(X, theta[0])
    b = (1 - w) * stats.norm.pdf(X, theta[1])
    return float(np.log(a + b).sum()), a / (a + b)


def mstep(theta, h):
    w = h.mean()
    return np.array([(h * X).sum() / h.sum(), ((1 - h) * X).sum() / (1 - h).sum(),
                     np.log(w / (1 - w))])


def test_em_converges_to_the_maximum_and_ascends():
    run = run_em(estep, mstep, np.array([-0.5, 0.5, 0.0]), tol=1e-12, maxiter=5000)
    assert run.converged and run.monotone and run.error is None
    assert np.all(np.diff(run.history) >= -1e-9)
    best = optimize.minimize(lambda t: -loglike(t), run.params, method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    assert run.llf == pytest.approx(-best.fun, abs=1e-7)
    np.testing.assert_allclose(run.params, best.x, atol=1e-4)


def test_maxiter_stops_without_convergence():
    run = run_em(estep, mstep, np.array([-0.5, 0.5, 0.0]), tol=1e-14, maxiter=3)
    assert not run.converged and run.n_iter == 3 and len(run.history) == 4


def test_finish_takes_over_and_its_verdict_counts():
    calls = []

    def finish(theta):
        calls.append(theta)
        res = optimize.minimize(lambda t: -loglike(t), theta, method="BFGS")
        return res.x, [float(-res.fun)], True

    run = run_em(estep, mstep, np.array([-0.5, 0.5, 0.0]), tol=1e-12, switch_tol=1e-4,
                 finish=finish)
    assert len(calls) == 1 and run.n_finish == 1 and run.converged
    assert run.history[-1] >= run.history[-2] - 1e-9


def test_errors_are_recorded_not_raised():
    def bad_mstep(theta, h):
        raise np.linalg.LinAlgError("singular")

    run = run_em(estep, bad_mstep, np.zeros(3))
    assert run.error.startswith("LinAlgError") and not run.converged


def test_start_report_groups_optima():
    def fake(llf, error=None):
        return EMRun("x", np.zeros(1), llf, np.array([llf]), 1, True, 0.0, np.zeros(1), error=error)

    report = summarize_starts([fake(-100.0), fake(-100.001), fake(-120.0), fake(np.nan, "boom")])
    assert report.n_reached_best == 2 and report.best_index == 0
    np.testing.assert_allclose(report.optima, [-100.0, -120.0])
    assert list(report.table["optimum"]) == [0, 0, 1, -1]


def test_threads_give_the_same_runs():
    starts = [(f"s{i}", np.array([-0.5 - i, 0.5 + i, 0.0])) for i in range(4)]
    serial = run_starts(lambda: (estep, mstep), starts, tol=1e-10)
    threaded = run_starts(lambda: (estep, mstep), starts, tol=1e-10, n_jobs=2)
    assert [r.llf for r in serial] == [r.llf for r in threaded]


def test_all_cores_give_the_same_runs_in_order():
    starts = [(f"s{i}", np.array([-0.5 - i, 0.5 + i, 0.0])) for i in range(3)]
    serial = run_starts(lambda: (estep, mstep), starts, tol=1e-10)
    every = run_starts(lambda: (estep, mstep), starts, tol=1e-10, n_jobs=-1, progress=False)
    assert [r.origin for r in every] == ["s0", "s1", "s2"]
    assert [r.llf for r in serial] == [r.llf for r in every]
    # each start reaches the maximum found by an independent optimizer
    best = optimize.minimize(lambda t: -loglike(t), serial[0].params, method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    assert max(r.llf for r in every) == pytest.approx(-best.fun, abs=1e-6)


def test_old_private_progress_helper_keeps_its_positional_signature():
    from mixlogit import em
    assert list(em._progress([1, 2, 3], 3, False, "K")) == [1, 2, 3]
