"""EM log-likelihood path on electricity, K=3, fixed start, with the code BEFORE the fused engine."""
import json
import sys

import numpy as np

import mixlogit as mx
from mixlogit.em import run_em

df = mx.datasets.electricity.load()
model = mx.MixedMultinomialLogit.from_formula(
    "choice ~ pf + cl + loc + wk + tod + seas - 1", df, groups="chid", panel="id", k_classes=3)
lik = model.likelihood()
lay = model.layout
betas = np.array([[-0.6, 0.2, 1.5, 1.2, -6.0, -6.0],
                  [-1.0, -0.1, 2.5, 2.0, -9.0, -9.5],
                  [-0.3, 0.5, 0.5, 0.8, -3.0, -3.0]])
theta0 = lay.pack(betas, gamma=np.array([[0.0], [-0.3], [-0.6]]))
estep, mstep = lik.make_steps(1)
run = run_em(estep, mstep, theta0, tol=0.0, maxiter=40)
params, ev, it, ok = lik.polish(run.params, tol=1e-13)
out = {"source": "mixlogit commit a514a90 (kernels.class_state/class_derivatives, before the fused "
                 "engine of issue 10), script tests/regression/make_electricity_em_path.py",
       "formula": "choice ~ pf + cl + loc + wk + tod + seas - 1", "k_classes": 3,
       "start": theta0.tolist(), "em_iterations": 40, "llf_path": run.history.tolist(),
       "polished_llf": ev.llf, "polished_params": params.tolist()}
json.dump(out, open(sys.argv[1], "w"), indent=1)
print(run.history[:3], run.history[-1], ev.llf, it, ok)
