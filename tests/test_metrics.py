"""Benchmark metrics against scipy on random data; the logistic fit against a known curve; bootstrap CIs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from s2i_core.bench import metrics


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rank_and_linear_correlations_match_scipy(seed):
    rng = np.random.default_rng(seed)
    mos = rng.uniform(1, 5, 200)
    pred = mos + rng.normal(0, 1.0, 200)
    got = metrics.compute(pred, mos)
    assert got["srcc"] == pytest.approx(stats.spearmanr(pred, mos)[0], abs=1e-12)
    assert got["krcc"] == pytest.approx(stats.kendalltau(pred, mos)[0], abs=1e-12)
    assert got["plcc_raw"] == pytest.approx(stats.pearsonr(pred, mos)[0], abs=1e-12)
    assert got["rmse_raw"] == pytest.approx(float(np.sqrt(np.mean((pred - mos) ** 2))), abs=1e-12)
    # The fitted PLCC is at least the raw one (the identity is almost inside the logistic family).
    assert got["plcc"] >= got["plcc_raw"] - 0.01
    assert 0 < got["rmse"] < got["rmse_raw"]


def test_logistic_fit_recovers_a_known_curve():
    x = np.linspace(-3, 3, 120)
    truth = (4.5, 1.2, 0.3, 0.7)
    y = metrics.logistic4(x, *truth)
    b1, b2, b3, b4 = metrics.fit_logistic(x, y)
    assert (b1, b2, b3, abs(b4)) == pytest.approx(truth, rel=1e-3, abs=1e-3)
    # A non-linear but monotonic predictor gets PLCC 1 after the fit, less before it.
    got = metrics.compute(x, y)
    assert got["plcc"] == pytest.approx(1.0, abs=1e-6)
    assert got["plcc_raw"] < 0.999
    assert got["srcc"] == pytest.approx(1.0)


def test_anti_correlated_predictions_are_negative_not_clipped():
    mos = np.arange(10.0)
    got = metrics.compute(-mos, mos)
    assert got["srcc"] == pytest.approx(-1.0) and got["plcc_raw"] == pytest.approx(-1.0)
    # The logistic is fitted increasing: it cannot turn a backwards ranking into a high PLCC.
    assert got["plcc"] <= 0.0


def test_constant_predictions_report_nan_not_zero():
    got = metrics.compute(np.ones(8), np.arange(8.0))
    assert math.isnan(got["srcc"]) and math.isnan(got["plcc_raw"])


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="3 predictions but 2"):
        metrics.compute([1, 2, 3], [1, 2])


def test_bootstrap_interval_contains_the_estimate_and_narrows_with_more_videos():
    rng = np.random.default_rng(5)
    widths = []
    for n in (30, 600):
        mos = rng.uniform(1, 5, n)
        pred = mos + rng.normal(0, 1.0, n)
        ci = metrics.bootstrap(pred, mos, samples=300, seed=1)
        point = metrics.compute(pred, mos)
        for name in ("srcc", "krcc", "plcc_raw"):
            lo, hi = ci[name]
            assert lo <= point[name] <= hi
        widths.append(ci["srcc"][1] - ci["srcc"][0])
    assert widths[1] < widths[0] / 2
    # Same seed, same interval: reports are reproducible.
    mos = np.arange(20.0)
    pred = mos + np.sin(mos)
    assert metrics.bootstrap(pred, mos, samples=50, seed=3) == metrics.bootstrap(pred, mos, samples=50, seed=3)
