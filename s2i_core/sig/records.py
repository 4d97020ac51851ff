"""Records: aggregation of dimension scores into group and overall ratings, and contract validation.

Aggregation (explicit, configured by `aggregation` in conf/generate.yaml):
  group score   = (1 - w_g) * mean(member scores) + w_g * min(member scores), w_g = `worst_weight[group]`
  overall score = weighted mean of the present group scores (`group_weights`, renormalised)
With the default technical worst_weight 0.5, one bad technical defect pulls the technical rating, and with it
the overall rating, down even when every other dimension is fine. A group with no scored dimension is omitted
from `groups` and from the overall mean; a record always has at least one group (at least one scorer runs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from s2i_core.dimensions import BY_NAME, GROUPS, LEVELS
from s2i_core.errors import ConfigError

RECORD_KEYS = ("video", "meta", "dimensions", "groups", "overall", "justification", "qa")
META_KEYS = ("width", "height", "fps", "frames", "duration_s")


@dataclass
class Aggregation:
    worst_weight: dict[str, float] = field(default_factory=lambda: {"technical": 0.5, "aesthetic": 0.0})
    group_weights: dict[str, float] = field(default_factory=lambda: {"technical": 0.6, "aesthetic": 0.4})

    @classmethod
    def from_config(cls, node) -> Aggregation:
        if node is None:
            return cls()
        agg = cls(dict(node.get("worst_weight", cls().worst_weight)), dict(node.get("group_weights",
                                                                                   cls().group_weights)))
        for name, table in (("worst_weight", agg.worst_weight), ("group_weights", agg.group_weights)):
            for group, value in table.items():
                if group not in GROUPS or not 0.0 <= float(value) <= (1.0 if name == "worst_weight" else 1e9):
                    raise ConfigError(f"aggregation.{name}.{group}={value!r}: group must be one of {GROUPS} "
                                      "and the weight non-negative (worst_weight at most 1)")
        return agg

    def group_score(self, group: str, scores: list[float]) -> float:
        w = float(self.worst_weight.get(group, 0.0))
        return (1.0 - w) * (sum(scores) / len(scores)) + w * min(scores)

    def overall_score(self, groups: dict[str, float]) -> float:
        weights = {g: float(self.group_weights.get(g, 1.0)) for g in groups}
        total = sum(weights.values())
        if total <= 0:
            return sum(groups.values()) / len(groups)
        return sum(groups[g] * weights[g] for g in groups) / total


def group_scores(dimension_scores: dict[str, float], agg: Aggregation) -> dict[str, float]:
    out = {}
    for group in GROUPS:
        members = [s for d, s in dimension_scores.items() if BY_NAME[d].group == group]
        if members:
            out[group] = agg.group_score(group, members)
    return out


def validate_record(record: dict) -> list[str]:
    """Problems with one record against the DESIGN.md contract (empty list: valid)."""
    problems = [f"missing key {k!r}" for k in RECORD_KEYS if k not in record]
    if problems:
        return problems
    if not isinstance(record["video"], str) or not record["video"]:
        problems.append("video must be a non-empty relative path")
    problems += [f"meta.{k} missing" for k in META_KEYS if k not in record["meta"]]
    if not record["dimensions"]:
        problems.append("no dimensions")
    for name, d in record["dimensions"].items():
        if name not in BY_NAME:
            problems.append(f"unknown dimension {name!r}")
            continue
        problems += _rating_problems(f"dimensions.{name}", d)
        if d.get("group") != BY_NAME[name].group:
            problems.append(f"dimensions.{name}.group is {d.get('group')!r}, expected {BY_NAME[name].group!r}")
        if "raw" not in d:
            problems.append(f"dimensions.{name}.raw missing")
    for group, g in record["groups"].items():
        if group not in GROUPS:
            problems.append(f"unknown group {group!r}")
        problems += _rating_problems(f"groups.{group}", g)
    problems += _rating_problems("overall", record["overall"])
    if not isinstance(record["justification"], str) or not record["justification"].strip():
        problems.append("justification is empty")
    for i, qa in enumerate(record["qa"]):
        if not all(isinstance(qa.get(k), str) and qa.get(k) for k in ("type", "question", "answer")):
            problems.append(f"qa[{i}] needs non-empty type, question and answer")
    return problems


def _rating_problems(where: str, node: dict) -> list[str]:
    out = []
    score = node.get("score")
    if not isinstance(score, (int, float)) or math.isnan(score) or not 0.0 <= score <= 1.0:
        out.append(f"{where}.score {score!r} is not a float in [0, 1]")
    if node.get("level") not in LEVELS:
        out.append(f"{where}.level {node.get('level')!r} is not one of {LEVELS}")
    return out
