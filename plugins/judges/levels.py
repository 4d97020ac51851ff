"""The deterministic judge: no model, so S2I-Bench numbers can be reproduced anywhere, bit for bit."""

from __future__ import annotations

from s2i_core.bench.judging import extract_levels, level_agreement, rouge_l
from s2i_core.specs import JudgeSpec, NoConfig


class LevelsJudge:
    """Scores the levels an answer states against the reference's, plus ROUGE-L text overlap (all in [0, 1])."""

    axes = ("level_accuracy", "level_closeness", "overlap")

    def __init__(self, cfg: NoConfig):
        self.cfg = cfg

    def describe(self) -> dict:
        return {"judge": "levels", "model": None, "prompt": None}

    def judge(self, item: dict, answer: str, seed: int = 0) -> dict[str, float]:
        reference = item.get("levels") or extract_levels(item["reference"])
        scores = level_agreement(extract_levels(answer), reference)
        scores["overlap"] = rouge_l(answer, item["reference"])
        return scores


SPECS = (JudgeSpec("levels", LevelsJudge, NoConfig,
                   "model-free: level words per dimension vs the reference, plus ROUGE-L overlap"),)
