"""Records: the contract each record must meet (docs/design.md#contracts), and a typed view of one.

Aggregation lives in s2i_core.sig.aggregation.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from s2i_core.dimensions import BY_NAME, GROUPS, LEVELS

RECORD_KEYS = ("video", "meta", "dimensions", "groups", "overall", "justification", "qa")
META_KEYS = ("width", "height", "fps", "frames", "duration_s")
OVERALL = "overall"


@dataclass(frozen=True)
class Rating:
    """One rating a record holds: a dimension's, a group's (`technical`, `aesthetic`) or the overall one."""

    key: str  # the dimension or group name, or "overall"
    kind: str  # "dimension", "group" or "overall"
    score: float
    level: str


@dataclass(frozen=True)
class Record:
    """One records.jsonl row, read through its contract. `row` is the dict as written; the view never copies or
    changes it, so whatever is written from a record stays byte for byte what the row holds."""

    row: dict

    @property
    def video(self) -> str:
        return self.row["video"]

    @property
    def meta(self) -> dict:
        return self.row["meta"]

    @property
    def justification(self) -> str:
        return self.row["justification"]

    @property
    def qa(self) -> list[dict]:
        return self.row["qa"]

    def ratings(self) -> Iterator[Rating]:
        """Every rating: the dimensions, then the groups (each in the row's own order), then overall."""
        for kind, section in (("dimension", "dimensions"), ("group", "groups")):
            for key, node in self.row[section].items():
                yield Rating(key, kind, node["score"], node["level"])
        yield Rating(OVERALL, OVERALL, self.row[OVERALL]["score"], self.row[OVERALL]["level"])

    def rating(self, key: str) -> Rating | None:
        """The rating under `key` (a dimension, a group or "overall"), or None when the record has none."""
        if key == OVERALL:
            return Rating(OVERALL, OVERALL, self.row[OVERALL]["score"], self.row[OVERALL]["level"])
        for kind, section in (("group", "groups"), ("dimension", "dimensions")):
            node = self.row[section].get(key)
            if node is not None:
                return Rating(key, kind, node["score"], node["level"])
        return None

    def levels(self) -> dict[str, str]:
        """{key: level} for every rating, in `ratings()` order."""
        return {r.key: r.level for r in self.ratings()}


def validate_record(record: dict) -> list[str]:
    """Problems with one record against the records.jsonl contract, docs/design.md#contracts (empty: valid)."""
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
