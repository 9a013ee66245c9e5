"""Every documented bad input raises or warns as documented."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mixlogit as mx
from mixlogit.exceptions import DataError, DroppedObservationsWarning, SpecificationError

FORMULA = "choice ~ x1 + x2 - 1"


@pytest.fixture()
def df():
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=40, n_situations=3, n_alternatives=3,
        betas=np.array([[1.0, -1.0], [-1.0, 0.5]]), shares=[0.5, 0.5], seed=1)
    return sim.data.copy()


def build(df, formula=FORMULA, **kw):
    kw.setdefault("k_classes", 2)
    return mx.MixedMultinomialLogit.from_formula(formula, df, groups="chid", panel="id", **kw)


def test_situation_without_chosen_alternative(df):
    first = df["chid"] == df["chid"].iloc[0]
    df.loc[first, "choice"] = 0
    with pytest.raises(DataError, match="no chosen alternative"):
        build(df)


def test_situation_with_two_chosen_alternatives(df):
    first = df.index[df["chid"] == df["chid"].iloc[0]]
    df.loc[first[:2], "choice"] = 1
    with pytest.raises(DataError, match="more than one chosen"):
        build(df)


def test_choice_values_must_be_zero_or_one(df):
    df.loc[df.index[0], "choice"] = 2
    with pytest.raises(DataError, match="must be 1 for the chosen"):
        build(df)


def test_single_alternative_situation(df):
    sid = df["chid"].iloc[0]
    rows = df.index[(df["chid"] == sid) & (df["choice"] == 0)]
    with pytest.raises(DataError, match="single alternative"):
        build(df.drop(index=rows))


def test_single_available_alternative_names_availability(df):
    sid = df["chid"].iloc[0]
    df["avail"] = 1
    df.loc[(df["chid"] == sid) & (df["choice"] == 0), "avail"] = 0
    with pytest.raises(DataError, match="single alternative.*'avail'"):
        build(df, availability="avail")


def test_chosen_alternative_unavailable(df):
    df["avail"] = 1
    df.loc[df.index[df["choice"] == 1][0], "avail"] = 0
    with pytest.raises(DataError, match="unavailable in 'avail'"):
        build(df, availability="avail")


def test_unavailable_rows_leave_the_choice_set(df):
    df["avail"] = 1
    one_per_situation = df[df["choice"] == 0].groupby("chid").head(1).index[:5]
    df.loc[one_per_situation, "avail"] = 0
    model = build(df, availability="avail")
    assert model.choice_data.n_rows == len(df) - 5
    assert model.choice_data.dropped.rows_unavailable == 5


def test_column_constant_within_situations(df):
    df["income"] = df["id"] * 1.5
    with pytest.raises(SpecificationError, match=r"\['income'\] do not vary within any choice"):
        build(df, formula="choice ~ x1 + income - 1")


def test_combination_constant_within_situations(df):
    df["x3"] = df["x1"] + 2 * df["x2"]
    with pytest.raises(SpecificationError, match="combination of .*x1.*x2.*x3"):
        build(df, formula="choice ~ x1 + x2 + x3 - 1")


def test_membership_covariate_varying_within_decision_maker(df):
    df["z"] = np.arange(len(df), dtype=float)
    with pytest.raises(SpecificationError, match=r"membership covariates \['z'\] vary within"):
        build(df, membership="~ z")


def test_membership_without_constant(df):
    df["z"] = df["id"].astype(float)
    with pytest.raises(SpecificationError, match="always has a constant"):
        build(df, membership="~ z - 1")


@pytest.mark.parametrize("k", [0, -1, 2.5, "3", True])
def test_bad_k_classes(df, k):
    with pytest.raises(SpecificationError, match="k_classes"):
        build(df, k_classes=k)


def test_k_classes_above_number_of_decision_makers(df):
    with pytest.raises(SpecificationError, match="exceeds the number of decision makers"):
        build(df, k_classes=41)


def test_non_numeric_attribute_arrays(df):
    exog = df[["x1", "x2"]].astype(object)
    exog.iloc[0, 0] = "cheap"
    with pytest.raises(DataError, match="must be numeric"):
        mx.MixedMultinomialLogit(df["choice"], exog, groups=df["chid"], k_classes=1)


def test_infinite_values(df):
    df.loc[df.index[3], "x1"] = np.inf
    with pytest.raises(DataError, match="infinite"):
        build(df)


def test_unknown_column_in_formula(df):
    with pytest.raises(SpecificationError, match="formula: cannot build.*available columns"):
        build(df, formula="choice ~ x1 + price - 1")


@pytest.mark.parametrize("argument", ["groups", "panel", "weights", "availability"])
def test_unknown_id_column(df, argument):
    kw = {"groups": "chid", "panel": "id", argument: "nope"}
    with pytest.raises(SpecificationError, match=f"{argument}='nope' is not a column"):
        mx.MixedMultinomialLogit.from_formula(FORMULA, df, k_classes=1, **kw)


def test_missing_values_drop_whole_situations_with_a_count(df):
    df.loc[df.index[[0, 1, 7]], "x1"] = np.nan        # rows of situations 1 and 3
    n_sits = df["chid"].nunique()
    with pytest.warns(DroppedObservationsWarning, match="dropped 2 choice situation"):
        model = build(df)
    assert model.n_situations == n_sits - 2
    assert model.choice_data.dropped.situations_missing == 2


def test_missing_membership_covariate_drops_decision_maker(df):
    df["z"] = df["id"].astype(float)
    df.loc[df["id"] == df["id"].iloc[0], "z"] = np.nan
    with pytest.warns(DroppedObservationsWarning, match="1 decision maker"):
        model = build(df, membership="~ z")
    assert model.n_decision_makers == df["id"].nunique() - 1


def test_situation_spanning_two_decision_makers(df):
    df.loc[df.index[0], "id"] = 999
    with pytest.raises(DataError, match="more than one decision maker"):
        build(df)


def test_weights_must_be_constant_within_decision_maker(df):
    df["w"] = np.arange(len(df), dtype=float)
    with pytest.raises(DataError, match="constant within each decision maker"):
        build(df, weights="w")


def test_negative_weights(df):
    df["w"] = -1.0
    with pytest.raises(DataError, match="non-negative"):
        build(df, weights="w")


def test_unknown_fixed_parameter(df):
    with pytest.raises(SpecificationError, match="unknown parameter 'class3:x1'"):
        build(df).fit(fixed={"class3:x1": 0.0})


@pytest.mark.parametrize("options, match", [
    ({"method": "simplex"}, "method="), ({"n_starts": 0}, "n_starts"),
    ({"tol": -1.0}, "tol"), ({"maxiter": 0}, "maxiter"), ({"start": "magic"}, "start="),
    ({"cov_type": "hc9"}, "cov_type="),
])
def test_bad_fit_options(df, options, match):
    with pytest.raises(SpecificationError, match=match):
        build(df).fit(n_starts=options.pop("n_starts", 1), **options)


def test_errors_share_one_root(df):
    assert issubclass(DataError, mx.MixlogitError) and issubclass(DataError, ValueError)
    assert issubclass(SpecificationError, mx.MixlogitError)
    import statsmodels.tools.sm_exceptions as sme
    assert issubclass(mx.ConvergenceWarning, sme.ConvergenceWarning)
    assert issubclass(mx.ConvergenceWarning, mx.MixlogitWarning)
    assert issubclass(mx.HessianInversionWarning, sme.HessianInversionWarning)


def test_warning_points_at_the_callers_line(df):
    df.loc[df.index[0], "x1"] = np.nan
    with pytest.warns(DroppedObservationsWarning) as record:
        build(df)
    assert record[0].filename == __file__
