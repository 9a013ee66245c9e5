"""The body of ``MixedMultinomialLogit.fit``: checks once, then starts, estimate, results.

``fit`` validates its options (:mod:`mixlogit._fit_options`), builds the
likelihood, chooses the starts (the start portfolio by default, a named
strategy, or given values; on a hashed sample of decision makers when the data
hold more than ``model.start_sample``), runs the check-free
:func:`~mixlogit.likelihood.estimate` (or a direct optimizer), and wraps the
estimate in the results.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _checks as ck
from ._direct import fit_direct
from ._fit_options import (
    check_fit_options,
    check_fixed,
    default_cov_type,
    make_checked_starts,
    uses_portfolio,
)
from .exceptions import EstimationError, SpecificationError
from .likelihood import estimate
from .likelihood.blocks import single_thread_blas
from .likelihood.constrained import ConstrainedLikelihood, constrain
from .likelihood.estimate import SAMPLE_POLISH_TOL, SAMPLE_SWITCH_TOL, optima_starts
from .results import MixedMultinomialLogitResults
from .starts.portfolio import run_portfolio

__all__ = ["run_fit"]


def run_fit(model, given: dict[str, Any], *, start_params: Any,
            start_kwds: Mapping[str, Any]) -> MixedMultinomialLogitResults:
    """Fit ``model`` with the options ``given`` to ``fit``; see its docstring.

    Examples
    --------
    >>> import mixlogit as mx
    >>> from mixlogit._fit import run_fit
    >>> sim = mx.datasets.simulate.simulate_panel(
    ...     n_decision_makers=60, n_situations=4, n_alternatives=3,
    ...     betas=[[1.0, -1.0]], shares=[1.0], seed=0)
    >>> model = mx.MixedMultinomialLogit.from_formula(
    ...     "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=1)
    >>> given = dict(method="em", start=None, n_starts=None, budget=None, engine="auto",
    ...              seed=0, tol=1e-8, maxiter=1000, polish=True, switch_tol=1e-5, fixed=None,
    ...              cov_type=None, cov_kwds=None, n_jobs=1, progress=False, disp=False,
    ...              constraints=None, bounds=None)
    >>> bool(run_fit(model, given, start_params=None, start_kwds={}).converged)
    True
    """
    with single_thread_blas():  # BLAS on tall-skinny per-unit arrays: one thread is fastest
        return _run_fit(model, given, start_params=start_params, start_kwds=start_kwds)


def _run_fit(model, given: dict[str, Any], *, start_params: Any,
             start_kwds: Mapping[str, Any]) -> MixedMultinomialLogitResults:
    cov_type, cov_kwds = given["cov_type"], given["cov_kwds"]
    constraints, bounds = given["constraints"], given["bounds"]
    fixed, start = given["fixed"], given["start"]
    opts = check_fit_options(given, start_kwds, has_start_params=start_params is not None)
    fixed = check_fixed(fixed)
    rng = np.random.default_rng(opts["seed"])
    lik = model.likelihood(fixed, engine=opts["engine"])
    constrained = constrain(lik, constraints=constraints, bounds=bounds)
    if constrained is not lik and opts["method"] != "em":
        raise SpecificationError(f"fit(): constraints and bounds need method='em', not "
                                 f"{opts['method']!r}")
    portfolio = model.k_classes > 1 and uses_portfolio(
        given, has_start_params=start_params is not None)
    start = start_params if start_params is not None else (
        lik.default_start if start is None else start)
    n = 1 if model.k_classes == 1 and isinstance(start, str) else (opts["n_starts"] or 10)
    sample_seed = opts["seed"] if isinstance(opts["seed"], (int, np.integer)) else 0
    start_lik = lik.start_likelihood(max_units=model.start_sample, seed=int(sample_seed))
    if portfolio and start_kwds:  # the portfolio takes no start-strategy options
        ck.check_keywords(start_kwds, ["start_params", *given], where="fit()")
    if portfolio and not opts["polish"]:
        raise SpecificationError(
            "fit(): polish=False does not apply to the start portfolio (start=None, "
            "n_starts=None), which finishes every continued start by Newton's method; name "
            "a strategy to run EM alone, e.g. start='partition', n_starts=10, polish=False")
    sample_est = None
    search = dict(rng=rng, budget=opts["budget"], n_jobs=opts["n_jobs"],
                  progress=opts["progress"], tol=opts["tol"], maxiter=opts["maxiter"])
    if portfolio and start_lik is lik:
        starts = []
    elif portfolio:  # the portfolio on a sample; its distinct optima go on to all the data
        sample_est = run_portfolio(start_lik, **search)
        starts = optima_starts(sample_est)
    else:
        starts = make_checked_starts(start_lik, start, n, rng, start_kwds,
                                     ["start_params", *given])
        if not starts:
            raise EstimationError("no start values were produced")
        if start_lik is not lik:  # starts fitted on a sample: its distinct optima go on
            sample_est = estimate(start_lik, starts, tol=opts["tol"], maxiter=opts["maxiter"],
                                  polish_tol=SAMPLE_POLISH_TOL, check=False,
                                  n_jobs=opts["n_jobs"], progress=opts["progress"])
            starts = optima_starts(sample_est)
    lik = constrained  # the starts are the unconstrained model's, made feasible
    if portfolio and not starts:
        est = run_portfolio(lik, **search)
    elif opts["method"] == "em":
        # runs from a sample's optima start close to the full-data optimum: Newton takes over
        # sooner (the final criterion, Newton's decrement, is the same)
        switch = opts["switch_tol"] if sample_est is None else max(opts["switch_tol"],
                                                                   SAMPLE_SWITCH_TOL)
        est = estimate(lik, starts, tol=opts["tol"], maxiter=opts["maxiter"],
                       polish=opts["polish"], switch_tol=switch,
                       n_jobs=opts["n_jobs"], progress=opts["progress"])
    else:
        est = fit_direct(lik, starts, method=opts["method"], maxiter=opts["maxiter"],
                         disp=opts["disp"], rng=rng, progress=opts["progress"])
    if not np.isfinite(est.llf):
        raise EstimationError("every start failed: the log-likelihood is not finite")
    options = {key: opts[key] for key in ("n_starts", "tol", "maxiter", "polish",
                                          "switch_tol", "n_jobs")}
    options["start"] = "portfolio" if portfolio else (
        start if isinstance(start, str) else "given")
    options["budget"] = opts["budget"]
    options["start_sample"] = start_lik.n_units  # decision makers the starts were fitted on
    if start_lik is not lik and sample_est is not None:
        # the full-data runs start from distinct sample optima: the search is judged on the sample
        options["sample_report"] = sample_est.report
    if isinstance(lik, ConstrainedLikelihood):  # active bounds held, optimum rechecked
        lik, est = lik.finish(est)
    return MixedMultinomialLogitResults.from_estimate(
        model, lik, est, cov_type=default_cov_type(model.choice_data, cov_type),
        cov_kwds=dict(cov_kwds or {}),
        method=opts["method"], seed=opts["seed"], options=options)
