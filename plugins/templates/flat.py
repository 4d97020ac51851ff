"""Flat template: a plain list of dimension ratings, no reasoning (the paper's 'without CoT' ablation)."""

from __future__ import annotations

from dataclasses import dataclass

from s2i_core.dimensions import BY_NAME, DIMENSIONS
from s2i_core.specs import CotTemplateSpec


@dataclass
class FlatConfig:
    prefix: str = "Quality ratings of this video:"


class Flat:
    def __init__(self, cfg: FlatConfig):
        self.cfg = cfg

    def justify(self, record: dict, rng) -> str:
        dims = record["dimensions"]
        lines = [f"- {BY_NAME[d.name].definition}: {dims[d.name]['level']}" for d in DIMENSIONS if d.name in dims]
        return "\n".join([self.cfg.prefix, *lines, f"Overall quality: {record['overall']['level']}."])


SPECS = (CotTemplateSpec("flat", Flat, FlatConfig, "plain list of dimension ratings, no reasoning"),)
