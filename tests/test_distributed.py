"""Partitioned and distributed likelihoods: the same numbers as the single-process fit.

The partitioned likelihood is checked against the single-process likelihood of
the same data (an independent code path for the whole-data sums): values,
derivatives and the EM path over 1 and 4 partitions, locally and on a Dask
``LocalCluster`` started here.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mixlogit as mx
from mixlogit.exceptions import DroppedObservationsWarning, SpecificationError
from mixlogit.likelihood.estimate import estimate
from mixlogit.likelihood.partitioned import PartitionedLikelihood
from mixlogit.likelihood.sampling import sample_mask
from mixlogit.starts import make_starts

FORMULA = "choice ~ x1 + x2 + x3 - 1"
KW = dict(groups="chid", panel="id", invariant="~ v1 - 1", membership="~ z1")


@pytest.fixture(scope="module")
def panel():
    sim = mx.datasets.simulate.simulate_panel(
        n_decision_makers=240, n_situations=5, n_alternatives=3,
        betas=[[1.0, -1.0, 0.5], [-1.0, 1.0, 1.5]], shares=[0.6, 0.4], invariant={"v1": 0.7},
        membership=(np.array([[0.0], [0.8]]), ["z1"]), seed=5)
    df = sim.data.copy()
    df.loc[df.index[7], "x1"] = np.nan            # one situation dropped for a missing value
    return df


@pytest.fixture(scope="module")
def whole(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedObservationsWarning)
        model = mx.MixedMultinomialLogit.from_formula(FORMULA, panel, k_classes=2, **KW)
    return model.likelihood()


def _theta(lik, seed=0):
    return np.random.default_rng(seed).normal(size=lik.layout.n_params) * 0.3


@pytest.mark.parametrize("n_parts", [1, 4])
def test_local_partitions_sum_to_the_whole(whole, n_parts):
    part = PartitionedLikelihood.split(whole, n_parts)
    theta = _theta(whole)
    a, b = whole.evaluate(theta, order=2), part.evaluate(theta, order=2)
    assert b.llf == pytest.approx(a.llf, rel=1e-13)
    np.testing.assert_allclose(b.score, a.score, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(b.hessian, a.hessian, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(b.posteriors, a.posteriors, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n_parts", [1, 4])
def test_local_partitions_follow_the_same_em_path(whole, n_parts):
    part = PartitionedLikelihood.split(whole, n_parts)
    starts = make_starts(whole, "partition", 2, np.random.default_rng(1))
    e1, e2 = estimate(whole, starts), estimate(part, starts)
    for r1, r2 in zip(e1.runs, e2.runs):            # start by start (labels may differ
        assert len(r1.history) == len(r2.history)   # between starts, not between paths)
        np.testing.assert_allclose(r2.history, r1.history, rtol=1e-10)
        np.testing.assert_allclose(r2.params, r1.params, rtol=1e-8, atol=1e-8)
    assert e2.llf == pytest.approx(e1.llf, rel=1e-10)


def test_start_sample_is_deterministic_and_order_free(whole):
    ids = whole.data.decision_maker_ids
    m = sample_mask(ids, 3, 0.25)
    np.testing.assert_array_equal(sample_mask(ids[::-1], 3, 0.25), m[::-1])
    assert 0.1 < m.mean() < 0.4                     # about a quarter
    assert not np.array_equal(sample_mask(ids, 4, 0.25), m)
    part = PartitionedLikelihood.split(whole, 3)
    small = part.start_likelihood(max_units=60, seed=3)
    np.testing.assert_array_equal(np.sort(small.data.decision_maker_ids),
                                  np.sort(ids[sample_mask(ids, 3, 60 / len(ids))]))


# ------------------------------------------------------------------ Dask
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from mixlogit.distributed import counts_from_events, partitioned_data_from_dask  # noqa: E402


def test_no_client_is_refused_with_advice(panel):
    try:
        distributed.get_client()
        pytest.skip("a client is already running in this process")
    except ValueError:
        pass
    ddf = dd.from_pandas(panel, npartitions=2, sort=False)
    with pytest.raises(SpecificationError, match="Client"):
        partitioned_data_from_dask(FORMULA, ddf, **KW)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=":0")
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _ddf(panel, n_parts):
    ordered = panel.sort_values(["id", "chid"], kind="stable")
    return dd.from_pandas(ordered, npartitions=n_parts, sort=False)


@pytest.mark.parametrize("n_parts", [1, 4])
def test_dask_partitions_equal_the_local_fit(client, panel, whole, n_parts):
    with pytest.warns(DroppedObservationsWarning, match="1 situation"):
        pdata = partitioned_data_from_dask(FORMULA, _ddf(panel, n_parts), **KW)
    assert pdata.n_situations == whole.data.n_situations
    assert pdata.n_rows == whole.data.n_rows
    lik = PartitionedLikelihood(pdata, whole.layout)
    theta = _theta(whole, 2)
    assert lik.evaluate(theta).llf == pytest.approx(whole.evaluate(theta).llf, rel=1e-12)
    starts = make_starts(whole, "partition", 1, np.random.default_rng(2))
    e1, e2 = estimate(whole, starts), estimate(lik, starts)
    assert e2.llf == pytest.approx(e1.llf, rel=1e-10)
    np.testing.assert_allclose(e2.params, e1.params, rtol=1e-8, atol=1e-8)


def test_straddling_decision_maker_is_refused(client, panel):
    shuffled = panel.sample(frac=1.0, random_state=0)      # decision makers spread over partitions
    ddf = dd.from_pandas(shuffled, npartitions=3, sort=False)
    with pytest.raises(SpecificationError, match="one partition"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DroppedObservationsWarning)
            partitioned_data_from_dask(FORMULA, ddf, **KW)


def test_counts_from_events_on_dask(client):
    events = pd.DataFrame({"item": list("abacabaa")})
    features = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]}, index=list("abcd"))
    counts, _ = counts_from_events(dd.from_pandas(events, npartitions=3), "item", features)
    assert counts.tolist() == [5, 2, 1, 0]                  # counted by hand


def test_process_workers(panel, whole):
    """One run with worker processes: partitions pickle and stay resident."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    with distributed.Client(cluster) as c:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DroppedObservationsWarning)
            pdata = partitioned_data_from_dask(FORMULA, _ddf(panel, 3), client=c, **KW)
        lik = PartitionedLikelihood(pdata, whole.layout)
        theta = _theta(whole, 3)
        assert lik.evaluate(theta, order=1).llf == pytest.approx(whole.evaluate(theta).llf,
                                                                 rel=1e-12)
    cluster.close()


def test_model_from_a_dask_frame_fits_like_the_local_model(client, panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedObservationsWarning)
        local = mx.MixedMultinomialLogit.from_formula(FORMULA, panel, k_classes=2, **KW)
        dist = mx.MixedMultinomialLogit.from_formula(FORMULA, _ddf(panel, 3), k_classes=2, **KW)
    assert type(dist).__name__ == "DistributedMixedMultinomialLogit"
    dist.start_sample = None                   # starts on all decision makers, as locally
    r_local = local.fit(n_starts=2, seed=0)
    r_dist = dist.fit(n_starts=2, seed=0)
    assert r_dist.llf == pytest.approx(r_local.llf, rel=1e-10)
    np.testing.assert_allclose(r_dist.params, r_local.params, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(r_dist.bse, r_local.bse, rtol=1e-6)
    robust_l = r_local.get_robustcov_results("robust")
    robust_d = r_dist.get_robustcov_results("robust")
    np.testing.assert_allclose(robust_d.bse, robust_l.bse, rtol=1e-6)
    assert r_dist.fit_state.options["start_sample"] == local.likelihood().n_units


def _reversed_partitions(lik, n_parts):
    """The same data in n_parts local partitions, listed in reverse order (units reordered)."""
    from dataclasses import replace

    from mixlogit.likelihood.partitioned import LocalBackend

    data = PartitionedLikelihood.split(lik, n_parts).data
    parts = data.backend.partitions[::-1]
    offsets = np.r_[0, np.cumsum(data.units_per_partition)]
    blocks = [np.arange(a, b) for a, b in zip(offsets[:-1], offsets[1:])][::-1]
    units = np.concatenate(blocks)
    return replace(data, backend=LocalBackend(parts), weights=data.weights[units],
                   exog_membership=data.exog_membership[units],
                   decision_maker_ids=data.decision_maker_ids[units],
                   units_per_partition=data.units_per_partition[::-1])


def test_bootstrap_replicates_do_not_depend_on_the_partitioning(panel):
    from mixlogit.model import DistributedMixedMultinomialLogit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedObservationsWarning)
        local = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x2 - 1", panel,
                                                      groups="chid", panel="id", k_classes=2)
    fits = []
    for data in (PartitionedLikelihood.split(local.likelihood(), 1).data,
                 _reversed_partitions(local.likelihood(), 3)):
        model = DistributedMixedMultinomialLogit(data, k_classes=2, start_sample=None)
        res = model.fit(n_starts=2, seed=0)
        fits.append(res.bootstrap(6, seed=4))
    np.testing.assert_allclose(fits[1].draws.to_numpy(), fits[0].draws.to_numpy(),
                               rtol=1e-7, atol=1e-9)


def test_local_starts_on_a_sample_reach_the_full_start_optimum(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedObservationsWarning)
        model = mx.MixedMultinomialLogit.from_formula(FORMULA, panel, k_classes=2, **KW)
    full = model.fit(n_starts=3, seed=0)
    model.start_sample = 120                         # of 240 decision makers
    sampled = model.fit(n_starts=3, seed=0)
    n_sample = sampled.fit_state.options["start_sample"]
    assert 60 < n_sample < 180                       # about half, by the hash
    assert sampled.llf == pytest.approx(full.llf, rel=1e-9)
    assert f"hashed sample of {n_sample} decision makers" in sampled.summary().as_text()
    assert "hashed sample" not in full.summary().as_text()


def test_from_parquet_reads_partitioned_files(client, panel, tmp_path):
    ordered = panel.sort_values(["id", "chid"], kind="stable")
    for i, part in enumerate(np.array_split(ordered["id"].unique(), 3)):
        ordered[ordered["id"].isin(part)].to_parquet(tmp_path / f"part{i}.parquet", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedObservationsWarning)
        local = mx.MixedMultinomialLogit.from_formula(FORMULA, panel, k_classes=2, **KW)
        dist = mx.MixedMultinomialLogit.from_parquet(str(tmp_path), FORMULA, k_classes=2, **KW)
    assert dist.choice_data.n_partitions == 3
    theta = _theta(local.likelihood(), 5)
    assert dist.loglike(theta) == pytest.approx(local.loglike(theta), rel=1e-12)


def test_identification_is_checked_on_all_partitions_together(client, panel):
    """A column constant within the situations of one partition only is no false alarm;
    one constant everywhere is refused, once."""
    df = panel.sort_values(["id", "chid"], kind="stable").copy()
    first = df["id"] <= df["id"].unique()[59]
    df["x4"] = np.where(first, 1.0, df["x3"])     # constant within the first partition's situations
    with pytest.raises(SpecificationError, match="do not vary"):  # that partition alone: refused
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DroppedObservationsWarning)
            mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x4 - 1", df[first], k_classes=1,
                                                  **KW)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedObservationsWarning)
        pdata = partitioned_data_from_dask("choice ~ x1 + x4 - 1", dd.from_pandas(
            df, npartitions=4, sort=False), **KW)
        assert pdata.n_partitions == 4
        with pytest.raises(SpecificationError, match="do not vary within any choice situation"):
            partitioned_data_from_dask("choice ~ x1 + z1 - 1", dd.from_pandas(
                df, npartitions=4, sort=False), groups="chid", panel="id")


def test_posterior_frame_is_a_dask_collection_equal_to_the_gathered_posteriors(client, panel):
    from mixlogit.distributed import posterior_frame

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedObservationsWarning)
        dist = mx.MixedMultinomialLogit.from_formula(FORMULA, _ddf(panel, 3), k_classes=2, **KW)
    res = dist.fit(n_starts=1, seed=0)
    frame = posterior_frame(res)
    assert frame.npartitions == 3
    computed = frame.compute()
    gathered = res.posterior_probs()
    np.testing.assert_allclose(computed.to_numpy(), gathered.to_numpy(), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedObservationsWarning)
        local = mx.MixedMultinomialLogit.from_formula("choice ~ x1 + x2 - 1", panel,
                                                      groups="chid", panel="id", k_classes=1)
    with pytest.raises(SpecificationError, match="Dask-resident"):
        posterior_frame(local.fit())


def test_predict_frame_equals_the_local_predictions(client, panel):
    from mixlogit.distributed import predict_frame

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedObservationsWarning)
        local = mx.MixedMultinomialLogit.from_formula(FORMULA, panel, k_classes=2, **KW)
        dist = mx.MixedMultinomialLogit.from_formula(FORMULA, _ddf(panel, 3), k_classes=2, **KW)
    res = dist.fit(n_starts=1, seed=0)
    frame = predict_frame(res).compute()
    assert frame.groupby("situation")["probability"].sum().between(1 - 1e-12, 1 + 1e-12).all()
    # the local model's predictions at the same parameters, matched by situation and row order
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedObservationsWarning)
        expected = local.predict(res.params.to_numpy())
    ordered = panel.sort_values(["id", "chid"], kind="stable")
    want = expected.loc[ordered.index].dropna().to_numpy()
    np.testing.assert_allclose(np.sort(frame["probability"].to_numpy()), np.sort(want),
                               rtol=1e-10)
    by_class = predict_frame(res, kind="class").compute()
    assert list(by_class.columns[-2:]) == ["class1", "class2"]


def test_resident_sizes_are_the_arrays_and_the_spill_guard_warns(client, panel, monkeypatch):
    import mixlogit.distributed as mxd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedObservationsWarning)
        pdata = partitioned_data_from_dask(FORMULA, _ddf(panel, 2), **KW)
    sizes = pdata.backend.object_sizes()
    assert sum(sizes) > 8 * pdata.n_rows * 3             # at least the attributes, by the arrays
    limits = client.run(mxd._worker_limits)
    if not all(limit and spill for limit, spill in limits.values()):
        pytest.skip("the test cluster's workers have no memory limit")
    monkeypatch.setattr(mxd, "SPILL_HEADROOM", 1e-12)      # any resident data is "too much"
    with pytest.warns(mx.MixlogitWarning, match="spill threshold"):
        mxd._check_memory_headroom(client, pdata.backend)


def test_cluster_covariance_on_dask_equals_local(client, panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedObservationsWarning)
        local = mx.MixedMultinomialLogit.from_formula(FORMULA, panel, k_classes=2, **KW)
        dist = mx.MixedMultinomialLogit.from_formula(FORMULA, _ddf(panel, 3), k_classes=2, **KW)
    dist.start_sample = None
    r_local, r_dist = local.fit(n_starts=2, seed=0), dist.fit(n_starts=2, seed=0)
    ids = r_local.fit_state.likelihood.data.decision_maker_ids
    np.testing.assert_array_equal(r_dist.fit_state.likelihood.data.decision_maker_ids, ids)
    clusters = (np.asarray(ids) - 1) // 8                 # clusters of 8 decision makers
    a = r_local.get_robustcov_results("cluster", groups=clusters)
    b = r_dist.get_robustcov_results("cluster", groups=clusters)
    np.testing.assert_allclose(b.bse, a.bse, rtol=1e-6)
