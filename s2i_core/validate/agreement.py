"""Does the teacher agree with references it was not tuned on? SRCC with VMAF/BRISQUE, AUC, ladder health.

Every table covers the 14 dimension scores, the two group scores and the overall score, the last three
pooled exactly as `s2i generate` pools them (`s2i_core.sig.aggregation.Aggregation`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import spearmanr

from s2i_core.dimensions import DIMENSIONS, GROUPS
from s2i_core.validate.checks import crosstalk
from s2i_core.validate.runner import Results

# +1: higher is better, as our scores. BRISQUE is published lower-is-better, so it is correlated negated.
SIGN = {"vmaf": 1.0, "brisque": -1.0}
FULL_REFERENCE = {"vmaf"}  # scores the pristine rung 100 by construction: no pristine-vs-distorted AUC
SATURATION = 0.5  # a ladder saturates when its weakest rung already costs more than this share of the total drop


def summary_keys(dimensions: list[str], aggregation) -> list[str]:
    """The scored dimensions in the contract's order, then each group that has one, then `overall`."""
    groups = aggregation.group_scores({d: 1.0 for d in dimensions})
    return [*(d.name for d in DIMENSIONS if d.name in dimensions), *(g for g in GROUPS if g in groups), "overall"]


def pooled(scores: np.ndarray, dimensions: list[str], aggregation) -> tuple[list[str], np.ndarray]:
    """Dimension scores [..., dimension] -> [..., key]: the dimensions, each group score, the overall score."""
    keys = summary_keys(dimensions, aggregation)
    flat = scores.reshape(-1, len(dimensions))
    out = np.zeros((len(flat), len(keys)))
    for i, row in enumerate(flat):
        values = dict(zip(dimensions, map(float, row)))
        groups = aggregation.group_scores(values)
        out[i] = [{**values, **groups, "overall": aggregation.overall_score(groups)}[k] for k in keys]
    return keys, out.reshape(*scores.shape[:-1], len(keys))


def srcc(x, y) -> float:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan  # undefined (a constant score or reference), reported as such rather than as 0
    return float(spearmanr(x, y).statistic)


def reference_agreement(keys: list[str], values: np.ndarray, reference: np.ndarray, name: str,
                        ladders: list[str]) -> dict:
    """SRCC of every key with one reference: per ladder (pooled over clips) and pooled over all its ladders.

    `values` is [clip, ladder, rung, key], `reference` [clip, ladder, rung] with NaN off its ladders. The
    pristine rung, shared by every ladder, enters the pooled set once per clip.
    """
    sign = SIGN[name]
    measured = [k for k in range(len(ladders)) if np.isfinite(reference[:, k]).any()]
    per_ladder, counts = {}, {}
    for k in measured:
        mask = np.isfinite(reference[:, k])
        per_ladder[ladders[k]] = {key: srcc(values[:, k, :, j][mask], sign * reference[:, k][mask])
                                  for j, key in enumerate(keys)}
        counts[ladders[k]] = int(mask.sum())
    x, y, clip = _pool(values, sign * reference, measured)
    # within each clip, then averaged: how the key ranks the damage of one content, free of content offsets
    # (a full-reference metric gives every pristine clip 100; the teacher rightly does not)
    within = {key: _nanmean([srcc(x[clip == c, j], y[clip == c]) for c in range(len(values))])
              for j, key in enumerate(keys)}
    return {"reference": name, "sign": sign, "ladders": per_ladder, "counts": counts,
            "pooled": {key: srcc(x[:, j], y) for j, key in enumerate(keys)}, "pooled_count": int(len(y)),
            "within_clip": within}


def _pool(values: np.ndarray, reference: np.ndarray, ladders: list[int]):
    """Rows of every measured rung of the given ladders, the shared pristine rung once per clip."""
    xs, ys, clips = [], [], []
    for i, k in enumerate(ladders):
        rungs = slice(0, None) if i == 0 else slice(1, None)
        mask = np.isfinite(reference[:, k, rungs])
        xs.append(values[:, k, rungs][mask])
        ys.append(reference[:, k, rungs][mask])
        clips.append(np.nonzero(mask)[0])
    if not xs:
        return np.zeros((0, values.shape[-1])), np.zeros(0), np.zeros(0, dtype=int)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(clips)


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def auc(better, worse) -> float:
    """P(a score from `better` > one from `worse`), ties counting half: 1 = always ranked right."""
    a, b = np.asarray(better, dtype=float).ravel(), np.asarray(worse, dtype=float).ravel()
    if not len(a) or not len(b):
        return math.nan
    diff = a[:, None] - b[None, :]
    return float(np.mean(diff > 0) + 0.5 * np.mean(diff == 0))


def pristine_vs_distorted(overall: np.ndarray, ladders: list[str], rungs: int = 1,
                          reference: dict[str, np.ndarray] | None = None) -> dict:
    """AUC of the overall score [clip, ladder, rung]: every clip's pristine rung against the strongest `rungs`
    rungs of every ladder of every clip, so contents are compared with each other (a pristine night scene
    must still beat a blurred daylight one). Per ladder too, and for each no-reference metric on the ladders
    it was measured on (with the teacher's AUC on those same ladders beside it).
    """
    rungs = max(1, min(int(rungs), overall.shape[2] - 1))
    pristine = overall[:, 0, 0]
    strongest = overall[:, :, -rungs:]
    out = {"rungs": rungs, "overall": auc(pristine, strongest), "pristine": len(pristine),
           "distorted": int(strongest.size),
           "ladders": {name: auc(pristine, strongest[:, k]) for k, name in enumerate(ladders)}, "references": {}}
    for name, values in (reference or {}).items():
        if name in FULL_REFERENCE:
            continue
        signed = SIGN[name] * values
        ks = [k for k in range(len(ladders)) if np.isfinite(values[:, k]).all()]
        if ks:
            out["references"][name] = {
                "overall": auc(signed[:, ks[0], 0], signed[:, ks, -rungs:]),
                "teacher_on_same_ladders": auc(pristine, strongest[:, ks]),
                "ladders": {ladders[k]: auc(signed[:, k, 0], signed[:, k, -rungs:]) for k in ks}}
    return out


@dataclass(frozen=True)
class LadderHealth:
    ladder: str
    first_rung_share: float  # own score: drop at the weakest rung / drop at the strongest (mean over clips)
    saturated: bool  # first_rung_share > SATURATION: the ladder starts too strong to show a gradient
    overall_first_rung_share: float  # the same for the overall score
    largest_rise: str  # the unrelated dimension this distortion raises most ("" when none rises)
    rise: float  # its mean score rise over clips and distorted rungs


def first_rung_share(curve: np.ndarray) -> float:
    """[clip, rung] scores -> share of the total (pristine -> strongest) mean drop taken by the first rung."""
    mean = curve.mean(axis=0)
    total = mean[0] - mean[-1]
    return float((mean[0] - mean[1]) / total) if total > 1e-6 else math.nan


def ladder_health(results: Results, overall: np.ndarray, threshold: float = SATURATION) -> list[LadderHealth]:
    drops = crosstalk(results)
    out = []
    for k, name in enumerate(results.ladders):
        share = first_rung_share(results.own_all(name)) if name in results.dimensions else math.nan
        others = [(-drops[k, j], d) for j, d in enumerate(results.dimensions) if d != name]
        rise, dim = max(others) if others else (0.0, "")
        out.append(LadderHealth(name, share, bool(share > threshold), first_rung_share(overall[:, k]),
                                dim if rise > 0 else "", max(0.0, float(rise))))
    return out


def health_rows(health: list[LadderHealth]) -> list[dict]:
    return [asdict(h) for h in health]
