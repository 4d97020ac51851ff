"""S2I-Bench: open-ended quality questions with reference answers, built from SIG records of held-out videos.

Every dimension and the overall judgement get (nearly) the same number of questions: targets are visited
round-robin and each takes the next record, in a seeded order, that has a rating for it.
"""

from __future__ import annotations

import random

from s2i_core.bench.judging import OVERALL, extract_levels
from s2i_core.dimensions import BY_NAME, DIMENSIONS
from s2i_core.errors import ConfigError

TARGETS = (*(d.name for d in DIMENSIONS), OVERALL)

DIMENSION_QUESTIONS = (
    "How is the {label} of this video? Explain what you see.",
    "Judge this video on {label}: is it true that {definition}? Give a rating and explain.",
    "Describe the {label} of this video and rate it as bad, poor, fair, good or excellent.",
)
OVERALL_QUESTIONS = (
    "What is the overall quality of this video? Reason from the individual quality aspects to your verdict.",
    "Assess this video's quality: go through its technical and aesthetic aspects, then give an overall rating.",
)


def reference_for(record: dict, target: str) -> tuple[str, dict[str, str]]:
    """The reference answer and the levels it commits to."""
    if target == OVERALL:
        levels = {d: v["level"] for d, v in record["dimensions"].items()}
        levels.update({g: v["level"] for g, v in record.get("groups", {}).items()})
        levels[OVERALL] = record["overall"]["level"]
        # Judge only what the reference commits to: a flat or short justification may not name every dimension.
        stated = extract_levels(record["justification"])
        return record["justification"], {k: v for k, v in levels.items() if k in stated or k == OVERALL}
    level = record["dimensions"][target]["level"]
    dim = BY_NAME[target]
    label = target.replace("_", " ")
    reference = f"The {label} of this video is {level}: rated on whether {dim.definition}, it is {level}."
    return reference, {target: level}


def build(records: list[dict], count: int = 400, seed: int = 0) -> list[dict]:
    if not records:
        raise ConfigError("S2I-Bench needs SIG records (records.jsonl from s2i generate on held-out videos)")
    rng = random.Random(seed)
    order = {t: [r for r in records if t == OVERALL or t in r.get("dimensions", {})] for t in TARGETS}
    for pool in order.values():
        rng.shuffle(pool)
    targets = [t for t in TARGETS if order[t]]
    capacity = sum(len(p) for p in order.values())
    if count > capacity:
        raise ConfigError(f"asked for {count} questions but {len(records)} records allow at most {capacity} "
                          "(one per record and target): generate records for more held-out videos")
    items, taken = [], {t: 0 for t in targets}
    while len(items) < count:
        for target in targets:
            if len(items) == count or taken[target] >= len(order[target]):
                continue
            record = order[target][taken[target]]
            taken[target] += 1
            reference, levels = reference_for(record, target)
            if target == OVERALL:
                question = rng.choice(OVERALL_QUESTIONS)
            else:
                question = rng.choice(DIMENSION_QUESTIONS).format(label=target.replace("_", " "),
                                                                  definition=BY_NAME[target].definition)
            items.append({"id": f"s2i-{len(items):04d}", "video": record["video"], "dimension": target,
                          "question": question, "reference": reference, "levels": levels})
    return items
