"""Fit the aggregation (s2i_core/sig/aggregation.py) to MOS on a labelled set, cross-validate it, save and load it.

The fitted family is the `Aggregation` rule itself, so a fit is used exactly like hand-set values:
`transparent`, `exponent` >= 1, `aesthetic_share` in [0, 1] and a non-negative weight per scored dimension.
`transparent` is searched in [0.4, 1] only: below 0.4 a `poor` reading would count as free of damage, and a
least-squares fit would use that to switch the technical group off rather than weigh it.
The loss is the squared error between the overall score and the MOS normalised to [0, 1], so a fitted overall
is a MOS predictor on the scale the level mappers cut (0.2-wide levels mean fifths of the MOS range), plus a
ridge pull towards the start values (weights 1 unless given): `regularization` videos' worth of squared error
per unit of squared distance. A dimension the labelled set never exercises keeps its start weight, a small
set cannot chase noise with 14 weights, and a very large `regularization` returns the start values.
The fit is bounded L-BFGS-B from the start values and `restarts` seeded random starts; the best loss wins.

`cross_validate` reports k-fold SRCC/PLCC/KRCC of the fitted aggregation next to the start (default) one on the
same folds, computed on the out-of-fold predictions through `Aggregation` itself (what `s2i generate` computes).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from s2i_core.dimensions import BY_NAME
from s2i_core.errors import ConfigError
from s2i_core.sig.aggregation import Aggregation

FORMAT = "s2i-aggregation-fit/1"
BOUNDS = {"transparent": (0.4, 1.0), "exponent": (1.0, 8.0), "aesthetic_share": (0.0, 1.0), "weight": (0.0, 10.0)}
ROUND = 6  # as s2i_core.sig.derive stores scores: the fit is evaluated on what generate aggregates


# --- the Aggregation rule on a whole score matrix (videos x dimensions), for the optimiser -----------------

def _theta(agg: Aggregation, dims: tuple[str, ...]) -> np.ndarray:
    weights = [agg.dimension_weights.get(d, 1.0) for d in dims]
    values = [agg.transparent, agg.exponent, agg.aesthetic_share, *weights]
    return np.clip(np.array(values, dtype=float), *np.array(_bounds(dims)).T)


def _bounds(dims: tuple[str, ...]) -> list[tuple[float, float]]:
    return [BOUNDS["transparent"], BOUNDS["exponent"], BOUNDS["aesthetic_share"]] + [BOUNDS["weight"]] * len(dims)


def _aggregation(theta: np.ndarray, dims: tuple[str, ...]) -> Aggregation:
    t, p, a = (float(round(v, ROUND)) for v in theta[:3])
    weights = {d: float(round(w, ROUND)) for d, w in zip(dims, theta[3:])}
    return Aggregation(t, p, a, weights, tuple(dims))


def _predict(thetas: np.ndarray, scores: np.ndarray, technical: np.ndarray) -> np.ndarray:
    """`Aggregation.overall_score(Aggregation.group_scores(...))` for every row of `scores` (videos x dimensions) and every
    parameter vector in `thetas` (k x parameters, or one vector) at once: the same rule, vectorised."""
    thetas = np.atleast_2d(thetas)
    t, p, a, w = thetas[:, :1, None], thetas[:, 1:2], thetas[:, 2:3], thetas[:, 3:]
    def group(members: np.ndarray) -> np.ndarray | None:
        if not members.any():
            return None
        impairment = np.maximum(0.0, t - scores[None, :, members]) / t  # k x n x members
        pooled = np.einsum("knd,kd->kn", impairment ** p[:, :, None], w[:, members])
        return 1.0 - np.minimum(1.0, pooled ** (1.0 / p))

    tech, aes = group(technical), group(~technical)
    if tech is None:
        out = aes
    elif aes is None:
        out = tech
    else:
        out = tech * (1.0 - a + a * aes)
    return out[0] if out.shape[0] == 1 else out


def fit(rows: list[dict[str, float]], target, start: Aggregation, *, restarts: int = 4, seed: int = 0,
        regularization: float = 0.05) -> tuple[Aggregation, float]:
    """The Aggregation minimising mean (overall - target)^2 + regularization * |theta - start|^2 / n over the rows
    ({dimension: score} per video; `target` the normalised MOS), and that loss. Weights are pulled towards
    their start values (1 unless given), transparent, exponent and aesthetic_share towards theirs in units of
    their search widths, so a large `regularization` returns the start values."""
    from scipy.optimize import minimize

    dims, scores = score_matrix(rows)
    target = np.asarray(target, dtype=float)
    technical = np.array([BY_NAME[d].group == "technical" for d in dims])
    n, bounds = len(target), _bounds(dims)
    prior = _theta(start, dims)
    # Weights are on their own scale; the three scalars are measured in their search widths.
    scale = np.array([high - low for low, high in bounds[:3]] + [1.0] * len(dims))

    low, high = np.array(bounds).T

    def losses(thetas: np.ndarray) -> np.ndarray:
        residual = np.atleast_2d(_predict(thetas, scores, technical)) - target
        pull = np.sum(((thetas - prior) / scale) ** 2, axis=1)
        return (np.sum(residual ** 2, axis=1) + regularization * pull) / n

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        # Forward differences, all parameters in one batched evaluation (stepping back at an upper bound).
        step = 1e-7 * np.maximum(1.0, np.abs(theta))
        step = np.where(theta + step > high, -step, step)
        values = losses(np.vstack([theta, theta + np.diag(step)]))
        return float(values[0]), (values[1:] - values[0]) / step

    rng = np.random.default_rng(seed)
    starts = [_theta(start, dims)]
    for _ in range(max(0, restarts)):
        random = [rng.uniform(0.5, 1.0), rng.uniform(1.0, 6.0), rng.uniform(0.0, 0.6)]
        random += list(np.exp(rng.normal(0.0, 0.5, len(dims))))
        starts.append(np.clip(random, *np.array(bounds).T))
    best = min((minimize(loss_and_gradient, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                         options={"maxiter": 500}) for x0 in starts), key=lambda result: result.fun)
    return _aggregation(best.x, dims), float(best.fun)


# --- evaluation through Aggregation itself -------------------------------------------------------------------

def overall_scores(agg: Aggregation, rows: list[dict[str, float]]) -> np.ndarray:
    """The overall score of each row of {dimension: score}, rounded as `s2i generate` stores them."""
    out = []
    for row in rows:
        dims = {d: round(s, ROUND) for d, s in row.items()}
        groups = {g: round(s, ROUND) for g, s in agg.group_scores(dims).items()}
        out.append(round(agg.overall_score(groups), ROUND))
    return np.array(out)


def metrics(pred, mos) -> dict[str, float | None]:
    """SRCC (the headline), PLCC after the VQEG logistic, KRCC, and RMSE against the normalised MOS."""
    from s2i_core.bench.metrics import compute

    m = compute(pred, mos)
    return {k: _finite(m[key]) for k, key in (("srcc", "srcc"), ("plcc", "plcc"), ("krcc", "krcc"),
                                              ("rmse", "rmse_raw"))}


def cross_validate(rows: list[dict[str, float]], target: np.ndarray, start: Aggregation, *, folds: int = 5,
                   seed: int = 0, restarts: int = 4, regularization: float = 0.05) -> dict:
    """k-fold CV: fit on k-1 folds, predict the held-out fold; metrics on all out-of-fold predictions."""
    n, target = len(rows), np.asarray(target, dtype=float)
    if not 2 <= folds <= n:
        raise ConfigError(f"folds={folds}: need 2 <= folds <= the number of scored videos ({n})")
    order = np.random.default_rng(seed).permutation(n)
    default = overall_scores(start, rows)
    fitted = np.zeros(n)
    per_fold = []
    for k, test in enumerate(np.array_split(order, folds)):
        train = np.setdiff1d(order, test)
        agg, _ = fit([rows[i] for i in train], target[train], start, restarts=restarts, seed=seed + k,
                     regularization=regularization)
        fitted[test] = overall_scores(agg, [rows[i] for i in test])
        per_fold.append({"n": len(test), "default_srcc": metrics(default[test], target[test])["srcc"],
                         "fitted_srcc": metrics(fitted[test], target[test])["srcc"]})
    return {"folds": folds, "seed": seed, "default": metrics(default, target), "fitted": metrics(fitted, target),
            "per_fold": per_fold, "predictions": {"default": default.tolist(), "fitted": fitted.tolist()}}


def score_matrix(rows: list[dict[str, float]]) -> tuple[tuple[str, ...], np.ndarray]:
    if not rows:
        raise ConfigError("no scored videos to fit on")
    dims = tuple(sorted(rows[0]))
    for row in rows:
        if tuple(sorted(row)) != dims:
            raise ConfigError(f"videos were scored on different dimensions ({sorted(row)} vs {list(dims)})")
    return dims, np.array([[row[d] for d in dims] for row in rows], dtype=float)


def normalise_mos(values, mos_range) -> tuple[np.ndarray, tuple[float, float]]:
    """MOS onto [0, 1], higher better: (mos - low) / (high - low). Without a range, the set's own min and max.
    A range given high to low (e.g. [100, 0]) reads a DMOS, where lower is better."""
    mos = np.asarray(values, dtype=float)
    if mos_range is None:
        low, high = float(mos.min()), float(mos.max())
    else:
        if len(mos_range) != 2:
            raise ConfigError(f"mos_range={list(mos_range)}: give [low, high], e.g. [1, 5]")
        low, high = float(mos_range[0]), float(mos_range[1])
        outside = mos[(mos < min(low, high)) | (mos > max(low, high))]
        if len(outside):
            raise ConfigError(f"mos {outside[0]:g} is outside mos_range [{low:g}, {high:g}] "
                              f"({len(outside)} value(s) outside)")
    if low == high:
        raise ConfigError(f"every MOS is {low:g}: a labelled set needs videos of different quality")
    return (mos - low) / (high - low), (low, high)


# --- the fit file --------------------------------------------------------------------------------------------

def save_fit(path: str | Path, agg: Aggregation, meta: dict) -> None:
    from s2i_core.sig.io import atomic_write_text

    data = {"format": FORMAT, "aggregation": agg.as_config(), **meta}
    atomic_write_text(path, json.dumps(_json_safe(data), indent=2, sort_keys=True) + "\n")


def load_fit(path: str | Path) -> Aggregation:
    """The Aggregation in a `s2i calibrate` aggregation.json (or in a generate manifest.json's `aggregation`)."""
    where = f"aggregation.from_file={str(path)!r}"
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{where}: no such file; `s2i calibrate labels=CSV output=DIR` writes "
                          "DIR/aggregation.json")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{where}: not a readable JSON file ({exc})") from exc
    node = data.get("aggregation") if isinstance(data, dict) else None
    if not isinstance(node, dict) or data.get("format", FORMAT) != FORMAT:
        raise ConfigError(f"{where}: not an aggregation fit (expected a JSON object with 'format': {FORMAT!r} and "
                          "an 'aggregation' object, as `s2i calibrate` writes)")
    try:
        return Aggregation.from_config({k: v for k, v in node.items() if k != "from_file"})
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: malformed aggregation values ({exc})") from exc


def check_scorers(agg: Aggregation, agg_node, scorer_nodes: dict[str, dict], registry) -> list[str]:
    """Before scoring: a fit used with another dimension set is an error; with other scorer settings, a warning."""
    dims = []
    for node in scorer_nodes.values():
        dims.append(registry.get("scorer", node["impl"]).dimension or node.get("dimension"))
    if agg.dimensions and None not in dims:
        agg.check_dimensions(dims)  # otherwise the first record's aggregation checks it
    path = (dict(agg_node or {})).get("from_file")
    if not path:
        return []
    fit_scorers = json.loads(Path(path).read_text(encoding="utf-8")).get("scorers")
    if not isinstance(fit_scorers, dict) or fit_scorers == scorer_nodes:
        return []
    differ = sorted(name for name in set(fit_scorers) | set(scorer_nodes)
                    if fit_scorers.get(name) != scorer_nodes.get(name))
    return [f"the aggregation in {path} was fitted with other scorer settings (differ: {', '.join(differ)}); "
            "its weights assume the fit's scorers"]


def _finite(value) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return _finite(float(obj))
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
