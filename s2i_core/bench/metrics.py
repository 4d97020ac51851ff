"""Correlation metrics of VQA benchmarks, the VQEG four-parameter logistic fit, bootstrap intervals.

PLCC and RMSE are reported twice: on the raw predictions and after mapping them through the monotonic
four-parameter logistic fitted to the MOS, which is how VQA papers report them (the raw scale of a model's
score is arbitrary, so a linear correlation on it alone would punish a harmless non-linearity).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

METRICS = ("srcc", "krcc", "plcc", "plcc_raw", "rmse", "rmse_raw")


def logistic4(x, b1: float, b2: float, b3: float, b4: float):
    """VQEG logistic: b2 + (b1 - b2) / (1 + exp(-(x - b3) / |b4|)); rises from b2 to b1 around x = b3."""
    z = np.clip(-(np.asarray(x, dtype=float) - b3) / (abs(b4) + 1e-12), -60.0, 60.0)
    return b2 + (b1 - b2) / (1.0 + np.exp(z))


def fit_logistic(pred, mos) -> tuple[float, float, float, float]:
    """Least-squares fit of an *increasing* `logistic4` from predictions to MOS (VQEG starting point).

    Predictions are higher-is-better by contract, so the curve may not turn around: a decreasing fit would
    report a high PLCC for a model that ranks videos backwards.
    """
    from scipy.optimize import curve_fit

    x, y = np.asarray(pred, dtype=float), np.asarray(mos, dtype=float)
    # Fit on standardised predictions so every parameter is of order 1 whatever the model's score scale
    # (finite-difference steps are relative: a centre near 0 on a large scale would never move).
    centre, spread = float(np.mean(x)), float(np.std(x)) or 1.0

    def rising(z, low, span, mid, width):
        return logistic4(z, low + span, low, mid, width)

    start = [float(y.min()), float(np.ptp(y)) or 1.0, 0.0, 0.5]
    bounds = ([-np.inf, 0.0, -np.inf, 1e-6], [np.inf, np.inf, np.inf, np.inf])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (low, span, mid, width), _ = curve_fit(rising, (x - centre) / spread, y, p0=start, bounds=bounds,
                                                   method="trf", maxfev=20000)
    except (RuntimeError, ValueError, TypeError):
        # No convergence (e.g. constant predictions): fall back to the starting curve, which is monotonic.
        low, span, mid, width = start
    return float(low + span), float(low), centre + spread * float(mid), spread * float(width)


def _corr(fn, a, b) -> float:
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan  # undefined, reported as such rather than as 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a nearly flat fitted curve is a legitimate (poor) result
        return float(fn(a, b)[0])


def compute(pred, mos) -> dict[str, float]:
    """All metrics of one prediction vector against MOS. NaN where a metric is undefined."""
    from scipy import stats

    x, y = np.asarray(pred, dtype=float), np.asarray(mos, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"{len(x)} predictions but {len(y)} MOS values")
    out = {"srcc": _corr(stats.spearmanr, x, y), "krcc": _corr(stats.kendalltau, x, y),
           "plcc_raw": _corr(stats.pearsonr, x, y),
           "rmse_raw": float(np.sqrt(np.mean((x - y) ** 2))) if len(x) else math.nan}
    if len(x) >= 4 and np.ptp(x) > 0:
        fitted = logistic4(x, *fit_logistic(x, y))
        out["plcc"] = _corr(stats.pearsonr, fitted, y)
        out["rmse"] = float(np.sqrt(np.mean((fitted - y) ** 2)))
    else:
        out["plcc"], out["rmse"] = out["plcc_raw"], math.nan
    return {k: out[k] for k in METRICS}


def bootstrap(pred, mos, *, samples: int = 1000, seed: int = 0, level: float = 0.95,
              metrics: tuple[str, ...] = ("srcc", "krcc", "plcc_raw")) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap interval per metric: resample videos with replacement `samples` times.

    The fitted PLCC is left out by default: a curve fit per resample costs far more and adds little.
    """
    from scipy import stats

    x, y = np.asarray(pred, dtype=float), np.asarray(mos, dtype=float)
    if samples <= 0 or len(x) < 3:
        return {m: (math.nan, math.nan) for m in metrics}
    fns = {"srcc": stats.spearmanr, "krcc": stats.kendalltau, "plcc_raw": stats.pearsonr}
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {m: [] for m in metrics}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(samples):
            idx = rng.integers(0, len(x), len(x))
            for m in metrics:
                value = compute(x[idx], y[idx])[m] if m not in fns else _corr(fns[m], x[idx], y[idx])
                if not math.isnan(value):
                    draws[m].append(value)
    tail = (1 - level) / 2 * 100
    return {m: (float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail))) if v else (math.nan, math.nan)
            for m, v in draws.items()}
