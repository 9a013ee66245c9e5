"""Tests of mixlogit.data.wide.long_from_wide against a row-by-row reshaping written out here."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixlogit as mx
from mixlogit.data.wide import long_from_wide
from mixlogit.exceptions import DataError, SpecificationError

RESULTS = Path(__file__).parent / "results"
ALTS = ["bus", "car", "rail"]


@pytest.fixture
def wide():
    rng = np.random.default_rng(0)
    n = 7
    return pd.DataFrame({
        "person": [1, 1, 2, 2, 3, 3, 3],
        "task": np.arange(101, 101 + n),
        "BUS_T": rng.uniform(10, 60, n), "CAR_T": rng.uniform(10, 60, n),
        "RAIL_T": rng.uniform(10, 60, n),
        "BUS_C": rng.integers(1, 9, n), "RAIL_C": rng.integers(1, 9, n),
        "CAR_AV": [1, 0, 1, 1, 0, 1, 1],
        "CHOSEN": [2, 1, 3, 2, 3, 1, 2],
        "income": [30, 30, 55, 55, 12, 12, 12],
        "city": pd.Categorical(["a", "a", "b", "b", "a", "a", "a"]),
    })


def _by_loop(wide, drop_unavailable=False):
    """The long format built one row at a time, with the rules of the docstring."""
    rows = []
    for _, r in wide.iterrows():
        for j, alt in enumerate(ALTS):
            avail = 1 if alt != "car" else int(r["CAR_AV"])
            if drop_unavailable and not avail:
                continue
            time = r[f"{alt.upper()}_T"]
            rows.append({
                "task": r["task"], "person": r["person"], "alt": alt,
                "choice": int(r["CHOSEN"] == j + 1), "available": avail,
                "time": 0.0 if (not avail and pd.isna(time)) else time,
                "cost": 0 if alt == "car" else r[f"{alt.upper()}_C"],
                "income": r["income"],
            })
    return pd.DataFrame(rows)


def _reshape(wide, **kw):
    return long_from_wide(
        wide, alternatives=ALTS, choice="CHOSEN", situation="task", panel="person",
        attributes={"time": ["BUS_T", "CAR_T", "RAIL_T"], "cost": ["BUS_C", None, "RAIL_C"]},
        availability={"car": "CAR_AV"}, keep=["income", "city"], **kw)


@pytest.mark.parametrize("drop", [False, True])
def test_matches_a_row_by_row_reshaping(wide, drop):
    out = _reshape(wide, drop_unavailable=drop)
    ref = _by_loop(wide, drop_unavailable=drop)
    assert list(out.columns) == ["task", "person", "alt", "choice", "available", "time", "cost",
                                 "income", "city"]
    assert list(out["alt"].cat.categories) == ALTS and out["alt"].cat.ordered
    for col in ["task", "person", "choice", "available", "time", "cost", "income"]:
        np.testing.assert_array_equal(out[col].to_numpy(), ref[col].to_numpy(), err_msg=col)
    np.testing.assert_array_equal(out["alt"].astype(str), ref["alt"])
    assert isinstance(out["city"].dtype, pd.CategoricalDtype)
    assert (out.groupby("task")["choice"].sum() == 1).all()


def test_default_situation_id_numbers_the_rows(wide):
    out = long_from_wide(wide, alternatives=ALTS, choice="CHOSEN",
                         attributes={"time": ["BUS_T", "CAR_T", "RAIL_T"]})
    assert list(out.columns) == ["chid", "alt", "choice", "available", "time"]
    np.testing.assert_array_equal(out["chid"], np.repeat(np.arange(1, 8), 3))
    assert (out["available"] == 1).all()


def test_choice_codes_names_positions_and_mapping(wide):
    by_position = _reshape(wide)
    names = wide.assign(CHOSEN=np.array(ALTS)[wide["CHOSEN"] - 1])
    pd.testing.assert_frame_equal(_reshape(names), by_position)
    letters = wide.assign(CHOSEN=np.array(["B", "C", "R"])[wide["CHOSEN"] - 1])
    pd.testing.assert_frame_equal(
        _reshape(letters, choice_codes={"B": "bus", "C": "car", "R": "rail"}), by_position)


def test_attributes_as_mapping(wide):
    out = long_from_wide(wide, alternatives=ALTS, choice="CHOSEN",
                         attributes={"cost": {"bus": "BUS_C", "rail": "RAIL_C"}})
    np.testing.assert_array_equal(out["cost"].to_numpy().reshape(-1, 3),
                                  np.column_stack([wide["BUS_C"], np.zeros(7), wide["RAIL_C"]]))


def test_nan_attributes_of_unavailable_alternatives_do_not_cost_the_situation(wide):
    wide = wide.assign(CAR_T=wide["CAR_T"].where(wide["CAR_AV"] == 1))
    out = _reshape(wide)
    assert not out["time"].isna().any()
    assert (out.loc[out["available"] == 0, "time"] == 0).all()
    # a missing value of an available alternative stays missing (the model drops the situation)
    wide.loc[0, "BUS_T"] = np.nan
    assert _reshape(wide)["time"].isna().sum() == 1


def test_fit_with_nan_on_unavailable_rows_keeps_every_situation():
    sim = mx.datasets.simulate.simulate_panel(n_decision_makers=150, n_situations=4,
                                              n_alternatives=3, betas=[[1.0, -1.0]],
                                              shares=[1.0], seed=4)
    d = sim.data
    wide = d.pivot(index="chid", columns="alt", values=["x1", "x2", "choice"])
    alts = list(wide["x1"].columns)
    flat = pd.DataFrame({"chid": wide.index})
    for j, a in enumerate(alts):
        flat[f"x1_{j}"] = wide["x1"][a].to_numpy()
        flat[f"x2_{j}"] = wide["x2"][a].to_numpy()
    flat["chosen"] = wide["choice"].to_numpy().argmax(axis=1) + 1
    chosen_last = flat["chosen"] == 3
    flat["av3"] = np.where(chosen_last, 1, np.arange(len(flat)) % 2)   # half lack alternative 3
    flat.loc[flat["av3"] == 0, ["x1_2", "x2_2"]] = np.nan
    long = long_from_wide(flat, alternatives=alts, choice="chosen", situation="chid",
                          attributes={"x1": ["x1_0", "x1_1", "x1_2"],
                                      "x2": ["x2_0", "x2_1", "x2_2"]},
                          availability=[None, None, "av3"])
    res = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x2 - 1", long, groups="chid",
                                                availability="available", k_classes=1).fit()
    assert res.model.n_situations == len(flat)
    # the same fit from the long rows of available alternatives only
    kept = long[long["available"] == 1]
    ref = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x2 - 1", kept, groups="chid",
                                                k_classes=1).fit()
    assert res.llf == pytest.approx(ref.llf, abs=1e-8)
    # and by hand: sum of log softmax over available alternatives at the estimate
    b = res.params.to_numpy()
    v = kept[["x1", "x2"]].to_numpy() @ b
    lse = pd.Series(np.exp(v), index=kept.index).groupby(kept["chid"]).transform("sum")
    assert res.llf == pytest.approx(float((v - np.log(lse))[kept["choice"] == 1].sum()))


def test_swissmetro_raw_to_biogeme_b07_in_under_ten_lines():
    ref = json.loads((RESULTS / "swissmetro_biogeme_b07.json").read_text())
    raw = mx.datasets.swissmetro.load_raw().query("PURPOSE in (1, 3) and CHOICE != 0")
    raw = raw.assign(TRAIN_AV=raw.TRAIN_AV * (raw.SP != 0), CAR_AV=raw.CAR_AV * (raw.SP != 0), TRAIN_CO=raw.TRAIN_CO * (raw.GA == 0), SM_CO=raw.SM_CO * (raw.GA == 0))
    df = long_from_wide(raw, alternatives=["train", "sm", "car"], choice="CHOICE", availability={"train": "TRAIN_AV", "sm": "SM_AV", "car": "CAR_AV"},
                        attributes={"time": ["TRAIN_TT", "SM_TT", "CAR_TT"], "cost": ["TRAIN_CO", "SM_CO", "CAR_CO"]})
    df[["time", "cost"]] /= 100
    res = mx.MixedMultinomialLogit.from_formula("choice ~ time - 1", df, groups="chid", k_classes=2, availability="available",
                                                invariant="asc(alt, ref='sm') + cost - 1").fit(n_starts=3, seed=1, fixed={"class2:time": 0.0})
    assert res.llf == pytest.approx(ref["loglike"], abs=1e-6 * abs(ref["loglike"]))
    est = ref["estimates"]
    assert res.params["alt[train]"] == pytest.approx(est["ASC_TRAIN"], abs=1e-4)
    assert res.params["alt[car]"] == pytest.approx(est["ASC_CAR"], abs=1e-4)
    assert res.params["cost"] == pytest.approx(est["B_COST"], abs=1e-4)
    assert res.params["class1:time"] == pytest.approx(est["B_TIME"], abs=1e-4)


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, argument", [
    ({"attributes": {"time": ["BUS_T", "CAR_X", "RAIL_T"]}}, r"attributes\['time'\]"),
    ({"availability": {"car": "CAR_AVAIL"}}, "availability"),
    ({"keep": ["incomes"]}, "keep"),
    ({"choice": "CHOICE"}, "choice"),
    ({"situation": "chid"}, "situation"),
    ({"panel": "id"}, "panel"),
])
def test_unknown_columns_are_named(wide, kwargs, argument):
    args = dict(alternatives=ALTS, choice="CHOSEN", attributes={"time": ["BUS_T", "CAR_T",
                                                                          "RAIL_T"]})
    args.update(kwargs)
    with pytest.raises(SpecificationError, match=argument + ".*not a column"):
        long_from_wide(wide, **args)


def test_mismatched_attribute_list(wide):
    with pytest.raises(SpecificationError, match=r"attributes\['time'\] lists 2 columns for 3"):
        long_from_wide(wide, alternatives=ALTS, choice="CHOSEN",
                       attributes={"time": ["BUS_T", "CAR_T"]})
    with pytest.raises(SpecificationError, match=r"attributes\['time'\].*one column"):
        long_from_wide(wide, alternatives=ALTS, choice="CHOSEN", attributes={"time": "BUS_T"})


def test_choice_code_not_in_choice_codes(wide):
    with pytest.raises(DataError, match=r"choice: 2 rows of column 'CHOSEN' have codes 3"):
        long_from_wide(wide, alternatives=ALTS, choice="CHOSEN", choice_codes={1: "bus", 2: "car"},
                       attributes={"time": ["BUS_T", "CAR_T", "RAIL_T"]})
    with pytest.raises(DataError, match="positions 1..3"):
        long_from_wide(wide.assign(CHOSEN=wide["CHOSEN"] - 1), alternatives=ALTS,
                       choice="CHOSEN", attributes={"time": ["BUS_T", "CAR_T", "RAIL_T"]})
    with pytest.raises(SpecificationError, match="choice_codes.*plane"):
        long_from_wide(wide, alternatives=ALTS, choice="CHOSEN", choice_codes={1: "plane"},
                       attributes={"time": ["BUS_T", "CAR_T", "RAIL_T"]})


def test_chosen_alternative_unavailable(wide):
    bad = wide.assign(CAR_AV=[1, 0, 1, 0, 0, 1, 1])      # row 3 chose car (code 2)
    with pytest.raises(DataError, match=r"availability: in 1 situations .*row 3: 'car'"):
        _reshape(bad)


def test_availability_must_be_zero_one(wide):
    with pytest.raises(DataError, match="0/1"):
        _reshape(wide.assign(CAR_AV=wide["CAR_AV"] * 2))


def test_output_name_clash(wide):
    with pytest.raises(SpecificationError, match="twice"):
        long_from_wide(wide, alternatives=ALTS, choice="CHOSEN", keep=["income"],
                       attributes={"income": ["BUS_T", "CAR_T", "RAIL_T"]})


def test_repeated_situation_ids(wide):
    with pytest.raises(DataError, match="situation: the id 1 of column 'person'"):
        long_from_wide(wide, alternatives=ALTS, choice="CHOSEN", situation="person",
                       attributes={"time": ["BUS_T", "CAR_T", "RAIL_T"]})


def test_alternatives_must_be_distinct(wide):
    with pytest.raises(SpecificationError, match="alternatives"):
        long_from_wide(wide, alternatives=["bus", "bus"], choice="CHOSEN", attributes={})


def test_model_from_wide_reaches_biogeme_b07():
    """MixedMultinomialLogit.from_wide: raw wide file straight to the published b07 optimum."""
    ref = json.loads((RESULTS / "swissmetro_biogeme_b07.json").read_text())
    raw = mx.datasets.swissmetro.load_raw().query("PURPOSE in (1, 3) and CHOICE != 0")
    raw = raw.assign(TRAIN_AV=raw.TRAIN_AV * (raw.SP != 0), CAR_AV=raw.CAR_AV * (raw.SP != 0),
                     TRAIN_CO=raw.TRAIN_CO * (raw.GA == 0) / 100, SM_CO=raw.SM_CO * (raw.GA == 0) / 100,
                     CAR_CO=raw.CAR_CO / 100, TRAIN_TT=raw.TRAIN_TT / 100, SM_TT=raw.SM_TT / 100,
                     CAR_TT=raw.CAR_TT / 100)
    model = mx.MixedMultinomialLogit.from_wide(
        "choice ~ time - 1", raw, alternatives=["train", "sm", "car"], choice="CHOICE",
        attributes={"time": ["TRAIN_TT", "SM_TT", "CAR_TT"], "cost": ["TRAIN_CO", "SM_CO", "CAR_CO"]},
        availability={"train": "TRAIN_AV", "sm": "SM_AV", "car": "CAR_AV"}, k_classes=2,
        invariant="asc(alt, ref='sm') + cost - 1")
    res = model.fit(n_starts=3, seed=1, fixed={"class2:time": 0.0})
    assert res.llf == pytest.approx(ref["loglike"], abs=1e-6 * abs(ref["loglike"]))
    assert res.params["cost"] == pytest.approx(ref["estimates"]["B_COST"], abs=1e-4)
