"""Tests of mixlogit.formula: choice-model terms and the pickle-safe FormulaSpec.

Every design is checked against columns built by hand with numpy from the data, and the K=1
fits against statsmodels' ConditionalLogit on hand-built dummies.
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixlogit as mx
from mixlogit import formula as fm
from mixlogit.exceptions import SpecificationError
from mixlogit.formula import alt_specific, asc, design_for, parse_formulas

LEVELS = ["gc", "gr", "ec", "er", "hp"]
RESULTS = Path(__file__).parent / "results"


@pytest.fixture(scope="module")
def heating():
    df = mx.datasets.heating.load()
    return df.assign(ic=df["ic"] / 100, oc=df["oc"] / 100)


def _dummies(df, ref):
    alt = df["alt"].astype(str).to_numpy()
    return pd.DataFrame({lev: (alt == lev).astype(float) for lev in LEVELS if lev != ref},
                        index=df.index)


def _newdata(df):
    """Shuffled rows with changed attribute values: a different data set with the same columns."""
    rng = np.random.default_rng(3)
    new = df.sample(n=60, random_state=1).copy()
    new["ic"] = rng.uniform(1, 15, len(new))
    new["oc"] = rng.uniform(1, 6, len(new))
    new["income"] = rng.integers(1, 8, len(new))
    return new


# ------------------------------------------------------------------------ alternative constants
ASC_SPELLINGS = ["C(alt)", "C(alt) - 1", "0 + C(alt)", "C(alt, Treatment('gc'))",
                 "C(alt, Treatment('gc')) - 1", "asc(alt)", "asc(alt, ref='gc')",
                 "asc(alt, ref='gc') - 1"]


@pytest.mark.parametrize("term", ASC_SPELLINGS)
def test_every_asc_spelling_gives_the_treatment_dummies(heating, term):
    _, X, _, _, _ = parse_formulas(f"choice ~ ic + oc + {term}", heating)
    asc_cols = [c for c in X.columns if c not in ("ic", "oc")]
    assert len(asc_cols) == 4
    np.testing.assert_array_equal(X[asc_cols].to_numpy(), _dummies(heating, "gc").to_numpy())
    np.testing.assert_array_equal(X[["ic", "oc"]].to_numpy(), heating[["ic", "oc"]].to_numpy())


@pytest.mark.parametrize("term", ["C(alt, Treatment('hp'))", "C(alt, Treatment('hp')) - 1",
                                  "asc(alt, ref='hp')"])
def test_chosen_reference_level(heating, term):
    _, X, _, _, _ = parse_formulas(f"choice ~ ic + {term}", heating)
    asc_cols = [c for c in X.columns if c != "ic"]
    np.testing.assert_array_equal(X[asc_cols].to_numpy(), _dummies(heating, "hp").to_numpy())


def test_asc_and_alt_specific_column_names(heating):
    _, X, _, _, _ = parse_formulas(
        "choice ~ ic + asc(alt, ref='gr') + alt_specific(income, alt, ref='gc') - 1", heating)
    assert list(X.columns) == ["ic", "alt[gc]", "alt[ec]", "alt[er]", "alt[hp]",
                               "income:alt[gr]", "income:alt[ec]", "income:alt[er]",
                               "income:alt[hp]"]


def test_alt_specific_equals_hand_built_interactions(heating):
    _, X, _, _, _ = parse_formulas("choice ~ ic + alt_specific(income, alt, ref='gc') - 1",
                                   heating)
    hand = _dummies(heating, "gc").mul(heating["income"].to_numpy(), axis=0)
    np.testing.assert_array_equal(X[[f"income:alt[{a}]" for a in hand.columns]].to_numpy(),
                                  hand.to_numpy())
    # in an interaction, and on an expression of a column
    _, X2, _, _, _ = parse_formulas("choice ~ ic:asc(alt) + alt_specific(np.log(income), alt)",
                                    heating)
    assert "ic:alt[hp]" in X2.columns and "np.log(income):alt[hp]" in X2.columns
    np.testing.assert_allclose(X2["ic:alt[hp]"], heating["ic"] * (heating["alt"] == "hp"))
    np.testing.assert_allclose(X2["np.log(income):alt[er]"],
                               np.log(heating["income"]) * (heating["alt"] == "er"))


def test_two_alternatives_give_one_column():
    df = pd.DataFrame({"alt": ["a", "b"] * 3, "x": np.arange(6.0), "z": [1.0, 1, 2, 2, 3, 3],
                       "choice": [1, 0, 0, 1, 1, 0]})
    _, X, _, _, spec = parse_formulas("choice ~ x + asc(alt) + alt_specific(z, alt)", df)
    assert list(X.columns) == ["x", "alt[b]", "z:alt[b]"]
    np.testing.assert_array_equal(X["z:alt[b]"], [0, 1, 0, 2, 0, 3])
    X2, _, _ = design_for(pickle.loads(pickle.dumps(spec)), df)
    np.testing.assert_array_equal(X2, X.to_numpy())


def test_functions_work_outside_formulas():
    np.testing.assert_array_equal(asc(np.array(["x", "y", "z"]), ref="y"),
                                  [[1, 0], [0, 0], [0, 1]])
    np.testing.assert_array_equal(alt_specific([2.0, 2.0], ["x", "y"]), [[0], [2]])


# ---------------------------------------------------------------------- K = 1 vs statsmodels
def _clogit_reference(name):
    """statsmodels' ConditionalLogit on hand-built dummies (tests/results, with provenance)."""
    record = json.loads((RESULTS / "heating_conditional_logit.json").read_text())
    return record["fits"][name]


@pytest.mark.parametrize("term", ["C(alt) - 1", "asc(alt, ref='gc')", "C(alt, Treatment('gc'))",
                                  "0 + C(alt)"])
def test_one_class_with_ascs_equals_conditional_logit(heating, term):
    res = mx.MixedMultinomialLogit.from_formula(f"choice ~ ic + oc + {term}", heating,
                                                groups="chid", k_classes=1).fit()
    ref = _clogit_reference("ascs")
    assert res.llf == pytest.approx(ref["llf"], abs=1e-6)
    names = list(res.params.index)
    order = [names.index("class1:ic"), names.index("class1:oc")] + \
        [i for i, n in enumerate(names) if n not in ("class1:ic", "class1:oc")]
    np.testing.assert_allclose(res.params.to_numpy()[order], ref["params"], atol=1e-5)
    np.testing.assert_allclose(res.bse.to_numpy()[order], ref["bse"], rtol=1e-4)


def test_one_class_alt_specific_equals_conditional_logit(heating):
    res = mx.MixedMultinomialLogit.from_formula(
        "choice ~ ic + oc + asc(alt) + alt_specific(income, alt) - 1", heating,
        groups="chid", k_classes=1).fit()
    ref = _clogit_reference("ascs_income")
    assert res.llf == pytest.approx(ref["llf"], abs=1e-6)
    np.testing.assert_allclose(res.params.to_numpy(), ref["params"], atol=1e-5)
    np.testing.assert_allclose(res.bse.to_numpy(), ref["bse"], rtol=1e-4)
    assert list(res.params.index[-4:]) == [f"class1:income:alt[{a}]" for a in LEVELS[1:]]


def test_reference_dummies_match_the_formula_design(heating):
    """The hand-built columns of the stored reference are the formula's columns."""
    _, X, _, _, _ = parse_formulas("choice ~ ic + oc + asc(alt) + alt_specific(income, alt)",
                                   heating)
    d = _dummies(heating, "gc")
    hand = pd.concat([heating[["ic", "oc"]], d, d.mul(heating["income"], axis=0)], axis=1)
    np.testing.assert_array_equal(X.to_numpy(), hand.to_numpy())
    assert _clogit_reference("ascs_income")["names"][2] == "asc_gr"


# ------------------------------------------------------------------------ pickle-safe spec
PICKLE_FORMULA = ("choice ~ center(ic) + standardize(oc) + asc(alt, ref='gr') "
                  "+ alt_specific(income, alt) + ic:C(region) - 1")


def test_spec_pickles_and_rebuilds_the_same_design(heating):
    _, X, inv, mem, spec = parse_formulas(PICKLE_FORMULA, heating, invariant="~ np.log(oc)",
                                          membership="~ C(region) + agehed")
    new = _newdata(heating)
    before = design_for(spec, new)
    clone = pickle.loads(pickle.dumps(spec))
    assert clone == spec and clone.exog_names == tuple(X.columns)
    after = design_for(clone, new)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    # against numbers computed by hand from the estimation data
    Xn = pd.DataFrame(after[0], columns=X.columns, index=new.index)
    np.testing.assert_allclose(Xn["center(ic)"], new["ic"] - heating["ic"].mean())
    np.testing.assert_allclose(Xn["standardize(oc)"],
                               (new["oc"] - heating["oc"].mean()) / heating["oc"].std(ddof=0))
    for lev in ["gc", "ec", "er", "hp"]:
        np.testing.assert_array_equal(Xn[f"alt[{lev}]"], (new["alt"] == lev).astype(float))
    np.testing.assert_array_equal(Xn["income:alt[hp]"], new["income"] * (new["alt"] == "hp"))
    for reg in ["scostl", "mountn", "ncostl"]:
        col = [c for c in X.columns if c.startswith("ic:C(region)") and reg in c]
        np.testing.assert_allclose(Xn[col[0]], new["ic"] * (new["region"] == reg))
    np.testing.assert_allclose(after[1][:, 0], np.log(new["oc"]))
    regions = [c for c in mem.columns if c.startswith("C(region)")]
    assert regions == ["C(region)[T.scostl]", "C(region)[T.mountn]", "C(region)[T.ncostl]"]
    np.testing.assert_array_equal(after[2][:, -1], new["agehed"])


@pytest.mark.parametrize("terms", ["bs(ic, df=4) + cr(oc, df=4)", "scale(ic) + Q('oc')",
                                   "C(region, Sum):ic + te(cr(ic, df=3), cc(oc, df=3))"])
def test_spline_and_other_patsy_state_survives_pickling(heating, terms):
    _, X, *_, spec = parse_formulas(f"choice ~ {terms}", heating)
    rng = np.random.default_rng(5)                  # new values inside the knots' range
    new = heating.sample(n=60, random_state=2).assign(
        ic=lambda d: rng.permutation(d["ic"].to_numpy()), oc=lambda d: d["oc"].to_numpy()[::-1])
    live = design_for(spec, new)[0]                 # patsy's own design information
    rebuilt = design_for(pickle.loads(pickle.dumps(spec)), new)[0]
    np.testing.assert_array_equal(rebuilt, live)
    # on the estimation data both give the columns parse_formulas returned
    np.testing.assert_allclose(design_for(pickle.loads(pickle.dumps(spec)), heating)[0],
                               X.to_numpy())


def test_unpickled_spec_keeps_levels_missing_from_new_data(heating):
    *_, spec = parse_formulas("choice ~ ic + C(alt) + asc(alt, ref='er')", heating)
    clone = pickle.loads(pickle.dumps(spec))
    two = heating[heating["alt"].isin(["gc", "hp"])].assign(alt=lambda d: d["alt"].astype(str))
    X, _, _ = design_for(clone, two)
    assert X.shape == (len(two), 9)        # 4 + 4 dummies + ic, as in estimation
    np.testing.assert_array_equal(X[:, 3], (two["alt"] == "hp").astype(float))


def test_spec_pickle_refuses_an_unstorable_transform(heating, monkeypatch):
    class Odd:
        def memorize_chunk(self, x):
            self.lock = __import__("threading").Lock()

        def memorize_finish(self):
            pass

        def transform(self, x):
            return np.asarray(x, float)

    def odd(x):
        return np.asarray(x, float)

    odd.__patsy_stateful_transform__ = Odd
    monkeypatch.setitem(fm._NAMESPACE, "odd", odd)
    _, X, *_, spec = parse_formulas("choice ~ odd(ic)", heating)
    np.testing.assert_array_equal(design_for(spec, heating)[0][:, 0], heating["ic"])
    with pytest.raises(pickle.PicklingError, match="odd|Odd"):
        pickle.dumps(spec)


def test_formula_built_results_pickle_and_predict_alike(heating):
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ center(ic) + oc + C(alt) - 1", heating, groups="chid", k_classes=1)
    res = model.fit()
    new = _newdata(heating).sort_values(["chid", "alt"])
    loaded = pickle.loads(pickle.dumps(res))          # issue 8: every formula-built result
    X = design_for(loaded.model.formula_spec, new)[0]
    np.testing.assert_array_equal(X, design_for(model.formula_spec, new)[0])
    # the rebuilt design gives the conditional-logit probabilities computed by hand
    v = X @ res.params.to_numpy()
    expv = pd.Series(np.exp(v), index=new.index)
    by_hand = expv / expv.groupby(new["chid"]).transform("sum")
    np.testing.assert_allclose(res.predict(new).to_numpy(), by_hand.to_numpy(), rtol=1e-10)
    np.testing.assert_array_equal(loaded.predict(new).to_numpy(), res.predict(new).to_numpy())
    np.testing.assert_allclose(X[:, 4], new["ic"] - heating["ic"].mean())


def test_asc_terms_predict_through_the_rebuilt_design(heating):
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ ic + oc + asc(alt) + alt_specific(income, alt) - 1", heating, groups="chid",
        k_classes=1)
    res = model.fit()
    new = _newdata(heating).sort_values(["chid", "alt"])
    X = design_for(pickle.loads(pickle.dumps(model.formula_spec)), new)[0]
    d = _dummies(new, "gc")
    hand = pd.concat([new[["ic", "oc"]], d, d.mul(new["income"], axis=0)], axis=1)
    np.testing.assert_array_equal(X, hand.to_numpy())
    v = pd.Series(hand.to_numpy() @ res.params.to_numpy(), index=new.index)
    logp = v - np.log(np.exp(v).groupby(new["chid"]).transform("sum"))
    assert np.isfinite(logp).all()


def test_numeric_columns_skip_the_alternatives_column(heating):
    *_, spec = parse_formulas("choice ~ np.log(ic) + asc(alt) + alt_specific(income, alt) "
                              "+ C(region):oc", heating, membership="~ agehed + C(region)")
    assert spec.numeric_columns >= {"ic", "income", "oc", "agehed"}
    assert not spec.numeric_columns & {"alt", "region"}


# ------------------------------------------------------------------------------- bad input
def test_unknown_reference_level_is_named(heating):
    with pytest.raises(SpecificationError, match=r"ref='xx'.*\['gc', 'gr'"):
        parse_formulas("choice ~ ic + asc(alt, ref='xx')", heating)


def test_unseen_alternative_in_newdata_is_refused(heating):
    *_, spec = parse_formulas("choice ~ ic + asc(alt)", heating)
    new = heating.head(5).assign(alt=["gc", "gr", "ec", "er", "solar"])
    with pytest.raises(SpecificationError, match="solar"):
        design_for(pickle.loads(pickle.dumps(spec)), new)


def test_alt_specific_needs_a_numeric_covariate(heating):
    with pytest.raises(SpecificationError, match="numeric"):
        parse_formulas("choice ~ ic + alt_specific(region, alt)", heating)


def test_one_alternative_is_refused(heating):
    with pytest.raises(SpecificationError, match="at least two"):
        parse_formulas("choice ~ ic + asc(alt)", heating[heating["alt"] == "gc"])


def test_duplicated_columns_are_refused(heating):
    with pytest.raises(SpecificationError, match="twice"):
        parse_formulas("choice ~ ic + asc(alt) + asc(alt, ref='gc')", heating)


def test_membership_keeps_its_constant(heating):
    with pytest.raises(SpecificationError, match="constant"):
        parse_formulas("choice ~ ic", heating, membership="~ income - 1")


def test_invariant_clash_is_refused(heating):
    with pytest.raises(SpecificationError, match="already class-specific"):
        parse_formulas("choice ~ ic + asc(alt)", heating, invariant="~ asc(alt)")
