"""Mapping fidelity (as the paper reports it): SRCC and PLCC between levels (as 1-5) and scores over the dataset."""

from __future__ import annotations

import math

from s2i_core.dimensions import DIMENSIONS, GROUPS, level_index
from s2i_core.sig.records import Record


def _columns(records: list[dict]) -> dict[str, list[tuple[float, str]]]:
    cols: dict[str, list[tuple[float, str]]] = {}
    for r in records:
        for rating in Record(r).ratings():
            cols.setdefault(rating.key, []).append((rating.score, rating.level))
    return cols


def _safe(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def mapping_fidelity(records: list[dict]) -> dict[str, dict]:
    """{key: {srcc, plcc, n}}; a correlation is null where it is undefined (fewer than 3 videos, or constant)."""
    from scipy.stats import pearsonr, spearmanr

    order = [d.name for d in DIMENSIONS] + list(GROUPS) + ["overall"]
    out = {}
    cols = _columns(records)
    for key in [k for k in order if k in cols]:
        scores = [s for s, _ in cols[key]]
        levels = [level_index(lv) for _, lv in cols[key]]
        srcc = plcc = None
        if len(scores) >= 3 and len(set(scores)) > 1 and len(set(levels)) > 1:
            srcc, plcc = _safe(spearmanr(levels, scores)[0]), _safe(pearsonr(levels, scores)[0])
        out[key] = {"srcc": srcc, "plcc": plcc, "n": len(scores)}
    return out
