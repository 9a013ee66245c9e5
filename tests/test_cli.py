"""The ``mixlogit`` command line: round trips, output files, and one-line errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import mixlogit as mx
from mixlogit.cli import main, parse_classes

try:  # parquet output needs pyarrow (or fastparquet), an optional dependency
    import pyarrow  # noqa: F401
    HAVE_PARQUET = True
except ImportError:
    HAVE_PARQUET = False

FORMULA = "choice ~ pf + cl + loc + wk + tod + seas - 1"
N_PEOPLE = 120  # a subset of the electricity panel keeps every fit well under a second


@pytest.fixture(scope="module")
def electricity_csv(tmp_path_factory):
    """The electricity data (first 120 respondents) written to a CSV file, and the frame."""
    df = mx.datasets.electricity.load()
    df = df[df["id"] <= N_PEOPLE].reset_index(drop=True)
    path = tmp_path_factory.mktemp("cli") / "electricity.csv"
    df.to_csv(path, index=False)
    return str(path), df


def fit_args(path, *extra):
    return ["fit", path, "--formula", FORMULA, "--groups", "chid", "--panel", "id", *extra]


def assert_one_line_error(capsys, status, *fragments):
    """Exit status 2, and stderr is exactly one line 'mixlogit: error: ...'."""
    out, err = capsys.readouterr()
    assert status == 2
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("mixlogit: error:")]
    assert len(errors) == 1, err
    assert all(line.startswith("mixlogit: ") for line in lines), err
    assert "Traceback" not in err and "Traceback" not in out
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


# ------------------------------------------------------------------------ help
def test_help_in_a_subprocess():
    proc = subprocess.run([sys.executable, "-m", "mixlogit", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for command in ("demo", "fit", "select", "predict", "datasets"):
        assert command in proc.stdout
    assert proc.stderr == ""


@pytest.mark.parametrize("command", ["fit", "select", "demo", "predict", "datasets"])
def test_help_of_every_command(command, capsys):
    assert main([command, "--help"]) == 0
    out, _ = capsys.readouterr()
    assert f"usage: mixlogit {command}" in out
    if command in ("fit", "select"):
        for option in ("--formula", "--groups", "--panel", "--classes", "--invariant",
                       "--membership", "--starts", "--seed", "--output"):
            assert option in out


def test_version(capsys):
    assert main(["--version"]) == 0
    assert mx.__version__ in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "usage: mixlogit" in capsys.readouterr().err


# ------------------------------------------------------------------ round trips
@pytest.mark.filterwarnings("ignore::mixlogit.StartsWarning")
def test_fit_json_round_trip(electricity_csv, tmp_path, capsys):
    path, df = electricity_csv
    out_file = tmp_path / "results.json"
    status = main(fit_args(path, "--classes", "2", "--starts", "3", "--seed", "0",
                           "--output", str(out_file)))
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Latent Class Multinomial Logit Results" in out
    assert "Class 2 (share" in out
    assert f"wrote {out_file}" in err

    doc = json.loads(out_file.read_text())
    # the same model fitted in Python with the same options gives the same numbers
    res = mx.MixedMultinomialLogit.from_formula(
        FORMULA, df, groups="chid", panel="id", k_classes=2).fit(n_starts=3, seed=0)
    params = pd.Series({p["name"]: p["coef"] for p in doc["params"]})
    bse = pd.Series({p["name"]: p["std_err"] for p in doc["params"]})
    np.testing.assert_allclose(params[res.params.index], res.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(bse[res.bse.index], res.bse, rtol=1e-5, atol=1e-8)
    assert doc["fit"]["llf"] == pytest.approx(res.llf, rel=1e-10)
    assert doc["fit"]["n_decision_makers"] == N_PEOPLE
    assert doc["model"] == {"formula": FORMULA, "invariant": None, "membership": None,
                            "groups": "chid", "panel": "id", "availability": None,
                            "weights": None, "weights_kind": "frequency", "k_classes": 2}
    # the covariance matrix: its diagonal gives the standard errors, and it is symmetric
    cov = np.array(doc["covariance"]["matrix"], dtype=float)
    assert doc["covariance"]["names"] == [p["name"] for p in doc["params"]]
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), [p["std_err"] for p in doc["params"]],
                               rtol=1e-10)
    np.testing.assert_allclose(cov, cov.T, rtol=1e-12, atol=1e-15)
    # the start report: 3 starts, the best optimum first and equal to the fit's llf
    assert doc["starts"]["n_starts"] == 3
    assert doc["starts"]["optima"][0] == pytest.approx(res.llf, rel=1e-8)
    assert len(doc["starts"]["runs"]) >= 3
    shares = [s["share"] for s in doc["class_shares"]]
    np.testing.assert_allclose(shares, res.class_shares, rtol=1e-6)
    assert sum(shares) == pytest.approx(1.0)
    posteriors = pd.DataFrame(doc["posteriors"]).set_index("decision_maker")
    assert len(posteriors) == N_PEOPLE
    np.testing.assert_allclose(posteriors.sum(axis=1), 1.0)
    np.testing.assert_allclose(posteriors.loc[res.posterior_probs().index].to_numpy(),
                               res.posterior_probs().to_numpy(), atol=1e-6)


def test_fit_csv_output_writes_three_tables(electricity_csv, tmp_path, capsys):
    path, _ = electricity_csv
    out_file = tmp_path / "res.csv"
    status = main(fit_args(path, "--classes", "2", "--starts", "2", "--output", str(out_file),
                           "--quiet"))
    out, err = capsys.readouterr()
    assert status == 0, err
    assert out == ""  # --quiet: no summary
    params = pd.read_csv(out_file)
    assert list(params.columns) == ["name", "coef", "std_err", "z", "p_value", "lower", "upper",
                                    "fixed"]
    assert params["name"].tolist()[:2] == ["class1:pf", "class1:cl"]
    assert params["std_err"].notna().all()
    shares = pd.read_csv(tmp_path / "res.shares.csv")
    assert shares["class"].tolist() == ["class1", "class2"]
    posteriors = pd.read_csv(tmp_path / "res.posteriors.csv")
    assert list(posteriors.columns) == ["decision_maker", "class1", "class2"]
    assert len(posteriors) == N_PEOPLE


def test_fit_with_invariant_fixed_and_robust(electricity_csv, tmp_path, capsys):
    path, _ = electricity_csv
    out_file = tmp_path / "r.json"
    status = main(["fit", path, "--formula", "choice ~ pf + cl - 1", "--groups", "chid",
                   "--panel", "id", "--classes", "2", "--invariant", "~ loc + wk + tod + seas - 1",
                   "--fixed", "class2:cl=0", "--cov-type", "robust", "--starts", "2",
                   "--output", str(out_file)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Class-invariant coefficients" in out
    doc = json.loads(out_file.read_text())
    by_name = {p["name"]: p for p in doc["params"]}
    assert by_name["class2:cl"]["coef"] == 0.0 and by_name["class2:cl"]["fixed"] is True
    assert by_name["class2:cl"]["std_err"] is None  # NaN is written as null
    assert doc["fit"]["cov_type"] == "robust"
    assert "loc" in by_name


def test_fit_with_bootstrap(electricity_csv, tmp_path, capsys):
    path, _ = electricity_csv
    out_file = tmp_path / "boot.json"
    status = main(fit_args(path, "--classes", "2", "--starts", "2", "--bootstrap", "5",
                           "--seed", "1", "--output", str(out_file)))
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Bootstrap (5 replicates" in out
    doc = json.loads(out_file.read_text())
    assert doc["fit"]["cov_type"] == "bootstrap"
    assert doc["bootstrap"]["n_reps"] == 5
    assert len(doc["bootstrap"]["percentile_intervals"]) == len(doc["params"])


def test_select_prints_the_table(electricity_csv, tmp_path, capsys):
    path, _ = electricity_csv
    out_file = tmp_path / "select.csv"
    status = main(["select", path, "--formula", FORMULA, "--groups", "chid", "--panel", "id",
                   "--classes", "1-2", "--starts", "2", "--seed", "0", "--output", str(out_file)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "bic" in out and "aic" in out
    table = pd.read_csv(out_file, index_col=0)
    assert table.index.tolist() == [1, 2]
    assert (table["llf"].diff().dropna() > 0).all()


def test_demo_runs(capsys):
    assert main(["demo", "--classes", "1"]) == 0
    out, _ = capsys.readouterr()
    assert "Latent Class Multinomial Logit Results" in out
    assert "No. Decision makers:                361" in out


def test_datasets_list_and_export(tmp_path, capsys):
    assert main(["datasets"]) == 0
    out, _ = capsys.readouterr()
    assert out.split()[0] == "electricity" and "swissmetro" in out
    target = tmp_path / "heating.csv"
    assert main(["datasets", "heating", "--output", str(target)]) == 0
    assert pd.read_csv(target).shape == mx.datasets.heating.load().shape


# ------------------------------------------------------------------- bad input
def test_missing_file(capsys, tmp_path):
    status = main(fit_args(str(tmp_path / "nope.csv"), "--classes", "2"))
    assert_one_line_error(capsys, status, "no such file")


@pytest.mark.parametrize("option, column", [("--groups", "situation"), ("--panel", "person")])
def test_missing_id_column(electricity_csv, capsys, option, column):
    path, _ = electricity_csv
    args = ["fit", path, "--formula", FORMULA, "--groups", "chid", "--panel", "id",
            "--classes", "2"]
    args[args.index(option) + 1] = column
    status = main(args)
    # the library's message, as the Python API gives it (the CLI does not re-check)
    assert_one_line_error(capsys, status, f"{option[2:]}={column!r} is not a column")


def test_missing_formula_column(electricity_csv, capsys):
    path, _ = electricity_csv
    status = main(["fit", path, "--formula", "choice ~ pf + price - 1", "--groups", "chid",
                   "--classes", "2"])
    assert_one_line_error(capsys, status, "price")


def test_missing_outcome_column(electricity_csv, capsys):
    path, _ = electricity_csv
    status = main(["fit", path, "--formula", "chosen ~ pf - 1", "--groups", "chid",
                   "--classes", "2"])
    assert_one_line_error(capsys, status, "chosen")


def test_no_chosen_alternative(electricity_csv, tmp_path, capsys):
    _, df = electricity_csv
    bad = df.copy()
    bad.loc[bad["chid"] == bad["chid"].iloc[0], "choice"] = 0
    path = tmp_path / "nochoice.csv"
    bad.to_csv(path, index=False)
    status = main(fit_args(str(path), "--classes", "2"))
    assert_one_line_error(capsys, status, "no chosen alternative")


def test_two_chosen_alternatives(electricity_csv, tmp_path, capsys):
    _, df = electricity_csv
    bad = df.copy()
    bad.loc[bad["chid"] == bad["chid"].iloc[0], "choice"] = 1
    path = tmp_path / "twochoices.csv"
    bad.to_csv(path, index=False)
    status = main(fit_args(str(path), "--classes", "2"))
    assert_one_line_error(capsys, status, "more than one chosen alternative")


@pytest.mark.parametrize("value", ["0", "-1", "two", "2.5", ""])
def test_bad_classes(electricity_csv, capsys, value):
    path, _ = electricity_csv
    status = main(fit_args(path, "--classes", value))
    assert_one_line_error(capsys, status, "--classes")


def test_more_classes_than_decision_makers(electricity_csv, capsys):
    path, _ = electricity_csv
    status = main(fit_args(path, "--classes", str(N_PEOPLE + 1)))
    assert_one_line_error(capsys, status, "exceeds the number of decision makers")


@pytest.mark.parametrize("value", ["0", "3-1", "a-b", "1,x"])
def test_bad_classes_in_select(electricity_csv, capsys, value):
    path, _ = electricity_csv
    status = main(["select", path, "--formula", FORMULA, "--groups", "chid", "--classes", value])
    assert_one_line_error(capsys, status, "--classes")


@pytest.mark.parametrize("extra, fragment", [
    (["--output", "results.txt"], "--output='results.txt': unknown extension '.txt'"),
    (["--output", "results.xlsx"], "use .json, .csv, .tsv or .parquet"),
    (["--bootstrap", "-3"], "--bootstrap"),
    (["--jobs", "0"], "--jobs"),
    (["--start", "sideways"], "sideways"),
    (["--fixed", "nonsense"], "NAME=VALUE"),
    (["--fixed", "class9:pf=0"], "class9:pf"),
    (["--starts", "0"], "--starts"),
    (["--cov-type", "cluster"], "--cluster"),
    (["--bootstrap", "1"], "--bootstrap"),
])
def test_bad_options(electricity_csv, capsys, extra, fragment):
    path, _ = electricity_csv
    status = main(fit_args(path, "--classes", "2", "--starts", "1", *extra))
    assert_one_line_error(capsys, status, fragment)


def test_missing_required_option(electricity_csv, capsys):
    path, _ = electricity_csv
    status = main(["fit", path, "--formula", FORMULA, "--classes", "2"])
    assert_one_line_error(capsys, status, "--groups")


def test_malformed_formula(electricity_csv, capsys):
    path, _ = electricity_csv
    status = main(["fit", path, "--formula", "choice pf", "--groups", "chid", "--classes", "2"])
    assert_one_line_error(capsys, status, "formula")


def test_unparseable_and_empty_files(tmp_path, capsys):
    broken = tmp_path / "broken.csv"
    broken.write_text('a,b\n1,2,3,4\n"x')
    status = main(fit_args(str(broken), "--classes", "2"))
    assert_one_line_error(capsys, status, "broken.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    status = main(fit_args(str(empty), "--classes", "2"))
    assert_one_line_error(capsys, status, "empty")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    status = main(fit_args(str(binary), "--classes", "2"))
    assert_one_line_error(capsys, status)


def test_non_numeric_attribute(electricity_csv, tmp_path, capsys):
    _, df = electricity_csv
    bad = df.copy()
    bad["choice"] = np.where(bad["choice"] == 1, "yes", "no")
    path = tmp_path / "text_choice.csv"
    bad.to_csv(path, index=False)
    status = main(fit_args(str(path), "--classes", "2"))
    assert_one_line_error(capsys, status)


def test_unknown_command_and_dataset(capsys):
    assert_one_line_error(capsys, main(["frobnicate"]), "frobnicate")
    assert_one_line_error(capsys, main(["datasets", "mtcars"]), "mtcars")


def test_bad_input_in_a_subprocess(tmp_path):
    """The installed entry point too: exit status 2, one line, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "mixlogit", "fit", str(tmp_path / "missing.csv"), "--formula",
         FORMULA, "--groups", "chid", "--classes", "2"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("mixlogit: error:")


# ---------------------------------------------------------------- the parsers
@pytest.mark.parametrize("text, expected", [
    ("3", [1, 2, 3]), ("2-4", [2, 3, 4]), ("2:3", [2, 3]), ("1,3,5", [1, 3, 5]),
    ("5,1,1", [1, 5]),
])
def test_parse_classes(text, expected):
    assert parse_classes(text) == expected


def test_warnings_are_one_line_each(electricity_csv, tmp_path, capsys):
    """Estimator warnings come after the summary, one 'mixlogit: warning:' line each."""
    _, df = electricity_csv
    data = df.copy()
    data.loc[data.index[:4], "pf"] = np.nan  # one situation dropped: DroppedObservationsWarning
    path = tmp_path / "missing_values.csv"
    data.to_csv(path, index=False)
    status = main(fit_args(str(path), "--classes", "1"))
    out, err = capsys.readouterr()
    assert status == 0
    assert "Latent Class Multinomial Logit Results" in out
    lines = err.strip().splitlines()
    assert lines and all(line.startswith("mixlogit: warning:") for line in lines)
    assert any("DroppedObservationsWarning" in line for line in lines)


def test_output_is_valid_json_without_nan(electricity_csv, tmp_path, capsys):
    path, _ = electricity_csv
    out_file = tmp_path / "one.json"
    assert main(fit_args(path, "--classes", "1", "--output", str(out_file))) == 0
    text = out_file.read_text()
    assert "NaN" not in text
    doc = json.loads(text)
    assert doc["class_shares"][0]["share"] == pytest.approx(1.0)
    assert os.path.getsize(out_file) > 0


def test_swissmetro_b07_through_a_csv_file(tmp_path, capsys):
    """Biogeme's b07 (tests/results/swissmetro_biogeme_b07.json) from the command line."""
    from pathlib import Path

    ref = json.loads((Path(__file__).parent / "results" / "swissmetro_biogeme_b07.json")
                     .read_text())
    data = tmp_path / "swissmetro.csv"
    assert main(["datasets", "swissmetro", "--output", str(data)]) == 0
    out_file = tmp_path / "b07.json"
    status = main(["fit", str(data), "--formula", "choice ~ time - 1", "--groups", "chid",
                   "--classes", "2", "--invariant", "~ asc_train + asc_car + cost - 1",
                   "--availability", "available", "--fixed", "class2:time=0",
                   "--cov-type", "robust", "--starts", "2", "--quiet", "--output", str(out_file)])
    _, err = capsys.readouterr()
    assert status == 0, err
    doc = json.loads(out_file.read_text())
    assert doc["fit"]["llf"] == pytest.approx(ref["loglike"], abs=1e-5)
    coef = {p["name"]: p["coef"] for p in doc["params"]}
    se = {p["name"]: p["std_err"] for p in doc["params"]}
    est = ref["estimates"]
    for ours, theirs in [("asc_train", "ASC_TRAIN"), ("asc_car", "ASC_CAR"),
                         ("class1:time", "B_TIME"), ("cost", "B_COST")]:
        assert coef[ours] == pytest.approx(est[theirs], abs=5e-6)
        assert se[ours] == pytest.approx(ref["robust_se"][theirs], abs=6e-4)
    share = {s["class"]: s["share"] for s in doc["class_shares"]}
    assert share["class2"] == pytest.approx(est["share_no_time_class"], abs=5e-6)


def test_membership_and_weights_columns(tmp_path, capsys):
    """--membership and --weights reach the model (simulated panel with a known covariate)."""
    sim = mx.datasets.simulate_panel(n_decision_makers=150, n_situations=6, n_alternatives=3,
                                     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.5, 0.5],
                                     membership=([[0.0], [1.0]], ["income"]), seed=3)
    data = sim.data.assign(w=1.0)
    path = tmp_path / "sim.csv"
    data.to_csv(path, index=False)
    out_file = tmp_path / "sim.json"
    status = main(["fit", str(path), "--formula", "choice ~ x1 + x2 - 1", "--groups", "chid",
                   "--panel", "id", "--classes", "2", "--membership", "~ income",
                   "--weights", "w", "--starts", "3", "--output", str(out_file)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Class membership" in out
    doc = json.loads(out_file.read_text())
    names = [p["name"] for p in doc["params"]]
    assert "membership:class2:income" in names
    assert doc["model"]["membership"] == "~ income" and doc["model"]["weights"] == "w"
    res = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 - 1", data, groups="chid", panel="id", k_classes=2,
        membership="~ income").fit(n_starts=3, seed=0)
    assert doc["fit"]["llf"] == pytest.approx(res.llf, rel=1e-9)


@pytest.mark.parametrize("name, writer", [
    ("data.csv.gz", lambda df, p: df.to_csv(p, index=False)),
    ("data.tsv", lambda df, p: df.to_csv(p, index=False, sep="\t")),
])
def test_compressed_and_tab_separated_files(electricity_csv, tmp_path, capsys, name, writer):
    _, df = electricity_csv
    path = tmp_path / name
    writer(df, path)
    assert main(fit_args(str(path), "--classes", "1", "--quiet")) == 0
    assert capsys.readouterr().err == ""


# ------------------------------------------- reading: rows that do not fit, empty files
def test_row_with_extra_fields_is_refused(electricity_csv, tmp_path, capsys):
    """pandas would take the first column as an index and shift every field: refuse instead."""
    path, _ = electricity_csv
    lines = open(path).read().splitlines()
    lines[5] = lines[5] + ",99"          # line 6 of the file: one field too many
    bad = tmp_path / "extra.csv"
    bad.write_text("\n".join(lines) + "\n")
    status = main(fit_args(str(bad), "--classes", "1"))
    assert_one_line_error(capsys, status, "extra.csv", "line 6 has 12 fields but the header has 11")
    # every data row one field longer than the header: the silent shift of pandas' default
    shifted = tmp_path / "shifted.csv"
    shifted.write_text("\n".join([lines[0]] + [line + ",1" for line in lines[1:]]) + "\n")
    status = main(fit_args(str(shifted), "--classes", "1"))
    assert_one_line_error(capsys, status, "shifted.csv", "fields but the header has 11")


def test_header_only_file_says_no_rows(electricity_csv, tmp_path, capsys):
    path, _ = electricity_csv
    header = tmp_path / "header.csv"
    header.write_text(open(path).readline())
    status = main(fit_args(str(header), "--classes", "2"))
    assert_one_line_error(capsys, status, "header.csv", "no rows")


def test_choice_coded_one_two_is_named_as_the_python_api_does(electricity_csv, tmp_path, capsys):
    _, df = electricity_csv
    bad = df.copy()
    bad["choice"] = bad["choice"] + 1              # 1 = not chosen, 2 = chosen
    path = tmp_path / "coded12.csv"
    bad.to_csv(path, index=False)
    status = main(fit_args(str(path), "--classes", "2"))
    line = assert_one_line_error(capsys, status, "'choice' must be 1 for the chosen alternative "
                                                 "and 0 otherwise")
    with pytest.raises(mx.DataError) as info:
        mx.MixedMultinomialLogit.from_formula(FORMULA, bad, groups="chid", panel="id",
                                              k_classes=2)
    assert " ".join(str(info.value).split()) in line


def test_text_value_in_a_numeric_column_names_it(electricity_csv, tmp_path, capsys):
    _, df = electricity_csv
    bad = df.copy()
    bad["pf"] = bad["pf"].astype(object)
    bad.loc[17, "pf"] = "a"
    path = tmp_path / "text.csv"
    bad.to_csv(path, index=False)
    status = main(fit_args(str(path), "--classes", "1"))
    assert_one_line_error(capsys, status, "column pf holds text ('a' in row 17")


# ------------------------------------------------------- output formats and contents
@pytest.fixture(scope="module")
def fitted_files(electricity_csv, tmp_path_factory):
    """One fit written as .csv, .tsv, .parquet and .json, with WTP (price: pf)."""
    path, df = electricity_csv
    out = tmp_path_factory.mktemp("out")
    for ext in ("csv", "tsv", "parquet", "json") if HAVE_PARQUET else ("csv", "tsv", "json"):
        status = main(fit_args(path, "--classes", "2", "--starts", "2", "--seed", "0",
                               "--wtp", "pf", "--quiet", "--output", str(out / f"res.{ext}")))
        assert status == 0
    res = mx.MixedMultinomialLogit.from_formula(
        FORMULA, df, groups="chid", panel="id", k_classes=2).fit(n_starts=2, seed=0)
    return out, res


def test_tsv_and_parquet_hold_the_csv_tables(fitted_files):
    out, _ = fitted_files
    for part in ("", ".shares", ".posteriors", ".covariance", ".starts", ".wtp"):
        csv = pd.read_csv(out / f"res{part}.csv")
        tsv_text = (out / f"res{part}.tsv").read_text()
        assert "\t" in tsv_text.splitlines()[0] and "," not in tsv_text.splitlines()[0]
        tsv = pd.read_csv(out / f"res{part}.tsv", sep="\t")
        parquet = pd.read_parquet(out / f"res{part}.parquet") if HAVE_PARQUET else tsv
        assert list(tsv.columns) == list(csv.columns) == list(parquet.columns)
        num = csv.select_dtypes("number").columns.drop("seconds", errors="ignore")  # timings
        np.testing.assert_allclose(tsv[num].to_numpy(float), csv[num].to_numpy(float),
                                   rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(parquet[num].to_numpy(float), csv[num].to_numpy(float),
                                   rtol=1e-12, equal_nan=True)


def test_wtp_is_minus_the_coefficient_ratio(fitted_files):
    out, res = fitted_files
    doc = json.loads((out / "res.json").read_text())
    assert doc["wtp"]["price"] == "pf"
    coef = {p["name"]: p["coef"] for p in doc["params"]}
    table = pd.DataFrame(doc["wtp"]["table"])
    per_class = table[table["class"] != "population"]
    assert len(per_class) == 2 * 5
    for _, row in per_class.iterrows():
        expected = -coef[f"{row['class']}:{row['attribute']}"] / coef[f"{row['class']}:pf"]
        assert row["wtp"] == pytest.approx(expected, rel=1e-10)
    csv = pd.read_csv(out / "res.wtp.csv")
    np.testing.assert_allclose(csv["wtp"], table["wtp"], rtol=1e-12)


def test_covariance_file_is_the_json_matrix(fitted_files):
    out, _ = fitted_files
    doc = json.loads((out / "res.json").read_text())
    cov = pd.read_csv(out / "res.covariance.csv", index_col="name")
    assert list(cov.index) == list(cov.columns) == doc["covariance"]["names"]
    np.testing.assert_allclose(cov.to_numpy(), np.array(doc["covariance"]["matrix"], float),
                               rtol=1e-12)


def test_parquet_without_an_engine_is_refused_before_the_fit(electricity_csv, tmp_path, capsys,
                                                              monkeypatch):
    path, _ = electricity_csv
    monkeypatch.setitem(sys.modules, "pyarrow", None)       # import pyarrow -> ImportError
    monkeypatch.setitem(sys.modules, "fastparquet", None)
    status = main(fit_args(path, "--classes", "2", "--output", str(tmp_path / "r.parquet")))
    assert_one_line_error(capsys, status, "needs pyarrow")
    assert not (tmp_path / "r.parquet").exists()


def test_select_and_datasets_honour_the_extension(electricity_csv, tmp_path, capsys):
    path, _ = electricity_csv
    out_file = tmp_path / "select.json"
    status = main(["select", path, "--formula", FORMULA, "--groups", "chid", "--panel", "id",
                   "--classes", "1-2", "--starts", "1", "--seed", "0", "--output", str(out_file)])
    assert status == 0, capsys.readouterr().err
    records = json.loads(out_file.read_text())
    assert [r["k_classes"] if "k_classes" in r else r[next(iter(r))] for r in records] == [1, 2]
    assert records[1]["llf"] > records[0]["llf"]
    tsv = tmp_path / "heating.tsv"
    assert main(["datasets", "heating", "--output", str(tsv)]) == 0
    back = pd.read_csv(tsv, sep="\t")
    original = mx.datasets.heating.load().reset_index(drop=True)
    assert list(back.columns) == list(original.columns) and len(back) == len(original)
    num = original.select_dtypes("number").columns
    np.testing.assert_allclose(back[num].to_numpy(float), original[num].to_numpy(float))
    assert_one_line_error(capsys, main(["datasets", "heating", "--output",
                                        str(tmp_path / "h.txt")]), "unknown extension")


def test_cli_module_imports_only_the_standard_library_at_the_top():
    """numpy, pandas and mixlogit load inside the commands: --help stays fast."""
    import ast

    import mixlogit.cli as cli

    tree = ast.parse(open(cli.__file__).read())
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            top.add(node.module.split(".")[0])
    assert top <= {"__future__", "argparse", "collections", "os", "sys", "warnings", "typing"}, top
    assert cli.write_results.__module__ == "mixlogit.io"


def test_alternatives_column_refuses_a_duplicated_alternative(electricity_csv, tmp_path, capsys):
    _, df = electricity_csv
    row = df[(df["chid"] == 5) & (df["choice"] == 0)].head(1)
    bad = pd.concat([df, row], ignore_index=True)
    path = tmp_path / "dup.csv"
    bad.to_csv(path, index=False)
    alt = int(row["alt"].iloc[0])
    status = main(fit_args(str(path), "--classes", "1", "--alternatives", "alt"))
    assert_one_line_error(capsys, status, f"alternative {alt} appears 2 times in choice "
                                          "situation 5 ('chid'")
    status = main(["select", str(path), "--formula", FORMULA, "--groups", "chid", "--panel", "id",
                   "--classes", "1", "--alternatives", "alt"])
    assert_one_line_error(capsys, status, f"alternative {alt} appears 2 times")
    # without --alternatives: the fit runs and the copy is named in a warning
    status = main(fit_args(str(path), "--classes", "1", "--quiet"))
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "DuplicateRowsWarning" in err and "first: situation 5" in err


def test_sampling_weights_from_the_command_line(electricity_csv, tmp_path, capsys):
    _, df = electricity_csv
    weighted = df.copy()
    weighted["w"] = 1.0 / df["id"].nunique()
    path = tmp_path / "w.csv"
    weighted.to_csv(path, index=False)
    out_file = tmp_path / "w.json"
    status = main(fit_args(str(path), "--classes", "1", "--weights", "w", "--quiet",
                           "--output", str(out_file)))
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "WeightsWarning" in err and "sampling weights" in err
    doc = json.loads(out_file.read_text())
    plain = mx.MixedMultinomialLogit.from_formula(FORMULA, df, groups="chid", panel="id",
                                                  k_classes=1).fit()
    assert doc["model"]["weights_kind"] == "sampling"
    assert doc["fit"]["bic"] == pytest.approx(plain.bic, rel=1e-8)


# -------------------------------------------------------------------- predict
def _mixture_by_hand(res, scenario, terms):
    """sum_k pi_k softmax_situation(X beta_k) and the per-class softmax, by a loop."""
    K = res.k_classes
    betas = np.array([[res.params[f"class{k + 1}:{t}"] for t in terms] for k in range(K)])
    shares = res.class_shares.to_numpy()
    per_class = np.zeros((len(scenario), K))
    for _, rows in scenario.groupby("chid").groups.items():
        X = scenario.loc[rows, terms].to_numpy(float)
        for k in range(K):
            e = np.exp(X @ betas[k] - (X @ betas[k]).max())
            per_class[scenario.index.get_indexer(rows), k] = e / e.sum()
    return per_class @ shares, per_class


@pytest.fixture(scope="module")
def saved_fit(electricity_csv, tmp_path_factory):
    path, df = electricity_csv
    folder = tmp_path_factory.mktemp("predict")
    pkl = str(folder / "results.pkl")
    status = main(["fit", path, "--formula", "choice ~ pf + cl + loc - 1", "--groups", "chid",
                   "--panel", "id", "--classes", "2", "--starts", "2", "--quiet",
                   "--save", pkl])
    assert status == 0
    first = df["chid"].unique()[:5]
    scenario = df[df["chid"].isin(first)].drop(columns="choice").reset_index(drop=True)
    scenario["pf"] = scenario["pf"] * 1.1                     # a price change: a new scenario
    scen = str(folder / "scenario.csv")
    scenario.to_csv(scen, index=False)
    return pkl, scen, pd.read_csv(scen), folder


def test_predict_writes_the_mixture_probabilities(saved_fit, capsys):
    pkl, scen, scenario, folder = saved_fit
    out = str(folder / "pred.csv")
    assert main(["predict", pkl, scen, "--output", out]) == 0
    assert "wrote" in capsys.readouterr().err
    got = pd.read_csv(out)
    res = mx.MixedMultinomialLogitResults.load(pkl)
    assert list(got.columns) == list(scenario.columns) + ["probability"]
    pd.testing.assert_frame_equal(got[scenario.columns], scenario, check_dtype=False)
    np.testing.assert_allclose(got["probability"], res.predict(scenario), rtol=1e-12)
    mix, _ = _mixture_by_hand(res, scenario, ["pf", "cl", "loc"])
    np.testing.assert_allclose(got["probability"], mix, rtol=1e-10)
    np.testing.assert_allclose(got.groupby("chid")["probability"].sum(), 1.0)


def test_predict_by_class_and_to_standard_output(saved_fit, capsys):
    import io as _io

    pkl, scen, scenario, folder = saved_fit
    res = mx.MixedMultinomialLogitResults.load(pkl)
    _, per_class = _mixture_by_hand(res, scenario, ["pf", "cl", "loc"])
    out = str(folder / "pred.tsv")
    assert main(["predict", pkl, scen, "--kind", "class", "-o", out]) == 0
    got = pd.read_csv(out, sep="\t")
    np.testing.assert_allclose(got[["class1", "class2"]], per_class, rtol=1e-10)
    np.testing.assert_allclose(got[["class1", "class2"]],
                               res.predict(scenario, kind="class"), rtol=1e-12)
    capsys.readouterr()
    assert main(["predict", pkl, scen]) == 0
    printed = pd.read_csv(_io.StringIO(capsys.readouterr().out))
    np.testing.assert_allclose(printed["probability"], per_class @ res.class_shares.to_numpy(),
                               rtol=1e-10)


def test_predict_of_a_counts_model(tmp_path, capsys):
    rng = np.random.default_rng(0)
    feats = pd.DataFrame(rng.normal(size=(20, 2)), columns=["a", "b"])
    counts = rng.multinomial(2000, np.full(20, 1 / 20))
    res = mx.MixedMultinomialLogit.from_counts(counts, feats, k_classes=1).fit()
    pkl = str(tmp_path / "counts.pkl")
    res.save(pkl)
    new = feats.iloc[:6] + 0.5
    new.to_csv(tmp_path / "cands.csv", index=False)
    assert main(["predict", pkl, str(tmp_path / "cands.csv"), "-o",
                 str(tmp_path / "p.csv")]) == 0
    got = pd.read_csv(tmp_path / "p.csv")["probability"].to_numpy()
    u = new.to_numpy() @ np.array([res.params["class1:a"], res.params["class1:b"]])
    np.testing.assert_allclose(got, np.exp(u) / np.exp(u).sum(), rtol=1e-10)


def test_predict_errors_are_one_line(saved_fit, electricity_csv, tmp_path, capsys):
    import pickle

    pkl, scen, scenario, folder = saved_fit
    assert_one_line_error(capsys, main(["predict", str(tmp_path / "none.pkl"), scen]),
                          "no such file")
    assert_one_line_error(capsys, main(["predict", electricity_csv[0], scen]),
                          "not a mixlogit results file")
    with open(tmp_path / "dict.pkl", "wb") as fh:
        pickle.dump({"a": 1}, fh)
    assert_one_line_error(capsys, main(["predict", str(tmp_path / "dict.pkl"), scen]),
                          "holds a dict")
    scenario.drop(columns="pf").to_csv(tmp_path / "nopf.csv", index=False)
    assert_one_line_error(capsys, main(["predict", pkl, str(tmp_path / "nopf.csv")]),
                          "SCENARIO", "pf")
    scenario.drop(columns="chid").to_csv(tmp_path / "nochid.csv", index=False)
    assert_one_line_error(capsys, main(["predict", pkl, str(tmp_path / "nochid.csv")]),
                          "chid")
    assert_one_line_error(capsys, main(["predict", pkl, scen, "-o", str(tmp_path / "p.xlsx")]),
                          "unknown extension")
    assert_one_line_error(capsys, main(["predict", pkl, scen, "--kind", "share"]), "--kind")
    assert_one_line_error(capsys, main(["predict", pkl]), "SCENARIO")
    # --save into a missing folder fails before the fit
    assert_one_line_error(capsys, main(fit_args(electricity_csv[0], "--classes", "1", "--save",
                                                str(tmp_path / "no" / "r.pkl"))), "--save")


def test_predict_refuses_results_of_an_array_model(tmp_path, capsys):
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=30, n_situations=3, n_alternatives=3, betas=[[1.0, -1.0]],
        shares=[1.0], seed=0)
    res = mx.MixedMultinomialLogit(sim.data["choice"], sim.data[["x1", "x2"]],
                                   groups=sim.data["chid"], k_classes=1).fit()
    res.save(tmp_path / "arr.pkl")
    sim.data.to_csv(tmp_path / "s.csv", index=False)
    assert_one_line_error(capsys, main(["predict", str(tmp_path / "arr.pkl"),
                                        str(tmp_path / "s.csv")]), "arrays")


def test_select_with_cross_validation_matches_python(electricity_csv, tmp_path, capsys):
    path, df = electricity_csv
    out = str(tmp_path / "sel.csv")
    args = ["select", path, "--formula", "choice ~ pf + cl + loc - 1", "--groups", "chid",
            "--panel", "id", "--classes", "1-2", "--starts", "2", "--seed", "3", "--cv", "3"]
    assert main([*args, "--output", out]) == 0
    assert "CV " in capsys.readouterr().out
    got = pd.read_csv(out).set_index("k_classes")
    sel = mx.select_classes("choice ~ pf + cl + loc - 1", df, groups="chid", panel="id",
                            k_classes=[1, 2], n_starts=2, seed=3, cv=3)
    np.testing.assert_allclose(got[["cv_loglike", "cv_se", "cv_se_diff"]],
                               sel.table[["cv_loglike", "cv_se", "cv_se_diff"]], rtol=1e-8)
    assert (got["cv_loglike"] < got["llf"]).all()       # held out fits worse than in sample
    assert_one_line_error(capsys, main([*args[:-1], "1"]), "--cv", "folds >= 2")


def test_predict_with_membership_covariates(tmp_path, capsys):
    sim = mx.datasets.simulate_panel(n_decision_makers=120, n_situations=5, n_alternatives=3,
                                     betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.5, 0.5],
                                     membership=([[0.0], [1.0]], ["income"]), seed=4)
    sim.data.to_csv(tmp_path / "sim.csv", index=False)
    pkl = str(tmp_path / "m.pkl")
    assert main(["fit", str(tmp_path / "sim.csv"), "--formula", "choice ~ x1 + x2 - 1",
                 "--groups", "chid", "--panel", "id", "--classes", "2", "--membership",
                 "~ income", "--starts", "2", "--quiet", "--save", pkl]) == 0
    scen = sim.data[sim.data["id"] <= 3].drop(columns="choice").reset_index(drop=True)
    scen.to_csv(tmp_path / "scen.csv", index=False)
    assert main(["predict", pkl, str(tmp_path / "scen.csv"), "-o", str(tmp_path / "p.csv")]) == 0
    got = pd.read_csv(tmp_path / "p.csv")["probability"].to_numpy()
    res = mx.MixedMultinomialLogitResults.load(pkl)
    p = res.params
    expect = np.empty(len(scen))
    for _, rows in scen.groupby("chid").groups.items():
        sit = scen.loc[rows]
        z = p["membership:class2:Intercept"] + p["membership:class2:income"] * sit["income"].iloc[0]
        pi = np.array([1.0, np.exp(z)]) / (1 + np.exp(z))
        mix = 0.0
        for k in (1, 2):
            u = sit[["x1", "x2"]].to_numpy() @ np.array([p[f"class{k}:x1"], p[f"class{k}:x2"]])
            mix = mix + pi[k - 1] * np.exp(u) / np.exp(u).sum()
        expect[scen.index.get_indexer(rows)] = mix
    np.testing.assert_allclose(got, expect, rtol=1e-10)
