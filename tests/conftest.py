"""Shared fixtures: real data sets and seeded simulations."""
from __future__ import annotations

import numpy as np
import pytest

import mixlogit as mx

ELECTRICITY_FORMULA = "choice ~ pf + cl + loc + wk + tod + seas - 1"


@pytest.fixture(scope="session")
def electricity():
    return mx.datasets.electricity.load()


@pytest.fixture(scope="session")
def small_panel():
    """A small K=2 panel with a membership covariate and an invariant attribute."""
    betas = np.array([[1.0, -1.0, 0.5], [-0.5, 1.0, 1.5]])
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=150, n_situations=5, n_alternatives=3, betas=betas,
        shares=[0.6, 0.4], invariant={"v1": 0.7},
        membership=(np.array([[0.0], [0.8]]), ["z1"]), seed=11)
    return sim
