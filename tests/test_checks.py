"""The validators of mixlogit._checks and the helpers of mixlogit._parallel."""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from mixlogit import _checks as ck
from mixlogit._parallel import parallel_map, progress, resolve_n_jobs
from mixlogit.exceptions import SpecificationError


def _square(x):
    return x * x


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int32(2)])
def test_whole_number_accepts_ints_and_numpy_ints(value):
    out = ck.whole_number(low=1)(value, "n_starts", "fit()")
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize("value", [True, np.bool_(True), 2.0, 2.5, "2", None, 0, -3])
def test_whole_number_refuses_bools_floats_text_and_out_of_range(value):
    with pytest.raises(SpecificationError, match=r"fit\(\): n_starts must be a whole number >= 1"):
        ck.whole_number(low=1)(value, "n_starts", "fit()")


def test_whole_number_upper_bound():
    assert ck.whole_number(low=0, high=3)(3, "k", "f()") == 3
    with pytest.raises(SpecificationError, match="<= 3"):
        ck.whole_number(low=0, high=3)(4, "k", "f()")


@pytest.mark.parametrize("value", [1e-8, 3, np.float32(1e-6), np.float64(0.5), np.int64(2)])
def test_positive_number_accepts_numpy_scalars(value):
    out = ck.positive_number()(value, "tol", "fit()")
    assert out == pytest.approx(float(value), rel=1e-7) and type(out) is float


@pytest.mark.parametrize("value", [0, -1e-8, np.inf, np.nan, "1e-8", True, None])
def test_positive_number_refuses(value):
    with pytest.raises(SpecificationError, match="tol must be a positive finite number"):
        ck.positive_number()(value, "tol", "fit()")


def test_positive_number_allow_zero():
    assert ck.positive_number(allow_zero=True)(0, "x", "f()") == 0.0


@pytest.mark.parametrize("value", [1, 2, -1, np.int64(4)])
def test_n_jobs_accepts(value):
    assert ck.n_jobs()(value, "n_jobs", "fit()") == int(value)


@pytest.mark.parametrize("value", [0, -2, 2.5, "2", True, None])
def test_n_jobs_refuses_with_the_fix(value):
    with pytest.raises(SpecificationError) as err:
        ck.n_jobs()(value, "n_jobs", "fit()")
    msg = str(err.value)
    assert "n_jobs" in msg and repr(value) in msg and "-1 for every core" in msg


def test_seed_accepts_none_ints_and_generators():
    gen = np.random.default_rng(0)
    assert ck.seed()(None, "seed", "fit()") is None
    assert ck.seed()(np.int64(5), "seed", "fit()") == 5
    assert ck.seed()(gen, "seed", "fit()") is gen


@pytest.mark.parametrize("value", [-1, "abc", 1.5, True])
def test_seed_refusal_names_seed(value):
    with pytest.raises(SpecificationError, match=r"fit\(\): seed must be None, a non-negative"):
        ck.seed()(value, "seed", "fit()")


@pytest.mark.parametrize("value", [0.05, 0.5, np.float32(0.1)])
def test_probability_level_accepts(value):
    assert ck.probability_level()(value, "alpha", "conf_int()") == pytest.approx(float(value))


@pytest.mark.parametrize("value", [0, 1, 1.5, -0.1, "0.05", np.nan])
def test_probability_level_refuses(value):
    with pytest.raises(SpecificationError, match="alpha must be a number strictly between 0 and 1"):
        ck.probability_level()(value, "alpha", "conf_int()")


def test_boolean():
    assert ck.boolean()(np.bool_(False), "polish", "fit()") is False
    for value in ("no", 0, 1, None):
        with pytest.raises(SpecificationError, match="polish must be True or False"):
            ck.boolean()(value, "polish", "fit()")


def test_one_of_suggests_the_closest_choice():
    check = ck.one_of("em", "newton", "bfgs")
    assert check("bfgs", "method", "fit()") == "bfgs"
    with pytest.raises(SpecificationError, match="did you mean 'bfgs'"):
        check("bgfs", "method", "fit()")
    with pytest.raises(SpecificationError, match="one of 'em', 'newton', 'bfgs'"):
        check(1, "method", "fit()")


def test_optional():
    check = ck.optional(ck.boolean())
    assert check(None, "progress", "fit()") is None and check(True, "progress", "fit()") is True
    with pytest.raises(SpecificationError, match="progress must be None or True or False"):
        check("yes", "progress", "fit()")


def test_check_params_normalises_and_passes_unknown_names_through():
    table = {"n": ck.whole_number(low=1), "tol": ck.positive_number()}
    out = ck.check_params(table, {"n": np.int64(2), "tol": np.float32(0.25), "other": "x"},
                          where="f()")
    assert out == {"n": 2, "tol": 0.25, "other": "x"}
    assert type(out["n"]) is int and type(out["tol"]) is float


def test_check_keywords_suggests_with_difflib():
    with pytest.raises(SpecificationError) as err:
        ck.check_keywords(["n_start"], ["n_starts", "seed", "tol"], where="fit()")
    assert str(err.value).startswith(
        "fit() got an unexpected keyword 'n_start'; did you mean 'n_starts'?")
    with pytest.raises(SpecificationError, match=r"keyword 'zzz'\. Valid keywords: n_starts"):
        ck.check_keywords(["zzz"], ["n_starts"], where="fit()")
    ck.check_keywords(["seed"], ["seed"], where="fit()")


# ------------------------------------------------------------------ _parallel
@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_parallel_map_keeps_order(backend):
    items = list(range(17))
    assert parallel_map(_square, items, n_jobs=2, backend=backend) == [i * i for i in items]


def test_parallel_map_uses_several_threads():
    seen = set()
    barrier = threading.Barrier(2, timeout=10)

    def fn(x):
        seen.add(threading.get_ident())
        barrier.wait()
        return x

    assert parallel_map(fn, [1, 2], n_jobs=2) == [1, 2]
    assert len(seen) == 2


def test_parallel_map_serial_runs_initializer_once():
    calls = []
    out = parallel_map(_square, [1, 2, 3], n_jobs=1, initializer=calls.append, initargs=("x",))
    assert out == [1, 4, 9] and calls == ["x"]


def test_parallel_map_refuses_unknown_backend():
    with pytest.raises(ValueError, match="backend"):
        parallel_map(_square, [1], backend="dask")


def test_resolve_n_jobs():
    assert resolve_n_jobs(-1) == (os.cpu_count() or 1)
    assert resolve_n_jobs(3) == 3


def test_progress_passes_items_through_when_silent():
    assert list(progress(iter([1, 2]), total=2, show=False)) == [1, 2]
    assert list(progress([1, 2], total=2, show=None)) == [1, 2]  # stderr is not a tty here


def test_one_of_compares_types_strictly_but_accepts_numpy_strings():
    assert ck.one_of("em", "bfgs")(np.str_("em"), "method", "fit()") == "em"
    with pytest.raises(SpecificationError):
        ck.one_of(0, 1)(True, "flag", "f()")      # a bool is not the integer 1 here


def test_progress_bar_when_asked_yields_the_same_items():
    pytest.importorskip("tqdm")
    bar = progress(range(4), total=4, show=True, desc="test")
    assert bar is not None and list(bar) == [0, 1, 2, 3]
    assert parallel_map(_square, [1, 2, 3], n_jobs=2, progress=True, desc="x") == [1, 4, 9]
