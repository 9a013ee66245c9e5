"""Paper plots: the plotted coordinates against hand computations (never pixels)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import mixlogit as mx
from mixlogit.datasets.simulate import simulate_panel
from mixlogit.results.plotting import plot_coefficient_panels, plot_posteriors, plot_wtp

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BETAS = [[1.5, -1.0, -0.8], [-1.0, 1.0, -0.3]]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sim():
    return simulate_panel(n_decision_makers=150, n_situations=5, n_alternatives=3, betas=BETAS,
                          shares=[0.6, 0.4], seed=11).data


@pytest.fixture(scope="module")
def fit(sim):
    """Class-specific x1, x3 and an invariant x2."""
    model = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x3 - 1", sim, groups="chid",
                                                  panel="id", k_classes=2,
                                                  invariant="~ x2 - 1")
    return model.fit(n_starts=3, seed=0)


def intervals(ax):
    """(estimate, y, lower, upper) of every errorbar drawn on ax."""
    out = []
    for cont in ax.containers:
        data_line, _, (bars,) = cont.lines
        (x0, y0), (x1, _) = bars.get_segments()[0]
        out.append((float(data_line.get_xdata()[0]), float(data_line.get_ydata()[0]),
                    float(x0), float(x1)))
    return out


def test_coefficient_panels_draw_the_estimates_and_wald_intervals(fit):
    alpha = 0.1
    q = stats.norm.ppf(1 - alpha / 2)
    fig = plot_coefficient_panels(fit, alpha=alpha)
    assert [ax.get_title() for ax in fig.axes] == ["x1", "x3", "x2"]
    shares = fit.class_shares.to_numpy()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == [f"class1 ({shares[0]:.2f})", f"class2 ({shares[1]:.2f})"]
    for ax, term in zip(fig.axes[:2], ["x1", "x3"]):
        got = intervals(ax)
        assert [y for _, y, _, _ in got] == [0.0, 1.0]      # class k on row k
        for (est, _, lo, hi), k in zip(got, (1, 2)):
            b, se = fit.params[f"class{k}:{term}"], fit.bse[f"class{k}:{term}"]
            np.testing.assert_allclose([est, lo, hi], [b, b - q * se, b + q * se], rtol=1e-10)
    (est, y, lo, hi), = intervals(fig.axes[2])                # invariant: one row
    b, se = fit.params["x2"], fit.bse["x2"]
    np.testing.assert_allclose([est, lo, hi], [b, b - q * se, b + q * se], rtol=1e-10)
    assert [t.get_text() for t in fig.axes[2].get_yticklabels()] == ["all classes"]
    assert "90% intervals" in fig.get_suptitle()


def test_standardized_panels(fit, sim):
    q = stats.norm.ppf(0.975)
    fig = plot_coefficient_panels(fit, terms=["x3", "x2"], standardize="se")
    for (z, _, lo, hi), k in zip(intervals(fig.axes[0]), (1, 2)):
        expect = fit.params[f"class{k}:x3"] / fit.bse[f"class{k}:x3"]
        np.testing.assert_allclose([z, lo, hi], [expect, expect - q, expect + q], rtol=1e-10)
    dashed = sorted(ln.get_xdata()[0] for ln in fig.axes[0].get_lines()
                    if ln.get_linestyle() == "--")
    np.testing.assert_allclose(dashed, [-q, q])
    fig = plot_coefficient_panels(fit, terms=["x1", "x2"], standardize="sd")
    for ax, term, names in ((fig.axes[0], "x1", ["class1:x1", "class2:x1"]),
                            (fig.axes[1], "x2", ["x2"])):
        sd = sim[term].std(ddof=1)
        for (est, _, lo, hi), name in zip(intervals(ax), names):
            b, se = fit.params[name], fit.bse[name]
            np.testing.assert_allclose([est, lo, hi],
                                       [b * sd, (b - q * se) * sd, (b + q * se) * sd],
                                       rtol=1e-10)
    assert fig.axes[0].xaxis.get_label().get_text() == "" and "SD" in fig.get_supxlabel()


def test_missing_standard_error_is_drawn_without_an_interval(sim):
    model = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x3 - 1", sim, groups="chid",
                                                  panel="id", k_classes=2)
    res = model.fit(n_starts=2, seed=0, fixed={"class2:x3": -0.3})
    assert np.isnan(res.bse["class2:x3"])
    fig = plot_coefficient_panels(res)
    ax = fig.axes[1]
    assert [y for _, y, _, _ in intervals(ax)] == [0.0]       # only class1 has an interval
    open_markers = [ln for ln in ax.get_lines() if ln.get_markerfacecolor() == "white"]
    assert len(open_markers) == 1
    np.testing.assert_allclose(open_markers[0].get_xdata(), [-0.3])
    np.testing.assert_allclose(open_markers[0].get_ydata(), [1.0])
    assert "no s.e." in [t.get_text() for t in ax.texts]
    assert "standard error not available" in fig.get_supxlabel()
    z = plot_coefficient_panels(res, standardize="se").axes[1]
    assert len(intervals(z)) == 1 and "no s.e." in [t.get_text() for t in z.texts]


def test_wtp_plot_against_the_coefficient_ratios(fit):
    fig = fit.plot_wtp("x3", alpha=0.05)
    assert [ax.get_title() for ax in fig.axes] == ["x1", "x2"]
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["class1", "class2", "population"]
    got = intervals(ax)
    V = fit.cov_params()
    q = stats.norm.ppf(0.975)
    shares = fit.class_shares.to_numpy()
    values = []
    for (est, _, lo, hi), k in zip(got[:2], (1, 2)):
        a, p = f"class{k}:x1", f"class{k}:x3"
        w = -fit.params[a] / fit.params[p]
        grad = np.array([-1 / fit.params[p], fit.params[a] / fit.params[p] ** 2])
        se = np.sqrt(grad @ V.loc[[a, p], [a, p]].to_numpy() @ grad)   # delta method by hand
        np.testing.assert_allclose([est, lo, hi], [w, w - q * se, w + q * se], rtol=1e-8)
        values.append(w)
    est, y, _, _ = got[2]
    np.testing.assert_allclose(est, shares @ values, rtol=1e-10)
    assert y == 2.0
    assert fig.axes[1].get_title() == "x2"          # an invariant term: the same value per class
    inv = intervals(fig.axes[1])
    np.testing.assert_allclose([inv[0][0], inv[1][0]],
                               [-fit.params["x2"] / fit.params["class1:x3"],
                                -fit.params["x2"] / fit.params["class2:x3"]], rtol=1e-10)


def _posteriors_by_hand(res, df):
    """h_nk proportional to pi_k prod_t P_k(y_nt), by loops over people and situations."""
    betas = np.array([[res.params[f"class{k}:{t}"] for t in ("x1", "x3")] for k in (1, 2)])
    gamma = res.params["x2"]
    pi = res.class_shares.to_numpy()
    rows = []
    for _, person in df.groupby("id", sort=True):
        like = np.ones(2)
        for _, sit in person.groupby("chid"):
            chosen = int(np.flatnonzero(sit["choice"].to_numpy() == 1)[0])
            for k in range(2):
                u = sit[["x1", "x3"]].to_numpy() @ betas[k] + gamma * sit["x2"].to_numpy()
                like[k] *= np.exp(u[chosen]) / np.exp(u).sum()
        rows.append(pi * like / (pi @ like))
    return np.array(rows)


def test_posterior_histograms_count_the_decision_makers(fit, sim):
    h = _posteriors_by_hand(fit, sim)
    np.testing.assert_allclose(fit.posterior_probs().to_numpy(), h, atol=1e-8)
    bins = 8
    ax = plot_posteriors(fit, bins=bins)
    top, modal = h.max(axis=1), h.argmax(axis=1)
    edges = np.linspace(0.5, 1, bins + 1)
    heights = np.array([p.get_height() for p in ax.patches]).reshape(2, bins)
    for k in range(2):
        # stacked bars: the top layer's height is its own count
        np.testing.assert_allclose(heights[k], np.histogram(top[modal == k], edges)[0])
    np.testing.assert_allclose(heights.sum(), 150)
    (mean_line,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    np.testing.assert_allclose(mean_line.get_xdata()[0], top.mean(), rtol=1e-8)
    fig = fit.plot_posteriors(kind="class", bins=5)
    for k, axk in enumerate(fig.axes):
        got = [p.get_height() for p in axk.patches]
        np.testing.assert_allclose(got, np.histogram(h[:, k], np.linspace(0, 1, 6))[0])
        (share_line,) = [ln for ln in axk.get_lines() if ln.get_linestyle() == "--"]
        np.testing.assert_allclose(share_line.get_xdata()[0], fit.class_shares.iloc[k])


def test_every_plot_saves_to_png(fit, sim, tmp_path):
    figures = {
        "panels": fit.plot_coefficient_panels(),
        "wtp": fit.plot_wtp("x3"),
        "posterior_max": fit.plot_posteriors().figure,
        "posterior_class": fit.plot_posteriors(kind="class"),
    }
    for name, fig in figures.items():
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=60)
        assert path.stat().st_size > 5000


def test_bad_plot_options(fit):
    with pytest.raises(mx.SpecificationError, match="standardize"):
        plot_coefficient_panels(fit, standardize="z")
    with pytest.raises(mx.SpecificationError, match="unknown terms"):
        plot_coefficient_panels(fit, terms=["x9"])
    with pytest.raises(mx.SpecificationError, match="alpha"):
        plot_coefficient_panels(fit, alpha=1.5)
    with pytest.raises(mx.SpecificationError, match="ncols"):
        plot_coefficient_panels(fit, ncols=0)
    with pytest.raises(mx.SpecificationError, match="kind"):
        plot_posteriors(fit, kind="mean")
    with pytest.raises(mx.SpecificationError, match="bins"):
        plot_posteriors(fit, bins=0)
    with pytest.raises(mx.SpecificationError, match="alpha"):
        plot_wtp(fit, "x3", alpha=0)


def test_plots_after_remove_data(sim):
    res = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x3 - 1", sim, groups="chid",
                                                panel="id", k_classes=2).fit(n_starts=2, seed=0)
    res.remove_data()
    fig = res.plot_coefficient_panels()                 # params and bse survive remove_data
    np.testing.assert_allclose(intervals(fig.axes[0])[0][0], res.params["class1:x1"])
    with pytest.raises(mx.SpecificationError, match="remove_data"):
        res.plot_posteriors()
    with pytest.raises(mx.SpecificationError, match="remove_data"):
        res.plot_coefficient_panels(standardize="sd")
