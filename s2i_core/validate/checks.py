"""The validation tests on a `Results` array: L (monotone), D (separation), P (pairwise), cross-talk."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from s2i_core.dimensions import BY_NAME
from s2i_core.validate.runner import Results

# Pass marks from the issue: technical dimensions must be near-perfectly monotone, aesthetic ones less so.
L_THRESHOLD = {"technical": 0.95, "aesthetic": 0.8}


@dataclass(frozen=True)
class Check:
    dimension: str
    l_srcc: float  # mean over clips of SRCC(strength, -score), 1 = score falls at every rung
    d_drop: float  # mean drop of the own score from pristine to the strongest rung
    d_separated: float  # fraction of distorted rungs scoring below their pristine clip
    p_agree: float  # fraction of rung pairs ordered like their strengths (ties count half)
    own_drop: float  # mean drop over all rungs under its own distortion
    worst_other: str  # the unrelated distortion that lowers this dimension most
    other_drop: float
    # the unrelated distortion that *raises* this dimension most: a teacher that rewards a distortion (colour
    # noise read as vivid colour, blur hiding motion smear) is reported, though it does not fail the check
    worst_rise: str = ""
    other_rise: float = 0.0

    @property
    def l_pass(self) -> bool:
        return self.l_srcc >= L_THRESHOLD[BY_NAME[self.dimension].group]

    @property
    def crosstalk_pass(self) -> bool:
        return self.own_drop > self.other_drop

    @property
    def passed(self) -> bool:
        # the bar: L-test and cross-talk; D must at least show a drop (its separation is reported)
        return self.l_pass and self.crosstalk_pass and self.d_drop > 0


def crosstalk(results: Results) -> np.ndarray:
    """[ladder, dimension]: mean score drop from pristine over clips and rungs (positive = got worse)."""
    return (results.scores[:, :, :1, :] - results.scores[:, :, 1:, :]).mean(axis=(0, 2))


def pairwise_agreement(scores: np.ndarray) -> float:
    agree, total = 0.0, 0
    for i in range(len(scores)):
        for j in range(i + 1, len(scores)):
            total += 1
            agree += 1.0 if scores[j] < scores[i] else 0.5 if scores[j] == scores[i] else 0.0
    return agree / total if total else float("nan")


# A scorer that says its reading of the pristine clip is unreliable (no motion to judge motion blur on, no
# surface that could be grey) keeps the score near "no evidence of damage" by design; its ladder on that clip
# says nothing about the response, so the L/D/P tests leave such clips out (all clips when none is readable),
# and likewise the rungs whose reading the scorer calls unreliable (a cast so strong nothing looks grey).
READABLE = 0.5


def readable_clips(results: Results, ladder: str) -> list[int]:
    clips = list(range(len(results.clips)))
    if results.confidence is None:
        return clips
    j, k = results.dimensions.index(ladder), results.ladders.index(ladder)
    readable = [c for c in clips if results.confidence[c, k, 0, j] >= READABLE]
    return readable or clips


def run_checks(results: Results) -> list[Check]:
    drops = crosstalk(results)
    out = []
    for k, name in enumerate(results.ladders):
        if name not in results.dimensions:
            continue
        j = results.dimensions.index(name)
        srcc, sep, pairs, last = [], [], [], []
        for c in readable_clips(results, name):
            own = results.own(c, name)
            if results.confidence is not None:  # rungs the scorer could not read say nothing either
                sure = results.confidence[c, k, :, j] >= READABLE
                own = own[sure] if sure.sum() >= 2 else own
            rungs = np.arange(own.size)
            rho = spearmanr(rungs, -own).statistic if np.ptp(own) > 0 else 0.0
            srcc.append(0.0 if np.isnan(rho) else rho)
            sep.append(np.mean(own[1:] < own[0]))
            pairs.append(pairwise_agreement(own))
            last.append(own[0] - own[-1])
        others = [(drops[kk, j], other) for kk, other in enumerate(results.ladders) if other != name]
        other_drop, worst = max(others) if others else (float("-inf"), "")
        other_rise, rise = max((-d, o) for d, o in others) if others else (0.0, "")
        out.append(Check(name, float(np.mean(srcc)), float(np.mean(last)), float(np.mean(sep)),
                         float(np.mean(pairs)), float(drops[k, j]), worst, float(other_drop),
                         rise if other_rise > 0 else "", max(0.0, float(other_rise))))
    return out
