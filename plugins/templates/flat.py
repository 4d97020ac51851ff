"""Flat template: a plain list of dimension ratings, no reasoning (the paper's 'without CoT' ablation)."""

from __future__ import annotations

from dataclasses import dataclass

from s2i_core.dimensions import BY_NAME
from s2i_core.specs import CotTemplateSpec


@dataclass
class FlatConfig:
    prefix: str = "Quality ratings of this video:"


class Flat:
    def __init__(self, cfg: FlatConfig):
        self.cfg = cfg

    def justify(self, levels: dict[str, str], groups: dict, overall: dict, rng) -> str:
        lines = [f"- {BY_NAME[d].definition}: {lvl}" for d, lvl in levels.items()]
        return "\n".join([self.cfg.prefix, *lines, f"Overall quality: {overall['level']}."])


SPECS = (CotTemplateSpec("flat", Flat, FlatConfig, "plain list of dimension ratings, no reasoning"),)
