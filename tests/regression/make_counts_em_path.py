"""EM log-likelihood path of the counts form, K=3, fixed start, with the code BEFORE the engine rewrite."""
import json
import sys

import numpy as np

import mixlogit as mx
from mixlogit.datasets.simulate import simulate_counts
from mixlogit.em import run_em

sim = simulate_counts(n_candidates=400, n_draws=20_000, seed=3)
model = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features, k_classes=3)
lik = model.likelihood()
rng = np.random.default_rng(0)
theta0 = model.layout.pack(np.asarray(sim.betas) + rng.normal(scale=0.5, size=np.shape(sim.betas)))
estep, mstep = lik.make_steps(1)
run = run_em(estep, mstep, theta0, tol=0.0, maxiter=50)
out = {"source": "mixlogit commit a514a90 (counts form before the (K, p) layout of issue 10), "
                 "script tests/regression/make_counts_em_path.py",
       "simulate_counts": {"n_candidates": 400, "n_draws": 20000, "seed": 3}, "k_classes": 3,
       "start": theta0.tolist(), "em_iterations": 50, "llf_path": run.history.tolist()}
json.dump(out, open(sys.argv[1], "w"), indent=1)
print(run.history[:3], run.history[-1])
