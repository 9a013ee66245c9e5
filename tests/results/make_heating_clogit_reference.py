"""Write the K=1 references of tests/test_formula.py: statsmodels' ConditionalLogit on heating.

Run from the repository root::

    python tests/results/make_heating_clogit_reference.py

Data: ``mixlogit.datasets.heating.load()`` with ``ic`` and ``oc`` divided by 100. The
alternative-specific constants (reference ``gc``) and the income-by-alternative columns are
built by hand with numpy (``alt == j`` and ``income * (alt == j)``), not by mixlogit's
formula terms. Each specification is fitted by Newton's method (tol 1e-12) and written to
``tests/results/heating_conditional_logit.json`` with where it came from, so that the test
suite does not rerun the 3-second statsmodels fits.
"""
from __future__ import annotations

import datetime
import json
import pathlib
import platform

import numpy as np
import pandas as pd
import statsmodels
from statsmodels.discrete.conditional_models import ConditionalLogit

import mixlogit as mx

OUT = pathlib.Path(__file__).with_name("heating_conditional_logit.json")
LEVELS = ["gr", "ec", "er", "hp"]


def design(df: pd.DataFrame, with_income: bool) -> pd.DataFrame:
    alt = df["alt"].astype(str).to_numpy()
    cols = {"ic": df["ic"].to_numpy(), "oc": df["oc"].to_numpy()}
    cols.update({f"asc_{j}": (alt == j).astype(float) for j in LEVELS})
    if with_income:
        cols.update({f"income_{j}": df["income"].to_numpy() * (alt == j) for j in LEVELS})
    return pd.DataFrame(cols)


def main() -> None:
    df = mx.datasets.heating.load()
    df = df.assign(ic=df["ic"] / 100, oc=df["oc"] / 100)
    record = {
        "program": "statsmodels.discrete.conditional_models.ConditionalLogit",
        "statsmodels_version": statsmodels.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "command": "python tests/results/make_heating_clogit_reference.py",
        "call": "ConditionalLogit(choice, X, groups=chid).fit(method='newton', tol=1e-12, "
                "maxiter=200)",
        "data": f"mixlogit.datasets.heating.load() ({len(df)} rows), ic and oc / 100",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "fits": {},
    }
    for name, with_income in (("ascs", False), ("ascs_income", True)):
        X = design(df, with_income)
        model = ConditionalLogit(df["choice"].to_numpy(), X.to_numpy(float),
                                 groups=df["chid"].to_numpy())
        res = model.fit(method="newton", disp=0, tol=1e-12, maxiter=200)
        record["fits"][name] = {
            "names": list(X.columns),
            "params": [float(v) for v in res.params],
            "bse": [float(v) for v in res.bse],
            "llf": float(res.llf),
            "max_abs_score": float(np.abs(model.score(res.params)).max()),
        }
    OUT.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
