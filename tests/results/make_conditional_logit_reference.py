"""Write the K=1 reference: statsmodels' ConditionalLogit on the electricity data.

Run from the repository root::

    python tests/results/make_conditional_logit_reference.py

It fits ``ConditionalLogit(choice, [pf, cl, loc, wk, tod, seas], groups=chid)``
by Newton's method (tol 1e-12) and writes
``tests/results/electricity_conditional_logit.json`` with the estimates,
standard errors, log-likelihood and where they came from. The test
``tests/test_model.py::test_one_class_equals_conditional_logit_on_electricity``
compares mixlogit's one-class fit to this file, so the test suite does not
rerun the 20-second statsmodels fit.
"""
from __future__ import annotations

import datetime
import json
import pathlib
import platform
import sys

import numpy as np
import statsmodels
from statsmodels.discrete.conditional_models import ConditionalLogit

import mixlogit as mx

COLUMNS = ["pf", "cl", "loc", "wk", "tod", "seas"]
OUT = pathlib.Path(__file__).with_name("electricity_conditional_logit.json")


def main() -> None:
    df = mx.datasets.electricity.load()
    model = ConditionalLogit(df["choice"].to_numpy(), df[COLUMNS].to_numpy(float),
                             groups=df["chid"].to_numpy())
    res = model.fit(method="newton", disp=0, tol=1e-12, maxiter=100)
    record = {
        "program": "statsmodels.discrete.conditional_models.ConditionalLogit",
        "statsmodels_version": statsmodels.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "command": "python tests/results/make_conditional_logit_reference.py",
        "call": f"ConditionalLogit(choice, df[{COLUMNS}], groups=chid).fit(method='newton', "
                "tol=1e-12, maxiter=100)",
        "data": f"mixlogit.datasets.electricity.load() ({len(df)} rows)",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "max_abs_score": float(np.abs(model.score(res.params)).max()),
        "names": COLUMNS,
        "params": [float(v) for v in res.params],
        "bse": [float(v) for v in res.bse],
        "llf": float(res.llf),
    }
    OUT.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {OUT} (llf {res.llf:.10f}) with {sys.executable}")


if __name__ == "__main__":
    main()
