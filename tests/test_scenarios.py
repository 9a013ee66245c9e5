"""Scenarios and post-estimation on new data, each against an independent computation:
brute-force loops over decision makers and situations, central finite differences through
``model.predict(params, newdata)``, and simulation frequencies against probabilities."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mixlogit as mx
from mixlogit.exceptions import DataError, SpecificationError

K = 2


@pytest.fixture(scope="module")
def fitted():
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=150, n_situations=4, n_alternatives=3,
        betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=3)
    df = sim.data.copy()
    df["z"] = ((df["id"] * 7) % 5 - 2) / 2.0
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 - 1", df, groups="chid", panel="id", k_classes=K, membership="~ z")
    res = model.fit(n_starts=2, seed=0)
    rng = np.random.default_rng(5)
    new = df[df["id"] <= 60].copy()
    new["x1"] = new["x1"] + rng.normal(0, 0.3, len(new))
    return df, model, res, new


def _central(f, theta, h=1e-6):
    cols = []
    for j in range(len(theta)):
        e = np.zeros(len(theta))
        e[j] = h
        cols.append((np.asarray(f(theta + e)) - np.asarray(f(theta - e))) / (2 * h))
    return np.column_stack(cols)


def _prior_loop(res, theta, frame):
    """Brute force: softmax of z'gamma per decision maker, from the parameter names."""
    p = pd.Series(theta, index=res.params.index)
    out = {}
    for dm, rows in frame.groupby("id", sort=True):
        z = rows["z"].iloc[0]
        eta = [0.0] + [p[f"membership:class{k + 1}:Intercept"] + p[f"membership:class{k + 1}:z"] * z
                       for k in range(1, K)]
        e = np.exp(eta)
        out[dm] = e / e.sum()
    return pd.DataFrame(out, index=res.model.layout.class_names).T


def _posterior_loop(res, theta, data):
    """Brute force: h_nk = pi_nk prod_t P_k(chosen) / sum over classes, per decision maker."""
    Pk = res.model.predict(theta, data, kind="class").to_numpy()
    pi = _prior_loop(res, theta, data)
    out = {}
    for dm, idx in data.groupby("id", sort=True).indices.items():
        chosen = data["choice"].to_numpy()[idx] == 1
        like = pi.loc[dm].to_numpy() * np.prod(Pk[idx][chosen], axis=0)
        out[dm] = like / like.sum()
    return pd.DataFrame(out, index=pi.columns).T


def _prior_shares_by_predict(res, theta, frame):
    p = res.model.predict(theta, frame).to_numpy()
    return frame.assign(p=p).groupby("alt")["p"].mean().to_numpy()


# ---------------------------------------------------------------- market shares
def test_prior_shares_and_jacobian_match_predict(fitted):
    df, model, res, new = fitted
    tab = res.predict_shares(new, by="alt")
    theta = res.params.to_numpy()
    assert np.allclose(tab["share"], _prior_shares_by_predict(res, theta, new), atol=1e-12)
    J_fd = _central(lambda t: _prior_shares_by_predict(res, t, new), theta)
    assert np.allclose(tab.attrs["jacobian"].to_numpy(), J_fd, atol=1e-7)
    se = np.sqrt(np.diag(J_fd @ res.cov_params().to_numpy() @ J_fd.T))
    assert np.allclose(tab["bse"], se, rtol=1e-5)
    assert np.allclose(tab["upper"] - tab["lower"], 2 * 1.959963984540054 * se, rtol=1e-5)


def test_in_sample_prior_shares_default(fitted):
    df, model, res, new = fitted
    tab = res.predict_shares()
    assert np.allclose(tab["share"], _prior_shares_by_predict(res, res.params.to_numpy(), df))
    assert abs(tab["share"].sum() - 1) < 1e-12


def _posterior_shares_loop(res, theta, df, frame):
    h = _posterior_loop(res, theta, df)
    Pk = res.model.predict(theta, frame, kind="class").to_numpy()
    mix = (h.loc[frame["id"]].to_numpy() * Pk).sum(axis=1)
    return frame.assign(p=mix).groupby("alt")["p"].mean().to_numpy()


def test_posterior_shares_and_jacobian_brute_force(fitted):
    df, model, res, new = fitted
    theta = res.params.to_numpy()
    tab = res.predict_shares(new, kind="posterior")
    assert np.allclose(tab["share"], _posterior_shares_loop(res, theta, df, new), atol=1e-12)
    J_fd = _central(lambda t: _posterior_shares_loop(res, t, df, new), theta)
    assert np.allclose(tab.attrs["jacobian"].to_numpy(), J_fd, atol=1e-6)
    # in sample the posterior-weighted shares are close to the observed choice shares
    post = res.predict_shares(kind="posterior")
    observed = df.groupby("alt")["choice"].mean().to_numpy()
    assert np.allclose(post["share"], observed, atol=0.03)


def test_posterior_needs_sample_decision_makers(fitted):
    df, model, res, new = fitted
    other = new.assign(id=new["id"] + 10_000)
    with pytest.raises(SpecificationError, match='kind="prior"'):
        res.predict_shares(other, kind="posterior")


def test_bootstrap_shares_recompute_each_replicate(fitted):
    df, model, res, new = fitted
    boot = res.bootstrap(8, seed=1, progress=False)
    tab = res.predict_shares(new, method="bootstrap", bootstrap=boot, alpha=0.2)
    draws = boot.draws.dropna().to_numpy()
    reps = np.array([_prior_shares_by_predict(res, t, new) for t in draws])
    assert np.allclose(tab.attrs["replicates"].to_numpy(), reps, atol=1e-12)
    assert np.allclose(tab["lower"], np.quantile(reps, 0.1, axis=0))
    assert np.allclose(tab["upper"], np.quantile(reps, 0.9, axis=0))
    assert np.allclose(tab["bse"], reps.std(axis=0, ddof=1))
    with pytest.raises(SpecificationError, match="bootstrap="):
        res.predict_shares(new, method="bootstrap")


def test_share_by_other_column_and_bad_by(fitted):
    df, model, res, new = fitted
    frame = new.assign(group=np.where(new["alt"] == 1, "first", "other"))
    tab = res.predict_shares(frame, by="group")
    p = res.predict(frame).to_numpy()
    n_sit = frame["chid"].nunique()
    brute = frame.assign(p=p).groupby("group")["p"].sum().to_numpy() / n_sit
    assert np.allclose(tab["share"], brute)
    with pytest.raises(SpecificationError, match="by='nope'"):
        res.predict_shares(new, by="nope")


# ---------------------------------------------------------------- prior probabilities
def test_prior_probs_brute_force(fitted):
    df, model, res, new = fitted
    up = res.prior_probs(new)
    assert np.allclose(up.to_numpy(), _prior_loop(res, res.params.to_numpy(), new).to_numpy())
    assert np.allclose(res.prior_probs().mean().to_numpy(), res.class_shares.to_numpy())


# ---------------------------------------------------------------- elasticities
def test_elasticities_at_match_finite_differences(fitted):
    df, model, res, new = fitted
    frame = new.head(30)
    theta = res.params.to_numpy()
    own = res.elasticities_at(frame, "x1")
    E = res.elasticities_at(frame, "x1", alternative="alt")
    p0 = res.model.predict(theta, frame).to_numpy()
    eps = 1e-6
    sums = np.zeros((3, 3))
    counts = np.zeros((3, 3))
    for _chid, idx in frame.groupby("chid").indices.items():
        for i in idx:
            up, down = frame.copy(), frame.copy()
            up.iloc[i, up.columns.get_loc("x1")] *= 1 + eps
            down.iloc[i, down.columns.get_loc("x1")] *= 1 - eps
            dp = (res.model.predict(theta, up).to_numpy()
                  - res.model.predict(theta, down).to_numpy())[idx] / (2 * eps)
            el = dp / p0[idx]
            a_i = frame["alt"].iloc[i] - 1
            for j, r in enumerate(idx):
                sums[a_i, frame["alt"].iloc[r] - 1] += el[j]
                counts[a_i, frame["alt"].iloc[r] - 1] += 1
            assert abs(own["population"].iloc[i] - el[list(idx).index(i)]) < 1e-6
    assert np.allclose(E.loc["population"].to_numpy(), sums / counts, atol=1e-6)


# ---------------------------------------------------------------- consumer surplus
def _surplus_loop(res, theta, frame, price="x1"):
    p = pd.Series(theta, index=res.params.index)
    pi = _prior_loop(res, theta, frame)
    per_class, mixed = np.zeros(K), 0.0
    sits = list(frame.groupby("chid"))
    for _chid, rows in sits:
        cs = np.array([-np.log(np.exp(rows["x1"] * p[f"class{k + 1}:x1"]
                                      + rows["x2"] * p[f"class{k + 1}:x2"]).sum())
                       / p[f"class{k + 1}:{price}"] for k in range(K)])
        per_class += cs / len(sits)
        mixed += pi.loc[rows["id"].iloc[0]].to_numpy() @ cs / len(sits)
    return np.r_[per_class, mixed]


def test_consumer_surplus_change_brute_force(fitted):
    df, model, res, new = fitted
    theta = res.params.to_numpy()
    better = new.assign(x2=new["x2"] + 0.4)
    cs = res.consumer_surplus(better, base=new, price="x1")
    f = lambda t: _surplus_loop(res, t, better) - _surplus_loop(res, t, new)  # noqa: E731
    assert np.allclose(cs["estimate"], f(theta), atol=1e-10)
    J_fd = _central(f, theta)
    assert np.allclose(cs.attrs["jacobian"].to_numpy(), J_fd, atol=1e-6)
    level = res.consumer_surplus(new, price="x1")
    assert np.allclose(level["estimate"], _surplus_loop(res, theta, new), atol=1e-10)


def test_consumer_surplus_bad_price(fitted):
    df, model, res, new = fitted
    with pytest.raises(SpecificationError, match="price 'cost'"):
        res.consumer_surplus(new, price="cost")


# ---------------------------------------------------------------- simulation
def _replicated(frame, copies):
    parts = []
    for c in range(copies):
        parts.append(frame.assign(id=frame["id"] + 100_000 * (c + 1),
                                  chid=frame["chid"] + 100_000 * (c + 1), row=np.arange(len(frame))))
    return pd.concat(parts, ignore_index=True)


def test_simulated_frequencies_match_probabilities(fitted):
    df, model, res, new = fitted
    frame = new.head(24)
    big = _replicated(frame, 250)
    n = 0
    freq = np.zeros(len(frame))
    for seed in range(8):
        out = res.simulate(big, seed=seed)
        freq += out.groupby(big["row"])["choice"].sum().to_numpy().astype(float)
        n += 250
    p = res.predict(frame).to_numpy()
    z = (freq / n - p) / np.sqrt(p * (1 - p) / n)
    assert np.max(np.abs(z)) < 4.0
    chi2 = float((z ** 2).sum())
    assert chi2 < 24 * 2.5
    assert res.simulate(big, seed=3).equals(res.simulate(big, seed=3))
    assert not res.simulate(big, seed=3).equals(res.simulate(big, seed=4))


def test_simulated_in_sample_uses_posteriors(fitted):
    df, model, res, new = fitted
    theta = res.params.to_numpy()
    h = _posterior_loop(res, theta, df)
    Pk = res.model.predict(theta, df, kind="class").to_numpy()
    p = (h.loc[df["id"]].to_numpy() * Pk).sum(axis=1)
    n = 300
    freq = sum(res.simulate(seed=s)["choice"].to_numpy().astype(float) for s in range(n))
    z = (freq / n - p) / np.sqrt(np.maximum(p * (1 - p), 1e-12) / n)
    assert np.mean(np.abs(z) > 3.29) < 0.01
    sims = res.simulate(seed=0)
    assert set(sims["class"]) <= {"class1", "class2"}
    assert (sims.groupby(df["chid"])["choice"].sum() == 1).all()


# ---------------------------------------------------------------- population, WTP
def test_population_moments_brute_force(fitted):
    df, model, res, new = fitted
    theta = res.params.to_numpy()

    def mean_of(t):
        s = _prior_loop(res, t, df).mean().to_numpy()
        p = pd.Series(t, index=res.params.index)
        C = np.array([[p[f"class{k + 1}:x1"], p[f"class{k + 1}:x2"]] for k in range(K)])
        return s @ C, s, C

    mom = res.population_moments()
    mu, s, C = mean_of(theta)
    cov = sum(s[k] * np.outer(C[k] - mu, C[k] - mu) for k in range(K))
    assert np.allclose(mom.mean["estimate"], mu)
    assert np.allclose(mom.cov.to_numpy(), cov)
    assert np.allclose(mom.sd, np.sqrt(np.diag(cov)))
    J_fd = _central(lambda t: mean_of(t)[0], theta)
    assert np.allclose(mom.mean.attrs["jacobian"].to_numpy(), J_fd, atol=1e-7)
    se = np.sqrt(np.diag(J_fd @ res.cov_params().to_numpy() @ J_fd.T))
    assert np.allclose(mom.mean["bse"], se, rtol=1e-5)


def test_individual_wtp_loop(fitted):
    df, model, res, new = fitted
    theta = res.params.to_numpy()
    h = _posterior_loop(res, theta, df)
    p = res.params
    wtp = np.array([-p[f"class{k + 1}:x2"] / p[f"class{k + 1}:x1"] for k in range(K)])
    got = res.individual_wtp(price="x1")
    assert np.allclose(got["x2"].to_numpy(), h.to_numpy() @ wtp)
    with pytest.raises(SpecificationError, match="price"):
        res.individual_wtp(price="nope")


# ---------------------------------------------------------------- holdout
def test_loglike_holdout_brute_force(fitted):
    df, model, res, new = fitted
    train = df[df["id"] <= 100]
    test = df[df["id"] > 100]
    fit = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 - 1", train, groups="chid", panel="id", k_classes=K,
        membership="~ z").fit(n_starts=2, seed=0)
    theta = fit.params.to_numpy()
    Pk = fit.model.predict(theta, test, kind="class").to_numpy()
    pi = _prior_loop(fit, theta, test)
    total = 0.0
    for dm, idx in test.groupby("id").indices.items():
        chosen = test["choice"].to_numpy()[idx] == 1
        total += np.log(pi.loc[dm].to_numpy() @ np.prod(Pk[idx][chosen], axis=0))
    assert abs(fit.loglike_holdout(test) - total) < 1e-9
    assert abs(res.loglike_holdout(df) - res.llf) < 1e-8
    with pytest.raises(DataError, match="outcome column 'choice'"):
        res.loglike_holdout(test.drop(columns="choice"))
    with pytest.raises(DataError, match="exactly one chosen"):
        res.loglike_holdout(test.assign(choice=0))


# ---------------------------------------------------------------- bad input
def test_counts_form_shares_and_surplus():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(8, 2))
    sigma = np.exp(features @ np.array([[1.0, -0.5], [-1.0, 1.0]]).T)
    sigma /= sigma.sum(axis=0)
    counts = rng.multinomial(4000, sigma @ np.array([0.6, 0.4]))
    res = mx.MixedMultinomialLogit.from_counts(counts, features, k_classes=2).fit(seed=0)
    theta = res.params.to_numpy()
    new = features + 0.2
    tab = res.predict_shares(new)
    assert np.allclose(tab["share"], res.model.predict(theta, new), atol=1e-12)
    J_fd = _central(lambda t: res.model.predict(t, new).to_numpy(), theta)
    assert np.allclose(tab.attrs["jacobian"].to_numpy(), J_fd, atol=1e-7)
    own = res.elasticities_at(new, "x1")
    p0 = res.model.predict(theta, new).to_numpy()
    for i in range(3):
        up, down = new.copy(), new.copy()
        up[i, 0] *= 1 + 1e-6
        down[i, 0] *= 1 - 1e-6
        fd = (res.model.predict(theta, up).to_numpy()[i]
              - res.model.predict(theta, down).to_numpy()[i]) / 2e-6 / p0[i]
        assert abs(own["population"].iloc[i] - fd) < 1e-6
    with pytest.raises(SpecificationError, match="long-format"):
        res.simulate(seed=0)
    with pytest.raises(SpecificationError, match="long-format"):
        res.predict_shares(kind="posterior")
    assert res.population_moments().cov.shape == (2, 2)


def test_missing_values_in_new_data(fitted):
    df, model, res, new = fitted
    bad = new.copy()
    bad.iloc[0, bad.columns.get_loc("x1")] = np.nan
    with pytest.raises(DataError, match="x1"):
        res.predict_shares(bad)
    with pytest.raises(DataError, match="panel column 'id'"):
        res.predict_shares(new.drop(columns="id"))


def test_wtp_at_new_population(fitted):
    df, model, res, new = fitted
    theta = res.params.to_numpy()

    def brute(t):
        p = pd.Series(t, index=res.params.index)
        w = np.array([-p[f"class{k + 1}:x2"] / p[f"class{k + 1}:x1"] for k in range(K)])
        s = _prior_loop(res, t, new).mean().to_numpy()
        return np.r_[w, s @ w]

    got = res.wtp_at(new, price="x1")
    assert np.allclose(got["wtp"], brute(theta))
    J_fd = _central(brute, theta)
    assert np.allclose(got.attrs["jacobian"].to_numpy(), J_fd, atol=1e-7)
    # on the estimation sample it is the population WTP of res.wtp()
    same = res.wtp_at(None, price="x1")
    assert np.allclose(same["wtp"], res.wtp(price="x1")["wtp"])
    assert np.allclose(same["bse"], res.wtp(price="x1")["bse"])


def test_weighted_shares_and_unavailable_rows():
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=120, n_situations=4, n_alternatives=3,
        betas=[[1.5, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], availability_rate=0.8, seed=4)
    df = sim.data.copy()
    n_avail = df.groupby("chid")["available"].transform("sum")
    df = df[n_avail >= 2]
    df["w"] = 1.0 + (df["id"] % 3)
    res = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 - 1", df, groups="chid", panel="id", k_classes=2, weights="w",
        availability="available").fit(n_starts=2, seed=0)
    new = df.copy()
    new.loc[new["available"] == 0, "x1"] = np.nan     # an unavailable row may lack attributes
    tab = res.predict_shares(new)
    p = res.predict(new.fillna({"x1": 0.0})).to_numpy()
    p = np.where(new["available"].to_numpy() == 1, p, 0.0)
    w_sit = new.groupby("chid")["w"].first()
    brute = (new.assign(p=p * new["w"]).groupby("alt")["p"].sum() / w_sit.sum()).to_numpy()
    assert np.allclose(tab["share"], brute, atol=1e-12)
    J_fd = _central(lambda t: (new.assign(
        p=np.where(new["available"] == 1, res.model.predict(t, new.fillna({"x1": 0.0})), 0.0)
        * new["w"]).groupby("alt")["p"].sum() / w_sit.sum()).to_numpy(), res.params.to_numpy())
    assert np.allclose(tab.attrs["jacobian"].to_numpy(), J_fd, atol=1e-7)


def test_scenarios_after_remove_data():
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=100, n_situations=5, n_alternatives=3,
        betas=[[1.0, -1.0], [-1.0, 1.0]], shares=[0.6, 0.4], seed=0)
    res = mx.MixedMultinomialLogit.from_formula(
        "choice ~ x1 + x2 - 1", sim.data, groups="chid", panel="id", k_classes=2
    ).fit(n_starts=2, seed=0)
    before = res.predict_shares(sim.data)
    res.remove_data()
    after = res.predict_shares(sim.data)
    assert np.allclose(before.to_numpy(), after.to_numpy())
    assert np.allclose(after["share"], _prior_shares_by_predict(res, res.params.to_numpy(),
                                                                sim.data))
    with pytest.raises(SpecificationError, match="pass newdata"):
        res.predict_shares()


def test_consumer_surplus_roys_identity(fitted):
    """A small rise of alternative 1's price lowers the surplus by its probability (Roy)."""
    df, model, res, new = fitted
    eps = 1e-5
    dearer = new.assign(x1=new["x1"] + eps * (new["alt"] == 1))
    change = res.consumer_surplus(dearer, base=new, price="x1")
    p1 = res.predict(new).to_numpy()[new["alt"].to_numpy() == 1].mean()
    assert abs(change.loc["population", "estimate"] / eps + p1) < 1e-4
