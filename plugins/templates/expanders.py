"""QA expansion: question-answer pairs derived from a finished record, each answer consistent with it.

Every expander picks `per_video` keys (dimensions, groups or `overall`) with the seeded rng and writes one pair
per key (plus the overall question for every video with `always_overall`). Yes/no questions alternate yes and
no within a video (first answer chosen by the rng), so the dataset is balanced to within one pair per video.
"""

from __future__ import annotations

from dataclasses import dataclass

from s2i_plugins.templates.phrases import name_of

from s2i_core.dimensions import BY_NAME, LEVELS
from s2i_core.options import between
from s2i_core.sig.records import Record
from s2i_core.specs import ExpanderSpec


@dataclass
class ExpanderConfig:
    per_video: int = between(0, None, default=2)
    include_overall: bool = True  # the overall judgement is a candidate key besides dimensions and groups
    # every video also gets the overall question, besides its per_video sampled keys: the rating instruction
    # a scoring model is trained on (Q-Align style), instead of one chance in 17 per pair
    always_overall: bool = False


def _keys(record: dict, cfg: ExpanderConfig, rng) -> list[str]:
    keys = sorted(record["dimensions"]) + sorted(record["groups"]) + (["overall"] if cfg.include_overall else [])
    picked = rng.sample(keys, min(cfg.per_video, len(keys)))
    return picked + (["overall"] if cfg.always_overall and "overall" not in picked else [])


def _subject(key: str) -> str:
    if key == "overall":
        return "the overall quality"
    if key in BY_NAME:
        return f"the {name_of(key)}"
    return f"the {key} quality"


def _explain(key: str) -> str:
    return f" (judged on whether {BY_NAME[key].definition})" if key in BY_NAME else ""


HOW = ("How is {s} of this video?", "What is {s} of this video like?", "How would you rate {s} of this video?",
       "Can you rate {s} in this video?")


class WhatHow:
    def __init__(self, cfg: ExpanderConfig):
        self.cfg = cfg

    def expand(self, record: dict, rng) -> list[dict]:
        out = []
        for key in _keys(record, self.cfg, rng):
            level = Record(record).rating(key).level
            q = rng.choice(HOW).format(s=_subject(key))
            out.append({"type": "what_how", "key": key, "question": q,
                        "answer": f"{_subject(key).capitalize()} of this video is {level}{_explain(key)}."})
        return out


class YesNo:
    def __init__(self, cfg: ExpanderConfig):
        self.cfg = cfg

    def expand(self, record: dict, rng) -> list[dict]:
        out, yes = [], rng.random() < 0.5
        for key in _keys(record, self.cfg, rng):
            level = Record(record).rating(key).level
            asked = level if yes else rng.choice([lv for lv in LEVELS if lv != level])
            answer = (f"Yes, {_subject(key)} of this video is {level}." if yes
                      else f"No, {_subject(key)} of this video is {level}, not {asked}.")
            out.append({"type": "yes_no", "key": key, "question": f"Is {_subject(key)} of this video {asked}?",
                        "answer": answer, "label": "yes" if yes else "no"})
            yes = not yes
        return out


class MultipleChoice:
    def __init__(self, cfg: ExpanderConfig):
        self.cfg = cfg

    def expand(self, record: dict, rng) -> list[dict]:
        out = []
        for key in _keys(record, self.cfg, rng):
            level = Record(record).rating(key).level
            options = list(LEVELS)
            rng.shuffle(options)
            letters = "ABCDE"
            listed = "\n".join(f"{letters[i]}. {o}" for i, o in enumerate(options))
            right = letters[options.index(level)]
            out.append({"type": "multiple_choice", "key": key,
                        "question": f"How is {_subject(key)} of this video?\n{listed}\nAnswer with the letter.",
                        "answer": f"{right}. {level}"})
        return out


SPECS = (
    ExpanderSpec("what_how", WhatHow, ExpanderConfig, "'how is the noise in this video?' -> level"),
    ExpanderSpec("yes_no", YesNo, ExpanderConfig, "'is the X of this video good?' -> yes/no, balanced"),
    ExpanderSpec("multiple_choice", MultipleChoice, ExpanderConfig, "five shuffled level options -> letter"),
)
