"""Summary tables: golden text from statsmodels' numbers, NaN footnotes, layouts, tidy frame."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.discrete.conditional_models import ConditionalLogit

import mixlogit as mx
from mixlogit.datasets.simulate import simulate_panel
from mixlogit.results.summary import build_summary, build_wide_summary, summary_frame


@pytest.fixture(scope="module")
def one_class():
    """A K=1 fit and the same model fitted by statsmodels' ConditionalLogit."""
    sim = simulate_panel(n_decision_makers=100, n_situations=4, n_alternatives=3,
                         betas=[[1.0, -0.5]], shares=[1.0], seed=5)
    df = sim.data
    res = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 - 1", df, groups="chid", panel="id", k_classes=1).fit()
    ref = ConditionalLogit(df["choice"].to_numpy(), df[["x1", "x2"]].to_numpy(),
                           groups=df["chid"].to_numpy()).fit(method="newton", disp=0, tol=1e-12)
    return df, res, ref


def _row(label, value, rlabel, rvalue):
    return f"{label}{value:>{40 - len(label)}}   {rlabel}{rvalue:>{39 - len(rlabel)}}"


def _expected_k1(df, res, ref):
    """The whole summary text, typed out here from independently computed numbers."""
    n_dm = df["id"].nunique()
    n_alt = df.groupby("chid").size()
    llf = ref.llf
    llnull = -np.log(n_alt).sum()               # uniform choice probabilities
    d = 2
    aic, bic = 2 * d - 2 * llf, d * np.log(n_dm) - 2 * llf
    caic = d * (np.log(n_dm) + 1) - 2 * llf
    z = stats.norm.ppf(0.975)
    top = [
        _row("Dep. Variable:", "choice", "No. Rows:", str(len(df))),
        _row("Model:", "MixedMultinomialLogit", "No. Situations:", str(df["chid"].nunique())),
        _row("Method:", "EM + Newton", "No. Decision makers:", str(n_dm)),
        _row("No. Classes:", "1", "Log-Likelihood:", f"{llf:.3f}"),
        _row("Covariance:", "oim", "LL-Null:", f"{llnull:.3f}"),
        _row("Converged:", "Yes", "Pseudo R-squ.:", f"{1 - llf / llnull:.4f}"),
        _row("Starts at best:", "1 of 1", "AIC:", f"{aic:.2f}"),
        _row("EM iterations:", str(res.n_iter), "BIC / CAIC:", f"{bic:.2f} / {caic:.2f}"),
    ]
    rows = []
    for j, name in enumerate(["x1", "x2"]):
        b, se = ref.params[j], ref.bse[j]
        rows.append(f"{name:<10}{b:>11.4f}{se:>11.3f}{b / se:>11.3f}{ref.pvalues[j]:>11.3f}"
                    f"{b - z * se:>12.3f}{b + z * se:>12.3f}")
    lines = ([" " * 22 + "Latent Class Multinomial Logit Results" + " " * 22, "=" * 82] + top
             + [" " * 28 + "Class 1 (share 1.000)" + " " * 29, "=" * 78,
                " " * 17 + "coef    std err          z      P>|z|      [0.025      0.975]",
                "-" * 78] + rows + ["=" * 78, "", "Standard errors: observed information."])
    return "\n".join(lines)


def test_golden_text_one_class(one_class):
    df, res, ref = one_class
    assert res.summary().as_text() == _expected_k1(df, res, ref)
    assert build_summary(res).as_text() == _expected_k1(df, res, ref)


def test_golden_wide_one_class(one_class):
    df, res, ref = one_class
    n_dm = df["id"].nunique()
    llf = ref.llf
    cells = [("x1", f"{ref.params[0]:.4f}"), ("", f"({ref.bse[0]:.3f})"),
             ("x2", f"{ref.params[1]:.4f}"), ("", f"({ref.bse[1]:.3f})"),
             ("Share", "1.000"), ("", "(0.000)"),
             ("Log-likelihood", f"{llf:.3f}"), ("AIC", f"{4 - 2 * llf:.2f}"),
             ("BIC", f"{2 * np.log(n_dm) - 2 * llf:.2f}"), ("Decision makers", str(n_dm)),
             ("Converged", "Yes")]
    text = build_wide_summary(res).as_text().splitlines()
    body = text[4:4 + len(cells)]
    assert [(line[:15].strip(), line[15:].strip()) for line in body] == cells
    assert text[2].split() == ["Class", "1"]
    assert text[-1] == "Standard errors (observed information) in parentheses."


def test_summary_frame_equals_statsmodels(one_class):
    df, res, ref = one_class
    frame = summary_frame(res)
    assert list(frame.index) == ["class1:x1", "class1:x2"]
    assert frame["term"].tolist() == ["x1", "x2"] and frame["class"].tolist() == [1, 1]
    np.testing.assert_allclose(frame["estimate"], ref.params, rtol=1e-7)
    np.testing.assert_allclose(frame["std_err"], ref.bse, rtol=1e-6)
    np.testing.assert_allclose(frame["z"], ref.tvalues, rtol=1e-6)
    np.testing.assert_allclose(frame[["ci_lower", "ci_upper"]], ref.conf_int(0.05), rtol=1e-6)
    np.testing.assert_allclose(summary_frame(res, alpha=0.1)[["ci_lower", "ci_upper"]],
                               ref.conf_int(0.1), rtol=1e-6)


@pytest.fixture(scope="module")
def two_classes():
    sim = simulate_panel(n_decision_makers=120, n_situations=5, n_alternatives=3,
                         betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=3)
    data = sim.data.assign(inc=(sim.data["id"] % 3).astype(float), c=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        res = mx.MixedMultinomialLogit.from_formula(
            "choice ~ x1 + x2 - 1", data, groups="chid", panel="id", k_classes=2,
            membership="~ inc").fit(n_starts=3, seed=0)
        collinear = mx.MixedMultinomialLogit.from_formula(
            "choice ~ x1 + x2 - 1", data, groups="chid", panel="id", k_classes=2,
            membership="~ c").fit(n_starts=3, seed=0)
    return res, collinear


def test_latex_keeps_every_title(two_classes):
    res, _ = two_classes
    tex = build_summary(res).as_latex()
    for title in ("Latent Class Multinomial Logit Results", "Class 1 (share", "Class 2 (share",
                  "Class membership (multinomial logit, class 1 = reference)", "Class shares"):
        assert title in tex
    assert tex.count(r"\begin{tabular}") == 5
    assert "[0.025" in tex and "0.975]" in tex      # share intervals headed as the coefficients'


def test_nan_standard_errors_have_footnotes(two_classes):
    _, res = two_classes
    text = build_summary(res).as_text()
    table = text.split("Class membership")[1].split("Class shares")[0]
    for name in ("class2:Intercept", "class2:c"):
        row = next(line for line in table.splitlines() if line.startswith(name))
        assert row.split()[2:] == ["nan"] * 5  # s.e., z, p and the interval
    assert "Standard errors shown as nan are not identified:" in text
    assert "membership:class2:Intercept: " in text and "membership:class2:c: " in text
    assert "Converged:" in text and "No (flat direction)" in text
    assert "Not converged: flat direction" in text
    # and never an s.e. of 0 anywhere
    assert not (np.asarray(res.bse) == 0).any()


def test_wide_layout_two_classes(two_classes):
    res, _ = two_classes
    lines = build_wide_summary(res).as_text().splitlines()
    assert lines[2].split() == ["Class", "1", "Class", "2"]
    p, se = res.params, res.bse
    row = next(i for i, line in enumerate(lines) if line.startswith("x2 "))
    assert lines[row].split()[1:] == [f"{p['class1:x2']:.4f}", f"{p['class2:x2']:.4f}"]
    assert lines[row + 1].split() == [f"({se['class1:x2']:.3f})", f"({se['class2:x2']:.3f})"]
    mem = next(line for line in lines if line.startswith("membership: inc"))
    assert mem.split()[-1] == f"{p['membership:class2:inc']:.4f}"
    share = next(line for line in lines if line.startswith("Share"))
    assert share.split()[1:] == [f"{s:.3f}" for s in res.class_shares]
    with pytest.raises(mx.SpecificationError, match="layout"):
        build_summary(res, layout="tall")


def test_bootstrap_summary_uses_percentile_intervals(two_classes):
    res, _ = two_classes
    rng = np.random.default_rng(0)
    draws = res.params.to_numpy() + rng.normal(size=(400, len(res.params))) * 0.1

    class Boot:  # a stand-in BootstrapResults with known replicates
        def cov_params(self):
            return pd.DataFrame(np.cov(draws.T), index=res.params.index,
                                columns=res.params.index)

        def conf_int(self, alpha=0.05, method="percentile"):
            q = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0).T
            return pd.DataFrame(q, index=res.params.index, columns=["lower", "upper"])

        def share_conf_int(self, alpha=0.05):
            return pd.DataFrame({"lower": [0.1, 0.2], "upper": [0.8, 0.9]},
                                index=["class1", "class2"])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        rb = res.get_robustcov_results("bootstrap", results=Boot())
    frame = summary_frame(rb)
    expected = np.quantile(draws, [0.025, 0.975], axis=0).T
    np.testing.assert_allclose(frame[["ci_lower", "ci_upper"]], expected, rtol=1e-12)
    np.testing.assert_allclose(frame["std_err"], draws.std(axis=0, ddof=1), rtol=1e-10)
    text = build_summary(rb).as_text()
    row = next(line for line in text.splitlines() if line.startswith("x1"))
    assert row.split()[-2:] == [f"{expected[0, 0]:.3f}", f"{expected[0, 1]:.3f}"]
    assert "Intervals: bootstrap percentile (95%)." in text
    assert "Class shares (bootstrap covariance, percentile intervals)" in text
    share_row = next(line for line in text.splitlines() if line.startswith("class2 "))
    assert share_row.split()[-2:] == ["0.200", "0.900"]
    assert "Covariance:" in text and "bootstrap" in text.split("Covariance:")[1].split("\n")[0]


def test_counts_form_summary_and_frame():
    from mixlogit.datasets.simulate import simulate_counts
    sim = simulate_counts(n_candidates=300, n_draws=10_000, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.MixlogitWarning)
        res = mx.MixedMultinomialLogit.from_counts(sim.counts, sim.features, k_classes=2).fit(
            n_starts=2, seed=0)
    text = build_summary(res).as_text()
    assert "No. Candidates:" in text and "counts" in text
    assert f"{res.llf:.3f}" in text
    frame = summary_frame(res)
    np.testing.assert_allclose(frame["estimate"], res.params, rtol=0)
    np.testing.assert_allclose(frame["std_err"], res.bse, rtol=0)
    assert set(frame["kind"]) == {"class", "membership"}
    wide = build_wide_summary(res).as_text()
    assert "Share" in wide and f"{res.aic:.2f}" in wide
